"""The native rules, one module per family. Adding a rule: a NativeRule subclass with VALID and
INVALID examples, listed here, documented in rules/native.toml."""

from __future__ import annotations

import functools

from archlint.native.interface import NativeRule
from archlint.native.rules.build import GuardedX86Flag, HostCpuFlag, X86CompilerFlag, X86MacroEverywhere
from archlint.native.rules.fortran import IntelFortran
from archlint.native.rules.source import (
    GuardedX86Code,
    NotAnalysed,
    UndecidedGuard,
    X86Assembly,
    X86ErrorDirective,
    X86Header,
    X86Intrinsic,
    X86TargetAttribute,
)


@functools.cache
def all_rules() -> tuple[NativeRule, ...]:
    return (
        X86Header(), X86Intrinsic(), X86Assembly(), X86TargetAttribute(), GuardedX86Code(), X86ErrorDirective(),
        UndecidedGuard(), IntelFortran(), NotAnalysed(), X86CompilerFlag(), GuardedX86Flag(), HostCpuFlag(),
        X86MacroEverywhere(),
    )  # fmt: skip


@functools.cache
def _by_code() -> dict[str, NativeRule]:
    return {r.code: r for r in all_rules()}


def rule(code: str) -> NativeRule:
    return _by_code()[code]
