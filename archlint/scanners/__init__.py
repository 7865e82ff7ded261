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


def scanners_for(kinds: set[str]) -> list[Scanner]:
    """The scanners a run over files of `kinds` needs, in order."""
    return [e.load() for e in sorted(REGISTRY, key=lambda e: e.order) if e.triggers & kinds]


def all_scanners() -> list[Scanner]:
    return [e.load() for e in sorted(REGISTRY, key=lambda e: e.order)]
