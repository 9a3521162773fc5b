"""`leads_to` properties -> IR: the request, the response, fairness and the bound (DESIGN §1.5).

lazy-within-one-tick:
  leads_to: {from: tif_lazy, to: tag:schedule}   # a state expression; a state or an action
  within: {count: tick, max: 1}                  # or an int: at most N steps
  fair: [tick]                                   # weak fairness, per action
"""

from __future__ import annotations

from collections.abc import Mapping

from preemptcheck.core.errors import Code, Collector
from preemptcheck.expr.ast import BOOL, INT
from preemptcheck.expr.parse import ExprParser, source_text
from preemptcheck.model import grammar, schema
from preemptcheck.model.ir import Action, Response
from preemptcheck.model.scope import ModelScope, const_value, source_of
from preemptcheck.model.selectors import names_action, select_actions
from preemptcheck.model.yamlnodes import Node


def build_response(
    fields: Mapping[str, Node],
    scope: ModelScope,
    actions: Mapping[str, Action],
    diags: Collector,
    path: str,
) -> tuple[Response, bool] | None:
    """The property's Response, and whether it is checked per CPU (it uses `self`)."""
    body = schema.keys(fields["leads_to"], grammar.LEADS_TO, f"{path}.leads_to", diags)
    if body is None or "from" not in body or "to" not in body:
        return None
    parser = ExprParser(scope, diags, self_type=INT)
    trig_node = body["from"]
    if not trig_node.is_scalar or trig_node.value is None:
        diags.error(
            Code.WRONG_TYPE,
            f"from: expected an expression, got {schema.yaml_type(trig_node)}",
            trig_node.span,
            f"{path}.leads_to.from",
        )
        return None
    trigger = parser.parse(source_of(trig_node, f"{path}.leads_to.from"), BOOL)
    to = body["to"]
    to_text = source_text(to.value) if to.is_scalar and to.value is not None else ""
    goal = None
    goal_actions: tuple[str, ...] = ()
    if to.is_list or names_action(to_text, scope, actions):
        chosen = select_actions(to, actions, diags, f"{path}.leads_to.to")
        if chosen is None:
            return None
        goal_actions = tuple(a.name for a in chosen)
        to_text = to_text or ", ".join(str(i.value) for i in to.value)
    elif to.is_scalar and to.value is not None:
        goal = parser.parse(source_of(to, f"{path}.leads_to.to"), BOOL)
        if goal is None:
            return None
    else:
        diags.error(
            Code.WRONG_TYPE,
            f"to: expected an expression, an action or tag:TAG, got {schema.yaml_type(to)}",
            to.span,
            f"{path}.leads_to.to",
        )
        return None
    if trigger is None:
        return None
    fair: tuple[str, ...] = ()
    strong: tuple[str, ...] = ()
    if "fair" in fields:
        node = fields["fair"]
        kinds = {"weak": node} if not node.is_map else None
        if kinds is None:
            kinds = schema.keys(node, grammar.FAIRNESS, f"{path}.fair", diags)
            if kinds is None:
                return None
        for key, sub in kinds.items():
            chosen = select_actions(
                sub, actions, diags, f"{path}.fair" + (f".{key}" if node.is_map else "")
            )
            if chosen is None:
                return None
            if key == "weak":
                fair = tuple(a.name for a in chosen)
            else:
                strong = tuple(a.name for a in chosen)
    within: int | None = None
    count: tuple[str, ...] = ()
    count_max: int | None = None
    if "within" in fields:
        node = fields["within"]
        if node.is_map:
            spec = schema.keys(node, grammar.WITHIN_COUNT, f"{path}.within", diags)
            if spec is None or "count" not in spec or "max" not in spec:
                return None
            chosen = select_actions(spec["count"], actions, diags, f"{path}.within.count")
            if chosen is None:
                return None
            count = tuple(a.name for a in chosen)
            count_max = _bound(spec["max"], scope, diags, f"{path}.within.max")
            if count_max is None:
                return None
        else:
            within = _bound(node, scope, diags, f"{path}.within")
            if within is None:
                return None
    response = Response(
        trigger,
        goal,
        goal_actions,
        fair,
        within,
        count,
        count_max,
        source_text(trig_node.value),
        to_text,
        strong,
    )
    return response, parser.used_self


def _bound(node: Node, scope: ModelScope, diags: Collector, path: str) -> int | None:
    value = const_value(node, scope, diags, path, INT)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        diags.error(
            Code.INVALID_VALUE,
            f"expected a number of steps >= 0, got {value}",
            node.span,
            path,
        )
        return None
    return value
