"""Symbolic engine: the transition system in z3, bounded model checking and k-induction.

A state is one bit-vector per variable entry (as engines/layout.py numbers them) and per CPU
its sequence position. T(s, s') picks one step by a selector and requires it to be enabled
and error-free; expressions compute exactly (engines/_z3expr.py). Each property becomes a
predicate decided in a state (invariant, reachable, deadlock, range) or by a step out of it
(never, reachable over actions, range). Bounded model checking finds the shortest violation
or witness; k-induction with all path states distinct proves safety, and proves a reachable
property unreachable, strengthened by the invariants engines/_houdini.py proves first.
Work is counted in z3's resource units, never seconds: at most `rlimit` per query and
`work_limit` per run. Each run builds everything in a z3 context of its own, so it repeats
the same way anywhere, in any process, whatever ran before it. Only this module, its
private helpers engines/_z3expr.py and engines/_houdini.py, and engines/param/ (proofs for
every number of CPUs, on the same helpers) import z3.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import z3

from preemptcheck.engines._houdini import Move, candidates, columns, houdini, sample_states
from preemptcheck.engines._z3expr import Compiler, Ctx, GiveUp, Renaming, Term, Z
from preemptcheck.engines._z3expr import slot_width as _slot_width
from preemptcheck.engines._z3step import step_terms
from preemptcheck.engines.layout import Layout, encode
from preemptcheck.expr.ast import Const, Expr, VarInfo
from preemptcheck.model.ir import Model, PropKind
from preemptcheck.semantics.reference import Outcome, Reference
from preemptcheck.semantics.system import Instance, SpecStep, State, StepLabel, TransitionSystem
from preemptcheck.semantics.trace import ReplayError, Trace

# z3 resource units one run may spend in all, strengthening included (--work-limit): the
# largest bundled run, models-large/full-smp.yaml, spends 27.5 million, the models/ ones at
# most 8.9 million, so no bundled model comes near it
DEFAULT_WORK_LIMIT = 500_000_000
BUILD_TIMEOUT = "--timeout reached while the transition relation was being built"


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise TimeoutError


@dataclass(frozen=True, slots=True)
class PropertyOutcome:
    prop_index: int
    status: str  # "violated" | "witnessed" | "proved" | "unreachable" | "bounded" | "unknown"
    depth: int  # trace length, or k of the induction proof, or depth checked
    trace: Trace | None  # for violated / witnessed
    reason: str = ""  # for unknown; for proved / unreachable: "k-induction, k=3"
    # counterexample to induction: a path whose states satisfy the property (reachable or
    # not) into one that breaks it (by a step out of it, for action properties)
    cti: Trace | None = None


@dataclass(frozen=True, slots=True)
class SymbolicRun:
    outcomes: tuple[PropertyOutcome, ...]  # one per model property, in order
    bound: int
    elapsed: float
    depth: int = 0  # how deep bounded model checking went (it stops once all are decided)
    work: int = 0  # z3 resource units the whole run spent (its context's rlimit count)
    invariants: tuple[str, ...] = ()  # what strengthened the induction, in model syntax
    unwritten: int = 0  # and how many more the language cannot write


@dataclass(frozen=True, slots=True)
class _Vars:
    """One state's z3 constants: a bit-vector per variable entry, per CPU its position."""

    slots: tuple[Z, ...]
    seq: tuple[Z, ...]

    def all(self) -> tuple[Z, ...]:
        return self.slots + self.seq


@dataclass(frozen=True, slots=True)
class _Step:
    """One live step over the template state x: enabled, guard error, effect error, writes."""

    spec: SpecStep
    en: Z
    guard_err: Z
    effect_err: Z
    writes: dict[int, Z]  # slot -> new bits
    seq: int | None  # the CPU's next position code, for steps of a sequence


@dataclass
class _Goal:
    """One property as queries: `find[level]` decides it in a state (level 0, trace length =
    depth) or by a step out of it (level 1, length = depth + 1); `base[level]` is what
    k-induction must exclude (None: no proof is attempted)."""

    pi: int
    witness: bool
    find: dict[int, Z]
    base: dict[int, Z]
    status: str = ""  # "" while open
    depth: int = 0
    trace: Trace | None = None
    reason: str = ""
    cti: Trace | None = None
    provable: bool = True


