"""Params -> IR: their values and types (the `mode` convention), and `--set` overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from preemptcheck.core.errors import Code, Collector, did_you_mean
from preemptcheck.core.source import Span
from preemptcheck.expr.ast import BOOL, INT, MAX_INT_BITS, EnumT, IntT, Type, Value
from preemptcheck.model import grammar, schema
from preemptcheck.model.ir import MODES, Param
from preemptcheck.model.merge import Entry, RawModel
from preemptcheck.model.yamlnodes import Node


def _param_type(values: list[Value]) -> Type | None:
    if all(isinstance(v, bool) for v in values):
        return BOOL
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return INT
    if all(isinstance(v, str) for v in values):
        return EnumT("?", ())
    return None


def _scalar_values(node: Node, path: str, diags: Collector) -> list[Value] | None:
    items = node.value if node.is_list else [node]
    out: list[Value] = []
    for item in items:
        if not isinstance(item.value, bool | int | str) or isinstance(item.value, float):
            diags.error(
                Code.WRONG_TYPE,
                f"a param value must be an integer, a boolean or a name, "
                f"got {schema.yaml_type(item)}",
                item.span,
                path,
            )
            return None
        if isinstance(item.value, str) and not schema.ident(
            item.value, item.span, path, diags, what="value"
        ):
            return None
        out.append(item.value)
    return out


def build_params(
    raw: RawModel, overrides: Mapping[str, str], diags: Collector, usage: Collector
) -> dict[str, Param]:
    params: dict[str, Param] = {}
    for name, entry in raw.sections["params"].items():
        path = f"params.{name}"
        if not schema.ident(name, entry.key_span, path, diags, what="param"):
            continue
        p = _build_param(name, entry, path, diags)
        if p is not None:
            params[name] = p
    for name, text in overrides.items():
        if name not in params:
            usage.error(
                Code.UNKNOWN_PARAM,
                f"unknown param '{name}' in --set",
                Span(raw.file, 0, 0),
                key_path=f"--set {name}={text}",
                hint=did_you_mean(name, params)
                or (f"params: {', '.join(params)}" if params else "the model has no params"),
            )
            continue
        p = params[name]
        value = _parse_override(p, text)
        if len(text) > 40:
            text = text[:39] + "…"  # quoted in the message below
        if value is None:
            shown = ", ".join(show(v) for v in p.domain) if len(p.domain) < 20 else "…"
            usage.error(
                Code.BAD_PARAM_VALUE,
                f"'{text}' is not a value of param '{name}'",
                Span(raw.file, 0, 0),
                key_path=f"--set {name}={text}",
                hint=f"values: {shown}" if p.domain else f"expected {p.type}",
            )
            continue
        params[name] = dataclasses.replace(p, default=value)
    return params


def _parse_override(p: Param, text: str) -> Value | None:
    if p.type == BOOL:
        return {"true": True, "false": False}.get(text)
    if p.type == INT:
        if len(text) > MAX_INT_BITS:  # int() is quadratic in the digits; the value is too wide
            return None
        try:
            value = int(text, 0)
        except ValueError:
            return None
        if abs(value).bit_length() > MAX_INT_BITS:
            return None
        return value if not p.domain or len(p.domain) == 1 or value in p.domain else None
    return text if text in p.domain else None


def _build_param(name: str, entry: Entry, path: str, diags: Collector) -> Param | None:
    node = entry.node
    default_node: Node | None = None
    sweep = False
    if node.is_map:
        fields = schema.keys(node, grammar.PARAM_MAP, path, diags)
        if fields is None or "values" not in fields:
            return None
        values = _scalar_values(fields["values"], f"{path}.values", diags)
        if values is None:
            return None
        if not values:
            diags.error(Code.INVALID_VALUE, "values: needs at least one value", node.span, path)
            return None
        default_node = fields.get("default")
        if "sweep" in fields:
            sweep = bool(schema.boolean(fields["sweep"], f"{path}.sweep", diags))
        domain = list(values)
    else:
        single = _scalar_values(node, path, diags)
        if single is None:
            return None
        if not single:
            diags.error(Code.INVALID_VALUE, "a param needs at least one value", node.span, path)
            return None
        values = single
        base = entry.base.node if entry.base is not None else None
        domain = list(values)
        if base is not None and base.is_map and "values" in base.value:
            inherited = _scalar_values(base.value["values"], path, Collector()) or []
            if values[0] in inherited:
                domain = inherited
    typ = _param_type(domain)
    if typ is None:
        diags.error(
            Code.TYPE_MISMATCH,
            "a param's values must all be integers, all booleans or all names",
            node.span,
            path,
        )
        return None
    if name == "mode":
        bad = [v for v in domain if v not in MODES]
        if bad or not isinstance(typ, EnumT):
            culprit = str(bad[0] if bad else domain[0])
            items = node.value["values"] if node.is_map else node
            where = next(
                (i for i in (items.value if items.is_list else [items]) if str(i.value) == culprit),
                items,
            )
            diags.error(
                Code.INVALID_VALUE,
                f"mode values are {', '.join(MODES)}; got '{culprit}'",
                where.span,
                f"{path}.values" if node.is_map else path,
                did_you_mean(culprit, MODES),
            )
            return None
        typ = EnumT("mode", MODES)
        domain = list(MODES)
    elif isinstance(typ, EnumT):
        typ = EnumT(name, tuple(str(v) for v in domain))
    default: Value = values[0]
    if default_node is not None:
        if default_node.value not in values or isinstance(default_node.value, bool) != isinstance(
            values[0], bool
        ):
            diags.error(
                Code.INVALID_VALUE,
                f"default '{default_node.value}' is not one of the values",
                default_node.span,
                f"{path}.default",
            )
            return None
        default = default_node.value
    if isinstance(typ, IntT):
        domain = []  # `values` lists what to check; `--set` may choose any integer
    return Param(name, typ, tuple(domain), tuple(values), default, entry.key_span, sweep)


def show(v: Value) -> str:
    """A param value as `--set` and `expect` keys write it."""
    return ("true" if v else "false") if isinstance(v, bool) else str(v)
