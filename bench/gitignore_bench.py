"""Discovery inside a git work tree: asking git (`git ls-files`, archlint/gitignored.py) against
reading the .gitignore files (the fallback outside git).

    python bench/gitignore_bench.py [--files N] [--ignored N] [--repeat N]

The tree is a repository with N source files in nested packages (committed) and an ignored
build directory of M files (never descended into by either). Each row is the best of R runs of
`discover()` (wall and CPU time); CPU time includes the `git ls-files` subprocess.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archlint import discover as discover_mod  # noqa: E402


def build(root: Path, files: int, ignored: int) -> None:
    (root / ".gitignore").write_text("build/\n*.log\n")
    for i in range(files):
        d = root / f"pkg{i % 40}" / f"sub{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"m{i}.py").write_text("import os\n")
        if i % 10 == 0:
            (d / f"run{i}.log").write_text("x\n")
            (d / ".gitignore").write_text("*.tmp\n")
    for i in range(ignored):
        d = root / "build" / f"lib{i % 50}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.py").write_text("x = 1\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x.invalid", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@x.invalid"}  # fmt: skip
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "tree"]):
        subprocess.run(cmd, cwd=root, check=True, env=env)


def _cpu() -> float:
    """User and system time of this process and its finished children (git)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def best_of(n: int, fn: object) -> tuple[float, float, int]:
    best = (float("inf"), float("inf"), 0)
    for _ in range(n):
        c0, t0 = _cpu(), time.perf_counter()
        count = fn()  # type: ignore[operator]
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        if wall < best[0]:
            best = (wall, cpu, count)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--ignored", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root, args.files, args.ignored)

        def with_git() -> int:
            return len(discover_mod.discover([root], root, []).files)

        def fallback() -> int:
            real = discover_mod.GitView.load
            discover_mod.GitView.load = classmethod(lambda cls, *a, **k: None)  # type: ignore[method-assign,assignment]
            try:
                return len(discover_mod.discover([root], root, []).files)
            finally:
                discover_mod.GitView.load = real  # type: ignore[method-assign]

        print(f"tree: {args.files} committed files, {args.ignored} ignored; load {os.getloadavg()[0]:.2f}")
        for name, fn in (("git ls-files", with_git), (".gitignore files (fallback)", fallback)):
            wall, cpu, count = best_of(args.repeat, fn)
            print(f"{name:<30} {wall * 1000:8.1f} ms wall {cpu * 1000:8.1f} ms cpu  {count} files")


if __name__ == "__main__":
    main()
