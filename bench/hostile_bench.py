"""Benchmark: peak memory and time of `archlint check` on the worst input of each kind.

    python bench/hostile_bench.py [--case NAME ...] [--scale N] [--mem-gib G] [--timeout S]
    python bench/hostile_bench.py --list
    python bench/hostile_bench.py --list-scaling 4000 8000 20000

Builds each case of the hostile corpus (tests/hostile_support/corpus.py) at its benchmark size in
a temporary directory and runs the real CLI on it in a child process under an address-space cap
(RLIMIT_AS, default 4 GiB, so a regression cannot take the machine down) and a timeout. Per case
it prints the child's peak RSS (from wait4's rusage), wall time, CPU time (user+sys), exit code
and the rules it reported, plus the load average: the machine is shared, so CPU seconds are the
number to compare. `--list-scaling` times one `kind: List` of N Deployments against the same N
as separate documents (the quadratic case of issue 12).

`--baseline DIR` runs another checkout's archlint on the same inputs (before/after numbers):

    mkdir /tmp/base && git archive 5c375bd | tar -x -C /tmp/base
    python bench/hostile_bench.py --baseline /tmp/base

Target (issue 12): under 1 GiB peak RSS and 60 s for every case; far less is better.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from hostile_support.corpus import CASES, Case, repo  # noqa: E402

BASELINE: str | None = None  # --baseline DIR: run the archlint package found there instead


def archlint_cmd() -> list[str]:
    if BASELINE:
        return [sys.executable, "-c", f"import sys; sys.path.insert(0, {BASELINE!r}); from archlint.main import main; "
                "sys.exit(main(sys.argv[1:]))"]  # fmt: skip
    exe = shutil.which("archlint", path=os.path.dirname(sys.executable)) or shutil.which("archlint")
    return [exe] if exe else [sys.executable, "-m", "archlint"]


def run_child(args: list[str], mem_bytes: int, timeout: float) -> dict:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))

    env = {**os.environ, "ARCHLINT_CACHE_DIR": tempfile.mkdtemp(prefix="hostile-cache-")}
    env.pop("ARCHLINT_RAISE", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    # communicate() reaped the child; its rusage is in RUSAGE_CHILDREN only cumulatively, so
    # each case runs in its own grandchild (see main) and reads RUSAGE_CHILDREN there.
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"rc": proc.returncode, "out": out, "err": err, "wall": wall, "timed_out": timed_out,
            "maxrss_kib": ru.ru_maxrss, "cpu": ru.ru_utime + ru.ru_stime}  # fmt: skip


def measure(case: Case, scale: int, mem_gib: float, timeout: float) -> dict:
    """Build the case and run archlint on it from a fresh process, so RUSAGE_CHILDREN is this
    run's alone."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: build, run, report through the pipe
        os.close(r)
        try:
            with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
                root = repo(Path(tmp) / "repo")
                t0 = time.perf_counter()
                case.build(root, scale)
                built = time.perf_counter() - t0
                # on disk (a sparse file counts what it really holds)
                size = sum(
                    min(st.st_size, st.st_blocks * 512) for p in root.rglob("*") if p.is_file() for st in [p.stat()]
                )
                args = [*archlint_cmd(), "check", str(root), "--offline", "--format", "json",
                        "--select", case.select, *case.extra_args]  # fmt: skip
                res = run_child(args, int(mem_gib * 1024**3), timeout)
                rules: list[str] = []
                try:
                    rules = sorted({f["rule"] for f in json.loads(res["out"])["findings"]})
                except (ValueError, KeyError):
                    pass
                err_tail = res["err"].decode("utf-8", "replace").strip().splitlines()[-1:] if res["err"] else []
                payload = {"case": case.name, "kind": case.kind, "bytes": size, "build_s": built,
                           "rc": res["rc"], "wall": res["wall"], "cpu": res["cpu"],
                           "maxrss_mib": res["maxrss_kib"] / 1024, "timed_out": res["timed_out"],
                           "rules": rules, "stderr": err_tail}  # fmt: skip
            os.write(w, json.dumps(payload).encode())
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks)) if chunks else {"case": case.name, "error": "no result"}


