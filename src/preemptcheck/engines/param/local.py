"""Invariants of one CPU count proved 1-inductive on representative steps: the model's CPU
symmetry (engines/symmetry.py) and the frame keep the check about the same size for any count.

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
* A step is first checked on its frame, the CPUs above with as many more per class as any
  goal quantifies: its aggregates over cpus, and the instances', are cut to the frame
  (frame.py: the elements at the frame's CPUs, and a generic CPU for the others' part), and
  the state it starts from is assumed to satisfy only the instances over the frame's and
  the generic CPUs. An instance keeps its generic CPUs across the step where the CPUs they
  stand for read nothing the step writes (else it is written out). More transitions from
  fewer assumptions: a stronger check, whose size does not grow with the count.
* When that is not enough, the step is checked with every aggregate written out, from a
  state first assumed to satisfy only some instances (over the CPUs above, and the small
  ones at every CPU), then every instance; a step that still breaks one drops it.
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
from preemptcheck.engines.param import frame as framing
from preemptcheck.expr.ast import (
    Agg,
    Binary,
    Bound,
    Call,
    Const,
    EnumT,
    Expr,
    Value,
    VarInfo,
    VarRef,
    walk,
)
from preemptcheck.expr.evaluate import EvalError, evaluate, fold
from preemptcheck.model.ir import Action, Model, PropKind, Var
from preemptcheck.semantics.system import Bindings, SpecStep, binding_product, specialize

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
    framed: int  # of the steps, those checked on their frame alone (each aggregate cut)


@dataclass(frozen=True, slots=True)
class _Goal:
    pi: int
    names: tuple[str, ...]  # the quantified CPUs, outermost first
    body: Expr
    small: bool  # no aggregate over cpus inside: an instance's size does not grow with N
    # the quantified CPUs appear only as indices of per-CPU variables, and no CPU is named:
    # an instance is another one with the CPUs' entries renamed
    renamable: bool


@dataclass(frozen=True, slots=True)
class _CutInst:
    """A goal instance with its aggregates over cpus cut to a frame: its literal, that it
    holds, the slots it reads, and what its fresh Booleans stand for."""

    lit: Z
    holds: Z
    reads: frozenset[int]
    rests: tuple[framing.Rest, ...]


@dataclass(slots=True)
class _Rep:
    """One representative step: the CPUs it fixes, its frame (those, and per class as many
    more as a goal quantifies), its terms with the aggregates over cpus cut to the frame
    (None: the frame is every CPU), and its exact terms, made when first needed."""

    fixed: frozenset[int]
    frame: frozenset[int]
    cut: StepTerms | None
    rests: tuple[framing.Rest, ...]  # what the cut aggregates' generic CPUs stand for
    source: tuple[Action, int, Bindings, int]  # the action, its CPU, bindings, step number
    exact: StepTerms | None
    widened: bool = False  # checked over every CPU at least once


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
        self.slots: list[tuple[Var, int]] = []  # slot -> its variable and entry position
        for v in model.vars:
            self.first[v.name] = len(self.slots)
            self.slots += [(v, e) for e in range(len(v.entries))]
        self.s = self.cx.solver("QF_BV")
        self._x: dict[int, Z] = {}  # the state's entries, made when first read
        self._fresh: dict[str, Z] = {}  # frame.cut's Booleans
        self._names = itertools.count()
        self.comp = Compiler(self.cx, self._read)
        self.active = list(range(len(self.goals)))
        self.dropped: dict[int, str] = {}
        self._inst: dict[tuple[int, Tuple], tuple[Z, frozenset[int]]] = {}
        self._lits: dict[tuple[int, Tuple], Z] = {}
        self._every: dict[int, Z] = {}
        # goal instances with their aggregates cut to a frame (None: nothing to cut)
        self._cut: dict[tuple[int, Tuple, frozenset[int]], _CutInst | None] = {}
        self._generic: dict[tuple[int, tuple[int | str, ...]], Z] = {}
        self.queries = 0

    # ------------------------------------------------------------ state

    def xs(self, s: int) -> Z:
        """The bits of slot s in the state a step starts from."""
        if s not in self._x:
            v, e = self.slots[s]
            self._x[s] = self._bits(f"{v.name}#{e}@x", v.info)
        return self._x[s]

    def _read(self, var: VarInfo, entry: int) -> Z:
        first = self.first.get(var.name)
        if first is not None:
            return self.xs(first + entry)
        if var.name not in self._fresh:  # a generic CPU's entry or a Boolean of frame.cut
            self._fresh[var.name] = self._bits(var.name, var)
        return self._fresh[var.name]

    def _bits(self, name: str, info: VarInfo) -> Z:
        """A new entry that holds a value of its type."""
        w = slot_width(info)
        x = self.cx.bv(name, w)
        top = 1 if info.kind == "bool" else info.hi - info.lo
        if info.kind != "word" and top < (1 << w) - 1:
            self.s.add(z3.ULE(x, top))
        return x

    def _name(self) -> str:
        return f"rest#{next(self._names)}"

    # ------------------------------------------------------------ CPUs

    def pool(self, fixed: frozenset[int], k: int) -> list[int]:
        """The fixed CPUs and, per class, its first k others."""
        out = sorted(fixed)
        for cls in self.classes:
            out += [c for c in cls if c not in fixed][:k]
        return out

    def reps(self, fixed: frozenset[int], k: int) -> list[Tuple]:
        return list(itertools.product(self.pool(fixed, k), repeat=k))

    def steps(self) -> Iterator[_Rep]:
        """One instance of each action per orbit, each of its steps."""
        kf = max([1, *(len(g.names) for g in self.goals)])
        for a in self.model.actions:
            cpu_names = [n for n, d in a.bindings if d.is_cpus]
            others = [(n, d) for n, d in a.bindings if not d.is_cpus]
            k = 1 + len(cpu_names)
            for cpus in self.reps(self.fixed, k):
                if cpus[0] not in a.cpus:
                    continue
                fixed = self.fixed | frozenset(cpus)
                frame = frozenset(self.pool(fixed, kf))
                whole = len(frame) == self.model.cpus
                for rest in binding_product(dataclasses.replace(a, bindings=tuple(others))):
                    by_name = dict(zip(cpu_names, cpus[1:], strict=True)) | dict(rest)
                    b = tuple((n, by_name[n]) for n, _ in a.bindings)
                    env = {"self": cpus[0], **by_name}
                    cut, rests = (a, ()) if whole else framing.cut_action(a, env, frame, self._name)
                    specs = specialize(self.model.properties, cut, cpus[0], b, 0)
                    starts = [specs[0].guard]
                    if rests and len(specs) > 1:  # whether the sequence starts, exactly
                        starts.append(specialize(self.model.properties, a, cpus[0], b, 0)[0].guard)
                    if any(isinstance(g, Const) and g.value is False for g in starts):
                        continue
                    for k_, spec in enumerate(specs):
                        terms = self._terms(spec)
                        source = (a, cpus[0], b, k_)
                        exact = None if rests else terms
                        cut_terms = None if whole else terms
                        yield _Rep(fixed, frame, cut_terms, rests, source, exact)

    def _terms(self, spec: SpecStep) -> StepTerms:
        return step_terms(self.comp, spec, lambda v, e: self.first[v] + e, self.xs)

    def exact(self, rep: _Rep) -> StepTerms:
        """The step's terms with every aggregate written out."""
        if rep.exact is None:
            a, cpu, b, k = rep.source
            rep.exact = self._terms(specialize(self.model.properties, a, cpu, b, 0)[k])
        return rep.exact

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
                holds = z3.substitute(holds0, *((self.xs(a), self.xs(b)) for a, b in ren.items()))
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

    def cut_inst(self, gi: int, t: Tuple, frame: frozenset[int]) -> _CutInst | None:
        """Goal gi at the CPUs t with its aggregates over cpus cut to `frame` (None: it has
        none to cut)."""
        key = (gi, t, frame)
        if key not in self._cut:
            g = self.goals[gi]
            env = dict(zip(g.names, t, strict=True))
            body, rests = (g.body, ()) if g.small else framing.cut(g.body, env, frame, self._name)
            if not rests:
                self._cut[key] = None
            else:
                e = fold(body, env)
                term = self.comp.ex(e)
                holds = self.cx.and_(z3.Not(term.err), term.v)
                lit = self.cx.lit(f"g{gi}@{','.join(map(str, t))}~{len(self._cut)}")
                self.s.add(z3.Implies(lit, holds))
                self._cut[key] = _CutInst(lit, holds, self._reads(e), rests)
        return self._cut[key]

    def _reads(self, e: Expr) -> frozenset[int]:
        out: set[int] = set()
        for n in walk(e):
            if not isinstance(n, VarRef) or n.var.name not in self.first:
                continue  # not a state variable: a Boolean of frame.cut
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
                for step in steps:
                    changed |= self._step(step)
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
            sum(1 for step in steps if not step.widened),
        )

    def _init(self) -> None:
        """Drop the goals false in the initial state (at the CPUs of one instance per orbit),
        evaluated as the explicit engine evaluates them."""
        by_name = {v.name: v for v in self.model.vars}
        where: dict[str, dict[Value, int]] = {}

        def read(var: VarInfo, index: Value | None) -> Value:
            v = by_name[var.name]
            if index is None or var.index is None:
                return v.init[0]
            if var.name not in where:
                where[var.name] = {x: i for i, x in enumerate(var.index.values)}
            return v.init[where[var.name][index]]

        for gi in list(self.active):
            g = self.goals[gi]
            for t in self.reps(self.fixed, len(g.names)):
                try:
                    holds = bool(evaluate(g.body, read, dict(zip(g.names, t, strict=True))))
                except EvalError:
                    holds = False
                if not holds:
                    self._drop(gi, "false in the initial state")
                    break

    def _step(self, rep: _Rep) -> bool:
        """Drop what the step breaks (from a state of every goal); whether it broke any."""
        if rep.cut is not None and self._within_frame(rep, rep.cut):
            return False
        rep.widened = True
        st = self.exact(rep)
        post: list[tuple[int, Z]] = []
        changes = [(self.xs(s), new) for s, new in st.writes.items()]
        for gi in self.active:
            for t in self.reps(rep.fixed, len(self.goals[gi].names)):
                holds, reads = self.inst(gi, t)
                if reads & st.writes.keys():
                    post.append((gi, z3.substitute(holds, *changes)))
        if not post:
            return False
        q = self._query(st, [p for _, p in post])
        for full in (False, True):
            r = self._check(q, *self.assumed(rep.fixed, full))
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

    def _within_frame(self, rep: _Rep, st: StepTerms) -> bool:
        """Whether the step, its aggregates cut to its frame, breaks no goal instance from a
        state of the instances over the frame's CPUs, theirs cut too (an instance's fresh
        Booleans are the same before and after the step where the CPUs they stand for read
        nothing it writes; otherwise the instance is taken exactly)."""
        written = [self.slots[s] for s in st.writes]
        changes = [(self.xs(s), new) for s, new in st.writes.items()]
        rests = list(rep.rests)

        def at(gi: int, t: Tuple) -> tuple[Z, Z, frozenset[int]]:
            c = self.cut_inst(gi, t, rep.frame)
            if c is not None and not any(
                r.reads(v.info, e, rep.frame) for r in c.rests for v, e in written
            ):
                rests.extend(c.rests)
                return c.lit, c.holds, c.reads
            return self.lit(gi, t), *self.inst(gi, t)

        assumed, post = [], []
        order = sorted(rep.frame)
        for gi in self.active:
            k = len(self.goals[gi].names)
            assumed += [at(gi, t)[0] for t in itertools.product(order, repeat=k)]
            for t in self.reps(rep.fixed, k):
                _, holds, reads = at(gi, t)
                if reads & st.writes.keys():
                    post.append(z3.substitute(holds, *changes))
        if not post:
            return True
        generic = list(dict.fromkeys(r.name for r in rests if r.generic))
        for gi in self.active:
            g = self.goals[gi]
            k = len(g.names)
            if not g.renamable or k > self.model.cpus:
                continue
            cpus: list[int | str] = [*order, *generic]
            for tg in itertools.product(cpus, repeat=k):
                if any(isinstance(c, str) for c in tg):
                    assumed.append(self.generic_lit(gi, tg))
        return bool(self._check(self._query(st, post), *assumed) == z3.unsat)

    def generic_lit(self, gi: int, t: tuple[int | str, ...]) -> Z:
        """A literal that, assumed, makes renamable goal gi hold at t, whose CPUs are
        numbers or generic CPUs (frame.py)."""
        key = (gi, t)
        if key not in self._generic:
            t0 = tuple(range(len(t)))
            holds0, _ = self.inst(gi, t0)
            ren = []
            for v in self.model.vars:
                if v.info.index is None or not v.info.index.is_cpus:
                    continue
                for a, b in zip(t0, t, strict=True):
                    to = (
                        self.xs(self.first[v.name] + b)
                        if isinstance(b, int)
                        else self._read(framing.at_generic(v.info, b), 0)
                    )
                    ren.append((self.xs(self.first[v.name] + a), to))
            lit = self.cx.lit(f"g{gi}@{','.join(map(str, t))}")
            self.s.add(z3.Implies(lit, z3.substitute(holds0, *ren)))
            self._generic[key] = lit
        return self._generic[key]

    def _query(self, st: StepTerms, post: list[Z]) -> Z:
        """A literal that, assumed, takes the step and breaks one of `post`."""
        self.queries += 1
        q = self.cx.lit(f"q{self.queries}")
        taken = self.cx.and_(z3.Not(st.guard.err), st.guard.v, z3.Not(st.effect_err))
        self.s.add(z3.Implies(q, self.cx.and_(taken, self.cx.or_(*(z3.Not(p) for p in post)))))
        return q

    def _check(self, *assumptions: Z) -> Z:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _Stop("--timeout reached")
        r = self.cx.check(self.s, *assumptions)
        if self.cx.exhausted:
            why = self.cx.stop
            if why == "work":
                why = f"the work limit of {self.cx.work_limit:,} z3 resource units was reached"
            raise _Stop(str(why))
        return r

    def _drop(self, gi: int, why: str) -> None:
        self.active.remove(gi)
        self.dropped[gi] = why


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
