"""Configuration: `[tool.archlint]` in pyproject.toml, or archlint.toml / .archlint.toml.

Every key is validated: an unknown key or a wrong type is a FatalError (exit 2) that names the
file and the key, because a silently ignored typo in a CI gate is worse than a loud failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from archlint import config_values
from archlint.errors import FatalError

CONFIG_NAMES = ("archlint.toml", ".archlint.toml", "pyproject.toml")


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _str_or_list(v: Any) -> bool:
    return _str(v) or _str_list(v)


def _str_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


def _str_list_map(v: Any) -> bool:
    return isinstance(v, dict) and all(_str_list(x) for x in v.values())


def _seconds(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _table(v: Any) -> bool:
    return isinstance(v, dict)


def _table_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, dict) for x in v)


# key -> (check, expected-type description). Scanners add their keys here.
KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "python": (_str_or_list, "a string or a list of strings"),
    # Dependency targets: linux/arm64 always; linux/amd64 is the baseline that tells "no wheel
    # anywhere" from an arm64 gap (leave it out to skip those lookups).
    "platforms": (
        lambda v: _str_list(v) and "linux/arm64" in v and set(v) <= {"linux/arm64", "linux/amd64"},
        'a list of "linux/arm64" and optionally "linux/amd64"',
    ),
    "select": (_str_list, "a list of rule codes"),
    "ignore": (_str_list, "a list of rule codes"),
    "extend-select": (_str_list, "a list of rule codes"),
    "per-file-ignores": (_str_list_map, "a table of glob = [codes]"),
    "exclude": (_str_list, "a list of gitignore-style patterns"),
    "extend-exclude": (_str_list, "a list of gitignore-style patterns"),
    "respect-gitignore": (_bool, "true or false"),
    "fail-on": (lambda v: v in ("error", "warning"), '"error" or "warning"'),
    "index-url": (_str, "a URL"),
    "extra-index-url": (_str_or_list, "a URL or a list of URLs"),
    "glibc": (_str, 'a version string such as "2.36"'),
    "index-timeout": (_seconds, "seconds for a whole index or vulnerability-service request"),
    "registry-timeout": (_seconds, "seconds for a whole registry request"),
    "vulnerability-service": (lambda v: v in ("osv", "pypi", "none"), '"osv", "pypi" or "none"'),
    "osv-url": (_str, "a URL of an OSV-compatible /v1/query endpoint"),
    "images": (_str_map, "a table of image = directory"),
    "image-overrides": (
        lambda v: _str_map(v) and all(x in ("arm64", "multi-arch", "amd64") for x in v.values()),
        'a table of image = "arm64" | "multi-arch" | "amd64"',
    ),
    "cluster": (_table, "a table"),
    "helm": (_table, "a table ([[tool.archlint.helm.releases]]: chart, values, name, namespace)"),
    "kubernetes-version": (_str, 'a version string such as "1.30"'),
    "check-images": (_bool, "true or false"),
    "resolve": (_bool, "true or false"),
    "cache-dir": (_str, "a path"),
    "source-max-bytes": (lambda v: type(v) is int and v > 0, "a positive integer (bytes)"),
    "native-max-bytes": (lambda v: type(v) is int and v > 0, "a positive integer (bytes)"),
}

CLUSTER_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "preset": (_str, 'a preset name ("default", "gke", "eks", "aks")'),
    "nodes-file": (_str, "a path to `kubectl get nodes -o json` output"),
    "pools": (_table_list, "an array of tables ([[tool.archlint.cluster.pools]])"),
}


@dataclass
class Config:
    path: Path | None = None  # the file it came from; None: defaults
    prefix: str = ""  # "tool.archlint." inside pyproject.toml, "" for archlint.toml
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def str_list(self, key: str) -> list[str]:
        v = self.values.get(key)
        if v is None:
            return []
        return [v] if isinstance(v, str) else list(v)

    @property
    def directory(self) -> Path | None:
        return self.path.parent if self.path else None

    def where(self, key: str) -> str:
        """Name a key for error messages: 'pyproject.toml: tool.archlint.cluster.pools'."""
        return f"{self.path}: {self.prefix}{key}" if self.path else key


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as e:
        raise FatalError(f"{path}: cannot read config: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise FatalError(f"{path}: invalid TOML: {e}") from None
    except RecursionError:
        raise FatalError(f"{path}: invalid TOML: arrays or inline tables nested too deeply") from None
    except ValueError:  # a number past CPython's digit limit
        raise FatalError(f"{path}: invalid TOML: a number too long to read") from None


def _validate(cfg: Config) -> None:
    for key, value in cfg.values.items():
        if key not in KEYS:
            raise FatalError(f"{cfg.where(key)}: unknown configuration key")
        check, expected = KEYS[key]
        if not check(value):
            raise FatalError(f"{cfg.where(key)}: expected {expected}, got {type(value).__name__} {value!r}")
        problem = config_values.CHECKS.get(key, _usable)(value)
        if problem:
            raise FatalError(f"{cfg.where(key)}: {problem}")
    cluster = cfg.values.get("cluster")
    if isinstance(cluster, dict):
        for key, value in cluster.items():
            full = f"cluster.{key}"
            if key not in CLUSTER_KEYS:
                raise FatalError(f"{cfg.where(full)}: unknown configuration key")
            check, expected = CLUSTER_KEYS[key]
            if not check(value):
                raise FatalError(f"{cfg.where(full)}: expected {expected}, got {type(value).__name__} {value!r}")
    for key in ("select", "ignore", "extend-select"):
        for code in cfg.str_list(key):
            _check_code(cfg, key, code)
    for pattern, codes in (cfg.values.get("per-file-ignores") or {}).items():
        for code in codes:
            _check_code(cfg, f"per-file-ignores.{pattern!r}", code)
    if "cluster" in cfg.values:
        # Build the profile now, so a bad pool is exit 2 even when the tree has no manifests
        # (the Kubernetes scanner, which uses it, is only loaded when there are some).
        from archlint.k8s.profile import profile_from_config

        profile_from_config(cfg)
    if "helm" in cfg.values:
        from archlint.k8s.render.helm import releases_from_config

        releases_from_config(cfg)  # chart directories and values files must exist: exit 2 naming the key


def _usable(v: Any) -> str | None:
    return None


def _check_code(cfg: Config, key: str, code: str) -> None:
    from archlint.catalogue import catalogue

    if not catalogue().matches_any(code):
        raise FatalError(f"{cfg.where(key)}: unknown rule code or name {code!r}")


def load_file(path: Path) -> Config:
    data = _load_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        values = tool.get("archlint", {}) if isinstance(tool, dict) else {}
        if not isinstance(values, dict):
            raise FatalError(f"{path}: tool.archlint: expected a table")
        cfg = Config(path=path, prefix="tool.archlint.", values=values)
    else:
        cfg = Config(path=path, prefix="", values=data)
    _validate(cfg)
    return cfg


_MAX_SEARCHED = 16 * 1024 * 1024
_MENTIONS_ARCHLINT = re.compile(rb"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*archlint\b", re.MULTILINE)


def _has_archlint_table(pyproject: Path) -> bool:
    """Whether a pyproject.toml met while searching is archlint's config. One that cannot be
    parsed (bad TOML, nesting too deep) is, when it has a [tool.archlint] header: its owner meant
    to configure archlint, and load_file then says what is wrong with it (exit 2) rather than
    running silently without their settings. Otherwise it is just a scanned file, and the
    dependency scanner reports it (ARCH002)."""
    try:
        with open(pyproject, "rb") as fh:
            raw = fh.read(_MAX_SEARCHED + 1)
    except OSError:
        return False
    if len(raw) > _MAX_SEARCHED:
        return False  # no real pyproject.toml is this big; the dependency scanner reports the size
    try:
        tool = tomllib.loads(raw.decode("utf-8")).get("tool")
    except (ValueError, RecursionError):  # TOMLDecodeError, UnicodeDecodeError, a number too long
        return _MENTIONS_ARCHLINT.search(raw) is not None
    return isinstance(tool, dict) and "archlint" in tool


def _is_file(p: Path) -> bool:
    try:
        return p.is_file()
    except OSError:  # a directory on the way up that may not be searched: no config there
        return False


def find_config(start: Path) -> Path | None:
    """The nearest config at or above `start`: archlint.toml, .archlint.toml, then a
    pyproject.toml that has a [tool.archlint] table (as ruff does)."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if _is_file(candidate):
                if name == "pyproject.toml" and not _has_archlint_table(candidate):
                    continue
                return candidate
    return None


def load(explicit: str | None, start: Path) -> Config:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FatalError(f"{explicit}: config file not found")
        return load_file(path)
    if os.environ.get("ARCHLINT_NO_CONFIG_SEARCH"):
        return Config()
    found = find_config(start)
    return load_file(found) if found else Config()
