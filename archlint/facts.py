"""Plain records that parsers produce and checks, placement and reports consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Dependency.status values (DESIGN.md contract).
OK = "ok"
NEEDS_BUILD = "needs-build"
UNAVAILABLE = "unavailable"
UNKNOWN = "unknown"
NOT_APPLICABLE = "not-applicable"

# Per-target availability values in Dependency.targets.
T_WHEEL = "wheel"
T_PURE = "pure"
T_SDIST = "sdist"
T_NONE = "none"
T_UNKNOWN = "unknown"


@dataclass(frozen=True)
class Target:
    """One platform a workload's Python environment must install on."""

    platform: str  # "linux/arm64" | "linux/amd64"
    python: str  # "3.11"
    libc: str = "glibc"  # "glibc" | "musl"
    libc_version: str = "2.36"

    @property
    def arch(self) -> str:
        return self.platform.split("/", 1)[1]

    @property
    def label(self) -> str:
        # The key used in Dependency.targets, e.g. "linux/arm64 cp311".
        label = f"{self.platform} cp{self.python.replace('.', '')}"
        return label + (" musl" if self.libc == "musl" else "")

    def to_json(self) -> dict[str, str]:
        return {"platform": self.platform, "python": self.python, "libc": f"{self.libc} {self.libc_version}"}


@dataclass
class Suggestion:
    version: str
    reason: str
    vulnerabilities: list[str] | None = None  # None: vulnerability status unknown
    newest: str | None = None


@dataclass
class Dependency:
    name: str  # PEP 503-normalised
    version: str | None  # the pinned/locked version, if exactly one
    specifier: str  # as written, e.g. "==1.2.3", ">=2"; "" when unconstrained
    path: str  # repo-relative POSIX path of the file that declares it
    line: int | None
    source: str  # requirements | pyproject | poetry.lock | uv.lock | pdm.lock | pylock.toml | Pipfile.lock | dockerfile
    marker: str | None = None
    extras: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # distribution file names known from a lockfile
    # (file name, URL, sha256) where the lockfile records them (not in the JSON report)
    file_refs: tuple[tuple[str, str | None, str | None], ...] = ()
    hashes: tuple[str, ...] = ()
    url: str | None = None  # direct URL / VCS reference
    editable: bool = False
    column: int = 1
    end_column: int | None = None  # span of the requirement text on its line, for edits
    status: str = UNKNOWN
    targets: dict[str, str] = field(default_factory=dict)  # Target.label -> T_*
    suggestion: Suggestion | None = None
    reason: str = ""  # why the status is what it is (esp. unknown)
    resolved: dict[str, str | None] = field(default_factory=dict)  # Target.label -> version pip installs
    direct: bool = True  # written in the scanned file; False: found by resolving the tree below one
    via: tuple[str, ...] | None = None  # transitive: the chain from the direct requirement, e.g. (torch, triton)

    @property
    def blocks_arm64(self) -> bool:
        return self.status == UNAVAILABLE

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "specifier": self.specifier,
            "path": self.path,
            "line": self.line,
            "source": self.source,
            "status": self.status,
            "targets": dict(self.targets),
            "resolved": dict(self.resolved),
            "direct": self.direct,
            "via": list(self.via) if self.via is not None else None,
            "suggestion": None
            if self.suggestion is None
            else {
                "version": self.suggestion.version,
                "reason": self.suggestion.reason,
                "vulnerabilities": self.suggestion.vulnerabilities,
            },
        }


@dataclass(frozen=True)
class Evidence:
    """Something found in a file that bears on whether code there runs on arm64.

    Scanners of source, binaries, Dockerfiles and dependencies record evidence; placement
    collects the evidence under each image's build context.
    """

    path: str
    line: int | None
    reason: str
    blocks_arm64: bool  # True: this alone makes code under `path` x86-only
    rule: str = ""
    arm64_ok: bool = False  # positive evidence (e.g. an arm64 base image, a multi-arch build)

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass
class BuildContext:
    image: str  # normalised image reference without tag/digest (e.g. docker.io/acme/api)
    directory: str  # repo-relative POSIX directory ("." for the root)
    dockerfile: str | None  # repo-relative path
    link: str  # how we know: "skaffold.yaml:12", "compose.yaml:5", "config", "ci: .github/...", "directory name"
    platforms: tuple[str, ...] = ()  # platforms CI builds it for, when known


@dataclass(frozen=True)
class RuntimeHint:
    """What a build context's base image says about the Python environment inside it
    (python:3.11-slim -> 3.11 on glibc; python:3.12-alpine -> musl). Dependency targets for
    files under `directory` come from the nearest hint."""

    directory: str  # repo-relative POSIX directory ("." for the root)
    python: str | None  # "3.11"
    libc: str  # "glibc" | "musl"
    libc_version: str | None  # "2.36", "1.2"
    source: str  # "Dockerfile:1: FROM python:3.11-slim"


@dataclass
class ImageVerdict:
    ref: str
    arm64: bool | None  # None: nothing vouches either way
    evidence: list[str] = field(default_factory=list)
    platforms: tuple[str, ...] = ()  # platforms it is (or will be) built/published for


@dataclass
class Placement:
    current: list[str]
    recommendation: str = "unknown"  # arm64 | multi-arch | amd64 | unknown
    reasons: list[str] = field(default_factory=list)
    patch: dict[str, Any] | None = None


@dataclass
class Workload:
    kind: str
    name: str
    namespace: str
    path: str
    line: int
    images: list[str]  # image references as written
    pod_spec: dict[str, Any]  # plain data of the pod template's spec
    doc_index: int = 0  # which YAML document in the file
    spec_path: tuple[str | int, ...] = ()  # key path from the document root to the pod spec
    placement: Placement | None = None
    image_verdicts: list[ImageVerdict] = field(default_factory=list)
    source: str = ""  # the file, kustomize overlay or Helm chart (+ values) that produced it
    role: str = ""  # which pod of a multi-pod object (an Argo template, a Ray worker group)
    editable: bool = True  # the pod's scheduling fields are written at spec_path in `path`
    patch_path: tuple[Any, ...] | None = None  # spec_path with list items as {"name": ...}
    patch_base: dict[str, Any] | None = None  # scheduling fields as written there, when assembled

    @property
    def id(self) -> str:
        base = f"{self.kind}/{self.namespace}/{self.name}"
        return f"{base}[{self.role}]" if self.role else base

    @property
    def label(self) -> str:
        """How messages name it: the id, and for a rendered workload what rendered it (the
        same base through two overlays is two workloads with one id)."""
        return self.id if not self.source or self.source == self.path else f"{self.id} from {self.source}"


@dataclass
class Facts:
    """Everything the parsers learned; shared by all scanners of one run."""

    dependencies: list[Dependency] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    build_contexts: list[BuildContext] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    images: dict[str, ImageVerdict] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    runtime_hints: list[RuntimeHint] = field(default_factory=list)
    # Region suppressions from YAML object annotations: (path, first_line, last_line, rule names/codes).
    region_ignores: list[tuple[str, int, int, frozenset[str]]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # scanner-private cross-scanner data
