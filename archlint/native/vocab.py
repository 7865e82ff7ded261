"""The vocabulary: which headers, identifiers, macros, assembly and compiler flags are x86-only.

The header and flag lists were checked against Debian's gcc 12 for x86-64 and for aarch64 (the
headers one ships and the other does not; the flags aarch64 gcc rejects): see
tests/native_vocab_test.py, which repeats the comparison when both compilers are installed.
"""

from __future__ import annotations

import functools
import re

# --- headers -------------------------------------------------------------------------------------

# gcc's x86 intrinsic headers (every one of them is absent from aarch64 gcc), clang's extra ones
# follow the same `<feature>intrin.h` naming; `intrin.h` (MSVC, also on Windows on Arm), and the
# LoongArch/s390 `lsxintrin.h`, `lasxintrin.h`, `vecintrin.h` are not x86.
_X86_INTRIN_HEADER = re.compile(
    r"^(?:(?:imm|xmm|emm|pmm|tmm|smm|nmm|wmm|amm|mm|zmm|bmm|x86|x86gpr|ia32|avx\w*|fma4?|f16c|bmi2?|lzcnt|popcnt"
    r"|sha|sha512|sm3|sm4|xsave\w*|adx|rdseed|prfchw|clflushopt|clwb|clzero|cldemote|cet|enqcmd|fxsr|gfni|hreset"
    r"|keylocker|lwp|movdir|mwait|mwaitx|pconfig|pku|rtm|serialize|sgx|tbm|tsxldtrk|uintr|vaes|vpclmulqdq|waitpkg"
    r"|wbnoinvd|xop|xtest|amx\w*|cmpccxadd|prfchi|raoint|usermsr|rdpid|movrs|ptwrite|invpcid|cmpxchg16b|crc32)"
    r"intrin\.h|mm3dnow\.h|mm_malloc\.h|cpuid\.h|cet\.h|cross-stdarg\.h|quadmath\.h|quadmath_weak\.h)$"
)
# glibc headers that exist only on x86 (port I/O, debug registers, vm86, the CPU-feature API).
X86_SYSTEM_HEADERS = frozenset(
    {"sys/io.h", "sys/perm.h", "sys/debugreg.h", "sys/reg.h", "sys/vm86.h", "sys/platform/x86.h"}
)
# Headers that translate x86 intrinsics (the same `_mm_*` names) for other CPUs: sse2neon and
# avx2neon map them to NEON, SIMDe to NEON or plain C. Portable SIMD libraries with their own API
# (highway, xsimd, Vc, EVE) are fine to include but do not make raw x86 intrinsics portable.
PORTABLE_SIMD = re.compile(r"(?:^|/)(?:sse2neon\.h|avx2neon\.h|simde/|simde-[\w-]+\.h)")
# A project's own shim, included only where arm64 compiles: a header named for arm64 and for
# intrinsics (Abseil's `non_temporal_arm_intrinsics.h` defines `_mm_sfence`, `__m128i` … with NEON).
ARM_SHIM_HEADER = re.compile(
    r"(?i)(?:^|[/_-])(?:arm|arm64|aarch64|neon)[_-]?(?:\w*[_-])?(?:intrin\w*|sse\w*|x86\w*)\.h\w*$"
)
# Intrinsics only MSVC's <intrin.h> declares (gcc and clang on Linux have other names): code using
# them does not build on linux/amd64 either, so it cannot be an arm64 gap.
MSVC_ONLY_INTRINSIC = re.compile(r"__popcnt(?:16|64)?|__lzcnt")
# Headers of another architecture's SIMD: a file including them is that architecture's code.
OTHER_ARCH_HEADERS = re.compile(
    r"^(?:arm_neon\.h|arm_sve\.h|arm_acle\.h|arm_fp16\.h|arm_bf16\.h|arm_sme\.h|arm64_neon\.h|lsxintrin\.h"
    r"|lasxintrin\.h|altivec\.h|vecintrin\.h|riscv_vector\.h|wasm_simd128\.h|msa\.h|spe\.h)$"
)
ARM_HEADERS = re.compile(r"^(?:arm_neon\.h|arm_sve\.h|arm_acle\.h|arm_fp16\.h|arm_bf16\.h|arm64_neon\.h)$")


