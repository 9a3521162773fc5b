"""YAML model files -> validated, frozen IR (one instantiation per choice of param values)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

from preemptcheck.core.errors import Code, Collector, ModelError, UsageError
from preemptcheck.core.source import SourceCache, Span
from preemptcheck.expr.ast import EnumT
from preemptcheck.expr.parse import ExprParser
from preemptcheck.model import grammar, schema
from preemptcheck.model.actions import build_action
from preemptcheck.model.declarations import (
    MAX_INSTANCES,
    MAX_PROPERTIES,
    build_cpus,
    build_defs,
    build_enums,
    build_vars,
    check_clashes,
    check_field_overlaps,
)
from preemptcheck.model.ir import Action, Model, Property
from preemptcheck.model.merge import Entry, RawModel, load_check_files, load_raw
from preemptcheck.model.params import build_params, show
from preemptcheck.model.props import Skip, build_property, builtin_properties
from preemptcheck.model.scope import ModelScope
from preemptcheck.model.tracemap import build_trace

__all__ = ["ModelError", "UsageError", "instantiations", "load_model"]


def _raw(path: str, sources: SourceCache) -> RawModel:
    diags = Collector()
    raw = load_raw(path, diags, sources)
    diags.raise_if_any()
    assert raw is not None
    return raw


def instantiations(
    path: str, overrides: Mapping[str, str], sources: SourceCache | None = None
) -> list[dict[str, str]]:
    """The param choices one run checks: `--set N=2,3` lists values, `sweep: true` params
    give all their `values`, the rest keep their default. In declaration order."""
    raw = _raw(path, sources or SourceCache())
    diags = Collector()
    params = build_params(raw, {}, diags, Collector())
    diags.raise_if_any()
    axes: list[tuple[str, list[str]]] = []
    for name, p in params.items():
        if name in overrides:
            choices = [v.strip() for v in overrides[name].split(",") if v.strip()]
            if not choices:
                where = Span(path, 0, 0)
                what = f"--set {name}={overrides[name]}"
                diags.error(Code.BAD_PARAM_VALUE, "no value given", where, what)
                diags.raise_if_any(UsageError)
        elif p.sweep:
            choices = [show(v) for v in p.values]
        else:
            continue
        axes.append((name, list(dict.fromkeys(choices))))
    extra = {k: v for k, v in overrides.items() if k not in params}  # reported when loaded
    combos = itertools.product(*(choices for _, choices in axes))
    return [{**extra, **dict(zip([n for n, _ in axes], combo, strict=True))} for combo in combos]


def load_model(
    path: str,
    *,
    overrides: Mapping[str, str] | None = None,
    sources: SourceCache | None = None,
    extra_properties: Mapping[str, Entry] | None = None,
    ncpu: int | None = None,
    allow_any_cpus: bool = False,
) -> Model:
    """Read, merge and validate one model for one choice of params; raises InputError.
    `extra_properties` are added after the model's own (a query from the command line).
    A model with `cpus: any` (every number of CPUs) is an error unless `allow_any_cpus`
    (it is then loaded with two CPUs, or as many as its `on:` needs) or `ncpu` gives the
    number to load it with; `ncpu` means nothing for a model that gives its number."""
    sources = sources or SourceCache()
    raw = _raw(path, sources)
    diags = Collector()
    usage = Collector()
    name = _model_name(raw, diags)
    doc_node = raw.scalars.get("doc")
    doc = schema.string(doc_node, "doc", diags) or "" if doc_node is not None else ""
    scope = ModelScope()
    params = build_params(raw, overrides or {}, diags, usage)
    diags.raise_if_any()
    usage.raise_if_any(UsageError)
    for p in params.values():
        scope.params[p.name] = (p.default, p.type)
        if isinstance(p.type, EnumT):
            scope.anon_enums.append(p.type)
    tasks = build_enums(raw, scope, diags)
    cpus, cpus_any = build_cpus(raw, scope, diags, ncpu=ncpu, allow_any=allow_any_cpus)
    variables = build_vars(raw, scope, diags)
    check_defs, check_props = load_check_files(raw, diags, sources)
    diags.raise_if_any()
    defs = {**check_defs, **raw.sections["defs"]}
    build_defs(defs, scope, diags)
    check_clashes(_declared_entries(raw, defs), scope, diags)
    diags.raise_if_any()

    actions: dict[str, Action] = {}
    instances = 0
    for aname, entry in raw.sections["actions"].items():
        action = build_action(aname, entry, scope, cpus, diags)
        if action is None:
            continue
        actions[aname] = action
        instances += math.prod((len(action.cpus), *(len(d.values) for _, d in action.bindings)))
        if instances > MAX_INSTANCES:
            diags.error(
                Code.TOO_LARGE,
                f"the actions have more than {MAX_INSTANCES:,} instances in all (one per "
                "CPU and value of the `for` bindings)",
                entry.key_span,
                f"actions.{aname}",
            )
            break
    check_field_overlaps(scope, actions.values(), diags)
    if not raw.sections["actions"]:
        diags.error(
            Code.MISSING_KEY,
            "a model needs at least one action",
            raw.root_span or Span(path, 1, 1),
            "actions",
        )
    diags.raise_if_any()

    chosen = {p.name: p.default for p in params.values()}
    prop_entries: dict[str, Entry] = {
        k: v for k, v in check_props.items() if k not in raw.removed_properties
    }
    prop_entries.update(raw.sections["properties"])
    prop_entries.update(extra_properties or {})
    properties: list[Property] = []
    skipped: list[tuple[str, str]] = []
    if len(prop_entries) > MAX_PROPERTIES:
        pid, entry = list(prop_entries.items())[MAX_PROPERTIES]
        diags.error(
            Code.TOO_LARGE,
            f"more than {MAX_PROPERTIES:,} properties ({len(prop_entries):,})",
            entry.key_span,
            f"properties.{pid}",
        )
        diags.raise_if_any()
    for pid, entry in prop_entries.items():
        try:
            prop = build_property(pid, entry, scope, actions, chosen, diags, sources)
        except Skip as skip:
            skipped.append((pid, str(skip)))
            continue
        if prop is not None:
            properties.append(prop)
    for dname, src in scope.defs.items():
        if dname not in scope.used_defs:  # report errors in defs nothing uses
            ExprParser(scope, diags, self_type=scope.domains["cpus"].type).parse(src)
    deadlock_allowed = _deadlock(raw, diags)
    trace, trace_tasks = build_trace(raw.sections["trace"], actions, tasks, diags)
    symmetry = raw.scalars.get("symmetry")
    if symmetry is not None and symmetry.value not in grammar.SYMMETRIES:
        diags.error(
            Code.INVALID_VALUE,
            f"symmetry: the only symmetry is cpus, got '{symmetry.value}'",
            symmetry.span,
            "symmetry",
        )
    diags.raise_if_any()
    properties.extend(builtin_properties(deadlock_allowed))
    return Model(
        name=name,
        file=path,
        doc=doc,
        params=tuple(params.values()),
        param_values=tuple((p.name, p.default) for p in params.values()),
        cpus=cpus,
        tasks=tasks,
        enums=tuple(scope.enum_types[n] for n in scope.enum_types if n != "tasks"),
        vars=tuple(variables),
        actions=tuple(actions.values()),
        properties=tuple(properties),
        skipped=tuple(skipped),
        deadlock_allowed=deadlock_allowed,
        symmetry=symmetry.span if symmetry is not None else None,
        trace=trace,
        trace_tasks=trace_tasks,
        cpus_any=cpus_any,
        files=tuple(
            dict.fromkeys(
                [*raw.files, *(p.monitor.automaton.file for p in properties if p.monitor)]
            )
        ),
    )


def _model_name(raw: RawModel, diags: Collector) -> str:
    node = raw.scalars.get("model")
    if node is None:
        diags.error(
            Code.NOT_A_MODEL,
            "not a model: the required key 'model' (the model's name) is missing",
            raw.root_span or Span(raw.file, 1, 1),
            "model",
        )
        return "?"
    name = schema.string(node, "model", diags)
    return name or "?"


def _deadlock(raw: RawModel, diags: Collector) -> bool:
    node = raw.scalars.get("deadlock")
    if node is None:
        return False
    if node.value not in grammar.DEADLOCK:
        diags.error(
            Code.INVALID_VALUE,
            f"deadlock must be {' or '.join(grammar.DEADLOCK)}, got '{node.value}'",
            node.span,
            "deadlock",
        )
        return False
    return bool(node.value == "allowed")


def _declared_entries(raw: RawModel, defs: Mapping[str, Entry]) -> list[tuple[str, str, Entry]]:
    return [
        (n, kind, e)
        for kind, section in (
            ("param", raw.sections["params"]),
            ("enum", raw.sections["enums"]),
            ("variable", raw.sections["vars"]),
            ("def", defs),
        )
        for n, e in section.items()
    ]
