"""Source builds inside an image: does the stage that runs `pip install` have a compiler (and the
system libraries some sdists need) when a dependency has no arm64 wheel?

The Dockerfile analysis records every Python install (`pip install`, `uv pip install`, `poetry
install`, `uv sync`, `pdm install`, `pipenv install`) with what was installed in its stage's
lineage before it; the knowledge base (rules/kb/build_toolchains.toml) says which base images
ship a compiler and which OS packages bring one or the libraries an sdist needs.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from archlint.catalogue import knowledge
from archlint.images import InvalidReference, parse
from archlint.placement.dockerfile import Dockerfile, Instruction, Stage, expand_or_raw, find_text
from archlint.placement.shell import commands
from archlint.placement.stages import lineage_instructions

_FAMILIES = {"apt-get": "apt", "apt": "apt", "aptitude": "apt", "yum": "rpm", "dnf": "rpm", "microdnf": "rpm",
             "zypper": "rpm", "apk": "apk", "conda": "conda", "mamba": "conda", "micromamba": "conda"}  # fmt: skip
# Options of package managers that take a value (the value is not a package).
_PKG_VALUE_OPTS = frozenset(
    "--virtual -t --repository -X --target-release -c --channel -n --name -p --prefix --setopt --enablerepo "
    "--disablerepo".split()
)


@functools.cache
def _kb() -> dict[str, Any]:
    return knowledge("build_toolchains")


@dataclass(frozen=True)
class Toolchain:
    """What the filesystem an install runs in can build."""

    compiler: bool | None  # None: the base image is not known
    why: str
    base_compiler: bool | None  # whether the base image alone ships one
    packages: frozenset[str]  # OS packages installed before the install
    base: str  # the stage lineage's external base image


@dataclass
class PythonInstall:
    """One command that installs Python packages into an image. What its stage can build is
    worked out on first use: only installs of a dependency without arm64 wheels need it."""

    stage: int  # stage index
    tool: str  # pip | poetry | uv | pdm | pipenv
    requirement_files: tuple[str, ...] = ()  # -r arguments as written (ARGs expanded)
    project: bool = False  # installs the project itself (`pip install .`, `poetry install`)
    inline: tuple[str, ...] = ()  # names of requirements given on the command line
    only_binary: bool = False  # --only-binary=:all: (pip refuses sdists)
    where: tuple[Dockerfile, Stage, Instruction, list[list[str]]] | None = field(default=None, repr=False)
    command: str = ""  # its first two words, to find it in the Dockerfile
    _toolchain: Toolchain | None = field(default=None, repr=False)
    _position: tuple[int, int] | None = field(default=None, repr=False)

    @property
    def line(self) -> int:
        return self.position[0]

    @property
    def column(self) -> int:
        return self.position[1]

    @property
    def position(self) -> tuple[int, int]:
        """1-based (line, column) of the command in the Dockerfile."""
        if self._position is None:
            assert self.where is not None
            df, _stage, ins, _prior = self.where
            self._position = find_text(df.lines, ins, self.command)
        return self._position

    @property
    def toolchain(self) -> Toolchain:
        if self._toolchain is None:
            assert self.where is not None
            self._toolchain = compiler_state(*self.where)
        return self._toolchain

    @property
    def compiler(self) -> bool | None:
        return self.toolchain.compiler

    @property
    def compiler_why(self) -> str:
        return self.toolchain.why

    @property
    def base_compiler(self) -> bool | None:
        return self.toolchain.base_compiler

    @property
    def packages(self) -> frozenset[str]:
        return self.toolchain.packages

    @property
    def base(self) -> str:
        return self.toolchain.base


def _words_after(words: list[str], verbs: tuple[str, ...]) -> list[str]:
    for i, w in enumerate(words[:4]):
        if w in verbs:
            return words[i + 1 :]
    return []


def installed_packages(
    df: Dockerfile,
    instructions: list[Instruction],
    stage: Stage,
    prior: list[list[str]] = (),  # type: ignore[assignment]
) -> tuple[set[str], set[str]]:
    """OS packages the instructions (then the `prior` commands of the current RUN) install, and
    the families of the package managers used."""
    scope = {**df.global_args, **stage.args}
    cmds: list[list[str]] = []
    for ins in instructions:
        if ins.keyword == "RUN" and ("install" in ins.args or "add" in ins.args or "rustup" in ins.args):
            cmds.extend(commands(expand_or_raw(ins.args, scope)))
    return _packages(cmds + list(prior))


def _packages(cmds: list[list[str]]) -> tuple[set[str], set[str]]:
    out: set[str] = set()
    families: set[str] = set()
    for words in cmds:
        if any("rustup" in w for w in words):
            out.update({"cargo", "rustc"})
        prog = words[0].rsplit("/", 1)[-1]
        family = _FAMILIES.get(prog)
        if family is None:
            continue
        rest = words[1:]
        if rest[:1] == ["groupinstall"] or rest[:2] == ["group", "install"]:
            start = 1 if rest[0] == "groupinstall" else 2
            out.update(w.lower() for w in rest[start:] if not w.startswith("-"))
            families.add(family)
            continue
        args = _words_after(rest, ("install", "add", "create"))
        if not args:
            continue
        families.add(family)
        skip = False
        names = []
        for w in args:
            if skip:
                skip = False
                continue
            if w.startswith("-"):
                skip = w in _PKG_VALUE_OPTS
                continue
            names.append(w.lower() if w.startswith("@") else re.split(r"[=<>:]", w, maxsplit=1)[0].lower())
        out.update(names)
        if family == "apt" and "python3-pip" in names and "--no-install-recommends" not in args:
            out.add("build-essential")  # apt installs Recommends: python3-pip recommends build-essential
    return out, families


def _image_compiler(base: str) -> tuple[bool | None, str]:
    try:
        image = parse(base)
    except InvalidReference:
        return None, ""
    images: dict[str, Any] = _kb().get("images", {})
    entry = images.get(image.name)
    if entry is None:
        for key, value in images.items():
            if key.endswith("*") and image.name.startswith(key[:-1]):
                entry = value
                break
    if entry is None:
        return None, ""
    spec = entry.get("compiler")
    tag = (image.tag or "").lower()
    if spec == "tag":
        slim = "slim" in tag or "alpine" in tag
        return (not slim), (f"{base} has no compiler (a -slim/-alpine tag)" if slim else f"{base} ships gcc")
    if spec == "devel-tag":
        devel = "devel" in tag
        return devel, (f"{base} ships gcc (a -devel tag)" if devel else f"{base} has no compiler (not a -devel tag)")
    if spec is True:
        return True, f"{base} ships a compiler"
    return False, f"{base} has no compiler"


@functools.cache
def _compilers() -> dict[str, tuple[tuple[str, ...], ...]]:
    return {f: tuple(tuple(p.lower() for p in alt) for alt in alts) for f, alts in _kb().get("compilers", {}).items()}


_VERSIONED_COMPILER = re.compile(r"(?:gcc|g\+\+|clang)-\d+")


def _has_compiler(packages: set[str], families: set[str]) -> str | None:
    if not packages:
        return None
    compilers = _compilers()
    for family in sorted(families) or sorted(compilers):
        for alternative in compilers.get(family, ()):
            if all(p in packages for p in alternative):
                return " + ".join(alternative)
    # Versioned compilers (gcc-12, g++-13, clang-17) count on any family.
    versioned = sorted(p for p in packages if _VERSIONED_COMPILER.fullmatch(p))
    return versioned[0] if versioned else None


def compiler_state(df: Dockerfile, stage: Stage, ins: Instruction, prior: list[list[str]]) -> Toolchain:
    """Whether the filesystem a command of `ins` runs in (after the `prior` commands of the same
    RUN) has a C compiler, and what else was installed there."""
    lineage = df.lineage(stage)
    base = lineage[-1].base
    before = lineage_instructions(df, stage, ins)
    packages, families = installed_packages(df, before, stage, prior)
    pkgs = frozenset(packages)
    base_state, base_why = _image_compiler(base)
    installed = _has_compiler(packages, families)
    if installed is not None:
        return Toolchain(True, f"the Dockerfile installs {installed} first", base_state, pkgs, base)
    if base_state is False:
        why = f"{base_why} and the Dockerfile installs none before this line"
        return Toolchain(False, why, base_state, pkgs, base)
    return Toolchain(base_state, base_why, base_state, pkgs, base)


def missing_libraries(dist: str, packages: frozenset[str]) -> list[str]:
    """What `dist`'s sdist needs besides a compiler that none of `packages` provides."""
    needs: list[dict[str, Any]] = _kb().get("packages", {}).get(dist, {}).get("needs", [])
    return [n["what"] for n in needs if not any(p.lower() in packages for p in n["any"])]