def x86_header(name: str) -> bool:
    n = name.strip().replace("\\", "/")
    return ("/" not in n and bool(_X86_INTRIN_HEADER.match(n))) or n in X86_SYSTEM_HEADERS


# --- identifiers in C/C++/Cython code ------------------------------------------------------------

# x86 SIMD types, SSE/AVX/AVX-512 intrinsics, gcc's ia32 builtins, BMI/LZCNT/RDRAND intrinsics,
# CPUID/RDTSC/XGETBV. Matched on code with comments and string contents blanked. Names a porting
# header (sse2neon, SIMDe) provides are handled by the caller, not here.
X86_IDENT = re.compile(
    r"(?<![\w$])(?:"
    r"(?P<type>__m(?:64|128|256|512)(?:[dhi]|bh|h)?|__mmask(?:8|16|32|64))(?![\w$])"
    r"|(?P<intrin>_mm(?:256|512)?_[a-z0-9]\w*"
    r"|__builtin_ia32_\w+"
    r"|_(?:pdep|pext|bzhi|bextr|tzcnt|lzcnt|blsr|blsi|blsmsk|mulx|addcarryx?|subborrow|popcnt)_u(?:16|32|64)"
    r"|_rd(?:rand|seed)(?:16|32|64)_step|_(?:read|write)(?:fs|gs)base_u(?:32|64)"
    r"|__rdtscp?|__rdpmc|__cpuid(?:ex|_count)?|__get_cpuid(?:_count|_max)?|_xgetbv|_xsetbv|__readeflags|__writeeflags"
    r"|_bswap64|_bit_scan_(?:forward|reverse)|_may_i_use_cpu_feature|_xbegin|_xend|_xabort|_xtest"
    r"|__popcnt(?:16|64)?|__lzcnt(?:16|64)?)(?![\w$])"
    r")"
)
# The same, split by literal prefix: a regex that starts with a literal is found at memchr speed,
# an alternation behind a lookbehind is tried at every offset (measured 6x slower on numpy).
X86_IDENT_PARTS = (
    (re.compile(r"_mm(?:256|512)?_[a-z0-9]\w*"), "_mm"),
    (re.compile(r"__m(?:64|128|256|512)(?:[dhi]|bh|h)?(?![\w$])|__mmask(?:8|16|32|64)(?![\w$])"), "__m"),
    (re.compile(r"__builtin_ia32_\w+"), "__builtin_ia32_"),
)
X86_IDENT_RARE_NEEDLES = ("_pdep", "_pext", "_bzhi", "_bextr", "cnt_u", "_blsr", "_blsi", "_mulx", "addcarry",
                          "subborrow", "_rdrand", "_rdseed", "base_u", "__rdtsc", "__rdpmc", "cpuid", "getbv",
                          "setbv", "eflags", "_bswap64", "_bit_scan", "_may_i_use", "_xbegin", "_xend", "_xabort",
                          "_xtest", "__popcnt", "__lzcnt")  # fmt: skip
# `__builtin_cpu_supports("avx2")` / `__builtin_cpu_is("haswell")`: gcc's x86 (and POWER) CPU tests.
CPU_BUILTIN = re.compile(r'(?<![\w$])__builtin_cpu_(?:supports|is)\s*\(\s*"([^"]*)"')
# `__attribute__((target("avx2")))`, `target_clones(...)`, `[[gnu::target("avx2")]]` and
# `#pragma GCC target("avx2")`: aarch64 gcc rejects x86 targets ("attribute target is not valid").
TARGET_ATTR = re.compile(r'(?<![\w$])(?:__)?target(?:_clones)?(?:__)?\s*\(\s*((?:"[^"\n]*"\s*,?\s*)+)\)')

