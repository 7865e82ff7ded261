"""The source scanner end to end: the CLI on real fixture trees, evidence for placement, bad
input, notebooks, the cache (warm, corrupt, concurrent), the process pool, and positions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from archlint import engine
from archlint.cachefile import read_entry
from archlint.config import Config
from archlint.facts import Facts
from archlint.findings import Finding, Severity
from archlint.scanners.source import SourceScanner
from archlint.scanning import NOTEBOOK, PYTHON, ScanContext, SourceFile
from archlint.source import pool
from archlint.source.cache import ResultCache, StatIndex
from archlint.source.decode import decode
from archlint.source.interface import UndecodableSource
from archlint.source.positions import spans

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "fixtures" / "source" / "project"
BAD = REPO / "fixtures" / "source" / "bad"


def _short(path: str) -> str:
    # Paths are relative to the enclosing git work tree (the repository, for fixtures).
    for base in ("fixtures/source/project/", "fixtures/source/bad/"):
        path = path.removeprefix(base)
    return path


def _by_path(report: dict[str, Any]) -> dict[str, list[tuple[str, int, str]]]:
    out: dict[str, list[tuple[str, int, str]]] = {}
    for f in report["findings"]:
        if f["rule"].startswith("ARCH4") or f["rule"] in ("ARCH001", "ARCH002"):
            out.setdefault(_short(f["path"]), []).append((f["rule"], f["line"], f["severity"]))
    return out


def test_cli_reports_the_project_fixture(cli: Callable[..., Any]) -> None:
    res = cli(["check", str(PROJECT), "--offline", "--format", "json"])
    assert res.rc == 1, res.err
    found = _by_path(res.json())
    assert found["app/inference.py"] == [("ARCH401", 8, "error"), ("ARCH403", 11, "error")]
    assert found["app/native.py"] == [("ARCH404", 7, "error")]
    assert found["app/cpu_check.py"] == [("ARCH407", 9, "error")]
    assert found["app/download.py"] == [("ARCH405", 8, "warning"), ("ARCH406", 13, "warning")]
    assert found["app/optional.py"] == [("ARCH402", 8, "info"), ("ARCH402", 15, "info")]
    assert "app/platform_info.py" not in found  # reports the machine, maps arm64: precision
    assert found["notebooks/explore.ipynb"] == [("ARCH401", 2, "error")]
    nb = next(f for f in res.json()["findings"] if _short(f["path"]) == "notebooks/explore.ipynb")
    assert nb["message"].startswith("cell 4, line 2: import of mkl")
    assert nb["fix"] is None


def test_gate_autofix_is_withdrawn_while_the_code_behind_it_is_x86_only(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    # inference.py gates on x86_64 and then imports intel_extension_for_pytorch: admitting aarch64
    # at the gate would only move the crash to the import, so the rewrite is not applied.
    shutil.copytree(PROJECT / "app", tmp_path / "app")
    target = tmp_path / "app" / "inference.py"
    before = target.read_text()
    res = cli(["check", str(tmp_path), "--offline", "--fix", "--unsafe-fixes", "--format", "json"])
    assert res.rc == 1 and target.read_text() == before
    gate = next(f for f in res.json()["findings"] if (f["path"], f["rule"]) == ("app/inference.py", "ARCH403"))
    assert gate["fix"]["applicability"] == "manual" and "x86-only" in gate["message"]


def test_gate_autofix_through_the_cli(cli: Callable[..., Any], tmp_path: Path) -> None:
    # Nothing x86-only behind the gate: the rewrite is offered and applied.
    (tmp_path / "app").mkdir()
    target = tmp_path / "app" / "serve.py"
    target.write_text(
        'import platform\nimport sys\n\nif platform.machine() != "x86_64":\n    sys.exit("x86_64 only")\n\n'
        "def main() -> None:\n    print('serving')\n"
    )
    res = cli(["check", str(tmp_path), "--offline", "--fix", "--unsafe-fixes", "--format", "json"])
    assert res.rc == 0, res.out
    assert 'if platform.machine() not in ("x86_64", "aarch64"):' in target.read_text()
    assert [f["rule"] for f in res.json()["findings"]] == []


def test_suppression_comment_applies_to_source_findings(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import mkl  # noqa: ARCH401\nimport daal4py  # archlint: ignore[ARCH401]\n")
    res = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    assert res.rc == 0 and [f["rule"] for f in res.json()["findings"]] == []


def test_evidence_for_placement() -> None:
    result = engine.run(engine.Options(paths=[str(PROJECT)], offline=True, no_cache=True))
    ev = {(_short(e.path), e.rule): e for e in result.facts.evidence if e.rule.startswith("ARCH4")}
    assert ev[("app/inference.py", "ARCH401")].blocks_arm64 is True
    assert ev[("app/inference.py", "ARCH403")].blocks_arm64 is True
    assert ev[("app/native.py", "ARCH404")].blocks_arm64 is True
    assert ev[("app/cpu_check.py", "ARCH407")].blocks_arm64 is True
    assert ev[("app/optional.py", "ARCH402")].blocks_arm64 is False
    assert ev[("app/download.py", "ARCH405")].blocks_arm64 is False
    assert ev[("notebooks/explore.ipynb", "ARCH401")].reason.startswith("cell 4: imports mkl")
    assert "intel_extension_for_pytorch" in ev[("app/inference.py", "ARCH401")].render()


def test_bad_input_is_findings_never_a_crash(cli: Callable[..., Any]) -> None:
    res = cli(["check", str(BAD), "--offline", "--format", "json"])
    assert res.rc == 1, res.err  # findings, not exit 2
    found = _by_path(res.json())
    assert found["nul_byte.py"] == [("ARCH002", 2, "error")]
    assert found["syntax_error.py"] == [("ARCH002", 3, "error")]
    assert found["not_utf8.py"] == [("ARCH002", 1, "error")]
    assert found["bad_cookie.py"] == [("ARCH002", 1, "error")]
    assert found["truncated.ipynb"] == [("ARCH002", 1, "error")]  # the file itself is broken
    # PEP 263: the Latin-1 file decodes as Python would and its import is found on its line.
    assert found["latin1_cookie.py"] == [("ARCH401", 3, "error")]
    msgs = {_short(f["path"]): f["message"] for f in res.json()["findings"]}
    assert "no PEP 263 coding declaration" in msgs["not_utf8.py"]
    assert "klingon" in msgs["bad_cookie.py"]


def test_latin1_file_gets_no_autofix(tmp_path: Path) -> None:
    (tmp_path / "gate.py").write_bytes(
        b"# coding: latin-1\nimport platform\n# \xe9\nassert platform.machine() == 'x86_64'\n"
    )
    findings = _scan(tmp_path, workers=1)
    assert [(f.rule, f.line, f.fix) for f in findings] == [("ARCH403", 4, None)]


def test_decode_honours_bom_and_cookie() -> None:
    assert decode(b"\xef\xbb\xbfimport os\n") == ("import os\n", "utf-8-sig")
    text, enc = decode("# -*- coding: cp1252 -*-\nx = '€'\n".encode("cp1252"))
    assert enc == "cp1252" and "€" in text
    with pytest.raises(UndecodableSource) as e:
        decode(b"x = 1\n\x00")
    assert e.value.line == 2


def test_size_cap_is_a_quiet_info(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "archlint.toml").write_text("source-max-bytes = 2000\n")
    generated = "import mkl\n" + "".join(f"VALUE_{i} = {i}\n" for i in range(400))
    (tmp_path / "generated.py").write_text(generated)
    (tmp_path / "small.py").write_text("import mkl\n")
    res = cli(["check", str(tmp_path), "--offline", "--format", "json"])
    found = _by_path(res.json())
    assert found["generated.py"] == [("ARCH499", 1, "info")]
    assert found["small.py"] == [("ARCH401", 1, "error")]


def test_bad_config_value_is_exit_2(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "archlint.toml").write_text('source-max-bytes = "big"\n')
    res = cli(["check", str(tmp_path), "--offline"])
    assert res.rc == 2 and "source-max-bytes" in res.err


def test_deep_nesting_does_not_crash(tmp_path: Path) -> None:
    (tmp_path / "deep.py").write_text("import mkl\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    findings = _scan(tmp_path, workers=1)
    assert [f.rule for f in findings] in (["ARCH499"], ["ARCH002"], ["ARCH401"])


def test_rule_page(cli: Callable[..., Any]) -> None:
    res = cli(["rule", "ARCH403"])
    assert res.rc == 0 and "x86-architecture-gate" in res.out


# --- cache, pool -----------------------------------------------------------------------------


def _files(root: Path) -> list[SourceFile]:
    out = []
    for p in sorted(root.rglob("*")):
        if p.suffix in (".py", ".ipynb"):
            out.append(SourceFile(p, p.relative_to(root).as_posix(), NOTEBOOK if p.suffix == ".ipynb" else PYTHON))
    return out


def _scan(
    root: Path, cache: Path | None = None, workers: int | None = None, facts: Facts | None = None
) -> list[Finding]:
    ctx = ScanContext(root=root, config=Config(), cache_dir=cache)
    return list(SourceScanner(workers).scan(_files(root), ctx, facts or Facts()))


def _age(root: Path) -> None:
    # Files younger than the racy window are (rightly) not trusted by their stat alone.
    old = 1_600_000_000
    for p in root.rglob("*"):
        os.utime(p, (old, old))


def test_warm_cache_gives_identical_results_and_evidence(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(PROJECT, tree)
    _age(tree)
    cache = tmp_path / "cache"
    cold_facts, warm_facts = Facts(), Facts()
    cold = _scan(tree, cache, facts=cold_facts)
    entries = list((cache / "source").rglob("*.json"))
    assert any(p.name.startswith("index-") for p in entries) and len(entries) > 5
    warm = _scan(tree, cache, facts=warm_facts)
    assert warm == cold and warm_facts.evidence == cold_facts.evidence
    assert cold == _scan(tree, None)


def test_warm_run_does_not_read_unchanged_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(PROJECT / "app", tree)
    _age(tree)
    cache = tmp_path / "cache"
    first = _scan(tree, cache)
    monkeypatch.setattr(pool, "probe", lambda *a: pytest.fail("read a file the stat index answers"))
    assert _scan(tree, cache) == first


def test_changed_file_is_rescanned(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    f = tree / "a.py"
    f.write_text("import mkl\n")
    _age(tree)
    cache = tmp_path / "cache"
    assert [x.rule for x in _scan(tree, cache)] == ["ARCH401"]
    f.write_text("import numpy\n")  # new mtime and size
    assert _scan(tree, cache) == []
    f.write_text("import mkl\n")
    _age(tree)  # same stat as the first run: the index answers with the first content key
    assert [x.rule for x in _scan(tree, cache)] == ["ARCH401"]


def test_corrupt_cache_entries_are_recomputed(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(PROJECT / "app", tree)
    cache = tmp_path / "cache"
    first = _scan(tree, cache)
    for p in (cache / "source").rglob("*.json"):
        p.write_bytes(b'{"hits": [{"rule": 1}], "par')
    assert _scan(tree, cache) == first


def test_read_only_cache_degrades_to_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    tree = tmp_path / "tree"
    shutil.copytree(PROJECT / "app", tree)
    assert _scan(tree, blocker / "cache") == _scan(tree, None)


def test_concurrent_runs_share_one_cache_safely(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(PROJECT, tree)
    _age(tree)
    cache = tmp_path / "cache"
    code = textwrap.dedent(
        """
        import json, sys
        from pathlib import Path
        sys.path.insert(0, sys.argv[3])
        from source_scanner_test import _scan
        print(json.dumps(sorted((f.rule, f.path, f.line) for f in _scan(Path(sys.argv[1]), Path(sys.argv[2])))))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tree), str(cache), str(REPO / "tests")],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len({o.strip() for o in outs}) == 1
    for p in (cache / "source").rglob("*"):
        if p.is_file():
            assert not p.name.startswith(".tmp-"), "a temporary file was left behind"
            entry = read_entry(p, 1 << 28)
            assert entry is not None, f"{p} is not a whole entry"
            json.loads(entry)
    expected = sorted((f.rule, f.path, f.line) for f in _scan(tree, None))
    assert json.loads(outs[0]) == [list(x) for x in expected]


