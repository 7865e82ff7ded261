"""Kustomizations: which to render (overlays, not the bases and Components they include), the
`kubectl kustomize` command, and which raw files a render covers."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archlint.k8s.render.runner import Command
from archlint.k8s.yamlread import read_all

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Keys whose entries name local files or directories the render reads.
_FILE_KEYS = ("resources", "bases", "components", "crds")
_PATCH_KEYS = ("patchesStrategicMerge",)
_ITEM_PATH_KEYS = ("patches", "patchesJson6902")


def kubectl() -> str | None:
    return shutil.which("kubectl")


def command(directory: Path) -> Command | None:
    """`kubectl kustomize DIR`; None when kubectl is not on PATH."""
    exe = kubectl()
    return None if exe is None else Command((exe, "kustomize", str(directory)))


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        p = directory / name
        if p.is_file():
            return p
    return None


def _data(kfile: Path) -> dict[str, Any] | None:
    try:
        docs = read_all(kfile.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    data = docs[0].data if docs else None
    return data if isinstance(data, dict) else None


def is_component(kfile: Path) -> bool:
    """A `kind: Component` is only meaningful inside the kustomization that lists it under
    `components:`; rendered on its own, kustomize refuses it."""
    data = _data(kfile)
    return data is not None and data.get("kind") == "Component"


@dataclass
class Coverage:
    files: set[Path] = field(default_factory=set)  # raw manifests and patches the render reads
    patches: set[Path] = field(default_factory=set)  # partial objects: never checked on their own
    kustomizations: set[Path] = field(default_factory=set)  # nested kustomization files
    remote: list[str] = field(default_factory=list)  # remote bases (git, http): need the network


def coverage(kfile: Path, seen: set[Path] | None = None) -> Coverage:
    """Every local file a kustomization (and the kustomizations it includes) reads."""
    seen = seen if seen is not None else set()
    out = Coverage()
    kfile = kfile.resolve()
    if kfile in seen:
        return out
    seen.add(kfile)
    data = _data(kfile)
    if data is None:
        return out
    base = kfile.parent
    entries: list[str] = []
    patches: list[str] = []
    for key in _FILE_KEYS:
        entries += [e for e in data.get(key) or [] if isinstance(e, str)]
    for key in _PATCH_KEYS:
        patches += [e for e in data.get(key) or [] if isinstance(e, str)]
    for key in _ITEM_PATH_KEYS:
        patches += [e["path"] for e in data.get(key) or [] if isinstance(e, dict) and isinstance(e.get("path"), str)]
    for entry in patches:
        p = (base / entry).resolve()
        if p.is_file():
            out.patches.add(p)
            out.files.add(p)
    for entry in entries:
        if "://" in entry or entry.startswith(("github.com/", "gitlab.com/", "git@")):
            out.remote.append(entry)
            continue
        p = (base / entry).resolve()
        if p.is_file():
            out.files.add(p)
        elif p.is_dir():
            sub = kustomization_file(p)
            if sub is not None:
                out.kustomizations.add(sub.resolve())
                inner = coverage(sub, seen)
                out.files |= inner.files
                out.patches |= inner.patches
                out.kustomizations |= inner.kustomizations
                out.remote += inner.remote
    return out


@dataclass
class Plan:
    """What to do with the kustomizations of a scan."""

    render: list[tuple[Path, Coverage]]  # (kustomization file, coverage): the overlays
    partial: set[Path] = field(default_factory=set)  # patches of Components nothing includes


def plan(kfiles: list[Path]) -> Plan:
    """Render each kustomization that no other one in the scan includes (a base is reported
    through the overlays that use it, once per overlay), except Components: they only take
    effect inside an overlay. A Component nothing includes adds nothing to check but its
    resources; its patches are partial objects."""
    covs = {f: coverage(f) for f in kfiles}
    nested = set().union(*(c.kustomizations for c in covs.values())) if covs else set()
    out = Plan(render=[])
    for f, cov in covs.items():
        if resolved(f) in nested:
            continue
        if is_component(f):
            out.partial |= cov.patches
            continue
        out.render.append((f, cov))
    return out


def resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p