# x86 ISA names as compiler target strings spell them (target("avx2,fma"), -mavx2, arch=haswell).
_X86_ISA = (
    r"(?:sse\d?(?:\.\d|a)?|ssse3|sse4(?:\.[12]|a)?|avx(?:\d+\w*|vnni\w*|ifma|ne\w*)?|fma4?|f16c|bmi2?|lzcnt|popcnt"
    r"|xop|mmx|3dnow\w*|pclmul|vpclmulqdq|rdrnd|rdseed|movbe|adx|xsave\w*|fxsr|cx16|sahf|aes|sha|gfni|vaes"
    r"|amx[\w-]*|tbm|lwp|abm|prfchw|clflushopt|clwb|clzero|waitpkg|serialize|avx10[\w.-]*|evex512|apxf|crc32)"
)
X86_CPUS = (
    r"(?:i[3-6]86|pentium\w*|prescott|nocona|core2|nehalem|westmere|sandybridge|ivybridge|haswell|broadwell"
    r"|skylake(?:-avx512)?|cannonlake|icelake-(?:client|server)|cascadelake|cooperlake|tigerlake|sapphirerapids"
    r"|emeraldrapids|graniterapids(?:-d)?|alderlake|raptorlake|meteorlake|arrowlake\w*|lunarlake|pantherlake"
    r"|rocketlake|bonnell|atom|silvermont|slm|goldmont(?:-plus)?|tremont|gracemont|sierraforest|grandridge"
    r"|clearwaterforest|knl|knm|corei7(?:-avx)?|core-avx-i|core-avx2|x86-64(?:-v[234])?|k6\w*|k8\w*|athlon\w*"
    r"|opteron\w*|amdfam10|barcelona|bdver[1-4]|btver[12]|znver[1-5]|lujiazui|yongfeng|shijidadao|c3(?:-2)?"
    r"|winchip\w*|geode|lakemont|intel|amd|x86_64)"
)
X86_TARGET_STRING = re.compile(rf"(?<![\w+-])(?:no-)?{_X86_ISA}(?![\w])|arch={X86_CPUS}(?![\w-])", re.IGNORECASE)


def x86_target_string(text: str) -> bool:
    """Does a target("...") / __builtin_cpu_supports("...") argument name x86 features or CPUs?"""
    return bool(X86_TARGET_STRING.search(text))


# --- inline assembly -----------------------------------------------------------------------------

ASM_START = re.compile(
    r"(?<![\w$])(?:__asm__|__asm|asm)(?P<quals>(?:\s+(?:volatile|__volatile__|__volatile|goto|inline))*)\s*(?P<open>[({])?"
)
# In GNU asm templates: AT&T register names (%eax, %%rdx, %xmm0) and mnemonics no arm64 assembler has.
X86_ASM_REGISTER = re.compile(
    r"%%?(?:[re]?(?:ax|bx|cx|dx|si|di|sp|bp)|[abcd][lh]|r(?:8|9|1[0-5])[dwb]?|[xyz]mm\d{1,2}|rip|eflags|rflags)(?![\w])"
)
X86_ASM_MNEMONIC = re.compile(
    r"(?:^|[\n;]|\\n|\\t|\|)\s*(?:lock\s+|rep\w*\s+)?(?P<m>rdtscp?|rdpmc|cpuid|xgetbv|xsetbv|pause|[lms]fence|clflush(?:opt)?"
    r"|clwb|prefetch(?:t[012]|nta|w)|bswap[lq]?|bs[fr][wlq]?|xchg[bwlq]?|cmpxchg(?:8b|16b|[bwlq])?|xadd[bwlq]?|ud2"
    r"|int3|vzeroupper|vzeroall|emms|pxor|movdq[au]|movap[sd]|movup[sd]|movnt\w+|[sl]dmxcsr|fn?stcw|fldcw"
    r"|fninit|fnstsw|rdrand|rdseed|popcnt[wlq]?|lzcnt[wlq]?|tzcnt[wlq]?|pushf[lq]?|popf[lq]?|cmov\w+"
    r"|mov[bwlq]|movz[bw][wlq]|movs[bw][wlq]|lea[lq]|add[bwlq]|sub[bwlq]|xor[bwlq]|and[bwlq]|or[bwlq]|cmp[bwlq]"
    r"|test[bwlq]|shl[dq]|shr[dq]|sar[lq]|imul[lq]|mul[lq]|div[lq]|cltq|cqto|cdq|cqo|vmov\w+|vp\w+|kmov\w)(?![\w.])"
)
# MSVC-style block assembly (`__asm { mov eax, 1 }`, `__asm mov eax, 1`) exists only for 32-bit x86.
MSVC_ASM = re.compile(
    r"(?<![\w$])_?_asm(?![\w$])\s*(?:\{|(?!(?:volatile|__volatile__|__volatile|goto|inline)(?![\w$]))[A-Za-z_])"
)

# --- preprocessor macros -------------------------------------------------------------------------

