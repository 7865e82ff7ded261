"""GitHub Actions workflow commands: one annotation per finding, shown on the PR diff."""

from __future__ import annotations

from typing import IO, Any

from archlint.report.safe import printable

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(s: str) -> str:
    # Workflow-command escaping first (a newline ends the command), then other controls made
    # visible: the runner's log viewer interprets ANSI sequences.
    return printable(s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render(report: dict[str, Any], out: IO[str]) -> None:
    for f in report["findings"]:
        props = [f"file={_escape_prop(f['path'])}", f"line={f['line']}", f"col={f['column']}"]
        if f["end_line"]:
            props.append(f"endLine={f['end_line']}")
        if f["end_column"] and f["end_line"] == f["line"]:
            props.append(f"endColumn={f['end_column']}")
        props.append(f"title={_escape_prop(f['rule'] + ' ' + f['name'])}")
        msg = f["message"] + (f" [{f['workload']}]" if f["workload"] else "")
        out.write(f"::{_LEVEL[f['severity']]} {','.join(props)}::{_escape_data(msg)}\n")
