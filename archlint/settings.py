"""`check --show-settings`: the settings a run would use, resolved from flags, environment and
config, without scanning anything (as `ruff check --show-settings`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archlint import config as config_mod
from archlint import engine
from archlint import paths as paths_mod
from archlint.catalogue import catalogue


def _redact(url: str) -> str:
    """An index URL without the credentials it may carry."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"***@{host}" + (f":{parts.port}" if parts.port else "")))


def _pool(p: Any) -> dict[str, Any]:
    taints = [f"{t.key}={t.value}:{t.effect}" for t in p.taints]
    return {"name": p.name, "arch": p.arch, "labels": dict(p.labels), "taints": taints}


def resolve(args: argparse.Namespace) -> dict[str, Any]:
    from archlint.deps.index.urls import index_urls
    from archlint.k8s.profile import profile_from_config

    opts = engine.Options(paths=args.paths, config=args.config, select=args.select, ignore=args.ignore,
                          offline=args.offline, cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                          no_cache=args.no_cache, pythons=list(args.python))  # fmt: skip
    cat = catalogue()
    engine.check_selectors(cat, opts)
    first = next((p for p in args.paths if p != engine.STDIN), ".")
    cfg = config_mod.load(opts.config, Path(first))
    root = engine.find_root(args.paths, cfg)
    prefix = paths_mod.prefix_of(cfg.directory, root)
    profile = profile_from_config(cfg)
    cache = engine._cache_dir(opts, cfg, root)
    return {
        "paths": list(args.paths),
        "config": str(cfg.path) if cfg.path else None,
        "root": str(root),
        "python": list(opts.pythons) or cfg.str_list("python") or "from each build context (else 3.12)",
        "platforms": cfg.str_list("platforms") or ["linux/arm64", "linux/amd64"],
        "glibc": cfg.get("glibc", "2.36"),
        "offline": bool(opts.offline),
        "check-images": bool(args.check_images or cfg.get("check-images")),
        "cache-dir": str(cache) if cache else None,
        "index-urls": [_redact(u) for u in index_urls(cfg.get("index-url"), cfg.str_list("extra-index-url"), [])],
        "vulnerability-service": cfg.get("vulnerability-service", "osv"),
        "fail-on": args.fail_on or cfg.get("fail-on") or "error",
        "respect-gitignore": cfg.get("respect-gitignore", True),
        "exclude": paths_mod.rebase_patterns([*cfg.str_list("exclude"), *cfg.str_list("extend-exclude")], prefix),
        "per-file-ignores": {
            paths_mod.rebase_pattern(k, prefix): v for k, v in (cfg.get("per-file-ignores") or {}).items()
        },
        "rules": sorted(engine.active_rules(cat, cfg, opts)),
        "cluster": {"source": profile.source, "pools": [_pool(p) for p in profile.pools]},
    }


def show(args: argparse.Namespace) -> int:
    settings = resolve(args)
    if args.format == "json":
        print(json.dumps(settings, indent=2))
        return 0
    out = sys.stdout
    for key, value in settings.items():
        if key == "cluster":
            out.write(f"cluster.source = {json.dumps(value['source'])}\n")
            for p in value["pools"]:
                out.write(f"cluster.pools = {json.dumps(p)}\n")
        else:
            out.write(f"{key} = {json.dumps(value)}\n")
    return 0
