"""ARCH403: architecture gates that exit on every non-x86 machine (no arm64 branch)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import libcst as cst

from archlint.source import arch
from archlint.source.context import OTHER, X86, Context
from archlint.source.interface import Example, SourceRule
from archlint.source.nodes import block_terminates, is_exit, literal_values

Leaf = Callable[[cst.BaseExpression], "str | None"]


def exiting_tests(node: cst.If | cst.Assert, ctx: Context, leaf: Leaf) -> Iterator[cst.BaseExpression]:
    """Tests of an if-chain (or an assert) whose failing side sends every non-x86 machine (or
    every CPU without the flag) to a raise/exit: the OTHER branch exits, or the X86 branch is
    the last test and the else (or the code after the if) exits."""
    if isinstance(node, cst.Assert):
        if ctx.polarity(node.test, leaf) == X86:
            yield node.test
        return
    parent = ctx.ancestors[-1] if ctx.ancestors else None
    if isinstance(parent, cst.If) and parent.orelse is node:
        return  # an elif: handled with its chain's head
    chain: list[tuple[cst.BaseExpression, cst.BaseSuite]] = []
    cur: cst.If = node
    while True:
        chain.append((cur.test, cur.body))
        if isinstance(cur.orelse, cst.If):
            cur = cur.orelse
            continue
        else_block = cur.orelse.body if cur.orelse is not None else None
        break
    for i, (test, body) in enumerate(chain):
        p = ctx.polarity(test, leaf)
        if p == OTHER and ctx.exits(body):
            yield test
        elif p == X86:
            rest = chain[i + 1 :]
            if not all(ctx.non_linux_test(t) for t, _ in rest):
                continue  # a later test may take the arm64 machine somewhere else
            if else_block is not None:
                if ctx.exits(else_block):
                    yield test
            elif not rest and block_terminates(body) and _next_exits(node, parent, ctx):
                yield test


def _next_exits(node: cst.CSTNode, parent: cst.CSTNode | None, ctx: Context) -> bool:
    body = getattr(parent, "body", None)
    if not isinstance(body, (tuple, list)):
        return False
    for i, stmt in enumerate(body):
        if stmt is node:
            return i + 1 < len(body) and is_exit(body[i + 1], ctx.aliases)
    return False


def _quoted(like: cst.BaseExpression, value: str) -> str:
    q = like.quote if isinstance(like, cst.SimpleString) else '"'
    return f"{q}{value}{q}"


def gate_fix(test: cst.BaseExpression, ctx: Context) -> tuple[str, str, tuple[tuple[cst.CSTNode, str], ...]] | None:
    """`m != "x86_64"` -> `m not in ("x86_64", "aarch64")`: admits arm64 (unsafe: the code behind
    the gate must then work there)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1 or not ctx.is_machine(test.left):
        return None
    target = test.comparisons[0]
    values = literal_values(target.comparator)
    if not values or not all(v in arch.ARM_COUNTERPART for v in values):
        return None
    first = target.comparator
    if isinstance(first, (cst.Tuple, cst.List, cst.Set)):
        first = first.elements[0].value
    allowed = [*values, *(arch.ARM_COUNTERPART[v] for v in values if arch.ARM_COUNTERPART[v] not in values)]
    negative = isinstance(target.operator, (cst.NotEqual, cst.NotIn))
    op = "not in" if negative else "in"
    new = f"{ctx.code_for(test.left).strip()} {op} ({', '.join(_quoted(first, v) for v in allowed)})"
    return (f"also admit {', '.join(allowed[len(values) :])}", "unsafe", ((test, new),))


