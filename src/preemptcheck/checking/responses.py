"""leads_to properties -> verdicts: decided on the explicit state graph, whichever engine
decided the other properties; every violation's trace is replayed before it is reported."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from preemptcheck.checking.results import ModelResult, PropertyResult, Strength, Verdict
from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import GraphLimit, StateGraph, build_graph
from preemptcheck.engines.liveness import NEVER, UNBOUNDED, ResponseChecker, ResponseRun, Weights
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.model.ir import Model, Property, PropKind
from preemptcheck.semantics.trace import replay


def state_graph(
    result: ModelResult,
    explorer: Explorer,
    reason: str | None,
    *,
    max_states: int | None,
    timeout: float | None,
    phase: Callable[[str], None] | None = None,
    native: bool | None = None,
) -> tuple[StateGraph | None, str | None]:
    """The whole state graph for the properties decided on it (leads_to, monitors), built
    once whichever engine decided the others; or why there is none (`reason`: e.g. the
    search stopped; a failing step would look like the run stopping)."""
    if reason is None and any(
        p.kind == PropKind.RANGE and p.verdict == Verdict.VIOLATED for p in result.properties
    ):
        reason = "not checked: some steps of the model fail (see the range property)"
    if reason is not None:
        return None, reason
    try:
        if native is None:  # the graph is built as the search was
            native = result.stats.backend == "native"
        graph = build_graph(
            explorer, max_states=max_states, timeout=timeout, native=native, phase=phase
        )
    except GraphLimit as exc:
        return None, str(exc)
    if graph.failing is not None:
        return None, f"not checked: some steps fail ({graph.failing}), see property range"
    return graph, None


def judge_responses(
    result: ModelResult, explorer: Explorer, graph: StateGraph | None, reason: str | None
) -> ModelResult:
    """Decide the leads_to properties on the state graph (None: `reason` says why they
    cannot be); every trace is replayed."""
    model = result.model
    checker = ResponseChecker(explorer, graph) if graph is not None else None
    out = list(result.properties)
    warnings = list(result.warnings)
    for pi, prop in enumerate(model.properties):
        if prop.kind != PropKind.LEADS_TO:
            continue
        unknown = dataclasses.replace(out[pi], verdict=Verdict.UNKNOWN, strength=Strength.NONE)
        if checker is None:
            out[pi] = dataclasses.replace(unknown, reason=reason or "")
            continue
        try:
            out[pi] = _response(model, prop, checker, out[pi])
        except EvalError as exc:
            out[pi] = dataclasses.replace(unknown, reason=f"cannot be evaluated: {exc}")
            continue
        if out[pi].reason.startswith("vacuous"):
            warnings.append(f"property {prop.id} holds vacuously: {out[pi].reason[9:]}")
    return dataclasses.replace(result, properties=tuple(out), warnings=tuple(warnings))


def _response(
    model: Model, prop: Property, checker: ResponseChecker, base: PropertyResult
) -> PropertyResult:
    r = prop.response
    assert r is not None
    limit = r.within if r.within is not None else r.count_max
    unit = "steps" if r.within is not None else "steps of " + ", ".join(r.count)
    worst: ResponseRun | None = None
    triggered = 0
    for cpu in range(model.cpus) if prop.per_cpu else [-1]:
        got = checker.run(r, cpu, Weights.of(r), bound=limit)
        triggered += got.triggered
        if worst is None or got.worst > worst.worst:
            worst = got
    assert worst is not None
    if triggered == 0:
        return dataclasses.replace(
            base,
            verdict=Verdict.HOLDS,
            strength=Strength.EXHAUSTIVE,
            reason=f"vacuous: no reachable state satisfies {r.trigger_source}",
        )
    if worst.worst == NEVER:
        why = "a fair run never reaches " + r.goal_source
        if worst.trace is not None and worst.trace.loop == len(worst.trace.states) - 1:
            why = f"the run stops before {r.goal_source}"
    elif limit is None:
        return dataclasses.replace(base, verdict=Verdict.HOLDS, strength=Strength.EXHAUSTIVE)
    elif worst.worst == UNBOUNDED:
        why = f"a cycle without {r.goal_source} repeats counted steps: {unit} unbounded"
    elif worst.worst > limit:
        why = f"worst case {worst.worst} {unit}, more than {limit}"
    else:
        return dataclasses.replace(
            base,
            verdict=Verdict.HOLDS,
            strength=Strength.EXHAUSTIVE,
            reason=f"worst case {worst.worst} {unit}",
        )
    assert worst.trace is not None
    replay(model, prop, worst.trace)
    return dataclasses.replace(
        base,
        verdict=Verdict.VIOLATED,
        strength=Strength.COUNTEREXAMPLE,
        reason=why,
        trace=worst.trace,
    )
