"""What a monitor sees of a model step, and how an instance reacts: the one definition the
product search and the replay of its traces both use.

A step emits its kernel events in order (`emit:`; an `if:` and the attributes are evaluated
in the step's pre-state). Each event goes through the monitor's table, row by row in the
order written, as the kernel's handler code would: a row whose kernel event matches and
whose `if` holds delivers its automaton event to one instance. Rows that select actions
(`on: tag:wakeup`) fire once per step of those actions, after the step's own events.

An instance is an automaton state, or NOT_MONITORING until a start row starts it (as
da_handle_start_event does; a monitor without start rows starts every instance in its
initial state). An event with no edge from the instance's state, or whose edge's guard
is false for the bound environment, is a violation: the kernel's reactor would print
"rv: monitor NAME does not allow event EVENT on state STATE".
"""

from __future__ import annotations

from dataclasses import dataclass

from preemptcheck.expr.ast import Value
from preemptcheck.expr.evaluate import EvalError, Reader, evaluate
from preemptcheck.model.ir import Action, Model, Monitor, Translation
from preemptcheck.monitors.dot import Automaton, Comparison, Edge
from preemptcheck.semantics.reference import state_reader
from preemptcheck.semantics.system import State, StepLabel

NOT_MONITORING = -1

# the kernel events a step emits, in order, with their attributes
Emitted = tuple[tuple[str, tuple[tuple[str, Value], ...]], ...]


