"""The reachable state graph, kept whole for liveness: packed states, edges in CSR arrays.

Built by the same compiled successor function as the breadth-first search (without symmetry
reduction: a liveness property may name one CPU), with the BFS tree for shortest prefixes.
`sccs` is an iterative Tarjan: no recursion limit, linear in the edges it is given.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterable, Sequence

from preemptcheck.core import interrupt
from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.stategraph import GraphLimit as GraphLimit  # re-exported
from preemptcheck.engines.stategraph import StateGraph as StateGraph
from preemptcheck.model.ir import PropKind
from preemptcheck.semantics.system import initial_state


def build_graph(
    explorer: Explorer,
    *,
    max_states: int | None = None,
    timeout: float | None = None,
    native: bool = False,
    phase: Callable[[str], None] | None = None,
) -> StateGraph:
    """Every reachable state and every step between two of them (range errors have none).

    `native`: built by the native store (the same graph, in the same order), as after a
    native search."""
    if native:
        from preemptcheck.engines.explicit.nativerun import build_graph_native

        return build_graph_native(explorer, max_states=max_states, timeout=timeout, phase=phase)
    t0 = time.monotonic()
    expand = explorer.expand
    cov = [0] * len(explorer.ts.model.actions)
    init = explorer.layout.pack(initial_state(explorer.ts.model))  # never symmetry-reduced
    index = {init: 0}
    states = [init]
    off = array("q", [0])
    dst = array("q")
    sid = array("l")
    parent = array("q", [-1])
    via = array("q", [-1])
    range_bit = next(
        1 << pi for pi, p in enumerate(explorer.ts.properties) if p.kind == PropKind.RANGE
    )
    failing: str | None = None
    i = 0
    while i < len(states):
        out, ev, _ = expand(states[i], range_bit, cov)
        if ev and failing is None:
            failing = next((msg for *_, msg in ev if msg), "a step cannot be evaluated")
        for j in range(0, len(out), 2):
            ns = out[j]
            k = index.setdefault(ns, len(states))
            if k == len(states):
                if max_states is not None and k >= max_states:
                    raise GraphLimit(f"state limit reached ({max_states:,} states)")
                states.append(ns)
                parent.append(i)
                via.append(len(dst))
            dst.append(k)
            sid.append(out[j + 1])
        off.append(len(dst))
        i += 1
        if i & 0x3FFF == 0:
            if phase is not None:
                phase(f"state graph: {len(states):,} states, {len(dst):,} edges")
            if timeout is not None and time.monotonic() - t0 > timeout:
                raise GraphLimit(f"timeout after {timeout:g} s")
            if interrupt.requested():
                raise GraphLimit(interrupt.reason())
    return StateGraph(states, off, dst, sid, parent, via, failing)


def sccs(nodes: Iterable[int], succ: Callable[[int], Sequence[int]]) -> list[list[int]]:
    """Strongly connected components of the graph `succ` restricted to what `nodes` reach,
    in reverse topological order: a component comes after every component it leads to."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    for root in nodes:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[int, Sequence[int], int]] = [(root, succ(root), 0)]
        while work:
            v, nbrs, k = work[-1]
            descended = False
            while k < len(nbrs):
                w = nbrs[k]
                k += 1
                if w not in index:
                    work[-1] = (v, nbrs, k)
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, succ(w), 0))
                    descended = True
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            if descended:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
    return out
