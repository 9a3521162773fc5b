"""Whether 64-bit integers compute a model exactly: interval bounds of every subexpression.

The language's integers are unbounded (as Python's); the native target computes with int64.
The two agree exactly when no subexpression can leave int64 in any state, which intervals
over the variables' declared ranges decide (soundly, over-approximating: a refusal may be
needless, an acceptance never is). A model refused here runs on the Python backend.
"""

from __future__ import annotations

from collections.abc import Iterator

from preemptcheck.expr.ast import (
    Binary,
    BoolOp,
    Call,
    Const,
    EnumT,
    Expr,
    IfExp,
    Member,
    Unary,
    VarRef,
)
from preemptcheck.semantics.system import TransitionSystem

LIMIT = (1 << 62) - 1  # a margin below int64, so `a + b` of two in-range values cannot wrap
MAX_SLOT_BITS = 62  # a slot is read into an int64 and written back from one

Interval = tuple[int, int]


class Unbounded(Exception):
    """Some subexpression may leave the int64 range: `where` says which."""


def _check(iv: Interval, e: Expr) -> Interval:
    lo, hi = iv
    if lo < -LIMIT or hi > LIMIT:
        raise Unbounded(f"{_describe(e)} may reach {hi if hi > LIMIT else lo}")
    return iv


def _describe(e: Expr) -> str:
    span = getattr(e, "span", None)
    line = getattr(span, "line", 0)
    return f"the expression at line {line}" if line else "an expression"


def _bits_span(lo: int, hi: int) -> Interval:
    """An interval holding every result of a bitwise operation on values in [lo, hi]."""
    n = max(abs(lo), abs(hi)).bit_length() + 1
    return (-(1 << n), (1 << n) - 1) if lo < 0 else (0, (1 << n) - 1)


def _pair(x: Interval, y: Interval) -> tuple[Interval, Interval]:
    return x, y


def interval(e: Expr) -> Interval:
    """Bounds of `e` in every state; raises Unbounded when they may leave int64."""
    if isinstance(e, Const):
        v = e.value
        if isinstance(v, bool):
            return int(v), int(v)
        if isinstance(v, str):
            assert isinstance(e.type, EnumT)
            c = e.type.code(v)
            return c, c
        assert isinstance(v, int)
        return _check((v, v), e)
    if isinstance(e, VarRef):
        var = e.var
        if e.index is not None:
            interval(e.index)
        if e.fld is not None:
            spec = var.field(e.fld)
            assert spec is not None
            return 0, (1 << spec[1]) - 1
        if var.kind == "bool":
            return 0, 1
        if isinstance(var.type, EnumT):
            return 0, len(var.type.values) - 1
        return var.lo, var.hi
    if isinstance(e, Unary):
        lo, hi = interval(e.arg)
        if e.op == "not":
            return 0, 1
        if e.op == "-":
            return _check((-hi, -lo), e)
        if e.op == "~":
            return _check((~hi, ~lo), e)
        return lo, hi
    if isinstance(e, BoolOp):
        for arg in e.args:
            interval(arg)
        return 0, 1
    if isinstance(e, Member):
        interval(e.arg)
        for o in e.options:
            interval(o)
        return 0, 1
    if isinstance(e, IfExp):
        interval(e.cond)
        then, orelse = interval(e.then), interval(e.orelse)
        return min(then[0], orelse[0]), max(then[1], orelse[1])
    if isinstance(e, Call):
        ivs = [interval(a) for a in e.args]
        if e.fn == "implies":
            return 0, 1
        if e.fn == "abs":
            lo, hi = ivs[0]
            return (0 if lo <= 0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi))
        if e.fn == "min":
            return min(iv[0] for iv in ivs), min(iv[1] for iv in ivs)
        return max(iv[0] for iv in ivs), max(iv[1] for iv in ivs)
    if isinstance(e, Binary):
        (a, b), (c, d) = _pair(interval(e.left), interval(e.right))
        op = e.op
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return 0, 1
        if op == "+":
            return _check((a + c, b + d), e)
        if op == "-":
            return _check((a - d, b - c), e)
        if op == "*":
            products = (a * c, a * d, b * c, b * d)
            return _check((min(products), max(products)), e)
        if op in ("//", "%"):
            m = max(abs(a), abs(b), abs(c), abs(d))
            return -m, m
        if op in ("&", "|", "^"):
            return _bits_span(min(a, c), max(b, d))
        if op == "<<":
            if d < 0:
                return _check((min(a, 0), max(b, 0)), e)  # negative counts fail before shifting
            if d > 62:
                raise Unbounded(f"{_describe(e)} may shift by up to {d} bits")
            return _check((min(a, a << d), max(b, b << d)), e)
        if op == ">>":
            if d > 63:
                raise Unbounded(f"{_describe(e)} may shift by up to {d} bits")
            return min(a, 0), max(b, 0)
    raise AssertionError(type(e))


def _exprs(ts: TransitionSystem) -> Iterator[Expr]:
    for sp in ts.state_props:
        yield sp.expr
    for step in ts.steps:
        for x in (step.guard, step.cond):
            if x is not None:
                yield x
        for a in step.assigns:
            yield a.value
            if a.target.index is not None:
                yield a.target.index
        for _, when in (*step.never, *step.reach):
            if when is not None:
                yield when


def int64_exact(ts: TransitionSystem, slot_widths: Iterator[int]) -> str | None:
    """None when int64 computes every expression of `ts` exactly; else why not."""
    if any(w > MAX_SLOT_BITS for w in slot_widths):
        return f"a variable needs more than {MAX_SLOT_BITS} bits"
    try:
        for e in _exprs(ts):
            interval(e)
    except Unbounded as exc:
        return str(exc)
    return None
