"""Ignore files honoured as git honours them: inside a work tree, git itself says what is
ignored (`git ls-files --cached --others --exclude-standard`), which covers every .gitignore,
`.git/info/exclude`, the user's global excludes (core.excludesFile) and tracked files that a
pattern would match but git still tracks. Outside a work tree, or without git, discovery falls
back to reading the .gitignore files itself (archlint/discover.py).

One `git ls-files` call, limited to the scanned directories, answers for the whole walk: a file
is kept when git lists it; a directory when git lists something below it (so ignored trees
such as build output are never descended into). Git does not look inside nested repositories,
submodules or symlinked directories: below those, it has no answer and the fallback decides.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 60  # seconds; a listing that slow means a huge tree, where the fallback still works


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    # A hook's GIT_DIR / GIT_WORK_TREE / GIT_INDEX_FILE would point git at another repository or
    # a relative index; the work tree the scanned paths live in is what counts.
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(var, None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


@dataclass(frozen=True)
class GitView:
    files: frozenset[str]  # root-relative paths git lists (tracked, or untracked and not ignored)
    dirs: frozenset[str]  # every directory with a listed path below it ("" for the root)
    scope: tuple[str, ...]  # the directories asked about ("" for all of the root)

    @classmethod
    def load(cls, root: Path, directories: Iterable[str] = ("",)) -> GitView | None:
        """git's view of `directories` (root-relative) of the work tree whose top is `root`;
        None when `root` is not the top of a work tree or git cannot answer."""
        if not (root / ".git").exists():
            return None
        scope = tuple(sorted({d.strip("/") for d in directories if d not in (".",)} or {""}))
        if "" in scope:
            scope = ("",)
        specs = [f":(literal){d}" for d in scope if d]
        try:
            proc = subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *specs],
                cwd=root, capture_output=True, timeout=TIMEOUT, check=False, env=git_env(),
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        if proc.returncode != 0:
            return None
        names = [n.decode("utf-8", "surrogateescape") for n in proc.stdout.split(b"\0") if n]
        files = frozenset(n.rstrip("/") for n in names)  # "sub/": an untracked nested repository
        dirs: set[str] = {""}
        for name in files:
            parent = name.rpartition("/")[0]
            while parent not in dirs:
                dirs.add(parent)
                parent = parent.rpartition("/")[0]
        return cls(files, frozenset(dirs), scope)

    def _covers(self, rel: str) -> bool:
        return self.scope == ("",) or any(rel == d or rel.startswith(d + "/") for d in self.scope)

    def ignored(self, rel: str, is_dir: bool) -> bool | None:
        """Whether git ignores `rel`; None when git has no say (outside the directories asked
        about, or below a path git does not look into)."""
        if not self._covers(rel):
            return None
        if not is_dir:
            return rel not in self.files if rel.rpartition("/")[0] in self.dirs else None
        if rel in self.dirs:
            return False
        return None if rel in self.files else True  # listed itself: a submodule, nested repo, symlink

    def decides_below(self, dir_rel: str) -> bool:
        """Whether git answers for the entries of `dir_rel` (so its .gitignore needs no reading)."""
        return self._covers(dir_rel) and dir_rel in self.dirs
