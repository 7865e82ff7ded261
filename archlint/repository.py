"""Which repository a JSON report describes, so `report merge` can tell two reports of one
repository (the same report twice, or yesterday's next to today's) from two repositories.

`id` is the repository's remote (origin, else the first remote) as host/path, without
credentials, scheme or `.git`; a repository without a remote is named by its first commit.
`paths` are the scanned paths relative to the repository root: two subprojects of one
monorepo, scanned separately, are two entries of a fleet. `commit` and `committed_at` say how
new the report is. Outside git there is no repository block.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archlint.gitignored import git_env

TIMEOUT = 20
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>(?!/).+)$")  # git@github.com:acme/shop.git


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, timeout=TIMEOUT, check=False, env=git_env()
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else None


def normalise_remote(url: str) -> str:
    """host/path of a remote URL: `https://tok@GitHub.com/acme/shop.git` and
    `git@github.com:acme/shop` are both `github.com/acme/shop`."""
    url = url.strip()
    m = _SCP.match(url) if "://" not in url else None
    if m:
        host, path = m["host"], m["path"]
    elif "://" in url:
        parts = urlsplit(url)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        path = parts.path
    else:  # a local path
        host, path = "", os.path.normpath(url)
    path = path.strip("/").removesuffix(".git").strip("/")
    return f"{host.lower()}/{path}" if host else path


def identify(root: Path, paths: list[str]) -> dict[str, Any] | None:
    if not (root / ".git").exists():
        return None
    remotes = (_git(root, "remote") or "").split()
    remote = "origin" if "origin" in remotes else (remotes[0] if remotes else None)
    url = _git(root, "remote", "get-url", remote) if remote else None
    head = _git(root, "log", "-1", "--format=%H %cI")
    if url:
        ident = normalise_remote(url)
    else:
        first = _git(root, "rev-list", "--max-parents=0", "HEAD")
        if not first:
            return None  # no remote and no commit: nothing stable to call it
        ident = f"git:{first.split()[-1]}"
    scanned = set()
    for p in paths:
        try:
            rel = Path(os.path.realpath(p)).relative_to(root).as_posix()
        except ValueError:
            rel = p  # stdin, or outside the repository
        scanned.add("." if rel in ("", ".") else rel)
    commit, committed_at = head.split() if head and len(head.split()) == 2 else (None, None)
    return {"id": ident, "paths": sorted(scanned), "commit": commit, "committed_at": committed_at}
