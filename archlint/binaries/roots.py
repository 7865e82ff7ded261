"""Directories whose binaries are reported together: a site-packages distribution, a virtualenv,
an exported container filesystem. One finding per group instead of one per file: an x86 venv
holds thousands of extension modules, and one line per distribution is what a person acts on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class Group:
    key: str  # stable identity (for fingerprints)
    path: str  # repo-relative path the finding is reported at
    label: str  # how the message names it


_SITE = ("site-packages", "dist-packages")


class Roots:
    """Finds the group of a loose file from its repo-relative path; directory probes are cached."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._cache: dict[str, Group | None] = {}
        # The tree checked is a site-packages directory itself (no repository around it): paths
        # start at the distribution.
        self._root_site = os.path.basename(os.path.normpath(root)) in _SITE

    def group(self, rel: str) -> Group | None:
        parts = rel.split("/")
        for i in range(len(parts) - 2, -1, -1):
            if parts[i] in _SITE:
                site = "/".join(parts[: i + 1])
                dist = parts[i + 1].removesuffix(".libs")  # auditwheel puts numpy's vendored libs in numpy.libs/
                return Group(f"site:{site}/{dist}", f"{site}/{dist}", f"{dist} in {site}")
        if self._root_site and len(parts) > 1:
            dist = parts[0].removesuffix(".libs")
            site = os.path.basename(os.path.normpath(self._root))
            return Group(f"site:./{dist}", dist, f"{dist} in {site}")
        return self._dir_group(str(PurePosixPath(rel).parent))

    def _dir_group(self, d: str) -> Group | None:
        if d in self._cache:
            return self._cache[d]
        group: Group | None = None
        base = os.path.join(self._root, d) if d != "." else self._root
        if os.path.isfile(os.path.join(base, "pyvenv.cfg")):
            group = Group(f"venv:{d}", d, f"virtualenv {d}")
        elif os.path.isdir(os.path.join(base, "usr")) and (
            os.path.isfile(os.path.join(base, "etc", "os-release"))
            or os.path.isfile(os.path.join(base, "usr", "lib", "os-release"))
        ):
            group = Group(f"rootfs:{d}", d, f"container filesystem {d}")
        else:
            parent = str(PurePosixPath(d).parent)
            if parent != d and d not in (".", ""):
                group = self._dir_group(parent)
        self._cache[d] = group
        return group
