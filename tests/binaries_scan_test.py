"""`archlint check` over real binaries: what is reported where, the evidence placement gets, and
grouping inside virtualenvs, site-packages and exported container filesystems."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from archlint.engine import Options, run
from tests.conftest import FIXTURES, CliResult

ELF = FIXTURES / "elf"


def check(cli: Callable[..., CliResult], *paths: Path, cwd: Path | None = None) -> CliResult:
    return cli(["check", *map(str, paths), "--format", "json", "--offline", "--select", "ARCH0,ARCH5"], cwd=cwd)


def test_fixture_tree(cli: Callable[..., CliResult]) -> None:
    res = check(cli, ELF)
    assert res.rc == 1
    report = res.json()["findings"]
    found = {(f["rule"], f["path"].removeprefix("fixtures/elf/")) for f in report}
    sev = {(f["rule"], f["path"].removeprefix("fixtures/elf/")): f["severity"] for f in report}
    blockers = {"x86_64/hello.o", "x86_64/libkernel_v3.so", "x86_64/libkernel_v3.a", "x86_64/libuses_mkl.so",
                "vendor/bin/tool-linux", "mixed/libmixed.a"}  # fmt: skip
    # The fixture tree is laid out per architecture: these have an aarch64 build at the same path.
    per_arch = {"x86_64/hello", "x86_64/libhello.so", "x86_64/libhello.a", "i386/hello", "i386/libhello.so",
                "i386/libhello.a"}  # fmt: skip
    assert {p for r, p in found if r == "ARCH501"} == blockers | per_arch
    assert {p for p in blockers if sev[("ARCH501", p)] == "error"} == blockers
    assert {p for p in per_arch if sev[("ARCH501", p)] == "info"} == per_arch
    assert {p for r, p in found if r == "ARCH506"} == {"armhf/hello", "armhf/libhello.so", "armhf/libhello.a"}
    assert {p for r, p in found if r == "ARCH503"} == {"x86_64/libkernel_v3.so", "x86_64/libkernel_v3.a"}
    assert {p for r, p in found if r == "ARCH502"} == {"x86_64/libuses_mkl.so"}
    x86_wheel = "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert ("ARCH505", f"wheelhouse/{x86_wheel}") in found
    assert not any(p.startswith("aarch64/") for _, p in found)  # an arm64 binary is not a finding
    assert {r for r, _ in found} == {"ARCH501", "ARCH502", "ARCH503", "ARCH505", "ARCH506"}


def test_per_arch_vendoring(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    (tmp_path / ".git").mkdir()
    for arch, src in (("amd64", "x86_64/hello"), ("arm64", "aarch64/hello")):
        (tmp_path / f"vendor/linux-{arch}").mkdir(parents=True)
        shutil.copy(ELF / src, tmp_path / f"vendor/linux-{arch}/tool")
    [f] = check(cli, tmp_path).json()["findings"]
    assert (f["rule"], f["severity"], f["path"]) == ("ARCH501", "info", "vendor/linux-amd64/tool")
    assert "vendor/linux-arm64/tool" in f["message"] and "TARGETARCH" in f["message"]
    assert not [e for e in run(Options(paths=[str(tmp_path)], offline=True, no_cache=True)).facts.evidence
                if e.rule.startswith("ARCH5")]  # fmt: skip
    (tmp_path / "vendor/linux-arm64/tool").unlink()
    [f] = check(cli, tmp_path).json()["findings"]
    assert (f["rule"], f["severity"]) == ("ARCH501", "error")


def test_messages_name_machine_interpreter_and_libraries(cli: Callable[..., CliResult]) -> None:
    found = check(cli, ELF / "vendor", ELF / "x86_64/libuses_mkl.so", ELF / "mixed").json()["findings"]
    msgs = {(f["rule"], f["path"].rsplit("/", 1)[-1]): f["message"] for f in found}
    tool = msgs[("ARCH501", "tool-linux")]
    assert "ELF 64-bit LSB executable (PIE), x86-64" in tool and "/lib64/ld-linux-x86-64.so.2" in tool
    mkl = [f["message"] for f in found if f["rule"] == "ARCH502"]
    assert len(mkl) == 2 and any("libiomp5.so" in m and "libgomp" in m for m in mkl)
    # A mixed static archive: only its x86-64 member is reported.
    mixed = msgs[("ARCH501", "libmixed.a")]
    assert "hello_amd64.o" in mixed and "hello_arm64.o" not in mixed


def test_evidence_for_placement() -> None:
    res = run(Options(paths=[str(ELF)], offline=True, no_cache=True))
    ev = [e for e in res.facts.evidence if e.rule.startswith("ARCH5")]
    paths = {e.path.removeprefix("fixtures/elf/") for e in ev}
    assert "vendor/bin/tool-linux" in paths and "x86_64/libuses_mkl.so" in paths
    assert not any(p.startswith(("aarch64/", "armhf/")) for p in paths)
    assert "x86_64/libhello.so" not in paths  # its aarch64 build sits in aarch64/
    assert all(e.blocks_arm64 and e.line is None for e in ev)
    mixed = [e for e in ev if e.path.endswith("mixed/libmixed.a")]
    assert [e.reason.split(":")[0] for e in mixed] == ["libmixed.a!hello_amd64.o"]
    assert {e.rule for e in ev if e.path.endswith("libuses_mkl.so")} == {"ARCH501", "ARCH502"}


def _venv(root: Path) -> Path:
    venv = root / "venv"
    site = venv / "lib/python3.11/site-packages"
    (site / "fastpkg/sub").mkdir(parents=True)
    (site / "fastpkg.libs").mkdir()
    (site / "armpkg").mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    shutil.copy(ELF / "x86_64/libhello.so", site / "fastpkg/_a.cpython-311-x86_64-linux-gnu.so")
    shutil.copy(ELF / "x86_64/libhello.so", site / "fastpkg/sub/_b.cpython-311-x86_64-linux-gnu.so")
    shutil.copy(ELF / "x86_64/libkernel_v3.so", site / "fastpkg.libs/libkernel-1234.so")
    shutil.copy(ELF / "aarch64/libhello.so", site / "armpkg/_c.cpython-311-aarch64-linux-gnu.so")
    return venv


def test_site_packages_reported_once_per_distribution(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    (tmp_path / ".git").mkdir()
    _venv(tmp_path)
    found = check(cli, tmp_path).json()["findings"]
    arch501 = [f for f in found if f["rule"] == "ARCH501"]
    assert len(arch501) == 1
    f = arch501[0]
    assert f["path"] == "venv/lib/python3.11/site-packages/fastpkg"
    assert f["message"].startswith("fastpkg in venv/lib/python3.11/site-packages: 3 x86 binaries (x86-64)")
    assert "fastpkg.libs/libkernel-1234.so" in f["message"]
    assert [g["rule"] for g in found if g["rule"] != "ARCH501"] == ["ARCH503"]
    assert not any("armpkg" in g["message"] for g in found)
    # Evidence still names every file, so placement can match each to its build context.
    res = run(Options(paths=[str(tmp_path)], offline=True, no_cache=True))
    assert len({e.path for e in res.facts.evidence if e.rule == "ARCH501"}) == 3


def test_a_site_packages_directory_checked_on_its_own(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    # No repository around it (a Lambda layer, an unpacked image layer): paths start at the
    # distribution, and it is still one finding per distribution.
    site = _venv(tmp_path) / "lib/python3.11/site-packages"
    found = check(cli, site).json()["findings"]
    assert [(f["path"], f["message"].split(":")[0]) for f in found if f["rule"] == "ARCH501"] == [
        ("fastpkg", "fastpkg in site-packages")
    ]


def test_dot_venv_is_skipped_unless_named(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    (tmp_path / ".git").mkdir()
    _venv(tmp_path).rename(tmp_path / ".venv")
    assert check(cli, tmp_path).json()["findings"] == []
    named = check(cli, tmp_path / ".venv").json()["findings"]
    assert [f["path"] for f in named if f["rule"] == "ARCH501"] == [".venv/lib/python3.11/site-packages/fastpkg"]


def test_exported_container_filesystem(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    (tmp_path / ".git").mkdir()
    fs = tmp_path / "export"
    (fs / "etc").mkdir(parents=True)
    (fs / "usr/bin").mkdir(parents=True)
    (fs / "usr/lib").mkdir(parents=True)
    (fs / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    shutil.copy(ELF / "x86_64/hello", fs / "usr/bin/hello")
    shutil.copy(ELF / "x86_64/libhello.so", fs / "usr/lib/libhello.so")
    shutil.copy(ELF / "x86_64/libuses_mkl.so", fs / "usr/lib/libsolver.so")
    found = check(cli, tmp_path).json()["findings"]
    assert sorted(f["rule"] for f in found) == ["ARCH501", "ARCH502"]
    arch501 = next(f for f in found if f["rule"] == "ARCH501")
    assert arch501["path"] == "export"
    assert arch501["message"].startswith("container filesystem export: 3 x86 binaries")
    assert "usr/bin/hello" in arch501["message"]


def test_suppression_by_config(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "bin").mkdir()
    shutil.copy(ELF / "x86_64/hello", tmp_path / "bin/tool")
    (tmp_path / "archlint.toml").write_text('[per-file-ignores]\n"bin/*" = ["ARCH501"]\n')
    res = cli(["check", str(tmp_path), "--format", "json", "--offline"], cwd=tmp_path)
    assert not any(f["rule"] == "ARCH501" for f in res.json()["findings"])
