"""The finding model: what every check yields and every report renders."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field, replace


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r} (error, warning, info)") from None


class Applicability(str, enum.Enum):
    SAFE = "safe"  # applied by --fix
    UNSAFE = "unsafe"  # applied by --fix --unsafe-fixes (may change behaviour, e.g. a version bump)
    MANUAL = "manual"  # shown, never applied (e.g. "run uv lock --upgrade-package x")


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions; end is exclusive.

    A pure insertion has start == end. Columns count Unicode code points.
    """

    path: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class Fix:
    description: str
    applicability: Applicability
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One problem at one place.

    `key` identifies the subject independent of its line (a dependency name, an object
    path in a manifest), so the fingerprint survives edits that move lines.
    """

    rule: str
    message: str
    path: str  # repo-relative POSIX path
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    severity: Severity | None = None  # None: the rule's default severity
    workload: str | None = None
    fix: Fix | None = None
    key: str = ""
    fingerprint: str = field(default="", compare=False)

    def with_defaults(self, default_severity: Severity) -> Finding:
        sev = self.severity if self.severity is not None else default_severity
        fp = self.fingerprint or compute_fingerprint(self)
        return replace(self, severity=sev, fingerprint=fp)

    @property
    def sev(self) -> Severity:
        assert self.severity is not None, "finding not finalised"
        return self.severity


def compute_fingerprint(f: Finding) -> str:
    # Line numbers are left out on purpose: a finding keeps its fingerprint when code moves.
    subject = f.key or f.message
    raw = "\x1f".join((f.rule, f.path, f.workload or "", subject))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
