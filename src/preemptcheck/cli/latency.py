"""`preemptcheck latency`: worst-case preemption latency of response properties."""

from __future__ import annotations

from typing import Annotated

import typer

from preemptcheck.checking.latency import Query, latency_paths
from preemptcheck.checking.options import DEFAULT_MAX_STATES, Options
from preemptcheck.cli.common import (
    DebugOption,
    Format,
    ModeOption,
    SetOption,
    check_limits,
    check_modes,
    guarded,
    parse_overrides,
    usage,
)
from preemptcheck.core import interrupt
from preemptcheck.core.source import SourceCache
from preemptcheck.report import jsonout
from preemptcheck.report import latency as latency_report


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
        raise usage("--from and --to go together (a request and its response)")
    if from_ is None and (count or fair or strong_fair):
        raise usage("--count, --fair and --strong-fair belong to a --from/--to query")
    check_modes(all_modes, mode, set_)
    check_limits(max_states, timeout, 1, 0)
    query = None
    if from_ is not None and to is not None:
        query = Query(from_, to, count, tuple(fair or ()), tuple(strong_fair or ()))
    options = Options(
        overrides=parse_overrides(set_ or [], mode),
        properties=tuple(property_ or ()),
        max_states=max_states,
        timeout=timeout,
    )
    sources = SourceCache()
    with guarded(sources, debug), interrupt.abrupt():
        run = latency_paths(paths, options, query=query, all_modes=all_modes, sources=sources)
    if format_ == Format.json:
        typer.echo(jsonout.dumps(latency_report.document(run)), nl=False)
    elif format_ == Format.markdown:
        typer.echo(latency_report.render_markdown(run), nl=False)
    else:
        typer.echo(latency_report.render_text(run, sources, witnesses=witness), nl=False)
    raise typer.Exit(run.exit_code)
