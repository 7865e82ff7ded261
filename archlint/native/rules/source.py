"""ARCH701-ARCH707, ARCH709: x86-only code in C, C++ and Cython sources.

Every C example under VALID and INVALID is also handed to Debian's aarch64 gcc by the tests
(`-fsyntax-only`, when the cross compiler is installed): VALID ones must compile for arm64,
INVALID ones (marked `oracle`) must not — the compiler is the oracle for what "x86-only" means.
"""

from __future__ import annotations

import functools
import re

from archlint.catalogue import knowledge
from archlint.native.interface import NativeExample as Ex
from archlint.native.interface import NativeRule, Use
from archlint.source.interface import Hit

_GUARD = "#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)"
_TYPES = {
    "__m128": "float32x4_t", "__m128d": "float64x2_t", "__m128i": "int32x4_t / uint8x16_t (by lane type)",
    "__m64": "int32x2_t / uint8x8_t", "__m256": "two float32x4_t (or SVE svfloat32_t)",
    "__m256d": "two float64x2_t (or SVE svfloat64_t)", "__m256i": "two 128-bit NEON vectors (or SVE)",
    "__m512": "four float32x4_t (or SVE svfloat32_t)", "__m512d": "four float64x2_t (or SVE svfloat64_t)",
    "__m512i": "four 128-bit NEON vectors (or SVE)",
}  # fmt: skip
_INTRIN = re.compile(r"^_mm(256|512)?_(?:mask_|maskz_)?([a-z]+\d?)_(ep[iu]\d+|si\d+|ps|pd|ss|sd)$")


@functools.cache
def _kb() -> dict[str, dict[str, str]]:
    return knowledge("neon_equivalents")


def neon_equivalent(name: str) -> str:
    """What to write on arm64 instead of x86 intrinsic `name` ("" when the table has nothing)."""
    kb = _kb()
    base = name.split("(")[0]
    if base in kb["exact"]:
        return kb["exact"][base]
    if base in _TYPES:
        return _TYPES[base]
    m = _INTRIN.match(base)
    if not m:
        return ""
    width, op, typ = m.groups()
    neon_op = kb["ops"].get(op)
    neon_t = kb["types"].get(typ)
    if not neon_op or not neon_t:
        return ""
    times = {"256": " on two 128-bit halves (or SVE)", "512": " on four 128-bit quarters (or SVE)"}.get(width or "", "")
    suffix = neon_t.split(" ", 1)
    extra = f" {suffix[1]}" if len(suffix) > 1 else ""
    op_name, _, note = neon_op.partition(" ")
    return f"{op_name}_{suffix[0]}{' ' + note if note else ''}{extra}{times}"


def _count(use: Use) -> str:
    return f" ({use.count} uses)" if use.count > 1 else ""


