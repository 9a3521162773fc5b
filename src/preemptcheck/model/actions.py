"""Actions -> IR: `on`, `for`, `when`, `do` / `steps`, `irq`, `event` / `emit`, `tags`."""

from __future__ import annotations

from dataclasses import replace

from preemptcheck.core.errors import Code, Collector
from preemptcheck.expr.ast import BOOL, INT, Domain, Expr, Target, Type
from preemptcheck.expr.parse import ExprParser, Source
from preemptcheck.model import grammar, schema
from preemptcheck.model.declarations import domain_of
from preemptcheck.model.ir import Action, Assign, Emission, Step
from preemptcheck.model.merge import Entry
from preemptcheck.model.scope import ModelScope, const_value, expr_of, source_of
from preemptcheck.model.yamlnodes import Node

EMIT_KEYS = grammar.EMIT_ITEM.keys  # every other key of an emission is an attribute


def target_type(t: Target) -> Type:
    if t.fld is not None:
        return INT
    return t.var.type


def build_action(
    name: str, entry: Entry, scope: ModelScope, cpus: int, diags: Collector
) -> Action | None:
    path = f"actions.{name}"
    if not schema.ident(name, entry.key_span, path, diags, what="action", reserved=False):
        return None
    fields = schema.keys(entry.node, grammar.ACTION, path, diags)
    if fields is None:
        return None
    ok = True
    on_cpus = tuple(range(cpus))
    if "on" in fields:
        cpu = const_value(fields["on"], scope, diags, f"{path}.on", INT)
        if not isinstance(cpu, int):
            ok = False
        elif not 0 <= cpu < cpus:
            diags.error(
                Code.INVALID_VALUE,
                f"on: CPU {cpu} does not exist (cpus: {cpus})",
                fields["on"].span,
                f"{path}.on",
            )
            ok = False
        else:
            on_cpus = (cpu,)
    bindings: list[tuple[str, Domain]] = []
    if "for" in fields:
        fnode = fields["for"]
        if not fnode.is_map:
            diags.error(Code.WRONG_TYPE, "for: expected {name: domain}", fnode.span, f"{path}.for")
            ok = False
        else:
            for bname, dnode in fnode.value.items():
                bpath = f"{path}.for.{bname}"
                if not schema.ident(bname, fnode.key_spans[bname], bpath, diags, what="binding"):
                    ok = False
                    continue
                owner = scope.declared().get(bname)
                if owner is not None:
                    diags.error(
                        Code.NAME_CLASH,
                        f"binding '{bname}' hides the {owner} '{bname}'",
                        fnode.key_spans[bname],
                        bpath,
                    )
                    ok = False
                    continue
                d = domain_of(dnode, scope, diags, bpath)
                if d is None:
                    ok = False
                    continue
                bindings.append((bname, d))
    if not ok:
        return None
    parser = ExprParser(scope, diags, bound={b: d.type for b, d in bindings}, self_type=INT)
    when = expr_of(parser, fields.get("when"), f"{path}.when", BOOL)
    irq = False
    if "irq" in fields:
        irq = bool(schema.boolean(fields["irq"], f"{path}.irq", diags))
    if sum(k in fields for k in grammar.ACTION.one_of) != 1:  # do: or steps:
        diags.error(
            Code.MISSING_KEY, "an action needs exactly one of do: or steps:", entry.node.span, path
        )
        return None
    steps: list[Step] = []
    if "do" in fields:
        assigns = build_assigns(parser, fields["do"], f"{path}.do", diags)
        if assigns is None:
            return None
        steps.append(Step(None, None, assigns, fields["do"].span))
        if "emit" in fields and "event" in fields:
            diags.error(
                Code.INVALID_VALUE,
                "give event: (names) or emit: (events with conditions and attributes), not both",
                fields["emit"].span,
                f"{path}.emit",
            )
            return None
    else:
        if "emit" in fields:
            diags.error(
                Code.INVALID_VALUE,
                "in a steps: action, write emit: on the step that emits the events",
                fields["emit"].span,
                f"{path}.emit",
            )
            return None
        snode = fields["steps"]
        if irq:
            diags.error(
                Code.INVALID_VALUE,
                "irq actions are atomic: use do:, not steps:",
                fields["irq"].span,
                f"{path}.irq",
            )
            return None
        if not snode.is_list or not snode.value:
            diags.error(
                Code.WRONG_TYPE,
                "steps: expected a non-empty list of {when, if, do}",
                snode.span,
                f"{path}.steps",
            )
            return None
        for i, item in enumerate(snode.value):
            step = _build_step(parser, scope, item, f"{path}.steps[{i}]", diags)
            if step is None:
                return None
            steps.append(step)
    plain: tuple[str, ...] = (name,)
    if "event" in fields:
        enode = fields["event"]
        if enode.value is False:
            plain = ()
        elif isinstance(enode.value, bool):
            diags.error(
                Code.INVALID_VALUE,
                "event: give a name, a list of names, or false",
                enode.span,
                f"{path}.event",
            )
        else:
            plain = tuple(
                n
                for n, item in schema.string_list(enode, f"{path}.event", diags)
                if schema.ident(n, item.span, f"{path}.event", diags, what="event", reserved=False)
            )
    if "emit" in fields:
        emits = build_emits(parser, scope, fields["emit"], f"{path}.emit", diags)
        if emits is None:
            return None
        steps[0] = replace(steps[0], emits=emits)
    elif not any(s.emits for s in steps):
        # `event:` names (default: the action's name) are emitted by the first step
        first = fields["event"].span if "event" in fields else entry.key_span
        steps[0] = replace(steps[0], emits=tuple(Emission(n, span=first) for n in plain))
    events = tuple(dict.fromkeys(e.event for s in steps for e in s.emits))
    tags: tuple[str, ...] = ()
    if "tags" in fields:
        tags = tuple(
            n
            for n, item in schema.string_list(fields["tags"], f"{path}.tags", diags)
            if schema.ident(n, item.span, f"{path}.tags", diags, what="tag")
        )
    doc = fields["doc"].value if "doc" in fields and isinstance(fields["doc"].value, str) else ""
    if "when" in fields and when is None:
        return None
    return Action(
        name,
        on_cpus,
        tuple(bindings),
        when,
        tuple(steps),
        "steps" in fields,
        irq,
        events,
        tags,
        doc,
        entry.key_span,
    )


