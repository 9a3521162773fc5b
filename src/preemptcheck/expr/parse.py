"""Python `ast` (whitelisted subset) -> typed expression AST, with names resolved and checked.

One recursive checker over Python's expression nodes, kept in one module on purpose: each
form's typing rule sits next to the rules it defers to (enum literals take their type from
the other operand, defs expand in the caller's scope, `self` is implicit for CPU arrays).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from preemptcheck.core.errors import Code, Collector, did_you_mean
from preemptcheck.core.source import Span, locate
from preemptcheck.expr.ast import (
    BOOL,
    INT,
    MAX_INT_BITS,
    Agg,
    Binary,
    BoolOp,
    BoolT,
    Bound,
    Call,
    Const,
    Domain,
    EnumT,
    Expr,
    IfExp,
    IntT,
    Member,
    Target,
    Type,
    Unary,
    Value,
    VarInfo,
    VarRef,
    children,
)

_ARITH = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_UNSUPPORTED_OP = {
    ast.Div: "'/' (use '//')",
    ast.Pow: "'**'",
    ast.MatMult: "'@'",
    ast.Is: "'is'",
    ast.IsNot: "'is not'",
}
_AGGS = ("any", "all", "count", "sum")
_FUNCS = ("implies", "min", "max", "abs", *_AGGS)
_BOOL_NAMES = {"true": True, "false": False, "True": True, "False": False}


@dataclass(frozen=True, slots=True)
class Source:
    """An expression's text and where it sits in a YAML file."""

    text: str
    span: Span
    style: str | None = None  # YAML scalar style, to map columns inside the text
    key_path: str = ""
    raw: str = ""  # the scalar's source text (quotes, folding), to locate tokens in it


class Scope(Protocol):
    """What names mean where an expression is written."""

    def var(self, name: str) -> VarInfo | None: ...
    def param(self, name: str) -> tuple[Value, Type] | None: ...
    def define(self, name: str) -> Source | None: ...
    def enums_with(self, value: str) -> list[EnumT]: ...
    def domain(self, name: str) -> Domain | None: ...
    def names(self) -> Iterable[str]: ...


class _Abort(Exception):
    pass


# Deeper expressions (after defs are expanded) are rejected: nobody writes them, and the
# compiled successor function must stay within Python's own nesting limits.
MAX_DEPTH = 100
# Longer expression texts, and expressions of more nodes once the defs they use are expanded
# (defs that use each other twice double at every level), are refused: the bundled models'
# largest is a few hundred nodes, and every engine's cost grows with this size.
MAX_CHARS = 100_000
MAX_NODES = 20_000


def depth(e: Expr) -> int:
    best = 0
    stack = [(e, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in children(node))
    return best


# a parsed expression with what locating its tokens needs: (tree, source, lead, flat text)
_Parsed = tuple[ast.expr, Source, int, str]
_T = TypeVar("_T")


class _TooLarge(Exception):
    """The current parse went past MAX_NODES: reported at the expression being parsed."""


# C's logical operators, which Python spells and/or/not (`!=` is fine)
_C_OPERATOR = re.compile(r"&&|\|\||!(?!=)")
_TOO_WIDE = f"integer literal wider than {MAX_INT_BITS} bits: integers are limited to that"


def _clip(text: str, width: int = 60) -> str:
    """An expression's text as an error message quotes it: one line, at most `width` chars."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def source_text(value: object) -> str:
    """The expression text of a YAML scalar (`true`, 3 and 'x + 1' are all expressions)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):  # YAML's .inf, .nan
        return ("-" if value < 0 else "") + (".inf" if math.isinf(value) else ".nan")
    return str(value)


