"""Wheels and wheelhouses: real PyPI wheels (markupsafe, x86_64 and aarch64), tags against
contents, grouping by (name, version), and zip bombs made here, bounded."""

from __future__ import annotations

import shutil
import struct
import tarfile
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from archlint.binaries.interface import Limits
from archlint.binaries.wheel import parse_name
from archlint.engine import Options, run
from archlint.scanners.binaries import BinaryScanner
from tests.conftest import FIXTURES, CliResult

HOUSE = FIXTURES / "elf" / "wheelhouse"
X86_302 = HOUSE / "MarkupSafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
ARM_302 = HOUSE / "MarkupSafe-3.0.2-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
X86_215 = HOUSE / "MarkupSafe-2.1.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
ELF = FIXTURES / "elf"


def findings(cli: Callable[..., CliResult], path: Path) -> list[dict]:
    res = cli(["check", str(path), "--format", "json", "--offline", "--select", "ARCH0,ARCH5"])
    return list(res.json()["findings"])


def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_wheel_names() -> None:
    n = parse_name(X86_215.name)
    assert n is not None and (n.name, n.version, n.x86, n.arm64, n.pure) == ("markupsafe", "2.1.5", True, False, False)
    a = parse_name(ARM_302.name)
    assert a is not None and a.arm64 and not a.x86
    assert parse_name("six-1.16.0-py2.py3-none-any.whl").pure  # type: ignore[union-attr]
    assert parse_name("not-a-wheel.whl") is None


def test_wheelhouse_groups_by_name_and_version(cli: Callable[..., CliResult]) -> None:
    found = findings(cli, HOUSE)
    assert [(f["rule"], Path(f["path"]).name) for f in found] == [("ARCH505", X86_215.name)]
    assert "markupsafe 2.1.5" in found[0]["message"] and found[0]["severity"] == "error"
    # 3.0.2 has an aarch64 wheel beside its x86_64 one: nothing to report.
    assert not any("3.0.2" in f["message"] for f in found)


def test_wheelhouse_evidence_only_for_the_x86_only_version() -> None:
    res = run(Options(paths=[str(HOUSE)], offline=True, no_cache=True))
    ev = [e for e in res.facts.evidence if e.rule.startswith("ARCH5")]
    assert ev and all(e.blocks_arm64 for e in ev)
    assert {Path(e.path).name for e in ev} == {X86_215.name}
    assert all("!markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so" in e.reason for e in ev)


