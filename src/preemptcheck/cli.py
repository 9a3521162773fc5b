"""Typer app: options -> one core call -> render -> exit code. With commands.py (latency,
diff) the only modules that print or exit."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from preemptcheck import __version__, interrupt
from preemptcheck.cache import default_dir as default_cache_dir
from preemptcheck.check import DEFAULT_MAX_STATES, DEFAULT_WORK_LIMIT, Options, check_paths
from preemptcheck.engines.explicit import Progress
from preemptcheck.errors import Code, Diagnostic, InputError
from preemptcheck.ftrace.render import chrome_trace, ftrace_text
from preemptcheck.model.params import show
from preemptcheck.monitors import dotwrite, export
from preemptcheck.outfiles import NAME_MAX, check_writable, same_file, write_atomic
from preemptcheck.report import github, jsonout, junit, matrix, sarif, text
from preemptcheck.results import ModelResult, RunResult
from preemptcheck.source import SourceCache, max_file_size

app = typer.Typer(
    add_completion=True,  # --install-completion, --show-completion SHELL
    no_args_is_help=True,
    help="A model checker for the Linux kernel's preemption machinery.",
)

EXIT_INTERNAL = 4


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


class Color(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


def use_color(choice: Color) -> bool:
    """auto: on a terminal, unless NO_COLOR is set to something (no-color.org)."""
    if choice == Color.auto:
        return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    return choice == Color.always


class TraceFormat(StrEnum):
    table = "table"
    ftrace = "ftrace"


class Engine(StrEnum):
    explicit = "explicit"
    symbolic = "symbolic"
    auto = "auto"


class Backend(StrEnum):
    auto = "auto"
    python = "python"
    native = "native"


class Traces(StrEnum):
    violations = "violations"
    all = "all"
    none = "none"


# options shared by verify, latency and diff
ModeOption = Annotated[
    str | None,
    typer.Option(help="Set the model's `mode` param (none, voluntary, full, lazy, rt)."),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="NAME=VALUE", help="Set a param (repeatable)."),
]
WorkLimitOption = Annotated[
    int,
    typer.Option(
        help="Symbolic engine: z3 resource units for the whole run of one model, every "
        "query and the strengthening (a work limit, the same on every machine; 0 for "
        "none); what is open when it is reached is inconclusive."
    ),
]
DebugOption = Annotated[bool, typer.Option(help="Show the Python traceback of internal errors.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"preemptcheck {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """preemptcheck: every property of a preemption model proved over all reachable states,
    or broken by the shortest trace, in the kernel's own terms."""
    try:
        max_file_size()
    except ValueError as exc:
        raise _usage(str(exc)) from None


def _usage(message: str, code: Code = Code.BAD_OPTION) -> typer.Exit:
    typer.echo(Diagnostic(code, message).headline(), err=True)
    return typer.Exit(2)


def _check_modes(all_modes: bool, mode: str | None, sets: list[str] | None) -> None:
    sets_mode = any(item.partition("=")[0].strip() == "mode" for item in sets or [])
    if all_modes and (mode is not None or sets_mode):
        raise _usage("--all-modes takes every mode the model lists: drop --mode and --set mode=")


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _size(option: str, text: str) -> int:
    """A size in bytes from `text`: a number with an optional K, M, G or T (binary units)."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1:] if t[-1:] in _UNITS else ""
    try:
        value = float(t[: len(t) - len(unit)])
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise _usage(f"{option} must be a size such as 8G or 512M, got {text!r}")
    return int(value * _UNITS[unit])


def _check_workers(workers: int) -> None:
    from preemptcheck.engines.explicit.search import max_workers

    most = max_workers()
    if not 1 <= workers <= most:
        raise _usage(f"--workers must be between 1 and {most} (this machine's CPUs), got {workers}")


def _check_limits(
    max_states: int | None, timeout: float | None, bound: int, rlimit: int, work_limit: int = 0
) -> None:
    if max_states is not None and max_states < 1:
        raise _usage(f"--max-states must be at least 1, got {max_states}")
    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise _usage(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if bound < 1:
        raise _usage(f"--bound must be at least 1, got {bound}")
    if rlimit < 0:
        raise _usage(f"--rlimit must be 0 (no limit) or positive, got {rlimit}")
    if work_limit < 0:
        raise _usage(f"--work-limit must be 0 (no limit) or positive, got {work_limit}")


def _overrides(sets: list[str], mode: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in sets:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise _usage(f"--set {item}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    if mode is not None:
        if not mode.strip():
            raise _usage("--mode: expected a mode (none, voluntary, full, lazy, rt)")
        out["mode"] = mode
    return out


class _ProgressLine:
    """A progress line on stderr for runs longer than a second (states, frontier, states/s)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, path: str, p: Progress) -> None:
        rate = p.states / p.elapsed if p.elapsed else 0.0
        self.show(
            p.elapsed,
            f"{path}: {p.states:,} states, frontier {p.frontier:,}, depth {p.depth}, "
            f"{rate:,.0f} states/s",
        )

    def show(self, elapsed: float, line: str) -> None:
        if elapsed < 1.0 or (not self.tty and self.shown and elapsed - self.last < 10.0):
            return
        self.last = elapsed
        if self.tty:
            sys.stderr.write("\r" + line[:150].ljust(100))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown and self.tty:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def _write_output(option: str, path: Path, content: str) -> None:
    """An output file of `verify`; a path that cannot be written is a usage error (exit 2)."""
    try:
        write_atomic(path, content)
    except OSError as exc:
        raise _usage(f"{option} {path}: cannot write: {exc.strerror or exc}") from None