class ExprParser:
    """Parses and type-checks expressions of one context (bound names, whether `self` exists)."""

    def __init__(
        self,
        scope: Scope,
        diags: Collector,
        *,
        bound: dict[str, Type] | None = None,
        self_type: Type | None = None,
    ) -> None:
        self.scope = scope
        self.diags = diags
        self.bound: dict[str, Type] = dict(bound or {})
        if self_type is not None:
            self.bound["self"] = self_type
        self._src: Source | None = None
        self._lead = 0
        self._flat = ""
        self._def_stack: list[str] = []
        self._nodes = 0  # nodes built by the current parse, defs expanded
        self.used_self = False

    # ------------------------------------------------------------ entry points

    def parse(self, src: Source, expected: Type | None = None) -> Expr | None:
        self._nodes = 0
        parsed = self._parse_tree(src)
        if parsed is None:
            return None
        try:
            e = self._with_source(parsed, lambda: self._expect(parsed[0], expected))
        except _Abort:
            return None
        except _TooLarge:
            self._too_large(src)
            return None
        except RecursionError:
            e = None
        if e is not None and depth(e) <= MAX_DEPTH:
            return e
        self.diags.error(
            Code.EXPR_UNSUPPORTED,
            f"the expression is nested too deeply "
            f"(more than {MAX_DEPTH} levels, counting the defs it uses)",
            src.span,
            src.key_path,
        )
        return None

    def parse_target(self, src: Source) -> Target | None:
        self._nodes = 0
        parsed = self._parse_tree(src)
        if parsed is None:
            return None
        try:
            return self._with_source(parsed, lambda: self._target(parsed[0]))
        except _Abort:
            return None
        except _TooLarge:
            self._too_large(src)
            return None

    def _too_large(self, src: Source) -> None:
        self.diags.error(
            Code.TOO_LARGE,
            f"the expression has more than {MAX_NODES:,} nodes once the defs it uses are expanded",
            src.span,
            src.key_path,
        )

    # ------------------------------------------------------------ plumbing

    def _with_source(self, parsed: _Parsed, fn: Callable[[], _T]) -> _T:
        saved = self._src, self._lead, self._flat
        _, self._src, self._lead, self._flat = parsed
        try:
            return fn()
        finally:
            self._src, self._lead, self._flat = saved

    def _parse_tree(self, src: Source) -> _Parsed | None:
        text = src.text
        if not text.strip():
            self.diags.error(Code.EXPR_SYNTAX, "empty expression", src.span, src.key_path)
            return None
        if len(text) > MAX_CHARS:
            self.diags.error(
                Code.TOO_LARGE,
                f"the expression is {len(text):,} characters long; the limit is {MAX_CHARS:,}",
                src.span,
                src.key_path,
            )
            return None
        # One line of the same length: positions in it are positions in `text`.
        flat = text.replace("\r", " ").replace("\n", " ")
        body = flat.lstrip()
        lead = len(flat) - len(body)
        try:
            tree = ast.parse(body, mode="eval")
        except SyntaxError as exc:
            col = (exc.offset or 1) - 1 if (exc.lineno or 1) == 1 else len(body) - 1
            col = min(max(col, 0), max(len(body) - 1, 0))
            msg = exc.msg
            if "was never closed" in msg:
                msg = "unbalanced parenthesis: this one is never closed"
            elif msg.startswith("unmatched"):
                msg = f"{msg}: no parenthesis opens it"
            elif body[col : col + 1] == "=" and body[col + 1 : col + 2] != "=":
                msg = "'=' assigns: compare with '==' (assignments belong in do:)"
            span = locate(src.span, src.raw, src.style, text, lead + col)
            if body.strip().lstrip("+-").lower() in (".inf", ".nan"):
                self.diags.error(
                    Code.EXPR_UNSUPPORTED,
                    f"'{body.strip()}' is a YAML float: numbers in expressions are integers",
                    src.span,
                    src.key_path,
                )
                return None
            if "integer string conversion" in msg:  # Python's own cap on decimal literals
                digits = re.search(r"\d{100,}", body)
                at = (
                    locate(src.span, src.raw, src.style, text, lead + digits.start())
                    if digits
                    else span
                )
                self.diags.error(Code.TOO_LARGE, _TOO_WIDE, at, src.key_path)
                return None
            habit = _C_OPERATOR.search(body)
            if habit is not None:  # C's && || ! where Python's and/or/not go
                word = {"&&": "and", "||": "or", "!": "not"}[habit.group()]
                self.diags.error(
                    Code.EXPR_SYNTAX,
                    f"invalid expression '{_clip(text)}': '{habit.group()}' is C",
                    locate(src.span, src.raw, src.style, text, lead + habit.start()),
                    src.key_path,
                    f"write '{word}': expressions use Python's and, or, not",
                )
                return None
            self.diags.error(
                Code.EXPR_SYNTAX, f"invalid expression '{_clip(text)}': {msg}", span, src.key_path
            )
            return None
        except (RecursionError, MemoryError):
            self.diags.error(
                Code.EXPR_UNSUPPORTED, "the expression is nested too deeply", src.span, src.key_path
            )
            return None
        return tree.body, src, lead, body

    def _span(self, node: ast.AST) -> Span:
        src = self._src
        assert src is not None
        col = getattr(node, "col_offset", 0)
        end_col = getattr(node, "end_col_offset", col + 1)
        # ast columns count UTF-8 bytes
        encoded = self._flat.encode()
        start = len(encoded[:col].decode("utf-8", "ignore"))
        end = len(encoded[:end_col].decode("utf-8", "ignore"))
        return locate(
            src.span, src.raw, src.style, src.text, self._lead + start, max(end - start, 1)
        )

    def _err(self, code: Code, node: ast.AST, message: str, hint: str | None = None) -> _Abort:
        assert self._src is not None
        self.diags.error(code, message, self._span(node), self._src.key_path, hint)
        return _Abort()

    @staticmethod
    def _text(node: ast.AST) -> str:
        try:
            return ast.unparse(node)
        except Exception:  # pragma: no cover - unparse handles every parsed node
            return type(node).__name__

    # ------------------------------------------------------------ typing helpers

    def _expect(self, node: ast.expr, expected: Type | None) -> Expr:
        e = self._expr(node, expected)
        if expected is not None and not _same(e.type, expected):
            raise self._err(
                Code.TYPE_MISMATCH,
                node,
                f"type mismatch: '{self._text(node)}' is {e.type}, expected {expected}",
            )
        return e

    def _is_enum_literal(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Name):
            return False
        n = node.id
        if (
            n in self.bound
            or n in _BOOL_NAMES
            or self.scope.var(n)
            or self.scope.define(n)
            or self.scope.param(n)
        ):
            return False
        return bool(self.scope.enums_with(n))

    def _pair(self, left: ast.expr, right: ast.expr) -> tuple[Expr, Expr]:
        """Type two operands that must agree, letting a bare enum value take the other's type."""
        if self._is_enum_literal(left) and not self._is_enum_literal(right):
            r = self._expr(right, None)
            return self._expr(left, r.type), r
        lhs = self._expr(left, None)
        return lhs, self._expr(right, lhs.type)

    # ------------------------------------------------------------ expressions

    def _expr(self, node: ast.expr, expected: Type | None) -> Expr:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooLarge()
        span = self._span(node)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                return Const(v, BOOL, span)
            if isinstance(v, int):
                if abs(v).bit_length() > MAX_INT_BITS:
                    raise self._err(Code.TOO_LARGE, node, _TOO_WIDE)
                return Const(v, INT, span)
            kind = "string" if isinstance(v, str) else type(v).__name__
            raise self._err(
                Code.EXPR_UNSUPPORTED,
                node,
                f"{kind} literal {self._text(node)} is outside the expression subset",
                "enum values are bare names; numbers are integers",
            )
        if isinstance(node, ast.Name):
            return self._name(node, expected)
        if isinstance(node, ast.Subscript | ast.Attribute):
            return self._access(node)
        if isinstance(node, ast.BinOp):
            op = _ARITH.get(type(node.op))
            if op is None:
                raise self._err(
                    Code.EXPR_UNSUPPORTED,
                    node,
                    f"operator {_UNSUPPORTED_OP.get(type(node.op), '?')} is outside "
                    "the expression subset",
                )
            lhs = self._int(node.left, op)
            rhs = self._int(node.right, op)
            return Binary(op, lhs, rhs, INT, span)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return Unary("not", self._bool(node.operand, "not"), BOOL, span)
            uop = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}[type(node.op)]
            return Unary(uop, self._int(node.operand, uop), INT, span)
        if isinstance(node, ast.BoolOp):
            bop = "and" if isinstance(node.op, ast.And) else "or"
            return BoolOp(bop, tuple(self._bool(v, bop) for v in node.values), BOOL, span)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            cond = self._bool(node.test, "if")
            if self._is_enum_literal(node.body) and not self._is_enum_literal(node.orelse):
                orelse = self._expr(node.orelse, expected)
                then = self._expect(node.body, orelse.type)
            else:
                then = self._expr(node.body, expected)
                orelse = self._expect(node.orelse, then.type)
            return IfExp(cond, then, orelse, then.type, span)
        if isinstance(node, ast.Call):
            return self._call(node)
        what = {
            ast.Lambda: "lambda",
            ast.ListComp: "a list comprehension",
            ast.SetComp: "a set comprehension",
            ast.DictComp: "a dict comprehension",
            ast.GeneratorExp: "a generator outside an aggregate",
            ast.List: "a list outside 'in [...]'",
            ast.Tuple: "a tuple",
            ast.Dict: "a dict",
            ast.Set: "a set",
            ast.NamedExpr: "':='",
            ast.Await: "await",
            ast.Yield: "yield",
            ast.JoinedStr: "an f-string",
            ast.Starred: "'*'",
            ast.Slice: "a slice",
        }.get(type(node), type(node).__name__)
        raise self._err(
            Code.EXPR_UNSUPPORTED,
            node,
            f"{what} is outside the expression subset: '{self._text(node)}'",
        )

    def _int(self, node: ast.expr, op: str) -> Expr:
        e = self._expr(node, INT)
        if not isinstance(e.type, IntT):
            raise self._err(
                Code.TYPE_MISMATCH,
                node,
                f"type mismatch: '{op}' needs int operands, '{self._text(node)}' is {e.type}",
            )
        return e

    def _bool(self, node: ast.expr, op: str) -> Expr:
        e = self._expr(node, BOOL)
        if not isinstance(e.type, BoolT):
            raise self._err(
                Code.TYPE_MISMATCH,
                node,
                f"type mismatch: '{op}' needs bool operands, '{self._text(node)}' is {e.type}",
            )
        return e

    def _compare(self, node: ast.Compare) -> Expr:
        parts: list[Expr] = []
        left = node.left
        for op_node, right in zip(node.ops, node.comparators, strict=True):
            span = self._span(node)
            if isinstance(op_node, ast.In | ast.NotIn):
                if not isinstance(right, ast.List | ast.Tuple | ast.Set):
                    raise self._err(
                        Code.EXPR_UNSUPPORTED,
                        right,
                        "'in' needs a literal list on its right: x in [a, b]",
                    )
                if not right.elts:
                    raise self._err(Code.INVALID_VALUE, right, "'in []' is always false")
                if self._is_enum_literal(left):
                    opts0 = [self._expr(o, None) for o in right.elts]
                    arg = self._expr(left, opts0[0].type)
                else:
                    arg = self._expr(left, None)
                opts = tuple(self._expect(o, arg.type) for o in right.elts)
                parts.append(Member(arg, opts, isinstance(op_node, ast.NotIn), BOOL, span))
            else:
                op = _CMP.get(type(op_node))
                if op is None:
                    raise self._err(
                        Code.EXPR_UNSUPPORTED,
                        node,
                        f"operator {_UNSUPPORTED_OP.get(type(op_node), '?')} is outside "
                        "the expression subset (use == / !=)",
                    )
                lhs, rhs = self._pair(left, right)
                if op in ("==", "!="):
                    if not _same(lhs.type, rhs.type):
                        raise self._err(
                            Code.TYPE_MISMATCH,
                            node,
                            f"type mismatch: cannot compare {lhs.type} "
                            f"'{self._text(left)}' with {rhs.type} '{self._text(right)}'",
                        )
                elif not (isinstance(lhs.type, IntT) and isinstance(rhs.type, IntT)):
                    bad = left if not isinstance(lhs.type, IntT) else right
                    raise self._err(
                        Code.TYPE_MISMATCH,
                        bad,
                        f"type mismatch: '{op}' orders ints only, '{self._text(bad)}' "
                        f"is {lhs.type if bad is left else rhs.type}",
                    )
                parts.append(Binary(op, lhs, rhs, BOOL, span))
            left = right
        if len(parts) == 1:
            return parts[0]
        return BoolOp("and", tuple(parts), BOOL, self._span(node))

    def _call(self, node: ast.Call) -> Expr:
        span = self._span(node)
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
            fname = self._text(node.func)
            hint = did_you_mean(fname, _FUNCS)
            raise self._err(
                Code.EXPR_UNSUPPORTED,
                node,
                f"call of '{fname}' is outside the expression subset "
                f"(functions: {', '.join(_FUNCS)})",
                hint,
            )
        fn = node.func.id
        if node.keywords:
            raise self._err(Code.EXPR_UNSUPPORTED, node, f"{fn}() takes no keyword arguments")
        args = node.args
        if fn in _AGGS:
            return self._aggregate(fn, node)
        if fn == "implies":
            if len(args) != 2:
                raise self._err(Code.EXPR_UNSUPPORTED, node, "implies(a, b) takes two arguments")
            return Call(fn, (self._bool(args[0], fn), self._bool(args[1], fn)), BOOL, span)
        if fn == "abs":
            if len(args) != 1:
                raise self._err(Code.EXPR_UNSUPPORTED, node, "abs(x) takes one argument")
            return Call(fn, (self._int(args[0], fn),), INT, span)
        if len(args) < 2:
            raise self._err(
                Code.EXPR_UNSUPPORTED, node, f"{fn}(a, b, ...) takes two or more arguments"
            )
        return Call(fn, tuple(self._int(a, fn) for a in args), INT, span)

    def _aggregate(self, fn: str, node: ast.Call) -> Expr:
        span = self._span(node)
        usage = f"{fn}(EXPR for x in DOMAIN) with DOMAIN cpus, tasks or an enum"
        if len(node.args) != 1 or not isinstance(node.args[0], ast.GeneratorExp):
            raise self._err(Code.EXPR_UNSUPPORTED, node, f"write {usage}")
        gen = node.args[0]
        if len(gen.generators) != 1:
            raise self._err(Code.EXPR_UNSUPPORTED, gen, f"one 'for' only: {usage}")
        comp = gen.generators[0]
        if not isinstance(comp.target, ast.Name) or comp.is_async:
            raise self._err(Code.EXPR_UNSUPPORTED, comp.target, f"write {usage}")
        if not isinstance(comp.iter, ast.Name):
            raise self._err(Code.EXPR_UNSUPPORTED, comp.iter, f"write {usage}")
        domain = self.scope.domain(comp.iter.id)
        if domain is None:
            hint = did_you_mean(comp.iter.id, ["cpus", "tasks", *self._enum_names()])
            raise self._err(Code.UNKNOWN_NAME, comp.iter, f"unknown domain '{comp.iter.id}'", hint)
        var = comp.target.id
        if var in self.bound or self.scope.var(var) or var == "self":
            raise self._err(Code.NAME_CLASH, comp.target, f"'{var}' is already bound here")
        self.bound[var] = domain.type
        try:
            cond: Expr | None = None
            if comp.ifs:
                conds = [self._bool(c, "if") for c in comp.ifs]
                cond = conds[0] if len(conds) == 1 else BoolOp("and", tuple(conds), BOOL, span)
            if fn in ("any", "all", "count"):
                body = self._bool(gen.elt, fn)
            else:
                body = self._int(gen.elt, fn)
        finally:
            del self.bound[var]
        rtype: Type = BOOL if fn in ("any", "all") else INT
        return Agg(fn, var, domain, body, cond, rtype, span)

    def _enum_names(self) -> list[str]:
        return [n for n in self.scope.names() if self.scope.domain(n) is not None]

    # ------------------------------------------------------------ names and variables

    def _name(self, node: ast.Name, expected: Type | None) -> Expr:
        name = node.id
        span = self._span(node)
        if name in self.bound:
            if name == "self":
                self.used_self = True
            return Bound(name, self.bound[name], span)
        if name == "self":
            raise self._err(
                Code.UNKNOWN_NAME, node, "'self' is only defined in actions and per-CPU properties"
            )
        if name in _BOOL_NAMES:
            return Const(_BOOL_NAMES[name], BOOL, span)
        info = self.scope.var(name)
        if info is not None:
            return self._bare_var(info, node)
        src = self.scope.define(name)
        if src is not None:
            return self._define(name, src, node, expected)
        param = self.scope.param(name)
        if param is not None:
            return Const(param[0], param[1], span)
        enums = self.scope.enums_with(name)
        if enums:
            if isinstance(expected, EnumT) and name in expected.values:
                return Const(name, expected, span)
            if len(enums) == 1:
                return Const(name, enums[0], span)
            raise self._err(
                Code.TYPE_MISMATCH,
                node,
                f"'{name}' is a value of several enums "
                f"({', '.join(e.name for e in enums)}); compare it with a typed expression",
            )
        if self.scope.domain(name) is not None:
            raise self._err(
                Code.UNKNOWN_NAME,
                node,
                f"'{name}' names a domain, not a value: iterate over it in an "
                f"aggregate (any(... for x in {name})), or use a param for a count",
            )
        hint = did_you_mean(name, [*self.scope.names(), *self.bound])
        raise self._err(Code.UNKNOWN_NAME, node, f"unknown name '{name}'", hint)

    def _define(self, name: str, src: Source, node: ast.Name, expected: Type | None) -> Expr:
        if name in self._def_stack:
            cycle = " -> ".join([*self._def_stack[self._def_stack.index(name) :], name])
            raise self._err(Code.DEF_CYCLE, node, f"defs refer to each other in a cycle: {cycle}")
        parsed = self._parse_tree(src)
        if parsed is None:
            raise _Abort()
        self._def_stack.append(name)
        try:
            return self._with_source(parsed, lambda: self._expr(parsed[0], expected))
        finally:
            self._def_stack.pop()

    def _bare_var(self, info: VarInfo, node: ast.expr) -> Expr:
        span = self._span(node)
        if info.index is None:
            return VarRef(info, None, None, info.type, span)
        if info.index.is_cpus and "self" in self.bound:
            self.used_self = True
            return VarRef(info, Bound("self", self.bound["self"], span), None, info.type, span)
        raise self._err(
            Code.BAD_INDEX,
            node,
            f"'{info.name}' is indexed by {info.index.name}; write {info.name}[...]",
        )

    def _access(self, node: ast.Subscript | ast.Attribute) -> Expr:
        span = self._span(node)
        if isinstance(node, ast.Attribute):
            base = node.value
            fld = node.attr
            if (
                isinstance(base, ast.Name)
                and (info := self.scope.var(base.id)) is not None
                and base.id not in self.bound
            ):
                ref = self._bare_var(info, base)
            elif isinstance(base, ast.Subscript):
                ref = self._access(base)
            else:
                raise self._err(
                    Code.EXPR_UNSUPPORTED,
                    node,
                    f"'.{fld}' applies to a word variable: '{self._text(node)}'",
                )
            assert isinstance(ref, VarRef)
            return self._field(ref, fld, node)
        base = node.value
        if (
            not isinstance(base, ast.Name)
            or base.id in self.bound
            or self.scope.var(base.id) is None
        ):
            if isinstance(base, ast.Name) and base.id not in self.bound:
                hint = did_you_mean(base.id, self.scope.names())
                raise self._err(Code.UNKNOWN_NAME, base, f"unknown variable '{base.id}'", hint)
            raise self._err(
                Code.EXPR_UNSUPPORTED,
                node,
                f"only state variables can be indexed: '{self._text(node)}'",
            )
        info = self.scope.var(base.id)
        assert info is not None
        if info.index is None:
            raise self._err(Code.BAD_INDEX, node, f"'{info.name}' is not indexed")
        idx = self._expr(node.slice, info.index.type)
        if not _same(idx.type, info.index.type):
            raise self._err(
                Code.BAD_INDEX,
                node.slice,
                f"'{info.name}' is indexed by {info.index.name} ({info.index.type}), "
                f"'{self._text(node.slice)}' is {idx.type}",
            )
        return VarRef(info, idx, None, info.type, span)

    def _field(self, ref: VarRef, fld: str, node: ast.Attribute) -> Expr:
        info = ref.var
        if info.kind != "word" or not info.fields:
            raise self._err(Code.BAD_INDEX, node, f"'{info.name}' has no fields")
        if info.field(fld) is None:
            hint = did_you_mean(f"{info.name}.{fld}", [f"{info.name}.{f[0]}" for f in info.fields])
            raise self._err(Code.UNKNOWN_NAME, node, f"unknown variable '{info.name}.{fld}'", hint)
        return VarRef(info, ref.index, fld, INT, self._span(node))

    # ------------------------------------------------------------ assignment targets

    def _target(self, node: ast.expr) -> Target:
        span = self._span(node)
        if isinstance(node, ast.Name):
            info = self.scope.var(node.id)
            if info is None or node.id in self.bound:
                hint = did_you_mean(node.id, [n for n in self.scope.names() if self.scope.var(n)])
                raise self._err(Code.UNKNOWN_NAME, node, f"unknown variable '{node.id}'", hint)
            ref = self._bare_var(info, node)
        elif isinstance(node, ast.Subscript | ast.Attribute):
            ref = self._access(node)
        else:
            raise self._err(
                Code.BAD_INDEX,
                node,
                f"'{self._text(node)}' cannot be assigned: write v, v[i], v.field or v[i].field",
            )
        assert isinstance(ref, VarRef)
        return Target(ref.var, ref.index, ref.fld, span)


def _same(a: Type, b: Type) -> bool:
    return a == b
