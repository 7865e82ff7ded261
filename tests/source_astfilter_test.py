"""The AST filter only spares libcst parses: with it and without it, every result is the same.

It must be a superset of each rule it narrows (ARCH403 gates, ARCH405 artifacts, ARCH406
container platforms): "maybe" where the rule finds
nothing is fine, "no" where the rule would report is a missed blocker. Checked on every rule
example, on shapes written to probe it, and on every prefilter candidate of the interpreter's
own standard library (real code)."""

from __future__ import annotations

import ast
import os
import sysconfig
import textwrap
from pathlib import Path

import pytest
from conftest import check_in_fresh_process

from archlint.source import analyze as analyze_mod
from archlint.source import astfilter
from archlint.source.prefilter import wanted_codes
from archlint.source.rules import all_rules


def _both(source: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[object], list[object]]:
    narrowed = list(analyze_mod.analyze("python", source).hits)
    with monkeypatch.context() as m:
        m.setattr(astfilter, "narrow", lambda tree, codes, text=None: codes)
        full = list(analyze_mod.analyze("python", source).hits)
    return narrowed, full


EXAMPLES = [
    (r.code, kind, i, (ex if isinstance(ex, str) else ex.source))
    for r in all_rules()
    for kind, group in (("valid", r.VALID), ("invalid", r.INVALID))
    for i, ex in enumerate(group)
]


@pytest.mark.parametrize(("code", "kind", "index", "source"), EXAMPLES,
                         ids=[f"{c}-{k}-{i}" for c, k, i, _ in EXAMPLES])  # fmt: skip
def test_rule_examples_give_the_same_hits(code: str, kind: str, index: int, source: str, monkeypatch) -> None:
    narrowed, full = _both(textwrap.dedent(source).encode(), monkeypatch)
    assert narrowed == full


GATES = [
    # Through a name assigned a test, and a name assigned from that name.
    "import platform, sys\nIS_X86 = platform.machine() in ('x86_64', 'AMD64')\nNOT_X86 = not IS_X86\n"
    "if NOT_X86:\n    sys.exit(1)\n",
    # Exit through an alias of sys.exit.
    "from sys import exit as bye\nimport platform\nif platform.machine() != 'x86_64':\n    bye(2)\n",
    # The x86 branch returns, the statement after the if raises.
    "import platform\ndef lib():\n    if platform.machine() == 'x86_64':\n        return 'x.so'\n"
    "    raise OSError('no library')\n",
    # An elif chain whose else exits, inside a try handler and a class body.
    "import platform, os\nclass C:\n    try:\n        pass\n    except Exception:\n"
    "        if platform.machine() == 'i686':\n            pass\n        elif platform.machine() == 'x86_64':\n"
    "            pass\n        else:\n            os._exit(3)\n",
    # startswith with a tuple, in a match case.
    "import platform, sys\nmatch sys.argv:\n    case _:\n"
    "        if not platform.machine().startswith(('x86', 'amd64')):\n            raise SystemExit('x86 only')\n",
    # An assert inside a function, on os.uname().
    "import os\ndef check():\n    assert os.uname().machine in ('x86_64', 'amd64'), 'x86 only'\n",
    # The machine call under an alias, imported inside the function that tests it.
    "import sys\ndef main():\n    from platform import machine as m\n    if m().lower() != 'x86_64':\n"
    "        sys.exit('x86 only')\n",
    # A name assigned the machine in another function, and a substring test the other way round.
    "import platform, sys\ndef probe():\n    global cpu\n    cpu = str(platform.machine())\n"
    "def main():\n    if 'x86' not in cpu:\n        sys.exit(1)\n",
    # os.uname()[4] through a name.
    "import os, sys\nu = os.uname()\nif u[4] != 'x86_64':\n    sys.exit(1)\n",
]


DOCKER = [
    # A platform flag in an argv list, joined from two literals, and through `+`.
    "import subprocess\nsubprocess.run(['docker', 'build', '--platform', 'linux/amd64', '.'])\n",
    "import os\nos.system('docker buildx build ' '--platform=linux/amd64 .')\n",
    "import subprocess\nsubprocess.run(['docker', 'run', '--platform=' + 'linux/amd64', 'img'])\n",
    "import docker\ndocker.from_env().images.pull('acme/api', platform=f'linux/amd64')\n",
]
REPORTED = [("ARCH403", s) for s in GATES] + [("ARCH406", s) for s in DOCKER]
_POSSIBLE = {"ARCH403": astfilter.gate_possible, "ARCH406": astfilter.docker_possible}


@pytest.mark.parametrize(("code", "source"), REPORTED, ids=[f"{c}-{i}" for i, (c, _) in enumerate(REPORTED)])
def test_shapes_the_rule_reports_are_never_ruled_out(code: str, source: str, monkeypatch) -> None:
    assert _POSSIBLE[code](ast.parse(source))
    narrowed, full = _both(source.encode(), monkeypatch)
    assert narrowed == full and any(getattr(h, "rule", "") == code for h in full)


