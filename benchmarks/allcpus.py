"""Proofs of a per-CPU invariant for N CPUs against one proof for every N (issue 19); prints
Markdown tables.

Run from the repository root:  .venv/bin/python benchmarks/allcpus.py [--ncpu 4,16,64,256]
[--reuse 4,16,64,256] [--timeout 300] [--repeat 1] [--no-verify]

The model is benchmarks/models/stop-machine.yaml and the property its per-CPU
`fn-runs-on-a-stopped-machine`, whose proof needs facts about the other CPUs' counts. Every
case is a fresh process, killed at the timeout (shown as "> T"):

1. `verify`: the command a user runs, `preemptcheck verify MODEL --property P --engine
   symbolic --set NCPU=N --format json --no-cache` (the built-in `range` and `deadlock`
   properties come with --property); its JSON has no z3 resource units.
2. The property alone, in a child process that runs the engines as `verify` does
   (engines.symbolic.Symbolic, engines.param) on the model with only P and reports wall
   time, the engine's own time and z3 resource units:
   * fixed N: the z3 engine on N CPUs, strengthened by the invariants it guesses from
     states a simulation reaches and proves itself (Houdini);
   * all CPUs: `prove_all_cpus`, the parameterized proof, once for every N;
   * fixed N reusing: `prove_fixed_with`, the z3 engine on N CPUs strengthened by the
     parameterized proof's invariant (its conjuncts as properties of the instance) instead
     of guessing its own, proved on representative steps (engines/param/local.py). The
     invariant is the one the all-CPUs run of this session printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).with_name("preemptcheck"))
MODEL = "benchmarks/models/stop-machine.yaml"
PROPERTY = "fn-runs-on-a-stopped-machine"
# the reference case of this file's other tables, measured in the same session (the machine's
# speed varies from day to day: compare rows of one session only)
REFERENCE = ["models-large/full-smp.yaml", "--engine", "symbolic"]


@dataclass(frozen=True)
class Run:
    wall: float | None  # None: killed at the timeout
    verdict: str  # of PROPERTY, or "timeout"
    rss_mib: float
    info: dict[str, object]  # what a child reported (engine seconds, z3 units, ...)


def _killer(pid: int, timeout: float) -> threading.Timer:
    """Kills process group `pid` (a child started in a session of its own) after `timeout` s."""

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):  # it has just ended
            os.killpg(pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    return timer


def _spawn(cmd: list[str], timeout: float) -> tuple[float | None, bytes, bytes, float]:
    """Runs `cmd`, killed with its process group at `timeout` s: wall s (None when killed),
    its standard output and error, its peak RSS in MiB."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, start_new_session=True)
        timer = _killer(proc.pid, timeout)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        timer.cancel()
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return (None if killed else wall), text, errors, usage.ru_maxrss / 1024


def _failure(errors: bytes) -> str:
    """The diagnostic a child that could not run ended with (its last line)."""
    lines = [x for x in errors.decode(errors="replace").splitlines() if x.strip()]
    return "failed: " + (lines[-1].split(": ", 1)[-1] if lines else "no output")


def verify(args: list[str], timeout: float, *, prop: str | None = PROPERTY) -> Run:
    """One `preemptcheck verify` process (MODEL and --property P unless `args` names a model)."""
    what = [MODEL, "--property", prop] if prop else []
    cmd = [EXE, "verify", *what, *args, "--format", "json", "--no-cache"]
    wall, text, errors, rss = _spawn(cmd, timeout)
    if wall is None:
        return Run(None, "timeout", rss, {})
    try:
        m = json.loads(text)["models"][0]
    except (ValueError, LookupError):
        return Run(wall, _failure(errors), rss, {"failed": True})
    if m["status"] != "checked":
        why = "; ".join(d["message"] for d in m.get("diagnostics", []))
        return Run(wall, f"failed: {why}", rss, {"failed": True})
    if prop is None:
        verdicts = {p["verdict"] for p in m["properties"]}
        return Run(wall, "/".join(sorted(verdicts)), rss, {})
    p = next(p for p in m["properties"] if p["id"] == prop)
    info = {
        "others": {q["id"]: q["verdict"] for q in m["properties"] if q["id"] != prop},
        "invariant": (p.get("all_cpus") or {}).get("invariant"),
    }
    return Run(wall, f"{p['verdict']} ({p['strength']})", rss, info)


# ---------------------------------------------------------------- in a child process


def _only_property(ncpu: int | None):  # type: ignore[no-untyped-def]
    import dataclasses

    from preemptcheck.model import load_model

    overrides = {"NCPU": str(ncpu)} if ncpu is not None else {}
    model = load_model(str(ROOT / MODEL), overrides=overrides)
    return dataclasses.replace(
        model, properties=tuple(p for p in model.properties if p.id == PROPERTY)
    )


