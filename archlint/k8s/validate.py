"""Schema validation of built-in objects with kubernetes-validate's bundled OpenAPI schemas.

kubernetes-validate reloads the schema and its 5 MB of definitions on every call (~10 ms per
object). We load each (version, kind) schema once and, because the Kubernetes schemas use only
a handful of keywords, compile it into a small predicate that answers "valid?" in microseconds;
only objects it rejects (or schemas using a keyword it does not know) go through jsonschema,
which then produces the exact messages. The predicate is conservative: it never calls an
invalid object valid.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

Check = Callable[[Any], bool]
MAX_ERRORS_PER_OBJECT = 5
_VERSION_DIR = re.compile(r"^v([^-]*).*")


class UnsupportedVersion(ValueError):
    pass


class _BadSchema(ValueError):
    pass


def _kv() -> Any:
    from kubernetes_validate import utils

    return utils


@functools.cache
def _bundle() -> str | None:
    """The schema bundle kubernetes-validate ships, found without importing it: its code brings
    jsonschema and referencing (60 ms), which only an object the compiled check rejects needs.
    None when the package is laid out otherwise; then its own functions read the schemas."""
    spec = importlib.util.find_spec("kubernetes_validate")
    for location in (spec.submodule_search_locations or []) if spec else []:
        bundle = os.path.join(location, "kubernetes-json-schema")
        if os.path.isdir(bundle):
            return bundle
    return None


def _schema(filename: str, version: str) -> Any:
    """kubernetes-validate's schema_contents: FileNotFoundError when there is no such schema."""
    bundle = _bundle()
    if bundle is None:
        kv = _kv()
        try:
            return kv.schema_contents(f"kubernetes-json-schema/{filename}", version)
        except kv.InvalidSchemaError as e:
            raise _BadSchema(str(e)) from None
    with open(os.path.join(bundle, filename), encoding="utf-8") as fh:
        try:
            return json.load(fh)
        except ValueError as e:
            raise _BadSchema(f"cannot parse schema {filename}") from e


@functools.cache
def versions() -> list[str]:
    """The bundled schema versions, oldest first (kubernetes-validate's all_versions)."""
    bundle = _bundle()
    if bundle is None:
        return list(_kv().all_versions())
    from packaging.version import Version

    return sorted((_VERSION_DIR.sub(r"\1", n) for n in os.listdir(bundle) if _VERSION_DIR.match(n)), key=Version)


def _mm(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:2])


def resolve_version(wanted: str | None) -> str:
    """The newest bundled schema version not newer than `wanted` (default: the newest)."""
    all_v = versions()
    if not wanted:
        return all_v[-1]
    w = wanted.lstrip("v")
    if not re.match(r"^\d+\.\d+(\.\d+)?$", w):
        raise UnsupportedVersion(f"expected a version such as 1.30, got {wanted!r}")
    fits = [v for v in all_v if _mm(v) <= _mm(w)]
    if not fits or _mm(w) > _mm(all_v[-1]):
        raise UnsupportedVersion(
            f"Kubernetes {wanted} is not covered by the bundled schemas ({_mm_s(all_v[0])} to {_mm_s(all_v[-1])})"
        )
    return fits[-1]


def _mm_s(v: str) -> str:
    return ".".join(str(x) for x in _mm(v))


@functools.cache
def _definitions(version: str) -> dict[str, Any]:
    defs: dict[str, Any] = _schema(f"v{version}-local-strict/_definitions.json", version)
    return defs


def _schema_name(kind: str, api_version: str) -> str:
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{api}.json"


@dataclass
class Validator:
    fast: Check
    version: str
    schema: dict[str, Any] = field(repr=False)
    defs: dict[str, Any] = field(repr=False)
    _slow: jsonschema.protocols.Validator | None = field(default=None, repr=False)

    @property
    def slow(self) -> jsonschema.protocols.Validator:
        """jsonschema, for the exact messages of an object the compiled check rejects."""
        if self._slow is None:
            import jsonschema
            from referencing import Registry, Resource

            registry: Registry[Any] = Resource.from_contents(self.defs) @ (
                Resource.from_contents(self.schema) @ Registry()
            )
            self._slow = jsonschema.Draft202012Validator(self.schema, registry=registry)
        return self._slow


_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,62}$")
_API_VERSION = re.compile(r"^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$")


@functools.lru_cache(maxsize=256)
def validator(version: str, kind: str, api_version: str) -> Validator | None:
    """The validator for one kind, or None when the bundle has no schema for it (CRDs)."""
    if not _KIND.match(kind) or not _API_VERSION.match(api_version):
        return None  # not a name the bundle could hold (and never a path to open)
    try:
        schema = _schema(f"v{version}-local-strict/{_schema_name(kind, api_version)}", version)
    except (FileNotFoundError, _BadSchema):
        return None
    defs = _definitions(version)
    fast = _Compiler(defs.get("$defs", {})).compile(schema)
    return Validator(fast, _mm_s(version), schema, defs)


