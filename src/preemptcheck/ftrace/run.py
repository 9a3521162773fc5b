"""`preemptcheck trace`: one model, one recording; read it twice (which events it records,
then the lines in order), and say whether the model can produce it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from preemptcheck.errors import Code, Diagnostic, InputError
from preemptcheck.ftrace.conform import Checker, Outcome, TraceModelError, check
from preemptcheck.ftrace.flags import LAZY_LETTERS
from preemptcheck.ftrace.parse import Reader, Tally, TraceFormatError
from preemptcheck.model.ir import Model
from preemptcheck.source import Span


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


def survey(path: str) -> tuple[frozenset[str], bool]:
    """The event names a trace holds, and whether it shows TIF_NEED_RESCHED_LAZY at all."""
    names: set[str] = set()
    lazy = False
    with _open(path) as f:
        try:
            for line in Reader(f):
                names.add(line.event)
                if line.flags is not None and (
                    line.flags.lazy is not None or line.flags.need_resched in LAZY_LETTERS
                ):
                    lazy = True
        except TraceFormatError as exc:
            raise _bad(path, exc.line, str(exc)) from None
    return frozenset(names), lazy


def check_trace(
    model: Model,
    path: str,
    *,
    max_silent: int,
    from_initial: bool,
    max_states: int | None,
    progress: Callable[[int], None] | None = None,
) -> TraceRun:
    """Raises InputError for a file that is not a trace, GraphLimit when the model's state
    graph passes max_states."""
    t0 = time.monotonic()
    names, lazy = survey(path)
    checker = Checker(
        model,
        names,
        max_silent=max_silent,
        lazy_shown=lazy,
        from_initial=from_initial,
        max_states=max_states,
    )
    with _open(path) as f:
        reader = Reader(f)
        try:
            outcome = check(checker, reader, progress)
        except (TraceFormatError, TraceModelError) as exc:
            raise _bad(path, exc.line, str(exc)) from None
    return TraceRun(model, path, reader.tally, outcome, checker.recorded, time.monotonic() - t0)
