"""Typed expression AST: types, nodes, and the variable/domain descriptions they refer to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from preemptcheck.core.source import NO_SPAN, Span

# Integer literals (in expressions and YAML scalars) wider than this are refused: every value
# a model stores fits in 64 bits, and a literal of thousands of digits would cost time and
# memory in every engine (Python will not even print one past 4,300 decimal digits).
MAX_INT_BITS = 128

# ---------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class BoolT:
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True, slots=True)
class IntT:
    def __str__(self) -> str:
        return "int"


@dataclass(frozen=True, slots=True)
class EnumT:
    name: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        return f"enum {self.name}"

    def code(self, value: str) -> int:
        return self.values.index(value)


Type = BoolT | IntT | EnumT
BOOL = BoolT()
INT = IntT()

Value = bool | int | str


# ---------------------------------------------------------------- declarations seen by expressions


@dataclass(frozen=True, slots=True)
class Domain:
    """A finite set of values used as an index or a binding: cpus, tasks, an enum, [lo, hi]."""

    name: str
    type: Type
    values: tuple[Value, ...]

    @property
    def is_cpus(self) -> bool:
        return self.name == "cpus"


@dataclass(frozen=True, slots=True)
class VarInfo:
    """What an expression needs to know about a state variable."""

    name: str
    type: Type  # the type of one entry (word -> int)
    kind: str  # bool | int | enum | word
    index: Domain | None = None
    fields: tuple[tuple[str, int, int], ...] = ()  # (name, shift, width) for words
    lo: int = 0  # int range / word bounds
    hi: int = 1

    def field(self, name: str) -> tuple[int, int] | None:
        for fname, shift, width in self.fields:
            if fname == name:
                return shift, width
        return None


# ---------------------------------------------------------------- nodes


@dataclass(frozen=True, slots=True)
class Const:
    value: Value
    type: Type
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VarRef:
    var: VarInfo
    index: Expr | None
    fld: str | None
    type: Type
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Bound:
    """A bound name: `self`, a `for` binding, or an aggregate's variable."""

    name: str
    type: Type
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # '-', '+', '~', 'not'
    arg: Expr
    type: Type
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * // % & | ^ << >>   and comparisons == != < <= > >=
    left: Expr
    right: Expr
    type: Type
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # 'and' | 'or'
    args: tuple[Expr, ...]
    type: Type = BOOL
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Member:
    arg: Expr
    options: tuple[Expr, ...]
    negate: bool
    type: Type = BOOL
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class IfExp:
    cond: Expr
    then: Expr
    orelse: Expr
    type: Type
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Call:
    fn: str  # implies | min | max | abs
    args: tuple[Expr, ...]
    type: Type
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Agg:
    fn: str  # any | all | count | sum
    var: str
    domain: Domain
    body: Expr
    cond: Expr | None
    type: Type
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


Expr = Const | VarRef | Bound | Unary | Binary | BoolOp | Member | IfExp | Call | Agg

ARITH_OPS = ("+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>")
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")


def children(e: Expr) -> Iterator[Expr]:
    if isinstance(e, VarRef):
        if e.index is not None:
            yield e.index
    elif isinstance(e, Unary):
        yield e.arg
    elif isinstance(e, Binary):
        yield e.left
        yield e.right
    elif isinstance(e, BoolOp | Call):
        yield from e.args
    elif isinstance(e, Member):
        yield e.arg
        yield from e.options
    elif isinstance(e, IfExp):
        yield e.cond
        yield e.then
        yield e.orelse
    elif isinstance(e, Agg):
        yield e.body
        if e.cond is not None:
            yield e.cond


def walk(e: Expr) -> Iterator[Expr]:
    yield e
    for c in children(e):
        yield from walk(c)


@dataclass(frozen=True, slots=True)
class Target:
    """The left side of an assignment: v, v[i], v.field, v[i].field."""

    var: VarInfo
    index: Expr | None
    fld: str | None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
