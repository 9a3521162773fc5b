"""A model's reachable state graph -> the smallest deterministic automaton of the kernel event
sequences one monitor instance sees (per CPU, per task, or global), for the kernel's rvgen.

Projection: a step of the graph shows the instance it belongs to the chosen events its
emissions name (`if:` evaluated in the step's pre-state); every other step, and every other
event, is silent (an epsilon move). The instances' languages are united (one automaton fits
every CPU or task). The (state, instance) nodes are first grouped by their future (`_classes`,
which leaves no silent moves), then determinized by the subset construction and minimized
with Hopcroft's algorithm. The language is prefix-closed: every state accepts, and a missing
edge means the event is not allowed there (no dead state).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from preemptcheck.core import interrupt
from preemptcheck.core.errors import (
    Code,
    Collector,
    Diagnostic,
    PreemptcheckError,
    UsageError,
    did_you_mean,
)
from preemptcheck.core.source import SourceCache, Span
from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import GraphLimit, StateGraph, build_graph, sccs
from preemptcheck.expr.ast import EnumT, Expr, Value
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.model import instantiations, load_model
from preemptcheck.model.ir import Model, Var
from preemptcheck.monitors.dot import INIT_MARKER
from preemptcheck.semantics.reference import Reference
from preemptcheck.semantics.system import State

PER = ("cpu", "task", "global")
POLL = 256  # automaton states between two looks at the clock and at signals


class ExportLimit(PreemptcheckError):
    """The state graph or the determinized automaton does not fit the limits."""


class ExportRefused(PreemptcheckError):
    """The model has no exact automaton to export (a step fails somewhere)."""


@dataclass(frozen=True, slots=True)
class Exported:
    """The minimal automaton: states in breadth-first order over the sorted events from the
    initial state (states[0]); edges (src, event, dst) by source state, then event."""

    model: str
    per: str
    events: tuple[str, ...]  # asked for, sorted
    states: tuple[str, ...]
    edges: tuple[tuple[str, str, str], ...]
    model_states: int  # the reachable state graph
    classes: int  # blocks of (model state, instance) with one future (see _classes)
    subsets: int  # the determinized automaton, before minimization
    named_by: str  # the model fact whose values name the states ("" for s0, s1, ...)
    notes: tuple[str, ...] = ()

    @property
    def used(self) -> tuple[str, ...]:
        """The events some edge carries (sorted)."""
        return tuple(sorted({ev for _, ev, _ in self.edges}))


def parse_events(items: Iterable[str]) -> tuple[str, ...]:
    """`--events a,b --events c` -> (a, b, c), first occurrence order, blanks dropped."""
    out = [part.strip() for item in items for part in item.split(",")]
    names = tuple(dict.fromkeys(p for p in out if p))
    if not names:
        raise UsageError([Diagnostic(Code.BAD_OPTION, "--events: name at least one event")])
    return names


def export_path(
    path: str,
    events: Sequence[str],
    *,
    per: str,
    overrides: Mapping[str, str],
    max_states: int | None = None,
    timeout: float | None = None,
    sources: SourceCache | None = None,
) -> Exported:
    """Load one model for one choice of params and export it (InputError on bad input)."""
    sources = sources or SourceCache()
    choices = instantiations(path, overrides, sources)
    if len(choices) > 1:
        shown = "; ".join(", ".join(f"{k}={v}" for k, v in c.items()) for c in choices[:4])
        more = ", ..." if len(choices) > 4 else ""
        raise UsageError(
            [
                Diagnostic(
                    Code.BAD_OPTION,
                    f"one automaton is exported for one choice of params, and these give "
                    f"{len(choices)} ({shown}{more}): pick one with --set NAME=VALUE",
                    Span(path, 0, 0),
                )
            ]
        )
    model = load_model(path, overrides=choices[0], sources=sources)
    return export_model(model, events, per=per, max_states=max_states, timeout=timeout)


def export_model(
    model: Model,
    events: Sequence[str],
    *,
    per: str,
    max_states: int | None = None,
    timeout: float | None = None,
) -> Exported:
    assert per in PER, per
    chosen = _check_events(model, events)
    current = _current_task(model, per)
    deadline = time.monotonic() + timeout if timeout else None
    explorer = Explorer(model)
    try:
        graph = build_graph(explorer, max_states=max_states, timeout=timeout)
    except GraphLimit as exc:
        raise ExportLimit(f"the model's state graph: {exc}") from None
    if graph.failing is not None:
        raise ExportRefused(
            f"some steps fail ({graph.failing}): the graph lacks their runs, so no automaton "
            "would be exact; `preemptcheck verify` shows the trace (property range)"
        )
    poll = _Poll(deadline)
    proj = _Projection(model, explorer, graph, chosen, per, current)
    block, targets = _classes(proj, poll)
    start = 0
    for n in proj.starts():
        start |= 1 << block[n]
    dfa = _determinize(start, targets, len(chosen), max_states, poll)
    trans = _quotient(dfa, minimize(dfa, len(chosen)))
    names, named_by = _names(proj, trans)
    edges = tuple(
        (names[k], chosen[a], names[dst])
        for k, row in enumerate(trans)
        for a, dst in enumerate(row)
        if dst >= 0
    )
    used = {ev for _, ev, _ in edges}
    notes = tuple(
        f"note: no step emits {ev} in a reachable state: the automaton does not have it"
        for ev in chosen
        if ev not in used
    )
    return Exported(
        model.name,
        per,
        chosen,
        tuple(names),
        edges,
        len(graph),
        len(targets),
        len(dfa),
        named_by,
        notes,
    )


def _check_events(model: Model, events: Sequence[str]) -> tuple[str, ...]:
    emitted = {em.event for a in model.actions for s in a.steps for em in s.emits}
    diags = Collector()
    for ev in events:
        if ev not in emitted:
            diags.error(
                Code.BAD_OPTION,
                f"--events: no step of model {model.name} emits '{ev}' "
                f"(it emits {', '.join(sorted(emitted)) or 'no events'})",
                Span(model.file, 0, 0),
                hint=did_you_mean(ev, emitted),
            )
    diags.raise_if_any(UsageError)
    return tuple(sorted(events))


def _current_task(model: Model, per: str) -> Var | None:
    """The variable with role current_task, when it says which task each CPU runs (indexed
    by cpus, or one for every CPU)."""
    current = model.role("current_task")
    why = None
    if current is None:
        why = "has no variable with role current_task (the task each CPU runs)"
    elif current.info.index is not None and not current.info.index.is_cpus:
        why = f"indexes its current_task variable {current.name} by {current.info.index.name}"
        current = None
    if per == "task" and why is not None:
        raise UsageError(
            [
                Diagnostic(
                    Code.BAD_OPTION,
                    f"--per task: model {model.name} {why}, so an event cannot be given to "
                    "a task; export --per cpu or --per global",
                    Span(model.file, 0, 0),
                )
            ]
        )
    return current


def read_entry(st: State, index: int, var: Var, at: Value | None) -> Value:
    """A variable's value (`at`: the index of an array's entry)."""
    value = st.values[index]
    if var.info.index is None or at is None:
        return value  # type: ignore[no-any-return]
    return value[var.info.index.values.index(at)]  # type: ignore[no-any-return]


def instances(model: Model, per: str, current: Var | None) -> tuple[Value, ...]:
    """The monitor's instances: CPU numbers, tasks (the current_task variable's values) or
    the one global instance."""
    if per == "cpu":
        return tuple(range(model.cpus))
    if per == "global":
        return (0,)
    assert current is not None
    info = current.info
    if isinstance(info.type, EnumT):
        return info.type.values
    if info.kind == "bool":
        return (False, True)
    return tuple(range(info.lo, info.hi + 1))


class _Projection:
    """The epsilon-NFA: node v * n_inst + i is model state v seen by instance i; a step that
    emits k > 1 chosen events passes k - 1 nodes of its own (numbered from `base`), as the
    instance sees its events in order with nothing between them. `eps[n]`: the nodes a
    silent step leads to; `lab[n]`: (event, node) for each step that shows an event."""

    def __init__(
        self,
        model: Model,
        explorer: Explorer,
        graph: StateGraph,
        chosen: tuple[str, ...],
        per: str,
        current: Var | None,
    ) -> None:
        self.model, self.explorer, self.graph, self.chosen = model, explorer, graph, chosen
        self.per, self.current = per, current
        self.values = values = instances(model, per, current)
        self.n_inst = ni = len(values)
        self.base = len(graph) * ni
        words, owner = self._words(per, current)
        self.eps: list[list[int]] = [[] for _ in range(self.base)]
        self.lab: list[list[tuple[int, int]]] = [[] for _ in range(self.base)]
        for v in range(len(graph)):
            for e in graph.edges(v):
                word, d = words[e], graph.dst[e] * ni
                for i in range(ni):
                    if word is None or owner[e] != i:
                        self.eps[v * ni + i].append(d + i)
                if word is None:
                    continue
                n = v * ni + owner[e]  # the instance's chain of events through this step
                for k, a in enumerate(word):
                    m = d + owner[e] if k == len(word) - 1 else len(self.lab)
                    self.lab[n].append((a, m))
                    if m == len(self.lab):
                        self.eps.append([])
                        self.lab.append([])
                    n = m

    def _words(
        self, per: str, current: Var | None
    ) -> tuple[list[tuple[int, ...] | None], list[int]]:
        """Per edge of the graph: the chosen events its step emits (None: silent), and the
        instance they belong to."""
        model, explorer, graph, chosen = self.model, self.explorer, self.graph, self.chosen
        slot = {v: i for i, v in enumerate(self.values)}
        code = {ev: a for a, ev in enumerate(chosen)}
        ref = Reference(model)
        emits: dict[int, tuple[tuple[int, Expr | None], ...]] = {}
        for spec in explorer.ts.steps:
            label = spec.label
            step = model.action(label.action).steps[label.step]
            got = tuple((code[em.event], em.cond) for em in step.emits if em.event in code)
            if got:
                emits[spec.sid] = got
        cur_index = model.vars.index(current) if current is not None else -1
        words: list[tuple[int, ...] | None] = [None] * len(graph.dst)
        owner = [0] * len(graph.dst)
        for v in range(len(graph)):
            st: State | None = None
            for e in graph.edges(v):
                todo = emits.get(graph.sid[e])
                if todo is None:
                    continue
                if st is None:
                    st = explorer.layout.unpack(graph.states[v])
                label = explorer.ts.steps[graph.sid[e]].label
                env: dict[str, Value] = {"self": label.cpu, **dict(label.bindings)}
                word: list[int] = []
                for a, cond in todo:
                    try:
                        if cond is None or ref.eval(cond, st, env):
                            word.append(a)
                    except EvalError as exc:
                        raise ExportRefused(
                            f"the `if:` of {chosen[a]} emitted by {label} cannot be "
                            f"evaluated in a reachable state: {exc}"
                        ) from None
                if not word:
                    continue
                words[e] = tuple(word)
                if per == "cpu":
                    owner[e] = label.cpu
                elif per == "task":
                    assert current is not None
                    owner[e] = slot[read_entry(st, cur_index, current, label.cpu)]
        return words, owner

    def starts(self) -> range:
        """Every instance starts in the model's initial state (graph state 0)."""
        return range(self.n_inst)