@dataclass
class _Run:
    """The mutable state of one run: solvers, the unrolled paths, and the goals."""

    bmc: Z
    ind: Z
    path: list[_Vars] = field(default_factory=list)
    sels: list[Z] = field(default_factory=list)
    tpath: list[_Vars] = field(default_factory=list)
    tsels: list[Z] = field(default_factory=list)
    lits: dict[tuple[int, int, bool], Z] = field(default_factory=dict)
    lemmas: list[Z] = field(default_factory=list)  # templates of what never holds (proved)
    invariants: list[Z] = field(default_factory=list)  # templates of what always holds (proved)
    strengthened: int = 0  # how many auxiliary invariants strengthen the induction
    texts: list[str] = field(default_factory=list)  # those invariants, in model syntax
    unwritten: int = 0  # those the language cannot write (about places in `steps:`)


class Symbolic:
    """Compiles a model's transition system to z3 once; `run` checks every property."""

    def __init__(self, model: Model, *, deadline: float | None = None) -> None:
        """`deadline` (time.monotonic(), --timeout): past it the build stops, and `run`
        finds every property unknown."""
        self.model = model
        self.cx = Ctx()  # the run's own z3 context: nothing from earlier runs shows through
        self.steps: list[_Step] = []
        self.gave_up: str | None = None
        self.ran = False
        self.phase: Callable[[str], None] = lambda text: None
        self.deadline = deadline
        self._renamings: dict[tuple[int, int, int], tuple[Renaming, object, object, object]] = {}
        try:
            self.ts = TransitionSystem(model, deadline=deadline)
        except TimeoutError:
            self.gave_up = BUILD_TIMEOUT
            return
        self.layout = Layout(self.ts)
        self.ref = Reference(model)
        self.widths = [_slot_width(sl.var) for sl in self.layout.slots]
        self.seq_widths = [max(1, w) for _, w in self.layout.seq_slots]
        self.x = self._fresh("x")
        self.comp = Compiler(self.cx, self._reader(self.x))
        try:
            for inst in self.ts.instances:
                _check_deadline(deadline)
                for k, spec in enumerate(inst.steps):
                    if not (isinstance(spec.guard, Const) and spec.guard.value is False):
                        self.steps.append(self._step(inst, k, spec))
        except GiveUp as exc:
            self.steps = []
            self.gave_up = f"the encoding of the actions gave up: {exc}"
        except TimeoutError:
            self.steps = []
            self.gave_up = BUILD_TIMEOUT
        self.sel_width = max(1, (len(self.steps) - 1).bit_length())
        self.sel = self.cx.bv("sel", self.sel_width)
        self.y = self._fresh("y")

    # ------------------------------------------------------------ states

    def _fresh(self, name: str) -> _Vars:
        slots = tuple(
            self.cx.bv(f"{sl.var.name}#{sl.entry}@{name}", w)
            for sl, w in zip(self.layout.slots, self.widths, strict=True)
        )
        seq = tuple(self.cx.bv(f"seq{c}@{name}", w) for c, w in enumerate(self.seq_widths))
        return _Vars(slots, seq)

    def _reader(self, s: _Vars):  # type: ignore[no-untyped-def]
        def read(var: VarInfo, entry: int) -> Z:
            return s.slots[self.layout.first_slot[var.name] + entry]

        return read

    def _init(self, s: _Vars) -> Z:
        eqs = []
        for var in self.model.vars:
            for e, value in enumerate(var.init):
                raw = encode(var.info, value)
                eqs.append(s.slots[self.layout.first_slot[var.name] + e] == raw)
        return self.cx.and_(*eqs, *(q == 0 for q in s.seq))

    def _valid(self, s: _Vars) -> Z:
        """Every entry encodes a value of its type; every position is one of the CPU's codes."""
        out = []
        for sl, v, w in zip(self.layout.slots, s.slots, self.widths, strict=True):
            top = 1 if sl.var.kind == "bool" else sl.var.hi - sl.var.lo
            if sl.var.kind != "word" and top < (1 << w) - 1:
                out.append(z3.ULE(v, top))
        for cpu, q in enumerate(s.seq):
            n = len(self.layout.seq_codes[cpu])
            if n < (1 << self.seq_widths[cpu]) - 1:
                out.append(z3.ULE(q, n))
        return self.cx.and_(*out)

    def _at(self, f: Z, s: _Vars, sel: Z | None = None, t: _Vars | None = None) -> Z:
        """The template formula `f` (over x, sel, y) instantiated on s, sel, t."""
        key = (id(s), id(sel), id(t))
        known = self._renamings.get(key)
        if known is None:
            pairs = list(zip(self.x.all(), s.all(), strict=True))
            if sel is not None:
                pairs.append((self.sel, sel))
            if t is not None:
                pairs += list(zip(self.y.all(), t.all(), strict=True))
            # s, sel and t kept with it, so that their ids are not reused by other objects
            known = self._renamings[key] = (Renaming(pairs), s, sel, t)
        return known[0](f)

    def _decode(self, m: Z, s: _Vars) -> State:
        packed = 0
        for sl, v in zip(self.layout.slots, s.slots, strict=True):
            packed |= m.eval(v, model_completion=True).as_long() << sl.offset
        for (off, _), q in zip(self.layout.seq_slots, s.seq, strict=True):
            packed |= m.eval(q, model_completion=True).as_long() << off
        return self.layout.unpack(packed)

    # ------------------------------------------------------------ steps

    def _step(self, inst: Instance, k: int, spec: SpecStep) -> _Step:
        c = self.comp
        cpu = inst.cpu
        codes = self.layout.seq_codes[cpu]
        q = self.x.seq[cpu]
        pos = self.cx.true
        if k > 0:
            pos = q == codes[(inst.index, k)]
        elif not inst.action.irq and codes:
            pos = q == 0
        terms = step_terms(
            c,
            spec,
            lambda var, entry: self.layout.first_slot[var] + entry,
            lambda slot: self.x.slots[slot],
        )
        g = terms.guard
        seq = None
        if inst.action.is_sequence or len(inst.steps) > 1:
            seq = codes.get((inst.index, k + 1), 0)
        return _Step(
            spec,
            en=self.cx.and_(pos, z3.Not(g.err), g.v),
            guard_err=self.cx.and_(pos, g.err),
            effect_err=terms.effect_err,
            writes=terms.writes,
            seq=seq,
        )

    def _trans(self) -> Z:
        """T(x, sel, y): the selected step is enabled and error-free, and y is its result."""
        if not self.steps:
            return self.cx.false
        out = []
        if len(self.steps) < 1 << self.sel_width:
            out.append(z3.ULT(self.sel, len(self.steps)))
        for j, st in enumerate(self.steps):
            out.append(z3.Implies(self.sel == j, self.cx.and_(st.en, z3.Not(st.effect_err))))
        for slot, (old, new) in enumerate(zip(self.x.slots, self.y.slots, strict=True)):
            _check_deadline(self.deadline)
            val = old
            for j, st in reversed(list(enumerate(self.steps))):
                if slot in st.writes:
                    val = z3.If(self.sel == j, st.writes[slot], val)
            out.append(new == val)
        for cpu, (old, new) in enumerate(zip(self.x.seq, self.y.seq, strict=True)):
            val = old
            for j, st in reversed(list(enumerate(self.steps))):
                if st.seq is not None and st.spec.label.cpu == cpu:
                    val = z3.If(self.sel == j, self.cx.num(st.seq, old.size()), val)
            out.append(new == val)
        return self.cx.and_(*out)

    # ------------------------------------------------------------ properties

    def _when(self, when: Expr | None) -> Term:
        return self.comp.ex(when) if when is not None else self.comp.truth()

    def _goals(self) -> tuple[list[_Goal], dict[int, str]]:
        """Each property's queries; properties whose encoding gave up, with the reason."""
        goals: list[_Goal] = []
        failed: dict[int, str] = {}
        state_errs: list[Z] = []
        step_errs: list[Z] = [
            self.cx.or_(s.guard_err, self.cx.and_(s.en, s.effect_err)) for s in self.steps
        ]
        for pi, prop in enumerate(self.ts.properties):
            try:
                goal = self._goal(pi, prop.kind, state_errs, step_errs)
            except GiveUp as exc:
                failed[pi] = f"the encoding gave up: {exc}"
                continue
            if goal is not None:
                goals.append(goal)
        gave_up = dict(failed)  # the range check needs every other property's errors
        for pi, prop in enumerate(self.ts.properties):
            if prop.kind == PropKind.LEADS_TO:
                failed[pi] = "leads_to is decided on the explicit state graph"
            elif prop.kind == PropKind.MONITOR:
                failed[pi] = "monitors are decided on the explicit state graph"
            elif prop.kind == PropKind.RANGE and gave_up:
                failed[pi] = next(iter(gave_up.values()))
            elif prop.kind == PropKind.RANGE:
                goals.append(
                    _Goal(pi, False, {0: self.cx.or_(*state_errs), 1: self.cx.or_(*step_errs)}, {})
                )
                goals[-1].base = dict(goals[-1].find)
        return goals, failed

    def _goal(
        self, pi: int, kind: PropKind, state_errs: list[Z], step_errs: list[Z]
    ) -> _Goal | None:
        if kind in (PropKind.INVARIANT, PropKind.REACHABLE):
            terms = [self.comp.ex(sp.expr) for sp in self.ts.state_props if sp.prop_index == pi]
            state_errs.extend(t.err for t in terms)
            if kind == PropKind.INVARIANT:
                bad = self.cx.or_(*(self.cx.or_(t.err, z3.Not(t.v)) for t in terms))
                return _Goal(pi, False, {0: bad}, {0: bad})
            hit = self.cx.or_(*(self.cx.and_(z3.Not(t.err), t.v) for t in terms))
            return _Goal(
                pi, True, {0: hit}, {0: self.cx.or_(*(self.cx.or_(t.err, t.v) for t in terms))}
            )
        if kind in (PropKind.NEVER, PropKind.REACHABLE_ACTION):
            hits, bads = [], []
            for j, st in enumerate(self.steps):
                sel = st.spec.never if kind == PropKind.NEVER else st.spec.reach
                for p, when in sel:
                    if p != pi:
                        continue
                    w = self._when(when)
                    step_errs[j] = self.cx.or_(step_errs[j], self.cx.and_(st.en, w.err))
                    hits.append(self.cx.and_(st.en, z3.Not(w.err), w.v))
                    bads.append(self.cx.and_(st.en, self.cx.or_(w.err, w.v)))
            if kind == PropKind.NEVER:
                return _Goal(pi, False, {1: self.cx.or_(*bads)}, {1: self.cx.or_(*bads)})
            return _Goal(pi, True, {1: self.cx.or_(*hits)}, {1: self.cx.or_(*bads)})
        if kind == PropKind.DEADLOCK:
            stuck = self.cx.and_(*(z3.Not(s.en) for s in self.steps))
            return _Goal(pi, False, {0: stuck}, {0: stuck})
        return None  # range: built once every other property has added its errors

    # ------------------------------------------------------------ run

    def run(
        self,
        *,
        bound: int = 30,
        rlimit: int | None = 50_000_000,
        work_limit: int | None = DEFAULT_WORK_LIMIT,
        strengthen: bool = True,
        strengthen_with: Sequence[str] = (),
        deadline: float | None = None,  # time.monotonic() by which to stop (--timeout)
        phase: Callable[[str], None] | None = None,  # told where the run is, in words
    ) -> SymbolicRun:
        """Every property, within `rlimit` z3 resource units per query and `work_limit` for
        the whole run (strengthening included): what is open when it is reached is unknown.
        `strengthen_with` names invariant properties of the model to strengthen with instead
        of mined candidates (an invariant proved for every number of CPUs, engines/param):
        they are proved inductive together with the properties, in one query when they are.
        The context is this run's: an instance runs once."""
        assert not self.ran, "a Symbolic instance runs once: its z3 context is that run's"
        self.ran = True
        if phase is not None:
            self.phase = phase
        t0 = time.monotonic()
        n = len(self.model.properties)
        if deadline is not None:
            self.deadline = deadline if self.deadline is None else min(deadline, self.deadline)
        if self.gave_up is None:
            try:
                goals, failed = self._goals()
                trans = self._trans()
            except TimeoutError:
                self.gave_up = BUILD_TIMEOUT
        if self.gave_up is not None:
            gave_up = [PropertyOutcome(pi, "unknown", 0, None, self.gave_up) for pi in range(n)]
            return SymbolicRun(tuple(gave_up), bound, time.monotonic() - t0)
        cx = self.cx
        cx.rlimit, cx.work_limit = rlimit or None, work_limit
        run = _Run(cx.solver("QF_BV"), cx.solver("QF_BV"))
        if strengthen_with:
            self._strengthen_with(run, goals, trans, strengthen_with)
        elif strengthen:
            self._strengthen(run, goals, deadline)
        depth = 0
        if cx.exhausted:
            self._stop(goals, "strengthening", 0)
        else:
            depth = self._deepen(run, trans, goals, bound, deadline)
        outs: list[PropertyOutcome] = []
        by_pi = {g.pi: g for g in goals}
        for pi in range(n):
            if pi in failed:
                outs.append(PropertyOutcome(pi, "unknown", 0, None, failed[pi]))
                continue
            g = by_pi[pi]
            if not g.status:
                g.status, g.depth = "bounded", bound
            cti = g.cti if g.status in ("bounded", "unknown") else None
            outs.append(PropertyOutcome(pi, g.status, g.depth, g.trace, g.reason, cti))
        return SymbolicRun(
            tuple(outs),
            bound,
            time.monotonic() - t0,
            depth,
            cx.work(),
            tuple(run.texts),
            run.unwritten,
        )

    def _deepen(
        self, run: _Run, trans: Z, goals: list[_Goal], bound: int, deadline: float | None
    ) -> int:
        """Bounded model checking and k-induction one step deeper at a time; the depth reached."""
        s0 = self._fresh("s0")
        run.path.append(s0)
        run.bmc.add(self._at(self._init(s0), s0))
        run.bmc.add(*(self._at(f, s0) for f in run.invariants))
        t_0 = self._fresh("t0")
        run.tpath.append(t_0)
        run.ind.add(self._valid(t_0))
        run.ind.add(*(self._at(f, t_0) for f in run.invariants))
        for m in range(bound + 1):
            still = sum(1 for g in goals if not g.status)
            self.phase(
                f"BMC depth {m} of {bound}"
                + (f", k-induction k={m + 1}" if m < bound else "")
                + f", {still} of {len(goals)} properties open"
            )
            if m > 0:
                self._extend(run, trans, m)
            self._bmc(run, goals, m, bound)
            if m < bound and not self.cx.exhausted:
                self._induction(run, trans, goals, m + 1)
            if self.cx.exhausted:
                self._stop(goals, f"depth {m}", max(m - 1, 0))
                return m
            if all(g.status for g in goals):
                return m
            if deadline is not None and time.monotonic() > deadline and m < bound:
                for g in goals:
                    if not g.status:
                        g.status, g.depth = "unknown", m
                        g.reason = f"--timeout reached after depth {m}"
                return m
        return bound

    def _stop(self, goals: list[_Goal], where: str, depth: int) -> None:
        """The work limit is reached, or a signal came: what is decided stays, what is open
        is unknown."""
        why = self.cx.stop
        if why == "work":
            why = f"the work limit of {self.cx.work_limit:,} z3 resource units was reached"
        for g in goals:
            if not g.status:
                g.status, g.depth = "unknown", depth
                g.reason = f"{why} at {where}"

    def _extend(self, run: _Run, trans: Z, m: int) -> None:
        prev, cur = run.path[-1], self._fresh(f"s{m}")
        sel = self.cx.bv(f"sel@s{m - 1}", self.sel_width)
        run.bmc.add(self._at(trans, prev, sel, cur))
        run.bmc.add(*(self._at(f, cur) for f in run.invariants))
        run.path.append(cur)
        run.sels.append(sel)

    def _bmc(self, run: _Run, goals: list[_Goal], m: int, bound: int) -> None:
        """Decide what a trace of length m (level 0) or m + 1 (level 1) can show."""
        s = run.path[m]
        levels = (0, 1) if m < bound else (0,)
        # the base case covers the witness: one query tells whether any goal needs a look
        queries = [
            self._at(g.base.get(lv, g.find.get(lv)), s)
            for g in goals
            if not g.status
            for lv in levels
            if lv in g.find
        ]
        if not queries:
            return
        any_lit = self.cx.lit(f"any@{m}")
        run.bmc.add(z3.Implies(any_lit, self.cx.or_(*queries)))
        r = self.cx.check(run.bmc, any_lit)
        if r == z3.unknown and self.cx.exhausted:
            return
        if r == z3.unsat:
            run.bmc.add(z3.Not(self.cx.or_(*queries)))  # known now: a lemma for deeper queries
            return
        for lv in levels:
            for g in goals:
                if g.status or lv not in g.find:
                    continue
                self._bmc_goal(run, g, lv, m)

    def _bmc_goal(self, run: _Run, g: _Goal, lv: int, m: int) -> None:
        s = run.path[m]
        lit = self.cx.lit(f"find{g.pi}.{lv}@{m}")
        run.bmc.add(z3.Implies(lit, self._at(g.find[lv], s)))
        r = self.cx.check(run.bmc, lit)
        if r == z3.unknown and self.cx.exhausted:
            return  # left open: the run stops at the work limit
        if r == z3.unsat and not g.witness:
            run.bmc.add(z3.Not(self._at(g.find[lv], s)))  # a lemma for deeper queries
        if r == z3.unknown:
            g.status, g.depth = "unknown", max(m + lv - 1, 0)
            g.reason = f"z3 gave up at depth {m + lv}: {run.bmc.reason_unknown()}"
        elif r == z3.sat:
            g.status = "witnessed" if g.witness else "violated"
            g.trace = self._trace(run, run.bmc.model(), g, lv, m)
            g.depth = g.trace.length
        elif g.witness and g.provable and lv in g.base:
            # no witness here; if it could still be evaluated wrongly here, no proof
            blit = self.cx.lit(f"base{g.pi}.{lv}@{m}")
            run.bmc.add(z3.Implies(blit, self._at(g.base[lv], s)))
            if self.cx.check(run.bmc, blit) != z3.unsat:
                g.provable = False
            else:
                run.bmc.add(z3.Not(self._at(g.base[lv], s)))

    def _induction(self, run: _Run, trans: Z, goals: list[_Goal], k: int) -> None:
        """Simultaneous k-induction over the open goals, on paths of distinct states.

        Every goal of the candidate set is assumed in the first k states and asked for in the
        last; a goal that can fail there leaves the set, and the rest are asked again. When
        no goal fails, the set holds in every reachable state: the base case (bounded model
        checking up to k - 1) starts the induction, and a shortest path to any deeper state
        is a path of distinct states whose first k hold every goal of the set.
        """
        cand = [g for g in goals if not g.status and g.provable and g.base]
        if not cand:
            return
        prev, cur = run.tpath[-1], self._fresh(f"t{k}")
        sel = self.cx.bv(f"sel@t{k - 1}", self.sel_width)
        run.ind.add(self._at(trans, prev, sel, cur))
        run.tsels.append(sel)
        for t in run.tpath:  # a simple path: every state distinct
            run.ind.add(self.cx.or_(*(a != b for a, b in zip(t.all(), cur.all(), strict=True))))
        for lemma in run.lemmas:
            run.ind.add(z3.Not(self._at(lemma, cur)))
        run.ind.add(*(self._at(f, cur) for f in run.invariants))
        run.tpath.append(cur)
        bad = {g.pi: self._at(self._induct(g), cur) for g in cand}
        for query in itertools.count():
            if not cand:
                break
            some = self.cx.lit(f"some@t{k}.{query}")
            run.ind.add(z3.Implies(some, self.cx.or_(*(bad[g.pi] for g in cand))))
            lits = [self._lit(run, h, i, good=True) for h in cand for i in range(k)]
            r = self.cx.check(run.ind, *lits, some)
            if r == z3.unsat:
                break
            if r == z3.unknown and self.cx.exhausted:
                return  # left open: the run stops at the work limit
            if r == z3.unknown:
                for g in cand:
                    g.provable = False
                    g.reason = f"k-induction gave up at k={k}: {run.ind.reason_unknown()}"
                return
            m = run.ind.model()
            states = tuple(self._decode(m, t) for t in run.tpath)
            labels = tuple(
                self.steps[m.eval(q, model_completion=True).as_long()].spec.label for q in run.tsels
            )
            cti = Trace(states, labels)
            failing = [g for g in cand if z3.is_true(m.eval(bad[g.pi], model_completion=True))]
            assert failing, "a model of 'some goal fails' where none fails"
            for g in failing:
                g.cti = cti
                cand.remove(g)
        for g in cand:
            g.status = "unreachable" if g.witness else "proved"
            g.depth, g.reason, g.cti = k, self._how(run, k), None
            run.lemmas.append(self._induct(g))  # an invariant now: it strengthens later proofs
            for t in run.tpath:
                run.ind.add(z3.Not(self._at(self._induct(g), t)))

    def _induct(self, g: _Goal) -> Z:
        """What k-induction must exclude for `g`, in any one state."""
        return self.cx.or_(*g.base.values())

    @staticmethod
    def _how(run: _Run, k: int) -> str:
        n = run.strengthened
        return f"k-induction, k={k}" + (f", strengthened by {n} invariants" if n else "")

    def _strengthen(self, run: _Run, goals: list[_Goal], deadline: float | None) -> None:
        """Houdini over mined candidates and the properties: what survives is proved (k=1)."""
        cand = [g for g in goals if not g.status and g.provable and g.base]
        if not cand:
            return
        self.phase("strengthening: mining candidate invariants from sampled states")
        samples = sample_states(self.layout)
        mined = candidates(self.cx, columns(self.layout, self.x.slots, self.x.seq), samples)
        facts = [f for f, _ in mined]
        formulas = [*facts, *(z3.Not(self._induct(g)) for g in cand)]
        init = self._init_values()
        holds0 = [z3.is_true(z3.simplify(z3.substitute(f, *init))) for f in formulas]
        result = houdini(
            self.cx, formulas, holds0, self._moves(), self._valid(self.x), deadline, self.phase
        )
        if result.gave_up is not None:
            return
        kept = result.kept
        run.strengthened = sum(1 for k in kept if k < len(facts))
        run.invariants = [formulas[k] for k in sorted(kept)]
        # what the proofs rest on, in model syntax (a fact about a CPU's place in a `steps:`
        # sequence has none: the language cannot name it)
        texts = [mined[k][1] for k in sorted(kept) if k < len(facts)]
        run.texts = [t for t in texts if t is not None]
        run.unwritten = len(texts) - len(run.texts)
        for j, g in enumerate(cand):
            if len(facts) + j in kept:
                g.status = "unreachable" if g.witness else "proved"
                g.depth, g.reason = 1, self._how(run, 1)

    def _strengthen_with(self, run: _Run, goals: list[_Goal], trans: Z, ids: Sequence[str]) -> None:
        """The named invariants and the properties, 1-inductive together: one query over the
        whole transition relation when they are, else Houdini over them."""
        cand = [g for g in goals if not g.status and g.provable and g.base]
        given = {pi for pi, p in enumerate(self.ts.properties) if p.id in ids}
        cand.sort(key=lambda g: g.pi not in given)  # the given ones first
        if not cand:
            return
        self.phase("strengthening: the given invariants, in one induction query")
        formulas = [z3.Not(self._induct(g)) for g in cand]
        init = self._init_values()
        holds0 = [z3.is_true(z3.simplify(z3.substitute(f, *init))) for f in formulas]
        s = self.cx.solver("QF_BV")
        s.add(self._valid(self.x), trans)
        live = [f for f, ok in zip(formulas, holds0, strict=True) if ok]
        s.add(*live)
        s.add(self.cx.or_(*(z3.Not(self._at(f, self.y)) for f in live)))
        r = self.cx.check(s)
        if r == z3.unsat:
            kept = {k for k, ok in enumerate(holds0) if ok}
        elif r == z3.sat:
            result = houdini(self.cx, formulas, holds0, self._moves(), self._valid(self.x))
            if result.gave_up is not None:
                return
            kept = set(result.kept)
        else:
            return
        run.invariants = [formulas[k] for k in sorted(kept)]
        run.strengthened = sum(1 for k in kept if cand[k].pi in given)
        run.texts = [
            self.ts.properties[cand[k].pi].source for k in sorted(kept) if cand[k].pi in given
        ]
        for k in kept:
            g = cand[k]
            g.status = "unreachable" if g.witness else "proved"
            g.depth, g.reason = 1, self._how(run, 1)

    def _moves(self) -> list[Move]:
        out = []
        for st in self.steps:
            changes = [(self.x.slots[slot], new) for slot, new in st.writes.items()]
            if st.seq is not None:
                q = self.x.seq[st.spec.label.cpu]
                changes.append((q, self.cx.num(st.seq, q.size())))
            out.append(Move(self.cx.and_(st.en, z3.Not(st.effect_err)), tuple(changes)))
        return out

    def _init_values(self) -> list[tuple[Z, Z]]:
        packed = self.layout.pack(self.ref.initial())
        out = []
        for sl, v in zip(self.layout.slots, self.x.slots, strict=True):
            out.append((v, self.cx.num((packed >> sl.offset) & sl.mask, v.size())))
        for (off, w), q in zip(self.layout.seq_slots, self.x.seq, strict=True):
            out.append((q, self.cx.num((packed >> off) & ((1 << w) - 1), q.size())))
        return out

    def _lit(self, run: _Run, g: _Goal, i: int, *, good: bool) -> Z:
        """A literal that, assumed, makes t_i good (or bad) for `g`."""
        key = (g.pi, i, good)
        if key not in run.lits:
            lit = self.cx.lit(f"{'good' if good else 'bad'}{g.pi}@t{i}")
            f = self._at(self._induct(g), run.tpath[i])
            run.ind.add(z3.Implies(lit, z3.Not(f) if good else f))
            run.lits[key] = lit
        return run.lits[key]

    # ------------------------------------------------------------ traces

    def _trace(self, run: _Run, m: Z, g: _Goal, lv: int, depth: int) -> Trace:
        states = [self._decode(m, s) for s in run.path[: depth + 1]]
        labels: list[StepLabel] = []
        for sel in run.sels[:depth]:
            j = m.eval(sel, model_completion=True).as_long()
            labels.append(self.steps[j].spec.label)
        prop = self.ts.properties[g.pi]
        last = states[-1]
        if lv == 0:
            cpu, msg = -1, None
            if prop.kind != PropKind.DEADLOCK:
                for p, c, v in self.ref.state_checks(last):
                    if prop.kind == PropKind.RANGE:
                        bad = isinstance(v, str)
                    elif p != g.pi:
                        continue
                    else:
                        bad = v is True if g.witness else v is not True
                    if bad:
                        cpu, msg = c, v if isinstance(v, str) else None
                        break
            return Trace(tuple(states), tuple(labels), cpu=cpu, message=msg)

        def fires(o: Outcome) -> bool:
            if prop.kind == PropKind.RANGE:
                return o.error is not None or bool(o.prop_errors)
            if g.witness:
                return g.pi in o.hits
            return g.pi in o.hits or g.pi in dict(o.prop_errors)

        final = next((o for o in self.ref.outcomes(last) if fires(o)), None)
        if final is None:
            raise ReplayError(f"{prop.id}: the symbolic engine's last step has no real counterpart")
        errors = dict(final.prop_errors)
        msg = final.error or errors.get(g.pi) or next(iter(errors.values()), None)
        if prop.kind != PropKind.RANGE:
            msg = errors.get(g.pi)
        labels.append(final.label)
        if final.next is not None:
            states.append(final.next)
        return Trace(
            tuple(states),
            tuple(labels),
            failed=final.next is None,
            cpu=final.label.cpu,
            message=msg,
        )
