"""IR -> transition system: states, step labels, action instances specialized per CPU/binding."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from preemptcheck.expr.ast import BOOL, BoolOp, Const, Expr, Target, Value
from preemptcheck.expr.evaluate import fold
from preemptcheck.model.ir import Action, Model, Property, PropKind

Bindings = tuple[tuple[str, Value], ...]


@dataclass(frozen=True, slots=True)
class SeqPos:
    """A CPU is inside a `steps` sequence: which instance, and the index of its next step."""

    action: str
    bindings: Bindings
    next: int


@dataclass(frozen=True, slots=True)
class State:
    """Plain values: per variable a value (or a tuple over its index); per CPU a SeqPos."""

    values: tuple[Any, ...]
    seq: tuple[SeqPos | None, ...]


@dataclass(frozen=True, slots=True)
class StepLabel:
    """How a trace names a system step: `remote_resched@cpu1{t=0} step 2/2`."""

    action: str
    cpu: int
    bindings: Bindings
    step: int  # 0-based index of the step within the action
    nsteps: int

    def __str__(self) -> str:
        b = ""
        if self.bindings:
            b = "{" + ",".join(f"{k}={_show(v)}" for k, v in self.bindings) + "}"
        s = f" step {self.step + 1}/{self.nsteps}" if self.nsteps > 1 else ""
        return f"{self.action}@cpu{self.cpu}{b}{s}"


def _show(v: Value) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


@dataclass(frozen=True, slots=True)
class SpecAssign:
    target: Target  # index folded
    value: Expr


@dataclass(frozen=True, slots=True)
class SpecStep:
    sid: int  # global step id
    label: StepLabel
    guard: Expr | None  # for step 0: the action's when and the step's when
    cond: Expr | None
    assigns: tuple[SpecAssign, ...]
    never: tuple[tuple[int, Expr | None], ...]  # (property index, folded when)
    reach: tuple[tuple[int, Expr | None], ...]


@dataclass(frozen=True, slots=True)
class Instance:
    index: int
    action: Action
    action_index: int
    cpu: int
    bindings: Bindings
    steps: tuple[SpecStep, ...]


def initial_state(model: Model) -> State:
    """Every variable at its `init`, no sequence in progress."""
    values = [v.init[0] if v.info.index is None else tuple(v.init) for v in model.vars]
    return State(tuple(values), (None,) * model.cpus)


def binding_product(action: Action) -> list[Bindings]:
    names = [n for n, _ in action.bindings]
    domains = [d.values for _, d in action.bindings]
    return [tuple(zip(names, combo, strict=True)) for combo in itertools.product(*domains)]


def _conj(a: Expr | None, b: Expr | None) -> Expr | None:
    if a is None:
        return b
    if b is None:
        return a
    return BoolOp("and", (a, b), BOOL)


@dataclass(frozen=True, slots=True)
class StateProp:
    prop_index: int
    cpu: int  # -1 when not per CPU
    expr: Expr


class TransitionSystem:
    """The model's action instances, specialized, with global step ids; engines compile this."""

    def __init__(self, model: Model, *, deadline: float | None = None) -> None:
        """`deadline` (time.monotonic()): past it, TimeoutError (a large model's build can
        take long enough for --timeout to matter)."""
        self.model = model
        self.properties: tuple[Property, ...] = model.properties
        self.instances: list[Instance] = []
        self.steps: list[SpecStep] = []
        self.var_index = {v.name: i for i, v in enumerate(model.vars)}
        for ai, action in enumerate(model.actions):
            for cpu in action.cpus:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError
                for b in binding_product(action):
                    self._add(action, ai, cpu, b)
        self.state_props: list[StateProp] = []
        for pi, prop in enumerate(self.properties):
            if prop.kind in (PropKind.INVARIANT, PropKind.REACHABLE):
                assert prop.expr is not None
                cpus = range(model.cpus) if prop.per_cpu else [-1]
                for c in cpus:
                    env = {"self": c} if c >= 0 else {}
                    self.state_props.append(StateProp(pi, c, fold(prop.expr, env)))

    def _add(self, action: Action, ai: int, cpu: int, b: Bindings) -> None:
        specs = specialize(self.properties, action, cpu, b, len(self.steps))
        self.steps.extend(specs)
        self.instances.append(Instance(len(self.instances), action, ai, cpu, b, specs))

    def label(self, sid: int) -> StepLabel:
        return self.steps[sid].label

    def disabled_actions(self) -> frozenset[str]:
        """Actions whose every first step has a guard that the params fold to false."""
        live = {
            i.action.name
            for i in self.instances
            if not (isinstance(i.steps[0].guard, Const) and i.steps[0].guard.value is False)
        }
        return frozenset(a.name for a in self.model.actions if a.name not in live)


def specialize(
    properties: tuple[Property, ...], action: Action, cpu: int, b: Bindings, sid: int
) -> tuple[SpecStep, ...]:
    """The steps of `action` on `cpu` with bindings `b`, folded, numbered from `sid`."""
    env: dict[str, Value] = {"self": cpu, **dict(b)}
    n = len(action.steps)
    specs: list[SpecStep] = []
    for k, step in enumerate(action.steps):
        guard = _conj(action.when, step.when) if k == 0 else step.when
        never: list[tuple[int, Expr | None]] = []
        reach: list[tuple[int, Expr | None]] = []
        for pi, prop in enumerate(properties):
            for name, when in prop.actions:
                if name != action.name:
                    continue
                folded = fold(when, env) if when is not None else None
                (never if prop.kind == PropKind.NEVER else reach).append((pi, folded))
        specs.append(
            SpecStep(
                sid=sid + k,
                label=StepLabel(action.name, cpu, b, k, n),
                guard=fold(guard, env) if guard is not None else None,
                cond=fold(step.cond, env) if step.cond is not None else None,
                assigns=tuple(
                    SpecAssign(
                        Target(
                            a.target.var,
                            fold(a.target.index, env) if a.target.index is not None else None,
                            a.target.fld,
                            a.span,
                        ),
                        fold(a.value, env),
                    )
                    for a in step.assigns
                ),
                never=tuple(never),
                reach=tuple(reach),
            )
        )
    return tuple(specs)