class ArchitectureGate(SourceRule):
    code = "ARCH403"

    VALID = (
        # Reporting the machine is not a gate.
        "import platform\nprint(f'running on {platform.machine()}')\n",
        "import platform, logging\nlogging.info('arch=%s', platform.machine())\n",
        # A mapping with an arm64 entry (the shape of many installers' get_arch()).
        "import platform\n\ndef go_arch():\n    m = platform.machine().lower()\n    if m in ('x86_64', 'amd64'):\n"
        "        return 'amd64'\n    if m in ('aarch64', 'arm64'):\n        return 'arm64'\n"
        "    raise RuntimeError(f'unsupported architecture {m}')\n",
        # Branches with an arm64 path.
        "import platform, sys\nif platform.machine() == 'x86_64':\n    LIB = 'libfoo_x86_64.so'\n"
        "elif platform.machine() == 'aarch64':\n    LIB = 'libfoo_aarch64.so'\nelse:\n"
        "    sys.exit('unsupported')\n",
        # x86 is preferred but not required: the other path falls back.
        "import platform\nif platform.machine() != 'x86_64':\n    USE_SIMD = False\n",
        "import os\nif os.uname().machine == 'x86_64':\n    os.environ['MKL_NUM_THREADS'] = '1'\n",
        # A test that skips on non-x86 machines does not keep a workload off arm64.
        "import platform, unittest\nif platform.machine() != 'x86_64':\n    raise unittest.SkipTest('x86 only')\n",
        # Windows/macOS-only branch, then a gate for 32-bit: not about arm64.
        "import platform\nIS_64 = platform.architecture()[0] == '64bit'\nif not IS_64:\n    raise SystemExit(1)\n",
        # Only Windows machines are x86-gated here.
        "import sys, platform\nif sys.platform == 'win32' and platform.machine() != 'AMD64':\n    sys.exit(1)\n",
    )
    INVALID = (
        Example(
            "import platform\nif platform.machine() != 'x86_64':\n    raise RuntimeError('only x86_64 is supported')\n",
            2,
        ),
        Example("import platform, sys\nif platform.machine() not in ('x86_64', 'AMD64'):\n    sys.exit(1)\n", 2),
        Example("import os\nassert os.uname().machine == 'x86_64', 'x86 only'\n", 2),
        Example(
            "import platform\nARCH = platform.machine()\n\n\ndef main():\n    if ARCH == 'x86_64':\n"
            "        run()\n    else:\n        raise SystemExit('unsupported architecture')\n",
            6,
        ),
        Example(
            "import sysconfig\n\ndef lib():\n    if sysconfig.get_platform() == 'linux-x86_64':\n"
            "        return 'x86.so'\n    raise OSError('no native library for this platform')\n",
            4,
        ),
        Example(
            "import platform, sys\nIS_X86 = platform.machine().lower() in ('x86_64', 'amd64')\nif not IS_X86:\n"
            "    print('x86-64 required', file=sys.stderr)\n    sys.exit(2)\n",
            3,
        ),
        Example(
            "import sys\nfrom platform import machine\nif sys.platform == 'linux' and machine() != 'x86_64':\n"
            "    raise SystemExit(1)\n",
            3,
        ),
        Example("import platform\nif platform.processor() != 'x86_64' or DEBUG:\n    raise RuntimeError('x86')\n", 2),
        # An architecture a settings object holds.
        Example(
            "def check(settings):\n    if settings.arch not in ('x86_64', 'amd64'):\n"
            "        raise SystemExit('x86-64 only')\n",
            2,
        ),
    )

    def visit_If(self, node: cst.If, ctx: Context) -> None:
        for test in exiting_tests(node, ctx, ctx.machine_leaf):
            self._report(test, ctx)

    def visit_Assert(self, node: cst.Assert, ctx: Context) -> None:
        for test in exiting_tests(node, ctx, ctx.machine_leaf):
            self._report(test, ctx)

    def _report(self, test: cst.BaseExpression, ctx: Context) -> None:
        code = " ".join(ctx.code_for(test).split())
        short = code if len(code) <= 80 else code[:77] + "..."
        ctx.report(
            test, self.code,
            f"architecture gate `{short}` exits on arm64: every non-x86 machine reaches a raise/exit and no "
            "branch handles arm64",
            key=f"gate:{code}", blocks=True, evidence=f"exits on non-x86 machines (`{short}`)",
            fix=gate_fix(test, ctx),
        )  # fmt: skip
