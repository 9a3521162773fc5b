"""`preemptcheck verify`: check every property of each model; options -> check_paths ->
render -> exit code."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from preemptcheck.checking.check import check_paths
from preemptcheck.checking.latency import latency_of
from preemptcheck.checking.options import DEFAULT_MAX_STATES, DEFAULT_WORK_LIMIT, Options
from preemptcheck.checking.results import ModelResult, RunResult
from preemptcheck.ci.cache import default_dir as default_cache_dir
from preemptcheck.cli.common import (
    Backend,
    Color,
    DebugOption,
    Engine,
    Format,
    ModeOption,
    PropertyOption,
    SetOption,
    TraceFormat,
    Traces,
    WorkLimitOption,
    check_limits,
    check_modes,
    check_workers,
    guarded,
    parse_overrides,
    print_notes,
    size,
    usage,
    use_color,
    write_output,
)
from preemptcheck.cli.progress import Display
from preemptcheck.core import interrupt
from preemptcheck.core.outfiles import check_writable, same_file
from preemptcheck.core.source import SourceCache
from preemptcheck.ftrace.render import chrome_trace, ftrace_text
from preemptcheck.report import github, html, jsonout, junit, matrix, sarif, text, timeline
from preemptcheck.report.tracenames import traced


def verify(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Model files, folders (searched for *.yaml, skipping _partials) or globs."
        ),
    ],
    mode: ModeOption = None,
    all_modes: Annotated[
        bool,
        typer.Option(
            "--all-modes",
            help="Check every mode the model's `mode` param lists, and print the verdicts "
            "as a matrix (properties by mode).",
        ),
    ] = False,
    set_: SetOption = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="explicit (BFS), symbolic (z3: bounded model checking and "
            "k-induction), or auto (explicit within --max-states, else symbolic)."
        ),
    ] = Engine.explicit,
    all_cpus: Annotated[
        bool,
        typer.Option(
            "--all-cpus",
            help="Symbolic engine: prove the invariants for every number of CPUs "
            "(quantified inductive invariants, printed in model syntax); the other "
            "properties are decided for the model's own count.",
        ),
    ] = False,
    bound: Annotated[
        int,
        typer.Option(help="Symbolic engine: depth of bounded model checking and of k-induction."),
    ] = 30,
    rlimit: Annotated[
        int,
        typer.Option(
            help="Symbolic engine: z3 resource limit per query (a work limit, "
            "the same on every machine; 0 for none)."
        ),
    ] = 50_000_000,
    work_limit: WorkLimitOption = DEFAULT_WORK_LIMIT,
    property_: PropertyOption = None,
    max_states: Annotated[
        int | None,
        typer.Option(
            show_default=False,
            help=f"Stop exploring after this many states (inconclusive, exit 3); default "
            f"{DEFAULT_MAX_STATES:,} on the Python backend, none on the native one "
            "(--max-memory bounds it).",
        ),
    ] = None,
    backend: Annotated[
        Backend,
        typer.Option(
            help="The explicit search's: python (the oracle), native (compiled with "
            "numba, cached on disk), or auto (python, and native once a model passes "
            "100,000 states).",
        ),
    ] = Backend.auto,
    max_memory: Annotated[
        str | None,
        typer.Option(
            metavar="SIZE",
            show_default=False,
            help="The native search's memory (e.g. 8G, 512M); reaching it stops the run "
            "(inconclusive, exit 3). Default: half of the machine's memory.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            metavar="N",
            help="Threads of the native search (at most the machine's CPUs); the result is "
            "the same for any number.",
        ),
    ] = 1,
    cluster: Annotated[
        str | None,
        typer.Option(
            metavar="SPEC",
            show_default=False,
            help="Partition the explicit search across a Ray cluster's workers, with the "
            "same result: local (a worker per CPU here), local:N, auto, HOST:PORT or "
            "ray://HOST:PORT. Needs pip install 'preemptcheck[cluster]'.",
        ),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (inconclusive, exit 3).")
    ] = None,
    format_: Annotated[
        Format,
        typer.Option(
            "--format",
            help="text for people, json for tools (schema preemptcheck/result v1), "
            "markdown: the verdict matrix as tables for a pull-request comment.",
        ),
    ] = Format.text,
    trace_dir: Annotated[
        Path | None,
        typer.Option(
            help="Write every trace here as ITF JSON, ftrace text and Chrome trace-event JSON."
        ),
    ] = None,
    svg: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Write every trace here as an SVG timeline: a lane per CPU, its context, "
            "preempt count, irqs-off and NEED_RESCHED, the failing step highlighted.",
        ),
    ] = None,
    traces: Annotated[
        Traces, typer.Option(help="Which traces the text report prints.")
    ] = Traces.violations,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Only the verdicts that are not as expected (with their traces) and the summary.",
        ),
    ] = False,
    color: Annotated[
        Color,
        typer.Option(
            help="Colour ok, FAIL and ?? (auto: on a terminal, unless NO_COLOR is set).",
        ),
    ] = Color.auto,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Every trace (as --traces all), the action coverage, and the invariants a "
            "strengthened k-induction proof rests on, in model syntax.",
        ),
    ] = False,
    trace_format: Annotated[
        TraceFormat,
        typer.Option(
            help="How the text report prints a trace: table (a row a step, the variables "
            "that change) or ftrace (the events as a kernel recording, with the flags "
            "column; `preemptcheck trace` reads it back).",
        ),
    ] = TraceFormat.table,
    junit_file: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            metavar="FILE",
            help="Also write a JUnit XML report: a testcase per run and property.",
        ),
    ] = None,
    sarif_file: Annotated[
        Path | None,
        typer.Option(
            "--sarif",
            metavar="FILE",
            help="Also write a SARIF 2.1.0 log: unexpected and inconclusive verdicts "
            "at their YAML lines, for code review.",
        ),
    ] = None,
    html_file: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Also write the run as one self-contained HTML page (nothing fetched): "
            "verdicts by mode, timelines, latencies, coverage, links to the YAML.",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Treat warnings (actions that never fire) as failures.")
    ] = False,
    fail_fast: Annotated[
        bool, typer.Option(help="Stop a model's search at its first unexpected verdict.")
    ] = False,
    symmetry: Annotated[
        bool,
        typer.Option(
            help="Explore one state per permutation of interchangeable CPUs "
            "(detected; refused with the reason where unsound)."
        ),
    ] = False,
    cache: Annotated[
        bool,
        typer.Option(
            envvar="PREEMPTCHECK_CACHE",
            help="Reuse the results of unchanged models (files, params, options and "
            "preemptcheck itself); --no-cache (or PREEMPTCHECK_CACHE=0) checks every "
            "model again.",
        ),
    ] = True,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="PREEMPTCHECK_CACHE_DIR",
            help="Where cached results are kept (default: $XDG_CACHE_HOME/preemptcheck or "
            "~/.cache/preemptcheck; keep it out of the checkout).",
        ),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Check every property of each model; exit 0 when every verdict is as expected.

    Exit codes: 0 as expected, 1 a verdict differs from its expectation, 2 bad input or
    usage, 3 inconclusive (a limit was reached), 4 internal error.
    """
    check_modes(all_modes, mode, set_)
    check_limits(max_states, timeout, bound, rlimit, work_limit)
    memory = size("--max-memory", max_memory) if max_memory is not None else None
    check_workers(workers)
    if quiet and verbose:
        raise usage("--quiet and --verbose ask for opposite things: give one")
    if all_cpus and engine != Engine.symbolic:
        raise usage(f"--all-cpus needs --engine symbolic (got --engine {engine.value})")
    sources = SourceCache()
    files = [("--junit", junit_file), ("--sarif", sarif_file), ("--html", html_file)]
    named = [(option, f) for option, f in files if f is not None]
    for k, (a, fa) in enumerate(named):
        for b, fb in named[k + 1 :]:
            if same_file(fa, fb):
                raise usage(f"{a} and {b} name the same file: {fa}")
    with guarded(sources, debug):
        if cluster is not None:
            _check_cluster(cluster, engine, backend, max_states, fail_fast, workers)
        for option, target, folder in (
            ("--junit", junit_file, False),
            ("--sarif", sarif_file, False),
            ("--html", html_file, False),
            ("--trace-dir", trace_dir, True),
            ("--svg", svg, True),
        ):
            if target is not None:
                check_writable(option, target, directory=folder)
    options = Options(
        overrides=parse_overrides(set_ or [], mode),
        properties=tuple(property_ or ()),
        max_states=max_states,
        timeout=timeout,
        strict=strict,
        fail_fast=fail_fast,
        symmetry=symmetry,
        engine=engine,
        bound=bound,
        rlimit=rlimit or None,
        work_limit=work_limit or None,
        all_modes=all_modes,
        all_cpus=all_cpus,
        cache_dir=str(cache_dir or default_cache_dir()) if cache else None,
        backend=backend,
        max_memory=memory,
        workers=workers,
        cluster=cluster,
    )
    progress = Display(limit=max_states)
    t0 = time.monotonic()
    # one signal handling for the run and its outputs: a signal while the files are written
    # lets them finish whole (never a .tmp left behind) and is then the exit status
    with guarded(sources, debug, progress), interrupt.handling():
        run = check_paths(paths, options, progress=progress, sources=sources)
        progress.done()
        print_notes(run.notes)
        if run.interrupted is None:
            _write_outputs(run, sources, trace_dir, junit_file, sarif_file, svg, html_file, options)
        _print_report(
            run,
            sources,
            all_modes=all_modes,
            format_=format_,
            traces=Traces.all if verbose else traces,
            trace_format=trace_format,
            verbose=verbose,
            quiet=quiet,
            color=use_color(color),
        )
        late = interrupt.requested() if run.interrupted is None else None
    reused = sum(1 for m in run.models if isinstance(m, ModelResult) and m.cached)
    if reused:  # stderr: the report is the same bytes either way
        typer.echo(
            f"{reused} of {len(run.models)} model runs reused from {options.cache_dir} "
            "(unchanged; --no-cache checks them again)",
            err=True,
        )
    if late is not None:
        typer.echo(f"interrupted by {late} after the run: its report is whole", err=True)
    if sys.stderr.isatty() or os.environ.get("PREEMPTCHECK_TIMING"):
        typer.echo(f"checked in {time.monotonic() - t0:.2f} s", err=True)
    raise typer.Exit(interrupt.EXIT_STATUS[late] if late else run.exit_code)


