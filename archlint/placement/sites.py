"""Build sites: every place that says "this image is built from that directory" — skaffold
artifacts, compose services, the config's `images` table, CI build steps."""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from typing import Any

from archlint.findings import Applicability, Edit, Fix
from archlint.images import name_of
from archlint.placement.yamlio import item_pos, key_line, value_pos

# Link precedence: an explicit config entry beats what build tools say, which beats CI, which
# beats guessing from a directory name.
PRECEDENCE = {"config": 0, "skaffold": 1, "compose": 2, "ci": 3, "directory": 4}


@dataclass(frozen=True)
class BuildSite:
    image: str  # normalised registry/repository; may hold "*" where CI expressions are unknown
    context: str  # repo-relative POSIX directory
    dockerfile: str | None  # repo-relative path
    source: str  # config | skaffold | compose | ci | directory
    path: str  # the file that says so
    line: int
    platforms: tuple[str, ...] | None = None  # None: not stated
    target: str | None = None
    fix: Fix | None = None  # CI only: adds linux/arm64 to this build
    fix_note: str = ""  # why no automatic fix, when there is none
    raw_image: str = ""  # skaffold: the artifact's image as written (default-repo rewriting starts from it)
    default_repo: str = ""  # set when linked through skaffold's default-repo rewriting: the prefix

    @property
    def link(self) -> str:
        if self.source == "config":
            return f"{self.path}: images" if self.path else "config images"
        if self.source == "directory":
            return f"directory name ({self.context})"
        prefix = "ci: " if self.source == "ci" else ""
        if self.default_repo:
            return (f"{self.path}:{self.line}, artifact {self.raw_image} pushed under skaffold's default-repo "
                    f"{self.default_repo}")  # fmt: skip
        return f"{prefix}{self.path}:{self.line}"

    def matches(self, name: str) -> bool:
        return self.image == name or ("*" in self.image and fnmatch.fnmatchcase(name, self.image))


def join(base: str, rel: str) -> str:
    """Repo-relative POSIX join that stays "." for the root."""
    path = posixpath.normpath(posixpath.join(base, rel)) if rel else posixpath.normpath(base)
    return "." if path in ("", ".") else path.lstrip("/") if not path.startswith("..") else path


_WILD = "x0wildcard0x"


def normalise_image(text: str) -> str | None:
    """Normalised name of an image reference that may hold unresolved `*` parts."""
    head = text.split("@", 1)[0]
    if ":" in head.rsplit("/", 1)[-1]:
        head = head[: head.rfind(":")]
    last = head.rsplit("/", 1)[-1]
    if not last.replace("*", ""):
        return None  # nothing literal left to match on
    if head.startswith("*"):
        # An unknown registry/namespace prefix ($CI_REGISTRY_IMAGE/api): match any.
        return head if name_of(head.replace("*", _WILD)) else None
    name = name_of(head.replace("*", _WILD))
    return name.replace(_WILD, "*") if name else None


def _scalar(v: Any, default: str) -> str:
    return str(v) if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v) else default


def _str_list(v: Any) -> tuple[str, ...] | None:
    if isinstance(v, str):
        return tuple(p.strip() for p in v.replace("\n", ",").split(",") if p.strip())
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    return None


_ARM64 = "linux/arm64"
_ADD_FIX = "build linux/arm64 as well (the builder needs QEMU/binfmt or an arm64 node)"


def platforms_fix(holder: Any, key: str, rel: str, lines: list[str]) -> Fix | None:
    """Add linux/arm64 to a YAML list of platforms (`platforms: [linux/amd64]` or a block list)."""
    value = holder.get(key) if isinstance(holder, dict) else None
    pos = value_pos(holder, key)
    if not isinstance(value, list) or not value or pos is None or not lines:
        return None
    line, col = pos
    text = lines[line - 1] if line <= len(lines) else ""
    if text[col - 1 : col] == "[":
        close = text.find("]", col)
        if close < 0:
            return None
        quote = text[col : col + 1].strip() if text[col : col + 1] in ("'", '"') else ""
        quote = quote or next((q for q in ('"', "'") if f"{q}linux/" in text[col:close]), "")
        edit = Edit(rel, line, close + 1, line, close + 1, f", {quote}{_ARM64}{quote}")
        return Fix(_ADD_FIX, Applicability.UNSAFE, (edit,))
    last = item_pos(value, len(value) - 1)
    if last is None or last[0] > len(lines):
        return None
    item_line = lines[last[0] - 1]
    dash = item_line.rfind("-", 0, last[1] - 1)
    if dash < 0 or item_line[:dash].strip():
        return None
    edit = Edit(rel, last[0] + 1, 1, last[0] + 1, 1, f"{item_line[:dash]}- {_ARM64}\n")
    return Fix(_ADD_FIX, Applicability.UNSAFE, (edit,))