# Tokens of a macro name (split at "_", case-insensitive) that make it an x86 feature or
# architecture macro: __x86_64__, _M_X64, __AVX2__, NPY_HAVE_AVX512F, HWY_ARCH_X86, HAVE_SSE42.
X86_TOKEN = re.compile(
    r"^(?:x86\w*|x64|amd64|ix86|i[3-6]86|ia32|sse\d*|ssse3|sse4\w*|avx\w*|fma[34]|f16c|bmi[12]?|lzcnt|xop|mmx"
    r"|3dnow|pclmul\w*|vpclmulqdq|popcnt|rdrnd|rdrand|rdseed|intel|knl|knm|skx|haswell|skylake|icelake|znver\d"
    r"|immintrin|x86intrin|emmintrin|xmmintrin|amx\w*)$",
    re.IGNORECASE,
)
ARM_TOKEN = re.compile(r"^(?:aarch64|arm64|arm|armv\d\w*|neon\w*|asimd\w*|sve\d?|a64|aarch)$", re.IGNORECASE)
_SPLIT = re.compile(r"[_\W]+")


def _tokens(name: str) -> list[str]:
    return [t for t in _SPLIT.split(name) if t]


# gcc's x86 feature macros whose names alone do not say x86 (`__FMA__`, not `__ARM_FEATURE_FMA`).
X86_FEATURE_MACROS = frozenset(
    "__ADX__ __AES__ __ATOMIC_HLE_ACQUIRE __ATOMIC_HLE_RELEASE __CLDEMOTE__ __CLFLUSHOPT__ __CLWB__ __CLZERO__ "
    "__CRC32__ __ENQCMD__ __FMA__ __FSGSBASE__ __FXSR__ __GFNI__ __HLE__ __HRESET__ __KL__ __LAHF_SAHF__ __LWP__ "
    "__MOVBE__ __MOVDIR64B__ __MOVDIRI__ __MWAITX__ __PCONFIG__ __PKU__ __PRFCHW__ __PTWRITE__ __RDPID__ "
    "__RDSEED__ __RTM__ __SERIALIZE__ __SGX__ __SHA__ __SHSTK__ __TBM__ __TSXLDTRK__ __UINTR__ __VAES__ __WAITPKG__ "
    "__WBNOINVD__ __WIDEKL__ __XSAVEC__ __XSAVEOPT__ __XSAVES__ __XSAVE__ __SIZEOF_FLOAT80__ __SIZEOF_FLOAT128__ "
    "__DECIMAL_BID_FORMAT__ __SEG_FS __SEG_GS __code_model_small__ __k8 __k8__".split()
)
_X86_CPU_MACRO = re.compile(rf"^__(?:tune_)?{X86_CPUS}(?:__)?$".replace("x86-64", "x86_64"))


@functools.lru_cache(maxsize=65536)
def x86_macro(name: str) -> bool:
    if name in X86_FEATURE_MACROS or _X86_CPU_MACRO.match(name):
        return True
    return any(X86_TOKEN.match(t) for t in _tokens(name))


@functools.lru_cache(maxsize=65536)
def arm_macro(name: str) -> bool:
    return any(ARM_TOKEN.match(t) for t in _tokens(name))