def _build_step(
    parser: ExprParser, scope: ModelScope, node: Node, path: str, diags: Collector
) -> Step | None:
    fields = schema.keys(node, grammar.STEP, path, diags)
    if fields is None:
        return None
    when = expr_of(parser, fields.get("when"), f"{path}.when", BOOL)
    cond = expr_of(parser, fields.get("if"), f"{path}.if", BOOL)
    if ("when" in fields and when is None) or ("if" in fields and cond is None):
        return None
    assigns: tuple[Assign, ...] = ()
    if "do" in fields:
        got = build_assigns(parser, fields["do"], f"{path}.do", diags)
        if got is None:
            return None
        assigns = got
    emits: tuple[Emission, ...] = ()
    if "emit" in fields:
        got_emits = build_emits(parser, scope, fields["emit"], f"{path}.emit", diags)
        if got_emits is None:
            return None
        emits = got_emits
    return Step(when, cond, assigns, node.span, emits)


def build_emits(
    parser: ExprParser, scope: ModelScope, node: Node, path: str, diags: Collector
) -> tuple[Emission, ...] | None:
    """`emit: [NAME | {event: NAME, if: COND, ATTR: EXPR, ...}, ...]`, in order."""
    items = node.value if node.is_list else [node]
    out: list[Emission] = []
    for i, item in enumerate(items):
        ipath = f"{path}[{i}]" if node.is_list else path
        if item.is_scalar and isinstance(item.value, str):
            if not schema.ident(item.value, item.span, ipath, diags, what="event", reserved=False):
                return None
            out.append(Emission(item.value, span=item.span))
            continue
        if not item.is_map:
            diags.error(
                Code.WRONG_TYPE,
                f"emit: expected an event name or {{event: NAME, if: ..., ATTR: ...}}, got "
                f"{schema.yaml_type(item)}",
                item.span,
                ipath,
            )
            return None
        if "event" not in (schema.keys(item, grammar.EMIT_ITEM, ipath, diags) or {}):
            return None
        enode = item.value["event"]
        if not isinstance(enode.value, str) or not schema.ident(
            enode.value, enode.span, f"{ipath}.event", diags, what="event", reserved=False
        ):
            if not isinstance(enode.value, str):
                diags.error(Code.WRONG_TYPE, "event: expected a name", enode.span, f"{ipath}.event")
            return None
        cond = expr_of(parser, item.value.get("if"), f"{ipath}.if", BOOL)
        if "if" in item.value and cond is None:
            return None
        attrs: list[tuple[str, Expr]] = []
        for key, vnode in item.value.items():
            if key in EMIT_KEYS:
                continue
            apath = f"{ipath}.{key}"
            kspan = item.key_spans[key]
            if not schema.ident(key, kspan, apath, diags, what="attribute"):
                return None
            owner = scope.declared().get(key)
            if owner is not None:
                diags.error(
                    Code.NAME_CLASH,
                    f"attribute '{key}' would hide the {owner} '{key}' where monitors "
                    "read it: rename it",
                    kspan,
                    apath,
                )
                return None
            value = expr_of(parser, vnode, apath, None)
            if value is None:
                return None
            attrs.append((key, value))
        out.append(Emission(enode.value, cond, tuple(attrs), item.span))
    return tuple(out)


def build_assigns(
    parser: ExprParser, node: Node, path: str, diags: Collector
) -> tuple[Assign, ...] | None:
    if node.value is None:
        return ()
    if not node.is_map:
        diags.error(
            Code.WRONG_TYPE,
            f"do: expected a mapping of targets to values, got {schema.yaml_type(node)}",
            node.span,
            path,
        )
        return None
    out: list[Assign] = []
    keys_seen: list[str] = []
    ok = True
    for key, vnode in node.value.items():
        kspan = node.key_spans[key]
        target = parser.parse_target(Source(key, kspan, None, path))
        if target is None:
            ok = False
            continue
        if not vnode.is_scalar or vnode.value is None:
            diags.error(
                Code.WRONG_TYPE,
                f"expected an expression, got {schema.yaml_type(vnode)}",
                vnode.span,
                f"{path}.{key}",
            )
            ok = False
            continue
        value = parser.parse(
            source_of(vnode, f"{path}.{key}"),
            target_type(target),
        )
        if value is None:
            ok = False
            continue
        for prev, prev_key in zip(out, keys_seen, strict=True):
            if overlap(prev.target, target):
                diags.error(
                    Code.CONFLICTING_ASSIGN,
                    f"'{key}' is assigned twice in one step (also by '{prev_key}')",
                    kspan,
                    path,
                )
                ok = False
        out.append(Assign(target, value, kspan))
        keys_seen.append(key)
    return tuple(out) if ok else None


def overlap(a: Target, b: Target) -> bool:
    """Do two targets certainly write the same bits (same entry, overlapping fields)?"""
    if a.var.name != b.var.name or a.index != b.index:
        return False
    return a.fld is None or b.fld is None or a.fld == b.fld
