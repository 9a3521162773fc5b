"""`preemptcheck trace`: one model, one recording; read it twice (which events it records,
then the lines in order), and say whether the model can produce it. Or the recording
through a kernel RV automaton."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from preemptcheck.core.errors import Code, Diagnostic, InputError
from preemptcheck.core.source import Span
from preemptcheck.ftrace.conform import Checker, Outcome, check
from preemptcheck.ftrace.flags import LAZY_LETTERS
from preemptcheck.ftrace.parse import LOST, Reader, Tally, TraceFormatError
from preemptcheck.ftrace.rvmon import MonitorRun, run_monitor
from preemptcheck.model.ir import Model
from preemptcheck.monitors.dot import Automaton


@dataclass
class TraceRun:
    model: Model
    file: str
    tally: Tally  # the lines read (up to the rejected one)
    outcome: Outcome
    recorded: frozenset[str]  # the model's events the trace records
    seconds: float

    @property
    def conforms(self) -> bool:
        return self.outcome.rejection is None


def _open(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")  # closed by the callers' with
    except OSError as exc:
        raise InputError(
            [
                Diagnostic(
                    Code.CANNOT_READ, f"cannot read the trace: {exc.strerror}", Span(path, 0, 0)
                )
            ]
        ) from None


def _bad(path: str, line: int, message: str) -> InputError:
    return InputError([Diagnostic(Code.BAD_TRACE, message, Span(path, line, 1))])


@dataclass
class Survey:
    """A first pass over a trace: its event names, its CPUs (with the line each first
    appears on), and whether it shows TIF_NEED_RESCHED_LAZY at all."""

    events: set[str] = field(default_factory=set)
    cpus: dict[int, int] = field(default_factory=dict)
    lazy: bool = False

    def cpu_map(self, path: str, model_cpus: int) -> dict[int, int]:
        """Trace CPU -> model CPU: the same numbers when the model has them, else the
        trace's CPUs in increasing order."""
        if model_cpus == 1 or all(c < model_cpus for c in self.cpus):
            return {c: c for c in range(model_cpus)}
        if len(self.cpus) > model_cpus:
            extra = sorted(self.cpus)[model_cpus]
            raise _bad(
                path,
                self.cpus[extra],
                f"the trace has {len(self.cpus)} CPUs ({', '.join(map(str, sorted(self.cpus)))}) "
                f"and the model {model_cpus}: give it more with --set, or check a trace of "
                f"fewer CPUs",
            )
        return {c: k for k, c in enumerate(sorted(self.cpus))}


def survey(path: str, progress: Callable[[str, int], None] | None = None) -> Survey:
    out = Survey()
    with _open(path) as f:
        try:
            for line in Reader(f):
                if progress is not None and line.number % 65536 == 0:
                    progress("read", line.number)
                if line.event == LOST:
                    continue
                out.events.add(line.event)
                out.cpus.setdefault(line.cpu, line.number)
                if line.flags is not None and (
                    line.flags.lazy is not None or line.flags.need_resched in LAZY_LETTERS
                ):
                    out.lazy = True
        except TraceFormatError as exc:
            raise _bad(path, exc.line, str(exc)) from None
    return out


def check_trace(
    model: Model,
    path: str,
    *,
    max_silent: int,
    from_initial: bool,
    max_states: int | None,
    progress: Callable[[str, int], None] | None = None,
) -> TraceRun:
    """Raises InputError for a file that is not a trace, GraphLimit when the model's state
    graph passes max_states. `progress(phase, lines)`: the first pass ("read", which
    events the trace holds), then the check ("checked")."""
    t0 = time.monotonic()
    seen = survey(path, progress)
    checker = Checker(
        model,
        seen.events,
        max_silent=max_silent,
        lazy_shown=seen.lazy,
        from_initial=from_initial,
        max_states=max_states,
    )
    with _open(path) as f:
        reader = Reader(f)
        try:
            checked = (lambda n: progress("checked", n)) if progress is not None else None
            outcome = check(checker, reader, seen.cpu_map(path, model.cpus), checked)
        except TraceFormatError as exc:
            raise _bad(path, exc.line, str(exc)) from None
    return TraceRun(model, path, reader.tally, outcome, checker.recorded, time.monotonic() - t0)


def monitor_trace(
    path: str, automaton: Automaton, *, per: str, start: frozenset[str]
) -> MonitorRun:
    """The recording through a kernel RV automaton (ftrace.rvmon)."""
    with _open(path) as f:
        try:
            return run_monitor(automaton, Reader(f), per=per, start=start)
        except TraceFormatError as exc:
            raise _bad(path, exc.line, str(exc)) from None
