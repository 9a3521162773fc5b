"""The `latency`, `diff` and `trace` commands (registered on cli.app; verify is in cli.py):
options -> one core call -> render -> exit code."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from preemptcheck import gitrev, interrupt
from preemptcheck.check import DEFAULT_MAX_STATES, DEFAULT_WORK_LIMIT, Options
from preemptcheck.cli import (
    DebugOption,
    Engine,
    Format,
    ModeOption,
    Per,
    SetOption,
    WorkLimitOption,
    _check_limits,
    _check_modes,
    _guarded,
    _overrides,
    _ProgressLine,
    _usage,
    app,
)
from preemptcheck.engines.graph import GraphLimit
from preemptcheck.ftrace.conform import DEFAULT_MAX_SILENT
from preemptcheck.ftrace.run import check_trace, monitor_trace
from preemptcheck.latency import Query, latency_paths
from preemptcheck.model import load_model
from preemptcheck.monitors.dot import load_automaton
from preemptcheck.report import diff as diff_report
from preemptcheck.report import ftrace as ftrace_report
from preemptcheck.report import jsonout
from preemptcheck.report import latency as latency_report
from preemptcheck.source import SourceCache


@app.command()
def latency(
    paths: Annotated[list[str], typer.Argument(help="Model files, folders or globs.")],
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="EXPR", help="The request: a state expression."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(metavar="ACTION|EXPR", help="The response: an action, tag:TAG or state."),
    ] = None,
    count: Annotated[
        str | None,
        typer.Option(metavar="ACTION", help="Count the steps of this action (or tag:TAG)."),
    ] = None,
    fair: Annotated[
        list[str] | None,
        typer.Option(metavar="ACTION", help="Weakly fair action of the query (repeatable)."),
    ] = None,
    strong_fair: Annotated[
        list[str] | None,
        typer.Option(metavar="ACTION", help="Strongly fair action of the query (repeatable)."),
    ] = None,
    all_modes: Annotated[
        bool, typer.Option("--all-modes", help="Every mode the model's `mode` param lists.")
    ] = False,
    mode: ModeOption = None,
    set_: SetOption = None,
    property_: Annotated[
        list[str] | None,
        typer.Option("--property", metavar="ID", help="Only this leads_to property (repeatable)."),
    ] = None,
    max_states: Annotated[
        int, typer.Option(help="Give up on a state graph larger than this (unknown, exit 3).")
    ] = DEFAULT_MAX_STATES,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    format_: Annotated[Format, typer.Option("--format", help="text, json or markdown.")] = (
        Format.text
    ),
    witness: Annotated[
        bool, typer.Option(help="Print the run behind every figure (text format).")
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Worst-case steps (or steps of --count) from a request to its response, per mode.

    Without --from/--to, every leads_to property of the models is measured (its `within`
    count, else steps). "never": a fair run never responds; "unbounded": every fair run
    does, after any number of counted steps. Every figure's run is replayed first.
    Exit codes: 0 measured, 2 bad input or usage, 3 a figure is unknown (a limit), 4 bug.
    """
    if (from_ is None) != (to is None):
        raise _usage("--from and --to go together (a request and its response)")
    if from_ is None and (count or fair or strong_fair):
        raise _usage("--count, --fair and --strong-fair belong to a --from/--to query")
    _check_modes(all_modes, mode, set_)
    _check_limits(max_states, timeout, 1, 0)
    query = None
    if from_ is not None and to is not None:
        query = Query(from_, to, count, tuple(fair or ()), tuple(strong_fair or ()))
    options = Options(
        overrides=_overrides(set_ or [], mode),
        properties=tuple(property_ or ()),
        max_states=max_states,
        timeout=timeout,
    )
    sources = SourceCache()
    with _guarded(sources, debug), interrupt.abrupt():
        run = latency_paths(paths, options, query=query, all_modes=all_modes, sources=sources)
    if format_ == Format.json:
        typer.echo(jsonout.dumps(latency_report.document(run)), nl=False)
    elif format_ == Format.markdown:
        typer.echo(latency_report.render_markdown(run), nl=False)
    else:
        typer.echo(latency_report.render_text(run, sources, witnesses=witness), nl=False)
    raise typer.Exit(run.exit_code)


