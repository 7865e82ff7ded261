"""The scanner interface: one scanner per area, fed the files of its kinds."""

from __future__ import annotations

import abc
import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from archlint.facts import Facts
from archlint.findings import Finding
from archlint.workers import configured

if TYPE_CHECKING:
    from archlint.config import Config

# File kinds (DESIGN.md "discover").
PYTHON = "python"
NOTEBOOK = "notebook"
REQUIREMENTS = "requirements"
PYPROJECT = "pyproject"
POETRY_LOCK = "poetry.lock"
UV_LOCK = "uv.lock"
PIPFILE_LOCK = "Pipfile.lock"
PDM_LOCK = "pdm.lock"
PYLOCK = "pylock.toml"
PYTHON_VERSION = "python-version"
WHEEL = "wheel"
ELF = "elf"
AR_ARCHIVE = "ar-archive"  # static libraries (.a), scanned member by member
TARBALL = "tarball"  # docker save / docker export output
DOCKERFILE = "dockerfile"
KUBERNETES = "kubernetes"
KUSTOMIZATION = "kustomization"
HELM = "helm"  # a Helm chart's Chart.yaml, values files and templates
SKAFFOLD = "skaffold"
COMPOSE = "compose"
GITHUB_WORKFLOW = "github-workflow"
GITLAB_CI = "gitlab-ci"
# Native code and the files that build it (archlint/native/); setup.py is PYTHON, read by name.
C_SOURCE = "c-source"  # .c .h .cc .cpp .cxx .hpp …
CYTHON = "cython"  # .pyx .pxd .pxi
FORTRAN = "fortran"  # .f .f90 .F …
CMAKE = "cmake"  # CMakeLists.txt, *.cmake
MESON = "meson"  # meson.build
MAKEFILE = "makefile"  # Makefile, GNUmakefile, *.mk
SETUP_CFG = "setup.cfg"

ALL_KINDS = (
    PYTHON, NOTEBOOK, REQUIREMENTS, PYPROJECT, POETRY_LOCK, UV_LOCK, PIPFILE_LOCK, PDM_LOCK, PYLOCK,
    PYTHON_VERSION, WHEEL, ELF, AR_ARCHIVE, TARBALL, DOCKERFILE, KUBERNETES, KUSTOMIZATION, HELM, SKAFFOLD,
    COMPOSE, GITHUB_WORKFLOW, GITLAB_CI, C_SOURCE, CYTHON, FORTRAN, CMAKE, MESON, MAKEFILE, SETUP_CFG,
)  # fmt: skip

# Files above this size are not read whole by default (scanners that stream may go further).
MAX_READ_BYTES = 64 * 1024 * 1024


CACHE_BYTES = 256 * 1024


class FileTooLarge(Exception):
    pass


@dataclass(eq=False)
class SourceFile:
    path: Path  # absolute path ("-" for stdin)
    rel: str  # repo-relative POSIX path, as reported
    kind: str
    data: bytes | None = None  # preloaded content (stdin, or already read while classifying)
    # Whether the file may hold a suppression comment, when a scanner that read it knows (None:
    # unknown). Spares suppression a second read of every file of a large tree.
    may_suppress: bool | None = None

    def read_bytes(self, limit: int = MAX_READ_BYTES) -> bytes:
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise FileTooLarge(f"{self.rel} is larger than {limit} bytes")
        if len(data) <= CACHE_BYTES:
            # Small files are read again by suppression and fixes; keep them.
            self.data = data
        return data

    def read_text(self) -> str:
        """Decode as UTF-8 (with BOM); raises UnicodeDecodeError for the caller to report."""
        return self.read_bytes().decode("utf-8-sig")


@dataclass
class ScanContext:
    root: Path  # paths in findings are relative to this
    config: Config
    offline: bool = False
    cache_dir: Path | None = None  # None: caching disabled (--no-cache)
    pythons: tuple[str, ...] = ()  # from --python; empty: derive per build context
    check_images: bool = False
    resolve: bool = True  # resolve each install set's dependency tree (--no-resolve: only what is written)
    files: list[SourceFile] = field(default_factory=list)  # every discovered file, all kinds
    # Worker processes of the fork pools (source, native, manifests): None decides by the amount
    # of work, 1 runs in-process, n > 1 forces n (env ARCHLINT_WORKERS: CI containers whose CPU
    # quota is smaller than the cores they see, and the tests that compare both paths).
    workers: int | None = field(default_factory=lambda: configured())

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


def guarded(files: Iterable[SourceFile], fn: Callable[[SourceFile], Iterable[Finding]]) -> Iterator[Finding]:
    """Run `fn` per file; an unexpected exception becomes an ARCH004 finding on that file
    so one bad file never hides the others' results (ARCHLINT_RAISE=1 re-raises, for tests)."""
    from archlint.progress import tick

    for f in files:
        try:
            yield from fn(f)
        except (FileTooLarge, OSError) as e:
            yield Finding(rule="ARCH001", message=f"cannot read {f.rel}: {e}", path=f.rel, key="unreadable")
        except Exception as e:
            if os.environ.get("ARCHLINT_RAISE"):
                raise
            yield internal_error(f.rel, e)
        tick()


def internal_error(path: str, e: BaseException) -> Finding:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return Finding(
        rule="ARCH004",
        message=f"internal error{where}: {type(e).__name__}: {e}",
        path=path,
        key=f"internal:{type(e).__name__}",
    )


class Scanner(abc.ABC):
    """One area of analysis. Scanners run in `order`; later ones see earlier ones' facts."""

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    order: ClassVar[int] = 50
    # True: `begin` starts background work before any other scanner runs, `scan` collects it
    # later (the engine runs the scanners in between); `abort` ends it if `scan` never came.
    overlaps: ClassVar[bool] = False

    def begin(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> None:  # noqa: B027
        """Start background work (only for `overlaps` scanners)."""

    def abort(self) -> None:  # noqa: B027
        """End background work that `begin` started and `scan` did not collect."""

    @abc.abstractmethod
    def scan(self, files: Sequence[SourceFile], ctx: ScanContext, facts: Facts) -> Iterable[Finding]:
        """Parse `files` (all of this scanner's kinds), add facts, yield findings.

        Bad input in a file is a finding (see rules/core.toml ARCH001/ARCH002), never an exception.
        """
