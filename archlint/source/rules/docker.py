"""ARCH406: Python that builds, pulls or runs containers for linux/amd64 only."""

from __future__ import annotations

import re

import libcst as cst

from archlint.source import arch
from archlint.source.context import Context
from archlint.source.interface import Example, SourceRule
from archlint.source.nodes import literal_text, strings_in

_TOOLS = re.compile(r"(?:^|[\s/])(?:docker|buildx|podman|nerdctl|buildah)(?:\s|$)")
_PLATFORM_FLAG = re.compile(r"--platform(?:[=\s]+|$)")
_AMD64_ONLY = arch.AMD64_ONLY


class DockerAmd64Platform(SourceRule):
    code = "ARCH406"

    VALID = (
        "import subprocess\n"
        "subprocess.run(['docker', 'buildx', 'build', '--platform', 'linux/amd64,linux/arm64', '.'])\n",
        "import subprocess, platform\nsubprocess.run(['docker', 'build', '--platform', f'linux/{ARCH}', '.'])\n",
        "PLATFORMS = ['linux/amd64', 'linux/arm64']\n",
        "import docker\nclient = docker.from_env()\nclient.images.pull('python:3.12', platform=PLATFORM)\n",
        "print('supported: linux/amd64')\n",
    )
    INVALID = (
        Example(
            "import subprocess\nsubprocess.run(['docker', 'build', '--platform', 'linux/amd64', '-t', TAG, '.'])\n", 2
        ),
        Example("import os\nos.system('docker buildx build --platform=linux/amd64 --push -t app .')\n", 2),
        Example(
            "import docker\nclient = docker.from_env()\nclient.images.pull('acme/api', platform='linux/amd64')\n", 3
        ),
        Example(
            "import subprocess\ncmd = ['podman', 'run', '--platform', 'linux/amd64', IMAGE]\nsubprocess.run(cmd)\n", 2
        ),
    )

    def visit_Call(self, node: cst.Call, ctx: Context) -> None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "platform":
                text = literal_text(arg.value)
                if text is not None and _AMD64_ONLY.match(text.strip()):
                    self._report(arg.value, ctx, "platform='linux/amd64'")
                    return
        self._scan((node.args and [a.value for a in node.args]) or [], ctx)

    def visit_List(self, node: cst.List, ctx: Context) -> None:
        # argv lists built before the call (cmd = ["docker", ...]).
        if not isinstance(ctx.ancestors[-1] if ctx.ancestors else None, cst.Arg):
            self._scan([node], ctx)

    def _scan(self, exprs: list[cst.BaseExpression], ctx: Context) -> None:
        strings = [s for e in exprs for s in strings_in(e)]
        if not strings:
            return
        joined = " ".join(t for _, t in strings)
        if "linux/amd64" not in joined or not _TOOLS.search(f" {joined} "):
            return
        flagged: set[int] = ctx.state(self).setdefault("flagged", set())
        for i, (node, text) in enumerate(strings):
            prev = strings[i - 1][1].strip() if i else ""
            if _AMD64_ONLY.search(text.strip()) and ("--platform" in text or _PLATFORM_FLAG.fullmatch(prev)):
                if id(node) not in flagged:
                    flagged.add(id(node))
                    self._report(node, ctx, "--platform linux/amd64")
                return

    def _report(self, node: cst.CSTNode, ctx: Context, what: str) -> None:
        ctx.report(
            node, self.code,
            f"{what} makes the image amd64-only: it will not start on arm64 nodes; build for "
            "linux/amd64,linux/arm64 (or the target's platform)",
            key=f"docker:{what}", blocks=False, evidence="builds or runs a container for linux/amd64 only",
        )  # fmt: skip