class X86Header(NativeRule):
    code = "ARCH701"
    VALID = (
        # xxHash's shape: one #if ladder picks the SIMD header per CPU, with a NEON and a scalar rung.
        Ex(
            "#define XXH_SCALAR 0\n#define XXH_SSE2 1\n#define XXH_AVX2 2\n#define XXH_NEON 4\n"
            "#if defined(__AVX2__)\n#  include <immintrin.h>\n#  define XXH_VECTOR XXH_AVX2\n"
            "#elif defined(__SSE2__) || defined(_M_AMD64) || defined(_M_X64)\n#  include <emmintrin.h>\n"
            "#  define XXH_VECTOR XXH_SSE2\n#elif defined(__ARM_NEON) || defined(__aarch64__)\n"
            "#  include <arm_neon.h>\n"
            "#  define XXH_VECTOR XXH_NEON\n#else\n#  define XXH_VECTOR XXH_SCALAR\n#endif\n"
            "#if XXH_VECTOR == XXH_AVX2\n"
            "static void acc(__m256i *a, const void *p) { *a = _mm256_add_epi64(*a, _mm256_loadu_si256(p)); }\n"
            "#elif XXH_VECTOR == XXH_NEON\n"
            "static void acc(uint64x2_t *a, const void *p) { *a = vaddq_u64(*a, vld1q_u64(p)); }\n#endif\n"
        ),
        # __has_include: arm64 compilers answer 0 for x86 headers.
        Ex(
            "#if __has_include(<immintrin.h>)\n#include <immintrin.h>\n#define HAVE_X86_SIMD 1\n#endif\n"
            "#ifdef HAVE_X86_SIMD\nstatic __m128 z(void) { return _mm_setzero_ps(); }\n#endif\n"
        ),
        # MSVC-only code never reaches a Linux arm64 compiler.
        Ex(
            "#ifdef _MSC_VER\n#include <intrin.h>\n#include <immintrin.h>\n"
            "static int cpu(void) { int r[4]; __cpuid(r, 0); return r[0]; }\n#endif\n"
        ),
        # A header only x86-only code includes (x86-simd-sort inside numpy's x86 dispatch source).
        Ex(
            "#include <immintrin.h>\nstatic __m512i ones(void) { return _mm512_set1_epi32(1); }\n",
            path="src/xss-common.h",
            files=(("src/x86_simd_qsort.dispatch.cpp", '#include "xss-common.h"\n'),),
            oracle=False,
        ),
    )
    INVALID = (
        Ex("#include <Python.h>\n#include <immintrin.h>\n", 2, oracle=False),
        Ex("#include <stdint.h>\n#include <x86intrin.h>\n\nuint64_t now(void) { return __rdtsc(); }\n", 2),
        Ex(
            "#include <cpuid.h>\n\nint has_avx(void) {\n  unsigned a, b, c, d;\n"
            "  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AVX);\n}\n",
            1,
        ),
        # Guarded by a condition that does not test the CPU: arm64 compiles it when USE_SIMD is set.
        Ex("#include <stdint.h>\n#ifdef USE_SIMD\n#include <smmintrin.h>\n#endif\n", 3, "ARCH707", oracle=False),
    )

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(
            use,
            f"includes <{use.what}>, an x86-only header, where arm64 compiles it: arm64 compilers do not ship it "
            f"(fatal error: {use.what}: No such file or directory); guard it with `{_GUARD}` and give arm64 a path "
            "(<arm_neon.h>, sse2neon.h or SIMDe), or drop it for portable code",
            key=f"header:{use.what}", blocks=True,
            evidence=f"includes x86-only header <{use.what}>",
        )  # fmt: skip


