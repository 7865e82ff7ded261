"""Dockerfile stage lineage: the platform each stage runs on, and whether what the image takes
from build-platform stages was built for the target.

Docker's semantics are the oracle here:
- `BUILDPLATFORM`, `TARGETPLATFORM` and their `*OS`/`*ARCH`/`*VARIANT` parts are ARGs BuildKit
  defines in the global scope, so FROM lines may use them without declaring them
  (https://docs.docker.com/reference/dockerfile/#automatic-platform-args-in-the-global-scope).
- A stage without `--platform` builds for the target platform; `--platform=$BUILDPLATFORM` runs
  it on the builder's own platform, the cross-compilation idiom for builder stages
  (https://docs.docker.com/build/building/multi-platform/#cross-compilation).
- A stage built FROM another stage takes that stage's platform (BuildKit's dockerfile2llb sets
  `d.platform = d.base.platform`): the root of the FROM chain decides for the whole chain.

So `FROM --platform=$BUILDPLATFORM python:3.12-alpine AS base` followed by `FROM base` as the
runtime stage gives the linux/arm64 image the build machine's (amd64) Python, and native code
copied out of a build-platform stage that did not cross-compile is amd64 code in the arm64 image.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from archlint.facts import Evidence
from archlint.findings import Applicability, Edit, Finding, Fix, Severity
from archlint.placement.dockerfile import Dockerfile, Instruction, Stage, expand_or_raw

TARGET, BUILD, FIXED, UNKNOWN = "target", "build", "fixed", "unknown"
MAX_COPY_DEPTH = 16  # stages copied from stages copied from …: a hostile file cannot loop us

_AUTO_BUILD = re.compile(r"\$\{?BUILD(?:PLATFORM|OS|ARCH|VARIANT)\b")
_AUTO_TARGET = re.compile(r"\$\{?TARGET(?:PLATFORM|OS|ARCH|VARIANT)\b")
_PLATFORM_FLAG = re.compile(r"--platform=\S+\s*", re.IGNORECASE)
_AUTOMATIC = frozenset(
    f"{side}{part}" for side in ("BUILD", "TARGET") for part in ("PLATFORM", "OS", "ARCH", "VARIANT")
)

# A build-platform stage whose output is built for the target: it reads the target platform, or
# uses a cross toolchain (tonistiigi/xx, zig, a target triple, a .NET runtime identifier, pip's
# --platform). Pinned x86 values are checked first (below): GOARCH=amd64 is not cross-compiling.
_CROSS = [
    (re.compile(r"\bTARGET(?:ARCH|PLATFORM|OS|VARIANT)\b"), "uses the target platform ($TARGETARCH)"),
    (re.compile(r"\bxx-(?:go|cargo|clang\+*|cc|c\+\+|apk|apt-get|apt|info|verify)\b"), "cross-compiles with xx"),
    (re.compile(r"\bzig\s+(?:cc|c\+\+|build)\b|\bcargo\s+zigbuild\b"), "cross-compiles with zig"),
    (re.compile(r"\bcargo\s+(?:build|install|rustc)\b[^\n;&|]*\s--target[\s=]"), "cargo --target"),
    (re.compile(r"\bdotnet\s+(?:publish|build|restore)\b[^\n;&|]*\s(?:-r|--runtime|-a|--arch)[\s=]"),
     "dotnet publish for a runtime identifier"),
    (re.compile(r"\bpip3?\s+(?:install|download|wheel)\b[^\n;&|]*\s--platform[\s=]"), "pip --platform"),
    (re.compile(r"\bGOARCH=\S"), "sets GOARCH"),
    (re.compile(r"\b(?:aarch64|arm64)-linux-(?:gnu|musl)-(?:gcc|g\+\+|ld)\b|crossbuild-essential-arm64"
                r"|--host[= ]aarch64|\bCC=\S*aarch64"), "uses an aarch64 cross compiler"),
]  # fmt: skip
_PINNED_X86 = re.compile(
    r"\bGOARCH=[\"']?(?:amd64|386)\b|\s(?:-r|--runtime)[\s=][\"']?linux-(?:musl-)?x64\b"
    r"|--target[\s=][\"']?x86_64-|--platform[\s=][\"']?\S*x86_64",
)
# Native code built for the machine the stage runs on.
_NATIVE = [
    (re.compile(r"\bgo\s+(?:build|install)\b"), "`go build`"),
    (re.compile(r"\bcargo\s+(?:build|install)\b"), "`cargo build`"),
    (re.compile(r"(?:^|[\s;&|(])(?:gcc|g\+\+|cc|c\+\+|clang|clang\+\+)(?:-\d+)?\s"), "a C/C++ compiler"),
    (re.compile(r"(?:^|[\s;&|(])(?:make|cmake|ninja|meson|\./configure|bazel\s+build)\b"),
     "a native build (make/cmake)"),
    (re.compile(r"\b(?:pip3?|pip3\.\d+)\s+(?:install|wheel)\b|\bpython3?(?:\.\d+)?\s+-m\s+pip\s+(?:install|wheel)\b"
                r"|\bpoetry\s+install\b|\buv\s+(?:sync|pip\s+install)\b|\bpipenv\s+install\b|\bpdm\s+(?:install|sync)\b"),
     "Python packages installed there (wheels and the interpreter are the build platform's)"),
    (re.compile(r"\b(?:conda|mamba|micromamba)\s+(?:install|create)\b"), "conda packages"),
    (re.compile(r"\bdotnet\s+publish\b[^\n;&|]*--self-contained\b"), "a self-contained .NET publish"),
]  # fmt: skip
_PACKAGES = re.compile(r"\b(?:apt-get|apt|apk|yum|dnf|microdnf|zypper)\s+(?:-\S+\s+)*(?:install|add)\b")
_NODE_INSTALL = re.compile(r"\b(?:npm\s+(?:ci|install|i)|yarn(?:\s+install)?|pnpm\s+(?:install|i))\b")
# Output that is the same on every architecture.
_STATIC_EXT = frozenset(
    ".js .mjs .cjs .css .html .htm .json .map .txt .md .svg .png .jpg .jpeg .gif .ico .webp .woff .woff2 .ttf "
    ".eot .xml .yaml .yml .toml .ini .conf .cfg .properties .jar .war .ear .class .py .sql .csv .pem .crt".split()
)  # fmt: skip
_STATIC_DIRS = frozenset({"dist", "build", "public", "static", "assets", "www", "html", "site", "docs", "out",
                          "templates", "locales", "i18n", "config", "conf", "migrations"})  # fmt: skip
_BINARY_PATH = re.compile(r"^/(?:usr/)?(?:local/)?(?:s?bin|lib\w*|libexec)(?:/|$)|^/opt/|\.so(?:\.\d+)*$")


@dataclass(frozen=True)
class StagePlatform:
    kind: str  # TARGET | BUILD | FIXED | UNKNOWN
    root: Stage  # the stage whose FROM decides: the root of the FROM chain
    value: str  # the --platform value, expanded where that is known ("" without one)


def platform_of(df: Dockerfile, stage: Stage) -> StagePlatform:
    """The platform `stage` runs on: its FROM chain's root decides (BuildKit's rule)."""
    root = df.lineage(stage)[-1]
    raw = root.platform_raw
    if not raw:
        return StagePlatform(TARGET, root, "")
    # Expand user ARGs (`ARG BUILDER=$BUILDPLATFORM`) but keep BuildKit's automatic ones visible,
    # even when a global `ARG BUILDPLATFORM=linux/amd64` gives them a default.
    env = {k: v for k, v in df.global_raw.items() if k not in _AUTOMATIC}
    text = raw
    for _ in range(8):
        expanded = expand_or_raw(text, env)
        if expanded == text:
            break
        text = expanded
    if _AUTO_BUILD.search(text):
        default = df.global_args.get("BUILDPLATFORM")
        return StagePlatform(BUILD, root, f"{raw} (default {default})" if default else raw)
    if _AUTO_TARGET.search(text):
        return StagePlatform(TARGET, root, raw)
    if "$" in text:
        return StagePlatform(UNKNOWN, root, raw)
    return StagePlatform(FIXED, root, text)


def runtime_stage(df: Dockerfile, target: str | None = None) -> Stage | None:
    """The stage the image is: the build's `target` when it names one, else the last."""
    if not df.stages:
        return None
    if target:
        named = df.stage_named(target)
        if named is not None:
            return named
    return df.stages[-1]


