"""`kind: List` items are edited by composing the item alone (so a 20,000-item List is linear):
the edits must be exactly those computed from the whole composed document, the slow path that
stays as the oracle, for every way a List is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from archlint.k8s import edits
from archlint.k8s.edits import Op, ops_to_edits
from tests.conftest import CliResult


def _deployment(i: int, selector: bool = True) -> dict:
    spec: dict = {"containers": [{"name": "c", "image": "ghcr.io/acme/app:1"}]}
    if selector:
        spec["nodeSelector"] = {"beta.kubernetes.io/arch": "amd64"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"a{i}"},
            "spec": {"template": {"metadata": {"labels": {"app": "a"}}, "spec": spec}}}  # fmt: skip


BLOCK = (
    "apiVersion: v1\nkind: List\nitems:\n"
    + "".join(
        f"# item {i}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: a{i}\n  spec:\n    template:\n"
        "      spec:\n        containers:\n        - name: c\n          image: x\n        nodeSelector:\n"
        "          beta.kubernetes.io/arch: amd64\n\n"
        for i in range(3)
    )
    + "metadata: {}\n"
)
INDENTED = "kind: List\napiVersion: v1\nitems:\n" + "".join(
    f"  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {{name: a{i}}}\n    spec:\n      template:\n"
    "        spec:\n          containers: [{name: c, image: x}]\n"
    for i in range(3)
)
DASH_ALONE = (
    "apiVersion: v1\nkind: List\nitems:\n-\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: a0}\n"
    "  spec:\n    template:\n      spec:\n        containers: [{name: c, image: x}]\n-   apiVersion: apps/v1\n"
    "    kind: Deployment\n    metadata: {name: a1}\n    spec:\n      template:\n        spec:\n"
    "          nodeSelector: {beta.kubernetes.io/arch: amd64}\n          containers: [{name: c, image: x}]"
)  # no newline at the end of the file
ITEMS = [_deployment(i) for i in range(3)]
SHAPES = {
    "block": (BLOCK, 0, 3),
    "indented-sequence": (INDENTED, 0, 3),
    "json-indented": (json.dumps({"apiVersion": "v1", "kind": "List", "items": ITEMS}, indent=1), 0, 3),
    "json-one-line": (json.dumps({"apiVersion": "v1", "kind": "List", "items": ITEMS}), 0, 3),
    "json-no-selector": (
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [_deployment(i, False) for i in range(3)]}, indent=2),
        0,
        3,
    ),
    "crlf": (BLOCK.replace("\n", "\r\n"), 0, 3),
    "dash-alone-and-eof": (DASH_ALONE, 0, 2),
    "second-document": ("---\nkind: ConfigMap\napiVersion: v1\n---\n" + BLOCK, 1, 3),
}
OPS = [
    [Op("rename", ("nodeSelector",), key="beta.kubernetes.io/arch", new_key="kubernetes.io/arch")],
    [Op("add", (), key="tolerations", value=[{"key": "arch", "operator": "Exists"}])],
    [Op("set", ("nodeSelector",), value={"kubernetes.io/arch": "arm64"})],
    [Op("add", (), key="affinity", value={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 50, "preference": {"matchExpressions": [
            {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]}]}}]}})],
]  # fmt: skip


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_item_edits_equal_whole_document_edits(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text, doc, count = SHAPES[shape]
    nonempty = 0
    for i in range(count):
        path = ("items", i, "spec", "template", "spec")
        for ops in OPS:
            edits._DOCS.clear()
            edits._ITEMS.clear()
            assert edits._list_item(text, doc, i) is not None  # the fast path is the one taken
            fast = ops_to_edits(text, doc, path, ops, "x.yaml")
            with monkeypatch.context() as m:
                m.setattr(edits, "_list_item", lambda *a: None)
                edits._DOCS.clear()
                slow = ops_to_edits(text, doc, path, ops, "x.yaml")
            assert fast == slow, (i, ops[0].kind)
            nonempty += bool(fast)
    assert nonempty >= 2 * count  # not a comparison of two empty lists: adds apply to every item


def test_items_shared_by_alias_or_scalar_fall_back() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- &d {apiVersion: apps/v1, kind: Deployment}\n- *d\n- 5\n"
    assert edits._item_spans(text, 0) is None


def test_fix_of_a_list_keeps_every_item_valid(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """End to end: --fix on a block List rewrites each item's deprecated label in place."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "list.yaml").write_text(BLOCK)
    res = cli(["check", str(tmp_path), "--offline", "--fix", "--select", "ARCH204"])
    assert res.rc == 0, res.err
    fixed = (tmp_path / "list.yaml").read_text()
    assert fixed.count("kubernetes.io/arch: amd64") == 3 and "beta.kubernetes.io" not in fixed
    assert fixed.replace("          kubernetes.io/arch: amd64", "          beta.kubernetes.io/arch: amd64") == BLOCK
