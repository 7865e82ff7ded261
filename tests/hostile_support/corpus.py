"""A hostile-input corpus, written on demand into a directory: archives, ELF files, YAML,
Dockerfiles and lockfiles shaped the way an attacker (or a broken tool) shapes them.

Each case writes its files under `root` (a fresh directory with a `.git`, so finding paths are
relative to it) and says what a correct run reports: the rule and path of each expected finding
(with its line where the file has one) and the workloads that must still be seen. `scale` grows
the inputs whose cost grows with size (the benchmark uses the worst sizes; the tests use sizes
that are cheap to write yet far past every cap).

Nothing here is downloaded: compressed bombs are written by repeating one deflate block after a
full flush (identical input after a reset dictionary compresses to identical bytes), so a 3 GiB
member costs 3 MB of disk and a fraction of a second to write.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ELF_FIXTURES = REPO / "fixtures" / "elf"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Expect:
    rule: str
    path: str
    line: int | None = None  # None: any line (binary files have none)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # the file kind (archlint.scanning) the case attacks
    build: Callable[[Path, int], list[Expect]]
    select: str = "ARCH0,ARCH1,ARCH2,ARCH3,ARCH5"
    workloads: tuple[str, ...] = ()  # workload ids that must be in the report
    default_scale: int = 1
    bench_scale: int = 1
    in_tests: bool = True  # False: too slow for the suite at any size past the caps (the bench runs it)
    extra_args: tuple[str, ...] = field(default=())


def repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    return root


# --- gzip streams with huge, cheap runs ------------------------------------------------------


class GzipWriter:
    """A gzip file written piecewise; `repeat` appends `count` copies of a 1 MiB chunk for the
    cost of compressing it once."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "wb")  # closed in close()
        self._fh.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
        self._z = zlib.compressobj(6, zlib.DEFLATED, -15)
        self._crc = 0
        self._size = 0

    def write(self, data: bytes) -> None:
        self._fh.write(self._z.compress(data) + self._z.flush(zlib.Z_FULL_FLUSH))
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)

    def repeat(self, byte: bytes, n: int) -> None:
        """Append `n` copies of `byte`."""
        chunk = byte * CHUNK
        full, rest = divmod(n, CHUNK)
        if full:
            block = self._z.compress(chunk) + self._z.flush(zlib.Z_FULL_FLUSH)
            for _ in range(full):
                self._fh.write(block)
                self._crc = zlib.crc32(chunk, self._crc)
            self._size += full * CHUNK
        if rest:
            self.write(byte * rest)

    def close(self) -> None:
        self._fh.write(self._z.flush(zlib.Z_FINISH))
        self._fh.write(struct.pack("<II", self._crc & 0xFFFFFFFF, self._size & 0xFFFFFFFF))
        self._fh.close()


def _header(name: str, size: int, type_: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = type_
    info.mode = 0o755
    return info.tobuf(format=tarfile.GNU_FORMAT)  # GNU: sizes past 8 GiB in base-256


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 512)


def _pax_record(key: str, value: bytes) -> bytes:
    body = f" {key}=".encode() + value + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def tar_bytes(files: dict[str, bytes], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) as tf:  # type: ignore[call-overload]
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def x86_so() -> bytes:
    return (ELF_FIXTURES / "x86_64" / "libhello.so").read_bytes()


# --- tar --------------------------------------------------------------------------------------


def _huge_meta_header(type_: bytes) -> Callable[[Path, int], list[Expect]]:
    """A .tar.gz whose first header is a GNU long name ('L') or a PAX header ('x'/'g') that
    declares 3 GiB of (valid, highly compressible) data, with an x86 library after it."""

    def build(root: Path, scale: int) -> list[Expect]:
        size = 3 * 1024**3 // scale
        out = GzipWriter(repo(root) / "image.tar.gz")
        if type_ == tarfile.GNUTYPE_LONGNAME:
            out.write(_header("././@LongLink", size, type_))
            out.repeat(b"a", size - 1)
            out.write(b"\0" + b"\0" * (-size % 512))
        else:
            prefix = f"{size} path=".encode()
            out.write(_header("PaxHeaders/x", size, type_) + prefix)
            out.repeat(b"a", size - len(prefix) - 1)
            out.write(b"\n" + b"\0" * (-size % 512))
        so = x86_so()
        out.write(_header("usr/lib/libhello.so", len(so)) + _padded(so) + b"\0" * 1024)
        out.close()
        return [Expect("ARCH002", "image.tar.gz")]

    return build


