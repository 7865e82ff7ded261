"""Findings about one workload: where it can land under the profile against what its images run."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from archlint.facts import ImageVerdict, Workload
from archlint.findings import Applicability, Edit, Finding, Fix
from archlint.k8s import edits as ed
from archlint.k8s import schedule
from archlint.k8s.objects import images as container_images
from archlint.k8s.profile import ARCH_LABEL, BETA_ARCH_LABEL, ClusterProfile, NodePool

Path = tuple[str | int, ...]
Locate = Callable[[Path], tuple[int, int]]  # path from the pod spec -> (line, column)
EditsFor = Callable[[list[ed.Op]], list[Edit]]  # ops on the pod spec -> text edits ([] when not possible)


@dataclass
class Context:
    wl: Workload
    profile: ClusterProfile
    locate: Locate
    locate_key: Locate
    edits_for: EditsFor
    verdict: Callable[[str], ImageVerdict | None]
    rel: str
    pools: list[schedule.PoolVerdict] | None = None  # computed by the caller already, if it did
    # How to apply a fix archlint cannot write as text edits (a Helm template, a kustomize overlay).
    manual: str = "apply the placement patch from the JSON report"


def _finding(c: Context, rule: str, msg: str, where: tuple[int, int], key: str, fix: Fix | None = None,
             end: tuple[int, int] | None = None) -> Finding:  # fmt: skip
    return Finding(rule=rule, message=msg, path=c.rel, line=where[0], column=where[1],
                   end_line=end[0] if end else None, end_column=end[1] if end else None,
                   workload=c.wl.id, key=f"{c.wl.label}:{key}", fix=fix)  # fmt: skip


def _placement_anchor(c: Context) -> tuple[int, int]:
    """Where a placement finding points: the arch requirement if any, else the pod spec."""
    spec = c.wl.pod_spec
    sel = spec.get("nodeSelector")
    if isinstance(sel, dict):
        for k in (ARCH_LABEL, BETA_ARCH_LABEL):
            if k in sel:
                return c.locate_key(("nodeSelector", k))
        return c.locate_key(("nodeSelector",))
    if isinstance(spec.get("affinity"), dict):
        return c.locate_key(("affinity",))
    return c.locate_key(("containers",))


def _fix(c: Context, want: str, description: str, safe: bool) -> Fix | None:
    ops = ed.plan(c.wl.pod_spec, want, c.profile)
    if not ops:
        return None
    edits = c.edits_for(ops)
    if not edits:
        return Fix(f"{description} ({c.manual})", Applicability.MANUAL)
    return Fix(description, Applicability.SAFE if safe else Applicability.UNSAFE, tuple(edits))


def _pools(pools: list[NodePool]) -> str:
    return ", ".join(p.name for p in pools)


def check(c: Context) -> Iterator[Finding]:
    spec = c.wl.pod_spec
    verdicts = c.pools if c.pools is not None else schedule.pool_verdicts(spec, c.profile)
    fits = [v.pool for v in verdicts if v.fits]
    current = schedule.arches_of(fits)
    yield from _beta_labels(c)
    yield from _unknown_labels(c)
    if not fits:
        yield from _unschedulable(c, verdicts)
        return
    images = [(path, ref, c.verdict(ref)) for path, ref in container_images(spec)]
    x86 = [(p, r, v) for p, r, v in images if v is not None and v.arm64 is False]
    arm_only = [(p, r, v) for p, r, v in images if v is not None and v.arm64 is True and _arm64_only(v)]
    arm_pools = [p for p in fits if p.arch == "arm64"]
    amd_pools = [p for p in fits if p.arch == "amd64"]
    if x86 and arm_pools:
        path, ref, v = x86[0]
        why = f" ({v.evidence[0]})" if v.evidence else ""
        pref = " and even prefers arm64" if schedule.prefers_arch(spec, "arm64") else ""
        others = f" (and {len(x86) - 1} more x86-only image(s))" if len(x86) > 1 else ""
        after = ed.apply_ops(spec, ed.plan(spec, "amd64", c.profile))
        safe = "amd64" in schedule.landing_arches(after, c.profile)
        yield _finding(
            c, "ARCH201",
            f"{c.wl.label} can be scheduled on arm64 pool(s) {_pools(arm_pools)}{pref}, but image {ref} is x86-only"
            f"{why}{others}; require kubernetes.io/arch=amd64",
            c.locate(path), f"x86:{ref}",
            _fix(c, "amd64", f"require kubernetes.io/arch=amd64 for {c.wl.label}", safe),
        )  # fmt: skip
    elif arm_only and amd_pools and schedule.prefers_arch(spec, "arm64") and not schedule.arch_restriction(spec):
        # (An arm64-only image with no preference at all is the placement scanner's ARCH307.)
        path, ref, _v = arm_only[0]
        how = (f"falls back to amd64 pool(s) {_pools(amd_pools)} when arm64 is full" if arm_pools
               else f"cannot reach an arm64 pool at all (taints) and runs on {_pools(amd_pools)}")  # fmt: skip
        yield _finding(
            c, "ARCH205",
            f"{c.wl.label} only prefers arm64, so it {how}, but image {ref} is built for linux/arm64 only; "
            "require kubernetes.io/arch=arm64",
            c.locate(path), f"arm64-only:{ref}",
            _fix(c, "arm64", f"require kubernetes.io/arch=arm64 for {c.wl.label}", True),
        )  # fmt: skip
    elif (
        images
        and not arm_only  # an arm64-only image off arm64 is an error (ARCH307), not an opportunity
        and all(v is not None and v.arm64 is True for _, _, v in images)
        and "arm64" not in current
    ):
        refs = ", ".join(sorted({r for _, r, _ in images}))
        yield _finding(
            c, "ARCH206",
            f"{c.wl.label} runs only on {', '.join(current)} pool(s) {_pools(fits)}, but its image(s) {refs} "
            "run on arm64; allow both architectures and prefer arm64",
            _placement_anchor(c), "arm64-ready",
            _fix(c, "multi-arch", f"allow amd64 and arm64 for {c.wl.label}, preferring arm64", False),
        )  # fmt: skip
    yield from _qos(c, fits)


def _arm64_only(v: ImageVerdict) -> bool:
    plats = {p.split("/")[1] if "/" in p else p for p in v.platforms}
    return bool(plats) and "amd64" not in plats and "arm64" in plats


def _unschedulable(c: Context, verdicts: list[schedule.PoolVerdict]) -> Iterator[Finding]:
    by_taint = [v for v in verdicts if v.by_taint and v.pool.arch == "arm64"]
    where = _placement_anchor(c)
    if by_taint:
        taints = sorted({str(t) for v in by_taint for t in schedule.untolerated(c.wl.pod_spec, v.pool, c.profile)})
        ops = ed.tolerate_ops(c.wl.pod_spec, c.profile)
        edits = c.edits_for(ops) if ops else []
        what = f"tolerate {', '.join(taints)}"
        fix: Fix | None = None
        if edits:
            fix = Fix(what, Applicability.SAFE, tuple(edits))
        elif ops:
            fix = Fix(f"{what} ({c.manual})", Applicability.MANUAL)
        yield _finding(
            c, "ARCH202",
            f"{c.wl.label} can only run on arm64 pool(s) {_pools([v.pool for v in by_taint])} but does not tolerate "
            f"{', '.join(taints)}: it can be scheduled nowhere",
            where, "taint", fix,
        )  # fmt: skip
        return
    reasons = "; ".join(f"{v.pool.name} ({v.pool.arch}): {v.reason}" for v in verdicts) or "the profile has no pools"
    yield _finding(
        c, "ARCH203", f"{c.wl.label} fits no node pool of the cluster profile: {reasons}", where, "unschedulable"
    )


def _unknown_labels(c: Context) -> Iterator[Finding]:
    """Labels a synthetic profile cannot know: a warning that says so, once per workload, at
    the first of them; scheduling went on as if a pool with them existed."""
    assume = schedule.assumed_labels(c.wl.pod_spec, c.profile)
    if not assume:
        return
    uses = [(path, how) for path, key, how in schedule.label_uses(c.wl.pod_spec) if key in assume]
    path, _ = uses[0]
    where = c.locate_key(path) if path[0] == "nodeSelector" else c.locate(path)
    yield _finding(
        c, "ARCH216",
        f"{c.wl.label}: {'; '.join(how for _, how in uses)}: no node pool of the built-in cluster profile "
        f"({c.profile.source}) has this label. That profile is synthetic: it knows only the labels kubelets and "
        "the cloud set, so archlint assumed a pool with the label exists and judged the pod by its architecture "
        "constraints alone. Import your cluster's nodes: `kubectl get nodes -o json > nodes.json` and set "
        '`[tool.archlint.cluster] nodes-file = "nodes.json"` (or describe them with [[tool.archlint.cluster.pools]])',
        where, "unknown-labels",
    )  # fmt: skip


def _beta_labels(c: Context) -> Iterator[Finding]:
    for path, op in ed.beta_label_ops(c.wl.pod_spec):
        old = str(path[-1]) if path[0] == "nodeSelector" else _beta_key(c.wl.pod_spec, path)
        new = "kubernetes.io/" + old.split("/", 1)[1]
        edits = c.edits_for([op])
        fix = Fix(f"use {new}", Applicability.SAFE, tuple(edits)) if edits else None
        where = c.locate_key(path) if path[0] == "nodeSelector" else c.locate(path)
        yield _finding(
            c, "ARCH204",
            f"{old} is deprecated (and missing on nodes whose kubelet no longer sets it); use {new}",
            where, f"beta:{'.'.join(map(str, path))}", fix,
        )  # fmt: skip


def _beta_key(spec: dict[str, Any], path: Path) -> str:
    node: Any = spec
    for s in path:
        node = node[s]
    return str(node)


_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")


def _cpu_millis(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) * 1000
    m = _CPU.match(str(v).strip()) if v is not None else None
    if not m:
        return None
    return float(m.group(1)) * (1 if m.group(2) else 1000)


def qos_problems(spec: dict[str, Any]) -> list[str]:
    """Why the pod is not Guaranteed with whole CPUs (what the static CPU manager needs)."""
    out = []
    for key in ("initContainers", "containers"):
        for ctr in spec.get(key) or []:
            if not isinstance(ctr, dict):
                continue
            name = ctr.get("name", "?")
            res: dict[str, Any] = ctr["resources"] if isinstance(ctr.get("resources"), dict) else {}
            limits: dict[str, Any] = res["limits"] if isinstance(res.get("limits"), dict) else {}
            requests: dict[str, Any] = res["requests"] if isinstance(res.get("requests"), dict) else {}
            for r in ("cpu", "memory"):
                if r not in limits:
                    out.append(f"container {name} has no {r} limit")
                elif r in requests and str(requests[r]) != str(limits[r]):
                    out.append(f"container {name} requests {r} {requests[r]} but is limited to {limits[r]}")
            cpu = _cpu_millis(requests.get("cpu", limits.get("cpu")))
            if key == "containers" and cpu is not None and cpu % 1000:
                out.append(f"container {name} asks for a fractional CPU ({requests.get('cpu', limits.get('cpu'))})")
    return out


def _qos(c: Context, fits: list[NodePool]) -> Iterator[Finding]:
    dedicated = [p for p in fits if p.arch == "arm64" and any(t.repels for t in p.taints)]
    if not fits or len(dedicated) != len(fits):
        return
    problems = qos_problems(c.wl.pod_spec)
    if problems:
        yield _finding(
            c, "ARCH207",
            f"{c.wl.label} runs on dedicated arm64 pool(s) {_pools(dedicated)} but is not Guaranteed with whole CPUs, "
            f"so the static CPU manager will not pin cores: {'; '.join(problems[:3])}",
            c.locate_key(("containers",)), "qos",
        )  # fmt: skip
