"""The reachable state graph as a networkx graph: a node per state, or per value of chosen
variables (the quotient), each edge with its step labels, a counterexample's path marked."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from preemptcheck.core.errors import Code, Collector, UsageError, did_you_mean
from preemptcheck.core.source import Span
from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.stategraph import StateGraph
from preemptcheck.model.ir import Model
from preemptcheck.model.params import show
from preemptcheck.report.kernel import show_scalar
from preemptcheck.report.text import var_entries
from preemptcheck.semantics.system import State
from preemptcheck.semantics.trace import Trace

YES, NO = "true", "false"


class TooLarge(Exception):
    """The graph (after projection) has more nodes than may be drawn."""

    def __init__(self, nodes: int, limit: int) -> None:
        super().__init__(f"the graph has {nodes:,} nodes, over --max-nodes {limit:,}")
        self.nodes = nodes
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Drawing:
    graph: Any  # nx.DiGraph: nodes s0, s1, ... (s0 holds the initial state)
    states: int  # of the state graph
    steps: int  # its edges
    project: tuple[str, ...]  # the variables of the quotient; () for the whole graph
    node_of: Callable[[State], str | None]  # the node a state of a trace belongs to
    highlighted: str | None = None  # the property whose trace is marked
    unmarked: int = 0  # steps of that trace not found in the graph (0 when all are marked)


def check_project(model: Model, names: Sequence[str]) -> tuple[str, ...]:
    """The variables named by --project, in the model's order; a usage error otherwise."""
    known = [v.name for v in model.vars]
    diags = Collector()
    for name in names:
        if name not in known:
            diags.error(
                Code.BAD_OPTION,
                f"--project {name}: not a variable of this model",
                Span(model.file, 0, 0),
                hint=did_you_mean(name, known),
            )
    diags.raise_if_any(UsageError)
    return tuple(n for n in known if n in names)


def _entries(model: Model, st: State, names: tuple[str, ...] | None) -> list[tuple[str, str]]:
    """(display name, shown value) of each entry of the named variables (all for None)."""
    out: list[tuple[str, str]] = []
    for var, value in zip(model.vars, st.values, strict=True):
        if names is None or var.name in names:
            out.extend((n, show_scalar(var, v)) for n, v in var_entries(model, var, value))
    return out


def _seq(st: State) -> list[tuple[str, str]]:
    """Where each CPU is inside a `steps` sequence: a state is more than its variables."""
    return [
        (f"seq@cpu{c}", f"{p.action} before step {p.next + 1}")
        for c, p in enumerate(st.seq)
        if p is not None
    ]


def draw(
    explorer: Explorer,
    sg: StateGraph,
    *,
    project: tuple[str, ...] = (),
    max_nodes: int,
) -> Drawing:
    """The graph of `sg` (its quotient over `project` when given); TooLarge when it has
    more than `max_nodes` nodes."""
    model = explorer.ts.model
    unpack = explorer.layout.unpack
    key: Callable[[int], Hashable]
    if project:

        def key(packed: int) -> Hashable:
            return tuple(v for _, v in _entries(model, unpack(packed), project))

    else:

        def key(packed: int) -> Hashable:
            return packed

    group: dict[Hashable, int] = {}
    of = [group.setdefault(key(s), len(group)) for s in sg.states]
    if len(group) > max_nodes:
        raise TooLarge(len(group), max_nodes)
    first = [-1] * len(group)
    size = [0] * len(group)
    for v, g in enumerate(of):
        if first[g] < 0:
            first[g] = v
        size[g] += 1
    graph = nx.DiGraph()
    for g, v in enumerate(first):
        st = unpack(sg.states[v])
        attrs = dict(_entries(model, st, project or None))
        if not project:
            attrs.update(_seq(st))
        graph.add_node(
            f"s{g}", **attrs, states=str(size[g]), initial=YES if g == 0 else NO, counterexample=NO
        )
    labels: dict[tuple[int, int], dict[str, int]] = {}
    steps = explorer.ts.steps
    for v, g in enumerate(of):
        for e in sg.edges(v):
            per = labels.setdefault((g, of[sg.dst[e]]), {})
            name = str(steps[sg.sid[e]].label)
            per[name] = per.get(name, 0) + 1
    for (g, h), per in labels.items():
        graph.add_edge(
            f"s{g}",
            f"s{h}",
            labels="\n".join(per),
            count=str(sum(per.values())),
            counterexample=NO,
        )
    graph.graph.update(
        model=model.name,
        params=", ".join(f"{k}={show(v)}" for k, v in model.param_values),
        project=",".join(project),
        counterexample="",
    )
    pack = explorer.layout.pack

    def node_of(st: State) -> str | None:
        g = group.get(key(pack(st)))
        return None if g is None else f"s{g}"

    return Drawing(graph, len(sg), len(sg.dst), project, node_of)


def highlight(drawing: Drawing, prop: str, trace: Trace) -> Drawing:
    """The drawing with the nodes and steps of `trace` marked (the graph is marked in
    place); `unmarked` counts the steps not found in it."""
    graph = drawing.graph
    nodes = [drawing.node_of(st) for st in trace.states]
    missed = 0
    for n in nodes:
        if n is not None:
            graph.nodes[n]["counterexample"] = YES
    for a, b in itertools.pairwise(nodes):
        if a is None or b is None or not graph.has_edge(a, b):
            missed += 1
            continue
        graph.edges[a, b]["counterexample"] = YES
    graph.graph["counterexample"] = prop
    return dataclasses.replace(drawing, highlighted=prop, unmarked=missed)
