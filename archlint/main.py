"""The command line: `archlint check|rule|rules`, exit codes in one place."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from archlint import __version__
from archlint.errors import FatalError
from archlint.findings import Severity
from archlint.report.emit import FORMATS
from archlint.scanning import MAX_READ_BYTES
from archlint.usage import UsageError, choice, did_you_mean, metavar

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 too; keep its message format
        self.print_usage(sys.stderr)
        raise UsageError(self.prog, message)


def _format(p: argparse.ArgumentParser, options: tuple[str, ...], default: str) -> None:
    # ruff's name for the flag works too; a bad value says which one it probably meant.
    p.add_argument("--format", "--output-format", dest="format", type=choice(options), metavar=metavar(options),
                   default=default, help=f"output format (default {default})")  # fmt: skip


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="archlint", description="Workload arm64-readiness analyzer for mixed Kubernetes clusters.")
    p.add_argument("--version", action="version", version=f"archlint {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("check", help="scan paths and report arm64 blockers and placement")
    c.set_defaults(parser=c)
    c.add_argument(
        "paths", nargs="*", default=["."], help="files or directories (default .); - reads manifests from stdin"
    )
    _format(c, FORMATS, "text")
    c.add_argument("--statistics", action="store_true", help="count findings per rule instead of listing them")
    c.add_argument("--show-settings", action="store_true", help="print the resolved settings and exit; scans nothing")
    loud = c.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", help="print the findings and nothing else")
    loud.add_argument("-v", "--verbose", action="store_true", help="say on stderr what is read and how long it takes")
    c.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    c.add_argument("--fix", action="store_true", help="apply safe fixes")
    c.add_argument(
        "--unsafe-fixes", action="store_true", help="with --fix/--diff, also apply unsafe fixes (version changes)"
    )
    c.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    c.add_argument("--show-fixes", action="store_true", help="list the fixes in the text report")
    c.add_argument("--offline", action="store_true",
                   help="no network at all: lockfiles, the knowledge base and what earlier runs cached")  # fmt: skip
    c.add_argument("--online", dest="offline", action="store_false",
                   help="undo an earlier --offline (the pre-commit hooks pass --offline)")  # fmt: skip
    c.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    c.add_argument(
        "--no-resolve", action="store_true", help="check only the requirements as written, not their dependency trees"
    )
    c.add_argument("--cache-dir", metavar="DIR", help="cache directory (env ARCHLINT_CACHE_DIR)")
    c.add_argument("--python", action="append", default=[], metavar="X.Y", help="target Python version (repeatable)")
    c.add_argument("--select", type=_codes, metavar="CODES", help="comma-separated rule codes, prefixes or names")
    c.add_argument("--ignore", type=_codes, default=[], metavar="CODES", help="rules to leave out")
    c.add_argument("--fail-on", type=choice(("error", "warning")), metavar="{error,warning}", default=None,
                   help="lowest severity that fails (default error)")  # fmt: skip
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings fail the run")
    c.add_argument("--config", metavar="FILE", help="use this config file instead of searching for one")
    c.add_argument(
        "--check-images", action="store_true", help="ask registries which platforms images are published for"
    )
    c.add_argument("--color", type=choice(("auto", "always", "never")), metavar="{auto,always,never}", default="auto",
                   help="colour text (auto: on a terminal, unless NO_COLOR; FORCE_COLOR forces it)")  # fmt: skip
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
    r.set_defaults(parser=r)
    r.add_argument("code", help="a rule code (ARCH101) or name")
    _format(r, ("text", "json"), "text")
    rs = sub.add_parser("rules", help="list every rule")
    rs.set_defaults(parser=rs)
    _format(rs, ("text", "json", "markdown"), "text")
    b = sub.add_parser("baseline", help="record today's findings so that `check --baseline` fails only on new ones")
    b.set_defaults(parser=b)
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
    for flag in ("--offline", "--no-cache", "--check-images", "--no-resolve"):
        b.add_argument(flag, action="store_true", help="as for check")
    rp = sub.add_parser("report", help="work with JSON reports of many repositories")
    rpsub = rp.add_subparsers(dest="report_command", required=True, parser_class=_Parser)
    rp.set_defaults(parser=rp)
    m = rpsub.add_parser("merge", help="merge JSON reports (one per repository) into one fleet report")
    m.set_defaults(parser=m)
    m.add_argument("reports", nargs="+", metavar="REPORT.json", help="reports written by `check --format json`")
    m.add_argument(
        "--name", action="append", default=[], help="repository name of the n-th report (repeatable; default: its file)"
    )
    _format(m, ("json", "markdown", "html"), "markdown")
    m.add_argument("--output", "-o", metavar="FILE", help="write the fleet report to FILE instead of stdout")
    m.add_argument("--title", default="arm64 readiness across the fleet", help="heading of the markdown/html report")
    return p


def _validate_python(v: str) -> str:
    from archlint.config_values import python_version

    problem = python_version(v)
    if problem:
        raise FatalError(f"--python: {problem}")
    return v


def _open_output(path: str | None) -> IO[str]:
    if not path:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as e:
        raise FatalError(f"--output {path}: {e.strerror}") from None


def cmd_check(args: argparse.Namespace) -> int:
    from archlint import engine, fixes
    from archlint.chatter import Chatter
    from archlint.report import emit, model

    if args.statistics:
        emit.check_statistics(args.format)
    if args.show_settings:
        from archlint import settings

        return settings.show(args)

    pythons = [_validate_python(v) for v in args.python]
    from archlint.gate import Gate

    gate = Gate.prepare(args.baseline, args.diff_base, args.paths)
    # One byte past the cap tells the engine it was too large (a finding), without reading it all.
    stdin = sys.stdin.buffer.read(MAX_READ_BYTES + 1) if "-" in args.paths else None
    cache_dir = args.cache_dir or None
    chatter = Chatter(quiet=args.quiet, verbose=args.verbose)
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
        no_resolve=args.no_resolve,
        stdin=stdin,
        progress=chatter.progress(),
    )
    result = engine.run(opts)
    chatter.scanned(result)
    if args.diff or args.fix:
        # One plan for both: --diff shows exactly what --fix writes. It is computed from this
        # scan only; fixes that become possible once it is applied are the next run's (a second
        # pass over a half-fixed tree could undo this pass's placement choices unseen).
        plan = fixes.plan(result.findings, result.ctx.root, unsafe=args.unsafe_fixes)
        for rel, why in plan.refused:
            chatter.note(f"not fixing {rel}: {why}")
        if args.diff:
            diff = fixes.unified_diff(plan)
            sys.stdout.write(diff)
            if not diff:
                chatter.note("no fixes to apply")
            return EXIT_FINDINGS if diff and not args.exit_zero else EXIT_OK
        fixes.write(plan)
        chatter.note(f"applied {plan.applied} fix(es)")
        if plan.new_texts:
            # The report describes the tree as it is now, not as it was.
            opts.stdin = stdin
            result = engine.run(opts)
            more = fixes.plan(result.findings, result.ctx.root, unsafe=args.unsafe_fixes)
            if more.new_texts:
                chatter.note(f"{more.applied} more fix(es) apply to the fixed tree; run --fix again "
                             "(or --diff to see them)")  # fmt: skip
        result.findings.extend(fixes.refusal_findings(plan))
    for note in gate.apply(result):
        chatter.note(note)
    report = model.build(result)
    if args.format == "json" and not args.statistics:  # what `report merge` keys on
        from archlint.repository import identify

        repository = identify(result.ctx.root, args.paths)
        if repository:
            report["repository"] = repository
    fail_on = Severity.parse(args.fail_on or result.ctx.config.get("fail-on") or "error")
    out = _open_output(args.output)
    try:
        style = emit.Style(color=emit.use_color(args.color, out), show_fixes=args.show_fixes, quiet=args.quiet,
                           fail_on=fail_on.label)  # fmt: skip
        if args.statistics:
            emit.emit_statistics(report, args.format, out, style)
        else:
            emit.emit(report, args.format, out, style)
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
    from archlint.rulesdoc import sections

    lines = [f"# {rule.name} ({rule.code})", "", f"Default severity: {rule.severity.label}. Fix: {rule.fixable}.", ""]
    print("\n".join([*lines, *sections(rule, 2)]))
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from archlint.catalogue import catalogue

    rules = catalogue().rules
    if args.format == "markdown":
        from archlint.rulesdoc import document

        sys.stdout.write(document(rules))
        return EXIT_OK
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


COMMANDS = {(): ("check", "rule", "rules", "baseline", "report"), ("report",): ("merge",)}


def _check_command(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """A mistyped command names the one it probably meant (argparse only lists them)."""
    words = [a for a in argv if not a.startswith("-")]
    for depth, chain in enumerate(COMMANDS):
        if len(words) <= depth or tuple(words[:depth]) != chain:
            continue
        known = COMMANDS[chain]
        if words[depth] not in known:
            hint = did_you_mean(words[depth], known)
            parser.print_usage(sys.stderr)
            raise UsageError(" ".join(("archlint", *chain)),
                             f"unknown command {words[depth]!r}{hint}; choose from {', '.join(known)}")  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" not in argv and "--help" not in argv and "--version" not in argv:
        _check_command(parser, argv)
    args, extra = parser.parse_known_args(argv)
    if extra:  # the usage of the command the flag was given to, not the top-level one
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _quiet_libraries() -> None:
    """Only archlint speaks on stderr: the log records and warnings of the libraries it uses are
    not shown (with no handler, Python prints WARNING records; `python -W` still applies)."""
    root = logging.getLogger()
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())
    if not sys.warnoptions:
        warnings.filterwarnings("ignore")
        warnings.filterwarnings("default", module=r"archlint(\.|$)")


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_libraries()
    try:
        args = parse_args(argv)
        handler = {"check": cmd_check, "rule": cmd_rule, "rules": cmd_rules, "baseline": cmd_baseline,
                   "report": cmd_report}[args.command]  # fmt: skip
        return handler(args)
    except FatalError as e:
        print(f"{getattr(e, 'prog', 'archlint')}: error: {e}", file=sys.stderr)
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
