"""CI pipelines that build images: GitHub Actions (docker/build-push-action, `docker buildx
build` in run steps) and GitLab CI scripts. Each build becomes a BuildSite with the platforms
it builds for and, when it lacks linux/arm64, a text fix that keeps the workflow YAML intact."""

from __future__ import annotations

import itertools
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from archlint.findings import Applicability, Edit, Fix
from archlint.placement.shell import commands, option_value
from archlint.placement.sites import BuildSite, join, normalise_image
from archlint.placement.yamlio import item_pos, key_line, value_pos

ARM64 = "linux/arm64"
AMD64 = "linux/amd64"
QEMU_ACTION = "docker/setup-qemu-action@v3"
BUILDX_ACTION = "docker/setup-buildx-action@v3"
MAX_MATRIX = 64

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_SHVAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_BUILD_CMD = re.compile(
    r"\b(?:docker\s+buildx\s+build|docker\s+(?:image\s+)?build|podman\s+build|buildx\s+build)\b|/kaniko/executor\b"
)
# Runner labels of arm64 machines: ubuntu-24.04-arm, [self-hosted, ARM64], saas-linux-medium-arm64.
_ARM_RUNNER = re.compile(r"(?<![a-z])(?:arm64|arm|aarch64)(?![a-z])|graviton", re.IGNORECASE)
# Options of `docker build` that take no value; every other option consumes the next word.
_BOOL_OPTS = frozenset(
    "--push --load --pull --no-cache --quiet -q --rm --force-rm --squash --compress --disable-content-trust "
    "--check --debug".split()
)


def _s(v: Any, default: str = "") -> str:
    """A scalar as text; anything else (a mapping, a list, an alias-expanded tree) as `default`,
    so a hostile document is never stringified whole."""
    if isinstance(v, bool) or v is None:
        return default
    return str(v) if isinstance(v, (str, int, float)) else default


def _arch_of_runner(runs_on: Any) -> str:
    text = " ".join(_s(x) for x in runs_on[:50]) if isinstance(runs_on, list) else _s(runs_on)
    return ARM64 if _ARM_RUNNER.search(text) else AMD64


@dataclass
class _Scope:
    env: dict[str, str] = field(default_factory=dict)
    matrix: dict[str, Any] = field(default_factory=dict)
    meta_images: dict[str, list[str]] = field(default_factory=dict)  # metadata-action step id -> images

    def expr(self, e: str) -> list[str]:
        """Values of one `${{ … }}` expression; ["*"] when not known statically."""
        m = re.fullmatch(r"env\.([A-Za-z_][\w-]*)", e)
        if m and m.group(1) in self.env:
            return [self.env[m.group(1)]]
        m = re.fullmatch(r"matrix\.([A-Za-z_][\w-]*)", e)
        if m and isinstance(self.matrix.get(m.group(1)), (str, int, float)):
            return [str(self.matrix[m.group(1)])]
        m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.tags", e)
        if m and m.group(1) in self.meta_images:
            return [f"{img}:*" for img in self.meta_images[m.group(1)]]
        return ["*"]

    def resolve(self, text: str) -> list[str]:
        """`text` with expressions resolved; a tags expression may expand to several values."""
        results = [""]
        pos = 0
        for m in _EXPR.finditer(text):
            results = [r + text[pos : m.start()] for r in results]
            results = [r + v for r in results for v in self.expr(m.group(1))]
            pos = m.end()
        results = [r + text[pos:] for r in results]
        return [self._shell(r) for r in results]

    def _shell(self, text: str) -> str:
        """Expand $VAR / ${VAR}; variables may refer to others (IMAGE: $CI_REGISTRY_IMAGE/api)."""
        for _ in range(5):
            new = _SHVAR.sub(lambda m: self.env.get(m.group(1) or m.group(2), m.group(0)), text)
            if new == text:
                break
            text = new
        return _SHVAR.sub("*", text)


def _str_env(v: Any) -> dict[str, str]:
    return {str(k): str(x) for k, x in v.items() if isinstance(x, (str, int, float))} if isinstance(v, dict) else {}


