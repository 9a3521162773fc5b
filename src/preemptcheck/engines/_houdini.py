"""Auxiliary invariants for k-induction: guessed from sample states, kept only when proved.

A safety property is rarely inductive on its own: the induction step starts from any state
that satisfies it, reachable or not, and most such states break it one step later. The usual
remedy is to strengthen the property with facts about the reachable states. Here they are
guessed, Daikon-style, from states a bounded simulation reaches (each column's observed values,
and for each pair of columns the values one takes when the other has a given value), and then
filtered by Houdini: the largest subset that holds initially and is preserved by every step,
found by dropping whatever an induction step's model breaks until no candidate breaks. What
survives is proved (1-inductive together with the properties it proves); the samples only
decide what is worth trying, so an unlucky sample costs proofs, never soundness.
Only this module, engines/_z3expr.py, engines/symbolic.py and engines/param/ import z3.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import z3

from preemptcheck.core import interrupt
from preemptcheck.engines._z3expr import Ctx, Z
from preemptcheck.engines.explicit.codegen import compile_expand
from preemptcheck.engines.layout import Layout, Slot, decode
from preemptcheck.expr.ast import EnumT, VarInfo
from preemptcheck.semantics.system import initial_state

MAX_VALUES = 8  # a column with more observed values is described by its interval
MAX_CANDIDATES = 6000


@dataclass(frozen=True, slots=True)
class Column:
    """A quantity of the state: the z3 term over the current state, and its value in a packed
    sample state (an entry's bits, a word's field, or `x[e]` for an index variable `e`).
    `name` writes it in model syntax and `show` a value of it (None: a CPU's position in a
    `steps` sequence, which the language cannot name)."""

    term: Z
    width: int
    sample: Callable[[int], int]
    cpu: int | None = None  # the CPU whose entry it is, if any
    name: str | None = None
    show: Callable[[int], str] | None = None
    kind: tuple[object, ...] = ()  # columns of one kind encode values the same way


# ---------------------------------------------------------------- mining


# Action instances the sampling may try in all: a model of thousands of instances is
# sampled from fewer states (the bundled models, of at most 80 instances, are not affected)
SAMPLE_BUDGET = 400_000


def sample_states(layout: Layout, cap: int = 2000, walks: int = 40, length: int = 60) -> list[int]:
    """Packed states of a bounded breadth-first search and of seeded random walks, trying
    at most about SAMPLE_BUDGET action instances in all.

    The successors come from the explicit engine's generated successor function (the Python
    one: no compile), some fifty times faster than the reference interpreter. Nothing here
    needs to be independent of it: the samples only propose candidates, and z3 proves or
    drops each one on the symbolic engine's own encoding."""
    ts = layout.ts
    instances = max(1, len(ts.instances))
    cap = max(10, min(cap, SAMPLE_BUDGET // 2 // instances))
    walks = max(1, min(walks, SAMPLE_BUDGET // 2 // instances // length))
    expand, _ = compile_expand(ts, layout)
    fired = [0] * len(ts.model.actions)

    def successors(s: int) -> list[int]:
        return expand(s, 0, fired)[0][0::2]  # (state, step) pairs; no property checked

    init = layout.pack(initial_state(ts.model))
    seen = {init: None}
    queue = deque([init])
    while queue and len(seen) < cap and not interrupt.requested():
        for ns in successors(queue.popleft()):
            if ns not in seen:
                seen[ns] = None
                queue.append(ns)
    rng = random.Random(0)
    for _ in range(walks):
        if interrupt.requested():
            break
        st = init
        for _ in range(length):
            succ = successors(st)
            if not succ:
                break
            st = rng.choice(succ)
            seen.setdefault(st, None)
    return list(seen)


def columns(layout: Layout, slots: Sequence[Z], seq: Sequence[Z]) -> list[Column]:
    """What candidate invariants speak of: every entry, every word field, every sequence
    position, and `x[e]` for an indexed `x` and a scalar `e` of its index type (the
    running task's entry, as in `holds[curr]`)."""
    cols = []

    def cpu_of(sl: Slot) -> int | None:
        return sl.entry if sl.var.index is not None and sl.var.index.is_cpus else None

    for sl, v in zip(layout.slots, slots, strict=True):
        name = _entry_name(sl)
        cols.append(
            Column(
                v, v.size(), _bits(sl.offset, sl.width), cpu_of(sl), name, _shower(sl.var),
                (sl.var.kind, sl.var.type, sl.var.lo),
            )
        )  # fmt: skip
        for fname, shift, width in sl.var.fields:
            if width < v.size():
                term = z3.Extract(shift + width - 1, shift, v)
                bits = _bits(sl.offset + shift, width)
                cols.append(
                    Column(term, width, bits, cpu_of(sl), f"{name}.{fname}", str, ("field",))
                )
    for cpu, ((off, w), q) in enumerate(zip(layout.seq_slots, seq, strict=True)):
        if w:
            cols.append(Column(q, w, _bits(off, w), cpu))
    for var in layout.ts.model.vars:
        dom = var.info.index
        if dom is None:
            continue
        first = layout.first_slot[var.name]
        entries = layout.slots[first : first + len(var.entries)]
        for j, esl in enumerate(layout.slots):
            if not isinstance(esl.var.type, EnumT) or esl.var.type != dom.type:
                continue
            codes = [dom.values.index(val) for val in esl.var.type.values]
            ev = slots[j]
            term = slots[first + codes[-1]]
            for code in reversed(range(len(codes) - 1)):
                term = z3.If(ev == code, slots[first + codes[code]], term)
            sample = _indexed(esl, entries, codes)
            name = f"{var.name}[{_entry_name(esl)}]"
            info = var.info
            kind = (info.kind, info.type, info.lo)
            cols.append(Column(term, term.size(), sample, cpu_of(esl), name, _shower(info), kind))
    return cols


def _entry_name(sl: Slot) -> str:
    """`v`, or `v[i]` with the index value as the language writes it."""
    dom = sl.var.index
    if dom is None:
        return sl.var.name
    return f"{sl.var.name}[{_literal(dom.values[sl.entry])}]"


def _literal(v: object) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _shower(info: VarInfo) -> Callable[[int], str]:
    return lambda raw: _literal(decode(info, raw))


def _bits(offset: int, width: int):  # type: ignore[no-untyped-def]
    mask = (1 << width) - 1
    return lambda s: (s >> offset) & mask


def _indexed(index: Slot, entries: list[Slot], codes: list[int]):  # type: ignore[no-untyped-def]
    def sample(s: int) -> int:
        code = (s >> index.offset) & index.mask
        if code >= len(codes):
            return 0
        sl = entries[codes[code]]
        return (s >> sl.offset) & sl.mask

    return sample


def _member(cx: Ctx, c: Column, values: set[int]) -> tuple[Z, str | None] | None:
    """`c` takes one of `values` (None when that says nothing), and that in model syntax."""
    t, full = c.term, 1 << c.width
    if len(values) >= full:
        return None
    name, show = c.name, c.show
    if len(values) <= MAX_VALUES:
        text = None
        if name is not None and show is not None:
            shown = [show(v) for v in sorted(values)]
            text = f"{name} == {shown[0]}" if len(shown) == 1 else f"{name} in [{', '.join(shown)}]"
        return cx.or_(*(t == v for v in sorted(values))), text
    lo, hi = min(values), max(values)
    parts, words = [], []
    if lo > 0:
        parts.append(z3.UGE(t, lo))
        words.append(f"{name} >= {show(lo)}" if name and show else None)
    if hi < full - 1:
        parts.append(z3.ULE(t, hi))
        words.append(f"{name} <= {show(hi)}" if name and show else None)
    if not parts:
        return None
    text = " and ".join(w for w in words if w) if all(words) else None
    return cx.and_(*parts), text


def candidates(
    cx: Ctx, columns: Sequence[Column], samples: Sequence[int]
) -> list[tuple[Z, str | None]]:
    """Facts true in every sample: value sets, pairwise implications, equalities; each with
    its text in model syntax (None where a column has no name in the language)."""
    vals = [[c.sample(s) for s in samples] for c in columns]
    out: list[tuple[Z, str | None]] = []
    for c, vs in zip(columns, vals, strict=True):
        fact = _member(cx, c, set(vs))
        if fact is not None:
            out.append(fact)
    # pairs within one CPU (or with a global column) first: most facts are local, and with
    # many CPUs the cross-CPU pairs alone would exhaust the budget
    pairs = sorted(
        itertools.permutations(range(len(columns)), 2),
        key=lambda ij: _distant(columns[ij[0]], columns[ij[1]]),
    )
    for i, j in pairs:
        a, b = columns[i], columns[j]
        if i < j and a.width == b.width and vals[i] == vals[j] and len(set(vals[i])) > 1:
            same = a.name and b.name and a.kind == b.kind and a.kind
            out.append((a.term == b.term, f"{a.name} == {b.name}" if same else None))
        by: dict[int, set[int]] = {}
        for x, y in zip(vals[i], vals[j], strict=True):
            by.setdefault(x, set()).add(y)
        if len(by) > MAX_VALUES:
            continue
        every = set(vals[j])
        for x in sorted(by):
            if by[x] == every:
                continue
            fact = _member(cx, b, by[x])
            if fact is not None:
                text = None
                if fact[1] is not None and a.name is not None and a.show is not None:
                    text = f"implies({a.name} == {a.show(x)}, {fact[1]})"
                out.append((z3.Implies(a.term == x, fact[0]), text))
        if len(out) >= MAX_CANDIDATES:
            break
    return out[:MAX_CANDIDATES]


def _distant(a: Column, b: Column) -> bool:
    return a.cpu is not None and b.cpu is not None and a.cpu != b.cpu


@dataclass(frozen=True, slots=True)
class Houdini:
    kept: frozenset[int]  # indices of the formulas proved inductive together
    gave_up: str | None  # z3's reason when a query ran out of work


@dataclass(frozen=True, slots=True)
class Move:
    """One step of the transition relation: when it may be taken (enabled and error-free)
    and the new value of each state constant it changes."""

    when: Z
    changes: tuple[tuple[Z, Z], ...]


def houdini(
    cx: Ctx,
    formulas: Sequence[Z],
    init: Sequence[bool],
    moves: Sequence[Move],
    background: Z,
    deadline: float | None = None,
    phase: Callable[[str], None] | None = None,
) -> Houdini:
    """The largest subset of `formulas` (over the current state) that holds initially and that
    every move preserves, assuming the whole subset before it. `init` says which formulas
    the initial state satisfies. Each move is checked on its own, and only against the
    formulas that mention a constant it changes: the others it preserves trivially."""
    active = {k for k, ok in enumerate(init) if ok}
    s = cx.solver()  # incremental core: far faster than QF_BV's tactic here
    s.add(background)
    lits = []
    for k, f in enumerate(formulas):
        lit = cx.lit(f"houdini{k}")
        s.add(z3.Implies(lit, f))
        lits.append(lit)
    mentions = [constants(f) for f in formulas]
    plans: list[tuple[Move, list[int], list[int], dict[int, Z]]] = []
    for mv in moves:
        changed = {c.get_id() for c, _ in mv.changes}
        touched = [k for k in range(len(formulas)) if mentions[k] & changed]
        # what the move reads or writes: only formulas about those are assumed before it
        # (assuming fewer can only drop more, never keep a false one)
        cone = changed | constants(mv.when)
        for _, new in mv.changes:
            cone |= constants(new)
        near = [k for k in range(len(formulas)) if mentions[k] & cone]
        plans.append((mv, touched, near, {}))
    dropped = True
    query = 0
    rounds = 0
    while dropped:
        dropped = False
        rounds += 1
        for mv, touched, near, after in plans:
            if phase is not None:
                phase(
                    f"strengthening: Houdini round {rounds}, {len(active)} of "
                    f"{len(formulas)} candidates left, {query:,} queries"
                )
            while True:
                live = [k for k in touched if k in active]
                if not live:
                    break
                for k in live:
                    if k not in after:
                        after[k] = z3.substitute(formulas[k], *mv.changes)
                if deadline is not None and time.monotonic() > deadline:
                    return Houdini(frozenset(), "strengthening stopped at --timeout")
                query += 1
                some = cx.lit(f"houdini-some{query}")
                s.add(z3.Implies(some, cx.and_(mv.when, cx.or_(*(z3.Not(after[k]) for k in live)))))
                r = cx.check(s, some, *(lits[k] for k in near if k in active))
                if r == z3.unsat:
                    break
                if r == z3.unknown and cx.exhausted:
                    return Houdini(frozenset(), "strengthening reached the work limit")
                if r == z3.unknown:
                    return Houdini(frozenset(), f"strengthening gave up: {s.reason_unknown()}")
                m = s.model()
                broken = {k for k in live if z3.is_false(m.eval(after[k], model_completion=True))}
                assert broken, "a model of 'some candidate breaks' where none breaks"
                active -= broken
                dropped = True
    return Houdini(frozenset(active), None)


def constants(f: Z) -> set[int]:
    """The ids of the uninterpreted constants (state bits, CPUs, N) that `f` mentions."""
    out: set[int] = set()
    seen: set[int] = set()
    todo = [f]
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.add(t.get_id())
        todo.extend(t.children())
    return out
