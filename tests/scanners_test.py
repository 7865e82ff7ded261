"""The lazy scanner registry must agree with the scanners themselves."""

from __future__ import annotations

from archlint import scanning as k
from archlint.scanners import REGISTRY, all_scanners, scanners_for


def test_registry_matches_scanner_classes():
    for entry in REGISTRY:
        scanner = entry.load()
        assert scanner.order == entry.order, entry
        assert scanner.kinds <= entry.triggers, f"{entry.cls} reads kinds its registry entry does not trigger on"
    orders = [s.order for s in all_scanners()]
    assert orders == sorted(orders)


def test_every_discovered_kind_has_a_scanner():
    triggered = set().union(*(e.triggers for e in REGISTRY))
    assert set(k.ALL_KINDS) <= triggered


def test_only_needed_scanners_are_loaded():
    names = [type(s).__name__ for s in scanners_for({k.PYTHON})]
    assert names == ["SourceScanner"]
    names = [type(s).__name__ for s in scanners_for({k.KUBERNETES})]
    assert names == ["ImageVerdictScanner", "KubernetesScanner", "RegistryScanner", "PlacementScanner"]