class X86Intrinsic(NativeRule):
    code = "ARCH702"
    VALID = (
        # sse2neon: the same SSE code compiles on arm64, translated to NEON.
        Ex(
            '#if defined(__aarch64__) || defined(_M_ARM64)\n#include "sse2neon.h"\n#else\n#include <xmmintrin.h>\n'
            "#endif\nfloat first(const float *a) { __m128 v = _mm_loadu_ps(a); return _mm_cvtss_f32(v); }\n",
            oracle=False,
        ),
        # SIMDe with native aliases: x86 names, portable implementations.
        Ex(
            "#define SIMDE_ENABLE_NATIVE_ALIASES\n#include <simde/x86/avx2.h>\n"
            "void add8(float *o, const float *a) { _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(a), "
            "_mm256_loadu_ps(o))); }\n",
            oracle=False,
        ),
        # numpy's feature macros (set by its build per target) and a NEON rung.
        Ex(
            "#if defined(NPY_HAVE_AVX2)\n#include <immintrin.h>\ntypedef __m256 npyv_f32;\n"
            "#define npyv_add_f32 _mm256_add_ps\n#elif defined(NPY_HAVE_NEON)\n#include <arm_neon.h>\n"
            "typedef float32x4_t npyv_f32;\n#define npyv_add_f32 vaddq_f32\n#endif\n"
        ),
        # Runtime dispatch in an x86-only block, a portable kernel for everything else.
        Ex(
            "#if defined(__x86_64__) || defined(__i386__)\n#include <immintrin.h>\n"
            '__attribute__((target("avx2"))) static void k_avx2(float *x) { _mm256_storeu_ps(x, '
            '_mm256_setzero_ps()); }\nstatic int fast(void) { return __builtin_cpu_supports("avx2"); }\n#endif\n'
            "static void k_generic(float *x) { for (int i = 0; i < 8; i++) x[i] = 0; }\n"
        ),
        # LoongArch's LSX reuses the __m128 type names: not x86 code.
        Ex(
            "#include <lsxintrin.h>\nstatic __m128i zero(void) { return __lsx_vldi(0); }\n",
            path="simd/lsx/lsx.h",
            files=(("simd/sse/sse.h", "\n"),),
            oracle=False,
        ),
        # Dead everywhere.
        Ex("#if 0\nstatic void old(void) { _mm_empty(); }\n#endif\n"),
        # A project macro defined only inside an x86-only branch.
        Ex(
            "#if defined(__SSE4_2__) || defined(__AVX__)\n#define FAST_CRC 1\n#endif\n"
            "#ifdef FAST_CRC\n#include <nmmintrin.h>\n#define CRC(c, v) _mm_crc32_u32(c, v)\n#else\n"
            "#define CRC(c, v) crc32_sw(c, v)\n#endif\n"
        ),
        # CRoaring's shape: a macro gets the x86 intrinsic and its NEON twin; each CPU's definition picks one.
        Ex(
            "#include <stdint.h>\n#if defined(__x86_64__)\n#include <immintrin.h>\n"
            "#define WORDS_FN(name, x86op, neonop) static __m256i name(__m256i a, __m256i b) { return x86op(a, b); }\n"
            "#elif defined(__aarch64__)\n#include <arm_neon.h>\n"
            "#define WORDS_FN(name, x86op, neonop) static uint64x2_t name(uint64x2_t a, uint64x2_t b) "
            "{ return neonop(a, b); }\n#endif\nWORDS_FN(words_or, _mm256_or_si256, vorrq_u64)\n"
            "WORDS_FN(words_andnot, _mm256_andnot_si256, vbicq_u64)\n"
        ),
        # Names that merely contain `_mm_` are not intrinsics (numpy's TIMEDELTA_mm_m_add).
        Ex("void TIMEDELTA_mm_m_add(char **args);\nint my_mm_count;\n"),
    )
    INVALID = (
        Ex(
            "#include <immintrin.h>\n\nvoid add8(float *o, const float *a, const float *b) {\n"
            "    __m256 x = _mm256_loadu_ps(a);\n    _mm256_storeu_ps(o, _mm256_add_ps(x, _mm256_loadu_ps(b)));\n}\n",
            4,
        ),
        Ex("unsigned long long r(void) { unsigned long long v; _rdrand64_step(&v); return v; }\n", 1, oracle=False),
        Ex('int avx2(void) { return __builtin_cpu_supports("avx2"); }\n', 1, oracle=False),
        Ex(
            "typedef float v4 __attribute__((vector_size(16)));\n"
            "v4 shuf(v4 a) { return __builtin_ia32_shufps(a, a, 0x1b); }\n",
            2,
            oracle=False,
        ),
    )

    def render(self, use: Use, path: str) -> Hit:
        eq = neon_equivalent(use.what)
        kind = "x86 SIMD type" if use.what.startswith("__m") else "x86 intrinsic"
        arm = f"; on arm64: {eq}" if eq else "; on arm64 use NEON (arm_neon.h), sse2neon/SIMDe, or portable code"
        return self.hit(
            use,
            f"uses {kind} `{use.what}`{_count(use)} where arm64 compiles it: arm64 compilers do not declare it{arm}",
            end_column=use.end_column, key=f"intrinsic:{use.what}", blocks=True,
            evidence=f"uses {kind} {use.what}",
        )  # fmt: skip


