"""A drawn state graph as text: Graphviz DOT (written here, no Graphviz library) and GraphML
(networkx's writer), in the graph's own deterministic order."""

from __future__ import annotations

from typing import Any

import networkx as nx

from preemptcheck.report.stategraph import YES, Drawing

SHOWN_LABELS = 4  # step labels written on one edge of the drawing; the rest are counted
_META = {"states", "initial", "counterexample"}
_HIGHLIGHT = 'color="red", fontcolor="red", penwidth=2.5, class="counterexample"'


def quote(text: str) -> str:
    """A DOT double-quoted string; each line left-justified (`\\l`)."""
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    lines = body.split("\n")
    return '"' + "".join(line + "\\l" for line in lines) + '"' if len(lines) > 1 else f'"{body}"'


def title(drawing: Drawing) -> str:
    g = drawing.graph.graph
    head = g["model"] + (f" ({g['params']})" if g["params"] else "")
    what = (
        f"quotient over {', '.join(drawing.project)}: {drawing.graph.number_of_nodes():,} "
        f"nodes from {drawing.states:,} states"
        if drawing.project
        else f"{drawing.states:,} states"
    )
    out = f"{head}: {what}, {drawing.steps:,} steps"
    if drawing.highlighted is not None:
        out += f"; in red: the trace of {drawing.highlighted}"
    return out


def _node_label(attrs: dict[str, Any], projected: bool) -> str:
    lines = [f"{k}={v}" for k, v in attrs.items() if k not in _META]
    if projected:
        n = int(attrs["states"])
        lines.append(f"({n:,} state{'s' if n != 1 else ''})")
    return "\n".join(lines)


def _edge_label(attrs: dict[str, Any]) -> str:
    labels = attrs["labels"].split("\n")
    shown = labels[:SHOWN_LABELS]
    if len(labels) > SHOWN_LABELS:
        shown.append(f"... {len(labels) - SHOWN_LABELS} more")
    count = int(attrs["count"])
    if count > 1:
        shown.append(f"({count:,} steps)")
    return "\n".join(shown)


def to_dot(drawing: Drawing) -> str:
    graph = drawing.graph
    out = [
        f"digraph {quote(graph.graph['model'])} {{",
        f"  graph [label={quote(title(drawing))}, labelloc=t, fontname=monospace];",
        "  node [shape=box, fontname=monospace, fontsize=10];",
        "  edge [fontname=monospace, fontsize=9];",
    ]
    for node, attrs in graph.nodes(data=True):
        extra = ", peripheries=2" if attrs["initial"] == YES else ""
        if attrs["counterexample"] == YES:
            extra += ", " + _HIGHLIGHT
        label = quote(_node_label(attrs, bool(drawing.project)))
        out.append(f"  {node} [label={label}{extra}];")
    for a, b, attrs in graph.edges(data=True):
        extra = ", " + _HIGHLIGHT if attrs["counterexample"] == YES else ""
        out.append(f"  {a} -> {b} [label={quote(_edge_label(attrs))}{extra}];")
    out.append("}")
    return "\n".join(out) + "\n"


def to_graphml(drawing: Drawing) -> str:
    """Every attribute a string (GraphML keys typed `string`), for Gephi and yEd."""
    graph = drawing.graph.copy()
    graph.graph["title"] = title(drawing)
    lines: Any = nx.generate_graphml(graph, prettyprint=True)
    return "\n".join(lines) + "\n"
