"""Random simulation -> verdicts: loads each param choice of a model, runs the walks,
replays every trace on the reference semantics, and judges what sampling can tell.

Sampling proves only what it finds: a violation (a counterexample) or, for a `reachable`
property, a witness. A property expected to hold that no walk breaks is "not violated in
N runs", never "holds"; a property expected to be violated that no walk breaks is "not
found" (simulation is not exhaustive), not a failure. leads_to properties need whole runs
and fairness: simulation does not check them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from preemptcheck.checking.check import select_properties
from preemptcheck.core import interrupt
from preemptcheck.core.errors import Diagnostic, InputError
from preemptcheck.core.source import SourceCache
from preemptcheck.engines.simulate import (
    STEP_KINDS,
    WITNESS_KINDS,
    Order,
    SimProgress,
    SimulationRun,
    Simulator,
    omitted,
)
from preemptcheck.expr.ast import Value
from preemptcheck.model import instantiations, load_model
from preemptcheck.model.ir import Expect, Model, PropKind
from preemptcheck.semantics.trace import Trace, replay

if TYPE_CHECKING:
    from preemptcheck.engines.cluster.swarm import Swarm


class Status(Enum):
    VIOLATED = "violated"  # a walk broke it (with its trace)
    WITNESSED = "witnessed"  # a walk reached a `reachable` property (with its trace)
    NOT_VIOLATED = "not violated"  # no walk broke it: not a proof
    NOT_WITNESSED = "not witnessed"  # no walk reached it: not a proof of the contrary
    NOT_CHECKED = "not checked"  # leads_to: simulation does not check it
    UNKNOWN = "unknown"  # a monitor that cannot be evaluated


class Mark(Enum):
    """How a property's result compares with its `expect`."""

    AS_EXPECTED = "ok"  # violated as expected, witnessed as expected, or not violated
    UNEXPECTED = "FAIL"  # violated though expected to hold, or witnessed though expected not
    OPEN = "--"  # sampling cannot decide it (not found, not witnessed, not checked)
    UNKNOWN = "??"


@dataclass(frozen=True, slots=True)
class SimOptions:
    overrides: dict[str, str] = dataclasses.field(default_factory=dict)
    properties: tuple[str, ...] = ()
    seed: int = 0
    runs: int = 1000
    depth: int = 100
    only_run: int | None = None  # repeat just this run (1-based) of the seed
    timeout: float | None = None
    cluster: str | None = None  # --cluster SPEC: the walks shared out over a Ray cluster
    order: Order = Order.UNIFORM  # how a walk chooses its steps

    def run_numbers(self) -> range:
        if self.only_run is not None:
            return range(self.only_run, self.only_run + 1)
        return range(1, self.runs + 1)


@dataclass(frozen=True, slots=True)
class SimProperty:
    id: str
    kind: PropKind
    expect: Expect
    status: Status
    reason: str = ""
    run: int | None = None  # the run whose trace is shown
    trace: Trace | None = None
    omitted: tuple[str, ...] = ()  # the actions that run left out (the swarm order)

    @property
    def mark(self) -> Mark:
        witness = self.kind in WITNESS_KINDS
        if self.status == Status.UNKNOWN:
            return Mark.UNKNOWN
        if self.status in (Status.VIOLATED, Status.WITNESSED):
            # a witness shows the property holds; a counterexample, that it is violated
            shows = Expect.HOLDS if witness else Expect.VIOLATED
            return Mark.AS_EXPECTED if self.expect == shows else Mark.UNEXPECTED
        if self.status == Status.NOT_VIOLATED and self.expect == Expect.HOLDS:
            return Mark.AS_EXPECTED
        return Mark.OPEN


@dataclass(frozen=True, slots=True)
class SimResult:
    """One param choice of one model, simulated."""

    file: str
    model: Model = dataclasses.field(repr=False, compare=False)
    chosen: tuple[tuple[str, str], ...]  # the --set values that select this param choice
    options: SimOptions
    run: SimulationRun
    properties: tuple[SimProperty, ...]

    @property
    def params(self) -> tuple[tuple[str, Value], ...]:
        return self.model.param_values