def lineage_instructions(df: Dockerfile, stage: Stage, upto: Instruction | None = None) -> list[Instruction]:
    """What ran in `stage`'s filesystem, oldest first: its FROM chain's instructions, then its
    own up to (not including) `upto`."""
    out: list[Instruction] = []
    for s in reversed(df.lineage(stage)):
        for ins in s.instructions:
            if s is stage and ins is upto:
                return out
            out.append(ins)
    return out


def _scope(df: Dockerfile, stage: Stage) -> dict[str, str | None]:
    return {**df.global_args, **stage.args}


def _texts(df: Dockerfile, stage: Stage) -> list[str]:
    """RUN/ARG/ENV text of the stage's lineage, written and expanded."""
    out = []
    for s in reversed(df.lineage(stage)):
        for ins in s.instructions:
            if ins.keyword in ("RUN", "ARG", "ENV"):
                out.append(ins.args)
                expanded = expand_or_raw(ins.args, _scope(df, s))
                if expanded != ins.args:
                    out.append(expanded)
    return out


def _first(patterns: list[tuple[re.Pattern[str], str]], texts: list[str]) -> str | None:
    for rx, what in patterns:
        if any(rx.search(t) for t in texts):
            return what
    return None


@dataclass(frozen=True)
class CopyFrom:
    ins: Instruction
    stage: Stage  # the stage copied from
    sources: tuple[str, ...]  # paths inside that stage


