"""rv-export: a model's kernel-event language as a minimal .dot automaton in rvgen's dialect.
Round trips through monitor properties (holds, every edge taken; a mutant is caught), the
language checked against the reference interpreter, minimality, rvgen's line-based reading,
byte-identical output, and bad input."""

from __future__ import annotations

import itertools
from collections import deque
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import write_model
from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import Verdict
from preemptcheck.cli.main import app
from preemptcheck.model import load_model
from preemptcheck.model.ir import Model
from preemptcheck.monitors.dot import Automaton, load_automaton, parse_automaton
from preemptcheck.monitors.dotwrite import render
from preemptcheck.monitors.export import export_model, minimize
from preemptcheck.semantics.reference import Reference
from preemptcheck.semantics.system import State

ROOT = Path(__file__).resolve().parents[1]
FULL = ROOT / "models" / "full.yaml"
WIP_EVENTS = "preempt_disable,preempt_enable,sched_waking"

# /tmp/mt/m.yaml of the issue: the wip monitor's world. Nested preempt_disable() emits its
# tracepoint only when preemption goes off (count 0 -> 1) and back on (1 -> 0).
TINY = """
model: tiny
cpus: 1
vars:
  pc: {type: int, range: [0, 2]}
  woke: {type: bool}
actions:
  preempt_disable:
    when: pc < 2
    do: {pc: pc + 1}
    emit: [{event: preempt_disable, if: pc == 0}]
  preempt_enable:
    when: pc > 0
    do: {pc: pc - 1}
    emit: [{event: preempt_enable, if: pc == 1}]
  wake:
    when: WAKE_WHEN
    do: {woke: not woke}
    event: sched_waking
"""

# the kernel's wip.dot, with our state names: preemptive = pc_0, non_preemptive = pc_1_2
WIP_DOT = """\
digraph state_automaton {
\t{node [shape = plaintext, style=invis, label=""] "__init_pc_0"};
\t{node [shape = doublecircle] "pc_0"};
\t{node [shape = circle] "pc_1_2"};
\t"__init_pc_0" -> "pc_0";
\t"pc_0" -> "pc_1_2" [ label = "preempt_disable" ];
\t"pc_1_2" -> "pc_0" [ label = "preempt_enable" ];
\t"pc_1_2" -> "pc_1_2" [ label = "sched_waking" ];
\t{ rank = min ;
\t\t"__init_pc_0";
\t\t"pc_0";
\t}
}
"""

# every preempt_disable() emits: a counter per CPU; `tick` is silent and doubles the states
NEST = """
model: nest
cpus: NCPU
params:
  NCPU: 1
vars:
  pc: {type: int, range: [0, 2], index: cpus}
  noise: {type: bool}
actions:
  preempt_disable:
    when: pc < 2
    do: {pc: pc + 1}
  preempt_enable:
    when: pc > 0
    do: {pc: pc - 1}
  wake:
    when: pc > 0
    do: {}
    event: sched_waking
  tick:
    do: {noise: not noise}
    event: false
"""

# tasks: a task's preempt_disable() nesting moves with it; sched_switch (emitted in the
# context of the task switched out) only at count 0
TASKS = """
model: tasks
cpus: 1
tasks: [A, B]
vars:
  curr: {type: enum, of: tasks, index: cpus, init: A, ROLE}
  pdis: {type: int, range: [0, 2], index: tasks}
actions:
  preempt_disable:
    when: pdis[curr] < 2
    do:
      pdis[curr]: pdis[curr] + 1
  preempt_enable:
    when: pdis[curr] > 0
    do:
      pdis[curr]: pdis[curr] - 1
  switch:
    for: {t: tasks}
    when: pdis[curr] == 0 and t != curr
    do: {curr: t}
    event: sched_switch
"""

