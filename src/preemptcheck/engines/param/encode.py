"""A model for every number of CPUs in z3: per-CPU state as arrays, actions as rules of a CPU.

The CPU count is an integer constant N (at least the smallest count the model needs); CPUs
are the integers 0 <= i < N, so the CPUs a model names stay themselves. A variable indexed
by `cpus` is an array from the integers to its entry's bit-vector, and so is each CPU's
place in a `steps:` sequence (0: none). Every other variable is one bit-vector per entry, as
in the fixed-instance engine. An action is one rule per step and per value of its small
bindings: a transition of an arbitrary CPU `self` (or of the CPU `on:` pins), with a fresh
CPU for each binding over `cpus`. `any`/`all` over `cpus` become bounded quantifiers; what
has no sound encoding (`count`/`sum` over `cpus`, a CPU used as a number) is a Refusal at
its location. Expressions compute exactly as engines/_z3expr.py's do, errors included: a
step whose evaluation fails is no transition, as in semantics/reference.py.
Only this package, engines/_z3expr.py, engines/_houdini.py and engines/symbolic.py import z3.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import z3

from preemptcheck.engines._z3expr import Compiler, Ctx, Term, Z, ite, slot_width
from preemptcheck.engines.layout import encode
from preemptcheck.engines.param.fragment import Fragment, Refusal
from preemptcheck.expr.ast import (
    Agg,
    Binary,
    Bound,
    Call,
    Const,
    Expr,
    IfExp,
    Member,
    Target,
    Unary,
    Value,
    VarInfo,
    VarRef,
)
from preemptcheck.model.ir import Action, Model

Env = dict[str, "Z | Value"]


def per_cpu(var: VarInfo) -> bool:
    return var.index is not None and var.index.is_cpus


@dataclass(frozen=True, slots=True)
class PState:
    """One state's constants: a bit-vector per entry of the other variables, an array per
    per-CPU variable, and the array of sequence places (None: the model has no sequence)."""

    scalars: dict[tuple[str, int], Z]
    arrays: dict[str, Z]
    seq: Z | None

    def consts(self) -> list[Z]:
        out = list(self.scalars.values()) + list(self.arrays.values())
        return out + ([self.seq] if self.seq is not None else [])


@dataclass(frozen=True, slots=True)
class Rule:
    """One step of one action for one value of its small bindings, as a transition of the
    CPU `cpu` (a constant when pinned) with the CPUs `params` (self first when free)."""

    action: Action
    bindings: tuple[tuple[str, Value], ...]  # the small ones, by value
    cpu_bindings: tuple[tuple[str, Z], ...]  # the bindings over cpus, as CPU constants
    step: int
    cpu: Z
    params: tuple[Z, ...]
    when: Z  # the CPUs exist, the CPU is at this step, the guard holds, no error
    changes: tuple[tuple[Z, Z], ...]  # state constant -> its new value
    enabled: Z  # `when` without the effect's errors: the step is taken (a `never` fires)
    env: Env  # self and the bindings, for expressions about the step


class ParamCompiler(Compiler):
    """Compiles unfolded model expressions over a PState with CPU-valued bound names."""

    def __init__(self, enc: Encoding, st: PState, env: Env) -> None:
        super().__init__(enc.cx, lambda var, entry: st.scalars[(var.name, entry)])
        self.enc = enc
        self.st = st
        self.env = env

    def _cpu(self, e: Expr) -> Z | None:
        """The CPU `e` denotes, when it is a CPU-valued name or a constant index."""
        if isinstance(e, Bound) and e.name in self.env:
            v = self.env[e.name]
            return v if isinstance(v, z3.ExprRef) else None
        return None

    def refuse_cpu(self, *parts: Expr) -> None:
        for p in parts:
            if self._cpu(p) is not None:
                name = p.name if isinstance(p, Bound) else "?"
                raise Refusal(
                    f"the CPU '{name}' is used as a number here; a proof for every number "
                    "of CPUs compares CPUs only with each other and with constants",
                    p.span,
                )

    def ex(self, e: Expr) -> Term:
        cx = self.cx
        if isinstance(e, Bound):
            v = self.env[e.name]
            if isinstance(v, z3.ExprRef):
                return Term(v, cx.false, kind="cpu")
            return super().ex(Const(v, e.type, e.span))
        if isinstance(e, VarRef) and per_cpu(e.var):
            arr = self.st.arrays[e.var.name]
            return self.value(e.var, z3.Select(arr, self.cpu_index(e.index, e)), e.fld)
        if isinstance(e, VarRef) and e.index is not None:
            self.refuse_cpu(e.index)
        if isinstance(e, Agg):
            return self.aggregate(e)
        if isinstance(e, Binary) and e.op in ("==", "!=", "<", "<=", ">", ">="):
            a, b = self._cpu(e.left), self._cpu(e.right)
            if a is not None or b is not None:
                x = a if a is not None else self.cpu_const(e.left)
                y = b if b is not None else self.cpu_const(e.right)
                ops = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y}
                return Term(ops.get(e.op, x >= y), cx.false, kind="bool")
        if isinstance(e, Member) and self._cpu(e.arg) is not None:
            x = self._cpu(e.arg)
            hits = [x == self.cpu_const(o) for o in e.options]
            found = cx.or_(*hits)
            return Term(z3.Not(found) if e.negate else found, cx.false, kind="bool")
        if isinstance(e, Unary):
            self.refuse_cpu(e.arg)
        if isinstance(e, Binary):
            self.refuse_cpu(e.left, e.right)
        if isinstance(e, IfExp):
            self.refuse_cpu(e.then, e.orelse)
        if isinstance(e, Call):
            self.refuse_cpu(*e.args)
        if isinstance(e, Member):
            self.refuse_cpu(*e.options)
        return super().ex(e)

    def cpu_const(self, e: Expr) -> Z:
        if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
            return z3.IntVal(e.value, self.cx.ctx)
        raise Refusal(
            "a CPU is compared with something other than a CPU or a constant; a proof for "
            "every number of CPUs cannot follow it",
            e.span,
        )

    def cpu_index(self, index: Expr | None, at: Expr | Target) -> Z:
        if index is None:
            raise Refusal("a per-CPU variable without its CPU", at.span)
        c = self._cpu(index)
        if c is not None:
            return c
        if isinstance(index, Const) and isinstance(index.value, int):
            assert index.value < self.enc.frag.least, "a named CPU the fragment missed"
            return z3.IntVal(index.value, self.cx.ctx)
        raise Refusal(
            "a per-CPU variable indexed by a computed value; a proof for every number of "
            "CPUs needs a CPU name (self, a binding, an aggregate's variable) or a constant",
            index.span,
        )

    def aggregate(self, e: Agg) -> Term:
        cx = self.cx
        if not e.domain.is_cpus:
            return self.unrolled(e)
        if e.fn in ("count", "sum"):
            raise Refusal(
                f"{e.fn} over cpus has no sound encoding for every number of CPUs (it is a "
                "number that grows with the count); write the property with any/all",
                e.span,
            )
        c = z3.Int(f"{e.var}!{self.enc.fresh()}", cx.ctx)
        inner = ParamCompiler(self.enc, self.st, {**self.env, e.var: c})
        body = inner.ex(e.body)
        cond = inner.ex(e.cond) if e.cond is not None else None
        errs = [body.err] + ([cond.err] if cond is not None else [])
        if not all(z3.is_false(z3.simplify(x)) for x in errs):
            raise Refusal(
                f"{e.fn} over cpus whose elements may fail to evaluate (an index out of "
                "range, a division): the order the reference evaluates them in has no "
                "encoding for every number of CPUs",
                e.span,
            )
        rng = z3.And(c >= 0, c < self.enc.n)
        if cond is not None:
            rng = z3.And(rng, cond.v)
        if e.fn == "any":
            return Term(z3.Exists([c], z3.And(rng, body.v)), cx.false, kind="bool")
        return Term(z3.ForAll([c], z3.Implies(rng, body.v)), cx.false, kind="bool")

    def unrolled(self, e: Agg) -> Term:
        """Over a small domain: written out, as expr/evaluate.py's fold does."""
        cx = self.cx
        terms: list[Term] = []
        for value in e.domain.values:
            inner = ParamCompiler(self.enc, self.st, {**self.env, e.var: value})
            body = inner.ex(e.body)
            cond = inner.ex(e.cond) if e.cond is not None else None
            if e.fn == "any":
                terms.append(body if cond is None else inner.boolop(True, [cond, body]))
            elif e.fn == "all":
                if cond is None:
                    terms.append(body)
                else:
                    v = cx.or_(z3.Not(cond.v), body.v)
                    err = cx.or_(cond.err, cx.and_(cond.v, body.err))
                    terms.append(Term(v, err, kind="bool"))
            elif e.fn == "count":
                hit = body if cond is None else inner.boolop(True, [cond, body])
                terms.append(inner.choose(hit.v, self.const(1), self.const(0), hit.err))
            else:
                terms.append(
                    body if cond is None else inner.choose(cond.v, body, self.const(0), cond.err)
                )
        if e.fn in ("any", "all"):
            if not terms:
                return Term(cx.boolval(e.fn == "all"), cx.false, kind="bool")
            return self.boolop(e.fn == "all", terms)
        out = self.const(0)
        for t in terms:
            out = self.arith("+", out, t)
        return out