def _tar_meta_chain(root: Path, scale: int) -> list[Expect]:
    """Thousands of small PAX headers in a row (tarfile follows each by recursion)."""
    n = 5000 * scale
    rec = _pax_record("comment", b"x")
    hdr = _header("PaxHeaders/x", len(rec), tarfile.XHDTYPE) + _padded(rec)
    so = x86_so()
    data = hdr * n + _header("usr/lib/libhello.so", len(so)) + _padded(so) + b"\0" * 1024
    (repo(root) / "chain.tar").write_bytes(data)
    return [Expect("ARCH002", "chain.tar")]


def _tar_pax_negative_size(root: Path, scale: int) -> list[Expect]:
    """A PAX header that sets the next member's size to -5 (tarfile accepts the number)."""
    rec = _pax_record("size", b"-5")
    so = x86_so()
    data = (
        _header("PaxHeaders/evil", len(rec), tarfile.XHDTYPE)
        + _padded(rec)
        + _header("usr/bin/evil", 0)
        + _header("usr/lib/libhello.so", len(so))
        + _padded(so)
        + b"\0" * 1024
    )
    (repo(root) / "negative.tar").write_bytes(data)
    return [Expect("ARCH002", "negative.tar")]


def _tar_endless_size(root: Path, scale: int) -> list[Expect]:
    """A 6 KiB tar whose first member, of a type tarfile does not know ("Z"), declares 10^29
    bytes (a PAX `size`), and another whose member declares 2^86 (a GNU base-256 size field):
    tarfile skips such a member by reading forward block by block without looking for the end
    of the data, so these never finished."""
    so = x86_so()
    rec = _pax_record("size", b"1" + b"0" * 29)
    data = _header("PaxHeaders/x", len(rec), tarfile.XHDTYPE) + _padded(rec) + _header("odd", 5, b"Z")
    (repo(root) / "endless.tar").write_bytes(data + _padded(b"hello") + _header("lib.so", len(so)) + _padded(so))
    big = bytearray(_header("odd", 5, b"Z"))
    big[124:136] = b"\x80" + (1 << 86).to_bytes(11, "big")  # base-256 size
    big[148:156] = b"%06o\0 " % (256 + sum(big[:148]) + sum(big[156:512]))
    (root / "endless2.tar").write_bytes(bytes(big) + _padded(b"hello") + b"\0" * 1024)
    return [Expect("ARCH002", "endless.tar"), Expect("ARCH002", "endless2.tar")]


