"""The registry of scanners, one module per area. Order matters: placement runs last."""

from __future__ import annotations

from archlint.scanning import Scanner


def all_scanners() -> list[Scanner]:
    # Imported here so `archlint rules` and config validation stay fast.
    from archlint.scanners.binaries import BinaryScanner
    from archlint.scanners.dependencies import DependencyScanner
    from archlint.scanners.docker import DockerScanner
    from archlint.scanners.kubernetes import KubernetesScanner
    from archlint.scanners.placement import ImageVerdictScanner, PlacementScanner
    from archlint.scanners.registry import RegistryScanner
    from archlint.scanners.source import SourceScanner

    scanners: list[Scanner] = [
        DependencyScanner(),
        BinaryScanner(),
        DockerScanner(),
        ImageVerdictScanner(),
        KubernetesScanner(),
        PlacementScanner(),
        RegistryScanner(),
        SourceScanner(),
    ]
    return sorted(scanners, key=lambda s: s.order)
