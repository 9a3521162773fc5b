"""Reading what the kernel's trace file, `trace-cmd show` and `trace-cmd report` print.

One event per line (docs/ftrace.md has the layouts this reads, with sources):

    TASK-PID [(TGID)] [CPU] FLAGS TIMESTAMP: EVENT: ARGS      the trace file, trace-cmd show
    TASK-PID [CPU] TIMESTAMP: EVENT: ARGS                     trace-cmd report
    TASK-PID CPUFLAGS TIMESTAMP: EVENT: ARGS                  trace-cmd report -l

TASK may hold spaces and dashes (the pid is the last `-digits` before the CPU). FLAGS is the
latency column of 4 to 7 characters: irqs-off/BH-disabled, need-resched, (need-resched-lazy
on the PREEMPT_RT patch set's 7 columns), hardirq/softirq, preempt-depth, (preempt-lazy-depth),
(migrate-disable); a header that names need-resched-lazy says the third column is that one
whatever the width (the PREEMPT_RT patch set's 6- and 7-column layouts).

Everything else is counted, never fatal: `#` header and comment lines, `CPU:N [LOST N
EVENTS]` and trace-cmd's `[N EVENTS DROPPED]`, stack-trace lines (` => func`), function
tracer lines (`func <-parent`), function_graph lines, and lines that are not an event line
at all. A lost-events marker also comes out as a Line (event LOST): after it, the CPU's
events are not all there. A file that is not text is an error.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

MAX_LINE = 1 << 16  # longer lines are skipped and counted (a real event line is far shorter)
LOST = "[lost events]"  # the event of a Line that stands for a LOST EVENTS marker

_EVENT = re.compile(
    r"^\s*(?P<task>.+?)-(?P<pid>\d+)\s+"
    r"(?:\(\s*(?:\d+|-+)\)\s+)?"  # record-tgid
    r"(?:\[(?P<cpu>\d+)\]\s*(?P<flags>[.a-zA-Z0-9]{4,7})?|(?P<lcpu>\d+)(?P<lflags>[.a-zA-Z0-9]{4,7}))"
    r"\s+(?P<ts>\d+\.\d+|\d+):\s+(?P<rest>.*)$"
)
_NAME = re.compile(r"^(?P<event>[A-Za-z_][A-Za-z0-9_]*):(?:\s+(?P<args>.*))?$")
_LOST = re.compile(
    r"^CPU:(?P<cpu>\d+) \[(?:LOST (?P<n>\d+) EVENTS|LOST EVENTS|(?P<m>\d+)? ?EVENTS DROPPED)\]$"
)
_ARG = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>\S*)")


@dataclass(frozen=True, slots=True)
class Flags:
    """What a latency flags column shows; None where the column does not say."""

    irqs_off: bool | None  # d, D (and b, . for on); X: cannot tell
    bh_off: bool | None  # D, b (5-column kernels since about v5.18)
    need_resched: str  # the need-resched letter: . n N p l L b B (docs/ftrace.md)
    lazy: bool | None  # the 7-column layout's need-resched-lazy column
    context: str  # . s h H z Z
    depth: int | None  # the preempt-depth digit (hex, capped at 15), 0 for '.'
    text: str


@dataclass(frozen=True, slots=True)
class Line:
    """An event line (or, with event LOST, a marker: the kernel lost events on `cpu` here)."""

    number: int
    text: str
    task: str
    pid: int
    cpu: int
    flags: Flags | None
    timestamp: float
    event: str
    args: str

    def arg(self, key: str) -> str | None:
        for m in _ARG.finditer(self.args):
            if m["key"] == key:
                return m["value"]
        return None


@dataclass
class Tally:
    """Every line read, by what it was."""

    lines: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # kind -> lines
    lost: int = 0  # events the kernel reports lost (LOST N EVENTS)


class TraceFormatError(Exception):
    """The file cannot be read as a trace at all (binary); `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


_IRQS = {".": (False, False), "d": (True, False), "D": (True, True), "b": (False, True)}
_RESCHED = set(".nNplLbB")
_CONTEXT = set(".shHzZ")


def parse_flags(text: str, lazy_column: bool = False) -> Flags | None:
    """A flags column, or None when it is not one (a word that happens to fit the width).
    `lazy_column`: the header announced PREEMPT_RT's need-resched-lazy column (the third),
    which 7-character columns always have."""
    if not 4 <= len(text) <= 7:
        return None
    irq = text[0]
    if irq not in _IRQS and irq != "X":
        return None
    irqs_off, bh_off = _IRQS.get(irq, (None, None))
    lazy: bool | None = None
    if len(text) == 7 or (lazy_column and len(text) >= 6):
        # irqs, resched, lazy, context, depth, lazy depth[, migrate]
        resched, lz, context, depth = text[1], text[2], text[3], text[4]
        if lz not in ".L":
            return None
        lazy = lz == "L"
    else:
        resched, context, depth = text[1], text[2], text[3]
    if resched not in _RESCHED or context not in _CONTEXT:
        return None
    if depth == ".":
        d: int | None = 0
    elif depth in "0123456789abcdef":
        d = int(depth, 16)
    else:
        return None
    if len(text) == 4 and irq in "Db":  # BH-disabled came with the 5-column layout
        bh_off = None
    return Flags(irqs_off, bh_off, resched, lazy, context, d, text)


class Reader:
    """Reads a trace from a text stream line by line; `tally` counts what it saw."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.tally = Tally()
        self.tracer: str | None = None  # from `# tracer: NAME`
        self.lazy_column = False  # the header has PREEMPT_RT's need-resched-lazy column
        self.last = (0.0, 0)  # the latest timestamp and its line

    def __iter__(self) -> Iterator[Line]:
        tally = self.tally
        for number, raw in enumerate(self.stream, 1):
            tally.lines = number
            if len(raw) > MAX_LINE:
                tally.skipped["line too long"] += 1
                continue
            if b"\0" in raw:
                raise TraceFormatError(
                    number,
                    "a NUL byte: this is not a text trace (trace.dat "
                    "files are read with `trace-cmd report` first)",
                )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            text = text.rstrip("\r\n")
            line = self._line(number, text)
            if line is None:
                continue
            if line.timestamp < self.last[0]:
                raise TraceFormatError(
                    number,
                    f"the timestamp {line.timestamp:.6f} is before the one on line "
                    f"{self.last[1]} ({self.last[0]:.6f}): a trace is in time order",
                )
            self.last = (line.timestamp, number)
            if line.event != LOST:
                tally.events += 1
            yield line

    def _line(self, number: int, text: str) -> Line | None:
        skipped = self.tally.skipped
        stripped = text.strip()
        if not stripped:
            skipped["blank"] += 1
            return None
        if stripped.startswith("#"):
            self._header(stripped)
            skipped["header or comment"] += 1
            return None
        if stripped.startswith("=>") or stripped.startswith("<stack"):
            skipped["stack trace"] += 1
            return None
        lost = _LOST.match(stripped)
        if lost:
            self.tally.lost += int(lost["n"] or lost["m"] or 0)
            skipped["lost events marker"] += 1
            cpu = int(lost["cpu"])
            return Line(number, text, "", -1, cpu, None, self.last[0], LOST, "")
        m = _EVENT.match(text)
        if m is None:
            skipped["not an event line"] += 1
            return None
        rest = m["rest"]
        if rest.startswith(("<stack trace>", "<user stack trace>")):
            skipped["stack trace"] += 1
            return None
        name = _NAME.match(rest)
        if name is None:  # `func <-parent` (function tracer), `<stack trace>`, ...
            skipped["function or other tracer"] += 1
            return None
        raw_flags = m["flags"] if m["cpu"] is not None else m["lflags"]
        flags = parse_flags(raw_flags, self.lazy_column) if raw_flags else None
        if raw_flags and flags is None:
            skipped["unreadable flags"] += 1
            return None
        return Line(
            number=number,
            text=text,
            task=m["task"].strip(),
            pid=int(m["pid"]),
            cpu=int(m["cpu"] if m["cpu"] is not None else m["lcpu"]),
            flags=flags,
            timestamp=float(m["ts"]),
            event=name["event"],
            args=name["args"] or "",
        )

    def _header(self, line: str) -> None:
        if line.startswith("# tracer:"):
            self.tracer = line.split(":", 1)[1].strip()
        elif "need-resched-lazy" in line or "need-resched_lazy" in line:
            self.lazy_column = True
