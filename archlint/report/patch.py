"""`--diff` output as git writes a patch, so `git apply` takes it from the repository root.

Three things difflib alone gets wrong for `git apply`: a last line without a newline needs the
`\\ No newline at end of file` marker (else the next file's header is glued onto it); lines
end at "\\n" only (str.splitlines also splits at \\r, \\x0c, U+2028, which git counts as
ordinary characters, so hunk lengths would disagree); and names with unusual characters are
C-quoted as git quotes them (core.quotePath), with a tab after a name that holds a space.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

NO_NEWLINE = "\\ No newline at end of file\n"
_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\"}


def lines(text: str) -> list[str]:
    """Split at "\\n" only, keeping the ends; a last line without one stays as it is."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def quote(name: str) -> str:
    """A path as git prints it in a patch header: C-quoted when it holds a quote, a backslash,
    a control character or a non-ASCII byte."""
    raw = name.encode("utf-8", "surrogateescape")
    if not any(b < 0x20 or b >= 0x7F or b in (34, 92) for b in raw):
        return name
    body = "".join(_ESCAPES.get(b) or (f"\\{b:03o}" if b < 0x20 or b >= 0x7F else chr(b)) for b in raw)
    return f'"{body}"'


def file_diff(rel: str, old: str, new: str) -> str:
    a, b = quote(f"a/{rel}"), quote(f"b/{rel}")
    tab = "\t" if " " in rel and not a.startswith('"') else ""
    body = list(difflib.unified_diff(lines(old), lines(new), n=3))[2:]  # its own ---/+++ lines are replaced
    if not body:
        return ""
    out = [f"diff --git {a} {b}\n", f"--- {a}{tab}\n", f"+++ {b}{tab}\n"]
    for line in body:
        out.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE)
    return "".join(out)


def git_patch(files: Iterable[tuple[str, str, str]]) -> str:
    """One patch for (repo-relative path, old text, new text) triples, in the order given."""
    return "".join(file_diff(rel, old, new) for rel, old, new in files)
