"""The validated, frozen model IR: one instantiation of a model (every param has its value)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from preemptcheck.core.source import NO_SPAN, Span
from preemptcheck.expr.ast import Domain, EnumT, Expr, Target, Type, Value, VarInfo
from preemptcheck.monitors.dot import Automaton

MODES = ("none", "voluntary", "full", "lazy", "rt")
ROLES = ("preempt_count", "irqs_disabled", "need_resched", "need_resched_lazy", "current_task")
BUILTIN_PROPERTIES = ("range", "deadlock")
# The field of a preempt_count word that is PREEMPT_NEED_RESCHED, stored inverted on x86 and
# arm64 (kernel-facts §1.4, §1.6): 1 means "no reschedule needed".
NEED_RESCHED_FIELD = "need_resched"


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: Type
    domain: tuple[Value, ...]  # every value the type admits (`--set` may pick any)
    values: tuple[Value, ...]  # the values this model is meant to be checked with
    default: Value
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    sweep: bool = False  # a run checks every one of `values`, not only the default


@dataclass(frozen=True, slots=True)
class Var:
    info: VarInfo
    init: tuple[Value, ...]  # one per entry, in index order (one entry when not indexed)
    role: str | None = None
    doc: str = ""
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def entries(self) -> tuple[Value | None, ...]:
        """The index values of this variable's entries (None for a scalar)."""
        return (None,) if self.info.index is None else self.info.index.values


