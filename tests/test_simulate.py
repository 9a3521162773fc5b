"""`preemptcheck simulate`: seeded random walks that check invariants, `never` and monitors
at every state they visit; every trace replays, a seed repeats a run, walks are independent."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections import deque
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import write_model
from preemptcheck.checking.simulate import (
    Mark,
    SimOptions,
    SimResult,
    Status,
    simulate_model,
    simulate_path,
)
from preemptcheck.cli.main import app
from preemptcheck.engines.simulate import Simulator
from preemptcheck.model import load_model
from preemptcheck.model.ir import Model
from preemptcheck.semantics.reference import Reference
from preemptcheck.semantics.system import State
from preemptcheck.semantics.trace import replay

ROOT = Path(__file__).resolve().parents[1]
FULL = str(ROOT / "models" / "full.yaml")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["simulate", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def one(path: str, **options: object) -> SimResult:
    report = simulate_path(path, SimOptions(**options))  # type: ignore[arg-type]
    (result,) = report.results
    assert isinstance(result, SimResult), result
    return result


def prop(result: SimResult, pid: str):  # type: ignore[no-untyped-def]
    return next(p for p in result.properties if p.id == pid)


# ---------------------------------------------------------------- a bundled model


def test_a_violation_verify_shows_is_found_and_replays() -> None:
    # verify: need-resched-implies-atomic is violated in 3 steps (expect: violated)
    pid = "need-resched-implies-atomic"
    r = one(FULL, properties=(pid,), seed=7, runs=50, depth=30)
    p = prop(r, pid)
    assert (p.status, p.mark) == (Status.VIOLATED, Mark.AS_EXPECTED)
    assert p.trace is not None
    assert p.trace.length >= 3
    model = r.model
    replay(model, next(x for x in model.properties if x.id == pid), p.trace)
    pi = [x.id for x in model.properties].index(pid)
    checks = Reference(model).state_checks(p.trace.states[-1])
    assert any(i == pi and v is False for i, _, v in checks)


@pytest.mark.slow
def test_the_same_seed_prints_the_same_bytes() -> None:
    # stdout only: off a terminal, stderr gets a progress line whenever a run lasts past
    # the progress interval, which a loaded machine decides
    args = [FULL, "--seed", "3", "--runs", "40", "--depth", "40"]
    first = invoke(*args)[:2]
    assert first[0] == 0, first
    assert "wwnr" in first[1]
    assert "seed 3" in first[1]
    assert first == invoke(*args)[:2]
    json_args = (*args, "--format", "json")
    assert invoke(*json_args)[:2] == invoke(*json_args)[:2]


def test_a_walk_is_repeated_alone_from_its_seed_and_number() -> None:
    pid = "kernel-preemption-needs-need-resched"
    r = one(FULL, properties=(pid,), seed=11, runs=200, depth=40)
    p = prop(r, pid)
    assert p.status == Status.VIOLATED
    assert p.run is not None
    assert p.run > 1
    alone = one(FULL, properties=(pid,), seed=11, depth=40, only_run=p.run)
    assert prop(alone, pid).trace == p.trace
    assert alone.run.runs == 1
    # the printed command repeats it too
    code, out, _ = invoke(FULL, "--property", pid, "--seed", "11", "--runs", "200", "--depth", "40")
    assert code == 0
    (hint,) = re.findall(r"repeat this walk: preemptcheck simulate (.*)", out)
    assert hint.endswith(f"--depth 40 --seed 11 --run {p.run}")
    code, again, _ = invoke(*shlex.split(hint), "--property", pid)
    assert code == 0
    table = out[out.index("step  cpu") : out.index("repeat this walk")]
    assert table in again


def test_a_planted_bug_is_found(tmp_path: Path) -> None:
    for folder in ("models", "properties", "monitors"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    base = tmp_path / "models" / "_base.yaml"
    text = base.read_text()
    assert text.count("      pc: pc + lock_offset\n") == 1
    base.write_text(text.replace("      pc: pc + lock_offset\n", "      pc: pc\n"))
    path = str(tmp_path / "models" / "full.yaml")
    code, out, _ = invoke(path, "--property", "no-sleep-in-atomic", "--seed", "1", "--runs", "300")
    assert code == 1, out
    assert re.search(
        r"FAIL +no-sleep-in-atomic +violated \(\d+ steps, walk \d+\), expected holds", out
    )
    assert "BUG: sleeping function called from invalid context" in out
    assert "1 unexpected in 300 walks" in out


# ---------------------------------------------------------------- against the reference


TOGGLES = """
    model: toggles
    cpus: 2
    vars:
      x: {type: int, range: [0, 3]}
      on: {type: bool, index: cpus}
    actions:
      inc:
        when: x < 3 and on
        do: {x: x + 1}
      flip:
        do: {on: not on}
      reset:
        on: 0
        when: x == 3
        do: {x: 0}
    properties:
      small:
        invariant: x <= 3
      three:
        reachable: x == 3 and not on[0] and not on[1]
