"""The long fuzzing campaign of `preemptcheck verify` (issue 13: never crash, never hang).

Run from the repository root:

    .venv/bin/python benchmarks/fuzz.py --cases 10000 --mutants 1000 --jobs 2 --seed 1
    .venv/bin/python benchmarks/fuzz.py --cases 2000 --mutants 200 --jobs 1 --out fuzz-out
    .venv/bin/python benchmarks/fuzz.py --only paths,devices --cases 500 --mutants 0
    .venv/bin/python benchmarks/fuzz.py --replay fuzz-out/001-exit-4-.../case.json

The cases are those of tests/fuzzing/ (the package docstring lists the classes, the one of
fuzzing/oracle.py the oracle): `--cases N` of the classes other than semantic mutants, mixed
by `CAMPAIGN_WEIGHTS`, plus `--mutants M` semantic mutants, each checked by the explicit and
the symbolic engine. `--seed S` picks the block of seeds S * 1,000,000 + i: the first seeds
of each class are its fixed variants (a FIFO as `extends`, `--timeout nan`, ...), so every
campaign covers them; the rest are drawn from the seed. The same arguments give the same
cases on every machine.

Every case runs in a subprocess with a hard time limit: a child forked from this process
(which has preemptcheck imported, so a case costs no interpreter start) writes the case's
files into a fresh directory and runs the command there in-process (typer's CliRunner, a
SIGALRM limit per run); cases that need a real process (a FIFO, /dev/zero, a signal, deep
inputs) run the installed entry point from the child. A child still alive at the case's
limit (plus a margin) is killed and the case reported as a HANG; a child that dies of a
signal is a crash. `--jobs` children run at once (leave a core to others: `--jobs 1` on a
shared 2-core machine). Children get at most 2 GiB of address space, their commands 1 GiB.

Failures are grouped by distinct cause (the exit code and the first line of the message,
or the exception type, with names, numbers and paths blanked out; HANG by what the case
tried). For each cause, the smallest reproducing case is written to OUT/NNN-<cause>/: its
files as they were (chmods, sockets and the like described in README.txt), README.txt with
the command line, the problems and the output, and case.json (for --replay). The summary
(cases, internal errors, hangs, crashes, engine disagreements, distinct causes, wall time)
is printed at the end and written to OUT/summary.txt and OUT/summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import fuzzing  # noqa: E402
from fuzzing import (  # noqa: E402
    SEED_BLOCK,
    Case,
    Problem,
    campaign_counts,
    chmod_stops_reads,
    execute,
    generate,
)

CHILD_MEMORY = 2 << 30
MARGIN = 10.0  # seconds past a case's own limits before its child is killed


@dataclass
class Outcome:
    kind: str
    seed: int
    problems: list[Problem]
    elapsed: float
    runs: list[dict[str, object]] = field(default_factory=list)


def _child(case: Case, workdir: Path, result_file: Path) -> None:
    """In the forked child: run the case, write what happened, never return."""
    code = 0
    try:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        result = execute(case, workdir)
        doc = {
            "problems": [[p.cause, p.detail] for p in result.problems],
            "runs": [r.to_json() for r in result.runs],
        }
        result_file.write_text(json.dumps(doc))
    except BaseException:  # a bug of the harness (or MemoryError in it): say so
        result_file.write_text(json.dumps({"harness": traceback.format_exc()}))
        code = 1
    finally:
        os._exit(code)


@dataclass
class Running:
    kind: str
    seed: int
    case: Case
    workdir: Path
    result_file: Path
    started: float
    deadline: float


def _start(kind: str, seed: int, case: Case, scratch: Path, n: int) -> Running:
    workdir = scratch / f"c{n}"
    workdir.mkdir()
    result_file = scratch / f"r{n}.json"
    budget = case.limit * len(case.runs()) + MARGIN
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(case, workdir, result_file)
    now = time.monotonic()
    running = Running(kind, seed, case, workdir, result_file, now, now + budget)
    _PIDS[pid] = running
    return running


_PIDS: dict[int, Running] = {}


def _finish(pid: int, status: int | None) -> Outcome:
    r = _PIDS.pop(pid)
    elapsed = time.monotonic() - r.started
    problems: list[Problem] = []
    runs: list[dict[str, object]] = []
    if status is None:
        problems.append(Problem(r.case.hang_cause(), f"killed after {elapsed:.0f} s (hard limit)"))
    elif os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        problems.append(Problem(f"crash: the case's process was killed by {name}", r.case.label))
    else:
        try:
            doc = json.loads(r.result_file.read_text())
        except (OSError, ValueError) as exc:
            doc = {"harness": f"no result from the child: {exc}"}
        if "harness" in doc:
            last = str(doc["harness"]).strip().splitlines()[-1]
            problems.append(
                Problem(f"harness error: {fuzzing.normalize(last)}", str(doc["harness"]))
            )
        else:
            problems = [Problem(c, d) for c, d in doc["problems"]]
            runs = doc["runs"]
    fuzzing.release(r.case, r.workdir)
    shutil.rmtree(r.workdir, ignore_errors=True)
    r.result_file.unlink(missing_ok=True)
    return Outcome(r.kind, r.seed, problems, elapsed, runs)


def _warm_up() -> None:
    """Run one small case on each engine here, so that every forked child starts with the
    modules (z3 included) imported instead of importing them again per case."""
    with tempfile.TemporaryDirectory(prefix="preemptcheck-warm-") as tmp:
        case = Case(
            "warm-up",
            0,
            "warm-up",
            ["verify", "m.yaml", *fuzzing.MUTANT_ARGS],
            {"m.yaml": fuzzing.RICH},
            engines=True,
        )
        execute(case, Path(tmp))


def _specs(counts: dict[str, int], seed: int) -> list[tuple[str, int]]:
    """Every (kind, seed), the classes interleaved so that progress is representative."""
    specs = [(k, seed * SEED_BLOCK + i) for k, n in counts.items() for i in range(n)]
    random.Random(f"order:{seed}").shuffle(specs)
    return specs


def _slug(cause: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", cause).strip("-")[:60]


def _write_reproducer(directory: Path, case: Case, outcome: Outcome, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    files = Case(**{**case.__dict__, "chmods": {}, "sockets": []})
    fuzzing.materialize(files, directory)
    lines = [
        f"{count} case(s) hit: {outcome.problems[0].cause}" if outcome.problems else "",
        "",
        "Problems of this (the smallest) case:",
        *(f"  {p.cause}\n    {fuzzing.excerpt(p.detail, 1500)}" for p in outcome.problems),
        "",
        "Reproducer (run in this folder; PREEMPTCHECK_CACHE=0):",
        case.describe(limit=1500),
        "",
    ]
    for run in outcome.runs:
        lines += [
            f"argv: {json.dumps(run['argv'])[:2000]}",
            f"exit {run['exit_code']} in {float(run['elapsed']):.2f} s",  # type: ignore[arg-type]
            "stdout (tail):",
            str(run["stdout"])[-3000:],
            "stderr (tail):",
            str(run["stderr"])[-3000:],
            "",
        ]
    (directory / "README.txt").write_text("\n".join(lines), encoding="utf-8", errors="replace")
    doc = case.to_json()
    doc["bytes_files"] = [p for p, c in case.files.items() if isinstance(c, bytes)]
    (directory / "case.json").write_text(
        json.dumps(doc), encoding="utf-8", errors="surrogateescape"
    )


def _load_case(path: Path) -> Case:
    doc = json.loads(path.read_text(encoding="utf-8", errors="surrogateescape"))
    binary = set(doc.pop("bytes_files", []))
    doc["files"] = {p: (c.encode("latin-1") if p in binary else c) for p, c in doc["files"].items()}
    doc["send_signal"] = tuple(doc["send_signal"]) if doc.get("send_signal") else None
    doc["expect"] = tuple(doc["expect"]) if doc.get("expect") else None
    return Case(**doc)


def replay(path: Path) -> int:
    case = _load_case(path)
    with tempfile.TemporaryDirectory(prefix="preemptcheck-replay-") as tmp:
        result = execute(case, Path(tmp))
    print(fuzzing.report(result, limit=4000))
    print("no problem" if not result.problems else f"{len(result.problems)} problem(s)")
    return 1 if result.problems else 0


def campaign(args: argparse.Namespace) -> int:
    counts = campaign_counts(args.cases, args.mutants)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - set(fuzzing.KINDS)
        if unknown:
            raise SystemExit(f"unknown classes: {', '.join(sorted(unknown))}")
        counts = {k: n for k, n in counts.items() if k in wanted}
    skipped_unreadable = 0
    if not chmod_stops_reads() and counts.get("unreadable"):
        skipped_unreadable = counts.pop("unreadable")
    specs = _specs(counts, args.seed)
    _warm_up()

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    scratch = Path(tempfile.mkdtemp(prefix="preemptcheck-fuzz-"))
    os.environ["PREEMPTCHECK_CACHE"] = "0"
    os.environ["PREEMPTCHECK_CACHE_DIR"] = str(scratch / "cache")
    os.environ["XDG_CACHE_HOME"] = str(scratch / "xdg-cache")
    os.environ.pop("GITHUB_ACTIONS", None)
    by_cause: dict[str, list[tuple[int, str, int]]] = defaultdict(
        list
    )  # cause -> (size, kind, seed)
    smallest: dict[str, tuple[int, Case, Outcome]] = {}
    kind_time: Counter[str] = Counter()
    kind_cases: Counter[str] = Counter()
    failing_cases = 0
    internal = hangs = crashes = disagreements = 0
    t0 = time.monotonic()
    done = 0
    queue = list(reversed(specs))
    n = 0
    last_report = t0

    def record(o: Outcome) -> None:
        nonlocal done, failing_cases, internal, hangs, crashes, disagreements
        done += 1
        kind_time[o.kind] += o.elapsed
        kind_cases[o.kind] += 1
        if not o.problems:
            return
        failing_cases += 1
        causes = [p.cause for p in o.problems]
        internal += any(
            c.startswith(("exit 4", "uncaught")) or "internal error" in c for c in causes
        )
        hangs += any(c.startswith("HANG") for c in causes)
        crashes += any(c.startswith("crash") for c in causes)
        disagreements += any(c.startswith("engines disagree") for c in causes)
        case = generate(o.kind, o.seed)
        size = case.size()
        for c in dict.fromkeys(causes):
            by_cause[c].append((size, o.kind, o.seed))
            if c not in smallest or size < smallest[c][0]:
                smallest[c] = (size, case, o)

    try:
        while queue or _PIDS:
            while queue and len(_PIDS) < args.jobs:
                kind, seed = queue.pop()
                case = generate(kind, seed)
                if args.limit_scale != 1.0:
                    case.limit *= args.limit_scale
                _start(kind, seed, case, scratch, n)
                n += 1
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid:
                record(_finish(pid, status))
                continue
            now = time.monotonic()
            for p, r in list(_PIDS.items()):
                if now > r.deadline:
                    os.kill(p, signal.SIGKILL)
                    os.waitpid(p, 0)
                    record(_finish(p, None))
            if now - last_report > args.progress:
                last_report = now
                rate = done / (now - t0)
                print(
                    f"[{done}/{len(specs)}] {rate:.1f} cases/s, {failing_cases} failing, "
                    f"{len(by_cause)} causes",
                    flush=True,
                )
            time.sleep(0.005)
    except KeyboardInterrupt:
        print("interrupted: the summary covers the cases done so far", flush=True)
        for p in list(_PIDS):
            os.kill(p, signal.SIGKILL)
            os.waitpid(p, 0)
            _finish(p, None)
    wall = time.monotonic() - t0
    shutil.rmtree(scratch, ignore_errors=True)

    ordered = sorted(by_cause, key=lambda c: (-len(by_cause[c]), c))
    for i, cause in enumerate(ordered, 1):
        _, case, outcome = smallest[cause]
        outcome.problems.sort(key=lambda p: p.cause != cause)
        _write_reproducer(out / f"{i:03d}-{_slug(cause)}", case, outcome, len(by_cause[cause]))
    mutants = kind_cases.get("mutant", 0)
    summary = {
        "cases": done,
        "mutants (each on both engines)": mutants,
        "failing cases": failing_cases,
        "cases with an internal error": internal,
        "hangs": hangs,
        "crashes": crashes,
        "engine disagreements": disagreements,
        "distinct causes": len(by_cause),
        "skipped (unreadable class, chmod 000 does not stop reads here)": skipped_unreadable,
        "wall time (s)": round(wall, 1),
        "seconds per 1,000 cases": round(1000 * wall / max(done, 1), 1),
        "jobs": args.jobs,
        "seed": args.seed,
    }
    lines = ["", "Summary"] + [f"  {k}: {v}" for k, v in summary.items()]
    lines += ["", "Cases and time (case-seconds) per class:"]
    for k in sorted(kind_cases):
        lines.append(f"  {k:<11} {kind_cases[k]:>6} cases  {kind_time[k]:>8.1f} s")
    lines += ["", f"Distinct causes ({len(ordered)}), most frequent first; reproducers in {out}/:"]
    for i, cause in enumerate(ordered, 1):
        _, case, _ = smallest[cause]
        lines.append(f"  {i:03d} [{len(by_cause[cause])} cases] {cause}")
        lines.append(f"        smallest: {case.cid} ({case.label[:100]})")
    text = "\n".join(lines)
    print(text)
    (out / "summary.txt").write_text(text + "\n", encoding="utf-8")
    causes_doc = [
        {
            "cause": c,
            "cases": len(by_cause[c]),
            "smallest": smallest[c][1].cid,
            "examples": [f"{k}#{s}" for _, k, s in sorted(by_cause[c])[:10]],
        }
        for c in ordered
    ]
    (out / "summary.json").write_text(
        json.dumps({"summary": summary, "causes": causes_doc}, indent=1)
    )
    return 1 if by_cause else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases of the non-mutant classes")
    parser.add_argument(
        "--mutants", type=int, default=1_000, help="semantic mutants (both engines)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="comma-separated classes (see KINDS in tests/fuzzing/)")
    parser.add_argument("--out", default="fuzz-out", help="where reproducers and the summary go")
    parser.add_argument(
        "--limit-scale",
        type=float,
        default=1.0,
        help="multiply every case's time limit (a slower machine)",
    )
    parser.add_argument(
        "--progress", type=float, default=30.0, help="seconds between progress lines"
    )
    parser.add_argument("--replay", type=Path, help="run one case.json written by a campaign")
    args = parser.parse_args()
    if args.replay:
        return replay(args.replay)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return campaign(args)


if __name__ == "__main__":
    sys.exit(main())
