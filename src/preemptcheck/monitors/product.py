"""A monitor property on the explicit state graph: breadth-first search of the product of the
model's reachable graph with every instance of the automaton.

What a step does to the instances depends on the step alone, so each graph edge gets its
effect once: per instance it delivers to, a table from that instance's state to the state
after the step's deliveries (or VIOLATION), built with MonitorSemantics.react. Instances
are independent (a delivery reads and writes its own instance only), so the search
composes the tables, on the instances' states packed into one int (`code`).

The first violating step found is on a shortest violating run (breadth-first order); its
message is the step's first violating delivery, in the step's own order. The search goes
on past it, without following violating steps, to count which edges of the automaton the
model's runs take (edge coverage).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from preemptcheck.core import interrupt
from preemptcheck.engines.graph import StateGraph
from preemptcheck.monitors.semantics import NOT_MONITORING, Delivery, Emitted, MonitorSemantics
from preemptcheck.semantics.system import State, StepLabel
from preemptcheck.semantics.trace import Trace

POLL = 4096  # product states between two looks at the clock and at signals
VIOLATION = -2
_Effect = tuple[int, int, tuple[int, ...]]  # (effect id, instance, state -> state or VIOLATION)
_UNKNOWN: tuple[_Effect, ...] = ((-1, -1, ()),)  # an edge whose effect is not computed yet


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
    """`events(e, st)`: the events graph edge e emits from st (shared by the monitors of a
    model); without it each step's events are evaluated here."""
    run = MonitorRun()
    effects = _Effects(sem)
    base = len(sem.automaton.states) + 1  # an instance state, or NOT_MONITORING as base - 1
    weights = [base**i for i in range(len(sem.instances))]
    sources = {row.source for row in sem.monitor.table if not row.actions}
    selected = {a for row in sem.monitor.table for a in row.actions}
    edge_effect: list[tuple[_Effect, ...] | None] = [_UNKNOWN] * len(graph.dst)
    start = sum(_code(s, base) * w for s, w in zip(sem.initial(), weights, strict=True))
    size = base ** len(weights)  # product state key: graph state * size + code
    index = {start: 0}
    nodes = [start]
    parent = [-1]
    via = [-1]
    seen: set[tuple[int, int, int]] = set()  # (effect id, instance, state) of taken steps
    dst, states, sid, off = graph.dst, graph.states, graph.sid, graph.off
    i = 0
    while i < len(nodes):
        if i % POLL == 0:
            if interrupt.requested():
                raise ProductLimit(interrupt.reason() or "interrupted")
            if deadline is not None and time.monotonic() > deadline:
                raise ProductLimit("timeout reached")
        v, code = divmod(nodes[i], size)
        for e in range(off[v], off[v + 1]):
            eff = edge_effect[e]
            if eff is _UNKNOWN:
                st = unpack(states[v])
                label = labels[sid[e]]
                emits = events(e, st) if events is not None else None
                if (
                    emits is not None
                    and label.action not in selected
                    and not any(ev in sources for ev, _ in emits)
                ):
                    eff = None  # nothing for this monitor
                else:
                    eff = effects.of(sem.deliveries(st, label, emits))
                edge_effect[e] = eff
            after = code
            if eff is not None:
                step: list[tuple[int, int, int]] = []  # counted only if the step does not violate
                for fid, inst, table in eff:
                    w = weights[inst]
                    cur = (code // w) % base
                    nxt = table[cur]
                    if nxt == VIOLATION:
                        after = VIOLATION
                        break
                    step.append((fid, inst, cur))
                    after += (nxt - cur) * w
                if after == VIOLATION:
                    cur_states = _decode(code, weights, base)
                    message = _violating_step(
                        sem, run, unpack(states[v]), labels[sid[e]], cur_states
                    )
                    if run.violation is None:
                        run.message = message
                        run.violation = _trace(
                            sem, graph, unpack, labels, nodes, parent, via, i, e, weights, base
                        )
                    continue
                seen.update(step)
            key = dst[e] * size + after
            k = index.setdefault(key, len(nodes))
            if k == len(nodes):
                if max_states is not None and k >= max_states:
                    raise ProductLimit(f"state limit reached ({max_states:,} product states)")
                nodes.append(key)
                parent.append(i)
                via.append(e)
        i += 1
    run.states = len(nodes)
    for key in seen:
        run.taken.update(effects.taken[key])
        run.delivered.update(effects.events[key[0]])
    return run


def _code(state: int, base: int) -> int:
    return base - 1 if state == NOT_MONITORING else state


def _decode(code: int, weights: list[int], base: int) -> tuple[int, ...]:
    return tuple(
        NOT_MONITORING if (code // w) % base == base - 1 else (code // w) % base for w in weights
    )


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


def _violating_step(
    sem: MonitorSemantics,
    run: MonitorRun,
    st: State,
    label: StepLabel,
    cur: tuple[int, ...],
) -> str:
    """A violating step in its own order: coverage of the deliveries before the violating
    one, and that one's message."""
    for d in sem.deliveries(st, label):
        run.delivered.add(d.event)
        r = sem.react(cur, d)
        if r.violation is not None:
            return r.violation
        if r.edge is not None:
            run.taken.add((r.edge.src, r.edge.event))
        cur = r.states
    raise AssertionError("a violating step that violates nothing")


def _trace(
    sem: MonitorSemantics,
    graph: StateGraph,
    unpack: Callable[[int], State],
    labels: list[StepLabel],
    nodes: list[int],
    parent: list[int],
    via: list[int],
    last: int,
    edge: int,
    weights: list[int],
    base: int,
) -> Trace:
    """The run to product state `last` and its violating step `edge`, with every instance's
    state after each step (the violating step moves none)."""
    size = base ** len(weights)
    chain = []
    k = last
    while k != -1:
        chain.append(k)
        k = parent[k]
    chain.reverse()
    edges = [via[k] for k in chain[1:]] + [edge]
    packed = [graph.states[nodes[k] // size] for k in chain] + [graph.states[graph.dst[edge]]]
    shown = [sem.show(_decode(nodes[k] % size, weights, base)) for k in chain]
    shown.append(shown[-1])
    return Trace(
        tuple(unpack(p) for p in packed),
        tuple(labels[graph.sid[e]] for e in edges),
        monitor=tuple(shown),
    )
