"""Traces (states and the steps between them) and their replay on the reference semantics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from preemptcheck.core.errors import PreemptcheckError
from preemptcheck.expr.ast import Value
from preemptcheck.model.ir import Model, Property, PropKind, Response
from preemptcheck.semantics.system import State, StepLabel

if TYPE_CHECKING:
    from preemptcheck.semantics.reference import Reference


@dataclass(frozen=True, slots=True)
class Trace:
    """states[0] is the initial state and states[i] the state after steps[i-1].

    When `failed` is set, the last step could not complete (a range error): there is one
    step more than there are successor states.

    A `leads_to` trace has an `origin`, the state where the request holds, and may be a
    lasso: with `loop` set, the last state is states[loop] again and the steps from there
    repeat forever (when loop is the last state, no step is possible there: the run stops).
    """

    states: tuple[State, ...]
    steps: tuple[StepLabel, ...]
    failed: bool = False
    cpu: int = -1  # the CPU a per-CPU property was violated for
    message: str | None = None  # what went wrong (range errors)
    origin: int = -1  # leads_to: the index of the state where the request holds
    loop: int | None = None  # leads_to: the index of the state where the cycle starts
    # monitor: each instance's automaton state in every state of the trace (`-` while an
    # instance is not monitoring yet), e.g. ("cpu0: preemptive",) per state
    monitor: tuple[tuple[str, ...], ...] = ()

    @property
    def length(self) -> int:
        return len(self.steps)


class ReplayError(PreemptcheckError):
    """An engine's trace is not a run of the model: an engine bug, never shown as a trace."""


def replay(model: Model, prop: Property, trace: Trace) -> None:
    """Check on the reference semantics that `trace` is a run that decides `prop`."""
    from preemptcheck.semantics.reference import Reference

    ref = Reference(model)
    st = ref.initial()
    if trace.states[0] != st:
        raise ReplayError(f"{prop.id}: the trace does not start in the initial state")
    n = len(trace.steps)
    pi = model.properties.index(prop)
    if prop.kind in (PropKind.LEADS_TO, PropKind.MONITOR):
        for k, label in enumerate(trace.steps):
            step = [o for o in ref.outcomes(st) if o.label == label and o.next is not None]
            if len(step) != 1 or step[0].next != trace.states[k + 1]:
                raise ReplayError(f"{prop.id}: step {k + 1} ({label}) is not a step of the run")
            st = step[0].next
        if prop.kind == PropKind.MONITOR:
            _replay_monitor(model, prop, trace)
        else:
            _replay_response(ref, prop, trace)
        return
    last = None
    for k, label in enumerate(trace.steps):
        outcomes = [o for o in ref.outcomes(st) if o.label == label]
        if len(outcomes) != 1:
            raise ReplayError(f"{prop.id}: step {k + 1} ({label}) is not a step of the model here")
        last = outcomes[0]
        if k == n - 1 and trace.failed:
            # the last step could not complete: a range error, or the step a never /
            # reachable-over-action property selects, failing after it matched
            fails = last.error is not None
            matched = prop.kind in (PropKind.NEVER, PropKind.REACHABLE_ACTION) and (
                pi in last.hits or pi in dict(last.prop_errors)
            )
            if not fails or not (prop.kind == PropKind.RANGE or matched):
                raise ReplayError(f"{prop.id}: step {k + 1} ({label}) does not fail on replay")
            return
        if not last.enabled or last.next is None:
            raise ReplayError(f"{prop.id}: step {k + 1} ({label}) is not enabled on replay")
        if last.next != trace.states[k + 1]:
            raise ReplayError(f"{prop.id}: step {k + 1} ({label}) leads elsewhere on replay")
        st = last.next
    checks = ref.state_checks(st)
    if prop.kind in (PropKind.INVARIANT, PropKind.REACHABLE):
        want = prop.kind == PropKind.REACHABLE
        hits = [v for p, c, v in checks if p == pi and c == trace.cpu]
        ok = bool(hits) and (hits[0] is want or (not want and isinstance(hits[0], str)))
        if not ok:
            raise ReplayError(
                f"{prop.id}: the final state does not "
                f"{'satisfy' if want else 'violate'} it on replay"
            )
    elif prop.kind in (PropKind.NEVER, PropKind.REACHABLE_ACTION):
        if last is None or not (
            pi in last.hits or (prop.kind == PropKind.NEVER and pi in dict(last.prop_errors))
        ):
            raise ReplayError(f"{prop.id}: the last step does not match it on replay")
    elif prop.kind == PropKind.DEADLOCK:
        if any(o.enabled for o in ref.outcomes(st)):
            raise ReplayError(f"{prop.id}: the final state has an enabled step on replay")
    elif prop.kind == PropKind.RANGE:
        step_error = last is not None and bool(last.prop_errors)
        if not step_error and not any(isinstance(v, str) for _, _, v in checks):
            raise ReplayError(f"{prop.id}: no evaluation error on replay")


def _replay_monitor(model: Model, prop: Property, trace: Trace) -> None:
    """The monitor follows every step but the last, which it does not allow, with the
    message and the instance states the trace shows."""
    from preemptcheck.monitors.semantics import MonitorSemantics

    assert prop.monitor is not None
    sem = MonitorSemantics(model, prop.monitor)
    cur = sem.initial()
    shown = [sem.show(cur)]
    n = len(trace.steps)
    for k, label in enumerate(trace.steps):
        for d in sem.deliveries(trace.states[k], label):
            r = sem.react(cur, d)
            if r.violation is not None:
                if k != n - 1 or r.violation != trace.message:
                    raise ReplayError(f"{prop.id}: step {k + 1} ({label}) violates it on replay")
                # the violating step moves no instance: the last state shows them as before
                if (*shown, shown[-1]) != trace.monitor:
                    raise ReplayError(f"{prop.id}: the monitor states differ on replay")
                return
            cur = r.states
        shown.append(sem.show(cur))
    raise ReplayError(f"{prop.id}: the monitor allows every step on replay")


