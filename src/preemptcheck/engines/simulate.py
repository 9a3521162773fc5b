"""Random simulation: seeded random walks from the initial state, checking every state they
visit with the explicit engine's compiled successor function and the monitors' semantics.

A walk visits a state exactly as the breadth-first search expands one: the state
properties are evaluated in it, and every step it enables is tried, so a `never` step, a
range error or a step a monitor does not allow counts even when the walk then takes
another step. The walk takes one of the steps that complete, chosen uniformly (in the
default order); it ends
after `depth` steps or where no step completes (a state without an enabled step is a
deadlock, when the model forbids them).

Run k draws its choices from its own generator, seeded by the seed and k alone, so it can
be repeated without the runs before it. In the `swarm` order (swarm testing, as SPIN's
swarm varies its search order) run k first draws which actions it leaves out, each with
probability 1/2, and then never starts one of them unless nothing else can step: every
walk is still a run of the model, and one that leaves out the action that keeps undoing
progress (a reset always enabled) goes where a uniform walk rarely does.

A walk records the first (shortest) trace of each property it decides; over the runs, the
shortest trace wins, the earliest run on a tie.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from preemptcheck.core import interrupt
from preemptcheck.engines.explicit.search import Explorer
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.model.ir import Model, PropKind
from preemptcheck.monitors.semantics import Delivery, Emitted, MonitorSemantics, emitted
from preemptcheck.semantics.system import State
from preemptcheck.semantics.trace import Trace

# properties a walk can decide: a state or a step shows them (leads_to needs whole runs)
STEP_KINDS = frozenset(
    {
        PropKind.INVARIANT,
        PropKind.NEVER,
        PropKind.RANGE,
        PropKind.DEADLOCK,
        PropKind.MONITOR,
        PropKind.REACHABLE,
        PropKind.REACHABLE_ACTION,
    }
)
WITNESS_KINDS = frozenset({PropKind.REACHABLE, PropKind.REACHABLE_ACTION})
CACHE_MAX = 1 << 18  # unpacked states and monitor deliveries kept between walks
_BROKEN = "cannot be evaluated: "
_Curs = tuple[tuple[int, ...] | None, ...]  # each monitor's instances (None: not followed)


class Order(Enum):
    """How a walk chooses among the steps that complete."""

    UNIFORM = "uniform"  # each with the same probability
    SWARM = "swarm"  # leaving out the actions the walk drew first (the module docstring)


def run_random(seed: int, run: int) -> random.Random:
    """The generator of run `run` (1-based) of `seed`: a string seed is hashed (SHA-512)
    the same way on every machine and Python version."""
    return random.Random(f"preemptcheck-simulate:{seed}:{run}")


def left_out(rng: random.Random, actions: int) -> frozenset[int]:
    """The actions a `swarm` walk leaves out: its generator's first draws."""
    return frozenset(a for a in range(actions) if rng.random() < 0.5)


def omitted(model: Model, seed: int, run: int) -> tuple[str, ...]:
    """The actions run `run` of `seed` leaves out in the `swarm` order, in declaration order."""
    off = left_out(run_random(seed, run), len(model.actions))
    return tuple(a.name for i, a in enumerate(model.actions) if i in off)


@dataclass(frozen=True, slots=True)
class SimFinding:
    """The trace on which run `run` decided a property: violated, or for a `reachable`
    property witnessed."""

    prop_index: int
    run: int
    trace: Trace


@dataclass(frozen=True, slots=True)
class Walk:
    """One run: the packed states it visited and the step ids it took, its findings."""

    run: int
    states: tuple[int, ...]
    sids: tuple[int, ...]
    stuck: bool  # ended before `depth` steps: no step completes in its last state
    findings: tuple[SimFinding, ...]


@dataclass(frozen=True, slots=True)
class SimProgress:
    runs: int
    steps: int
    elapsed: float


@dataclass(frozen=True, slots=True)
class SimulationRun:
    runs: int  # walks completed
    steps: int  # steps taken over all walks
    states: int  # states visited over all walks (a state visited twice counts twice)
    stuck: int  # walks that ended before `depth` steps
    findings: tuple[SimFinding, ...]  # per property, the shortest; by property index
    unknown: tuple[tuple[int, str], ...]  # monitors that could not be evaluated, and why
    limit: str | None  # why the runs stopped before all were done
    elapsed: float
    stopped: str | None = None  # why the runs ended early with no limit reached (a swarm)
    workers: int = 1  # processes that shared the walks


@dataclass
class _Walker:
    """The mutable state of one walk's monitors: every instance's state at every state."""

    cur: list[tuple[int, ...] | None]
    history: list[list[tuple[int, ...]]] = field(default_factory=list)


