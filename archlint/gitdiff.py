"""`--diff-base REF`: which files changed since REF, and which workloads that touches.

"Changed" means what a pull request changes plus what is not committed yet: the diff from the
merge base of REF and HEAD to the working tree, and untracked files that are not ignored. A
workload counts as changed when its manifest changed or anything under its image's build
context did (a requirements pin, the Dockerfile, a vendored binary), so the PR that bumps a
dependency sees the placement findings of the workloads it affects even though no manifest
was touched.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from archlint import images
from archlint.errors import FatalError
from archlint.facts import Facts, Workload
from archlint.findings import Finding
from archlint.subprocesses import run_captured

GIT_TIMEOUT = 120  # seconds; a huge repository's diff is slow, a hung credential prompt is not


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        # Never prompt (a credential helper on a fetch-less command should not, but be sure).
        return run_captured(["git", *args], cwd=cwd, timeout=GIT_TIMEOUT, env=_git_env())
    except FileNotFoundError:
        raise FatalError("--diff-base needs git, and git is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise FatalError(f"--diff-base: `git {' '.join(args)}` took longer than {GIT_TIMEOUT}s") from None


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.pop("GIT_DIR", None)  # a hook's GIT_DIR would point git at the wrong repository
    env.pop("GIT_WORK_TREE", None)
    return env


def _stderr(p: subprocess.CompletedProcess[bytes]) -> str:
    return p.stderr.decode("utf-8", "replace").strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"


@dataclass(frozen=True)
class ChangeSet:
    ref: str
    base: str  # the commit the working tree is compared with
    toplevel: Path
    files: frozenset[Path]  # absolute paths of changed (added, modified, renamed-to, untracked) files

    def relative_to(self, root: Path) -> frozenset[str]:
        """The changed files as POSIX paths relative to `root` (files outside it are left out)."""
        root = root.resolve()
        out = set()
        for p in self.files:
            try:
                out.add(p.relative_to(root).as_posix())
            except ValueError:
                continue
        return frozenset(out)


def changed_files(ref: str, start: Path) -> ChangeSet:
    """Files changed since `ref` in the git work tree that contains `start`."""
    cwd = start if start.is_dir() else start.parent
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise FatalError(f"--diff-base {ref}: {cwd} is not inside a git work tree ({_stderr(top)})")
    toplevel = Path(top.stdout.decode("utf-8", "surrogateescape").strip()).resolve()
    if ref.startswith("-"):
        raise FatalError(f"--diff-base {ref!r}: not a git revision")
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], toplevel)
    if commit.returncode != 0:
        raise FatalError(f"--diff-base {ref}: unknown git revision (is the branch fetched? try `git fetch origin`)")
    base = commit.stdout.decode().strip()
    # Compare with the merge base, like `git diff REF...`, so changes made on REF since the
    # branch point are not blamed on this branch. No common history (or no HEAD yet): REF itself.
    mb = _git(["merge-base", base, "HEAD"], toplevel)
    if mb.returncode == 0 and mb.stdout.strip():
        base = mb.stdout.decode().strip()
    diff = _git(["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", base, "--"], toplevel)
    if diff.returncode != 0:
        raise FatalError(f"--diff-base {ref}: git diff failed: {_stderr(diff)}")
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], toplevel)
    if untracked.returncode != 0:
        raise FatalError(f"--diff-base {ref}: git ls-files failed: {_stderr(untracked)}")
    names = [n for n in (diff.stdout + b"\0" + untracked.stdout).split(b"\0") if n]
    files = frozenset(toplevel / n.decode("utf-8", "surrogateescape") for n in names)
    return ChangeSet(ref=ref, base=base, toplevel=toplevel, files=files)


def _under(path: str, directory: str) -> bool:
    return directory in ("", ".") or path == directory or path.startswith(directory.rstrip("/") + "/")


def _image_names(w: Workload) -> set[str]:
    refs = [*w.images, *(v.ref for v in w.image_verdicts)]
    return {n for n in (images.name_of(r) for r in refs) if n}


def _evidence_paths(w: Workload) -> Iterable[str]:
    # ImageVerdict.evidence entries render as "path:line: why" or "path: why".
    for v in w.image_verdicts:
        for e in v.evidence:
            head = e.split(": ", 1)[0]
            yield head.rsplit(":", 1)[0] if head.rsplit(":", 1)[-1].isdigit() else head


def touched_workloads(facts: Facts, changed: frozenset[str]) -> set[str]:
    """Ids of workloads whose manifest or build context has a changed file."""
    contexts: dict[str, list[tuple[str, str | None]]] = {}
    for bc in facts.build_contexts:
        key = images.name_of(bc.image) or bc.image
        contexts.setdefault(key, []).append((bc.directory, bc.dockerfile))
    out = set()
    for w in facts.workloads:
        if w.path in changed:
            out.add(w.id)
            continue
        hit = False
        for name in _image_names(w):
            for directory, dockerfile in contexts.get(name, []):
                if (dockerfile and dockerfile in changed) or any(_under(p, directory) for p in changed):
                    hit = True
        # Without a build-context link, the evidence that decided the verdict still names files.
        if not hit and any(p in changed for p in _evidence_paths(w)):
            hit = True
        if hit:
            out.add(w.id)
    return out


def narrow(findings: list[Finding], facts: Facts, changed: frozenset[str]) -> tuple[list[Finding], int]:
    """Findings in changed files or about touched workloads; and how many were left out."""
    workloads = touched_workloads(facts, changed)
    kept = []
    for f in findings:
        # Internal errors (path ".") and stdin input are always shown: they are not "old code".
        if f.path in changed or f.path in (".", "<stdin>") or (f.workload and f.workload in workloads):
            kept.append(f)
    return kept, len(findings) - len(kept)
