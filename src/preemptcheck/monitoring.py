"""monitor properties -> verdicts with edge coverage: decided on the explicit state graph,
whichever engine decided the other properties; every violation is replayed first."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import GraphLimit, StateGraph, build_graph
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.model.ir import Property, PropKind
from preemptcheck.monitors.product import ProductLimit, check_monitor
from preemptcheck.monitors.semantics import Emitted, MonitorSemantics, emitted
from preemptcheck.results import EdgeCoverage, ModelResult, PropertyResult, Strength, Verdict
from preemptcheck.system import State, StepLabel
from preemptcheck.trace import replay


def judge_monitors(
    result: ModelResult,
    explorer: Explorer,
    reason: str | None,
    *,
    max_states: int | None,
    timeout: float | None,
    graph: StateGraph | None = None,
) -> ModelResult:
    """Decide the monitor properties on the whole state graph (`reason`: why they cannot be,
    e.g. the search stopped); untaken edges of a monitor that holds are warnings."""
    model = result.model
    if not any(p.kind == PropKind.MONITOR for p in model.properties):
        return result
    deadline = time.monotonic() + timeout if timeout else None
    if reason is None and any(
        p.kind == PropKind.RANGE and p.verdict == Verdict.VIOLATED for p in result.properties
    ):
        reason = "not checked: some steps of the model fail (see the range property)"
    if reason is None and graph is None:
        try:
            graph = build_graph(explorer, max_states=max_states, timeout=timeout)
        except GraphLimit as exc:
            reason = str(exc)
    if graph is not None and graph.failing is not None:
        reason = f"not checked: some steps fail ({graph.failing}), see property range"
    out = list(result.properties)
    warnings = list(result.warnings)
    labels = [s.label for s in explorer.ts.steps]
    states: dict[int, State] = {}  # unpacked once for every monitor

    def unpack(packed: int) -> State:
        st = states.get(packed)
        if st is None:
            st = states[packed] = explorer.layout.unpack(packed)
        return st

    emits: dict[int, Emitted] = {}  # per graph edge, computed once for every monitor

    def events(e: int, st: State) -> Emitted:
        got = emits.get(e)
        if got is None:
            assert graph is not None
            got = emits[e] = emitted(explorer.ts.model, st, labels[graph.sid[e]])
        return got

    for pi, prop in enumerate(model.properties):
        if prop.kind != PropKind.MONITOR:
            continue
        unknown = dataclasses.replace(out[pi], verdict=Verdict.UNKNOWN, strength=Strength.NONE)
        if reason is not None or graph is None:
            out[pi] = dataclasses.replace(unknown, reason=reason or "")
            continue
        try:
            out[pi] = _monitor(
                prop, explorer, graph, unpack, events, labels, out[pi], max_states, deadline
            )
        except ProductLimit as exc:
            out[pi] = dataclasses.replace(unknown, reason=str(exc))
            continue
        except EvalError as exc:
            out[pi] = dataclasses.replace(unknown, reason=f"cannot be evaluated: {exc}")
            continue
        cov = out[pi].edges
        if cov is None or prop.monitor is None:
            continue
        name = prop.monitor.automaton.name
        explained = dict(prop.monitor.untaken)
        unexplained = [e for e in cov.untaken if e not in explained]
        if unexplained and out[pi].verdict == Verdict.HOLDS:
            warnings.append(
                f"monitor property {prop.id}: {len(unexplained)} of {cov.total} edges of "
                f"{name} are never taken ({', '.join(unexplained)}): the model does not "
                "exercise them"
            )
    return dataclasses.replace(result, properties=tuple(out), warnings=tuple(warnings))


def _monitor(
    prop: Property,
    explorer: Explorer,
    graph: StateGraph,
    unpack: Callable[[int], State],
    events: Callable[[int, State], Emitted],
    labels: list[StepLabel],
    base: PropertyResult,
    max_states: int | None,
    deadline: float | None,
) -> PropertyResult:
    assert prop.monitor is not None
    sem = MonitorSemantics(explorer.ts.model, prop.monitor)
    run = check_monitor(
        sem,
        graph,
        unpack,
        labels,
        max_states=max_states,
        deadline=deadline,
        events=events,
    )
    automaton = prop.monitor.automaton
    untaken = tuple(
        f"{e.src} -{e.event}-> {e.dst}"
        for e in automaton.edges
        if (e.src, e.event) not in run.taken
    )
    silent = tuple(e for e in automaton.events if e not in run.delivered)
    reasons = tuple((e, why) for e, why in prop.monitor.untaken if e in untaken)
    cov = EdgeCoverage(
        len(automaton.edges) - len(untaken), len(automaton.edges), untaken, silent, reasons
    )
    if run.violation is not None:
        trace = dataclasses.replace(run.violation, message=run.message)
        replay(explorer.ts.model, prop, trace)
        return dataclasses.replace(
            base,
            verdict=Verdict.VIOLATED,
            strength=Strength.COUNTEREXAMPLE,
            reason=run.message,
            trace=trace,
            edges=cov,
        )
    return dataclasses.replace(
        base,
        verdict=Verdict.HOLDS,
        strength=Strength.EXHAUSTIVE,
        reason=f"{run.states:,} product states",
        edges=cov,
    )
