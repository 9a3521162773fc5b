"""Invariants of one CPU count proved 1-inductive on representative steps: the model's CPU
symmetry (engines/symmetry.py) and the frame keep the check about linear in the count.

The goals are the model's invariant properties, proved together (Houdini drops the ones a
step can break from a state of all of them). A goal is a set of instances: `all(... for c
in cpus)` is peeled into its body over a quantified CPU, a per-CPU property is its body
over `self`, and an instance is the body at one tuple of CPUs (the body's own aggregates
stay written out, as the fixed-instance engine writes them). Why checking few is enough:

* Permuting the CPUs of one class of interchangeable ones maps the initial state to itself,
  steps to steps and goal instances to goal instances, and keeps whether each holds. A step
  that breaks an instance from a state of the goals is so mapped to a step of one instance
  per orbit (its CPU and CPU bindings over the distinguished CPUs and, per class, its first
  CPUs) that breaks an instance over the CPUs the step fixes and, per class, as many more
  as the goal quantifies: only those steps and those instances are checked.
* An instance that reads no entry the step writes keeps its value (the frame).
* The state a step starts from is first assumed to satisfy only some instances (over the
  CPUs above, and the small ones at every CPU): fewer assumptions, a stronger check. When
  that is not enough, every instance is assumed; a step that still breaks one drops it.
* A CPU's place in a `steps:` sequence is read by no goal: every step is taken from every
  place (more steps than the model has, so again a stronger check).

An aggregate over cpus whose elements may fail to evaluate has a result that depends on the
order CPUs are visited in, which a permutation changes: symmetry is then not used.
Only this package, engines/_z3expr.py, engines/_houdini.py and engines/symbolic.py import z3.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass

import z3

from preemptcheck.engines import symmetry
from preemptcheck.engines._z3expr import Compiler, Ctx, GiveUp, Z, slot_width
from preemptcheck.engines._z3step import StepTerms, step_terms
from preemptcheck.engines.layout import encode
from preemptcheck.expr.ast import Agg, Binary, Bound, Call, Const, EnumT, Expr, VarRef, walk
from preemptcheck.expr.evaluate import fold
from preemptcheck.model.ir import Model, PropKind
from preemptcheck.semantics.system import binding_product, specialize

Tuple = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LocalRun:
    """Which invariant properties (model indices) are proved, and how the check went."""

    proved: tuple[int, ...]
    dropped: tuple[tuple[int, str], ...]  # property index, why (init, step, unknown)
    reason: str  # why nothing could be proved ("" when the check ran to its end)
    work: int  # z3 resource units
    elapsed: float
    steps: int  # representative steps checked
    symmetry: str  # the classes of interchangeable CPUs used, or why none


@dataclass(frozen=True, slots=True)
class _Goal:
    pi: int
    names: tuple[str, ...]  # the quantified CPUs, outermost first
    body: Expr
    small: bool  # no aggregate over cpus inside: an instance's size does not grow with N
    # the quantified CPUs appear only as indices of per-CPU variables, and no CPU is named:
    # an instance is another one with the CPUs' entries renamed
    renamable: bool


class _Stop(Exception):
    pass


def prove_locally(
    model: Model,
    *,
    rlimit: int | None = 50_000_000,
    work_limit: int | None = None,
    deadline: float | None = None,
) -> LocalRun:
    """The model's invariant properties, proved 1-inductive together on representative
    steps; `rlimit` per query and `work_limit` in all, in z3 resource units; `deadline`
    (time.monotonic()) stops the check, and nothing is proved then."""
    return _Check(model, rlimit, work_limit, deadline).run()


class _Check:
    def __init__(
        self, model: Model, rlimit: int | None, work_limit: int | None, deadline: float | None
    ) -> None:
        self.t0 = time.monotonic()
        self.model = model
        self.deadline = deadline
        self.cx = Ctx()
        self.cx.rlimit, self.cx.work_limit = rlimit or None, work_limit or None
        self.goals = [
            _peel(pi, p.expr, p.per_cpu)
            for pi, p in enumerate(model.properties)
            if p.kind == PropKind.INVARIANT and p.expr is not None
        ]
        only = dataclasses.replace(
            model, properties=tuple(model.properties[g.pi] for g in self.goals)
        )
        sym = symmetry.analyze(only)
        why = _order_dependent(only) if sym.classes else None
        self.classes = sym.classes if why is None else ()
        self.described = _describe(self.classes) if self.classes else (why or sym.reason)
        moved = {c for cls in self.classes for c in cls}
        self.fixed = frozenset(c for c in range(model.cpus) if c not in moved)
        self.first: dict[str, int] = {}
        self.x: list[Z] = []
        for v in model.vars:
            self.first[v.name] = len(self.x)
            w = slot_width(v.info)
            self.x += [self.cx.bv(f"{v.name}#{e}@x", w) for e in range(len(v.entries))]
        self.comp = Compiler(self.cx, lambda var, entry: self.x[self.first[var.name] + entry])
        self.s = self.cx.solver("QF_BV")
        self.s.add(self._valid())
        self.active = list(range(len(self.goals)))
        self.dropped: dict[int, str] = {}
        self._inst: dict[tuple[int, Tuple], tuple[Z, frozenset[int]]] = {}
        self._lits: dict[tuple[int, Tuple], Z] = {}
        self._every: dict[int, Z] = {}
        self.queries = 0

    # ------------------------------------------------------------ CPUs

    def pool(self, fixed: frozenset[int], k: int) -> list[int]:
        """The fixed CPUs and, per class, its first k others."""
        out = sorted(fixed)
        for cls in self.classes:
            out += [c for c in cls if c not in fixed][:k]
        return out

    def reps(self, fixed: frozenset[int], k: int) -> list[Tuple]:
        return list(itertools.product(self.pool(fixed, k), repeat=k))

    def steps(self) -> Iterator[tuple[frozenset[int], StepTerms]]:
        """One instance of each action per orbit, each of its steps, with the CPUs it fixes."""
        for a in self.model.actions:
            cpu_names = [n for n, d in a.bindings if d.is_cpus]
            others = [(n, d) for n, d in a.bindings if not d.is_cpus]
            k = 1 + len(cpu_names)
            for cpus in self.reps(self.fixed, k):
                if cpus[0] not in a.cpus:
                    continue
                for rest in binding_product(dataclasses.replace(a, bindings=tuple(others))):
                    by_name = dict(zip(cpu_names, cpus[1:], strict=True)) | dict(rest)
                    b = tuple((n, by_name[n]) for n, _ in a.bindings)
                    specs = specialize(self.model.properties, a, cpus[0], b, 0)
                    for k_, spec in enumerate(specs):
                        if k_ == 0 and isinstance(spec.guard, Const) and spec.guard.value is False:
                            break
                        terms = step_terms(
                            self.comp, spec, lambda v, e: self.first[v] + e, self.x.__getitem__
                        )
                        yield self.fixed | frozenset(cpus), terms

    # ------------------------------------------------------------ goal instances

    def inst(self, gi: int, t: Tuple) -> tuple[Z, frozenset[int]]:
        """Goal gi at the CPUs t: that it holds (no error, true), and what it reads."""
        key = (gi, t)
        if key not in self._inst:
            g = self.goals[gi]
            t0 = tuple(range(len(t)))
            if g.renamable and t != t0 and len(t) <= self.model.cpus:
                # the instance at t0 with each CPU's entries renamed (a z3 substitution is
                # much cheaper than compiling again)
                holds0, reads0 = self.inst(gi, t0)
                ren = {
                    self.first[v.name] + a: self.first[v.name] + b
                    for v in self.model.vars
                    if v.info.index is not None and v.info.index.is_cpus
                    for a, b in zip(t0, t, strict=True)
                }
                holds = z3.substitute(holds0, *((self.x[a], self.x[b]) for a, b in ren.items()))
                reads = frozenset(ren.get(r, r) for r in reads0)
            else:
                e = fold(g.body, dict(zip(g.names, t, strict=True)))
                term = self.comp.ex(e)
                holds = self.cx.and_(z3.Not(term.err), term.v)
                reads = self._reads(e)
            self._inst[key] = (holds, reads)
        return self._inst[key]

    def lit(self, gi: int, t: Tuple) -> Z:
        """A literal that, assumed, makes goal gi hold at the CPUs t."""
        key = (gi, t)
        if key not in self._lits:
            lit = self.cx.lit(f"g{gi}@{','.join(map(str, t))}")
            self.s.add(z3.Implies(lit, self.inst(gi, t)[0]))
            self._lits[key] = lit
        return self._lits[key]

    def _reads(self, e: Expr) -> frozenset[int]:
        out: set[int] = set()
        for n in walk(e):
            if not isinstance(n, VarRef):
                continue
            first, dom = self.first[n.var.name], n.var.index
            if dom is None:
                out.add(first)
            elif isinstance(n.index, Const) and n.index.value in dom.values:
                out.add(first + dom.values.index(n.index.value))
            else:
                out.update(range(first, first + len(dom.values)))
        return frozenset(out)

    def assumed(self, fixed: frozenset[int], full: bool) -> list[Z]:
        """Literals of the instances a step's start state is assumed to satisfy."""
        n = self.model.cpus
        out = []
        for gi in self.active:
            g = self.goals[gi]
            k = len(g.names)
            if full or (g.small and k == 1):
                out.append(self.every(gi))
                continue
            pool = self.pool(fixed, k)
            tuples = set(itertools.product(pool, repeat=k))
            if g.small:  # and with all but one CPU among those, the other any CPU
                for p in range(k):
                    for rest in itertools.product(pool, repeat=k - 1):
                        tuples.update((*rest[:p], c, *rest[p:]) for c in range(n))
            out += [self.lit(gi, t) for t in sorted(tuples)]
        return out

    def every(self, gi: int) -> Z:
        """A literal for every instance of goal gi."""
        if gi not in self._every:
            k = len(self.goals[gi].names)
            lit = self.cx.lit(f"g{gi}@all")
            every = itertools.product(range(self.model.cpus), repeat=k)
            each = [self.inst(gi, t)[0] for t in every]
            self.s.add(z3.Implies(lit, self.cx.and_(*each)))
            self._every[gi] = lit
        return self._every[gi]

    # ------------------------------------------------------------ the check

    def run(self) -> LocalRun:
        try:
            self._init()
            steps = list(self.steps())
            changed = True
            while changed and self.active:
                changed = False
                for fixed, st in steps:
                    changed |= self._step(fixed, st)
            reason = ""
        except _Stop as exc:
            reason = str(exc)
            steps = []
        except GiveUp as exc:
            reason = f"the encoding gave up: {exc}"
            steps = []
        proved = () if reason else tuple(self.goals[gi].pi for gi in self.active)
        return LocalRun(
            proved,
            tuple((self.goals[gi].pi, why) for gi, why in sorted(self.dropped.items())),
            reason,
            self.cx.work(),
            time.monotonic() - self.t0,
            len(steps),
            self.described,
        )

    def _init(self) -> None:
        init = []
        for v in self.model.vars:
            w = slot_width(v.info)
            for e, value in enumerate(v.init):
                init.append((self.x[self.first[v.name] + e], self.cx.num(encode(v.info, value), w)))
        for gi in list(self.active):
            for t in self.reps(self.fixed, len(self.goals[gi].names)):
                holds, reads = self.inst(gi, t)
                holds = z3.simplify(z3.substitute(holds, *(init[r] for r in sorted(reads))))
                if not z3.is_true(holds):
                    self._drop(gi, "false in the initial state")
                    break

    def _step(self, fixed: frozenset[int], st: StepTerms) -> bool:
        """Drop what the step breaks (from a state of every goal); whether it broke any."""
        post: list[tuple[int, Z]] = []
        changes = [(self.x[s], new) for s, new in st.writes.items()]
        for gi in self.active:
            for t in self.reps(fixed, len(self.goals[gi].names)):
                holds, reads = self.inst(gi, t)
                if reads & st.writes.keys():
                    post.append((gi, z3.substitute(holds, *changes)))
        if not post:
            return False
        self.queries += 1
        q = self.cx.lit(f"q{self.queries}")
        taken = self.cx.and_(z3.Not(st.guard.err), st.guard.v, z3.Not(st.effect_err))
        self.s.add(z3.Implies(q, self.cx.and_(taken, self.cx.or_(*(z3.Not(p) for _, p in post)))))
        for full in (False, True):
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise _Stop("--timeout reached")
            r = self.cx.check(self.s, q, *self.assumed(fixed, full))
            if self.cx.exhausted:
                why = self.cx.stop
                if why == "work":
                    why = f"the work limit of {self.cx.work_limit:,} z3 resource units was reached"
                raise _Stop(str(why))
            if r == z3.unsat:
                return False
        if r == z3.unknown:
            for gi in {gi for gi, _ in post}:
                self._drop(gi, f"unknown: z3 gave up ({self.s.reason_unknown()})")
            return True
        m = self.s.model()
        broken = {gi for gi, p in post if z3.is_false(m.eval(p, model_completion=True))}
        assert broken, "a model of 'a step breaks a goal' where none breaks"
        for gi in broken:
            self._drop(gi, "a step breaks it from a state of the others")
        return True

    def _drop(self, gi: int, why: str) -> None:
        self.active.remove(gi)
        self.dropped[gi] = why

    def _valid(self) -> Z:
        """Every entry encodes a value of its type."""
        out = []
        for v in self.model.vars:
            info = v.info
            w = slot_width(info)
            top = 1 if info.kind == "bool" else info.hi - info.lo
            if info.kind != "word" and top < (1 << w) - 1:
                first = self.first[v.name]
                out += [z3.ULE(self.x[first + e], top) for e in range(len(v.entries))]
        return self.cx.and_(*out)


