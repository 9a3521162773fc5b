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
from preemptcheck.monitors.semantics import Delivery, Emitted, MonitorSemantics
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
    """`events(e, st)`: the events graph edge e emits from st, shared by every monitor."""
    run = MonitorRun()
    cache: dict[int, list[Delivery]] = {}
    start = (0, sem.initial())
    index = {start: 0}
    nodes = [start]
    parent = [-1]
    via = [-1]
    i = 0
    while i < len(nodes):
        if i % POLL == 0:
            if interrupt.requested():
                raise ProductLimit(interrupt.reason() or "interrupted")
            if deadline is not None and time.monotonic() > deadline:
                raise ProductLimit("timeout reached")
        v, mstates = nodes[i]
        st: State | None = None
        for e in graph.edges(v):
            dl = cache.get(e)
            if dl is None:
                if st is None:
                    st = unpack(graph.states[v])
                emits = events(e, st) if events is not None else None
                dl = cache[e] = sem.deliveries(st, labels[graph.sid[e]], emits)
            cur = mstates
            bad: str | None = None
            for d in dl:
                run.delivered.add(d.event)
                r = sem.react(cur, d)
                if r.violation is not None:
                    bad = r.violation
                    break
                if r.edge is not None:
                    run.taken.add((r.edge.src, r.edge.event))
                cur = r.states
            if bad is not None:
                if run.violation is None:
                    run.message = bad
                    run.violation = _trace(sem, graph, unpack, labels, nodes, parent, via, i, e)
                continue
            node = (graph.dst[e], cur)
            k = index.setdefault(node, len(nodes))
            if k == len(nodes):
                if max_states is not None and k >= max_states:
                    raise ProductLimit(f"state limit reached ({max_states:,} product states)")
                nodes.append(node)
                parent.append(i)
                via.append(e)
        i += 1
    run.states = len(nodes)
    return run


def _trace(
    sem: MonitorSemantics,
    graph: StateGraph,
    unpack: Callable[[int], State],
    labels: list[StepLabel],
    nodes: list[tuple[int, tuple[int, ...]]],
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
    shown = [sem.show(nodes[k][1]) for k in chain]
    shown.append(shown[-1])  # the violating step moves no instance
    return Trace(
        tuple(unpack(p) for p in states),
        tuple(labels[graph.sid[e]] for e in edges),
        monitor=tuple(shown),
    )
