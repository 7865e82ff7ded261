"""Write the report of one `check` run in the format asked for (`--format`/`--output-format`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import IO, Any

from archlint.errors import FatalError

# `text` is the concise layout (ruff renamed its `text` to `concise`; both names work here).
FORMATS = ("text", "concise", "full", "json", "sarif", "github", "gitlab", "junit", "markdown")
TEXT_FORMATS = frozenset({"text", "concise", "full"})
STATISTICS_FORMATS = TEXT_FORMATS | {"json"}


@dataclass(frozen=True)
class Style:
    color: bool
    show_fixes: bool = False
    quiet: bool = False
    fail_on: str = "error"


def use_color(flag: str, out: IO[str]) -> bool:
    """--color always/never, else NO_COLOR (no-color.org), FORCE_COLOR (force-color.org), a terminal."""
    if flag in ("always", "never"):
        return flag == "always"
    if os.environ.get("NO_COLOR"):  # set and not empty
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return out.isatty()


def check_statistics(fmt: str) -> None:
    if fmt not in STATISTICS_FORMATS:
        raise FatalError(f"--statistics prints text or json, not {fmt}")


def emit(report: dict[str, Any], fmt: str, out: IO[str], style: Style) -> None:
    if fmt in TEXT_FORMATS:
        from archlint.report import text

        text.render(report, out, color=style.color, show_fixes=style.show_fixes, full=fmt == "full",
                    quiet=style.quiet)  # fmt: skip
    elif fmt == "json":
        _json(report, out)
    elif fmt == "sarif":
        from archlint.report import sarif

        _json(sarif.render(report), out)
    elif fmt == "github":
        from archlint.report import github

        github.render(report, out)
    elif fmt == "gitlab":
        from archlint.report import gitlab

        _json(gitlab.render(report), out)
    elif fmt == "junit":
        from archlint.report import junit

        out.write(junit.render(report, style.fail_on))
    elif fmt == "markdown":
        from archlint.report import markdown

        out.write(markdown.render(report))
    else:  # the parser only lets known formats through
        raise FatalError(f"unknown format {fmt!r}")


def emit_statistics(report: dict[str, Any], fmt: str, out: IO[str], style: Style) -> None:
    from archlint.report import text

    stats = text.statistics(report["findings"])
    if fmt == "json":
        _json(stats, out)
    else:
        text.render_statistics(stats, out, color=style.color)


def _json(doc: Any, out: IO[str]) -> None:
    json.dump(doc, out, indent=2)
    out.write("\n")
