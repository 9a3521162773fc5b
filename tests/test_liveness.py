"""leads_to: response under weak fairness, bounded response, lassos (DESIGN §1.5).

Hand-written models whose verdicts and worst cases are derived in the comments; an oracle
built from other parts (the reference interpreter's exploration and networkx's strongly
connected components and DAG longest paths) that random models with random leads_to
properties are checked against; the iterative Tarjan against networkx; and replay refusing
traces that do not show what they claim.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import write_model
from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import ModelResult, PropertyResult, Verdict
from preemptcheck.engines.graph import sccs
from preemptcheck.engines.liveness import NEVER, UNBOUNDED
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.model import load_model
from preemptcheck.model.ir import Model, Property, PropKind
from preemptcheck.semantics.reference import Reference
from preemptcheck.semantics.system import State
from preemptcheck.semantics.trace import ReplayError, replay
from strategies import AGREEMENT, model_docs, to_yaml

LAZY_TICK = """
model: lazy-tick
vars:
  pc: {type: int, range: [0, 2]}
  lazy: {type: bool}
  nr: {type: bool}
actions:
  wake:
    when: not lazy and not nr
    do: {lazy: true}
  preempt_disable:
    when: pc < 2
    do: {pc: pc + 1}
  preempt_enable:
    when: pc > 0
    do: {pc: pc - 1}
  tick:
    do: {nr: nr or lazy, lazy: false}
  schedule:
    when: nr and pc == 0
    do: {nr: false}
    tags: [schedule]
properties:
  # Without fairness, preempt_disable/enable may loop forever after the wakeup.
  unfair:
    leads_to: {from: lazy, to: tag:schedule}
  # A fair tick promotes the request; but schedule needs pc == 0, and a run that keeps
  # going round preempt_disable/enable disables it once per round: weakly fair, never served.
  weakly-fair:
    leads_to: {from: lazy, to: tag:schedule}
    fair: [tick, schedule]
  # The first tick promotes: nr holds after at most one tick.
  promoted-by-one-tick:
    leads_to: {from: lazy, to: nr}
    within: {count: tick, max: 1}
    fair: [tick]
  # ... but not after zero.
  promoted-by-no-tick:
    leads_to: {from: lazy, to: nr}
    within: {count: tick, max: 0}
    fair: [tick]
  # The disable/enable loop makes the number of steps unbounded.
  promoted-within-steps:
    leads_to: {from: lazy, to: nr}
    within: 3
    fair: [tick]
  # The request is answered in its own state: nothing to wait for.
  same-state:
    leads_to: {from: nr, to: nr}
    within: 0
"""


def _check(tmp_path: Path, text: str) -> ModelResult:
    return check_file(write_model(tmp_path, text), Options())


def _by_id(result: ModelResult) -> dict[str, PropertyResult]:
    return {p.id: p for p in result.properties}


def test_fairness_and_bounds_on_a_lazy_tick(tmp_path: Path) -> None:
    got = _by_id(_check(tmp_path, LAZY_TICK))
    verdicts = {pid: p.verdict for pid, p in got.items()}
    assert verdicts == {
        "unfair": Verdict.VIOLATED,
        "weakly-fair": Verdict.VIOLATED,
        "promoted-by-one-tick": Verdict.HOLDS,
        "promoted-by-no-tick": Verdict.VIOLATED,
        "promoted-within-steps": Verdict.VIOLATED,
        "same-state": Verdict.HOLDS,
        "range": Verdict.HOLDS,
        "deadlock": Verdict.HOLDS,
    }
    assert got["promoted-by-one-tick"].reason == "worst case 1 steps of tick"
    assert got["same-state"].reason == "worst case 0 steps"
    # unfair: the shortest lasso is the wakeup, then disable/enable forever
    unfair = got["unfair"].trace
    assert unfair is not None
    assert unfair.loop == 1
    assert unfair.origin == 1
    assert [s.action for s in unfair.steps] == ["wake", "preempt_disable", "preempt_enable"]
    # weakly fair: the loop takes the tick (it is always enabled) and passes pc == 1,
    # where schedule is disabled
    fair = got["weakly-fair"].trace
    assert fair is not None
    assert fair.loop is not None
    loop = [s.action for s in fair.steps[fair.loop :]]
    assert "tick" in loop
    assert "preempt_disable" in loop
    # promoted-by-no-tick: the wakeup, then the tick that promotes it is one tick too many
    none = got["promoted-by-no-tick"].trace
    assert none is not None
    assert none.loop is None
    assert [s.action for s in none.steps] == ["wake", "tick"]
    # steps: the shortest run with 4 steps after the request and no tick (a tick promotes)
    steps = got["promoted-within-steps"].trace
    assert steps is not None
    assert steps.loop is None
    assert steps.origin == 1
    assert steps.length == 5
    assert "tick" not in [s.action for s in steps.steps]


IRQ_TOGGLE = """
model: irq-toggle
vars:
  irqs_off: {type: bool}
  nr: {type: bool}
  in_irq: {type: bool}
