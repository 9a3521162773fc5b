"""Monitor properties: kernel RV automata (.dot, rvgen's dialect) checked against a model.

Each model here is small enough that its verdict, its shortest trace and its edge coverage
are derived by hand in the comments; the last section compares the product search with a
brute-force search over the model's runs, using automaton stepping written here.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies
from typer.testing import CliRunner

from conftest import write_model
from preemptcheck.checking.check import Options, check_paths
from preemptcheck.checking.results import EdgeCoverage, ModelResult, PropertyResult, Verdict
from preemptcheck.cli.main import app
from preemptcheck.core.errors import InputError
from preemptcheck.model import load_model
from preemptcheck.model.ir import Model, PropKind
from preemptcheck.semantics.reference import Reference
from preemptcheck.semantics.system import State, StepLabel
from preemptcheck.semantics.trace import ReplayError, Trace, replay

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "result.schema.json").read_text())


# ---------------------------------------------------------------- helpers


def automaton(initial: str, edges: Sequence[tuple[str, str, str]], *, others: str = "") -> str:
    """A .dot automaton as rvgen writes them: the `__init_` marker, one node per state (the
    initial one a doublecircle), one edge per line. An edge is (src, label, dst); a label
    may join events with a literal backslash-n and carry `;guard` or `;reset(clk)`."""
    states = list(dict.fromkeys([initial, *(s for e in edges for s in (e[0], e[2]))]))
    lines = [
        "digraph state_automaton {",
        f'\t{{node [shape = plaintext, style=invis, label=""] "__init_{initial}"}};',
        f'\t{{node [shape = doublecircle] "{initial}"}};',
        *(f'\t{{node [shape = circle] "{s}"}};' for s in states[1:]),
        f'\t"__init_{initial}" -> "{initial}";',
        *(f'\t"{src}" -> "{dst}" [ label = "{label}" ];' for src, label, dst in edges),
        others,
        "}",
    ]
    return "\n".join(line for line in lines if line) + "\n"


# rvgen's wip (Documentation/trace/rv/monitor_wip.rst): wakeups only with preemption off
WIP = automaton(
    "preemptive",
    [
        ("preemptive", "preempt_disable", "non_preemptive"),
        ("non_preemptive", "sched_waking", "non_preemptive"),
        ("non_preemptive", "preempt_enable", "preemptive"),
    ],
)
# an event `a` must be followed by `b` before the next `a`
PAIR = automaton("idle", [("idle", "a", "mid"), ("mid", "b", "idle")])
LOCK = automaton(
    "unlocked", [("unlocked", "lock_acquire", "locked"), ("locked", "lock_release", "unlocked")]
)
# a task sleeps, then is woken (a per-task automaton in the manner of wwnr)
SLEEPER = automaton(
    "running", [("running", "sched_sleep", "sleeping"), ("sleeping", "sched_wakeup", "running")]
)
# the hybrid opid (v7.1): wakeups need interrupts and preemption off, resched needs irqs off
OPID = automaton(
    "any",
    [
        ("any", "sched_need_resched;irq_off == 1", "any"),
        ("any", "sched_waking;irq_off == 1 && preempt_off == 1", "any"),
    ],
)


def write(tmp_path: Path, files: dict[str, str]) -> str:
    """Write a model (`m.yaml`, dedented) and its automata; returns the model's path."""
    for name, text in files.items():
        if name.endswith(".dot"):
            (tmp_path / name).write_text(text, encoding="utf-8")
        else:
            write_model(tmp_path, text, name)
    return str(tmp_path / "m.yaml")


def check(path: str, **options: Any) -> ModelResult:
    run = check_paths([path], Options(**options))
    (result,) = run.models
    assert isinstance(result, ModelResult), result
    return result


def prop(result: ModelResult, pid: str) -> PropertyResult:
    return next(p for p in result.properties if p.id == pid)


def verdicts(result: ModelResult) -> dict[str, tuple[str, int | None]]:
    """Each monitor property's verdict and trace length."""
    return {
        p.id: (p.verdict.value, p.trace.length if p.trace else None)
        for p in result.properties
        if p.kind == PropKind.MONITOR
    }


def diagnostics(path: str) -> list[tuple[str, str, int, int, str]]:
    """(code, file name, line, col, key path) of every diagnostic loading `path` gives."""
    with pytest.raises(InputError) as info:
        load_model(path)
    return [
        (d.code.value, Path(d.span.file).name, d.span.line, d.span.col, d.key_path)
        for d in info.value.diagnostics
    ]


def first_diagnostic(path: str) -> tuple[str, str, int, int, str]:
    return diagnostics(path)[0]


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def labels(p: PropertyResult) -> list[str]:
    assert p.trace is not None
    return [str(s) for s in p.trace.steps]


# ---------------------------------------------------------------- emission


def test_emissions_of_one_step_arrive_in_the_order_written(tmp_path: Path) -> None:
    model = """
        model: order
        vars:
          x: {type: bool}
        actions:
          both:
            do: {x: not x}
            emit: [a, b]
        properties:
          pair: {monitor: pair.dot}
    """
    # a then b: idle -> mid -> idle on every step; the product is the model's two states
    result = check(write(tmp_path, {"m.yaml": model, "pair.dot": PAIR}))
    p = prop(result, "pair")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "2 product states")
    assert p.edges == EdgeCoverage(2, 2, (), ())
    # b then a: b arrives first, in state idle, which has no b edge
    result = check(write(tmp_path, {"m.yaml": model.replace("[a, b]", "[b, a]")}))
    p = prop(result, "pair")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == "rv: monitor pair does not allow event b on state idle"
    assert labels(p) == ["both@cpu0"]
    assert p.trace is not None
    assert p.trace.monitor == (("cpu0: idle",), ("cpu0: idle",))


PRE_STATE = """
    model: pre
    vars:
      x: {type: int, range: [0, 2]}
    actions:
      inc:
        when: x < 2
        do: {x: x + 1}
        emit: [{event: a, if: x == 0}, {event: b, if: x == B}]
      reset:
        when: x == 2
        do: {x: 0}
        event: false
    properties:
      pair: {monitor: pair.dot}
"""


def test_an_emission_condition_is_read_in_the_pre_state(tmp_path: Path) -> None:
    # inc from 0 emits a (idle -> mid), inc from 1 emits b (mid -> idle), reset nothing:
    # three product states. Read after the step, inc from 0 would emit b in idle.
    path = write(tmp_path, {"m.yaml": PRE_STATE.replace("x == B", "x == 1"), "pair.dot": PAIR})
    p = prop(check(path), "pair")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "3 product states")
    assert p.edges == EdgeCoverage(2, 2, (), ())


def test_an_emission_whose_condition_never_holds_before_the_step_is_never_sent(
    tmp_path: Path,
) -> None:
    # b needs x == 2 before inc, which inc's guard excludes: b never comes. The only run:
    # inc (a: mid), inc (nothing), reset, inc (a again, in mid): violated at step 4.
    path = write(tmp_path, {"m.yaml": PRE_STATE.replace("x == B", "x == 2"), "pair.dot": PAIR})
    p = prop(check(path), "pair")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == "rv: monitor pair does not allow event a on state mid"
    assert labels(p) == ["inc@cpu0", "inc@cpu0", "reset@cpu0", "inc@cpu0"]
    assert p.trace is not None
    assert [m for (m,) in p.trace.monitor] == ["cpu0: idle"] + ["cpu0: mid"] * 4
    assert p.edges == EdgeCoverage(1, 2, ("mid -b-> idle",), ("b",))


PARITY = automaton("s0", [("s0", "even", "s1"), ("s1", "odd", "s0"), ("s1", "last", "s0")])
ATTRS = """
    model: attrs
    vars:
      x: {type: int, range: [0, 3]}
    actions:
      tick:
        do: {x: (x + 1) % 4}
        emit: [{event: sched_tick, n: x, wrap: x == 3}]
    properties:
      parity:
        monitor: parity.dot
        events:
          even: {on: sched_tick, if: n % 2 == 0}
          odd: {on: sched_tick, if: n % 2 == 1 and not wrap}
          last: {on: sched_tick, if: LAST}
"""


def test_attributes_are_evaluated_in_the_pre_state_and_read_by_the_table(
    tmp_path: Path,
) -> None:
    # ticks from x = 0, 1, 2, 3 deliver even, odd, even, last: s0 s1 s0 s1 s0, four product
    # states. Evaluated after the step, the first tick would carry n = 1: odd in s0.
    path = write(tmp_path, {"m.yaml": ATTRS.replace("LAST", "wrap"), "parity.dot": PARITY})
    p = prop(check(path), "parity")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "4 product states")
    assert p.edges == EdgeCoverage(3, 3, (), ())
    # `last` never fires: the tick from 3 delivers nothing (odd wants not wrap), and the
    # fifth tick (x = 0 again) delivers even in s1. The model is one cycle: 5 steps.
    path = write(tmp_path, {"m.yaml": ATTRS.replace("LAST", "wrap and n == 2")})
    p = prop(check(path), "parity")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == "rv: monitor parity does not allow event even on state s1"
    assert labels(p) == ["tick@cpu0"] * 5
    assert p.trace is not None
    assert [m for (m,) in p.trace.monitor] == [
        f"cpu0: {s}" for s in ["s0", "s1", "s0", "s1", "s1", "s1"]
    ]
    assert p.edges == EdgeCoverage(2, 3, ("s1 -last-> s0",), ("last",))


