"""Two runs -> what changed between them: verdicts, strengths, traces, state spaces, models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from preemptcheck.checking.results import (
    ModelFailure,
    ModelResult,
    Outcome,
    PropertyResult,
    RunResult,
    Verdict,
)
from preemptcheck.core.errors import Code, Diagnostic
from preemptcheck.expr.ast import Value
from preemptcheck.model.params import show

Params = tuple[tuple[str, Value], ...]
USAGE = (Code.UNKNOWN_PARAM, Code.BAD_PARAM_VALUE, Code.BAD_OPTION)  # the options' fault


class Kind(Enum):
    """What changed; the order is the order of the summary line's counts."""

    FAILS_TO_LOAD = "fails-to-load"  # bad input now (the file was checked, or is new)
    LOADS_AGAIN = "loads-again"  # bad input at BASE, checked now
    MODEL_ADDED = "model-added"  # a model file or param choice checked only now
    MODEL_REMOVED = "model-removed"
    PARAMS_CHANGED = "params-changed"  # the same run, with params added or removed
    NEWLY_VIOLATED = "newly-violated"
    NEWLY_HOLDS = "newly-holds"
    WEAKER = "weaker"  # decided -> bounded or unknown, or a shallower bound
    STRONGER = "stronger"
    STRENGTH_CHANGED = "strength-changed"  # as strong, another kind of proof (exhaustive/inductive)
    EXPECT_CHANGED = "expect-changed"
    PROPERTY_ADDED = "property-added"
    PROPERTY_REMOVED = "property-removed"
    TRACE_LENGTH = "trace-length"  # the same verdict, decided by a longer or shorter trace
    STATE_SPACE = "state-space"  # states, transitions or completeness of the search


class Effect(Enum):
    REGRESSION = "regression"  # unexpected now, and was not at BASE (or is new): exit 1
    FIX = "fix"  # unexpected at BASE, as expected now
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Change:
    """One row of the comparison: a property of a run, a run, or a whole file."""

    kind: Kind
    effect: Effect
    file: str
    params: Params  # the run's param choice (now, else at BASE); () for a file's load status
    choice: str  # the params that tell this run from the file's other runs: `mode=full`
    model: str  # the model's name ("" when it cannot be loaded)
    property: str = ""  # "" for a change of a whole run or file
    before: PropertyResult | None = None
    after: PropertyResult | None = None
    before_run: ModelResult | None = None  # run-level changes: the runs compared
    after_run: ModelResult | None = None
    diagnostics: tuple[Diagnostic, ...] = ()  # fails-to-load: why; loads-again: why it did not


@dataclass(frozen=True, slots=True)
class Diff:
    changes: tuple[Change, ...]
    runs: tuple[int, int]  # model runs checked at BASE and now
    properties: tuple[int, int]  # property verdicts at BASE and now
    still_failing: tuple[ModelFailure, ...] = ()  # bad input on both sides (the current one)
    base: str = ""  # the revision as the user named it
    commit: str = ""  # its full commit id
    paths: tuple[str, ...] = ()  # what was checked, relative to the repository root

    @property
    def regressions(self) -> int:
        return sum(c.effect == Effect.REGRESSION for c in self.changes)

    @property
    def fixes(self) -> int:
        return sum(c.effect == Effect.FIX for c in self.changes)

    @property
    def exit_code(self) -> int:
        """1 when something regressed, else 0; 2 when the options (--set, --mode) do not
        fit a model on either side, as `verify` would."""
        if any(d.code in USAGE for f in self.still_failing for d in f.diagnostics):
            return 2
        return 1 if self.regressions else 0

    def other_counts(self) -> list[tuple[Kind, int]]:
        """Changes that are neither regressions nor fixes, by kind, in Kind order."""
        counts = {k: 0 for k in Kind}
        for c in self.changes:
            if c.effect == Effect.NONE:
                counts[c.kind] += 1
        return [(k, n) for k, n in counts.items() if n]


