"""The registry of scanners, one module per area, in the order they run.

Scanners are imported only when the tree has files they (or, for the fact-driven ones, the
workloads they serve) need: a pre-commit run over a few Python files must not pay for
importing the Kubernetes schema validator or the ELF reader.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from archlint import scanning as k
from archlint.scanning import Scanner

_WORKLOAD_KINDS = frozenset({k.KUBERNETES, k.KUSTOMIZATION, k.HELM})


@dataclass(frozen=True)
class Entry:
    module: str
    cls: str
    order: int
    triggers: frozenset[str]  # run when a discovered file has one of these kinds

    def load(self) -> Scanner:
        scanner: Scanner = getattr(importlib.import_module(self.module), self.cls)()
        return scanner


REGISTRY: tuple[Entry, ...] = (
    # Renders kustomizations and Helm charts first, so the image prescan sees what they run.
    Entry("archlint.scanners.kubernetes", "RenderScanner", 3, frozenset({k.KUSTOMIZATION, k.HELM})),
    Entry("archlint.scanners.docker", "DockerScanner", 5,
          frozenset({k.DOCKERFILE, k.SKAFFOLD, k.COMPOSE, k.GITHUB_WORKFLOW, k.GITLAB_CI})),
    Entry("archlint.scanners.dependencies", "DependencyScanner", 10,
          frozenset({k.REQUIREMENTS, k.PYPROJECT, k.POETRY_LOCK, k.UV_LOCK, k.PDM_LOCK, k.PYLOCK, k.PIPFILE_LOCK,
                     k.PYTHON_VERSION, k.DOCKERFILE})),
    # After the dependency check: can each image build compile what has no arm64 wheel?
    Entry("archlint.scanners.docker", "BuildToolchainScanner", 12, frozenset({k.DOCKERFILE})),
    Entry("archlint.scanners.source", "SourceScanner", 20, frozenset({k.PYTHON, k.NOTEBOOK})),
    Entry("archlint.scanners.native", "NativeScanner", 22,
          frozenset({k.C_SOURCE, k.CYTHON, k.FORTRAN, k.CMAKE, k.MESON, k.MAKEFILE, k.SETUP_CFG})),
    Entry("archlint.scanners.binaries", "BinaryScanner", 25, frozenset({k.ELF, k.AR_ARCHIVE, k.WHEEL, k.TARBALL})),
    # Fact-driven: image verdicts and placement only matter when there are workloads to place.
    Entry("archlint.scanners.placement", "ImageVerdictScanner", 35, _WORKLOAD_KINDS),
    Entry("archlint.scanners.kubernetes", "KubernetesScanner", 40, _WORKLOAD_KINDS),
    Entry("archlint.scanners.registry", "RegistryScanner", 45, _WORKLOAD_KINDS),
    Entry("archlint.scanners.placement", "PlacementScanner", 90, _WORKLOAD_KINDS),
)  # fmt: skip


# Rule areas (rules/<area>.toml) whose findings come from a few scanners that need nothing from the
# others. Every other area (Kubernetes, placement, registry, the scan's own ARCH00x) draws on the
# facts of every scanner, so selecting it runs them all.
_LEAF_AREAS: dict[str, frozenset[str]] = {
    "source": frozenset({"SourceScanner"}),
    "native": frozenset({"NativeScanner"}),
    "binaries": frozenset({"BinaryScanner"}),
    # Dockerfile base images decide the targets, `pip install` lines are dependencies; renders
    # feed the Dockerfile prescan; the source scanner tells whether dropping a package would
    # leave code that loads it (archlint/fixguard.py).
    "dependencies": frozenset({"DependencyScanner", "DockerScanner", "RenderScanner", "SourceScanner"}),
    "dependency-sources": frozenset({"DependencyScanner", "DockerScanner", "RenderScanner", "SourceScanner"}),
}
# Rules that need no scanner of their own: they judge suppressions and fixes.
_SCANNERLESS = frozenset({"ARCH003", "ARCH015", "ARCH020"})


def needed(active: set[str], areas: dict[str, str]) -> frozenset[str] | None:
    """The scanner classes the `active` rules need (None: all of them). `areas`: code -> area."""
    wanted: set[str] = set()
    for code in active - _SCANNERLESS:
        leaf = _LEAF_AREAS.get(areas.get(code, ""))
        if leaf is None:
            return None
        wanted |= leaf
    return frozenset(wanted)


def scanners_for(kinds: set[str], only: frozenset[str] | None = None) -> list[Scanner]:
    """The scanners a run over files of `kinds` needs, in order (of those named in `only`, when
    `--select`/`--ignore` leave rules that need only a few)."""
    return [
        e.load()
        for e in sorted(REGISTRY, key=lambda e: e.order)
        if e.triggers & kinds and (only is None or e.cls in only)
    ]


def all_scanners() -> list[Scanner]:
    return [e.load() for e in sorted(REGISTRY, key=lambda e: e.order)]
