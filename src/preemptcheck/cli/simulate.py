"""`preemptcheck simulate`: seeded random walks for models too big to explore; options ->
simulate_path -> render (text, or JSON `preemptcheck/simulate` v1) -> exit code."""

from __future__ import annotations

import contextlib
import secrets
import shlex
import sys
import textwrap
from enum import StrEnum
from typing import Annotated, Any

import typer

from preemptcheck.checking.results import PropertyResult, Strength, Verdict
from preemptcheck.checking.simulate import (
    Mark,
    SimFailure,
    SimOptions,
    SimProperty,
    SimReport,
    SimResult,
    Status,
    simulate_path,
)
from preemptcheck.cli.common import (
    DebugOption,
    ModeOption,
    PropertyOption,
    SetOption,
    check_limits,
    guarded,
    parse_overrides,
    usage,
)
from preemptcheck.cli.progress import Display
from preemptcheck.core import interrupt
from preemptcheck.core.progress import Phase
from preemptcheck.core.source import SourceCache
from preemptcheck.core.version import __version__
from preemptcheck.engines.simulate import Order, SimProgress
from preemptcheck.model.ir import Expect
from preemptcheck.model.params import show
from preemptcheck.report import jsonout
from preemptcheck.report.text import render_trace

DEFAULT_RUNS = 1000
SIM_SCHEMA = "preemptcheck/simulate"
SIM_VERSION = 1


class SimFormat(StrEnum):
    text = "text"
    json = "json"


class SimOrder(StrEnum):
    uniform = "uniform"
    swarm = "swarm"


def simulate(
    model: Annotated[str, typer.Argument(help="The model file.")],
    runs: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            show_default=False,
            help=f"How many random walks (default {DEFAULT_RUNS:,}).",
        ),
    ] = None,
    depth: Annotated[int, typer.Option(metavar="N", help="The most steps of one walk.")] = 100,
    seed: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            show_default=False,
            help="The seed (default: a random one, printed, so the run can be repeated).",
        ),
    ] = None,
    run: Annotated[
        int | None,
        typer.Option(
            "--run",
            metavar="K",
            show_default=False,
            help="Repeat only walk K of the seed (each walk draws from the seed and its "
            "number alone).",
        ),
    ] = None,
    mode: ModeOption = None,
    set_: SetOption = None,
    property_: PropertyOption = None,
    timeout: Annotated[
        float | None,
        typer.Option(metavar="SECONDS", help="Start no walk after this many seconds (exit 3)."),
    ] = None,
    order: Annotated[
        SimOrder,
        typer.Option(
            help="How a walk chooses its steps: uniform, or swarm (each walk first leaves "
            "out a random half of the actions, starting them only when nothing else can step; "
            "swarm testing, as SPIN's swarm varies its search).",
        ),
    ] = SimOrder.uniform,
    cluster: Annotated[
        str | None,
        typer.Option(
            metavar="SPEC",
            show_default=False,
            help="Share the walks out over a Ray cluster (pip install 'preemptcheck[cluster]'): "
            "local, local:N workers, auto, HOST:PORT or ray://HOST:PORT. Stops every worker "
            "at the first unexpected verdict; --seed S --run K repeats a walk on one machine.",
        ),
    ] = None,
    format_: Annotated[
        SimFormat,
        typer.Option("--format", help="text, or json (schema preemptcheck/simulate v1)."),
    ] = SimFormat.text,
    debug: DebugOption = False,
) -> None:
    """Random walks from the initial state, checking invariants, `never` and monitors at
    every state they visit: for models too big to explore. Not a proof.

    Each violation is replayed on the reference semantics and printed with its seed and
    walk number; --seed S --run K repeats that walk alone. Exit codes: 0 nothing
    unexpected found, 1 a property violated against its expectation, 2 bad input or usage,
    3 a limit (--timeout, a --cluster worker lost) or a property that cannot be evaluated,
    4 internal error.
    """
    if runs is not None and run is not None:
        raise usage("--runs and --run ask for different walks: give one")
    if runs is not None and runs < 1:
        raise usage(f"--runs must be at least 1, got {runs}")
    if run is not None and run < 1:
        raise usage(f"--run must be at least 1 (walks are numbered from 1), got {run}")
    if depth < 1:
        raise usage(f"--depth must be at least 1, got {depth}")
    if seed is not None and seed < 0:
        raise usage(f"--seed must be 0 or positive, got {seed}")
    check_limits(None, timeout, 1, 0)
    options = SimOptions(
        overrides=parse_overrides(set_ or [], mode),
        properties=tuple(property_ or ()),
        seed=secrets.randbelow(1 << 32) if seed is None else seed,
        runs=DEFAULT_RUNS if runs is None else runs,
        depth=depth,
        only_run=run,
        timeout=timeout,
        cluster=cluster,
        order=Order(order.value),
    )
    sources = SourceCache()
    display = Display()
    total = len(options.run_numbers())

    def shown(path: str, p: SimProgress) -> None:
        display(
            path, Phase(f"simulation: {p.runs:,} of {total:,} walks, {p.steps:,} steps", p.elapsed)
        )

    with guarded(sources, debug, display), interrupt.handling():
        # Ray's driver prints what its raylets report (a worker lost) on stdout, which
        # holds the report alone (JSON): while the cluster runs, stdout is stderr
        with (
            contextlib.redirect_stdout(sys.stderr)
            if cluster is not None
            else contextlib.nullcontext()
        ):
            report = simulate_path(model, options, sources=sources, progress=shown)
        display.done()
        if format_ == SimFormat.json:
            typer.echo(jsonout.dumps(document(report)), nl=False)
        else:
            typer.echo(render_text(report, sources), nl=False)
    raise typer.Exit(report.exit_code)


