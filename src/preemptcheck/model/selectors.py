"""Naming actions in properties: an action name, `tag:TAG`, or a list of them."""

from __future__ import annotations

from collections.abc import Mapping

from preemptcheck.core.errors import Code, Collector, did_you_mean
from preemptcheck.model import schema
from preemptcheck.model.ir import Action
from preemptcheck.model.scope import ModelScope
from preemptcheck.model.yamlnodes import Node


def names_action(text: str, scope: ModelScope, actions: Mapping[str, Action]) -> bool:
    t = text.strip()
    if t.startswith("tag:"):
        return True
    return t in actions and scope.var(t) is None and t not in scope.defs and scope.param(t) is None


def select_actions(
    node: Node, actions: Mapping[str, Action], diags: Collector, path: str
) -> list[Action] | None:
    out: list[Action] = []
    tags = sorted({t for a in actions.values() for t in a.tags})
    for name, item in schema.string_list(node, path, diags):
        name = name.strip()
        if name.startswith("tag:"):
            tag = name[4:].strip()
            hit = [a for a in actions.values() if tag in a.tags]
            if not hit:
                diags.error(
                    Code.UNKNOWN_NAME,
                    f"no action has tag '{tag}'",
                    item.span,
                    path,
                    did_you_mean(tag, tags),
                )
                return None
            out.extend(a for a in hit if a not in out)
        elif name in actions:
            if actions[name] not in out:
                out.append(actions[name])
        else:
            diags.error(
                Code.UNKNOWN_NAME,
                f"unknown action '{name}'",
                item.span,
                path,
                did_you_mean(name, [*actions, *(f"tag:{t}" for t in tags)]),
            )
            return None
    if not out:
        diags.error(Code.MISSING_KEY, "select at least one action or tag:TAG", node.span, path)
        return None
    order = list(actions)
    return sorted(out, key=lambda a: order.index(a.name))
