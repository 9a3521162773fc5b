"""Can a model produce a recorded trace? The set of model situations consistent with the
lines read so far, line by line, as TLA+ trace validation does.

A situation is a reachable state at rest, or a state in the middle of one atomic step whose
first traced events have matched (a step may emit several: a wakeup's irq_disable,
preempt_disable, sched_waking, ...). For each event line:

* from every state at rest, the model may first take up to `max_silent` silent steps: steps
  that emit no event the trace records (the events of a step that appear nowhere in the
  trace were not enabled when it was recorded);
* then a step whose next traced event is the line's, on the line's CPU, whose flags agree
  with the line's (flags.step_views), continues or completes.

After a `[LOST N EVENTS]` marker the CPU (for a model of several CPUs, the whole model)
starts again from every reachable state: what happened meanwhile is not in the trace.

The lines are checked in the trace's own order. A one-CPU model checks each CPU of the
trace on its own; a model of N CPUs takes the trace's CPUs as its own (the same numbers
where it has them, else in increasing order), interleaved as the timestamps order them.
Where no situation is left, the line is the first that no behaviour of the model explains.

The reachable states come from the explicit engine's state graph; the step's events and the
states' flags from the reference semantics (monitors.semantics.emitted, flags.ModelFlags),
both computed once per state or step and kept: a long recording repeats a few situations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import StateGraph, build_graph
from preemptcheck.expr.ast import Value
from preemptcheck.ftrace.flags import ModelFlags, View, mismatches, observed, step_views
from preemptcheck.ftrace.parse import LOST, Line
from preemptcheck.model.ir import Model
from preemptcheck.monitors.semantics import Emitted, emitted
from preemptcheck.semantics.system import State

# (state, edge, events matched): edge -1 at rest
Situation = tuple[int, int, int]
DEFAULT_MAX_SILENT = 8


@dataclass(frozen=True, slots=True)
class Reading:
    """A line in the model's terms: its event, CPU, flags, and the attribute values its
    arguments ask for ((attribute, value or None when no model value maps, as shown))."""

    event: str
    cpu: int
    flags_text: str
    wants: tuple[tuple[str, Value | None, str], ...]
    flags: View | None
    task: str | None  # the model task of the line's pid (`trace: {tasks: ...}`)
    pid: int

    @property
    def key(self) -> tuple[object, ...]:
        return (self.event, self.cpu, self.flags_text, self.wants, self.task)


@dataclass
class Rejection:
    line: Line
    before: list[State]  # the model's states just before the line (some of them)
    n_before: int
    allowed: list[str]  # the events (with CPUs) the model could have taken there
    why: list[str]  # why each step with the line's event does not fit (flags, args, task)


@dataclass
class Outcome:
    matched: int = 0
    unknown: Counter[str] = field(default_factory=Counter)  # events no model action emits
    rejection: Rejection | None = None
    cpus: int = 0
    resets: int = 0  # LOST EVENTS markers: the CPU's situations started again from any state


class Checker:
    def __init__(
        self,
        model: Model,
        recorded: Iterable[str],
        *,
        max_silent: int = DEFAULT_MAX_SILENT,
        lazy_shown: bool = False,
        from_initial: bool = False,
        max_states: int | None = None,
    ) -> None:
        self.model = model
        explorer = Explorer(model)
        self.layout = explorer.layout
        self.graph: StateGraph = build_graph(explorer, max_states=max_states)
        self.labels = [explorer.ts.label(s) for s in range(len(explorer.ts.steps))]
        self.index = {v.name: i for i, v in enumerate(model.vars)}
        self.emits = {e.event for a in model.actions for s in a.steps for e in s.emits}
        self.maps = {m.tracepoint: m for m in model.trace}  # the model's `trace:` section
        self.tasks = dict(model.trace_tasks)  # pid -> model task
        names = {self.maps[n].event if n in self.maps else n for n in recorded}
        self.recorded = frozenset(names) & self.emits
        self.max_silent = max_silent
        self.lazy_shown = lazy_shown
        self.flags = ModelFlags(model)
        self.anywhere = frozenset((v, -1, 0) for v in range(len(self.graph)))
        self.start = frozenset({(0, -1, 0)}) if from_initial else self.anywhere
        self.state = lru_cache(maxsize=1 << 16)(self._state)
        self.emitted = lru_cache(maxsize=1 << 18)(self._emitted)
        self.attrs = lru_cache(maxsize=1 << 18)(self._attrs)
        self.events = lru_cache(maxsize=1 << 18)(self._events)
        self.views = lru_cache(maxsize=1 << 18)(self._views)
        self.closure = lru_cache(maxsize=1 << 12)(self._closure)
        self.memo: dict[tuple[frozenset[Situation], object], frozenset[Situation]] = {}

    # ---------------------------------------------------------------- the model, kept

    def _state(self, v: int) -> State:
        return self.layout.unpack(self.graph.states[v])

    def _emitted(self, v: int, e: int) -> Emitted:
        """Every event of edge e (from state v), in order, with its attributes."""
        label = self.labels[self.graph.sid[e]]
        return emitted(self.model, self.index, self.state(v), label)

    def _events(self, v: int, e: int) -> tuple[str, ...]:
        """The traced events of edge e (from state v), in order."""
        return tuple(name for name, _ in self.emitted(v, e) if name in self.recorded)

    def _attrs(self, v: int, e: int) -> tuple[dict[str, Value], ...]:
        """The attributes of each traced event of edge e."""
        return tuple(dict(a) for name, a in self.emitted(v, e) if name in self.recorded)

    def _views(self, v: int, e: int) -> tuple[View, ...]:
        """What the line of each traced event of edge e shows: worked out over all the
        step's events (interrupts go off at an irq_disable the trace may not record)."""
        cpu = self.labels[self.graph.sid[e]].cpu
        pre = self.flags.view(self.state(v), cpu)
        post = self.flags.view(self.state(self.graph.dst[e]), cpu)
        every = tuple(name for name, _ in self.emitted(v, e))
        views = step_views(pre, post, every)
        return tuple(view for name, view in zip(every, views, strict=True) if name in self.recorded)

    def _closure(self, start: frozenset[int]) -> frozenset[int]:
        """The states up to max_silent silent steps from those of `start`."""
        seen = set(start)
        frontier = list(start)
        g = self.graph
        for _ in range(self.max_silent):
            nxt = []
            for u in frontier:
                for e in g.edges(u):
                    w = g.dst[e]
                    if w not in seen and not self.events(u, e):
                        seen.add(w)
                        nxt.append(w)
            if not nxt:
                break
            frontier = nxt
        return frozenset(seen)

    def _heads(self, now: frozenset[Situation]) -> Iterable[tuple[int, int, int]]:
        """(state, edge, events matched) of every step that may come next."""
        rest = frozenset(v for v, e, _ in now if e < 0)
        for v, e, i in now:
            if e >= 0:
                yield v, e, i
        if rest:
            g = self.graph
            for u in sorted(self.closure(rest)):
                for e in g.edges(u):
                    yield u, e, 0

    # ---------------------------------------------------------------- one line

    def read(self, line: Line, cpu: int) -> Reading:
        """What a line claims, in the model's terms."""
        mapped = self.maps.get(line.event)
        event = mapped.event if mapped is not None else line.event
        wants: list[tuple[str, Value | None, str]] = []
        for arg in mapped.args if mapped is not None else ():
            shown = line.arg(arg.arg)
            if shown is not None:  # an argument the line does not have claims nothing
                wants.append((arg.attr, dict(arg.values).get(shown), f"{arg.arg}={shown}"))
        flags = line.flags.text if line.flags is not None else ""
        shown_flags = observed(line.flags, self.lazy_shown) if line.flags is not None else None
        task = self.tasks.get(str(line.pid))
        return Reading(event, cpu, flags, tuple(wants), shown_flags, task, line.pid)

    def step(self, now: frozenset[Situation], reading: Reading) -> frozenset[Situation]:
        key = (now, reading.key)
        found = self.memo.get(key)
        if found is None:
            found = frozenset(self._step(now, reading, None))
            if len(self.memo) > 1 << 16:
                self.memo.clear()
            self.memo[key] = found
        return found

    def _step(
        self, now: frozenset[Situation], reading: Reading, why: list[str] | None
    ) -> Iterable[Situation]:
        for v, e, i in self._heads(now):
            yield from self._match(v, e, i, reading, why)

    def _match(
        self, v: int, e: int, i: int, r: Reading, why: list[str] | None
    ) -> Iterable[Situation]:
        evs = self.events(v, e)
        if i >= len(evs) or evs[i] != r.event or self.labels[self.graph.sid[e]].cpu != r.cpu:
            return
        wrong = []
        if r.flags is not None:
            wrong = mismatches(r.flags, self.views(v, e)[i])
        if r.task is not None:
            running = self.flags.current(self.state(v), r.cpu)
            if running is not None and running != r.task:
                wrong.append(f"the line's task (pid {r.pid}) is {r.task}, the CPU runs {running}")
        attrs = self.attrs(v, e)[i]
        for attr, want, shown in r.wants:
            if want is not None and attr in attrs and attrs[attr] != want:
                wrong.append(f"{shown}: the step has {attr}={attrs[attr]}")
        if wrong:
            if why is not None:
                why.append(f"{self.labels[self.graph.sid[e]]}: " + "; ".join(wrong))
            return
        yield (self.graph.dst[e], -1, 0) if i + 1 == len(evs) else (v, e, i + 1)

    def reject(self, now: frozenset[Situation], line: Line, reading: Reading) -> Rejection:
        why: list[str] = []
        for _ in self._step(now, reading, why):
            pass
        allowed: set[str] = set()
        for v, e, i in self._heads(now):
            evs = self.events(v, e)
            if i < len(evs):
                allowed.add(f"{evs[i]} on CPU {self.labels[self.graph.sid[e]].cpu}")
        states = sorted({v for v, _, _ in now})
        return Rejection(
            line,
            [self.state(v) for v in states[:3]],
            len(states),
            sorted(allowed),
            sorted(set(why))[:6],
        )


def check(
    checker: Checker,
    lines: Iterable[Line],
    cpu_of: dict[int, int],
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Runs the lines through the checker; stops at the first line no behaviour explains.
    `cpu_of`: the model CPU of each trace CPU (a one-CPU model checks each on its own)."""
    out = Outcome()
    single = checker.model.cpus == 1
    now: dict[int, frozenset[Situation]] = {}  # per independent stream
    seen: set[int] = set()
    for line in lines:
        if progress is not None and line.number % 65536 == 0:
            progress(line.number)
        if line.event == LOST:  # events are missing: the CPU may be anywhere now
            now[line.cpu if single else 0] = checker.anywhere
            out.resets += 1
            continue
        stream, cpu = (line.cpu, 0) if single else (0, cpu_of[line.cpu])
        reading = checker.read(line, cpu)
        if reading.event not in checker.emits:
            out.unknown[line.event] += 1
            continue
        cur = now.get(stream, checker.start)
        nxt = checker.step(cur, reading)
        if not nxt:
            out.rejection = checker.reject(cur, line, reading)
            break
        now[stream] = nxt
        seen.add(line.cpu)
        out.matched += 1
    out.cpus = len(seen)
    return out