def _docker_save_big_first_member(root: Path, scale: int) -> list[Expect]:
    """A plain (uncompressed) `docker save` tarball whose first member is a 40 MiB blob of
    incompressible data, with an x86 library in the layer after it: nothing about it is a bomb."""
    size = 40 * 1024 * 1024 * scale
    layer = tar_bytes({"usr/lib/libhello.so": x86_so(), "etc/os-release": b"ID=debian\n"})
    path = repo(root) / "image.tar"
    with open(path, "wb") as fh:
        fh.write(_header("blobs/sha256/" + "a" * 64, size))
        for _ in range(size // CHUNK):  # a gzip layer blob: incompressible
            fh.write(os.urandom(CHUNK))
        fh.write(_header("blobs/sha256/" + "b" * 64, len(layer)) + _padded(layer))
        manifest = json.dumps([{"Config": "", "Layers": ["blobs/sha256/" + "b" * 64]}]).encode()
        fh.write(_header("manifest.json", len(manifest)) + _padded(manifest) + b"\0" * 1024)
    return [Expect("ARCH501", "image.tar")]


def _gzip_layer_sparse_file(root: Path, scale: int) -> list[Expect]:
    """A .tar.gz export whose first member is a 200 MiB zero-filled file (a preallocated database
    file: ratio ~1000, yet a real image), with an x86 library after it."""
    size = 200 * 1024 * 1024 * scale
    out = GzipWriter(repo(root) / "export.tar.gz")
    out.write(_header("var/lib/db/prealloc.dat", size))
    out.repeat(b"\0", size)
    so = x86_so()
    out.write(_header("usr/lib/libhello.so", len(so)) + _padded(so) + b"\0" * 1024)
    out.close()
    return [Expect("ARCH501", "export.tar.gz")]


def _bomb_layers(count: int, size: int, then_x86: bool) -> Callable[[Path, int], list[Expect]]:
    """`docker save` with `count` gzip layers that are bombs (`size` bytes of zeros each, ~1000:1),
    then a good layer holding an x86 library."""

    def build(root: Path, scale: int) -> list[Expect]:
        repo(root)
        bomb = root / "bomb.tmp"
        out = GzipWriter(bomb)
        out.write(_header("zeros", size))
        out.repeat(b"\0", size)
        out.write(b"\0" * 1024)
        out.close()
        layer = tar_bytes({"usr/lib/libhello.so": x86_so()})
        with tarfile.open(root / "image.tar", "w", format=tarfile.GNU_FORMAT) as tf:
            for i in range(count):
                with open(bomb, "rb") as fh:
                    info = tarfile.TarInfo(f"blobs/sha256/{i:064x}")
                    info.size = bomb.stat().st_size
                    tf.addfile(info, fh)
            info = tarfile.TarInfo("blobs/sha256/" + "d" * 64)
            info.size = len(layer)
            tf.addfile(info, io.BytesIO(layer))
        bomb.unlink()
        return [Expect("ARCH508", "image.tar")] + ([Expect("ARCH501", "image.tar")] if then_x86 else [])

    return build


def _gzip_bomb(root: Path, scale: int) -> list[Expect]:
    """A real tar bomb: 40 GiB of zeros in one member of a 40 MB .tar.gz."""
    size = 40 * 1024**3 // scale
    out = GzipWriter(repo(root) / "bomb.tar.gz")
    out.write(_header("zeros", size))
    out.repeat(b"\0", size)
    out.write(b"\0" * 1024)
    out.close()
    return [Expect("ARCH508", "bomb.tar.gz")]


# --- ELF ----------------------------------------------------------------------------------------


def _elf_shnum_escape(root: Path, scale: int) -> list[Expect]:
    """A 4 KiB x86-64 object with e_shnum = 0 and section 0's sh_size = 0xffffffff: the ELF
    extended-numbering escape that claims four billion section headers."""
    data = bytearray((ELF_FIXTURES / "x86_64" / "hello.o").read_bytes()[:64])
    struct.pack_into("<Q", data, 0x28, 64)  # e_shoff: right after the header
    struct.pack_into("<HHH", data, 0x3A, 64, 0, 0xFFFF)  # e_shentsize, e_shnum = 0, e_shstrndx = SHN_XINDEX
    section0 = bytearray(64)
    struct.pack_into("<Q", section0, 0x20, 0xFFFFFFFF)  # sh_size: the real section count
    data += section0
    data += b"\0" * (4096 - len(data))
    (repo(root) / "lib").mkdir()
    with open(root / "lib" / "evil.o", "wb") as fh:
        fh.write(data)
        # Sparse: 4 KiB on disk, yet large enough that every claimed section header "fits".
        fh.truncate(64 + 0xFFFFFFFF * 64)
    return [Expect("ARCH508", "lib/evil.o")]


def _elf_phnum_escape(root: Path, scale: int) -> list[Expect]:
    """A shared object with e_phnum = PN_XNUM (0xffff): the real count in section 0's sh_info."""
    data = bytearray((ELF_FIXTURES / "x86_64" / "libhello.so").read_bytes())
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    struct.pack_into("<H", data, 0x38, 0xFFFF)
    struct.pack_into("<I", data, shoff + 0x2C, 0xFFFFFFFF)
    (repo(root) / "lib").mkdir()
    (root / "lib" / "libphnum.so").write_bytes(bytes(data))
    return [Expect("ARCH501", "lib/libphnum.so")]


# --- Dockerfile ------------------------------------------------------------------------------


def _dockerfile_arg_bomb(root: Path, scale: int) -> list[Expect]:
    """Ten ARG lines, each repeating the previous one ten times: 10^10 characters if expanded."""
    levels = 10 + scale
    lines = ["ARG A0=xxxxxxxxxx"]
    for n in range(1, levels + 1):
        lines.append(f"ARG A{n}=" + f"${{A{n - 1}}}" * 10)
    lines += [f"FROM python:3.12-slim-${{A{levels}}}", "RUN pip install numpy", ""]
    (repo(root) / "Dockerfile").write_text("\n".join(lines))
    return [Expect("ARCH002", "Dockerfile", 5)]  # A4: 10^5 characters


def _dockerfile_stage_args(root: Path, scale: int) -> list[Expect]:
    """The same expansion bomb built inside a stage (ENV and ARG), used by a RUN line."""
    lines = ["FROM python:3.12-slim", "ENV B0=yyyyyyyyyy"]
    for n in range(1, 12):
        lines.append(f"ENV B{n}=" + f"$B{n - 1}" * 10)
    lines += ["RUN curl -LO https://example.com/tool-linux-amd64-$B11.tar.gz", ""]
    (repo(root) / "Dockerfile").write_text("\n".join(lines))
    return [Expect("ARCH002", "Dockerfile", 6)]  # B4: 10^5 characters


# --- Kubernetes --------------------------------------------------------------------------------

_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "x"}},
        "template": {
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "app", "image": "ghcr.io/acme/app:1"}]},
        },
    },
}


