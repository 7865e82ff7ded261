"""ARCH405 on the AST (astartifacts.py) says what the libcst rule says, or nothing.

The oracle is the libcst rule itself: every case runs both paths. Shapes the AST path must
decide, shapes it must leave to libcst, and real files (the interpreter's standard library)
whose string literals are swapped at random for artifact names, so the literals sit in every
position real code puts them: decorators, defaults, branches, handlers, comprehensions."""

from __future__ import annotations

import ast
import io
import os
import random
import sysconfig
import tokenize
from pathlib import Path

import pytest
from conftest import check_in_fresh_process

from archlint.source import analyze as analyze_mod
from archlint.source import astartifacts
from archlint.source.cstpass import run_rules
from archlint.source.decode import decode
from archlint.source.interface import Hit

ARCH405 = frozenset({"ARCH405"})


def _key(h: Hit) -> tuple[int, int]:
    return (h.line, h.column)


def _libcst(text: str) -> list[Hit]:
    return sorted(run_rules(text, ARCH405), key=_key)


def _fast(text: str) -> list[Hit] | None:
    hits = astartifacts.artifact_hits(ast.parse(text), text)
    return None if hits is None else sorted(hits, key=_key)


DECIDED = [
    # A download URL in a method's call (CPython's test_getpath holds one like it).
    "class T:\n    def test(self):\n        ns.add('/home/p/pybuilddir.txt', ['build/lib.linux-x86_64-9.8'])\n",
    "LIB_DIR = '/usr/lib/x86_64-linux-gnu'\n",
    "WHEEL = b'numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl'\n",
    # Not a docstring: a string in an expression statement that is a call.
    "download('https://example.com/Miniconda3-latest-Linux-x86_64.sh')\n",
    # A docstring naming one: left alone, as the rule does.
    'def fetch():\n    """Downloads https://example.com/tool-linux-amd64.tar.gz."""\n    return 1\n',
    # Columns are characters: non-ASCII text before the literal on its line.
    "名前 = {'ключ': 'https://dl.k8s.io/release/v1.30.0/bin/linux/amd64/kubectl'}\n",
    # The same artifact twice, and more distinct artifacts than the per-file cap, in source order.
    "A = ['pkg_1_amd64.deb', 'pkg_2_amd64.deb', 'x_amd64.snap', 'z.x86_64.rpm', '/lib64/ld-linux-x86-64.so.2',\n"
    "     'a-1-cp311-cp311-manylinux_2_17_x86_64.whl', 'amd64/alpine:3', '/usr/lib/x86_64-linux-gnu']\n",
    # A try whose handlers name exceptions (the rule catches none of them), a with, a loop.
    "try:\n    with open(p) as f:\n        for x in f:\n            run('/lib64/ld-linux-x86-64.so.2')\n"
    "except OSError:\n    pass\n",
    # A raw string and an escaped one.
    "A = r'C:\\x\\tool-linux-amd64.tar.gz'\nB = 'https://e.com/t-linux-amd64.tar.gz\\n'\n",
]


@pytest.mark.parametrize("source", DECIDED, ids=range(len(DECIDED)))
def test_shapes_it_decides_match_libcst(source: str) -> None:
    fast = _fast(source)
    assert fast is not None, "the AST path should answer here"
    assert fast == _libcst(source)


def test_it_reports_what_the_rule_reports() -> None:
    hits = _fast(DECIDED[0])
    assert hits is not None and [(h.line, h.column, h.end_column, h.key) for h in hits] == [
        (3, 43, 71, "artifact:linux-x86_64")
    ]
    capped = _fast(DECIDED[6])
    # once per artifact (the two .deb files are one), five per file, the first five in the source
    assert capped is not None and [h.column for h in capped] == [6, 44, 60, 76, 6]


