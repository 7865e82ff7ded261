"""The event-based YAML reader: same data as PyYAML's SafeLoader, accurate positions, hostile input."""

from __future__ import annotations

import json
import resource
import time

import pytest
import yaml

from archlint.k8s.yamlread import MAX_EXPANDED_NODES, read_all
from tests.conftest import FIXTURES

K8S = FIXTURES / "k8s"
# Helm templates are Go templates, not YAML.
YAML_FIXTURES = sorted(p for p in K8S.rglob("*") if p.suffix in (".yaml", ".json") and "bad" not in p.parts
                       and "templates" not in p.parts)  # fmt: skip


@pytest.mark.parametrize("path", YAML_FIXTURES, ids=lambda p: str(p.relative_to(K8S)))
def test_same_data_as_pyyaml_safe_loader(path) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8")
    expected = [d for d in yaml.safe_load_all(text) if d is not None]
    assert [d.data for d in read_all(text)] == expected


def test_scalar_typing_follows_yaml_1_1_like_pyyaml() -> None:
    text = "a: yes\nb: 'yes'\nc: 0755\nd: 0x1F\ne: 1_000\nf: 1.5\ng: ~\nh: .inf\ni: !!str 12\nj: 2024-01-01\n"
    text += "k: -3\nl: +7\nm: Off\n"
    assert read_all(text)[0].data == yaml.safe_load(text) | {"j": "2024-01-01"}  # dates stay strings (as in JSON)


def test_positions_of_keys_values_and_items() -> None:
    text = (
        'a: 1\n---\n# c\nkind: Pod\nspec:\n  containers:\n    - name: x\n      image: "é/y"  # c\n  flow: {k: [1, 2]}\n'
    )
    docs = read_all(text)
    assert [d.index for d in docs] == [0, 1]
    d = docs[1]
    assert d.locate_key(("kind",)) == (4, 1)
    assert d.locate(("spec", "containers", 0, "image")) == (8, 14)
    assert d.locate_key(("spec", "containers", 0, "image")) == (8, 7)
    assert d.locate(("spec", "containers", 0)) == (7, 7)
    assert d.locate(("spec", "flow", "k", 1)) == (9, 17)
    # A path that does not exist points at its deepest existing ancestor.
    assert d.locate(("spec", "containers", 5, "image")) == d.locate(("spec", "containers"))
    assert (d.start_line, d.end_line) == (2, 9)


def test_merge_keys_and_aliases() -> None:
    text = "base: &b {cpu: 1, mem: 2}\nx:\n  <<: *b\n  mem: 3\nlist: [*b, *b]\n"
    [d] = read_all(text)
    assert d.data == yaml.safe_load(text)


def test_duplicate_keys_are_problems_with_lines() -> None:
    [d] = read_all("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert [(p.line, p.code) for p in d.problems] == [(4, "duplicate-key"), (5, "duplicate-key")]
    assert d.data == {"a": 3, "b": {"c": 2}}


def test_syntax_error_resumes_at_the_next_document() -> None:
    text = "a: 1\n---\nb: [1\n---\nc: 3\n---\nd: 'x\n"
    docs = read_all(text)
    assert [d.data for d in docs] == [{"a": 1}, None, {"c": 3}, None]
    assert [p.code for p in docs[1].problems] == ["syntax"] and docs[1].problems[0].line in (3, 4)
    assert docs[3].problems[0].line in (7, 8)


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n---\nafter: 1\n"


def test_alias_bomb_refused_fast_with_bounded_memory() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    docs = read_all(_bomb(12))  # 9**12 = 282 billion nodes if expanded
    assert time.perf_counter() - t < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB
    assert docs[0].data is None and docs[0].problems[0].code == "alias-bomb"
    assert str(MAX_EXPANDED_NODES) in docs[0].problems[0].message
    assert docs[1].data == {"after": 1}


def test_moderate_anchor_reuse_is_fine() -> None:
    [d] = read_all(_bomb(4).split("---")[0])  # 9**4 = 6561 nodes: a big but honest document
    assert d.problems == [] and len(d.data["a3"]) == 9


def test_json_documents() -> None:
    text = json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": [{"kind": "Pod", "n": 1.5, "t": True}]}, indent="\t"
    )
    [d] = read_all(text)
    assert d.data == json.loads(text)
    assert d.locate(("items", 0, "t")) == (8, 9)  # tab-indented: columns count characters


def test_absurd_nesting_is_refused_not_a_crash() -> None:
    deep = "a: " + "[" * 5000 + "]" * 5000 + "\n---\nb: 1\n"
    docs = read_all(deep)
    # Refused either by our depth cap or by libyaml's own nesting limit (newer PyYAML releases
    # have one); which of the two speaks first is the library's business, not ours.
    assert docs[0].data is None and docs[0].problems and docs[0].problems[0].code in ("too-deep", "syntax")
    assert docs[1].data == {"b": 1}
    # Below any library limit, above ours: our own cap refuses it.
    mid = read_all("a: " + "[" * 150 + "]" * 150 + "\n")
    assert mid[0].data is None and [p.code for p in mid[0].problems] == ["too-deep"]
    ok = "a: " + "[" * 60 + "]" * 60 + "\n"
    assert read_all(ok)[0].problems == []
