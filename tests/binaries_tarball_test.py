"""`docker save` / `docker export` tarballs, built here with tarfile from the real ELF fixtures,
streamed (nested layers included) and never unpacked; tar bombs and corrupt streams."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_support.corpus import tar_bytes

from archlint.binaries.interface import Limits
from archlint.binaries.tarball import TarReader
from archlint.engine import Options, run
from archlint.scanners.binaries import BinaryScanner
from tests.conftest import FIXTURES, CliResult

ELF = FIXTURES / "elf"


_tar = tar_bytes


def _blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def docker_save(layers: list[dict[str, bytes]], arch: str) -> bytes:
    """The OCI layout `docker save` writes since Docker 25: index.json, manifest.json and blobs,
    with gzip-compressed layer tars and a config that names the platform."""
    blobs: dict[str, bytes] = {}
    layer_digests = []
    for files in layers:
        digest, data = _blob(gzip.compress(_tar(files)))
        blobs[digest] = data
        layer_digests.append(digest)
    config = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": layer_digests},
              "config": {"Entrypoint": ["/usr/bin/tool"]}}  # fmt: skip
    cfg_digest, cfg = _blob(json.dumps(config).encode())
    blobs[cfg_digest] = cfg
    manifest = [{"Config": f"blobs/sha256/{cfg_digest[7:]}", "RepoTags": ["acme/api:1"],
                 "Layers": [f"blobs/sha256/{d[7:]}" for d in layer_digests]}]  # fmt: skip
    files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": b'{"schemaVersion": 2}'}
    files.update({f"blobs/sha256/{d[7:]}": data for d, data in blobs.items()})
    files["manifest.json"] = json.dumps(manifest).encode()
    return _tar(files)


def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def check(cli: Callable[..., CliResult], path: Path) -> list[dict]:
    res = cli(["check", str(path), "--format", "json", "--offline", "--select", "ARCH0,ARCH5"])
    return list(res.json()["findings"])


def test_docker_save_layers_are_streamed(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    image = docker_save(
        [
            {"usr/bin/tool": (ELF / "x86_64/hello").read_bytes(), "etc/os-release": b"ID=debian\n"},
            {"opt/app/lib/libsolver.so": (ELF / "x86_64/libuses_mkl.so").read_bytes(), "opt/app/README": b"hello"},
        ],
        arch="amd64",
    )
    (root / "image.tar").write_bytes(image)
    found = check(cli, root)
    by_rule = {f["rule"]: f for f in found}
    assert set(by_rule) == {"ARCH501", "ARCH502"}
    assert all(f["path"] == "image.tar" for f in found)
    msg = by_rule["ARCH501"]["message"]
    assert "3 x86 binaries" in msg and "linux/amd64" in msg  # two ELF files and the image config
    assert "!usr/bin/tool" in msg and "libmkl_rt.so.2" in by_rule["ARCH502"]["message"]
    res = run(Options(paths=[str(root)], offline=True, no_cache=True))
    reasons = [e.reason for e in res.facts.evidence if e.rule.startswith("ARCH5")]
    assert all(e.path == "image.tar" and e.blocks_arm64 for e in res.facts.evidence if e.rule.startswith("ARCH5"))
    assert any("opt/app/lib/libsolver.so" in r and "libmkl_rt.so.2" in r for r in reasons)


def test_arm64_image_is_not_a_finding(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    image = docker_save([{"usr/bin/tool": (ELF / "aarch64/hello").read_bytes()}], arch="arm64")
    (root / "image.tar").write_bytes(image)
    assert check(cli, root) == []
    reader = TarReader(io.BytesIO(image), Limits())
    members = [m.name for m in reader.members()]
    assert members == [next(n for n in members if n.endswith("!usr/bin/tool"))]
    assert [c.platform for c in reader.configs] == ["linux/arm64"]


def test_docker_export_flat_filesystem(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    fs = {"./usr/lib/x86_64-linux-gnu/libhello.so": (ELF / "x86_64/libhello.so").read_bytes(),
          "./usr/lib/libarm.so": (ELF / "aarch64/libhello.so").read_bytes(),
          "./usr/bin/armhf-tool": (ELF / "armhf/hello").read_bytes()}  # fmt: skip
    (root / "rootfs.tar.gz").write_bytes(_tar(fs, "w:gz"))
    found = check(cli, root)
    assert sorted(f["rule"] for f in found) == ["ARCH501", "ARCH506"]
    arch501 = next(f for f in found if f["rule"] == "ARCH501")
    assert "usr/lib/x86_64-linux-gnu/libhello.so" in arch501["message"]


def test_tar_bomb_is_capped(tmp_path: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BinaryScanner, "limits", Limits(tar_ratio_floor=1 << 20, max_tar_ratio=100))
    root = repo(tmp_path)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for i in range(4):
            info = tarfile.TarInfo(f"zeros{i}")
            info.size = 4 << 20
            tf.addfile(info, io.BytesIO(bytes(info.size)))
        info = tarfile.TarInfo("usr/bin/late")
        data = (ELF / "x86_64/hello").read_bytes()
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (root / "bomb.tar.gz").write_bytes(buf.getvalue())
    found = check(cli, root)
    assert [f["rule"] for f in found] == ["ARCH508"]
    assert "compression ratio above 100" in found[0]["message"]


def test_member_cap(tmp_path: Path, cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BinaryScanner, "limits", Limits(max_tar_members=10))
    root = repo(tmp_path)
    (root / "many.tar").write_bytes(_tar({f"f{i}": b"x" for i in range(20)}))
    [f] = check(cli, root)
    assert f["rule"] == "ARCH508" and "more than 10 members" in f["message"]


def test_nesting_deeper_than_an_image_is_not_followed(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    inner = _tar({"bin/x": (ELF / "x86_64/hello").read_bytes()})
    (root / "nest.tar").write_bytes(_tar({"a.tar": _tar({"b.tar": inner})}))
    [f] = check(cli, root)
    assert f["rule"] == "ARCH508" and "a.tar!b.tar" in f["message"]


def test_zstd_layer_is_reported_unchecked(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    (root / "image.tar").write_bytes(_tar({"blobs/sha256/abc": b"\x28\xb5\x2f\xfd" + bytes(200)}))
    [f] = check(cli, root)
    assert f["rule"] == "ARCH508" and "zstd" in f["message"]


def test_corrupt_and_truncated_streams(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    root = repo(tmp_path)
    noise = random.Random(0).randbytes(20000)  # incompressible: the cut lands inside it
    good = _tar({"usr/bin/tool": (ELF / "x86_64/hello").read_bytes(), "noise": noise}, "w:gz")
    (root / "truncated.tar.gz").write_bytes(good[:-5000])
    (root / "garbage.tgz").write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    found = check(cli, root)
    by_path = {(f["path"], f["rule"]) for f in found}
    assert ("garbage.tgz", "ARCH002") in by_path
    assert ("truncated.tar.gz", "ARCH002") in by_path
    # What was read before the damage still counts.
    assert ("truncated.tar.gz", "ARCH501") in by_path
