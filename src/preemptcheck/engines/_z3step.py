"""One specialized step (semantics/system.py's SpecStep) in z3: its guard, when its effect
fails, and the new bits of each entry it writes, over whatever state `read` and `current`
give. Shared by the fixed-instance engine (engines/symbolic.py) and the induction on
representative steps (engines/param/local.py), so both encode a step the same way. It
builds terms through engines/_z3expr.py and imports no z3 itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from preemptcheck.engines._z3expr import Compiler, Term, Z, ite
from preemptcheck.semantics.system import SpecStep


@dataclass(frozen=True, slots=True)
class StepTerms:
    guard: Term  # the guard (and its evaluation error); position in a sequence not included
    effect_err: Z  # the step's `if`, a value, an index or a store cannot be evaluated
    writes: dict[int, Z]  # slot -> its new bits (the old ones where the `if` is false)


def step_terms(
    comp: Compiler, spec: SpecStep, slot: Callable[[str, int], int], current: Callable[[int], Z]
) -> StepTerms:
    """`spec` compiled by `comp`; `slot(var, entry)` numbers an entry, `current(slot)` is its
    bits in the state the step starts from."""
    cx = comp.cx
    g = comp.ex(spec.guard) if spec.guard is not None else comp.truth()
    cond = comp.ex(spec.cond) if spec.cond is not None else comp.truth()
    errs: list[Z] = []
    targets = []
    for a in spec.assigns:
        entries, ierr = comp.entry(a.target.var, a.target.index)
        value = comp.ex(a.value)
        errs += [ierr, value.err]
        targets.append((a.target, entries, value))
    # two assignments of one step to the same entry (or field) are an error
    for j, (ta, ea, _) in enumerate(targets):
        for tb, eb, _ in targets[:j]:
            if ta.var.name == tb.var.name and (
                ta.fld is None or tb.fld is None or ta.fld == tb.fld
            ):
                errs.append(
                    cx.or_(*(cx.and_(ca, cb) for ca, ja in ea for cb, jb in eb if ja == jb))
                )
    writes: dict[int, Z] = {}
    for t, entries, value in targets:
        for i, (here, e) in enumerate(entries):
            s = slot(t.var.name, e)
            cur = writes.get(s, current(s))
            new, serr = comp.store(t, cur, value)
            writes[s] = ite(here, new, cur)
            if i == 0:
                errs.append(serr)  # depends on the value only: the same for every entry
    writes = {s: ite(cond.v, v, current(s)) for s, v in writes.items()}
    effect_err = cx.or_(cond.err, cx.and_(cond.v, cx.or_(*errs)))
    return StepTerms(g, effect_err, writes)
