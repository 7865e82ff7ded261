"""`archlint report merge`: read, validate and merge reports, then render one format."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archlint.atomic import write_atomic
from archlint.errors import FatalError
from archlint.fleet import aggregate, inputs


def render(fleet: dict[str, object], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(fleet, indent=2) + "\n"
    if fmt == "html":
        from archlint.fleet import html

        return html.render(fleet)
    from archlint.fleet import markdown

    return markdown.render(fleet)


def _write(path: str, text: str) -> None:
    # Atomic: a dashboard that serves the file never sees half a report.
    target = Path(path)
    try:
        write_atomic(target, text)
    except OSError as e:
        raise FatalError(f"--output {path}: {e.strerror or e}") from None


def cmd_merge(args: argparse.Namespace) -> int:
    notes: list[str] = []
    reports = inputs.load_all(args.reports, args.name, notes)
    for note in notes:
        print(f"archlint: {note}", file=sys.stderr)
    fleet = aggregate.merge(reports, args.title)
    text = render(fleet, args.format)
    if args.output:
        _write(args.output, text)
        print(f"archlint: merged {len(reports)} report(s) into {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
