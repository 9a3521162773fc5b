"""Large state graphs: engines.graph.sccs and the pending-edge mask in compiled code.

The same iterative Tarjan as graph.sccs, step for step (roots in the given order, edges in
CSR order, components in completion order, members in the order they leave the stack), so
a liveness analysis gets the very same components, and the same traces, either way; used
for graphs of liveness.BIG states and more, where the Python version takes minutes.
"""

from __future__ import annotations

from array import array

import numpy as np
from numba import njit, types


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


def sccs_csr(
    roots: list[int], off: array[int], dst: array[int], ans: list[bool]
) -> list[list[int]]:
    """graph.sccs(roots, successors over the edges that are not `ans`), compiled."""
    offs = np.frombuffer(off, dtype=np.int64) if off.typecode == "q" else np.asarray(off, np.int64)
    dsts = np.frombuffer(dst, dtype=np.int64) if dst.typecode == "q" else np.asarray(dst, np.int64)
    n = len(offs) - 1
    members = np.empty(n, np.int64)
    ends = np.empty(n + 1, np.int64)
    skip = np.asarray(ans, dtype=np.uint8)
    k = _tarjan(np.asarray(roots, np.int64), offs, dsts, skip, members, ends)
    flat: list[int] = members[: ends[k - 1] if k else 0].tolist()
    cuts = [0, *ends[:k].tolist()]
    return [flat[cuts[c] : cuts[c + 1]] for c in range(k)]