DEFAULT_EVENT = """
    model: default
    vars:
      pc: {type: int, range: [0, 1]}
    actions:
      preempt_disable:
        when: pc == 0
        do: {pc: 1}
      preempt_enable:
        when: pc == 1
        do: {pc: 0}
      sched_waking:
        do: {}
    properties:
      wip: {monitor: wip.dot}
"""


def test_an_action_emits_its_own_name_unless_event_false(tmp_path: Path) -> None:
    # sched_waking emits sched_waking: at once, in preemptive (the first state's third step)
    p = prop(check(write(tmp_path, {"m.yaml": DEFAULT_EVENT, "wip.dot": WIP})), "wip")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == "rv: monitor wip does not allow event sched_waking on state preemptive"
    assert labels(p) == ["sched_waking@cpu0"]
    # with event: false it emits nothing: the wakeup edge is never taken, and the event
    # never arrives (silent)
    quiet = DEFAULT_EVENT.replace("do: {}", "do: {}\n        event: false")
    p = prop(check(write(tmp_path, {"m.yaml": quiet})), "wip")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "2 product states")
    assert p.edges == EdgeCoverage(
        2, 3, ("non_preemptive -sched_waking-> non_preemptive",), ("sched_waking",)
    )
    # event: NAME renames it
    renamed = DEFAULT_EVENT.replace("do: {}", "do: {}\n        event: sched_wakeup")
    assert verdicts(check(write(tmp_path, {"m.yaml": renamed}))) == {"wip": ("holds", None)}


STEPS = """
    model: steps
    vars:
      pc: {type: int, range: [0, 1]}
    actions:
      section:
        steps:
          - do: {pc: 1}
            emit: [preempt_disable]
          - do: {pc: 0}
            emit: [preempt_enable]
      wake:
        irq: true
        when: pc == 1
        do: {}
        event: sched_waking
    properties:
      wip: {monitor: wip.dot}
"""


def test_emit_on_a_step_of_a_sequence(tmp_path: Path) -> None:
    # the interrupt's wakeup lands between the two steps, with preemption off
    p = prop(check(write(tmp_path, {"m.yaml": STEPS, "wip.dot": WIP})), "wip")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "2 product states")
    assert p.edges == EdgeCoverage(3, 3, (), ())
    # the second step forgets preempt_enable: the next section's first step disables again
    forgetful = STEPS.replace("emit: [preempt_enable]", "emit: []")
    p = prop(check(write(tmp_path, {"m.yaml": forgetful})), "wip")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == (
        "rv: monitor wip does not allow event preempt_disable on state non_preemptive"
    )
    assert labels(p) == ["section@cpu0 step 1/2", "section@cpu0 step 2/2", "section@cpu0 step 1/2"]
    assert p.edges == EdgeCoverage(
        2, 3, ("non_preemptive -preempt_enable-> preemptive",), ("preempt_enable",)
    )


EMIT_ERRORS = [
    (  # emit: belongs on the step of a steps: action
        """
        actions:
          a:
            steps:
              - do: {x: 1}
            emit: [foo]
        """,
        ("PC107", 8, 11, "actions.a.emit"),
    ),
    (  # event: and emit: together
        """
        actions:
          a:
            do: {x: 1}
            event: foo
            emit: [bar]
        """,
        ("PC107", 8, 11, "actions.a.emit"),
    ),
    (  # an attribute named like a variable would hide it where a table's `if` reads it
        """
        actions:
          a:
            do: {x: 1}
            emit: [{event: foo, x: 1}]
        """,
        ("PC108", 7, 25, "actions.a.emit[0].x"),
    ),
    (  # an entry is a name or a mapping
        """
        actions:
          a:
            do: {x: 1}
            emit: [3]
        """,
        ("PC102", 7, 12, "actions.a.emit[0]"),
    ),
    (
        """
        actions:
          a:
            do: {x: 1}
            emit: [{event: 3}]
        """,
        ("PC102", 7, 20, "actions.a.emit[0].event"),
    ),
    (
        """
        actions:
          a:
            do: {x: 1}
            emit: [{if: x == 0}]
        """,
        ("PC101", 7, 12, "actions.a.emit[0]"),
    ),
    (  # the condition is a boolean
        """
        actions:
          a:
            do: {x: 1}
            emit: [{event: foo, if: x + 1}]
        """,
        ("PC106", 7, 29, "actions.a.emit[0].if"),
    ),
    (  # an attribute is an expression
        """
        actions:
          a:
            do: {x: 1}
            emit: [{event: foo, n: [1]}]
        """,
        ("PC102", 7, 28, "actions.a.emit[0].n"),
    ),
    (
        """
        actions:
          a:
            do: {x: 1}
            event: true
        """,
        ("PC107", 7, 12, "actions.a.event"),
    ),
    (  # the same checks on a step
        """
        actions:
          a:
            steps:
              - do: {x: 1}
                emit: [{event: foo, x: 0}]
        """,
        ("PC108", 8, 29, "actions.a.steps[0].emit[0].x"),
    ),
]


@pytest.mark.parametrize(("actions", "want"), EMIT_ERRORS)
def test_emission_errors_are_located(
    tmp_path: Path, actions: str, want: tuple[str, int, int, str]
) -> None:
    head = "model: e\nvars:\n  x: {type: int, range: [0, 1]}\n"
    (tmp_path / "m.yaml").write_text(head + textwrap.dedent(actions).lstrip("\n"))
    code, line, col, key_path = want
    assert first_diagnostic(str(tmp_path / "m.yaml")) == (code, "m.yaml", line, col, key_path)


# ---------------------------------------------------------------- the event table

LOCKS = """
    model: locks
    vars:
      held: {type: bool}
    actions:
      spin_lock:
        when: not held
        do: {held: true}
        tags: [lock]
      mutex_lock:
        when: not held
        do: {held: true}
        tags: [lock]
      spin_unlock:
        when: held
        do: {held: false}
        event: false
      mutex_unlock:
        when: held
        do: {held: false}
        event: false
    properties:
      locking:
        monitor: lock.dot
        events:
          lock_acquire: tag:lock
          lock_release: [spin_unlock, mutex_unlock]
"""


def test_rows_select_actions_by_tag_and_by_name(tmp_path: Path) -> None:
    # the unlocks emit nothing: their rows name the actions (a step of either is a release)
    p = prop(check(write(tmp_path, {"m.yaml": LOCKS, "lock.dot": LOCK})), "locking")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "2 product states")
    assert p.edges == EdgeCoverage(2, 2, (), ())
    # a mutex_lock that does not wait: spin_lock, then mutex_lock in state locked
    racy = LOCKS.replace(
        "  mutex_lock:\n        when: not held\n", "  mutex_lock:\n        when: true\n"
    )
    assert racy != LOCKS
    p = prop(check(write(tmp_path, {"m.yaml": racy})), "locking")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == "rv: monitor lock does not allow event lock_acquire on state locked"
    assert labels(p) == ["spin_lock@cpu0", "mutex_lock@cpu0"]


def test_action_rows_deliver_after_the_steps_own_events(tmp_path: Path) -> None:
    model = """
        model: after
        vars:
          x: {type: bool}
        actions:
          step:
            do: {x: not x}
            emit: [b]
            tags: [t]
        properties:
          pair:
            monitor: pair.dot
            events: {a: tag:t}
    """
    # the step's own b first (idle has no b edge), then the tag row's a
    p = prop(check(write(tmp_path, {"m.yaml": model, "pair.dot": PAIR})), "pair")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == "rv: monitor pair does not allow event b on state idle"
    assert labels(p) == ["step@cpu0"]


NESTED = """
    model: nested
    vars:
      pc: {type: int, range: [0, 2]}
    actions:
      preempt_disable:
        when: pc < 2
        do: {pc: pc + 1}
        event: preempt_count_add
      preempt_enable:
        when: pc > 0
        do: {pc: pc - 1}
        event: preempt_count_sub
      wake:
        when: pc > 0
        do: {}
        event: sched_waking
    properties:
      wip:
        monitor: wip.dot
        events:
          preempt_disable: {on: preempt_count_add, if: pc == 0}
          preempt_enable: {on: preempt_count_sub, if: pc == ENABLE}
"""


def test_a_row_condition_reads_the_model_state_before_the_step(tmp_path: Path) -> None:
    # only the outermost disable and enable reach the monitor (as the kernel's wip does):
    # pc 0 preemptive, pc 1 and 2 non_preemptive, three product states. Read after the
    # step, the disable from 0 (pc == 1 after it) would not reach it and wake would fail.
    path = write(tmp_path, {"m.yaml": NESTED.replace("ENABLE", "1"), "wip.dot": WIP})
    p = prop(check(path), "wip")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "3 product states")
    assert p.edges == EdgeCoverage(3, 3, (), ())
    # the enable row fires on the wrong level: disable (0 -> 1, delivered), enable (1 -> 0,
    # not delivered), disable (0 -> 1, delivered in non_preemptive). Two steps do not fail.
    p = prop(check(write(tmp_path, {"m.yaml": NESTED.replace("ENABLE", "2")})), "wip")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == (
        "rv: monitor wip does not allow event preempt_disable on state non_preemptive"
    )
    assert labels(p) == ["preempt_disable@cpu0", "preempt_enable@cpu0", "preempt_disable@cpu0"]


