"""`preemptcheck graph`: the reachable state graph (or its quotient) as DOT, SVG or GraphML."""

from __future__ import annotations

import shutil
import subprocess
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from preemptcheck.checking.check import Options, check_model, select_properties
from preemptcheck.checking.options import DEFAULT_MAX_STATES
from preemptcheck.checking.results import ModelResult, PropertyResult, Verdict
from preemptcheck.cli.common import (
    DebugOption,
    ModeOption,
    PropertyOption,
    SetOption,
    check_limits,
    guarded,
    parse_overrides,
    usage,
    write_output,
)
from preemptcheck.core import interrupt
from preemptcheck.core.outfiles import check_writable
from preemptcheck.core.source import SourceCache
from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import GraphLimit, build_graph
from preemptcheck.model import load_model
from preemptcheck.report import graphwrite
from preemptcheck.report.stategraph import Drawing, TooLarge, check_project, draw, highlight

DEFAULT_MAX_NODES = 2000
NO_DOT = (
    "--format svg: Graphviz's dot is not installed (apt install graphviz); "
    "--format dot writes the DOT text to draw elsewhere"
)


class GraphFormat(StrEnum):
    dot = "dot"
    svg = "svg"
    graphml = "graphml"


_SUFFIXES = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".graphml": "graphml"}


def graph(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="The model file.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Write the graph here (.dot, .gv, .svg or .graphml name the format); "
            "default: standard output.",
        ),
    ] = None,
    format_: Annotated[
        GraphFormat | None,
        typer.Option(
            "--format",
            help="dot (Graphviz), svg (drawn by Graphviz's dot) or graphml (Gephi, yEd); "
            "default: from the -o name, else dot.",
        ),
    ] = None,
    project: Annotated[
        list[str] | None,
        typer.Option(
            "--project",
            metavar="VAR,...",
            help="Draw the quotient over these variables (comma-separated or repeated): "
            "a node per value they take together, for graphs too large to draw.",
        ),
    ] = None,
    property_: PropertyOption = None,
    mode: ModeOption = None,
    set_: SetOption = None,
    max_nodes: Annotated[
        int, typer.Option(help="Refuse to draw more nodes than this (exit 3).")
    ] = DEFAULT_MAX_NODES,
    max_states: Annotated[
        int, typer.Option(help="Give up on a state graph larger than this (exit 3).")
    ] = DEFAULT_MAX_STATES,
    debug: DebugOption = False,
) -> None:
    """Write the reachable state graph, with a counterexample's path in red.

    A node per state, or with --project per value of the named variables (the quotient:
    its edges carry the steps between the states they group). The trace of --property,
    else of the first property with a trace (a violation or a witness), is highlighted.

    Exit codes: 0 written, 2 bad input or usage, 3 a limit was reached, 4 internal error.
    """
    check_limits(max_states, None, 1, 0)
    if max_nodes < 1:
        raise usage(f"--max-nodes must be at least 1, got {max_nodes}")
    fmt = _format(format_, output)
    if fmt == GraphFormat.svg and shutil.which("dot") is None:
        raise usage(NO_DOT)
    names = [n.strip() for item in project or [] for n in item.split(",")]
    if any(not n for n in names):
        raise usage("--project: expected variable names separated by commas")
    overrides = parse_overrides(set_ or [], mode)
    sources = SourceCache()
    with guarded(sources, debug), interrupt.abrupt():
        if output is not None:
            check_writable("-o", output)
        loaded = load_model(model, overrides=overrides, sources=sources)
        loaded = select_properties(loaded, tuple(property_ or ()))
        chosen = check_project(loaded, names)
        explorer = Explorer(loaded)
        try:
            drawing = draw(
                explorer, build_graph(explorer, max_states=max_states), project=chosen,
                max_nodes=max_nodes,
            )  # fmt: skip
        except GraphLimit as exc:
            typer.echo(f"{model}: inconclusive: {exc}", err=True)
            raise typer.Exit(3) from None
        except TooLarge as exc:
            variables = ",".join(v.name for v in loaded.vars[:3])
            typer.echo(
                f"{model}: {exc}: draw a quotient with --project VAR,... "
                f"(e.g. --project {variables})",
                err=True,
            )
            raise typer.Exit(3) from None
        options = Options(properties=tuple(property_ or ()), max_states=max_states)
        drawing = _highlight(drawing, check_model(model, loaded, options, None))
        text = _render(drawing, fmt)
        if output is not None:
            write_output("-o", output, text)
        else:
            typer.echo(text, nl=False)
    _summary(model, drawing, output)
    raise typer.Exit(0)


def _format(given: GraphFormat | None, output: Path | None) -> GraphFormat:
    if given is not None:
        return given
    if output is None:
        return GraphFormat.dot
    suffix = output.suffix.lower()
    if suffix not in _SUFFIXES:
        raise usage(
            f"-o {output}: name a .dot, .gv, .svg or .graphml file, or give "
            "--format dot|svg|graphml"
        )
    return GraphFormat(_SUFFIXES[suffix])


def _highlight(drawing: Drawing, result: ModelResult) -> Drawing:
    """The first violation with a trace, else the first property with one (a witness)."""
    traced = [p for p in result.properties if p.trace is not None]
    pick: PropertyResult | None = next(
        (p for p in traced if p.verdict == Verdict.VIOLATED), traced[0] if traced else None
    )
    if pick is None or pick.trace is None:
        return drawing
    return highlight(drawing, pick.id, pick.trace)


def _render(drawing: Drawing, fmt: GraphFormat) -> str:
    if fmt == GraphFormat.graphml:
        return graphwrite.to_graphml(drawing)
    dot = graphwrite.to_dot(drawing)
    if fmt == GraphFormat.dot:
        return dot
    proc = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=False, timeout=600
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dot -Tsvg failed: {proc.stderr.strip()}")
    return proc.stdout


def _summary(model: str, drawing: Drawing, output: Path | None) -> None:
    g = drawing.graph
    over = f" (quotient over {','.join(drawing.project)})" if drawing.project else ""
    marked = ""
    if drawing.highlighted is not None:
        marked = f"; the trace of {drawing.highlighted} in red"
        if drawing.unmarked:
            marked += f" ({drawing.unmarked} of its steps not in the graph)"
    target = f" -> {output}" if output is not None else ""
    typer.echo(
        f"{model}: {g.graph['model']}: {g.number_of_nodes():,} nodes, "
        f"{g.number_of_edges():,} edges{over} from {drawing.states:,} states, "
        f"{drawing.steps:,} steps{marked}{target}",
        err=True,
    )
