"""The vulnerability-source interface used when choosing an upgrade."""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class Advisory:
    id: str  # the preferred identifier (PYSEC, then CVE, then GHSA...)
    aliases: tuple[str, ...] = ()
    summary: str = ""


class VulnerabilityServiceError(Exception):
    """The service could not answer; callers must report the status as unknown."""


class VulnerabilitySource(abc.ABC):
    name: str = "vulnerability service"

    @abc.abstractmethod
    def advisories(self, name: str, version: str) -> list[Advisory]:
        """Known advisories affecting name==version; raises VulnerabilityServiceError."""


class OfflineVulnerabilities(VulnerabilitySource):
    """Answers nothing, on purpose: callers say 'vulnerability status unknown'."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def advisories(self, name: str, version: str) -> list[Advisory]:
        raise VulnerabilityServiceError(self.reason)