def _deployment(name: str) -> dict:
    d = json.loads(json.dumps(_DEPLOYMENT))
    d["metadata"] = {"name": name, "namespace": "shop"}
    return d


def _k8s_list(root: Path, scale: int) -> list[Expect]:
    """One `kind: List` holding thousands of Deployments (one document, one file)."""
    n = 2000 * scale
    lines = ["apiVersion: v1", "kind: List", "items:"]
    for i in range(n):
        lines += [
            "- apiVersion: apps/v1",
            "  kind: Deployment",
            "  metadata:",
            f"    name: app-{i}",
            "    namespace: shop",
            "  spec:",
            "    replicas: 2",
            "    selector: {matchLabels: {app: x}}",
            "    template:",
            "      metadata: {labels: {app: x}}",
            "      spec:",
            "        containers:",
            "        - name: app",
            "          image: ghcr.io/acme/app:1",
            "        nodeSelector: {beta.kubernetes.io/arch: amd64}",  # ARCH204: a fix per item
        ]
    (repo(root) / "list.yaml").write_text("\n".join(lines) + "\n")
    return []


def _before_a_good_deployment(root: Path, first: str) -> None:
    """deploy.yaml: `first`, then a good Deployment that must still be seen."""
    (repo(root) / "deploy.yaml").write_text(first + "---\n" + json.dumps(_deployment("good")) + "\n")


def _k8s_bad_api_version(root: Path, scale: int) -> list[Expect]:
    """`apiVersion: apps/x/v1` in the first document."""
    _before_a_good_deployment(root, "apiVersion: apps/x/v1\nkind: Deployment\nmetadata:\n  name: weird\nspec: {}\n")
    return [Expect("ARCH002", "deploy.yaml", 1)]


def _k8s_huge_replicas(root: Path, scale: int) -> list[Expect]:
    """`replicas:` with 10,000 digits (past CPython's int-parsing limit)."""
    spec = "  selector: {matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n"
    spec += "    spec:\n      containers: [{name: a, image: 'ghcr.io/acme/a:1'}]\n"
    head = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: huge\nspec:\n"
    _before_a_good_deployment(root, head + "  replicas: " + "9" * 10_000 + "\n" + spec)
    return [Expect("ARCH002", "deploy.yaml", 6)]


def _k8s_list_items_not_list(root: Path, scale: int) -> list[Expect]:
    """`kind: List` whose items is a string, and a List nested in a List."""
    text = (
        "apiVersion: v1\nkind: List\nitems: nope\n---\n"
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n"
        "  - " + json.dumps(_deployment("inner")) + "\n"
    )
    (repo(root) / "lists.yaml").write_text(text)
    return [Expect("ARCH002", "lists.yaml", 3)]


def _skaffold_artifacts_int(root: Path, scale: int) -> list[Expect]:
    text = "apiVersion: skaffold/v4beta6\nkind: Config\nbuild:\n  artifacts: 5\n"
    (repo(root) / "skaffold.yaml").write_text(text)
    (root / "Dockerfile").write_text("FROM python:3.12-slim\n")
    return [Expect("ARCH002", "skaffold.yaml", 4)]


# --- dependency sources ------------------------------------------------------------------------


def _requirements_nul_include(root: Path, scale: int) -> list[Expect]:
    (repo(root) / "requirements.txt").write_bytes(b"requests==2.32.3\n-r a\x00b\nnumpy==1.26.4\n")
    return [Expect("ARCH002", "requirements.txt", 2)]