def _check_cluster(
    spec: str,
    engine: Engine,
    backend: Backend,
    max_states: int | None,
    fail_fast: bool,
    workers: int,
) -> None:
    """--cluster's spec, Ray installed, and the options it cannot honour (exit 2)."""
    from preemptcheck.engines.cluster.connect import parse_cluster, require_ray

    parse_cluster(spec)
    if engine == Engine.symbolic:
        raise usage("--cluster partitions the explicit search: not with --engine symbolic")
    if backend == Backend.python:
        raise usage("--cluster runs the native backend's code: not with --backend python")
    # the single-machine search stops these in the middle of a level, at a state whose
    # place the partitioned one only knows once the level is done
    if max_states is not None:
        raise usage("--cluster explores every state: --max-states is not supported with it")
    if fail_fast:
        raise usage("--cluster explores every state: --fail-fast is not supported with it")
    if workers != 1:
        raise usage("--workers sets the threads of a search on this machine: not with --cluster")
    require_ray()


def _write_outputs(
    run: RunResult,
    sources: SourceCache,
    trace_dir: Path | None,
    junit_file: Path | None,
    sarif_file: Path | None,
    svg_dir: Path | None,
    html_file: Path | None,
    options: Options,
) -> None:
    """The files a run asked for; none after an interrupted run (they would look whole)."""
    if trace_dir is not None:
        for name, content in _trace_files(run):
            write_output("--trace-dir", trace_dir / name, content)
    if svg_dir is not None:
        for name, content in timeline.svg_files(run):
            write_output("--svg", svg_dir / name, content)
    cwd = Path.cwd()
    if junit_file is not None:
        write_output("--junit", junit_file, junit.render(run, sources))
    if sarif_file is not None:
        write_output("--sarif", sarif_file, jsonout.dumps(sarif.document(run, cwd=cwd)))
    if html_file is not None:
        measured = latency_of(run, options)
        write_output("--html", html_file, html.render(run, sources, latency=measured))


