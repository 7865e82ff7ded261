"""The rule catalogue is data: every rule must be complete enough for `archlint rule` and SARIF."""

from __future__ import annotations

import re

from archlint.catalogue import catalogue

AREA_PREFIX = {"core": "ARCH0", "dependencies": "ARCH1", "dependency_sources": "ARCH1", "kubernetes": "ARCH2",
               "placement": "ARCH3", "source": "ARCH4", "binaries": "ARCH5", "registry": "ARCH6"}  # fmt: skip


def test_every_rule_is_documented():
    rules = catalogue().rules
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules), "rule names must be unique too"
    for r in rules:
        assert re.fullmatch(r"ARCH\d{3}", r.code), r.code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name), r.name
        assert r.summary and r.what and r.why and r.fix, r.code
        assert r.fixable in ("safe", "unsafe", "manual", "none"), r.code
        prefix = AREA_PREFIX.get(r.area)
        if prefix:
            assert r.code.startswith(prefix), f"{r.code} is in area {r.area}"


def test_select_semantics():
    cat = catalogue()
    assert [r.code for r in cat.select("ARCH101")] == ["ARCH101"]
    assert {r.code for r in cat.select("ARCH0")} >= {"ARCH001", "ARCH002", "ARCH003", "ARCH004"}
    assert cat.select("x86-only-dependency")[0].code == "ARCH101"
    assert len(cat.select("ALL")) == len(cat.rules)
    assert cat.select("NOPE") == []
