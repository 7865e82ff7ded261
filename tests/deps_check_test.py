"""`archlint check` on requirement files against a local index (recorded PyPI pages) and a fake OSV."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from deps_support.cli import Cli, check
from deps_support.server import IndexServer, closed_port, osv_vuln


def repo(tmp_path: Path, requirements: str, index: str, osv: str | None = None, extra: str = "",
         resolve: bool = False) -> Path:  # fmt: skip
    """A repository with one requirements file. These tests are about the requirements as written:
    the trees below them (deps_tree_test.py) are not resolved unless `resolve`."""
    (tmp_path / "requirements.txt").write_text(requirements)
    cfg = f'index-url = "{index}"\n' + (f'osv-url = "{osv}"\n' if osv else "") + extra
    cfg += "" if resolve else "resolve = false\n"
    (tmp_path / "archlint.toml").write_text(cfg)
    return tmp_path


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in report["dependencies"]}


def rules_for(report: dict[str, Any], line: int) -> list[str]:
    return sorted(f["rule"] for f in report["findings"] if f["line"] == line)


REQS = """\
numpy==1.19.5
pyyaml==5.3.1
requests==2.31.0
cryptography==41.0.7
onnxruntime-gpu==1.17.0
docopt==0.6.2
orjson>=3.6
pywin32==306; sys_platform == "win32"
"""


def test_statuses_targets_and_findings(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    rc, report = check(cli, repo(tmp_path, REQS, server.url, server.osv_url))
    deps = by_name(report)
    assert rc == 1  # onnxruntime-gpu is an error
    assert report["targets"] == [
        {"platform": "linux/arm64", "python": "3.11", "libc": "glibc 2.36"},
        {"platform": "linux/amd64", "python": "3.11", "libc": "glibc 2.36"},
    ]
    assert deps["numpy"]["status"] == "needs-build"
    assert deps["numpy"]["targets"] == {"linux/arm64 cp311": "sdist", "linux/amd64 cp311": "sdist"}
    assert deps["requests"]["status"] == "ok"
    assert deps["requests"]["targets"]["linux/arm64 cp311"] == "pure"
    assert deps["cryptography"]["status"] == "ok"  # abi3 wheels
    assert deps["onnxruntime-gpu"]["status"] == "unavailable"
    assert deps["onnxruntime-gpu"]["targets"] == {"linux/arm64 cp311": "none", "linux/amd64 cp311": "wheel"}
    assert deps["docopt"]["status"] == "needs-build" and deps["docopt"]["suggestion"] is None
    assert deps["pywin32"]["status"] == "not-applicable" and deps["pywin32"]["targets"] == {}
    assert deps["orjson"]["status"] == "ok" and deps["orjson"]["version"] is None
    assert rules_for(report, 1) == ["ARCH104"]  # sdist everywhere: not an arm64 gap
    assert rules_for(report, 5) == ["ARCH103"]
    assert rules_for(report, 7) == ["ARCH106"]
    assert rules_for(report, 8) == []
    assert not server.pages("pywin32")  # a marker that excludes arm64 costs no request
    unpinned = next(f for f in report["findings"] if f["rule"] == "ARCH106")
    assert "pip picks 3.10.0 on linux/arm64 cp311" in unpinned["message"]
    arch103 = next(f for f in report["findings"] if f["rule"] == "ARCH103")
    assert (arch103["line"], arch103["column"], arch103["end_column"]) == (5, 1, len("onnxruntime-gpu==1.17.0") + 1)


def test_upgrade_suggestion_checks_vulnerabilities(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    server.vulns[("numpy", "1.23.2")] = [osv_vuln("PYSEC-2099-1", "numpy", "1.23.3", ("CVE-2099-0001",))]
    rc, report = check(cli, repo(tmp_path, "numpy==1.19.5\nonnxruntime-gpu==1.17.0\n", server.url, server.osv_url))
    assert rc == 1
    numpy = by_name(report)["numpy"]["suggestion"]
    assert numpy["version"] == "1.24.0"  # 1.23.2 is the smallest with wheels but has an advisory
    assert numpy["vulnerabilities"] == []
    assert "skipped 1.23.2 (PYSEC-2099-1)" in numpy["reason"] and "newest: 2.4.6" in numpy["reason"]
    assert "no known vulnerabilities in 1.24.0 (OSV)" in numpy["reason"]
    onnx = by_name(report)["onnxruntime-gpu"]["suggestion"]
    assert onnx["version"] == "1.29.0" and onnx["vulnerabilities"] == []
    asked = [s.body for s in server.seen if s.path == "/v1/query"]
    assert any(b'"1.23.2"' in b for b in asked) and any(b'"1.29.0"' in b for b in asked)


def test_vulnerability_service_down_is_unknown_never_clean(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    server.osv_status = 503
    _, report = check(cli, repo(tmp_path, "numpy==1.19.5\n", server.url, server.osv_url))
    sug = by_name(report)["numpy"]["suggestion"]
    assert sug["version"] == "1.23.2" and sug["vulnerabilities"] is None
    assert "vulnerability status unknown" in sug["reason"] and "no known vulnerabilities" not in sug["reason"]
    finding = next(f for f in report["findings"] if f["rule"] == "ARCH104")
    assert "vulnerability status unknown" in finding["message"]


def test_unsafe_fix_edits_the_pin(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = repo(tmp_path, "pyyaml==5.4  # yaml\nrequests==2.31.0\n", server.url, server.osv_url)
    res = cli(["check", "--python", "3.9", "--fix", "--unsafe-fixes", str(root)], cwd=root)
    assert (root / "requirements.txt").read_text() == "pyyaml==5.4.1  # yaml\nrequests==2.31.0\n"
    assert res.rc == 0, res.out + res.err  # re-scanned after the fix: clean


def test_hash_pinned_requirements_get_a_manual_fix(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    import json

    page = json.loads((server.directory / "pyyaml.json").read_text())
    hashes = [f["hashes"]["sha256"] for f in page["files"] if f["filename"].startswith("PyYAML-5.4-cp39")]
    lines = "pyyaml==5.4 \\\n" + " \\\n".join(f"    --hash=sha256:{h}" for h in hashes) + "\n"
    _, report = check(cli, repo(tmp_path, lines, server.url, server.osv_url), "--python", "3.9")
    (f,) = [f for f in report["findings"] if f["rule"] in ("ARCH102", "ARCH103")]
    # Only the cp39 wheels are hashed: the arm64 sdist does not count, so nothing installs on arm64.
    assert f["rule"] == "ARCH103" and "--hash" in f["message"]
    assert f["fix"]["applicability"] == "manual" and "regenerate the hashes" in f["fix"]["description"]


def test_known_x86_only_replacements(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    reqs = "tensorflow-intel==2.15.1\nintel-openmp==2024.2.1\ncx-oracle==8.3.0\n"
    root = repo(tmp_path, reqs, server.url, server.osv_url)
    rc, report = check(cli, root)
    assert rc == 1 and [f["rule"] for f in report["findings"]] == ["ARCH101"] * 3
    res = cli(["check", "--python", "3.11", "--diff", "--unsafe-fixes", str(root)], cwd=root)
    assert "-tensorflow-intel==2.15.1\n" in res.out and "-intel-openmp==2024.2.1\n" in res.out
    assert "+tensorflow==2.15.1\n" in res.out  # the same version exists with arm64 wheels
    assert "+oracledb==3.1.0\n" in res.out  # there is no oracledb 8.3.0: the newest with wheels everywhere
    assert "@@ -1,3 +1,2 @@" in res.out  # intel-openmp's line is dropped


def test_direct_references_and_unknown_projects(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    reqs = "git+https://github.com/psf/requests@main#egg=requests\nno-such-dist==1.0\n"
    _, report = check(cli, repo(tmp_path, reqs, server.url))
    deps = by_name(report)
    assert deps["requests"]["status"] == "unknown" and deps["no-such-dist"]["status"] == "unknown"
    assert report["summary"]["unknown_dependencies"] == 2
    rules = {f["rule"]: f for f in report["findings"]}
    assert "was not found on" in rules["ARCH105"]["message"] and rules["ARCH105"]["severity"] == "warning"
    assert "ARCH107" in rules


@pytest.mark.parametrize("fault", ["500", "html", "slow"])
def test_index_faults_become_unknown_and_the_scan_continues(
    cli: Cli, server: IndexServer, tmp_path: Path, fault: str
) -> None:
    server.faults["numpy"] = fault
    server.slow_seconds = 2.0
    root = repo(
        tmp_path, "numpy==1.19.5\nonnxruntime-gpu==1.17.0\n", server.url, server.osv_url, "index-timeout = 0.3\n"
    )
    rc, report = check(cli, root)
    assert rc == 1  # onnxruntime-gpu's error is still reported
    deps = by_name(report)
    assert deps["numpy"]["status"] == "unknown"
    assert deps["numpy"]["targets"] == {"linux/arm64 cp311": "unknown", "linux/amd64 cp311": "unknown"}
    assert deps["onnxruntime-gpu"]["status"] == "unavailable"
    msg = next(f["message"] for f in report["findings"] if f["rule"] == "ARCH105")
    assert {"500": "HTTP 500", "html": "HTML", "slow": "timed out"}[fault] in msg


def test_index_refusing_connections(cli: Cli, tmp_path: Path) -> None:
    rc, report = check(cli, repo(tmp_path, "numpy==1.19.5\n", f"http://127.0.0.1:{closed_port()}/simple/"))
    assert by_name(report)["numpy"]["status"] == "unknown"
    assert "cannot connect" in report["findings"][0]["message"]
    assert rc == 0  # a warning does not fail the default gate


def test_offline_never_opens_a_socket(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def spy(self: socket.socket, address: object) -> None:
        attempts.append(address)
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", spy)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a) or [])
    reqs = "numpy==1.19.5\ntensorflow-intel==2.15.1\n"
    rc, report = check(cli, repo(tmp_path, reqs, f"http://127.0.0.1:{closed_port()}/simple/"), "--offline")
    assert attempts == [] and rc == 1
    deps = by_name(report)
    assert deps["numpy"]["status"] == "unknown"
    assert deps["tensorflow-intel"]["status"] == "unavailable"  # the knowledge base answers offline
    unknown = next(f for f in report["findings"] if f["rule"] == "ARCH105")
    assert "offline" in unknown["message"] and unknown["severity"] == "info"
    kb = next(f for f in report["findings"] if f["rule"] == "ARCH101")
    assert "use tensorflow==2.15.1 instead (version 2.15.1 not verified: offline" in kb["message"]


def test_no_cache_leaves_the_cache_dir_empty(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (tmp_path / "r").mkdir()
    root = repo(tmp_path / "r", "numpy==1.23.2\n", server.url, server.osv_url)
    check(cli, root, "--cache-dir", str(cache), "--no-cache")
    check(cli, root, "--cache-dir", str(cache), "--no-cache")
    assert not cache.exists() and len(server.pages("numpy")) == 2
    check(cli, root, "--cache-dir", str(cache))
    check(cli, root, "--cache-dir", str(cache))
    assert len(server.pages("numpy")) == 3 and any(cache.rglob("*.marshal"))


@pytest.mark.network
def test_live_pypi_and_osv(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy==1.19.5\nrequests==2.31.0\n")
    _, report = check(cli, tmp_path, "--no-cache")
    deps = by_name(report)
    assert deps["requests"]["status"] == "ok"
    sug = deps["numpy"]["suggestion"]
    assert sug["version"].startswith("1.")
    if sug["vulnerabilities"] is None:
        assert "vulnerability status unknown" in sug["reason"]
    else:
        assert "no known vulnerabilities" in sug["reason"] or sug["vulnerabilities"]


def test_dockerfile_base_image_picks_musl_targets(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = repo(tmp_path, "pyyaml==6.0.1\n", server.url, server.osv_url)
    (root / "svc").mkdir()
    (root / "svc" / "Dockerfile").write_text(
        "FROM python:3.12-alpine\nRUN pip install pyyaml==6.0.1 requests==2.31.0\n"
    )
    (root / "svc" / "requirements.txt").write_text("numpy==1.26.4\n")
    res = cli(["check", "--format", "json", str(root)], cwd=root)
    report = res.json()
    deps = {(d["path"], d["name"]): d for d in report["dependencies"]}
    assert {"platform": "linux/arm64", "python": "3.12", "libc": "musl 1.2"} in report["targets"]
    assert {"platform": "linux/arm64", "python": "3.12", "libc": "glibc 2.36"} in report["targets"]
    assert deps[("requirements.txt", "pyyaml")]["status"] == "ok"  # glibc: manylinux aarch64 wheels
    docker = deps[("svc/Dockerfile", "pyyaml")]
    assert docker["source"] == "dockerfile" and docker["status"] == "needs-build"
    assert docker["targets"] == {"linux/arm64 cp312 musl": "sdist", "linux/amd64 cp312 musl": "wheel"}
    assert docker["suggestion"]["version"] == "6.0.3"  # 6.0.2rc1 is a yanked pre-release
    assert deps[("svc/requirements.txt", "numpy")]["targets"]["linux/arm64 cp312 musl"] == "wheel"
    (finding,) = [f for f in report["findings"] if f["path"] == "svc/Dockerfile" and f["rule"].startswith("ARCH10")]
    assert finding["rule"] == "ARCH102" and finding["line"] == 2
    diff = cli(["check", "--diff", "--unsafe-fixes", str(root)], cwd=root).out
    assert "+RUN pip install pyyaml==6.0.3 requests==2.31.0" in diff


def test_no_cache_keeps_pip_audit_out_of_the_user_cache(
    cli: Cli, server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = repo(tmp_path, "numpy==1.19.5\n", server.url, server.osv_url)
    _, report = check(cli, root, "--no-cache")
    assert by_name(report)["numpy"]["suggestion"]["vulnerabilities"] == []  # the service was asked
    assert not (tmp_path / "xdg").exists()


def test_python_version_file_and_requires_python_pick_the_interpreter(
    cli: Cli, server: IndexServer, tmp_path: Path
) -> None:
    root = repo(tmp_path, "", server.url, server.osv_url)
    (root / "old").mkdir()
    (root / "old" / ".python-version").write_text("3.9.18\n")
    (root / "old" / "requirements.txt").write_text("pyyaml==5.4\n")
    (root / "lib").mkdir()
    (root / "lib" / "pyproject.toml").write_text(
        '[project]\nname = "lib"\nversion = "1"\nrequires-python = ">=3.8,<3.11"\ndependencies = ["pyyaml==5.4"]\n'
    )
    res = cli(["check", "--format", "json", str(root)], cwd=root)
    deps = {d["path"]: d for d in res.json()["dependencies"]}
    assert deps["old/requirements.txt"]["targets"] == {"linux/arm64 cp39": "sdist", "linux/amd64 cp39": "wheel"}
    assert deps["old/requirements.txt"]["suggestion"]["version"] == "5.4.1"
    assert set(deps["lib/pyproject.toml"]["targets"]) == {"linux/arm64 cp310", "linux/amd64 cp310"}


def test_a_pin_to_a_yanked_release(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    # PEP 592: pip still installs an exact pin of a yanked release (with a warning): not an arm64 error.
    rc, report = check(cli, repo(tmp_path, "requests==2.32.0\n", server.url, server.osv_url))
    dep = by_name(report)["requests"]
    assert rc == 0 and dep["status"] == "ok" and dep["targets"]["linux/arm64 cp311"] == "pure"
    assert dep["resolved"] == {"linux/arm64 cp311": "2.32.0", "linux/amd64 cp311": "2.32.0"}
    (f,) = report["findings"]
    assert f["rule"] == "ARCH111" and f["severity"] == "info"
    assert "2.32.3 is the next release with wheels for every target" in f["message"]  # 2.32.1 is yanked too


def test_vulnerability_answers_are_kept_so_a_warm_run_does_not_ask_again(
    cli: Cli, server: IndexServer, tmp_path: Path
) -> None:
    import sys

    server.vulns[("numpy", "1.23.2")] = [osv_vuln("PYSEC-2099-1", "numpy", "1.23.3", ("CVE-2099-0001",))]
    root = repo(tmp_path, "numpy==1.19.5\n", server.url, server.osv_url)
    _, first = check(cli, root)
    asked = len([s for s in server.seen if s.path == "/v1/query"])
    assert asked >= 2
    sys.modules.pop("archlint.deps.vulns.pip_audit_service", None)
    _, second = check(cli, root)
    assert len([s for s in server.seen if s.path == "/v1/query"]) == asked  # answered from the cache
    assert "archlint.deps.vulns.pip_audit_service" not in sys.modules  # pip-audit was not even imported
    assert by_name(second)["numpy"]["suggestion"] == by_name(first)["numpy"]["suggestion"]
    check(cli, root, "--no-cache")
    assert len([s for s in server.seen if s.path == "/v1/query"]) > asked  # --no-cache asks again
