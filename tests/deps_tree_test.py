"""The dependency tree per target, resolved from core metadata on a local index and file host that
serve recorded PyPI pages and recorded bytes of the real wheels (fixtures/deps/wheels).

The oracle is pip's own resolver: `pip install --dry-run --report` against the same server (PEP 658
metadata advertised, so pip reads no wheel), per platform."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deps_support.cli import Cli, check, repo
from deps_support.server import IndexServer, running

from archlint.deps.index.interface import DistFile
from archlint.deps.index.metadata import NO_RANGE_LIMIT, MetadataSource, MetadataUnavailable
from archlint.deps.targets import full_python, platform_tags
from archlint.facts import Target

# fixtures/deps/wheels/record.py TREES["video-api"]: a video-understanding API.
VIDEO_API = """\
fastapi>=0.115
uvicorn>=0.30
qwen-vl-utils[decord]>=0.0.8
transformers>=4.45
pillow>=10
numpy>=1.26
requests>=2.31
pyyaml>=6
"""
ARM = "linux/arm64 cp311"
AMD = "linux/amd64 cp311"


def tree(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in report["dependencies"]}


def resolved(report: dict[str, Any], label: str) -> dict[str, str]:
    return {d["name"]: d["resolved"][label] for d in report["dependencies"] if d["resolved"].get(label)}


def pip_resolves(requirements: list[str], target: Target) -> dict[str, str] | None:
    """pip's own resolver on the same recorded index, with PEP 658 metadata advertised so that it
    reads no wheel (None: pip cannot resolve). Wheels only: every package of these trees ships
    wheels, so --only-binary does not change pip's choice."""
    for server in running(IndexServer(core_metadata="advertise")):
        return _pip_report(server, requirements, target)
    raise AssertionError("unreachable")


def _pip_report(server: IndexServer, requirements: list[str], target: Target) -> dict[str, str] | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # not this machine's find-links, extra indexes or constraints
    plats = [a for p in platform_tags(target) for a in ("--platform", p)]
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", "--ignore-installed",
           "--only-binary=:all:", *plats, "--python-version", full_python(target.python), "--target", str(server.port),
           "--index-url", server.url, "--no-cache-dir", "--disable-pip-version-check", *requirements]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if r.returncode != 0:
        assert "ResolutionImpossible" in r.stderr or "No matching distribution" in r.stderr, r.stderr
        return None
    from packaging.utils import canonicalize_name

    return {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in json.loads(r.stdout)["install"]}


def test_a_transitive_blocker_is_reported_with_its_chain_and_the_tree_matches_pip(
    cli: Cli, server: IndexServer, tmp_path: Path
) -> None:
    rc, report = check(cli, repo(tmp_path, VIDEO_API, server))
    deps = tree(report)
    assert rc == 1
    decord = deps["decord"]
    assert decord["direct"] is False and decord["via"] == ["qwen-vl-utils", "decord"]
    assert decord["status"] == "unavailable" and decord["resolved"] == {ARM: None, AMD: "0.6.0"}
    assert decord["path"] == "requirements.txt" and decord["line"] == 3
    (blocker,) = [f for f in report["findings"] if f["rule"] == "ARCH103"]
    assert (
        blocker["line"] == 3 and "qwen-vl-utils[decord] pulls in decord (qwen-vl-utils → decord)" in blocker["message"]
    )
    assert "no sdist" in blocker["message"] and "amd64 installs decord 0.6.0" in blocker["message"]
    # The fix is on the direct requirement: only its [decord] extra needs decord.
    assert blocker["fix"]["applicability"] == "unsafe"
    assert blocker["fix"]["edits"][0]["content"] == "qwen-vl-utils>=0.0.8"
    assert all(d["direct"] == (d["via"] is None) for d in report["dependencies"])
    assert len([d for d in report["dependencies"] if not d["direct"]]) >= 30
    assert deps["hf-xet"]["via"] == ["transformers", "huggingface-hub", "hf-xet"]

    reqs = VIDEO_API.split()
    amd = pip_resolves(reqs, Target("linux/amd64", "3.11"))
    assert amd is not None and resolved(report, AMD) == amd
    # On arm64 pip cannot install qwen-vl-utils[decord] (no release of it avoids decord); without
    # the extra, pip's tree is archlint's, decord left out.
    assert pip_resolves(["qwen-vl-utils[decord]>=0.0.8"], Target("linux/arm64", "3.11")) is None
    without = [r.replace("[decord]", "") for r in reqs]
    arm = pip_resolves(without, Target("linux/arm64", "3.11"))
    assert arm is not None and resolved(report, ARM) == arm


