"""Choose one build context per image from every build site that names it, and find the
images manifests want (a cheap pre-scan, so verdicts exist before the Kubernetes scanner runs)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from archlint.facts import BuildContext
from archlint.images import name_of, parse
from archlint.placement.sites import PRECEDENCE, BuildSite

# `image: x` in YAML or `"image": "x"` in JSON; not imagePullPolicy.
# Kustomize renames images (`images: [{name: api, newName: ghcr.io/acme/api}]`): those count too.
_IMAGE_FIELD = re.compile(r"""["']?\b(?:image|newName)["']?\s*:\s*["']?([A-Za-z0-9][^\s"'#,}\]]*)""")
MAX_PRESCAN_BYTES = 16 * 1024 * 1024


@dataclass
class Link:
    context: BuildContext
    primary: BuildSite
    sites: list[BuildSite] = field(default_factory=list)  # every site naming the image
    ci: list[BuildSite] = field(default_factory=list)  # the CI builds among them
    ambiguous: list[str] = field(default_factory=list)  # other directories a directory-name link could mean


def wanted_images(texts: Iterable[str]) -> dict[str, str]:
    """Normalised name -> first reference as written, for every image field in `texts`."""
    out: dict[str, str] = {}
    for text in texts:
        for m in _IMAGE_FIELD.finditer(text[:MAX_PRESCAN_BYTES]):
            ref = m.group(1)
            name = name_of(ref)
            if name and name not in out:
                out[name] = ref
    return out


def _directory_site(name: str, dockerfiles: list[str]) -> tuple[BuildSite | None, list[str]]:
    """Last resort: a directory named like the image's repository that holds a Dockerfile."""
    repo = parse(name).repository.rsplit("/", 1)[-1]
    hits = sorted(
        (d for d in dockerfiles if posixpath.basename(posixpath.dirname(d)) == repo
         and posixpath.basename(d).lower() in ("dockerfile", "containerfile")),
        key=lambda d: (d.count("/"), d),
    )  # fmt: skip
    if not hits:
        return None, []
    d = hits[0]
    ctx = posixpath.dirname(d) or "."
    site = BuildSite(name, ctx, d, "directory", d, 1)
    return site, [posixpath.dirname(h) for h in hits[1:]]


def _namespace(name: str) -> str:
    return name.rsplit("/", 1)[0]


def _same_owner(name: str, owners: set[str]) -> bool:
    return not owners or _namespace(name) in owners


def choose(sites: list[BuildSite], wanted: Iterable[str], dockerfiles: list[str]) -> dict[str, Link]:
    names = {s.image for s in sites if "*" not in s.image} | set(wanted)
    # Images of this repository share a registry namespace (ghcr.io/acme/…): a directory-name
    # guess is only made inside a namespace the repository is known to build, so that
    # registry.example.com/vendor/agent is not mistaken for services/agent.
    owners = {_namespace(s.image) for s in sites if "*" not in s.image}
    out: dict[str, Link] = {}
    for name in sorted(names):
        matching = [s for s in sites if s.matches(name)]
        ambiguous: list[str] = []
        if not matching:
            if not _same_owner(name, owners):
                continue
            site, ambiguous = _directory_site(name, dockerfiles)
            if site is None:
                continue
            matching = [site]
        primary = min(matching, key=lambda s: (PRECEDENCE[s.source], "*" in s.image, s.path, s.line))
        ci = [s for s in matching if s.source == "ci"]
        known = [s for s in (ci or matching) if s.platforms is not None]
        platforms = tuple(sorted({p for s in known for p in (s.platforms or ())}))
        dockerfile = primary.dockerfile if primary.dockerfile in dockerfiles else None
        ctx = BuildContext(image=name, directory=primary.context, dockerfile=dockerfile, link=primary.link,
                           platforms=platforms)  # fmt: skip
        out[name] = Link(ctx, primary, matching, ci, ambiguous)
    return out
