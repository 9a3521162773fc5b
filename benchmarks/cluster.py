"""The partitioned search (`verify --cluster`) on 1 and 2 local Ray workers, against the
single-process native search; prints a Markdown table.

Run from the repository root:  .venv/bin/python benchmarks/cluster.py [--repeat 3]
Each case: the single-process native search (Explorer.run), then the partitioned one
(engines.cluster.search.run_partitioned) on `local:1` and `local:2`, in this process with
Ray and the actors up (a first run of each warms them and the code cache and is not
timed): the times are the searches' own, from the first state to the last with the
traces rebuilt. Their results must equal the single-process run's (counts, coverage,
findings with their traces) or the script stops. CPU time is this process's for the
single-process search, the actors' (from /proc) for the partitioned one. Then one
end-to-end `preemptcheck verify --cluster local:2` process per case: the wall time a user
sees, with Ray's start, the actors' and the reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from preemptcheck.engines.cluster import search
from preemptcheck.engines.cluster.connect import connected, parse_cluster
from preemptcheck.engines.explicit import ExplicitRun, Explorer
from preemptcheck.model import load_model

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).with_name("preemptcheck"))
CASES: list[tuple[str, str, dict[str, str]]] = [
    ("lost-update NCPU=2", "benchmarks/models/lost-update.yaml", {}),
    ("pc-smp NCPU=3", "benchmarks/models/pc-smp.yaml", {"NCPU": "3"}),
    ("lost-update-13m (test fixture)", "tests/fixtures/cluster/lost-update-13m.yaml", {}),
]
TICK = os.sysconf("SC_CLK_TCK")


def _explorer(path: str, overrides: dict[str, str]) -> Explorer:
    return Explorer(load_model(str(ROOT / path), overrides=overrides), backend="native")


def _same(a: ExplicitRun, b: ExplicitRun) -> bool:
    """The runs but for the backend and the times."""
    return dataclasses.replace(a, elapsed=0.0, backend="") == dataclasses.replace(
        b, elapsed=0.0, backend=""
    )


def _cpu(pids: list[int]) -> float:
    """User and system seconds of these processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    base: dict[str, ExplicitRun] = {}
    for name, path, overrides in CASES:
        ex = _explorer(path, overrides)
        ex.run()  # the code cache warm
        for _ in range(args.repeat):
            c0 = _self_cpu()
            run = ex.run()
            cpu.setdefault((name, "single"), []).append(_self_cpu() - c0)
            wall.setdefault((name, "single"), []).append(run.elapsed)
        base[name] = run
    for n in (1, 2):
        spec = f"local:{n}"
        with connected(parse_cluster(spec)) as info:
            ray = __import__("ray")
            for name, path, overrides in CASES:
                ex = _explorer(path, overrides)
                search.run_partitioned(ex, info, timeout=None, progress=None, max_memory=None)
                pids = ray.get([a.pid.remote() for a in info.kept[search.ACTORS]])
                for _ in range(args.repeat):
                    c0 = _cpu(pids)
                    t0 = time.perf_counter()
                    run = search.run_partitioned(
                        ex, info, timeout=None, progress=None, max_memory=None
                    )
                    wall.setdefault((name, spec), []).append(time.perf_counter() - t0)
                    cpu.setdefault((name, spec), []).append(_cpu(pids) - c0)
                    assert _same(run, base[name]), f"{name}: {spec} differs"
    ends: dict[str, float] = {}
    for name, path, overrides in CASES:
        sets = [x for k, v in overrides.items() for x in ("--set", f"{k}={v}")]
        t0 = time.perf_counter()
        subprocess.run(
            [EXE, "verify", path, *sets, "--no-cache", "--cluster", "local:2"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        ends[name] = time.perf_counter() - t0

    print(f"{platform.node()}: {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"medians of {args.repeat}; load average before: {load:.1f}")  # fmt: skip
    print()
    print("| case | states | single-process s | 1 worker s | 2 workers s | 2 workers / 1 | "
          "2 workers / single | CPU s: single, 1 worker, 2 workers | "
          "`verify --cluster local:2` wall s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, _, _ in CASES:
        single, one, two = (statistics.median(wall[(name, k)])
                            for k in ("single", "local:1", "local:2"))  # fmt: skip
        c = [statistics.median(cpu[(name, k)]) for k in ("single", "local:1", "local:2")]
        states = base[name].states
        print(f"| {name} | {states:,} | {single:.2f} | {one:.2f} | {two:.2f} | "
              f"{one / two:.2f}x | {single / two:.2f}x | "
              f"{c[0]:.1f}, {c[1]:.1f}, {c[2]:.1f} | {ends[name]:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
