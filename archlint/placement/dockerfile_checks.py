"""What a Dockerfile says about arm64: platform pins, base images, x86-only downloads and
packages, inline pip pins (handed to the dependency scanner) and vendored binaries it copies."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from archlint.catalogue import knowledge
from archlint.facts import Dependency, Evidence, RuntimeHint
from archlint.findings import Applicability, Edit, Finding, Fix
from archlint.nesting import ABSURD_NUMBER
from archlint.placement import baseimages, stages, toolchain
from archlint.placement.dockerfile import Dockerfile, Instruction, Stage, expand, find_text
from archlint.placement.shell import commands

# A URL word that names an x86 build; bounded by non-alphanumerics so "x64" in "dx64y" does not count.
_X86_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(amd64|x86_64|x86-64|x64|linux64|intel64|em64t|64bit|64-bit)(?![A-Za-z0-9])", re.IGNORECASE
)
_URL = re.compile(r"(?:https?|ftp)://[^\s\"'<>|;&)]+")
# Any of these in a RUN means the command picks the artifact per architecture.
_ARCH_AWARE = re.compile(
    r"TARGETARCH|TARGETPLATFORM|TARGETVARIANT|uname\s+-[a-z]*m|dpkg\s+--print-architecture|\$\(\s*arch\s*\)|`arch`"
    r"|apk\s+--print-arch|rpm\s+--eval\s+'?%\{?_arch|\bgo\s+env\s+GOARCH|platform\.machine"
)
_DOWNLOADERS = frozenset({"curl", "wget", "aria2c", "ADD"})
_PIP = re.compile(r"(?:^|/)(?:pip3?(?:\.\d+)?)$")
_PKG_MANAGERS = {"apt-get": "apt", "apt": "apt", "aptitude": "apt", "yum": "rpm", "dnf": "rpm", "microdnf": "rpm",
                 "zypper": "rpm", "apk": "apk", "conda": "conda", "mamba": "conda", "micromamba": "conda"}  # fmt: skip
_PLATFORM_OK = ("$BUILDPLATFORM", "${BUILDPLATFORM}", "$TARGETPLATFORM", "${TARGETPLATFORM}")


@dataclass
class CopySource:
    line: int
    sources: tuple[str, ...]  # repo-relative POSIX paths (context + source)


@dataclass
class Analysis:
    findings: list[Finding] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    copies: list[CopySource] = field(default_factory=list)
    hint: RuntimeHint | None = None
    bases: list[tuple[int, str]] = field(default_factory=list)  # (line, external base image) of the image's lineage
    installs: list[toolchain.PythonInstall] = field(default_factory=list)  # Python installs into the image
    context: str = "."  # the build context directory


def _system_packages() -> dict[str, dict[str, str]]:
    return knowledge("system_packages")["packages"]


def _match_system_package(name: str) -> tuple[str, dict[str, str]] | None:
    for pattern, info in _system_packages().items():
        if (pattern.endswith("*") and name.startswith(pattern[:-1])) or name == pattern:
            return pattern, info
    return None


def analyse(df: Dockerfile, rel: str, context_dir: str, hint_dir: str, target: str | None = None) -> Analysis:
    """Check a parsed Dockerfile at repo-relative `rel`, built from `context_dir` (for the stage
    `target` when the build names one, else the last)."""
    out = Analysis(context=context_dir)
    final = stages.runtime_stage(df, target)
    if final is None:
        return out
    contributing = {s.index for s in df.contributing(final)}
    lineage = df.lineage(final)
    _platform_pins(df, rel, lineage, [s for s in df.stages if s.index in contributing], out)
    found, evidence = stages.lineage_findings(df, rel, final)
    out.findings.extend(found)
    out.evidence.extend(evidence)
    _base_images(df, rel, lineage, out)
    for stage in df.stages:
        blocks = stage.index in contributing
        for ins in stage.instructions:
            scope = {**df.global_args, **stage.args}
            if ins.keyword in ("RUN", "ADD"):
                _downloads(df, rel, stage, ins, scope, blocks, out)
            if ins.keyword == "RUN":
                _run_commands(df, rel, stage, ins, scope, blocks, out)
            if ins.keyword in ("COPY", "ADD") and blocks:
                _copies(ins, context_dir, out)
    out.hint = _runtime_hint(df, rel, hint_dir, lineage, [s for s in df.stages if s.index in contributing])
    return out


def _platform_pins(df: Dockerfile, rel: str, lineage: list[Stage], contributing: list[Stage], out: Analysis) -> None:
    """Pins of the image's own lineage make it amd64-only; a pinned build stage it copies from
    (instead of the `--platform=$BUILDPLATFORM` idiom) is reported but does not decide alone."""
    for stage in contributing:
        raw = stage.platform_raw
        if not raw or raw in _PLATFORM_OK:
            continue
        value = stage.platform or raw
        if "arm64" in value or "aarch64" in value or "$" in value:
            continue
        line = df.lines[stage.line - 1]
        m = re.search(r"--platform=\S+\s*", line)
        fix = None
        if m:
            fix = Fix(
                "remove the platform pin so the stage builds for each target platform",
                Applicability.UNSAFE,
                (Edit(rel, stage.line, m.start() + 1, stage.line, m.end() + 1, ""),),
            )
        why = f"FROM --platform={raw}" + (f" (= {value})" if value != raw else "")
        own = stage in lineage
        what = (
            f"pins the image to {value}: it never builds for linux/arm64"
            if own
            else f"pins build stage {stage.name or stage.index} to {value}; its output is copied into the image, "
            "so native code built there is x86-64 (use --platform=$BUILDPLATFORM and cross-compile for $TARGETARCH)"
        )
        out.findings.append(
            Finding(
                rule="ARCH301",
                message=f"{why} {what}",
                path=rel,
                line=stage.line,
                column=(m.start() + 1) if m else 1,
                end_line=stage.line,
                end_column=(m.end() + 1) if m else None,
                key=f"platform-pin:{stage.index}",
                fix=fix,
            )
        )
        if own:
            out.evidence.append(Evidence(rel, stage.line, f"{why} pins the image to {value}", True, "ARCH301"))


def _base_images(df: Dockerfile, rel: str, lineage: list[Stage], out: Analysis) -> None:
    root = lineage[-1]
    base = root.base
    out.bases.append((root.line, base))
    if base.lower() == "scratch" or "$" in base:
        return
    info = baseimages.lookup(base)
    if info is None:
        return
    if info.arm64:
        out.evidence.append(
            Evidence(rel, root.line, f"base image {base} publishes linux/arm64", False, "", arm64_ok=True)
        )
        return
    note = f": {info.note}" if info.note else ""
    out.findings.append(
        Finding(
            rule="ARCH302",
            message=f"base image {base} is published for linux/amd64 only{note}",
            path=rel,
            line=root.line,
            key=f"base:{info.name}",
        )
    )
    out.evidence.append(Evidence(rel, root.line, f"base image {base} is linux/amd64 only", True, "ARCH302"))


def _downloads(
    df: Dockerfile, rel: str, stage: Stage, ins: Instruction, scope: dict[str, str | None], blocks: bool, out: Analysis
) -> None:
    if _ARCH_AWARE.search(ins.args):
        return
    expanded = expand(ins.args, scope)
    if expanded is None:  # variables that expand past any real command line
        msg = f"{ins.keyword} line: its variables expand past any real command line; not checked"
        out.findings.append(Finding(rule="ARCH002", message=msg, path=rel, line=ins.line, key=f"expansion:{ins.line}"))
        return
    if _ARCH_AWARE.search(expanded):
        return
    for url in _URL.findall(expanded):
        m = _X86_TOKEN.search(url.split("?", 1)[0])
        if not m:
            continue
        written = next((u for u in _URL.findall(ins.args) if expand(u, scope) == url), url)
        line, col = find_text(df.lines, ins, written[:40])
        via = "" if written == url else f" (expands to {url})"
        out.findings.append(
            Finding(
                rule="ARCH303",
                message=f"downloads an x86-64 build ({m.group(1)}) without selecting it by $TARGETARCH: {written}{via}",
                path=rel,
                line=line,
                column=col,
                key=f"download:{written}",
            )
        )
        if blocks:
            out.evidence.append(Evidence(rel, line, f"downloads x86-64 artifact {url}", True, "ARCH303"))


def _run_commands(
    df: Dockerfile,
    rel: str,
    stage: Stage,
    ins: Instruction,
    scope: dict[str, str | None],
    blocks: bool,
    out: Analysis,
) -> None:
    if "install" not in ins.args and "add" not in ins.args and "sync" not in ins.args:
        return  # nothing to install: skip tokenizing (most RUN lines of a large scan)
    cmds = commands(ins.args)
    for n, words in enumerate(cmds):
        prog = words[0].rsplit("/", 1)[-1]
        rest = words[1:]
        if prog in ("python", "python3") or re.fullmatch(r"python3\.\d+", prog):
            if rest[:2] == ["-m", "pip"]:
                prog, rest = "pip", rest[2:]
        if prog == "uv" and rest[:1] == ["pip"]:
            prog, rest = "pip", rest[1:]
        python_install = False
        if _PIP.search(prog) and rest[:1] == ["install"]:
            _pip_install(df, rel, ins, rest[1:], scope, out)
            python_install = True
        elif prog in _PKG_MANAGERS and any(w in ("install", "add") for w in rest[:3]):
            _package_install(df, rel, ins, _PKG_MANAGERS[prog], rest, blocks, out)
        else:
            python_install = prog in ("uv", "poetry", "pdm", "pipenv") and rest[:1] in (["sync"], ["install"])
        if python_install and blocks:
            record = toolchain.record(df, stage, ins, words, cmds[:n], scope)
            if record is not None:
                out.installs.append(record)


def _pip_install(
    df: Dockerfile, rel: str, ins: Instruction, args: list[str], scope: dict[str, str | None], out: Analysis
) -> None:
    skip_next = False
    for word in args:
        if skip_next:
            skip_next = False
            continue
        if word.startswith("-"):
            # Options that take a value: skip it (-r files are scanned as requirement files themselves).
            if word in toolchain.PIP_VALUE_OPTIONS:
                skip_next = True
            continue
        text = expand(word, scope) or "$"
        if "$" in text or "/" in text or text.startswith(".") or text.endswith((".whl", ".tar.gz", ".zip")):
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        line, col = find_text(df.lines, ins, word)
        if ABSURD_NUMBER.search(text):
            out.findings.append(Finding(rule="ARCH002", message=f"pip install {word[:60]}...: a version number "
                                        "hundreds of digits long; not checked", path=rel, line=line,
                                        key=f"absurd:{word[:60]}"))  # fmt: skip
            continue
        spec = str(req.specifier)
        pinned = [s.version for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version]
        out.dependencies.append(
            Dependency(
                name=canonicalize_name(req.name),
                version=pinned[0] if len(pinned) == 1 else None,
                specifier=spec,
                path=rel,
                line=line,
                source="dockerfile",
                marker=str(req.marker) if req.marker else None,
                extras=tuple(sorted(req.extras)),
                column=col,
                end_column=col + len(word) if df.lines[line - 1][col - 1 : col - 1 + len(word)] == word else None,
            )
        )


def _package_install(
    df: Dockerfile, rel: str, ins: Instruction, family: str, args: list[str], blocks: bool, out: Analysis
) -> None:
    x86_python = knowledge("x86_only")["packages"]
    for word in args:
        if word.startswith("-") or word in ("install", "add", "-y"):
            continue
        name = re.split(r"[=<>]", word, maxsplit=1)[0].lower()
        hit = _match_system_package(name)
        reason = replacement = ""
        if hit is not None:
            reason, replacement = hit[1]["reason"], hit[1].get("replacement", "")
        elif family == "conda" and canonicalize_name(name) in x86_python:
            reason = x86_python[canonicalize_name(name)]["reason"]
            replacement = x86_python[canonicalize_name(name)].get("replacement", "")
        if not reason:
            continue
        line, col = find_text(df.lines, ins, word)
        instead = f"; use {replacement} instead" if replacement else ""
        out.findings.append(
            Finding(
                rule="ARCH304",
                message=f"installs {name}, which exists for x86-64 only ({reason}){instead}",
                path=rel,
                line=line,
                column=col,
                end_line=line,
                end_column=col + len(word),
                key=f"package:{name}",
            )
        )
        if blocks:
            out.evidence.append(Evidence(rel, line, f"installs x86-only package {name}", True, "ARCH304"))


def _copies(ins: Instruction, context_dir: str, out: Analysis) -> None:
    flags = re.findall(r"--(\w[\w-]*)(?:=(\S*))?", ins.args.split("\n", 1)[0])
    if any(k == "from" for k, _ in flags):
        return
    words = [w for w in ins.args.split("\n", 1)[0].split() if not w.startswith("--")]
    if ins.args.lstrip().startswith("["):
        words = re.findall(r'"([^"]*)"', ins.args)
    if len(words) < 2:
        return
    sources = []
    for src in words[:-1]:
        if "://" in src or src.startswith("<<"):
            continue
        path = posixpath.normpath(posixpath.join(context_dir, src.lstrip("/")))
        sources.append("." if path in ("", ".") else path)
    if sources:
        out.copies.append(CopySource(ins.line, tuple(sources)))


def _runtime_hint(
    df: Dockerfile, rel: str, directory: str, lineage: list[Stage], contributing: list[Stage]
) -> RuntimeHint | None:
    """Python from the final image's base, else from a contributing stage's (a venv built in
    python:3.11 and copied into distroless keeps 3.11's wheel tags); libc from the final image."""
    root = lineage[-1]
    roots = {df.lineage(s)[-1].index: df.lineage(s)[-1] for s in reversed(contributing)}
    candidates = [root, *(s for i, s in roots.items() if i != root.index)]
    final = baseimages.lookup(root.base)
    for stage in candidates:
        info = baseimages.lookup(stage.base)
        if info is not None and info.python:
            libc = final or info
            return RuntimeHint(directory, info.python, libc.libc, libc.libc_version,
                               f"{rel}:{stage.line}: FROM {stage.base}")  # fmt: skip
    if final is None:
        return None
    return RuntimeHint(directory, None, final.libc, final.libc_version, f"{rel}:{root.line}: FROM {root.base}")
