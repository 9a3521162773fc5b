"""YAML 1.2 (core schema) text -> located raw nodes; `on`, `off`, `yes`, `no` stay strings."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from preemptcheck.core.errors import Code, Collector, Diagnostic
from preemptcheck.core.source import Span
from preemptcheck.expr.ast import MAX_INT_BITS

# YAML 1.2 core schema: only these plain scalars are not strings.
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_FLOAT = re.compile(
    r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"
    r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")

_T = "tag:yaml.org,2002:"


# libyaml's parser when PyYAML was built with it (five times faster), with the same marks
_Base = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _Yaml12Loader(_Base):  # type: ignore[misc,valid-type]
    """A safe loader whose implicit resolvers are those of the YAML 1.2 core schema."""


_Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _rx, _first in (
    ("bool", _BOOL, "tTfF"),
    ("int", _INT16, "0"),
    ("int", _INT8, "0"),
    ("int", _INT10, "-+0123456789"),
    ("float", _FLOAT, "-+.0123456789"),
    ("null", _NULL, "~nN"),
):
    _Yaml12Loader.add_implicit_resolver(_T + _tag, _rx, list(_first))
_Yaml12Loader.add_implicit_resolver(_T + "null", _NULL, [""])


@dataclass(frozen=True, slots=True)
class Node:
    """A located YAML value: `value` is a dict[str, Node], a list[Node] or a scalar."""

    value: Any
    span: Span
    style: str | None = None  # scalar style: None (plain), "'", '"', '|', '>'
    key_spans: dict[str, Span] = field(default_factory=dict, compare=False)
    raw: str = field(default="", compare=False)  # a scalar's source text, to locate within it

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.value, dict | list)


def _span(file: str, node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    length = end.column - start.column if end.line == start.line else 1
    return Span(file, start.line + 1, start.column + 1, max(1, length))


class IntTooLarge(ValueError):
    """An integer scalar past MAX_INT_BITS."""


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    tag = node.tag
    if tag == _T + "bool":
        return text.lower() == "true"
    if tag == _T + "int":
        return _int(text)
    if tag == _T + "float":
        special = text.lstrip("+-").lower()
        if special in (".inf", ".nan"):  # YAML's spellings; Python's float() wants inf, nan
            return float(text[: len(text) - len(special)] + special[1:])
        return float(text)
    if tag == _T + "null":
        return None
    return text


def _int(text: str) -> int:
    sign, digits = (-1, text[1:]) if text[:1] == "-" else (1, text.lstrip("+"))
    if digits.startswith("0x"):
        base, digits = 16, digits[2:]
    elif digits.startswith("0o"):
        base, digits = 8, digits[2:]
    else:
        base = 10
    # a bound on the digits before converting: int() of a long decimal string is quadratic
    if len(digits.lstrip("0")) > MAX_INT_BITS:
        raise IntTooLarge(text)
    value = sign * int(digits, base)
    if abs(value).bit_length() > MAX_INT_BITS:
        raise IntTooLarge(text)
    return value


# a YAML document with more values, or nested deeper, is refused (aliases can multiply a
# small file: the billion-laughs document)
_MAX_NODES = 200_000
_MAX_DEPTH = 200


class _Converter:
    def __init__(self, file: str, text: str, diags: Collector) -> None:
        self.file = file
        self.text = text
        self.diags = diags
        self.budget = _MAX_NODES

    def convert(self, node: yaml.Node, path: str = "", depth: int = 0) -> Node:
        span = _span(self.file, node)
        self.budget -= 1
        if depth > _MAX_DEPTH or self.budget < 0:
            if self.budget == -1 or depth == _MAX_DEPTH + 1:
                what = (
                    f"nested deeper than {_MAX_DEPTH} levels"
                    if depth > _MAX_DEPTH
                    else f"more than {_MAX_NODES:,} values (are aliases expanding without end?)"
                )
                self.diags.error(Code.TOO_LARGE, f"the document is {what}", span, path)
            return Node(None, span)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Node] = {}
            keys: dict[str, Span] = {}
            for knode, vnode in node.value:
                kspan = _span(self.file, knode)
                if not isinstance(knode, yaml.ScalarNode):
                    self.diags.error(
                        Code.WRONG_TYPE, "a mapping key must be a plain scalar", kspan, path
                    )
                    continue
                key = str(knode.value)
                kpath = f"{path}.{key}" if path else key
                if key in out:
                    self.diags.error(
                        Code.DUPLICATE_KEY,
                        f"duplicate key '{key}'",
                        kspan,
                        kpath,
                        hint=f"first given at line {keys[key].line}",
                    )
                    continue
                keys[key] = kspan
                out[key] = self.convert(vnode, kpath, depth + 1)
            return Node(out, span, None, keys)
        if isinstance(node, yaml.SequenceNode):
            return Node(
                [self.convert(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node.value)], span
            )
        assert isinstance(node, yaml.ScalarNode)
        raw = self.text[node.start_mark.index : node.end_mark.index]
        try:
            value = _scalar(node)
        except IntTooLarge:
            self.diags.error(
                Code.TOO_LARGE,
                f"integer of {len(node.value):,} characters: integers are limited to "
                f"{MAX_INT_BITS} bits",
                span,
                path,
            )
            return Node(None, span)
        return Node(value, span, node.style or None, raw=raw)


def _yaml_message(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, str | None]:
    problem = exc.problem or exc.context or "malformed YAML"
    hint = None
    if exc.context and exc.context_mark is not None and exc.problem:
        problem += f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
    if (
        exc.context
        and "flow mapping" in exc.context
        and ("'['" in (exc.problem or "") or _bracket_key(exc, text))
    ):
        hint = (
            "YAML forbids [ ] in keys inside { }: write this mapping in block style, "
            "one `key: value` per line"
        )
    elif "mapping values are not allowed" in problem:
        hint = "quote a value that contains ': '"
    elif "found character '\\t'" in problem or "\\t" in problem:
        hint = "indent with spaces, not tabs"
    return problem, hint


def parse_yaml(file: str, text: str, diags: Collector) -> Node | None:
    """Parse one YAML document into located nodes; syntax errors become diagnostics."""
    node, found = _parse(file, text)
    diags.add(found)
    return node


@functools.lru_cache(maxsize=256)
def _parse(file: str, text: str) -> tuple[Node | None, tuple[Diagnostic, ...]]:
    """Parsed once per file text: a run reads a file for its param choices and again to load."""
    diags = Collector()
    return _parse_uncached(file, text, diags), tuple(diags.diagnostics)


def _bracket_key(exc: yaml.MarkedYAMLError, text: str) -> bool:
    """A `[` between the `{` of the flow mapping and the error: `do: {pc[self]: ...}`."""
    start, end = exc.context_mark, exc.problem_mark
    if start is None or end is None:
        return False
    lines = text.splitlines()
    if not start.line <= end.line < len(lines):
        return False
    if start.line == end.line:
        segment = lines[start.line][start.column : end.column + 1]
    else:
        segment = "\n".join(
            [lines[start.line][start.column :], *lines[start.line + 1 : end.line + 1]]
        )
    return "[" in segment


def _parse_uncached(file: str, text: str, diags: Collector) -> Node | None:
    try:
        root = yaml.compose(text, Loader=_Yaml12Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        problem, hint = _yaml_message(exc, text)
        diags.error(Code.YAML_SYNTAX, f"malformed YAML: {problem}", span, hint=hint)
        return None
    except yaml.YAMLError as exc:  # e.g. a second document
        diags.error(Code.YAML_SYNTAX, f"malformed YAML: {exc}", Span(file, 1, 1))
        return None
    except RecursionError:
        diags.error(Code.YAML_SYNTAX, "malformed YAML: nested too deeply", Span(file, 1, 1))
        return None
    if root is None:
        return Node(None, Span(file, 1, 1))
    return _Converter(file, text, diags).convert(root)