def _print_report(
    run: RunResult,
    sources: SourceCache,
    *,
    all_modes: bool,
    format_: Format,
    traces: Traces,
    trace_format: TraceFormat = TraceFormat.table,
    verbose: bool = False,
    quiet: bool = False,
    color: bool = False,
) -> None:
    cwd = Path.cwd()
    tables = matrix.build(run, by_mode=all_modes)
    if format_ == Format.json:
        doc = jsonout.run_document(run, matrix=tables if all_modes else None)
        typer.echo(jsonout.dumps(doc), nl=False)
    elif format_ == Format.markdown:
        typer.echo(matrix.render_markdown(run, tables), nl=False)
    else:
        report = text.render_run(
            run,
            sources,
            traces=traces.value,
            trace_format=trace_format.value,
            invariants=verbose,
            quiet=quiet,
            color=color,
        )
        if all_modes:
            report = matrix.before_summary(report, matrix.render_text(tables))
        # click strips ANSI codes off a terminal unless told: --color always means always
        typer.echo(report, nl=False, color=color or None)
    if os.environ.get("GITHUB_ACTIONS") == "true":  # annotations; json/markdown keep stdout
        typer.echo(github.commands(run, cwd=cwd), nl=False, err=format_ != Format.text)


def _trace_files(run: RunResult) -> list[tuple[str, str]]:
    """Per trace: ITF JSON, the ftrace text (which Perfetto opens and `preemptcheck trace`
    reads back) and Chrome trace-event JSON (Perfetto, chrome://tracing)."""
    out: list[tuple[str, str]] = []
    for base, m, p, trace in traced(run):
        title = f"{m.file}: {p.id}"
        out.append((f"{base}.itf.json", jsonout.dumps(jsonout.itf_document(m.model, p, trace))))
        out.append((f"{base}.ftrace.txt", ftrace_text(m.model, trace, title)))
        out.append((f"{base}.chrome.json", jsonout.dumps(chrome_trace(m.model, trace, title))))
    return out