class X86Assembly(NativeRule):
    code = "ARCH703"
    VALID = (
        # CPython's pymath.h shape: x87 control word, x86 and gcc only.
        Ex(
            "#if defined(__GNUC__) && (defined(__i386__) || defined(__x86_64__))\n"
            'static unsigned short getcw(void) { unsigned short cw; __asm__ __volatile__ ("fnstcw %0" : "=m" (cw)); '
            "return cw; }\n#endif\n"
        ),
        # Highway's timer: a rung per architecture.
        Ex(
            "#include <stdint.h>\nstatic inline uint64_t ticks(void) {\n  uint64_t t;\n#if defined(__aarch64__)\n"
            '  __asm__ volatile("mrs %0, cntvct_el0" : "=r"(t));\n#elif defined(__x86_64__)\n'
            '  __asm__ volatile("lfence\\n\\trdtsc\\n\\tshl $32, %%rdx\\n\\tor %%rdx, %0" : "=a"(t) :: "rdx");\n'
            "#else\n  t = 0;\n#endif\n  return t;\n}\n"
        ),
        # A compiler barrier has no instruction in it.
        Ex('static inline void barrier(void) { __asm__ __volatile__("" ::: "memory"); }\n'),
    )
    INVALID = (
        Ex(
            "static unsigned long long ticks(void) {\n    unsigned lo, hi;\n"
            '    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));\n    return ((unsigned long long)hi << 32) | lo;\n}\n'
            "unsigned long long now(void) { return ticks(); }\n",
            3,
        ),
        Ex(
            "static void cpuid(unsigned leaf, unsigned *r) {\n"
            '    __asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf));\n}\n'
            "void probe(unsigned *r) { cpuid(0, r); }\n",
            2,
        ),
        Ex('static inline void relax(void) { __asm__ __volatile__("pause"); }\nvoid spin(void) { relax(); }\n', 1),
        Ex('long swap(long *p, long v) { __asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*p)); return v; }\n', 1),
    )

    def render(self, use: Use, path: str) -> Hit:
        eq = neon_equivalent(f"__{use.what}") or neon_equivalent(f"_mm_{use.what}")
        arm = f"; on arm64: {eq}" if eq else ""
        return self.hit(
            use,
            f"x86 inline assembly (`{use.what}`){_count(use)} where arm64 compiles it: the arm64 assembler rejects it "
            f"(Error: unknown mnemonic); guard it with `{_GUARD}` and add an arm64 branch, or use a portable "
            f"builtin{arm}",
            key=f"asm:{use.what}", blocks=True, evidence=f"x86 inline assembly ({use.what})",
        )  # fmt: skip


class X86TargetAttribute(NativeRule):
    code = "ARCH704"
    VALID = (
        Ex('__attribute__((target("+sve"))) int f(int x) { return x + 1; }\n', oracle=False),
        Ex(
            '#ifdef __x86_64__\n#pragma GCC push_options\n#pragma GCC target("avx2,fma")\n'
            "static int f(int x) { return x + 1; }\n#pragma GCC pop_options\n#endif\n"
        ),
    )
    INVALID = (
        Ex('__attribute__((target("avx2"))) int twice(int x) { return 2 * x; }\n', 1),
        Ex('__attribute__((target_clones("avx2", "default"))) int inc(int x) { return x + 1; }\n', 1),
        Ex('#pragma GCC target("sse4.2")\nint inc(int x) { return x + 1; }\n', 1),
    )

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(
            use,
            f"x86 target attribute `{use.what}`{_count(use)} where arm64 compiles it: aarch64 gcc rejects it "
            "(error: pragma or attribute target is not valid); guard it by architecture, or use "
            "target_clones with arm64 targets too (gcc 14: \"sve\", \"default\")",
            key=f"target:{use.what}", blocks=True, evidence=f"x86 target attribute {use.what}",
        )  # fmt: skip