_COPY_FROM = re.compile(r"(?:^|\s)--from=(\S+)")
_MOUNT_FROM = re.compile(r"--mount=(\S+)")


def copies_from(df: Dockerfile, stage: Stage) -> list[CopyFrom]:
    """COPY --from=<stage> and RUN --mount=from=<stage> in `stage` itself."""
    out: list[CopyFrom] = []
    scope = _scope(df, stage)
    for ins in stage.instructions:
        first_line = ins.args.split("\n", 1)[0]
        if ins.keyword in ("COPY", "ADD"):
            m = _COPY_FROM.search(first_line)
            if m is None:
                continue
            other = df.stage_named(expand_or_raw(m.group(1), scope))
            if other is None or other.index >= stage.index:
                continue  # an external image (COPY --from=nginx:1.27) or an invalid reference
            if first_line.lstrip().startswith("["):
                words = re.findall(r'"([^"]*)"', first_line)
            else:
                words = [w for w in first_line.split() if not w.startswith("--")]
            out.append(CopyFrom(ins, other, tuple(words[:-1])))
        elif ins.keyword == "RUN":
            for m in _MOUNT_FROM.finditer(first_line):
                opts = dict(p.partition("=")[::2] for p in m.group(1).split(","))
                ref = opts.get("from")
                other = df.stage_named(expand_or_raw(ref, scope)) if ref else None
                if other is None or other.index >= stage.index:
                    continue
                out.append(CopyFrom(ins, other, (opts.get("source") or opts.get("src") or "/",)))
    return out


def _static(path: str) -> bool:
    clean = path.rstrip("/")
    ext = posixpath.splitext(clean)[1].lower()
    if ext in _STATIC_EXT:
        return True
    parts = [p for p in clean.split("/") if p and p not in (".", "*")]
    return bool(parts) and parts[-1].lower() in _STATIC_DIRS


@dataclass(frozen=True)
class NativeCopy:
    copy: CopyFrom
    origin: Stage  # the build-platform stage whose output it is
    why: str  # what built native code there
    severity: Severity | None = None  # None: the rule's (error)


def _build_stage_reason(df: Dockerfile, stage: Stage, sources: tuple[str, ...], depth: int = 0) -> str | None:
    """Why the output of build-platform `stage` is build-platform machine code, or None when it
    is cross-compiled, architecture-independent, or nothing says."""
    texts = _texts(df, stage)
    pinned = next((m.group(0).strip() for t in texts for m in [_PINNED_X86.search(t)] if m), None)
    if pinned is None and _first(_CROSS, texts):
        return None
    if sources and all(_static(s) for s in sources):
        return None
    if pinned is not None:
        return f"`{pinned}` builds x86-64 code whatever the target"
    native = _first(_NATIVE, texts)
    if native is not None:
        return f"{native} without cross-compiling"
    if any("node_modules" in s for s in sources) and any(_NODE_INSTALL.search(t) for t in texts):
        return "node_modules installed there (native addons are built for the build platform)"
    if any(_PACKAGES.search(t) for t in texts) and any(_BINARY_PATH.search(s) for s in sources):
        return "OS packages installed there (their binaries are the build platform's)"
    if depth < MAX_COPY_DEPTH:
        # Output handed on from another build-platform stage.
        for cp in copies_from(df, stage):
            if platform_of(df, cp.stage).kind == BUILD:
                why = _build_stage_reason(df, cp.stage, cp.sources, depth + 1)
                if why is not None:
                    return f"{why} (in stage {_label(cp.stage)}, copied into {_label(stage)})"
    return None


def _label(stage: Stage) -> str:
    return stage.name or str(stage.index)


