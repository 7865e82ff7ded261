"""Where reported paths start: the repository root.

Every format (text, JSON, SARIF, GitHub, GitLab, JUnit, `--diff`) names files relative to the
root of the git work tree that holds the scanned paths, so a path in a report opens the right
file from the repository root, code scanning finds it, and `git apply` takes the diff there,
also when the config sits in a subfolder (`apps/shop/archlint.toml`). Outside git the root is
the common parent of the scanned paths (and of the config's directory when it holds them),
so no path comes out absolute.

The config's own patterns (`exclude`, `per-file-ignores`) stay relative to the config's
directory, as in ruff: `rebase_patterns` anchors them there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def work_tree_top(start: Path) -> Path | None:
    """The top of the git work tree holding `start` (a `.git` directory, or the `.git` file of
    a linked worktree or submodule); None outside git."""
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return None


def _directory(p: str) -> Path:
    path = Path(os.path.abspath(p))
    return path if path.is_dir() or not path.exists() else path.parent


def _within(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def repository_root(paths: Iterable[str], config_dir: Path | None) -> Path:
    """The directory reported paths are relative to (see the module docstring)."""
    dirs = [_directory(p) for p in paths] or [Path.cwd()]
    dirs = [Path(os.path.realpath(d)) for d in dirs]
    top = work_tree_top(dirs[0])
    if top is not None and all(_within(d, top) for d in dirs):
        return top
    if config_dir is not None:
        cfg = Path(os.path.realpath(config_dir))
        if _within(dirs[0], cfg):  # found by searching upwards: it is the project's root
            dirs.append(cfg)
    if top is not None:
        dirs.append(top)
    return Path(os.path.commonpath(dirs))


def prefix_of(directory: Path | None, root: Path) -> str:
    """`directory` as a POSIX path relative to `root` ("" for the root itself, or when it lies
    outside the root and patterns cannot be anchored there)."""
    if directory is None:
        return ""
    try:
        rel = Path(os.path.realpath(directory)).relative_to(root).as_posix()
    except ValueError:
        return ""
    return "" if rel == "." else rel


def rebase_pattern(pattern: str, prefix: str) -> str:
    """A gitignore-style pattern written relative to `prefix`, rewritten relative to the root.

    As git reads a nested .gitignore: a pattern with a slash before its end is anchored to its
    directory; one without matches at any depth below it."""
    if not prefix:
        return pattern
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    if not body.strip() or body.startswith("#"):
        return pattern
    anchored = "/" in body.rstrip("/")
    core = body.lstrip("/") if anchored else f"**/{body}"
    return f"{'!' if negate else ''}/{prefix}/{core}"


def rebase_patterns(patterns: Iterable[str], prefix: str) -> list[str]:
    return [rebase_pattern(p, prefix) for p in patterns]