def _seq(holder: dict[str, Any], key: str, problems: list[tuple[int, str]] | None) -> list[Any]:
    """`holder[key]` when it is a list (absent or null: []); anything else is a problem on its line."""
    value = holder.get(key)
    if value is None or isinstance(value, list):
        return value or []
    if problems is not None:
        problems.append((key_line(holder, key), f"`{key}` must be a list, not {type(value).__name__} {value!r:.60}"))
    return []


def skaffold_sites(
    docs: list[Any], rel: str, lines: list[str] | None = None, problems: list[tuple[int, str]] | None = None
) -> list[BuildSite]:
    """Build sites of skaffold's artifacts; `problems` collects (line, message) for values of the
    wrong shape, which skaffold itself would refuse."""
    base = posixpath.dirname(rel) or "."
    out: list[BuildSite] = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        builds = [doc.get("build")]
        for prof in _seq(doc, "profiles", problems):
            if isinstance(prof, dict):
                builds.append(prof.get("build"))
        for build in builds:
            if not isinstance(build, dict):
                continue
            default_platforms = _str_list(build.get("platforms"))
            for art in _seq(build, "artifacts", problems):
                if not isinstance(art, dict) or not isinstance(art.get("image"), str):
                    continue
                name = name_of(art["image"])
                if name is None:
                    continue
                context = join(base, _scalar(art.get("context"), "."))
                docker: dict[str, Any] = art["docker"] if isinstance(art.get("docker"), dict) else {}
                dockerfile = join(context, _scalar(docker.get("dockerfile"), "Dockerfile"))
                platforms = _str_list(art.get("platforms")) or default_platforms
                target = docker.get("target") if isinstance(docker.get("target"), str) else None
                line = key_line(art, "image")
                fix = None
                if platforms is not None and _ARM64 not in platforms:
                    holder = art if _str_list(art.get("platforms")) else build
                    fix = platforms_fix(holder, "platforms", rel, lines or [])
                note = "" if fix else "add linux/arm64 to the artifact's platforms"
                out.append(BuildSite(name, context, dockerfile, "skaffold", rel, line, platforms, target, fix, note,
                                     raw_image=art["image"].strip()))  # fmt: skip
    return out


def compose_sites(docs: list[Any], rel: str, lines: list[str] | None = None) -> list[BuildSite]:
    base = posixpath.dirname(rel) or "."
    out: list[BuildSite] = []
    for doc in docs:
        services = doc.get("services") if isinstance(doc, dict) else None
        if not isinstance(services, dict):
            continue
        for _svc, spec in services.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("image"), str) or "build" not in spec:
                continue
            name = name_of(spec["image"])
            if name is None:
                continue
            build = spec["build"]
            if isinstance(build, str):
                build = {"context": build}
            if not isinstance(build, dict):
                continue
            context = join(base, _scalar(build.get("context"), "."))
            dockerfile = join(context, _scalar(build.get("dockerfile"), "Dockerfile"))
            platforms = _str_list(build.get("platforms"))
            fix = None
            note = ""
            if platforms is not None and _ARM64 not in platforms:
                fix = platforms_fix(build, "platforms", rel, lines or [])
                note = "" if fix else "add linux/arm64 to build.platforms"
            elif platforms is None and isinstance(spec.get("platform"), str):
                platforms = (spec["platform"],)
                note = "the service's `platform:` pins one platform; use build.platforms for a multi-platform build"
            target = build.get("target") if isinstance(build.get("target"), str) else None
            line = key_line(spec, "image")
            out.append(BuildSite(name, context, dockerfile, "compose", rel, line, platforms, target, fix, note))
    return out


def config_sites(images: dict[str, str], config_rel: str, exists: Any) -> list[BuildSite]:
    """`[tool.archlint.images]`: image -> directory (relative to the config file)."""
    out = []
    # Reported paths are relative to the repository root; the config may sit in a subfolder.
    base = posixpath.dirname(config_rel) if config_rel and not posixpath.isabs(config_rel) else ""
    for ref, directory in images.items():
        name = name_of(ref)
        if name is None:
            continue
        context = join(base or ".", directory)
        dockerfile = join(context, "Dockerfile")
        out.append(BuildSite(name, context, dockerfile if exists(dockerfile) else None, "config", config_rel, 1))
    return out
