"""`verify --all-cpus` (or a model with `cpus: any`): a model's invariants proved for every
number of CPUs (engines/param), its other properties left to the fixed-instance engine, as
one model result."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from preemptcheck.checking.options import Options
from preemptcheck.checking.results import ModelResult, PropertyResult, Stats, Strength, Verdict
from preemptcheck.core.progress import Phase
from preemptcheck.core.source import SourceCache
from preemptcheck.model.ir import Model, PropKind
from preemptcheck.model.params import show


def one_count(
    path: str, choices: list[dict[str, str]], sources: SourceCache
) -> list[dict[str, str]]:
    """The param choices without the CPU-count param's (the first value of it stays)."""
    from preemptcheck.engines.param.fragment import Refusal, cpu_param_of

    try:
        param = cpu_param_of(path, sources)
    except Refusal:  # reported when the model is checked
        return choices
    if param is None:
        return choices
    out: list[dict[str, str]] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for c in choices:
        rest = tuple(sorted((k, v) for k, v in c.items() if k != param))
        if rest not in seen:
            seen.add(rest)
            out.append(c)
    return out


def check_all_cpus(
    model: Model,
    options: Options,
    *,
    fixed_engine: Callable[..., ModelResult],
    progress: Callable[[Phase], None] | None = None,
) -> ModelResult:
    """Invariants for every number of CPUs (engines/param); the other properties by
    `fixed_engine` (check.check_symbolic) on this instance."""
    from preemptcheck.engines.param import prove_all_cpus  # z3 is loaded only when asked for

    t0 = time.monotonic()
    run = prove_all_cpus(
        model,
        rlimit=options.rlimit or 0,
        work_limit=options.work_limit or 0,
        deadline=t0 + options.timeout if options.timeout else None,
        phase=(
            (lambda text: progress(Phase(f"all CPUs: {text}", time.monotonic() - t0)))
            if progress is not None
            else None
        ),
    )
    results: list[PropertyResult] = []
    others: list[str] = []
    for out, prop in zip(run.outcomes, model.properties, strict=True):
        if out.status == "not-decided" and prop.kind != PropKind.INVARIANT:
            others.append(prop.id)
            continue
        verdict, strength, why = Verdict.UNKNOWN, Strength.NONE, out.reason
        cti = out.cti
        if out.status == "holds-all":
            verdict, strength = Verdict.HOLDS, Strength.INDUCTIVE
        elif out.status == "not-inductive" and cti is not None and cti.initial:
            verdict, strength = Verdict.VIOLATED, Strength.COUNTEREXAMPLE
        elif out.status == "not-inductive" and cti is not None:
            why += f"; counterexample to induction {cti.text}"
        results.append(
            PropertyResult(
                prop.id,
                prop.kind,
                verdict,
                strength,
                prop.expect,
                why,
                doc=prop.doc,
                span=prop.span,
                cti=cti.trace if cti is not None and not cti.initial else None,
                all_cpus=out.least if out.status in ("holds-all", "not-inductive") else None,
                invariant=out.invariant,
                invariant_unwritten=out.unwritten,
                cti_model=cti.model if cti is not None else None,
            )
        )
    why = "--all-cpus" if model.cpus_any is None else "cpus: any"
    notes = [
        f"{why}: invariants decided for every number of CPUs from {run.outcomes[0].least}"
        if run.outcomes
        else why,
    ]
    fixed: dict[str, PropertyResult] = {}
    if others:
        one = dataclasses.replace(
            model, properties=tuple(p for p in model.properties if p.id in others)
        )
        sub = fixed_engine(one, options, progress=progress)
        fixed = {p.id: p for p in sub.properties}
        shown = [f"{k}={show(v)}" for k, v in model.param_values]
        if model.cpus_any is not None:  # cpus: any, loaded with its smallest instance
            shown.insert(0, f"{model.cpus} CPUs")
        params = ", ".join(shown) or "as written"
        notes.append(
            f"the other properties are decided for this instance ({params}) by the "
            "fixed-instance symbolic engine"
        )
    decided = {r.id: r for r in results} | fixed
    merged = [decided[p.id] for p in model.properties]
    conclusive = all(r.verdict in (Verdict.HOLDS, Verdict.VIOLATED) for r in merged)
    limit = None if conclusive else "an invariant is not proved for every number of CPUs"
    stats = Stats(None, None, 0, conclusive, limit, 0, time.monotonic() - t0)
    return ModelResult(
        model.file,
        model.name,
        tuple((k, v) for k, v in model.param_values),
        "all-cpus",
        stats,
        tuple(merged),
        (),
        (),
        model.skipped,
        (),
        model,
        tuple(notes),
    )
