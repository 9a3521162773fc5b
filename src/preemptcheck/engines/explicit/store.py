"""The native state store (numba), compiled once per machine: the helpers generated code
calls, the visited table, and the state graph's edges; blocks.explore is the search.

Storage, per state: its packed words (`states`, uint64 x words), the index of the state it
was first reached from (`parent`, int32) and the step id that reached it (`via`, int32);
the visited set is an open-addressing table of int32 indices into `states` (0 empty, i + 1
for state i), linear probing, grown to keep its load under 0.7. The states array is
allocated for the most states the run may hold and filled in order, so the operating
system commits its pages only as they are written: memory grows with the states found.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

ABI = "3"  # bump when the calling convention of generated code changes

_u = np.uint64
_i = np.int64
_FACT = np.array([math.factorial(n) for n in range(21)], dtype=np.int64)


# Operations that can fail: they set the error flag meta[2] and yield 0.


@njit(cache=True, inline="always")
def _shl(a: int, b: int, meta: np.ndarray) -> int:
    if b < 0:
        meta[2] = 1
        return 0
    return a << b


@njit(cache=True, inline="always")
def _shr(a: int, b: int, meta: np.ndarray) -> int:
    if b < 0:
        meta[2] = 1
        return 0
    return a >> b


@njit(cache=True, inline="always")
def _div(a: int, b: int, meta: np.ndarray) -> int:
    if b == 0:
        meta[2] = 1
        return 0
    return a // b


@njit(cache=True, inline="always")
def _mod(a: int, b: int, meta: np.ndarray) -> int:
    if b == 0:
        meta[2] = 1
        return 0
    return a % b


@njit(cache=True, inline="always")
def _ix(i: int, lo: int, n: int, meta: np.ndarray) -> int:
    if not lo <= i < lo + n:
        meta[2] = 1
        return 0
    return i - lo


@njit(cache=True, inline="always")
def _oob(meta: np.ndarray, value: int) -> int:
    meta[2] = 1
    return 0


# Recording an event and writing a successor's slot: called, not inlined by numba (whose
# cost per inline array access is what makes large generated functions slow to compile);
# LLVM still inlines them. Each has one explicit signature: without it numba compiles a
# specialisation for every combination of integer literals the generated code passes
# (about 140 for a mode model, most of its compile time).

_EVENT_SIG = types.void(
    types.int64[:, ::1], types.int64[::1], types.int64, types.int64, types.int64, types.int64
)
_PUT_SIG = types.void(
    types.uint64[:, ::1], types.int64, types.int64, types.uint64, types.int64, types.int64
)


@njit(_EVENT_SIG, cache=True)
def _event(ev: np.ndarray, meta: np.ndarray, pi: int, sid: int, cpu: int, err: int) -> None:
    k = meta[0]
    meta[0] = k + 1
    ev[k, 0] = pi
    ev[k, 1] = sid
    ev[k, 2] = cpu
    ev[k, 3] = err


@njit(_PUT_SIG, cache=True)
def _put(out: np.ndarray, r: int, w: int, keep: np.uint64, value: int, shift: int) -> None:
    out[r, w] = (out[r, w] & keep) | (_u(value) << _u(shift))


@njit(_PUT_SIG, cache=True)
def _put_high(out: np.ndarray, r: int, w: int, keep: np.uint64, value: int, shift: int) -> None:
    out[r, w] = (out[r, w] & keep) | (_u(value) >> _u(shift))


_W = types.uint64[::1]
EXPAND_SIG = types.int64(
    _W,  # s: the state's words
    types.uint8[::1],  # active: per property, 1 while its events are recorded
    types.uint64[:, ::1],  # out: successors, one row each
    types.int32[::1],  # sids: the step id of each successor
    types.int64[:, ::1],  # ev: events (property, step id or -1, cpu or -1, error 0/1)
    types.int64[::1],  # cov: per action, states that enable it
    types.int64[::1],  # meta: events, enabled, error flag, successors, per action a flag
)
CANON_SIG = types.int64(_W)
# a part of expand: (s, active, out, sids, ev, meta)
PART_SIG = types.void(
    _W, types.uint8[::1], types.uint64[:, ::1], types.int32[::1], types.int64[:, ::1],
    types.int64[::1],
)  # fmt: skip


@njit(CANON_SIG, cache=True)
def no_canon(w: np.ndarray) -> int:
    """The canonicaliser of a search without symmetry reduction (never called)."""
    return 1


# ctl: the search's scalar state (blocks.explore), kept between calls
CTL_NAMES = "I_ N DEPTH LEVEL_END TRANSITIONS CAP GROW_AT DEADLOCK FAIL_FAST FULL UNEXPECTED"
(
    I_,
    N,
    DEPTH,
    LEVEL_END,
    TRANSITIONS,
    CAP,
    GROW_AT,
    DEADLOCK,
    FAIL_FAST,
    FULL,
    UNEXPECTED,
) = range(len(CTL_NAMES.split()))
CTL_SIZE = len(CTL_NAMES.split())
# what blocks.explore returns
DONE, PAUSE, GROW, AT_CAP, STOPPED = range(5)


@njit(cache=True, inline="always")
def hash_row(row: np.ndarray) -> np.uint64:
    h = _u(0x9E3779B97F4A7C15)
    for w in range(row.shape[0]):
        h = (h ^ row[w]) * _u(0xBF58476D1CE4E5B9)
        h ^= h >> _u(31)
    return h


@njit(cache=True, inline="always")
def same_row(states: np.ndarray, k: int, row: np.ndarray) -> bool:
    """State k is `row`, word for word (a loop: numba compiles no generator in all())."""
    for w in range(row.shape[0]):  # noqa: SIM110
        if states[k, w] != row[w]:
            return False
    return True


@njit(cache=True, inline="always")
def probe(table: np.ndarray, states: np.ndarray, row: np.ndarray, h: np.int64) -> np.int64:
    """Linear probing from slot h of `table` (entries: a state's index + 1, 0 empty): the
    slot that holds `row`, or the empty slot where it goes. Every table of states uses it."""
    mask = table.shape[0] - 1
    while True:
        t = table[h]
        if t == 0 or same_row(states, t - 1, row):
            return h
        h = (h + 1) & mask


@njit(cache=True, inline="always")
def slot(table: np.ndarray, states: np.ndarray, row: np.ndarray) -> np.int64:
    """The slot of `row` in `table`, or the empty one where it goes (see probe)."""
    return probe(table, states, row, _i(hash_row(row) & _u(table.shape[0] - 1)))


@njit(cache=True)
def lookup(table: np.ndarray, states: np.ndarray, row: np.ndarray) -> int:
    """The index of state `row`, or -1."""
    return int(table[slot(table, states, row)]) - 1


@njit(cache=True)
def rehash(table: np.ndarray, states: np.ndarray, n: int) -> None:
    """Enter states 0..n-1 into the empty `table`."""
    mask = table.shape[0] - 1
    for k in range(n):
        h = _i(hash_row(states[k]) & _u(mask))
        while table[h] != 0:
            h = (h + 1) & mask
        table[h] = k + 1


EXPAND_T = types.FunctionType(EXPAND_SIG)
CANON_T = types.FunctionType(CANON_SIG)


@njit(
    types.int64(
        EXPAND_T,
        types.uint64[:, ::1],  # states, in BFS order
        types.int64,  # n: how many
        types.int32[::1],  # parent
        types.int32[::1],  # table
        types.uint8[::1],  # active (only the range property: its events mark failing steps)
        types.int64[::1],  # cov
        types.uint64[:, ::1],  # out
        types.int32[::1],  # sids
        types.int64[:, ::1],  # ev
        types.int64[::1],  # meta
        types.int64[::1],  # off: edges of state v at off[v]..off[v + 1]
        types.int64[::1],  # dst
        types.int64[::1],  # sid
        types.int64[::1],  # via: the edge from parent[v] to v
    ),
    cache=True,
)
def edges(  # type: ignore[no-untyped-def]  # typed by the numba signature above
    expand, states, n, parent, table, active, cov, out, sids, ev, meta, off, dst, sid, via
):  # fmt: skip
    """Every step between two of the n states, in the order the search made them (the
    state graph's CSR arrays); returns the first state with an evaluation error, or -1."""
    words = states.shape[1]
    cur = np.empty(words, np.uint64)
    failing = -1
    e = 0
    for i in range(n):
        off[i] = e
        for w in range(words):
            cur[w] = states[i, w]
        n_out = expand(cur, active, out, sids, ev, cov, meta)
        if meta[0] > 0 and failing == -1:
            failing = i
        for j in range(n_out):
            k = lookup(table, states, out[j])
            dst[e] = k
            sid[e] = sids[j]
            if parent[k] == i and via[k] == -1:
                via[k] = e
            e += 1
    off[n] = e
    return failing
