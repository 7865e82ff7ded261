"""A Dockerfile parser that keeps line numbers: instructions, stages, ARG substitution.

Follows BuildKit's rules where they matter for architecture questions: parser directives
(`# escape=`), line continuations (comment lines inside them are dropped), heredocs
(`RUN <<EOF`), global ARGs before the first FROM that only FROM lines may use, and stage
references by name or index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_INSTRUCTIONS = 20_000  # a hostile file cannot make us build an unbounded list
MAX_LINE_CHARS = 1_000_000
# Characters one substitution may add: ARGs that each repeat the previous one ten times double
# their exponent per line (ten such lines made 10^11 characters); real values are image names,
# versions and URLs.
MAX_EXPANDED = 64 * 1024

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class ExpansionTooLong(ValueError):
    pass


class DockerfileError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper-case: FROM, RUN, COPY, ...
    args: str  # the arguments, continuation lines joined (heredoc bodies appended after a newline)
    line: int  # 1-based first physical line
    end_line: int  # last physical line


@dataclass
class Stage:
    index: int
    base: str  # the FROM image as written, ARGs substituted
    base_raw: str  # as written
    name: str | None  # AS name (lower-case)
    platform: str | None  # --platform value, ARGs substituted
    platform_raw: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)
    args: dict[str, str | None] = field(default_factory=dict)  # ARG/ENV defaults in scope


@dataclass
class Dockerfile:
    lines: list[str]
    instructions: list[Instruction]
    global_args: dict[str, str | None]
    stages: list[Stage]
    global_raw: dict[str, str | None] = field(default_factory=dict)  # global ARG defaults as written
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what): reported, parsing went on

    def stage_named(self, ref: str) -> Stage | None:
        ref = ref.lower()
        for s in self.stages:
            if s.name == ref:
                return s
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None

    def lineage(self, stage: Stage | None = None) -> list[Stage]:
        """`stage` (default: the final one) and the stages it is built FROM, nearest first."""
        out: list[Stage] = []
        cur = stage or (self.stages[-1] if self.stages else None)
        while cur is not None and cur not in out:
            out.append(cur)
            cur = self.stage_named(cur.base) if cur.index > 0 else None
            if cur is not None and cur.index >= out[-1].index:
                break
        return out

    def contributing(self, stage: Stage | None = None) -> list[Stage]:
        """Stages whose output ends up in the image: the lineage plus every stage it copies
        from (COPY --from=name / RUN --mount=from=name), transitively."""
        todo = self.lineage(stage)
        seen: list[Stage] = []
        while todo:
            s = todo.pop()
            if s in seen:
                continue
            seen.append(s)
            for ins in s.instructions:
                for ref in re.findall(r"--(?:from|mount=[^ ]*from)=([^\s,]+)", ins.args):
                    other = self.stage_named(ref)
                    if other is not None and other not in seen:
                        todo.extend(self.lineage(other))
        return sorted(seen, key=lambda s: s.index)


def find_text(lines: list[str], ins: Instruction, needle: str) -> tuple[int, int]:
    """1-based (line, column) of `needle` within the instruction's physical lines."""
    for ln in range(ins.line, min(ins.end_line, len(lines)) + 1):
        col = lines[ln - 1].find(needle)
        if col >= 0:
            return ln, col + 1
    return ins.line, 1


def substitute(text: str, env: dict[str, str | None], limit: int = MAX_EXPANDED) -> str:
    """Expand $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} like BuildKit; unknown variables
    are left as written so callers can tell that a value is not known statically. Raises
    ExpansionTooLong when the result would be more than `limit` characters longer than `text`."""
    grown = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal grown
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3)
        value = env.get(name)
        if op in (":-", "-"):
            out = value if value else substitute(word or "", env, limit)
        elif op in (":+", "+"):
            out = substitute(word or "", env, limit) if value else ""
        else:
            out = value if value is not None else m.group(0)
        grown += len(out) - (m.end() - m.start())
        if grown > limit:
            raise ExpansionTooLong(f"${{{name}}} and the variables around it expand to more than {limit} characters")
        return out

    return _VAR.sub(repl, text)


def expand(text: str, env: dict[str, str | None]) -> str | None:
    """`substitute`, or None when the expansion is too long to be a real value."""
    try:
        return substitute(text, env)
    except ExpansionTooLong:
        return None


def expand_or_raw(text: str, env: dict[str, str | None]) -> str:
    """`substitute`, or `text` as written when it expands too far (its `$VAR`s then read as
    unknown values; the parser has already reported the line)."""
    out = expand(text, env)
    return text if out is None else out


def _split_flags(args: str) -> tuple[dict[str, str], str]:
    """Leading `--name=value` flags of FROM/COPY/ADD/RUN, and the rest."""
    flags: dict[str, str] = {}
    rest = args.lstrip()
    while rest.startswith("--"):
        token, _, after = rest.partition(" ")
        key, _, value = token[2:].partition("=")
        flags[key.lower()] = value
        rest = after.lstrip()
    return flags, rest