SLEEPERS = """
    model: sleepers
    tasks: [A, B]
    vars:
      curr: {type: enum, of: tasks, index: cpus, init: A, role: current_task}
      asleep: {type: bool, index: tasks}
    actions:
      sleep:
        when: not asleep[curr]
        do:
          asleep[curr]: true
        event: sched_sleep
      switch:
        for: {t: tasks}
        when: asleep[curr] and not asleep[t]
        do: {curr: t}
        event: false
      wake:
        for: {t: tasks}
        when: asleep[t]
        do:
          asleep[t]: false
        emit: [{event: sched_wakeup, pid: t}]
    properties:
      sleeper:
        monitor: sleeper.dot
        per: task
"""


def test_per_task_instances_by_expression_and_by_the_current_task(tmp_path: Path) -> None:
    # task: pid sends each wakeup to the woken task: the monitor's state is `sleeping` iff
    # the task is asleep, so the product has the model's 8 states (curr x asleep[A] x
    # asleep[B], all reachable)
    table = SLEEPERS + "        events:\n          sched_wakeup: {on: sched_wakeup, task: pid}\n"
    p = prop(check(write(tmp_path, {"m.yaml": table, "sleeper.dot": SLEEPER})), "sleeper")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "8 product states")
    assert p.edges == EdgeCoverage(2, 2, (), ())
    # without the table every event goes to the current task: A sleeps, B runs, A's wakeup
    # reaches B (running). Two steps cannot do it: A's wakeup right away reaches A.
    p = prop(check(write(tmp_path, {"m.yaml": SLEEPERS})), "sleeper")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == (
        "rv: monitor sleeper does not allow event sched_wakeup on state running with task B"
    )
    assert labels(p) == ["sleep@cpu0", "switch@cpu0{t=B}", "wake@cpu0{t=A}"]
    assert p.trace is not None
    assert p.trace.monitor == (
        ("A: running", "B: running"),
        ("A: sleeping", "B: running"),
        ("A: sleeping", "B: running"),
        ("A: sleeping", "B: running"),
    )


MIGRATE = """
    model: migrate
    cpus: 2
    tasks: [A, B]
    vars:
      curr: {type: enum, of: tasks, index: cpus, init: [A, B], role: current_task}
      held: {type: bool, index: tasks}
    actions:
      lock:
        when: not held[curr]
        do:
          held[curr]: true
        event: lock_acquire
      unlock:
        when: held[curr]
        do:
          held[curr]: false
        event: lock_release
      migrate:
        on: 0
        do:
          curr[0]: curr[1]
          curr[1]: curr[0]
        event: false
    properties:
      per-task: {monitor: lock.dot, per: task}
      per-cpu: {monitor: lock.dot, per: cpu}
      global: {monitor: lock.dot, per: global}
"""


def test_a_per_task_monitor_follows_its_task_across_cpus(tmp_path: Path) -> None:
    result = check(write(tmp_path, {"m.yaml": MIGRATE, "lock.dot": LOCK}))
    # each task's instance is `locked` iff it holds its lock: the model's 8 states
    p = prop(result, "per-task")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "8 product states")
    # per CPU: A locks on cpu0, the tasks swap CPUs, B locks on cpu0 (cpu0's instance is
    # still locked by A). Breadth-first, the depth-2 nodes before it do not fail: (A and B
    # locked) unlocks and migrates; (A held, swapped) then locks on cpu0.
    p = prop(result, "per-cpu")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == (
        "rv: monitor lock does not allow event lock_acquire on state locked on cpu0"
    )
    assert labels(p) == ["lock@cpu0", "migrate@cpu0", "lock@cpu0"]
    assert p.trace is not None
    assert p.trace.monitor == (
        ("cpu0: unlocked", "cpu1: unlocked"),
        ("cpu0: locked", "cpu1: unlocked"),
        ("cpu0: locked", "cpu1: unlocked"),
        ("cpu0: locked", "cpu1: unlocked"),
    )
    # one global instance: two locks on two CPUs
    p = prop(result, "global")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == "rv: monitor lock does not allow event lock_acquire on state locked"
    assert labels(p) == ["lock@cpu0", "lock@cpu1"]
    assert p.trace is not None
    assert p.trace.monitor == (("global: unlocked",), ("global: locked",), ("global: locked",))


def test_a_cpu_expression_names_the_instance(tmp_path: Path) -> None:
    # a wakeup sent to the other CPU: `cpu: target` delivers it there (it is preemptible
    # unless its own section is open)
    model = """
        model: remote
        cpus: 2
        vars:
          pc: {type: int, range: [0, 1], index: cpus}
        actions:
          preempt_disable:
            when: pc == 0
            do: {pc: 1}
          preempt_enable:
            when: pc == 1
            do: {pc: 0}
          wake_remote:
            when: pc[1 - self] == 1
            do: {}
            emit: [{event: sched_waking, target: 1 - self}]
        properties:
          wip:
            monitor: wip.dot
            events:
              sched_waking: {on: sched_waking, cpu: CPU}
    """
    # to the target: it wakes only where preemption is off
    path = write(tmp_path, {"m.yaml": model.replace("CPU", "target"), "wip.dot": WIP})
    p = prop(check(path), "wip")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "4 product states")
    # to the sender (as without `cpu:`): cpu0 disables (the first step breadth-first),
    # cpu1 wakes it and its own instance, preemptive, receives the wakeup
    p = prop(check(write(tmp_path, {"m.yaml": model.replace("CPU", "self")})), "wip")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == (
        "rv: monitor wip does not allow event sched_waking on state preemptive on cpu1"
    )
    assert labels(p) == ["preempt_disable@cpu0", "wake_remote@cpu1"]


STARTS = """
    model: starts
    vars:
      pc: {type: int, range: [0, 1]}
    actions:
      preempt_disable:
        when: pc == 0
        do: {pc: 1}
      preempt_enable:
        when: pc == 1
        do: {pc: 0}
      wake:
        when: pc == 0
        do: {}
        event: sched_waking
    properties:
      wip:
        monitor: wip.dot
        events:
          preempt_disable: {on: preempt_disable, start: START}
"""
ALL_WIP = (
    "preemptive -preempt_disable-> non_preemptive",
    "non_preemptive -sched_waking-> non_preemptive",
    "non_preemptive -preempt_enable-> preemptive",
)


@pytest.mark.parametrize(
    ("start", "steps", "event", "shown", "taken"),
    [
        # no start row: monitoring from the first state, in preemptive; the wakeup fails
        ("false", ["wake"], "sched_waking", ["preemptive"] * 2, (0, 2)),
        # da_handle_start_event: the wakeup is ignored (not monitoring), the disable starts
        # the monitor in preemptive without being processed, so the enable fails
        (
            "true",
            ["preempt_disable", "preempt_enable"],
            "preempt_enable",
            ["-", "preemptive", "preemptive"],
            (),
        ),
        # da_handle_start_run_event: the disable starts and is processed; the enable returns
        # to preemptive and the wakeup there fails
        (
            "run",
            ["preempt_disable", "preempt_enable", "wake"],
            "sched_waking",
            ["-", "non_preemptive", "preemptive", "preemptive"],
            (0, 2),
        ),
    ],
)
def test_start_rows(
    tmp_path: Path,
    start: str,
    steps: list[str],
    event: str,
    shown: list[str],
    taken: tuple[int, ...],
) -> None:
    path = write(tmp_path, {"m.yaml": STARTS.replace("START", start), "wip.dot": WIP})
    p = prop(check(path), "wip")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == f"rv: monitor wip does not allow event {event} on state preemptive"
    assert labels(p) == [f"{s}@cpu0" for s in steps]
    assert p.trace is not None
    assert [m for (m,) in p.trace.monitor] == [f"cpu0: {s}" for s in shown]
    # every event arrives somewhere (even where it is ignored): nothing is silent
    untaken = tuple(e for i, e in enumerate(ALL_WIP) if i not in taken)
    assert p.edges == EdgeCoverage(len(taken), 3, untaken, ())


def _table_model(events: str, *, per: str = "", extra_actions: str = "") -> str:
    return (
        "model: table\n"
        "tasks: [A]\n"
        "vars:\n"
        "  pc: {type: int, range: [0, 1]}\n"
        "actions:\n"
        "  preempt_disable:\n"
        "    when: pc == 0\n"
        "    do: {pc: 1}\n"
        "    emit: [{event: preempt_disable, level: pc}]\n"
        "  preempt_enable:\n"
        "    when: pc == 1\n"
        "    do: {pc: 0}\n"
        "    tags: [enable]\n"
        f"{extra_actions}"
        "properties:\n"
        "  wip:\n"
        "    monitor: wip.dot\n"
        f"{per}"
        "    events:\n"
        f"{events}"
    )


