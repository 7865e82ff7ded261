"""Schema validation: the compiled fast path agrees with jsonschema (kubernetes-validate's schemas)."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest
from conftest import check_in_fresh_process

from archlint.k8s import validate as v
from archlint.k8s.objects import POD_SPEC_PATHS, objects
from archlint.k8s.yamlread import read_all
from tests.conftest import FIXTURES

VERSION = v.resolve_version("1.30")


def fixture_objects() -> list[dict[str, Any]]:
    out = []
    for p in sorted((FIXTURES / "k8s").rglob("*.yaml")) + sorted((FIXTURES / "k8s").rglob("*.json")):
        if "bad" in p.parts:
            continue
        for doc in read_all(p.read_text(encoding="utf-8")):
            for obj in objects(doc) if doc.data is not None else ():
                if obj.kind in POD_SPEC_PATHS:
                    out.append(obj.data)
    return out


def mutations(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Typical mistakes: wrong types, unknown fields, bad enums, missing required fields."""
    spec_path = POD_SPEC_PATHS[obj["kind"]]
    out = []
    for mutate in (
        lambda s: s.__setitem__("containers", 7),
        lambda s: s.__setitem__("nodeSelecter", {"a": "b"}),
        lambda s: s.__setitem__("nodeSelector", {"kubernetes.io/arch": 64}),
        lambda s: s.__setitem__("tolerations", [{"key": "k", "operator": "Equal", "effect": 3}]),
        lambda s: s.__setitem__("restartPolicy", True),
        lambda s: s["containers"][0].pop("name"),
        lambda s: s["containers"][0].__setitem__("ports", [{"containerPort": "http"}]),
        lambda s: s.__setitem__("affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}),
    ):
        o = copy.deepcopy(obj)
        node: Any = o
        for s in spec_path:
            node = node[s]
        mutate(node)
        out.append(o)
    return out


def reference_valid(obj: dict[str, Any]) -> bool:
    try:
        kubernetes_validate.validate(obj, "1.30", strict=True)
    except kubernetes_validate.ValidationError:
        return False
    return True


CASES = [(o, False) for o in fixture_objects()]
CASES += [(m, True) for o in fixture_objects()[:4] for m in mutations(o)]


@pytest.mark.parametrize(("obj", "mutated"), CASES)
def test_agrees_with_kubernetes_validate(obj: dict[str, Any], mutated: bool) -> None:
    errors = v.validate(obj, VERSION)
    assert errors is not None
    assert (errors == []) is reference_valid(obj)
    if mutated and errors:
        assert all(e.message for e in errors)


def test_unknown_field_error_names_the_key() -> None:
    obj = next(o for o in fixture_objects() if o["kind"] == "Deployment")
    bad = copy.deepcopy(obj)
    bad["spec"]["template"]["spec"]["nodeSelecter"] = {"a": "b"}
    [err] = v.validate(bad, VERSION) or []
    assert err.unexpected_key == "nodeSelecter" and err.path == ("spec", "template", "spec")


def test_custom_resources_have_no_schema() -> None:
    assert v.validate({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"}, VERSION) is None


@pytest.mark.parametrize(("wanted", "ok"), [(None, True), ("1.30", True), ("v1.29.3", True), ("1.99", False),
                                             ("1.2", False), ("latest", False)])  # fmt: skip
def test_version_resolution(wanted: str | None, ok: bool) -> None:
    if ok:
        assert v.resolve_version(wanted) in v.versions()
    else:
        with pytest.raises(v.UnsupportedVersion):
            v.resolve_version(wanted)


def test_the_bundle_read_directly_is_what_kubernetes_validate_reads() -> None:
    from kubernetes_validate import utils as kv

    assert v._bundle() is not None
    assert v.versions() == kv.all_versions()
    name = f"v{VERSION}-local-strict/deployment-apps-v1.json"
    assert v._schema(name, VERSION) == kv.schema_contents(f"kubernetes-json-schema/{name}", VERSION)


def test_a_package_laid_out_otherwise_goes_through_its_own_functions(monkeypatch) -> None:
    obj = fixture_objects()[0]
    bad = mutations(obj)[1]
    direct = (v.versions(), v.validate(obj, VERSION), v.validate(bad, VERSION))
    for f in (v._bundle, v.versions, v._definitions, v.validator):
        f.cache_clear()
    monkeypatch.setattr(v, "_bundle", lambda: None)
    try:
        assert (v.versions(), v.validate(obj, VERSION), v.validate(bad, VERSION)) == direct
        assert direct[1] == [] and direct[2]  # valid, and invalid with messages
    finally:
        for f in (v.versions, v._definitions, v.validator):
            f.cache_clear()


def test_valid_manifests_never_import_jsonschema(tmp_path) -> None:
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  selector:\n    matchLabels:\n"
        "      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n"
        "      containers:\n      - name: api\n        image: python:3.12-slim\n"
    )
    run = check_in_fresh_process([str(tmp_path), "--offline", "--no-cache", "-q"],
                                 ("jsonschema", "kubernetes_validate", "referencing"))  # fmt: skip
    assert not run.imported
