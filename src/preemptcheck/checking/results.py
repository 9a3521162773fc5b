"""Frozen results of a run: verdicts with their strength, per property, per model, per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from preemptcheck.core import interrupt
from preemptcheck.core.errors import Diagnostic
from preemptcheck.core.source import NO_SPAN, Span
from preemptcheck.expr.ast import Value
from preemptcheck.model.ir import Expect, Model, PropKind
from preemptcheck.semantics.trace import Trace


class Verdict(Enum):
    HOLDS = "holds"
    VIOLATED = "violated"
    BOUNDED = "bounded"  # holds up to a depth: never called a proof, never "as expected"
    UNKNOWN = "unknown"


class Strength(Enum):
    EXHAUSTIVE = "exhaustive"  # every reachable state was explored
    INDUCTIVE = "inductive"  # proved by k-induction (symbolic engine)
    BOUNDED = "bounded"  # no violation up to a depth (symbolic engine)
    WITNESS = "witness"  # a reachable property's witness trace
    COUNTEREXAMPLE = "counterexample"  # a violation, with its (shortest) trace
    NONE = "none"  # unknown: nothing was established


class Outcome(Enum):
    AS_EXPECTED = "as-expected"
    UNEXPECTED = "unexpected"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class EdgeCoverage:
    """A monitor's edges (one per state and event) that some run of the model takes."""

    taken: int
    total: int
    untaken: tuple[str, ...]  # `src -event-> dst`, in the automaton's order
    silent: tuple[str, ...] = ()  # automaton events no step of the model delivers
    reasons: tuple[tuple[str, str], ...] = ()  # untaken edges the property explains


@dataclass(frozen=True, slots=True)
class PropertyResult:
    id: str
    kind: PropKind
    verdict: Verdict
    strength: Strength
    expect: Expect
    reason: str = ""
    trace: Trace | None = None
    doc: str = ""
    span: Span = field(default=NO_SPAN, compare=False)
    # symbolic engine, bounded verdicts: the induction step's counterexample (its states
    # satisfy the property but need not be reachable; never a violation)
    cti: Trace | None = None
    edges: EdgeCoverage | None = None  # monitor properties
    # --all-cpus: the verdict is for every number of CPUs (from `all_cpus` on); a proof
    # names the conjuncts that, with the property, are inductive, and how many more it has
    # about places in `steps:` sequences; a counterexample to induction is a step of the
    # instance `cti_model` (the model with that many CPUs)
    all_cpus: int | None = None
    invariant: tuple[str, ...] = ()
    invariant_unwritten: int = 0
    cti_model: Model | None = field(default=None, compare=False, repr=False)

    @property
    def outcome(self) -> Outcome:
        if self.verdict in (Verdict.UNKNOWN, Verdict.BOUNDED):
            return Outcome.INCONCLUSIVE
        if self.verdict.value == self.expect.value:
            return Outcome.AS_EXPECTED
        return Outcome.UNEXPECTED


@dataclass(frozen=True, slots=True)
class Stats:
    states: int | None  # None for the symbolic engine, which does not enumerate states
    transitions: int | None
    depth: int
    complete: bool
    limit: str | None
    state_bits: int
    elapsed: float = field(default=0.0, compare=False)
    symmetry: str | None = None  # the CPU symmetry the search was reduced by
    states_unreduced: int | None = None  # with symmetry: the states of the full space
    backend: str | None = None  # the explicit search's: python | native


@dataclass(frozen=True, slots=True)
class ModelResult:
    file: str
    name: str
    params: tuple[tuple[str, Value], ...]
    engine: str
    stats: Stats
    properties: tuple[PropertyResult, ...]
    coverage: tuple[tuple[str, int], ...]
    warnings: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    disabled: tuple[str, ...]  # actions whose guards the params make false
    model: Model = field(compare=False, repr=False)
    notes: tuple[str, ...] = ()  # information that is not a warning (no symmetry reduction)
    # the auxiliary invariants a strengthened k-induction proof rests on, in model syntax
    invariants: tuple[str, ...] = ()
    invariants_unwritten: int = 0  # ... and how many more relate places in `steps:` sequences
    cached: bool = field(default=False, compare=False)  # reused from the results cache


@dataclass(frozen=True, slots=True)
class ModelFailure:
    """A file that could not be checked: bad input."""

    file: str
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class RunResult:
    models: tuple[ModelResult | ModelFailure, ...]
    strict: bool = False
    # for stderr, one line each: folder entries that could not be searched ("warning: ..."),
    # results-cache entries ignored ("note: ...")
    notes: tuple[str, ...] = ()
    interrupted: str | None = None  # the signal that stopped the run (SIGINT, SIGTERM)
    unchecked: tuple[str, ...] = ()  # model files an interrupted run did not get to

    def counts(self) -> dict[str, int]:
        out = {o.value: 0 for o in Outcome}
        out["errors"] = 0
        out["warnings"] = 0
        for m in self.models:
            if isinstance(m, ModelFailure):
                out["errors"] += 1
                continue
            out["warnings"] += len(m.warnings)
            for p in m.properties:
                out[p.outcome.value] += 1
        return out

    @property
    def exit_code(self) -> int:
        """0 all as expected, 1 a verdict differs, 2 bad input, 3 inconclusive (DESIGN §2);
        130 or 143 when Ctrl-C or SIGTERM stopped the run."""
        if self.interrupted is not None:
            return interrupt.EXIT_STATUS[self.interrupted]
        c = self.counts()
        if c["errors"]:
            return 2
        if c[Outcome.UNEXPECTED.value] or (self.strict and c["warnings"]):
            return 1
        if c[Outcome.INCONCLUSIVE.value]:
            return 3
        return 0