def compare(before: RunResult, after: RunResult) -> Diff:
    """What changed from `before` (BASE) to `after` (now). Files are matched by name, runs
    by their params, properties by id; the order is by file, then the current run and
    property order, then what only BASE had."""
    changes: list[Change] = []
    still: list[ModelFailure] = []
    for file in sorted({m.file for m in (*before.models, *after.models)}):
        changes += _compare_file(file, before, after, still)
    return Diff(
        tuple(changes),
        runs=(len(_runs(before)), len(_runs(after))),
        properties=(
            sum(len(m.properties) for m in _runs(before)),
            sum(len(m.properties) for m in _runs(after)),
        ),
        still_failing=tuple(still),
    )


def _runs(run: RunResult, file: str | None = None) -> list[ModelResult]:
    return [
        m for m in run.models if isinstance(m, ModelResult) and (file is None or m.file == file)
    ]


def _failures(run: RunResult, file: str) -> list[ModelFailure]:
    return [m for m in run.models if isinstance(m, ModelFailure) and m.file == file]


@dataclass(frozen=True, slots=True)
class _Rows:
    """Makes the Change rows of one file."""

    file: str
    model: str
    varying: frozenset[str]  # the params that tell the file's runs apart

    def __call__(
        self,
        kind: Kind,
        effect: Effect,
        params: Params = (),
        *,
        prop: str = "",
        before: PropertyResult | None = None,
        after: PropertyResult | None = None,
        before_run: ModelResult | None = None,
        after_run: ModelResult | None = None,
        diagnostics: tuple[Diagnostic, ...] = (),
    ) -> Change:
        choice = ", ".join(f"{k}={show(v)}" for k, v in params if k in self.varying)
        return Change(
            kind,
            effect,
            self.file,
            params,
            choice,
            self.model,
            prop,
            before,
            after,
            before_run,
            after_run,
            diagnostics,
        )


def _compare_file(
    file: str, before: RunResult, after: RunResult, still: list[ModelFailure]
) -> list[Change]:
    b_runs, a_runs = _runs(before, file), _runs(after, file)
    b_fail, a_fail = _failures(before, file), _failures(after, file)
    row = _Rows(
        file,
        next((m.name for m in (*a_runs, *b_runs)), ""),
        frozenset(_varying(b_runs) | _varying(a_runs)),
    )
    out: list[Change] = []
    if a_fail and not b_fail:
        diags = tuple(d for f in a_fail for d in f.diagnostics)
        was = b_runs[0] if b_runs else None  # checked at BASE, or a new file
        out.append(row(Kind.FAILS_TO_LOAD, Effect.REGRESSION, before_run=was, diagnostics=diags))
    elif b_fail and not a_fail:
        diags = tuple(d for f in b_fail for d in f.diagnostics)
        if a_runs:
            out.append(row(Kind.LOADS_AGAIN, Effect.FIX, after_run=a_runs[0], diagnostics=diags))
        else:
            out.append(row(Kind.MODEL_REMOVED, Effect.NONE, diagnostics=diags))
    elif a_fail and b_fail:
        still.extend(a_fail)

    pairs, only_b = _pair(b_runs, a_runs)
    for b, a in pairs:  # in the current run order; b is None for a run that is new
        if b is not None:
            out += _compare_run(row, b, a)
            continue
        if not b_fail:
            out.append(row(Kind.MODEL_ADDED, Effect.NONE, a.params, after_run=a))
        out += [  # a new run: only what is new and unexpected is listed, as a regression
            row(Kind.PROPERTY_ADDED, Effect.REGRESSION, a.params, prop=p.id, after=p)
            for p in a.properties
            if p.outcome == Outcome.UNEXPECTED
        ]
    if not a_fail:
        out += [row(Kind.MODEL_REMOVED, Effect.NONE, b.params, before_run=b) for b in only_b]
    return out


def _varying(runs: Sequence[ModelResult]) -> set[str]:
    """The params whose values differ between the runs of one file on one side."""
    names = {k for m in runs for k, _ in m.params}
    return {k for k in names if len({dict(m.params).get(k) for m in runs}) > 1}


