"""Choose one build context per image from every build site that names it, and find the
images manifests want (a cheap pre-scan, so verdicts exist before the Kubernetes scanner runs)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from archlint.facts import BuildContext
from archlint.images import DOCKER_HUB, name_of, parse
from archlint.placement import baseimages
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


# skaffold's default-repo rewriting (pkg/skaffold/docker/image/generic.go; documented at
# https://skaffold.dev/docs/environment/image-registries/): the artifact's image as written is
# appended to the default repository, escaped (`[/._:@]` -> `_`) unless both are GCR/Artifact
# Registry names, which concatenate (dropping a shared gcr.io/<project>/ prefix).
_SKAFFOLD_ESCAPE = re.compile(r"[/._:@]")
_GCR_PREFIX = re.compile(r"^(?:.*\.)?gcr\.io/[a-zA-Z0-9_-]+/?")


def _rewritten_forms(raw: str, gcr_like: bool) -> set[str]:
    """How artifact `raw` (tag and digest dropped) ends an image name that skaffold pushed under
    a default repository; `gcr_like`: that repository is on GCR or Artifact Registry."""
    base = raw.split("@", 1)[0]
    if ":" in base.rsplit("/", 1)[-1]:
        base = base[: base.rfind(":")]
    if not base:
        return set()
    if not gcr_like:
        return {_SKAFFOLD_ESCAPE.sub("_", base)}
    forms = {base}
    m = _GCR_PREFIX.match(base)
    if m and m.end() < len(base):
        forms.add(base[m.end() :])
    return forms


def _gcr_like(name: str) -> bool:
    registry = name.split("/", 1)[0]
    return registry.endswith("gcr.io") or registry.endswith("-docker.pkg.dev")


def _default_repo_links(names: Iterable[str], sites: list[BuildSite]) -> dict[str, BuildSite]:
    """Wanted images that are a skaffold artifact pushed under a default repository
    (`us-docker.pkg.dev/proj/repo/frontend` for artifact `frontend`), as derived sites."""
    artifacts = [s for s in sites if s.source == "skaffold" and s.raw_image]
    if not artifacts:
        return {}
    found: dict[str, tuple[str, BuildSite]] = {}
    for name in names:
        best: tuple[int, str, BuildSite] | None = None
        for site in artifacts:
            for form in _rewritten_forms(site.raw_image, _gcr_like(name)):
                if name.endswith("/" + form) and name != site.image and (best is None or len(form) > best[0]):
                    best = (len(form), name[: -len(form) - 1], site)
        if best is not None:
            found[name] = (best[1], best[2])
    # Docker Hub names are normalised (frontend -> docker.io/library/frontend): a hit there is
    # only a default repository when it serves several artifacts, not one third-party image.
    per_prefix: dict[str, set[str]] = {}
    for prefix, site in found.values():
        per_prefix.setdefault(prefix, set()).add(site.raw_image)
    return {
        name: replace(site, image=name, default_repo=prefix)
        for name, (prefix, site) in found.items()
        if not prefix.startswith(DOCKER_HUB + "/") or len(per_prefix[prefix]) > 1
    }


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
    by_name = {name: [s for s in sites if s.matches(name)] for name in sorted(names)}
    unmatched = [n for n, found in by_name.items() if not found and baseimages.lookup(n) is None]
    via_default_repo = _default_repo_links(unmatched, sites)
    out: dict[str, Link] = {}
    for name, matching in by_name.items():
        ambiguous: list[str] = []
        if not matching and name in via_default_repo:
            matching = [via_default_repo[name]]
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
