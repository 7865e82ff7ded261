"""One run: discover, scan, finalise (severities, selection, suppression)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from archlint import config as config_mod
from archlint import fixguard, progress, suppress
from archlint import paths as paths_mod
from archlint.catalogue import Catalogue, catalogue
from archlint.discover import discover
from archlint.errors import FatalError
from archlint.facts import Facts
from archlint.findings import Finding, Severity
from archlint.progress import Progress
from archlint.scanners import needed, scanners_for
from archlint.scanning import KUBERNETES, MAX_READ_BYTES, ScanContext, SourceFile, internal_error

STDIN = "-"
# Scanners from this order on read the facts of those before them (image verdicts, placement).
FACT_CONSUMERS = 30
STDIN_REL = "<stdin>"


@dataclass
class Options:
    paths: list[str] = field(default_factory=lambda: ["."])
    config: str | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    offline: bool = False
    cache_dir: Path | None = None
    no_cache: bool = False
    pythons: list[str] = field(default_factory=list)
    check_images: bool = False
    no_resolve: bool = False
    force_exclude: bool = False
    stdin: bytes | None = None
    progress: Progress | None = None


@dataclass
class Result:
    findings: list[Finding]
    facts: Facts
    files: int
    ctx: ScanContext
    suppressed: int = 0


def find_root(paths: list[str], cfg: config_mod.Config) -> Path:
    """Findings are reported relative to this: the git work tree's top, else the common parent
    of the paths (see archlint/paths.py)."""
    return paths_mod.repository_root([p for p in paths if p != STDIN], cfg.directory)


def active_rules(cat: Catalogue, cfg: config_mod.Config, opts: Options) -> set[str]:
    selectors = opts.select if opts.select else (cfg.str_list("select") or ["ALL"])
    selectors = [*selectors, *cfg.str_list("extend-select")]
    active = {r.code for s in selectors for r in cat.select(s)}
    for s in [*cfg.str_list("ignore"), *opts.ignore]:
        active -= {r.code for r in cat.select(s)}
    return active


def _cache_dir(opts: Options, cfg: config_mod.Config, root: Path) -> Path | None:
    if opts.no_cache:
        return None
    if opts.cache_dir:
        return opts.cache_dir
    env = os.environ.get("ARCHLINT_CACHE_DIR")
    if env:
        return Path(env)
    if cfg.get("cache-dir"):
        return ((cfg.directory or root) / cfg.get("cache-dir")).resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "archlint"


def check_selectors(cat: Catalogue, opts: Options) -> None:
    for code in [*(opts.select or []), *opts.ignore]:
        if not cat.matches_any(code):
            raise FatalError(f"unknown rule code or name {code!r} (see `archlint rules`)")


def run(opts: Options) -> Result:
    cat = catalogue()
    check_selectors(cat, opts)
    for p in opts.paths:
        if p != STDIN and not os.path.lexists(p):
            raise FatalError(f"{p}: no such file or directory")
        if p != STDIN and os.path.isdir(p):
            try:  # a directory the user names must be readable (one found while walking is a finding)
                with os.scandir(p):
                    pass
            except OSError as e:
                raise FatalError(f"{p}: cannot read directory: {e.strerror or e}") from None
    first = next((p for p in opts.paths if p != STDIN), ".")
    cfg = config_mod.load(opts.config, Path(first))
    root = find_root(opts.paths, cfg)
    pythons = tuple(opts.pythons) or tuple(cfg.str_list("python"))
    ctx = ScanContext(
        root=root,
        config=cfg,
        offline=opts.offline,
        cache_dir=_cache_dir(opts, cfg, root),
        pythons=pythons,
        check_images=opts.check_images or bool(cfg.get("check-images")),
        resolve=not opts.no_resolve and cfg.get("resolve", True),
    )
    # The config's patterns are relative to its directory; paths are relative to the root.
    prefix = paths_mod.prefix_of(cfg.directory, root)
    excludes = paths_mod.rebase_patterns([*cfg.str_list("exclude"), *cfg.str_list("extend-exclude")], prefix)
    fs_paths = [Path(p) for p in opts.paths if p != STDIN]
    disc = discover(
        fs_paths, root, excludes, respect_gitignore=cfg.get("respect-gitignore", True), force_exclude=opts.force_exclude
    )
    files = disc.files
    if STDIN in opts.paths and len(opts.stdin or b"") > MAX_READ_BYTES:
        disc.findings.append(Finding(rule="ARCH001", message=f"cannot read {STDIN_REL}: larger than {MAX_READ_BYTES} "
                                     "bytes", path=STDIN_REL, key="unreadable"))  # fmt: skip
    elif STDIN in opts.paths:
        files.append(SourceFile(path=Path(STDIN), rel=STDIN_REL, kind=KUBERNETES, data=opts.stdin or b""))
    ctx.files = files
    facts = Facts()
    raw: list[Finding] = list(disc.findings)
    active = active_rules(cat, cfg, opts)
    # `--select ARCH4` runs the source scanner alone: rules nobody asked for cost nothing.
    only = needed(active, {r.code: r.area for r in cat.rules})
    progress.install(opts.progress)
    scanners = scanners_for({f.kind for f in files}, only)
    mine = {id(s): [f for f in files if f.kind in s.kinds] for s in scanners}
    # Scanners that overlap (the source scanner's worker pool) start first, while this is the only
    # thread so the pool can fork, and are collected just before the first scanner that reads
    # their facts: the pool works while the others run here.
    begun = [s for s in scanners if s.overlaps and mine[id(s)]]
    order = [s for s in scanners if s not in begun]
    for s in begun:
        at = next((i for i, o in enumerate(order) if o.order >= FACT_CONSUMERS), len(order))
        order.insert(at, s)
    try:
        for s in begun:
            s.begin(mine[id(s)], ctx, facts)
        for scanner in order:
            if opts.progress:
                opts.progress.begin(scanner.name, len(mine[id(scanner)]))
            try:
                raw.extend(scanner.scan(mine[id(scanner)], ctx, facts))
            except FatalError:  # a bad config value a scanner validates (cluster pools): exit 2
                raise
            except Exception as e:
                if os.environ.get("ARCHLINT_RAISE"):
                    raise
                raw.append(internal_error(".", e))
            finally:
                if opts.progress:
                    opts.progress.end()
    finally:
        for s in begun:
            s.abort()  # a run that ended early must not leave the pool behind
        progress.install(None)
        if opts.progress:
            opts.progress.close()
    raw = fixguard.guard(raw, facts)
    # Files named one by one (pre-commit) or stdin: rules that draw on other files may not have fired.
    partial = any(p == STDIN or os.path.isfile(p) for p in opts.paths)
    findings, suppressed = finalise(raw, cat, active, files, facts, cfg, prefix, partial)
    return Result(findings=findings, facts=facts, files=disc.count + (STDIN in opts.paths), ctx=ctx,
                  suppressed=suppressed)  # fmt: skip


def finalise(
    raw: list[Finding],
    cat: Catalogue,
    active: set[str],
    files: list[SourceFile],
    facts: Facts,
    cfg: config_mod.Config,
    prefix: str = "",
    partial: bool = False,
) -> tuple[list[Finding], int]:
    comment_files = []
    for sf in files:
        if sf.kind in suppress.COMMENT_KINDS and sf.may_suppress is not False:
            try:
                data = sf.read_bytes()
            except Exception:  # unreadable files were already reported by their scanner
                continue
            if suppress.may_suppress(data):  # most files hold no suppression at all
                comment_files.append((sf.rel, data.decode("utf-8", errors="replace"), sf.kind))
    finding_lines: dict[str, set[int]] = {}
    for f in raw:
        finding_lines.setdefault(f.path, set()).add(f.line)
    per_file = {paths_mod.rebase_pattern(k, prefix): v for k, v in (cfg.get("per-file-ignores") or {}).items()}
    sup = suppress.build(cat, comment_files, facts.region_ignores, per_file, finding_lines)
    out: list[Finding] = []
    seen: set[tuple[str, str, int, int, str]] = set()
    suppressed = 0
    for f in raw:
        rule = cat.by_code.get(f.rule)
        if rule is None:
            print(f"archlint: internal: unknown rule {f.rule}", file=sys.stderr)
            continue
        if f.rule not in active:
            continue
        dedup = (f.rule, f.path, f.line, f.column, f.message)
        if dedup in seen:
            continue
        seen.add(dedup)
        if sup.suppressed(f):
            suppressed += 1
            continue
        out.append(f.with_defaults(rule.severity))
    if "ARCH003" in active:
        for f in sup.unused(active, partial=partial):
            out.append(f.with_defaults(Severity.INFO))
    if "ARCH015" in active:
        out.extend(f.with_defaults(cat.by_code["ARCH015"].severity) for f in sup.unknown())
    out.sort(key=lambda f: (f.path, f.line, f.column, f.rule))
    return out, suppressed
