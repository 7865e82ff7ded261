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


def test_select_decides_which_scanners_run() -> None:
    from archlint.catalogue import catalogue
    from archlint.scanners import needed

    cat = catalogue()
    areas = {r.code: r.area for r in cat.rules}
    codes = {r.code for r in cat.rules}
    assert needed({c for c in codes if c.startswith("ARCH4")}, areas) == {"SourceScanner"}
    assert needed({"ARCH401", "ARCH501", "ARCH003"}, areas) == {"SourceScanner", "BinaryScanner"}
    assert needed({c for c in codes if c.startswith("ARCH1")}, areas) == {
        "DependencyScanner", "DockerScanner", "RenderScanner", "SourceScanner"}  # fmt: skip
    # Kubernetes, placement and the scan's own rules draw on every scanner's facts.
    assert needed({"ARCH401", "ARCH201"}, areas) is None
    assert needed(codes, areas) is None


def test_select_source_rules_gives_the_same_source_findings(cli, tmp_path) -> None:
    import shutil

    from tests.conftest import FIXTURES

    shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    everything = cli(["check", str(tmp_path / "demo"), "--offline", "--format", "json"]).json()
    only = cli(["check", str(tmp_path / "demo"), "--offline", "--format", "json", "--select", "ARCH4"]).json()
    expected = [f for f in everything["findings"] if f["rule"].startswith("ARCH4")]
    # Same findings, but messages may differ where a fix was withdrawn for a blocker elsewhere.
    assert [(f["rule"], f["path"], f["line"]) for f in only["findings"]] == [
        (f["rule"], f["path"], f["line"]) for f in expected]  # fmt: skip
    assert only["workloads"] == [] and only["dependencies"] == []


def test_select_dependency_rules_still_withdraws_a_drop_that_hides_a_blocker(cli, tmp_path) -> None:
    import shutil

    from tests.conftest import FIXTURES

    shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    r = cli(["check", str(tmp_path / "demo"), "--offline", "--format", "json", "--select", "ARCH1"]).json()
    drop = next(f for f in r["findings"] if f["rule"] == "ARCH101" and "intel-openmp" in f["message"])
    assert drop["fix"]["applicability"] == "manual"
