"""The fixed-instance engine for one CPU count, strengthened by an invariant proved for every
count: the conjuncts are loaded as invariant properties of that instance and proved
inductive together with its properties, on representative steps (param/local.py) or over
the whole transition relation (engines/symbolic.py, `strengthen_with`), so a proof for 64
CPUs reuses the parameterized one instead of mining candidates from 64 CPUs.
Only this package, engines/_z3expr.py, engines/_houdini.py and engines/symbolic.py import z3.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from preemptcheck.core.errors import Code, Collector, Diagnostic, UsageError
from preemptcheck.core.source import SourceCache, Span
from preemptcheck.engines.param.fragment import cpu_param
from preemptcheck.engines.param.local import prove_locally
from preemptcheck.engines.symbolic import (
    DEFAULT_WORK_LIMIT,
    PropertyOutcome,
    Symbolic,
    SymbolicRun,
)
from preemptcheck.model import load_model
from preemptcheck.model.ir import Model, PropKind
from preemptcheck.model.merge import Entry
from preemptcheck.model.params import show
from preemptcheck.model.yamlnodes import parse_yaml

PREFIX = "all-cpus-invariant-"  # the ids the conjuncts get in the instance


def instance_with(
    model: Model,
    ncpu: int,
    invariant: Sequence[str],
    sources: SourceCache | None = None,
    properties: Sequence[str] | None = None,
) -> Model:
    """`model` with `ncpu` CPUs (its other params and its properties as they are, or only
    those `properties` names: built-ins only if named) and each conjunct of `invariant` as an
    invariant property `all-cpus-invariant-K`."""
    sources = sources or SourceCache()
    param = cpu_param(model, sources)
    if param is None and ncpu != model.cpus and model.cpus_any is None:
        raise UsageError(
            [
                Diagnostic(
                    Code.BAD_OPTION,
                    f"the model's CPU count is a literal ({model.cpus}): it has no instance "
                    f"with {ncpu} CPUs",
                    Span(model.file, 0, 0),
                )
            ]
        )
    ids = [f"{PREFIX}{k}" for k in range(len(invariant))]
    overrides = {param: str(ncpu)} if param is not None else {}
    m = with_invariants(model, dict(zip(ids, invariant, strict=True)), sources, overrides, ncpu)
    keep = {p.id for p in model.properties} if properties is None else set(properties)
    keep |= set(ids)
    return dataclasses.replace(m, properties=tuple(p for p in m.properties if p.id in keep))


def prove_fixed_with(
    model: Model,
    ncpu: int,
    invariant: Sequence[str],
    *,
    bound: int = 30,
    rlimit: int | None = 50_000_000,
    work_limit: int | None = DEFAULT_WORK_LIMIT,
    sources: SourceCache | None = None,
    properties: Sequence[str] | None = None,
    deadline: float | None = None,
) -> tuple[Model, SymbolicRun]:
    """The fixed-instance engine on `model` with `ncpu` CPUs, strengthened by `invariant`
    (the conjuncts a ParamOutcome lists) instead of mined candidates; the instance (whose
    properties end with the conjuncts) and the run (one outcome per property of it).
    `properties`: only these of the model's (None: all, built-ins included; a reachable
    property or the deadlock check adds bounded model checking to the proof).
    When the instance's properties are all invariants, they are first proved inductive
    together on representative steps (param/local.py, about linear in `ncpu`); what that
    leaves open goes to the whole instance's transition relation (engines/symbolic.py)."""
    m = instance_with(model, ncpu, invariant, sources, properties)
    ids = [p.id for p in m.properties if p.id.startswith(PREFIX)]
    local = None
    if all(p.kind == PropKind.INVARIANT for p in m.properties):
        local = prove_locally(m, rlimit=rlimit, work_limit=work_limit, deadline=deadline)
        if len(local.proved) == len(m.properties):
            how = (
                f"k-induction, k=1, strengthened by {len(ids)} invariants; on "
                f"{local.steps} representative steps ({local.symmetry})"
            )
            outs = tuple(PropertyOutcome(pi, "proved", 1, None, how) for pi in local.proved)
            texts = tuple(p.source for p in m.properties if p.id in ids)
            return m, SymbolicRun(outs, bound, local.elapsed, 0, local.work, texts)
        if work_limit is not None:
            work_limit = max(work_limit - local.work, 1)
    run = Symbolic(m, deadline=deadline).run(
        bound=bound, rlimit=rlimit, work_limit=work_limit, strengthen_with=ids, deadline=deadline
    )
    if local is not None:
        run = dataclasses.replace(
            run, elapsed=run.elapsed + local.elapsed, work=run.work + local.work
        )
    return m, run


def with_invariants(
    model: Model,
    invariants: dict[str, str],
    sources: SourceCache,
    overrides: dict[str, str] | None = None,
    ncpu: int | None = None,
) -> Model:
    """`model` loaded again (its params as they are, but for `overrides`; with `ncpu` CPUs
    when it says `cpus: any`, else as many as it has) with each text of `invariants` an
    invariant property under its id; the texts are a source of their own."""
    where = f"<invariants for {model.file}>"
    text = json.dumps({i: {"invariant": inv} for i, inv in invariants.items()})
    sources.add(where, text)
    diags = Collector()
    node = parse_yaml(where, text, diags)
    diags.raise_if_any()
    assert node is not None
    extra = {i: Entry(i, node.key_spans[i], node.value[i]) for i in invariants}
    params = {k: show(v) for k, v in model.param_values} | (overrides or {})
    any_count = (model.cpus if ncpu is None else ncpu) if model.cpus_any is not None else None
    return load_model(
        model.file, overrides=params, sources=sources, extra_properties=extra, ncpu=any_count
    )
