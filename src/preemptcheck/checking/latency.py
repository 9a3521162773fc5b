"""Worst-case preemption latency: for each response property (or one query from the command
line), the most steps, or steps of a counted action, from a request to its response.

    preemptcheck latency --all-modes models/latency.yaml
    preemptcheck latency models/full.yaml --from 'tif_nr[curr]' --to tag:schedule \\
        --count sched_tick --strong-fair irq_enter --strong-fair sched_tick

Each figure comes with the run that shows it, replayed on the reference semantics before it
is reported: a path to the response with exactly that count, or a lasso ("never": a fair
run that avoids the response; "unbounded": a loop that repeats counted steps without it).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from preemptcheck.checking.check import every_mode, find_models
from preemptcheck.checking.options import Options
from preemptcheck.checking.results import ModelFailure, ModelResult, RunResult
from preemptcheck.core.errors import Collector, InputError
from preemptcheck.core.source import SourceCache
from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import GraphLimit, build_graph
from preemptcheck.engines.liveness import ResponseChecker, Weights, show_worst
from preemptcheck.expr.ast import Value
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.model import instantiations, load_model
from preemptcheck.model.ir import Model, Property, PropKind
from preemptcheck.model.merge import Entry
from preemptcheck.model.yamlnodes import parse_yaml
from preemptcheck.semantics.trace import Trace, replay_latency

QUERY_FILE = "<latency query>"  # where diagnostics about --from/--to/--count point
QUERY_ID = "latency"


@dataclass(frozen=True)
class Query:
    """A response property given on the command line."""

    trigger: str
    goal: str
    count: str | None = None
    fair: tuple[str, ...] = ()
    strong: tuple[str, ...] = ()

    def yaml(self) -> str:
        lines = [
            f"{QUERY_ID}:",
            "  leads_to:",
            f"    from: {json.dumps(self.trigger)}",
            f"    to: {json.dumps(self.goal)}",
        ]
        if self.count is not None:  # resolved and checked like a property's count
            lines.append(f"  within: {{count: {json.dumps(self.count)}, max: 0}}")
        if self.fair or self.strong:
            lines.append("  fair:")
            if self.fair:
                lines.append(f"    weak: {json.dumps(list(self.fair))}")
            if self.strong:
                lines.append(f"    strong: {json.dumps(list(self.strong))}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Cell:
    """One property in one instantiation: its worst case and the run that shows it."""

    prop: str
    unit: str  # "steps" or "steps of ACTION, ..."
    worst: str  # a count, "unbounded", "never", "n/a" (not in this mode) or "unknown"
    reason: str = ""
    trace: Trace | None = None
    doc: str = ""


@dataclass(frozen=True)
class LatencyResult:
    file: str
    name: str
    params: tuple[tuple[str, Value], ...]
    cells: tuple[Cell, ...]
    model: Model = dataclasses.field(compare=False, repr=False)
    states: int = 0


@dataclass(frozen=True)
class LatencyRun:
    results: tuple[LatencyResult | ModelFailure, ...]

    @property
    def exit_code(self) -> int:
        """2 bad input; 3 a figure could not be established; else 0 (figures are measurements,
        not verdicts: `verify` judges them against `within`)."""
        if any(isinstance(r, ModelFailure) for r in self.results):
            return 2
        if any(
            c.worst == "unknown"
            for r in self.results
            if isinstance(r, LatencyResult)
            for c in r.cells
        ):
            return 3
        return 0


def latency_paths(
    paths: Iterable[str],
    options: Options,
    *,
    query: Query | None = None,
    all_modes: bool = False,
    sources: SourceCache | None = None,
) -> LatencyRun:
    sources = sources or SourceCache()
    extra = _query_entries(query, sources) if query is not None else None
    out: list[LatencyResult | ModelFailure] = []
    for path in find_models(paths):
        try:
            overrides = dict(options.overrides)
            if all_modes:
                overrides = every_mode(path, overrides, sources)
            choices = instantiations(path, overrides, sources)
            for choice in choices:
                model = load_model(path, overrides=choice, sources=sources, extra_properties=extra)
                out.append(_measure(model, options, query))
        except InputError as exc:
            out.append(ModelFailure(path, exc.diagnostics))
    return LatencyRun(tuple(out))


def latency_of(run: RunResult, options: Options) -> LatencyRun:
    """The worst cases of the leads_to properties of a `verify` run's models, measured on
    the models it checked (the same param choices; `verify --html` shows them)."""
    out = [
        _measure(m.model, options, None)
        for m in run.models
        if isinstance(m, ModelResult)
        and any(p.kind == PropKind.LEADS_TO for p in m.model.properties)
    ]
    return LatencyRun(tuple(out))


def _query_entries(query: Query, sources: SourceCache) -> Mapping[str, Entry]:
    text = query.yaml()
    sources.add(QUERY_FILE, text)
    diags = Collector()
    node = parse_yaml(QUERY_FILE, text, diags)
    diags.raise_if_any()
    assert node is not None
    assert node.is_map
    return {QUERY_ID: Entry(QUERY_ID, node.key_spans[QUERY_ID], node.value[QUERY_ID])}


def _measure(model: Model, options: Options, query: Query | None) -> LatencyResult:
    props = [p for p in model.properties if p.kind == PropKind.LEADS_TO]
    if query is None and options.properties:
        props = [p for p in props if p.id in options.properties]
    if query is not None:
        props = [p for p in props if p.id == QUERY_ID]
    if not props:
        return LatencyResult(model.file, model.name, model.param_values, (), model)
    explorer = Explorer(model)
    cells: list[Cell] = []
    try:
        graph = build_graph(explorer, max_states=options.state_cap(), timeout=options.timeout)
        if graph.failing is not None:  # a step that fails would look like a stop
            raise GraphLimit(f"some steps fail ({graph.failing}): see `verify`, property range")
    except GraphLimit as exc:
        cells = [Cell(p.id, _unit(p), "unknown", str(exc), doc=p.doc) for p in props]
        return LatencyResult(model.file, model.name, model.param_values, tuple(cells), model)
    checker = ResponseChecker(explorer, graph)
    for p in props:
        cells.append(_cell(model, p, checker))
    return LatencyResult(
        model.file, model.name, model.param_values, tuple(cells), model, len(graph)
    )


def _counted(p: Property) -> tuple[str, ...] | None:
    """The actions a latency counts (None: every step)."""
    r = p.response
    assert r is not None
    return r.count if r.count_max is not None else None


def _unit(p: Property) -> str:
    counted = _counted(p)
    return "steps" if counted is None else "steps of " + ", ".join(counted)


def _cell(model: Model, p: Property, checker: ResponseChecker) -> Cell:
    r = p.response
    assert r is not None
    counted = _counted(p)
    weights = Weights("steps") if counted is None else Weights("count", counted)
    unit = _unit(p)
    best = None
    triggered = 0
    try:
        for cpu in range(model.cpus) if p.per_cpu else [-1]:
            got = checker.run(r, cpu, weights, to_response=True)
            triggered += got.triggered
            if best is None or got.worst > best.worst:
                best = got
    except EvalError as exc:
        return Cell(p.id, unit, "unknown", f"cannot be evaluated: {exc}", doc=p.doc)
    assert best is not None
    if triggered == 0:
        return Cell(
            p.id, unit, "n/a", f"no reachable state satisfies {r.trigger_source}", doc=p.doc
        )
    worst = show_worst(best.worst)
    if best.trace is not None:
        replay_latency(model, r, best.trace, counted, worst)
    return Cell(p.id, unit, worst, "", best.trace, p.doc)
