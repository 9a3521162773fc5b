"""The names a model declares, as expressions see them; constant evaluation of declarations."""

from __future__ import annotations

from collections.abc import Iterable

from preemptcheck.core.errors import Code, Collector
from preemptcheck.core.source import Span
from preemptcheck.expr.ast import Domain, EnumT, Expr, Type, Value, VarInfo, VarRef, walk
from preemptcheck.expr.evaluate import EvalError, eval_const
from preemptcheck.expr.parse import ExprParser, Source, source_text
from preemptcheck.model import schema
from preemptcheck.model.yamlnodes import Node


class ModelScope:
    """Implements expr.parse.Scope over a model's declarations."""

    def __init__(self) -> None:
        self.vars: dict[str, VarInfo] = {}
        self.params: dict[str, tuple[Value, Type]] = {}
        self.defs: dict[str, Source] = {}
        self.enum_types: dict[str, EnumT] = {}  # named enums, and `tasks`
        self.anon_enums: list[EnumT] = []  # `values:` of enum vars, string params
        self.domains: dict[str, Domain] = {}
        self.used_defs: set[str] = set()
        # overlapping word fields: (var, field, the other field, where the field is declared,
        # its key path); only read-only views may overlap (checked once the actions are known)
        self.field_overlaps: list[tuple[str, str, str, Span, str]] = []

    def var(self, name: str) -> VarInfo | None:
        return self.vars.get(name)

    def param(self, name: str) -> tuple[Value, Type] | None:
        return self.params.get(name)

    def define(self, name: str) -> Source | None:
        src = self.defs.get(name)
        if src is not None:
            self.used_defs.add(name)
        return src

    def enums_with(self, value: str) -> list[EnumT]:
        seen: list[EnumT] = []
        for e in (*self.enum_types.values(), *self.anon_enums):
            if value in e.values and e not in seen:
                seen.append(e)
        return seen

    def domain(self, name: str) -> Domain | None:
        return self.domains.get(name)

    def names(self) -> Iterable[str]:
        yield from self.vars
        yield from self.params
        yield from self.defs
        yield from self.domains
        for e in (*self.enum_types.values(), *self.anon_enums):
            yield from e.values

    def declared(self) -> dict[str, str]:
        """Declared names (not enum values) and what declares them, for clash checks."""
        out: dict[str, str] = {}
        for kind, names in (
            ("param", self.params),
            ("enum", self.enum_types),
            ("variable", self.vars),
            ("def", self.defs),
        ):
            for n in names:
                out.setdefault(n, kind)
        return out


def expr_of(parser: ExprParser, node: Node | None, path: str, typ: Type | None) -> Expr | None:
    """The expression a YAML scalar holds, parsed and type-checked (None: absent or bad)."""
    if node is None:
        return None
    if not node.is_scalar or node.value is None:
        parser.diags.error(
            Code.WRONG_TYPE,
            f"expected an expression, got {schema.yaml_type(node)}",
            node.span,
            path,
        )
        return None
    return parser.parse(source_of(node, path), typ)


def source_of(node: Node, path: str, text: str | None = None) -> Source:
    """The expression written in a YAML scalar, with what is needed to locate its tokens."""
    return Source(
        source_text(node.value) if text is None else text, node.span, node.style, path, node.raw
    )


def const_value(
    node: Node, scope: ModelScope, diags: Collector, path: str, expected: Type
) -> Value | None:
    """A declaration value: a literal or an expression over params (no state, no self)."""
    if node.is_map or node.is_list or node.value is None:
        from preemptcheck.model.schema import yaml_type

        diags.error(
            Code.WRONG_TYPE, f"expected a {expected} value, got {yaml_type(node)}", node.span, path
        )
        return None
    parser = ExprParser(scope, diags)
    e = parser.parse(source_of(node, path), expected)
    if e is None:
        return None
    return const_of(e, node, diags, path)


def const_of(e: Expr, node: Node, diags: Collector, path: str) -> Value | None:
    if any(isinstance(n, VarRef) for n in walk(e)):
        diags.error(
            Code.NOT_CONSTANT,
            "a declaration may use params and literals only, not state variables",
            node.span,
            path,
        )
        return None
    try:
        return eval_const(e)
    except EvalError as exc:
        diags.error(Code.INVALID_VALUE, str(exc), node.span, path)
        return None