# one step, two events: the handler runs whole within the step
IRQ = """
model: irq
cpus: 2
vars:
  n: {type: int, range: [0, 3]}
actions:
  interrupt:
    when: n < 3
    do: {n: n + 1}
    emit: [irq_handler_entry, irq_handler_exit]
  reset:
    when: n == 3
    do: {n: 0}
    event: false
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def tiny(tmp_path: Path, wake_when: str = "pc > 0", *, monitor: str = "") -> str:
    text = TINY.replace("WAKE_WHEN", wake_when)
    if monitor:
        text += f"properties:\n  exported:\n    monitor: {monitor}\n"
    return write_model(tmp_path, text, f"tiny-{abs(hash((wake_when, monitor)))}.yaml")


def monitor_verdict(path: str, prop: str = "exported") -> tuple[Verdict, int, int]:
    result = check_file(path, Options(properties=(prop,)))
    p = next(p for p in result.properties if p.id == prop)
    assert p.edges is not None
    return p.verdict, p.edges.taken, p.edges.total


# --- (1) round trip on the wip-like model ---------------------------------------------------


def test_tiny_model_exports_the_kernels_wip_automaton(tmp_path: Path) -> None:
    out = tmp_path / "wip.dot"
    code, text = run("rv-export", tiny(tmp_path), "--events", WIP_EVENTS, "-o", str(out))
    assert code == 0, text
    assert "tiny: 2 states, 3 edges over 3 events, per cpu" in text
    assert out.read_text() == WIP_DOT
    kernel = load_automaton(str(ROOT / "monitors" / "wip.dot"))
    mine = load_automaton(str(out))
    rename = {"preemptive": "pc_0", "non_preemptive": "pc_1_2"}
    assert {(rename[e.src], e.event, rename[e.dst]) for e in kernel.edges} == {
        (e.src, e.event, e.dst) for e in mine.edges
    }


def test_round_trip_holds_with_every_edge_taken_and_catches_a_mutant(tmp_path: Path) -> None:
    code, text = run(
        "rv-export", tiny(tmp_path), "--events", WIP_EVENTS, "-o", str(tmp_path / "wip.dot")
    )
    assert code == 0, text
    assert monitor_verdict(tiny(tmp_path, monitor="wip.dot")) == (Verdict.HOLDS, 3, 3)
    code, text = run("verify", tiny(tmp_path, monitor="wip.dot"))
    assert code == 0, text
    assert "exported   holds (exhaustive; edges taken 3/3)" in text
    # the mutant wakes a task with preemption on: sched_waking in state pc_0
    mutant = tiny(tmp_path, "true", monitor="wip.dot")
    verdict, _, _ = monitor_verdict(mutant)
    assert verdict == Verdict.VIOLATED
    code, text = run("verify", mutant)
    assert code == 1
    assert "rv: monitor wip does not allow event sched_waking on state pc_0" in text


# --- (2) minimal, deterministic, loads, same bytes ------------------------------------------


@pytest.mark.parametrize(
    ("text", "per", "events", "states", "edges", "names"),
    [
        # the counter 0..2 per CPU; `tick` and `noise` are invisible
        (NEST, "cpu", WIP_EVENTS, 3, 6, ("pc_0", "pc_1", "pc_2")),
        # two CPUs' counters seen by one CPU's monitor: the same automaton
        (NEST.replace("NCPU: 1", "NCPU: 2"), "cpu", WIP_EVENTS, 3, 6, ("pc_0", "pc_1", "pc_2")),
        # ... and by one global monitor: their sum, 0..4 (edges 1 + 3 * 3 + 2)
        (NEST.replace("NCPU: 1", "NCPU: 2"), "global", WIP_EVENTS, 5, 12, None),
        # per task: the nesting of the task that runs; a switch only at 0 (2 + 2 + 1 edges)
        (TASKS.replace("ROLE", "role: current_task"), "task",
         "preempt_disable,preempt_enable,sched_switch", 3, 5, ("pdis_0", "pdis_1", "pdis_2")),
        # per CPU, the same model: the CPU sees both tasks' sections, switches at 0 only
        (TASKS.replace("ROLE", "role: current_task"), "cpu",
         "preempt_disable,preempt_enable,sched_switch", 3, 5, None),
        # two events in one step are seen in order, never apart
        (IRQ, "cpu", "irq_handler_entry,irq_handler_exit", 2, 2, None),
        (IRQ, "global", "irq_handler_entry,irq_handler_exit", 2, 2, None),
        (IRQ, "cpu", "irq_handler_exit", 1, 1, ("s0",)),
    ],
)  # fmt: skip
def test_hand_computed_minimal_automata(
    tmp_path: Path,
    text: str,
    per: str,
    events: str,
    states: int,
    edges: int,
    names: tuple[str, ...] | None,
) -> None:
    path = write_model(tmp_path, text)
    model = load_model(path)
    got = export_model(model, events.split(","), per=per)
    assert (len(got.states), len(got.edges)) == (states, edges), got
    if names is not None:
        assert got.states == names
    out = tmp_path / "m.dot"
    code, shown = run("rv-export", path, "--events", events, "--per", per, "-o", str(out))
    assert code == 0, shown
    automaton = load_automaton(str(out))  # PC114 on two edges for one (state, event)
    assert len(automaton.states) == states
    assert len(automaton.edges) == edges
    assert_minimal(automaton)
    assert_language(model, automaton, events.split(","), per)


def test_global_sum_of_two_counters_is_the_hand_computed_automaton(tmp_path: Path) -> None:
    model = load_model(write_model(tmp_path, NEST.replace("NCPU: 1", "NCPU: 2")))
    got = export_model(model, ["preempt_disable", "preempt_enable"], per="global")
    depth = {got.states[0]: 0}
    for src, ev, dst in got.edges:  # breadth-first order: sources are numbered already
        depth.setdefault(dst, depth[src] + (1 if ev == "preempt_disable" else -1))
        assert depth[dst] == depth[src] + (1 if ev == "preempt_disable" else -1)
    assert sorted(depth.values()) == [0, 1, 2, 3, 4]


def test_output_is_the_same_bytes_every_run(tmp_path: Path) -> None:
    path = write_model(tmp_path, TASKS.replace("ROLE", "role: current_task"))
    runs = [
        ["--events", "preempt_disable,preempt_enable,sched_switch"],
        ["--events", "preempt_disable,preempt_enable,sched_switch"],
        ["--events", "sched_switch", "--events", "preempt_enable, preempt_disable"],
    ]
    outs = []
    for k, events in enumerate(runs):
        out = tmp_path / f"t{k}.dot"
        code, text = run("rv-export", path, "--per", "task", *events, "-o", str(out))
        assert code == 0, text
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]  # nor does the order the events are named in matter
    code, text = run("rv-export", path, "--per", "task", *runs[0])
    assert code == 0
    assert outs[0].decode() in text  # without -o: the same text on standard output


def test_rvgen_reads_the_file_line_by_line(tmp_path: Path) -> None:
    """rvgen (tools/verification/rvgen/rvgen/automata.py) does not parse DOT: it takes the
    `{node` lines as one block, skips the line after it (the initial edge), reads edges and
    labels from the lines starting with '"', and splits labels on whitespace."""
    path = write_model(tmp_path, NEST.replace("NCPU: 1", "NCPU: 2"))
    out = tmp_path / "nest.dot"
    assert run("rv-export", path, "--events", WIP_EVENTS, "--per", "global", "-o", str(out))[0] == 0
    states, initial, matrix = rvgen_like(out.read_text())
    automaton = load_automaton(str(out))
    assert initial == automaton.initial
    assert sorted(states) == sorted(automaton.states)
    assert matrix == {(e.src, e.event): e.dst for e in automaton.edges}


def rvgen_like(text: str) -> tuple[list[str], str, dict[tuple[str, str], str]]:
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["digraph", "state_automaton"]
    first = next(k for k, line in enumerate(lines) if line.split()[:1] == ["{node"])
    states, initial = [], ""
    k = first
    while lines[k].split()[:1] == ["{node"]:
        name = lines[k].split()[-1].replace('"', "").replace("};", "")
        if name.startswith("__init_"):
            initial = name[len("__init_") :]
        else:
            states.append(name)
        k += 1
    matrix: dict[tuple[str, str], str] = {}
    for line in lines[k + 1 :]:
        if not line.lstrip().startswith('"'):
            break
        words = line.split()
        assert words[1] == "->"
        label = "".join(words[words.index("label") + 2 : -1]).replace('"', "")
        for event in label.split("\\n"):
            matrix[(words[0].strip('"'), event)] = words[2].strip('"')
    return states, initial, matrix


# --- oracles: the language of the reference interpreter; minimality -------------------------


def assert_language(model: Model, automaton: Automaton, events: list[str], per: str) -> None:
    """The automaton accepts exactly the event sequences of the model's instances: the
    plain subset construction over the reference interpreter's states, where a node is
    (state after the step, instance, events of the step it has still to show)."""
    ref = Reference(model)
    current = model.role("current_task")
    succ: dict[State, list[tuple[State, object, tuple[str, ...]]]] = {}
    todo = [ref.initial()]
    while todo:
        s = todo.pop()
        if s in succ:
            continue
        succ[s] = []
        for o in ref.outcomes(s):
            if not o.enabled:
                continue
            assert o.next is not None
            assert o.error is None
            lab = o.label
            env = {"self": lab.cpu, **dict(lab.bindings)}
            step = model.action(lab.action).steps[lab.step]
            word = tuple(
                em.event
                for em in step.emits
                if em.event in events and (em.cond is None or ref.eval(em.cond, s, env))
            )
            owner: object = {"cpu": lab.cpu, "global": 0}.get(per)
            if per == "task":
                assert current is not None
                owner = s.values[model.vars.index(current)][lab.cpu]
            succ[s].append((o.next, owner, word))
            todo.append(o.next)
    owners = {"cpu": range(model.cpus), "global": [0], "task": model.tasks}[per]

    def closure(nodes: set[tuple[State, object, tuple[str, ...]]]) -> frozenset:  # type: ignore[type-arg]
        out, stack = set(nodes), list(nodes)
        while stack:
            s, i, pending = stack.pop()
            if pending:
                continue
            for nxt, owner, word in succ[s]:
                node = (nxt, i, ()) if owner != i or not word else None
                if node is not None and node not in out:
                    out.add(node)
                    stack.append(node)
        return frozenset(out)

    def moves(subset: frozenset) -> dict[str, set]:  # type: ignore[type-arg]
        out: dict[str, set] = {}  # type: ignore[type-arg]
        for s, i, pending in subset:
            if pending:
                out.setdefault(pending[0], set()).add((s, i, pending[1:]))
                continue
            for nxt, owner, word in succ[s]:
                if owner == i and word:
                    out.setdefault(word[0], set()).add((nxt, i, word[1:]))
        return out

    start = (closure({(ref.initial(), i, ()) for i in owners}), automaton.initial)
    seen = {start}
    queue = deque([start])
    while queue:
        subset, state = queue.popleft()
        mv = moves(subset)
        allowed = {e.event for e in automaton.edges if e.src == state}
        assert set(mv) == allowed, (state, sorted(mv), sorted(allowed))
        for event, nodes in mv.items():
            edge = automaton.step(state, event)
            assert edge is not None
            pair = (closure(nodes), edge.dst)
            if pair not in seen:
                seen.add(pair)
                queue.append(pair)
    assert {s for _, s in seen} == set(automaton.states)  # every state reachable


def assert_minimal(automaton: Automaton) -> None:
    """Every two states are told apart by some sequence of events."""
    for p, q in itertools.combinations(automaton.states, 2):
        assert not equivalent(automaton, p, q), (p, q)


def equivalent(automaton: Automaton, p: str, q: str) -> bool:
    seen = {(p, q)}
    stack = [(p, q)]
    while stack:
        a, b = stack.pop()
        for event in automaton.events:
            ea, eb = automaton.step(a, event), automaton.step(b, event)
            if (ea is None) != (eb is None):
                return False
            if ea is not None and eb is not None and (ea.dst, eb.dst) not in seen:
                seen.add((ea.dst, eb.dst))
                stack.append((ea.dst, eb.dst))
    return True


@st.composite
def partial_dfas(draw: st.DrawFn) -> tuple[list[list[int]], int]:
    n = draw(st.integers(1, 9))
    k = draw(st.integers(1, 3))
    trans = [[draw(st.integers(-1, n - 1)) for _ in range(k)] for _ in range(n)]
    return trans, k


@settings(max_examples=300, deadline=None)
@given(partial_dfas())
def test_hopcroft_finds_exactly_the_equivalent_states(dfa: tuple[list[list[int]], int]) -> None:
    trans, k = dfa

    def same(p: int, q: int) -> bool:
        seen, stack = {(p, q)}, [(p, q)]
        while stack:
            a, b = stack.pop()
            for ev in range(k):
                da, db = trans[a][ev], trans[b][ev]
                if (da < 0) != (db < 0):
                    return False
                if da >= 0 and (da, db) not in seen:
                    seen.add((da, db))
                    stack.append((da, db))
        return True

    block = minimize(trans, k)
    for p, q in itertools.combinations(range(len(trans)), 2):
        assert (block[p] == block[q]) == same(p, q)


# --- (3) the bundled models -----------------------------------------------------------------

# preferred event sets, in the kernel's monitors' vocabulary; the first the model emits wins
CANDIDATES = [
    ("preempt_disable", "preempt_enable", "sched_switch"),
    ("irq_handler_entry", "irq_handler_exit"),
    ("sched_switch", "sys_enter", "sys_exit"),
]


def bundled_events(model: Model) -> list[tuple[str, ...]]:
    emitted = sorted({em.event for a in model.actions for s in a.steps for em in s.emits})
    picked = [c for c in CANDIDATES if set(c) <= set(emitted)]
    return picked[:2] or [tuple(emitted[:2])]


@pytest.mark.slow
@pytest.mark.parametrize("per", ["cpu", "task"])
def test_bundled_full_model_round_trip(tmp_path: Path, per: str) -> None:
    model = load_model(str(FULL))
    assert model.role("current_task") is not None
    props = ""
    for k, events in enumerate(bundled_events(model)):
        out = tmp_path / f"exported{k}.dot"
        code, text = run(
            "rv-export", str(FULL), "--events", ",".join(events), "--per", per, "-o", str(out)
        )
        assert code == 0, text
        assert_minimal(load_automaton(str(out)))
        props += f"  exported{k}:\n    monitor: exported{k}.dot\n    per: {per}\n"
    path = write_model(tmp_path, f"model: rt\nextends: {FULL}\nproperties:\n{props}")
    for k in range(len(bundled_events(model))):
        verdict, taken, total = monitor_verdict(path, f"exported{k}")
        assert verdict == Verdict.HOLDS
        assert taken == total > 0


# --- (4) bad input ----------------------------------------------------------------------------


def test_unknown_event_is_exit_2_with_did_you_mean(tmp_path: Path) -> None:
    out = tmp_path / "x.dot"
    code, text = run("rv-export", tiny(tmp_path), "--events", "preempt_disabel,irq", "-o", str(out))
    assert code == 2
    assert "error[PC203]: --events: no step of model tiny emits 'preempt_disabel'" in text
    assert "(did you mean 'preempt_disable'?)" in text
    assert "emits 'irq'" in text  # every unknown event is reported
    assert not out.exists()


def test_per_task_without_current_task_is_exit_2(tmp_path: Path) -> None:
    path = write_model(tmp_path, TASKS.replace(", ROLE", ""))
    out = tmp_path / "x.dot"
    code, text = run("rv-export", path, "--events", "sched_switch", "--per", "task", "-o", str(out))
    assert code == 2
    assert f"{path}: error[PC203]: --per task: model tasks has no variable with role " in text
    assert not out.exists()
    odd = """
    model: odd
    tasks: [A, B]
    vars:
      curr: {type: enum, of: tasks, index: tasks, init: A, role: current_task}
    actions:
      switch:
        do:
          curr[A]: B if curr[A] == A else A
        event: sched_switch
    """
    path = write_model(tmp_path, odd, "odd.yaml")
    code, text = run("rv-export", path, "--events", "sched_switch", "--per", "task")
    assert code == 2, text
    assert "indexes its current_task variable curr by tasks" in text
    code, text = run("rv-export", path, "--events", "sched_switch", "--per", "cpu")
    assert code == 0, text  # per CPU it is not needed (state names do without it)


@pytest.mark.parametrize("where", ["dir", "under-a-file", "too-long"])
def test_unwritable_output_is_exit_2_before_the_work(tmp_path: Path, where: str) -> None:
    (tmp_path / "file").write_text("")
    target = {
        "dir": tmp_path,
        "under-a-file": tmp_path / "file" / "x.dot",
        "too-long": tmp_path / ("w" * 300 + ".dot"),
    }[where]
    code, text = run("rv-export", tiny(tmp_path), "--events", WIP_EVENTS, "-o", str(target))
    assert code == 2
    assert "error[PC203]: -o " in text
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".dot") == []


def test_limits_and_param_choices(tmp_path: Path) -> None:
    out = tmp_path / "x.dot"
    code, text = run(
        "rv-export", tiny(tmp_path), "--events", WIP_EVENTS, "--max-states", "2", "-o", str(out)
    )
    assert code == 3
    assert "state limit reached (2 states)" in text
    nest = write_model(tmp_path, NEST, "nest.yaml")
    code, text = run("rv-export", nest, "--events", WIP_EVENTS, "--set", "NCPU=1,2")
    assert code == 2
    assert "these give 2 (NCPU=1; NCPU=2): pick one with --set NAME=VALUE" in text
    code, text = run("rv-export", nest, "--events", " , ")
    assert code == 2
    assert "--events: name at least one event" in text
    assert not out.exists()


def test_the_writer_refuses_what_rvgen_could_not_read() -> None:
    with pytest.raises(AssertionError, match="not deterministic"):
        render(["a", "b"], [("a", "ev", "b"), ("a", "ev", "a")])
    with pytest.raises(AssertionError, match="not a C identifier"):
        render(["a b"], [])
    one = parse_automaton(render(["only"], []), "one.dot")  # no events at all: one state
    assert (one.states, one.edges) == (("only",), ())


def test_an_event_no_reachable_step_emits_is_noted(tmp_path: Path) -> None:
    out = tmp_path / "wip.dot"
    code, text = run("rv-export", tiny(tmp_path, "false"), "--events", WIP_EVENTS, "-o", str(out))
    assert code == 0, text
    assert "note: no step emits sched_waking in a reachable state" in text
    assert load_automaton(str(out)).events == ("preempt_disable", "preempt_enable")
