"""The latency flags column, on both sides: what a trace line shows, and what a model state
would show (docs/ftrace.md, "The flags column").

A view is a tuple of components, None where nothing is claimed:
    irqs_off, bh_off, need_resched (TIF_NEED_RESCHED), folded (PREEMPT_NEED_RESCHED in the
    count word, x86), lazy (TIF_NEED_RESCHED_LAZY), context (. s h H z Z), depth (0-15).
The model side reads the variables with roles (irqs_disabled, preempt_count, need_resched,
need_resched_lazy, current_task) and the preempt_count word with the kernel's masks
(kernel-facts §1.1): byte 0 the preempt count, bit 8 serving a softirq, bits 9-15 bottom
halves disabled, bits 16-19 hardirq, 20-23 NMI, and the field `need_resched` (inverted: 0 is
folded, §1.4).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from preemptcheck.ftrace.parse import Flags
from preemptcheck.model.ir import NEED_RESCHED_FIELD, Model, Var
from preemptcheck.semantics.system import State


class View(NamedTuple):
    irqs_off: bool | None
    bh_off: bool | None
    need_resched: bool | None
    folded: bool | None
    lazy: bool | None
    context: str | None
    depth: int | None


NAMES = {
    "irqs_off": "interrupts off",
    "bh_off": "bottom halves off",
    "need_resched": "TIF_NEED_RESCHED",
    "folded": "PREEMPT_NEED_RESCHED folded",
    "lazy": "TIF_NEED_RESCHED_LAZY",
    "context": "hardirq/softirq context",
    "depth": "preempt depth",
}

# need-resched letter -> (TIF_NEED_RESCHED, PREEMPT_NEED_RESCHED, TIF_NEED_RESCHED_LAZY)
_LETTERS = {
    ".": (False, False, False),
    "n": (True, False, False),
    "N": (True, True, False),
    "p": (False, True, False),
    "l": (False, False, True),
    "L": (False, True, True),
    "b": (True, False, True),
    "B": (True, True, True),
}
LAZY_LETTERS = frozenset("lLbB")


def resched_letter(nr: bool, folded: bool, lazy: bool) -> str:
    return next(k for k, v in _LETTERS.items() if v == (nr, folded, lazy))


def context_letter(nmi: bool, hardirq: bool, softirq: bool) -> str:
    if nmi:
        return "Z" if hardirq else "z"
    if hardirq:
        return "H" if softirq else "h"
    return "s" if softirq else "."


def observed(flags: Flags, lazy_shown: bool) -> View:
    """What a line's flags say. `lazy_shown`: the trace shows TIF_NEED_RESCHED_LAZY at all
    (a lazy letter or the 7-column layout somewhere); older kernels do not record it."""
    nr, folded, lazy = _LETTERS[flags.need_resched]
    if flags.lazy is not None:  # PREEMPT_RT's 7 columns: lazy in its own column, `n` only
        return View(flags.irqs_off, flags.bh_off, nr, None, flags.lazy, flags.context, flags.depth)
    return View(
        flags.irqs_off,
        flags.bh_off,
        nr,
        folded,
        lazy if lazy_shown else None,
        flags.context,
        flags.depth,
    )


class ModelFlags:
    """The view of a model state, per CPU."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.index = {v.name: i for i, v in enumerate(model.vars)}
        self.irqs = model.role("irqs_disabled")
        self.pc = model.role("preempt_count")
        self.nr = model.role("need_resched")
        self.lazy = model.role("need_resched_lazy")
        self.curr = model.role("current_task")
        self.fold_field = self.pc.info.field(NEED_RESCHED_FIELD) if self.pc is not None else None

    def _entry(self, var: Var | None, st: State, cpu: int) -> Any:
        if var is None:
            return None
        value = st.values[self.index[var.name]]
        dom = var.info.index
        if dom is None:
            return value
        if dom.is_cpus:
            return value[cpu]
        if self.curr is not None and dom.values == self.model.tasks:  # per task: current's
            task = self._entry(self.curr, st, cpu)
            return value[dom.values.index(task)]
        return None

    def current(self, st: State, cpu: int) -> Any:
        """The task current on `cpu` (None without a current_task role)."""
        return self._entry(self.curr, st, cpu)

    def view(self, st: State, cpu: int) -> View:
        irqs = self._entry(self.irqs, st, cpu)
        raw = self._entry(self.pc, st, cpu)
        nr = self._entry(self.nr, st, cpu)
        lazy = self._entry(self.lazy, st, cpu)
        if raw is None:
            bh = folded = context = depth = None
        else:
            bh = bool((raw >> 9) & 0x7F)
            context = context_letter(
                bool((raw >> 20) & 0xF), bool((raw >> 16) & 0xF), bool(raw & 0x100)
            )
            depth = min(raw & 0xFF, 15)
            folded = None
            if self.fold_field is not None:
                shift, width = self.fold_field
                folded = ((raw >> shift) & ((1 << width) - 1)) == 0
        return View(
            None if irqs is None else bool(irqs),
            bh,
            None if nr is None else bool(nr),
            folded,
            False
            if self.lazy is None and nr is not None
            else (None if lazy is None else bool(lazy)),
            context,
            depth,
        )


def _lazy(declared: bool, nr: Any, lazy: Any) -> bool | None:
    """A model without TIF_NEED_RESCHED_LAZY never sets it (if it has TIF_NEED_RESCHED)."""
    if not declared:
        return False if nr is not None else None
    return bool(lazy)


def mismatches(shown: View, model: View) -> list[str]:
    """The components on which a line and a model view disagree, in words."""
    out = []
    for name, a, b in zip(View._fields, shown, model, strict=True):
        if a is None or b is None or a == b:
            continue
        out.append(f"{NAMES[name]}: the line shows {_show(a)}, the model has {_show(b)}")
    return out


def _show(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


# When a tracepoint fires within the kernel code a model step stands for (kernel-facts §9.3;
# docs/ftrace.md): preempt_enable and irq_enable fire before the count drops or interrupts
# come back on, so their lines show the state before; the others show it after.
BEFORE = frozenset({"preempt_enable", "irq_enable"})


def step_views(pre: View, post: View, events: tuple[str, ...]) -> tuple[View, ...]:
    """What each line of a step's traced events shows: the model has the states before and
    after the step only, so a component is claimed where the step pins it down.

    One event: the state after the step, or before it for the BEFORE events. Several (a
    wakeup's irq_disable, preempt_disable, sched_waking, ... in one atomic step): interrupts
    are followed through the irq_disable and irq_enable events; the preempt depth and the
    context are claimed outside the step's preempt_disable ... preempt_enable bracket when
    the step leaves them as they were; the other components when the step leaves them so.
    """
    if len(events) == 1:
        return (pre if events[0] in BEFORE else post,)
    same = View._make(a if a == b else None for a, b in zip(pre, post, strict=True))
    irqs: list[bool | None] = []
    on = pre.irqs_off
    for ev in events:
        if ev == "irq_disable":
            on = True
            irqs.append(True)
        elif ev == "irq_enable":
            irqs.append(True)
            on = False
        else:
            irqs.append(on)
    if on != post.irqs_off:  # the step changes interrupts without its events: no claim
        irqs = [None] * len(events)
    views = []
    inside = False
    for ev, irq in zip(events, irqs, strict=True):
        if ev == "preempt_disable":
            inside = True
        bracket = inside
        if ev == "preempt_enable":
            inside = False
        views.append(
            same._replace(
                irqs_off=irq,
                context=None if bracket else same.context,
                depth=None if bracket else same.depth,
                bh_off=None if bracket else same.bh_off,
            )
        )
    return tuple(views)