"""


def reachable(model: Model) -> set[State]:
    """Breadth-first over the reference semantics: an independent path to the states."""
    ref = Reference(model)
    seen = {ref.initial()}
    queue = deque(seen)
    while queue:
        for o in ref.outcomes(queue.popleft()):
            if o.next is not None and o.next not in seen:
                seen.add(o.next)
                queue.append(o.next)
    return seen


def test_walks_visit_reachable_states_within_their_counts(tmp_path: Path) -> None:
    model = load_model(write_model(tmp_path, TOGGLES))
    sim = Simulator(model)
    runs, depth = 30, 12
    run = sim.run(5, runs=range(1, runs + 1), depth=depth)
    assert run.runs == runs
    assert run.states <= runs * (depth + 1)
    assert run.steps == run.states - run.runs
    states = reachable(model)
    visited: set[State] = set()
    total = 0
    for k in range(1, runs + 1):
        w = sim.walk(5, k, depth)
        assert len(w.sids) <= depth
        assert len(w.states) == len(w.sids) + 1
        total += len(w.states)
        visited |= {sim.explorer.layout.unpack(s) for s in w.states}
        # each step taken is a step of the reference semantics
        for a, sid, b in zip(w.states, w.sids, w.states[1:], strict=False):
            ua, ub = (sim.explorer.layout.unpack(x) for x in (a, b))
            label = sim.ts.label(sid)
            assert any(o.label == label and o.next == ub for o in Reference(model).outcomes(ua))
    assert total == run.states
    assert visited <= states
    assert len(visited) > 1
    result = simulate_model("m.yaml", model, SimOptions(seed=5, runs=runs, depth=depth))
    assert prop(result, "small").status == Status.NOT_VIOLATED
    assert prop(result, "three").status == Status.WITNESSED
    assert {p.mark for p in result.properties} == {Mark.AS_EXPECTED}


@pytest.mark.parametrize(
    "args",
    [
        ["--runs", "0"],
        ["--runs", "-3"],
        ["--depth", "0"],
        ["--depth", "-1"],
        ["--run", "0"],
        ["--runs", "5", "--run", "2"],
        ["--seed", "-1"],
        ["--runs", "many"],
    ],
)
def test_bad_counts_are_usage_errors(args: list[str]) -> None:
    code, out, err = invoke(FULL, *args)
    assert code == 2
    assert out == ""
    assert re.match(r"error\[PC\d{3}\]: ", err), err


def test_a_bad_model_is_exit_2(tmp_path: Path) -> None:
    path = write_model(tmp_path, "model: m\nvars:\n  x: {type: int, range: [0, 1]}\nactions:\n"
                       "  a:\n    do: {y: 1}\n")  # fmt: skip
    code, out, err = invoke(path, "--seed", "1")
    assert code == 2
    assert "error[PC" in out + err


# ---------------------------------------------------------------- monitors


LOCK_DOT = """digraph state_automaton {
\t{node [shape = plaintext, style=invis, label=""] "__init_unlocked"};
\t{node [shape = doublecircle] "unlocked"};
\t{node [shape = circle] "locked"};
\t"__init_unlocked" -> "unlocked";
\t"unlocked" -> "locked" [ label = "lock_acquire" ];
\t"locked" -> "unlocked" [ label = "lock_release" ];
}
"""

RACY = """
    model: locks
    vars:
      held: {type: bool}
    actions:
      spin_lock:
        when: not held
        do: {held: true}
        tags: [lock]
      mutex_lock:
        do: {held: true}
        tags: [lock]
      spin_unlock:
        when: held
        do: {held: false}
        event: false
    properties:
      locking:
        monitor: lock.dot
        events:
          lock_acquire: tag:lock
          lock_release: [spin_unlock]
"""


def test_a_monitor_violation_is_found_and_printed(tmp_path: Path) -> None:
    (tmp_path / "lock.dot").write_text(LOCK_DOT)
    path = write_model(tmp_path, RACY, "m.yaml")
    r = one(path, seed=2, runs=20, depth=10)
    p = prop(r, "locking")
    assert (p.status, p.mark) == (Status.VIOLATED, Mark.UNEXPECTED)
    assert p.reason == "rv: monitor lock does not allow event lock_acquire on state locked"
    assert p.trace is not None
    assert p.trace.monitor
    assert str(p.trace.steps[-1]) == "mutex_lock@cpu0"
    replay(r.model, r.model.properties[0], p.trace)
    code, out, _ = invoke(path, "--seed", "2", "--runs", "20", "--depth", "10")
    assert code == 1
    assert "rv: monitor lock does not allow event lock_acquire on state locked" in out
    code, out, _ = invoke(path, "--seed", "2", "--runs", "20", "--format", "json")
    doc = json.loads(out)
    schema = json.loads((ROOT / "docs" / "simulate.schema.json").read_text())
    jsonschema.validate(doc, schema)
    (m,) = doc["models"]
    locking = next(x for x in m["properties"] if x["id"] == "locking")
    assert (locking["status"], locking["mark"]) == ("violated", "unexpected")
    assert doc["exit_code"] == code == 1