def native_copies(df: Dockerfile, runtime: Stage) -> list[NativeCopy]:
    """Copies into the image (its runtime stage and every target-platform stage it takes output
    from) of build-platform output that is not built for the target."""
    out: list[NativeCopy] = []
    for stage in df.contributing(runtime):
        if platform_of(df, stage).kind == BUILD:
            continue  # the runtime-lineage check reports these; stages between them are not copies
        for cp in copies_from(df, stage):
            if platform_of(df, cp.stage).kind != BUILD:
                continue
            why = _build_stage_reason(df, cp.stage, cp.sources)
            if why is None:
                continue
            sev = Severity.WARNING if why.startswith("node_modules") else None
            out.append(NativeCopy(cp, cp.stage, why, sev))
    return out


def _drop_platform_fix(df: Dockerfile, rel: str, stage: Stage, description: str) -> Fix | None:
    line = df.lines[stage.line - 1] if stage.line <= len(df.lines) else ""
    m = _PLATFORM_FLAG.search(line)
    if m is None:
        return None
    edit = Edit(rel, stage.line, m.start() + 1, stage.line, m.end() + 1, "")
    return Fix(description, Applicability.UNSAFE, (edit,))


def lineage_findings(df: Dockerfile, rel: str, runtime: Stage) -> tuple[list[Finding], list[Evidence]]:
    """ARCH309 (the image runs on the build platform) and ARCH310 (build-platform machine code
    copied into it), with the evidence that makes the image x86-only."""
    findings: list[Finding] = []
    evidence: list[Evidence] = []
    if not any(s.platform_raw for s in df.stages):
        return findings, evidence  # every stage builds for the target: most Dockerfiles
    plat = platform_of(df, runtime)
    root = plat.root
    if plat.kind == BUILD and root.base.lower() != "scratch":
        chain = " → ".join(f"FROM {s.base_raw}" for s in df.lineage(runtime))
        via = "" if root is runtime else f" (its FROM chain: {chain})"
        which = f"stage {runtime.name}" if runtime.name else "final stage"
        line = df.lines[root.line - 1] if root.line <= len(df.lines) else ""
        m = _PLATFORM_FLAG.search(line)
        findings.append(
            Finding(
                rule="ARCH309",
                message=f"the image's {which} runs on the build platform{via}: "
                f"FROM --platform={plat.value} {root.base} gives a linux/arm64 build the build machine's "
                f"(usually amd64) {root.base} — exec format error on arm64 nodes; drop --platform from this FROM",
                path=rel,
                line=root.line,
                column=m.start() + 1 if m else 1,
                end_line=root.line if m else None,
                end_column=m.end() + 1 if m else None,
                key=f"build-platform-runtime:{_label(runtime)}",
                fix=_drop_platform_fix(df, rel, root, "drop --platform from the runtime stage's FROM so it builds "
                                       "for each target platform"),
            )
        )  # fmt: skip
        evidence.append(
            Evidence(
                rel,
                root.line,
                f"the image's {which} runs on the build platform "
                f"(FROM --platform={plat.value}): an arm64 build holds build-platform (amd64) binaries",
                True,
                "ARCH309",
            )
        )
        return findings, evidence
    for nc in native_copies(df, runtime):
        cp = nc.copy
        what = ", ".join(cp.sources) or "its output"
        origin = nc.origin
        origin_root = platform_of(df, origin).root
        verb = "mounts" if cp.ins.keyword == "RUN" else "copies"
        findings.append(
            Finding(
                rule="ARCH310",
                message=f"{verb} {what} from stage {_label(origin)}, which runs on the build platform "
                f"(FROM --platform={platform_of(df, origin).value}) with {nc.why}: the linux/arm64 image gets "
                "build-platform (amd64) machine code; cross-compile for $TARGETARCH there, or drop --platform "
                f"from line {origin_root.line}",
                path=rel,
                line=cp.ins.line,
                severity=nc.severity,
                key=f"build-platform-copy:{_label(origin)}:{what}",
                fix=_drop_platform_fix(df, rel, origin_root, f"drop --platform from stage {_label(origin_root)} "
                                       "(it then builds under emulation for each target; slower, but correct)"),
            )
        )  # fmt: skip
        if nc.severity is None:
            evidence.append(
                Evidence(
                    rel,
                    cp.ins.line,
                    f"{verb} build-platform (amd64) machine code from stage {_label(origin)} ({nc.why})",
                    True,
                    "ARCH310",
                )
            )
    return findings, evidence
