"""The native breadth-first search, on one worker or several (numba `prange`): the search
of search.Explorer's Python backend, with its result exactly (the same states in the same
order, the same counts and findings) whatever the number of workers. It returns to Python
every `until` states for the progress line, the timeout and Ctrl-C, and when the table
must grow.

The frontier is taken in blocks of states that are already numbered. For a block, the
workers, each on its own share, expand the states, canonicalise the successors and look
each one up in the visited table, which nobody writes meanwhile; since the table only
gains entries, a successor found there is a repeat for good, and for one not found the
empty slot the lookup ended on is where a later probe can resume. Then one thread walks
the block in order, doing what the Python search does per state: the level count, the
events, the deadlock check, and entering the new successors; that pass touches only the
successors not found, about one in ten. So the numbering is the sequential one and all
the expensive steps run in parallel.

Events are rare, so the workers only count them; the walk expands the few states that
have some again with the properties active at that point, as the sequential search
does. Coverage counts each expanded state once: where the walk stops early (a limit or
--fail-fast), the block's states after the stop are expanded again to take theirs off.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types

from preemptcheck.engines.explicit.store import (
    AT_CAP,
    CANON_T,
    CAP,
    DEADLOCK,
    DEPTH,
    DONE,
    EXPAND_T,
    FAIL_FAST,
    FULL,
    GROW,
    GROW_AT,
    I_,
    LEVEL_END,
    PAUSE,
    STOPPED,
    TRANSITIONS,
    UNEXPECTED,
    N,
    probe,
    slot,
)


@njit(
    types.int64(
        EXPAND_T,
        CANON_T,
        types.int64[::1],  # ctl
        types.uint64[:, ::1],  # states
        types.int32[::1],  # parent
        types.int32[::1],  # via
        types.int32[::1],  # table
        types.uint8[::1],  # active
        types.uint8[::1],  # pending
        types.uint8[::1],  # witness
        types.uint8[::1],  # unexpected
        types.int64[::1],  # best
        types.int64[:, ::1],  # found
        types.uint8[::1],  # eval_errors
        types.int64[::1],  # cov
        types.int64,  # max_succ
        types.int64,  # max_events
        types.int64,  # meta_size
        types.int64,  # until
        types.boolean,  # symmetric
        types.int64,  # workers
        types.int64,  # block: states per block
    ),
    cache=True,
    parallel=True,
)
def explore(  # type: ignore[no-untyped-def]  # typed by the numba signature above
    expand, canon, ctl, states, parent, via, table, active, pending, witness, unexpected,
    best, found, eval_errors, cov, max_succ, max_events, meta_size, until, symmetric,
    workers, block,
):  # fmt: skip
    words = states.shape[1]
    n_props = active.shape[0]
    n_actions = cov.shape[0]
    i = ctl[I_]
    n = ctl[N]
    depth = ctl[DEPTH]
    level_end = ctl[LEVEL_END]
    transitions = ctl[TRANSITIONS]
    cap = ctl[CAP]
    grow_at = ctl[GROW_AT]
    deadlock = ctl[DEADLOCK]
    full = ctl[FULL]
    n_unexpected = ctl[UNEXPECTED]
    # per state of the block: successors, their step ids, counts, and where each
    # successor's probe resumes (-1: already visited)
    b_out = np.zeros((block, max_succ, words), np.uint64)
    b_sids = np.zeros((block, max_succ), np.int32)
    b_slot = np.zeros((block, max_succ), np.int64)
    b_orbit = np.ones((block, max_succ), np.int64)
    b_n = np.zeros(block, np.int64)
    b_enabled = np.zeros(block, np.int64)
    b_events = np.zeros(block, np.int64)
    # per worker: the expanded state, events, meta and coverage
    w_cur = np.zeros((workers, words), np.uint64)
    w_ev = np.zeros((workers, max_events, 4), np.int64)
    w_meta = np.zeros((workers, meta_size), np.int64)
    w_cov = np.zeros((workers, n_actions), np.int64)
    # the walk's own buffers, for the states it expands again
    cur = np.zeros(words, np.uint64)
    out = np.zeros((max_succ, words), np.uint64)
    sids = np.zeros(max_succ, np.int32)
    ev = np.zeros((max_events, 4), np.int64)
    meta = np.zeros(meta_size, np.int64)
    again = np.zeros(n_actions, np.int64)
    status = DONE
    while i < n:
        if i >= until:
            status = PAUSE
            break
        b = min(n - i, block, until - i, (grow_at - n) // max_succ)
        if b < 1:
            status = GROW
            break
        first = i
        for t in prange(workers):
            for x in range(first + t * b // workers, first + (t + 1) * b // workers):
                r = x - first
                for w in range(words):
                    w_cur[t, w] = states[x, w]
                k = expand(w_cur[t], active, b_out[r], b_sids[r], w_ev[t], w_cov[t], w_meta[t])
                b_n[r] = k
                b_events[r] = w_meta[t, 0]
                b_enabled[r] = w_meta[t, 1]
                for j in range(k):
                    row = b_out[r, j]
                    if symmetric:
                        b_orbit[r, j] = canon(row)
                    h = slot(table, states, row)
                    b_slot[r, j] = h if table[h] == 0 else -1
        stop = -1
        for r in range(b):
            if i == level_end:
                depth += 1
                level_end = n
                for p in range(n_props):
                    if pending[p]:
                        active[p] = 0
                        pending[p] = 0
            if b_events[r] > 0:
                for w in range(words):
                    cur[w] = states[i, w]
                expand(cur, active, out, sids, ev, again, meta)
                for k in range(meta[0]):
                    p = ev[k, 0]
                    sid = ev[k, 1]
                    if not active[p]:
                        continue
                    if ev[k, 3] and witness[p]:
                        eval_errors[p] = 1  # not a witness, and not decided either
                        continue
                    length = depth + (1 if sid != -1 else 0)
                    if best[p] != -1 and best[p] <= length:
                        continue
                    if found[p, 0] == -1 and unexpected[p]:
                        n_unexpected += 1
                    found[p, 0] = i
                    found[p, 1] = sid
                    found[p, 2] = ev[k, 2]
                    found[p, 3] = ev[k, 3]
                    best[p] = length
                    if sid == -1:
                        active[p] = 0
                        pending[p] = 0
                    else:
                        pending[p] = 1
            if b_enabled[r] == 0 and deadlock >= 0 and active[deadlock]:
                if found[deadlock, 0] == -1 and unexpected[deadlock]:
                    n_unexpected += 1
                found[deadlock, 0] = i
                found[deadlock, 1] = -1
                found[deadlock, 2] = -1
                found[deadlock, 3] = 0
                active[deadlock] = 0
            if ctl[FAIL_FAST] and n_unexpected > 0:
                status = STOPPED
                stop = r
                break
            for j in range(b_n[r]):
                h = b_slot[r, j]
                if h < 0:
                    continue
                row = b_out[r, j]
                # the slot found before the walk, or later along its probe sequence (this
                # block's earlier rows may have been entered there since)
                h = probe(table, states, row, h)
                if table[h] == 0:
                    if n >= cap:  # one state more than allowed: stop, inconclusive
                        status = AT_CAP
                        break
                    table[h] = n + 1
                    for w in range(words):
                        states[n, w] = row[w]
                    parent[n] = i
                    via[n] = b_sids[r, j]
                    full += b_orbit[r, j] if symmetric else 1
                    n += 1
            transitions += b_n[r]
            i += 1
            if status == AT_CAP:  # as the Python search: this state's steps are counted
                stop = r
                break
        for t in range(workers):
            for a in range(n_actions):
                cov[a] += w_cov[t, a]
                w_cov[t, a] = 0
        if stop >= 0:
            # the search stopped at state first + stop: the states after it were not expanded
            again[:] = 0
            for x in range(first + stop + 1, first + b):
                for w in range(words):
                    cur[w] = states[x, w]
                expand(cur, active, out, sids, ev, again, meta)
            for a in range(n_actions):
                cov[a] -= again[a]
            break
        again[:] = 0
    ctl[I_] = i
    ctl[N] = n
    ctl[DEPTH] = depth
    ctl[LEVEL_END] = level_end
    ctl[TRANSITIONS] = transitions
    ctl[FULL] = full
    ctl[UNEXPECTED] = n_unexpected
    return status
