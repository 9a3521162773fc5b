"""Explicit-state engine: breadth-first search over packed integer states, shortest traces."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from array import array
from typing import Any

from preemptcheck.core import interrupt
from preemptcheck.engines.explicit.codegen import ExpandFn, compile_expand
from preemptcheck.engines.explicit.found import ExplicitRun, Finding, Progress, ProgressFn
from preemptcheck.engines.layout import Layout
from preemptcheck.engines.symmetry import Analysis, Canonicalizer
from preemptcheck.model.ir import Expect, Model, PropKind
from preemptcheck.semantics.reference import Outcome, Reference
from preemptcheck.semantics.system import State, StepLabel, TransitionSystem, initial_state
from preemptcheck.semantics.trace import ReplayError, Trace

BACKENDS = ("auto", "python", "native")
# `auto` explores this many states on the Python backend (no compile cost) before it
# starts again natively; the bundled mode models stay below it
AUTO_NATIVE_AFTER = 100_000


def max_workers() -> int:
    """The most threads the native search can run: the CPUs this process may use (numba
    starts that many; NUMBA_NUM_THREADS can lower it)."""
    most = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    env = os.environ.get("NUMBA_NUM_THREADS", "")
    return min(most or 1, int(env)) if env.isdigit() and int(env) > 0 else most or 1


class Explorer:
    """Compiles a model's successor function once; `run` explores from the initial state."""

    def __init__(self, model: Model, backend: str = "python", workers: int = 1) -> None:
        assert backend in BACKENDS
        assert workers >= 1
        self.ts = TransitionSystem(model)
        self.layout = Layout(self.ts)
        self.expand: ExpandFn
        self.expand, self.source = compile_expand(self.ts, self.layout)
        self.symmetry: Canonicalizer | None = None
        self.analysis: Analysis | None = None
        self.backend = backend
        self.workers = workers  # threads of the native search

    def reduce_symmetry(self, analysis: Analysis) -> None:
        """Explore one state per orbit of the interchangeable CPUs of `analysis`."""
        self.symmetry = Canonicalizer(self.layout, analysis)  # ValueError if too many to try
        self.analysis = analysis

    def initial(self) -> int:
        s = self.layout.pack(initial_state(self.ts.model))
        return self.symmetry.canon(s)[0] if self.symmetry is not None else s

    def error_message(self, packed: int, pi: int, sid: int, cpu: int) -> str:
        """The message of an evaluation error a native search found in state `packed` (it
        records only that there was one): this successor function runs the same checks in
        the same order on that one state."""
        _, ev, _ = self.expand(
            packed, (1 << len(self.ts.properties)) - 1, [0] * len(self.ts.model.actions)
        )
        for p, s, c, msg in ev:
            if (p, s, c) == (pi, sid, cpu) and msg is not None:
                return msg
        raise AssertionError("the native and the Python successor functions disagree")

    def native_unsupported(self) -> str | None:
        """Why this model cannot be explored natively (None: it can)."""
        from preemptcheck.engines.explicit.native import native_unsupported

        return native_unsupported(self.ts, self.layout, self.symmetry)

    def run(
        self,
        *,
        max_states: int | None = None,
        timeout: float | None = None,
        fail_fast: bool = False,
        progress: ProgressFn | None = None,
        progress_every: int = 1 << 14,
        max_memory: int | None = None,
        default_max_states: int | None = None,
    ) -> ExplicitRun:
        """Explore breadth-first; `fail_fast` stops at the first verdict that is not expected.

        The Python backend stops at `max_states` (None: `default_max_states`, None: never);
        the native one at `max_states` or when its store would pass `max_memory` bytes."""
        kw: dict[str, Any] = {"timeout": timeout, "fail_fast": fail_fast, "progress": progress}
        py_cap = max_states if max_states is not None else default_max_states
        if self.backend == "python":
            return self._run_python(max_states=py_cap, progress_every=progress_every, **kw)
        if self.backend == "auto":  # Python first: small models never load numba
            t0 = time.monotonic()
            first = AUTO_NATIVE_AFTER if py_cap is None else min(py_cap, AUTO_NATIVE_AFTER)
            run = self._run_python(max_states=first, progress_every=progress_every, **kw)
            if run.limit is None or first == max_states or not run.limit.startswith("state"):
                return run
            if self.native_unsupported() is not None:  # on in Python, from the start
                return self._run_python(max_states=py_cap, progress_every=progress_every, **kw)
            if timeout is not None:
                kw["timeout"] = max(timeout - (time.monotonic() - t0), 0.0)
        else:
            why = self.native_unsupported()
            if why is not None:
                run = self._run_python(max_states=py_cap, progress_every=progress_every, **kw)
                note = f"the Python backend explored this model: not native because {why}"
                return dataclasses.replace(run, notes=(*run.notes, note))
        from preemptcheck.engines.explicit.nativerun import run_native

        try:
            return run_native(self, max_states=max_states, max_memory=max_memory, **kw)
        except OSError as exc:  # the code cache cannot be written: explore in Python
            run = self._run_python(max_states=py_cap, progress_every=progress_every, **kw)
            note = f"the Python backend explored this model: the native code cache failed ({exc})"
            return dataclasses.replace(run, notes=(*run.notes, note))

    def _run_python(
        self,
        *,
        max_states: int | None,
        timeout: float | None,
        fail_fast: bool,
        progress: ProgressFn | None,
        progress_every: int,
    ) -> ExplicitRun:
        t0 = time.monotonic()
        props = self.ts.properties
        n_props = len(props)
        active = (1 << n_props) - 1
        deadlock_pi = next((i for i, p in enumerate(props) if p.kind == PropKind.DEADLOCK), None)
        found: dict[int, tuple[int, int, int, str | None]] = {}  # pi -> (state, sid, cpu, msg)
        cov = [0] * len(self.ts.model.actions)
        # a finding decides `witness` properties as holding and the others as violated
        unexpected = 0
        witnesses = 0
        for pi, p in enumerate(props):
            witness = p.kind in (PropKind.REACHABLE, PropKind.REACHABLE_ACTION)
            if witness:
                witnesses |= 1 << pi
            if witness == (p.expect == Expect.VIOLATED):
                unexpected |= 1 << pi
        best: dict[int, int] = {}  # property index -> length of the trace found so far
        # Found by a step out of the current level (length depth + 1): a state of this same
        # level may still give a shorter trace (length depth), so they stay open to the end.
        pending = 0
        eval_errors = 0  # reachable properties that could not be evaluated somewhere

        init = self.initial()
        index: dict[int, int] = {init: 0}
        order: list[int] = [init]
        parent = array("q", [-1])
        via = array("l", [-1])
        expand = self.expand
        setdefault = index.setdefault
        append = order.append
        transitions = 0
        depth = 0
        level_end = 1
        limit: str | None = None
        i = 0
        cap = max_states if max_states is not None else sys.maxsize
        next_check = progress_every
        canon = self.symmetry.canon if self.symmetry is not None else None
        full = 1
        while i < len(order):
            if i == level_end:
                depth += 1
                level_end = len(order)
                active &= ~pending
                pending = 0
            s = order[i]
            out, ev, en = expand(s, active, cov)
            if ev:
                for pi, sid, cpu, msg in ev:
                    if not active >> pi & 1:
                        continue
                    if msg is not None and witnesses >> pi & 1:
                        eval_errors |= 1 << pi  # not a witness, and not decided either
                        continue
                    length = depth + (sid != -1)
                    if best.get(pi, length + 1) <= length:
                        continue
                    found[pi] = (i, sid, cpu, msg)
                    best[pi] = length
                    if sid == -1:
                        active &= ~(1 << pi)
                        pending &= ~(1 << pi)
                    else:
                        pending |= 1 << pi
            if not en and deadlock_pi is not None and active >> deadlock_pi & 1:
                found[deadlock_pi] = (i, -1, -1, None)
                active &= ~(1 << deadlock_pi)
            if fail_fast and any(unexpected >> pi & 1 for pi in found):
                limit = "stopped at the first unexpected verdict (--fail-fast)"
                break
            n = len(order)
            for j in range(0, len(out), 2):
                ns = out[j]
                if canon is not None:  # one state per orbit of the CPU permutations
                    ns, orbit = canon(ns)
                if setdefault(ns, n) == n:
                    if n >= cap:  # one state more than allowed: stop, inconclusive
                        del index[ns]
                        limit = f"state limit reached ({cap:,} states)"
                        break
                    if canon is not None:
                        full += orbit
                    append(ns)
                    parent.append(i)
                    via.append(out[j + 1])
                    n += 1
            transitions += len(out) >> 1
            i += 1
            if limit is not None:
                break
            if i >= next_check:
                next_check += progress_every
                elapsed = time.monotonic() - t0
                if progress is not None:
                    progress(Progress(len(order), len(order) - i, transitions, depth, elapsed))
                if timeout is not None and elapsed > timeout:
                    limit = f"timeout after {timeout:g} s"
                    break
                if interrupt.requested():
                    limit = interrupt.reason()
                    break
        complete = limit is None
        findings = tuple(
            Finding(
                pi, self.finding_trace(self._path(order, parent, via, found[pi][0]), pi, *found[pi])
            )
            for pi in sorted(found)
        )
        coverage = tuple((a.name, cov[k]) for k, a in enumerate(self.ts.model.actions))
        return ExplicitRun(
            len(order),
            transitions,
            depth,
            complete,
            limit,
            findings,
            coverage,
            time.monotonic() - t0,
            self.layout.bits,
            self.ts.disabled_actions(),
            frozenset(pi for pi in range(n_props) if eval_errors >> pi & 1),
            self.analysis.describe() if self.analysis is not None else None,
            full if canon is not None else None,
        )

    @staticmethod
    def _path(order: Any, parent: Any, via: Any, i: int) -> tuple[list[int], list[int]]:
        """The packed states and the step ids of the BFS tree's path to state `i` (sequences
        of ints, or the native store's numpy arrays)."""
        packed: list[int] = []
        sids: list[int] = []
        k = i
        while k != -1:
            packed.append(int(order[k]))
            if via[k] != -1:
                sids.append(int(via[k]))
            k = int(parent[k])
        packed.reverse()
        sids.reverse()
        return packed, sids

    def finding_trace(
        self,
        path: tuple[list[int], list[int]],
        pi: int,
        i: int,
        sid: int,
        cpu: int,
        msg: str | None,
    ) -> Trace:
        """The trace of property pi's finding: `path` (packed states and the step ids between
        them) to the state where it was found, then step `sid` from there (-1: none, the
        state itself is the finding), concretized when the search was symmetry-reduced. Every
        search that finds on packed states (Python, native, cluster, simulation) builds its
        traces here."""
        packed, sids = path
        failed = False
        if sid != -1:
            out, _, _ = self.expand(packed[-1], 0, [0] * len(self.ts.model.actions))
            nxt = [out[j] for j in range(0, len(out), 2) if out[j + 1] == sid]
            sids.append(sid)
            if nxt:
                packed.append(nxt[0])
            else:
                failed = True
        if self.symmetry is not None:
            reps = packed if failed or sid == -1 else packed[:-1]
            last = None if failed or sid == -1 else self.symmetry.canon(packed[-1])[0]
            return self._concretize(reps, pi, sid != -1, last, cpu, msg)
        labels: list[StepLabel] = [self.ts.label(x) for x in sids]
        states: list[State] = [self.layout.unpack(x) for x in packed]
        return Trace(tuple(states), tuple(labels), failed=failed, cpu=cpu, message=msg)

    def _concretize(
        self, reps: list[int], pi: int, step: bool, last: int | None, cpu: int, msg: str | None
    ) -> Trace:
        """A real run through the orbits a symmetry-reduced path visits.

        Each representative stands for its orbit; from the concrete state in that orbit some
        step leads into the next orbit. The reference semantics finds it, so the trace names
        the CPUs that really did each step (and replay checks it like any other).
        """
        assert self.symmetry is not None
        canon = self.symmetry.canon
        pack = self.layout.pack
        ref = Reference(self.ts.model)
        prop = self.ts.properties[pi]
        st = initial_state(self.ts.model)
        states: list[State] = [st]
        labels: list[StepLabel] = []
        for rep in reps[1:]:
            o = next(
                o for o in ref.outcomes(st) if o.next is not None and canon(pack(o.next))[0] == rep
            )
            assert o.next is not None
            labels.append(o.label)
            st = o.next
            states.append(st)
        failed = False
        if step:

            def fires(o: Outcome) -> bool:
                if prop.kind == PropKind.RANGE:
                    hit = o.error is not None or bool(o.prop_errors)
                else:
                    hit = pi in o.hits or pi in dict(o.prop_errors)
                if last is None:
                    return hit and o.next is None
                return hit and o.next is not None and canon(pack(o.next))[0] == last

            final = next((x for x in ref.outcomes(st) if fires(x)), None)
            if final is None:
                raise ReplayError(
                    f"{prop.id}: the last step of a symmetry-reduced trace has "
                    "no real counterpart: a bug in the reduction"
                )
            labels.append(final.label)
            errors = dict(final.prop_errors)
            msg = final.error or errors.get(pi) or next(iter(errors.values()), None) or msg
            if final.next is None:
                failed = True
            else:
                states.append(final.next)
        elif cpu >= 0 or prop.kind == PropKind.RANGE:
            for p, c, v in ref.state_checks(st):
                bad = (
                    isinstance(v, str)
                    if prop.kind == PropKind.RANGE
                    else (
                        p == pi and (v is (prop.kind == PropKind.REACHABLE) or isinstance(v, str))
                    )
                )
                if bad and (prop.kind == PropKind.RANGE or c >= 0):
                    cpu = c
                    msg = v if isinstance(v, str) else msg
                    break
        return Trace(tuple(states), tuple(labels), failed=failed, cpu=cpu, message=msg)