def _trace_files(run: RunResult) -> list[tuple[str, str]]:
    """Per trace: ITF JSON, the ftrace text (which Perfetto opens and `preemptcheck trace`
    reads back) and Chrome trace-event JSON (Perfetto, chrome://tracing)."""
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    runs_per_file = Counter(m.file for m in run.models)
    for m in run.models:
        if not isinstance(m, ModelResult):
            continue
        stem = Path(m.file).stem
        if runs_per_file[m.file] > 1:  # name the param choice of each run
            stem += "." + ",".join(f"{k}={show(v)}" for k, v in m.params)
        for p in m.properties:
            if p.trace is None:
                continue
            base = _file_base(f"{stem}.{p.id}")
            k = 2
            while base in used:
                base = _file_base(f"{stem}-{k}.{p.id}")
                k += 1
            used.add(base)
            title = f"{m.file}: {p.id}"
            out.append(
                (f"{base}.itf.json", jsonout.dumps(jsonout.itf_document(m.model, p, p.trace)))
            )
            out.append((f"{base}.ftrace.txt", ftrace_text(m.model, p.trace, title)))
            out.append(
                (f"{base}.chrome.json", jsonout.dumps(chrome_trace(m.model, p.trace, title)))
            )
    return out


def _file_base(base: str) -> str:
    """`base`, shortened (with a hash of the whole, to stay distinct) so that a suffix of up
    to 12 characters keeps the name within NAME_MAX."""
    if len(base.encode()) + 12 <= NAME_MAX:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:12]
    return f"{base.encode()[:200].decode('utf-8', 'ignore')}~{digest}"


@app.command()
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
    property_: Annotated[
        list[str] | None,
        typer.Option(
            "--property",
            metavar="ID",
            help="Check only this property (repeatable; built-ins always run).",
        ),
    ] = None,
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
        Path | None, typer.Option(help="Write every trace as ITF JSON here.")
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
    _check_modes(all_modes, mode, set_)
    _check_limits(max_states, timeout, bound, rlimit, work_limit)
    memory = _size("--max-memory", max_memory) if max_memory is not None else None
    _check_workers(workers)
    if quiet and verbose:
        raise _usage("--quiet and --verbose ask for opposite things: give one")
    sources = SourceCache()
    if junit_file is not None and sarif_file is not None and same_file(junit_file, sarif_file):
        raise _usage(f"--junit and --sarif name the same file: {junit_file}")
    with _guarded(sources, debug):
        for option, target, folder in (
            ("--junit", junit_file, False),
            ("--sarif", sarif_file, False),
            ("--trace-dir", trace_dir, True),
        ):
            if target is not None:
                check_writable(option, target, directory=folder)
    options = Options(
        overrides=_overrides(set_ or [], mode),
        properties=tuple(property_ or ()),
        max_states=max_states,
        timeout=timeout,
        strict=strict,
        fail_fast=fail_fast,
        symmetry=symmetry,
        engine=engine.value,
        bound=bound,
        rlimit=rlimit or None,
        work_limit=work_limit or None,
        all_modes=all_modes,
        cache_dir=str(cache_dir or default_cache_dir()) if cache else None,
        backend=backend.value,
        max_memory=memory,
        workers=workers,
    )
    progress = _ProgressLine()
    t0 = time.monotonic()
    # one signal handling for the run and its outputs: a signal while the files are written
    # lets them finish whole (never a .tmp left behind) and is then the exit status
    with _guarded(sources, debug, progress), interrupt.handling():
        run = check_paths(paths, options, progress=progress, sources=sources)
        progress.done()
        _print_notes(run.notes)
        if run.interrupted is None:
            _write_outputs(run, sources, trace_dir, junit_file, sarif_file)
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


def _print_notes(notes: tuple[str, ...], shown: int = 20) -> None:
    """The run's notes on stderr (the report stays the same bytes with or without them)."""
    for line in notes[:shown]:
        typer.echo(line, err=True)
    if len(notes) > shown:
        typer.echo(f"note: {len(notes) - shown} more notes like these", err=True)