class _Poll:
    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline

    def __call__(self, what: str) -> None:
        if interrupt.requested():
            raise ExportLimit(interrupt.reason())
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ExportLimit(f"timeout reached while {what}")


def _classes(proj: _Projection, poll: _Poll) -> tuple[list[int], list[dict[int, int]]]:
    """Nodes with one future: the coarsest partition in which the nodes of a block have the
    same (event, block) pairs after silent steps (n ->eps* ->a m). Such nodes accept the
    same event sequences, and the blocks, with those pairs as edges, form an automaton
    without silent moves for the same language: usually far smaller than the model, as
    it forgets what the chosen events do not depend on, so its determinization stays small.
    Returns the block of each node and, per block, event -> bitset of the blocks it leads to.
    """
    n_all, base, k = len(proj.lab), proj.base, len(proj.chosen)
    eps = proj.eps
    # silent-step components, successors first; a component's pairs are its own and its
    # successors' (the nodes of an event chain have no silent steps: alone, first)
    comps = [[n] for n in range(base, n_all)] + sccs(range(base), lambda n: eps[n])
    comp_of = [0] * n_all
    for c, members in enumerate(comps):
        for n in members:
            comp_of[n] = c
    succ = [sorted({comp_of[m] for n in ms for m in eps[n]} - {c}) for c, ms in enumerate(comps)]
    moves = [[mv for n in ms for mv in proj.lab[n]] for ms in comps]
    block = [0] * n_all
    count = 1
    while True:
        poll("partitioning the model's states")
        sig = [0] * len(comps)
        for c in range(len(comps)):
            s = 0
            for a, m in moves[c]:
                s |= 1 << (block[m] * k + a)
            for d in succ[c]:
                s |= sig[d]
            sig[c] = s
        index: dict[tuple[int, int], int] = {}
        refined = [index.setdefault((block[n], sig[comp_of[n]]), len(index)) for n in range(n_all)]
        if len(index) == count:
            break
        block, count = refined, len(index)
    targets: list[dict[int, int]] = [{} for _ in range(count)]
    done = [False] * count
    for n in range(n_all):
        b = block[n]
        if done[b]:
            continue
        done[b] = True
        for bit in _bits(sig[comp_of[n]]):
            tb, a = divmod(bit, k)
            targets[b][a] = targets[b].get(a, 0) | 1 << tb
    return block, targets


