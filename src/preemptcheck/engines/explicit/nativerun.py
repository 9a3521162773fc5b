"""Runs the native search (engines.explicit.store) for an Explorer and reads its result back.

The native search records, per property, the state, step and CPU of its first (shortest)
finding, and whether it was an evaluation error; the error's message, the path and the
trace come from the Python side (the generated Python successor function on those few
states, then the reference interpreter's replay), exactly as for the Python backend.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import numpy as np

from preemptcheck import interrupt
from preemptcheck.engines.explicit import store
from preemptcheck.engines.explicit.native import META, NativeCode, compile_native
from preemptcheck.model.ir import Expect, PropKind

if TYPE_CHECKING:
    from preemptcheck.engines.explicit.search import ExplicitRun, Explorer, ProgressFn

TABLE_LOAD = 0.7
FIRST_TABLE = 1 << 16
MAX_INDEX = (1 << 31) - 2  # int32 indices (parent, table)
PROGRESS_EVERY = 1 << 17


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


_compiled: dict[tuple[int, str], NativeCode] = {}


def native_code(explorer: Explorer) -> NativeCode:
    key = (id(explorer), explorer.source)
    code = _compiled.get(key)
    if code is None:
        code = compile_native(explorer.ts, explorer.layout, explorer.symmetry)
        _compiled.clear()  # one model at a time: the arrays are the model's
        _compiled[key] = code
    return code


def words_to_int(row: np.ndarray) -> int:
    return sum(int(w) << (64 * k) for k, w in enumerate(row))


def int_to_words(s: int, words: int) -> np.ndarray:
    return np.array([(s >> (64 * k)) & ((1 << 64) - 1) for k in range(words)], dtype=np.uint64)


def run_native(
    explorer: Explorer,
    *,
    max_states: int | None,
    max_memory: int | None,
    timeout: float | None,
    fail_fast: bool,
    progress: ProgressFn | None,
) -> ExplicitRun:
    from preemptcheck.engines.explicit.search import ExplicitRun, Finding, Progress

    t0 = time.monotonic()
    code = native_code(explorer)
    ts = explorer.ts
    props = ts.properties
    n_props = len(props)
    words = code.words
    budget = max_memory if max_memory is not None else default_max_memory()
    by_memory = max(budget // bytes_per_state(words), 1)
    cap = min(by_memory, MAX_INDEX)
    limit_reason = f"memory limit reached ({budget / (1 << 20):,.0f} MiB, --max-memory)"
    if max_states is not None and max_states <= cap:
        cap = max_states
        limit_reason = f"state limit reached ({cap:,} states)"
    # zero-filled by the operating system: pages are committed as states are written
    states = np.zeros((cap, words), dtype=np.uint64)
    parent = np.zeros(cap, dtype=np.int32)
    via = np.zeros(cap, dtype=np.int32)
    table = np.zeros(FIRST_TABLE, dtype=np.int32)

    active = np.ones(n_props, dtype=np.uint8)
    pending = np.zeros(n_props, dtype=np.uint8)
    witness = np.zeros(n_props, dtype=np.uint8)
    unexpected = np.zeros(n_props, dtype=np.uint8)
    for pi, p in enumerate(props):
        w = p.kind in (PropKind.REACHABLE, PropKind.REACHABLE_ACTION)
        witness[pi] = w
        unexpected[pi] = w == (p.expect == Expect.VIOLATED)
    best = np.full(n_props, -1, dtype=np.int64)
    found = np.full((n_props, 4), -1, dtype=np.int64)
    eval_errors = np.zeros(n_props, dtype=np.uint8)
    cov = np.zeros(max(len(ts.model.actions), 1), dtype=np.int64)
    out = np.zeros((code.max_succ, words), dtype=np.uint64)
    sids = np.zeros(code.max_succ, dtype=np.int32)
    ev = np.zeros((code.max_events, 4), dtype=np.int64)
    meta = np.zeros(META + len(ts.model.actions), dtype=np.int64)

    init = int_to_words(explorer.initial(), words)
    states[0] = init
    parent[0] = -1
    via[0] = -1
    store.rehash(table, states, 1)
    ctl = np.zeros(store.CTL_SIZE, dtype=np.int64)
    ctl[store.N] = 1
    ctl[store.LEVEL_END] = 1
    ctl[store.CAP] = cap
    ctl[store.GROW_AT] = int(FIRST_TABLE * TABLE_LOAD)
    ctl[store.DEADLOCK] = next((i for i, p in enumerate(props) if p.kind == PropKind.DEADLOCK), -1)
    ctl[store.FAIL_FAST] = int(fail_fast)
    ctl[store.FULL] = 1
    symmetric = explorer.symmetry is not None
    until = PROGRESS_EVERY
    limit: str | None = None
    while True:
        status = store.explore(
            code.expand, code.canon, ctl, states, parent, via, table, active, pending,
            witness, unexpected, best, found, eval_errors, cov, out, sids, ev, meta,
            until, symmetric,
        )  # fmt: skip
        if status == store.DONE:
            break
        if status == store.AT_CAP:
            limit = limit_reason
            break
        if status == store.STOPPED:
            limit = "stopped at the first unexpected verdict (--fail-fast)"
            break
        if status == store.GROW:
            size = table.shape[0] * 2
            if size > MAX_INDEX + 2:  # pragma: no cover - 2**31 states
                limit = limit_reason
                break
            table = np.zeros(size, dtype=np.int32)
            store.rehash(table, states, int(ctl[store.N]))
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
            limit = f"timeout after {timeout:g} s"
            break
        if interrupt.requested():
            limit = interrupt.reason()
            break

    findings = []
    for pi in range(n_props):
        i, sid, cpu, err = (int(x) for x in found[pi])
        if i == -1:
            continue
        path = explorer._path(_Rows(states), parent, via, i)
        msg = _message(explorer, path[0][-1], pi, sid, cpu) if err else None
        findings.append(Finding(pi, explorer._trace(path, pi, i, sid, cpu, msg)))
    n = int(ctl[store.N])
    return ExplicitRun(
        n,
        int(ctl[store.TRANSITIONS]),
        int(ctl[store.DEPTH]),
        limit is None,
        limit,
        tuple(findings),
        tuple((a.name, int(cov[k])) for k, a in enumerate(ts.model.actions)),
        time.monotonic() - t0,
        explorer.layout.bits,
        ts.disabled_actions(),
        frozenset(pi for pi in range(n_props) if eval_errors[pi]),
        explorer.analysis.describe() if explorer.analysis is not None else None,
        int(ctl[store.FULL]) if symmetric else None,
        "native",
    )


class _Rows:
    """states[k] as the packed integer of the Python backend."""

    def __init__(self, states: np.ndarray) -> None:
        self.states = states

    def __getitem__(self, k: int) -> int:
        return words_to_int(self.states[k])


def _message(explorer: Explorer, packed: int, pi: int, sid: int, cpu: int) -> str:
    """The message of the evaluation error the native search found: the Python target runs
    the same checks in the same order on that one state."""
    _, ev, _ = explorer.expand(
        packed, (1 << len(explorer.ts.properties)) - 1, [0] * len(explorer.ts.model.actions)
    )
    for p, s, c, msg in ev:
        if (p, s, c) == (pi, sid, cpu) and msg is not None:
            return msg
    raise AssertionError("the native and the Python successor functions disagree")
