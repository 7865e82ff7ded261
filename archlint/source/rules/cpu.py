"""ARCH407: x86 CPU features (AVX2, AVX-512, SSE4.2 …) read from cpuinfo as a hard requirement."""

from __future__ import annotations

import libcst as cst

from archlint.source import arch
from archlint.source.context import OTHER, X86, Context
from archlint.source.interface import Example, SourceRule
from archlint.source.nodes import string_value
from archlint.source.rules.gates import exiting_tests

_CPU_WORDS = ("cpu", "flag", "info", "feature", "isa")


class X86CpuFeature(SourceRule):
    code = "ARCH407"

    VALID = (
        # Choosing a kernel by CPU feature, with a portable fallback.
        "flags = open('/proc/cpuinfo').read()\nif 'avx2' in flags:\n    kernel = fast_avx2\nelse:\n"
        "    kernel = generic\n",
        "import cpuinfo\nprint('AVX2:', 'avx2' in cpuinfo.get_cpu_info()['flags'])\n",
        # Knows about arm64's SIMD (NEON/ASIMD): an arm64 path exists.
        "def check(flags):\n    if 'avx2' not in flags and 'asimd' not in flags:\n"
        "        raise RuntimeError('no SIMD')\n",
        "if 'avx2' not in SUPPORTED_KERNELS:\n    raise KeyError('avx2')\n",
    )
    INVALID = (
        Example(
            "with open('/proc/cpuinfo') as f:\n    cpuinfo = f.read()\nif 'avx2' not in cpuinfo:\n"
            "    raise SystemExit('this build needs AVX2')\n",
            3,
        ),
        Example(
            "import cpuinfo\nflags = cpuinfo.get_cpu_info()['flags']\nassert 'avx512f' in flags, 'AVX-512 required'\n",
            3,
        ),
        Example(
            "import sys\n\ndef main(cpuinfo):\n    if 'sse4_2' in cpuinfo['flags']:\n        return run()\n"
            "    sys.exit('SSE4.2 is required')\n",
            4,
        ),
    )

    def _leaf(self, ctx: Context) -> object:
        def leaf(expr: cst.BaseExpression) -> str | None:
            if not isinstance(expr, cst.Comparison) or len(expr.comparisons) != 1:
                return None
            target = expr.comparisons[0]
            flag = string_value(expr.left)
            if flag is None or not arch.X86_FLAGS.match(flag):
                return None
            where = ctx.code_for(target.comparator).lower()
            if not any(w in where for w in _CPU_WORDS) or "kernel" in where:
                return None
            if isinstance(target.operator, cst.In):
                return X86
            return OTHER if isinstance(target.operator, cst.NotIn) else None

        return leaf

    def visit_If(self, node: cst.If, ctx: Context) -> None:
        for test in exiting_tests(node, ctx, self._leaf(ctx)):  # type: ignore[arg-type]
            self._report(test, ctx)

    def visit_Assert(self, node: cst.Assert, ctx: Context) -> None:
        for test in exiting_tests(node, ctx, self._leaf(ctx)):  # type: ignore[arg-type]
            self._report(test, ctx)

    def _report(self, test: cst.BaseExpression, ctx: Context) -> None:
        code = " ".join(ctx.code_for(test).split())
        ctx.report(
            test, self.code,
            f"requires an x86 CPU feature (`{code}`): arm64 CPUs report no such flag (they have NEON/ASIMD and SVE), "
            "so this exits on every arm64 node",
            key=f"cpu:{code}", blocks=True, evidence=f"exits without x86 CPU feature (`{code}`)",
        )  # fmt: skip