NOT_GATES = [
    # Platform tags compared, nothing exits (packaging, test tolerances).
    "import platform\nif platform.machine() == 'x86_64':\n    TOL = 1e-6\nelse:\n    TOL = 1e-3\n",
    # An exit far from any x86 test.
    "import sys, platform\nARCH = platform.machine()\nif not sys.argv:\n    sys.exit(1)\nprint(ARCH == 'x86_64')\n",
    # x86 names compared with something that is not the machine (CPython's _osx_support: the
    # -arch flags of a universal build), and an exit in that chain.
    "def fat(archs):\n    if archs == ('arm64', 'x86_64'):\n        return 'universal2'\n"
    "    elif archs == ('i386', 'x86_64'):\n        return 'intel'\n    else:\n"
    "        raise ValueError(archs)\n",
    # Two comparisons chained: the rule reads one comparison at a time.
    "import platform\nif 'x86' == platform.machine() == 'x86_64':\n    raise SystemExit(1)\n",
]


@pytest.mark.parametrize("source", NOT_GATES, ids=range(len(NOT_GATES)))
def test_files_without_a_gate_shape_skip_libcst(source: str) -> None:
    assert not astfilter.gate_possible(ast.parse(source))


def _stdlib_candidates() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in ("site-packages", "__pycache__")]
        for n in names:
            if n.endswith(".py"):
                p = Path(d, n)
                try:
                    data = p.read_bytes()
                except OSError:
                    continue
                if wanted_codes(data):
                    out.append(p)
    return sorted(out)


def test_stdlib_candidates_give_the_same_hits(monkeypatch) -> None:
    candidates = _stdlib_candidates()
    assert len(candidates) >= 3  # the filter is exercised on real code, not on nothing
    spared = 0
    for p in candidates:
        data = p.read_bytes()
        narrowed, full = _both(data, monkeypatch)
        assert narrowed == full, p
        try:
            codes = wanted_codes(data)
            spared += astfilter.narrow(ast.parse(data), codes) != codes
        except SyntaxError:
            continue
    assert spared > 0  # and it does spare parses there


ARTIFACTS = [
    # Joined, the token runs into the next literal ("...amd64k"): the rule reads each part alone.
    "URL = ('https://example.com/tool-linux-amd64' 'k')\n",
    # Implicit concatenation: the rule reads each part, the AST holds them joined.
    "URL = ('https://dl.k8s.io/release/v1.30.0/bin/linux/amd64/'\n       'kubectl')\n",
    "LOADER = '/lib64/ld-linux-' 'x86-64.so.2'\n",
    "VERSION = '1.22.1'\nURL = f'https://go.dev/dl/go{VERSION}.linux-amd64.tar.gz'\n",
    "WHEEL = b'numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl'\n",
    # Joined, no artifact; one part names one on its own.
    "URL = ('see ' 'https://dl.k8s.io/release/v1.30.0/bin/linux/amd64/kubectl')\n",
    # An f-string part among plain ones: read loosely.
    "V = '1'\nURL = ('https://go.dev/dl/' f'go{V}.linux-amd64' '.tar.gz')\n",
]


@pytest.mark.parametrize("source", ARTIFACTS, ids=range(len(ARTIFACTS)))
def test_artifact_shapes_are_never_ruled_out(source: str, monkeypatch) -> None:
    assert astfilter.artifact_possible(ast.parse(source), source)
    narrowed, full = _both(source.encode(), monkeypatch)
    assert narrowed == full


@pytest.mark.parametrize(
    "src",
    [
        "# downloads tool-linux-amd64.tar.gz on x86 hosts\nimport platform\nARCH = platform.machine()\n",
        # Build-configuration data (CPython's _sysconfigdata): triplets that name no fetched artifact.
        "build_time_vars = {'HOST_GNU_TYPE': 'x86_64-pc-linux-gnu', 'MULTIARCH': 'x86_64-linux-gnu',\n"
        "    'EXT_SUFFIX': '.cpython-311-x86_64-linux-gnu.so'}\n",
        # Side by side, the parts name no artifact and neither does their join (test_sysconfig).
        "VARS = ('var6=${var3}/lib/python3.5/config-$(VAR2)$(var5)-'\n        'x86_64-linux-gnu')\n",
        # A docstring: the rule leaves strings that are a statement of their own alone.
        'def fetch():\n    """Downloads https://example.com/tool-linux-amd64.tar.gz on x86 hosts."""\n',
    ],
    ids=["comment", "sysconfig-data", "concatenated-parts", "docstring"],
)
def test_artifact_candidates_the_rule_would_not_report_skip_libcst(src: str, monkeypatch) -> None:
    assert "ARCH405" in wanted_codes(src.encode())
    assert not astfilter.artifact_possible(ast.parse(src), src)
    narrowed, full = _both(src.encode(), monkeypatch)
    assert narrowed == full


def test_libcst_is_not_imported_when_the_ast_rules_everything_out(tmp_path: Path) -> None:
    # A prefilter candidate (x86 value, machine call, exit nearby) with no gate shape.
    (tmp_path / "m.py").write_text(
        "import platform, sys\nARCH = platform.machine()\nTOL = 1e-3 if ARCH == 'x86_64' else 1e-2\n"
        "if not sys.argv:\n    raise SystemExit(1)\n"
    )
    run = check_in_fresh_process([str(tmp_path), "--offline", "--no-cache", "-q"], ("libcst",))
    assert run.rc == 0 and not run.imported


def test_a_download_url_naming_linux_amd64_is_no_docker_platform(monkeypatch) -> None:
    src = "import subprocess\nsubprocess.run(['curl', '-LO', 'https://dl.k8s.io/v1.30.0/bin/linux/amd64/kubectl'])\n"
    assert "ARCH406" in wanted_codes(src.encode())
    assert not astfilter.docker_possible(ast.parse(src))
    narrowed, full = _both(src.encode(), monkeypatch)
    assert narrowed == full
