"""ARCH401/ARCH402: imports of modules whose distributions never run on arm64."""

from __future__ import annotations

import functools
from typing import Any

import libcst as cst

from archlint.catalogue import knowledge
from archlint.source.context import Context
from archlint.source.interface import Example, SourceRule
from archlint.source.nodes import dotted, string_value

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException", "OSError"})
_DYNAMIC = frozenset({"importlib.import_module", "__import__", "import_module"})


@functools.cache
def modules() -> dict[str, dict[str, Any]]:
    return dict(knowledge("x86_imports")["modules"])


def portable(module: str) -> bool:
    """Whether importing `module` can work on arm64 (it is not an x86-only module)."""
    return bool(module) and module.split(".", 1)[0] not in modules()


class X86OnlyImport(SourceRule):
    code = "ARCH401"

    VALID = (
        "import numpy as np\nimport mklx\nfrom sklearn import svm\n",
        # Guarded imports with a fallback: ARCH402 (info), never a warning or an error.
        "try:\n    import mkl\nexcept ImportError:\n    mkl = None\n",
        "try:\n    from sklearnex import patch_sklearn\n    patch_sklearn()\n"
        "except (ImportError, OSError):\n    pass\n",
        "import contextlib\nwith contextlib.suppress(ImportError):\n    import intel_extension_for_pytorch as ipex\n",
        "import platform\nif platform.machine() == 'x86_64':\n    import mkl\n    mkl.set_num_threads(4)\n",
        "import platform\nif platform.machine() in ('aarch64', 'arm64'):\n    pass\nelse:\n    import daal4py\n",
        "import sys\nif sys.platform == 'win32':\n    import mkl\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import cx_Oracle\n",
        "import pytest\nmkl = pytest.importorskip('mkl')\n",
        "from . import mkl\nfrom .mkl import helpers\n",
        "import importlib.util\nHAS_MKL = importlib.util.find_spec('mkl') is not None\n",
        # Django's Oracle backend: cx_Oracle is the fallback when the portable oracledb is missing,
        # however deep the fallback sits (here in a nested try that re-raises).
        "try:\n    import oracledb\n    is_oracledb = True\nexcept ImportError as e:\n    try:\n"
        "        import cx_Oracle as oracledb  # NOQA\n        is_oracledb = False\n    except ImportError:\n"
        "        raise ImproperlyConfigured(f'Error loading oracledb module: {e}')\n",
        "try:\n    from oracledb import connect\nexcept ModuleNotFoundError:\n    if True:\n"
        "        from cx_Oracle import connect\n",
    )
    INVALID = (
        Example("import mkl\n", 1),
        Example("import os, sklearnex\n", 1),
        Example("from daal4py.sklearn import patch_sklearn\n", 1),
        Example("import intel_extension_for_pytorch as ipex\n", 1),
        Example("import importlib\nipex = importlib.import_module('intel_extension_for_pytorch')\n", 2),
        Example("mkl_fft = __import__('mkl_fft')\n", 1),
        Example("try:\n    import cx_Oracle\nexcept ImportError:\n    raise SystemExit('cx_Oracle is required')\n", 2),
        Example("def fft(x):\n    import mkl_fft\n    return mkl_fft.fft(x)\n", 2),  # a warning: only when called
        Example("try:\n    import mkl\nexcept ImportError:\n    mkl = None\n", 2, "ARCH402"),
        Example("import oneccl_bindings_for_pytorch  # registers the 'ccl' backend\n", 1),
        Example("import torch\nimport torch_ccl\ntorch.distributed.init_process_group('ccl')\n", 2),
        # The fallback of an x86-only preferred import is no portable path.
        Example("try:\n    import mkl_fft as fft\nexcept ImportError:\n    import daal4py as fft\n", 4),
    )

    def visit_Import(self, node: cst.Import, ctx: Context) -> None:
        for alias in node.names:
            name = dotted(alias.name) or ""
            top = name.split(".", 1)[0]
            if top in modules():
                fix = None
                info = modules()[top]
                if info.get("fix_module") and name == top:
                    local = alias.asname.name if alias.asname is not None else None
                    as_name = local.value if isinstance(local, cst.Name) else top
                    fix = (alias, f"{info['fix_module']} as {as_name}")
                self._report(alias, top, ctx, fix)

    def visit_ImportFrom(self, node: cst.ImportFrom, ctx: Context) -> None:
        if node.relative or node.module is None:
            return
        name = dotted(node.module) or ""
        top = name.split(".", 1)[0]
        if top in modules():
            info = modules()[top]
            fix = (node.module, info["fix_module"] + name[len(top) :]) if info.get("fix_module") else None
            self._report(node.module, top, ctx, fix)

    def visit_Call(self, node: cst.Call, ctx: Context) -> None:
        if not node.args or ctx.qualify(node.func) not in _DYNAMIC:
            return
        value = string_value(node.args[0].value)
        if value is None:
            return
        top = value.split(".", 1)[0]
        if top in modules():
            self._report(node, top, ctx, None)

    def _report(self, node: cst.CSTNode, top: str, ctx: Context, fix: tuple[cst.CSTNode, str] | None) -> None:
        info = modules()[top]
        guard = ctx.guard(node, _IMPORT_ERRORS, portable)
        if guard.kind in ("typing", "os"):
            return  # never imported on a Linux node at run time
        dist = info["distribution"]
        instead = f"; use {info['replacement']} instead" if info.get("replacement") else "; make it optional"
        fixspec = None
        if fix is not None:
            fixspec = (f"import {info['fix_module']} instead of {top}", "unsafe", (fix,))
        if guard.kind is not None:
            how = {"arch": "behind an architecture check", "fallback": "as the fallback of a portable import"}.get(
                guard.kind, "with a fallback"
            )
            ctx.report(
                node, "ARCH402",
                f"optional import of {top} ({dist}) {how}: {info['reason']}; the fallback path runs on arm64",
                key=top, blocks=False, evidence=f"optional x86-only import {top} ({dist})", arm_guard=False,
            )  # fmt: skip
            return
        if guard.in_function:
            ctx.report(
                node, self.code,
                f"import of {top} ({dist}) fails on arm64 when this function runs: {info['reason']}{instead}",
                key=top, severity="warning", blocks=False, evidence=f"x86-only import {top} in a function ({dist})",
                arm_guard=False, fix=fixspec,
            )  # fmt: skip
            return
        ctx.report(
            node, self.code,
            f"import of {top} ({dist}) fails on arm64: {info['reason']}{instead}",
            key=top, blocks=True, evidence=f"imports {top} ({dist}): {info['reason']}", arm_guard=False, fix=fixspec,
        )  # fmt: skip


class OptionalX86Import(SourceRule):
    """Documentation and examples of ARCH402; the analysis is X86OnlyImport's."""

    code = "ARCH402"
    INVALID = (
        Example("try:\n    import mkl\nexcept ImportError:\n    mkl = None\n", 2),
        Example("import platform\nif platform.machine() == 'x86_64':\n    import sklearnex\n", 3),
        Example(
            "try:\n    import oracledb\n    is_oracledb = True\nexcept ImportError as e:\n    try:\n"
            "        import cx_Oracle as oracledb  # NOQA\n        is_oracledb = False\n    except ImportError:\n"
            "        raise ImproperlyConfigured(f'Error loading oracledb module: {e}')\n",
            6,
        ),
    )
