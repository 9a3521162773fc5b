"""Properties -> IR: invariant, never, reachable (state or action), leads_to, expect, modes,
built-ins."""

from __future__ import annotations

from collections.abc import Mapping

from preemptcheck.core.errors import Code, Collector, did_you_mean
from preemptcheck.core.source import SourceCache
from preemptcheck.expr.ast import BOOL, INT, Expr, Value
from preemptcheck.expr.parse import ExprParser, source_text
from preemptcheck.model import grammar, schema
from preemptcheck.model.ir import BUILTIN_PROPERTIES, MODES, Action, Expect, Property, PropKind
from preemptcheck.model.leadsto import build_response
from preemptcheck.model.merge import Entry
from preemptcheck.model.monitorprop import build_monitor
from preemptcheck.model.params import show
from preemptcheck.model.scope import ModelScope, source_of
from preemptcheck.model.selectors import names_action, select_actions
from preemptcheck.model.yamlnodes import Node

KINDS = grammar.PROPERTY.one_of


class Skip(Exception):
    """The property does not apply to this instantiation (its `modes` exclude the mode)."""


def build_property(
    pid: str,
    entry: Entry,
    scope: ModelScope,
    actions: Mapping[str, Action],
    params: Mapping[str, Value],
    diags: Collector,
    sources: SourceCache | None = None,
) -> Property | None:
    given = params.get("mode")
    mode = given if isinstance(given, str) else None
    path = f"properties.{pid}"
    if not schema.prop_id_ok(pid):
        diags.error(
            Code.INVALID_VALUE,
            f"property id '{pid}' may use letters, digits, '_', '.', '-' only",
            entry.key_span,
            path,
        )
        return None
    if pid in BUILTIN_PROPERTIES:
        diags.error(Code.NAME_CLASH, f"'{pid}' is a built-in property", entry.key_span, path)
        return None
    fields = schema.keys(entry.node, grammar.PROPERTY, path, diags)
    if fields is None:
        return None
    kinds = [k for k in KINDS if k in fields]
    if len(kinds) != 1:
        diags.error(
            Code.MISSING_KEY if not kinds else Code.INVALID_VALUE,
            "a property needs exactly one of "
            + ", ".join(KINDS)
            + (f" (got {', '.join(kinds)})" if kinds else ""),
            entry.node.span,
            path,
        )
        return None
    kind = kinds[0]
    skip: str | None = None
    for extra in grammar.PROPERTY.fields:
        # `when` has two owners, and its own message below
        if not extra.only_with or extra.name == "when":
            continue
        (owner,) = extra.only_with
        if extra.name in fields and kind != owner:
            diags.error(
                Code.UNKNOWN_KEY,
                f"'{extra.name}' belongs to {owner} properties",
                entry.node.key_spans[extra.name],
                path,
            )
            return None
    # (on an invariant, and a reachable over a state, `when` is reported below)
    if kind in ("leads_to", "monitor") and "when" in fields:
        diags.error(
            Code.UNKNOWN_KEY,
            "'when' applies to never and to reachable over an action"
            + ("; leads_to takes its condition in `from`" if kind == "leads_to" else ""),
            entry.node.key_spans["when"],
            path,
        )
        return None
    if "modes" in fields:
        modes = _modes(fields["modes"], mode, diags, f"{path}.modes")
        if modes is None:
            return None
        if mode not in modes:
            skip = f"mode {mode} is not in modes [{', '.join(modes)}]"
    expect = _expect(fields.get("expect"), params, diags, f"{path}.expect")
    if expect is None:
        return None
    doc = fields["doc"].value if "doc" in fields and isinstance(fields["doc"].value, str) else ""
    if kind == "leads_to":
        built = build_response(fields, scope, actions, diags, path)
        if built is None:
            return None
        response, per_cpu = built
        return _done(
            Property(
                pid,
                PropKind.LEADS_TO,
                expect,
                per_cpu=per_cpu,
                doc=doc,
                source=f"{response.trigger_source} ~> {response.goal_source}",
                span=entry.key_span,
                response=response,
            ),
            skip,
        )
    if kind == "monitor":
        monitor = build_monitor(fields, scope, actions, diags, path, sources or SourceCache())
        if monitor is None:
            return None
        return _done(
            Property(
                pid,
                PropKind.MONITOR,
                expect,
                doc=doc,
                source=str(fields["monitor"].value),
                span=entry.key_span,
                monitor=monitor,
            ),
            skip,
        )
    body = fields[kind]
    if not body.is_scalar and not (kind == "never" and body.is_list):
        diags.error(
            Code.WRONG_TYPE,
            f"{kind}: expected an expression, got {schema.yaml_type(body)}",
            body.span,
            f"{path}.{kind}",
        )
        return None
    text = source_text(body.value) if body.is_scalar else ""
    action_form = kind == "never" or (kind == "reachable" and names_action(text, scope, actions))
    if not action_form:
        if "when" in fields:
            diags.error(
                Code.UNKNOWN_KEY,
                f"'when' applies to never and to reachable over an "
                f"action; {kind} takes one expression",
                entry.node.key_spans["when"],
                path,
            )
            return None
        parser = ExprParser(scope, diags, self_type=INT)
        e = parser.parse(source_of(body, f"{path}.{kind}", text), BOOL)
        if e is None:
            return None
        pkind = PropKind.INVARIANT if kind == "invariant" else PropKind.REACHABLE
        return _done(
            Property(
                pid,
                pkind,
                expect,
                expr=e,
                per_cpu=parser.used_self,
                doc=doc,
                source=text,
                span=entry.key_span,
            ),
            skip,
        )
    selected = select_actions(body, actions, diags, f"{path}.{kind}")
    if selected is None:
        return None
    whens: list[tuple[str, Expr | None]] = []
    wnode = fields.get("when")
    for action in selected:
        cond: Expr | None = None
        if wnode is not None:
            if not wnode.is_scalar or wnode.value is None:
                diags.error(
                    Code.WRONG_TYPE, "when: expected an expression", wnode.span, f"{path}.when"
                )
                return None
            parser = ExprParser(
                scope, diags, bound={b: d.type for b, d in action.bindings}, self_type=INT
            )
            wpath = f"{path}.when" + (f" (for action {action.name})" if len(selected) > 1 else "")
            cond = parser.parse(source_of(wnode, wpath), BOOL)
            if cond is None:
                return None
        whens.append((action.name, cond))
    pkind = PropKind.NEVER if kind == "never" else PropKind.REACHABLE_ACTION
    when_text = source_text(wnode.value) if wnode is not None and wnode.is_scalar else ""
    selector = text if body.is_scalar else ", ".join(str(i.value) for i in body.value)
    return _done(
        Property(
            pid,
            pkind,
            expect,
            actions=tuple(whens),
            selector=selector,
            doc=doc,
            source=when_text,
            span=entry.key_span,
        ),
        skip,
    )


