"""What an explicit search reports, whichever backend ran it: progress, findings, the run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from preemptcheck.semantics.trace import Trace


@dataclass(frozen=True, slots=True)
class Progress:
    states: int
    frontier: int
    transitions: int
    depth: int
    elapsed: float


@dataclass(frozen=True, slots=True)
class Finding:
    """The first (shortest) trace on which a property was decided: violated, or witnessed."""

    prop_index: int
    trace: Trace


@dataclass(frozen=True, slots=True)
class ExplicitRun:
    states: int
    transitions: int
    depth: int  # the largest BFS depth reached
    complete: bool  # every reachable state was expanded
    limit: str | None  # why the search stopped early
    findings: tuple[Finding, ...]
    coverage: tuple[tuple[str, int], ...]  # action -> reachable states that enable it
    elapsed: float
    state_bits: int
    disabled: frozenset[str] = frozenset()  # actions the params switch off entirely
    eval_errors: frozenset[int] = frozenset()  # reachable properties not evaluable somewhere
    symmetry: str | None = None  # the CPU symmetry the search was reduced by
    full_states: int | None = None  # with symmetry: the states of the unreduced space
    backend: str = "python"  # python | native: what ran the search
    notes: tuple[str, ...] = ()  # e.g. why the native backend was not used


ProgressFn = Callable[[Progress], None]