def parse_kv(args: str) -> list[tuple[str, str | None]]:
    """ARG/ENV arguments: `NAME`, `NAME=value`, `NAME="a b"`, legacy `ENV NAME value`."""
    out: list[tuple[str, str | None]] = []
    text = args.strip()
    if not text:
        return out
    if "=" not in text.split(None, 1)[0]:
        parts = text.split(None, 1)
        return [(parts[0], parts[1].strip() if len(parts) > 1 else None)]
    for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)(?:=(\"(?:[^\"\\]|\\.)*\"|'[^']*'|\S*))?", text):
        value = m.group(2)
        if value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out.append((m.group(1), value))
    return out


def parse(text: str) -> Dockerfile:
    lines = text.splitlines()
    escape = "\\"
    # Parser directives: only at the very top, before any other line.
    for raw in lines:
        m = _DIRECTIVE.match(raw.strip())
        if not m:
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
            escape = m.group(2)
    instructions: list[Instruction] = []
    i = 0
    n = len(lines)
    while i < n:
        raw = lines[i]
        if len(raw) > MAX_LINE_CHARS:
            raise DockerfileError(f"line {i + 1} is longer than {MAX_LINE_CHARS} characters", i + 1)
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start = i
        parts: list[str] = []
        cur = raw.rstrip()
        while True:
            if cur.endswith(escape) and not cur.endswith(escape * 2):
                parts.append(cur[:-1])
                i += 1
                # Skip comment and blank lines inside a continuation (BuildKit drops them).
                while i < n and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                    i += 1
                if i >= n:
                    break
                cur = lines[i].rstrip()
                continue
            parts.append(cur)
            break
        logical = " ".join(p.strip() for p in parts)
        keyword, _, args = logical.partition(" ")
        if not re.fullmatch(r"[A-Za-z]+", keyword):
            raise DockerfileError(f"unknown instruction {keyword[:40]!r}", start + 1)
        keyword = keyword.upper()
        end = min(i, n - 1)
        i += 1
        # Heredocs: the body lines belong to this instruction.
        if keyword in ("RUN", "COPY", "ADD"):
            for m in _HEREDOC.finditer(args):
                strip_tabs, delim = m.group(1) == "-", m.group(3)
                body: list[str] = []
                while i < n:
                    line = lines[i]
                    i += 1
                    if (line.lstrip("\t") if strip_tabs else line).rstrip() == delim:
                        break
                    body.append(line)
                end = i - 1
                args = args + "\n" + "\n".join(body)
        instructions.append(Instruction(keyword, args.strip(), start + 1, end + 1))
        if len(instructions) > MAX_INSTRUCTIONS:
            raise DockerfileError(f"more than {MAX_INSTRUCTIONS} instructions", start + 1)
    return _stages(lines, instructions)


def _stages(lines: list[str], instructions: list[Instruction]) -> Dockerfile:
    global_args: dict[str, str | None] = {}
    global_raw: dict[str, str | None] = {}
    stages: list[Stage] = []
    problems: list[tuple[int, str]] = []

    def value_of(text: str, env: dict[str, str | None], ins: Instruction, fallback: str | None) -> str | None:
        """An ARG/ENV/FROM value; one too long to be real is reported and treated as unknown."""
        try:
            return substitute(text, env)
        except ExpansionTooLong as e:
            problems.append((ins.line, f"{ins.keyword} {text[:60]}...: {e}; treated as unknown"))
            return fallback

    for ins in instructions:
        if ins.keyword == "FROM":
            flags, rest = _split_flags(ins.args)
            words = rest.split()
            if not words:
                raise DockerfileError("FROM without an image", ins.line)
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            platform_raw = flags.get("platform")
            scope = dict(global_args)
            stages.append(
                Stage(
                    index=len(stages),
                    base=value_of(words[0], scope, ins, words[0]) or words[0],
                    base_raw=words[0],
                    name=name,
                    platform=value_of(platform_raw, scope, ins, platform_raw) if platform_raw is not None else None,
                    platform_raw=platform_raw,
                    line=ins.line,
                )
            )
            continue
        if not stages:
            if ins.keyword == "ARG":
                for k, v in parse_kv(ins.args):
                    global_args[k] = value_of(v, global_args, ins, None) if v is not None else None
                    global_raw[k] = v
            continue
        stage = stages[-1]
        stage.instructions.append(ins)
        if ins.keyword in ("ARG", "ENV"):
            for k, v in parse_kv(ins.args):
                if v is None and ins.keyword == "ARG":
                    # `ARG NAME` inside a stage re-imports the global default.
                    stage.args[k] = global_args.get(k)
                else:
                    stage.args[k] = value_of(v, {**global_args, **stage.args}, ins, None) if v is not None else None
    return Dockerfile(lines=lines, instructions=instructions, global_args=global_args, stages=stages,
                      global_raw=global_raw, problems=problems)  # fmt: skip
