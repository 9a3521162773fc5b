"""Times preemptcheck on the bundled models and the throughput models; prints a Markdown table.

Run from the repository root:  .venv/bin/python benchmarks/run.py [--repeat 5] [--spin]
Each case runs in a fresh `preemptcheck verify --no-cache` process (load, compile, explore,
report: never a result from the cache);
the table gives the median wall time, the states explored and the peak RSS of the child.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).with_name("preemptcheck"))

CASES: list[tuple[str, list[str]]] = [
    *[(f"models/{m}.yaml", [f"models/{m}.yaml"]) for m in ("none", "voluntary", "full", "lazy", "rt")],
    ("models/ (all twelve, 26 runs)", ["models/"]),
    ("lost-update NCPU=2", ["benchmarks/models/lost-update.yaml"]),
    ("lost-update NCPU=3, 1M states", ["benchmarks/models/lost-update.yaml", "--set", "NCPU=3",
                                      "--max-states", "1000000"]),
    ("lost-update NCPU=3, 5M states", ["benchmarks/models/lost-update.yaml", "--set", "NCPU=3",
                                      "--max-states", "5000000"]),
    ("lost-update NCPU=2 --symmetry", ["benchmarks/models/lost-update.yaml", "--symmetry"]),
    ("lost-update NCPU=3 --symmetry, 1M states",
     ["benchmarks/models/lost-update.yaml", "--set", "NCPU=3", "--symmetry",
      "--max-states", "1000000"]),
    ("models/races/ (all six, 13 runs)", ["models/races/"]),
    ("models/latency.yaml, all modes (10 runs, liveness)",
     ["models/latency.yaml", "--set", "mode=none,voluntary,full,lazy,rt"]),
    ("response NCPU=2 (127k states, 6 liveness analyses)", ["benchmarks/models/response.yaml"]),
    ("models/ --engine symbolic (26 runs)", ["models/", "--engine", "symbolic"]),
    ("full-smp --engine symbolic (4 CPUs, 8-bit count)",
     ["models-large/full-smp.yaml", "--engine", "symbolic"]),
    ("full-smp explicit, 10M states (gives up)",
     ["models-large/full-smp.yaml", "--max-states", "10000000"]),
]


def one(args: list[str]) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([EXE, "verify", *args, "--format", "json", "--no-cache"], cwd=ROOT,
                                stdout=out, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)   # this child's own peak RSS
        wall = time.perf_counter() - t0
        out.seek(0)
        doc = json.loads(out.read())
    rss_kib = usage.ru_maxrss
    states = sum(m["stats"]["states"] or 0 for m in doc["models"] if m["status"] == "checked")
    return wall, states, rss_kib


# SPIN side by side: (name, Promela file, preemptcheck arguments). SPIN 6.5.2 (Debian
# package `spin`), pan compiled with gcc -O2 -DNOREDUCE -DSAFETY -DBFS; both must report
# the same number of states.
SPIN_CASES: list[tuple[str, str, list[str]]] = [
    ("pc-smp NCPU=3 (2,299,968 states)", "benchmarks/spin/pc-smp.pml",
     ["benchmarks/models/pc-smp.yaml", "--backend", "native"]),
    ("lost-update NCPU=2 (127,040 states)", "benchmarks/spin/lost-update.pml",
     ["benchmarks/models/lost-update.yaml", "--backend", "native",
      "--property", "count-bounded"]),
]


def _cpu(usage: os.struct_rusage) -> float:  # type: ignore[name-defined]
    return usage.ru_utime + usage.ru_stime


def run_pan(pml: str, work: Path) -> tuple[float, int, int]:
    """Generate, compile (not timed) and run SPIN's verifier: CPU s, states, peak RSS KiB."""
    subprocess.run(["spin", "-a", str(ROOT / pml)], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["gcc", "-O2", "-DNOREDUCE", "-DSAFETY", "-DBFS", "-o", "pan", "pan.c"],
                   cwd=work, check=True)
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(["./pan", "-w24"], cwd=work, stdout=out)
        _, _, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        text = out.read().decode()
    states = int(next(line.split()[0] for line in text.splitlines()
                      if line.strip().endswith("states, stored")))
    return _cpu(usage), states, usage.ru_maxrss


def run_pc(args: list[str]) -> tuple[float, int, int]:
    """preemptcheck verify, warm code cache (a first run compiles): CPU s, states, RSS KiB."""
    cmd = [EXE, "verify", *args, "--format", "json", "--no-cache"]
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        doc = json.loads(out.read())
    states = sum(m["stats"]["states"] or 0 for m in doc["models"] if m["status"] == "checked")
    return _cpu(usage), states, usage.ru_maxrss


