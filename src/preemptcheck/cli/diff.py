"""`preemptcheck diff`: what changed between two runs (files, or a git revision)."""

from __future__ import annotations

from typing import Annotated

import typer

from preemptcheck.checking.options import DEFAULT_MAX_STATES, DEFAULT_WORK_LIMIT, Options
from preemptcheck.ci import gitrev
from preemptcheck.cli.common import (
    DebugOption,
    Engine,
    Format,
    ModeOption,
    SetOption,
    WorkLimitOption,
    check_limits,
    check_modes,
    guarded,
    parse_overrides,
)
from preemptcheck.cli.progress import Display
from preemptcheck.core import interrupt
from preemptcheck.core.source import SourceCache
from preemptcheck.report import diff as diff_report
from preemptcheck.report import jsonout


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
    check_modes(all_modes, mode, set_)
    check_limits(max_states, timeout, bound, rlimit, work_limit)
    options = Options(
        overrides=parse_overrides(set_ or [], mode),
        properties=tuple(property_ or ()),
        max_states=max_states,
        timeout=timeout,
        symmetry=symmetry,
        engine=engine,
        bound=bound,
        rlimit=rlimit or None,
        work_limit=work_limit or None,
        all_modes=all_modes,
    )
    progress = Display(limit=max_states)
    with guarded(SourceCache(), debug, progress), interrupt.abrupt():
        result = gitrev.diff_revision(base, paths or [], options, progress=progress)
    progress.done()
    if format_ == Format.json:
        typer.echo(jsonout.dumps(diff_report.document(result)), nl=False)
    elif format_ == Format.markdown:
        typer.echo(diff_report.render_markdown(result), nl=False)
    else:
        typer.echo(diff_report.render_text(result), nl=False)
    raise typer.Exit(result.exit_code)
