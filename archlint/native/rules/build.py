"""ARCH711-ARCH714: x86 compiler flags and x86 feature macros in the files that build native code.

tests/native_vocab_test.py hands every flag these rules call x86-only to Debian's aarch64 gcc,
which must reject it (and every flag they leave alone must be accepted).
"""

from __future__ import annotations

from archlint.native import vocab
from archlint.native.interface import UNDECIDED, NativeRule, Use
from archlint.native.interface import NativeExample as Ex
from archlint.source.interface import Hit

_SETUP = """from setuptools import Extension, setup

setup(
    name="fastsum",
    ext_modules=[Extension("fastsum._k", ["ext/k.c"], extra_compile_args=["-O3", "-mavx2", "-mfma"])],
)
"""


def _s(use: Use) -> str:
    return "s" if use.count > 1 else ""


def _them(use: Use) -> str:
    return "them" if use.count > 1 else "it"


class X86CompilerFlag(NativeRule):
    code = "ARCH711"
    VALID = (
        # pybind11's has_flag shape: the flag is probed, then used only when the compiler takes it.
        Ex(
            "import setuptools\nfrom setuptools.command.build_ext import build_ext\n\n\n"
            "def has_flag(compiler, flag):\n    return try_compile(compiler, flag)\n\n\n"
            "class BuildExt(build_ext):\n    def build_extensions(self):\n        opts = ['-O3']\n"
            "        if has_flag(self.compiler, '-mavx2'):\n            opts.append('-mavx2')\n"
            "        for ext in self.extensions:\n            ext.extra_compile_args = opts\n"
            "        super().build_extensions()\n",
            path="setup.py",
        ),
        Ex(
            "import platform\nfrom setuptools import Extension\n\nargs = ['-O3']\n"
            "if platform.machine() in ('x86_64', 'AMD64'):\n    args += ['-mavx2', '-mfma']\n"
            "ext = Extension('k', ['k.c'], extra_compile_args=args)\n",
            path="setup.py",
        ),
        # MSVC flags for Windows builds only.
        Ex(
            "import sys\nfrom setuptools import Extension\n\n"
            "args = ['/arch:AVX2'] if sys.platform == 'win32' else ['-O3']\n"
            "ext = Extension('k', ['k.c'], extra_compile_args=args)\n",
            path="setup.py",
        ),
        # Removing a flag is not using it.
        Ex("flags = get_flags()\nif '-march=native' in flags:\n    flags.remove('-march=native')\n", path="setup.py"),
        Ex(
            "cmake_minimum_required(VERSION 3.18)\nproject(k C)\n"
            'if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")\n  add_compile_options(-mavx2 -mfma)\n'
            'elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")\n'
            "  add_compile_options(-march=armv8.2-a)\nendif()\n",
            path="CMakeLists.txt",
        ),
        Ex(
            "include(CheckCCompilerFlag)\ncheck_c_compiler_flag(-mavx2 HAVE_MAVX2)\nif(HAVE_MAVX2)\n"
            "  target_compile_options(k PRIVATE -mavx2)\nendif()\n",
            path="CMakeLists.txt",
        ),
        Ex("if(MSVC)\n  add_compile_options(/arch:AVX2)\nendif()\n", path="CMakeLists.txt"),
        Ex(
            "project('k', 'c')\ncc = meson.get_compiler('c')\nif host_machine.cpu_family() in ['x86', 'x86_64']\n"
            "  add_project_arguments('-mavx2', language: 'c')\nendif\n"
            "simd = cc.get_supported_arguments(['-mavx512f', '-mavx512bw'])\n",
            path="meson.build",
        ),
        Ex(
            "UNAME_M := $(shell uname -m)\nCFLAGS = -O2\nifeq ($(UNAME_M),x86_64)\n  CFLAGS += -mavx2\nendif\n",
            path="Makefile",
        ),
        Ex(
            '[[tool.scikit-build.overrides]]\nif.platform-machine = "x86_64"\ncmake.define.CMAKE_C_FLAGS = "-mavx2"\n',
            path="pyproject.toml",
        ),
    )
    INVALID = (
        Ex(_SETUP, 5, path="setup.py"),
        Ex(
            "from setuptools import Extension\n\nCOMPILE_ARGS = [\n    '-O3',\n    '-march=haswell',\n]\n"
            "ext = Extension('k', ['k.c'], extra_compile_args=COMPILE_ARGS)\n",
            5,
            path="setup.py",
        ),
        Ex(
            "from setuptools.command.build_ext import build_ext\n\nclass B(build_ext):\n"
            "    copt = {'msvc': ['/arch:AVX2'], 'unix': ['-mavx2', '-mbmi2']}\n",
            4,
            path="setup.py",
        ),
        Ex(
            "cmake_minimum_required(VERSION 3.18)\nproject(k C)\nadd_compile_options(-mavx2)\n",
            3,
            path="CMakeLists.txt",
        ),
        Ex('set(CMAKE_C_FLAGS "${CMAKE_C_FLAGS} -msse4.2 -mpopcnt")\n', 1, path="CMakeLists.txt"),
        Ex("project('k', 'c')\nadd_project_arguments('-mavx2', language: 'c')\n", 2, path="meson.build"),
        Ex("py.extension_module('_k', 'k.c', c_args: ['-O3', '-march=skylake'])\n", 1, path="meson.build"),
        Ex("CFLAGS = -O2 -Wall -mavx2 -mfma\nk.o: k.c\n\t$(CC) $(CFLAGS) -c k.c\n", 1, path="Makefile"),
        Ex('[tool.scikit-build]\ncmake.define = { CMAKE_C_FLAGS = "-O3 -mavx2" }\n', 2, path="pyproject.toml"),
        Ex("[tool.meson-python.args]\nsetup = ['-Dc_args=-march=haswell']\n", 2, path="pyproject.toml"),
        Ex('[tool.cibuildwheel.linux]\nenvironment = { CFLAGS = "-O3 -mavx2" }\n', 2, path="pyproject.toml"),
        Ex(
            "[build_ext]\ninplace = 1\n[options]\n# flags for the extension\nextra_compile_args = -mavx2\n",
            5,
            path="setup.cfg",
        ),
        # An opt-in whose condition does not say which CPU it is for: a warning.
        Ex("import os\nargs = ['-O3']\nif os.environ.get('FAST'):\n    args.append('-mavx2')\n", 4, path="setup.py"),
    )

    def render(self, use: Use, path: str) -> Hit:
        flags = use.what
        first = flags.split()[0]
        undecided = use.state == UNDECIDED
        where = f" under {use.guard}, a condition that does not say which CPU it is for," if undecided else ""
        message = (
            f"x86-only compiler flag{_s(use)} `{flags}` ({use.detail}){where}: aarch64 gcc and clang reject "
            f"{_them(use)} (unrecognized command-line option), so this does not build on arm64; pass "
            f"{_them(use)} only when building for x86, and on arm64 use {vocab.arm64_replacement(first)}"
        )
        return self.hit(
            use, message, key=f"flag:{flags}", severity="warning" if undecided else None,
            blocks=not undecided, evidence=f"x86-only compiler flags {flags} ({use.detail})", fix=use.fix,
        )  # fmt: skip


