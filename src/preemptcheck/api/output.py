"""What a caller reads off a result: traces as plain data, and text or JSON as the command
line writes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from preemptcheck.checking.results import ModelFailure, ModelResult, PropertyResult, RunResult
from preemptcheck.core.errors import InputError, did_you_mean
from preemptcheck.core.source import SourceCache
from preemptcheck.expr.ast import Value
from preemptcheck.model.ir import Model, Var
from preemptcheck.report import jsonout, text
from preemptcheck.semantics.system import State

# where api.loads() leaves (name, text) on an error, for render_error's source lines
SOURCE_ATTR = "_preemptcheck_source"


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a trace. A variable's value is a bool, int or str; a variable with an
    `index` is a mapping from each index value (a CPU number, a task name...) to its entry.
    The mappings are fresh dicts, typed read-only."""

    number: int  # 1-based; the state after step n is state n, the initial state is 0
    action: str
    cpu: int
    bindings: Mapping[str, Value]  # the action's `for` bindings: {"t": 0}
    label: str  # as traces print it: remote_resched@cpu1{t=0} step 2/2
    changes: Mapping[str, Any]  # the variables this step changed, with their new values
    state: Mapping[str, Any]  # every variable after the step (empty when it failed)
    error: str | None = None  # the step could not complete (a range error)


@dataclass(frozen=True, slots=True)
class TraceData:
    """A property's trace: a counterexample, or a witness of a `reachable` property."""

    property_id: str
    initial: Mapping[str, Any]  # every variable in the initial state
    steps: tuple[TraceStep, ...]
    cpu: int | None  # the CPU a per-CPU property failed for
    message: str | None  # what went wrong, when the trace says (range errors, monitors)
    loop: int | None  # leads_to lassos: the steps after state `loop` repeat forever

    @property
    def length(self) -> int:
        return len(self.steps)


def property_result(result: ModelResult, prop: str | PropertyResult) -> PropertyResult:
    """The result of property `prop` (its id) in `result`; ValueError when there is none."""
    if isinstance(prop, PropertyResult):
        return prop
    for p in result.properties:
        if p.id == prop:
            return p
    ids = [p.id for p in result.properties]
    hint = did_you_mean(prop, ids)
    raise ValueError(
        f"no property {prop!r} in the result of {result.file}" + (f" ({hint})" if hint else "")
    )


def trace_of(result: ModelResult, prop: str | PropertyResult) -> TraceData | None:
    """The trace of `prop` as plain data, or None when its verdict has none."""
    p = property_result(result, prop)
    trace = p.trace
    if trace is None:
        return None
    model = result.model
    steps: list[TraceStep] = []
    for k, label in enumerate(trace.steps):
        failed = k + 1 >= len(trace.states)
        before = trace.states[k]
        after = None if failed else trace.states[k + 1]
        steps.append(
            TraceStep(
                number=k + 1,
                action=label.action,
                cpu=label.cpu,
                bindings=dict(label.bindings),
                label=str(label),
                changes={} if after is None else _diff(model, before, after),
                state={} if after is None else _values(model, after),
                error=trace.message if failed else None,
            )
        )
    return TraceData(
        property_id=p.id,
        initial=_values(model, trace.states[0]),
        steps=tuple(steps),
        cpu=trace.cpu if trace.cpu >= 0 else None,
        message=trace.message,
        loop=trace.loop,
    )


def _plain(var: Var, value: Any) -> Any:
    if var.info.index is None:
        return value
    return dict(zip(var.info.index.values, value, strict=True))


def _values(model: Model, st: State) -> Mapping[str, Any]:
    return {v.name: _plain(v, x) for v, x in zip(model.vars, st.values, strict=True)}


def _diff(model: Model, a: State, b: State) -> Mapping[str, Any]:
    return {
        v.name: _plain(v, y)
        for v, x, y in zip(model.vars, a.values, b.values, strict=True)
        if x != y
    }


def render_trace(result: ModelResult, prop: str | PropertyResult) -> str:
    """The trace of `prop` as the command line's table (without its indent); "" when its
    verdict has no trace."""
    p = property_result(result, prop)
    return "" if p.trace is None else text.render_trace(result.model, p, p.trace)


def render(result: ModelResult | ModelFailure | RunResult) -> str:
    """The text `preemptcheck verify` prints: for a RunResult the whole report with its
    summary line, for one model's result its section of it."""
    sources = SourceCache()  # source lines of diagnostics, read from their files
    if isinstance(result, RunResult):
        return text.render_run(result, sources)
    return text.render_model(result, sources)


def render_error(error: InputError) -> str:
    """Every diagnostic of `error`, each with its source line and a caret under the place,
    as the command line prints them."""
    sources = SourceCache()
    source = getattr(error, SOURCE_ATTR, None)
    if source is not None:
        sources.add(*source)
    return "".join(d.render(sources) + "\n" for d in error.diagnostics)


def as_json(result: ModelResult | ModelFailure | RunResult) -> dict[str, Any]:
    """The document `preemptcheck verify --format json` writes (docs/result.schema.json),
    for a run, or for a run of this one result."""
    run = result if isinstance(result, RunResult) else RunResult((result,))
    return jsonout.run_document(run)
