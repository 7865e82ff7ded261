"""What the bundled knowledge base (rules/kb/base_images.toml) says about a well-known image."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from archlint.catalogue import knowledge
from archlint.images import ImageRef, InvalidReference, parse

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
    by_name: bool = False  # not a knowledge-base entry: the reference itself names an x86-64 build


@functools.cache
def _kb() -> dict[str, Any]:
    return knowledge("base_images")


def _family(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The longest `families` prefix that covers `name` (gcr.io/distroless/*)."""
    best: tuple[int, dict[str, Any]] | None = None
    for pattern, entry in data.get("families", {}).items():
        prefix = pattern.rstrip("*")
        if name.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), entry)
    return best[1] if best else None


# An x86-64 build named in the image's last path component or tag: pause-amd64, x86_64-builder,
# tool:1.2-linux-amd64, app:amd64. Bounded by separators so "amd64x" or "xamd64" do not count.
_X86_NAME = re.compile(r"(?:^|[-_.])(amd64|x86_64|x86-64)(?:$|[-_.])", re.IGNORECASE)


def x86_token(image: ImageRef) -> str | None:
    """Why the reference itself says x86-64 (its name or tag names an amd64 build), or None."""
    last = image.repository.rsplit("/", 1)[-1]
    m = _X86_NAME.search(last)
    if m:
        return f"its name {last!r} names an x86-64 build ({m.group(1)})"
    m = _X86_NAME.search(image.tag or "")
    if m:
        return f"its tag {image.tag!r} names an x86-64 build ({m.group(1)})"
    return None


@functools.lru_cache(maxsize=1024)
def lookup(ref: str) -> BaseImageInfo | None:
    """Facts about `ref` (any spelling: python:3.11-slim, docker.io/library/python), or None."""
    try:
        image = parse(ref)
    except InvalidReference:
        return None
    data = _kb()
    entry = data.get("images", {}).get(image.name) or _family(data, image.name)
    if entry is None:
        token = x86_token(image)
        if token is None:
            return None
        entry = {"arm64": False, "note": token, "by_name": True}
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
        by_name=bool(entry.get("by_name")),
    )
