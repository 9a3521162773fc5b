"""The compiled loops of one partition: expanding a share of its frontier into successor
records for their owners, and entering the records it owns into its store.

A partition's store is the native store's (engines.explicit.store): packed words, an
open-addressing table of int32 indices, and per state the link to the state it was first
reached from, here the partition that holds it and the key below (the step id is found
again when a trace is rebuilt). A record is a successor as the sender made it: its words,
then its key. The key is `g * max_succ + j`, where g is the global breadth-first
index of the expanded state and j the successor's place among that state's successors:
the single-process search numbers a level's new states by exactly this key (the first
state to reach a state is its parent, and that state's successors are taken in order), so
the smallest key a state is reached by gives its parent, its step and its place.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

from preemptcheck.engines.explicit.store import CANON_T, EXPAND_T, hash_row, slot

_u = np.uint64
_i = np.int64
_RECORDS = types.Array(types.uint64, 2, "C", readonly=True)
# best[p]: the (length, g, event) of the property's first shortest event; found[p]: local
# index, step id, cpu, evaluation error
BEST_COLS = 3
FOUND_COLS = 4


@njit(cache=True, inline="always")
def owner(row: np.ndarray, parts: int) -> int:
    """The partition that owns a state: from the hash's high half (the table uses the low
    bits, which must not all be alike within a partition)."""
    return int((hash_row(row) >> _u(32)) % _u(parts))


@njit(
    types.int64(
        EXPAND_T,
        CANON_T,
        types.uint64[:, ::1],  # states
        types.int64[::1],  # gidx: global breadth-first index of each state
        types.int64,  # lo: the share of the frontier, local indices lo..hi-1
        types.int64,  # hi
        types.int64,  # depth: the frontier's level
        types.uint8[::1],  # active
        types.uint8[::1],  # witness
        types.boolean,  # symmetric
        types.int64,  # parts
        types.int64,  # max_succ
        types.int64,  # max_events
        types.int64,  # meta_size
        types.int64,  # deadlock: its property index, or -1
        types.int64[:, ::1],  # best
        types.int64[:, ::1],  # found
        types.uint8[::1],  # eval_errors
        types.int64[::1],  # cov
        types.uint64[:, ::1],  # rec: the records, grouped by owner
        types.int64[::1],  # counts: records per owner
    ),
    cache=True,
)
def expand_share(  # type: ignore[no-untyped-def]  # typed by the numba signature above
    expand, canon, states, gidx, lo, hi, depth, active, witness, symmetric, parts, max_succ,
    max_events, meta_size, deadlock, best, found, eval_errors, cov, rec, counts,
):  # fmt: skip
    """Expands states lo..hi-1; returns their transitions. Events update best and found
    where they come first in (length, global index, order of the state's events)."""
    words = states.shape[1]
    n = hi - lo
    cur = np.zeros(words, np.uint64)
    out = np.zeros((max_succ, words), np.uint64)
    sids = np.zeros(max_succ, np.int32)
    ev = np.zeros((max_events, 4), np.int64)
    meta = np.zeros(meta_size, np.int64)
    # the records in expansion order, then placed by owner; a successor made twice in the
    # share is sent once, with its smaller key (`seen`: an open-addressing table over them)
    tmp = np.zeros((n * max_succ, words + 1), np.uint64)
    dest = np.zeros(n * max_succ, np.int64)
    size = 1
    while size < 2 * n * max_succ:
        size *= 2
    seen = np.zeros(size, np.int32)
    m = 0
    transitions = 0
    for x in range(lo, hi):
        g = gidx[x]
        for w in range(words):
            cur[w] = states[x, w]
        k = expand(cur, active, out, sids, ev, cov, meta)
        transitions += k
        for e in range(meta[0]):
            p = ev[e, 0]
            sid = ev[e, 1]
            if not active[p]:
                continue
            if ev[e, 3] and witness[p]:
                eval_errors[p] = 1  # not a witness, and not decided either
                continue
            length = depth + (1 if sid != -1 else 0)
            if (length, g, e) < (best[p, 0], best[p, 1], best[p, 2]):
                best[p, 0] = length
                best[p, 1] = g
                best[p, 2] = e
                found[p, 0] = x
                found[p, 1] = sid
                found[p, 2] = ev[e, 2]
                found[p, 3] = ev[e, 3]
        if (
            meta[1] == 0
            and deadlock >= 0
            and active[deadlock]
            and (depth, g) < (best[deadlock, 0], best[deadlock, 1])
        ):
            best[deadlock, 0] = depth
            best[deadlock, 1] = g
            best[deadlock, 2] = 0
            found[deadlock, 0] = x
            found[deadlock, 1] = -1
            found[deadlock, 2] = -1
            found[deadlock, 3] = 0
        for j in range(k):
            row = out[j]
            if symmetric:
                canon(row)
            key = _u(g * max_succ + j)
            h = slot(seen, tmp, row)  # tmp's rows: a state's words, then its key
            t = seen[h]
            if t == 0:
                seen[h] = m + 1
                for w in range(words):
                    tmp[m, w] = row[w]
                tmp[m, words] = key
                dest[m] = owner(row, parts)
                m += 1
            elif key < tmp[t - 1, words]:
                tmp[t - 1, words] = key
    counts[:] = 0
    for r in range(m):
        counts[dest[r]] += 1
    start = np.zeros(parts, np.int64)
    for q in range(1, parts):
        start[q] = start[q - 1] + counts[q - 1]
    for r in range(m):
        q = dest[r]
        rec[start[q]] = tmp[r]
        start[q] += 1
    return transitions


@njit(
    types.int64(
        CANON_T,
        types.int32[::1],  # table
        types.uint64[:, ::1],  # states
        types.int64[::1],  # pkey: the smallest key each state was reached by
        types.int32[::1],  # parent_part: the partition that sent it
        types.int64,  # n: states stored
        types.int64,  # level_lo: this level's first new state
        _RECORDS,  # rec: as the object store hands it over, read-only
        types.int64,  # src: the partition that sent the records
        types.boolean,  # symmetric
        types.int64[::1],  # full: the unreduced states (with symmetry), one counter
    ),
    cache=True,
)
def enter(  # type: ignore[no-untyped-def]  # typed by the numba signature above
    canon, table, states, pkey, parent_part, n, level_lo, rec, src, symmetric,
    full,
):  # fmt: skip
    """Enters the records into the store (its arrays and table have room for all of them
    new); a state of this level reached again by a smaller key takes that key's parent.
    Returns the states stored now."""
    words = states.shape[1]
    for r in range(rec.shape[0]):
        row = rec[r, :words]
        key = _i(rec[r, words])
        h = slot(table, states, row)
        k = table[h] - 1
        if k < 0:
            table[h] = n + 1
            for w in range(words):
                states[n, w] = row[w]
            pkey[n] = key
            parent_part[n] = src
            if symmetric:
                full[0] += canon(states[n])
            n += 1
        elif k >= level_lo and key < pkey[k]:
            pkey[k] = key
            parent_part[k] = src
    return n
