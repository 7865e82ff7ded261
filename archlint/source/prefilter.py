"""The raw-bytes prefilter: which rules could match a file, decided without decoding or parsing.

Most files match nothing and are never parsed. Each rule's filter is a few substring tests
(`needle in data` runs at memory speed; a regex alternation over a whole file is ~20x slower)
followed, only when they pass, by one narrower regex. A Probe memoises needle results, so
needles shared by several rules are searched once per file. No libcst here: a warm run that
finds everything in the cache never imports it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from archlint.catalogue import knowledge


class Probe:
    __slots__ = ("_seen", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._seen: dict[bytes, bool] = {}

    def has(self, needle: bytes) -> bool:
        hit = self._seen.get(needle)
        if hit is None:
            hit = self._seen[needle] = needle in self.data
        return hit

    def any(self, needles: Iterable[bytes]) -> bool:
        return any(self.has(n) for n in needles)

    def search(self, rx: re.Pattern[bytes]) -> bool:
        return rx.search(self.data) is not None

    def near(self, needles: Iterable[bytes], rx: re.Pattern[bytes], before: int = 120, after: int = 120) -> bool:
        """Does `rx` match in a window around an occurrence of a needle? Regexes that start with an
        alternation (or ignore case) crawl through a whole file at ~20 MB/s; windows keep them cheap."""
        data = self.data
        budget = 4000  # occurrences looked at; past that, say yes and let the parser decide
        for n in needles:
            if not self.has(n):
                continue
            i = data.find(n)
            while i != -1:
                if rx.search(data, max(0, i - before), i + len(n) + after):
                    return True
                budget -= 1
                if budget <= 0:
                    return True
                i = data.find(n, i + 1)
        return False


# Everything x86 the gate, artifact, docker and native-path rules look for contains one of these.
X86 = (b"86", b"md64", b"MD64", b"x64")
EXITS = (b"raise", b"exit", b"assert", b"abort")
MACHINE = (b"machine", b"uname", b"processor", b"get_platform", b"platform()", b"arch")
LOADERS = (b"DLL", b"dlopen", b"LoadLibrary", b"load_library")
CPU = (b"cpu", b"CPU")
FLAGS = (b"avx", b"sse4", b"fma", b"bmi2", b"f16c", b"amx", b"AVX", b"SSE4")

_X86_VALUE = (
    rb"""['"](?:x86_64|x86-64|x86|amd64|AMD64|i[3-6]86|x64|X64|EM64T|Intel64|ia32|IA32|[\w.-]*-x86_64|win-amd64)['"]"""
)
# An x86 value on one side of a comparison (==, !=, in, startswith): what a gate looks like.
GATE = re.compile(
    rb"(?:==|!=|\bin|startswith\(|endswith\()\s*[(\[{]?\s*" + _X86_VALUE
    + rb"|" + _X86_VALUE + rb"\s*(?:==|!=|in\b|not\s+in\b)"
)  # fmt: skip
NATIVE_LIB = re.compile(
    rb"(?i)(?:DLL|dlopen|LoadLibrary|load_library)\s*\([^)]{0,300}?"
    rb"(?:mkl_|iomp5|ipp|svml|intlc|libimf|libirc|irng|x86[-_]64|amd64|i[3-6]86|x64)"
)
# A quoted x86 feature flag tested for membership: `"avx2" in flags`, `'sse4_2' not in cpuinfo`.
CPU_TEST = re.compile(
    rb"""(?i)['"](?:avx\w*|amx\w*|sse4[._]?[12a]?|ssse3|sse3|fma3?|f16c|bmi[12]|popcnt|movbe)['"]\s*(?:not\s+)?in\b"""
)
ARTIFACT = re.compile(
    rb"(?i)ld-linux-x86-64|x86_64-linux-|x86_64-(?:unknown|pc)-linux|linux[-_.](?:amd64|x86[-_]64|x64)"
    rb"|/(?:x86_64|amd64)/|_amd64\.(?:deb|snap)|\.x86_64\.rpm|_x86_64\.whl|['\"]amd64/"
)


@functools.cache
def import_needles() -> tuple[bytes, ...]:
    """The knowledge base's module names, minus those containing another (mkl_fft has mkl)."""
    names = sorted(knowledge("x86_imports")["modules"], key=len)
    out: list[str] = []
    for n in names:
        if not any(o in n for o in out):
            out.append(n)
    return tuple(n.encode() for n in out)


@functools.cache
def import_patterns() -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """`import a, x`, `import_module("x")`, `__import__("x")` and `from x…`: each regex starts
    with a literal ("import", "from"), which `re` finds at memchr speed (4x faster than one
    substring scan per module name)."""
    names = "|".join(re.escape(m) for m in sorted(knowledge("x86_imports")["modules"], key=len, reverse=True))
    alias = r"[\w.]+(?:[ \t]+as[ \t]+\w+)?[ \t]*,[ \t]*"
    imports = rf"import(?:[ \t]+(?:{alias})*|_module\([ \t]*['\"]|__\([ \t]*['\"])(?:{names})\b"
    return re.compile(imports.encode()), re.compile(rf"from[ \t]+(?:{names})\b".encode())


def _imports(p: Probe) -> bool:
    a, b = import_patterns()
    return p.search(a) or p.search(b)


def _gate(p: Probe) -> bool:
    return p.any(X86) and p.any(MACHINE) and p.any(EXITS) and p.near(X86, GATE, 60, 60)


def _native(p: Probe) -> bool:
    return p.any(LOADERS) and p.near(LOADERS, NATIVE_LIB, 4, 340)


def _artifact(p: Probe) -> bool:
    return p.any(X86) and p.near(X86, ARTIFACT, 40, 40)


def _docker(p: Probe) -> bool:
    return p.any((b"md64",)) and p.has(b"linux/amd64")


def _cpu(p: Probe) -> bool:
    return p.any(CPU) and p.any(EXITS) and p.near(FLAGS, CPU_TEST, 2, 40)


FILTERS: dict[str, Callable[[Probe], bool]] = {
    "ARCH401": _imports,  # ARCH402 comes from the same analysis
    "ARCH403": _gate,
    "ARCH404": _native,
    "ARCH405": _artifact,
    "ARCH406": _docker,
    "ARCH407": _cpu,
}


def wanted_codes(data: bytes) -> frozenset[str]:
    """The rules that could match `data`; empty: do not parse."""
    p = Probe(data)
    return frozenset(code for code, f in FILTERS.items() if f(p))


@functools.cache
def _notebook_needles() -> tuple[bytes, ...]:
    return (*X86, *import_needles(), *LOADERS, *CPU)


def notebook_may_match(data: bytes) -> bool:
    """JSON escapes quotes and newlines, so a notebook is first tested on plain needles only;
    the code cells, once extracted, go through `wanted_codes`."""
    return any(n in data for n in _notebook_needles())
