"""What a proof for every number of CPUs may assume of a model: its CPU-count param, the CPUs
it names, uniform per-CPU init, no declaration that depends on the count; and its instances.

A model is checked for one CPU count, `cpus:`; a proof for every count treats that count as
unknown. That is sound only where nothing but the CPU domain depends on it: the model is
loaded for a second count and every declaration, action and property compared, with the CPU
domain set aside. The CPUs the model names (`on: 0`, `tif_nr[0]`) must exist: the proof
covers every count above the largest of them. No z3 here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from preemptcheck.core.errors import Code, Collector, Diagnostic, InputError
from preemptcheck.core.source import NO_SPAN, SourceCache, Span
from preemptcheck.expr.ast import Const, Domain, Expr, VarRef, walk
from preemptcheck.model import load_model
from preemptcheck.model.ir import Action, Model
from preemptcheck.model.merge import load_raw
from preemptcheck.model.params import show

# the smallest instances candidate invariants are mined from (NCPU = 1..3)
MINE_COUNTS = (1, 2, 3)


class Refusal(Exception):
    """Outside the fragment proved for every number of CPUs: where, and why."""

    def __init__(self, message: str, span: Span = NO_SPAN) -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic(Code.NOT_SUPPORTED_YET, message, span)

    @property
    def text(self) -> str:
        """`file:line:col: error[PC113]: message`."""
        return self.diagnostic.headline()


@dataclass(frozen=True, slots=True)
class Fragment:
    """What the encoding needs to know beyond the model: the param that sets `cpus`
    (None: a literal count), the CPUs the model names, and the smallest count it needs."""

    param: str | None
    named: tuple[int, ...]
    least: int
    pinned: tuple[str, ...] = ()  # actions `on:` pins to one CPU


def analyze(model: Model, sources: SourceCache | None = None) -> Fragment:
    """The model's fragment facts; Refusal when the whole model is outside it."""
    sources = sources or SourceCache()
    param = cpu_param(model, sources)
    pinned = _pinned_actions(model, sources)
    for var in model.vars:
        dom = var.info.index
        if dom is not None and dom.is_cpus and len(set(var.init)) > 1:
            raise Refusal(
                f"vars.{var.name}: its entries start with different values; a proof for every "
                "number of CPUs needs one init value for every CPU",
                var.span,
            )
    named: set[int] = set()
    for a in model.actions:
        if a.name in pinned:
            named.update(a.cpus)
    for e in _expressions(model):
        for n in walk(e):
            if (
                isinstance(n, VarRef)
                and n.var.index is not None
                and n.var.index.is_cpus
                and isinstance(n.index, Const)
                and isinstance(n.index.value, int)
            ):
                if n.index.value < 0:
                    raise Refusal(f"CPU {n.index.value} does not exist", n.span)
                named.add(n.index.value)
    for a in model.actions:
        for step in a.steps:
            for asg in step.assigns:
                t = asg.target
                if t.var.index is not None and t.var.index.is_cpus and isinstance(t.index, Const):
                    assert isinstance(t.index.value, int)
                    named.add(t.index.value)
    if param is not None:
        _same_for_another_count(model, param, sources)
    least = max(named) + 1 if named else 1
    return Fragment(param, tuple(sorted(named)), least, tuple(sorted(pinned)))


def cpu_param(model: Model, sources: SourceCache) -> str | None:
    """The param `cpus:` names (None when it is a literal); Refusal for an expression."""
    return cpu_param_of(model.file, sources)


def cpu_param_of(path: str, sources: SourceCache) -> str | None:
    """The param the model file's `cpus:` names (None when it is a literal or the file
    cannot be read); Refusal for an expression over params."""
    diags = Collector()
    raw = load_raw(path, diags, sources)
    if raw is None:
        return None
    node = raw.scalars.get("cpus")
    if node is None or isinstance(node.value, int):
        return None
    text = str(node.value).strip()
    names = set(raw.sections["params"])
    if text in names:
        return text
    used = [n for n in re.findall(r"[A-Za-z_]\w*", text) if n in names]
    if used:
        raise Refusal(
            f"cpus: '{text}' is an expression; a proof for every number of CPUs needs "
            "`cpus:` to be one param (e.g. cpus: NCPU)",
            node.span,
        )
    return None


