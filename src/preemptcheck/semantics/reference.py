"""The plain reference semantics: states as values, steps by tree-walking evaluation; the oracle.

Kept deliberately simple and separate from the engines' compiled code: it replays every
counterexample before it is printed, and the tests use it to check the engines' counts.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

from preemptcheck.expr.ast import Expr, Value, VarInfo
from preemptcheck.expr.evaluate import EvalError, Reader, evaluate
from preemptcheck.model.ir import Action, Model, PropKind
from preemptcheck.semantics.system import Bindings, SeqPos, State, StepLabel, initial_state


def state_reader(index: dict[str, int], st: State) -> Reader:
    """Reads variables of `st`, whose values are in the order `index` gives (name -> slot)."""

    def read(var: VarInfo, idx: Value | None) -> Value:
        value = st.values[index[var.name]]
        if idx is None:
            return value  # type: ignore[no-any-return]
        assert var.index is not None
        return value[var.index.values.index(idx)]  # type: ignore[no-any-return]

    return read


@dataclass(frozen=True, slots=True)
class Outcome:
    """One step tried in one state: enabled or not, its successor, and what it triggered."""

    label: StepLabel
    enabled: bool
    next: State | None
    error: str | None = None  # range: the step could not be evaluated
    hits: tuple[int, ...] = ()  # never / reachable-action properties it fires
    # (property index, message) for each selecting property whose `when` cannot be evaluated
    prop_errors: tuple[tuple[int, str], ...] = ()
    first: bool = False  # the first step of its action (coverage)


@dataclass
class Exploration:
    """What a plain breadth-first exploration finds: counts and shortest depths per property."""

    states: int = 0
    transitions: int = 0
    complete: bool = True
    depth: dict[str, int] = field(default_factory=dict)  # property id -> shortest trace length
    coverage: dict[str, int] = field(default_factory=dict)
    # reachable properties that could not be evaluated somewhere (no witness -> unknown)
    eval_errors: set[str] = field(default_factory=set)


class Reference:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.index = {v.name: i for i, v in enumerate(model.vars)}
        self.props = model.properties

    # ------------------------------------------------------------ states

    def initial(self) -> State:
        return initial_state(self.model)

    def reader(self, st: State) -> Reader:
        return state_reader(self.index, st)

    def eval(self, e: Expr, st: State, env: dict[str, Value]) -> Value:
        return evaluate(e, self.reader(st), env)

    # ------------------------------------------------------------ steps

    def outcomes(self, st: State) -> list[Outcome]:
        """Every step instance that may be tried in `st`, in canonical order."""
        out: list[Outcome] = []
        for action in self.model.actions:
            names = [n for n, _ in action.bindings]
            for cpu in action.cpus:
                for combo in itertools.product(*(d.values for _, d in action.bindings)):
                    b: Bindings = tuple(zip(names, combo, strict=True))
                    pos = st.seq[cpu]
                    if pos is None:
                        k = 0
                    elif pos.action == action.name and pos.bindings == b:
                        k = pos.next
                    elif action.irq:
                        k = 0
                    else:
                        continue
                    out.append(self._try(st, action, cpu, b, k))
        return out

    def _try(self, st: State, action: Action, cpu: int, b: Bindings, k: int) -> Outcome:
        label = StepLabel(action.name, cpu, b, k, len(action.steps))
        env: dict[str, Value] = {"self": cpu, **dict(b)}
        step = action.steps[k]
        guards = ([action.when] if k == 0 else []) + [step.when]
        try:
            for g in guards:
                if g is not None and not self.eval(g, st, env):
                    return Outcome(label, False, None)
        except EvalError as exc:
            return Outcome(label, False, None, error=str(exc))
        hits: list[int] = []
        perrs: list[tuple[int, str]] = []
        for pi, prop in enumerate(self.props):
            for name, when in prop.actions:
                if name != action.name:
                    continue
                try:
                    if when is None or self.eval(when, st, env):
                        hits.append(pi)
                except EvalError as exc:
                    perrs.append((pi, f"evaluating property {prop.id}: {exc}"))
        first = k == 0
        try:
            nxt = self._effect(st, action, cpu, b, k, env)
        except EvalError as exc:
            return Outcome(label, True, None, str(exc), tuple(hits), tuple(perrs), first)
        return Outcome(label, True, nxt, None, tuple(hits), tuple(perrs), first)

    def _effect(
        self, st: State, action: Action, cpu: int, b: Bindings, k: int, env: dict[str, Value]
    ) -> State:
        step = action.steps[k]
        writes: list[tuple[VarInfo, Value | None, str | None, Value]] = []
        if step.cond is None or self.eval(step.cond, st, env):
            for a in step.assigns:
                t = a.target
                idx = self.eval(t.index, st, env) if t.index is not None else None
                if idx is not None and t.var.index is not None and idx not in t.var.index.values:
                    raise EvalError(
                        f"index {idx} is out of range for {t.var.name} "
                        f"(indexed by {t.var.index.name})"
                    )
                writes.append((t.var, idx, t.fld, self.eval(a.value, st, env)))
        for i, (va, ia, fa, _) in enumerate(writes):
            for vb, ib, fb, _ in writes[:i]:
                if va.name == vb.name and ia == ib and (fa is None or fb is None or fa == fb):
                    where = va.name + (f"[{ia}]" if ia is not None else "")
                    raise EvalError(f"conflicting assignments to {where} in one step")
        values = list(st.values)
        for var, idx, fld, value in writes:
            pos = self.index[var.name]
            cur = values[pos] if idx is None else values[pos][var.index.values.index(idx)]  # type: ignore[union-attr]
            new = _store(var, cur, fld, value, idx)
            if idx is None:
                values[pos] = new
            else:
                entries = list(values[pos])
                entries[var.index.values.index(idx)] = new  # type: ignore[union-attr]
                values[pos] = tuple(entries)
        seq = list(st.seq)
        if action.is_sequence:
            seq[cpu] = SeqPos(action.name, b, k + 1) if k + 1 < len(action.steps) else None
        return State(tuple(values), tuple(seq))

    # ------------------------------------------------------------ state properties

    def state_checks(self, st: State) -> list[tuple[int, int, bool | str]]:
        """(property index, cpu or -1, value or error text) for every state property."""
        out: list[tuple[int, int, bool | str]] = []
        for pi, prop in enumerate(self.props):
            if prop.kind not in (PropKind.INVARIANT, PropKind.REACHABLE):
                continue
            assert prop.expr is not None
            for cpu in range(self.model.cpus) if prop.per_cpu else [-1]:
                env: dict[str, Value] = {"self": cpu} if cpu >= 0 else {}
                try:
                    out.append((pi, cpu, bool(self.eval(prop.expr, st, env))))
                except EvalError as exc:
                    out.append((pi, cpu, f"evaluating property {prop.id}: {exc}"))
        return out

    # ------------------------------------------------------------ plain exploration (oracle)

    def explore(self, max_states: int = 2_000_000) -> Exploration:
        res = Exploration()
        init = self.initial()
        depth = {init: 0}
        queue = deque([init])
        kinds = {p.id: p.kind for p in self.props}

        def found(pid: str, d: int) -> None:
            if pid in kinds and d < res.depth.get(pid, d + 1):
                res.depth[pid] = d

        def cannot_evaluate(pi: int, d: int) -> None:
            # an invariant or never that cannot be evaluated is not established: violated;
            # a reachable one is not witnessed there
            found("range", d)
            prop = self.props[pi]
            if prop.kind in (PropKind.INVARIANT, PropKind.NEVER):
                found(prop.id, d)
            else:
                res.eval_errors.add(prop.id)

        while queue:
            st = queue.popleft()
            d = depth[st]
            for pi, _cpu, val in self.state_checks(st):
                prop = self.props[pi]
                if isinstance(val, str):
                    cannot_evaluate(pi, d)
                elif (prop.kind == PropKind.INVARIANT) != val:
                    found(prop.id, d)
            any_enabled = False
            covered: set[str] = set()
            for o in self.outcomes(st):
                if o.error is not None:
                    found("range", d + 1)
                for pi, _ in o.prop_errors:
                    cannot_evaluate(pi, d + 1)
                if not o.enabled:
                    continue
                any_enabled = True
                if o.first:
                    covered.add(o.label.action)
                for pi in o.hits:
                    found(self.props[pi].id, d + 1)
                if o.next is None:
                    continue
                res.transitions += 1
                if o.next not in depth:
                    if len(depth) >= max_states:
                        res.complete = False
                        continue
                    depth[o.next] = d + 1
                    queue.append(o.next)
            if not any_enabled:
                found("deadlock", d)
            for a in covered:
                res.coverage[a] = res.coverage.get(a, 0) + 1
        res.states = len(depth)
        return res


def _store(var: VarInfo, cur: Value, fld: str | None, value: Value, idx: Value | None) -> Value:
    where = var.name + (f"[{idx}]" if idx is not None else "")
    if fld is not None:
        spec = var.field(fld)
        assert spec is not None
        assert isinstance(cur, int)
        assert isinstance(value, int)
        shift, width = spec
        if not 0 <= value < (1 << width):
            raise EvalError(f"assigns {value} to {where}.{fld}, a {width}-bit field")
        mask = ((1 << width) - 1) << shift
        return (cur & ~mask) | (value << shift)
    if var.kind == "word":
        assert isinstance(value, int)
        return value % (var.hi + 1)
    if var.kind == "int":
        assert isinstance(value, int)
        if not var.lo <= value <= var.hi:
            raise EvalError(f"assigns {value} to {where}, range [{var.lo}, {var.hi}]")
    return value
