"""Runs the native search (engines.explicit.store) for an Explorer and reads its result back.

The native search records, per property, the state, step and CPU of its first (shortest)
finding, and whether it was an evaluation error; the error's message, the path and the
trace come from the Python side (the generated Python successor function on those few
states, then the reference interpreter's replay), exactly as for the Python backend.
"""

from __future__ import annotations

import os
import time
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING

import numba
import numpy as np

from preemptcheck.core import interrupt
from preemptcheck.engines.explicit import blocks, store
from preemptcheck.engines.explicit.found import ExplicitRun, Finding, Progress, ProgressFn
from preemptcheck.engines.explicit.native import META, NativeCode, compile_native
from preemptcheck.engines.stategraph import GraphLimit, StateGraph
from preemptcheck.model.ir import Expect, PropKind
from preemptcheck.semantics.system import initial_state

if TYPE_CHECKING:
    from preemptcheck.engines.explicit.search import Explorer

TABLE_LOAD = 0.7
FIRST_TABLE = 1 << 16
MAX_INDEX = (1 << 31) - 2  # int32 indices (parent, table)
PROGRESS_EVERY = 1 << 17
BLOCK = 2048  # states per block of the native search (blocks.explore)
BLOCK_ROWS = 1 << 18  # at most this many successor rows per block


