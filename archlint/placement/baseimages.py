"""What the bundled knowledge base (rules/kb/base_images.toml) says about a well-known image."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from archlint.catalogue import knowledge
from archlint.images import InvalidReference, parse

_PY_TAG = re.compile(r"^(?:python)?(3\.\d{1,2})(?:\.\d+)?(?:$|[-_])")
_ALPINE = re.compile(r"alpine")


@dataclass(frozen=True)
class BaseImageInfo:
    name: str  # normalised registry/repository
    arm64: bool
    python: str | None  # "3.11"
    libc: str  # "glibc" | "musl"
    libc_version: str | None
    note: str = ""


def _kb() -> dict[str, Any]:
    return knowledge("base_images")


@functools.lru_cache(maxsize=1024)
def lookup(ref: str) -> BaseImageInfo | None:
    """Facts about `ref` (any spelling: python:3.11-slim, docker.io/library/python), or None."""
    try:
        image = parse(ref)
    except InvalidReference:
        return None
    data = _kb()
    entry = data.get("images", {}).get(image.name)
    if entry is None:
        return None
    tag = (image.tag or "").lower()
    python: str | None = None
    spec = entry.get("python")
    if spec == "tag":
        m = _PY_TAG.match(tag)
        python = m.group(1) if m else None
    elif isinstance(spec, str):
        python = spec
    libc = entry.get("libc", "glibc")
    libc_version: str | None = entry.get("glibc")
    if _ALPINE.search(tag) or image.repository.endswith("/alpine"):
        libc, libc_version = "musl", "1.2"
    elif libc == "musl":
        libc_version = "1.2"
    else:
        codenames: dict[str, str] = data.get("glibc", {})
        for part in re.split(r"[-_]", tag):
            if part in codenames:
                libc_version = codenames[part]
        # Ubuntu tags are the release itself (ubuntu:22.04, ubuntu:jammy).
        if tag in codenames:
            libc_version = codenames[tag]
    return BaseImageInfo(
        name=image.name,
        arm64=bool(entry.get("arm64")),
        python=python,
        libc=libc,
        libc_version=libc_version,
        note=entry.get("note", ""),
    )
