"""Placement fixes as precise text edits that keep the user's YAML (comments, key order,
quoting, indentation, flow style, JSON) intact, plus the same change as a patch object.

A change is first planned on the plain data as a few operations on the pod spec (set a value,
add a key, append to a list, delete or rename a key); the operations are applied to a copy for
the strategic-merge-patch shown in the JSON report, and turned into text edits against the
composed YAML nodes of the file, whose marks say exactly where each value starts and ends.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from archlint.findings import Edit
from archlint.k8s import schedule
from archlint.k8s.profile import ARCH_LABEL, BETA_ARCH_LABEL, ClusterProfile, Taint

if TYPE_CHECKING:
    from archlint.facts import Workload

Path = tuple[str | int, ...]
WANTS = ("amd64", "arm64", "multi-arch")
PREFERRED_WEIGHT = 50


@dataclass(frozen=True)
class Op:
    """One change to the pod spec. `path` is relative to the pod spec.

    set: replace the value at path; add: add key to the mapping at path; append: add items to
    the list at path; delete: remove key from the mapping at path; rename: rename key.
    """

    kind: str
    path: Path
    key: str = ""
    value: Any = None
    new_key: str = ""


# ---------------------------------------------------------------- planning (plain data)


def _d(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _arch_expr(values: list[str]) -> dict[str, Any]:
    return {"key": ARCH_LABEL, "operator": "In", "values": values}


def _is_arch_key(k: Any) -> bool:
    return k in (ARCH_LABEL, BETA_ARCH_LABEL)


def _require_ops(spec: dict[str, Any], arches: list[str]) -> list[Op]:
    """Make every way the pod can be admitted require one of `arches`."""
    ops: list[Op] = []
    sel = _d(spec.get("nodeSelector"))
    sel_keys = [k for k in sel if _is_arch_key(k)]
    terms = schedule.required_terms(spec)
    single = arches[0] if len(arches) == 1 else None
    # Terms: every non-empty term gets (or has corrected) an arch expression. An empty term
    # matches nothing and is left alone: giving it an expression would make it match.
    term_ops: list[Op] = []
    tpath: Path = ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
    for i, term in enumerate(terms or []):
        t = _d(term)
        exprs = _l(t.get("matchExpressions"))
        if not exprs and not t.get("matchFields"):
            continue
        arch_idx = [j for j, e in enumerate(_l(exprs)) if isinstance(e, dict) and _is_arch_key(e.get("key"))]
        if arch_idx:
            for j in arch_idx[:1]:
                e = exprs[j]
                if e.get("key") != ARCH_LABEL:
                    term_ops.append(Op("set", (*tpath, i, "matchExpressions", j, "key"), value=ARCH_LABEL))
                if e.get("operator") != "In":
                    term_ops.append(Op("set", (*tpath, i, "matchExpressions", j, "operator"), value="In"))
                if [str(v) for v in _l(e.get("values"))] != arches:
                    term_ops.append(Op("set", (*tpath, i, "matchExpressions", j, "values"), value=list(arches)))
        elif sel_keys or single is None:
            continue  # the selector (or nothing, for multi-arch) decides
        elif isinstance(t.get("matchExpressions"), list):
            term_ops.append(Op("append", (*tpath, i, "matchExpressions"), value=[_arch_expr(list(arches))]))
        else:
            term_ops.append(Op("add", (*tpath, i), key="matchExpressions", value=[_arch_expr(list(arches))]))
    if single is not None:
        if sel_keys:
            for k in sel_keys:
                if k == BETA_ARCH_LABEL and ARCH_LABEL in _d(sel):
                    ops.append(Op("delete", ("nodeSelector",), key=k))
                    continue
                # Set the value before renaming the key: both edits then find their node by the
                # key as written.
                if str(sel[k]) != single:
                    ops.append(Op("set", ("nodeSelector", k), value=single))
                if k == BETA_ARCH_LABEL:
                    ops.append(Op("rename", ("nodeSelector",), key=k, new_key=ARCH_LABEL))
        elif not any(_d(t).get("matchExpressions") or _d(t).get("matchFields") for t in terms or []):
            if isinstance(spec.get("nodeSelector"), dict):
                ops.append(Op("add", ("nodeSelector",), key=ARCH_LABEL, value=single))
            else:
                ops.append(_set_or_add(spec, "nodeSelector", {ARCH_LABEL: single}))
    else:
        # Both arches: a nodeSelector cannot say "either", so its arch key goes.
        if sel_keys:
            if len(sel_keys) == len(_d(sel)):
                ops.append(Op("delete", (), key="nodeSelector"))
            else:
                ops.extend(Op("delete", ("nodeSelector",), key=k) for k in sel_keys)
    return ops + term_ops


def _set_or_add(parent: dict[str, Any], key: str, value: Any, path: Path = ()) -> Op:
    return Op("set", (*path, key), value=value) if key in parent else Op("add", path, key=key, value=value)


def _prefer_arm64_ops(spec: dict[str, Any]) -> list[Op]:
    if schedule.prefers_arch(spec, "arm64"):
        return []
    term = {"weight": PREFERRED_WEIGHT, "preference": {"matchExpressions": [_arch_expr(["arm64"])]}}
    aff = spec.get("affinity")
    if not isinstance(aff, dict):
        return [
            _set_or_add(spec, "affinity", {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [term]}})
        ]
    na = aff.get("nodeAffinity")
    if not isinstance(na, dict):
        return [_set_or_add(aff, "nodeAffinity", {"preferredDuringSchedulingIgnoredDuringExecution": [term]},
                            ("affinity",))]  # fmt: skip
    pref = na.get("preferredDuringSchedulingIgnoredDuringExecution")
    if isinstance(pref, list):
        return [
            Op("append", ("affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"), value=[term])
        ]
    return [_set_or_add(na, "preferredDuringSchedulingIgnoredDuringExecution", [term], ("affinity", "nodeAffinity"))]


def toleration_for(t: Taint) -> dict[str, Any]:
    if t.value:
        return {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect}
    return {"key": t.key, "operator": "Exists", "effect": t.effect}


def tolerate_ops(spec: dict[str, Any], profile: ClusterProfile) -> list[Op]:
    """Tolerate the taints of the arm64 pools the pod's selectors admit (all arm64 pools when
    none does), skipping what is already tolerated or added by the platform (GKE)."""
    arm = profile.arm64_pools()
    assume = schedule.assumed_labels(spec, profile)
    admitted = [p for p in arm if schedule.selector_reason(spec, p, assume) is None] or list(arm)
    needed: list[Taint] = []
    for pool in admitted:
        for t in schedule.untolerated(spec, pool, profile):
            if t not in needed:
                needed.append(t)
    if not needed:
        return []
    tols = [toleration_for(t) for t in needed]
    if isinstance(spec.get("tolerations"), list):
        return [Op("append", ("tolerations",), value=tols)]
    return [_set_or_add(spec, "tolerations", tols)]


def apply_ops(spec: dict[str, Any], ops: list[Op]) -> dict[str, Any]:
    new = copy.deepcopy(spec)
    for op in ops:
        parent: Any = new
        steps = op.path if op.kind in ("add", "append", "delete", "rename") else op.path[:-1]
        for s in steps:
            parent = parent[s]
        if op.kind == "set":
            parent[op.path[-1]] = copy.deepcopy(op.value)
        elif op.kind == "add":
            parent[op.key] = copy.deepcopy(op.value)
        elif op.kind == "append":
            parent.extend(copy.deepcopy(op.value))
        elif op.kind == "delete":
            parent.pop(op.key, None)
        elif op.kind == "rename":
            parent[op.new_key] = parent.pop(op.key)
    return new


def plan(spec: dict[str, Any], want: str, profile: ClusterProfile) -> list[Op]:
    """Ops that make the pod require `want` ("amd64" | "arm64") or allow both and prefer arm64
    ("multi-arch"); [] when the spec already says so."""
    if want not in WANTS:
        raise ValueError(f"want must be one of {WANTS}, not {want!r}")
    arches = ["amd64", "arm64"] if want == "multi-arch" else [want]
    ops = _require_ops(spec, arches)
    after = apply_ops(spec, ops)
    if want == "multi-arch":
        more = _prefer_arm64_ops(after)
        ops += more
        after = apply_ops(after, more)
    if want in ("arm64", "multi-arch"):
        ops += tolerate_ops(after, profile)
    return ops


def beta_label_ops(spec: dict[str, Any]) -> list[tuple[Path, Op]]:
    """Renames of beta.kubernetes.io/{arch,os} in nodeSelector and affinity expressions, each
    with the path (from the pod spec) of the key or expression it fixes."""
    out: list[tuple[Path, Op]] = []
    sel = spec.get("nodeSelector")
    for k in list(_d(sel)):
        if isinstance(k, str) and k.startswith("beta.kubernetes.io/") and k.split("/", 1)[1] in ("arch", "os"):
            new = "kubernetes.io/" + k.split("/", 1)[1]
            if new in _d(sel):
                out.append((("nodeSelector", k), Op("delete", ("nodeSelector",), key=k)))
            else:
                out.append((("nodeSelector", k), Op("rename", ("nodeSelector",), key=k, new_key=new)))
    na = _d(_d(spec.get("affinity")).get("nodeAffinity"))
    req = "requiredDuringSchedulingIgnoredDuringExecution"
    pre = "preferredDuringSchedulingIgnoredDuringExecution"
    groups: list[tuple[Path, Any]] = []
    for i, term in enumerate(_l(_d(na.get(req)).get("nodeSelectorTerms"))):
        groups.append((("affinity", "nodeAffinity", req, "nodeSelectorTerms", i), term))
    for i, p in enumerate(_l(na.get(pre))):
        groups.append((("affinity", "nodeAffinity", pre, i, "preference"), _d(p).get("preference")))
    for base, term in groups:
        for j, e in enumerate(_l(_d(term).get("matchExpressions"))):
            bk = _d(e).get("key")
            if isinstance(bk, str) and bk in ("beta.kubernetes.io/arch", "beta.kubernetes.io/os"):
                path = (*base, "matchExpressions", j, "key")
                out.append((path, Op("set", path, value="kubernetes.io/" + bk.split("/", 1)[1])))
    return out


def patch_object(old: dict[str, Any], new: dict[str, Any], spec_path: tuple[Any, ...],
                 base: dict[str, Any] | None = None) -> dict[str, Any] | None:  # fmt: skip
    """A strategic-merge patch for the workload object: changed pod-spec fields (nodeSelector
    merges key by key, so removed keys are null; lists are replaced whole). A step of
    `spec_path` that is a mapping stands for the list item it identifies (`{"name": "train"}`).
    With `base` (the fields as written where the pod's spec is assembled from parts), a changed
    field is diffed against what is written there, so an inherited one is given whole."""
    if base is not None:
        fields = [f for f in sorted(set(old) | set(new)) if old.get(f) != new.get(f)]
        old = {f: base[f] for f in fields if f in base}
        new = {f: new[f] for f in fields if f in new}
    changed: dict[str, Any] = {}
    for f in sorted(set(old) | set(new)):
        if old.get(f) == new.get(f):
            continue
        if f not in new:
            changed[f] = None
        elif f == "nodeSelector" and isinstance(old.get(f), dict) and isinstance(new[f], dict):
            changed[f] = {k: new[f].get(k) for k in sorted(set(old[f]) | set(new[f])) if old[f].get(k) != new[f].get(k)}
        else:
            changed[f] = new[f]
    if not changed:
        return None
    out: Any = changed
    for step in reversed(_object_path(spec_path)):
        out = [{**step, **out}] if isinstance(step, dict) else {step: out}
    return out if isinstance(out, dict) else None


def _object_path(spec_path: tuple[Any, ...]) -> tuple[Any, ...]:
    # Items of a `kind: List` are objects of their own: the patch is relative to the item.
    if len(spec_path) >= 2 and spec_path[0] == "items" and isinstance(spec_path[1], int):
        return spec_path[2:]
    return spec_path


def placement_edits(
    wl: Workload, text: str, want: str, profile: ClusterProfile
) -> tuple[dict[str, Any] | None, list[Edit]]:
    """The patch object and the text edits that make `wl` require/allow `want` (see module doc)."""
    ops = plan(wl.pod_spec, want, profile)
    if not ops:
        return None, []
    new = apply_ops(wl.pod_spec, ops)
    patch = patch_object(wl.pod_spec, new, wl.patch_path or wl.spec_path, wl.patch_base)
    if not wl.editable:
        return patch, []  # its scheduling is not written at spec_path in its file: the patch only
    return patch, ops_to_edits(text, wl.doc_index, wl.spec_path, ops, wl.path)


# ---------------------------------------------------------------- text edits (YAML nodes)


@functools.lru_cache(maxsize=8)
def _compose(text: str) -> tuple[list[Any], bool, list[str]] | None:
    """The YAML nodes of `text`, whether it is JSON, and its lines: once per text, however many
    workloads in it get edits."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError:
        return None
    return nodes, _is_json(text), text.splitlines(keepends=True)


try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader


# Line ranges of the documents of recently scanned files, so an edit composes only its own
# document instead of the whole file (a 1,000-document file would otherwise be composed again
# for every workload that gets a fix). Keyed by content, so any caller holding the same text
# benefits; bounded.
_RANGES: OrderedDict[tuple[int, int], dict[int, tuple[int, int]]] = OrderedDict()
_MAX_RANGES = 64


def document_key(text: str) -> tuple[int, int]:
    return len(text), hash(text)


def remember_documents(text: str, ranges: dict[int, tuple[int, int]]) -> None:
    """Record the 1-based (first, last) line of each document index of `text`."""
    remember_documents_by_key(document_key(text), ranges)


def remember_documents_by_key(key: tuple[int, int], ranges: dict[int, tuple[int, int]]) -> None:
    """The same, from a key computed elsewhere (a forked worker shares the hash seed)."""
    _RANGES[key] = ranges
    for stale in [k for k in _DOCS if k[0] == key]:  # composed before the ranges were known
        del _DOCS[stale]
    _RANGES.move_to_end(key)
    while len(_RANGES) > _MAX_RANGES:
        _RANGES.popitem(last=False)


_Found = tuple[Any, bool, list[str], int]
# Documents already composed, by (text key, index): the items of one `kind: List` are all in
# document 0, and slicing, joining and hashing that document again for every item made a List
# quadratic (20,000 Deployments took minutes). Nodes are only read, so sharing them is safe.
_DOCS: OrderedDict[tuple[tuple[int, int], int], _Found | None] = OrderedDict()
_MAX_DOCS = 64


def _document(text: str, doc_index: int) -> _Found | None:
    key = (document_key(text), doc_index)
    if key in _DOCS:
        _DOCS.move_to_end(key)
        return _DOCS[key]
    found = _compose_document(text, doc_index)
    _DOCS[key] = found
    while len(_DOCS) > _MAX_DOCS:
        _DOCS.popitem(last=False)
    return found


def _compose_document(text: str, doc_index: int) -> _Found | None:
    """The composed document, JSON-ness, its lines and its line offset in the file: from the
    remembered range when there is one, else from composing the whole file."""
    known = _RANGES.get(document_key(text))
    if known is not None:
        # Only the recorded ranges are trusted: a file read in chunks numbers its documents per
        # chunk, so composing the whole file and counting would pick the wrong one.
        rng = known.get(doc_index)
        if rng is None:
            return None
        lines = _lines(text)
        first, last = rng
        chunk = lines[first - 1 : last]
        piece = _compose("".join(chunk))
        if piece is None or len(piece[0]) != 1 or piece[0][0] is None:
            return None
        return piece[0][0], _is_json(text), chunk, first - 1
    composed = _compose(text)
    if composed is None:
        return None
    nodes, is_json, lines = composed
    if doc_index >= len(nodes) or nodes[doc_index] is None:
        return None
    return nodes[doc_index], is_json, lines, 0


# (first line, first column, last line, end column), 0-based, of each item of a List document.
_Span = tuple[int, int, int, int]
_ITEMS: OrderedDict[tuple[tuple[int, int], int], list[_Span] | None] = OrderedDict()


def _list_item(text: str, doc_index: int, item: int) -> _Found | None:
    """Item `item` of the `kind: List` that is document `doc_index`, composed on its own: a
    20,000-item List composed whole holds ~40 bytes of nodes per byte of YAML, the item alone a
    few KiB. The item's text is cut at its exact start and end (columns kept, what precedes it
    on its first line blanked), so node marks are file positions less the line offset."""
    key = (document_key(text), doc_index)
    if key not in _ITEMS:
        _ITEMS[key] = _item_spans(text, doc_index)
        while len(_ITEMS) > _MAX_DOCS:
            _ITEMS.popitem(last=False)
    spans = _ITEMS[key]
    if spans is None or not 0 <= item < len(spans):
        return None
    sl, sc, el, ec = spans[item]
    lines = _lines(text)
    if el >= len(lines):  # the item ends the file: its end mark is past the last line
        el = len(lines) - 1
        ec = len(lines[el]) if el >= 0 else 0
    chunk = lines[sl : el + 1]
    probe = [*chunk]
    if not chunk:
        return None
    if el == sl:
        probe[0] = " " * sc + chunk[0][sc:ec] + "\n"
    else:
        probe[0] = " " * sc + chunk[0][sc:]
        probe[-1] = chunk[-1][:ec] + "\n"
    piece = _compose("".join(probe))
    if piece is None or len(piece[0]) != 1 or not isinstance(piece[0][0], yaml.MappingNode):
        return None
    return piece[0][0], _is_json(text), chunk, sl


def _item_spans(text: str, doc_index: int) -> list[_Span] | None:
    """Where each item of the document's top-level `items` sequence starts and ends, from
    libyaml's events (no nodes are built)."""
    known = _RANGES.get(document_key(text))
    if known is not None:
        rng = known.get(doc_index)
        if rng is None:
            return None
        part, offset, skip = "".join(_lines(text)[rng[0] - 1 : rng[1]]), rng[0] - 1, 0
    else:
        part, offset, skip = text, 0, doc_index
    spans: list[_Span] = []
    depth, docs = 0, -1
    expect_key, last_key, in_items = True, None, False  # the root mapping's keys and values
    start = None
    try:
        for ev in yaml.parse(part, Loader=_Loader):
            if isinstance(ev, yaml.DocumentStartEvent):
                docs += 1
                if docs > skip:
                    break
                continue
            if docs != skip or isinstance(ev, (yaml.DocumentEndEvent, yaml.StreamEndEvent)):
                continue
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if depth == 0 and not isinstance(ev, yaml.MappingStartEvent):
                    return None
                if depth == 1:
                    in_items = not expect_key and last_key == "items" and isinstance(ev, yaml.SequenceStartEvent)
                    expect_key = not expect_key
                elif depth == 2 and in_items:
                    start = ev.start_mark
                depth += 1
            elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
                if depth == 2 and in_items and start is not None:
                    end = ev.end_mark
                    spans.append((start.line + offset, start.column, end.line + offset, end.column))
                elif depth == 1:
                    in_items = False
            elif depth == 1:  # a scalar or alias key or value of the root mapping
                last_key = ev.value if expect_key and isinstance(ev, yaml.ScalarEvent) else None
                expect_key = not expect_key
            elif depth == 2 and in_items:
                return None  # a scalar or alias item: not a list of objects
    except yaml.YAMLError:
        return None
    return spans


@functools.lru_cache(maxsize=4)
def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


_JSON_START = re.compile(r"[\ufeff \t\r\n]*[{\[]")


def _is_json(text: str) -> bool:
    return _JSON_START.match(text) is not None  # (not lstrip: that copies a 10 MB file per edit)


class _NoNode(Exception):
    pass


def _child(node: Any, step: str | int) -> Any:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == step:
                return v
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    raise _NoNode(step)


def _key_node(mapping: Any, key: str) -> tuple[Any, Any]:
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    raise _NoNode(key)


def _node_at(root: Any, path: Path) -> Any:
    node = root
    for step in path:
        node = _child(node, step)
    return node


def _last_end(node: Any) -> tuple[int, int]:
    """0-based (line, column) just after the last character a node's content occupies (block
    collections' own end marks point at the next token, past comments and blank lines)."""
    if isinstance(node, yaml.ScalarNode) or node.flow_style:
        m = node.end_mark
        return m.line, m.column
    if isinstance(node, yaml.MappingNode) and node.value:
        k, v = node.value[-1]
        ve = _last_end(v)
        return ve if (ve[0], ve[1]) >= (k.end_mark.line, k.end_mark.column) else (k.end_mark.line, k.end_mark.column)
    if isinstance(node, yaml.SequenceNode) and node.value:
        return _last_end(node.value[-1])
    return node.start_mark.line, node.start_mark.column


_PLAIN_OK = re.compile(r"^[A-Za-z_/][A-Za-z0-9._/-]*$")
_RESERVED = frozenset(
    "y Y yes Yes YES n N no No NO true True TRUE false False FALSE on On ON off Off OFF null Null NULL".split()
)


def _scalar_text(v: Any, quote: str = "") -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if quote == "'" and "'" not in s and "\n" not in s:
        return f"'{s}'"
    if quote == '"' or not _PLAIN_OK.match(s) or s in _RESERVED:
        return json.dumps(s)
    return s


@dataclass
class _Style:
    seq_offset: int  # columns between a key and its block sequence's dashes (0: indentless)
    json: bool
    json_indent: int


def _block_lines(value: Any, indent: int, st: _Style) -> list[str]:
    """A mapping's entries or a list's items as block YAML lines at `indent`."""
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_entry_lines(str(k), v, indent, st))
    elif isinstance(value, list):
        for item in value:
            sub = _block_lines(item, indent + 2, st) if isinstance(item, (dict, list)) and item else None
            if sub:
                out.append(f"{pad}- {sub[0][indent + 2 :]}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_flow(item)}")
    else:
        out.append(pad + _scalar_text(value))
    return out


