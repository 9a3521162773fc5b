"""The latency table: response properties x modes, each cell a worst case (text, markdown,
JSON), with the witness runs on request."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from preemptcheck.checking.latency import Cell, LatencyResult, LatencyRun
from preemptcheck.checking.results import ModelFailure, PropertyResult, Strength, Verdict
from preemptcheck.core.source import SourceCache
from preemptcheck.model.params import show
from preemptcheck.report import text

LEGEND = (
    "never: a fair run never reaches the response (the witness is a lasso); unbounded: every "
    "fair run reaches it, but a loop can put any number of counted steps before it; "
    "n/a: the property is not checked in that mode"
)


@dataclass(frozen=True)
class Table:
    file: str
    name: str
    fixed: str  # the params other than mode, shown in the title
    columns: tuple[str, ...]  # modes ("-" for a model without a `mode` param)
    rows: tuple[str, ...]  # properties (with their params, for a model without modes)
    cells: dict[tuple[str, str], Cell]  # (row, column) -> cell; missing: n/a
    units: dict[str, str]
    results: dict[tuple[str, str], LatencyResult]  # the run behind each cell


def tables(run: LatencyRun) -> list[Table]:
    """Per model file, one table per choice of the params other than `mode`; a model without
    a `mode` param gets one table, its param choices in the row names."""
    groups: dict[tuple[str, str], list[LatencyResult]] = {}
    for r in run.results:
        if isinstance(r, LatencyResult) and r.cells:
            moded = "mode" in dict(r.params)
            fixed = ", ".join(f"{k}={show(v)}" for k, v in r.params if k != "mode") if moded else ""
            groups.setdefault((r.file, fixed), []).append(r)
    out = []
    for (file, fixed), results in groups.items():
        cols: list[str] = []
        rows: list[str] = []
        cells: dict[tuple[str, str], Cell] = {}
        units: dict[str, str] = {}
        behind: dict[tuple[str, str], LatencyResult] = {}
        for r in results:
            params = dict(r.params)
            col = show(params["mode"]) if "mode" in params else "-"
            if col not in cols:
                cols.append(col)
            suffix = ""
            if "mode" not in params and len(results) > 1:
                suffix = " (" + ", ".join(f"{k}={show(v)}" for k, v in r.params) + ")"
            for c in r.cells:
                row = c.prop + suffix
                if row not in rows:
                    rows.append(row)
                cells[(row, col)] = c
                units[row] = c.unit
                behind[(row, col)] = r
        out.append(
            Table(file, results[0].name, fixed, tuple(cols), tuple(rows), cells, units, behind)
        )
    return out


def _text(c: Cell | None) -> str:
    return "n/a" if c is None else c.worst


def render_text(run: LatencyRun, sources: SourceCache, *, witnesses: bool = False) -> str:
    out: list[str] = []
    for m in run.results:
        if isinstance(m, ModelFailure):
            out.append(f"{m.file}: cannot be checked")
            out += ["  " + d.render(sources).replace("\n", "\n  ") for d in m.diagnostics]
            out.append("")
    for t in tables(run):
        title = f"{t.file}: {t.name}" + (f" ({t.fixed})" if t.fixed else "")
        out.append(title)
        head = ["worst case, request to response", "unit", *t.columns]
        body = [
            [row, t.units[row], *(_text(t.cells.get((row, c))) for c in t.columns)]
            for row in t.rows
        ]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        for r in [head, *body]:
            out.append(
                "  " + "  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()
            )
        for (row, col), c in t.cells.items():
            if c.worst == "unknown":
                where = f" (mode {col})" if col != "-" else ""
                out.append(f"  {row}{where}: unknown, {c.reason}")
        out.append("")
        if witnesses:
            out += _witnesses(t)
    if tables(run):
        out += textwrap.wrap(LEGEND, 100)
    return "\n".join(out).rstrip() + "\n"


def _witnesses(t: Table) -> list[str]:
    out = []
    for (row, col), c in t.cells.items():
        if c.trace is None:
            continue
        result = t.results[(row, col)]
        prop = next(p for p in result.model.properties if p.id == c.prop)
        out.append(f"  {row}" + (f", mode {col}" if col != "-" else "") + f": {c.worst} ({c.unit})")
        shown = PropertyResult(
            c.prop, prop.kind, Verdict.VIOLATED, Strength.COUNTEREXAMPLE, prop.expect
        )
        rendered = text.render_trace(result.model, shown, c.trace)
        out += ["    " + line for line in rendered.rstrip("\n").split("\n")]
        out.append("")
    return out


def render_markdown(run: LatencyRun) -> str:
    out = []
    for t in tables(run):
        out.append(f"### {t.file}: {t.name}" + (f" ({t.fixed})" if t.fixed else ""))
        out.append("")
        out.append("| worst case, request to response | unit | " + " | ".join(t.columns) + " |")
        out.append("|---|---|" + "---|" * len(t.columns))
        for row in t.rows:
            cells = [_text(t.cells.get((row, c))) for c in t.columns]
            out.append(f"| `{row}` | {t.units[row]} | " + " | ".join(cells) + " |")
        out.append("")
    out.append(f"_{LEGEND}_")
    return "\n".join(out) + "\n"


def document(run: LatencyRun) -> dict[str, Any]:
    """The JSON form: every table, each cell with its witness run (steps, origin, loop)."""
    return {
        "schema": "preemptcheck/latency",
        "version": 1,
        "exit_code": run.exit_code,
        "tables": [
            {
                "file": t.file,
                "model": t.name,
                "params": t.fixed,
                "modes": list(t.columns),
                "rows": [
                    {
                        "property": row,
                        "unit": t.units[row],
                        "cells": {col: _cell_doc(t.cells.get((row, col))) for col in t.columns},
                    }
                    for row in t.rows
                ],
            }
            for t in tables(run)
        ],
        "errors": [
            {"file": m.file, "diagnostics": [d.message for d in m.diagnostics]}
            for m in run.results
            if isinstance(m, ModelFailure)
        ],
    }


def _cell_doc(c: Cell | None) -> dict[str, Any]:
    if c is None:
        return {"worst": "n/a", "reason": "", "witness": None}
    witness = None
    if c.trace is not None:
        witness = {
            "steps": [str(s) for s in c.trace.steps],
            "origin": c.trace.origin,
            "loop": c.trace.loop,
            "cpu": c.trace.cpu if c.trace.cpu >= 0 else None,
        }
    return {"worst": c.worst, "reason": c.reason, "witness": witness}