def test_the_fix_makes_the_tree_install_on_arm64(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = repo(tmp_path, VIDEO_API, server)
    cli(["check", "--python", "3.11", "--fix", "--unsafe-fixes", str(root)], cwd=root)
    assert "qwen-vl-utils>=0.0.8\n" in (root / "requirements.txt").read_text()
    rc, report = check(cli, root)
    assert rc == 0 and "decord" not in tree(report)
    assert not [f for f in report["findings"] if f["severity"] != "info"]


@pytest.mark.parametrize("mode", ["advertise", "advertise-404", "none"])
def test_metadata_from_pep_658_or_range_requests_give_the_same_tree(cli: Cli, tmp_path: Path, mode: str) -> None:
    for server in running(IndexServer(core_metadata=mode)):
        _, report = check(cli, repo(tmp_path, VIDEO_API, server))
        wheels = [s for s in server.file_requests() if not s.path.endswith(".metadata")]
        metadata = [s for s in server.file_requests() if s.path.endswith(".metadata")]
        if mode == "advertise":
            # PEP 658 answers the metadata; a wheel is read only when it is tagged for any platform,
            # for the binaries it may carry (ARCH113): its tail, by range, once.
            assert metadata and all(s.path.endswith("-any.whl") and s.headers.get("Range") for s in wheels)
            firsts = {s.path: s.headers["Range"] for s in reversed(wheels)}
            assert set(firsts.values()) == {"bytes=-65536"}
        else:
            assert wheels and all("Range" in s.headers for s in wheels)
            assert bool(metadata) == (mode == "advertise-404")  # advertised but 404: falls back to ranges
        assert resolved(report, ARM)["transformers"] == "5.24.0" and len(resolved(report, AMD)) == 43
        # Never a whole wheel: each file's bytes sent stay far below its size.
        big = {n: b for n, b in server.served_bytes.items() if server.files[n].size > 4 * 1024 * 1024}
        assert all(b < server.files[n].size / 4 for n, b in big.items())


def test_a_host_without_range_support(cli: Cli, tmp_path: Path) -> None:
    """Small wheels are read whole (bounded); larger ones stay unknown with the reason."""
    for server in running(IndexServer(ranges="ignore")):
        _, report = check(cli, repo(tmp_path, "fastapi>=0.115\nnumpy>=1.26\n", server))
        deps = tree(report)
        assert deps["starlette"]["resolved"][ARM]  # fastapi's wheel is small: read whole, its tree resolved
        incomplete = [f for f in report["findings"] if f["rule"] == "ARCH110"]
        assert any("numpy" in f["message"] and "ignores HTTP Range" in f["message"] for f in incomplete)
        # The reader stops after NO_RANGE_LIMIT bytes of the 16 MB wheel.
        (f,) = [f for f in server.files.values() if f.filename.startswith("numpy-2.4.6") and "aarch64" in f.filename]
        source = MetadataSource(None, timeout=10)
        with pytest.raises(MetadataUnavailable, match="ignores HTTP Range"):
            source.fetch(DistFile(f.filename, url=f"http://127.0.0.1:{server.port}/files/x/{f.filename}"))
        assert f.size > 10 * NO_RANGE_LIMIT and source.stats["bytes"] <= NO_RANGE_LIMIT + 64 * 1024


def test_a_dependency_cycle(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    rc, report = check(cli, repo(tmp_path, "dask[distributed]>=2024.1\n", server))
    deps = tree(report)
    assert deps["distributed"]["via"] == ["dask", "distributed"]
    assert deps["distributed"]["resolved"][ARM] == deps["dask"]["resolved"][ARM]  # distributed pins dask
    amd = pip_resolves(["dask[distributed]>=2024.1"], Target("linux/amd64", "3.11"))
    assert amd is not None and resolved(report, AMD) == amd
    assert rc == 0


@pytest.mark.parametrize(("mode", "fault"), [("advertise", "garbage-metadata"), ("none", "zeros")])
def test_metadata_that_does_not_parse(cli: Cli, tmp_path: Path, mode: str, fault: str) -> None:
    for server in running(IndexServer(core_metadata=mode)):
        server.file_faults["pydantic-2.14.4-py3-none-any.whl"] = fault
        rc, report = check(cli, repo(tmp_path, "fastapi>=0.115\n", server))
        deps = tree(report)
        assert deps["pydantic"]["resolved"][ARM] == "2.14.4" and "pydantic-core" not in deps  # below it: unknown
        (f,) = [f for f in report["findings"] if f["rule"] == "ARCH110"]
        assert "what pydantic depends on is unknown" in f["message"] and f["severity"] == "warning"
        assert deps["starlette"]["resolved"][ARM] and deps["anyio"]["resolved"][ARM]  # the rest is resolved
        assert rc == 0


def test_a_project_the_index_does_not_have(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    server.faults["h11"] = "404"
    rc, report = check(cli, repo(tmp_path, "uvicorn>=0.30\n", server))
    deps = tree(report)
    assert deps["h11"]["status"] == "unknown" and deps["h11"]["via"] == ["uvicorn", "h11"]
    assert deps["click"]["resolved"][ARM]
    (f,) = [f for f in report["findings"] if f["rule"] == "ARCH110"]
    assert "h11 could not be looked up (h11 was not found on" in f["message"]
    assert rc == 0


def test_a_package_whose_every_release_is_yanked(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    # The real requests page, cut down to its two yanked releases (2.32.0, 2.32.1).
    page = json.loads((server.directory / "requests.json").read_text())
    page["files"] = [f for f in page["files"] if f["yanked"]]
    assert page["files"] and {f["filename"].split("-")[1].removesuffix(".tar.gz") for f in page["files"]} == {
        "2.32.0", "2.32.1"}  # fmt: skip
    server.pages_override["requests"] = json.dumps(page).encode()
    rc, report = check(cli, repo(tmp_path, "qwen-vl-utils>=0.0.8\n", server))
    deps = tree(report)
    assert deps["requests"]["via"] == ["qwen-vl-utils", "requests"]
    assert deps["requests"]["resolved"] == {ARM: None, AMD: None}
    (f,) = [f for f in report["findings"] if f["rule"] == "ARCH109"]  # amd64 cannot either: not an arm64 gap
    assert "every file is yanked" in f["message"] and "not an arm64 gap" in f["message"]
    assert rc == 0


def test_no_resolve_checks_only_what_is_written(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = repo(tmp_path, VIDEO_API, server)
    rc, report = check(cli, root, "--no-resolve")
    assert rc == 0 and all(d["direct"] for d in report["dependencies"])
    # No metadata read: a wheel is opened only when it is tagged for any platform (ARCH113).
    assert all(s.path.endswith("-any.whl") for s in server.file_requests())
    (root / "archlint.toml").write_text(
        f'index-url = "{server.url}"\nvulnerability-service = "none"\nresolve = false\n'
    )
    _, again = check(cli, root)
    assert len(again["dependencies"]) == 8


def test_offline_answers_the_tree_from_the_cache(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = repo(tmp_path, VIDEO_API, server)
    cache = ("--cache-dir", str(tmp_path / "cache"))
    _, online = check(cli, root, *cache)
    asked = len(server.seen)
    rc, offline = check(cli, root, "--offline", *cache)
    assert len(server.seen) == asked  # not one request
    assert resolved(offline, ARM) == resolved(online, ARM) and rc == 1
    _, cold = check(cli, root, "--offline", "--cache-dir", str(tmp_path / "empty"))
    assert all(d["status"] == "unknown" for d in cold["dependencies"])


def test_sdist_only_releases(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    """Never built: whether pip compiles it comes from the sdist's member list (C sources or not),
    what it depends on from its PKG-INFO (only when PEP 643 makes that static)."""
    rc, report = check(cli, repo(tmp_path, "docopt==0.6.2\npython-levenshtein==0.12.2\n", server))
    by_line = {f["line"]: f for f in report["findings"] if f["rule"] == "ARCH104"}
    assert "pip builds a pure-Python wheel from it on every target" in by_line[1]["message"]
    assert "compiled from source on amd64 too" in by_line[2]["message"]
    incomplete = [f for f in report["findings"] if f["rule"] == "ARCH110"]
    assert len(incomplete) == 2 and all(f["severity"] == "info" for f in incomplete)
    assert all("its own dependencies are unknown (only an sdist" in f["message"] for f in incomplete)
    assert all("before PEP 643" in f["message"] for f in incomplete)
    listed = [s.path for s in server.file_requests()]
    assert any(p.endswith("python-Levenshtein-0.12.2.tar.gz") for p in listed) and rc == 0


def test_a_resolved_tree_is_reused_while_its_pages_are_unchanged(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    root = repo(tmp_path / "r", VIDEO_API, server)
    cache = tmp_path / "cache"
    _, first = check(cli, root, "--cache-dir", str(cache))
    assert any((cache / "trees-v1").rglob("*.marshal"))
    # Without the metadata, only the stored trees can answer: not one file request.
    shutil.rmtree(cache / "metadata-v1")
    server.seen.clear()
    _, again = check(cli, root, "--cache-dir", str(cache))
    assert not server.file_requests() and not server.pages("uvicorn")
    assert again["dependencies"] == first["dependencies"]
    # A page that changes (here: rewritten by a refresh) invalidates the trees built on it.
    page = next(p for p in (cache / "index-v1").rglob("*.marshal") if p.read_bytes())
    page.write_bytes(page.read_bytes())
    os.utime(page, ns=(1, 1))
    _, third = check(cli, root, "--cache-dir", str(cache))
    assert server.file_requests() and resolved(third, ARM) == resolved(first, ARM)


def test_requirements_that_conflict(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    # pydantic 2.14.4 requires pydantic-core==2.50.5: pip stops with ResolutionImpossible everywhere.
    rc, report = check(cli, repo(tmp_path, "pydantic==2.14.4\npydantic-core==2.49.0\n", server))
    (f,) = [f for f in report["findings"] if f["rule"] == "ARCH112"]
    assert f["line"] == 2 and f["severity"] == "warning" and "(and on amd64)" in f["message"]
    assert "pydantic wants pydantic-core==2.50.5" in f["message"]
    assert "the requirements wants pydantic-core==2.49.0" in f["message"]
    core = tree(report)["pydantic-core"]
    assert core["status"] == "ok" and core["resolved"][ARM] == "2.49.0"  # the pin alone installs: not "unavailable"
    assert rc == 0


def test_a_lock_is_verified_not_resolved_again(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    """A file pinning its whole tree (pip-compile's or uv's output) installs exactly its pins."""
    amd = pip_resolves(VIDEO_API.split(), Target("linux/amd64", "3.11"))
    assert amd is not None
    lock = "".join(f"{n}=={v}\n" for n, v in sorted(amd.items()))
    rc, report = check(cli, repo(tmp_path, lock, server))
    assert all(d["direct"] for d in report["dependencies"]) and len(report["dependencies"]) == len(amd)
    assert resolved(report, AMD) == amd
    (blocker,) = [f for f in report["findings"] if f["rule"] == "ARCH103"]  # decord, pinned, on arm64
    assert blocker["message"].startswith("decord==0.6.0 cannot be installed on linux/arm64 cp311") and rc == 1
    # One package left out of the lock: it is found below the package that needs it.
    (tmp_path / "requirements.txt").write_text(
        "".join(line for line in lock.splitlines(True) if not line.startswith("h11=="))
    )
    _, partial = check(cli, tmp_path)
    # (httpcore2 and uvicorn both need it; the chain is the one from the first of them in the file)
    assert tree(partial)["h11"]["via"] == ["httpcore2", "h11"] and resolved(partial, AMD) == amd


def test_pip_backtracks_to_an_older_release(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    # fastapi's newest releases need starlette newer than the pin: pip settles on an older fastapi.
    reqs = ["fastapi>=0.115", "starlette==1.4.1"]
    rc, report = check(cli, repo(tmp_path, "\n".join(reqs) + "\n", server))
    fastapi = tree(report)["fastapi"]
    assert fastapi["resolved"][ARM] == fastapi["resolved"][AMD] != "0.165.0"
    for target, label in ((Target("linux/amd64", "3.11"), AMD), (Target("linux/arm64", "3.11"), ARM)):
        assert resolved(report, label) == pip_resolves(reqs, target)
    assert rc == 0 and not [f for f in report["findings"] if f["rule"] in ("ARCH110", "ARCH112")]


def test_a_constraints_file_narrows_a_package_below_the_requirements(
    cli: Cli, server: IndexServer, tmp_path: Path
) -> None:
    # pip applies -c lines to every package of the install set, not only to those written in the
    # file: starlette is fastapi's dependency, and its constraint sends pip back to an older fastapi.
    root = repo(tmp_path, "-c constraints.txt\nfastapi>=0.115\n", server)
    (root / "constraints.txt").write_text("starlette==1.4.1\nnumpy<1  # constrains nothing installed\n")
    rc, report = check(cli, root)
    deps = tree(report)
    # a constraint alone installs nothing (the constraints file's own scan checks its lines)
    assert all(d["path"] == "constraints.txt" for d in report["dependencies"] if d["name"] == "numpy")
    assert deps["starlette"]["resolved"] == {ARM: "1.4.1", AMD: "1.4.1"} and deps["starlette"]["direct"] is False
    assert deps["fastapi"]["resolved"][ARM] != "0.165.0"
    for target, label in ((Target("linux/amd64", "3.11"), AMD), (Target("linux/arm64", "3.11"), ARM)):
        assert resolved(report, label) == pip_resolves(["-r", str(root / "requirements.txt")], target)
    assert rc == 0

    # A marker that holds on no target leaves the newest fastapi; the cached tree is not reused.
    (root / "constraints.txt").write_text('starlette==1.4.1; python_version < "3.8"\n')
    _, report = check(cli, root)
    assert tree(report)["fastapi"]["resolved"][ARM] == "0.165.0"
    assert resolved(report, ARM) == pip_resolves(["fastapi>=0.115"], Target("linux/arm64", "3.11"))


def test_a_constraint_no_release_meets(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    root = repo(tmp_path, "-c constraints.txt\nfastapi>=0.115\nstarlette>=0.40\n", server)
    (root / "constraints.txt").write_text("starlette<0.1\n")
    rc, report = check(cli, root)
    assert pip_resolves(["-r", str(root / "requirements.txt")], Target("linux/arm64", "3.11")) is None
    # Not an arm64 gap (nothing installs anywhere): an info on the line, the gate stays open.
    (f,) = [f for f in report["findings"] if f["path"] == "requirements.txt" and f["rule"] == "ARCH109"]
    assert rc == 0 and f["line"] == 3 and "<0.1" in f["message"] and "not an arm64 gap" in f["message"]


def test_a_file_and_its_includes_are_one_install_set(cli: Cli, server: IndexServer, tmp_path: Path) -> None:
    # requirements-base.txt is checked on its own, and installed with requirements.txt, which
    # includes it: pip resolves both files' lines together, so the base's starlette pin sends
    # it back to an older fastapi.
    root = repo(tmp_path, "-r requirements-base.txt\nfastapi>=0.115\n", server)
    (root / "requirements-base.txt").write_text("starlette==1.4.1\n")
    rc, report = check(cli, root)
    fastapi = tree(report)["fastapi"]
    assert fastapi["path"] == "requirements.txt" and fastapi["resolved"][ARM] != "0.165.0"
    for target, label in ((Target("linux/amd64", "3.11"), AMD), (Target("linux/arm64", "3.11"), ARM)):
        assert resolved(report, label) == pip_resolves(["-r", str(root / "requirements.txt")], target)
    # The base's own line is reported once, on the base.
    assert [d["path"] for d in report["dependencies"] if d["name"] == "starlette"] == ["requirements-base.txt"]
    assert rc == 0
