"""The plain semantics of expressions: a tree-walking evaluator, and constant folding on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from preemptcheck.expr.ast import (
    BOOL,
    INT,
    Agg,
    Binary,
    BoolOp,
    Bound,
    Call,
    Const,
    EnumT,
    Expr,
    IfExp,
    Member,
    Unary,
    Value,
    VarInfo,
    VarRef,
    children,
    walk,
)

# Shifting by more than this many bits is an evaluation error: it cannot be meant, and
# `1 << (1 << 32)` would otherwise exhaust memory.
MAX_SHIFT = 4096


class EvalError(Exception):
    """A model expression cannot be evaluated in some state (a model bug, reported as a trace)."""


Reader = Callable[[VarInfo, Value | None], Value]


def _no_state(var: VarInfo, index: Value | None) -> Value:
    raise LookupError(var.name)


def field_of(value: int, shift: int, width: int) -> int:
    return (value >> shift) & ((1 << width) - 1)


def check_index(var: VarInfo, index: Value) -> None:
    assert var.index is not None
    if index not in var.index.values:
        raise EvalError(
            f"index {index} is out of range for {var.name} (indexed by {var.index.name})"
        )


def arith(op: str, a: int, b: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op in ("//", "%"):
        if b == 0:
            raise EvalError(f"division by zero in '{a} {op} {b}'")
        return a // b if op == "//" else a % b
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op in ("<<", ">>"):
        if b < 0:
            raise EvalError(f"negative shift count in '{a} {op} {b}'")
        if op == "<<":
            if b > MAX_SHIFT:
                raise EvalError(f"shift count {b} is too large (at most {MAX_SHIFT})")
            return a << b
        return a >> b
    raise AssertionError(op)


def compare(op: str, a: Value, b: Value) -> bool:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    assert isinstance(a, int)
    assert isinstance(b, int)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def evaluate(e: Expr, read: Reader, bound: Mapping[str, Value]) -> Value:
    """Evaluate `e`; `read(var, index)` gives a variable's (entry's) value in the current state."""
    if isinstance(e, Const):
        return e.value
    if isinstance(e, Bound):
        return bound[e.name]
    if isinstance(e, VarRef):
        idx: Value | None = None
        if e.index is not None:
            idx = evaluate(e.index, read, bound)
            check_index(e.var, idx)
        value = read(e.var, idx)
        if e.fld is None:
            return value
        fld = e.var.field(e.fld)
        assert fld is not None
        assert isinstance(value, int)
        return field_of(value, *fld)
    if isinstance(e, Unary):
        v = evaluate(e.arg, read, bound)
        if e.op == "not":
            return not v
        assert isinstance(v, int)
        return -v if e.op == "-" else ~v if e.op == "~" else v
    if isinstance(e, Binary):
        a = evaluate(e.left, read, bound)
        b = evaluate(e.right, read, bound)
        if e.type == BOOL:
            return compare(e.op, a, b)
        assert isinstance(a, int)
        assert isinstance(b, int)
        return arith(e.op, a, b)
    if isinstance(e, BoolOp):
        if e.op == "and":
            return all(evaluate(arg, read, bound) for arg in e.args)
        return any(evaluate(arg, read, bound) for arg in e.args)
    if isinstance(e, Member):
        v = evaluate(e.arg, read, bound)
        found = any(v == evaluate(o, read, bound) for o in e.options)
        return found != e.negate
    if isinstance(e, IfExp):
        if evaluate(e.cond, read, bound):
            return evaluate(e.then, read, bound)
        return evaluate(e.orelse, read, bound)
    if isinstance(e, Call):
        if e.fn == "implies":
            return (not evaluate(e.args[0], read, bound)) or bool(evaluate(e.args[1], read, bound))
        vals = [evaluate(a, read, bound) for a in e.args]
        ints = [v for v in vals if isinstance(v, int)]
        if e.fn == "abs":
            return abs(ints[0])
        return min(ints) if e.fn == "min" else max(ints)
    if isinstance(e, Agg):
        inner = dict(bound)
        results: list[Value] = []
        for value in e.domain.values:
            inner[e.var] = value
            if e.cond is not None and not evaluate(e.cond, read, inner):
                continue
            result = evaluate(e.body, read, inner)
            # any/all stop at the first element that decides them, as Python's do (and
            # as `fold` writes them out, as or/and): a later element is never evaluated
            if e.fn == "any" and result:
                return True
            if e.fn == "all" and not result:
                return False
            results.append(result)
        if e.fn in ("any", "all"):
            return e.fn == "all"
        if e.fn == "count":
            return sum(1 for r in results if r)
        return sum(r for r in results if isinstance(r, int))
    raise AssertionError(type(e))


def eval_const(e: Expr, params: Mapping[str, Value] | None = None) -> Value:
    """Evaluate an expression that may not read state (declarations: cpus, bits, init)."""
    return evaluate(e, _no_state, params or {})


# ---------------------------------------------------------------- folding


def fold(e: Expr, bound: Mapping[str, Value]) -> Expr:
    """Substitute bound names, expand aggregates over their finite domains, fold constants.

    Folding preserves evaluation errors: a subtree whose evaluation fails is kept, and
    short-circuit operators keep every operand that would be evaluated before a constant
    that decides them.
    """
    if isinstance(e, Const):
        return e
    if isinstance(e, Bound):
        if e.name in bound:
            return Const(bound[e.name], e.type, e.span)
        return e
    if isinstance(e, VarRef):
        if e.index is None:
            return e
        return VarRef(e.var, fold(e.index, bound), e.fld, e.type, e.span)
    if isinstance(e, Unary):
        return _try_const(Unary(e.op, fold(e.arg, bound), e.type, e.span))
    if isinstance(e, Binary):
        return _try_const(Binary(e.op, fold(e.left, bound), fold(e.right, bound), e.type, e.span))
    if isinstance(e, BoolOp):
        return _fold_boolop(e.op, [fold(a, bound) for a in e.args], e)
    if isinstance(e, Member):
        return _try_const(
            Member(
                fold(e.arg, bound), tuple(fold(o, bound) for o in e.options), e.negate, BOOL, e.span
            )
        )
    if isinstance(e, IfExp):
        cond = fold(e.cond, bound)
        if isinstance(cond, Const):
            return fold(e.then if cond.value else e.orelse, bound)
        return IfExp(cond, fold(e.then, bound), fold(e.orelse, bound), e.type, e.span)
    if isinstance(e, Call):
        args = [fold(a, bound) for a in e.args]
        if e.fn == "implies":
            a, b = args
            if isinstance(a, Const):
                return Const(True, BOOL, e.span) if not a.value else b
            return Call("implies", (a, b), BOOL, e.span)
        return _try_const(Call(e.fn, tuple(args), e.type, e.span))
    if isinstance(e, Agg):
        return fold(_expand(e), bound)
    raise AssertionError(type(e))


def _expand(e: Agg) -> Expr:
    """any/all/count/sum over a finite domain, written out as and/or/+."""
    terms: list[Expr] = []
    for value in e.domain.values:
        b = {e.var: value}
        body = fold(e.body, b)
        cond = fold(e.cond, b) if e.cond is not None else None
        if e.fn == "any":
            terms.append(body if cond is None else BoolOp("and", (cond, body), BOOL, e.span))
        elif e.fn == "all":
            terms.append(body if cond is None else Call("implies", (cond, body), BOOL, e.span))
        elif e.fn == "count":
            hit = body if cond is None else BoolOp("and", (cond, body), BOOL, e.span)
            terms.append(IfExp(hit, Const(1, INT), Const(0, INT), INT, e.span))
        else:
            terms.append(body if cond is None else IfExp(cond, body, Const(0, INT), INT, e.span))
    if e.fn in ("any", "all"):
        if not terms:
            return Const(e.fn == "all", BOOL, e.span)
        return BoolOp("or" if e.fn == "any" else "and", tuple(terms), BOOL, e.span)
    return _balanced_sum(terms, e)


def _balanced_sum(terms: list[Expr], e: Agg) -> Expr:
    """t0 + t1 + ... as a balanced tree, so its depth grows with log(len(terms))."""
    if not terms:
        return Const(0, INT, e.span)
    if len(terms) == 1:
        return terms[0]
    mid = len(terms) // 2
    return Binary("+", _balanced_sum(terms[:mid], e), _balanced_sum(terms[mid:], e), INT, e.span)


def can_fail(e: Expr) -> bool:
    """Might evaluating `e` raise (division, shifts, an index that may be out of range)?"""
    for n in walk(e):
        if isinstance(n, Binary) and n.op in ("//", "%", "<<", ">>"):
            return True
        if isinstance(n, VarRef) and n.index is not None and n.var.index is not None:
            idx = n.index
            if isinstance(idx, Const):
                if idx.value not in n.var.index.values:
                    return True
            elif not isinstance(idx.type, EnumT):  # an enum index is always in its domain
                return True
    return False


def _fold_boolop(op: str, args: list[Expr], e: BoolOp) -> Expr:
    decisive = op == "or"  # the constant that decides: True for or, False for and
    kept: list[Expr] = []
    for a in args:
        if isinstance(a, Const):
            if bool(a.value) == decisive:
                if not any(can_fail(k) for k in kept):
                    return Const(decisive, BOOL, e.span)
                kept.append(a)
                break
            continue  # neutral constant: drop
        kept.append(a)
    if not kept:
        return Const(not decisive, BOOL, e.span)
    if len(kept) == 1:
        return kept[0]
    return BoolOp(op, tuple(kept), BOOL, e.span)


def _try_const(e: Expr) -> Expr:
    if all(isinstance(c, Const) for c in children(e)):
        try:
            return Const(eval_const(e), e.type, e.span)
        except EvalError:
            return e
    return e
