"""Located YAML nodes of a model's text, and edits of the text at those locations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml


@dataclass(frozen=True)
class Pair:
    path: str
    key: yaml.ScalarNode
    value: yaml.Node
    flow: bool


@dataclass(frozen=True)
class Tree:
    pairs: tuple[Pair, ...]
    scalars: tuple[tuple[str, yaml.ScalarNode], ...]  # every scalar value, with its path
    values: tuple[tuple[str, yaml.Node], ...]  # every value (mapping values, list items)


@lru_cache(maxsize=128)
def tree(text: str) -> Tree | None:
    """The located YAML nodes of `text` (BaseLoader: every scalar a string, as written)."""
    try:
        root = yaml.compose(text, Loader=yaml.BaseLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    if root is None:
        return None
    pairs: list[Pair] = []
    scalars: list[tuple[str, yaml.ScalarNode]] = []
    values: list[tuple[str, yaml.Node]] = []

    def walk(node: yaml.Node, path: str, depth: int) -> None:
        if depth > 60:
            return
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode):
                    continue
                p = f"{path}.{k.value}" if path else k.value
                pairs.append(Pair(p, k, v, bool(node.flow_style)))
                values.append((p, v))
                walk(v, p, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                values.append((f"{path}[{i}]", v))
                walk(v, f"{path}[{i}]", depth + 1)
        elif isinstance(node, yaml.ScalarNode) and path:
            scalars.append((path, node))

    walk(root, "", 0)
    return Tree(tuple(pairs), tuple(scalars), tuple(values))


def node_end(text: str, node: yaml.Node) -> int:
    """Where `node`'s text ends, without the blank lines a block collection's mark includes."""
    start, end = node.start_mark.index, node.end_mark.index
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def replace_node(text: str, node: yaml.Node, new: str) -> str:
    return splice(text, [(node.start_mark.index, node_end(text, node), new)])


def delete_pair(text: str, pair: Pair) -> str:
    s, e = pair.key.start_mark.index, node_end(text, pair.value)
    if pair.flow:
        j = e
        while j < len(text) and text[j] in " \t\r\n":
            j += 1
        if j < len(text) and text[j] == ",":
            return text[:s] + text[j + 1 :].lstrip(" ")
        i = s
        while i > 0 and text[i - 1] in " \t\r\n":
            i -= 1
        if i > 0 and text[i - 1] == ",":
            s = i - 1
        return text[:s] + text[e:]
    ls = text.rfind("\n", 0, s) + 1
    le = text.find("\n", e)
    le = len(text) if le < 0 else le
    rest = text[e:le].strip()
    if not text[ls:s].strip() and (not rest or rest.startswith("#")):
        return text[:ls] + text[le + 1 :]
    return text[:s] + text[e:]


def duplicate_pair(text: str, pair: Pair) -> str:
    s, e = pair.key.start_mark.index, node_end(text, pair.value)
    chunk = text[s:e]
    sep = ", " if pair.flow else "\n" + " " * pair.key.start_mark.column
    return text[:e] + sep + chunk + text[e:]


EXPR_PATH = re.compile(
    r"(^|\.)(when|if|invariant|reachable|from|to)$|\.do\.|^defs\.[^.]+$|\.within$"
)
CONST_RE = re.compile(r"(?<![\w.])(0x[0-9a-fA-F]+|0b[01]+|\d+|true|false)(?![\w.])")


def in_scalar(text: str, node: yaml.ScalarNode, rx: re.Pattern[str]) -> list[re.Match[str]]:
    s, e = node.start_mark.index, node_end(text, node)
    return [m for m in rx.finditer(text, s, e)]
