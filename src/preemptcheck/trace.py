"""Traces (states and the steps between them) and their replay on the reference semantics."""

from __future__ import annotations

from dataclasses import dataclass

from preemptcheck.errors import PreemptcheckError
from preemptcheck.model.ir import Model, Property, PropKind
from preemptcheck.system import State, StepLabel


@dataclass(frozen=True, slots=True)
class Trace:
    """states[0] is the initial state and states[i] the state after steps[i-1].

    When `failed` is set, the last step could not complete (a range error): there is one
    step more than there are successor states.
    """

    states: tuple[State, ...]
    steps: tuple[StepLabel, ...]
    failed: bool = False
    cpu: int = -1  # the CPU a per-CPU property was violated for
    message: str | None = None  # what went wrong (range errors)

    @property
    def length(self) -> int:
        return len(self.steps)


class ReplayError(PreemptcheckError):
    """An engine's trace is not a run of the model: an engine bug, never shown as a trace."""


def replay(model: Model, prop: Property, trace: Trace) -> None:
    """Check on the reference semantics that `trace` is a run that decides `prop`."""
    from preemptcheck.semantics import Reference

    ref = Reference(model)
    st = ref.initial()
    if trace.states[0] != st:
        raise ReplayError(f"{prop.id}: the trace does not start in the initial state")
    n = len(trace.steps)
    pi = model.properties.index(prop)
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