def _describe(classes: tuple[tuple[int, ...], ...]) -> str:
    """`CPUs 1-63 interchangeable` (symmetry.Analysis.describe, with runs shortened)."""
    out = []
    for cls in classes:
        run = cls == tuple(range(cls[0], cls[-1] + 1)) and len(cls) > 2
        out.append(f"CPUs {cls[0]}-{cls[-1]}" if run else "CPUs " + ", ".join(map(str, cls)))
    return "; ".join(f"{c} interchangeable" for c in out)


def _peel(pi: int, e: Expr, per_cpu: bool) -> _Goal:
    """The property as a body over quantified CPUs: `self` when per CPU, then the variable
    of each `all(... for c in cpus [if cond])` it starts with."""
    names: tuple[str, ...] = ("self",) if per_cpu else ()
    while isinstance(e, Agg) and e.fn == "all" and e.domain.is_cpus and e.var not in names:
        names += (e.var,)
        e = e.body if e.cond is None else Call("implies", (e.cond, e.body), e.type, e.span)
    small = not any(isinstance(n, Agg) and n.domain.is_cpus for n in walk(e))
    return _Goal(pi, names, e, small, small and _renamable(e, names))


def _renamable(e: Expr, names: tuple[str, ...]) -> bool:
    """Every quantified name is the index of a per-CPU variable, and no CPU is a constant."""
    at_index = 0
    for n in walk(e):
        if isinstance(n, VarRef) and n.var.index is not None and n.var.index.is_cpus:
            if not (isinstance(n.index, Bound) and n.index.name in names):
                return False
            at_index += 1
    return at_index == sum(1 for n in walk(e) if isinstance(n, Bound) and n.name in names)