def _tags(v: Any) -> str:
    """build-push-action's `tags`: a CSV/newline string (a YAML list of strings is tolerated)."""
    if isinstance(v, list):
        return "\n".join(_s(x) for x in v[:1000])
    return _s(v)


def _split_list(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(p.strip() for p in re.split(r"[,\n]", v) if p.strip())
    return out


def _matrix(strategy: Any) -> list[dict[str, Any]]:
    matrix = strategy.get("matrix") if isinstance(strategy, dict) else None
    if not isinstance(matrix, dict):
        return [{}]
    axes = {k: v for k, v in matrix.items() if k not in ("include", "exclude") and isinstance(v, list)}
    # islice: a hostile matrix (many axes) must not be expanded before it is cut.
    product = itertools.islice(itertools.product(*axes.values()), MAX_MATRIX)
    combos: list[dict[str, Any]] = [dict(zip(axes, vals, strict=True)) for vals in product] or [{}]
    includes = matrix.get("include")
    for inc in includes[:256] if isinstance(includes, list) else []:
        if isinstance(inc, dict):
            # An include that matches no combination adds one (GitHub's rule, simplified).
            merged = False
            for c in combos:
                if all(c.get(k) == v for k, v in inc.items() if k in axes):
                    c.update(inc)
                    merged = True
            if not merged and len(combos) < MAX_MATRIX:
                combos.append(dict(inc))
    return combos


@dataclass(frozen=True)
class DockerBuild:
    tags: tuple[str, ...]
    platforms: tuple[str, ...]
    file: str | None
    context: str
    buildx: bool
    builder: str = "docker"  # docker | buildx | podman | kaniko


def parse_build_command(words: list[str]) -> DockerBuild | None:
    """`docker [buildx|image] build …` / `podman build …` → what it builds, or None."""
    if not words:
        return None
    prog = words[0].rsplit("/", 1)[-1]
    rest = words[1:]
    buildx = False
    builder = prog
    if prog == "docker" and rest[:2] == ["buildx", "build"]:
        rest, buildx, builder = rest[2:], True, "buildx"
    elif (prog == "docker" and rest[:2] == ["image", "build"]) or (
        prog in ("docker", "podman") and rest[:1] == ["build"]
    ):
        rest = rest[2:] if rest[0] == "image" else rest[1:]
    elif prog == "buildx" and rest[:1] == ["build"]:
        rest, buildx, builder = rest[1:], True, "buildx"
    elif prog == "executor" and words[0].endswith("kaniko/executor"):
        return _kaniko(rest)
    else:
        return None
    positional: list[str] = []
    i = 0
    while i < len(rest):
        w = rest[i]
        if w.startswith("-") and w != "-":
            if "=" not in w and w not in _BOOL_OPTS:
                i += 1
        else:
            positional.append(w)
        i += 1
    tags = option_value(rest, "-t", "--tag")
    platforms = tuple(_split_list(option_value(rest, "--platform")))
    files = option_value(rest, "-f", "--file")
    context = positional[-1] if positional else "."
    return DockerBuild(tuple(tags), platforms, files[0] if files else None, context, buildx, builder)


def _kaniko(args: list[str]) -> DockerBuild:
    """Kaniko (GitLab's usual builder): one platform per run, the runner's unless --custom-platform."""
    ctx = option_value(args, "--context", "-c")
    context = ctx[0].removeprefix("dir://") if ctx else "."
    files = option_value(args, "--dockerfile", "-f")
    plats = tuple(_split_list(option_value(args, "--custom-platform")))
    # --dockerfile is relative to the context unless absolute-ish ($CI_PROJECT_DIR/…).
    file = files[0] if files else None
    if file and not file.startswith(("/", "$", ".", context)):
        file = f"{context.rstrip('/')}/{file}"
    return DockerBuild(tuple(option_value(args, "--destination", "-d")), plats, file, context, False, "kaniko")


def _command_fix(
    rel: str, lines: list[str], start: int, nth: int, build: DockerBuild, extra: tuple[Edit, ...]
) -> Fix | None:
    """Edits that add linux/arm64 to the nth build command found from line `start` on."""
    count = -1
    for ln in range(start, min(len(lines), start + 2000) + 1):
        for m in _BUILD_CMD.finditer(lines[ln - 1]):
            count += 1
            if count != nth:
                continue
            if not build.buildx:
                return None
            # Find --platform in this line or its continuation lines.
            cur = ln
            while cur <= len(lines):
                text = lines[cur - 1]
                pm = re.search(r"--platform(?:=|\s+)([\"']?)([^\s\"']+)\1", text)
                if pm and (cur != ln or pm.start() > m.start()):
                    end = pm.end(2)
                    return Fix(
                        "build linux/arm64 as well (QEMU emulation via buildx; or build on a native arm64 runner)",
                        Applicability.UNSAFE,
                        (*extra, Edit(rel, cur, end + 1, cur, end + 1, f",{ARM64}")),
                    )
                if not text.rstrip().endswith("\\"):
                    break
                cur += 1
            return Fix(
                "build linux/amd64 and linux/arm64 (QEMU emulation via buildx; or build on a native arm64 runner)",
                Applicability.UNSAFE,
                (*extra, Edit(rel, ln, m.end() + 1, ln, m.end() + 1, f" --platform {AMD64},{ARM64}")),
            )
    return None


def _step_indent(lines: list[str], pos: tuple[int, int] | None) -> str | None:
    """The indentation of a step's `- ` dash, when the dash is on the step's first line."""
    if pos is None:
        return None
    line, col = pos
    text = lines[line - 1]
    dash = text.rfind("-", 0, col - 1)
    if dash < 0 or text[:dash].strip():
        return None
    return text[:dash]


def _setup_edits(rel: str, lines: list[str], steps: list[Any], first_build: int) -> tuple[Edit, ...]:
    """Insert setup-qemu / setup-buildx steps before the job's first build step, when missing."""
    uses = [str(s.get("uses", "")) for s in steps if isinstance(s, dict)]
    missing = [a for a, prefix in ((QEMU_ACTION, "docker/setup-qemu-action"), (BUILDX_ACTION,
               "docker/setup-buildx-action")) if not any(u.startswith(prefix) for u in uses)]  # fmt: skip
    if not missing:
        return ()
    pos = item_pos(steps, first_build)
    indent = _step_indent(lines, pos)
    if pos is None or indent is None:
        return ()
    text = "".join(f"{indent}- uses: {a}\n" for a in missing)
    return (Edit(rel, pos[0], 1, pos[0], 1, text),)


def _platforms_edit(rel: str, lines: list[str], with_: Any) -> Edit | None:
    """Add linux/arm64 to build-push-action's `platforms:` input, or add the input."""
    if "platforms" in with_:
        pos = value_pos(with_, "platforms")
        raw = _s(with_["platforms"])
        if pos is None or "${{" in raw:
            return None
        line, col = pos
        text = lines[line - 1]
        if text[col - 1 : col] in ("|", ">"):
            # Block scalar: add a line with the indentation of its first line.
            body = line + 1
            while body <= len(lines) and not lines[body - 1].strip():
                body += 1
            if body > len(lines):
                return None
            indent = re.match(r"\s*", lines[body - 1]).group(0)  # type: ignore[union-attr]
            last = body
            while last + 1 <= len(lines) and (lines[last].startswith(indent) and lines[last].strip()):
                last += 1
            return Edit(rel, last + 1, 1, last + 1, 1, f"{indent}{ARM64}\n")
        quote = text[col - 1] if text[col - 1 : col] in ("'", '"') else ""
        if quote:
            end = text.find(quote, col)
            if end < 0:
                return None
            return Edit(rel, line, end + 1, line, end + 1, f",{ARM64}")
        m = re.match(r"[^#]*?(?=\s+#|\s*$)", text[col - 1 :])
        end = col - 1 + (len(m.group(0)) if m else len(text[col - 1 :].rstrip()))
        return Edit(rel, line, end + 1, line, end + 1, f",{ARM64}")
    keys = list(with_.keys())
    if not keys:
        return None
    first = key_line(with_, keys[0])
    pos = value_pos(with_, keys[0])
    indent = re.match(r"\s*", lines[first - 1]).group(0)  # type: ignore[union-attr]
    if pos is None or lines[first - 1].lstrip().startswith("{"):
        return None
    return Edit(rel, first, 1, first, 1, f"{indent}platforms: {AMD64},{ARM64}\n")


def github_sites(doc: Any, rel: str, lines: list[str]) -> list[BuildSite]:
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
        return []
    out: list[BuildSite] = []
    wf_env = _str_env(doc.get("env"))
    for _job_id, job in doc["jobs"].items():
        if not isinstance(job, dict) or not isinstance(job.get("steps"), list):
            continue
        steps = job["steps"]
        build_idx = [i for i, s in enumerate(steps) if isinstance(s, dict) and _is_build_step(s)]
        if not build_idx:
            continue
        setup = _setup_edits(rel, lines, steps, build_idx[0])
        for combo in _matrix(job.get("strategy")):
            scope = _Scope(env={**wf_env}, matrix=combo)
            scope.env.update({k: v for k, v in _str_env(job.get("env")).items()})
            runner = _arch_of_runner(_resolve_runs_on(scope, job.get("runs-on")))
            for i, step in enumerate(steps):
                if not isinstance(step, dict):
                    continue
                step_scope = _Scope({**scope.env, **_str_env(step.get("env"))}, scope.matrix, scope.meta_images)
                uses = _s(step.get("uses"))
                with_: dict[str, Any] = step["with"] if isinstance(step.get("with"), dict) else {}
                if uses.startswith("docker/metadata-action") and isinstance(step.get("id"), str):
                    imgs = [v for raw in _split_list([_s(with_.get("images"))]) for v in step_scope.resolve(raw)]
                    # metadata-action lines may carry options: "name=ghcr.io/acme/api,enable=true".
                    scope.meta_images[step["id"]] = [i.split(",")[0].removeprefix("name=") for i in imgs]
                elif uses.startswith("docker/build-push-action"):
                    out.extend(_action_sites(rel, lines, step, with_, step_scope, runner, setup))
                elif isinstance(step.get("run"), str):
                    out.extend(_run_sites(rel, lines, step, step_scope, runner, setup))
    return _dedupe(out)


def _resolve_runs_on(scope: _Scope, runs_on: Any) -> Any:
    if isinstance(runs_on, str):
        return scope.resolve(runs_on)
    return runs_on


def _is_build_step(step: dict[str, Any]) -> bool:
    if _s(step.get("uses")).startswith("docker/build-push-action"):
        return True
    run = step.get("run")
    return isinstance(run, str) and bool(_BUILD_CMD.search(run))


def _checkout(rel: str) -> str:
    """The directory CI checks the repository out to, relative to the scan root: the folder
    holding `.github/workflows/` or `.gitlab-ci.yml` (contexts in CI files are relative to it)."""
    head, sep, _ = f"/{rel}".rpartition("/.github/workflows/")
    if sep:
        return head.lstrip("/") or "."
    return posixpath.dirname(rel) or "."


def _action_sites(rel: str, lines: list[str], step: Any, with_: Any, scope: _Scope, runner: str,
                  setup: tuple[Edit, ...]) -> list[BuildSite]:  # fmt: skip
    ctx_raw = _s(with_.get("context"), ".")
    base = _checkout(rel)
    context = join(base, scope.resolve(ctx_raw)[0].removeprefix("./") or ".")
    file_raw = with_.get("file")
    dockerfile = join(base, scope.resolve(_s(file_raw))[0]) if file_raw else join(context, "Dockerfile")
    plat_raw = with_.get("platforms")
    platforms = tuple(_split_list(scope.resolve(_s(plat_raw)))) if plat_raw else (runner,)
    if not _split_list([_tags(with_.get("tags"))]):
        return []
    tags = [t for raw in _split_list([_tags(with_.get("tags"))]) for t in scope.resolve(raw)]
    line = key_line(step, "uses")
    fix: Fix | None = None
    note = ""
    if ARM64 not in platforms:
        edit = _platforms_edit(rel, lines, with_) if with_ else None
        if edit is None:
            note = "the platforms input is an expression or not plain YAML; add linux/arm64 by hand"
        else:
            fix = Fix("build linux/arm64 as well (QEMU emulation via buildx; or build on a native arm64 runner)",
                      Applicability.UNSAFE, (*setup, edit))  # fmt: skip
    out = []
    for tag in tags:
        name = normalise_image(tag)
        if name:
            out.append(BuildSite(name, context, dockerfile, "ci", rel, line, platforms, None, fix, note))
    return out


def _run_sites(rel: str, lines: list[str], step: Any, scope: _Scope, runner: str,
               setup: tuple[Edit, ...]) -> list[BuildSite]:  # fmt: skip
    pos = value_pos(step, "run")
    start = pos[0] if pos else key_line(step, "run")
    return _script_sites(rel, lines, str(step["run"]), start, scope, runner, setup)


def _script_sites(rel: str, lines: list[str], script: str, start: int, scope: _Scope, runner: str,
                  setup: tuple[Edit, ...]) -> list[BuildSite]:  # fmt: skip
    out: list[BuildSite] = []
    nth = -1
    for words in commands(script):
        text = " ".join(words)
        if not _BUILD_CMD.search(text):
            continue
        build = parse_build_command(words)
        if build is None:
            continue
        nth += 1
        resolved_ctx = scope.resolve(build.context)[0]
        context = join(_checkout(rel), resolved_ctx)
        dockerfile = join(_checkout(rel), scope.resolve(build.file)[0]) if build.file else join(context, "Dockerfile")
        platforms = tuple(_split_list([p for raw in build.platforms for p in scope.resolve(raw)])) or (runner,)
        fix: Fix | None = None
        note = ""
        if ARM64 not in platforms:
            fix = _command_fix(rel, lines, start, nth, build, setup)
            if fix is None:
                note = _NO_FIX.get(build.builder, _NO_FIX["docker"])
        line = _nth_command_line(lines, start, nth)
        for tag in build.tags:
            for value in scope.resolve(tag):
                name = normalise_image(value)
                if name:
                    out.append(BuildSite(name, context, dockerfile, "ci", rel, line, platforms, None, fix, note))
    return out


def _nth_command_line(lines: list[str], start: int, nth: int) -> int:
    count = -1
    for ln in range(start, min(len(lines), start + 2000) + 1):
        count += len(_BUILD_CMD.findall(lines[ln - 1]))
        if count >= nth:
            return ln
    return start


def _dedupe(sites: list[BuildSite]) -> list[BuildSite]:
    seen: set[tuple[str, str, int, tuple[str, ...] | None]] = set()
    out = []
    for s in sites:
        k = (s.image, s.context, s.line, s.platforms)
        if k not in seen:
            seen.add(k)
            out.append(s)
    return out


_NO_FIX = {
    "docker": "a plain `docker build` builds for the runner only: use `docker buildx build --platform "
    "linux/amd64,linux/arm64 --push` (or a native arm64 runner)",
    "kaniko": "kaniko builds one platform per job: add the same job on an arm64 runner (`--custom-platform "
    "linux/arm64` or arm64 runner tags) and merge both into one manifest list (manifest-tool, crane index append)",
}

_GITLAB_RESERVED = frozenset(
    {"stages", "variables", "default", "include", "workflow", "image", "services", "before_script", "after_script",
     "cache", "pages"}
)  # fmt: skip


def gitlab_sites(doc: Any, rel: str, lines: list[str]) -> list[BuildSite]:
    if not isinstance(doc, dict):
        return []
    out: list[BuildSite] = []
    global_vars = {"CI_PROJECT_DIR": ".", "CI_BUILDS_DIR": ".", **_str_env(doc.get("variables"))}
    for name, job in doc.items():
        if name in _GITLAB_RESERVED or not isinstance(job, dict):
            continue
        scope = _Scope(env={**global_vars, **_str_env(job.get("variables"))})
        runner = _arch_of_runner(job.get("tags"))
        for key in ("before_script", "script"):
            seq = job.get(key)
            items = [seq] if isinstance(seq, str) else seq if isinstance(seq, list) else []
            for idx, item in enumerate(items):
                if not isinstance(item, str):
                    continue
                pos = item_pos(seq, idx) if isinstance(seq, list) else value_pos(job, key)
                start = pos[0] if pos else key_line(job, key)
                out.extend(_script_sites(rel, lines, item, start, scope, runner, ()))
    return _dedupe(out)