# ---------------------------------------------------------------- text


def render_text(report: SimReport, sources: SourceCache | None = None) -> str:
    parts = [_render_one(r, sources) for r in report.results]
    if report.interrupted is not None:
        parts.append(f"interrupted by {report.interrupted}: the results above are all there is")
    return "\n".join([*parts, _summary(report)]) + "\n"


def _render_one(r: SimResult | SimFailure, sources: SourceCache | None) -> str:
    if isinstance(r, SimFailure):
        lines = [f"{r.file}: cannot be simulated"]
        lines += ["  " + line for d in r.diagnostics for line in d.render(sources).splitlines()]
        return "\n".join(lines) + "\n"
    o, s = r.options, r.run
    params = ", ".join(f"{k}={show(v)}" for k, v in r.params)
    lines = [f"{r.file}: {r.model.name}" + (f" ({params})" if params else "")]
    which = f"walk {o.only_run}" if o.only_run is not None else f"{s.runs:,} walks"
    on = f", {o.order.value} order" if o.order != Order.UNIFORM else ""
    on += f", on {s.workers} workers (cluster {o.cluster})" if o.cluster is not None else ""
    lines.append(
        f"  simulation: {which} of at most {o.depth} steps, seed {o.seed}{on}: "
        f"{s.steps:,} steps, {s.states:,} states visited"
        + (f"; {s.stuck:,} walks stopped where no step completes" if s.stuck else "")
    )
    if s.limit is not None:
        lines.append(f"  stopped early: {s.limit}")
    if s.stopped is not None:
        lines.append(f"  {s.stopped}")
    width = max((len(p.id) for p in r.properties), default=10) + 2
    for p in r.properties:
        lines.append(f"  {p.mark.value:<5} {p.id:<{width}} {_verdict(p, r)}")
        if p.trace is not None and (p.status == Status.VIOLATED or p.mark == Mark.UNEXPECTED):
            shown = render_trace(r.model, _as_result(p), p.trace)
            if o.order == Order.SWARM:
                left = ", ".join(p.omitted) or "none"
                shown += f"walk {p.run} leaves out the actions: {left}\n"
            shown += f"repeat this walk: {repeat_command(r, p)}\n"
            lines.extend(textwrap.indent(shown, "        ").splitlines())
    return "\n".join(lines) + "\n"