def list_scaling(sizes: list[int], mem_gib: float, timeout: float) -> None:
    from hostile_support.corpus import _deployment

    print(f"load average: {open('/proc/loadavg').read().strip()}")
    print(f"{'N':>7} {'shape':<10} {'wall s':>8} {'cpu s':>7} {'RSS MiB':>8} rc")
    for n in sizes:
        for shape in ("List", "documents"):
            with tempfile.TemporaryDirectory(prefix="hostile-list-") as tmp:
                root = repo(Path(tmp) / "repo")
                items = [_deployment(f"app-{i}") for i in range(n)]
                for d in items:  # a deprecated label: one fix (text edit) per workload
                    d["spec"]["template"]["spec"]["nodeSelector"] = {"beta.kubernetes.io/arch": "amd64"}
                if shape == "List":
                    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1)
                else:
                    text = "\n---\n".join(json.dumps(d, indent=1) for d in items)
                (root / "all.yaml").write_text(text)
                case = Case(f"list-{n}", "kubernetes", lambda r, s: [], select="ARCH0,ARCH2")
                res = _measure_existing(case, root, mem_gib, timeout)
                rss = res["maxrss_kib"] / 1024
                print(f"{n:>7} {shape:<10} {res['wall']:>8.1f} {res['cpu']:>7.1f} {rss:>8.0f} {res['rc']}")


def _measure_existing(case: Case, root: Path, mem_gib: float, timeout: float) -> dict:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            args = [*archlint_cmd(), "check", str(root), "--offline", "--format", "json", "--select", case.select]
            res = run_child(args, int(mem_gib * 1024**3), timeout)
            os.write(w, json.dumps({k: v for k, v in res.items() if k not in ("out", "err")}).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", action="append", help="run only these cases (repeatable)")
    ap.add_argument("--scale", type=int, help="override every case's benchmark scale")
    ap.add_argument("--mem-gib", type=float, default=4.0, help="RLIMIT_AS of the child (GiB)")
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--list", action="store_true", help="list the cases")
    ap.add_argument("--list-scaling", type=int, nargs="*", help="time kind: List against documents at these sizes")
    ap.add_argument("--json", action="store_true", help="print one JSON line per case")
    ap.add_argument("--baseline", help="a checkout of another commit (git archive REV | tar -x -C DIR) to measure")
    opts = ap.parse_args()
    global BASELINE
    BASELINE = opts.baseline
    if opts.list:
        for c in CASES:
            print(f"{c.name:<40} {c.kind}")
        return 0
    if opts.list_scaling is not None:
        list_scaling(opts.list_scaling or [4000, 8000, 20000], opts.mem_gib, opts.timeout)
        return 0
    cases = [c for c in CASES if not opts.case or c.name in opts.case]
    load = open("/proc/loadavg").read().strip()
    print(f"load average: {load}; RLIMIT_AS {opts.mem_gib} GiB; timeout {opts.timeout} s")
    print(f"{'case':<38} {'input':>9} {'wall s':>7} {'cpu s':>7} {'RSS MiB':>8} {'rc':>3}  rules")
    for c in cases:
        res = measure(c, c.bench_scale if opts.scale is None else opts.scale, opts.mem_gib, opts.timeout)
        if opts.json:
            print(json.dumps(res), flush=True)
            continue
        if "error" in res:
            print(f"{c.name:<38} {res['error']}")
            continue
        size = f"{res['bytes'] / 1024:.0f}K" if res["bytes"] < 1 << 20 else f"{res['bytes'] / 2**20:.1f}M"
        rc = "T/O" if res["timed_out"] else res["rc"]
        tail = f"  [{res['stderr'][0][:80]}]" if res["stderr"] and (res["rc"] == 2 or res["timed_out"]) else ""
        print(f"{c.name:<38} {size:>9} {res['wall']:>7.1f} {res['cpu']:>7.1f} {res['maxrss_mib']:>8.0f} {rc:>3}  "
              f"{','.join(res['rules'])}{tail}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