def _bits(x: int) -> Iterator[int]:
    """The positions of the set bits of x, lowest first."""
    while x:
        low = x & -x
        yield low.bit_length() - 1
        x ^= low


def _determinize(
    start: int, targets: list[dict[int, int]], k: int, max_states: int | None, poll: _Poll
) -> list[list[int]]:
    """Subset construction over the blocks (bitsets; no silent moves are left): [state]
    [event] -> state, -1 where the event is not allowed; state 0 is the initial one."""
    index = {start: 0}
    subsets = [start]
    trans: list[list[int]] = []
    while len(trans) < len(subsets):
        q = len(trans)
        if q % POLL == 0:
            poll("determinizing")
        step: dict[int, int] = {}
        for b in _bits(subsets[q]):
            for a, t in targets[b].items():
                step[a] = step.get(a, 0) | t
        row = [-1] * k
        for a in sorted(step):
            d = index.setdefault(step[a], len(subsets))
            if d == len(subsets):
                if max_states is not None and d >= max_states:
                    raise ExportLimit(
                        f"state limit reached ({max_states:,} states of the determinized automaton)"
                    )
                subsets.append(step[a])
            row[a] = d
        trans.append(row)
    return trans


def minimize(trans: Sequence[Sequence[int]], k: int) -> list[int]:
    """Hopcroft's partition refinement for a partial DFA whose states all accept (-1: no
    edge, i.e. to the rejecting sink): the block of each state in the coarsest partition
    of language-equivalent states (block numbers are arbitrary)."""
    n = len(trans)
    dead = n  # the sink, alone in its block from the start
    inv: list[list[list[int]]] = [[[] for _ in range(n + 1)] for _ in range(k)]
    for q in range(n + 1):
        for a in range(k):
            d = trans[q][a] if q < n else -1
            inv[a][dead if d < 0 else d].append(q)
    blocks: list[set[int]] = [set(range(n)), {dead}] if n else [{dead}]
    block_of = [0] * n + [len(blocks) - 1]
    pending = [(len(blocks) - 1, a) for a in range(k)]
    queued = set(pending)
    while pending:
        splitter = pending.pop()
        queued.discard(splitter)
        b, a = splitter
        pre = {p for q in blocks[b] for p in inv[a][q]}
        for y in sorted({block_of[p] for p in pre}):
            inside = blocks[y] & pre
            if len(inside) == len(blocks[y]):
                continue
            rest = blocks[y] - inside
            blocks[y] = inside
            new = len(blocks)
            blocks.append(rest)
            for p in rest:
                block_of[p] = new
            for c in range(k):
                if (y, c) in queued:
                    add = (new, c)
                else:
                    add = (y, c) if len(inside) <= len(rest) else (new, c)
                queued.add(add)
                pending.append(add)
    return block_of[:n]


