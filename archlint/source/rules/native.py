"""ARCH404: loading x86-only native libraries (ctypes, cffi, numpy.ctypeslib)."""

from __future__ import annotations

import re

import libcst as cst

from archlint.source.context import Context
from archlint.source.interface import Example, SourceRule
from archlint.source.nodes import strings_in
from archlint.source.rules.imports import portable

_LOADERS = frozenset(
    {"ctypes.CDLL", "ctypes.PyDLL", "ctypes.cdll.LoadLibrary", "ctypes.pydll.LoadLibrary", "ctypes.cdll",
     "numpy.ctypeslib.load_library", "_ctypes.dlopen", "cffi.FFI.dlopen"}
)  # fmt: skip
_LOADER_ATTRS = frozenset({"LoadLibrary", "dlopen", "load_library"})
# Intel runtime libraries (MKL, OpenMP, IPP, SVML, compiler runtime) and names of x86 builds.
_X86_LIB = re.compile(
    r"(?:^|[/\\])(?:lib)?(?:mkl_\w+|iomp5(?:md)?|ipp\w+|svml|intlc|imf|irng|irc|tbbmalloc_proxy)\b"
    r"|x86[-_]64|amd64|\bi[3-6]86\b|(?:^|[-_./])x64(?:[-_./]|$)",
    re.IGNORECASE,
)
_LOAD_ERRORS = frozenset({"OSError", "Exception", "BaseException", "ImportError", "FileNotFoundError"})


class X86NativeLoad(SourceRule):
    code = "ARCH404"

    VALID = (
        "import ctypes, ctypes.util\nlibc = ctypes.CDLL(ctypes.util.find_library('c'))\n",
        "import ctypes\nlib = ctypes.CDLL('libopenblas.so.0')\n",
        "import ctypes, platform\narch = platform.machine()\nlib = ctypes.CDLL(f'./native/libfast_{arch}.so')\n",
        # Picks the library by architecture: an arm64 build exists.
        "import ctypes, platform\nname = {'x86_64': 'libfast_x86_64.so', 'aarch64': 'libfast_aarch64.so'}"
        "[platform.machine()]\nlib = ctypes.CDLL(name)\n",
        "import ctypes\ntry:\n    mkl = ctypes.CDLL('libmkl_rt.so')\nexcept OSError:\n    mkl = None\n",
        "import platform, ctypes\nif platform.machine() == 'x86_64':\n    ctypes.CDLL('libiomp5.so')\n",
        # One if-chain with an arm64 branch: the x86 library is loaded only where it exists.
        "import platform, ctypes\nif platform.machine() == 'aarch64':\n    lib = ctypes.CDLL('libfoo_aarch64.so')\n"
        "elif USE_NATIVE:\n    lib = ctypes.CDLL('libfoo_x86_64.so')\n",
        # The portable module is preferred; the x86 library is the fallback when it is missing.
        "import ctypes\ntry:\n    import openblas_shim as blas\nexcept ImportError:\n"
        "    blas = ctypes.CDLL('libmkl_rt.so')\n",
    )
    INVALID = (
        Example("import ctypes\nmkl = ctypes.CDLL('libmkl_rt.so')\n", 2),
        Example("from ctypes import cdll\nomp = cdll.LoadLibrary('libiomp5.so')\n", 2),
        Example("import os, ctypes\nlib = ctypes.CDLL(os.path.join(HERE, 'lib', 'libdetector_x86_64.so'))\n", 2),
        Example("from cffi import FFI\nffi = FFI()\nipp = ffi.dlopen('libippcore.so')\n", 3),
        Example("import numpy as np\nlib = np.ctypeslib.load_library('libsvml', '/opt/intel/lib/intel64')\n", 2),
        Example("import ctypes\nctypes.CDLL('/usr/lib/x86_64-linux-gnu/libcuda.so.1')\n", 2),
        # An arm64 branch elsewhere in the file does not excuse an unconditional load.
        Example(
            "import ctypes, platform\nif platform.machine() == 'aarch64':\n    pass\nctypes.CDLL('libiomp5.so')\n", 4
        ),
        Example(
            "import ctypes, platform\n\ndef load():\n    if platform.machine() == 'aarch64':\n"
            "        print('arm64')\n    return ctypes.CDLL('libiomp5.so')\n",
            6,
        ),
    )

    def visit_Call(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        q = ctx.qualify(func)
        if q not in _LOADERS and not (isinstance(func, cst.Attribute) and func.attr.value in _LOADER_ATTRS):
            if not (q and q.rsplit(".", 1)[-1] in ("CDLL", "PyDLL") and q.startswith("ctypes")):
                return
        if not node.args:
            return
        for string, text in strings_in(node.args[0].value):
            m = _X86_LIB.search(text)
            if m is None:
                continue
            name = text.replace("\\", "/").rsplit("/", 1)[-1] or text
            guard = ctx.guard(node, _LOAD_ERRORS, portable)
            if guard.kind in ("os", "typing"):
                return
            if guard.kind is not None:
                ctx.report(
                    string, self.code, f"optional load of x86-only native library {name}; the fallback runs on arm64",
                    key=f"load:{name}", severity="info", blocks=False, evidence=f"optionally loads x86 library {name}",
                )  # fmt: skip
                return
            ctx.report(
                string, self.code,
                f"loads x86-only native library {name!r}: the dynamic loader cannot load it on arm64 "
                "(OSError: wrong ELF class / cannot open shared object file)",
                key=f"load:{name}", blocks=True, evidence=f"loads x86-only native library {name}",
            )  # fmt: skip
            return