TABLE_ERRORS = [
    # an automaton event the monitor does not have (line 18: the first row)
    pytest.param(
        "      preempt_disabel: preempt_disable\n",
        "",
        "",
        ("PC103", 18, 7, "properties.wip.events"),
        id="unknown-monitor-event",
    ),
    # a kernel event, action or tag nobody has
    pytest.param(
        "      preempt_disable: preempt_disabel\n",
        "",
        "",
        ("PC103", 18, 24, "properties.wip.events.preempt_disable.on"),
        id="unknown-kernel-event",
    ),
    pytest.param(
        "      preempt_enable: tag:enabel\n",
        "",
        "",
        ("PC103", 18, 23, "properties.wip.events.preempt_enable.on"),
        id="unknown-tag",
    ),
    # a row reads an attribute the event does not have
    pytest.param(
        "      preempt_disable: {on: preempt_disable, if: lvl == 0}\n",
        "",
        "",
        ("PC103", 18, 50, "properties.wip.events.preempt_disable.if"),
        id="unknown-attribute",
    ),
    # the instance key of another kind of monitor
    pytest.param(
        "      preempt_enable: {on: tag:enable, task: A}\n",
        "",
        "",
        ("PC100", 18, 40, "properties.wip.events.preempt_enable"),
        id="task-key-per-cpu",
    ),
    pytest.param(
        "      preempt_enable: {on: tag:enable, start: maybe}\n",
        "",
        "",
        ("PC107", 18, 47, "properties.wip.events.preempt_enable.start"),
        id="bad-start",
    ),
    pytest.param(
        "      preempt_enable: {if: pc == 1}\n",
        "",
        "",
        ("PC101", 18, 23, "properties.wip.events.preempt_enable"),
        id="row-without-on",
    ),
    pytest.param(
        "      preempt_enable: tag:enable\n",
        "    per: tsk\n",
        "",
        ("PC107", 17, 10, "properties.wip.per"),
        id="bad-per",
    ),
    # every emission of an event a row reads carries the same attributes: the second
    # emission of preempt_disable (line 16, in action other) lacks `level`
    pytest.param(
        "      preempt_disable: {on: preempt_disable, if: level == 0}\n",
        "",
        "  other:\n    do: {}\n    emit: [preempt_disable]\n",
        ("PC106", 16, 12, "actions.other"),
        id="attribute-missing-in-an-emission",
    ),
]


@pytest.mark.parametrize(("events", "per", "extra", "want"), TABLE_ERRORS)
def test_table_errors_are_located(
    tmp_path: Path, events: str, per: str, extra: str, want: tuple[str, int, int, str]
) -> None:
    text = _table_model(events, per=per, extra_actions=extra)
    path = write(tmp_path, {"m.yaml": text, "wip.dot": WIP})
    code, line, col, key_path = want
    assert first_diagnostic(path) == (code, "m.yaml", line, col, key_path)


def test_table_errors_suggest_the_name_meant(tmp_path: Path) -> None:
    text = _table_model("      preempt_disabel: preempt_disable\n")
    with pytest.raises(InputError) as info:
        load_model(write(tmp_path, {"m.yaml": text, "wip.dot": WIP}))
    (d,) = info.value.diagnostics
    assert d.message == (
        "events: 'preempt_disabel' is not an event of monitor wip "
        "(preempt_disable, preempt_enable, sched_waking)"
    )
    assert d.hint == "did you mean 'preempt_disable'?"
    text = _table_model("      preempt_disable: preempt_disabel\n")
    with pytest.raises(InputError) as info:
        load_model(write(tmp_path, {"m.yaml": text}))
    (d,) = info.value.diagnostics
    assert d.message == (
        "no step emits the kernel event 'preempt_disabel', and no action or tag has that name"
    )
    assert d.hint == "did you mean 'preempt_disable'?"


# ---------------------------------------------------------------- hybrid automata

OPID_MODEL = """
    model: opid
    vars:
      irqs: {type: bool}
      pc: {type: int, range: [0, 1]}
    actions:
      local_irq_disable:
        when: not irqs
        do: {irqs: true}
      local_irq_enable:
        when: irqs
        do: {irqs: false}
      preempt_disable:
        when: pc == 0
        do: {pc: 1}
      preempt_enable:
        when: pc == 1
        do: {pc: 0}
      wake:
        when: WAKE
        do: {}
        event: sched_waking
      resched:
        when: irqs
        do: {}
        event: sched_need_resched
    properties:
      opid:
        monitor: opid.dot
        bind:
          irq_off: irqs
          preempt_off: pc > 0
"""


def test_a_guard_that_holds_for_the_bound_values(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"m.yaml": OPID_MODEL.replace("WAKE", "irqs and pc == 1"), "opid.dot": OPID}
    )
    p = prop(check(path), "opid")
    # one automaton state: the product is the model's 4 states
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "4 product states")
    assert p.edges == EdgeCoverage(2, 2, (), ())


def test_a_false_guard_is_a_violation_with_the_bound_values(tmp_path: Path) -> None:
    # interrupts off, preemption on: the wakeup's guard is false (two steps, the first
    # state's first step then the second state's wake)
    path = write(tmp_path, {"m.yaml": OPID_MODEL.replace("WAKE", "irqs"), "opid.dot": OPID})
    p = prop(check(path), "opid")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == (
        "rv: monitor opid does not allow event sched_waking on state any "
        "(guard irq_off == 1 && preempt_off == 1 is false: irq_off = 1, preempt_off = 0)"
    )
    assert labels(p) == ["local_irq_disable@cpu0", "wake@cpu0"]
    # resched's guard held (irqs off): its edge is taken; the wakeup's, with preemption
    # off too, on the way to other states
    assert p.edges == EdgeCoverage(2, 2, (), ())


def test_an_unbound_guard_variable_is_located_in_the_automaton(tmp_path: Path) -> None:
    text = OPID_MODEL.replace("WAKE", "irqs").replace("      preempt_off: pc > 0\n", "")
    path = write(tmp_path, {"m.yaml": text, "opid.dot": OPID})
    # line 6 of opid.dot: `"any" -> "any" [ label = "sched_waking;irq_off == 1 && ..." ]`,
    # at the comparison that reads it
    assert diagnostics(path) == [("PC103", "opid.dot", 6, 57, "properties.opid.bind")]
    with pytest.raises(InputError) as info:
        load_model(path)
    assert info.value.diagnostics[0].message == (
        "monitor opid: the guard of any -sched_waking-> any reads 'preempt_off': bind it to "
        "a model expression in the property's bind:"
    )


def test_binding_a_name_no_guard_reads(tmp_path: Path) -> None:
    text = OPID_MODEL.replace("WAKE", "irqs") + "          preempt_of: pc\n"
    path = write(tmp_path, {"m.yaml": text, "opid.dot": OPID})
    assert diagnostics(path) == [("PC103", "m.yaml", 32, 7, "properties.opid.bind")]
    with pytest.raises(InputError) as info:
        load_model(path)
    assert info.value.diagnostics[0].message == "bind: no guard of monitor opid reads 'preempt_of'"


def test_a_bound_value_must_be_a_number_or_a_truth_value(tmp_path: Path) -> None:
    text = (
        OPID_MODEL.replace("WAKE", "irqs")
        .replace("irq_off: irqs", "irq_off: A")
        .replace("      pc:", "      who: {type: enum, values: [A, B]}\n      pc:")
    )
    path = write(tmp_path, {"m.yaml": text, "opid.dot": OPID})
    assert first_diagnostic(path) == ("PC106", "m.yaml", 31, 16, "properties.opid.bind.irq_off")


# ---------------------------------------------------------------- automata that cannot be used

TIMED_EDGE = automaton(
    "idle", [("idle", "enqueue;reset(clk)", "queued"), ("queued", "dequeue", "idle")]
)
TIMED_STATE = automaton(
    "idle",
    [("idle", "enqueue", "queued"), ("queued", "dequeue", "idle")],
    others='\t"queued" [label = "queued\\nclk < 10"];',
)
USES_QUEUE = """
    model: queue
    vars:
      q: {type: bool}
    actions:
      enqueue:
        when: not q
        do: {q: true}
      dequeue:
        when: q
        do: {q: false}
    properties:
      stalls:
        monitor: MONITOR
"""


def test_timed_automata_are_refused(tmp_path: Path) -> None:
    text = USES_QUEUE.replace("MONITOR", "edge.dot")
    path = write(tmp_path, {"m.yaml": text, "edge.dot": TIMED_EDGE})
    # line 6: `"idle" -> "queued" [ label = "enqueue;reset(clk)" ];`, the event's column
    assert diagnostics(path) == [("PC113", "edge.dot", 6, 32, "properties.stalls.monitor")]
    text = USES_QUEUE.replace("MONITOR", "state.dot")
    path = write(tmp_path, {"m.yaml": text, "state.dot": TIMED_STATE})
    with pytest.raises(InputError) as info:
        load_model(path)
    (d,) = info.value.diagnostics
    assert (d.code.value, Path(d.span.file).name, d.span.line) == ("PC113", "state.dot", 8)
    assert d.message == (
        "monitor state is a timed automaton: state queued has the clock invariant 'clk < 10', "
        "and models have no time; it cannot be checked"
    )


