"""One partition of a partitioned search: the states whose hash it owns, in a native store.

A `Partition` runs in a Ray actor (the driver, engines.cluster.search, wraps it; this
module does not import Ray). It compiles the model with the native backend's code
generator (the same successor function as a single-machine run, from the same code
cache) and keeps, per state, its words, its global breadth-first index and the link to
the state it was first reached from. The driver moves it through each level: `expand` a
share of the frontier into records for every partition, `enter` the records sent to it,
`end_level` (what the level found, and the keys of the new states, sorted), `rank` (their
global indices, from every partition's sorted keys).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from preemptcheck.engines.cluster import kernels
from preemptcheck.engines.cluster.connect import local_cpus
from preemptcheck.engines.explicit import store
from preemptcheck.engines.explicit.native import META
from preemptcheck.engines.explicit.nativerun import (
    FIRST_TABLE,
    MAX_INDEX,
    TABLE_LOAD,
    default_max_memory,
    int_to_words,
    native_code,
)
from preemptcheck.engines.explicit.search import Explorer
from preemptcheck.engines.symmetry import Analysis
from preemptcheck.model.ir import Model, PropKind

SHARE_ROWS = 1 << 20  # successor records of one share of the frontier, at most
# per state: words, global index, parent partition, parent, step id, and the table at 0.35
BYTES_FIXED = 8 + 4 + 4 + 4 + 12


def share_size(max_succ: int) -> int:
    return max(1, SHARE_ROWS // max_succ)


class Partition:
    """A worker's partition: `load` makes it the states of partition `me` of `parts` of a
    model (an actor lives for a whole verify run and serves each model in turn)."""

    def pid(self) -> int:
        return os.getpid()

    def load(
        self, model: Model, analysis: Analysis | None, parts: int, me: int, budget: int | None
    ) -> None:
        """`budget` bytes for the store (None: half of this machine's memory, shared by one
        worker per CPU)."""
        if budget is None:
            budget = default_max_memory() // local_cpus()
        explorer = Explorer(model, backend="native")
        if analysis is not None:
            explorer.reduce_symmetry(analysis)
        self.code = native_code(explorer)
        self.symmetric = analysis is not None
        self.parts, self.me, self.budget = parts, me, budget
        words = self.words = self.code.words
        props = explorer.ts.properties
        n_props = len(props)
        self.witness = np.array(
            [p.kind in (PropKind.REACHABLE, PropKind.REACHABLE_ACTION) for p in props], np.uint8
        )
        self.deadlock = next((i for i, p in enumerate(props) if p.kind == PropKind.DEADLOCK), -1)
        self.meta_size = META + len(explorer.ts.model.actions)
        self.cov = np.zeros(max(len(explorer.ts.model.actions), 1), np.int64)
        self.eval_errors = np.zeros(n_props, np.uint8)
        self.full = np.zeros(1, np.int64)
        self.best = np.zeros((n_props, kernels.BEST_COLS), np.int64)
        self.found = np.zeros((n_props, kernels.FOUND_COLS), np.int64)
        self.active = np.ones(n_props, np.uint8)
        cap = 1 << 12
        self.states = np.zeros((cap, words), np.uint64)
        self.gidx = np.zeros(cap, np.int64)
        self.pkey = np.zeros(cap, np.int64)
        self.parent_part = np.zeros(cap, np.int32)
        self.table = np.zeros(FIRST_TABLE, np.int32)
        self.n = 0
        self.front = (0, 0)  # the frontier's local indices
        self.depth = 0
        self.pending: dict[int, np.ndarray] = {}  # this partition's own records, by share
        self.order = np.zeros(0, np.int64)  # the level's new states in the order of their keys
        init = int_to_words(explorer.initial(), words)
        if kernels.owner(init, parts) == me:
            self.states[0] = init
            self.parent_part[0] = self.pkey[0] = -1
            store.rehash(self.table, self.states, 1)
            self.n = 1
            if self.symmetric:
                self.full[0] = self.code.canon(self.states[0].copy())
        self.level_lo = self.n  # this level's first new state
        self.front = (0, self.n)

    def begin_level(self, depth: int, active: np.ndarray) -> int:
        """Start expanding level `depth` with the properties `active`; its size here."""
        self.depth = depth
        self.active = np.array(active, np.uint8)  # a copy: the object store's is read-only
        self.best[:] = np.iinfo(np.int64).max
        self.found[:] = -1
        self.level_lo = self.n
        return self.front[1] - self.front[0]

    def expand(self, share: int, size: int) -> tuple[Any, ...]:
        """The `share`-th `size` states of the frontier expanded: a record array for each
        partition (its own kept here for `enter`), then the share's transitions."""
        lo = min(self.front[0] + share * size, self.front[1])
        hi = min(lo + size, self.front[1])
        rec = np.zeros(((hi - lo) * self.code.max_succ, self.words + 1), np.uint64)
        counts = np.zeros(self.parts, np.int64)
        transitions = kernels.expand_share(
            self.code.expand, self.code.canon, self.states, self.gidx, lo, hi, self.depth,
            self.active, self.witness, self.symmetric, self.parts, self.code.max_succ,
            self.code.max_events, self.meta_size, self.deadlock, self.best, self.found,
            self.eval_errors, self.cov, rec, counts,
        )  # fmt: skip
        out: list[Any] = []
        start = 0
        for q in range(self.parts):
            part = rec[start : start + counts[q]]
            start += int(counts[q])
            if q == self.me:
                self.pending[share] = part
                part = rec[:0]
            out.append(part)
        out.append(int(transitions))
        return tuple(out)

    def enter(self, share: int, *recs: np.ndarray) -> bool:
        """Enter the records of `share` every partition sent (this one's own kept by
        `expand`); False when the store would pass its budget (nothing is entered then)."""
        own = self.pending.pop(share)
        recs = tuple(own if q == self.me else r for q, r in enumerate(recs))
        most = self.n + sum(len(r) for r in recs)
        if not self._room(most):
            return False
        for q, r in enumerate(recs):
            if len(r):
                self.n = kernels.enter(
                    self.code.canon, self.table, self.states, self.pkey, self.parent_part,
                    self.n, self.level_lo, _readonly(r), q,
                    self.symmetric, self.full,
                )  # fmt: skip
        return True

    def _room(self, most: int) -> bool:
        """Arrays for `most` states and a table under its load for them, within budget."""
        cap = self.states.shape[0]
        if most > MAX_INDEX:  # int32 indices
            return False
        if most > cap:
            while cap < most:
                cap *= 2
            if cap * (8 * self.words + BYTES_FIXED) > self.budget:
                cap = most
                if cap * (8 * self.words + BYTES_FIXED) > self.budget:
                    return False
            for name in ("states", "gidx", "pkey", "parent_part"):
                old = getattr(self, name)
                new = np.zeros((cap, *old.shape[1:]), old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        size = self.table.shape[0]
        if most > size * TABLE_LOAD:
            while most > size * TABLE_LOAD:
                size *= 2
            self.table = np.zeros(size, np.int32)
            store.rehash(self.table, self.states, self.n)
        return True

    def end_level(self) -> tuple[Any, np.ndarray]:
        """What the level found here (best, found per property; the new states), and the
        new states' keys, sorted."""
        self.order = np.argsort(self.pkey[self.level_lo : self.n])
        keys = self.pkey[self.level_lo : self.n][self.order]
        return (self.best.copy(), self.found.copy(), self.n - self.level_lo), keys

    def rank(self, level_start: int, *sorted_keys: np.ndarray) -> None:
        """Number this level's new states as the single-process search does: by their keys'
        place among every partition's (the keys are distinct), after `level_start`."""
        order = self.order  # this partition's new states by key
        keys = self.pkey[self.level_lo : self.n][order]
        rank = np.arange(len(keys), dtype=np.int64)
        for q, other in enumerate(sorted_keys):
            if q != self.me:  # sorted queries: searchsorted walks each array once
                rank += np.searchsorted(other, keys)
        self.gidx[self.level_lo + order] = level_start + rank
        self.front = (self.level_lo, self.n)

    def totals(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Coverage, the witness properties not evaluable somewhere, the unreduced states."""
        return self.cov.copy(), self.eval_errors.copy(), int(self.full[0])

    def node(self, g: int, j: int) -> tuple[list[int], int, int, int]:
        """The state of global index g: its words, the partition holding its parent and its
        key, and the step id of its j-th successor (j = -1: none asked)."""
        # among the numbered states (a run stopped inside a level has more, not yet ranked)
        (found,) = np.flatnonzero(self.gidx[: self.front[1]] == g)
        k = int(found)
        sid = -1
        if j >= 0:
            out = np.zeros((self.code.max_succ, self.words), np.uint64)
            sids = np.zeros(self.code.max_succ, np.int32)
            ev = np.zeros((self.code.max_events, 4), np.int64)
            meta = np.zeros(self.meta_size, np.int64)
            cov = np.zeros_like(self.cov)
            active = np.zeros_like(self.active)
            n_out = self.code.expand(self.states[k].copy(), active, out, sids, ev, cov, meta)
            assert j < n_out, "a parent link names a successor its state does not have"
            sid = int(sids[j])
        return [int(w) for w in self.states[k]], int(self.parent_part[k]), int(self.pkey[k]), sid


def _readonly(rec: np.ndarray) -> np.ndarray:
    """Records as enter() takes them: contiguous and read-only (as Ray hands them over)."""
    out = np.ascontiguousarray(rec)
    if out.flags.writeable:
        out = out.view()
        out.flags.writeable = False
    return out