class GuardedX86Flag(NativeRule):
    code = "ARCH712"
    INVALID = (
        Ex(
            'if(CMAKE_SYSTEM_PROCESSOR STREQUAL "x86_64")\n  add_compile_options(-mavx2)\nendif()\n',
            2,
            path="CMakeLists.txt",
        ),
        Ex("ifeq ($(shell uname -m),x86_64)\nCFLAGS += -mavx2\nendif\n", 2, path="Makefile"),
    )

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(
            use,
            f"x86 compiler flag{_s(use)} `{use.what}` ({use.detail}) used only for x86 builds, {use.guard}: arm64 "
            f"builds without {_them(use)}",
            key=f"flag:{use.what}", blocks=False,
            evidence=f"x86 compiler flags {use.what} used only for x86 builds, {use.guard}",
        )  # fmt: skip


class HostCpuFlag(NativeRule):
    code = "ARCH713"
    VALID = (Ex("add_compile_options(-mtune=generic -O2)\n", path="CMakeLists.txt"),)
    INVALID = (
        Ex(
            "from setuptools import Extension\next = Extension('k', ['k.c'], extra_compile_args=['-march=native'])\n",
            2,
            path="setup.py",
        ),
        Ex("CFLAGS += -O3 -march=native\n", 1, path="Makefile"),
    )

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(
            use,
            f"`{use.what}` ({use.detail}) compiles for the build machine's CPU, not for arm64 or x86-64 in general: "
            "arm64 gcc takes it, but a binary built on one node type can stop with SIGILL (illegal instruction) "
            "on another (a Graviton3 build on Graviton2, an AVX-512 build host on an older x86 node); pin a "
            "baseline instead (-march=armv8.2-a on arm64, -march=x86-64-v2 on x86)",
            key=f"host:{use.what}",
        )  # fmt: skip


class X86MacroEverywhere(NativeRule):
    code = "ARCH714"
    VALID = (
        Ex(
            "import platform\nfrom setuptools import Extension\nmacros = []\n"
            "if platform.machine() == 'x86_64':\n    macros.append(('USE_AVX2', '1'))\n"
            "ext = Extension('k', ['k.c'], define_macros=macros)\n",
            path="setup.py",
            files=(("k.c", "#ifdef USE_AVX2\n#include <immintrin.h>\n#endif\n"),),
        ),
    )
    INVALID = (
        Ex(
            "from setuptools import Extension\next = Extension('k', ['k.c'], define_macros=[('USE_AVX2', '1')])\n",
            2,
            path="setup.py",
            files=(
                (
                    "k.c",
                    "#ifdef USE_AVX2\n#include <immintrin.h>\nstatic __m256 z(void) "
                    "{ return _mm256_setzero_ps(); }\n#endif\n",
                ),
            ),
        ),
        Ex(
            "add_definitions(-DHAVE_SSE42)\nadd_library(k k.c)\n",
            1,
            path="CMakeLists.txt",
            files=(("k.c", "#if defined(HAVE_SSE42)\n#include <nmmintrin.h>\n#endif\n"),),
        ),
    )

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(
            use,
            f"defines {use.what} ({use.detail}) for every platform, and it turns on x86-only code ({use.guard}): "
            "arm64 builds then compile that code and fail; define it only when building for x86",
            key=f"define:{use.what}", blocks=True,
            evidence=f"defines {use.what} everywhere, enabling x86 code ({use.guard})",
        )  # fmt: skip