def test_a_missing_automaton_is_located_at_the_monitor_value(tmp_path: Path) -> None:
    path = write(tmp_path, {"m.yaml": USES_QUEUE.replace("MONITOR", "nowhere.dot")})
    assert diagnostics(path) == [("PC001", "m.yaml", 13, 14, "properties.stalls.monitor")]


def test_a_malformed_automaton_is_reported_by_the_loader(tmp_path: Path) -> None:
    bad = PAIR.replace("digraph state_automaton", "digraph pair")
    path = write(tmp_path, {"m.yaml": USES_QUEUE.replace("MONITOR", "bad.dot"), "bad.dot": bad})
    with pytest.raises(InputError) as info:
        load_model(path)
    (d,) = info.value.diagnostics
    assert (d.code.value, Path(d.span.file).name, d.span.line, d.span.col) == (
        "PC114",
        "bad.dot",
        1,
        9,
    )
    # an edge to a state never declared
    bad = PAIR.replace('"mid" -> "idle"', '"mid" -> "idel"')
    (tmp_path / "bad.dot").write_text(bad)
    with pytest.raises(InputError) as info:
        load_model(path)
    (d,) = info.value.diagnostics
    assert (d.code.value, d.span.line, d.hint) == ("PC114", 7, "did you mean 'idle'?")


# ---------------------------------------------------------------- instances the model cannot name


def test_per_task_needs_tasks_located_at_per(tmp_path: Path) -> None:
    model = """
        model: notasks
        vars:
          held: {type: bool}
        actions:
          lock_acquire:
            when: not held
            do: {held: true}
          lock_release:
            when: held
            do: {held: false}
        properties:
          locking:
            monitor: lock.dot
            per: task
    """
    path = write(tmp_path, {"m.yaml": model, "lock.dot": LOCK})
    assert diagnostics(path) == [("PC107", "m.yaml", 14, 10, "properties.locking.per")]
    # also when a row names its task (the row's task: has no domain to be read in)
    table = model.rstrip() + "\n            events: {lock_acquire: {on: lock_acquire, task: A}}\n"
    path = write(tmp_path, {"m.yaml": table})
    assert diagnostics(path) == [("PC107", "m.yaml", 14, 10, "properties.locking.per")]


def test_the_current_task_may_be_one_variable_for_the_one_cpu(tmp_path: Path) -> None:
    # `curr` without `index: cpus`: the same verdicts as with it
    scalar = SLEEPERS.replace("index: cpus, init: A", "init: A")
    assert scalar != SLEEPERS
    p = prop(check(write(tmp_path, {"m.yaml": scalar, "sleeper.dot": SLEEPER})), "sleeper")
    assert p.verdict == Verdict.VIOLATED
    assert labels(p) == ["sleep@cpu0", "switch@cpu0{t=B}", "wake@cpu0{t=A}"]
    assert p.reason == (
        "rv: monitor sleeper does not allow event sched_wakeup on state running with task B"
    )


def test_per_task_without_a_current_task_is_unknown_where_a_row_needs_it(
    tmp_path: Path,
) -> None:
    model = SLEEPERS.replace(", role: current_task", "")
    # every row names its task: no current task needed (sched_sleep's task is curr)
    table = model + (
        "        events:\n"
        "          sched_wakeup: {on: sched_wakeup, task: pid}\n"
        "          sched_sleep: {on: sched_sleep, task: curr}\n"
    )
    p = prop(check(write(tmp_path, {"m.yaml": table, "sleeper.dot": SLEEPER})), "sleeper")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "8 product states")
    # sched_sleep's row (the default) would go to the current task, which nothing names
    p = prop(check(write(tmp_path, {"m.yaml": model})), "sleeper")
    assert p.verdict == Verdict.UNKNOWN
    assert p.reason == (
        "cannot be evaluated: monitor sleeper is per task, and the row for sched_sleep has no "
        "task: (the current task), but no variable has role current_task"
    )
    # a current_task over other values than the tasks, or not one per CPU
    model = """
        model: contexts
        tasks: [A]
        vars:
          ctx: {type: enum, values: [irq, thread], init: irq, role: current_task}
          held: {type: bool}
        actions:
          lock_acquire:
            when: not held
            do: {held: true}
          lock_release:
            when: held
            do: {held: false}
        properties:
          locking: {monitor: lock.dot, per: task}
    """
    p = prop(check(write(tmp_path, {"m.yaml": model, "lock.dot": LOCK})), "locking")
    assert (p.verdict, p.trace) == (Verdict.UNKNOWN, None)
    assert p.reason == (
        "cannot be evaluated: monitor lock is per task: the row for lock_acquire names "
        "'irq' (the current task), which is not a task"
    )
    by_task = model.replace("values: [irq, thread], init: irq", "of: tasks, index: tasks")
    p = prop(check(write(tmp_path, {"m.yaml": by_task})), "locking")
    assert p.verdict == Verdict.UNKNOWN
    assert p.reason == (
        "cannot be evaluated: monitor lock is per task, and the row for lock_acquire has no "
        "task: (the current task), but ctx is indexed by tasks, not by cpus"
    )


@pytest.mark.parametrize(("cpu", "named"), [("self + 1", 2), ("self - 1", -1)])
def test_a_cpu_expression_outside_the_cpus_is_unknown(tmp_path: Path, cpu: str, named: int) -> None:
    model = """
        model: remote
        cpus: 2
        vars:
          pc: {type: int, range: [0, 1], index: cpus}
        actions:
          preempt_disable:
            when: pc == 0
            do: {pc: 1}
          preempt_enable:
            when: pc == 1
            do: {pc: 0}
        properties:
          wip:
            monitor: wip.dot
            events:
              preempt_disable: {on: preempt_disable, cpu: CPU}
    """
    path = write(tmp_path, {"m.yaml": model.replace("CPU", cpu), "wip.dot": WIP})
    p = prop(check(path), "wip")
    # never a silent wrap-around to the last CPU (Python's index -1)
    assert p.verdict == Verdict.UNKNOWN
    assert p.reason == (
        f"cannot be evaluated: monitor wip is per cpu: the row for preempt_disable names "
        f"CPU {named}, and the model has CPUs 0..1"
    )


# ---------------------------------------------------------------- checking: replay, reports


def _migrate_violation(tmp_path: Path) -> tuple[ModelResult, Any, Trace]:
    result = check(write(tmp_path, {"m.yaml": MIGRATE, "lock.dot": LOCK}))
    ir = next(q for q in result.model.properties if q.id == "per-cpu")
    trace = prop(result, "per-cpu").trace
    assert trace is not None
    return result, ir, trace


def test_replay_accepts_the_trace_and_catches_every_tampering(tmp_path: Path) -> None:
    result, ir, trace = _migrate_violation(tmp_path)
    model = result.model
    replay(model, ir, trace)  # what judge_monitors did before reporting it
    # the same run judged as another property: per task, it never fails
    per_task = next(q for q in model.properties if q.id == "per-task")
    with pytest.raises(ReplayError, match="per-task: the monitor allows every step on replay"):
        replay(model, per_task, trace)
    # cut short: the violating step is gone
    cut = dataclasses.replace(
        trace, states=trace.states[:-1], steps=trace.steps[:-1], monitor=trace.monitor[:-1]
    )
    with pytest.raises(ReplayError, match="the monitor allows every step on replay"):
        replay(model, ir, cut)
    # another message than the monitor's reaction
    worded = dataclasses.replace(trace, message="rv: monitor lock does not allow event x")
    with pytest.raises(ReplayError, match=r"step 3 \(lock@cpu0\) violates it on replay"):
        replay(model, ir, worded)
    # a monitor column that is not what the instances went through
    for k in range(len(trace.monitor)):
        shown = list(trace.monitor)
        shown[k] = ("cpu0: unlocked", "cpu1: locked")
        wrong = dataclasses.replace(trace, monitor=tuple(shown))
        with pytest.raises(ReplayError, match="per-cpu: the monitor states differ on replay"):
            replay(model, ir, wrong)
    # a step of another CPU, and a state the step does not lead to
    other = dataclasses.replace(trace.steps[1], action="lock", cpu=1)
    steps = (trace.steps[0], other, trace.steps[2])
    with pytest.raises(ReplayError, match=r"step 2 \(lock@cpu1\) is not a step of the run"):
        replay(model, ir, dataclasses.replace(trace, steps=steps))
    states = (*trace.states[:2], trace.states[0], trace.states[3])
    with pytest.raises(ReplayError, match=r"step 2 \(migrate@cpu0\) is not a step of the run"):
        replay(model, ir, dataclasses.replace(trace, states=states))