def default_max_memory() -> int:
    """Half of the machine's physical memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not Linux
        return 4 << 30


def bytes_per_state(words: int) -> int:
    """The store's bytes per state: its words, parent and step id, and the visited table
    at its fullest (load 0.35 just after it doubled)."""
    return 8 * words + 4 + 4 + 12


_compiled: dict[tuple[str, bool], NativeCode] = {}


def native_code(explorer: Explorer) -> NativeCode:
    """The explorer's model compiled (or loaded from the code cache) once per process: the
    search and then the state graph use the same code."""
    key = (explorer.source, explorer.symmetry is not None)
    code = _compiled.get(key)
    if code is None:
        code = compile_native(explorer.ts, explorer.layout, explorer.symmetry)
        _compiled.clear()  # keep the last model's only
        _compiled[key] = code
    return code


def words_to_int(row: np.ndarray) -> int:
    return sum(int(w) << (64 * k) for k, w in enumerate(row))


def int_to_words(s: int, words: int) -> np.ndarray:
    return np.array([(s >> (64 * k)) & ((1 << 64) - 1) for k in range(words)], dtype=np.uint64)


class _Search:
    """The arrays of one native search, and the loop that drives blocks.explore."""

    def __init__(
        self,
        explorer: Explorer,
        code: NativeCode,
        *,
        max_states: int | None,
        max_memory: int | None,
        symmetric: bool,
        record: tuple[int, ...] | None = None,  # the properties recorded (None: all)
        workers: int = 1,
    ) -> None:
        ts = explorer.ts
        props = ts.properties
        n_props = len(props)
        words = code.words
        self.code = code
        self.symmetric = symmetric
        self.workers = workers
        # the block's successor rows: BLOCK states, fewer where a state has many successors
        self.block = max(1, min(BLOCK, BLOCK_ROWS // code.max_succ))
        budget = max_memory if max_memory is not None else default_max_memory()
        cap = min(max(budget // bytes_per_state(words), 1), MAX_INDEX)
        self.limit_reason = f"memory limit reached ({budget / (1 << 20):,.0f} MiB, --max-memory)"
        if max_states is not None and max_states <= cap:
            cap = max_states
            self.limit_reason = f"state limit reached ({cap:,} states)"
        # zero-filled by the operating system: pages are committed as states are written
        self.states = np.zeros((cap, words), dtype=np.uint64)
        self.parent = np.zeros(cap, dtype=np.int32)
        self.via = np.zeros(cap, dtype=np.int32)
        self.table = np.zeros(FIRST_TABLE, dtype=np.int32)
        self.active = np.ones(n_props, dtype=np.uint8)
        if record is not None:
            self.active[:] = 0
            self.active[list(record)] = 1
        self.pending = np.zeros(n_props, dtype=np.uint8)
        self.witness = np.zeros(n_props, dtype=np.uint8)
        self.unexpected = np.zeros(n_props, dtype=np.uint8)
        for pi, p in enumerate(props):
            w = p.kind in (PropKind.REACHABLE, PropKind.REACHABLE_ACTION)
            self.witness[pi] = w
            self.unexpected[pi] = w == (p.expect == Expect.VIOLATED)
        self.best = np.full(n_props, -1, dtype=np.int64)
        self.found = np.full((n_props, 4), -1, dtype=np.int64)
        self.eval_errors = np.zeros(n_props, dtype=np.uint8)
        self.cov = np.zeros(max(len(ts.model.actions), 1), dtype=np.int64)
        self.out = np.zeros((code.max_succ, words), dtype=np.uint64)
        self.sids = np.zeros(code.max_succ, dtype=np.int32)
        self.ev = np.zeros((code.max_events, 4), dtype=np.int64)
        self.meta = np.zeros(META + len(ts.model.actions), dtype=np.int64)
        init = explorer.initial() if symmetric else explorer.layout.pack(initial_state(ts.model))
        self.states[0] = int_to_words(init, words)
        self.parent[0] = -1
        self.via[0] = -1
        store.rehash(self.table, self.states, 1)
        ctl = self.ctl = np.zeros(store.CTL_SIZE, dtype=np.int64)
        ctl[store.N] = 1
        ctl[store.LEVEL_END] = 1
        ctl[store.CAP] = cap
        ctl[store.GROW_AT] = int(FIRST_TABLE * TABLE_LOAD)
        ctl[store.DEADLOCK] = next(
            (i for i, p in enumerate(props) if p.kind == PropKind.DEADLOCK and self.active[i]), -1
        )
        ctl[store.FULL] = 1

    def run(
        self,
        *,
        timeout: float | None,
        fail_fast: bool,
        progress: ProgressFn | None,
        t0: float,
    ) -> str | None:
        """Explores to the end or to a limit; returns the limit's description, or None."""

        self.ctl[store.FAIL_FAST] = int(fail_fast)
        until = PROGRESS_EVERY
        ctl = self.ctl
        while True:
            status = self._explore(until)
            if status == store.DONE:
                return None
            if status == store.AT_CAP:
                return self.limit_reason
            if status == store.STOPPED:
                return "stopped at the first unexpected verdict (--fail-fast)"
            if status == store.GROW:
                size = self.table.shape[0] * 2
                if size > MAX_INDEX + 2:  # pragma: no cover - 2**31 states
                    return self.limit_reason
                self.table = np.zeros(size, dtype=np.int32)
                store.rehash(self.table, self.states, int(ctl[store.N]))
                ctl[store.GROW_AT] = int(size * TABLE_LOAD)
                continue
            # PAUSE: the progress line, the timeout and Ctrl-C, as the Python backend does
            until += PROGRESS_EVERY
            elapsed = time.monotonic() - t0
            n, i = int(ctl[store.N]), int(ctl[store.I_])
            if progress is not None:
                progress(
                    Progress(n, n - i, int(ctl[store.TRANSITIONS]), int(ctl[store.DEPTH]), elapsed)
                )
            if timeout is not None and elapsed > timeout:
                return f"timeout after {timeout:g} s"
            if interrupt.requested():
                return interrupt.reason()

    def _explore(self, until: int) -> int:
        # the block is cut into `workers` shares; numba runs them on at most its threads
        threads = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
        numba.set_num_threads(min(self.workers, threads))
        return int(blocks.explore(
            self.code.expand, self.code.canon, self.ctl, self.states, self.parent, self.via,
            self.table, self.active, self.pending, self.witness, self.unexpected, self.best,
            self.found, self.eval_errors, self.cov, self.code.max_succ, self.code.max_events,
            self.meta.shape[0], until, self.symmetric, self.workers, self.block,
        ))  # fmt: skip