def _verdict(p: SimProperty, r: SimResult) -> str:
    walks = f"{r.run.runs:,} walk{'s' * (r.run.runs != 1)}"
    if p.trace is not None:
        n = p.trace.length
        text = f"{p.status.value} ({n} step{'s' * (n != 1)}, walk {p.run})"
        if p.mark == Mark.UNEXPECTED:
            return text + f", expected {p.expect.value}"
        return text + (", as expected" if p.status == Status.VIOLATED else "")
    if p.status == Status.NOT_VIOLATED:
        if p.expect == Expect.VIOLATED:
            return f"not found in {walks} (expected violated; simulation is not exhaustive)"
        return f"not violated in {walks} (not a proof)"
    if p.status == Status.NOT_WITNESSED:
        return f"not witnessed in {walks} (simulation is not exhaustive)"
    if p.status == Status.NOT_CHECKED:
        return f"not checked by simulation ({p.reason})"
    return f"unknown: {p.reason}"


def _as_result(p: SimProperty) -> PropertyResult:
    """What the trace renderer reads of a property: its id (and, for JSON, its verdict)."""
    witness = p.status == Status.WITNESSED
    return PropertyResult(
        p.id,
        p.kind,
        Verdict.HOLDS if witness else Verdict.VIOLATED,
        Strength.WITNESS if witness else Strength.COUNTEREXAMPLE,
        p.expect,
        p.reason,
        p.trace,
    )


def repeat_command(r: SimResult, p: SimProperty) -> str:
    """The command that runs the walk behind `p`'s trace alone."""
    sets = " ".join(f"--set {shlex.quote(f'{k}={v}')}" for k, v in r.chosen)
    order = f"--order {r.options.order.value}" if r.options.order != Order.UNIFORM else ""
    return " ".join(
        x
        for x in (
            "preemptcheck simulate",
            shlex.quote(r.file),
            sets,
            order,
            f"--depth {r.options.depth} --seed {r.options.seed} --run {p.run}",
        )
        if x
    )


def _summary(report: SimReport) -> str:
    o = report.options
    done = [r for r in report.results if isinstance(r, SimResult)]
    props = [p for r in done for p in r.properties]
    walks = sum(r.run.runs for r in done)
    what = f"{walks:,} walk{'s' * (walks != 1)} of at most {o.depth} steps (seed {o.seed})"
    bad = sum(p.mark == Mark.UNEXPECTED for p in props)
    found = sum(p.status == Status.VIOLATED for p in props)
    failed = len(report.results) - len(done)
    tail = f"; {failed} with errors" if failed else ""
    if bad:
        return f"{bad} unexpected in {what}{tail}"
    if found:
        return f"no unexpected violation in {what}: not a proof{tail}"
    return f"no violation in {what}: not a proof{tail}"


# ---------------------------------------------------------------- json


def document(report: SimReport) -> dict[str, Any]:
    o = report.options
    return {
        "schema": SIM_SCHEMA,
        "version": SIM_VERSION,
        "tool": {"name": "preemptcheck", "version": __version__},
        "exit_code": report.exit_code,
        "seed": o.seed,
        "runs": o.runs if o.only_run is None else 1,
        "depth": o.depth,
        "run": o.only_run,
        "cluster": o.cluster,
        "order": o.order.value,
        "models": [_model_doc(r) for r in report.results],
        "interrupted": report.interrupted,
    }


def _model_doc(r: SimResult | SimFailure) -> dict[str, Any]:
    if isinstance(r, SimFailure):
        return {"file": r.file, "diagnostics": [d.headline() for d in r.diagnostics]}
    s = r.run
    return {
        "file": r.file,
        "model": r.model.name,
        "params": {k: v for k, v in r.params},
        "walks": s.runs,
        "steps": s.steps,
        "states": s.states,
        "stuck": s.stuck,
        "limit": s.limit,
        "stopped": s.stopped,
        "workers": s.workers,
        "properties": [
            {
                "id": p.id,
                "kind": p.kind.value,
                "expect": p.expect.value,
                "status": p.status.value,
                "mark": p.mark.name.lower().replace("_", "-"),
                "reason": p.reason,
                "walk": p.run,
                "length": p.trace.length if p.trace is not None else None,
                "repeat": repeat_command(r, p) if p.trace is not None else None,
                "omitted": list(p.omitted),
                "trace": jsonout.itf_document(r.model, _as_result(p), p.trace)
                if p.trace is not None
                else None,
            }
            for p in r.properties
        ],
    }
