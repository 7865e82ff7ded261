"""Kustomizations: render with `kubectl kustomize`, and know which raw files a render covers."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archlint.k8s.yamlread import read_all
from archlint.subprocesses import run_captured

RENDER_TIMEOUT = 120
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Keys whose entries name local files or directories the render reads.
_FILE_KEYS = ("resources", "bases", "components", "crds")
_PATCH_KEYS = ("patchesStrategicMerge",)
_ITEM_PATH_KEYS = ("patches", "patchesJson6902")


@dataclass
class Rendered:
    ok: bool
    text: str = ""
    error: str = ""


def kubectl() -> str | None:
    return shutil.which("kubectl")


def render(directory: Path) -> Rendered:
    exe = kubectl()
    if exe is None:
        return Rendered(False, error="kubectl is not on PATH")
    try:
        proc = run_captured([exe, "kustomize", str(directory)], timeout=RENDER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Rendered(False, error=f"`kubectl kustomize` did not finish within {RENDER_TIMEOUT} s")
    except OSError as e:
        return Rendered(False, error=f"cannot run kubectl: {e}")
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return Rendered(False, error=f"`kubectl kustomize` failed: {msg[-1] if msg else f'exit {proc.returncode}'}")
    return Rendered(True, text=proc.stdout.decode("utf-8", "replace"))


def _kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        p = directory / name
        if p.is_file():
            return p
    return None


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
    try:
        docs = read_all(kfile.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return out
    data: Any = docs[0].data if docs else None
    if not isinstance(data, dict):
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
            sub = _kustomization_file(p)
            if sub is not None:
                out.kustomizations.add(sub.resolve())
                inner = coverage(sub, seen)
                out.files |= inner.files
                out.patches |= inner.patches
                out.kustomizations |= inner.kustomizations
                out.remote += inner.remote
    return out
