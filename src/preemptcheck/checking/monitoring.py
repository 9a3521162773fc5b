"""monitor properties -> verdicts with edge coverage: decided on the explicit state graph,
whichever engine decided the other properties; every violation is replayed first."""

from __future__ import annotations

import dataclasses
import time

from preemptcheck.checking.results import (
    EdgeCoverage,
    ModelResult,
    PropertyResult,
    Strength,
    Verdict,
)
from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import StateGraph
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.model.ir import Property
from preemptcheck.monitors.product import MonitorRun, ProductLimit, check_monitor
from preemptcheck.monitors.semantics import Emitted, MonitorSemantics, emitted
from preemptcheck.semantics.system import State
from preemptcheck.semantics.trace import replay


def judge_monitors(
    result: ModelResult,
    explorer: Explorer,
    graph: StateGraph | None,
    reason: str | None,
    *,
    max_states: int | None,
    timeout: float | None,
) -> ModelResult:
    """Decide the monitor properties on the state graph (None: `reason` says why they cannot
    be), one product search per monitor (together, their instances' independent start
    times multiply the product); untaken edges of a monitor that holds are warnings."""
    model = result.model
    deadline = time.monotonic() + timeout if timeout else None
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
    index = {v.name: i for i, v in enumerate(model.vars)}

    def events(e: int, st: State) -> Emitted:
        got = emits.get(e)
        if got is None:
            assert graph is not None
            got = emits[e] = emitted(model, index, st, labels[graph.sid[e]])
        return got

    for pi, prop in enumerate(model.properties):
        if prop.monitor is None:
            continue
        run: MonitorRun | str = reason or ""  # a run, or why there is none
        if graph is not None:
            try:
                run = check_monitor(
                    MonitorSemantics(model, prop.monitor),
                    graph,
                    unpack,
                    labels,
                    max_states=max_states,
                    deadline=deadline,
                    events=events,
                )
            except ProductLimit as exc:
                run = str(exc)
            except EvalError as exc:
                run = f"cannot be evaluated: {exc}"
        if isinstance(run, str):
            out[pi] = dataclasses.replace(
                out[pi], verdict=Verdict.UNKNOWN, strength=Strength.NONE, reason=run
            )
            continue
        out[pi] = _judge(prop, run, explorer, out[pi])
        cov = out[pi].edges
        assert cov is not None
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
