"""The progress of a long run on stderr, for every engine.

On a terminal, one live line redrawn in place (rich's Live display): states, states/s,
frontier, depth, elapsed time, the share of --max-states used and the peak memory; for the
symbolic engine its phase instead of counts. Off a terminal (a CI log, a pipe) a plain line
every ten seconds. Nothing during a run's first second, so short runs print nothing.
"""

from __future__ import annotations

import math
import resource
import sys
from typing import IO

from rich.console import Console
from rich.live import Live
from rich.text import Text

from preemptcheck.core.progress import Phase
from preemptcheck.engines.explicit import Progress

QUIET_FOR = 1.0  # seconds of a run before anything is shown
PLAIN_EVERY = 10.0  # seconds between plain lines off a terminal


def peak_memory() -> int:
    """This process's peak resident memory in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def describe(path: str, event: Progress | Phase, limit: int | None = None) -> str:
    """One line on where a run is."""
    memory = f"peak memory {_size(peak_memory())}"
    if isinstance(event, Phase):
        return f"{path}: {event.text}, {event.elapsed:.0f} s, {memory}"
    rate = event.states / event.elapsed if event.elapsed else 0.0
    share = f" ({event.states / limit:.0%} of --max-states)" if limit else ""
    return (
        f"{path}: {event.states:,} states{share}, frontier {event.frontier:,}, "
        f"depth {event.depth}, {rate:,.0f} states/s, {event.elapsed:.0f} s, {memory}"
    )


class Display:
    """Call it with (path, Progress | Phase) as a run goes; `done()` before printing."""

    def __init__(
        self, *, limit: int | None = None, stream: IO[str] | None = None, tty: bool | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.limit = limit  # --max-states, when given: the share used is shown
        self.last = -math.inf
        self.shown = False
        self.live: Live | None = None

    def __call__(self, path: str, event: Progress | Phase) -> None:
        self.show(event.elapsed, describe(path, event, self.limit))

    def show(self, elapsed: float, line: str) -> None:
        if elapsed < QUIET_FOR:
            return
        if self.tty:
            text = Text(line, no_wrap=True, overflow="ellipsis")
            if self.live is None:
                console = Console(file=self.stream, highlight=False, force_terminal=True)
                self.live = Live(text, console=console, transient=True, refresh_per_second=4)
                self.live.start()
            else:
                self.live.update(text)
        elif not self.shown or elapsed - self.last >= PLAIN_EVERY:
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last = elapsed
        self.shown = True

    def done(self) -> None:
        """Clear the live line (a terminal keeps only the report)."""
        if self.live is not None:
            self.live.stop()
            self.live = None
