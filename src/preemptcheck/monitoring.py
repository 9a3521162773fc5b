"""monitor properties -> verdicts with edge coverage: decided on the explicit state graph,
whichever engine decided the other properties; every violation is replayed first."""

from __future__ import annotations

import dataclasses
import time

from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import GraphLimit, StateGraph, build_graph
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.model.ir import Property, PropKind
from preemptcheck.monitors.product import MonitorRun, ProductLimit, check_monitor
from preemptcheck.monitors.semantics import Emitted, MonitorSemantics, emitted
from preemptcheck.results import EdgeCoverage, ModelResult, PropertyResult, Strength, Verdict
from preemptcheck.system import State
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

    mine = [pi for pi, p in enumerate(model.properties) if p.kind == PropKind.MONITOR]
    runs: dict[int, MonitorRun | str] = {}  # a run, or why there is none
    if reason is not None or graph is None:
        runs = {pi: reason or "" for pi in mine}
    else:
        sems = {}
        for pi in mine:
            monitor = model.properties[pi].monitor
            assert monitor is not None
            sems[pi] = MonitorSemantics(model, monitor)

        def search(sem: MonitorSemantics) -> MonitorRun:
            assert graph is not None
            return check_monitor(
                sem,
                graph,
                unpack,
                labels,
                max_states=max_states,
                deadline=deadline,
                events=events,
            )

        # one search per monitor: together, their instances' independent start times
        # multiply the product (rt.yaml: past 2,000,000 states)
        for pi, sem in sems.items():
            try:
                runs[pi] = search(sem)
            except ProductLimit as exc:
                runs[pi] = str(exc)
            except EvalError as exc:
                runs[pi] = f"cannot be evaluated: {exc}"
    for pi in mine:
        prop = model.properties[pi]
        got = runs[pi]
        if isinstance(got, str):
            out[pi] = dataclasses.replace(
                out[pi], verdict=Verdict.UNKNOWN, strength=Strength.NONE, reason=got
            )
            continue
        out[pi] = _judge(prop, got, explorer, out[pi])
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


def _judge(
    prop: Property, run: MonitorRun, explorer: Explorer, base: PropertyResult
) -> PropertyResult:
    """A monitor's run as a verdict with its coverage; a violation is replayed first."""
    assert prop.monitor is not None
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
