"""The command line: `archlint check|rule|rules`, exit codes in one place."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from archlint import __version__
from archlint.errors import FatalError
from archlint.findings import Severity
from archlint.scanning import MAX_READ_BYTES

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github", "markdown")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 too; keep its message format
        self.print_usage(sys.stderr)
        raise FatalError(f"{self.prog}: {message}")


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="archlint", description="Workload arm64-readiness analyzer for mixed Kubernetes clusters.")
    p.add_argument("--version", action="version", version=f"archlint {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("check", help="scan paths and report arm64 blockers and placement")
    c.add_argument(
        "paths", nargs="*", default=["."], help="files or directories (default .); - reads manifests from stdin"
    )
    c.add_argument("--format", choices=FORMATS, default="text")
    c.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    c.add_argument("--fix", action="store_true", help="apply safe fixes")
    c.add_argument(
        "--unsafe-fixes", action="store_true", help="with --fix/--diff, also apply unsafe fixes (version changes)"
    )
    c.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    c.add_argument("--show-fixes", action="store_true", help="list the fixes in the text report")
    c.add_argument(
        "--offline", action="store_true", help="no network at all: lockfiles and the bundled knowledge base only"
    )
    c.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    c.add_argument("--cache-dir", metavar="DIR", help="cache directory (env ARCHLINT_CACHE_DIR)")
    c.add_argument("--python", action="append", default=[], metavar="X.Y", help="target Python version (repeatable)")
    c.add_argument("--select", type=_codes, metavar="CODES", help="comma-separated rule codes, prefixes or names")
    c.add_argument("--ignore", type=_codes, default=[], metavar="CODES", help="rules to leave out")
    c.add_argument(
        "--fail-on", choices=("error", "warning"), default=None, help="lowest severity that fails (default error)"
    )
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings fail the run")
    c.add_argument("--config", metavar="FILE", help="use this config file instead of searching for one")
    c.add_argument(
        "--check-images", action="store_true", help="ask registries which platforms images are published for"
    )
    c.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    c.add_argument(
        "--force-exclude", action="store_true", help="apply excludes to files named on the command line (pre-commit)"
    )
    c.add_argument("--baseline", metavar="FILE", help="leave out findings recorded in FILE (see `archlint baseline`)")
    c.add_argument(
        "--diff-base",
        metavar="REF",
        help="only findings in files changed since git REF, and in workloads whose build context changed",
    )
    r = sub.add_parser("rule", help="explain one rule")
    r.add_argument("code", help="a rule code (ARCH101) or name")
    r.add_argument("--format", choices=("text", "json"), default="text")
    rs = sub.add_parser("rules", help="list every rule")
    rs.add_argument("--format", choices=("text", "json"), default="text")
    b = sub.add_parser("baseline", help="record today's findings so that `check --baseline` fails only on new ones")
    b.add_argument("paths", nargs="*", default=["."], help="files or directories (default .)")
    b.add_argument(
        "--output", "-o", metavar="FILE", default="archlint-baseline.json", help="baseline file (default %(default)s)"
    )
    # The scan options of `check`, so the baseline records what the gated check will see.
    b.add_argument("--config", metavar="FILE", help="as for check")
    b.add_argument("--cache-dir", metavar="DIR", help="as for check")
    b.add_argument("--select", type=_codes, metavar="CODES", help="as for check")
    b.add_argument("--ignore", type=_codes, default=[], metavar="CODES", help="as for check")
    b.add_argument("--python", action="append", default=[], metavar="X.Y", help="as for check")
    for flag in ("--offline", "--no-cache", "--check-images"):
        b.add_argument(flag, action="store_true", help="as for check")
    rp = sub.add_parser("report", help="work with JSON reports of many repositories")
    rpsub = rp.add_subparsers(dest="report_command", required=True, parser_class=_Parser)
    m = rpsub.add_parser("merge", help="merge JSON reports (one per repository) into one fleet report")
    m.add_argument("reports", nargs="+", metavar="REPORT.json", help="reports written by `check --format json`")
    m.add_argument(
        "--name", action="append", default=[], help="repository name of the n-th report (repeatable; default: its file)"
    )
    m.add_argument("--format", choices=("json", "markdown", "html"), default="markdown")
    m.add_argument("--output", "-o", metavar="FILE", help="write the fleet report to FILE instead of stdout")
    m.add_argument("--title", default="arm64 readiness across the fleet", help="heading of the markdown/html report")
    return p


def _validate_python(v: str) -> str:
    parts = v.split(".")
    if len(parts) != 2 or not all(x.isdigit() for x in parts) or parts[0] != "3":
        raise FatalError(f"--python {v!r}: expected a version like 3.11")
    return v


def _open_output(path: str | None) -> IO[str]:
    if not path:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as e:
        raise FatalError(f"--output {path}: {e.strerror}") from None


def _progress() -> Any:
    if not sys.stderr.isatty():
        return None

    def show(msg: str) -> None:
        sys.stderr.write(f"\r\x1b[2Karchlint: {msg}")
        sys.stderr.flush()

    return show


def cmd_check(args: argparse.Namespace) -> int:
    from archlint import engine, fixes
    from archlint.report import model

    pythons = [_validate_python(v) for v in args.python]
    from archlint.gate import Gate

    gate = Gate.prepare(args.baseline, args.diff_base, args.paths)
    # One byte past the cap tells the engine it was too large (a finding), without reading it all.
    stdin = sys.stdin.buffer.read(MAX_READ_BYTES + 1) if "-" in args.paths else None
    cache_dir = args.cache_dir or None
    progress = _progress()
    opts = engine.Options(
        paths=args.paths,
        config=args.config,
        select=args.select,
        ignore=args.ignore,
        offline=args.offline,
        cache_dir=Path(cache_dir) if cache_dir else None,
        no_cache=args.no_cache,
        force_exclude=args.force_exclude,
        pythons=pythons,
        check_images=args.check_images,
        stdin=stdin,
        progress=progress,
    )
    result = engine.run(opts)
    if progress:
        sys.stderr.write("\r\x1b[2K")
    if args.diff:
        plan = fixes.plan(result.findings, result.ctx.root, unsafe=args.unsafe_fixes)
        diff = fixes.unified_diff(plan)
        sys.stdout.write(diff)
        if not diff:
            print("archlint: no fixes to apply", file=sys.stderr)
        return EXIT_FINDINGS if diff and not args.exit_zero else EXIT_OK
    if args.fix:
        # Fix, then scan again: edits may unlock further fixes (bounded), and the report
        # must describe the tree as it is now, not as it was.
        total = 0
        for _ in range(4):
            plan = fixes.plan(result.findings, result.ctx.root, unsafe=args.unsafe_fixes)
            if not plan.new_texts:
                break
            fixes.write(plan)
            total += plan.applied
            opts.stdin = None if "-" not in args.paths else stdin
            result = engine.run(opts)
        print(f"archlint: applied {total} fix(es)", file=sys.stderr)
    for note in gate.apply(result):
        print(f"archlint: {note}", file=sys.stderr)
    report = model.build(result)
    fail_on = Severity.parse(args.fail_on or result.ctx.config.get("fail-on") or "error")
    out = _open_output(args.output)
    try:
        if args.format == "json":
            json.dump(report, out, indent=2)
            out.write("\n")
        elif args.format == "sarif":
            from archlint.report import sarif

            json.dump(sarif.render(report), out, indent=2)
            out.write("\n")
        elif args.format == "github":
            from archlint.report import github

            github.render(report, out)
        elif args.format == "markdown":
            from archlint.report import markdown

            out.write(markdown.render(report))
        else:
            from archlint.report import text

            color = args.color == "always" or (args.color == "auto" and out.isatty() and not os.environ.get("NO_COLOR"))
            text.render(report, out, color=color, show_fixes=args.show_fixes)
    finally:
        if out is not sys.stdout:
            out.close()
    failing = any(f.sev >= fail_on for f in result.findings)
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_OK


def cmd_rule(args: argparse.Namespace) -> int:
    from archlint.catalogue import catalogue

    rule = catalogue().get(args.code)
    if rule is None:
        raise FatalError(f"unknown rule {args.code!r} (see `archlint rules`)")
    if args.format == "json":
        doc = {
            "code": rule.code,
            "name": rule.name,
            "severity": rule.severity.label,
            "summary": rule.summary,
            "what": rule.what,
            "why": rule.why,
            "example": rule.example,
            "fix": rule.fix,
            "references": list(rule.references),
            "fixable": rule.fixable,
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    lines = [
        f"# {rule.name} ({rule.code})",
        "",
        f"Default severity: {rule.severity.label}. Fix: {rule.fixable}.",
        "",
        "## What it does",
        rule.what,
        "",
        "## Why is this bad on arm64",
        rule.why,
    ]
    if rule.example:
        lines += ["", "## Example", "```", rule.example.rstrip(), "```"]
    lines += ["", "## Fix", rule.fix]
    if rule.references:
        lines += ["", "## References", *[f"- {u}" for u in rule.references]]
    print("\n".join(lines))
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from archlint.catalogue import catalogue

    rules = catalogue().rules
    if args.format == "json":
        print(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity.label, "summary": r.summary,
                           "area": r.area, "fixable": r.fixable} for r in rules], indent=2))  # fmt: skip
        return EXIT_OK
    for r in rules:
        print(f"{r.code}  {r.name:<36} {r.severity.label:<8} {r.summary}")
    return EXIT_OK


def cmd_baseline(args: argparse.Namespace) -> int:
    from archlint import gate

    args.python = [_validate_python(v) for v in args.python]
    return gate.cmd_baseline(args)


def cmd_report(args: argparse.Namespace) -> int:
    from archlint.fleet.cli import cmd_merge

    return cmd_merge(args)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        handler = {"check": cmd_check, "rule": cmd_rule, "rules": cmd_rules, "baseline": cmd_baseline,
                   "report": cmd_report}[args.command]  # fmt: skip
        return handler(args)
    except FatalError as e:
        print(f"archlint: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # `archlint check | head`: the reader went away; not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("archlint: interrupted", file=sys.stderr)
        return 130
    except SystemExit as e:  # argparse --help / --version
        return int(e.code or 0) if isinstance(e.code, int) else EXIT_ERROR
    except Exception as e:
        if os.environ.get("ARCHLINT_RAISE"):
            raise
        print(f"archlint: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_ERROR
