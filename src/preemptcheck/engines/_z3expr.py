"""Expressions -> z3 bit-vectors that compute exactly as the reference does on unbounded ints.

Every integer subterm carries an interval of the values it can take when it evaluates
without error; its bit-vector is just wide enough to hold that interval as a signed number,
and each operation first sign-extends its operands to a width where the result is exact.
Evaluation errors are a Boolean beside each value, composed with the reference's
left-to-right short-circuit order; a value is meaningless wherever its error holds.
Terms are built in one run's own context (Ctx), which also meters the run's z3 work.
Only this module, engines/_houdini.py, engines/symbolic.py and engines/param/ import z3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3
import z3.z3 as _z3  # Renaming: the C call behind z3.substitute

from preemptcheck.core import interrupt
from preemptcheck.expr.ast import (
    BOOL,
    Binary,
    BoolOp,
    BoolT,
    Call,
    Const,
    EnumT,
    Expr,
    IfExp,
    Member,
    Target,
    Unary,
    VarInfo,
    VarRef,
)
from preemptcheck.expr.evaluate import MAX_SHIFT

Z = Any  # a z3 term: z3 ships no type information
MAX_WIDTH = 512  # wider exact arithmetic is given up on (a shift by a large count)


class GiveUp(Exception):
    """An expression cannot be kept exact within MAX_WIDTH bits: the property is unknown."""


def need(lo: int, hi: int) -> int:
    """The fewest bits that hold every value of [lo, hi] as a signed number."""
    return max(
        1, (lo if lo >= 0 else ~lo).bit_length() + 1, (hi if hi >= 0 else ~hi).bit_length() + 1
    )


def fit(t: Z, w: int) -> Z:
    """`t` sign-extended (or, when its value fits, truncated) to `w` bits."""
    n = t.size()
    if n < w:
        return z3.SignExt(w - n, t)
    if n > w:
        return z3.Extract(w - 1, 0, t)
    return t


def enum_width(t: EnumT) -> int:
    return max(1, (len(t.values) - 1).bit_length())


def slot_width(var: VarInfo) -> int:
    """Bits of one stored entry: bool 1, enum code, int offset from lo, word `bits`."""
    if var.kind == "word":
        return var.hi.bit_length()
    if isinstance(var.type, EnumT):
        return enum_width(var.type)
    if var.kind == "bool":
        return 1
    return max(1, (var.hi - var.lo).bit_length())


class Renaming:
    """One substitution applied to many terms (z3.substitute's result, without its cost).

    z3.substitute checks every pair's sorts and rebuilds the C arrays on each call, in
    Python: unrolling a model of a few hundred variables over 30 steps spent most of its time
    there. Here the sorts are checked and the arrays built once.
    """

    def __init__(self, pairs: list[tuple[Z, Z]]) -> None:
        for a, b in pairs:
            if not a.sort().eq(b.sort()):
                raise ValueError(f"renaming {a} of sort {a.sort()} to {b} of sort {b.sort()}")
        self._keep = pairs  # the arrays hold bare pointers: keep their terms alive
        self._n = len(pairs)
        self._from = (_z3.Ast * self._n)(*(a.as_ast() for a, _ in pairs))
        self._to = (_z3.Ast * self._n)(*(b.as_ast() for _, b in pairs))

    def __call__(self, t: Z) -> Z:
        ctx = t.ctx
        raw = _z3.Z3_substitute(ctx.ref(), t.as_ast(), self._n, self._from, self._to)
        return _z3._to_expr_ref(raw, ctx)


class Ctx:
    """One engine run's own z3 context: every term, solver and model of the run lives in it.

    z3's shared main context would make a run depend on what the process built before it:
    terms are hash-consed and numbered in creation order, and those numbers order operands
    and variables inside z3, so its models (the traces), the work a query takes and whether
    it ends `unknown` would change with earlier runs. The context's resource counter is the
    run's work: `check` keeps each query within `rlimit` and the run within `work_limit`.
    """

    def __init__(self) -> None:
        self.ctx = z3.Context()
        self.true: Z = z3.BoolVal(True, self.ctx)
        self.false: Z = z3.BoolVal(False, self.ctx)
        self.rlimit: int | None = None  # resource units per query (None: no limit)
        self.work_limit: int | None = None  # resource units of the whole run (None: no limit)
        self.stop: str | None = None  # why the run must stop: the work limit, or a signal
        # every solver reports the context's count; this one is made first, so that reading
        # the count (or not) changes nothing else in the context
        self._probe: Z = z3.SimpleSolver(ctx=self.ctx)
        self.work()

    # ------------------------------------------------------------ terms

    def bv(self, name: str, width: int) -> Z:
        return z3.BitVec(name, width, self.ctx)

    def num(self, value: int, width: int) -> Z:
        return z3.BitVecVal(value, width, self.ctx)

    def lit(self, name: str) -> Z:
        return z3.Bool(name, self.ctx)

    def boolval(self, value: bool) -> Z:
        return self.true if value else self.false

    def or_(self, *xs: Z) -> Z:
        live = [x for x in xs if not z3.is_false(x)]
        if any(z3.is_true(x) for x in live):
            return self.true
        return self.false if not live else live[0] if len(live) == 1 else z3.Or(*live)

    def and_(self, *xs: Z) -> Z:
        live = [x for x in xs if not z3.is_true(x)]
        if any(z3.is_false(x) for x in live):
            return self.false
        return self.true if not live else live[0] if len(live) == 1 else z3.And(*live)

    # ------------------------------------------------------------ solving

    def solver(self, logic: str | None = None) -> Z:
        """A solver for `logic` (None: z3's incremental core), given the per-query rlimit."""
        if logic is None:
            s = z3.SimpleSolver(ctx=self.ctx)
        else:  # z3.SolverFor would name the logic in the main context, creating that
            name = z3.Z3_mk_string_symbol(self.ctx.ref(), logic)
            s = z3.Solver(z3.Z3_mk_solver_for_logic(self.ctx.ref(), name), self.ctx)
        if self.rlimit:
            s.set("rlimit", self.rlimit)
        s.set("ctrl_c", False)  # Ctrl-C is preemptcheck's: it cancels through `interrupt`
        return s

    @property
    def exhausted(self) -> bool:
        """The run must stop (see `stop`)."""
        return self.stop is not None

    def work(self) -> int:
        """The resource units z3 has spent in this context so far."""
        return int(self._probe.statistics().get_key_value("rlimit count"))

    def check(self, s: Z, *assumptions: Z) -> Z:
        """`s.check(*assumptions)` within `rlimit` and what is left of `work_limit`: `unknown`,
        with `stop` set, where the work limit cut it short or nothing was left of it, or
        where Ctrl-C or SIGTERM cancelled it (or came before it)."""
        capped = False
        if self.work_limit is not None:
            left = self.work_limit - self.work()
            if left <= 0:
                self.stop = "work"
                return z3.unknown
            if not self.rlimit or left < self.rlimit:
                # what is left only shrinks: once capped, every later query is capped too
                s.set("rlimit", left)
                capped = True
        if interrupt.requested():
            self.stop = interrupt.reason()
            return z3.unknown
        with interrupt.cancelling(self.ctx.interrupt):
            r = s.check(*assumptions)
        if interrupt.requested():
            # even after `sat`: the cancel may land on the context once the query is over,
            # and the model would then not be available; the run stops here anyway
            self.stop = interrupt.reason()
            return z3.unknown
        if r == z3.unknown and capped:
            self.stop = "work"
        return r


def ite(c: Z, a: Z, b: Z) -> Z:
    if z3.is_true(c) or a.eq(b):
        return a
    return b if z3.is_false(c) else z3.If(c, a, b)


@dataclass(frozen=True, slots=True)
class Term:
    """A compiled expression: its value (Bool, or a bit-vector), when it cannot be evaluated,
    and for integers the interval its error-free values lie in."""

    v: Z
    err: Z
    lo: int = 0
    hi: int = 0
    kind: str = "int"  # int | bool | enum (an enum value's code, never sign-extended)

    @property
    def w(self) -> int:
        return int(self.v.size())


def _int(v: Z, err: Z, lo: int, hi: int) -> Term:
    w = need(lo, hi)
    if w > MAX_WIDTH:
        raise GiveUp(f"an intermediate value needs {w} bits (more than {MAX_WIDTH})")
    return Term(fit(v, w) if v.size() > w else v, err, lo, hi)


Reader = Callable[[VarInfo, int], Z]  # (variable, entry position) -> its raw stored bits


class Compiler:
    """Compiles folded expressions over one state, whose stored entries `read` gives."""

    def __init__(self, cx: Ctx, read: Reader) -> None:
        self.cx = cx
        self.read = read

    def truth(self) -> Term:
        """`true`, which never fails: an absent guard or condition."""
        return Term(self.cx.true, self.cx.false, kind="bool")

    def const(self, value: int) -> Term:
        return _int(self.cx.num(value, need(value, value)), self.cx.false, value, value)

    # ------------------------------------------------------------ variables

    def entry(self, var: VarInfo, index: Expr | None) -> tuple[list[tuple[Z, int]], Z]:
        """The entries `var[index]` may denote, each with its condition, and the error."""
        if index is None:
            return [(self.cx.true, 0)], self.cx.false
        dom = var.index
        assert dom is not None
        if isinstance(index, Const):
            if index.value in dom.values:
                return [(self.cx.true, dom.values.index(index.value))], self.cx.false
            return [], self.cx.true
        i = self.ex(index)
        conds = [(self.equals(i, Const(d, dom.type)), j) for j, d in enumerate(dom.values)]
        conds = [(c, j) for c, j in conds if not z3.is_false(c)]
        return conds, self.cx.or_(i.err, self.cx.and_(*(z3.Not(c) for c, _ in conds)))

    def value(self, var: VarInfo, raw: Z, fld: str | None) -> Term:
        if fld is not None:
            spec = var.field(fld)
            assert spec is not None
            shift, width = spec
            v = z3.Extract(shift + width - 1, shift, raw)
            return _int(z3.ZeroExt(1, v), self.cx.false, 0, (1 << width) - 1)
        if var.kind == "bool":
            return Term(raw == 1, self.cx.false, kind="bool")
        if isinstance(var.type, EnumT):
            return Term(raw, self.cx.false, kind="enum")
        lo, hi = (var.lo, var.hi) if var.kind == "int" else (0, var.hi)
        w = max(need(lo, hi), raw.size() + 1)
        v = z3.ZeroExt(w - raw.size(), raw)
        return _int(v + lo if lo else v, self.cx.false, lo, hi)

    def read_ref(self, e: VarRef) -> Term:
        entries, err = self.entry(e.var, e.index)
        if not entries:
            return self.placeholder(e, self.cx.true)
        terms = [(c, self.value(e.var, self.read(e.var, j), e.fld)) for c, j in entries]
        out = terms[-1][1]
        for c, t in reversed(terms[:-1]):
            out = self.choose(c, t, out, self.cx.false)
        return Term(out.v, self.cx.or_(err, out.err), out.lo, out.hi, out.kind)

    def placeholder(self, e: Expr, err: Z) -> Term:
        """Some value of `e`'s type, for a term that always fails."""
        if isinstance(e.type, BoolT):
            return Term(self.cx.false, err, kind="bool")
        if isinstance(e.type, EnumT):
            return Term(self.cx.num(0, enum_width(e.type)), err, kind="enum")
        return Term(self.cx.num(0, 1), err, 0, 0)

    # ------------------------------------------------------------ expressions

    def ex(self, e: Expr) -> Term:
        if isinstance(e, Const):
            if isinstance(e.type, BoolT):
                return Term(self.cx.boolval(bool(e.value)), self.cx.false, kind="bool")
            if isinstance(e.type, EnumT):
                assert isinstance(e.value, str)
                code = self.cx.num(e.type.code(e.value), enum_width(e.type))
                return Term(code, self.cx.false, kind="enum")
            assert isinstance(e.value, int)
            return self.const(e.value)
        if isinstance(e, VarRef):
            return self.read_ref(e)
        if isinstance(e, Unary):
            return self.unary(e.op, self.ex(e.arg))
        if isinstance(e, Binary):
            a, b = self.ex(e.left), self.ex(e.right)
            if e.type == BOOL:
                return self.compare(e.op, a, b)
            return self.arith(e.op, a, b)
        if isinstance(e, BoolOp):
            return self.boolop(e.op == "and", [self.ex(a) for a in e.args])
        if isinstance(e, Member):
            return self.member(e)
        if isinstance(e, IfExp):
            c = self.ex(e.cond)
            return self.choose(c.v, self.ex(e.then), self.ex(e.orelse), c.err)
        if isinstance(e, Call):
            return self.call(e)
        raise AssertionError(f"not folded away: {type(e).__name__}")

    def choose(self, c: Z, a: Term, b: Term, cerr: Z) -> Term:
        err = self.cx.or_(cerr, ite(c, a.err, b.err))
        if a.kind != "int":
            return Term(ite(c, a.v, b.v), err, kind=a.kind)
        w = max(a.w, b.w)
        return _int(ite(c, fit(a.v, w), fit(b.v, w)), err, min(a.lo, b.lo), max(a.hi, b.hi))

    def boolop(self, conj: bool, args: list[Term]) -> Term:
        """and/or left to right: an operand after the deciding one is not evaluated."""
        err: Z = self.cx.false
        for t in reversed(args):
            go_on = t.v if conj else z3.Not(t.v)
            err = self.cx.or_(t.err, self.cx.and_(go_on, err))
        vals = [t.v for t in args]
        return Term(self.cx.and_(*vals) if conj else self.cx.or_(*vals), err, kind="bool")

    def equals(self, a: Term, b: Expr | Term) -> Z:
        t = self.ex(b) if not isinstance(b, Term) else b
        return self.compare("==", a, t).v

    def compare(self, op: str, a: Term, b: Term) -> Term:
        err = self.cx.or_(a.err, b.err)
        if a.kind != "int":  # bool or enum: only == and != type-check
            assert op in ("==", "!=")
            return Term(a.v == b.v if op == "==" else a.v != b.v, err, kind="bool")
        static = _static_compare(op, (a.lo, a.hi), (b.lo, b.hi))
        if static is not None:
            return Term(self.cx.boolval(static), err, kind="bool")
        w = max(a.w, b.w)
        x, y = fit(a.v, w), fit(b.v, w)
        ops = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}
        return Term(ops[op], err, kind="bool")

    def unary(self, op: str, a: Term) -> Term:
        if op == "not":
            return Term(z3.Not(a.v), a.err, kind="bool")
        if op == "+":
            return a
        if op == "-":
            lo, hi = -a.hi, -a.lo
            w = max(a.w, need(lo, hi))
            return _int(-fit(a.v, w), a.err, lo, hi)
        assert op == "~"
        return _int(~a.v, a.err, -a.hi - 1, -a.lo - 1)

    def arith(self, op: str, a: Term, b: Term) -> Term:
        err = self.cx.or_(a.err, b.err)
        if op in ("+", "-", "*"):
            cands = [_py(op, x, y) for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
            lo, hi = min(cands), max(cands)
            w = max(a.w, b.w, need(lo, hi))
            x, y = fit(a.v, w), fit(b.v, w)
            return _int(x + y if op == "+" else x - y if op == "-" else x * y, err, lo, hi)
        if op in ("//", "%"):
            return self.divide(op, a, b, err)
        if op in ("&", "|", "^"):
            w = max(a.w, b.w)
            if a.lo >= 0 and b.lo >= 0:
                lo, hi = 0, (1 << max(a.hi, b.hi).bit_length()) - 1
                if op == "&":
                    hi = min(a.hi, b.hi)
            elif op == "&" and (a.lo >= 0 or b.lo >= 0):
                lo, hi = 0, max(a.hi, b.hi)
            else:
                lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
            x, y = fit(a.v, w), fit(b.v, w)
            return _int(x & y if op == "&" else x | y if op == "|" else x ^ y, err, lo, hi)
        return self.shift(op, a, b, err)

    def divide(self, op: str, a: Term, b: Term, err: Z) -> Term:
        """Python's floor // and %: the remainder takes the divisor's sign."""
        zero = self.compare("==", b, self.const(0)).v
        err = self.cx.or_(err, zero)
        m = max(abs(a.lo), abs(a.hi))
        bm = max(abs(b.lo), abs(b.hi))
        if op == "//":
            lo, hi = -m, m
            if a.lo >= 0 and b.lo >= 1:
                lo, hi = a.lo // b.hi, a.hi // b.lo
        elif b.lo >= 1:
            lo, hi = 0, b.hi - 1
            if a.lo >= 0:
                hi = min(hi, a.hi)
        elif b.hi <= -1:
            lo, hi = b.lo + 1, 0
        else:
            lo, hi = -max(bm - 1, 0), max(bm - 1, 0)
        w = max(a.w, b.w, need(lo, hi), need(-m, m)) + 1
        x, y = fit(a.v, w), fit(b.v, w)
        if op == "%":
            return _int(x % y, err, lo, hi)  # z3's % on bit-vectors is bvsmod: floor modulo
        q, r = x / y, z3.SRem(x, y)  # truncating division
        floor = z3.If(z3.And(r != 0, (r < 0) != (y < 0)), q - 1, q)
        return _int(floor, err, lo, hi)

    def shift(self, op: str, a: Term, b: Term, err: Z) -> Term:
        err = self.cx.or_(err, self.compare("<", b, self.const(0)).v)
        clo, chi = max(b.lo, 0), b.hi
        if op == "<<":
            err = self.cx.or_(err, self.compare(">", b, self.const(MAX_SHIFT)).v)
            chi = min(chi, MAX_SHIFT)
            if clo > chi:
                return Term(self.cx.num(0, 1), self.cx.true, 0, 0)
            cands = [x << c for x in (a.lo, a.hi) for c in (clo, chi)]
            lo, hi = min(cands), max(cands)
        else:
            if clo > chi:
                return Term(self.cx.num(0, 1), self.cx.true, 0, 0)
            lo = a.lo >> clo if a.lo < 0 else 0
            hi = a.hi >> clo if a.hi >= 0 else -1
        w = max(a.w, b.w, need(lo, hi))
        if w > MAX_WIDTH:
            raise GiveUp(
                f"'{op}' by a count up to {chi} needs {w} bits exact (more than {MAX_WIDTH})"
            )
        x, c = fit(a.v, w), fit(b.v, w)
        return _int(x << c if op == "<<" else x >> c, err, lo, hi)  # >> is arithmetic

    def member(self, e: Member) -> Term:
        """`x in [a, b]` is `x == a or x == b`: an option after a match is not evaluated."""
        x = self.ex(e.arg)
        hits = [self.compare("==", x, self.ex(o)) for o in e.options]
        found = self.boolop(False, hits)
        err = self.cx.or_(x.err, found.err)
        return Term(z3.Not(found.v) if e.negate else found.v, err, kind="bool")

    def call(self, e: Call) -> Term:
        if e.fn == "implies":
            a = self.ex(e.args[0])
            b = self.ex(e.args[1])
            return Term(
                self.cx.or_(z3.Not(a.v), b.v),
                self.cx.or_(a.err, self.cx.and_(a.v, b.err)),
                kind="bool",
            )
        args = [self.ex(a) for a in e.args]
        if e.fn == "abs":
            (a,) = args
            m = max(abs(a.lo), abs(a.hi))
            lo = 0 if a.lo <= 0 <= a.hi else min(abs(a.lo), abs(a.hi))
            w = max(a.w, need(0, m))
            x = fit(a.v, w)
            return _int(z3.If(x < 0, -x, x), a.err, lo, m)
        out = args[0]
        for t in args[1:]:
            pick = self.compare("<" if e.fn == "min" else ">", t, out)
            out = self.choose(pick.v, t, out, self.cx.false)
        return Term(out.v, self.cx.or_(*(t.err for t in args)), out.lo, out.hi)

    # ------------------------------------------------------------ stores

    def store(self, target: Target, cur: Z, value: Term) -> tuple[Z, Z]:
        """The entry's new raw bits after assigning `value`, and when the store is an error."""
        var = target.var
        n = cur.size()
        if target.fld is not None:
            spec = var.field(target.fld)
            assert spec is not None
            shift, width = spec
            err = self.outside(value, 0, (1 << width) - 1)
            bits = z3.Extract(width - 1, 0, fit(value.v, max(value.w, width)))
            parts = []
            if shift + width < n:
                parts.append(z3.Extract(n - 1, shift + width, cur))
            parts.append(bits)
            if shift > 0:
                parts.append(z3.Extract(shift - 1, 0, cur))
            return (z3.Concat(*parts) if len(parts) > 1 else parts[0]), err
        if var.kind == "bool":
            return z3.If(value.v, self.cx.num(1, 1), self.cx.num(0, 1)), self.cx.false
        if isinstance(var.type, EnumT):
            return value.v, self.cx.false
        if var.kind == "word":  # wraps modulo 2^bits, as C unsigned arithmetic does
            return z3.Extract(n - 1, 0, fit(value.v, max(value.w, n))), self.cx.false
        err = self.outside(value, var.lo, var.hi)
        w = max(value.w, n, need(var.lo, var.lo))
        return z3.Extract(n - 1, 0, fit(value.v, w) - var.lo), err

    def outside(self, t: Term, lo: int, hi: int) -> Z:
        if lo <= t.lo and t.hi <= hi:
            return self.cx.false
        return self.cx.or_(
            self.compare("<", t, self.const(lo)).v, self.compare(">", t, self.const(hi)).v
        )


def _py(op: str, x: int, y: int) -> int:
    return x + y if op == "+" else x - y if op == "-" else x * y


def _static_compare(op: str, a: tuple[int, int], b: tuple[int, int]) -> bool | None:
    """The comparison's value when the two intervals alone decide it."""
    (alo, ahi), (blo, bhi) = a, b
    lt = ahi < blo
    gt = alo > bhi
    eq = alo == ahi == blo == bhi
    table = {
        "<": True if lt else False if alo >= bhi else None,
        "<=": True if ahi <= blo else False if gt else None,
        ">": True if gt else False if ahi <= blo else None,
        ">=": True if alo >= bhi else False if lt else None,
        "==": True if eq else False if lt or gt else None,
        "!=": False if eq else True if lt or gt else None,
    }
    return table[op]
