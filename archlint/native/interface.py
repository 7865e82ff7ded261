"""Records of the native analysis: what one file holds (pure, per file) and the rule interface.

A file's `Summary` depends only on its kind and bytes. Whether a use becomes an error, a warning
or an info depends on the tree too (an `avx2/` directory beside a `neon/` one, a header included
only from x86-only code, a source file the build compiles only on x86): the scanner decides that
(see tree.py) and the rules render the result (rules/).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import ClassVar

from archlint.source.interface import Example, FixSpec, Hit

# Use.state values.
UNGUARDED = "unguarded"  # arm64 compiles it: an error
GUARDED = "guarded"  # only x86 compiles it (an x86-only branch, an architecture guard, a probe)
UNDECIDED = "undecided"  # under a condition that does not say which CPU it is for

__all__ = ["Example", "Hit", "NativeRule", "Summary", "Use"]


@dataclass(frozen=True)
class Use:
    """One x86-only thing in a file: a header, an intrinsic, assembly, a target attribute, a flag."""

    code: str  # the rule that reports it (ARCH701 …)
    what: str  # "immintrin.h", "_mm256_add_ps", "rdtsc", "-mavx2"
    line: int
    column: int = 1
    state: str = UNGUARDED
    guard: str = ""  # the directive or condition that decides, with its line: "#ifdef __AVX2__ (line 12)"
    arm64_path: bool = False  # guarded, and the same chain (or file) has a branch arm64 compiles
    count: int = 1  # occurrences of `what` in this state in the file
    detail: str = ""  # rule-specific: the build file kind, the flag's arm64 replacement …
    end_column: int | None = None
    fix: FixSpec | None = None


@dataclass(frozen=True)
class Summary:
    uses: tuple[Use, ...] = ()
    hits: tuple[Hit, ...] = ()  # final already (not analysed, undecodable)
    includes: tuple[tuple[str, int, str], ...] = ()  # (#include "target", line, Use state) of local headers
    macros: tuple[str, ...] = ()  # macros from outside the file that keep x86 code here off arm64
    portable: bool = False  # x86 intrinsics here are translated (sse2neon, SIMDe) or emulated
    arm_path: bool = False  # the file has code for arm64 (a NEON branch, arm_neon.h)
    # Build files: the native sources they list (with the x86 guard around the entry, "" for
    # none), and x86 feature macros they define for every platform.
    sources: tuple[tuple[str, int, str], ...] = ()  # (source path as written, line, guard)
    defines: tuple[tuple[str, int], ...] = ()  # (macro, line)
    parsed: bool = False


@dataclass(frozen=True)
class Context:
    """What the tree says about one file (tree.py)."""

    path: str
    downgrade: str = ""  # non-empty: why the file's x86 code is not an arm64 problem


class NativeRule(abc.ABC):
    """One rule: its examples (every VALID one must report nothing above info, every INVALID one
    the rule at its line; tests/native_rules_test.py) and how its uses read as findings."""

    code: ClassVar[str]
    VALID: ClassVar[tuple[Example, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()

    @abc.abstractmethod
    def render(self, use: Use, path: str) -> Hit:
        """The finding for one use (severity and evidence included)."""

    def hit(
        self,
        use: Use,
        message: str,
        *,
        key: str,
        blocks: bool | None = None,
        evidence: str = "",
        severity: str | None = None,
        fix: FixSpec | None = None,
        end_column: int | None = None,
    ) -> Hit:
        """This rule's finding at the use's position."""
        return Hit(self.code, message, use.line, use.column, end_column=end_column, key=key, severity=severity,
                   blocks=blocks, evidence=evidence, fix=fix)  # fmt: skip


@dataclass(frozen=True)
class NativeExample(Example):
    """An example with the file it stands for: its name decides the parser (ext/k.c, setup.py …)."""

    path: str = "ext/mod.c"
    files: tuple[tuple[str, str], ...] = field(default=())  # other files of the example tree
    oracle: bool = True  # C examples: aarch64 gcc -fsyntax-only agrees (VALID compiles, INVALID fails)