actions:
  local_irq_disable: {when: not irqs_off and not in_irq, do: {irqs_off: true}}
  local_irq_enable: {when: irqs_off and not in_irq, do: {irqs_off: false}}
  irq_enter: {when: not irqs_off and not in_irq, do: {in_irq: true, nr: true}}
  irqentry_exit:
    when: in_irq
    do: {in_irq: false, nr: false}
    tags: [schedule]
properties:
  # A timer interrupt is pending from the start. Code that keeps turning interrupts off
  # and on never has them on for good: weak fairness lets it dodge the interrupt forever,
  # strong fairness (enabled again and again, taken again and again) does not.
  weak:
    leads_to: {from: not nr, to: tag:schedule}
    fair: [irq_enter, irqentry_exit]
    expect: violated
  strong:
    leads_to: {from: not nr, to: tag:schedule}
    fair: {weak: [irqentry_exit], strong: [irq_enter]}
"""


def test_strong_fairness_takes_an_interrupt_that_keeps_being_enabled(tmp_path: Path) -> None:
    got = _by_id(_check(tmp_path, IRQ_TOGGLE))
    assert got["strong"].verdict == Verdict.HOLDS
    weak = got["weak"]
    assert weak.verdict == Verdict.VIOLATED
    assert weak.trace is not None
    assert weak.trace.loop == 0
    assert [s.action for s in weak.trace.steps] == ["local_irq_disable", "local_irq_enable"]


STOP = """
model: stop
vars:
  req: {type: bool}
  done: {type: bool}
  broken: {type: bool}
actions:
  ask:
    when: not req and not broken
    do: {req: true}
  serve:
    when: req and not broken
    do: {req: false, done: true}
    tags: [serve]
  crash:
    when: req and not broken
    do: {broken: true}
deadlock: allowed
properties:
  served:
    leads_to: {from: req, to: tag:serve}
    fair: [serve]
"""


def test_a_run_that_stops_never_answers(tmp_path: Path) -> None:
    # serve is fair, but `crash` may come first: then nothing is enabled and the run ends
    # with the request open. The lasso is a stop: the loop index is the last state.
    p = _by_id(_check(tmp_path, STOP))["served"]
    assert p.verdict == Verdict.VIOLATED
    assert p.trace is not None
    assert [s.action for s in p.trace.steps] == ["ask", "crash"]
    assert p.trace.loop == 2 == p.trace.length
    assert p.reason == "the run stops before tag:serve"


TWO_CPUS = """
model: kick
cpus: 2
vars:
  need: {type: bool, index: cpus}
  ipi: {type: bool, index: cpus}
actions:
  kick:
    for: {t: cpus}
    when: t != self and not need[t]
    do:
      need[t]: true
      ipi[t]: true
  handle:
    irq: true
    when: ipi
    do: {ipi: false}
  resched:
    when: need and not ipi
    do: {need: false}
    tags: [schedule]
properties:
  # per CPU: the response must be a step of resched on that same CPU
  kicked-cpu-reschedules:
    leads_to:
      from: need[self]
      to: tag:schedule
    fair: [handle, resched]
  kicked-cpu-unfair:
    leads_to:
      from: need[self]
      to: tag:schedule
    fair: [handle]
    expect: violated
"""


def test_per_cpu_response_and_fairness_per_cpu(tmp_path: Path) -> None:
    got = _by_id(_check(tmp_path, TWO_CPUS))
    assert got["kicked-cpu-reschedules"].verdict == Verdict.HOLDS
    p = got["kicked-cpu-unfair"]
    assert p.verdict == Verdict.VIOLATED
    assert p.trace is not None
    # the other CPU's resched does not answer: the loop must avoid cpu's own resched only
    cpu = p.trace.cpu
    assert cpu in (0, 1)
    assert all(
        not (s.action == "resched" and s.cpu == cpu) for s in p.trace.steps[p.trace.origin :]
    )


VACUOUS = """
model: vacuous
vars:
  x: {type: bool}
