"""The source-rule interface: what a rule declares, what it reports, and how results travel.

Rules follow Fixit's pattern: each declares VALID and INVALID code examples (the test suite
turns every one into a test) and `visit_<Node>` / `leave_<Node>` handlers that the batched
walker calls during the single pass over a file. Results are plain frozen records so they
can cross a process boundary and be stored in the cache as JSON.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from archlint.source.context import Context


class SourceError(Exception):
    """Base of the errors this package raises internally (never out of `analyze`)."""


class UndecodableSource(SourceError):
    """The bytes are not text Python would accept (bad coding cookie, bad bytes, NUL)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Example:
    """A code example of a rule. For INVALID examples, `line` is where the finding must be
    reported (1-based, in the dedented code) and `code` the rule code expected there when it
    is not the rule's own (a rule class may report a sibling code, e.g. ARCH402)."""

    source: str
    line: int = 1
    code: str = ""


@dataclass(frozen=True)
class EditSpec:
    start_line: int
    start_column: int  # 1-based, code points
    end_line: int
    end_column: int  # exclusive
    content: str


@dataclass(frozen=True)
class FixSpec:
    description: str
    applicability: str  # "safe" | "unsafe" | "manual"
    edits: tuple[EditSpec, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One finding in one file, without the file's path (results are cached by content)."""

    rule: str
    message: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    key: str = ""
    severity: str | None = None  # None: the rule's default
    blocks: bool | None = None  # None: no evidence; else Evidence.blocks_arm64
    evidence: str = ""  # Evidence.reason
    fix: FixSpec | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "fix"}
        if self.fix is not None:
            d["fix"] = {
                "description": self.fix.description,
                "applicability": self.fix.applicability,
                "edits": [list(e.__dict__.values()) for e in self.fix.edits],
            }
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Hit:
        d = dict(d)
        raw = d.pop("fix", None)
        fix = None
        if raw is not None:
            edits = tuple(EditSpec(*e) for e in raw["edits"])
            fix = FixSpec(raw["description"], raw["applicability"], edits)
        return cls(**d, fix=fix)


@dataclass(frozen=True)
class FileResult:
    hits: tuple[Hit, ...] = ()
    parsed: bool = False  # False: the prefilter or a size cap spared the parse

    def to_json(self) -> dict[str, Any]:
        return {"hits": [h.to_json() for h in self.hits], "parsed": self.parsed}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FileResult:
        return cls(tuple(Hit.from_json(h) for h in d["hits"]), bool(d["parsed"]))


class SourceRule(abc.ABC):
    """One rule (or a family sharing one analysis). Stateless: per-file state lives in the
    Context (`ctx.state(self)`), so one instance serves every file and process."""

    code: ClassVar[str]  # its raw-bytes prefilter is prefilter.FILTERS[code]
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()

    def finish(self, ctx: Context) -> None:  # noqa: B027 - optional hook, empty on purpose
        """Called once after the walk (for rules that decide at the end of the file)."""