def spin(repeat: int) -> None:
    print("| case | states (both) | SPIN CPU s | preemptcheck CPU s | speed vs SPIN "
          "| SPIN RSS MiB | preemptcheck RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, pml, args in SPIN_CASES:
        with tempfile.TemporaryDirectory() as work:
            pans = [run_pan(pml, Path(work)) for _ in range(repeat)]
        pcs = [run_pc(args) for _ in range(repeat)]
        if {p[1] for p in pans} != {p[1] for p in pcs}:
            raise SystemExit(f"{name}: SPIN and preemptcheck disagree on the states: "
                             f"{pans[0][1]:,} against {pcs[0][1]:,}")
        s_cpu = statistics.median(p[0] for p in pans)
        p_cpu = statistics.median(p[0] for p in pcs)
        print(f"| {name} | {pans[0][1]:,} | {s_cpu:.2f} | {p_cpu:.2f} | {s_cpu / p_cpu:.2f}x "
              f"| {max(p[2] for p in pans) / 1024:.0f} | {max(p[2] for p in pcs) / 1024:.0f} |")


# The native search on one worker and on two: (name, preemptcheck arguments).
WORKER_CASES: list[tuple[str, list[str]]] = [
    ("pc-smp NCPU=3", ["benchmarks/models/pc-smp.yaml", "--backend", "native"]),
    ("lost-update NCPU=3, 10M states", ["benchmarks/models/lost-update.yaml", "--set", "NCPU=3",
                                        "--backend", "native", "--max-states", "10000000"]),
    ("full-smp NCPU=2, 20M states", ["models-large/full-smp.yaml", "--set", "NCPU=2",
                                     "--max-states", "20000000"]),
]


def _verdicts(doc: dict) -> list[object]:
    return [(m.get("stats"), [(p["id"], p["verdict"]) for p in m.get("properties", [])])
            for m in doc["models"]]


def workers(repeat: int) -> None:
    """Wall time, CPU time and states per second of the native search with 1 and 2 workers;
    the two JSON results must be the same apart from the time."""
    print("| case | states | 1 worker wall s | 2 workers wall s | speed-up | states/s, 1 "
          "| states/s, 2 | CPU s, 1 | CPU s, 2 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, args in WORKER_CASES:
        rows: dict[int, list[tuple[float, float, dict]]] = {1: [], 2: []}
        cmd = [EXE, "verify", *args, "--format", "json", "--no-cache"]
        subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(repeat):
            for w in (1, 2):
                t0 = time.perf_counter()
                with tempfile.TemporaryFile() as out:
                    proc = subprocess.Popen([*cmd, "--workers", str(w)], cwd=ROOT, stdout=out,
                                            stderr=subprocess.DEVNULL)
                    _, _, usage = os.wait4(proc.pid, 0)
                    wall = time.perf_counter() - t0
                    out.seek(0)
                    doc = json.loads(out.read())
                for m in doc["models"]:
                    m.get("stats", {}).pop("seconds", None)
                rows[w].append((wall, _cpu(usage), doc))
        one, two = _verdicts(rows[1][0][2]), _verdicts(rows[2][0][2])
        if one != two:
            raise SystemExit(f"{name}: 1 and 2 workers disagree:\n{one}\n{two}")
        states = sum(m["stats"]["states"] or 0 for m in rows[1][0][2]["models"] if "stats" in m)
        w1 = statistics.median(r[0] for r in rows[1])
        w2 = statistics.median(r[0] for r in rows[2])
        c1 = statistics.median(r[1] for r in rows[1])
        c2 = statistics.median(r[1] for r in rows[2])
        print(f"| {name} | {states:,} | {w1:.2f} | {w2:.2f} | {w1 / w2:.2f}x "
              f"| {states / w1:,.0f} | {states / w2:,.0f} | {c1:.2f} | {c2:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    ap.add_argument("--spin", action="store_true",
                    help="SPIN side by side on benchmarks/spin/ (needs spin and gcc)")
    ap.add_argument("--workers", action="store_true",
                    help="the native search on 1 and 2 workers, side by side")
    opts = ap.parse_args()
    if opts.spin:
        spin(opts.repeat)
        return
    if opts.workers:
        workers(opts.repeat)
        return
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print()
    print("| case | states | median wall s | states/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for name, args in CASES:
        if opts.only not in name:
            continue
        runs = [one(args) for _ in range(opts.repeat)]
        wall = statistics.median(r[0] for r in runs)
        states = runs[0][1]
        rss = max(r[2] for r in runs) / 1024
        rate = f"{states / wall:,.0f}" if states else "(symbolic)"
        print(f"| {name} | {states:,} | {wall:.2f} | {rate} | {rss:.0f} |")


if __name__ == "__main__":
    main()
