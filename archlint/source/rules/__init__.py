"""The source rules, one module per family. Adding a rule: a SourceRule subclass with VALID and
INVALID examples, listed here, documented in rules/source.toml."""

from __future__ import annotations

import functools

from archlint.source.interface import SourceRule
from archlint.source.rules.artifacts import X86Artifact
from archlint.source.rules.cpu import X86CpuFeature
from archlint.source.rules.docker import DockerAmd64Platform
from archlint.source.rules.gates import ArchitectureGate
from archlint.source.rules.imports import OptionalX86Import, X86OnlyImport
from archlint.source.rules.native import X86NativeLoad


@functools.cache
def all_rules() -> tuple[SourceRule, ...]:
    return (
        X86OnlyImport(), OptionalX86Import(), ArchitectureGate(), X86NativeLoad(), X86Artifact(),
        DockerAmd64Platform(), X86CpuFeature(),
    )  # fmt: skip
