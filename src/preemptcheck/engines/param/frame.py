"""Aggregates over cpus cut down to a frame of CPUs (for engines/param/local.py): `all(P(c)
for c in cpus)` becomes P written out at the frame's CPUs and P at one generic CPU standing
for all the others (`any` likewise, with `or`), so the terms stop growing with the count.

A generic CPU is a CPU outside the frame with entries of its own (variables `v@name`): the
one whose element decides the aggregate over the others (one where P is false, for `all`,
or any). A formula with its aggregates cut is so true wherever the exact one is, for some
entries of each generic CPU, and those entries are a real CPU's, where every instance of an
invariant holds: a step with them cut allows every transition the exact step does, and an
assumed instance with them cut is implied by the exact one. Where P reads a CPU other than
through its entries (`c == 3` with CPU 3 outside the frame, `c < 3`), the other CPUs' part
is a fresh Boolean instead, which may take any value, the exact one too.

Elements must never fail to evaluate (no division or shift, no index that may be out of
range): otherwise whether the aggregate fails depends on the elements left out. Such
aggregates, count and sum stay as they are, and so does everything inside an aggregate (one
generic CPU cannot stand for a part that differs from one element to the next).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from preemptcheck.expr.ast import (
    BOOL,
    Agg,
    Binary,
    BoolOp,
    Bound,
    Call,
    Const,
    Domain,
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
from preemptcheck.expr.evaluate import fold
from preemptcheck.model.ir import Action, Assign


@dataclass(frozen=True, slots=True)
class Rest:
    """One cut aggregate's elements at the CPUs outside the frame: the generic CPU (or the
    fresh Boolean) that stands for them, and what they read."""

    name: str  # the generic CPU's, or the fresh Boolean's variable
    generic: bool
    entries: frozenset[tuple[str, int]]  # (variable, entry position) every element reads
    per_cpu: frozenset[str]  # variables each element reads at its own CPU
    every: frozenset[str]  # variables an element may read at any entry

    def reads(self, var: VarInfo, pos: int, frame: frozenset[int]) -> bool:
        """Whether an element outside `frame` may read entry `pos` of `var`."""
        if (var.name, pos) in self.entries or var.name in self.every:
            return True
        return (
            var.name in self.per_cpu
            and var.index is not None
            and var.index.values[pos] not in frame
        )


Fresh = Callable[[], str]  # a new name, every call


def at_generic(var: VarInfo, cpu: str) -> VarInfo:
    """The entry of per-CPU variable `var` at generic CPU `cpu`, a variable of its own."""
    return VarInfo(f"{var.name}@{cpu}", var.type, var.kind, None, var.fields, var.lo, var.hi)


def cut(
    e: Expr, env: Mapping[str, Value], frame: frozenset[int], fresh: Fresh
) -> tuple[Expr, tuple[Rest, ...]]:
    """`e` (not folded; `env` binds its free names) with its aggregates over cpus cut to
    `frame`, and what each fresh Boolean stands for."""
    if not any(isinstance(n, Agg) for n in walk(e)):
        return e, ()
    rests: list[Rest] = []

    def go(x: Expr) -> Expr:
        if isinstance(x, Agg):
            return _cut_agg(x, env, frame, fresh, rests)
        if isinstance(x, Const | Bound):
            return x
        if isinstance(x, VarRef):
            return x if x.index is None else dataclasses.replace(x, index=go(x.index))
        if isinstance(x, Unary):
            return dataclasses.replace(x, arg=go(x.arg))
        if isinstance(x, Binary):
            return dataclasses.replace(x, left=go(x.left), right=go(x.right))
        if isinstance(x, BoolOp | Call):
            return dataclasses.replace(x, args=tuple(go(a) for a in x.args))
        if isinstance(x, Member):
            return dataclasses.replace(x, arg=go(x.arg), options=tuple(map(go, x.options)))
        assert isinstance(x, IfExp), type(x)
        return dataclasses.replace(x, cond=go(x.cond), then=go(x.then), orelse=go(x.orelse))

    return go(e), tuple(rests)


def cut_action(
    a: Action, env: Mapping[str, Value], frame: frozenset[int], fresh: Fresh
) -> tuple[Action, tuple[Rest, ...]]:
    """The action with the aggregates of its guards, conditions and assigned values cut
    (an assignment's target index stays exact, so a step writes the entries it did)."""
    rests: list[Rest] = []

    def go(e: Expr | None) -> Expr | None:
        if e is None:
            return None
        out, more = cut(e, env, frame, fresh)
        rests.extend(more)
        return out

    steps = tuple(
        dataclasses.replace(
            s,
            when=go(s.when),
            cond=go(s.cond),
            assigns=tuple(_assign(x, go) for x in s.assigns),
        )
        for s in a.steps
    )
    out = dataclasses.replace(a, when=go(a.when), steps=steps)
    return out, tuple(rests)


def _assign(x: Assign, go: Callable[[Expr | None], Expr | None]) -> Assign:
    value = go(x.value)
    assert value is not None
    return dataclasses.replace(x, value=value)


def _cut_agg(
    x: Agg, env: Mapping[str, Value], frame: frozenset[int], fresh: Fresh, rests: list[Rest]
) -> Expr:
    if not (x.domain.is_cpus and x.fn in ("any", "all")):
        return x
    others = [c for c in x.domain.values if c not in frame]
    if not others:
        return x
    inner = {k: v for k, v in env.items() if k != x.var}
    body = fold(x.body, inner)
    cond = fold(x.cond, inner) if x.cond is not None else None
    reads = _reads([body] + ([cond] if cond is not None else []), x.var, x.domain)
    if reads is None:
        return x
    name = fresh()
    g = _Generic(x.var, x.domain, frozenset(others), name)
    elem = g.go(body)
    if cond is not None and elem is not None:
        test = g.go(cond)
        if test is None:
            elem = None
        elif x.fn == "all":
            elem = Call("implies", (test, elem), BOOL, x.span)
        else:
            elem = BoolOp("and", (test, elem), BOOL, x.span)
    rests.append(Rest(name, elem is not None, *reads))
    if elem is None:  # a fresh Boolean
        elem = VarRef(VarInfo(name, BOOL, "bool"), None, None, BOOL, x.span)
    kept = Domain(x.domain.name, x.domain.type, tuple(c for c in x.domain.values if c in frame))
    agg = dataclasses.replace(x, domain=kept)
    return BoolOp("and" if x.fn == "all" else "or", (agg, elem), BOOL, x.span)


@dataclass(frozen=True, slots=True)
class _Generic:
    """A folded element with its CPU `var` (one of `others`) moved to generic CPU `name`."""

    var: str
    domain: Domain
    others: frozenset[Value]
    name: str

    def go(self, e: Expr) -> Expr | None:
        """None where the element reads its CPU other than through entries and (in)equality
        with a CPU of the frame (or a value that is no CPU)."""
        if isinstance(e, Bound):
            return None if e.name == self.var else e
        if isinstance(e, Const):
            return e
        if isinstance(e, VarRef):
            if isinstance(e.index, Bound) and e.index.name == self.var:
                return VarRef(at_generic(e.var, self.name), None, e.fld, e.type, e.span)
            if e.index is None:
                return e
            index = self.go(e.index)
            return None if index is None else dataclasses.replace(e, index=index)
        if isinstance(e, Binary) and e.op in ("==", "!=") and self._mine(e.left, e.right):
            other = e.right if self._mine(e.left) else e.left
            if self._mine(other):
                return Const(e.op == "==", BOOL, e.span)
            if isinstance(other, Const) and other.value not in self.others:
                return Const(e.op == "!=", BOOL, e.span)
            return None
        if isinstance(e, Member) and self._mine(e.arg):
            if all(isinstance(o, Const) and o.value not in self.others for o in e.options):
                return Const(e.negate, BOOL, e.span)
            return None
        kids: list[Expr] = []
        for k in children(e):
            out = self.go(k)
            if out is None:
                return None
            kids.append(out)
        return _rebuild(e, kids)

    def _mine(self, *es: Expr) -> bool:
        return any(isinstance(x, Bound) and x.name == self.var for x in es)


def _rebuild(e: Expr, kids: list[Expr]) -> Expr:
    """`e` with its children (in `children` order) replaced."""
    if isinstance(e, Unary):
        return dataclasses.replace(e, arg=kids[0])
    if isinstance(e, Binary):
        return dataclasses.replace(e, left=kids[0], right=kids[1])
    if isinstance(e, BoolOp | Call):
        return dataclasses.replace(e, args=tuple(kids))
    if isinstance(e, Member):
        return dataclasses.replace(e, arg=kids[0], options=tuple(kids[1:]))
    if isinstance(e, IfExp):
        return dataclasses.replace(e, cond=kids[0], then=kids[1], orelse=kids[2])
    assert not kids, type(e)
    return e


def _reads(
    parts: list[Expr], name: str, domain: Domain
) -> tuple[frozenset[tuple[str, int]], frozenset[str], frozenset[str]] | None:
    """What an element (its parts folded, the aggregate's CPU `name` left free) reads; None
    where it may fail to evaluate."""
    entries: set[tuple[str, int]] = set()
    per_cpu: set[str] = set()
    every: set[str] = set()
    for p in parts:
        for n in walk(p):
            if isinstance(n, Binary) and n.op in ("//", "%", "<<", ">>"):
                return None
            if not isinstance(n, VarRef):
                continue
            v, idx, dom = n.var, n.index, n.var.index
            if idx is None or dom is None:
                entries.add((v.name, 0))
            elif isinstance(idx, Const):
                if idx.value not in dom.values:
                    return None
                entries.add((v.name, dom.values.index(idx.value)))
            elif isinstance(idx, Bound) and idx.name == name and dom.values == domain.values:
                per_cpu.add(v.name)
            elif isinstance(idx.type, EnumT):  # an enum index is always in its domain
                every.add(v.name)
            else:
                return None
    return frozenset(entries), frozenset(per_cpu), frozenset(every)
