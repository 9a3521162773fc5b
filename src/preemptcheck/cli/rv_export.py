"""`preemptcheck rv-export`: a model's event sequences as a minimal kernel RV automaton."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from preemptcheck.checking.options import DEFAULT_MAX_STATES
from preemptcheck.cli.common import (
    DebugOption,
    ModeOption,
    Per,
    SetOption,
    check_limits,
    guarded,
    parse_overrides,
    write_output,
)
from preemptcheck.core import interrupt
from preemptcheck.core.outfiles import check_writable
from preemptcheck.core.source import SourceCache
from preemptcheck.monitors import dotwrite, export


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
    check_limits(max_states, timeout, 1, 0)
    overrides = parse_overrides(set_ or [], mode)
    sources = SourceCache()
    with guarded(sources, debug), interrupt.abrupt():
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
            write_output("-o", output, text)
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