# What gcc/clang predefine on linux/arm64 (armv8-a baseline, LP64): `gcc -dM -E` on Debian's
# aarch64-linux-gnu-gcc 12. Values used in #if arithmetic.
ARM64_DEFINED: dict[str, int | None] = {
    "__aarch64__": 1, "__ARM_64BIT_STATE": 1, "__ARM_ARCH": 8, "__ARM_ARCH_8A": 1, "__ARM_ARCH_ISA_A64": 1,
    "__ARM_ARCH_PROFILE": 65, "__ARM_NEON": 1, "__ARM_FP": 14, "__ARM_FEATURE_FMA": 1, "__ARM_FEATURE_CLZ": 1,
    "__ARM_FEATURE_IDIV": 1, "__ARM_FEATURE_UNALIGNED": 1, "__ARM_FEATURE_NUMERIC_MAXMIN": 1,
    "__ARM_PCS_AAPCS64": 1, "__ARM_SIZEOF_WCHAR_T": 4, "__ARM_SIZEOF_MINIMAL_ENUM": 4, "__ARM_FP16_ARGS": 1,
    "__ARM_FP16_FORMAT_IEEE": 1, "__AARCH64EL__": 1, "__AARCH64_CMODEL_SMALL__": 1, "__LP64__": 1, "_LP64": 1,
    "__linux__": 1, "__linux": 1, "__gnu_linux__": 1, "linux": 1, "__unix__": 1, "__unix": 1, "unix": 1,
    "__ELF__": 1, "__CHAR_UNSIGNED__": 1, "__SIZEOF_POINTER__": 8, "__SIZEOF_LONG__": 8, "__SIZEOF_INT128__": 16,
    "__SIZEOF_LONG_DOUBLE__": 16, "__ORDER_LITTLE_ENDIAN__": 1234, "__ORDER_BIG_ENDIAN__": 4321,
    "__ORDER_PDP_ENDIAN__": 3412, "__BYTE_ORDER__": 1234, "__FLOAT_WORD_ORDER__": 1234, "__STDC__": 1,
    "__GNUC__": None, "__GNUC_MINOR__": None, "__STDC_HOSTED__": 1,
}  # fmt: skip
# The same for linux/x86-64 (the amd64 baseline: SSE2 but no AVX unless a flag enables it).
X86_64_DEFINED: dict[str, int | None] = {
    "__x86_64__": 1, "__x86_64": 1, "__amd64__": 1, "__amd64": 1, "__SSE__": 1, "__SSE2__": 1, "__SSE_MATH__": 1,
    "__SSE2_MATH__": 1, "__MMX__": 1, "__FXSR__": 1, "__k8": 1, "__k8__": 1, "__code_model_small__": 1,
    "__LP64__": 1, "_LP64": 1, "__linux__": 1, "__linux": 1, "__gnu_linux__": 1, "linux": 1, "__unix__": 1,
    "__unix": 1, "unix": 1, "__ELF__": 1, "__SIZEOF_POINTER__": 8, "__SIZEOF_LONG__": 8, "__SIZEOF_INT128__": 16,
    "__SIZEOF_LONG_DOUBLE__": 16, "__ORDER_LITTLE_ENDIAN__": 1234, "__ORDER_BIG_ENDIAN__": 4321,
    "__ORDER_PDP_ENDIAN__": 3412, "__BYTE_ORDER__": 1234, "__FLOAT_WORD_ORDER__": 1234, "__STDC__": 1,
    "__GNUC__": None, "__GNUC_MINOR__": None, "__STDC_HOSTED__": 1, "__SEG_FS": 1, "__SEG_GS": 1,
}  # fmt: skip
# Never defined on Linux with gcc/clang (other OSes, MSVC, the Intel compilers, other CPUs).
NOT_ON_LINUX = frozenset(
    "_WIN32 _WIN64 WIN32 WIN64 __WIN32__ __WINDOWS__ _WINDOWS __NT__ _MSC_VER _MSC_FULL_VER _MSC_BUILD __MINGW32__ "
    "__MINGW64__ __CYGWIN__ __CYGWIN32__ _M_ARM64 _M_ARM64EC _M_ARM _M_ARMT _M_IA64 _M_PPC __INTEL_COMPILER "
    "__INTEL_LLVM_COMPILER __ICC __ICL __ECC __SUNPRO_C __SUNPRO_CC __IBMC__ __xlC__ __APPLE__ __MACH__ __APPLE_CC__ "
    "TARGET_OS_MAC TARGET_OS_IPHONE __FreeBSD__ __OpenBSD__ __NetBSD__ __DragonFly__ __sun __sun__ __HAIKU__ "
    "__EMSCRIPTEN__ __wasm__ __wasm32__ __wasm64__ __wasm_simd128__ _AIX __hpux __QNX__ __OS2__ __DJGPP__".split()
)
NOT_ON_ARM64 = frozenset(
    "__arm__ __thumb__ __thumb2__ __ARM_ARCH_7A__ __ARM_ARCH_7__ __ARM_ARCH_6__ __ARMEL__ __ARMEB__ __AARCH64EB__ "
    "__ARM_BIG_ENDIAN __BIG_ENDIAN__ _BIG_ENDIAN __ILP32__ _ILP32 __powerpc__ __powerpc64__ __PPC__ __PPC64__ "
    "__ppc__ __ppc64__ _ARCH_PPC _ARCH_PPC64 _ARCH_PWR8 _ARCH_PWR9 __VSX__ __ALTIVEC__ __s390__ __s390x__ __zarch__ "
    "__riscv __riscv_vector __loongarch__ __loongarch64 __loongarch_sx __loongarch_asx __mips__ __mips __mips64 "
    "__sparc__ __sparc __ia64__ __ia64 __hppa__ __alpha__ __m68k__ __sh__ __e2k__ __CUDA_ARCH__".split()
)
NOT_ON_X86_64 = frozenset(
    "__i386__ __i386 i386 __i486__ __i586__ __i686__ __ILP32__ _ILP32 __x86_32__ __aarch64__ __ARM_NEON "
    "__ARM_NEON__ __ARM_ARCH __arm64__ __arm64 __ARM_FEATURE_SVE __ARM_FEATURE_SVE2".split()
)