def _pinned_actions(model: Model, sources: SourceCache) -> set[str]:
    """Actions written with `on:` (a one-CPU model cannot tell them apart otherwise)."""
    diags = Collector()
    raw = load_raw(model.file, diags, sources)
    if raw is None:
        return set()
    out = set()
    for name, entry in raw.sections["actions"].items():
        if entry.node.is_map and "on" in entry.node.value:
            out.add(name)
    return out


def instance(model: Model, n: int, sources: SourceCache | None = None) -> Model | None:
    """The model with `n` CPUs (its other params as they are), None when it cannot be had:
    a literal `cpus:` other than n, or a count the param refuses (`cpus: any` takes any)."""
    if n == model.cpus:
        return model
    sources = sources or SourceCache()
    overrides = {k: show(v) for k, v in model.param_values}
    if model.cpus_any is None:
        try:
            param = cpu_param(model, sources)
        except Refusal:
            return None
        if param is None:
            return None
        overrides[param] = str(n)
    try:
        m = load_model(
            model.file,
            overrides=overrides,
            sources=sources,
            ncpu=n if model.cpus_any is not None else None,
        )
    except InputError:
        return None
    keep = {p.id for p in model.properties}
    return dataclasses.replace(m, properties=tuple(p for p in m.properties if p.id in keep))


def mining_instances(model: Model, least: int, sources: SourceCache) -> list[Model]:
    """The small instances candidates are mined from: NCPU = 1..3 (at least `least`), or
    the values the param lists when it refuses those, or the model itself."""
    out = []
    for n in MINE_COUNTS:
        if n >= least:
            m = instance(model, n, sources)
            if m is not None:
                out.append(m)
    if not out:
        param = next((p for p in model.params if p.name == cpu_param(model, sources)), None)
        for v in param.values if param is not None else ():
            if isinstance(v, int) and v >= least:
                m = instance(model, v, sources)
                if m is not None and m not in out:
                    out.append(m)
    return out or [model]


# ---------------------------------------------------------------- the count appears nowhere else


def _same_for_another_count(model: Model, param: str, sources: SourceCache) -> None:
    other = instance(model, model.cpus + 1, sources)
    if other is None:
        other = instance(model, model.cpus - 1, sources) if model.cpus > 1 else None
    if other is None:
        return  # the param allows no other count: nothing to compare
    for a, b in zip(model.vars, other.vars, strict=True):
        per_cpu = a.info.index is not None and a.info.index.is_cpus
        same_init = set(a.init) == set(b.init) if per_cpu else a.init == b.init
        if _norm(a.info) != _norm(b.info) or not same_init:
            raise Refusal(
                f"vars.{a.name}: its declaration depends on the number of CPUs ({param}); "
                "a proof for every number of CPUs cannot follow it",
                a.span,
            )
    for x, y in zip(model.actions, other.actions, strict=True):
        if _norm_action(x, model) != _norm_action(y, other):
            raise Refusal(
                f"actions.{x.name}: it reads the CPU count ({param}) other than as `cpus`; "
                "a proof for every number of CPUs cannot follow it",
                x.span,
            )
    for p, q in zip(model.properties, other.properties, strict=True):
        if _norm(p.expr) != _norm(q.expr) or _norm(p.actions) != _norm(q.actions):
            raise Refusal(
                f"properties.{p.id}: it reads the CPU count ({param}) other than as `cpus`",
                p.span,
            )


def _norm_action(a: Action, model: Model) -> Any:
    cpus = "all" if a.cpus == tuple(range(model.cpus)) else a.cpus
    return (cpus, _norm(a.bindings), _norm(a.when), _norm(a.steps))


def _norm(x: Any) -> Any:
    """`x` with the CPU domain's values set aside, spans dropped: comparable across counts."""
    if isinstance(x, Domain):
        return ("cpus",) if x.is_cpus else (x.name, x.values)
    if isinstance(x, tuple | list):
        return tuple(_norm(v) for v in x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (
            type(x).__name__,
            tuple(
                _norm(getattr(x, f.name))
                for f in dataclasses.fields(x)
                if f.name not in ("span", "emits", "doc")
            ),
        )
    return x


def _expressions(model: Model) -> list[Expr]:
    out: list[Expr] = []
    for a in model.actions:
        if a.when is not None:
            out.append(a.when)
        for s in a.steps:
            out += [e for e in (s.when, s.cond) if e is not None]
            for asg in s.assigns:
                out.append(asg.value)
                if asg.target.index is not None:
                    out.append(asg.target.index)
    for p in model.properties:
        if p.expr is not None:
            out.append(p.expr)
        out += [w for _, w in p.actions if w is not None]
    return out