class Simulator:
    """Compiles the model's successor function once; `walk` and `run` use it."""

    def __init__(self, model: Model) -> None:
        self.explorer = Explorer(model)
        self.ts = self.explorer.ts
        self.props = self.ts.properties
        self.expand = self.explorer.expand
        self.monitors = [
            (pi, MonitorSemantics(model, p.monitor))
            for pi, p in enumerate(self.props)
            if p.monitor is not None
        ]
        self.deadlock = next(
            (i for i, p in enumerate(self.props) if p.kind == PropKind.DEADLOCK), None
        )
        self.checked = 0  # properties the compiled function records
        for pi, p in enumerate(self.props):
            if p.kind in STEP_KINDS and p.kind != PropKind.MONITOR:
                self.checked |= 1 << pi
        self.broken: dict[int, str] = {}  # monitor property -> why it cannot be evaluated
        self._states: dict[int, State] = {}
        self._deliveries: dict[tuple[int, int], tuple[list[Delivery] | str, ...]] = {}
        self._reactions: dict[tuple[int, int, _Curs], tuple[tuple[int, ...] | str | None, ...]]
        self._reactions = {}
        self.index = {v.name: i for i, v in enumerate(model.vars)}
        self._scratch = [0] * len(model.actions)
        self.actions = tuple(a.name for a in model.actions)
        where = {name: i for i, name in enumerate(self.actions)}
        # per step id: the action it starts (its first step), or -1 (a later step)
        self._starts = [
            where[st.label.action] if st.label.step == 0 else -1 for st in self.ts.steps
        ]

    def _choose(self, rng: random.Random, out: Sequence[int], off: frozenset[int]) -> int:
        """The index in `out` of the step taken: uniform over the steps that do not start a
        left-out action, or over all if each does."""
        if off:
            kept = [j for j in range(0, len(out), 2) if self._starts[out[j + 1]] not in off]
            if kept:
                return kept[rng.randrange(len(kept))]
        return 2 * rng.randrange(len(out) // 2)

    # ------------------------------------------------------------ one walk

    def walk(
        self,
        seed: int,
        run: int,
        depth: int,
        best: dict[int, int] | None = None,
        *,
        order: Order = Order.UNIFORM,
    ) -> Walk:
        """Run `run` of `seed`, at most `depth` steps. `best`: per property the length of
        a trace already found; a finding no shorter is not built (the walk is the same)."""
        rng = run_random(seed, run)
        off = left_out(rng, len(self.actions)) if order == Order.SWARM else frozenset()
        best = best if best is not None else {}
        found: dict[int, tuple[int, SimFinding | tuple[int, int, int, str | None]]] = {}
        s = self.explorer.initial()
        packed = [s]
        sids: list[int] = []
        mons = _Walker([None if pi in self.broken else sem.initial() for pi, sem in self.monitors])
        stuck = False

        lim = dict(best)  # per property: only a shorter trace is wanted

        def wanted(pi: int, length: int) -> bool:
            return length < lim.get(pi, length + 1)

        for d in range(depth + 1):
            mons.history.append([c if c is not None else () for c in mons.cur])
            active = self.checked
            for pi, n in lim.items():
                if n <= d:
                    active &= ~(1 << pi)
            out, ev, en = self.expand(s, active, self._scratch)
            for pi, sid, cpu, msg in ev:
                if msg is not None and self.props[pi].kind in WITNESS_KINDS:
                    continue  # not a witness, and (range reports the error) nothing else
                length = d + (sid != -1)
                if wanted(pi, length):
                    found[pi] = (length, (d, sid, cpu, msg))
                    lim[pi] = length
            if not en and self.deadlock is not None and wanted(self.deadlock, d):
                found[self.deadlock] = (d, (d, -1, -1, None))
                lim[self.deadlock] = d
            for pi in self._check_monitors(run, s, out, d, packed, sids, mons, found, wanted):
                lim[pi] = d + 1
            if d == depth:
                break
            if not out:
                stuck = True
                break
            j = self._choose(rng, out, off)
            ns, sid = out[j], out[j + 1]
            self._advance(s, sid, mons)
            packed.append(ns)
            sids.append(sid)
            s = ns
        findings = []
        for pi in sorted(found):
            what = found[pi][1]
            if not isinstance(what, SimFinding):
                d, sid, cpu, msg = what
                path = (packed[: d + 1], sids[:d])
                what = SimFinding(pi, run, self.explorer.finding_trace(path, pi, d, sid, cpu, msg))
            findings.append(what)
        return Walk(run, tuple(packed), tuple(sids), stuck, tuple(findings))

    def _check_monitors(
        self,
        run: int,
        s: int,
        out: list[int],
        d: int,
        packed: list[int],
        sids: list[int],
        mons: _Walker,
        found: dict[int, tuple[int, SimFinding | tuple[int, int, int, str | None]]],
        wanted: Callable[[int, int], bool],
    ) -> list[int]:
        """Every step that completes from `s`, through each monitor from its instances'
        states here: the first step one does not allow is a violation of length d + 1.
        Returns the monitor properties found violated."""
        hit: list[int] = []
        live = [
            m
            for m, (pi, _) in enumerate(self.monitors)
            if pi not in self.broken and wanted(pi, d + 1)
        ]
        if not live or all(mons.cur[m] is None for m in live):
            return hit
        curs = tuple(mons.cur)
        for j in range(0, len(out), 2):
            after = self._effect(s, out[j + 1], curs)
            for m in live:
                pi, sem = self.monitors[m]
                message = after[m]
                if not isinstance(message, str) or message.startswith(_BROKEN) or pi in hit:
                    continue
                shown = [sem.show(h[m]) for h in mons.history]
                trace = Trace(
                    tuple(self._unpack(x) for x in (*packed, out[j])),
                    tuple(self.ts.label(x) for x in (*sids, out[j + 1])),
                    message=message,
                    monitor=(*shown, shown[-1]),
                )
                found[pi] = (d + 1, SimFinding(pi, run, trace))
                hit.append(pi)
        return hit

    def _advance(self, s: int, sid: int, mons: _Walker) -> None:
        """Each monitor's instances after the step taken (None once it violated)."""
        if self.monitors:
            after = self._effect(s, sid, tuple(mons.cur))
            mons.cur = [None if isinstance(x, str) else x for x in after]

    def _effect(
        self, s: int, sid: int, curs: tuple[tuple[int, ...] | None, ...]
    ) -> tuple[tuple[int, ...] | str | None, ...]:
        """Per monitor, its instances after the step `sid` from `s` (None: not followed),
        or the violation message (starting with _BROKEN: why the step's deliveries cannot
        be evaluated; the monitor is not followed from there on)."""
        key = (s, sid, curs)
        got = self._reactions.get(key)
        if got is not None:
            return got
        if len(self._reactions) >= CACHE_MAX:
            self._reactions.clear()
        per = self._delivered(s, sid)
        out: list[tuple[int, ...] | str | None] = []
        for (pi, sem), cur, ds in zip(self.monitors, curs, per, strict=True):
            if cur is None:
                out.append(None)
                continue
            if isinstance(ds, str):
                self.broken.setdefault(pi, ds.removeprefix(_BROKEN))
                out.append(ds)
                continue
            now: tuple[int, ...] | str = cur
            for dv in ds:
                r = sem.react(cur, dv)
                if r.violation is not None:
                    now = r.violation
                    break
                cur = now = r.states
            out.append(now)
        got = self._reactions[key] = tuple(out)
        return got

    def _delivered(self, s: int, sid: int) -> tuple[list[Delivery] | str, ...]:
        """Per monitor what the step delivers from `s`, or why it cannot be evaluated; the
        step's events are evaluated once for all monitors."""
        key = (s, sid)
        got = self._deliveries.get(key)
        if got is None:
            if len(self._deliveries) >= CACHE_MAX:
                self._deliveries.clear()
            st, label = self._unpack(s), self.ts.label(sid)
            per: list[list[Delivery] | str] = []
            try:
                events: Emitted | str = emitted(self.ts.model, self.index, st, label)
            except EvalError as exc:
                events = f"{_BROKEN}{exc}"
            for _, sem in self.monitors:
                if isinstance(events, str):
                    per.append(events)
                    continue
                try:
                    per.append(sem.deliveries(st, label, events))
                except EvalError as exc:
                    per.append(f"{_BROKEN}{exc}")
            got = self._deliveries[key] = tuple(per)
        return got

    def _unpack(self, s: int) -> State:
        st = self._states.get(s)
        if st is None:
            if len(self._states) >= CACHE_MAX:
                self._states.clear()
            st = self._states[s] = self.explorer.layout.unpack(s)
        return st

    # ------------------------------------------------------------ many walks

    def run(
        self,
        seed: int,
        *,
        runs: range,
        depth: int,
        timeout: float | None = None,
        progress: Callable[[SimProgress], None] | None = None,
        stop: Callable[[Walk], str | None] | None = None,
        order: Order = Order.UNIFORM,
    ) -> SimulationRun:
        """The walks numbered `runs`, in order; stops early at `timeout` or a signal, or
        when `stop`, asked after each walk, gives a reason (the limit)."""
        t0 = time.monotonic()
        best: dict[int, SimFinding] = {}
        lengths: dict[int, int] = {}
        done = steps = states = stuck = 0
        limit = None
        for k in runs:
            elapsed = time.monotonic() - t0
            if interrupt.requested():
                limit = interrupt.reason()
                break
            if timeout is not None and elapsed > timeout:
                limit = f"timeout after {timeout:g} s"
                break
            if progress is not None:
                progress(SimProgress(done, steps, elapsed))
            w = self.walk(seed, k, depth, lengths, order=order)
            done += 1
            steps += len(w.sids)
            states += len(w.states)
            stuck += w.stuck
            for f in w.findings:
                if f.trace.length < lengths.get(f.prop_index, f.trace.length + 1):
                    best[f.prop_index] = f
                    lengths[f.prop_index] = f.trace.length
            if stop is not None:
                limit = stop(w)
                if limit is not None:
                    break
        return SimulationRun(
            done,
            steps,
            states,
            stuck,
            tuple(best[pi] for pi in sorted(best)),
            tuple(sorted(self.broken.items())),
            limit,
            time.monotonic() - t0,
        )