# --- compiler flags ------------------------------------------------------------------------------

# gcc/clang flags aarch64 gcc rejects because they name x86 features, CPUs or x86 code models.
_X86_M_OPTION = (
    rf"(?:no-)?(?:{_X86_ISA}|red-zone|stackrealign|fpmath=\S+|vzeroupper|prefer-vector-width=\S+|prefer-avx128"
    r"|tls-dialect=gnu2?|cmodel=(?:medium|kernel|32)|long-double-(?:64|80|128)|80387|fp-ret-in-387|ieee-fp|sse2avx|align-double|mwaitx|rdpid"
    r"|movdiri|movdir64b|cldemote|ptwrite|enqcmd|uintr|hreset|kl|widekl|shstk|ibt|rtm|hle|pku|sgx|fsgsbase|rdpid)"
)
X86_FLAG = re.compile(
    rf"^(?:-m{_X86_M_OPTION}|-m(?:32|64|x32|16)|-m(?:arch|tune|cpu)={X86_CPUS}"
    r"|[/-]arch:(?:IA32|SSE2?|AVX(?:2|512|10\.\d+)?)|[/-]Qx(?!Host\b)\S+|-x(?:CORE-AVX\S*|COMMON-AVX512|AVX\S*|SSE\S*"
    r"|SSSE3|SKYLAKE\S*|BROADWELL|HASWELL|ICELAKE\S*|SAPPHIRERAPIDS|CASCADELAKE|TIGERLAKE|ALDERLAKE|ATOM\S*|MIC-AVX512)"
    r"|-ax\S+|[/-]Qax\S+)$",
    re.IGNORECASE,
)
HOST_FLAG = re.compile(r"^(?:-m(?:arch|tune|cpu)=native|-xHost|[/-]QxHost)$", re.IGNORECASE)
# `-mavx2` inside a longer string: compiler command lines, CMAKE_C_FLAGS values, -Dc_args=...
FLAG_TOKEN = re.compile(r"(?<![\w./-])(?:-m[\w.=+-]+|[/-]arch:\w[\w.]*|[/-]Qa?x\w[\w-]*|-a?x[A-Z][\w.-]*)")


def flag_kind(token: str) -> str | None:
    """The kind of a flag: "x86" (only x86 compilers accept it), "host" (-march=native …) or None."""
    t = token.strip().strip("'\"")
    if HOST_FLAG.match(t):
        return "host"
    if X86_FLAG.match(t):
        return "x86"
    return None


def flags_in(text: str) -> list[tuple[int, str, str]]:
    """(offset, flag, kind) of every x86 or host-CPU flag in a command line or flags string."""
    out = []
    for m in FLAG_TOKEN.finditer(text):
        kind = flag_kind(m.group())
        if kind:
            out.append((m.start(), m.group(), kind))
    return out


# What a flag becomes on arm64 (shown in fixes and on the rule page).
def arm64_replacement(flag: str) -> str:
    t = flag.lower()
    if t.startswith(("-march=", "-mcpu=")):
        return "-march=armv8.2-a (Graviton2, Ampere Altra) or no -march at all"
    if t.startswith("-mtune="):
        return "-mtune=neoverse-n1, or no -mtune"
    if t in ("-m64", "-m32", "-mx32"):
        return "nothing (aarch64 gcc is always LP64 and has no -m64)"
    return "nothing: NEON is part of the arm64 baseline, and the compiler auto-vectorises with it at -O2/-O3"
