"""Fixes for dependency findings: pin edits (unsafe) and lock commands (manual)."""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

from archlint.deps import tomlkeys
from archlint.facts import Dependency
from archlint.findings import Applicability, Edit, Fix

LOCK_COMMANDS = {
    "uv.lock": "uv lock --upgrade-package {name}",
    "poetry.lock": "poetry update {name}",
    "pdm.lock": "pdm update {name}",
    "Pipfile.lock": "pipenv upgrade {name}",
    "pylock.toml": "uv lock --upgrade-package {name} && uv export --format pylock.toml -o pylock.toml",
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TOML_KEY = re.compile(r"""^["']?[A-Za-z0-9][A-Za-z0-9._-]*["']?\s*=[^=]""")


def span_text(dep: Dependency, line_text: str) -> str | None:
    """The requirement text the dependency's span covers, if the span looks right."""
    if dep.end_column is None or dep.column < 1 or dep.end_column > len(line_text) + 1:
        return None
    text = line_text[dep.column - 1 : dep.end_column - 1]
    m = _NAME.match(text.lstrip("\"'"))
    return text if m and canonicalize_name(m.group(0)) == dep.name else None


def upgrade_fix(dep: Dependency, version: str, line_text: str | None) -> Fix:
    """Raise the pin of `dep` to `version`."""
    if dep.source in LOCK_COMMANDS:
        cmd = LOCK_COMMANDS[dep.source].format(name=dep.name)
        return Fix(
            f"upgrade {dep.name} to {version} in {dep.path}: run `{cmd}` "
            f"(and widen the constraint in pyproject.toml if it excludes {version})",
            Applicability.MANUAL,
        )
    if dep.hashes:
        return Fix(
            f"pin {dep.name}=={version} and regenerate the hashes (e.g. `pip-compile --generate-hashes` or "
            f"`uv pip compile --generate-hashes`): the --hash values of {dep.version} would make pip refuse {version}",
            Applicability.MANUAL,
        )
    text = span_text(dep, line_text) if line_text is not None and dep.line else None
    if text is None or not dep.version or dep.version not in text:
        return Fix(f"pin {dep.name} to {version} in {dep.path}", Applicability.MANUAL)
    i = text.rindex(dep.version)
    new = text[:i] + version + text[i + len(dep.version) :]
    assert dep.line is not None and dep.end_column is not None
    edit = Edit(dep.path, dep.line, dep.column, dep.line, dep.end_column, new)
    return Fix(f"upgrade {dep.name} {dep.version} -> {version}", Applicability.UNSAFE, (edit,))


def replace_fix(
    dep: Dependency, replacement: str, version: str | None, line_text: str | None, file_lines: list[str] | None = None
) -> Fix:
    """Swap an x86-only distribution for its portable replacement, or drop it ('' replacement).
    In a TOML file (`file_lines`), a replacement already declared beside it is not added again
    (a second `torch = …` key would make the file unparseable): the x86 entry is dropped."""
    if dep.source in LOCK_COMMANDS:
        what = f"replace {dep.name} with {replacement}" if replacement else f"remove {dep.name}"
        return Fix(f"{what} where it is declared (pyproject.toml), then re-lock {dep.path}", Applicability.MANUAL)
    text = span_text(dep, line_text) if line_text is not None and dep.line else None
    if text is None or dep.line is None or dep.end_column is None or text.lstrip().startswith("["):
        what = f"replace {dep.name} with {replacement}" if replacement else f"remove {dep.name}"
        return Fix(f"{what} in {dep.path}", Applicability.MANUAL)
    why = "an optional x86 accelerator"
    if replacement and file_lines is not None and dep.source != "requirements":
        if canonicalize_name(replacement) in tomlkeys.declared_beside(file_lines, dep.line, dep.name):
            replacement, why = "", f"{replacement} is already declared beside it"
    if not replacement:
        if dep.hashes:
            return Fix(f"remove {dep.name} and its --hash lines from {dep.path}", Applicability.MANUAL)
        assert line_text is not None
        whole = line_text.strip().rstrip(",").strip().strip("\"'") == text.strip("\"'")
        if dep.source == "requirements" or whole:
            edit = Edit(dep.path, dep.line, 1, dep.line + 1, 1, "")
        else:
            start, end = tomlkeys.array_item_span(line_text, dep.column, dep.end_column)
            edit = Edit(dep.path, dep.line, start, dep.line, end, "")
        return Fix(f"remove {dep.name} ({why})", Applicability.UNSAFE, (edit,))
    quote = text[0] if text[:1] in ("'", '"') else ""
    spec = f"=={version}" if version else (dep.specifier if not dep.version else "")
    if _TOML_KEY.match(text):  # a Poetry-style table entry: `name = "1.2"` / `name = { version = ... }`
        new = f'{replacement} = "{version or "*"}"'
    else:
        new = f"{quote}{replacement}{spec}{quote if text.endswith(quote) and quote else ''}"
    edit = Edit(dep.path, dep.line, dep.column, dep.line, dep.end_column, new)
    desc = f"replace {dep.name} with {replacement}{spec}"
    if dep.hashes:
        return Fix(desc + " and regenerate the hashes", Applicability.MANUAL)
    return Fix(desc, Applicability.UNSAFE, (edit,))


def pin_fix(dep: Dependency, version: str, line_text: str | None, why: str) -> Fix:
    """Pin a range requirement (`name>=1`, `name`) to one version: `name==version`, extras and marker kept."""
    if dep.source in LOCK_COMMANDS or dep.hashes:
        return Fix(f"pin {dep.name}=={version} in {dep.path} ({why})", Applicability.MANUAL)
    text = span_text(dep, line_text) if line_text is not None and dep.line else None
    if text is None or dep.line is None or dep.end_column is None or dep.source not in ("requirements", "dockerfile"):
        return Fix(f"pin {dep.name}=={version} in {dep.path} ({why})", Applicability.MANUAL)
    m = re.match(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?", text)
    head = m.group(0).rstrip() if m else dep.name
    edit = Edit(dep.path, dep.line, dep.column, dep.line, dep.end_column, f"{head}=={version}")
    return Fix(f"pin {dep.name}=={version} ({why})", Applicability.UNSAFE, (edit,))


def drop_extras_fix(dep: Dependency, line_text: str | None, why: str) -> Fix:
    """Remove the `[extras]` of a requirement (`pkg[a]>=1` -> `pkg>=1`)."""
    text = span_text(dep, line_text) if line_text is not None and dep.line else None
    m = re.search(r"\s*\[[^\]]*\]", text) if text else None
    if text is None or m is None or dep.line is None or dep.end_column is None or dep.source in LOCK_COMMANDS:
        return Fix(f"drop the [{','.join(dep.extras)}] extra of {dep.name} in {dep.path} ({why})", Applicability.MANUAL)
    new = text[: m.start()] + text[m.end() :]
    edit = Edit(dep.path, dep.line, dep.column, dep.line, dep.end_column, new)
    return Fix(f"drop the [{','.join(dep.extras)}] extra of {dep.name} ({why})", Applicability.UNSAFE, (edit,))
