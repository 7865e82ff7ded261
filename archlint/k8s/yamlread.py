"""Read multi-document YAML (and JSON) into plain data with the position of every key and item.

libyaml's event stream (PyYAML's C parser) is the fastest way to get both the values and their
marks; building the data from events here, rather than composing nodes and constructing from
them, halves the work and lets us refuse alias bombs while counting, before anything expands.
Positions are kept per container (`Doc.pos[id(container)]`), so a finding can point at any
key path without a second parse. Problems that Kubernetes would reject (duplicate keys) are
collected per document; a syntax error ends that document but not the file: parsing resumes
at the next `---`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events as ev

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing: the pure-Python parser, slower but equal
    from yaml import SafeLoader as _Loader

# An alias may share a subtree, but a document whose aliases expand to more than this many
# nodes (and to many times its real size) is a billion-laughs bomb, refused before expanding.
MAX_EXPANDED_NODES = 200_000
MAX_EXPANSION_RATIO = 10
# Kubernetes objects nest a few dozen levels at most (CRD schemas included).
MAX_DEPTH = 100

Pos = tuple[int, int, int, int]  # key line, key column, value line, value column (1-based)


@dataclass
class Problem:
    line: int
    column: int
    message: str
    code: str  # "syntax" | "duplicate-key" | "alias-bomb" | "alias"


@dataclass
class Doc:
    data: Any
    index: int  # 0-based position of the document in the stream
    start_line: int
    end_line: int
    pos: dict[int, Any] = field(default_factory=dict)  # id(dict) -> {key: Pos}; id(list) -> [(line, col)]
    # id(container) -> (first line, last line), for the containers at the top two levels
    ends: dict[int, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def locate(self, path: tuple[str | int, ...]) -> tuple[int, int]:
        """1-based (line, column) of the value at `path`, or of the deepest ancestor found."""
        node: Any = self.data
        line, col = self.start_line, 1
        for step in path:
            p = self.pos.get(id(node))
            if isinstance(node, dict) and isinstance(step, str) and step in node and p is not None:
                line, col = p[step][2], p[step][3]
                node = node[step]
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node) and p is not None:
                line, col = p[step]
                node = node[step]
            else:
                break
        return line, col

    def locate_key(self, path: tuple[str | int, ...]) -> tuple[int, int]:
        """1-based (line, column) of the key that ends `path` (for a list index: the item)."""
        if not path:
            return self.start_line, 1
        parent: Any = self.data
        for step in path[:-1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):
                return self.locate(path)
        p = self.pos.get(id(parent))
        last = path[-1]
        if isinstance(parent, dict) and p is not None and last in p:
            return p[last][0], p[last][1]
        return self.locate(path)

    def span(self, obj: Any) -> tuple[int, int]:
        return self.ends.get(id(obj), (self.start_line, self.end_line))


# YAML 1.1 implicit typing of plain scalars, as PyYAML's SafeLoader (and go-yaml v2) do it.
_BOOL = {
    "yes": True, "Yes": True, "YES": True, "true": True, "True": True, "TRUE": True, "on": True, "On": True,
    "ON": True, "no": False, "No": False, "NO": False, "false": False, "False": False, "FALSE": False,
    "off": False, "Off": False, "OFF": False,
}  # fmt: skip
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_INT = re.compile(r"[-+]?(?:0b[0-1_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?$|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?$")
_SPECIAL_FLOAT = {".inf": float("inf"), "-.inf": float("-inf"), "+.inf": float("inf"), ".nan": float("nan")}
_STR_TAG = "tag:yaml.org,2002:str"
_SPECIAL_FIRST = frozenset("0123456789-+.~nN")


def _int(v: str) -> int:
    s = v.replace("_", "")
    sign = -1 if s[0] == "-" else 1
    if s[0] in "+-":
        s = s[1:]
    if s.startswith("0b"):
        return sign * int(s[2:], 2)
    if s.startswith("0x"):
        return sign * int(s[2:], 16)
    if s != "0" and s.startswith("0"):
        return sign * int(s, 8)
    return sign * int(s)


def resolve_plain(v: str) -> Any:
    if v in _NULL:
        return None
    c = v[0]
    if c in "0123456789-+.":
        if _INT.match(v):
            return _int(v)
        if _FLOAT.match(v):
            return float(v.replace("_", ""))
        return _SPECIAL_FLOAT.get(v.lower(), v)
    b = _BOOL.get(v)
    return v if b is None else b


def _scalar(e: Any) -> Any:
    tag = e.tag
    if tag is not None and tag != "!":
        if tag == _STR_TAG:
            return e.value
        val = resolve_plain(e.value) if e.value else None
        return val if tag.endswith(("int", "bool", "null", "float")) else e.value
    if e.style or tag == "!":  # libyaml reports plain style as "", the pure parser as None
        return e.value
    return resolve_plain(e.value) if e.value else None


_MS, _ME, _SS, _SE, _SC, _AL = (ev.MappingStartEvent, ev.MappingEndEvent, ev.SequenceStartEvent,
                                ev.SequenceEndEvent, ev.ScalarEvent, ev.AliasEvent)  # fmt: skip
_DS, _DE = ev.DocumentStartEvent, ev.DocumentEndEvent


class _Frame:
    __slots__ = ("anchor", "col", "key", "kpos", "line", "obj", "pos", "size")

    def __init__(self, obj: Any, pos: Any, line: int, col: int, anchor: str | None) -> None:
        self.obj = obj
        self.pos = pos
        self.col = col
        self.key: Any = _NOKEY
        self.kpos: tuple[int, int] = (0, 0)
        self.line = line
        self.size = 1
        self.anchor = anchor


_NOKEY = object()


def _key_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


def _merge(frame: _Frame, value: Any, vpos: Any, doc: Doc) -> None:
    """`<<: *base` (or a list of them): keys not already set come from the merged mappings."""
    sources = value if isinstance(value, list) else [value]
    for src in sources:
        if not isinstance(src, dict):
            continue
        spos = doc.pos.get(id(src), {})
        for k, v in src.items():
            if k not in frame.obj:
                frame.obj[k] = v
                frame.pos[k] = spos.get(k, (*vpos, *vpos))


def read_documents(
    text: str, *, line_offset: int = 0, index_offset: int = 0, seen: list[int] | None = None
) -> Iterator[Doc]:
    """Yield every non-empty document. A syntax error yields a Doc with data None and the
    problem, then parsing resumes at the next document separator. `seen[0]` is kept at the
    index the next document would get (how many documents, empty ones included, were read)."""
    index = index_offset
    seen = seen if seen is not None else [index_offset]
    try:
        for doc in _parse(text, line_offset, index, seen):
            index = doc.index + 1
            yield doc
        return
    except yaml.MarkedYAMLError as e:
        index = seen[0]
        mark = e.problem_mark or e.context_mark
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        col = (mark.column + 1) if mark else 1
        msg = f"{e.problem or e.context or 'invalid YAML'}"
        if e.context and e.problem:
            msg = f"{e.context}, {e.problem}"
        yield Doc(None, index, line, line, problems=[Problem(line, col, f"invalid YAML: {msg}", "syntax")])
    except yaml.YAMLError as e:
        index = seen[0]
        line = line_offset + 1
        yield Doc(None, index, line, line, problems=[Problem(line, 1, f"invalid YAML: {e}", "syntax")])
    seen[0] = index + 1
    # Resume after the failing document: the next line that starts a new document.
    lines_before = line - line_offset  # 1-based line of the error within `text`
    rest = _after_next_separator(text, lines_before)
    if rest is not None:
        skip, tail = rest
        yield from read_documents(tail, line_offset=line_offset + skip, index_offset=index + 1, seen=seen)


_SEP = re.compile(r"^---(?:[ \t].*)?$", re.MULTILINE)


def _after_next_separator(text: str, line: int) -> tuple[int, str] | None:
    """The text from the first separator at or after `line` (1-based), if that makes progress."""
    pos = 0
    for _ in range(line - 1):
        nl = text.find("\n", pos)
        if nl < 0:
            return None
        pos = nl + 1
    m = _SEP.search(text, pos)
    if not m or m.start() == 0:
        m = _SEP.search(text, max(pos, 1))
    if not m:
        return None
    return text.count("\n", 0, m.start()), text[m.start() :]


def _event_source(text: str) -> Callable[[], Any]:
    """libyaml's next-event function, without PyYAML's per-event generator plumbing."""
    try:
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover
        it = iter(yaml.parse(text, Loader=_Loader))
        return lambda: next(it, None)
    return CParser(text).get_event


def _parse(text: str, line_offset: int, index: int, seen: list[int]) -> Iterator[Doc]:
    # The hot loop of the whole scanner: locals only, the common cases inline.
    stack: list[_Frame] = []
    cur: _Frame | None = None
    doc: Doc | None = None
    anchors: dict[str, tuple[Any, int]] = {}
    root: Any = None
    have_root = False
    # Nodes written, and how many more the aliases so far stand for: a node's expanded size is
    # what was written inside it plus what the aliases inside it add.
    real = extra = 0
    lo = line_offset + 1  # libyaml lines are 0-based
    get = _event_source(text)
    nokey = _NOKEY
    while True:
        e = get()
        if e is None:
            return
        t = type(e)
        if t is _SC:
            m = e.start_mark
            line, col = m.line + lo, m.column + 1
            v = e.value
            # The common case inline: a plain, untagged scalar that is an ordinary string.
            try:
                if e.style or e.tag is not None or not v:
                    val = _scalar(e)
                elif v[0] in _SPECIAL_FIRST or v in _BOOL:
                    val = resolve_plain(v)
                else:
                    val = v
            except ValueError:  # a decimal integer past CPython's digit limit (int() refuses it)
                val = v
                if doc is not None:
                    doc.problems.append(Problem(line, col, f"an integer of {len(v)} digits: no Kubernetes field "
                                                "holds it (kept as text)", "number"))  # fmt: skip
            real += 1
            if e.anchor:
                anchors[e.anchor] = (val, 1)
            if cur is None:
                root, have_root = val, True
                continue
            obj = cur.obj
            if type(obj) is list:
                obj.append(val)
                cur.pos.append((line, col))
            elif cur.key is nokey:
                cur.key = val if type(val) is str else _key_text(v)
                cur.kpos = (line, col)
            else:
                key = cur.key
                if key in obj or key == "<<":
                    _set(cur, val, (line, col), doc)
                else:
                    cur.key = nokey
                    obj[key] = val
                    kp = cur.kpos
                    cur.pos[key] = (kp[0], kp[1], line, col)
        elif t is _MS or t is _SS:
            m = e.start_mark
            if len(stack) >= MAX_DEPTH:
                # Deeper than any real object; recursive consumers (schema validation, copies)
                # would overflow the stack on it.
                assert doc is not None
                doc.problems.append(Problem(m.line + lo, m.column + 1, f"nested deeper than {MAX_DEPTH} levels; "
                                            "document refused", "too-deep"))  # fmt: skip
                doc.data = None
                yield doc
                if not _skip_document(get):
                    return
                stack, cur, anchors, doc = [], None, {}, None
                index += 1
                seen[0] = index
                continue
            stack.append(cur)  # type: ignore[arg-type]
            cur = _Frame({} if t is _MS else [], {} if t is _MS else [], m.line + lo, m.column + 1, e.anchor)
            cur.size = real * _SHIFT + extra  # where the counts stood when the node started
            real += 1
        elif t is _ME or t is _SE:
            done = cur
            assert done is not None and doc is not None
            cur = stack.pop()
            val = done.obj
            doc.pos[id(val)] = done.pos
            if len(stack) <= 2:  # spans are wanted for objects: a document, or a List's items
                em = e.end_mark
                doc.ends[id(val)] = (done.line, em.line + lo - (1 if em.column == 0 else 0))
            if done.anchor:
                r0, x0 = divmod(done.size, _SHIFT)
                anchors[done.anchor] = (val, (real - r0) + (extra - x0))
            if cur is None:
                root, have_root = val, True
                continue
            if type(cur.obj) is list:
                cur.obj.append(val)
                cur.pos.append((done.line, done.col))
            elif cur.key is nokey:
                cur.key = _key_text(repr(val))
                cur.kpos = (done.line, done.col)
            else:
                _set(cur, val, (done.line, done.col), doc)
        elif t is _AL:
            m = e.start_mark
            line, col = m.line + lo, m.column + 1
            assert doc is not None
            got = anchors.get(e.anchor)
            if got is None:
                doc.problems.append(Problem(line, col, f"alias *{e.anchor} names no complete anchor", "alias"))
                val, size = None, 1
            else:
                val, size = got
            real += 1
            extra += size - 1
            if real + extra > MAX_EXPANDED_NODES and real + extra > MAX_EXPANSION_RATIO * real:
                # Refuse the document now: nothing has been expanded, and nothing will be.
                doc.problems.append(Problem(line, col, f"aliases expand to more than {MAX_EXPANDED_NODES} nodes "
                                            f"from {real} written (a billion-laughs bomb); document refused",
                                            "alias-bomb"))  # fmt: skip
                doc.data = None
                yield doc
                if not _skip_document(get):
                    return
                stack, cur, anchors, doc = [], None, {}, None
                index += 1
                seen[0] = index
                continue
            if cur is None:
                root, have_root = val, True
            elif type(cur.obj) is list:
                cur.obj.append(val)
                cur.pos.append((line, col))
            elif cur.key is nokey:
                cur.key = _key_text(val)
                cur.kpos = (line, col)
            else:
                _set(cur, val, (line, col), doc)
        elif t is _DS:
            m = e.start_mark
            doc = Doc(None, index, m.line + lo, m.line + lo)
            anchors = {}
            root, have_root = None, False
            real = extra = 0
        elif t is _DE:
            assert doc is not None
            em = e.end_mark
            doc.end_line = em.line + lo - (1 if em.column == 0 and em.line > 0 else 0)
            doc.data = root
            if (have_root and root is not None) or doc.problems:
                yield doc
            index += 1
            seen[0] = index
            doc = None


_SHIFT = 1 << 40  # packs (real, extra) counts into one int on the frame


def _set(frame: _Frame, val: Any, vpos: tuple[int, int], doc: Doc | None) -> None:
    key = frame.key
    frame.key = _NOKEY
    obj = frame.obj
    if key == "<<" and doc is not None:
        _merge(frame, val, vpos, doc)
        return
    if key in obj and doc is not None:
        first = frame.pos[key][0]
        doc.problems.append(
            Problem(frame.kpos[0], frame.kpos[1], f"duplicate key {key!r} (first set on line {first})", "duplicate-key")
        )
    obj[key] = val
    frame.pos[key] = (frame.kpos[0], frame.kpos[1], vpos[0], vpos[1])


def _skip_document(get: Callable[[], Any]) -> bool:
    """Consume events to the end of a refused document; False when the stream ended first."""
    while True:
        e = get()
        if e is None:
            return False
        if type(e) is _DE:
            return True


def read_all(text: str) -> list[Doc]:
    """Every document; a refused or broken one comes with its problem and data None."""
    return list(read_documents(text))