def test_sdist_beside_makes_it_a_warning(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    shutil.copy(X86_215, root)
    with tarfile.open(root / "markupsafe-2.1.5.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("markupsafe-2.1.5/PKG-INFO")
        tf.addfile(info)
    [f] = findings(cli, root)
    assert f["rule"] == "ARCH505" and f["severity"] == "warning" and "sdist" in f["message"]


def test_aarch64_tag_holding_x86_code_is_an_error(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    shutil.copy(X86_302, root / ARM_302.name)  # x86-64 content under the aarch64 name
    found = findings(cli, root)
    mismatch = [f for f in found if f["rule"] == "ARCH504"]
    assert len(mismatch) == 1 and mismatch[0]["severity"] == "error"
    assert "aarch64" in mismatch[0]["message"] and "(x86-64)" in mismatch[0]["message"]
    # It does not count as an arm64 wheel: the version is still x86-only.
    assert any(f["rule"] == "ARCH505" for f in found)
    res = run(Options(paths=[str(root)], offline=True, no_cache=True))
    assert any(e.rule == "ARCH504" and e.blocks_arm64 for e in res.facts.evidence)


def test_pure_tag_holding_machine_code(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    shutil.copy(ARM_302, root / "markupsafe-3.0.2-py3-none-any.whl")
    [f] = findings(cli, root)
    # aarch64 code under `any`: wrong, but it does not block arm64.
    assert f["rule"] == "ARCH504" and f["severity"] == "warning" and "pure (any)" in f["message"]


def test_x86_tag_holding_aarch64_code_is_a_warning(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    shutil.copy(ARM_302, root / X86_302.name)
    shutil.copy(ARM_302, root)
    [f] = findings(cli, root)
    assert (f["rule"], f["severity"]) == ("ARCH504", "warning")


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_x86_only_wheel_members_are_read_deeply(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    _wheel(
        root / "fastdot-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        {
            "fastdot/__init__.py": b"",
            "fastdot/_core.cpython-311-x86_64-linux-gnu.so": (ELF / "x86_64/libuses_mkl.so").read_bytes(),
            "fastdot.libs/libkernel-ab12.so": (ELF / "x86_64/libkernel_v3.so").read_bytes(),
            "fastdot-1.0.dist-info/METADATA": b"Name: fastdot\n",
        },
    )
    found = findings(cli, root)
    rules = sorted(f["rule"] for f in found)
    assert rules == ["ARCH502", "ARCH503", "ARCH505"]
    arch502 = next(f for f in found if f["rule"] == "ARCH502")
    assert "libmkl_rt.so.2" in arch502["message"] and "libiomp5.so" in arch502["message"]


def test_corrupt_wheel_is_a_parse_error(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    (root / X86_215.name).write_bytes(X86_215.read_bytes()[:5000])
    found = findings(cli, root)
    # Unreadable contents are a parse error; the file name alone still says x86_64-only.
    assert sorted(f["rule"] for f in found) == ["ARCH002", "ARCH505"]
    assert "malformed wheel: not a readable zip" in found[0]["message"]


def test_corrupt_member_data_is_a_parse_error(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    data = bytearray(X86_215.read_bytes())
    with zipfile.ZipFile(X86_215) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(".so"))
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    data[start : start + 64] = b"\xff" * 64  # garbage deflate stream
    (root / X86_215.name).write_bytes(bytes(data))
    found = findings(cli, root)
    assert any(f["rule"] == "ARCH002" for f in found)


def test_zip_bomb_by_ratio_is_capped_with_bounded_memory(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    bomb = root / "bomb-1.0-cp311-cp311-manylinux_2_17_aarch64.whl"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("bomb/data.so", "w") as out:
        chunk = bytes(1 << 20)
        for _ in range(64):  # 64 MiB of zeros, ~64 KiB compressed
            out.write(chunk)
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    found = findings(cli, root)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [f["rule"] for f in found] == ["ARCH508"]
    assert "compression ratio" in found[0]["message"]
    assert peak < 16 << 20


def test_member_count_cap(tmp_path: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BinaryScanner, "limits", Limits(max_zip_members=50))
    root = repo(tmp_path)
    _wheel(root / "many-1.0-py3-none-any.whl", {f"many/m{i}.py": b"" for i in range(60)})
    [f] = findings(cli, root)
    assert f["rule"] == "ARCH508" and "60 members (more than 50)" in f["message"]


def test_overlapping_entries_bomb(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    """Fifield-style: several central-directory records pointing at one local file."""
    root = repo(tmp_path)
    plain = _wheel(tmp_path / "plain.zip", {"o/a.so": bytes(1000)})
    data = plain.read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_off = struct.unpack_from("<II", data, eocd + 12)
    record = data[cd_off : cd_off + cd_size]
    name_len = struct.unpack_from("<H", record, 28)[0]
    second = record[:46] + b"o/b.so" + record[46 + name_len :]  # same length name, same local offset
    new_cd = record + second
    tail = bytearray(data[eocd:])
    struct.pack_into("<HHII", tail, 8, 2, 2, len(new_cd), cd_off)
    (root / "overlap-1.0-py3-none-any.whl").write_bytes(data[:cd_off] + new_cd + bytes(tail))
    found = findings(cli, root)
    assert [f["rule"] for f in found] == ["ARCH508"] and "overlap" in found[0]["message"]


def test_total_size_cap(tmp_path: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BinaryScanner, "limits", Limits(max_zip_total=4 << 20))
    root = repo(tmp_path)
    _wheel(root / "big-1.0-py3-none-any.whl", {"big/a.bin": bytes(3 << 20), "big/b.bin": bytes(3 << 20)})
    [f] = findings(cli, root)
    assert f["rule"] == "ARCH508" and "members declare 6 MiB uncompressed (more than 4 MiB)" in f["message"]
