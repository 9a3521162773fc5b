"""A monitor property on the explicit state graph: breadth-first search of the product of the
model's reachable graph with every instance of the automaton.

The first violating step found is on a shortest violating run (breadth-first order). The
search goes on past it, without following violating steps, to count which edges of the
automaton the model's runs take (edge coverage).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from preemptcheck import interrupt
from preemptcheck.engines.graph import StateGraph
from preemptcheck.monitors.semantics import NOT_MONITORING, Delivery, Emitted, MonitorSemantics
from preemptcheck.system import State, StepLabel
from preemptcheck.trace import Trace

POLL = 4096  # product states between two looks at the clock and at signals


class ProductLimit(Exception):
    """The product does not fit the limits: the monitor verdict is unknown."""


@dataclass
class MonitorRun:
    violation: Trace | None = None
    message: str = ""
    states: int = 0  # product states explored
    taken: set[tuple[str, str]] = field(default_factory=set)  # (src, event) edges
    delivered: set[str] = field(default_factory=set)  # automaton events that arrived


def check_monitor(
    sem: MonitorSemantics,
    graph: StateGraph,
    unpack: Callable[[int], State],
    labels: list[StepLabel],
    *,
    max_states: int | None = None,
    deadline: float | None = None,
    events: Callable[[int, State], Emitted] | None = None,
) -> MonitorRun:
    """One monitor: when its state is a function of the model's state and nothing
    violates it (the usual case), one pass over the graph decides it; else check_monitors."""
    effects = _Effects(sem)
    known: list[tuple[_Effect, ...] | bool | None] = [False] * len(graph.dst)  # per edge
    run = _functional(
        sem, graph, unpack, labels, deadline=deadline, events=events, effects=effects, known=known
    )
    if run is not None:
        return run
    (run,) = check_monitors(
        [sem],
        graph,
        unpack,
        labels,
        max_states=max_states,
        deadline=deadline,
        events=events,
        reuse=(effects, known),
    )
    return run


def _functional(
    sem: MonitorSemantics,
    graph: StateGraph,
    unpack: Callable[[int], State],
    labels: list[StepLabel],
    *,
    deadline: float | None,
    events: Callable[[int, State], Emitted] | None,
    effects: _Effects,
    known: list[tuple[_Effect, ...] | bool | None],
) -> MonitorRun | None:
    """The product when each graph state has one monitor state: in the graph's breadth-first
    order every state's code is known from its BFS parent before it is expanded, and an
    edge that gives a state another code than it has, or violates, means the product is not
    the graph (None: search the product). Then the product states are the graph's, and
    the result is the one check_monitors would give. Each edge's effect goes into `known`
    (False: not computed yet) for check_monitors to reuse."""
    base = len(sem.automaton.states) + 1
    ws = [base**i for i in range(len(sem.instances))]
    sources = {row.source for row in sem.monitor.table if not row.actions}
    selected = {a for row in sem.monitor.table for a in row.actions}
    n = len(graph.states)
    codes = [-1] * n
    codes[0] = sum(_code(x, base) * w for x, w in zip(sem.initial(), ws, strict=True))
    seen: set[tuple[int, int, int]] = set()
    dst, states_, sid, off = graph.dst, graph.states, graph.sid, graph.off
    for v in range(n):
        if v % POLL == 0:
            if interrupt.requested():
                raise ProductLimit(interrupt.reason() or "interrupted")
            if deadline is not None and time.monotonic() > deadline:
                raise ProductLimit("timeout reached")
        code = codes[v]
        st: State | None = None
        for e in range(off[v], off[v + 1]):
            label = labels[sid[e]]
            eff = None
            if label.action in selected or events is None:
                st = st or unpack(states_[v])
                eff = effects.of(sem.deliveries(st, label))
            else:
                st = st or unpack(states_[v])
                emits = events(e, st)
                if any(ev in sources for ev, _ in emits):
                    eff = effects.of(sem.deliveries(st, label, emits))
            known[e] = eff
            after = code
            if eff is not None:
                for fid, inst, table in eff:
                    w = ws[inst]
                    cur = (code // w) % base
                    nxt = table[cur]
                    if nxt == VIOLATION:
                        return None
                    seen.add((fid, inst, cur))
                    after += (nxt - cur) * w
            d = dst[e]
            if codes[d] == -1:
                if d < v:
                    return None  # cannot happen in BFS order; be safe
                codes[d] = after
            elif codes[d] != after:
                return None
    run = MonitorRun(states=n)
    for key in seen:
        run.taken.update(effects.taken[key])
        run.delivered.update(effects.events[key[0]])
    return run


DEAD = -1  # a monitor that has reacted on the path to a product state: it watches no more


def check_monitors(
    sems: list[MonitorSemantics],
    graph: StateGraph,
    unpack: Callable[[int], State],
    labels: list[StepLabel],
    *,
    max_states: int | None = None,
    deadline: float | None = None,
    events: Callable[[int, State], Emitted] | None = None,
    reuse: tuple[_Effects, list[tuple[_Effect, ...] | bool | None]] | None = None,
) -> list[MonitorRun]:
    """Every monitor of a model in one breadth-first search of the product of the state
    graph with all their instances. `events(e, st)`: the events graph edge e emits from st.

    What a step does to a monitor's instances depends on the step alone, so each graph edge
    gets its effect once: per instance it delivers to, a table from that instance's state
    to the state after the step's deliveries (or VIOLATION), built with
    MonitorSemantics.react. Instances are independent (a delivery reads and writes its own
    instance only), so the search composes the tables; a monitor's state is its instances'
    states packed into one int. A violating step leaves that monitor DEAD on the path it
    ends: the others go on, and the dead one takes no more edges there, so each monitor's
    verdict, shortest trace and coverage are those of its own product."""
    m = len(sems)
    runs = [MonitorRun() for _ in sems]
    effects = [_Effects(sem) for sem in sems] if reuse is None else [reuse[0]]
    reused = reuse[1] if reuse is not None and len(sems) == 1 else None
    bases = [len(sem.automaton.states) + 1 for sem in sems]
    weights = [
        [b**i for i in range(len(sem.instances))] for sem, b in zip(sems, bases, strict=True)
    ]
    start = tuple(
        sum(_code(s, b) * w for s, w in zip(sem.initial(), ws, strict=True))
        for sem, b, ws in zip(sems, bases, weights, strict=True)
    )
    sources = [{row.source for row in sem.monitor.table if not row.actions} for sem in sems]
    selected = [{a for row in sem.monitor.table for a in row.actions} for sem in sems]
    # per graph edge: (monitor, effect) for the monitors it delivers something to
    edge_effect: list[tuple[tuple[int, tuple[_Effect, ...]], ...] | None] = [None] * len(graph.dst)
    index = {(0, start): 0}
    nodes = [(0, start)]
    parent = [-1]
    via = [-1]
    seen: list[set[tuple[int, int, int]]] = [set() for _ in sems]
    dst, states_, sid, off = graph.dst, graph.states, graph.sid, graph.off
    i = 0
    while i < len(nodes):
        if i % POLL == 0:
            if interrupt.requested():
                raise ProductLimit(interrupt.reason() or "interrupted")
            if deadline is not None and time.monotonic() > deadline:
                raise ProductLimit("timeout reached")
        v, codes = nodes[i]
        for e in range(off[v], off[v + 1]):
            effs = edge_effect[e]
            if effs is None and reused is not None and reused[e] is not False:
                one = reused[e]
                effs = edge_effect[e] = () if one is None else ((0, one),)  # type: ignore[assignment]
            if effs is None:
                st = unpack(states_[v])
                label = labels[sid[e]]
                emits = events(e, st) if events is not None else None
                got = []
                for k, sem in enumerate(sems):
                    if (
                        emits is not None
                        and label.action not in selected[k]
                        and not any(ev in sources[k] for ev, _ in emits)
                    ):
                        continue  # nothing for this monitor
                    eff = effects[k].of(sem.deliveries(st, label, emits))
                    if eff is not None:
                        got.append((k, eff))
                effs = edge_effect[e] = tuple(got)
            after = codes
            for k, eff in effs:
                code = codes[k]
                if code == DEAD:
                    continue
                new = code
                ws, base = weights[k], bases[k]
                step_seen = []  # counted only if the step does not violate
                for fid, inst, table in eff:
                    w = ws[inst]
                    cur = (code // w) % base
                    nxt = table[cur]
                    if nxt == VIOLATION:
                        new = DEAD
                        break
                    step_seen.append((fid, inst, cur))
                    new += (nxt - cur) * w
                else:
                    seen[k].update(step_seen)
                if new == DEAD:
                    run = runs[k]
                    _violating_step(
                        sems[k], run, unpack(states_[v]), labels[sid[e]], code, ws, base
                    )
                    if run.violation is None:
                        run.violation, run.message = _violation(
                            sems[k], graph, unpack, labels, nodes, parent, via, i, e, k, ws, base
                        )
                if new != code:
                    after = (*after[:k], new, *after[k + 1 :])
            node = (dst[e], after)
            kk = index.setdefault(node, len(nodes))
            if kk == len(nodes):
                if max_states is not None and kk >= max_states:
                    raise ProductLimit(f"state limit reached ({max_states:,} product states)")
                nodes.append(node)
                parent.append(i)
                via.append(e)
        i += 1
    for k in range(m):
        runs[k].states = len({(v, codes[k]) for v, codes in nodes if codes[k] != DEAD})
        for key in seen[k]:
            runs[k].taken.update(effects[k].taken[key])
            runs[k].delivered.update(effects[k].events[key[0]])
    return runs


def _decode(code: int, weights: list[int], base: int) -> tuple[int, ...]:
    return tuple(
        NOT_MONITORING if (code // w) % base == base - 1 else (code // w) % base for w in weights
    )


def _violating_step(
    sem: MonitorSemantics,
    run: MonitorRun,
    st: State,
    label: StepLabel,
    code: int,
    weights: list[int],
    base: int,
) -> None:
    """Coverage of a violating step: the deliveries before the violating one, in order."""
    cur = _decode(code, weights, base)
    for d in sem.deliveries(st, label):
        run.delivered.add(d.event)
        r = sem.react(cur, d)
        if r.violation is not None:
            return
        if r.edge is not None:
            run.taken.add((r.edge.src, r.edge.event))
        cur = r.states


VIOLATION = -2
_Effect = tuple[int, int, tuple[int, ...]]  # (effect id, instance, state -> state or VIOLATION)


def _code(state: int, base: int) -> int:
    return base - 1 if state == NOT_MONITORING else state


class _Effects:
    """Effects of delivery lists, built once per distinct list."""

    def __init__(self, sem: MonitorSemantics) -> None:
        self.sem = sem
        self.cache: dict[tuple[Delivery, ...], tuple[_Effect, ...] | None] = {}
        self.taken: dict[tuple[int, int, int], tuple[tuple[str, str], ...]] = {}
        self.events: list[frozenset[str]] = []  # per effect id: the events it delivers

    def of(self, dl: list[Delivery]) -> tuple[_Effect, ...] | None:
        key = tuple(dl)
        if key in self.cache:
            return self.cache[key]
        out: list[_Effect] = []
        n = len(self.sem.instances)
        nstates = len(self.sem.automaton.states)
        for inst in dict.fromkeys(d.instance for d in dl):
            mine = [d for d in dl if d.instance == inst]
            fid = len(self.events)
            self.events.append(frozenset(d.event for d in mine))
            table: list[int] = []
            for cur in range(nstates + 1):
                vec = [0] * n
                vec[inst] = NOT_MONITORING if cur == nstates else cur
                states = tuple(vec)
                taken: list[tuple[str, str]] = []
                for d in mine:
                    r = self.sem.react(states, d)
                    if r.violation is not None:
                        table.append(VIOLATION)
                        break
                    if r.edge is not None:
                        taken.append((r.edge.src, r.edge.event))
                    states = r.states
                else:
                    after = states[inst]
                    table.append(nstates if after == NOT_MONITORING else after)
                self.taken[(fid, inst, cur)] = tuple(taken)
            out.append((fid, inst, tuple(table)))
        self.cache[key] = tuple(out) if out else None
        return self.cache[key]


def _violation(
    sem: MonitorSemantics,
    graph: StateGraph,
    unpack: Callable[[int], State],
    labels: list[StepLabel],
    nodes: list[tuple[int, tuple[int, ...]]],
    parent: list[int],
    via: list[int],
    last: int,
    edge: int,
    k: int,
    weights: list[int],
    base: int,
) -> tuple[Trace, str]:
    """The trace to the violating step, and the message of monitor k's first violating
    delivery (in the step's own order)."""
    chain = set()
    j = last
    while j != -1:
        chain.add(j)
        j = parent[j]
    decode = {j: _decode(nodes[j][1][k], weights, base) for j in chain}
    trace = _trace(sem, graph, unpack, labels, nodes, decode, parent, via, last, edge)
    cur = decode[last]
    st = unpack(graph.states[nodes[last][0]])
    for d in sem.deliveries(st, labels[graph.sid[edge]]):
        r = sem.react(cur, d)
        if r.violation is not None:
            return trace, r.violation
        cur = r.states
    raise AssertionError("a violating step that violates nothing")


def _trace(
    sem: MonitorSemantics,
    graph: StateGraph,
    unpack: Callable[[int], State],
    labels: list[StepLabel],
    nodes: list[tuple[int, tuple[int, ...]]],
    decode: dict[int, tuple[int, ...]],
    parent: list[int],
    via: list[int],
    last: int,
    edge: int,
) -> Trace:
    chain = []
    k = last
    while k != -1:
        chain.append(k)
        k = parent[k]
    chain.reverse()
    edges = [via[k] for k in chain[1:]] + [edge]
    states = [graph.states[nodes[k][0]] for k in chain] + [graph.states[graph.dst[edge]]]
    shown = [sem.show(decode[k]) for k in chain]
    shown.append(shown[-1])  # the violating step moves no instance
    return Trace(
        tuple(unpack(p) for p in states),
        tuple(labels[graph.sid[e]] for e in edges),
        monitor=tuple(shown),
    )