def child(kind: str, ncpu: int, invariant_file: str | None) -> None:
    """Prints, as JSON, one engine run on the model with only PROPERTY: its status, the
    engine's seconds and z3 resource units (and the invariant, for the all-CPUs run)."""
    from preemptcheck.checking.options import Options

    opts = Options()  # verify's defaults: bound 30, rlimit, work limit
    if kind == "fixed":
        from preemptcheck.engines.symbolic import Symbolic

        run = Symbolic(_only_property(ncpu)).run(
            bound=opts.bound, rlimit=opts.rlimit, work_limit=opts.work_limit
        )
        report = _fixed_report(run)
    elif kind == "all":
        from preemptcheck.engines.param import prove_all_cpus

        prun = prove_all_cpus(_only_property(None), rlimit=opts.rlimit, work_limit=opts.work_limit)
        pout = prun.outcomes[0]
        report = {
            "status": pout.status,
            "reason": pout.reason,
            "elapsed": prun.elapsed,
            "work": prun.work,
            "invariant": list(pout.invariant),
            "unwritten": pout.unwritten,
            "least": pout.least,
            "candidates": prun.candidates,
            "kept": prun.kept,
        }
    else:
        from preemptcheck.engines.param import prove_fixed_with

        assert invariant_file is not None
        invariant = json.loads(Path(invariant_file).read_text(encoding="utf-8"))
        _, run = prove_fixed_with(
            _only_property(None),
            ncpu,
            invariant,
            bound=opts.bound,
            rlimit=opts.rlimit,
            work_limit=opts.work_limit,
        )
        report = _fixed_report(run)
    print(json.dumps(report))


def _fixed_report(run: Any) -> dict[str, Any]:
    """What a fixed-instance run (engines.symbolic.SymbolicRun) decided of its one property."""
    out = run.outcomes[0]
    return {
        "status": out.status,
        "reason": out.reason,
        "elapsed": run.elapsed,
        "work": run.work,
        "strengthened": len(run.invariants),
    }


def engine(kind: str, ncpu: int, timeout: float, invariant_file: str | None = None) -> Run:
    cmd = [sys.executable, __file__, "--child", kind, "--child-ncpu", str(ncpu)]
    if invariant_file is not None:
        cmd += ["--child-invariant", invariant_file]
    wall, text, errors, rss = _spawn(cmd, timeout)
    if wall is None:
        return Run(None, "timeout", rss, {})
    try:
        info = json.loads(text)
    except ValueError:
        return Run(wall, _failure(errors), rss, {"failed": True})
    return Run(wall, str(info["status"]), rss, info)


# ---------------------------------------------------------------- the tables


def _median(runs: list[Run], timeout: float) -> str:
    if any(r.wall is None for r in runs):
        return f"> {timeout:g}"
    return f"{statistics.median(r.wall for r in runs if r.wall is not None):.2f}"


def _engine_cells(runs: list[Run], timeout: float) -> str:
    """wall s | engine s | z3 units | verdict | peak RSS"""
    done = [r for r in runs if r.wall is not None]
    if len(done) < len(runs):
        return f"> {timeout:g} | | | killed at {timeout:g} s | {max(r.rss_mib for r in runs):.0f}"
    if runs[0].info.get("failed"):
        return f"— | | | {runs[0].verdict} |"
    el = statistics.median(float(r.info["elapsed"]) for r in done)  # type: ignore[arg-type]
    units = {int(r.info["work"]) for r in done}  # type: ignore[call-overload]
    work = f"{min(units):,}" if len(units) == 1 else "-".join(f"{u:,}" for u in sorted(units))
    status = runs[0].verdict + (f" ({runs[0].info['reason']})" if runs[0].info["reason"] else "")
    return (
        f"{_median(runs, timeout)} | {el:.2f} | {work} | {status} "
        f"| {max(r.rss_mib for r in runs):.0f}"
    )


def _proved(runs: list[Run]) -> bool:
    return bool(runs) and all(r.wall is not None and r.verdict == "proved" for r in runs)


def _med(runs: list[Run], what: str) -> float:
    if what == "wall":
        return statistics.median(r.wall for r in runs if r.wall is not None)
    return statistics.median(float(r.info[what]) for r in runs)  # type: ignore[arg-type]


