"""The verdict matrix: per model file, properties by mode (or by param choice); text, markdown."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from preemptcheck.checking.results import (
    ModelFailure,
    ModelResult,
    Outcome,
    PropertyResult,
    RunResult,
    Strength,
    Verdict,
)
from preemptcheck.expr.ast import Value
from preemptcheck.model.ir import PropKind
from preemptcheck.model.params import show
from preemptcheck.report.text import summary_line

BUILTIN = (PropKind.RANGE, PropKind.DEADLOCK)
NO_MODE = "-"  # the one column of a model without a `mode` param
NOT_APPLICABLE = "n/a"
MARKS = {Outcome.UNEXPECTED: "!", Outcome.INCONCLUSIVE: "?"}
LEGEND = (
    "(N) a trace of N steps decides it (a counterexample, or a reachable property's witness),",
    "! not as expected, ? inconclusive (a limit was reached), n/a not checked in this mode",
)


@dataclass(frozen=True, slots=True)
class Row:
    property: str
    cells: tuple[PropertyResult | None, ...]  # one per column; None: n/a (skipped there)


@dataclass(frozen=True, slots=True)
class Matrix:
    file: str
    name: str
    params: tuple[tuple[str, Value], ...]  # the params every column shares (not the mode)
    columns: tuple[str, ...]  # mode values, `-` without a mode param, or param choices
    rows: tuple[Row, ...]


def build(run: RunResult, *, by_mode: bool) -> list[Matrix]:
    """One matrix per model file; `by_mode`: one per file and choice of its other params,
    with a column per mode. A row per property some column checked (so --property keeps
    its own rows and the built-ins)."""
    groups: dict[tuple[str, tuple[tuple[str, Value], ...]], list[ModelResult]] = {}
    for m in run.models:
        if isinstance(m, ModelFailure):
            continue
        rest = tuple((k, v) for k, v in m.params if k != "mode") if by_mode else ()
        groups.setdefault((m.file, rest), []).append(m)
    return [_matrix(file, runs, by_mode=by_mode) for (file, _), runs in groups.items()]


def _matrix(file: str, runs: list[ModelResult], *, by_mode: bool) -> Matrix:
    if by_mode:
        shared = tuple((k, v) for k, v in runs[0].params if k != "mode")
        columns = tuple(show(dict(m.params).get("mode", NO_MODE)) for m in runs)
    else:
        shared, columns = _by_choice(runs)
    rows = []
    by_id = [{p.id: p for p in m.properties} for m in runs]
    for pid in _row_order(runs):
        cells = tuple(props.get(pid) for props in by_id)
        if any(c is not None for c in cells):  # else not for any of these modes
            rows.append(Row(pid, cells))
    return Matrix(file, runs[0].name, shared, columns, tuple(rows))


def _by_choice(runs: list[ModelResult]) -> tuple[tuple[tuple[str, Value], ...], tuple[str, ...]]:
    """Columns named by the params that differ between the runs (a bare mode when only
    the mode does); the params that do not are the matrix's own."""
    names = [k for k, _ in runs[0].params]
    varying = [k for k in names if len({dict(m.params).get(k) for m in runs}) > 1]
    shared = tuple((k, v) for k, v in runs[0].params if k not in varying)
    if not varying:
        return shared, (show(dict(runs[0].params).get("mode", NO_MODE)),)
    if varying == ["mode"]:
        return shared, tuple(show(dict(m.params)["mode"]) for m in runs)
    return shared, tuple(
        " ".join(f"{k}={show(v)}" for k, v in m.params if k in varying) for m in runs
    )