def test_pool_and_in_process_agree(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for i in range(3):
        shutil.copytree(PROJECT, tree / f"copy{i}")
    serial = _scan(tree, None, workers=1)
    assert len(serial) > 20
    assert _scan(tree, None, workers=2) == serial


def test_workers_probe_in_chunks_and_report_unreadable(tmp_path: Path) -> None:
    paths = []
    for i in range(150):
        p = tmp_path / f"m{i}.py"
        p.write_text("import mkl\n" if i % 50 == 0 else "x = 1\n")
        paths.append((p, PYTHON, None))
    paths.append((tmp_path / "missing.py", PYTHON, None))
    with pool.Workers(2) as w:
        probes = w.probe(paths, 1 << 20)
    assert sum(1 for pr in probes if pr.key) == 3
    assert probes[-1].error is not None


def test_stat_index_ignores_racy_entries(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, 100)
    idx = cache.index(tmp_path)
    import time

    idx.put("/a.py", 10, time.time_ns(), "k")
    idx.put("/b.py", 10, 1, "k2")
    idx.save()
    again = StatIndex(idx.path, cache)
    assert again.get("/a.py", 10, time.time_ns()) is None
    assert again.get("/b.py", 10, 1) == ("k2", True) and again.get("/b.py", 11, 1) is None
    again.put("/c.py", 5, 1, "", suppress=False)
    assert again.get("/c.py", 5, 1) == ("", False)  # known not to hold a suppression comment


def test_spans_match_libcst_position_provider() -> None:
    src = (PROJECT / "app" / "platform_info.py").read_text() + "\nif (a\n    == 'x86_64'):\n    pass\n"
    module = cst.parse_module(src)
    wanted: list[cst.CSTNode] = []

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, (cst.SimpleString, cst.Comparison, cst.Call, cst.ImportAlias, cst.FormattedString)):
                wanted.append(node)
            return True

    module.visit(Collect())
    ours = spans(module, wanted)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    assert len(wanted) > 20
    for node in wanted:
        r = theirs[node]
        assert ours[node] == (r.start.line, r.start.column, r.end.line, r.end.column), module.code_for_node(node)


