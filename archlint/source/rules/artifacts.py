"""ARCH405: x86-only artifacts named in strings (download URLs, loader paths, multiarch dirs)."""

from __future__ import annotations

import libcst as cst

from archlint.source import arch
from archlint.source.context import Context
from archlint.source.interface import Example, SourceRule
from archlint.source.nodes import literal_text, simple_value

_PER_FILE = 5  # a generated file full of build paths says it once per distinct artifact, up to this


class X86Artifact(SourceRule):
    code = "ARCH405"

    VALID = (
        "ARCH = 'amd64'\nurl = f'https://dl.k8s.io/release/v1.30.0/bin/linux/{ARCH}/kubectl'\n",
        "url = 'https://github.com/helm/helm/releases/download/v3.14.0/helm-v3.14.0-linux-{arch}.tar.gz'\n",
        # A per-architecture table is the portable way to do it.
        "URLS = {\n    'x86_64': 'https://example.com/tool-linux-amd64.tar.gz',\n"
        "    'aarch64': 'https://example.com/tool-linux-arm64.tar.gz',\n}\n",
        '"""Downloads tool-linux-amd64.tar.gz on x86 hosts."""\n',
        "import platform\nif platform.machine() == 'x86_64':\n    LOADER = '/lib64/ld-linux-x86-64.so.2'\n",
        "PLATFORMS = ['linux/amd64', 'linux/arm64']\n",
        # PyInstaller: a machine name another module computed (`compat.machine`), tested for x86.
        "from PyInstaller import compat\nif compat.machine == 'intel':\n"
        "    paths.extend(['/usr/lib/x86_64-linux-gnu'])\n",
        # An x86 default that an arm64 branch right after it overrides.
        "import platform\nLIB_DIR = '/usr/lib/x86_64-linux-gnu'\nif platform.machine() == 'aarch64':\n"
        "    LIB_DIR = '/usr/lib/aarch64-linux-gnu'\n",
        # A value taken from a per-architecture table fills in the template.
        "import platform\nARCHES = {'x86_64': 'amd64', 'aarch64': 'arm64'}\n\ndef url():\n"
        "    arch = ARCHES[platform.machine()]\n"
        "    return 'https://e.com/tool-linux-amd64.tgz'.replace('amd64', arch)\n",
    )
    INVALID = (
        Example("url = 'https://dl.k8s.io/release/v1.30.0/bin/linux/amd64/kubectl'\n", 1),
        Example("VERSION = '1.22.1'\nURL = f'https://go.dev/dl/go{VERSION}.linux-amd64.tar.gz'\n", 2),
        Example("import subprocess\nsubprocess.run(['/lib64/ld-linux-x86-64.so.2', '--list', BIN])\n", 2),
        Example("LIB_DIR = '/usr/lib/x86_64-linux-gnu'\n", 1),
        Example("wheel = 'numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'\n", 1),
        Example("def fetch():\n    return download('https://example.com/Miniconda3-latest-Linux-x86_64.sh')\n", 2),
        # An arm64 mention in another statement excuses nothing.
        Example(
            "import platform\nIS_ARM = platform.machine() == 'aarch64'\n"
            "URL = 'https://dl.k8s.io/release/v1.30.0/bin/linux/amd64/kubectl'\n",
            3,
        ),
    )

    def visit_SimpleString(self, node: cst.SimpleString, ctx: Context) -> None:
        text = simple_value(node)
        if text:
            self._check(node, text, ctx)

    def visit_FormattedString(self, node: cst.FormattedString, ctx: Context) -> None:
        text = literal_text(node)
        if text:
            self._check(node, text, ctx)

    def _check(self, node: cst.CSTNode, text: str, ctx: Context) -> None:
        token = arch.artifact(text)
        if token is None or self._docstring(ctx) or ctx.guard(node, frozenset()).kind is not None:
            return
        seen = ctx.state(self).setdefault("seen", set())
        if token.lower() in seen or len(seen) >= _PER_FILE:
            return
        seen.add(token.lower())
        ctx.report(
            node, self.code, arch.artifact_message(token),
            key=f"artifact:{token.lower()}", blocks=False, evidence=f"names x86-only artifact {token}",
        )  # fmt: skip

    @staticmethod
    def _docstring(ctx: Context) -> bool:
        parent = ctx.ancestors[-1] if ctx.ancestors else None
        if isinstance(parent, cst.ConcatenatedString):
            parent = ctx.ancestors[-2] if len(ctx.ancestors) > 1 else None
        return isinstance(parent, cst.Expr)