def _write_outputs(
    run: RunResult,
    sources: SourceCache,
    trace_dir: Path | None,
    junit_file: Path | None,
    sarif_file: Path | None,
) -> None:
    """The files a run asked for; none after an interrupted run (they would look whole)."""
    if trace_dir is not None:
        for name, content in _trace_files(run):
            _write_output("--trace-dir", trace_dir / name, content)
    cwd = Path.cwd()
    if junit_file is not None:
        _write_output("--junit", junit_file, junit.render(run, sources))
    if sarif_file is not None:
        _write_output("--sarif", sarif_file, jsonout.dumps(sarif.document(run, cwd=cwd)))


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


@contextlib.contextmanager
def _guarded(
    sources: SourceCache, debug: bool, progress: _ProgressLine | None = None
) -> Iterator[None]:
    """Bad input: its diagnostics, exit 2. A bug in preemptcheck: one line, exit 4."""
    try:
        yield
    except typer.Exit:  # a decided exit code (a usage error found late)
        raise
    except InputError as exc:
        if progress is not None:
            progress.done()
        for d in exc.diagnostics:
            typer.echo(d.render(sources), err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt as exc:  # a second signal, or a command that stops at once
        if progress is not None:
            progress.done()
        typer.echo("interrupted: stopped at once, nothing decided is reported", err=True)
        status = (
            exc.status if isinstance(exc, interrupt.Stopped) else interrupt.EXIT_STATUS["SIGINT"]
        )
        raise typer.Exit(status) from None
    except Exception as exc:  # a bug in preemptcheck, not in the model
        if progress is not None:
            progress.done()
        if debug:
            traceback.print_exc()
        typer.echo(
            f"internal error: {type(exc).__name__}: {exc}"
            + ("" if debug else " (run with --debug for the traceback)"),
            err=True,
        )
        raise typer.Exit(EXIT_INTERNAL) from None


class Per(StrEnum):
    cpu = "cpu"
    task = "task"
    global_ = "global"


@app.command("rv-export")
def rv_export(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="The model file.")],
    events: Annotated[
        list[str],
        typer.Option(
            metavar="E1,E2,...",
            help="The kernel events the monitor sees (comma-separated or repeated); every "
            "other step is silent.",
        ),
    ],
    per: Annotated[
        Per,
        typer.Option(
            help="Monitor instances: an event belongs to the CPU that emits it, to that "
            "CPU's current task (the current_task role), or to one global instance."
        ),
    ] = Per.cpu,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="NAME.dot",
            help="Write the automaton here (rvgen names the monitor after the file); "
            "default: standard output.",
        ),
    ] = None,
    mode: ModeOption = None,
    set_: SetOption = None,
    max_states: Annotated[
        int,
        typer.Option(
            help="Give up on a state graph, or a determinized automaton, larger than this (exit 3)."
        ),
    ] = DEFAULT_MAX_STATES,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    debug: DebugOption = False,
) -> None:
    """Write the model's event sequences as a minimal kernel RV automaton (.dot, for rvgen).

    The smallest deterministic automaton that accepts exactly the sequences of the given
    events one monitor instance sees, in the dialect `rvgen monitor -c da -s NAME.dot` reads.

    Exit codes: 0 written, 2 bad input or usage, 3 a limit was reached, 4 internal error.
    """
    _check_limits(max_states, timeout, 1, 0)
    overrides = _overrides(set_ or [], mode)
    sources = SourceCache()
    with _guarded(sources, debug), interrupt.abrupt():
        if output is not None:
            check_writable("-o", output)
        names = export.parse_events(events)
        try:
            result = export.export_path(
                model,
                names,
                per=per.value,
                overrides=overrides,
                max_states=max_states,
                timeout=timeout,
                sources=sources,
            )
        except export.ExportLimit as exc:
            typer.echo(f"{model}: inconclusive: {exc}", err=True)
            raise typer.Exit(3) from None
        except export.ExportRefused as exc:
            typer.echo(f"{model}: error: {exc}", err=True)
            raise typer.Exit(2) from None
        text = dotwrite.render(result.states, result.edges)
        if output is not None:
            _write_output("-o", output, text)
        else:
            typer.echo(text, nl=False)
    for note in result.notes:
        typer.echo(note, err=True)
    target = f" -> {output}" if output is not None else ""
    typer.echo(
        f"{model}: {result.model}: {len(result.states)} states, {len(result.edges)} edges "
        f"over {len(result.used)} events, per {result.per} (from {result.model_states:,} "
        f"model states; {result.subsets:,} states before minimization){target}",
        err=output is None,
    )
    raise typer.Exit(0)


# the other commands live in commands.py, which registers them on `app`
from preemptcheck import commands  # noqa: E402, F401


def main() -> None:
    app()
