"""`monitor` properties -> IR: the automaton file, `per`, the event table, `bind`.

A kernel RV monitor is written over the kernel's own event names; the model's actions emit
kernel events (`event:` / `emit:`). The table says, as the kernel's handler code does, which
kernel event (or step of which action) becomes which automaton event, for which instance,
under which condition, and which events start an instance. Automaton events the table does
not name map to the kernel event of the same name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from preemptcheck.core.errors import Code, Collector, InputError, did_you_mean
from preemptcheck.core.source import SourceCache
from preemptcheck.expr.ast import BOOL, INT, Expr, Type
from preemptcheck.expr.parse import ExprParser
from preemptcheck.model import grammar, schema
from preemptcheck.model.ir import MONITOR_TYPES, Action, Monitor, Translation
from preemptcheck.model.merge import read_text
from preemptcheck.model.scope import ModelScope, expr_of
from preemptcheck.model.selectors import select_actions
from preemptcheck.model.yamlnodes import Node
from preemptcheck.monitors.dot import Automaton, parse_automaton

BIND_TYPES = (BOOL, INT)


def emitted(actions: Mapping[str, Action]) -> dict[str, dict[str, tuple[Type, str]]]:
    """Every kernel event some step emits, with its attributes: name -> (type, action)."""
    out: dict[str, dict[str, tuple[Type, str]]] = {}
    for a in actions.values():
        for step in a.steps:
            for em in step.emits:
                attrs = out.setdefault(em.event, {})
                for name, e in em.attrs:
                    attrs.setdefault(name, (e.type, a.name))
    return out


def build_monitor(
    fields: Mapping[str, Node],
    scope: ModelScope,
    actions: Mapping[str, Action],
    diags: Collector,
    path: str,
    sources: SourceCache,
) -> Monitor | None:
    mnode = fields["monitor"]
    if not isinstance(mnode.value, str) or not mnode.value.strip():
        diags.error(
            Code.WRONG_TYPE,
            "monitor: expected the path of a .dot automaton",
            mnode.span,
            f"{path}.monitor",
        )
        return None
    file = os.path.normpath(os.path.join(os.path.dirname(mnode.span.file), mnode.value))
    text = read_text(file, diags, sources, mnode.span, f"{path}.monitor")
    if text is None:
        return None
    try:
        automaton = parse_automaton(text, file)
    except InputError as exc:
        diags.add(exc.diagnostics)
        return None
    if not _timeless(automaton, diags, f"{path}.monitor"):
        return None
    per = "cpu"
    if "per" in fields:
        pnode = fields["per"]
        if pnode.value not in MONITOR_TYPES:
            diags.error(
                Code.INVALID_VALUE,
                f"per: one of {', '.join(MONITOR_TYPES)} (rvgen's per_cpu, per_task, global)",
                pnode.span,
                f"{path}.per",
                did_you_mean(str(pnode.value), MONITOR_TYPES),
            )
            return None
        per = str(pnode.value)
        if per == "task" and scope.domains.get("tasks") is None:
            diags.error(
                Code.INVALID_VALUE,
                "per: task needs `tasks:` in the model",
                pnode.span,
                f"{path}.per",
            )
            return None
    table = _table(fields.get("events"), automaton, per, scope, actions, diags, path)
    if table is None:
        return None
    bind = _bind(fields.get("bind"), automaton, scope, diags, path, mnode)
    if bind is None:
        return None
    untaken = _untaken(fields.get("untaken"), automaton, diags, path)
    if untaken is None:
        return None
    return Monitor(automaton, per, table, bind, untaken)


def edge_name(src: str, event: str, dst: str) -> str:
    return f"{src} -{event}-> {dst}"


def _untaken(
    node: Node | None, automaton: Automaton, diags: Collector, path: str
) -> tuple[tuple[str, str], ...] | None:
    """`untaken: {EDGE | EVENT: reason}`: edges the model cannot take, and why (an event
    names all its edges). Listed edges are not warned about. A listed edge that some run
    takes is not either: a property file serves several models, which take different
    edges (tests/test_kernel_monitors.py checks the bundled lists against every mode)."""
    if node is None:
        return ()
    if not node.is_map:
        diags.error(
            Code.WRONG_TYPE,
            "untaken: expected {'src -event-> dst' or event: reason}",
            node.span,
            f"{path}.untaken",
        )
        return None
    names = {edge_name(e.src, e.event, e.dst): e for e in automaton.edges}
    out: list[tuple[str, str]] = []
    for key, vnode in node.value.items():
        kpath = f"{path}.untaken"
        if not isinstance(vnode.value, str) or not vnode.value.strip():
            diags.error(Code.WRONG_TYPE, f"untaken: '{key}' needs its reason", vnode.span, kpath)
            return None
        if key in names:
            out.append((key, vnode.value.strip()))
        elif key in automaton.events:
            out.extend(
                (edge_name(e.src, e.event, e.dst), vnode.value.strip())
                for e in automaton.edges
                if e.event == key
            )
        else:
            diags.error(
                Code.UNKNOWN_NAME,
                f"untaken: '{key}' is neither an edge ('src -event-> dst') nor an event of "
                f"monitor {automaton.name}",
                node.key_spans[key],
                kpath,
                did_you_mean(key, [*names, *automaton.events]),
            )
            return None
    return tuple(dict(out).items())


def _timeless(automaton: Automaton, diags: Collector, path: str) -> bool:
    """Automata with clocks (stall, nomiss) need time, which models do not have: refused."""
    for edge in automaton.edges:
        if edge.resets:
            diags.error(
                Code.NOT_SUPPORTED_YET,
                f"monitor {automaton.name} is a timed automaton: edge {edge.src} -"
                f"{edge.event}-> {edge.dst} resets clock {edge.resets[0]}, and models have "
                "no time; it cannot be checked",
                edge.span,
                path,
            )
            return False
    for state, inv, span in automaton.invariants:
        diags.error(
            Code.NOT_SUPPORTED_YET,
            f"monitor {automaton.name} is a timed automaton: state {state} has the clock "
            f"invariant '{inv}', and models have no time; it cannot be checked",
            span,
            path,
        )
        return False
    return True


def _table(
    node: Node | None,
    automaton: Automaton,
    per: str,
    scope: ModelScope,
    actions: Mapping[str, Action],
    diags: Collector,
    path: str,
) -> tuple[Translation, ...] | None:
    kernel = emitted(actions)
    given: dict[str, Node] = {}
    if node is not None:
        if not node.is_map:
            diags.error(
                Code.WRONG_TYPE,
                "events: expected {MONITOR_EVENT: kernel event | {on: ..., if: ..., "
                f"{'task' if per == 'task' else 'cpu'}: ..., start: ...}} | [...]}}",
                node.span,
                f"{path}.events",
            )
            return None
        for ev in node.value:
            if ev not in automaton.events:
                diags.error(
                    Code.UNKNOWN_NAME,
                    f"events: '{ev}' is not an event of monitor {automaton.name} "
                    f"({', '.join(automaton.events)})",
                    node.key_spans[ev],
                    f"{path}.events",
                    did_you_mean(ev, automaton.events),
                )
                return None
        given = dict(node.value)
    rows: list[Translation] = []
    ok = True
    # in the order the table is written, then the automaton's other events
    order = [*given, *(e for e in automaton.events if e not in given)]
    for ev in order:
        if ev not in given:
            rows.append(Translation(ev, ev))  # the kernel event of the same name, if any
            continue
        vnode = given[ev]
        items = vnode.value if vnode.is_list else [vnode]
        for i, item in enumerate(items):
            rpath = f"{path}.events.{ev}" + (f"[{i}]" if vnode.is_list else "")
            row = _row(ev, item, per, kernel, scope, actions, diags, rpath)
            if row is None:
                ok = False
            else:
                rows.append(row)
    if not ok:
        return None
    return tuple(rows)


def _row(
    ev: str,
    item: Node,
    per: str,
    kernel: Mapping[str, Mapping[str, tuple[Type, str]]],
    scope: ModelScope,
    actions: Mapping[str, Action],
    diags: Collector,
    path: str,
) -> Translation | None:
    if item.is_scalar:
        fields: dict[str, Node] = {"on": item}
    else:
        got = schema.keys(item, grammar.ROW, path, diags)
        if got is None or "on" not in got:
            return None
        fields = dict(got)
    onode = fields["on"]
    if not isinstance(onode.value, str) or not onode.value.strip():
        diags.error(
            Code.WRONG_TYPE, "on: expected a kernel event name or tag:TAG", onode.span, path
        )
        return None
    source = onode.value.strip()
    selected: tuple[str, ...] = ()
    attrs: Mapping[str, tuple[Type, str]] = {}
    if source in kernel:
        attrs = kernel[source]
        if not _consistent(source, attrs, actions, diags, path):
            return None
    elif source.startswith("tag:") or source in actions:
        picked = select_actions(onode, actions, diags, f"{path}.on")
        if picked is None:
            return None
        selected = tuple(a.name for a in picked)
    else:
        diags.error(
            Code.UNKNOWN_NAME,
            f"no step emits the kernel event '{source}', and no action or tag has that name",
            onode.span,
            f"{path}.on",
            did_you_mean(source, [*kernel, *actions]),
        )
        return None
    inst_key = None if per == "global" else per  # the key that names the instance
    for other in ("cpu", "task"):
        if other in fields and other != inst_key:
            diags.error(
                Code.UNKNOWN_KEY,
                f"'{other}' names the instance of a per: {other} monitor (this one is per: {per})",
                item.key_spans[other],
                path,
            )
            return None
    parser = ExprParser(
        scope,
        diags,
        bound={n: t for n, (t, _) in attrs.items()},
        self_type=scope.domains["cpus"].type,
    )
    cond = expr_of(parser, fields.get("if"), f"{path}.if", BOOL)
    if "if" in fields and cond is None:
        return None
    instance: Expr | None = None
    if inst_key is not None and inst_key in fields:
        want = scope.domains["cpus" if inst_key == "cpu" else "tasks"].type
        instance = expr_of(parser, fields[inst_key], f"{path}.{inst_key}", want)
        if instance is None:
            return None
    start = ""
    if "start" in fields:
        snode = fields["start"]
        if snode.value is True:
            start = "start"
        elif snode.value == "run":
            start = "run"
        elif snode.value is not False:
            diags.error(
                Code.INVALID_VALUE,
                "start: true (da_handle_start_event: an instance not yet monitoring starts, "
                "the event is not processed), run (da_handle_start_run_event: it starts and "
                "processes the event) or false",
                snode.span,
                f"{path}.start",
            )
            return None
    return Translation(ev, source, selected, cond, instance, start, item.span)


def _consistent(
    event: str,
    attrs: Mapping[str, tuple[Type, str]],
    actions: Mapping[str, Action],
    diags: Collector,
    path: str,
) -> bool:
    """Every emission of a kernel event a monitor reads carries the same attributes, with
    the same types: a tracepoint has one format."""
    for a in actions.values():
        for step in a.steps:
            for em in step.emits:
                if em.event != event:
                    continue
                have = {n: e.type for n, e in em.attrs}
                for name, (typ, other) in attrs.items():
                    if have.get(name) != typ:
                        got = "lacks it" if name not in have else f"has type {have[name]}"
                        diags.error(
                            Code.TYPE_MISMATCH,
                            f"action {a.name} emits {event} whose attribute '{name}' "
                            f"{got}, but action {other}'s {event} has it with type {typ}; "
                            f"the monitor at {path} reads {event}",
                            em.span,
                            f"actions.{a.name}",
                        )
                        return False
    return True


def _bind(
    node: Node | None,
    automaton: Automaton,
    scope: ModelScope,
    diags: Collector,
    path: str,
    mnode: Node,
) -> tuple[tuple[str, Expr], ...] | None:
    """A hybrid automaton's environment variables, as model expressions (self: the CPU the
    event is emitted on)."""
    out: list[tuple[str, Expr]] = []
    if node is not None:
        if not node.is_map:
            diags.error(
                Code.WRONG_TYPE,
                "bind: expected {VARIABLE: expression}",
                node.span,
                f"{path}.bind",
            )
            return None
        parser = ExprParser(scope, diags, self_type=scope.domains["cpus"].type)
        for name, vnode in node.value.items():
            e = expr_of(parser, vnode, f"{path}.bind.{name}", None)
            if e is None:
                return None
            if e.type not in BIND_TYPES:
                diags.error(
                    Code.TYPE_MISMATCH,
                    f"bind: '{name}' must be a boolean or an integer, got {e.type}",
                    vnode.span,
                    f"{path}.bind.{name}",
                )
                return None
            out.append((name, e))
    bound = {n for n, _ in out}
    for edge in automaton.edges:
        if edge.guard is None:
            continue
        for alt in edge.guard.alternatives:
            for cmp in alt:
                if cmp.var not in bound:
                    diags.error(
                        Code.UNKNOWN_NAME,
                        f"monitor {automaton.name}: the guard of {edge.src} -{edge.event}-> "
                        f"{edge.dst} reads '{cmp.var}': bind it to a model expression in "
                        f"the property's bind:",
                        cmp.span,
                        f"{path}.bind",
                    )
                    return None
                if not isinstance(cmp.value, int):
                    diags.error(
                        Code.NOT_SUPPORTED_YET,
                        f"monitor {automaton.name}: the guard compares '{cmp.var}' with "
                        f"'{cmp.value}'; only integer constants are supported",
                        cmp.span,
                        automaton.name,
                    )
                    return None
    unused = [n for n in bound if not _guard_reads(automaton, n)]
    if unused:
        diags.error(
            Code.UNKNOWN_NAME,
            f"bind: no guard of monitor {automaton.name} reads '{unused[0]}'",
            node.key_spans[unused[0]] if node is not None else mnode.span,
            f"{path}.bind",
        )
        return None
    return tuple(out)


def _guard_reads(automaton: Automaton, name: str) -> bool:
    return any(
        cmp.var == name
        for edge in automaton.edges
        if edge.guard is not None
        for alt in edge.guard.alternatives
        for cmp in alt
    )