def _replay_response(ref: Reference, prop: Property, trace: Trace) -> None:
    """The run answers the request late (more counted steps than `within` allows) or never
    (a lasso that is fair, or that repeats a counted step forever)."""
    r = prop.response
    assert r is not None
    counted = None if r.within is not None else r.count
    end, count = measure_response(ref, r, trace, counted, prop.id)
    limit = r.within if r.within is not None else r.count_max
    if end in ("stops", "fair loop"):  # a lasso claims "never": it must be fair
        return
    if end == "counted loop":
        raise ReplayError(f"{prop.id}: the lasso is not fair on replay")
    if limit is None or count <= limit:
        raise ReplayError(
            f"{prop.id}: the response comes within the bound ({count} counted steps) on replay"
        )


def replay_latency(
    model: Model, r: Response, trace: Trace, counted: tuple[str, ...] | None, worst: str
) -> None:
    """Check a latency witness: `worst` is "never" (a fair run that stops or loops without
    the response), "unbounded" (a loop that repeats counted steps without it), or a count:
    the run reaches the response with exactly that many counted steps since the request."""
    from preemptcheck.semantics.reference import Reference

    ref = Reference(model)
    _replay_steps(ref, trace, "latency")
    end, count = measure_response(ref, r, trace, counted, "latency")
    ok = {
        "never": end in ("stops", "fair loop"),
        "unbounded": end == "counted loop",
    }.get(worst, end == "answered" and str(count) == worst)
    if not ok:
        raise ReplayError(f"latency: the witness shows {end} ({count}), not {worst}, on replay")


def _replay_steps(ref: Reference, trace: Trace, what: str) -> None:
    st = ref.initial()
    if trace.states[0] != st:
        raise ReplayError(f"{what}: the trace does not start in the initial state")
    for k, label in enumerate(trace.steps):
        step = [o for o in ref.outcomes(st) if o.label == label and o.next is not None]
        if len(step) != 1 or step[0].next != trace.states[k + 1]:
            raise ReplayError(f"{what}: step {k + 1} ({label}) is not a step of the run")
        st = step[0].next


def measure_response(
    ref: Reference, r: Response, trace: Trace, counted: tuple[str, ...] | None, what: str
) -> tuple[str, int]:
    """How a run treats the request at its origin, on the reference semantics: "answered"
    (the response comes, at the trace's end), "open" (a finite run without it), "stops" (no
    step is possible), "fair loop" (a lasso fair to `fair` and `strong`), "counted loop" (a
    lasso that repeats counted steps). With the counted steps since the request: every step
    when `counted` is None, else the steps of those actions (on the trace's CPU)."""
    states, steps, cpu = trace.states, trace.steps, trace.cpu
    env: dict[str, Value] = {"self": cpu} if cpu >= 0 else {}
    o = trace.origin

    def fail(why: str) -> ReplayError:
        return ReplayError(f"{what}: {why} on replay")

    def mine(label: StepLabel, names: tuple[str, ...]) -> bool:
        return label.action in names and (cpu < 0 or label.cpu == cpu)

    def weight(label: StepLabel) -> int:
        return 1 if counted is None else int(mine(label, counted))

    if not 0 <= o < len(states) or not ref.eval(r.trigger, states[o], env):
        raise fail("the request does not hold at the trace's origin")
    count, answered_at = 0, -1
    for k in range(o, len(states)):
        if r.goal is not None and ref.eval(r.goal, states[k], env):
            answered_at = k
            break
        if k < len(steps):
            count += weight(steps[k])
            if mine(steps[k], r.goal_actions):
                answered_at = k + 1
                break
    if trace.loop is None:
        if answered_at < 0:
            return "open", count
        if answered_at != len(states) - 1:
            raise fail("the trace goes on after the response")
        return "answered", count
    loop = trace.loop
    if answered_at >= 0 or not o <= loop < len(states) or states[-1] != states[loop]:
        raise fail("the trace is not a lasso that avoids the response")
    if loop == len(states) - 1:
        if any(x.enabled for x in ref.outcomes(states[-1])):
            raise fail("the run does not stop where the trace ends")
        return "stops", 0
    cycle = steps[loop:]
    enabled = [
        {(x.label.action, x.label.cpu) for x in ref.outcomes(st) if x.next is not None}
        for st in states[loop:-1]
    ]
    for strong, names in ((False, r.fair), (True, r.strong)):
        for name in names:
            for c in ref.model.action(name).cpus:
                taken = any(label.action == name and label.cpu == c for label in cycle)
                if strong:  # taken, or never enabled in the cycle
                    ok = taken or all((name, c) not in en for en in enabled)
                else:  # taken, or disabled somewhere in the cycle
                    ok = taken or any((name, c) not in en for en in enabled)
                if not ok:
                    if any(weight(label) for label in cycle):
                        return "counted loop", sum(weight(label) for label in cycle)
                    kind = "strongly" if strong else "weakly"
                    raise fail(f"the cycle is not {kind} fair to {name}@cpu{c}")
    return "fair loop", 0