class Encoding:
    """The model's state, initial condition, rules and validity, over N CPUs, in one Ctx."""

    def __init__(self, model: Model, frag: Fragment, cx: Ctx) -> None:
        self.model = model
        self.frag = frag
        self.cx = cx
        self._n = 0
        self.n = z3.Int("N", cx.ctx)
        self.codes: dict[tuple[str, tuple[tuple[str, Value], ...], int], int] = {}
        for a in model.actions:
            if not a.is_sequence:
                continue
            if any(d.is_cpus for _, d in a.bindings):
                raise Refusal(
                    f"actions.{a.name}: a `steps:` sequence with a binding over cpus: its "
                    "place would have to remember a CPU, which this encoding does not do",
                    a.span,
                )
            for combo in _combos(a):
                for k in range(1, len(a.steps)):
                    self.codes[(a.name, combo, k)] = len(self.codes) + 1
        self.seq_width = max(1, len(self.codes).bit_length())
        self.x = self.state("x")

    def fresh(self) -> int:
        self._n += 1
        return self._n

    def state(self, name: str) -> PState:
        cx = self.cx
        scalars: dict[tuple[str, int], Z] = {}
        arrays: dict[str, Z] = {}
        for v in self.model.vars:
            w = slot_width(v.info)
            if per_cpu(v.info):
                arrays[v.name] = z3.Array(
                    f"{v.name}@{name}", z3.IntSort(cx.ctx), z3.BitVecSort(w, cx.ctx)
                )
            else:
                for e in range(len(v.entries)):
                    scalars[(v.name, e)] = cx.bv(f"{v.name}#{e}@{name}", w)
        seq = None
        if self.codes:
            seq = z3.Array(f"seq@{name}", z3.IntSort(cx.ctx), z3.BitVecSort(self.seq_width, cx.ctx))
        return PState(scalars, arrays, seq)

    def compiler(self, env: Env, st: PState | None = None) -> ParamCompiler:
        return ParamCompiler(self, st or self.x, env)

    def cpu(self, name: str) -> Z:
        return z3.Int(name, self.cx.ctx)

    def exists(self, c: Z) -> Z:
        return z3.And(c >= 0, c < self.n)

    # ------------------------------------------------------------ initial state, validity

    def init_values(self) -> list[tuple[Z, Z]]:
        """Each state constant's initial value (per-CPU init is uniform: a constant array)."""
        cx = self.cx
        out: list[tuple[Z, Z]] = []
        for v in self.model.vars:
            w = slot_width(v.info)
            if per_cpu(v.info):
                raw = cx.num(encode(v.info, v.init[0]), w)
                out.append((self.x.arrays[v.name], z3.K(z3.IntSort(cx.ctx), raw)))
            else:
                for e, value in enumerate(v.init):
                    out.append((self.x.scalars[(v.name, e)], cx.num(encode(v.info, value), w)))
        if self.x.seq is not None:
            zero = cx.num(0, self.seq_width)
            out.append((self.x.seq, z3.K(z3.IntSort(cx.ctx), zero)))
        return out

    def background(self) -> Z:
        """N is at least the count the model needs; every entry encodes a value of its type."""
        cx = self.cx
        out = [self.n >= self.frag.least]
        i = self.cpu("i!valid")
        for v in self.model.vars:
            info = v.info
            w = slot_width(info)
            top = 1 if info.kind == "bool" else info.hi - info.lo
            if info.kind == "word" or top >= (1 << w) - 1:
                continue
            if per_cpu(info):
                sel = z3.Select(self.x.arrays[v.name], i)
                out.append(z3.ForAll([i], z3.Implies(self.exists(i), z3.ULE(sel, top))))
            else:
                out += [z3.ULE(self.x.scalars[(v.name, e)], top) for e in range(len(v.entries))]
        if self.x.seq is not None and len(self.codes) < (1 << self.seq_width) - 1:
            sel = z3.Select(self.x.seq, i)
            out.append(z3.ForAll([i], z3.Implies(self.exists(i), z3.ULE(sel, len(self.codes)))))
        return cx.and_(*out)

    def valid_at(self, i: Z) -> Z:
        """The background's validity of per-CPU entries, at the CPU `i` only."""
        out = []
        for v in self.model.vars:
            info = v.info
            top = 1 if info.kind == "bool" else info.hi - info.lo
            if per_cpu(info) and info.kind != "word" and top < (1 << slot_width(info)) - 1:
                out.append(z3.ULE(z3.Select(self.x.arrays[v.name], i), top))
        if self.x.seq is not None and len(self.codes) < (1 << self.seq_width) - 1:
            out.append(z3.ULE(z3.Select(self.x.seq, i), len(self.codes)))
        return z3.Implies(self.exists(i), self.cx.and_(*out))

    # ------------------------------------------------------------ rules

    def rules(self) -> list[Rule]:
        out = []
        for a in self.model.actions:
            for combo in _combos(a):
                for k in range(len(a.steps)):
                    out.append(self.rule(a, combo, k))
        return out

    def rule(self, a: Action, combo: tuple[tuple[str, Value], ...], k: int) -> Rule:
        cx = self.cx
        if a.name in self.frag.pinned:
            cpu = z3.IntVal(a.cpus[0], cx.ctx)
            params: list[Z] = []
        else:
            cpu = self.cpu(f"self!{a.name}")
            params = [cpu]
        env: Env = {"self": cpu, **dict(combo)}
        cpu_b: list[tuple[str, Z]] = []
        for name, dom in a.bindings:
            if dom.is_cpus:
                t = self.cpu(f"{name}!{a.name}")
                env[name] = t
                cpu_b.append((name, t))
                params.append(t)
        c = self.compiler(env)
        step = a.steps[k]
        pos: Z = cx.true
        seq = self.x.seq
        small = tuple((n, v) for n, v in combo)
        if seq is not None and k > 0:
            pos = z3.Select(seq, cpu) == self.codes[(a.name, small, k)]
        elif seq is not None and not a.irq:
            pos = z3.Select(seq, cpu) == 0
        guards = [g for g in ([a.when] if k == 0 else []) + [step.when] if g is not None]
        g = c.boolop(True, [c.ex(x) for x in guards]) if guards else c.truth()
        cond = c.ex(step.cond) if step.cond is not None else c.truth()
        errs: list[Z] = []
        arrays = dict(self.x.arrays)
        scalars = dict(self.x.scalars)
        targets = []
        for asg in step.assigns:
            t = asg.target
            value = c.ex(asg.value)
            if value.kind == "cpu":
                raise Refusal(
                    "a CPU stored in a variable; a proof for every number of CPUs cannot follow it",
                    asg.span,
                )
            errs.append(value.err)
            if per_cpu(t.var):
                targets.append((t, [(cx.true, c.cpu_index(t.index, t))], value))
            else:
                if t.index is not None:
                    c.refuse_cpu(t.index)
                entries, ierr = c.entry(t.var, t.index)
                errs.append(ierr)
                targets.append((t, entries, value))
        for j, (ta, ea, _) in enumerate(targets):
            for tb, eb, _ in targets[:j]:
                if ta.var.name == tb.var.name and (
                    ta.fld is None or tb.fld is None or ta.fld == tb.fld
                ):
                    errs.append(
                        cx.or_(
                            *(cx.and_(ca, cb, self._same(ja, jb)) for ca, ja in ea for cb, jb in eb)
                        )
                    )
        for t, entries, value in targets:
            for n, (here, e) in enumerate(entries):
                if per_cpu(t.var):
                    arr = arrays[t.var.name]
                    new, serr = c.store(t, z3.Select(arr, e), value)
                    arrays[t.var.name] = z3.Store(arr, e, new)
                else:
                    key = (t.var.name, e)
                    cur = scalars[key]
                    new, serr = c.store(t, cur, value)
                    scalars[key] = ite(here, new, cur)
                if n == 0:
                    errs.append(serr)
        changes: list[tuple[Z, Z]] = []
        for name, arr in arrays.items():
            if not arr.eq(self.x.arrays[name]):
                changes.append((self.x.arrays[name], ite(cond.v, arr, self.x.arrays[name])))
        for key, val in scalars.items():
            if not val.eq(self.x.scalars[key]):
                changes.append((self.x.scalars[key], ite(cond.v, val, self.x.scalars[key])))
        if seq is not None and a.is_sequence:
            nxt = self.codes.get((a.name, small, k + 1), 0)
            changes.append((seq, z3.Store(seq, cpu, cx.num(nxt, self.seq_width))))
        effect_err = cx.or_(cond.err, cx.and_(cond.v, cx.or_(*errs)))
        when = cx.and_(
            *(self.exists(p) for p in params), pos, z3.Not(g.err), g.v, z3.Not(effect_err)
        )
        enabled = cx.and_(*(self.exists(p) for p in params), pos, z3.Not(g.err), g.v)
        return Rule(
            a, combo, tuple(cpu_b), k, cpu, tuple(params), when, tuple(changes), enabled, env
        )

    def _same(self, a: Z | int, b: Z | int) -> Z:
        if isinstance(a, int) and isinstance(b, int):
            return self.cx.boolval(a == b)
        return a == b


def _combos(a: Action) -> list[tuple[tuple[str, Value], ...]]:
    small = [(n, d) for n, d in a.bindings if not d.is_cpus]
    names = [n for n, _ in small]
    return [
        tuple(zip(names, vals, strict=True))
        for vals in itertools.product(*(d.values for _, d in small))
    ]