@app.command()
def diff(
    base: Annotated[
        str, typer.Argument(help="The git revision to compare with (HEAD, main, HEAD~1, a tag).")
    ],
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Model files, folders or globs, on both sides (default: models/ if it "
            "exists, else the whole repository)."
        ),
    ] = None,
    mode: ModeOption = None,
    all_modes: Annotated[
        bool, typer.Option("--all-modes", help="Every mode the model's `mode` param lists.")
    ] = False,
    set_: SetOption = None,
    property_: Annotated[
        list[str] | None,
        typer.Option("--property", metavar="ID", help="Compare only this property (repeatable)."),
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="explicit, symbolic or auto, as for verify.")
    ] = Engine.explicit,
    bound: Annotated[
        int, typer.Option(help="Symbolic engine: the depth of BMC and k-induction.")
    ] = 30,
    rlimit: Annotated[
        int, typer.Option(help="Symbolic engine: z3 resource limit per query (0 for none).")
    ] = 50_000_000,
    work_limit: WorkLimitOption = DEFAULT_WORK_LIMIT,
    max_states: Annotated[
        int, typer.Option(help="Stop exploring after this many states (on each side).")
    ] = DEFAULT_MAX_STATES,
    timeout: Annotated[
        float | None, typer.Option(help="Stop a model's search after this many seconds.")
    ] = None,
    symmetry: Annotated[
        bool, typer.Option(help="Reduce by interchangeable CPUs, as for verify.")
    ] = False,
    format_: Annotated[
        Format,
        typer.Option(
            "--format",
            help="text for people, markdown for a pull-request comment, json for tools "
            "(schema preemptcheck/diff v1).",
        ),
    ] = Format.text,
    debug: DebugOption = False,
) -> None:
    """Verify the models at git revision BASE and in the working tree; print what changed.

    Per model, param choice and property: newly violated or holding, weaker or stronger
    verdicts, properties and models added or removed, models that fail to load, state-space
    and trace-length changes. BASE is checked out into a temporary worktree, removed after.
    Exit codes: 0 no regression, 1 a regression (a verdict that is unexpected now and was
    not at BASE, or a model that fails to load), 2 bad input or usage, 4 internal error.
    """
    _check_modes(all_modes, mode, set_)
    _check_limits(max_states, timeout, bound, rlimit, work_limit)
    options = Options(
        overrides=_overrides(set_ or [], mode),
        properties=tuple(property_ or ()),
        max_states=max_states,
        timeout=timeout,
        symmetry=symmetry,
        engine=engine.value,
        bound=bound,
        rlimit=rlimit or None,
        work_limit=work_limit or None,
        all_modes=all_modes,
    )
    progress = _ProgressLine()
    with _guarded(SourceCache(), debug, progress), interrupt.abrupt():
        result = gitrev.diff_revision(base, paths or [], options, progress=progress)
    progress.done()
    if format_ == Format.json:
        typer.echo(jsonout.dumps(diff_report.document(result)), nl=False)
    elif format_ == Format.markdown:
        typer.echo(diff_report.render_markdown(result), nl=False)
    else:
        typer.echo(diff_report.render_text(result), nl=False)
    raise typer.Exit(result.exit_code)


@app.command()
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
        raise _usage("give MODEL TRACEFILE, or --monitor FILE.dot with [MODEL] TRACEFILE")
    if max_silent < 0:
        raise _usage(f"--max-silent must be 0 or more, got {max_silent}")
    if per == Per.task:
        raise _usage(
            "--per task: a recording's lines do not say which task a monitor's event is "
            "about; use cpu or global"
        )
    _check_limits(max_states, None, 1, 0)
    overrides = _overrides(set_ or [], mode)
    if any("," in v for v in overrides.values()):
        raise _usage("trace checks one choice of params: give --set NAME=VALUE one value")
    *model_path, tracefile = paths
    sources = SourceCache()
    progress = _ProgressLine()
    t0 = time.monotonic()

    def lines_read(phase: str, n: int) -> None:
        elapsed = time.monotonic() - t0
        progress.show(elapsed, f"{tracefile}: {n:,} lines {phase}, {elapsed:.0f} s")

    run = watched = None
    with _guarded(sources, debug, progress), interrupt.abrupt():
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
