"""Small validators for located YAML nodes: key sets, YAML types, identifiers."""

from __future__ import annotations

import keyword
import re

from preemptcheck.core.errors import Code, Collector, did_you_mean
from preemptcheck.core.source import Span
from preemptcheck.model.shapes import Obj
from preemptcheck.model.yamlnodes import Node

IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
PROP_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
_IDENT = re.compile(IDENT)
_PROP_ID = re.compile(PROP_ID)
RESERVED = frozenset(
    {
        "self",
        "true",
        "false",
        "True",
        "False",
        "cpus",
        "tasks",
        "implies",
        "min",
        "max",
        "abs",
        "any",
        "all",
        "count",
        "sum",
        "not",
        "and",
        "or",
        "in",
        "if",
        "else",
        "for",
    }
)


def yaml_type(node: Node) -> str:
    v = node.value
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a float"
    if v is None:
        return "empty"
    return "a string"


def keys(node: Node, spec: Obj, path: str, diags: Collector) -> dict[str, Node] | None:
    """Check that `node` is a mapping with only the keys of `spec` (model/grammar.py) and
    every key it requires."""
    if not node.is_map:
        diags.error(Code.WRONG_TYPE, f"expected a mapping, got {yaml_type(node)}", node.span, path)
        return None
    allowed = spec.keys
    for key, kspan in node.key_spans.items():
        if key not in allowed and spec.extra is None:
            hint = did_you_mean(key, allowed)
            diags.error(Code.UNKNOWN_KEY, f"unknown key '{key}'", kspan, path, hint)
    for key in spec.required:
        if key not in node.value:
            message = spec.key(key).missing or f"missing required key '{key}'"
            diags.error(Code.MISSING_KEY, message, node.span, path)
    return node.value  # type: ignore[no-any-return]


def ident(
    name: str, span: Span, path: str, diags: Collector, *, what: str = "name", reserved: bool = True
) -> bool:
    """A declared name must be an identifier that is not reserved."""
    if not _IDENT.match(name) or keyword.iskeyword(name):
        diags.error(Code.INVALID_VALUE, f"{what} '{name}' is not an identifier", span, path)
        return False
    if reserved and name in RESERVED:
        diags.error(Code.NAME_CLASH, f"{what} '{name}' is reserved by the language", span, path)
        return False
    return True


def prop_id_ok(name: str) -> bool:
    return bool(_PROP_ID.match(name))


def string(node: Node, path: str, diags: Collector) -> str | None:
    if isinstance(node.value, str):
        return node.value
    diags.error(Code.WRONG_TYPE, f"expected a string, got {yaml_type(node)}", node.span, path)
    return None


def boolean(node: Node, path: str, diags: Collector) -> bool | None:
    if isinstance(node.value, bool):
        return node.value
    diags.error(Code.WRONG_TYPE, f"expected true or false, got {yaml_type(node)}", node.span, path)
    return None


def string_list(node: Node, path: str, diags: Collector) -> list[tuple[str, Node]]:
    """A string or a list of strings."""
    items = node.value if node.is_list else [node]
    out = []
    for item in items:
        if isinstance(item.value, str):
            out.append((item.value, item))
        else:
            diags.error(Code.WRONG_TYPE, f"expected a name, got {yaml_type(item)}", item.span, path)
    return out