def emitted(model: Model, index: dict[str, int], st: State, label: StepLabel) -> Emitted:
    """The events the step `label` emits from the state `st` (conditions and attributes
    evaluated in `st`, with the step's CPU as self and its bindings); `index`: the model's
    variable slots."""
    action = model.action(label.action)
    read = state_reader(index, st)
    env: dict[str, Value] = {"self": label.cpu, **dict(label.bindings)}
    out = []
    for em in action.steps[label.step].emits:
        if em.cond is not None and not evaluate(em.cond, read, env):
            continue
        out.append((em.event, tuple((name, evaluate(e, read, env)) for name, e in em.attrs)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Delivery:
    instance: int
    event: str
    start: str  # "", "start" or "run" (Translation.start)
    env: tuple[tuple[str, int], ...]  # the hybrid automaton's bound variables


@dataclass(frozen=True, slots=True)
class Reaction:
    states: tuple[int, ...]  # every instance after the delivery
    edge: Edge | None  # the edge taken (None: ignored, started, or violated)
    violation: str | None = None


class MonitorSemantics:
    """One monitor property of one model: instances, deliveries, reactions."""

    def __init__(self, model: Model, monitor: Monitor) -> None:
        self.model = model
        self.monitor = monitor
        self.automaton: Automaton = monitor.automaton
        self.index = {v.name: i for i, v in enumerate(model.vars)}
        self.state_index = {s: i for i, s in enumerate(self.automaton.states)}
        self.actions = {a.name: a for a in model.actions}
        current = model.role("current_task")
        self.current = current.name if current is not None else None
        if monitor.per == "cpu":
            self.instances = tuple(f"cpu{c}" for c in range(model.cpus))
        elif monitor.per == "task":
            self.instances = model.tasks
        else:
            self.instances = ("global",)

    # ------------------------------------------------------------ instances

    def initial(self) -> tuple[int, ...]:
        first = NOT_MONITORING if self.monitor.starts else 0  # states[0] is the initial state
        return (first,) * len(self.instances)

    def show(self, states: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(
            f"{name}: {'-' if s == NOT_MONITORING else self.automaton.states[s]}"
            for name, s in zip(self.instances, states, strict=True)
        )

    # ------------------------------------------------------------ what a step delivers

    def deliveries(
        self, st: State, label: StepLabel, events: Emitted | None = None
    ) -> list[Delivery]:
        """What the step delivers to the monitor's instances; `events`: the step's
        emitted events when already known (emitted() is the same for every monitor)."""
        action: Action = self.actions[label.action]
        out: list[Delivery] = []
        for event, attrs in (
            emitted(self.model, self.index, st, label) if events is None else events
        ):
            for row in self.monitor.table:
                if row.actions or row.source != event:
                    continue
                self._deliver(row, st, label, {"self": label.cpu, **dict(attrs)}, out)
        for row in self.monitor.table:
            if action.name in row.actions:
                self._deliver(row, st, label, {"self": label.cpu}, out)
        return out

    def _deliver(
        self,
        row: Translation,
        st: State,
        label: StepLabel,
        env: dict[str, Value],
        out: list[Delivery],
    ) -> None:
        read = self._reader(st)
        if row.cond is not None and not evaluate(row.cond, read, env):
            return
        if self.monitor.per == "cpu":
            inst = label.cpu if row.instance is None else evaluate(row.instance, read, env)
            instance = int(inst)
            if not 0 <= instance < len(self.instances):
                raise EvalError(
                    f"{self._row_names(row)} CPU {instance}, and the model has CPUs "
                    f"0..{len(self.instances) - 1}"
                )
        elif self.monitor.per == "task":
            if row.instance is not None:
                task = evaluate(row.instance, read, env)
            else:
                task = self._current_task(row, read, label.cpu)
            instance = self.model.tasks.index(str(task))
        else:
            instance = 0
        bound = tuple(
            (name, int(evaluate(e, read, {"self": label.cpu}))) for name, e in self.monitor.bind
        )
        out.append(Delivery(instance, row.event, row.start, bound))

    def _current_task(self, row: Translation, read: Reader, cpu: int) -> Value:
        """The task running on `cpu`: the current_task variable's entry for it."""
        name = self.automaton.name
        if self.current is None:
            raise EvalError(
                f"monitor {name} is per task, and the row for {row.event} has no task: (the "
                "current task), but no variable has role current_task"
            )
        info = self.model.var(self.current).info
        if info.index is not None and not info.index.is_cpus:
            raise EvalError(
                f"monitor {name} is per task, and the row for {row.event} has no task: (the "
                f"current task), but {info.name} is indexed by {info.index.name}, not by cpus"
            )
        # without an index, one variable is every CPU's current task (as traces read it)
        task = read(info, None if info.index is None else cpu)
        if task not in self.model.tasks:
            raise EvalError(
                f"{self._row_names(row)} '{task}' (the current task), which is not a task"
            )
        return task

    def _row_names(self, row: Translation) -> str:
        per = self.monitor.per
        return f"monitor {self.automaton.name} is per {per}: the row for {row.event} names"

    def _reader(self, st: State) -> Reader:
        return state_reader(self.index, st)

    # ------------------------------------------------------------ how an instance reacts

    def react(self, states: tuple[int, ...], d: Delivery) -> Reaction:
        cur = states[d.instance]
        if cur == NOT_MONITORING:
            if not d.start:
                return Reaction(states, None)  # da_handle_event: ignored until started
            cur = 0
            if d.start == "start":  # da_handle_start_event: started, event not processed
                return Reaction(_set(states, d.instance, cur), None)
        name = self.automaton.states[cur]
        edge = self.automaton.step(name, d.event)
        if edge is None:
            return Reaction(states, None, self._reaction(d, name))
        if edge.guard is not None and not _guard_holds(edge.guard.alternatives, dict(d.env)):
            shown = ", ".join(f"{k} = {v}" for k, v in d.env)
            return Reaction(
                states,
                None,
                f"{self._reaction(d, name)} (guard {edge.guard.text} is false: {shown})",
            )
        return Reaction(_set(states, d.instance, self.state_index[edge.dst]), edge)

    def _reaction(self, d: Delivery, state: str) -> str:
        who = ""
        if self.monitor.per == "task":
            who = f" with task {self.instances[d.instance]}"
        elif self.monitor.per == "cpu" and len(self.instances) > 1:
            who = f" on cpu{d.instance}"
        return (
            f"rv: monitor {self.automaton.name} does not allow event {d.event} "
            f"on state {state}{who}"
        )


def _set(states: tuple[int, ...], i: int, value: int) -> tuple[int, ...]:
    return (*states[:i], value, *states[i + 1 :])


def _guard_holds(alternatives: tuple[tuple[Comparison, ...], ...], env: dict[str, int]) -> bool:
    return any(all(_compare(c, env) for c in alt) for alt in alternatives)


def _compare(c: Comparison, env: dict[str, int]) -> bool:
    a, b = env[c.var], c.value
    assert isinstance(b, int)  # the property refuses symbolic constants
    return {
        "<": a < b,
        ">": a > b,
        "<=": a <= b,
        ">=": a >= b,
        "==": a == b,
        "!=": a != b,
    }[c.op]