def _quotient(trans: list[list[int]], block: list[int]) -> list[list[int]]:
    """The minimal automaton, its states in breadth-first order from the initial one over
    the events in order: [state][event] -> state (-1: not allowed)."""
    rep: dict[int, int] = {}
    for q, b in enumerate(block):
        rep.setdefault(b, q)
    order = [block[0]]
    where = {block[0]: 0}
    queue = deque([block[0]])
    while queue:
        b = queue.popleft()
        for d in trans[rep[b]]:
            if d >= 0 and block[d] not in where:
                where[block[d]] = len(order)
                order.append(block[d])
                queue.append(block[d])
    return [[where[block[d]] if d >= 0 else -1 for d in trans[rep[b]]] for b in order]


def _members(proj: _Projection, trans: list[list[int]]) -> list[set[int]] | None:
    """The model nodes (state, instance) met while the monitor is in each state: the
    product of the projection with the automaton (None past NAME_WORK pairs). Every event
    a run shows must have its edge: checked here (a bug otherwise)."""
    seen = {(n, 0) for n in proj.starts()}
    stack = list(seen)
    while stack:
        if len(seen) > NAME_WORK:
            return None
        n, q = stack.pop()
        nxt = [(m, q) for m in proj.eps[n]]
        for a, m in proj.lab[n]:
            assert trans[q][a] >= 0, "the exported automaton refuses a run of the model"
            nxt.append((m, trans[q][a]))
        for pair in nxt:
            if pair not in seen:
                seen.add(pair)
                stack.append(pair)
    out: list[set[int]] = [set() for _ in trans]
    for n, q in seen:
        if n < proj.base:
            out[q].add(n)
    return out