@dataclass
class SchemaError:
    path: tuple[str | int, ...]  # where in the object
    message: str
    unexpected_key: str | None = None  # for unknown fields: the key to point at


def validate(obj: dict[str, Any], version: str) -> list[SchemaError] | None:
    """Schema errors of one object; None when there is no schema for its kind."""
    v = validator(version, str(obj.get("kind")), str(obj.get("apiVersion")))
    if v is None:
        return None
    if v.fast(obj):
        return []
    out: list[SchemaError] = []
    for e in sorted(v.slow.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(e.absolute_path)
        msg = e.message if len(e.message) <= 200 else e.message[:197] + "..."
        extra = None
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            props = e.schema.get("properties", {}) if isinstance(e.schema, dict) else {}
            unexpected = [k for k in e.instance if k not in props]
            extra = unexpected[0] if unexpected else None
        out.append(SchemaError(path, msg, extra))
        if len(out) >= MAX_ERRORS_PER_OBJECT:
            break
    return out


def _is_integer(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


_TYPE_CHECKS: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_IGNORED = frozenset({"description", "format", "$schema", "$id", "title", "default", "example"})
_REF = "/api/_definitions.json#/$defs/"


def _never(_: Any) -> bool:
    return False


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
}


def _type_check(types: list[str]) -> Check | None:
    if all(t in _PY_TYPES for t in types):
        py = tuple(x for t in types for x in _PY_TYPES[t])
        return lambda v: isinstance(v, py)
    tcs = [_TYPE_CHECKS[t] for t in types if t in _TYPE_CHECKS]
    if len(tcs) != len(types):
        return None
    if len(tcs) == 1:
        return tcs[0]
    return lambda v: any(c(v) for c in tcs)


def _all(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda v: a(v) and b(v)
    if len(checks) == 3:
        a, b, c = checks
        return lambda v: a(v) and b(v) and c(v)
    return lambda v: all(c(v) for c in checks)


def _required(req: tuple[str, ...]) -> Check:
    return lambda v: not isinstance(v, dict) or all(k in v for k in req)


def _enum(allowed: tuple[Any, ...]) -> Check:
    return lambda v: (v is None or isinstance(v, str)) and v in allowed


def _items(item: Check) -> Check:
    def check(v: Any) -> bool:
        if isinstance(v, list):
            for x in v:
                if not item(x):
                    return False
        return True

    return check


def _one_of(subs: list[Check]) -> Check:
    return lambda v: sum(1 for s in subs if s(v)) == 1


class _Compiler:
    """Schema -> predicate, for the keywords the Kubernetes schemas use. Anything else compiles
    to a predicate that always fails, which sends the object to jsonschema."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.refs: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if ref in self.refs:
            return self.refs[ref]
        name = ref.split("#/$defs/", 1)[1] if "#/$defs/" in ref else None
        if not (ref.startswith(_REF) or ref.startswith("#/$defs/")) or name not in self.defs:
            return _never
        cell: list[Check] = []
        self.refs[ref] = lambda v: cell[0](v)  # recursive schemas (JSONSchemaProps) refer to themselves
        compiled = self.compile(self.defs[name])
        cell.append(compiled)
        self.refs[ref] = compiled
        return compiled

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda v: True
        if not isinstance(schema, dict):
            return _never
        checks: list[Check] = []
        for key in schema:
            if key in _IGNORED or key.startswith("x-") or key in ("properties", "additionalProperties"):
                continue
            if key == "$ref":
                checks.append(self.ref(schema["$ref"]))
            elif key == "type":
                types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
                tc = _type_check(types)
                if tc is None:
                    return _never
                checks.append(tc)
            elif key == "required":
                req = tuple(schema["required"])
                checks.append(_required(req))
            elif key == "enum":
                allowed = tuple(schema["enum"])
                # Only strings and None compare safely with ==; anything else goes to jsonschema.
                checks.append(_enum(allowed))
            elif key == "items":
                item = self.compile(schema["items"])
                checks.append(_items(item))
            elif key == "oneOf":
                subs = [self.compile(s) for s in schema["oneOf"]]
                checks.append(_one_of(subs))
            else:
                return _never
        if "properties" in schema or "additionalProperties" in schema:
            checks.append(self._object(schema))
        if not checks:
            return lambda v: True
        return _all(checks)

    def _object(self, schema: dict[str, Any]) -> Check:
        props = {k: self.compile(s) for k, s in (schema.get("properties") or {}).items()}
        addl = schema.get("additionalProperties", True)
        extra: Check | None
        if addl is True:
            extra = None
        elif addl is False:
            extra = _never
        else:
            extra = self.compile(addl)

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for k, x in v.items():
                c = props.get(k)
                if c is not None:
                    if not c(x):
                        return False
                elif extra is not None and not extra(x):
                    return False
            return True

        return check
