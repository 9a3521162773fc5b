"""Proofs for every number of CPUs: Houdini over quantified candidates, then per property the
part of the invariant its proof rests on, or its counterexample to induction.

The candidates (engines/param/mine.py's, the caller's, and the invariant properties) are
assumed in the pre-state under one literal each: the global ones as they are, those for
every CPU (pair) inside one bounded quantifier per form. A rule breaks a candidate when some
CPU (pair) of the post-state falsifies it: that CPU is a fresh constant, so the query itself
has no quantifier but the assumed ones, which model-based quantifier instantiation handles
over arrays and bounded integers. What survives holds initially and is preserved by every
rule: an inductive invariant for every N. A query that z3 leaves `unknown` drops the
candidates it was about (an unknown is never a proof), and the work limit leaves every
undecided property unknown.
Only this package, engines/_z3expr.py, engines/_houdini.py and engines/symbolic.py import z3.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from preemptcheck.engines._z3expr import Ctx, Z
from preemptcheck.engines.param.encode import Encoding, Rule
from preemptcheck.engines.param.mine import Fact


@dataclass
class Cand:
    """A candidate in the solver: its literal, its body over the pre-state, and per rule the
    formula saying the post-state breaks it (at the witness CPUs)."""

    fact: Fact
    lit: Z
    consts: set[int]
    pi: int | None = None  # the property it is, if any
    dropped: str = ""  # "init" | "step" | "unknown: why"
    broken: dict[int, Z] = field(default_factory=dict)


# z3 resource units: what finding the part of the invariant one property rests on may spend
# in all, and each query of it that tries a smaller part
SUPPORT_WORK = 40_000_000
SHRINK_RLIMIT = 1_000_000
# and each query of the instantiated candidates (quantified only inside the properties'
# own aggregates): a filter that answers unsat quickly or not at all
GROUND_RLIMIT = 1_000_000
# a step that breaks a candidate is first sought with at most this many CPUs
FEW_CPUS = 3


class Houdini:
    """The solver, the assumed candidates, and the fixpoint."""

    def __init__(self, enc: Encoding, cands: list[Cand], rules: list[Rule]) -> None:
        self.enc = enc
        self.cx: Ctx = enc.cx
        self.cands = cands
        self.rules = rules
        self.s = self.cx.solver()
        self.s.set("smt.mbqi", True)
        self.s.add(enc.background())
        self.g = self.cx.solver()  # the candidates instantiated at the CPUs queries name
        self.g.add(enc.n >= enc.frag.least)
        if self.cx.rlimit is None or self.cx.rlimit > GROUND_RLIMIT:
            self.g.set("rlimit", GROUND_RLIMIT)  # a filter: what it leaves open, `s` decides
        self.seen: set[int] = set()
        self.ground: list[Z] = []
        self.last: Z = self.s  # the solver that answered the last query (for its core)
        ctx = self.cx.ctx
        self.w = (z3.Int("w!c", ctx), z3.Int("w!d", ctx))
        self.queries = 0
        self._at_w: dict[int, tuple[Z, list[Z]]] = {}
        self._breaks: dict[tuple[int, object], Z] = {}
        self._goals: dict[tuple[int, int], Z] = {}
        self.deadline: float | None = None  # time.monotonic() by which to stop (--timeout)
        self._few: Z | None = None
        self._ij = (z3.Int("g!c", ctx), z3.Int("g!d", ctx))  # substituted by ground CPUs
        self._cand_bodies: list[Z | None] | None = None
        named = enc.frag.named
        i, j = z3.Int("i!c", ctx), z3.Int("i!d", ctx)
        by_form: dict[str, list[Z]] = {}
        for n, c in enumerate(cands):
            form = c.fact.form
            if form == "g":
                fact = z3.Implies(c.lit, c.fact.build(enc.x, None, None))
                self.s.add(fact)
                self.g.add(fact)
                continue
            body = z3.Implies(c.lit, c.fact.build(enc.x, i, j))
            by_form.setdefault(form if c.pi is None else f"{form}#{n}", []).append(body)
        for key, bodies in by_form.items():
            form = key.split("#")[0]
            dom = [enc.exists(i)]
            qv = [i]
            if form in ("p", "pk"):
                dom += [enc.exists(j), i != j]
                qv.append(j)
            if form in ("uk", "pk"):
                dom += [i != k for k in named]
            if form == "pk":
                dom += [j != k for k in named]
            self.s.add(z3.ForAll(qv, z3.Implies(z3.And(*dom), z3.And(*bodies))))
        self.touched: list[list[int]] = []
        for r in rules:
            changed = {c.get_id() for c, _ in r.changes}
            self.touched.append([k for k, c in enumerate(cands) if c.consts & changed])

    def breaks(self, k: int, changes: list[tuple[Z, Z]], key: object = None) -> Z:
        """The post-state (the pre-state changed by `changes`, cached by `key`) falsifies
        candidate k."""
        if key is not None and (k, key) in self._breaks:
            return self._breaks[(k, key)]
        if k not in self._at_w:
            c = self.cands[k]
            wc, wd = self.w
            body = c.fact.build(self.enc.x, wc, wd)
            dom = []
            form = c.fact.form
            if form != "g":
                dom.append(self.enc.exists(wc))
            if form in ("p", "pk"):
                dom += [self.enc.exists(wd), wc != wd]
            if form in ("uk", "pk"):
                dom += [wc != n for n in self.enc.frag.named]
            if form == "pk":
                dom += [wd != n for n in self.enc.frag.named]
            self._at_w[k] = (body, dom)
        body, dom = self._at_w[k]
        if changes:
            body = z3.substitute(body, *changes)
        out = z3.And(*dom, z3.Not(body)) if dom else z3.Not(body)
        if key is not None:
            self._breaks[(k, key)] = out
        return out

    def active(self) -> list[int]:
        return [k for k, c in enumerate(self.cands) if not c.dropped]

    def query(
        self,
        when: Z,
        ks: list[int],
        changes: list[tuple[Z, Z]],
        assume: bool,
        extra: tuple[int, ...] = (),
        key: object = None,
        terms: tuple[Z, ...] = (),
    ) -> tuple[Z, Z | None, list[int]]:
        """Can a step (`when`, `changes`, of the CPUs `terms`) from a state of the active
        candidates break one of `ks`? (z3's answer, its model, the candidates it breaks.)

        First with the candidates instantiated at the CPUs the step and the witnesses name
        (a weaker assumption, quantifier-free but for the properties' own aggregates): no
        step there, none anywhere. Otherwise the quantified candidates decide."""
        self.queries += 1
        q = self.queries
        lits = [self.cands[k].lit for k in [*self.active(), *extra]] if assume else []
        flags = [self.cx.lit(f"b{q}.{k}") for k in ks]
        some = self.cx.lit(f"some{q}")
        for solver in (self.g, self.s) if assume else (self.s,):
            for k, b in zip(ks, flags, strict=True):
                solver.add(z3.Implies(b, self.breaks(k, changes, key)))
            solver.add(z3.Implies(some, z3.And(when, z3.Or(*flags))))
        r = z3.unknown
        if assume:
            self._instantiate(terms)
            r = self.cx.check(self.g, some, *lits)
            if r == z3.unsat or (r == z3.unknown and self.cx.exhausted):
                self.last = self.g
                return r, None, []
            # such a step among few CPUs first: there model-based instantiation finds a
            # model quickly when there is one, where over unbounded N it can spend the whole
            # rlimit looking for it. A model with few CPUs is a model; an unsat or unknown
            # answer there says nothing of more CPUs, and the unbounded query decides.
            r = self.cx.check(self.s, some, self.few(), *lits)
            if r == z3.unknown and self.cx.exhausted:
                self.last = self.s
                return r, None, []
        if r != z3.sat:
            r = self.cx.check(self.s, some, *lits)
        self.last = self.s
        if r != z3.sat:
            return r, None, []
        m = self.s.model()
        hit = [
            k
            for k, b in zip(ks, flags, strict=True)
            if z3.is_true(m.eval(b, model_completion=True))
        ]
        assert hit, "a model of 'some candidate breaks' where none does"
        # the model's state breaks more of them than z3 chose to flag: drop those too (it
        # satisfies every assumed candidate, so each one it breaks is not inductive)
        for k in ks:
            if k not in hit and z3.is_true(
                m.eval(self.breaks(k, changes, key), model_completion=True)
            ):
                hit.append(k)
        return r, m, hit

    def few(self) -> Z:
        """A literal that, assumed, bounds N to at most FEW_CPUS (or the least count)."""
        if self._few is None:
            self._few = self.cx.lit("few")
            bound = max(self.enc.frag.least, FEW_CPUS)
            self.s.add(z3.Implies(self._few, self.enc.n <= bound))
            self.g.add(z3.Implies(self._few, self.enc.n <= bound))
        return self._few

    def _broken_by_few(self, lits: list[Z]) -> bool:
        """The instantiated query under `lits` has a model with few CPUs: a smaller set of
        candidates is tried in vain (a model with few CPUs is quick to find where the
        unbounded query can spend its whole rlimit looking for one, and then be unknown)."""
        self.last = self.g
        return bool(self.cx.check(self.g, self.few(), *lits) == z3.sat)

    def _instantiate(self, terms: tuple[Z, ...]) -> None:
        """The candidates (and the background) at every CPU of `terms` and the witnesses,
        in the instantiated solver, for the terms it has not seen."""
        enc = self.enc
        named = [z3.IntVal(n, self.cx.ctx) for n in enc.frag.named]
        new = [t for t in [*self.w, *named, *terms] if t.get_id() not in self.seen]
        if not new:
            return
        for t in new:
            self.seen.add(t.get_id())
            self.ground.append(t)
            self.g.add(enc.valid_at(t))
        fresh = {t.get_id() for t in new}
        for c, body in zip(self.cands, self._bodies(), strict=True):
            form = c.fact.form
            if body is None:
                continue
            pairs = (
                [(a, None) for a in self.ground]
                if form in ("u", "uk")
                else [(a, b) for a in self.ground for b in self.ground if not a.eq(b)]
            )
            for a, b in pairs:
                if a.get_id() not in fresh and (b is None or b.get_id() not in fresh):
                    continue
                dom = [enc.exists(a)]
                if b is not None:
                    dom += [enc.exists(b), a != b]
                if form in ("uk", "pk"):
                    dom += [a != n for n in named]
                if form == "pk" and b is not None:
                    dom += [b != n for n in named]
                at = [(self._ij[0], a)] + ([(self._ij[1], b)] if b is not None else [])
                self.g.add(z3.Implies(z3.And(c.lit, *dom), z3.substitute(body, *at)))

    def _bodies(self) -> list[Z | None]:
        """Each candidate's body at the CPUs `_ij` (None for a global one), built once: its
        instance at other CPUs is a substitution, much cheaper than building it again."""
        if self._cand_bodies is None:
            i, j = self._ij
            self._cand_bodies = [
                None
                if c.fact.form == "g"
                else c.fact.build(self.enc.x, i, j if c.fact.form in ("p", "pk") else None)
                for c in self.cands
            ]
        return self._cand_bodies

    def run(self) -> str | None:
        """Drop candidates until the rest is inductive; the reason when the run must stop."""
        init = self.enc.init_values()
        everything = list(range(len(self.cands)))
        if not self._settle(self.cx.true, everything, init, "init", assume=False, key="init"):
            return self.cx.stop
        dropped = True
        while dropped:
            dropped = False
            for r, rule in enumerate(self.rules):
                while True:
                    if self.deadline is not None and time.monotonic() > self.deadline:
                        return "--timeout reached"
                    live = [k for k in self.touched[r] if not self.cands[k].dropped]
                    if not live:
                        break
                    before = len(self.active())
                    if not self._settle(
                        rule.when,
                        live,
                        list(rule.changes),
                        "step",
                        assume=True,
                        key=r,
                        terms=rule.params,
                    ):
                        return self.cx.stop
                    if len(self.active()) == before:
                        break
                    dropped = True
        return None

    def _settle(
        self,
        when: Z,
        ks: list[int],
        changes: list[tuple[Z, Z]],
        why: str,
        *,
        assume: bool,
        key: object = None,
        terms: tuple[Z, ...] = (),
    ) -> bool:
        """Drop what one step breaks among `ks` (once: the caller repeats); False when the
        work limit stops the run."""
        ks = [k for k in ks if not self.cands[k].dropped]
        while ks:
            r, _, hit = self.query(when, ks, changes, assume, key=key, terms=terms)
            if r == z3.unsat:
                return True
            if r == z3.unknown and self.cx.exhausted:
                return False
            if r == z3.sat:
                for k in hit:
                    self.cands[k].dropped = why
                if why == "step":
                    return True
                ks = [k for k in ks if not self.cands[k].dropped]
                continue
            reason = self.s.reason_unknown()
            for k in ks:  # one at a time: the unknown ones leave
                r1, _, hit = self.query(when, [k], changes, assume, key=key, terms=terms)
                if r1 == z3.unknown and self.cx.exhausted:
                    return False
                if r1 == z3.sat:
                    self.cands[k].dropped = why
                elif r1 == z3.unknown:
                    self.cands[k].dropped = f"unknown: z3 gave up ({reason})"
            return True
        return True

    def support(self, k: int, budget: int = SUPPORT_WORK) -> list[int] | None:
        """The candidates (k first) of a small inductive subset of the kept ones containing
        k; None when z3 cannot tell within `budget` resource units. Each candidate of the
        subset is checked against each rule assuming the subset so far; where that is not
        enough, the unsat core of the query under every kept candidate, shrunk one candidate
        at a time, joins it. (Only `unsat` answers are used: a subset is never assumed
        inductive.) Shrinking depends on the order candidates are tried in: two orders are
        tried, and the smaller subset is the answer."""
        found = [self._support(k, budget, rev) for rev in (False, True)]
        sizes = [len(f) if f is not None else len(self.cands) + 1 for f in found]
        return found[sizes.index(min(sizes))]

    def _support(self, k: int, budget: int, rev: bool) -> list[int] | None:
        need = [k]
        todo = [k]
        start = self.cx.work()
        self.g.set("rlimit", SHRINK_RLIMIT)  # a subset too small is usually quickly sat
        while todo:
            c = todo.pop(0)
            for r in range(len(self.rules)):
                if c not in self.touched[r]:
                    continue
                if self._unsat(c, r, need, quantified=False):
                    continue
                if not self._unsat(c, r, self.active(), quantified=True):
                    return None
                core_ids = {x.get_id() for x in self.last.unsat_core()}
                more = [
                    j
                    for j in self.active()
                    if j not in need and self.cands[j].lit.get_id() in core_ids
                ]
                # facts the language can write are kept in preference: the others go first
                more.sort(key=lambda j: (self.cands[j].fact.text is not None, -j if rev else j))
                for j in list(more):
                    trial = [x for x in more if x != j]
                    if self._unsat(c, r, need + trial, quantified=False):
                        more = trial
                    if self.cx.work() - start > budget:
                        return None
                need += more
                todo += more
        return need

    def _unsat(self, c: int, r: int, assumed: list[int], *, quantified: bool) -> bool:
        """Rule r cannot break candidate c from a state of the `assumed` candidates (z3
        says so: unsat), with them instantiated, then (`quantified`) quantified."""
        rule = self.rules[r]
        key = (c, r)
        if key not in self._goals:
            lit = self.cx.lit(f"goal{c}.{r}")
            f = z3.Implies(lit, z3.And(rule.when, self.breaks(c, list(rule.changes), r)))
            self.g.add(f)
            self.s.add(f)
            self._goals[key] = lit
            self._instantiate(rule.params)
        lits = [self._goals[key], *(self.cands[j].lit for j in assumed)]
        if not quantified and self._broken_by_few(lits):
            return False
        for solver in (self.g, self.s) if quantified else (self.g,):
            self.last = solver
            res = self.cx.check(solver, *lits)
            if res == z3.unsat:
                return True
            if self.cx.exhausted:
                return False
        return False

    def possible(self, f: Z, terms: tuple[Z, ...]) -> tuple[Z, Z | None, Z]:
        """Can `f` (over the pre-state and the CPUs `terms`) hold in a state of the active
        candidates? z3's answer and, when sat, its model; unsat cores via `last`."""
        self.queries += 1
        lit = self.cx.lit(f"possible{self.queries}")
        self.g.add(z3.Implies(lit, f))
        self.s.add(z3.Implies(lit, f))
        self._instantiate(terms)
        lits = [lit, *(self.cands[k].lit for k in self.active())]
        self.last = self.g
        if self.cx.check(self.g, *lits) == z3.unsat:
            return z3.unsat, None, lit
        self.last = self.s
        r = self.cx.check(self.s, *lits)
        return r, self.s.model() if r == z3.sat else None, lit

    def shrink(self, lit: Z, budget: int = SUPPORT_WORK) -> list[int] | None:
        """After `possible` answered unsat for `lit`'s formula: a small set of candidates,
        closed under `support`, that excludes it; None when z3 cannot tell."""
        core_ids = {x.get_id() for x in self.last.unsat_core()}
        more = [j for j in self.active() if self.cands[j].lit.get_id() in core_ids]
        more.sort(key=lambda j: self.cands[j].fact.text is not None)
        start = self.cx.work()
        for j in list(more):
            trial = [x for x in more if x != j]
            lits = [lit, *(self.cands[x].lit for x in trial)]
            if not self._broken_by_few(lits) and self.cx.check(self.g, *lits) == z3.unsat:
                more = trial
            if self.cx.work() - start > budget:
                return None
        need: list[int] = []
        for j in more:
            if j in need:
                continue
            sup = self.support(j)
            if sup is None:
                return None
            need += [x for x in sup if x not in need]
        return need