def _ratio(name: str, large: list[Run], small: list[Run]) -> str:
    return (
        f"{name}: wall {_med(large, 'wall') / _med(small, 'wall'):.2f}x, "
        f"engine {_med(large, 'elapsed') / _med(small, 'elapsed'):.2f}x, "
        f"z3 units {_med(large, 'work') / _med(small, 'work'):.2f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ncpu", default="4,16,64,256", help="CPU counts of the fixed runs")
    ap.add_argument(
        "--reuse",
        default="4,16,64,256",
        help="CPU counts of the runs reusing the all-CPUs invariant (ratios against the first)",
    )
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-verify", action="store_true", help="leave out the verify runs")
    ap.add_argument("--child", choices=["fixed", "all", "reuse"], help=argparse.SUPPRESS)
    ap.add_argument("--child-ncpu", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--child-invariant", default=None, help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.child:
        child(opts.child, opts.child_ncpu, opts.child_invariant)
        return
    counts = [int(n) for n in opts.ncpu.split(",") if n]
    reuse = [int(n) for n in opts.reuse.split(",") if n]
    t = opts.timeout
    print(
        f"machine: {platform.machine()}, {_cpu_model()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print(
        f"model: {MODEL}, property {PROPERTY}; timeout {t:g} s per run, "
        f"{opts.repeat} run(s) per case, medians"
    )
    ref = [verify(REFERENCE, t, prop=None) for _ in range(opts.repeat)]
    print(f"reference: verify {' '.join(REFERENCE)}: {_median(ref, t)} s ({ref[0].verdict})")
    print()
    print("| case | wall s | engine s | z3 units | verdict | peak RSS MiB |")
    print("|---|---:|---:|---:|---|---:|")
    try:
        import preemptcheck.engines.param  # noqa: F401
    except ImportError:
        have_param = False
    else:
        have_param = True
    invariant: list[str] | None = None
    if have_param:
        runs = [engine("all", 0, t) for _ in range(opts.repeat)]
        print(f"| all CPUs (every NCPU) | {_engine_cells(runs, t)} |", flush=True)
        if runs[0].verdict == "holds-all":
            invariant = list(runs[0].info["invariant"])  # type: ignore[call-overload]
    else:
        print("| all CPUs (every NCPU) | not available | | | engines.param is missing | |")
    fixed: dict[int, list[Run]] = {}
    for n in counts:
        runs = fixed[n] = [engine("fixed", n, t) for _ in range(opts.repeat)]
        print(f"| fixed NCPU={n} | {_engine_cells(runs, t)} |", flush=True)
    reused: dict[int, list[Run]] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(invariant or [], f)
        inv_file = f.name
    try:
        for n in reuse:
            if invariant is None:
                why = "engines.param is missing" if not have_param else "no all-CPUs proof"
                print(
                    f"| fixed NCPU={n}, reusing the all-CPUs invariant | not available "
                    f"| | | {why} | |"
                )
                continue
            runs = [engine("reuse", n, t, inv_file) for _ in range(opts.repeat)]
            reused[n] = runs
            print(
                f"| fixed NCPU={n}, reusing the all-CPUs invariant | {_engine_cells(runs, t)} |",
                flush=True,
            )
    finally:
        os.unlink(inv_file)
    if invariant is not None:
        print()
        print(f"all-CPUs invariant ({len(invariant)} conjuncts besides the property):")
        for text in invariant:
            print(f"    {text}")
    if reuse and _proved(reused.get(reuse[0], [])):
        print()
        small = reused[reuse[0]]
        for n in reuse[1:]:
            if _proved(reused.get(n, [])):
                print(
                    _ratio(f"reusing, NCPU={n} against reusing, NCPU={reuse[0]}", reused[n], small)
                )
        if (
            len(reuse) >= 2
            and _proved(reused.get(reuse[1], []))
            and _proved(fixed.get(reuse[0], []))
        ):
            print(
                _ratio(
                    f"reusing, NCPU={reuse[1]} against fixed NCPU={reuse[0]}",
                    reused[reuse[1]],
                    fixed[reuse[0]],
                )
            )
    if opts.no_verify:
        return
    print()
    print(
        "| `verify --engine symbolic --property P` | wall s | P | range, deadlock | peak RSS MiB |"
    )
    print("|---|---:|---|---|---:|")
    cases = [(f"--set NCPU={n}", ["--set", f"NCPU={n}"]) for n in counts]
    if have_param:
        cases.append(("--all-cpus", ["--all-cpus"]))
    for name, args in cases:
        runs = [verify(["--engine", "symbolic", *args], t) for _ in range(opts.repeat)]
        others: dict[str, str] = runs[0].info.get("others") or {}  # type: ignore[assignment]
        shown = ", ".join(others.values()) if others else "—"
        wall = "—" if runs[0].info.get("failed") else _median(runs, t)
        print(
            f"| {name} | {wall} | {runs[0].verdict} | {shown} "
            f"| {max(r.rss_mib for r in runs):.0f} |",
            flush=True,
        )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


if __name__ == "__main__":
    main()