def test_text_report_shows_the_reaction_and_the_monitor_column(tmp_path: Path) -> None:
    code, out = run_cli("verify", write(tmp_path, {"m.yaml": MIGRATE, "lock.dot": LOCK}))
    assert code == 1
    lines = [line.rstrip() for line in out.splitlines()]
    i = lines.index("  FAIL  per-cpu    violated (3 steps; edges taken 2/2), expected holds")
    assert lines[i + 1 : i + 9] == [
        "        rv: monitor lock does not allow event lock_acquire on state locked on cpu0",
        "        step  cpu  action         monitor                         changes",
        "           0       initial state  cpu0: unlocked, cpu1: unlocked  curr[0]=A, curr[1]=B, "
        "held[A]=false,",
        "                                                                  held[B]=false",
        "           1  0    lock           cpu0: locked, cpu1: unlocked    held[A]=true",
        "           2  0    migrate        cpu0: locked, cpu1: unlocked    curr[0]=B, curr[1]=A",
        "           3  0    lock           cpu0: locked, cpu1: unlocked    held[B]=true",
        "        step 3 (lock@cpu0): rv: monitor lock does not allow event lock_acquire on "
        "state locked on cpu0",
    ]
    assert "  ok    per-task   holds (exhaustive; edges taken 2/2)" in lines


def test_untaken_edges_of_a_monitor_that_holds_warn_and_fail_strict(tmp_path: Path) -> None:
    quiet = DEFAULT_EVENT.replace("do: {}", "do: {}\n        event: false")
    path = write(tmp_path, {"m.yaml": quiet, "wip.dot": WIP})
    result = check(path)
    warning = (
        "monitor property wip: 1 of 3 edges of wip are never taken "
        "(non_preemptive -sched_waking-> non_preemptive): the model does not exercise them"
    )
    assert result.warnings == (warning,)
    code, out = run_cli("verify", path)
    assert code == 0
    assert f"  warning: {warning}" in out.splitlines()
    assert "  ok    wip        holds (exhaustive; edges taken 2/3)" in out.splitlines()
    assert run_cli("verify", path, "--strict")[0] == 1
    # a violated monitor's coverage: the wakeup fails in preemptive (the first state), but
    # is taken as a self-loop in non_preemptive; no warning either way
    result = check(write(tmp_path, {"m.yaml": DEFAULT_EVENT}))
    assert result.warnings == ()
    assert prop(result, "wip").edges == EdgeCoverage(3, 3, (), ())


def test_untaken_edges_explained_by_the_property_are_no_warning(tmp_path: Path) -> None:
    quiet = DEFAULT_EVENT.replace("do: {}", "do: {}\n        event: false")
    why = "wakeups are not modelled"
    for key in ("non_preemptive -sched_waking-> non_preemptive", "sched_waking"):
        text = quiet.replace(
            "wip: {monitor: wip.dot}",
            f"wip:\n        monitor: wip.dot\n        untaken: {{'{key}': {why}}}",
        )
        path = write(tmp_path, {"m.yaml": text, "wip.dot": WIP})
        result = check(path)
        assert result.warnings == ()
        assert prop(result, "wip").edges == EdgeCoverage(
            2, 3, (ALL_WIP[1],), ("sched_waking",), ((ALL_WIP[1], why),)
        )
        assert run_cli("verify", path, "--strict")[0] == 0
        doc = json.loads(run_cli("verify", path, "--format", "json")[1])
        jsonschema.validate(doc, SCHEMA)
        (wip,) = [p for p in doc["models"][0]["properties"] if p["id"] == "wip"]
        assert wip["edges"]["reasons"] == {ALL_WIP[1]: why}
    # an edge that is not the automaton's
    text = quiet.replace(
        "wip: {monitor: wip.dot}",
        "wip:\n        monitor: wip.dot\n        untaken: {'preemptive -sched_waking-> x': no}",
    )
    path = write(tmp_path, {"m.yaml": text})
    assert diagnostics(path) == [("PC103", "m.yaml", 17, 15, "properties.wip.untaken")]


def test_a_product_over_the_limit_or_a_failing_model_leaves_the_monitor_unknown(
    tmp_path: Path,
) -> None:
    model = """
        model: cycle
        vars:
          x: {type: int, range: [0, 2]}
        actions:
          inc:
            do: {x: NEXT}
            emit: [a]
        properties:
          toggle: {monitor: toggle.dot}
    """
    toggle = automaton("idle", [("idle", "a", "mid"), ("mid", "a", "idle")])
    path = write(tmp_path, {"m.yaml": model.replace("NEXT", "(x + 1) % 3"), "toggle.dot": toggle})
    # a cycle of 3 states and one of 2: the product has 6 states (the graph 3)
    assert prop(check(path), "toggle").reason == "6 product states"
    p = prop(check(path, max_states=6), "toggle")
    assert (p.verdict, p.reason) == (Verdict.HOLDS, "6 product states")
    p = prop(check(path, max_states=5), "toggle")
    assert (p.verdict, p.reason, p.edges) == (
        Verdict.UNKNOWN,
        "state limit reached (5 product states)",
        None,
    )
    # the third inc leaves the range: the monitor is not judged on a model that fails
    result = check(write(tmp_path, {"m.yaml": model.replace("NEXT", "x + 1")}))
    assert prop(result, "range").verdict == Verdict.VIOLATED
    p = prop(result, "toggle")
    assert (p.verdict, p.reason) == (
        Verdict.UNKNOWN,
        "not checked: some steps of the model fail (see the range property)",
    )


def test_coverage_of_a_violating_step_stops_at_the_violation(tmp_path: Path) -> None:
    # cpu1's step sends x to itself, y to cpu0, then z to itself. In order: x takes
    # s0 -x-> s1 on cpu1, y has no edge on cpu0 (the violation), and z never arrives.
    model = """
        model: interleaved
        cpus: 2
        vars:
          done: {type: bool}
        actions:
          step:
            on: 1
            when: not done
            do: {done: true}
            emit: [x, y, z]
        properties:
          mon:
            monitor: xyz.dot
            events:
              y: {on: y, cpu: 0}
    """
    xyz = automaton("s0", [("s0", "x", "s1"), ("s1", "z", "s0"), ("s1", "y", "s1")])
    p = prop(check(write(tmp_path, {"m.yaml": model, "xyz.dot": xyz})), "mon")
    assert p.verdict == Verdict.VIOLATED
    assert p.reason == "rv: monitor xyz does not allow event y on state s0 on cpu0"
    assert labels(p) == ["step@cpu1"]
    assert p.edges == EdgeCoverage(1, 3, ("s1 -z-> s0", "s1 -y-> s1"), ("z",))


def test_the_symbolic_engine_leaves_monitors_to_the_explicit_graph(tmp_path: Path) -> None:
    path = write(tmp_path, {"m.yaml": STARTS.replace("START", "run"), "wip.dot": WIP})
    explicit = check(path)
    symbolic = check(path, engine="symbolic")
    assert symbolic.engine != explicit.engine
    assert "monitor properties are decided on the explicit state graph" in symbolic.notes
    p, q = prop(explicit, "wip"), prop(symbolic, "wip")
    assert (q.verdict, q.reason, q.edges) == (p.verdict, p.reason, p.edges)
    assert q.trace == p.trace
    assert labels(q) == ["preempt_disable@cpu0", "preempt_enable@cpu0", "wake@cpu0"]
    code, out = run_cli("verify", path, "--engine", "symbolic")
    assert code == 1
    assert "  note: monitor properties are decided on the explicit state graph" in out