_DEEP = 100_000


def _deep_toml(key: str = "x") -> str:
    return f"{key} = " + "[" * _DEEP + "]" * _DEEP + "\n"


def _pipfile_lock_deep(root: Path, scale: int) -> list[Expect]:
    text = '{"_meta": {}, "default": {"x": ' + "[" * _DEEP + "]" * _DEEP + "}}"
    (repo(root) / "Pipfile.lock").write_text(text)
    return [Expect("ARCH002", "Pipfile.lock", 1)]


def _toml_lock_deep(name: str) -> Callable[[Path, int], list[Expect]]:
    def build(root: Path, scale: int) -> list[Expect]:
        (repo(root) / name).write_text('version = 1\n\n[[package]]\nname = "a"\n' + _deep_toml())
        return [Expect("ARCH002", name, None)]

    return build


def _file(rel: str, text: str, *expected: Expect) -> Callable[[Path, int], list[Expect]]:
    """A case that is one small file."""

    def build(root: Path, scale: int) -> list[Expect]:
        (repo(root) / rel).write_text(text)
        return list(expected)

    return build


_PYLOCK_HEAD = 'lock-version = "1.0"\ncreated-by = "hand"\n\n[[packages]]\n'
_BAD_WHEEL_URL = "http://[::1/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl"  # an IPv6 host never closed
# The line reported is the entry's `name =` line.
_uv_lock_bad_ipv6 = _file(
    "uv.lock",
    'version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "numpy"\nversion = "1.26.4"\n'
    'source = { registry = "https://pypi.org/simple" }\n'
    'sdist = { url = "http://[::1/numpy-1.26.4.tar.gz", hash = "sha256:00", size = 1 }\n'
    f'wheels = [\n    {{ url = "{_BAD_WHEEL_URL}", hash = "sha256:00" }},\n]\n',
    Expect("ARCH002", "uv.lock", 5),
)
_pylock_bad_ipv6 = _file(
    "pylock.toml",
    _PYLOCK_HEAD
    + f'name = "numpy"\nversion = "1.26.4"\nwheels = [{{ url = "{_BAD_WHEEL_URL}", hashes = {{ sha256 = "00" }} }}]\n',
    Expect("ARCH002", "pylock.toml", 5),
)
_pylock_name_table = _file(
    "pylock.toml",
    _PYLOCK_HEAD + 'name = { a = 1 }\nversion = "1.0"\n\n[[packages]]\nname = "numpy"\nversion = "1.26.4"\n',
    Expect("ARCH002", "pylock.toml", 5),
)


def _pyproject_deep_search(root: Path, scale: int) -> list[Expect]:
    """A pyproject.toml nested 1,000 deep, found while searching for the config."""
    text = '[project]\nname = "x"\nversion = "1"\ndependencies = ["numpy"]\nx = ' + "[" * 1000 + "]" * 1000 + "\n"
    (repo(root) / "pyproject.toml").write_text(text)
    return [Expect("ARCH002", "pyproject.toml", None)]


# --- wheels and static archives ----------------------------------------------------------------


def _wheel_encrypted_member(root: Path, scale: int) -> list[Expect]:
    """A wheel whose x86 extension is marked encrypted (general-purpose flag bit 0), next to an
    unencrypted x86 extension that must still be read."""
    buf = io.BytesIO()
    so = x86_so()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg/_secret.so", so)
        zf.writestr("pkg/_plain.so", so)
        zf.writestr("pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n")
    data = bytearray(buf.getvalue())
    local = data.find(b"PK\x03\x04")
    data[local + 6] |= 1
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1
    name = "pkg-1.0-cp311-cp311-manylinux_2_17_aarch64.whl"
    (repo(root) / "wheels").mkdir()
    (root / "wheels" / name).write_bytes(bytes(data))
    return [Expect("ARCH002", f"wheels/{name}"), Expect("ARCH504", f"wheels/{name}")]


def _ar_member_name(name: bytes) -> bytes:
    return name.ljust(16, b" ")