def run_native(
    explorer: Explorer,
    *,
    max_states: int | None,
    max_memory: int | None,
    timeout: float | None,
    fail_fast: bool,
    progress: ProgressFn | None,
) -> ExplicitRun:

    t0 = time.monotonic()
    ts = explorer.ts
    n_props = len(ts.properties)
    symmetric = explorer.symmetry is not None
    search = _Search(
        explorer,
        native_code(explorer),
        max_states=max_states,
        max_memory=max_memory,
        symmetric=symmetric,
        workers=explorer.workers,
    )
    limit = search.run(timeout=timeout, fail_fast=fail_fast, progress=progress, t0=t0)
    findings = []
    for pi in range(n_props):
        i, sid, cpu, err = (int(x) for x in search.found[pi])
        if i == -1:
            continue
        path = explorer._path(_Rows(search.states), search.parent, search.via, i)
        msg = explorer.error_message(path[0][-1], pi, sid, cpu) if err else None
        findings.append(Finding(pi, explorer.finding_trace(path, pi, i, sid, cpu, msg)))
    ctl = search.ctl
    return ExplicitRun(
        int(ctl[store.N]),
        int(ctl[store.TRANSITIONS]),
        int(ctl[store.DEPTH]),
        limit is None,
        limit,
        tuple(findings),
        tuple((a.name, int(search.cov[k])) for k, a in enumerate(ts.model.actions)),
        time.monotonic() - t0,
        explorer.layout.bits,
        ts.disabled_actions(),
        frozenset(pi for pi in range(n_props) if search.eval_errors[pi]),
        explorer.analysis.describe() if explorer.analysis is not None else None,
        int(ctl[store.FULL]) if symmetric else None,
        "native",
    )


def build_graph_native(
    explorer: Explorer,
    *,
    max_states: int | None,
    timeout: float | None,
    phase: Callable[[str], None] | None = None,
) -> StateGraph:
    """engines.graph.build_graph natively: the same states in the same order, the same
    edges; GraphLimit where it stops."""

    t0 = time.monotonic()
    ts = explorer.ts
    range_pi = next(pi for pi, p in enumerate(ts.properties) if p.kind == PropKind.RANGE)
    code = native_code(explorer)
    search = _Search(
        explorer,
        code,
        max_states=max_states,
        max_memory=None,
        symmetric=False,
        record=(range_pi,),
        workers=explorer.workers,
    )
    shown = (
        (lambda p: phase(f"state graph: {p.states:,} states, {p.transitions:,} edges"))
        if phase is not None
        else None
    )
    limit = search.run(timeout=timeout, fail_fast=False, progress=shown, t0=t0)
    if limit is not None:
        raise GraphLimit(limit)
    n = int(search.ctl[store.N])
    m = int(search.ctl[store.TRANSITIONS])
    off = np.zeros(n + 1, dtype=np.int64)
    dst = np.zeros(m, dtype=np.int64)
    sid = np.zeros(m, dtype=np.int64)
    via = np.full(n, -1, dtype=np.int64)
    active = np.zeros(len(ts.properties), dtype=np.uint8)
    active[range_pi] = 1
    first_failing = store.edges(
        code.expand, search.states, n, search.parent, search.table, active, search.cov,
        search.out, search.sids, search.ev, search.meta, off, dst, sid, via,
    )  # fmt: skip
    rows = _Rows(search.states)
    failing = None
    if first_failing >= 0:
        all_props = (1 << len(ts.properties)) - 1
        _, ev, _ = explorer.expand(rows[first_failing], all_props, [0] * len(ts.model.actions))
        failing = next((msg for *_, msg in ev if msg), "a step cannot be evaluated")
    return StateGraph(
        packed_ints(search.states, n),
        _q(off),
        _q(dst),
        _q(sid, "l"),
        _q(search.parent[:n].astype(np.int64)),
        _q(via),
        failing,
        search.states[:n],
    )


def packed_ints(states: np.ndarray, n: int) -> list[int]:
    """The first n rows as the Python backend's packed integers."""
    columns = [states[:n, w].tolist() for w in range(states.shape[1])]
    if len(columns) == 1:
        out: list[int] = columns[0]
        return out
    return [sum(x << (64 * w) for w, x in enumerate(row)) for row in zip(*columns, strict=True)]


def _q(values: np.ndarray, code: str = "q") -> array[int]:
    out = array(code)
    out.frombytes(values.astype(np.int64 if code == "q" else np.dtype("l")).tobytes())
    return out


class _Rows:
    """states[k] as the packed integer of the Python backend."""

    def __init__(self, states: np.ndarray) -> None:
        self.states = states

    def __getitem__(self, k: int) -> int:
        return words_to_int(self.states[k])
