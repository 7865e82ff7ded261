"""One run: discover, scan, finalise (severities, selection, suppression)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archlint import config as config_mod
from archlint import suppress
from archlint.catalogue import Catalogue, catalogue
from archlint.discover import discover
from archlint.errors import FatalError
from archlint.facts import Facts
from archlint.findings import Finding, Severity
from archlint.scanners import scanners_for
from archlint.scanning import KUBERNETES, MAX_READ_BYTES, ScanContext, SourceFile, internal_error

STDIN = "-"
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
    force_exclude: bool = False
    stdin: bytes | None = None
    progress: Callable[[str], None] | None = None


@dataclass
class Result:
    findings: list[Finding]
    facts: Facts
    files: int
    ctx: ScanContext
    suppressed: int = 0


def find_root(paths: list[str], cfg: config_mod.Config) -> Path:
    """Findings are reported relative to this: the config's directory, else the nearest
    enclosing git work tree, else the first named directory."""
    if cfg.directory is not None:
        return cfg.directory.resolve()
    first = next((p for p in paths if p != STDIN), ".")
    start = Path(first).resolve()
    if start.is_file():
        start = start.parent
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return start


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
        return (root / cfg.get("cache-dir")).resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "archlint"


def run(opts: Options) -> Result:
    cat = catalogue()
    for code in [*(opts.select or []), *opts.ignore]:
        if not cat.matches_any(code):
            raise FatalError(f"unknown rule code or name {code!r} (see `archlint rules`)")
    for p in opts.paths:
        if p != STDIN and not os.path.lexists(p):
            raise FatalError(f"{p}: no such file or directory")
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
    )
    excludes = [*cfg.str_list("exclude"), *cfg.str_list("extend-exclude")]
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
    for scanner in scanners_for({f.kind for f in files}):
        mine = [f for f in files if f.kind in scanner.kinds]
        if opts.progress:
            opts.progress(f"{scanner.name}: {len(mine)} files")
        try:
            raw.extend(scanner.scan(mine, ctx, facts))
        except FatalError:  # a bad config value a scanner validates (cluster pools): exit 2
            raise
        except Exception as e:
            if os.environ.get("ARCHLINT_RAISE"):
                raise
            raw.append(internal_error(".", e))
    active = active_rules(cat, cfg, opts)
    findings, suppressed = finalise(raw, cat, active, files, facts, cfg)
    return Result(findings=findings, facts=facts, files=disc.count + (STDIN in opts.paths), ctx=ctx,
                  suppressed=suppressed)  # fmt: skip


def finalise(
    raw: list[Finding],
    cat: Catalogue,
    active: set[str],
    files: list[SourceFile],
    facts: Facts,
    cfg: config_mod.Config,
) -> tuple[list[Finding], int]:
    comment_files = []
    for sf in files:
        if sf.kind in suppress.COMMENT_KINDS:
            try:
                comment_files.append((sf.rel, sf.read_bytes().decode("utf-8", errors="replace"), sf.kind))
            except Exception:  # unreadable files were already reported by their scanner
                continue
    sup = suppress.build(cat, comment_files, facts.region_ignores, cfg.get("per-file-ignores") or {})
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
        for f in sup.unused(active):
            out.append(f.with_defaults(Severity.INFO))
    out.sort(key=lambda f: (f.path, f.line, f.column, f.rule))
    return out, suppressed
