"""The vocabulary: which strings name x86, which name arm64, which are x86-only artifacts."""

from __future__ import annotations

import re

# Values platform.machine(), os.uname().machine, platform.processor() and sysconfig.get_platform()
# return on x86 (Linux, macOS, Windows), lower-cased.
X86_MACHINES = frozenset(
    {"x86_64", "x86-64", "amd64", "x86", "x64", "i386", "i486", "i586", "i686", "em64t", "intel64", "ia32", "intel"}
)
_X86_PLATFORM = re.compile(r"^(?:linux|macosx-[\d.]+|win|freebsd-[\w.-]+|cygwin)[-_](?:x86_64|amd64|i[3-6]86)$")

# A string that mentions arm as an architecture: an identifier-like token, a URL or a path
# (prose with spaces does not count: "ARM is not supported" is not an arm64 code path).
_ARM = re.compile(r"aarch64|arm64|armv[5-9]|(?:^|[-_/.])arm(?:$|[-_/.])|^(?:neon|asimd|sve2?)$", re.IGNORECASE)
_ARM_NAME = re.compile(r"aarch64|arm64|(?:^|_)arm(?:$|_)|(?:^|_)(?:neon|sve)(?:$|_)", re.IGNORECASE)

# Counterparts offered by the gate autofix: the arm64 value in the same family (and casing).
ARM_COUNTERPART = {
    "x86_64": "aarch64",
    "amd64": "arm64",
    "AMD64": "ARM64",
    "x64": "arm64",
    "linux-x86_64": "linux-aarch64",
}

# Calls whose value is the machine's architecture name (or a platform string holding it), and
# names that hold it by convention; the AST filter and the libcst rules read the same lists.
MACHINE_CALLS = frozenset(
    {"platform.machine", "platform.processor", "platform.platform", "sysconfig.get_platform",
     "distutils.util.get_platform", "sysconfig.get_host_platform", "distutils.util.get_host_platform"}
)  # fmt: skip
UNAME_CALLS = frozenset({"os.uname", "platform.uname"})
MACHINE_NAMES = frozenset({"machine", "arch", "cpu_arch", "host_arch", "target_arch", "machine_arch"})
CASE_METHODS = frozenset({"lower", "upper", "strip", "casefold", "rstrip", "lstrip"})

# A container platform that is amd64 alone: the value of `platform=`, or a `--platform` flag.
AMD64_ONLY = re.compile(r"^(?:--platform[=\s]+)?linux/amd64(?:/v\d)?$|--platform[=\s]+linux/amd64(?:/v\d)?(?:\s|$)")

# Calls that end the process.
EXIT_CALLS = frozenset({"sys.exit", "exit", "quit", "os._exit", "os.abort", "os.kill", "SystemExit"})


def is_exit_call(name: str, aliases: dict[str, str]) -> bool:
    """Does the dotted call name (`sys.exit`, an alias `bye` of it) end the process?"""
    head, _, rest = name.partition(".")
    full = aliases.get(head, head) + ("." + rest if rest else "")
    return full in EXIT_CALLS or name in EXIT_CALLS


# x86 CPU feature flags as /proc/cpuinfo (and py-cpuinfo) spell them.
X86_FLAGS = re.compile(
    r"^(?:avx|avx2|avx512\w*|avx_vnni\w*|amx\w*|sse4[._]?[12]|sse3|ssse3|fma|fma3|f16c|bmi1|bmi2|popcnt|movbe|sse4a)$",
    re.IGNORECASE,
)

# x86-only artifacts named in a string: download URLs, file names, loader paths, multiarch dirs.
# (pattern, context): a pattern with context "fetched" counts only in a URL, a path or a file name,
# "url" only in a URL; "any" counts anywhere.
_ARTIFACTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), ctx)
    for p, ctx in (
        (r"ld-linux-x86-64\.so(?:\.\d)?", "any"),
        (r"/lib(?:64)?/x86_64-linux-(?:gnu|musl)\b", "any"),
        (r"\bx86_64-(?:unknown|pc)-linux-(?:gnu|musl)\b", "fetched"),
        (r"(?:^|[-_./])linux[-_.](?:amd64|x86[-_]64|x64)(?=[-_./]|$)", "fetched"),
        (r"/linux/(?:amd64|x86_64)/", "url"),
        (r"/(?:x86_64|amd64)/", "url"),
        (r"_amd64\.(?:deb|snap)\b|\.x86_64\.rpm\b", "any"),
        (r"-(?:manylinux|musllinux)[\w.]*_x86_64\.whl\b|-linux_x86_64\.whl\b", "any"),
        (r"^amd64/[\w.-]+(?::[\w.-]+)?$", "any"),  # Docker's per-architecture official images
    )
)
_FETCHED = re.compile(r"://|/|\.(?:tar\.gz|tgz|tar\.xz|tar\.bz2|tar|zip|deb|rpm|whl|bin|run|sh|AppImage|exe)\b")


def is_x86_value(s: str) -> bool:
    low = s.lower()
    return low in X86_MACHINES or bool(_X86_PLATFORM.match(low))


_ARM_HINTS = ("arm", "aarch", "neon", "asimd", "sve")
_SPACE = re.compile(r"\s")


def mentions_arm(s: str) -> bool:
    if not s or len(s) > 300:
        return False
    low = s.lower()
    if not any(h in low for h in _ARM_HINTS) or _SPACE.search(s):
        return False  # the common case, decided without the regex
    return _ARM.search(s) is not None


def name_mentions_arm(name: str) -> bool:
    low = name.lower()
    return any(h in low for h in _ARM_HINTS) and _ARM_NAME.search(name) is not None


def artifact_message(token: str) -> str:
    """ARCH405's message (the libcst rule and the AST path say the same)."""
    return (f"hard-coded x86-only artifact {token!r}: on arm64 this downloads or runs an x86-64 binary "
            "(exec format error); substitute the architecture")  # fmt: skip


def artifact(s: str) -> str | None:
    """The x86-only artifact a string names, if any."""
    if len(s) > 4096:
        return None
    for rx, context in _ARTIFACTS:
        m = rx.search(s)
        if m is None:
            continue
        if context == "fetched" and not _FETCHED.search(s):
            continue
        if context == "url" and "://" not in s:
            continue
        return m.group(0).strip("-_./")
    return None
