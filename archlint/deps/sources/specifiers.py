"""Version constraints: Poetry's caret/tilde syntax to PEP 440, and the exact pin of a specifier."""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_OP_SPACE = re.compile(r"(\^|~=|~|===|==|!=|>=|<=|>|<|=)\s+")
_SIMPLE_PIN = re.compile(r"^==\s*([0-9][0-9A-Za-z.!+\-]*)$")
_PART = re.compile(r"^(\^|~=|~|===|==|!=|>=|<=|>|<|=)?(.+)$")


def pinned_version(specifier: str) -> str | None:
    """The one version a specifier allows ("==1.2.3" -> "1.2.3"), or None ("==1.2.*", ">=1")."""
    m = _SIMPLE_PIN.match(specifier)
    if m:  # the common case in lockfiles, without building a SpecifierSet
        try:
            Version(m.group(1))
        except ValueError:  # InvalidVersion, or a number past CPython's int() digit limit
            return None
        return m.group(1)
    try:
        specs = list(SpecifierSet(specifier))
    except InvalidSpecifier:
        return None
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    return specs[0].version


def _release(v: str) -> list[int]:
    return list(Version(v).release)


def _bump(parts: list[int], index: int) -> str:
    upper = [*parts[:index], parts[index] + 1] + [0] * (len(parts) - index - 1)
    return ".".join(str(p) for p in upper)


def _caret(v: str) -> str:
    parts = _release(v)
    # ^1.2.3 -> <2.0.0; ^0.2.3 -> <0.3.0; ^0.0.3 -> <0.0.4; ^0.0 -> <0.1; ^0 -> <1
    index = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
    return f">={v},<{_bump(parts, index)}"


def _tilde(v: str) -> str:
    parts = _release(v)
    # ~1.2.3 -> <1.3.0; ~1.2 -> <1.3; ~1 -> <2
    index = 1 if len(parts) > 1 else 0
    return f">={v},<{_bump(parts, index)}"


def poetry_to_pep440(constraint: str) -> str | None:
    """Convert a Poetry version constraint to a PEP 440 specifier ("" for any version).

    None when it has no PEP 440 equivalent (a `||` union) or does not parse.
    """
    text = constraint.strip()
    if text in ("", "*"):
        return ""
    if "|" in text:
        return None
    text = _OP_SPACE.sub(r"\1", text)
    out: list[str] = []
    try:
        for part in (p for p in re.split(r"[\s,]+", text) if p):
            m = _PART.match(part)
            if not m:
                return None
            op, ver = m.group(1) or "", m.group(2)
            if op == "^":
                out.append(_caret(ver))
            elif op == "~":
                out.append(_tilde(ver))
            elif op in ("", "="):
                if ver != "*":
                    out.append(f"=={ver}")
            else:
                out.append(op + ver)
        spec = ",".join(out)
        SpecifierSet(spec)
    except (InvalidVersion, InvalidSpecifier):
        return None
    return spec