def _done(prop: Property, skip: str | None) -> Property:
    """Properties excluded by `modes` are still checked for errors, then skipped."""
    if skip is not None:
        raise Skip(skip)
    return prop


def _modes(node: Node, mode: str | None, diags: Collector, path: str) -> list[str] | None:
    if mode is None:
        diags.error(Code.UNKNOWN_NAME, "modes: needs a `mode` param in the model", node.span, path)
        return None
    out = []
    for name, item in schema.string_list(node, path, diags):
        if name not in MODES:
            diags.error(
                Code.INVALID_VALUE,
                f"unknown mode '{name}' ({', '.join(MODES)})",
                item.span,
                path,
                did_you_mean(name, MODES),
            )
            return None
        out.append(name)
    return out


def _expect(
    node: Node | None, params: Mapping[str, Value], diags: Collector, path: str
) -> Expect | None:
    """`holds` / `violated`, or a mapping whose keys are a mode (`none: violated`), a param
    choice (`NCPU=3: holds`, `A=x B=y: ...`) or `default`; the first key that matches decides."""
    if node is None:
        return Expect.HOLDS
    choices = list(grammar.EXPECTS)
    if node.is_map:
        chosen: Node | None = None
        for key, kspan in node.key_spans.items():
            if node.value[key].value is None:
                diags.error(
                    Code.INVALID_VALUE,
                    f"expect: '{key}' has no verdict (in {{ }}, a comma starts a new entry: "
                    "join conditions with spaces, A=x B=y)",
                    kspan,
                    path,
                )
                return None
            if "=" in key:  # PARAM=VALUE, or several separated by spaces: all must hold
                matches = True
                for cond in key.replace(",", " ").split():
                    name, _, value = (part.strip() for part in cond.partition("="))
                    if name not in params:
                        diags.error(
                            Code.UNKNOWN_NAME,
                            f"expect: unknown param '{name}'",
                            kspan,
                            path,
                            did_you_mean(name, params),
                        )
                        return None
                    matches = matches and show(params[name]) == value
            elif key == "default":
                matches = True
            elif key in MODES:
                if "mode" not in params:
                    diags.error(
                        Code.UNKNOWN_NAME,
                        "a per-mode expect needs a `mode` param in the model",
                        kspan,
                        path,
                    )
                    return None
                matches = params["mode"] == key
            else:
                diags.error(
                    Code.UNKNOWN_KEY,
                    f"unknown key '{key}' in expect: a mode, PARAM=VALUE or default",
                    kspan,
                    path,
                    did_you_mean(key, [*MODES, "default"]),
                )
                return None
            if matches and chosen is None:
                chosen = node.value[key]
        if chosen is None:
            return Expect.HOLDS
        node = chosen
    if node.value not in choices:
        diags.error(
            Code.INVALID_VALUE,
            f"expect must be one of {', '.join(choices)}, got '{node.value}'",
            node.span,
            path,
            did_you_mean(str(node.value), choices),
        )
        return None
    return Expect(node.value)


def builtin_properties(deadlock_allowed: bool) -> list[Property]:
    out = [
        Property(
            "range",
            PropKind.RANGE,
            Expect.HOLDS,
            doc="every assignment fits its variable, every index exists, "
            "every expression evaluates",
        )
    ]
    if not deadlock_allowed:
        out.append(
            Property(
                "deadlock",
                PropKind.DEADLOCK,
                Expect.HOLDS,
                doc="every reachable state has an enabled action",
            )
        )
    return out
