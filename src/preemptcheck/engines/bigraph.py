"""Large state graphs: engines.graph.sccs and the pending-edge mask in compiled code.

The same iterative Tarjan as graph.sccs, step for step (roots in the given order, edges in
CSR order, components in completion order, members in the order they leave the stack), so
a liveness analysis gets the very same components, and the same traces, either way; used
for graphs of liveness.BIG states and more, where the Python version takes minutes.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numba import njit, types

if TYPE_CHECKING:
    from preemptcheck.engines.graph import StateGraph
    from preemptcheck.engines.layout import Layout
    from preemptcheck.expr.ast import Expr, Value
    from preemptcheck.semantics.system import TransitionSystem


def edge_mask(
    sid: array[int], dst: array[int], goal_step: list[bool], pend: list[bool]
) -> list[bool]:
    """Per edge: its step is a response, or it enters a state where the request is answered
    (liveness._Pending.ans)."""
    sids = np.frombuffer(sid, dtype=np.dtype(sid.typecode))
    dsts = np.frombuffer(dst, dtype=np.dtype(dst.typecode))
    ans = np.asarray(goal_step, dtype=bool)[sids] | ~np.asarray(pend, dtype=bool)[dsts]
    out: list[bool] = ans.tolist()
    return out


@njit(
    types.int64(
        types.int64[::1],  # roots, in order
        types.int64[::1],  # off
        types.int64[::1],  # dst
        types.uint8[::1],  # skip: per edge, not part of the graph
        types.int64[::1],  # members: out, in the order they leave the stack
        types.int64[::1],  # ends: out, the end of each component in members
    ),
    cache=True,
)
def _tarjan(roots, off, dst, skip, members, ends):  # type: ignore[no-untyped-def]
    n = off.shape[0] - 1
    index = np.full(n, -1, np.int64)
    low = np.zeros(n, np.int64)
    on_stack = np.zeros(n, np.uint8)
    stack = np.empty(n, np.int64)
    work_v = np.empty(n, np.int64)
    work_e = np.empty(n, np.int64)
    top = 0  # of stack
    depth = 0  # of work
    counter = 0
    n_members = 0
    n_comps = 0
    for r in range(roots.shape[0]):
        root = roots[r]
        if index[root] != -1:
            continue
        index[root] = counter
        low[root] = counter
        counter += 1
        stack[top] = root
        top += 1
        on_stack[root] = 1
        work_v[depth] = root
        work_e[depth] = off[root]
        depth += 1
        while depth > 0:
            v = work_v[depth - 1]
            e = work_e[depth - 1]
            descended = False
            while e < off[v + 1]:
                if skip[e]:
                    e += 1
                    continue
                w = dst[e]
                e += 1
                if index[w] == -1:
                    work_e[depth - 1] = e
                    index[w] = counter
                    low[w] = counter
                    counter += 1
                    stack[top] = w
                    top += 1
                    on_stack[w] = 1
                    work_v[depth] = w
                    work_e[depth] = off[w]
                    depth += 1
                    descended = True
                    break
                if on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            if descended:
                continue
            depth -= 1
            if depth > 0:
                u = work_v[depth - 1]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                while True:
                    top -= 1
                    w = stack[top]
                    on_stack[w] = 0
                    members[n_members] = w
                    n_members += 1
                    if w == v:
                        break
                ends[n_comps] = n_members
                n_comps += 1
    return n_comps


def _sccs(
    roots: np.ndarray, off: np.ndarray, dst: np.ndarray, skip: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """graph.sccs over the edges that `skip` does not mark: every component's members, one
    after the other, and where each one ends."""
    n = len(off) - 1
    members = np.empty(n, np.int64)
    ends = np.empty(n + 1, np.int64)
    k = _tarjan(np.asarray(roots, np.int64), off, dst, skip, members, ends)
    return members, ends[:k].copy()


def _lists(members: np.ndarray, ends: np.ndarray) -> list[list[int]]:
    flat: list[int] = members[: ends[-1] if len(ends) else 0].tolist()
    cuts = [0, *ends.tolist()]
    return [flat[cuts[c] : cuts[c + 1]] for c in range(len(ends))]


def sccs_csr(
    roots: list[int], off: array[int], dst: array[int], ans: list[bool]
) -> list[list[int]]:
    """graph.sccs(roots, successors over the edges that are not `ans`), compiled."""
    offs = np.frombuffer(off, dtype=np.dtype(off.typecode)).astype(np.int64, copy=False)
    dsts = np.frombuffer(dst, dtype=np.dtype(dst.typecode)).astype(np.int64, copy=False)
    return _lists(*_sccs(np.asarray(roots), offs, dsts, np.asarray(ans, dtype=np.uint8)))


# ---------------------------------------------------------------- liveness._Pending.solve

NEVER = np.iinfo(np.int64).max  # liveness.NEVER and UNBOUNDED (sys.maxsize on 64-bit)
UNBOUNDED = NEVER - 1


@njit(cache=True)
def _internal(members, ends, off, dst, sid, ans, weight, comp_of, internal, counted):  # type: ignore[no-untyped-def]
    start = 0
    for c in range(ends.shape[0]):
        for m in range(start, ends[c]):
            comp_of[members[m]] = c
        start = ends[c]
    start = 0
    for c in range(ends.shape[0]):
        for m in range(start, ends[c]):
            v = members[m]
            for e in range(off[v], off[v + 1]):
                if not ans[e] and comp_of[dst[e]] == c:
                    internal[c] = 1
                    if weight[sid[e]] > 0:
                        counted[c] = 1
        start = ends[c]


@njit(cache=True)
def _values(  # type: ignore[no-untyped-def]
    members, ends, off, dst, sid, ans, weight, comp_of, counted, never, value, kind, arg_v, arg_e
):
    """The worst case of each component, sinks first, exactly as liveness._Pending.solve."""
    start = 0
    for c in range(ends.shape[0]):
        worst = -1
        av = -1
        ae = -1
        for m in range(start, ends[c]):
            v = members[m]
            for e in range(off[v], off[v + 1]):
                w = weight[sid[e]]
                if ans[e]:
                    cand = w
                elif comp_of[dst[e]] == c:
                    continue
                else:
                    after = value[comp_of[dst[e]]]
                    cand = after if after >= UNBOUNDED else w + after
                if cand > worst:
                    worst = cand
                    av = v
                    ae = e
        v0 = members[start]
        stuck = ends[c] - start == 1 and off[v0] == off[v0 + 1]
        k = 0
        if stuck or never[c]:
            worst = NEVER
            k = 1
        elif counted[c] and worst < UNBOUNDED:
            worst = UNBOUNDED
            k = 2
        value[c] = worst
        kind[c] = k
        arg_v[c] = av
        arg_e[c] = ae
        start = ends[c]


@njit(cache=True)
def _fair_scan(comp, inside, off, dst, sid, ans, step_ob, full, enabled, out):  # type: ignore[no-untyped-def]
    """liveness._Pending._fair_core's pass over one part: the obligations each member
    enables; out = [taken, disabled, internal]."""
    taken = 0
    disabled = 0
    internal = 0
    for m in range(comp.shape[0]):
        v = comp[m]
        en = 0
        for e in range(off[v], off[v + 1]):
            ob = step_ob[sid[e]]
            if ob >= 0:
                en |= 1 << ob
            if inside[dst[e]] and not ans[e]:
                internal = 1
                if ob >= 0:
                    taken |= 1 << ob
        enabled[m] = en
        disabled |= full & ~en
    out[0] = taken
    out[1] = disabled
    out[2] = internal


class Arrays:
    """A state graph's CSR arrays and one pending analysis's per-edge and per-step data."""

    def __init__(
        self, off: array[int], dst: array[int], sid: array[int], ans: list[bool],
        weight: list[int], step_ob: list[int],
    ) -> None:  # fmt: skip
        self.off = np.frombuffer(off, dtype=np.dtype(off.typecode)).astype(np.int64, copy=False)
        self.dst = np.frombuffer(dst, dtype=np.dtype(dst.typecode)).astype(np.int64, copy=False)
        self.sid = np.frombuffer(sid, dtype=np.dtype(sid.typecode)).astype(np.int64, copy=False)
        self.ans = np.asarray(ans, dtype=np.uint8)
        self.weight = np.asarray(weight, dtype=np.int64)
        self.step_ob = np.asarray(step_ob, dtype=np.int64)
        # the components, once found: members in order, each one's end, counted steps inside
        self.members = np.empty(0, np.int64)
        self.ends = np.empty(0, np.int64)
        self.counted = np.empty(0, np.uint8)


def components(a: Arrays, roots: list[int]) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """The pending graph's components from `roots` (as graph.sccs), each one's component
    index per state (-1: not reached), and per component whether it has internal edges and
    whether one of them is counted."""
    members, ends = _sccs(np.asarray(roots), a.off, a.dst, a.ans)
    comp_of = np.full(len(a.off) - 1, -1, np.int64)
    internal = np.zeros(len(ends), np.uint8)
    counted = np.zeros(len(ends), np.uint8)
    _internal(members, ends, a.off, a.dst, a.sid, a.ans, a.weight, comp_of, internal, counted)
    a.members, a.ends, a.counted = members, ends, counted
    return _lists(members, ends), comp_of, internal


def values(
    a: Arrays, comp_of: np.ndarray, never_list: list[int]
) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """Per component: the worst case, its kind code (0 none, 1 never, 2 unbounded) and the
    (state, edge) that achieves it."""
    k = len(a.ends)
    value = np.zeros(k, np.int64)
    kind = np.zeros(k, np.int64)
    arg_v = np.zeros(k, np.int64)
    arg_e = np.zeros(k, np.int64)
    never = np.asarray(never_list, np.uint8)
    _values(
        a.members, a.ends, a.off, a.dst, a.sid, a.ans, a.weight, comp_of, a.counted, never,
        value, kind, arg_v, arg_e,
    )  # fmt: skip
    return value.tolist(), kind.tolist(), list(zip(arg_v.tolist(), arg_e.tolist(), strict=True))


def fair_core(a: Arrays, members: list[int], weak: int, strong: int, full: int) -> list[int] | None:
    """liveness._Pending._fair_core over the arrays: the same parts in the same order."""
    n = len(a.off) - 1
    work = [np.asarray(members, np.int64)]
    out = np.zeros(3, np.int64)
    while work:
        comp = work.pop()
        inside = np.zeros(n, np.uint8)
        inside[comp] = 1
        enabled = np.zeros(len(comp), np.int64)
        _fair_scan(comp, inside, a.off, a.dst, a.sid, a.ans, a.step_ob, full, enabled, out)
        taken, disabled, internal = (int(x) for x in out)
        if not internal or (taken | disabled) & weak != weak:
            continue
        unmet = strong & ~taken
        cut = (enabled & unmet) != 0
        if not cut.any():
            got: list[int] = comp.tolist()
            return got
        rest = comp[~cut]
        keep = np.zeros(n, np.uint8)
        keep[rest] = 1
        skip = (a.ans | (keep[a.dst] == 0)).astype(np.uint8)
        parts, ends = _sccs(rest, a.off, a.dst, skip)
        work.extend(np.split(parts[: ends[-1] if len(ends) else 0], ends[:-1]))
    return None


class Index:
    """A state's component, as liveness._Pending.comp_of (a dict there), over an array."""

    def __init__(self, comp_of: np.ndarray) -> None:
        self.comp_of = comp_of

    def __getitem__(self, v: int) -> int:
        c = int(self.comp_of[v])
        if c < 0:
            raise KeyError(v)
        return c

    def __contains__(self, v: object) -> bool:
        return isinstance(v, int) and int(self.comp_of[v]) >= 0


def holds_everywhere(
    ts: TransitionSystem,
    layout: Layout,
    e: Expr,
    env: dict[str, Value],
    g: StateGraph,
    pred: Callable[[int], bool],
) -> list[bool]:
    """[pred(s) for s in g.states], evaluated natively over the graph's words; where it
    cannot be evaluated, `pred` on the first such state raises the Python error."""
    from preemptcheck.engines.explicit.native import compile_native_predicate
    from preemptcheck.expr.evaluate import fold

    n = len(g)
    out = np.zeros(n, np.uint8)
    compile_native_predicate(ts, layout, fold(e, env))(g.words, n, out)
    bad = np.flatnonzero(out == 2)
    if bad.size:
        pred(g.states[int(bad[0])])  # raises EvalError with the message
        raise AssertionError("the native and the Python predicates disagree")
    result: list[bool] = (out == 1).tolist()
    return result