def _row_order(runs: Sequence[ModelResult]) -> list[str]:
    """The properties in model order. A run lists the properties it checked and those it
    skipped, each in model order but not interleaved: merge those chains (a topological
    order), built-ins last; where the chains leave the order open, by source position."""
    rank: dict[str, int] = {}
    where: dict[str, tuple[int, int, int]] = {}
    files: dict[str, int] = {}
    builtin: set[str] = set()
    chains: list[list[str]] = []
    for m in runs:
        checked = [p.id for p in m.properties]
        skipped = [pid for pid, _ in m.skipped]
        chains += [checked, skipped]
        for pid in checked + skipped:
            rank.setdefault(pid, len(rank))
        for p in m.properties:
            if p.kind in BUILTIN:
                builtin.add(p.id)
            elif p.span.line:
                f = files.setdefault(p.span.file, len(files))
                where.setdefault(p.id, (f, p.span.line, p.span.col))
    before: dict[str, set[str]] = {pid: set() for pid in rank}
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            before[b].add(a)
    for b in builtin:
        before[b] |= set(rank) - builtin
    after: dict[str, list[str]] = {pid: [] for pid in rank}
    for b, preds in before.items():
        for a in preds:
            after[a].append(b)

    def key(pid: str) -> tuple[tuple[int, int, int], int, str]:
        # a property no run checked (dropped later) goes first, never holding others back
        return where.get(pid, (-1, 0, 0)), rank[pid], pid

    waiting = {pid: len(preds) for pid, preds in before.items()}
    ready = [key(pid) for pid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        pid = heapq.heappop(ready)[2]
        order.append(pid)
        for b in after[pid]:
            waiting[b] -= 1
            if waiting[b] == 0:
                heapq.heappush(ready, key(b))
    assert len(order) == len(rank), "the runs of one file list their properties in one order"
    return order


def cell_text(p: PropertyResult | None) -> str:
    """A verdict and its strength, short: `holds` (exhaustive), `holds (inductive)`,
    `violated (5)` or a witnessed `holds (5)` (the trace's length), `bounded (30)` (depth),
    `unknown`, `n/a`; then `!` when unexpected, `?` when inconclusive."""
    if p is None:
        return NOT_APPLICABLE
    if p.verdict == Verdict.UNKNOWN:
        text = "unknown"
    elif p.verdict == Verdict.BOUNDED:
        text = f"bounded ({p.reason})"
    elif p.strength == Strength.INDUCTIVE:
        text = f"{p.verdict.value} (inductive)"
    elif p.trace is not None:
        text = f"{p.verdict.value} ({p.trace.length})"
    else:
        text = p.verdict.value
    mark = MARKS.get(p.outcome)
    return f"{text} {mark}" if mark else text


def _title(t: Matrix) -> str:
    params = ", ".join(f"{k}={show(v)}" for k, v in t.params)
    return f"{t.name}" + (f" ({params})" if params else "")


def render_text(tables: Sequence[Matrix]) -> str:
    """The matrices for people: aligned columns, one block per matrix, then the legend."""
    lines: list[str] = []
    for t in tables:
        grid = [["property", *t.columns]] + [
            [r.property, *(cell_text(c) for c in r.cells)] for r in t.rows
        ]
        widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
        lines.append(f"{t.file}: {_title(t)}, verdicts by mode")
        lines += [
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in grid
        ]
        lines.append("")
    if tables:
        lines += [f"legend: {LEGEND[0]}", f"        {LEGEND[1]}", ""]
    return "\n".join(lines) + "\n" if lines else ""


def before_summary(report: str, block: str) -> str:
    """Insert `block` before the last line of a text report (its summary line)."""
    head, _, summary = report.rstrip("\n").rpartition("\n")
    return f"{head.rstrip()}\n\n{block}{summary}\n" if block else report


def render_markdown(run: RunResult, tables: Sequence[Matrix]) -> str:
    """GitHub-flavoured markdown for a pull-request comment: a heading and a table per
    matrix, files that cannot be checked with their diagnostics, the legend, the summary."""
    out: list[str] = []
    for t in tables:
        out.append(f"### `{t.file}`: {_title(t)}")
        out.append("")
        out.append("| property | " + " | ".join(_md(c) for c in t.columns) + " |")
        out.append("|---" * (len(t.columns) + 1) + "|")
        for r in t.rows:
            cells = " | ".join(_md(cell_text(c)) for c in r.cells)
            out.append(f"| `{r.property}` | {cells} |")
        out.append("")
    for m in run.models:
        if isinstance(m, ModelFailure):
            out += [f"### `{m.file}`: cannot be checked", "", "```"]
            out += [d.headline() for d in m.diagnostics]
            out += ["```", ""]
    if tables:
        out += [f"Legend: {_md(' '.join(LEGEND))}", ""]
    out.append(f"**{summary_line(run)}**")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")