def _ar_bad_longname(root: Path, scale: int) -> list[Expect]:
    """A static archive whose member is named `/²` (a GNU long-name reference whose "digits" are
    not ASCII digits), followed by an x86 object."""
    obj = (ELF_FIXTURES / "x86_64" / "hello.o").read_bytes()

    def member(name: bytes, data: bytes) -> bytes:
        hdr = _ar_member_name(name) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"644".ljust(8)
        hdr += str(len(data)).encode().ljust(10) + b"`\n"
        return hdr + data + (b"\n" if len(data) % 2 else b"")

    bad = member("/²".encode("latin-1"), obj)
    data = b"!<arch>\n" + member(b"//", b"long_name.o/\n") + bad + member(b"hello.o/", obj)
    (repo(root) / "lib").mkdir()
    (root / "lib" / "libbad.a").write_bytes(data)
    return [Expect("ARCH002", "lib/libbad.a"), Expect("ARCH501", "lib/libbad.a")]


CASES: tuple[Case, ...] = (
    Case("tar-gnu-longname-3GiB", "tarball", _huge_meta_header(tarfile.GNUTYPE_LONGNAME)),
    Case("tar-pax-3GiB", "tarball", _huge_meta_header(tarfile.XHDTYPE)),
    Case("tar-pax-global-3GiB", "tarball", _huge_meta_header(tarfile.XGLTYPE)),
    Case("tar-pax-chain", "tarball", _tar_meta_chain),
    Case("tar-pax-negative-size", "tarball", _tar_pax_negative_size),
    Case("tar-endless-declared-size", "tarball", _tar_endless_size),
    Case("docker-save-40MiB-first-member", "tarball", _docker_save_big_first_member),
    Case("tar-gz-200MiB-zero-file", "tarball", _gzip_layer_sparse_file),
    Case("tar-gz-bomb", "tarball", _gzip_bomb, default_scale=8),
    # One bomb layer is skipped at the ratio cap and the next layer is read; thirty of them stop
    # at the budget for the whole file (50x its size, at least 2 GiB).
    Case("docker-save-bomb-layer", "tarball", _bomb_layers(1, 2 * 1024**3, then_x86=True)),
    Case("docker-save-30-bomb-layers", "tarball", _bomb_layers(30, 1536 * 1024**2, then_x86=False), in_tests=False),
    Case("elf-shnum-escape", "elf", _elf_shnum_escape),
    Case("elf-phnum-escape", "elf", _elf_phnum_escape),
    Case("dockerfile-arg-bomb", "dockerfile", _dockerfile_arg_bomb, select="ARCH0,ARCH3"),
    Case("dockerfile-env-bomb", "dockerfile", _dockerfile_stage_args, select="ARCH0,ARCH3"),
    Case("k8s-list", "kubernetes", _k8s_list, workloads=("Deployment/shop/app-0",), bench_scale=10),
    Case("k8s-bad-apiversion", "kubernetes", _k8s_bad_api_version, workloads=("Deployment/shop/good",)),
    Case("k8s-10000-digit-replicas", "kubernetes", _k8s_huge_replicas, workloads=("Deployment/shop/good",)),
    Case("k8s-list-items-not-list", "kubernetes", _k8s_list_items_not_list, workloads=("Deployment/shop/inner",)),
    Case("skaffold-artifacts-int", "skaffold", _skaffold_artifacts_int),
    Case("requirements-nul-include", "requirements", _requirements_nul_include),
    Case("pipfile-lock-100000-deep", "Pipfile.lock", _pipfile_lock_deep),
    Case("uv-lock-100000-deep", "uv.lock", _toml_lock_deep("uv.lock")),
    Case("poetry-lock-100000-deep", "poetry.lock", _toml_lock_deep("poetry.lock")),
    Case("pdm-lock-100000-deep", "pdm.lock", _toml_lock_deep("pdm.lock")),
    Case("pylock-100000-deep", "pylock.toml", _toml_lock_deep("pylock.toml")),
    Case("uv-lock-bad-ipv6", "uv.lock", _uv_lock_bad_ipv6),
    Case("pylock-bad-ipv6", "pylock.toml", _pylock_bad_ipv6),
    Case("pylock-name-table", "pylock.toml", _pylock_name_table),
    Case("pyproject-1000-deep-config-search", "pyproject", _pyproject_deep_search),
    Case("wheel-encrypted-member", "wheel", _wheel_encrypted_member),
    Case("ar-member-named-slash-superscript", "ar-archive", _ar_bad_longname),
)


def by_name(name: str) -> Case:
    return next(c for c in CASES if c.name == name)