def _pair(
    b_runs: list[ModelResult], a_runs: list[ModelResult]
) -> tuple[list[tuple[ModelResult | None, ModelResult]], list[ModelResult]]:
    """Each current run with its BASE run of the same params (None if there is none), and
    BASE's runs left over. When the model's params were added or removed, runs are paired
    on the params both sides have, where that pairs them one to one."""
    left = list(b_runs)
    match: dict[int, ModelResult] = {}
    for i, a in enumerate(a_runs):
        j = next((j for j, b in enumerate(left) if b.params == a.params), None)
        if j is not None:
            match[i] = left.pop(j)
    unmatched = [i for i in range(len(a_runs)) if i not in match]
    if left and unmatched:
        common = {k for k, _ in left[0].params} & {k for k, _ in a_runs[unmatched[0]].params}

        def key(m: ModelResult) -> Params:
            return tuple((k, v) for k, v in m.params if k in common)

        b_keys = [key(b) for b in left]
        a_keys = [key(a_runs[i]) for i in unmatched]
        if len(set(b_keys)) == len(b_keys) and len(set(a_keys)) == len(a_keys):
            paired = [
                (i, b_keys.index(k)) for i, k in zip(unmatched, a_keys, strict=True) if k in b_keys
            ]
            for i, j in paired:
                match[i] = left[j]
            taken = {j for _, j in paired}
            left = [b for j, b in enumerate(left) if j not in taken]
    return [(match.get(i), a) for i, a in enumerate(a_runs)], left


def _compare_run(row: _Rows, b: ModelResult, a: ModelResult) -> list[Change]:
    """The changes between two runs of one param choice."""
    out: list[Change] = []
    if b.params != a.params:
        out.append(row(Kind.PARAMS_CHANGED, Effect.NONE, a.params, before_run=b, after_run=a))
    bs, as_ = b.stats, a.stats
    if (bs.states, bs.transitions, bs.complete) != (as_.states, as_.transitions, as_.complete):
        out.append(row(Kind.STATE_SPACE, Effect.NONE, a.params, before_run=b, after_run=a))
    old = {p.id: p for p in b.properties}
    new = {p.id: p for p in a.properties}
    for p in a.properties:
        was = old.get(p.id)
        kind = Kind.PROPERTY_ADDED if was is None else _kind(was, p)
        if kind is not None:
            out.append(row(kind, _effect(was, p), a.params, prop=p.id, before=was, after=p))
    out += [
        row(Kind.PROPERTY_REMOVED, Effect.NONE, a.params, prop=p.id, before=p)
        for p in b.properties
        if p.id not in new
    ]
    return out


DECIDED = (Verdict.HOLDS, Verdict.VIOLATED)


def _kind(b: PropertyResult, a: PropertyResult) -> Kind | None:
    """The most telling change of one property, or None when nothing changed."""
    if b.verdict in DECIDED and a.verdict in DECIDED and b.verdict != a.verdict:
        return Kind.NEWLY_VIOLATED if a.verdict == Verdict.VIOLATED else Kind.NEWLY_HOLDS
    if _rank(b) != _rank(a):
        return Kind.WEAKER if _rank(a) < _rank(b) else Kind.STRONGER
    if b.strength != a.strength:
        return Kind.STRENGTH_CHANGED
    if b.expect != a.expect:
        return Kind.EXPECT_CHANGED
    if length(b) != length(a):
        return Kind.TRACE_LENGTH
    return None


def _rank(p: PropertyResult) -> tuple[int, int]:
    """How much a verdict establishes: decided (a proof or a trace), bounded (deeper is
    more), unknown (nothing)."""
    if p.verdict in DECIDED:
        return (2, 0)
    if p.verdict == Verdict.BOUNDED:
        return (1, int(p.reason) if p.reason.isdigit() else 0)
    return (0, 0)


def _effect(b: PropertyResult | None, a: PropertyResult | None) -> Effect:
    """A regression: unexpected now, and not at BASE (as expected, inconclusive or absent):
    the row that makes `verify` newly exit 1. A fix: unexpected at BASE, as expected now."""
    now = a.outcome if a is not None else None
    was = b.outcome if b is not None else None
    if now == Outcome.UNEXPECTED and was != Outcome.UNEXPECTED:
        return Effect.REGRESSION
    if was == Outcome.UNEXPECTED and now == Outcome.AS_EXPECTED:
        return Effect.FIX
    return Effect.NONE


def length(p: PropertyResult | None) -> int | None:
    """The length of the trace that decides a verdict (counterexample or witness)."""
    return p.trace.length if p is not None and p.trace is not None else None
