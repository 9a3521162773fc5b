"""`preemptcheck trace`: an ftrace/trace-cmd recording checked against a model, or
against an RV monitor."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from preemptcheck.checking.options import DEFAULT_MAX_STATES
from preemptcheck.cli.common import (
    DebugOption,
    Format,
    ModeOption,
    Per,
    SetOption,
    check_limits,
    guarded,
    parse_overrides,
    usage,
)
from preemptcheck.cli.progress import Display
from preemptcheck.core import interrupt
from preemptcheck.core.source import SourceCache
from preemptcheck.engines.graph import GraphLimit
from preemptcheck.ftrace.conform import DEFAULT_MAX_SILENT
from preemptcheck.ftrace.run import check_trace, monitor_trace
from preemptcheck.model import load_model
from preemptcheck.monitors.dot import load_automaton
from preemptcheck.report import ftrace as ftrace_report
from preemptcheck.report import jsonout


def trace(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="[MODEL] TRACEFILE",
            help="The model file (optional with --monitor), and what /sys/kernel/tracing/"
            "trace, trace-cmd show or trace-cmd report printed.",
        ),
    ],
    mode: ModeOption = None,
    set_: SetOption = None,
    max_silent: Annotated[
        int,
        typer.Option(
            metavar="N",
            help="Steps without a traced event the model may take between two lines.",
        ),
    ] = DEFAULT_MAX_SILENT,
    from_initial: Annotated[
        bool,
        typer.Option(
            "--from-initial",
            help="The recording starts in the model's initial state (default: in any "
            "reachable state, as a recording starts in the middle of things).",
        ),
    ] = False,
    max_states: Annotated[
        int, typer.Option(help="Give up on a model with more reachable states (exit 3).")
    ] = DEFAULT_MAX_STATES,
    monitor: Annotated[
        str | None,
        typer.Option(
            metavar="FILE.dot",
            help="Also run the recording through this kernel RV automaton (rvgen .dot); "
            "its events are the tracepoints of the same names.",
        ),
    ] = None,
    per: Annotated[Per, typer.Option(help="The monitor's instances: per cpu or global.")] = (
        Per.cpu
    ),
    start: Annotated[
        list[str] | None,
        typer.Option(
            metavar="EVENT",
            help="A start event of the monitor (da_handle_start_event; repeatable): an "
            "instance starts monitoring there. Default: at its first line.",
        ),
    ] = None,
    format_: Annotated[
        Format, typer.Option("--format", help="text, or json (schema preemptcheck/trace v1).")
    ] = Format.text,
    debug: DebugOption = False,
) -> None:
    """Can the model produce this kernel trace? Each event line must be a step of the model
    (or the next event of one), with the flags column (irqs-off, need-resched, hardirq/
    softirq, preempt-depth) agreeing with the model's state; steps whose events the trace
    does not record may come in between (at most --max-silent). Events the model does not
    emit, and lines that are not events, are skipped and counted.
    Exit codes: 0 conforms (and the monitor allows it), 1 a line no behaviour of the model
    explains (or the monitor does not allow), 2 bad input or usage, 3 the model's state
    graph is over --max-states, 4 internal error.
    """
    if not 1 <= len(paths) <= 2 or (len(paths) == 1 and monitor is None):
        raise usage("give MODEL TRACEFILE, or --monitor FILE.dot with [MODEL] TRACEFILE")
    if max_silent < 0:
        raise usage(f"--max-silent must be 0 or more, got {max_silent}")
    if per == Per.task:
        raise usage(
            "--per task: a recording's lines do not say which task a monitor's event is "
            "about; use cpu or global"
        )
    check_limits(max_states, None, 1, 0)
    overrides = parse_overrides(set_ or [], mode)
    if any("," in v for v in overrides.values()):
        raise usage("trace checks one choice of params: give --set NAME=VALUE one value")
    *model_path, tracefile = paths
    sources = SourceCache()
    progress = Display()
    t0 = time.monotonic()

    def lines_read(phase: str, n: int) -> None:
        elapsed = time.monotonic() - t0
        progress.show(elapsed, f"{tracefile}: {n:,} lines {phase}, {elapsed:.0f} s")

    run = watched = None
    with guarded(sources, debug, progress), interrupt.abrupt():
        if model_path:
            loaded = load_model(model_path[0], overrides=overrides, sources=sources)
            try:
                run = check_trace(
                    loaded,
                    tracefile,
                    max_silent=max_silent,
                    from_initial=from_initial,
                    max_states=max_states,
                    progress=lines_read,
                )
            except GraphLimit as exc:
                progress.done()
                typer.echo(f"{model_path[0]}: the model's state graph is too large: {exc}")
                raise typer.Exit(3) from None
        if monitor is not None:
            automaton = load_automaton(monitor)
            watched = monitor_trace(
                tracefile, automaton, per=per.value, start=frozenset(start or ())
            )
    progress.done()
    if format_ == Format.json:
        doc = ftrace_report.document(run, tracefile, watched)
        typer.echo(jsonout.dumps(doc), nl=False)
    else:
        if run is not None:
            typer.echo(ftrace_report.render_text(run), nl=False)
        if watched is not None:
            typer.echo(ftrace_report.render_monitor(watched, tracefile), nl=False)
    bad = (run is not None and not run.conforms) or (watched is not None and watched.error)
    raise typer.Exit(1 if bad else 0)