# pip options that take a value as the next word.
PIP_VALUE_OPTIONS = frozenset(
    "-r -c -e -i -f --requirement --constraint --index-url --extra-index-url --find-links -t --target --prefix "
    "--root --platform --python-version --implementation --abi --editable --only-binary --no-binary".split()
)
_PYTHON = re.compile(r"python3?(?:\.\d+)?")
_PIP = re.compile(r"pip3?(?:\.\d+)?")
_NAME_END = re.compile(r"[\[=<>!~;@ ]")


def record(df: Dockerfile, stage: Stage, ins: Instruction, words: list[str], prior: list[list[str]],
           scope: dict[str, str | None]) -> PythonInstall | None:  # fmt: skip
    """A PythonInstall for one simple command, or None when it installs no Python packages."""
    prog = words[0].rsplit("/", 1)[-1]
    if not prog.startswith(("pip", "python", "uv", "poetry", "pdm")):
        return None  # most commands of a RUN line
    rest = words[1:]
    where = (df, stage, ins, prior)
    if _PYTHON.fullmatch(prog):
        if rest[:2] != ["-m", "pip"]:
            return None
        prog, rest = "pip", rest[2:]
    if prog == "uv" and rest[:2] == ["pip", "install"]:
        tool, rest = "uv", rest[2:]
    elif _PIP.fullmatch(prog) and rest[:1] == ["install"]:
        tool, rest = "pip", rest[1:]
    elif (prog == "uv" and rest[:1] == ["sync"]) or (prog in ("poetry", "pdm", "pipenv") and rest[:1] in (
            ["install"], ["sync"])):  # fmt: skip
        return PythonInstall(stage.index, prog, project=True, where=where, command=" ".join(words[:2]))
    else:
        return None
    reqs: list[str] = []
    inline: list[str] = []
    project = only_binary = False
    i = 0
    while i < len(rest):
        w = rest[i]
        value = None
        if w in ("-r", "--requirement", "--only-binary") and i + 1 < len(rest):
            value = rest[i + 1]
            i += 1
        elif w.startswith(("--requirement=", "--only-binary=")):
            value = w.split("=", 1)[1]
        elif w.startswith("-r") and len(w) > 2:
            value, w = w[2:], "-r"
        if value is not None:
            if w.startswith("--only-binary"):
                only_binary = only_binary or ":all:" in value
            else:
                reqs.append(expand_or_raw(value, scope))
        elif w in ("-e", "--editable") and i + 1 < len(rest):
            project = project or not rest[i + 1].startswith(("git+", "http"))
            i += 1
        elif w in PIP_VALUE_OPTIONS:
            i += 1  # --prefix /install, -c constraints.txt, -i URL: the value is no requirement
        elif w in (".", "./") or (w.startswith(("/", "./")) and "." not in posixpath.basename(w.rstrip("/"))):
            project = True
        elif not w.startswith("-"):
            name = _NAME_END.split(expand_or_raw(w, scope) if "$" in w else w, maxsplit=1)[0]
            if name and "$" not in name and "/" not in name:
                inline.append(name)
        i += 1
    return PythonInstall(stage.index, tool, requirement_files=tuple(reqs), project=project, inline=tuple(inline),
                         only_binary=only_binary, where=where, command=" ".join(words[:2]))  # fmt: skip


