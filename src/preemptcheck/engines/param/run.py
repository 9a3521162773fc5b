"""`prove_all_cpus`: every property of a model, for every number of CPUs, in one z3 context.

Invariants are proved inductive together with the candidates Houdini keeps (engines/param/
prove.py); each verdict names the part of the invariant its proof rests on, in model
syntax. Reachable properties are witnessed on one instance (the fixed-instance engine);
what the encoding cannot express is refused, property by property, with the location.
Work is counted in z3 resource units: `rlimit` per query, `work_limit` per run.
Only this package, engines/_z3expr.py, engines/_houdini.py and engines/symbolic.py import z3.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import z3

from preemptcheck.core.source import SourceCache
from preemptcheck.engines._houdini import constants
from preemptcheck.engines._z3expr import Ctx, GiveUp, Z
from preemptcheck.engines.param.cti import ParamCTI, decode_cti
from preemptcheck.engines.param.encode import Encoding, PState, Rule
from preemptcheck.engines.param.fixed import with_invariants
from preemptcheck.engines.param.fragment import Refusal, analyze, mining_instances
from preemptcheck.engines.param.mine import Fact, Miner
from preemptcheck.engines.param.prove import Cand, Houdini
from preemptcheck.expr.ast import Expr
from preemptcheck.model.ir import Model, Property, PropKind

DEFAULT_RLIMIT = 50_000_000  # z3 resource units per query, as the fixed-instance engine's
DEFAULT_WORK_LIMIT = 500_000_000  # per run (engines.symbolic.DEFAULT_WORK_LIMIT)
SMALL = 3  # a counterexample to induction is first sought with at most this many CPUs
STATUSES = ("holds-all", "not-inductive", "unsupported", "unknown", "not-decided")


@dataclass(frozen=True, slots=True)
class ParamOutcome:
    """One property's verdict for every number of CPUs: `status` one of STATUSES;
    `invariant` the conjuncts (model syntax) that, with the property, are inductive;
    `unwritten` how many more relate places in `steps:` sequences (no model syntax)."""

    prop_index: int
    status: str
    invariant: tuple[str, ...] = ()
    reason: str = ""
    cti: ParamCTI | None = None
    unwritten: int = 0
    least: int = 1  # the proof covers every count from this one


@dataclass(frozen=True, slots=True)
class ParamRun:
    outcomes: tuple[ParamOutcome, ...]  # one per model property, in order
    work: int  # z3 resource units the run spent
    elapsed: float
    candidates: int = 0  # mined and given candidates Houdini started from
    kept: int = 0  # ... and those it proved


def prove_all_cpus(
    model: Model,
    *,
    rlimit: int | None = None,
    work_limit: int | None = None,
    invariants: Sequence[str] = (),
    sources: SourceCache | None = None,
    phase: Callable[[str], None] | None = None,
    deadline: float | None = None,
) -> ParamRun:
    """Every property of `model` for every number of CPUs. `rlimit` (per query) and
    `work_limit` (per run) in z3 resource units: None for the defaults, 0 for none.
    `invariants` are extra candidate conjuncts in model syntax (as an `invariant:` writes
    them); a bad one raises InputError. `phase` is told where the run is, in words;
    `deadline` (time.monotonic()) stops the search: what is open then is unknown."""
    t0 = time.monotonic()
    say = phase or (lambda text: None)
    sources = sources or SourceCache()
    cx = Ctx()
    cx.rlimit = DEFAULT_RLIMIT if rlimit is None else rlimit or None
    cx.work_limit = DEFAULT_WORK_LIMIT if work_limit is None else work_limit or None
    outs: dict[int, ParamOutcome] = {}
    todo: list[int] = []
    for pi, p in enumerate(model.properties):
        if p.kind == PropKind.INVARIANT:
            todo.append(pi)
        elif p.kind in (PropKind.REACHABLE, PropKind.REACHABLE_ACTION):
            outs[pi] = ParamOutcome(
                pi,
                "not-decided",
                reason="a reachable property is witnessed on one instance "
                "(the fixed-instance engine), not for every number of CPUs",
            )
        elif p.kind in (PropKind.LEADS_TO, PropKind.MONITOR):
            outs[pi] = ParamOutcome(
                pi,
                "unsupported",
                reason=f"{p.kind.value} properties are decided on one "
                "instance's state graph, not for every number of CPUs",
            )
        else:
            outs[pi] = ParamOutcome(
                pi,
                "not-decided",
                reason=f"{p.kind.value} is not decided for every number "
                "of CPUs (the fixed-instance engines decide it for one)",
            )
    given = _given(model, invariants, sources) if invariants else []

    def done(cands: int = 0, kept: int = 0) -> ParamRun:
        return ParamRun(
            tuple(outs[pi] for pi in range(len(model.properties))),
            cx.work(),
            time.monotonic() - t0,
            cands,
            kept,
        )

    try:
        frag = analyze(model, sources)
        enc = Encoding(model, frag, cx)
        rules = enc.rules()
    except (Refusal, GiveUp) as exc:
        why = exc.text if isinstance(exc, Refusal) else f"the encoding gave up: {exc}"
        for pi in todo:
            outs[pi] = ParamOutcome(pi, "unsupported", reason=why)
        return done()
    facts: list[tuple[Fact, int | None]] = []
    for pi in todo:
        p = model.properties[pi]
        try:
            fact = _prop_fact(enc, p, p.expr, p.source)
            fact.build(enc.x, enc.cpu("probe"), None)  # refused here, if at all
        except (Refusal, GiveUp) as exc:
            why = exc.text if isinstance(exc, Refusal) else f"the encoding gave up: {exc}"
            outs[pi] = ParamOutcome(pi, "unsupported", reason=why)
            continue
        facts.append((fact, pi))
    if not facts:
        return done()
    for text, p in given:
        try:
            fact = _prop_fact(enc, p, p.expr, text)
            fact.build(enc.x, enc.cpu("probe"), None)
        except (Refusal, GiveUp):
            continue  # a given candidate outside the fragment is not tried
        facts.append((fact, None))
    say("mining candidate invariants from NCPU = 1..3")
    mined = Miner(enc, mining_instances(model, frag.least, sources)).candidates()
    facts = [(f, None) for f in mined] + facts
    cands = [
        Cand(f, cx.lit(f"cand{k}"), constants(f.build(enc.x, enc.cpu("i!c"), enc.cpu("i!d"))), pi)
        for k, (f, pi) in enumerate(facts)
    ]
    say(f"Houdini over {len(cands)} candidates")
    h = Houdini(enc, cands, rules)
    h.deadline = deadline
    stop = h.run()
    say(f"Houdini kept {len(h.active())} after {h.queries} queries")
    kept = len(h.active())
    for k, c in enumerate(cands):
        if c.pi is None:
            continue
        pi = c.pi
        if stop is not None:
            why = stop
            if why == "work":
                why = f"the work limit of {cx.work_limit:,} z3 resource units was reached"
            outs[pi] = ParamOutcome(pi, "unknown", reason=why, least=frag.least)
        elif c.dropped.startswith("unknown"):
            outs[pi] = ParamOutcome(pi, "unknown", reason=c.dropped[9:], least=frag.least)
        elif c.dropped:
            cti = _cti(h, k, sources)
            why = "not inductive, even with the candidate invariants Houdini kept"
            if cti is None:
                why += " (no counterexample found: z3 gave up)"
            elif cti.initial:
                why = f"false in the initial state with {cti.ncpu} CPUs"
            outs[pi] = ParamOutcome(pi, "not-inductive", reason=why, cti=cti, least=frag.least)
        else:
            say(f"the invariant {model.properties[pi].id} rests on")
            need = h.support(k)
            if need is None:
                need = [k, *(j for j in h.active() if j != k)]
            texts = [cands[j].fact.text for j in need[1:]]
            written = tuple(t for t in texts if t is not None)
            outs[pi] = ParamOutcome(
                pi,
                "holds-all",
                written,
                f"inductive for every number of CPUs from {frag.least}",
                None,
                len(texts) - len(written),
                frag.least,
            )
    if stop is None:
        for pi, p in enumerate(model.properties):
            if p.kind == PropKind.NEVER:
                say(f"never {p.id}")
                outs[pi] = _never(h, pi, p, frag.least, sources)
    return done(len(cands) - len(todo), kept)


def _never(h: Houdini, pi: int, p: Property, least: int, sources: SourceCache) -> ParamOutcome:
    """A `never` property: no step of its actions can fire (its `when` true, or failing)
    from a state of the kept invariant, for any CPU of any count."""
    enc = h.enc
    need: list[int] = []
    for rule in h.rules:
        for name, when in p.actions:
            if name != rule.action.name:
                continue
            try:
                w = enc.compiler(rule.env).ex(when) if when is not None else None
            except (Refusal, GiveUp) as exc:
                why = exc.text if isinstance(exc, Refusal) else f"the encoding gave up: {exc}"
                return ParamOutcome(pi, "unsupported", reason=why)
            fires = rule.enabled if w is None else z3.And(rule.enabled, z3.Or(w.err, w.v))
            res, m, lit = h.possible(fires, rule.params)
            if res == z3.sat:
                assert m is not None
                cti = decode_cti(enc, m, rule, list(rule.changes), sources)
                return ParamOutcome(
                    pi,
                    "not-inductive",
                    reason=f"a step of {name} can fire from a state of the invariant kept",
                    cti=cti,
                    least=least,
                )
            if res != z3.unsat:
                why = "the work limit was reached" if enc.cx.exhausted else "z3 gave up"
                return ParamOutcome(pi, "unknown", reason=why, least=least)
            more = h.shrink(lit)
            if more is None:
                more = h.active()
            need += [j for j in more if j not in need]
    texts = [h.cands[j].fact.text for j in need]
    written = tuple(t for t in texts if t is not None)
    return ParamOutcome(
        pi,
        "holds-all",
        written,
        f"no step of it can fire, for every number of CPUs from {least}",
        None,
        len(texts) - len(written),
        least,
    )


def _prop_fact(enc: Encoding, p: Property, expr: Expr | None, text: str) -> Fact:
    assert expr is not None

    def build(s: PState, c: Z | None, d: Z | None) -> Z:
        env = {"self": c} if p.per_cpu else {}
        t = enc.compiler(env, s).ex(expr)
        return z3.And(z3.Not(t.err), t.v)

    return Fact("u" if p.per_cpu else "g", build, text, f"prop:{p.id}")


def _cti(h: Houdini, k: int, sources: SourceCache) -> ParamCTI | None:
    """A step from a state of the kept invariant and the property into one that breaks it,
    with the fewest CPUs first; None when z3 finds none."""
    enc = h.enc
    c = h.cands[k]
    steps: list[tuple[Z, list[tuple[Z, Z]], Rule | None, object]]
    if c.dropped == "init":
        steps = [(enc.cx.true, enc.init_values(), None, "init")]
    else:
        steps = [
            (r.when, list(r.changes), r, n) for n, r in enumerate(h.rules) if k in h.touched[n]
        ]
    small = max(enc.frag.least, SMALL)
    for bound in (enc.n <= small, enc.cx.true):
        for when, changes, rule, key in steps:
            res, m, _ = h.query(
                z3.And(when, bound),
                [k],
                changes,
                assume=rule is not None,
                extra=(k,),
                key=key,
                terms=rule.params if rule is not None else (),
            )
            if res == z3.sat:
                return decode_cti(enc, m, rule, changes, sources)
            if enc.cx.exhausted:
                return None
    return None


def _given(
    model: Model, invariants: Sequence[str], sources: SourceCache
) -> list[tuple[str, Property]]:
    """The caller's candidate conjuncts, parsed as invariant properties of the model."""
    ids = [f"all-cpus-candidate-{n}" for n in range(len(invariants))]
    loaded = with_invariants(model, dict(zip(ids, invariants, strict=True)), sources)
    by_id = {p.id: p for p in loaded.properties}
    return [(inv, by_id[i]) for inv, i in zip(invariants, ids, strict=True)]