FALLBACK = [
    # Inside an if: the test may make it an x86-only branch.
    "import platform\nif platform.machine() == 'x86_64':\n    LOADER = '/lib64/ld-linux-x86-64.so.2'\n",
    # A bare except that falls back.
    "try:\n    run('/lib64/ld-linux-x86-64.so.2')\nexcept:\n    pass\n",
    # An arm64 mention (a string, a name): an arm64 path may excuse it.
    "PLATFORMS = {'aarch64': 'x', 'x86_64': 'https://e.com/tool-linux-amd64.tar.gz'}\n",
    "def arm64_url():\n    return 'https://e.com/tool-linux-amd64.tar.gz'\n",
    # An f-string and literals side by side: libcst reads their parts.
    "V = '1'\nURL = f'https://go.dev/dl/go{V}.linux-amd64.tar.gz'\n",
    "LOADER = ('/lib64/ld-linux-x86-64.so.2'\n          ' --list')\n",
    # Carriage returns: line counting is libcst's business.
    "LIB_DIR = '/usr/lib/x86_64-linux-gnu'\r\n",
    # An earlier early return on a non-x86 test in the same block.
    "import platform\ndef lib():\n    if platform.machine() != 'x86_64':\n        return None\n"
    "    return '/usr/lib/x86_64-linux-gnu'\n",
    # An if-expression, and a repeated artifact in a decorator (libcst walks decorators last).
    "L = '/usr/lib/x86_64-linux-gnu' if X else None\n",
    "@uses('pkg_1_amd64.deb')\ndef f():\n    return 'pkg_1_amd64.deb'\n",
]


@pytest.mark.parametrize("source", FALLBACK, ids=range(len(FALLBACK)))
def test_shapes_it_leaves_to_libcst(source: str) -> None:
    assert _fast(source) is None
    # and the whole analysis still gives libcst's answer
    assert sorted(analyze_mod.analyze("python", source.encode()).hits, key=_key) == _libcst(source)


_ARTIFACTS = (
    "https://e.com/tool-linux-amd64.tar.gz", "/usr/lib/x86_64-linux-gnu", "ld-linux-x86-64.so.2",
    "pkg_1.0_amd64.deb", "https://dl.k8s.io/v1/bin/linux/amd64/kubectl", "amd64/alpine:3.19",
    "x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "https://x.org/Miniconda3-latest-Linux-x86_64.sh",
)  # fmt: skip


def _swap_strings(text: str, rnd: random.Random) -> str:
    """Replace about one plain string literal in twelve by an artifact name."""
    out = []
    for t in tokenize.generate_tokens(io.StringIO(text).readline):
        s = t.string
        if t.type == tokenize.STRING and not s.lower().startswith(("f", "rf", "fr", "b", "rb", "br")):
            if rnd.random() < 0.08:
                s = repr(rnd.choice(_ARTIFACTS))
        out.append((t.type, s))
    return tokenize.untokenize(out)


def _stdlib_sample(n: int) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        Path(d, f)
        for d, dirs, names in os.walk(root)
        if not ({"site-packages", "__pycache__"} & set(Path(d).parts))
        for f in names
        if f.endswith(".py")
    )
    random.Random(7).shuffle(files)
    return files[:n]


def test_real_files_with_artifacts_swapped_in_match_libcst() -> None:
    rnd = random.Random(11)
    decided = 0
    for path in _stdlib_sample(160):
        try:
            text, _ = decode(path.read_bytes())
            swapped = _swap_strings(text, rnd)
            ast.parse(swapped)
        except (SyntaxError, ValueError, tokenize.TokenError, OSError):
            continue
        except Exception as e:  # an undecodable test file
            if type(e).__name__ != "UndecodableSource":
                raise
            continue
        fast = _fast(swapped)
        if fast is None:
            continue
        slow = _libcst(swapped)
        if any(h.key == "libcst" for h in slow):
            continue  # libcst's grammar lags: the AST path answers where it cannot
        assert fast == slow, path
        decided += bool(fast)
    assert decided >= 30  # the AST path answered, with hits, on real code


def test_a_plain_artifact_is_reported_without_libcst(tmp_path: Path) -> None:
    (tmp_path / "fetch.py").write_text(
        "import subprocess\n\ndef install():\n"
        "    subprocess.run(['curl', '-LO', 'https://dl.k8s.io/release/v1.30.0/bin/linux/amd64/kubectl'])\n"
    )
    args = [str(tmp_path), "--offline", "--no-cache", "--select", "ARCH405", "--output-format", "concise"]
    run = check_in_fresh_process(args, ("libcst",))
    assert "fetch.py:4:" in run.out and "ARCH405" in run.out
    assert run.rc == 0 and not run.imported
