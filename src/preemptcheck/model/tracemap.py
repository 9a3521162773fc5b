"""The `trace:` section: how the events of a kernel recording map to the model's.

    trace:
      sched_switch:                  # a tracepoint, as the recording names it
        event: sched_switch          # the model's event it stands for (default: the same name)
        args:                        # tracepoint argument -> {recorded value: model value}
          prev_state: {R: running, R+: running, S: interruptible}
          prev_pid: {attr: prev, values: {"1977": A, "2001": B}}
      tasks: {"1977": A, "2001": B}  # a line's TASK-PID -> the model task current on its CPU

An argument is compared with the model attribute of the same name, or the one `attr`
names; the model values must fit the attribute's type (an enum member, an integer, true or
false). A recorded value (or pid) not listed claims nothing. `preemptcheck trace` reads
the section (ftrace/conform.py), and counterexamples written as recordings use it the other
way round (ftrace/render.py).
"""

from __future__ import annotations

from preemptcheck.core.errors import Code, Collector
from preemptcheck.expr.ast import BOOL, INT, EnumT, Type, Value
from preemptcheck.model import grammar, schema
from preemptcheck.model.ir import Action, TraceArg, TraceMap
from preemptcheck.model.merge import Entry
from preemptcheck.model.yamlnodes import Node

TASKS = grammar.TRACE_TASKS  # the entry that maps the TASK-PID column's pids to tasks


def build_trace(
    entries: dict[str, Entry], actions: dict[str, Action], tasks: tuple[str, ...], diags: Collector
) -> tuple[tuple[TraceMap, ...], tuple[tuple[str, str], ...]]:
    """The tracepoint entries, and the `tasks` entry's (pid, task) pairs."""
    # the attributes each model event carries, with their types
    attrs: dict[str, dict[str, Type]] = {}
    for action in actions.values():
        for step in action.steps:
            for em in step.emits:
                found = attrs.setdefault(em.event, {})
                for name, expr in em.attrs:
                    found.setdefault(name, expr.type)
    out = []
    pids: list[tuple[str, str]] = []
    for tracepoint, entry in entries.items():
        path = f"trace.{tracepoint}"
        if tracepoint == TASKS:
            pids.extend(_tasks(entry.node, tasks, path, diags))
            continue
        if not schema.ident(
            tracepoint, entry.key_span, path, diags, what="tracepoint", reserved=False
        ):
            continue
        fields = schema.keys(entry.node, grammar.TRACEPOINT, path, diags)
        if fields is None:
            continue
        event = tracepoint
        if "event" in fields:
            event = schema.string(fields["event"], f"{path}.event", diags) or tracepoint
        if event not in attrs:
            where = fields["event"].span if "event" in fields else entry.key_span
            diags.error(
                Code.UNKNOWN_NAME,
                f"no action of the model emits the event '{event}'",
                where,
                f"{path}.event",
            )
            continue
        args = []
        if "args" in fields:
            node = fields["args"]
            if not node.is_map:
                diags.error(
                    Code.WRONG_TYPE,
                    f"expected a mapping of tracepoint arguments, got {schema.yaml_type(node)}",
                    node.span,
                    f"{path}.args",
                )
                continue
            for arg, vnode in node.value.items():
                built = _arg(arg, vnode, attrs[event], event, f"{path}.args.{arg}", diags)
                if built is not None:
                    args.append(built)
        out.append(TraceMap(tracepoint, event, tuple(args), entry.key_span))
    return tuple(out), tuple(pids)


def _tasks(
    node: Node, tasks: tuple[str, ...], path: str, diags: Collector
) -> list[tuple[str, str]]:
    if not node.is_map:
        diags.error(
            Code.WRONG_TYPE,
            f"expected a mapping of pids to tasks, got {schema.yaml_type(node)}",
            node.span,
            path,
        )
        return []
    out = []
    for pid, tnode in node.value.items():
        if tnode.value not in tasks:
            diags.error(
                Code.UNKNOWN_NAME,
                f"'{tnode.value}' is not a task of the model ({', '.join(tasks) or 'none'})",
                tnode.span,
                f"{path}.{pid}",
            )
            continue
        out.append((str(pid), str(tnode.value)))
    return out


def _arg(
    arg: str, node: Node, attrs: dict[str, Type], event: str, path: str, diags: Collector
) -> TraceArg | None:
    if not node.is_map:
        diags.error(
            Code.WRONG_TYPE,
            "expected a mapping of recorded values to model values, got " + schema.yaml_type(node),
            node.span,
            path,
        )
        return None
    attr = arg
    values = node
    if set(node.value) == set(grammar.TRACE_ARG.keys):
        name = schema.string(node.value["attr"], f"{path}.attr", diags)
        if name is None:
            return None
        attr, values = name, node.value["values"]
        if not values.is_map:
            diags.error(
                Code.WRONG_TYPE, f"expected a mapping, got {schema.yaml_type(values)}",
                values.span, f"{path}.values",
            )  # fmt: skip
            return None
    if attr not in attrs:
        known = ", ".join(sorted(attrs)) or "none"
        diags.error(
            Code.UNKNOWN_NAME,
            f"the model's event '{event}' has no attribute '{attr}' (it has: {known})",
            node.span if attr == arg else node.value["attr"].span,
            path,
        )
        return None
    typ = attrs[attr]
    pairs: list[tuple[str, Value]] = []
    for shown, vnode in values.value.items():
        value = _value(vnode, typ)
        if value is None:
            diags.error(
                Code.TYPE_MISMATCH,
                f"'{vnode.value}' is not a value of the attribute '{attr}' ({typ})",
                vnode.span,
                f"{path}.{shown}",
            )
            continue
        pairs.append((str(shown), value))
    return TraceArg(arg, attr, tuple(pairs))


def _value(node: Node, typ: Type) -> Value | None:
    v = node.value
    if isinstance(typ, EnumT):
        return v if isinstance(v, str) and v in typ.values else None
    if typ == BOOL:
        return v if isinstance(v, bool) else None
    if typ == INT:
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    return None