actions:
  noop: {do: {x: false}}
properties:
  never-asked:
    leads_to: {from: x, to: not x}
"""


def test_a_request_that_never_arises_is_a_warning(tmp_path: Path) -> None:
    result = _check(tmp_path, VACUOUS)
    p = _by_id(result)["never-asked"]
    assert p.verdict == Verdict.HOLDS
    assert p.reason.startswith("vacuous")
    assert any("never-asked holds vacuously" in w for w in result.warnings)


def test_symbolic_engine_decides_leads_to_on_the_state_graph(tmp_path: Path) -> None:
    path = write_model(tmp_path, LAZY_TICK)
    explicit = check_file(path, Options())
    symbolic = check_file(path, Options(engine="symbolic", bound=5))
    assert symbolic.engine == "symbolic"
    assert "leads_to properties are decided on the explicit state graph" in symbolic.notes
    live = [p for p in explicit.properties if p.kind == PropKind.LEADS_TO]
    assert [(p.id, p.verdict, p.reason) for p in live] == [
        (p.id, p.verdict, p.reason) for p in symbolic.properties if p.kind == PropKind.LEADS_TO
    ]
    assert _by_id(symbolic)["range"].strength.value == "inductive"  # z3 decided the rest
    assert symbolic.stats.complete


def test_leads_to_unknown_when_the_search_stops(tmp_path: Path) -> None:
    path = write_model(tmp_path, LAZY_TICK)
    result = check_file(path, Options(max_states=3))
    p = _by_id(result)["unfair"]
    assert p.verdict == Verdict.UNKNOWN
    assert "state limit" in p.reason


# ---------------------------------------------------------------- replay refuses wrong claims


def test_replay_refuses_a_lasso_that_is_not_fair(tmp_path: Path) -> None:
    result = _check(tmp_path, LAZY_TICK)
    model = result.model
    unfair = _by_id(result)["unfair"].trace
    assert unfair is not None
    fair_prop = next(p for p in model.properties if p.id == "weakly-fair")
    # the disable/enable loop never ticks while the tick stays enabled: not weakly fair
    with pytest.raises(ReplayError, match="not weakly fair to tick"):
        replay(model, fair_prop, unfair)
    # a lasso that does not return to its loop state
    bad = dataclasses.replace(unfair, loop=0)
    with pytest.raises(ReplayError, match="not a lasso"):
        replay(model, next(p for p in model.properties if p.id == "unfair"), bad)
    # a bounded claim whose count is within the bound
    one_tick = next(p for p in model.properties if p.id == "promoted-by-one-tick")
    none = _by_id(result)["promoted-by-no-tick"].trace
    assert none is not None
    with pytest.raises(ReplayError, match="within the bound"):
        replay(model, one_tick, none)


# ---------------------------------------------------------------- Tarjan against networkx


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80)
    )
)
@AGREEMENT
def test_tarjan_matches_networkx(edges: list[tuple[int, int]]) -> None:
    g = nx.DiGraph()
    g.add_edges_from(edges)
    nodes = sorted(g.nodes)
    adj = {v: sorted(g.successors(v)) for v in nodes}
    got = sccs(nodes, lambda v: adj[v])
    assert sorted(sorted(c) for c in got) == sorted(
        sorted(c) for c in nx.strongly_connected_components(g)
    )
    # reverse topological order: every edge goes to the same or an earlier component
    pos = {v: i for i, c in enumerate(got) for v in c}
    assert all(pos[b] <= pos[a] for a, b in edges)


# ---------------------------------------------------------------- an independent oracle


def _reference_graph(model: Model) -> tuple[nx.MultiDiGraph, dict[int, State]]:
    """The reachable state graph as the reference interpreter explores it."""
    ref = Reference(model)
    init = ref.initial()
    seen: dict[State, int] = {init: 0}
    queue = deque([init])
    g = nx.MultiDiGraph()
    g.add_node(0)
    while queue:
        s = queue.popleft()
        for o in ref.outcomes(s):
            if o.next is None:
                continue
            if o.next not in seen:
                seen[o.next] = len(seen)
                queue.append(o.next)
            g.add_edge(seen[s], seen[o.next], label=o.label)
    return g, {i: s for s, i in seen.items()}


def _oracle(model: Model, prop: Property, cpu: int, graph: Any = None) -> int:
    """The worst case for one CPU, from the reference interpreter's state graph and
    networkx (strongly connected components, DAG longest path): a count, UNBOUNDED, NEVER."""
    r = prop.response
    assert r is not None
    ref = Reference(model)
    env: dict[str, Any] = {"self": cpu} if cpu >= 0 else {}
    g, states = graph if graph is not None else _reference_graph(model)

    def mine(label: Any, names: tuple[str, ...]) -> bool:
        return label.action in names and (cpu < 0 or label.cpu == cpu)

    goal = {i: r.goal is not None and bool(ref.eval(r.goal, s, env)) for i, s in states.items()}
    trig = {i: bool(ref.eval(r.trigger, s, env)) for i, s in states.items()}
    pending = nx.MultiDiGraph()
    pending.add_nodes_from(i for i in states if not goal[i])
    for a, b, data in g.edges(data=True):
        if not goal[a] and not goal[b] and not mine(data["label"], r.goal_actions):
            pending.add_edge(a, b, **data)
    starts = [i for i in states if trig[i] and not goal[i]]
    if not starts:
        return 0
    region = set(starts).union(*(nx.descendants(pending, s) for s in starts))
    sub = pending.subgraph(region)

    def weight(label: Any) -> int:
        if r.within is not None:
            return 1
        return int(mine(label, r.count)) if r.count_max is not None else 0

    weak = [(a, c) for a in r.fair for c in model.action(a).cpus]
    strong = [(a, c) for a in r.strong for c in model.action(a).cpus]

    def enabled(v: int) -> set[tuple[str, int]]:
        return {(d["label"].action, d["label"].cpu) for _, _, d in g.out_edges(v, data=True)}

    def fair_part(comp: set[int]) -> bool:
        """Emerson-Lei: does `comp` hold a cycle a weakly and strongly fair run stays on?"""
        part = sub.subgraph(comp)
        inner = {(d["label"].action, d["label"].cpu) for _, _, d in part.edges(data=True)}
        if part.number_of_edges() == 0:
            return False
        if not all(ob in inner or any(ob not in enabled(v) for v in comp) for ob in weak):
            return False
        cut = {v for v in comp if any(ob in enabled(v) and ob not in inner for ob in strong)}
        if not cut:
            return True
        rest = part.subgraph(comp - cut)
        return any(fair_part(set(c)) for c in nx.strongly_connected_components(rest))

    worst_kind = 0
    for comp in nx.strongly_connected_components(sub):
        inner = [(a, b, d) for a, b, d in sub.edges(comp, data=True) if b in comp]
        if len(comp) == 1 and g.out_degree(next(iter(comp))) == 0:
            return NEVER  # the run stops with the request open
        if not inner:
            continue
        if fair_part(set(comp)):
            return NEVER
        if any(weight(d["label"]) for _, _, d in inner):
            worst_kind = UNBOUNDED
    if worst_kind:
        return UNBOUNDED
    # longest weighted path to the response over the condensation
    cond = nx.condensation(sub)
    member = cond.graph["mapping"]
    dag = nx.DiGraph()
    dag.add_node("answer")
    for a, b, d in g.edges(data=True):
        if a not in region:
            continue
        w = weight(d["label"])
        answered = goal[b] or mine(d["label"], r.goal_actions)
        head = "answer" if answered else member[b]
        tail = member[a]
        if head == tail:
            continue
        if dag.has_edge(tail, head):
            w = max(w, dag[tail][head]["weight"])
        dag.add_edge(tail, head, weight=w)
    longest: dict[Any, int] = {"answer": 0}
    for node in reversed(list(nx.topological_sort(dag))):
        if node != "answer":
            longest[node] = max(
                (d["weight"] + longest[h] for _, h, d in dag.out_edges(node, data=True)),
                default=0,
            )
    return max(longest[member[s]] for s in starts)


@st.composite
def _with_leads_to(draw: Any) -> str:
    """A random model with leads_to properties over its own state expressions and actions."""
    doc = draw(model_docs(member_hazard=False, action_properties=False))
    exprs = [
        next(iter(p.values()))
        for p in doc.get("properties", {}).values()
        if "invariant" in p or "reachable" in p
    ] or ["true"]
    actions = sorted(doc["actions"])
    props: dict[str, Any] = {}
    for i in range(draw(st.integers(1, 3))):
        frm = draw(st.sampled_from(exprs))
        to: str = draw(st.sampled_from([*exprs, *actions, f"not ({frm})"]))
        body: dict[str, Any] = {"leads_to": {"from": frm, "to": to}}
        fair = draw(st.lists(st.sampled_from(actions), unique=True, max_size=len(actions)))
        strong = [a for a in fair if draw(st.booleans())]
        if strong:
            weak = [a for a in fair if a not in strong]
            body["fair"] = {"strong": strong, **({"weak": weak} if weak else {})}
        elif fair:
            body["fair"] = fair
        bound = draw(st.sampled_from(["none", "steps", "count"]))
        if bound == "steps":
            body["within"] = draw(st.integers(0, 6))
        elif bound == "count":
            body["within"] = {
                "count": draw(st.sampled_from(actions)),
                "max": draw(st.integers(0, 3)),
            }
        props[f"live{i}"] = body
    doc["properties"] = props
    return to_yaml(doc)


@pytest.mark.slow
def test_random_leads_to_agree_with_the_oracle(tmp_path: Path) -> None:
    kinds: set[str] = set()

    @AGREEMENT
    @given(text=_with_leads_to())
    def agree(text: str) -> None:
        path = write_model(tmp_path, text)
        model = load_model(path)
        result = check_file(path, Options())
        if any(p.kind == PropKind.RANGE and p.verdict != Verdict.HOLDS for p in result.properties):
            return  # leads_to is not checked where steps fail (its verdict is unknown)
        graph = _reference_graph(model)
        for p, res in zip(model.properties, result.properties, strict=True):
            if p.kind != PropKind.LEADS_TO:
                continue
            r = p.response
            assert r is not None
            try:
                worst = max(
                    _oracle(model, p, c, graph) for c in (range(model.cpus) if p.per_cpu else [-1])
                )
            except EvalError:
                assert res.verdict == Verdict.UNKNOWN, text
                continue
            limit = r.within if r.within is not None else r.count_max
            violated = worst == NEVER if limit is None else worst > limit
            assert res.verdict == (Verdict.VIOLATED if violated else Verdict.HOLDS), (
                p.id,
                worst,
                res.reason,
                text,
            )
            if not violated and limit is not None and not res.reason.startswith("vacuous"):
                assert res.reason.startswith(f"worst case {worst} "), (p.id, worst, text)
            if r.strong:
                kinds.add("strong")
            if violated:
                assert res.trace is not None
                replay(model, p, res.trace)  # check_file did too
                kinds.add("lasso" if res.trace.loop is not None else "path")
                kinds.add("never" if worst == NEVER else "bounded")
            else:
                kinds.add("holds")

    agree()
    assert kinds >= {"lasso", "path", "never", "bounded", "holds", "strong"}, kinds


DESIGN_EXAMPLE = """
model: design-example
vars:
  pc: {type: int, range: [0, 2]}
  tif_lazy: {type: bool}
actions:
  preempt_disable:
    when: pc < 2
    do: {pc: pc + 1}
  preempt_enable:
    when: pc > 0
    do: {pc: pc - 1}
  schedule:
    when: pc == 0
    do: {tif_lazy: false}
    tags: [schedule]
  tick:
    do: {tif_lazy: true}
properties:
  lazy-within-one-tick:
    leads_to: {from: tif_lazy, to: tag:schedule}
    within: {count: tick, max: 1}      # or an int: at most N steps
    fair: [tick]                       # weak fairness assumptions
    expect: violated                   # a preempt-disabled section can span two ticks
"""


def test_the_design_example_works_as_written(tmp_path: Path) -> None:
    # DESIGN §1.5's property, verbatim. Only the tick is fair, so the shortest violation is
    # the request, then ticks for ever: the schedule never comes (a lasso, not a count)
    p = _by_id(_check(tmp_path, DESIGN_EXAMPLE))["lazy-within-one-tick"]
    assert p.verdict == Verdict.VIOLATED
    assert p.outcome.value == "as-expected"
    assert p.trace is not None
    assert p.trace.loop == 1
    assert [s.action for s in p.trace.steps] == ["tick", "tick"]
