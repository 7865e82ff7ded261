"""Container image references, normalised the way Docker and containerd do."""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"  # where Docker Hub serves the distribution API
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")
_SPACE = re.compile(r"\s")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


class InvalidReference(ValueError):
    pass


@dataclass(frozen=True)
class ImageRef:
    registry: str  # "docker.io", "ghcr.io", "localhost:5000"
    repository: str  # "library/python", "acme/api"
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """registry/repository: the key that links an image to its build context."""
        return f"{self.registry}/{self.repository}"

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest if pinned, else the tag (default latest)."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse(ref: str) -> ImageRef:
    """Parse `ref` like `docker pull` does: `python:3.11` -> docker.io/library/python:3.11."""
    s = ref.strip()
    if not s or _SPACE.search(s) or "${" in s or "{{" in s:
        raise InvalidReference(f"not an image reference: {ref!r}")
    digest = None
    if "@" in s:
        s, digest = s.split("@", 1)
        if not _DIGEST.match(digest):
            raise InvalidReference(f"invalid digest in {ref!r}")
    tag = None
    last = s.rsplit("/", 1)[-1]
    if ":" in last:
        s, tag = s.rsplit(":", 1)
        if not _TAG.match(tag):
            raise InvalidReference(f"invalid tag in {ref!r}")
    first, _, rest = s.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, s
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not repository or repository != repository.lower() or "//" in repository:
        raise InvalidReference(f"invalid repository in {ref!r}")
    return ImageRef(registry, repository, tag, digest)


def name_of(ref: str) -> str | None:
    """The normalised registry/repository of `ref`, or None when it is not a reference."""
    try:
        return parse(ref).name
    except InvalidReference:
        return None


def registry_endpoint(registry: str) -> str:
    """The host that serves the distribution API for `registry` (`docker.io` names are
    only an alias: the API lives on registry-1.docker.io)."""
    return DOCKER_HUB_ENDPOINT if registry == DOCKER_HUB else registry