class GuardedX86Code(NativeRule):
    code = "ARCH705"
    VALID = ()
    INVALID = (
        Ex(
            "#ifdef __AVX2__\n#include <immintrin.h>\nstatic __m256 z(void) { return _mm256_setzero_ps(); }\n"
            "#elif defined(__ARM_NEON)\n#include <arm_neon.h>\n#endif\n",
            2,
        ),
        # numpy's layout: the build picks simd/avx2/ or simd/neon/ per CPU.
        Ex(
            "#include <immintrin.h>\ntypedef __m256i npyv_u8;\n",
            1,
            path="simd/avx2/avx2.h",
            files=(("simd/neon/neon.h", "#include <arm_neon.h>\n"),),
            oracle=False,
        ),
        # A compile probe the build system tries only on x86, beside its NEON twin.
        Ex(
            "#include <immintrin.h>\nint main(void) { __m256 a = _mm256_setzero_ps(); return (int)a[0]; }\n",
            1,
            path="checks/cpu_avx.c",
            files=(("checks/cpu_neon.c", "#include <arm_neon.h>\n"),),
            oracle=False,
        ),
    )

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(use, use.detail, key="guarded", blocks=False, evidence=use.detail)


class X86ErrorDirective(NativeRule):
    code = "ARCH706"
    VALID = (
        Ex(
            "#if defined(__x86_64__)\n#define ARCH 1\n#elif defined(__aarch64__)\n#define ARCH 2\n#else\n"
            '#error "unsupported architecture"\n#endif\n'
        ),
        Ex('#if !defined(__GNUC__)\n#error "needs gcc or clang"\n#endif\n'),
    )
    INVALID = (
        Ex('#if !defined(__x86_64__) && !defined(_M_X64)\n#error "this extension requires x86-64"\n#endif\n', 2),
        Ex('#if defined(__x86_64__) || defined(__i386__)\n#define FAST 1\n#else\n#error "x86 only"\n#endif\n', 4),
    )

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(
            use,
            f"`{use.what}` is reached on arm64: {use.guard} tests for x86 and stops every other build; "
            "give arm64 a branch (or a portable fallback) instead of the #error",
            key=f"error:{use.what}", blocks=True, evidence=f"{use.what} on non-x86 builds",
        )  # fmt: skip


class UndecidedGuard(NativeRule):
    code = "ARCH707"
    VALID = (
        # Highway's spin.h shape: a project macro set from an x86 test is about x86 too, so a condition on it
        # (with an unrelated IDE switch) is an x86 guard.
        Ex(
            "#ifndef ENABLE_MONITORX\n#if defined(__x86_64__) && defined(__GNUC__)\n#define ENABLE_MONITORX 1\n#else\n"
            "#define ENABLE_MONITORX 0\n#endif\n#endif\n#if ENABLE_MONITORX || IDE_BUILD\n#include <x86intrin.h>\n"
            "static void wait_for(void *p) { _mm_monitorx(p, 0, 0); }\n#endif\n"
        ),
        # Undecided, but the same chain has a path for everything else.
        Ex("#ifdef USE_SIMD\n#include <immintrin.h>\n#define ADD _mm_add_ps\n#else\n#define ADD add_scalar\n#endif\n"),
    )
    INVALID = (
        Ex(
            "#if ENABLE_FAST_PATH\n#include <immintrin.h>\nstatic __m128 z(void) { return _mm_setzero_ps(); }\n"
            "#endif\n",
            2,
            oracle=False,
        ),
    )

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(
            use,
            f"x86 code (`{use.what}`{_count(use)}) under {use.guard}, a condition that does not say which CPU it is "
            "for, and no other branch: if the build enables it on arm64, the build fails there; test the "
            "architecture too (`defined(__x86_64__)`), or add an arm64/portable branch",
            key=f"undecided:{use.what}", blocks=False,
            evidence=f"x86 code ({use.what}) under {use.guard}",
        )  # fmt: skip


class NotAnalysed(NativeRule):
    code = "ARCH709"
    INVALID = ()

    def render(self, use: Use, path: str) -> Hit:
        return self.hit(use, use.detail, key=f"not-analysed:{use.what}")
