"""The registry service interface: what an image is published for, and how asking can fail.

Laid out like pip-audit's services: this module holds the abstract client, its frozen records
and its error hierarchy; `oci.py` implements it over the OCI distribution API.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from archlint.images import ImageRef

# What the manifest at the reference turned out to be (ImagePlatforms.source).
SOURCE_OCI_INDEX = "oci-index"
SOURCE_DOCKER_LIST = "docker-manifest-list"
SOURCE_OCI_MANIFEST = "oci-manifest"
SOURCE_DOCKER_MANIFEST = "docker-manifest"
SOURCE_DOCKER_V1 = "docker-manifest-v1"


def platform_arch(platform: str) -> str:
    """ "linux/arm64/v8" -> "arm64"."""
    parts = platform.split("/")
    return parts[1] if len(parts) > 1 else parts[0]


def normalise_platform(os_: str, arch: str, variant: str = "") -> str:
    """`os/arch[/variant]` the way containerd compares platforms: arm64's only variant (v8)
    and amd64's baseline (v1) are dropped, so "linux/arm64/v8" == "linux/arm64"."""
    os_, arch, variant = os_.lower(), arch.lower(), variant.lower()
    arch = {"aarch64": "arm64", "x86_64": "amd64", "x86-64": "amd64"}.get(arch, arch)
    if (arch, variant) in (("arm64", "v8"), ("amd64", "v1")):
        variant = ""
    return "/".join(p for p in (os_, arch, variant) if p)


@dataclass(frozen=True)
class ImagePlatforms:
    """The registry's answer for one reference."""

    ref: str  # the normalised reference asked for, e.g. "docker.io/library/python:3.12"
    digest: str  # digest of the manifest (or index) the reference resolves to
    platforms: tuple[str, ...]  # sorted normalised platforms, attestation entries left out
    source: str  # SOURCE_*: an index/list, or a single manifest read through its config blob
    cached: bool = False  # answered from the on-disk cache

    @property
    def arches(self) -> frozenset[str]:
        return frozenset(platform_arch(p) for p in self.platforms)

    def describe(self) -> str:
        shown = ", ".join(self.platforms) or "no platform"
        return f"{self.ref} published for {shown} (digest {self.digest})"


class RegistryError(Exception):
    """Asking the registry failed; the image's platforms stay unknown.

    Messages name the registry and the reason, never a credential.
    """

    reason = "registry error"


class OfflineError(RegistryError):
    reason = "offline"


class AuthError(RegistryError):
    reason = "unauthorized"


class NotFound(RegistryError):
    reason = "not found"


class RateLimited(RegistryError):
    reason = "rate limited"


class Unavailable(RegistryError):
    """Connection refused, timeouts, 5xx answers after the bounded retries."""

    reason = "unavailable"


class InvalidResponse(RegistryError):
    """A malformed, oversized, unsupported or digest-mismatched answer."""

    reason = "invalid response"


class RegistryClient(abc.ABC):
    @abc.abstractmethod
    def platforms(self, ref: ImageRef) -> ImagePlatforms:
        """The platforms `ref` is published for; raises a RegistryError when that cannot be told."""