def _order_dependent(model: Model) -> str | None:
    """Where an aggregate over cpus has elements that may fail to evaluate (None: nowhere)."""
    exprs: list[tuple[str, Expr]] = []
    for a in model.actions:
        where = f"actions.{a.name}"
        exprs += [(where, a.when)] if a.when is not None else []
        for s in a.steps:
            exprs += [(where, e) for e in (s.when, s.cond) if e is not None]
            for asg in s.assigns:
                exprs.append((where, asg.value))
                if asg.target.index is not None:
                    exprs.append((where, asg.target.index))
    for p in model.properties:
        exprs += [(f"properties.{p.id}", p.expr)] if p.expr is not None else []
    for where, e in exprs:
        for n in walk(e):
            if isinstance(n, Agg) and n.domain.is_cpus:
                inner = [n.body] + ([n.cond] if n.cond is not None else [])
                if any(_may_fail(x) for x in inner):
                    return (
                        f"{where}: an aggregate over cpus whose elements may fail to evaluate "
                        "(its result depends on the order of the CPUs)"
                    )
    return None


def _may_fail(e: Expr) -> bool:
    for n in walk(e):
        if isinstance(n, Binary) and n.op in ("//", "%", "<<", ">>"):
            return True
        if isinstance(n, VarRef) and n.index is not None and n.var.index is not None:
            idx, dom = n.index, n.var.index
            if isinstance(idx, Const):
                if idx.value not in dom.values:
                    return True
            elif isinstance(idx, Bound) and dom.is_cpus:
                continue  # a CPU name (symmetry.analyze allows no other index of a CPU)
            elif not isinstance(idx.type, EnumT):
                return True
    return False