def _entry_lines(key: str, v: Any, indent: int, st: _Style) -> list[str]:
    pad = " " * indent
    if isinstance(v, dict) and v:
        return [f"{pad}{_scalar_text(key)}:", *_block_lines(v, indent + 2, st)]
    if isinstance(v, list) and v and any(isinstance(x, (dict, list)) for x in v):
        return [f"{pad}{_scalar_text(key)}:", *_block_lines(v, indent + st.seq_offset, st)]
    return [f"{pad}{_scalar_text(key)}: {_flow(v)}"]


def _flow(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_scalar_text(str(k))}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar_text(v)


def _json(v: Any, indent_cols: int, st: _Style) -> str:
    """JSON text for v, pretty-printed to continue at column `indent_cols` like the file."""
    if not st.json_indent:
        return json.dumps(v)
    text = json.dumps(v, indent=st.json_indent)
    return text.replace("\n", "\n" + " " * indent_cols)


class _Editor:
    def __init__(self, lines: list[str], offset: int, rel: str, st: _Style) -> None:
        # Positions are relative to `lines` (the document); `offset` maps them to the file.
        self.lines = lines
        self.offset = offset
        self.ends_with_newline = bool(lines) and lines[-1].endswith(("\n", "\r"))
        self.crlf = bool(lines) and lines[0].endswith("\r\n")  # keep Windows line endings
        self.rel = rel
        self.st = st
        self._edits: list[tuple[int, Edit]] = []
        self.depth = 0  # nesting of the node being edited, for ordering same-spot insertions

    @property
    def edits(self) -> list[Edit]:
        # Insertions at the same spot: the more deeply indented one first, so an item appended
        # to a nested list stays inside it when a sibling key is added after the same line.
        order = sorted(
            enumerate(self._edits), key=lambda ie: (ie[1][1].start_line, ie[1][1].start_column, -ie[1][0], ie[0])
        )
        return [e for _, (_, e) in order]

    def _edit(self, sl: int, sc: int, el: int, ec: int, content: str) -> None:
        """0-based positions in, 1-based Edit out."""
        o = self.offset + 1
        if self.crlf:
            content = content.replace("\n", "\r\n")
        self._edits.append((self.depth, Edit(self.rel, sl + o, sc + 1, el + o, ec + 1, content)))

    def _line_after(self, end: tuple[int, int]) -> tuple[int, str]:
        """Where a new block line goes after content ending at `end`, and a newline prefix
        when the file ends without one."""
        line, col = end
        if col == 0:
            return line, ""
        if line + 1 >= len(self.lines) and not self.ends_with_newline:
            return -1, "\n"
        return line + 1, ""

    def _insert_lines(self, end: tuple[int, int], lines: list[str]) -> None:
        at, prefix = self._line_after(end)
        body = "\n".join(lines) + "\n"
        if at < 0:
            last = len(self.lines) - 1
            self._edit(last, len(self.lines[last]), last, len(self.lines[last]), prefix + body.rstrip("\n"))
        else:
            self._edit(at, 0, at, 0, body)

    def replace(self, node: Any, value: Any) -> None:
        sm, em = node.start_mark, node.end_mark
        if isinstance(node, yaml.ScalarNode) and not isinstance(value, (dict, list)):
            style = node.style if node.style in ('"', "'") else ""
            if self.st.json:
                style = '"'
            self._edit(sm.line, sm.column, em.line, em.column, _scalar_text(value, style))
            return
        if self.st.json or getattr(node, "flow_style", False):
            content = _json(value, sm.column, self.st) if self.st.json else _flow(value)
            self._edit(sm.line, sm.column, em.line, em.column, content)
            return
        # A block value replaced by a block value: rewrite its lines below the key.
        raise _NoNode("block replacement")

    def set_value(self, parent: Any, key: str | int, value: Any) -> None:
        node = _child(parent, key)
        if isinstance(node, yaml.ScalarNode) and isinstance(value, (dict, list)) and not self.st.json:
            # `key:` (null) or `key: ~` becomes a block below the key.
            kn, _ = _key_node(parent, str(key)) if isinstance(parent, yaml.MappingNode) else (node, node)
            indent = kn.start_mark.column + (2 if isinstance(value, dict) else self.st.seq_offset)
            lines = _block_lines(value, indent, self.st)
            sm, em = node.start_mark, node.end_mark
            start_col = kn.end_mark.column + 1 if node.value == "" else sm.column
            line = kn.end_mark.line if node.value == "" else sm.line
            self._edit(line, start_col, em.line if node.value else line, em.column if node.value else start_col,
                       "\n" + "\n".join(lines))  # fmt: skip
            return
        if isinstance(node, yaml.SequenceNode) and isinstance(value, list) and not node.flow_style:
            # Replace a block list item by item: rewrite the whole list's lines.
            first = node.value[0].start_mark if node.value else node.start_mark
            dash_col = node.start_mark.column
            end = _last_end(node)
            at, _ = self._line_after(end)
            lines = _block_lines(value, dash_col, self.st)
            if at < 0:
                last = len(self.lines) - 1
                self._edit(node.start_mark.line, 0, last, len(self.lines[last]), "\n".join(lines))
            else:
                self._edit(node.start_mark.line, 0, at, 0, "\n".join(lines) + "\n")
            del first
            return
        self.replace(node, value)

    def add(self, mapping: Any, key: str, value: Any) -> None:
        if not isinstance(mapping, yaml.MappingNode):
            raise _NoNode(key)
        if mapping.flow_style or self.st.json:
            close = mapping.end_mark  # just after "}"
            if self.st.json and mapping.value and close.line != mapping.start_mark.line:
                k0 = mapping.value[0][0].start_mark.column
                end = _last_end(mapping.value[-1][1])
                content = f",\n{' ' * k0}{json.dumps(key)}: {_json(value, k0, self.st)}"
                self._edit(end[0], end[1], end[0], end[1], content)
                return
            entry = (
                f"{json.dumps(key)}: {json.dumps(value)}" if self.st.json else f"{_scalar_text(key)}: {_flow(value)}"
            )
            sep = ", " if mapping.value else ""
            if mapping.value:
                end = _last_end(mapping.value[-1][1])
                self._edit(end[0], end[1], end[0], end[1], sep + entry)
            else:
                self._edit(close.line, close.column - 1, close.line, close.column - 1, entry)
            return
        if not mapping.value:
            raise _NoNode(key)
        indent = mapping.value[0][0].start_mark.column
        self._insert_lines(_last_end(mapping), _entry_lines(key, value, indent, self.st))

    def append(self, seq: Any, items: list[Any]) -> None:
        if not isinstance(seq, yaml.SequenceNode):
            raise _NoNode("append")
        if seq.flow_style or self.st.json or not seq.value:
            if seq.value:
                end = _last_end(seq.value[-1])
                if self.st.json and seq.end_mark.line != seq.start_mark.line:
                    col = seq.value[0].start_mark.column
                    content = "".join(f",\n{' ' * col}{_json(x, col, self.st)}" for x in items)
                else:
                    content = "".join(", " + (json.dumps(x) if self.st.json else _flow(x)) for x in items)
                self._edit(end[0], end[1], end[0], end[1], content)
            else:
                close = seq.end_mark
                body = ", ".join(json.dumps(x) if self.st.json else _flow(x) for x in items)
                self._edit(close.line, close.column - 1, close.line, close.column - 1, body)
            return
        dash_col = seq.start_mark.column
        self._insert_lines(_last_end(seq), _block_lines(items, dash_col, self.st))

    def delete(self, mapping: Any, key: str) -> None:
        if not isinstance(mapping, yaml.MappingNode):
            raise _NoNode(key)
        entries = mapping.value
        idx = next((i for i, (k, _) in enumerate(entries) if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        if idx is None:
            raise _NoNode(key)
        k, v = entries[idx]
        if mapping.flow_style or self.st.json:
            if idx + 1 < len(entries):
                nk = entries[idx + 1][0].start_mark
                self._edit(k.start_mark.line, k.start_mark.column, nk.line, nk.column, "")
            elif idx > 0:
                pe = _last_end(entries[idx - 1][1])
                ve = _last_end(v)
                self._edit(pe[0], pe[1], ve[0], ve[1], "")
            else:
                ve = _last_end(v)
                self._edit(k.start_mark.line, k.start_mark.column, ve[0], ve[1], "")
            return
        at, _ = self._line_after(_last_end(v))
        line = k.start_mark.line
        if self.lines[line][: k.start_mark.column].strip() not in ("", "-"):
            raise _NoNode("key not at line start")
        if self.lines[line][: k.start_mark.column].strip() == "-":
            raise _NoNode("deleting the first key of a list item")
        if at < 0:
            last = len(self.lines) - 1
            self._edit(line - 1, len(self.lines[line - 1].rstrip("\r\n")), last, len(self.lines[last]), "")
        else:
            self._edit(line, 0, at, 0, "")

    def rename(self, mapping: Any, key: str, new_key: str) -> None:
        k, _ = _key_node(mapping, key)
        style = k.style if k.style in ('"', "'") else ('"' if self.st.json else "")
        self._edit(k.start_mark.line, k.start_mark.column, k.end_mark.line, k.end_mark.column,
                   _scalar_text(new_key, style))  # fmt: skip


def _style(text: str, spec_node: Any, is_json: bool) -> _Style:
    seq_offset = 2
    try:
        cn = _child(spec_node, "containers")
        kn, _ = _key_node(spec_node, "containers")
        if isinstance(cn, yaml.SequenceNode) and not cn.flow_style:
            seq_offset = max(0, cn.start_mark.column - kn.start_mark.column)
    except _NoNode:
        pass
    json_indent = 0
    if is_json:
        m = re.search(r"\n([ \t]+)\S", text)
        json_indent = len(m.group(1)) if m else 0
    return _Style(seq_offset, is_json, json_indent)


def ops_to_edits(text: str, doc_index: int, spec_path: Path, ops: list[Op], rel: str) -> list[Edit]:
    """Text edits implementing `ops` on the pod spec at `spec_path` of document `doc_index`;
    [] when the file cannot be composed or a path is not where the data said (then only the
    patch object is offered)."""
    found = None
    if len(spec_path) > 2 and spec_path[0] == "items" and isinstance(spec_path[1], int):
        found = _list_item(text, doc_index, spec_path[1])
        if found is not None:
            spec_path = spec_path[2:]
    found = found or _document(text, doc_index)
    if found is None:
        return []
    root, is_json, lines, offset = found
    try:
        spec_node = _node_at(root, spec_path)
        ed = _Editor(lines, offset, rel, _style(text, spec_node, is_json))
        for op in ops:
            ed.depth = len(op.path)
            if op.kind == "set":
                ed.set_value(_node_at(spec_node, op.path[:-1]), op.path[-1], op.value)
            elif op.kind == "add":
                ed.add(_node_at(spec_node, op.path), op.key, op.value)
            elif op.kind == "append":
                ed.append(_node_at(spec_node, op.path), op.value)
            elif op.kind == "delete":
                ed.delete(_node_at(spec_node, op.path), op.key)
            elif op.kind == "rename":
                ed.rename(_node_at(spec_node, op.path), op.key, op.new_key)
    except _NoNode:
        return []
    return ed.edits