def test_json_output_has_edges_and_the_monitor_column(tmp_path: Path) -> None:
    path = write(tmp_path, {"m.yaml": MIGRATE, "lock.dot": LOCK})
    code, out = run_cli("verify", path, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    props = {p["id"]: p for p in doc["models"][0]["properties"]}
    assert props["per-task"]["kind"] == "monitor"
    assert props["per-task"]["edges"] == {
        "taken": 2,
        "total": 2,
        "untaken": [],
        "silent": [],
        "reasons": {},
    }
    assert props["per-task"]["trace"] is None
    assert props["range"]["edges"] is None
    trace = props["per-cpu"]["trace"]
    assert trace["length"] == 3
    assert trace["message"] == (
        "rv: monitor lock does not allow event lock_acquire on state locked on cpu0"
    )
    assert trace["monitor"] == [
        {"cpu0": "unlocked", "cpu1": "unlocked"},
        {"cpu0": "locked", "cpu1": "unlocked"},
        {"cpu0": "locked", "cpu1": "unlocked"},
        {"cpu0": "locked", "cpu1": "unlocked"},
    ]
    assert [s["action"] for s in trace["steps"]] == ["lock", "migrate", "lock"]
    assert props["global"]["trace"]["monitor"] == [
        {"global": "unlocked"},
        {"global": "locked"},
        {"global": "locked"},
    ]
    # a start row's instance before it starts, and an untaken edge with a silent event
    path = write(tmp_path, {"m.yaml": STARTS.replace("START", "true"), "wip.dot": WIP})
    doc = json.loads(run_cli("verify", path, "--format", "json")[1])
    jsonschema.validate(doc, SCHEMA)
    (wip,) = [p for p in doc["models"][0]["properties"] if p["id"] == "wip"]
    assert wip["trace"]["monitor"] == [
        {"cpu0": "-"},
        {"cpu0": "preemptive"},
        {"cpu0": "preemptive"},
    ]
    assert wip["edges"] == {
        "taken": 0,
        "total": 3,
        "untaken": list(ALL_WIP),
        "silent": [],
        "reasons": {},
    }


def test_the_results_cache_keys_on_the_automaton_text(tmp_path: Path) -> None:
    path = write(tmp_path, {"m.yaml": DEFAULT_EVENT, "wip.dot": WIP})
    cache = str(tmp_path / "cache")
    first = check(path, cache_dir=cache)
    assert not first.cached
    assert verdicts(first) == {"wip": ("violated", 1)}
    again = check(path, cache_dir=cache)
    assert again.cached
    assert again == first
    assert prop(again, "wip").trace == prop(first, "wip").trace
    # the wakeup allowed while preemptive too: the model's files are unchanged, the verdict
    # changes
    lenient = WIP.replace("}\n", '\t"preemptive" -> "preemptive" [ label = "sched_waking" ];\n}\n')
    (tmp_path / "wip.dot").write_text(lenient)
    changed = check(path, cache_dir=cache)
    assert not changed.cached
    assert verdicts(changed) == {"wip": ("holds", None)}
    assert prop(changed, "wip").edges == EdgeCoverage(4, 4, (), ())
    # and back: the first entry again
    (tmp_path / "wip.dot").write_text(WIP)
    back = check(path, cache_dir=cache)
    assert back.cached
    assert verdicts(back) == {"wip": ("violated", 1)}


# ---------------------------------------------------------------- an independent oracle
#
# Random small models with emissions, a random automaton (guards on `g`, bound to x) and a
# random table, written as YAML and .dot, and also kept as Python functions: the oracle
# below reads the table and the automaton from those, never from the loaded property.
# Runs of the model are followed step by step on the reference semantics through the
# automaton stepping written here, twice:
# * every run, one by one, up to the length where there are more than RUNS of them: no run
#   violates before the product's shortest trace, and, when that length is reached, runs
#   of that length violate with the same reactions;
# * runs kept as the set of configurations (model state, every instance's automaton state)
#   they end in at each length, a run's future depending only on that: when a length adds
#   no configuration, every run has been seen, and the verdict, the shortest violation,
#   the number of configurations (the product's states) and the edges taken are exact.

Fn = Any  # (values, cpu[, attribute]) -> value, as written in the YAML

CONDS: list[tuple[str, Fn]] = [
    ("x == 0", lambda s, c: s["x"] == 0),
    ("x > 0", lambda s, c: s["x"] > 0),
    ("x < 2", lambda s, c: s["x"] < 2),
    ("f", lambda s, c: s["f"][c]),
    ("not f", lambda s, c: not s["f"][c]),
    ("x == 1 or f", lambda s, c: s["x"] == 1 or s["f"][c]),
]
ROW_CONDS: list[tuple[str, Fn]] = [
    ("v == 0", lambda s, c, v: v == 0),
    ("v > 0", lambda s, c, v: v > 0),
    ("v != x", lambda s, c, v: v != s["x"]),
    ("f and v < 2", lambda s, c, v: s["f"][c] and v < 2),
]
ATTR_EXPRS: list[tuple[str, Fn]] = [
    ("x", lambda s, c: s["x"]),
    ("(x + 1) % 3", lambda s, c: (s["x"] + 1) % 3),
]
UPDATES = [
    {"x": "(x + 1) % 3"},
    {"x": "0"},
    {"f": "not f"},
    {"x": "x + 1 if x < 2 else x", "f": "not f"},
    {"x": "2 - x"},
    {},
]
GUARDS: list[tuple[str, Fn]] = [
    ("g == 1", lambda g: g == 1),
    ("g < 2", lambda g: g < 2),
    ("g != 0", lambda g: g != 0),
]
EVENTS = ("a", "b", "c")
RUNS = 5_000


@dataclasses.dataclass
class Row:
    event: str  # the automaton's
    kind: str  # "kernel" or "actions"
    source: str  # the kernel event, or the selector as written
    selected: tuple[str, ...] = ()
    cond: tuple[str, Fn] | None = None
    start: str = ""  # "", "start", "run"
    instance: tuple[str, Fn] | None = None
    default: bool = False  # not written: the automaton event's own kernel event


@dataclasses.dataclass
class Spec:
    cpus: int
    per: str
    actions: dict[str, list[list[tuple[str, tuple[str, Fn] | None, tuple[str, Fn]]]]]
    yaml_actions: dict[str, Any]
    tags: dict[str, tuple[str, ...]]
    states: list[str]
    edges: dict[tuple[str, str], tuple[str, tuple[str, Fn] | None]]
    table: list[Row]  # as written, then the automaton's other events by name

    @property
    def instances(self) -> tuple[str, ...]:
        if self.per == "cpu":
            return tuple(f"cpu{c}" for c in range(self.cpus))
        return ("A", "B") if self.per == "task" else ("global",)


def random_spec(r: Any, *, mixed: bool = False) -> Spec:
    """A random spec; `mixed`: two instances, and steps whose events go to both (the
    table's cpu: and task: rows), so that one step's deliveries interleave instances."""
    cpus = 2 if mixed else r.choice([1, 1, 2])
    per = r.choice(["cpu", "task"] if mixed else ["cpu", "cpu", "global", "task"])
    actions: dict[str, Any] = {}
    yaml_actions: dict[str, Any] = {}
    tags: dict[str, tuple[str, ...]] = {}
    for i in range(r.randint(2, 3)):
        name = f"act{i}"
        nsteps = 2 if r.random() < 0.25 else 1
        steps, ysteps = [], []
        for _ in range(nsteps):
            emits, yemits = [], []
            for _ in range(r.choice([2, 3] if mixed else [0, 1, 1, 2, 3])):
                event = r.choice([*EVENTS, "d"])
                cond = r.choice(CONDS) if r.random() < 0.4 else None
                attr = r.choice(ATTR_EXPRS)
                emits.append((event, cond, attr))
                yemits.append({"event": event, **({"if": cond[0]} if cond else {}), "v": attr[0]})
            steps.append(emits)
            ysteps.append({"do": dict(r.choice(UPDATES)), "emit": yemits})
        entry: dict[str, Any] = {}
        if r.random() < 0.5:
            entry["when"] = r.choice(CONDS)[0]
        if nsteps == 1:
            entry.update(ysteps[0])
        else:
            entry["steps"] = ysteps
            entry["event"] = False
        if r.random() < 0.4:
            entry["tags"] = ["t"]
            tags[name] = ("t",)
        actions[name] = steps
        yaml_actions[name] = entry
    if per == "task":  # the other task comes on this CPU
        actions["switch"] = [[]]
        yaml_actions["switch"] = {"do": {"curr": "B if curr == A else A"}, "event": False}
    states = [f"s{i}" for i in range(r.choice([3, 4] if mixed else [2, 3]))]
    edges: dict[tuple[str, str], Any] = {}
    for src in states:
        for event in EVENTS:
            if r.random() < (0.75 if mixed else 0.6):
                guard = r.choice(GUARDS) if r.random() < 0.2 else None
                edges[src, event] = (r.choice(states), guard)
    if not edges:
        edges[states[0], "a"] = (states[-1], None)
    kernel = sorted({e for steps in actions.values() for s in steps for e, _, _ in s})
    names = sorted(actions)
    table: list[Row] = []
    written: set[str] = set()
    auto_events = sorted({e for _, e in edges})
    for event in r.sample(auto_events, len(auto_events)):
        if r.random() < 0.5:
            continue
        for _ in range(r.choice([1, 1, 2])):
            pick = r.random()
            if pick < 0.6 and kernel:
                row = Row(event, "kernel", r.choice(kernel))
                if r.random() < 0.4:
                    row.cond = r.choice(ROW_CONDS)
            elif pick < 0.8 and tags:
                row = Row(event, "actions", "tag:t", tuple(n for n in names if n in tags))
            else:
                picked = r.choice(names)
                if picked in kernel:
                    continue
                row = Row(event, "actions", picked, (picked,))
            row.start = r.choice(["", "", "", "start", "run"])
            mix = 0.7 if mixed else 0.4
            if per == "cpu" and cpus == 2 and r.random() < mix:
                row.instance = r.choice([("0", lambda s, c: 0), ("self", lambda s, c: c)])
            if per == "task" and r.random() < mix:
                row.instance = ("B", lambda s, c: "B")
            table.append(row)
            written.add(event)
    for event in auto_events:
        if event not in written:
            table.append(Row(event, "kernel", event, default=True))
    return Spec(cpus, per, actions, yaml_actions, tags, states, edges, table)


def spec_files(spec: Spec) -> dict[str, str]:
    model: dict[str, Any] = {"model": "random", "cpus": spec.cpus}
    variables: dict[str, Any] = {
        "x": {"type": "int", "range": [0, 2]},
        "f": {"type": "bool", "index": "cpus"},
    }
    if spec.per == "task":
        model["tasks"] = ["A", "B"]
        init = "A" if spec.cpus == 1 else ["A", "B"]
        variables["curr"] = {
            "type": "enum",
            "of": "tasks",
            "index": "cpus",
            "init": init,
            "role": "current_task",
        }
    model["vars"] = variables
    model["actions"] = spec.yaml_actions
    events: dict[str, list[dict[str, Any]]] = {}
    for row in spec.table:
        if row.default:
            continue
        entry: dict[str, Any] = {"on": row.source}
        if row.cond:
            entry["if"] = row.cond[0]
        if row.start:
            entry["start"] = True if row.start == "start" else "run"
        if row.instance:
            entry["cpu" if spec.per == "cpu" else "task"] = row.instance[0]
        events.setdefault(row.event, []).append(entry)
    monitor: dict[str, Any] = {"monitor": "random.dot", "per": spec.per}
    if events:
        monitor["events"] = events
    if any(guard for _, guard in spec.edges.values()):
        monitor["bind"] = {"g": "x"}
    model["properties"] = {"mon": monitor}
    dot = automaton(
        spec.states[0],
        [
            (src, event + (f";{guard[0]}" if guard else ""), dst)
            for (src, event), (dst, guard) in spec.edges.items()
        ],
    )
    return {"m.yaml": yaml.safe_dump(model, sort_keys=False), "random.dot": dot}


Config = tuple[State, tuple[str | None, ...]]  # None: not monitoring yet


class Oracle:
    """Every run of a spec's model through the spec's automaton and table."""

    def __init__(self, spec: Spec, model: Model) -> None:
        self.spec = spec
        self.ref = Reference(model)
        self.names = [v.name for v in model.vars]
        self.starts = any(row.start for row in spec.table)
        self.outcomes: dict[State, list[Any]] = {}

    def values(self, st: State) -> dict[str, Any]:
        return dict(zip(self.names, st.values, strict=True))

    def successors(self, st: State) -> list[Any]:
        if st not in self.outcomes:
            self.outcomes[st] = [o for o in self.ref.outcomes(st) if o.next is not None]
        return self.outcomes[st]

    def events(self, st: State, label: StepLabel) -> Iterator[tuple[int, str, str, int]]:
        """(instance, automaton event, start, g) in the order the monitor receives them."""
        s, cpu = self.values(st), label.cpu
        for event, cond, attr in self.spec.actions[label.action][label.step]:
            if cond is None or cond[1](s, cpu):
                v = attr[1](s, cpu)
                for row in self.spec.table:
                    mine = row.kind == "kernel" and row.source == event
                    if mine and (row.cond is None or row.cond[1](s, cpu, v)):
                        yield self.instance(row, s, cpu), row.event, row.start, s["x"]
        for row in self.spec.table:
            if row.kind == "actions" and label.action in row.selected:
                yield self.instance(row, s, cpu), row.event, row.start, s["x"]

    def instance(self, row: Row, s: dict[str, Any], cpu: int) -> int:
        if self.spec.per == "global":
            return 0
        if row.instance is not None:
            who = row.instance[1](s, cpu)
        else:
            who = cpu if self.spec.per == "cpu" else s["curr"][cpu]
        return self.spec.instances.index(who if self.spec.per == "task" else f"cpu{who}")

    def step(
        self, cfg: tuple[str | None, ...], st: State, label: StepLabel
    ) -> tuple[tuple[str | None, ...], list[tuple[str, str]], set[str], str | None]:
        """The instances after the step, the edges taken, the events delivered, and the
        kernel's reaction when the step violates the automaton."""
        spec = self.spec
        taken: list[tuple[str, str]] = []
        delivered: set[str] = set()
        cur = list(cfg)
        for inst, event, start, g in self.events(st, label):
            delivered.add(event)
            state = cur[inst]
            if state is None:
                if not start:
                    continue
                state = spec.states[0]
                if start == "start":
                    cur[inst] = state
                    continue
            edge = spec.edges.get((state, event))
            who = ""
            if spec.per == "task":
                who = f" with task {spec.instances[inst]}"
            elif spec.per == "cpu" and spec.cpus > 1:
                who = f" on cpu{inst}"
            message = f"rv: monitor random does not allow event {event} on state {state}{who}"
            if edge is None:
                return cfg, taken, delivered, message
            dst, guard = edge
            if guard is not None and not guard[1](g):
                return cfg, taken, delivered, f"{message} (guard {guard[0]} is false: g = {g})"
            taken.append((state, event))
            cur[inst] = dst
        return tuple(cur), taken, delivered, None

    def first(self) -> tuple[str | None, ...]:
        return (None if self.starts else self.spec.states[0],) * len(self.spec.instances)

    def runs(self, limit: int) -> tuple[int | None, int | None, set[str]]:
        """Every run on its own (none merged with another), length by length up to
        `limit` while there are at most RUNS: the length all runs were followed to (None:
        every run ended), and the shortest violation among them (None: none) with its
        reactions."""
        level: list[Config] = [(self.ref.initial(), self.first())]
        length = 0
        while len(level) <= RUNS and length < limit:
            if not level:
                return None, None, set()
            longer: list[Config] = []
            bad: set[str] = set()
            for st, cfg in level:
                for o in self.successors(st):
                    nxt, _, _, reaction = self.step(cfg, st, o.label)
                    if reaction is not None:
                        bad.add(reaction)
                    else:
                        longer.append((o.next, nxt))
            length += 1
            if bad:
                return length, length, bad
            level = longer
        return length, None, set()

    def explore(self) -> tuple[int | None, set[str], int, int, set[tuple[str, str]], set[str]]:
        """The shortest violation's length and reactions (or None), the configurations
        every run reaches, the length after which runs reach no new one, the edges taken
        and the events delivered."""
        seen: set[Config] = {(self.ref.initial(), self.first())}
        ends = set(seen)
        shortest: int | None = None
        messages: set[str] = set()
        taken: set[tuple[str, str]] = set()
        delivered: set[str] = set()
        length = 0
        while ends:  # the configurations runs of `length` steps end in
            after: set[Config] = set()
            for st, cfg in ends:
                for o in self.successors(st):
                    nxt, edges, got, bad = self.step(cfg, st, o.label)
                    taken.update(edges)
                    delivered |= got
                    if bad is not None:
                        if shortest is None:
                            shortest = length + 1
                        if shortest == length + 1:
                            messages.add(bad)
                    else:
                        after.add((o.next, nxt))
            length += 1
            ends = after - seen  # a configuration seen before has had its futures followed
            seen |= after
        return shortest, messages, len(seen), length, taken, delivered

    def show(self, cfg: tuple[str | None, ...]) -> tuple[str, ...]:
        return tuple(
            f"{name}: {'-' if s is None else s}"
            for name, s in zip(self.spec.instances, cfg, strict=True)
        )

    def follow(self, trace: Trace) -> tuple[list[tuple[str, ...]], str | None]:
        """The monitor column and the reaction of a trace's run, stepped here."""
        cfg = self.first()
        shown = [self.show(cfg)]
        for k, label in enumerate(trace.steps):
            cfg, _, _, bad = self.step(cfg, trace.states[k], label)
            shown.append(self.show(cfg))
            if bad is not None:
                assert k == len(trace.steps) - 1, "the trace goes on after a violation"
                return shown, bad
        return shown, None


def compare_with_oracle(tmp_path: Path, spec: Spec) -> Verdict:
    for name, text in spec_files(spec).items():
        (tmp_path / name).write_text(text)
    result = check(str(tmp_path / "m.yaml"))
    p = prop(result, "mon")
    oracle = Oracle(spec, result.model)
    shortest, messages, configs, depth, taken, delivered = oracle.explore()
    # runs longer than `depth` (+1 for the violating step) reach no configuration and no
    # violation shorter runs do not
    followed, violated_at, reactions = oracle.runs(depth + 1)
    if violated_at is not None:  # no run is shorter, and these are all of that length
        assert (violated_at, reactions) == (shortest, messages)
    elif followed is None or followed == depth + 1:  # every run, as far as it matters
        assert shortest is None
    else:  # none of the runs up to `followed` steps violates
        assert shortest is None or shortest > followed
    edges = [(src, event) for (src, event) in spec.edges]
    declared = [f"{s} -{e}-> {spec.edges[s, e][0]}" for s, e in edges]
    assert p.edges is not None
    assert p.edges.taken == len(taken)
    assert set(p.edges.untaken) == {
        d for d, e in zip(declared, edges, strict=True) if e not in taken
    }
    assert set(p.edges.silent) == {e for _, e in edges} - delivered
    if shortest is None:
        assert (p.verdict, p.reason) == (Verdict.HOLDS, f"{configs:,} product states")
        return p.verdict
    assert p.verdict == Verdict.VIOLATED, p.reason
    assert p.trace is not None
    assert p.trace.length == shortest
    assert p.reason in messages
    shown, bad = oracle.follow(p.trace)
    assert bad == p.reason
    assert tuple(shown) == p.trace.monitor
    return p.verdict


@pytest.mark.slow
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(strategies.randoms(use_true_random=False), strategies.booleans())
def test_the_product_agrees_with_every_run_stepped_here(
    tmp_path: Path, r: Any, mixed: bool
) -> None:
    compare_with_oracle(tmp_path, random_spec(r, mixed=mixed))


def test_the_oracle_meets_both_verdicts_and_every_kind_of_instance() -> None:
    import random
    import tempfile

    seen: set[tuple[str, Verdict]] = set()
    for seed in range(24):
        spec = random_spec(random.Random(seed), mixed=seed % 3 == 0)
        with tempfile.TemporaryDirectory() as folder:
            seen.add((spec.per, compare_with_oracle(Path(folder), spec)))
    assert {v for _, v in seen} == {Verdict.HOLDS, Verdict.VIOLATED}
    assert {per for per, _ in seen} == {"cpu", "task", "global"}