def test_workers_analyze_on_the_pool_matches_in_process() -> None:
    jobs = [(PYTHON, p.read_bytes()) for p in sorted((PROJECT / "app").glob("*.py"))]
    jobs.append((NOTEBOOK, (PROJECT / "notebooks" / "explore.ipynb").read_bytes()))
    with pool.Workers(1) as w:
        serial = w.analyze(jobs, 1 << 20)
    with pool.Workers(2) as w:
        parallel = w.analyze(jobs, 1 << 20)
    assert parallel == serial and sum(len(r.hits) for r in serial) >= 8


def test_a_broken_notebook_cell_does_not_hide_the_others(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "code", "source": ["import mkl\n"]},
        {"cell_type": "markdown", "source": ["notes"]},
        {"cell_type": "code", "source": ["def half(:\n", "    pass\n"]},
        {"cell_type": "code", "source": "import platform\nassert platform.machine() == 'x86_64'\n"},
    ]
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5}))
    found = [(f.rule, f.line, f.severity, f.message.split(":")[0]) for f in _scan(tmp_path, workers=1)]
    assert found == [
        ("ARCH401", 1, None, "cell 1, line 1"),
        ("ARCH002", 1, Severity.WARNING, "cell 3, line 1"),
        ("ARCH403", 2, None, "cell 4, line 2"),
    ]
