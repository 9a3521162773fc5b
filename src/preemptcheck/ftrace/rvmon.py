"""A recording through a kernel RV automaton (an rvgen .dot file), as the kernel's monitor
would run on the machine that recorded it: `preemptcheck trace --monitor FILE.dot`.

The automaton's events are the tracepoints of the same name (wip: preempt_disable,
preempt_enable, sched_waking); other lines are not seen by it. A per-CPU monitor has an
instance per CPU of the trace, a global one a single instance. An instance starts in the
initial state at its first line, or, with start events given (`--start EVENT`, the events
the monitor's C handlers pass to da_handle_start_event), when the first of them arrives:
that event is not processed, the instance only starts, as the kernel does. An event with
no edge from the instance's state is the monitor's error; its reaction line is the one the
kernel's printk reactor prints (monitors.semantics). After a LOST EVENTS marker an instance
with start events stops monitoring until the next one; without them it goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from preemptcheck.ftrace.parse import LOST, Line
from preemptcheck.monitors.dot import Automaton


@dataclass
class MonitorRun:
    automaton: Automaton
    per: str
    events: int = 0  # lines the automaton saw
    states: dict[int, str] = field(default_factory=dict)  # instance -> state at the end
    error: tuple[Line, str] | None = None  # the line it did not allow, and the reaction


def run_monitor(
    automaton: Automaton, lines: Iterable[Line], *, per: str, start: frozenset[str]
) -> MonitorRun:
    out = MonitorRun(automaton, per)
    known = set(automaton.events)
    for line in lines:
        key = line.cpu if per == "cpu" else 0
        if line.event == LOST:
            if start and (per != "cpu" or key in out.states):
                out.states.pop(key, None)
            continue
        if line.event not in known and line.event not in start:
            continue
        state = out.states.get(key)
        if state is None:
            if start and line.event not in start:
                continue  # not monitoring yet
            out.states[key] = automaton.initial
            if start:
                continue
            state = automaton.initial
        if line.event not in known:
            continue
        out.events += 1
        edge = automaton.step(state, line.event)
        if edge is None:
            where = f" on cpu{line.cpu}" if per == "cpu" else ""
            out.error = (
                line,
                f"rv: monitor {automaton.name} does not allow event {line.event} "
                f"on state {state}{where}",
            )
            return out
        out.states[key] = edge.dst
    return out
