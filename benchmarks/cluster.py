"""The partitioned search (`verify --cluster`) on 1 and 2 local Ray workers, against the
single-process native search; prints a Markdown table.

Run from the repository root:  .venv/bin/python benchmarks/cluster.py [--repeat 3]
Each case: the single-process native search, then `--cluster local:1` and `local:2`, each in
the same process through the library (check_paths), so the times are the searches' own
(ModelResult.stats.elapsed: from the first state to the last, traces rebuilt, after Ray and
the actors are up: the first run of each count warms them and is not timed). The results
must equal the single-process run's but for the backend named, or the script stops. Then one
end-to-end `preemptcheck verify --cluster local:2` process per case for the wall time a user
sees (Ray's start, the actors', the compile cache load).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from preemptcheck.checking.check import Options, check_paths
from preemptcheck.checking.results import ModelResult
from preemptcheck.engines.cluster.connect import connected, parse_cluster

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).with_name("preemptcheck"))
CASES: list[tuple[str, str, dict[str, str]]] = [
    ("lost-update NCPU=2", "benchmarks/models/lost-update.yaml", {}),
    ("pc-smp NCPU=3", "benchmarks/models/pc-smp.yaml", {"NCPU": "3"}),
    ("lost-update-13m (test fixture)", "tests/fixtures/cluster/lost-update-13m.yaml", {}),
]


def _run(path: str, overrides: dict[str, str], cluster: str | None) -> ModelResult:
    options = Options(overrides=overrides, backend="native", cluster=cluster)
    (m,) = check_paths([str(ROOT / path)], options).models
    assert isinstance(m, ModelResult), m
    return m


def _same(a: ModelResult, b: ModelResult) -> bool:
    """The results but for the backend and the times."""

    def key(m: ModelResult) -> object:
        stats = dataclasses.replace(m.stats, backend=None, elapsed=0.0)
        props = [(p.id, p.verdict, p.strength, p.reason, p.trace) for p in m.properties]
        return stats, props, m.coverage, m.warnings

    return key(a) == key(b)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    times: dict[tuple[str, str], list[float]] = {}
    base: dict[str, ModelResult] = {}
    for name, path, overrides in CASES:
        _run(path, overrides, None)  # the code cache warm
        for _ in range(args.repeat):
            m = _run(path, overrides, None)
            times.setdefault((name, "single"), []).append(m.stats.elapsed)
        base[name] = m
    for n in (1, 2):
        spec = f"local:{n}"
        with connected(parse_cluster(spec)):  # the runs inside use this instance
            for name, path, overrides in CASES:
                _run(path, overrides, spec)  # the actors up and the code loaded
                for _ in range(args.repeat):
                    m = _run(path, overrides, spec)
                    assert _same(m, base[name]), f"{name}: {spec} differs"
                    times.setdefault((name, spec), []).append(m.stats.elapsed)
    walls: dict[str, float] = {}
    for name, path, overrides in CASES:
        sets = [x for k, v in overrides.items() for x in ("--set", f"{k}={v}")]
        t0 = time.perf_counter()
        subprocess.run(
            [EXE, "verify", path, *sets, "--no-cache", "--cluster", "local:2"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        walls[name] = time.perf_counter() - t0

    print(f"{platform.node()}: {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}, "
          f"medians of {args.repeat}")  # fmt: skip
    print()
    print("| case | states | single-process s | 1 worker s | 2 workers s | 2 workers / 1 | "
          "2 workers / single | `verify --cluster local:2` wall s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, _, _ in CASES:
        single, one, two = (statistics.median(times[(name, k)])
                            for k in ("single", "local:1", "local:2"))  # fmt: skip
        states = base[name].stats.states or 0
        print(f"| {name} | {states:,} | {single:.2f} | {one:.2f} | {two:.2f} | "
              f"{one / two:.2f}x | {single / two:.2f}x | {walls[name]:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