@dataclass(frozen=True, slots=True)
class Assign:
    target: Target
    value: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Emission:
    """A kernel event (a tracepoint firing) a step emits, when `cond` holds in its pre-state;
    `attrs` are the tracepoint's arguments, evaluated in the pre-state too."""

    event: str
    cond: Expr | None = None
    attrs: tuple[tuple[str, Expr], ...] = ()
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Step:
    when: Expr | None  # the step waits until this holds
    cond: Expr | None  # `if`: when false the step does nothing
    assigns: tuple[Assign, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    emits: tuple[Emission, ...] = ()  # in order (a step whose `if` is false still emits)


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    cpus: tuple[int, ...]  # the CPUs it has instances on (`on:` pins one)
    bindings: tuple[tuple[str, Domain], ...]
    when: Expr | None  # guards the first step
    steps: tuple[Step, ...]
    is_sequence: bool  # written with `steps:` (non-atomic)
    irq: bool
    events: tuple[str, ...]
    tags: tuple[str, ...]
    doc: str = ""
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


class PropKind(Enum):
    INVARIANT = "invariant"
    NEVER = "never"
    REACHABLE = "reachable"  # a state predicate is reachable
    REACHABLE_ACTION = "reachable-action"  # some step of a selected action can fire
    RANGE = "range"  # built-in: every assignment fits, every index exists
    DEADLOCK = "deadlock"  # built-in: every reachable state has a successor
    LEADS_TO = "leads-to"  # liveness: a request is always followed by its response
    MONITOR = "monitor"  # a kernel RV automaton accepts every run's events


@dataclass(frozen=True, slots=True)
class Response:
    """`leads_to`: from every state where `trigger` holds, every fair run reaches `goal`.

    The goal is a state (`goal`) or a step of one of `goal_actions`; it may come in the
    trigger's own state. Weak fairness: an action of `fair` that stays enabled is taken;
    strong fairness: an action of `strong` enabled infinitely often is taken infinitely often.
    `within` bounds the steps until the goal (the goal's step included); `count` with
    `count_max` bounds how many steps of the `count` actions may come before it instead.
    """

    trigger: Expr
    goal: Expr | None
    goal_actions: tuple[str, ...]
    fair: tuple[str, ...] = ()
    within: int | None = None
    count: tuple[str, ...] = ()
    count_max: int | None = None
    trigger_source: str = ""
    goal_source: str = ""
    strong: tuple[str, ...] = ()  # strong fairness: enabled infinitely often, taken so too

    @property
    def bounded(self) -> bool:
        return self.within is not None or self.count_max is not None


MONITOR_TYPES = ("cpu", "task", "global")  # rvgen's per_cpu, per_task, global
START_KINDS = ("", "start", "run")  # da_handle_event, _start_event, _start_run_event


@dataclass(frozen=True, slots=True)
class Translation:
    """One row of a monitor's table, as the kernel's handler code has it: a kernel event
    (`source`), or a step of one of `actions`, becomes `event` of the automaton for the
    instance `instance` names (default: the emitting CPU, or its current task), when `cond`
    holds. A `start` row starts an instance that is not monitoring yet: "start" without
    processing the event (da_handle_start_event), "run" processing it too."""

    event: str
    source: str  # a kernel event name, or the selector text when `actions` is set
    actions: tuple[str, ...] = ()
    cond: Expr | None = None
    instance: Expr | None = None
    start: str = ""
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Monitor:
    """A `monitor` property: the automaton, its instances, the event table, and the
    environment variables of a hybrid automaton bound to model expressions."""

    automaton: Automaton
    per: str  # one of MONITOR_TYPES
    table: tuple[Translation, ...]
    bind: tuple[tuple[str, Expr], ...] = ()
    # edges (`src -event-> dst`) the model is known not to take, each with the reason
    untaken: tuple[tuple[str, str], ...] = ()

    @property
    def starts(self) -> bool:
        """Instances begin unmonitored when some row starts them (as in the kernel)."""
        return any(t.start for t in self.table)


class Expect(Enum):
    HOLDS = "holds"
    VIOLATED = "violated"


@dataclass(frozen=True, slots=True)
class Property:
    id: str
    kind: PropKind
    expect: Expect
    expr: Expr | None = None  # invariant / reachable
    actions: tuple[tuple[str, Expr | None], ...] = ()  # never / reachable-action
    selector: str = ""
    per_cpu: bool = False
    doc: str = ""
    source: str = ""  # the expression as written
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    response: Response | None = None  # leads_to
    monitor: Monitor | None = None

    @property
    def builtin(self) -> bool:
        return self.kind in (PropKind.RANGE, PropKind.DEADLOCK)


@dataclass(frozen=True, slots=True)
class TraceArg:
    """A tracepoint argument compared with an attribute of the model's event: the value the
    recording shows -> the model's value (a value not listed claims nothing)."""

    arg: str
    attr: str
    values: tuple[tuple[str, Value], ...]


@dataclass(frozen=True, slots=True)
class TraceMap:
    """`trace:` in a model: a tracepoint of a recording stands for the model's `event`."""

    tracepoint: str
    event: str
    args: tuple[TraceArg, ...] = ()
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    file: str
    doc: str
    params: tuple[Param, ...]
    param_values: tuple[tuple[str, Value], ...]
    cpus: int
    tasks: tuple[str, ...]
    enums: tuple[EnumT, ...]
    vars: tuple[Var, ...]
    actions: tuple[Action, ...]
    properties: tuple[Property, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (property id, reason)
    deadlock_allowed: bool = False
    files: tuple[str, ...] = ()  # every file read, for caching
    symmetry: Span | None = None  # where `symmetry: cpus` declares the CPUs interchangeable
    trace: tuple[TraceMap, ...] = ()  # how a kernel recording's events map to the model's
    trace_tasks: tuple[tuple[str, str], ...] = ()  # `trace: {tasks: ...}`: pid -> task
    # where `cpus: any` asks for every number of CPUs (`cpus` is then the count it was
    # loaded with: load_model's `ncpu`, or its smallest multi-CPU instance)
    cpus_any: Span | None = None

    @property
    def mode(self) -> str | None:
        v = dict(self.param_values).get("mode")
        return v if isinstance(v, str) else None

    def var(self, name: str) -> Var:
        for v in self.vars:
            if v.name == name:
                return v
        raise KeyError(name)

    def action(self, name: str) -> Action:
        for a in self.actions:
            if a.name == name:
                return a
        raise KeyError(name)

    def role(self, role: str) -> Var | None:
        for v in self.vars:
            if v.role == role:
                return v
        return None