# What `poetry install`, `uv sync`, `pdm install` and `pipenv install` read, besides pyproject.toml.
PROJECT_FILES = {"pip": ("pyproject.toml",), "uv": ("uv.lock", "pyproject.toml"), "poetry": ("poetry.lock",),
                 "pdm": ("pdm.lock",), "pipenv": ("Pipfile.lock",)}  # fmt: skip


def requirement_paths(arg: str, context: str, copied: list[str], known: set[str]) -> list[str]:
    """Repository paths a `-r ARG` inside the image most likely is: a copied file of that name,
    a file under a copied directory, else the path relative to the build context. Only paths of
    files that declare dependencies (`known`) are returned."""
    arg = arg.lstrip("/") if arg.startswith("/") else arg
    name = posixpath.basename(arg)
    candidates: list[str] = []
    for src in copied:
        if posixpath.basename(src) == name:
            candidates.append(src)
        candidates.append(posixpath.normpath(posixpath.join(src, name)))
        for i in range(len(arg.split("/"))):  # /app/requirements/base.txt under COPY . /app
            candidates.append(posixpath.normpath(posixpath.join(src, *arg.split("/")[i:])))
    candidates.append(posixpath.normpath(posixpath.join(context, arg)))
    candidates.append(posixpath.normpath(posixpath.join(context, name)))
    out: list[str] = []
    for c in candidates:
        c = c.removeprefix("./")
        if c in known and c not in out:
            out.append(c)
    return out[:1]