@dataclass(frozen=True, slots=True)
class SimFailure:
    file: str
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class SimReport:
    results: tuple[SimResult | SimFailure, ...]
    options: SimOptions
    interrupted: str | None = None

    @property
    def exit_code(self) -> int:
        """0 nothing unexpected, 1 a verdict against its expectation, 2 bad input, 3 a
        limit (timeout) or a property unknown; 130/143 a signal stopped the runs."""
        if self.interrupted is not None:
            return interrupt.EXIT_STATUS[self.interrupted]
        if any(isinstance(r, SimFailure) for r in self.results):
            return 2
        done = [r for r in self.results if isinstance(r, SimResult)]
        marks = {p.mark for r in done for p in r.properties}
        if Mark.UNEXPECTED in marks:
            return 1
        if Mark.UNKNOWN in marks or any(r.run.limit is not None for r in done):
            return 3
        return 0


def simulate_path(
    path: str,
    options: SimOptions,
    *,
    sources: SourceCache | None = None,
    progress: Callable[[str, SimProgress], None] | None = None,
) -> SimReport:
    """Every param choice of the model at `path` (as verify makes them), simulated."""
    sources = sources or SourceCache()
    results: list[SimResult | SimFailure] = []
    try:
        choices = instantiations(path, options.overrides, sources)
    except InputError as exc:
        return SimReport((SimFailure(path, exc.diagnostics),), options)
    with _workers(options) as swarm:  # a UsageError (exit 2) if --cluster cannot be used
        for chosen in choices:
            if interrupt.requested():
                break
            try:
                model = select_properties(
                    load_model(path, overrides=chosen, sources=sources), options.properties
                )
            except InputError as exc:
                results.append(SimFailure(path, exc.diagnostics))
                continue
            cb = (lambda p: progress(path, p)) if progress is not None else None
            results.append(simulate_model(path, model, options, chosen, progress=cb, swarm=swarm))
    return SimReport(tuple(results), options, interrupt.requested())


@contextlib.contextmanager
def _workers(options: SimOptions) -> Iterator[Swarm | None]:
    """The cluster's workers for --cluster (Ray, imported only then), else None."""
    if options.cluster is None:
        yield None
        return
    from preemptcheck.engines.cluster import parse_cluster, require_ray
    from preemptcheck.engines.cluster.swarm import swarm

    spec = parse_cluster(options.cluster)
    require_ray()
    with swarm(spec) as s:
        yield s


def simulate_model(
    path: str,
    model: Model,
    options: SimOptions,
    chosen: dict[str, str] | None = None,
    *,
    progress: Callable[[SimProgress], None] | None = None,
    swarm: Swarm | None = None,
) -> SimResult:
    """The walks on one model, in this process or on `swarm`'s workers; every trace is
    replayed first (ReplayError if not)."""
    walks = Simulator(model).run if swarm is None else functools.partial(swarm.run, model)
    run = walks(
        options.seed,
        runs=options.run_numbers(),
        depth=options.depth,
        timeout=options.timeout,
        progress=progress,
        order=options.order,
    )
    props = judge(model, run)
    if options.order == Order.SWARM:
        props = (
            dataclasses.replace(p, omitted=omitted(model, options.seed, p.run))
            if p.run is not None
            else p
            for p in props
        )
    return SimResult(path, model, tuple((chosen or {}).items()), options, run, tuple(props))


def judge(model: Model, run: SimulationRun) -> Iterable[SimProperty]:
    found = {f.prop_index: f for f in run.findings}
    unknown = dict(run.unknown)
    for pi, prop in enumerate(model.properties):
        f = found.get(pi)
        base = SimProperty(prop.id, prop.kind, prop.expect, Status.NOT_CHECKED)
        if prop.kind not in STEP_KINDS:
            yield dataclasses.replace(base, reason=f"{prop.kind.value}: needs whole runs")
        elif f is not None:
            trace = f.trace
            replay(model, prop, trace)
            witness = prop.kind in WITNESS_KINDS
            status = Status.WITNESSED if witness else Status.VIOLATED
            yield dataclasses.replace(
                base, status=status, reason=trace.message or "", run=f.run, trace=trace
            )
        elif pi in unknown:
            yield dataclasses.replace(
                base, status=Status.UNKNOWN, reason=f"cannot be evaluated: {unknown[pi]}"
            )
        elif prop.kind in WITNESS_KINDS:
            yield dataclasses.replace(base, status=Status.NOT_WITNESSED)
        else:
            yield dataclasses.replace(base, status=Status.NOT_VIOLATED)