# --- state names from model facts -----------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NAME_WORK = 200_000  # (model state, instance) pairs looked at to name states, at most
NAME_MAX = 40


def _names(proj: _Projection, trans: list[list[int]]) -> tuple[list[str], str]:
    """Each state named by the values one model fact takes while the monitor is in it
    (`pc_0`, `pc_1_2`): the fact whose value sets are disjoint between the states, the
    smallest such; else s0, s1, ... (breadth-first order)."""
    plain = [f"s{k}" for k in range(len(trans))]
    members = _members(proj, trans) if len(trans) > 1 else None
    if members is None or not all(members):
        return plain, ""
    facts = _facts(proj)
    seen: list[list[set[Value]]] = [[set() for _ in members] for _ in facts]
    states: dict[int, State] = {}
    for k, nodes in enumerate(members):
        for node in nodes:
            v, i = divmod(node, proj.n_inst)
            st = states.get(v)
            if st is None:
                st = states[v] = proj.explorer.layout.unpack(proj.graph.states[v])
            for f, (_, get) in enumerate(facts):
                seen[f][k].add(get(st, proj.values[i]))
    best: tuple[int, int] | None = None
    for f, sets in enumerate(seen):
        size = sum(map(len, sets))
        if len(set().union(*sets)) == size and (best is None or size < best[0]):
            best = (size, f)
    if best is None:
        return plain, ""
    name = facts[best[1]][0]
    names = [_show(name, values) for values in seen[best[1]]]
    if len(set(names)) < len(names) or not all(
        _IDENT.fullmatch(n) and len(n) <= NAME_MAX and not n.startswith(INIT_MARKER) for n in names
    ):
        return plain, ""
    return names, name


Getter = Callable[[State, Value], Value]


def _facts(proj: _Projection) -> list[tuple[str, Getter]]:
    """The model facts an instance has: scalars, its CPU's entries, its task's entries (for
    a CPU: the task it runs); a word's fields one by one. In declaration order."""
    model, per, current = proj.model, proj.per, proj.current
    one_cpu = model.cpus == 1
    cur = model.vars.index(current) if current is not None else -1

    def cpu_of(inst: Value) -> Value:
        return inst if per == "cpu" else 0

    def task_of(st: State, inst: Value) -> Value:
        if per == "task":
            return inst
        assert current is not None
        return read_entry(st, cur, current, cpu_of(inst))

    out: list[tuple[str, Getter]] = []
    for k, var in enumerate(model.vars):
        index = var.info.index
        at: Callable[[State, Value], Value | None]
        if index is None:
            at = _none
        elif index.is_cpus and (per == "cpu" or (per == "global" and one_cpu)):
            at = lambda st, inst: cpu_of(inst)  # noqa: E731
        elif index.name == "tasks" and (
            per == "task" or (current is not None and (per == "cpu" or one_cpu))
        ):
            at = task_of
        else:
            continue
        whole = _entry(k, var, at)
        if var.info.kind == "word" and var.info.fields:
            for fname, shift, width in var.info.fields:
                out.append((f"{var.name}_{fname}", _field(whole, shift, width)))
        else:
            out.append((var.name, whole))
    return out


def _none(st: State, inst: Value) -> None:
    return None


def _entry(k: int, var: Var, at: Callable[[State, Value], Value | None]) -> Getter:
    return lambda st, inst: read_entry(st, k, var, at(st, inst))


def _field(whole: Getter, shift: int, width: int) -> Getter:
    return lambda st, inst: (int(whole(st, inst)) >> shift) & ((1 << width) - 1)


def _show(name: str, values: set[Value]) -> str:
    """`irqs_off`, `not_irqs_off`; `pc_0`, `pc_1_2`, `pc_1_to_5`, `pc_m1`; `irq_none`."""
    if len(values) == 1 and isinstance(one := next(iter(values)), bool):
        return name if one else f"not_{name}"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        nums = sorted(int(v) for v in values)
        parts: list[str] = []
        start = 0
        for j in range(1, len(nums) + 1):
            if j == len(nums) or nums[j] != nums[j - 1] + 1:
                run = nums[start:j]
                shown = [str(x).replace("-", "m") for x in run]
                parts += [f"{shown[0]}_to_{shown[-1]}"] if len(run) >= 3 else shown
                start = j
        return f"{name}_{'_'.join(parts)}"
    return f"{name}_{'_'.join(sorted(str(v) for v in values))}"
