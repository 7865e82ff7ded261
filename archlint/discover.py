"""Walk the paths, honour .gitignore and excludes, and classify every file by kind."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from archlint import scanning as k
from archlint.findings import Finding
from archlint.gitignored import GitView
from archlint.k8s.render.charts import chart_of
from archlint.scanning import SourceFile

if TYPE_CHECKING:
    import pathspec

# Directories never descended into while walking (an explicitly named path is still scanned).
_DEFAULT_EXCLUDED_NAMES = frozenset(
    {".git", ".hg", ".svn", ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__",
     "node_modules", ".venv", ".direnv", ".eggs", ".archlint_cache"}
)  # fmt: skip

ELF_MAGIC = b"\x7fELF"
AR_MAGIC = b"!<arch>\n"

# Extensions that are never ELF, so we do not open them to sniff magic bytes.
_TEXT_EXTS = frozenset(
    ".md .rst .txt .html .htm .css .js .ts .tsx .jsx .png .jpg .jpeg .gif .svg .ico .cfg .ini .toml .lock "
    ".csv .tsv .xml .sh .bash .zsh .go .rs .c .h .cc .cpp .hpp .java .kt .rb .php .pyc .pyo .gz .bz2 .xz .zip "
    ".zst .jar .pdf .woff .woff2 .ttf .map .sql .proto .tf .hcl .tpl .j2 .gitignore .in .mod .sum".split()
)
_REQ_NAME = re.compile(r"^(?:.*requirements.*|constraints.*)\.(?:txt|in)$", re.IGNORECASE)
# Every naming style of Dockerfiles and Containerfiles seen in real repositories: Dockerfile,
# Dockerfile.prod, api.Dockerfile, Dockerfile-package, app.Dockerfile-ubuntu, non_dist_Dockerfile,
# Containerfile.arm. Suffixes of files that sit next to them but are something else
# (BuildKit's per-Dockerfile `Dockerfile.dockerignore`, docs, scripts, data) are not Dockerfiles.
_DOCKERFILE = re.compile(r"^(?:.+[._-])?(?:docker|container)file(?:[.-].+)?$", re.IGNORECASE)
_NOT_DOCKERFILE_EXTS = frozenset(
    ".dockerignore .md .rst .txt .json .yaml .yml .toml .lock .sh .bash .ps1 .bat .py .pyc .go .rs .js .ts .html "
    ".xml .csv .bak .orig .swp .diff .patch".split()
)
# A Dockerfile by content: after comments and parser directives, the first instruction is FROM
# or ARG, and a FROM follows (BuildKit accepts only ARG before the first FROM).
_FROM_LINE = re.compile(rb"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*[^\s-]\S*(?:[ \t]+AS[ \t]+\S+)?[ \t]*\r?$",
                        re.IGNORECASE | re.MULTILINE)  # fmt: skip
_FIRST_INSTRUCTION = re.compile(
    rb"\A(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*(?:FROM[ \t]|ARG[ \t]+[A-Za-z_][A-Za-z0-9_]*(?:=\S*)?[ \t]*\r?(?:\n|\Z))",
    re.IGNORECASE,
)
SNIFF_BYTES = 64 * 1024
_COMPOSE = re.compile(r"^(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml$")
_PYLOCK = re.compile(r"^pylock\.(?:[^.]+\.)?toml$")
_K8S_API = re.compile(rb'^\s*(?:-\s+)?"?apiVersion"?\s*:', re.MULTILINE)
_K8S_KIND = re.compile(rb'^\s*(?:-\s+)?"?kind"?\s*:', re.MULTILINE)

_EXACT = {
    "pyproject.toml": k.PYPROJECT,
    "poetry.lock": k.POETRY_LOCK,
    "uv.lock": k.UV_LOCK,
    "Pipfile.lock": k.PIPFILE_LOCK,
    "pdm.lock": k.PDM_LOCK,
    ".python-version": k.PYTHON_VERSION,
    "skaffold.yaml": k.SKAFFOLD,
    "skaffold.yml": k.SKAFFOLD,
    "kustomization.yaml": k.KUSTOMIZATION,
    "kustomization.yml": k.KUSTOMIZATION,
    "Kustomization": k.KUSTOMIZATION,
    ".gitlab-ci.yml": k.GITLAB_CI,
    ".gitlab-ci.yaml": k.GITLAB_CI,
    "CMakeLists.txt": k.CMAKE,
    "meson.build": k.MESON,
    "Makefile": k.MAKEFILE,
    "makefile": k.MAKEFILE,
    "GNUmakefile": k.MAKEFILE,
    "setup.cfg": k.SETUP_CFG,
}
# Native sources (archlint/native/), by extension; `.F`/`.f90` only for x86-only compiler directives.
_NATIVE_EXTS = {
    **dict.fromkeys((".c", ".h", ".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".inl"), k.C_SOURCE),
    **dict.fromkeys((".pyx", ".pxd", ".pxi"), k.CYTHON),
    **dict.fromkeys((".f", ".for", ".f77", ".f90", ".f95", ".f03", ".f08"), k.FORTRAN),
    ".cmake": k.CMAKE,
    **dict.fromkeys((".mk", ".mak"), k.MAKEFILE),
}


def classify(path: Path, rel: str) -> tuple[str | None, bytes | None]:
    """The kind of a file, and its bytes when we had to read them to decide."""
    name = path.name
    kind = _EXACT.get(name)
    if kind:
        return kind, None
    lower = name.lower()
    suffix = os.path.splitext(lower)[1]
    if suffix in (".py", ".pyi"):
        return k.PYTHON, None
    if suffix == ".ipynb":
        return k.NOTEBOOK, None
    if suffix == ".whl":
        return k.WHEEL, None
    if suffix in _NATIVE_EXTS:
        return _NATIVE_EXTS[suffix], None
    if _PYLOCK.match(name):
        return k.PYLOCK, None
    if _REQ_NAME.match(name) or (suffix in (".txt", ".in") and path.parent.name == "requirements"):
        return k.REQUIREMENTS, None
    if _DOCKERFILE.match(name) and suffix not in _NOT_DOCKERFILE_EXTS:
        return k.DOCKERFILE, None
    if suffix in (".yaml", ".yml", ".json") and chart_of(path) is not None:
        return k.HELM, None  # Chart.yaml, values files, templates: rendered as a chart, never parsed raw
    if suffix in (".yaml", ".yml"):
        if _COMPOSE.match(name):
            return k.COMPOSE, None
        if "/.github/workflows/" in f"/{rel}":
            return k.GITHUB_WORKFLOW, None
    if suffix in (".yaml", ".yml", ".json"):
        data = _read_head(path, k.MAX_READ_BYTES + 1)
        if data is None:
            return None, None
        truncated = len(data) > k.MAX_READ_BYTES
        if truncated:
            data = data[: k.MAX_READ_BYTES]
        if suffix == ".json":
            if b'"apiVersion"' in data and b'"kind"' in data:
                return k.KUBERNETES, None if truncated else data
        elif _K8S_API.search(data) and _K8S_KIND.search(data):
            # An oversized file is not preloaded: its scanner's read_bytes() reports the size cap.
            return k.KUBERNETES, None if truncated else data
        return None, None
    if lower.endswith((".tar", ".tar.gz", ".tgz")):
        return k.TARBALL, None
    if suffix in _TEXT_EXTS:
        return None, None
    head = _read_head(path, 8)
    if head is None:
        return None, None
    if head.startswith(ELF_MAGIC):
        return k.ELF, None
    if head.startswith(AR_MAGIC):
        return k.AR_ARCHIVE, None
    return None, None


def looks_like_dockerfile(data: bytes) -> bool:
    """Whether `data` (the head of a file) reads as a Dockerfile: for files named on the command
    line whatever their name (`docker/api.df`)."""
    return b"\0" not in data and bool(_FIRST_INSTRUCTION.match(data)) and bool(_FROM_LINE.search(data))


def _read_head(path: Path, n: int) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return None


@dataclass
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    count: int = 0  # every regular file seen (classified or not)


@dataclass
class _Walker:
    root: Path
    excludes: pathspec.PathSpec | None  # the user's excludes; None when there are none
    respect_gitignore: bool
    out: Discovery
    seen_dirs: set[tuple[int, int]] = field(default_factory=set)
    # An explicitly named directory that the excludes would skip (`archlint check .venv`): what is
    # under it is matched against the excludes relative to it, so they do not swallow it whole.
    named_base: str = ""
    git: GitView | None = None  # inside a work tree, git says what is ignored (archlint/gitignored.py)

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def add_file(self, path: Path, rel: str, named: bool = False) -> None:
        self.out.count += 1
        try:
            kind, data = classify(path, rel)
            if kind is None and named:
                # Named on purpose: a Dockerfile by any name is classified by what it holds.
                head = _read_head(path, SNIFF_BYTES)
                kind = k.DOCKERFILE if head is not None and looks_like_dockerfile(head) else None
        except OSError as e:
            self.unreadable(rel, e)
            return
        if kind:
            self.out.files.append(SourceFile(path=path, rel=rel, kind=kind, data=data))

    def unreadable(self, rel: str, err: OSError | str) -> None:
        reason = err if isinstance(err, str) else (err.strerror or str(err))
        self.out.findings.append(
            Finding(rule="ARCH001", message=f"cannot read {rel}: {reason}", path=rel, key="unreadable")
        )

    def walk(
        self,
        directory: str,
        dir_rel: str,
        ignores: list[tuple[str, pathspec.PathSpec]],
        ancestors: frozenset[tuple[int, int]] = frozenset(),
    ) -> None:
        try:
            st = os.stat(directory)
        except OSError as e:
            self.unreadable(dir_rel, e)
            return
        ident = (st.st_dev, st.st_ino)
        if ident in ancestors:
            self.unreadable(dir_rel, "symlink loop (links back to a directory above it)")
            return
        if ident in self.seen_dirs:
            return  # an alias of a directory already scanned (lib64 -> lib): nothing new there
        self.seen_dirs.add(ident)
        ancestors = ancestors | {ident}
        if self.respect_gitignore and not (self.git and not self.named_base and self.git.decides_below(dir_rel)):
            spec = _gitignore(Path(directory))
            if spec is not None:
                ignores = [*ignores, (dir_rel, spec)]
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            self.unreadable(dir_rel, e)
            return
        prefix = "" if dir_rel in ("", ".") else dir_rel + "/"
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_dir = entry.is_dir()  # follows symlinks
                is_link = entry.is_symlink()
            except OSError as e:
                self.unreadable(rel, e)
                continue
            if is_dir and _default_excluded(entry.name):
                continue
            if self._ignored(rel, is_dir, ignores):
                continue
            if is_link and not os.path.exists(entry.path):
                self.unreadable(rel, "broken symlink or symlink loop")
                continue
            if is_dir:
                self.walk(entry.path, rel, ignores, ancestors)
            else:
                try:
                    mode = entry.stat().st_mode
                except OSError as e:
                    self.unreadable(rel, e)
                    continue
                if stat.S_ISREG(mode):
                    self.add_file(Path(entry.path), rel)

    def _ignored(self, rel: str, is_dir: bool, ignores: list[tuple[str, pathspec.PathSpec]]) -> bool:
        if self.excludes is None and not ignores and self.git is None:
            return False
        probe = rel + "/" if is_dir else rel
        if self.excludes is not None:
            if self.named_base and probe.startswith(self.named_base + "/"):
                if self.excludes.match_file(probe[len(self.named_base) + 1 :]):
                    return True
            elif self.excludes.match_file(probe):
                return True
        if self.git is not None and not self.named_base:
            verdict = self.git.ignored(rel, is_dir)
            if verdict is not None:
                return verdict
        for base, spec in ignores:
            sub = probe if base in ("", ".") else probe[len(base) + 1 :] if probe.startswith(base + "/") else None
            if sub and spec.match_file(sub):
                return True
        return False


def _default_excluded(name: str) -> bool:
    # A set lookup per directory instead of a pathspec match per entry: discovery dominates
    # large trees (a virtualenv has ~100k files).
    return name in _DEFAULT_EXCLUDED_NAMES or name.endswith(".egg-info")


def _gitignore(directory: Path) -> pathspec.PathSpec | None:
    gi = directory / ".gitignore"
    try:
        lines = gi.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _spec(lines)


def _spec(lines: list[str]) -> pathspec.PathSpec:
    import pathspec  # 17 ms to import: a tree without .gitignore or excludes never needs it

    return pathspec.GitIgnoreSpec.from_lines(lines)


def discover(
    paths: list[Path],
    root: Path,
    excludes: list[str],
    respect_gitignore: bool = True,
    force_exclude: bool = False,
) -> Discovery:
    """Walk `paths`. Excludes skip what the walk finds; a file named explicitly is scanned
    anyway unless `force_exclude` (as pre-commit passes every staged file by name)."""
    out = Discovery()
    spec = _spec(excludes) if excludes else None
    walker = _Walker(root=Path(os.path.abspath(root)), excludes=spec, respect_gitignore=respect_gitignore, out=out)
    if respect_gitignore:
        named = [walker.rel(Path(os.path.abspath(p))) for p in paths if os.path.isdir(p)]
        walker.git = GitView.load(walker.root, named) if named else None
    for p in paths:
        path = Path(os.path.abspath(p))
        rel = walker.rel(path)
        if path.is_dir():
            ignores: list[tuple[str, pathspec.PathSpec]] = []
            if respect_gitignore:
                # .gitignore files between the root and a named subdirectory still apply.
                for parent in reversed(path.parents):
                    if parent == walker.root or walker.root in parent.parents:
                        s = _gitignore(parent)
                        if s is not None:
                            ignores.append((walker.rel(parent), s))
            if rel not in ("", ".") and (_default_excluded(path.name) or walker._ignored(rel, True, ignores)):
                # Named on purpose (a virtualenv, an exported container filesystem): scan it.
                walker.named_base, ignores = rel, []
            walker.walk(str(path), "" if rel == "." else rel, ignores)
            walker.named_base = ""
        elif path.is_file():
            if force_exclude and _force_excluded(rel, spec):
                continue
            walker.add_file(path, rel, named=True)
        elif os.path.islink(path):
            walker.unreadable(rel, "broken symlink or symlink loop")
        else:
            walker.unreadable(rel, "no such file or directory")
    return out


def _force_excluded(rel: str, spec: pathspec.PathSpec | None) -> bool:
    parts = rel.split("/")
    if any(_default_excluded(d) for d in parts[:-1]):
        return True
    return spec is not None and (
        spec.match_file(rel) or any(spec.match_file("/".join(parts[:i]) + "/") for i in range(1, len(parts)))
    )


def iter_kind(files: list[SourceFile], *kinds: str) -> Iterator[SourceFile]:
    return (f for f in files if f.kind in kinds)
