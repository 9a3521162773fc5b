"""The symbolic engine gives the same answer every time, and its work is bounded.

The same model and options give the same verdicts, strengths, reasons, traces (states and
step labels), counterexamples to induction and depth, and the same z3 work: after other z3
work in the same process, whatever order models and properties are checked in, and in a
fresh process whose PYTHONHASHSEED differs. Each run has a z3 context of its own, so nothing
is ever built in z3's shared main context. A whole-run work limit leaves what it cuts short
unknown, says so, and keeps what was decided before it.

Run as a script (`python tests/test_determinism.py MODEL...`) it prints the documents of
those models as JSON: that is the fresh process the tests compare against.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import ModelResult, RunResult
from preemptcheck.engines.symbolic import DEFAULT_WORK_LIMIT, PropertyOutcome, Symbolic
from preemptcheck.model import load_model
from preemptcheck.report.jsonout import run_document

ROOT = Path(__file__).resolve().parents[1]
LOST_WAKEUP = str(ROOT / "models" / "races" / "lost-wakeup.yaml")
FOLD_IPI = str(ROOT / "models" / "races" / "fold-ipi.yaml")
LOADSTORE = str(ROOT / "models" / "races" / "fold-loadstore-irq.yaml")
MODELS = [LOST_WAKEUP, FOLD_IPI, LOADSTORE]  # each a fraction of a second
SMALL = [LOST_WAKEUP, FOLD_IPI, LOADSTORE]  # Symbolic runs whose work is compared
SYMBOLIC = Options(engine="symbolic")


def _untimed(doc: Any) -> Any:
    """`doc` without the keys that measure time."""
    if isinstance(doc, dict):
        return {k: _untimed(v) for k, v in doc.items() if k != "elapsed"}
    if isinstance(doc, list):
        return [_untimed(v) for v in doc]
    return doc


def document(result: ModelResult) -> dict[str, Any]:
    """Everything one symbolic run answers, but how long it took: the JSON result document's
    model (verdicts, strengths, reasons, traces, induction CTIs, depth) plus each trace and
    CTI in full (its states' sequence positions too)."""
    (doc,) = run_document(RunResult((result,)))["models"]
    doc["full"] = {p.id: [repr(p.trace), repr(p.cti)] for p in result.properties}
    out: dict[str, Any] = _untimed(doc)
    return out


def outcome(o: PropertyOutcome) -> list[Any]:
    return [o.prop_index, o.status, o.depth, o.reason, repr(o.trace), repr(o.cti)]


def work(path: str) -> dict[str, Any]:
    """One Symbolic run on the model: its outcomes and the z3 resource units it spent."""
    run = Symbolic(load_model(path)).run()
    return {"work": run.work, "depth": run.depth, "outcomes": [outcome(o) for o in run.outcomes]}


def _main_context_work() -> None:
    """Terms and a query in z3's shared main context, as other code in a process may make."""
    import z3

    x, y = z3.BitVecs("x y", 16)
    s = z3.Solver()
    s.add(x * y == 391, z3.ULT(1, x), z3.ULT(1, y), z3.ULT(x, y))
    assert s.check() == z3.sat


@pytest.fixture(scope="module")
def first() -> dict[str, Any]:
    """Each model checked once in this process, in order, and the small ones' work."""
    return {
        "docs": {p: document(check_file(p, SYMBOLIC)) for p in MODELS},
        "work": {p: work(p) for p in SMALL},
    }


@pytest.mark.slow
def test_a_run_repeats_after_other_z3_work_and_in_another_order(first: dict[str, Any]) -> None:
    _main_context_work()
    check_file(LOST_WAKEUP, Options(engine="symbolic", properties=("sleeper-sleeps",)))
    again = {p: document(check_file(p, SYMBOLIC)) for p in reversed(MODELS)}
    for p in MODELS:
        assert again[p] == first["docs"][p], p
    assert {p: work(p) for p in reversed(SMALL)} == first["work"]


@pytest.mark.slow
def test_the_order_properties_are_checked_in_changes_nothing() -> None:
    ids = [p.id for p in load_model(LOADSTORE).properties if not p.builtin]
    assert len(ids) >= 3

    def one(pid: str) -> dict[str, Any]:
        return document(check_file(LOADSTORE, Options(engine="symbolic", properties=(pid,))))

    forward = {pid: one(pid) for pid in ids}
    backward = {pid: one(pid) for pid in reversed(ids)}
    assert forward == backward


@pytest.mark.slow
def test_a_fresh_process_with_another_hash_seed_agrees(first: dict[str, Any]) -> None:
    seed = "4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "2424"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    order = [FOLD_IPI, LOADSTORE, LOST_WAKEUP]
    proc = subprocess.run(
        [sys.executable, __file__, *order],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    fresh = json.loads(proc.stdout)
    assert fresh["hash"] != hash("preempt_count"), "the other process hashes strings alike"
    assert fresh["main_context"] is False, "a z3 object was made in z3's main context"
    for p in MODELS:
        assert fresh["docs"][p] == first["docs"][p], p
    assert fresh["work"] == first["work"]


def test_the_default_work_limit_changes_nothing_on_a_bundled_model() -> None:
    assert isinstance(DEFAULT_WORK_LIMIT, int)
    model = load_model(LOADSTORE)
    limited = Symbolic(model).run()
    free = Symbolic(model).run(work_limit=None)
    assert [outcome(o) for o in limited.outcomes] == [outcome(o) for o in free.outcomes]
    assert limited.work == free.work < DEFAULT_WORK_LIMIT


@pytest.mark.slow
def test_the_work_limit_leaves_what_is_open_unknown_and_keeps_what_is_decided() -> None:
    model = load_model(LOADSTORE)
    free = Symbolic(model).run(work_limit=None)
    assert all(o.status != "unknown" for o in free.outcomes)
    seen = set()
    for limit in (1, free.work // 3, free.work * 3 // 4, free.work * 7 // 8):
        run = Symbolic(model).run(work_limit=limit)
        for o, f in zip(run.outcomes, free.outcomes, strict=True):
            if o.status == "unknown":
                assert "work limit" in o.reason, o.reason
                assert f"{limit:,}" in o.reason, o.reason
                assert o.trace is None
                seen.add("unknown")
            else:  # decided before the limit: as without it (shortest traces, least k)
                assert (o.status, o.depth) == (f.status, f.depth), (limit, o, f)
                seen.add("decided")
        # a query stops at the limit; building and simplifying terms between queries is work
        # too, but little
        assert run.work <= limit + 10_000
    assert seen == {"unknown", "decided"}


def _main(paths: list[str]) -> None:
    import z3

    docs = {p: document(check_file(p, SYMBOLIC)) for p in paths}
    found = {"docs": docs, "work": {p: work(p) for p in SMALL}, "hash": hash("preempt_count")}
    found["main_context"] = z3.z3._main_ctx is not None
    sys.stdout.write(json.dumps(found))


if __name__ == "__main__":
    _main(sys.argv[1:])
