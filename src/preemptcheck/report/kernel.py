"""Values in the kernel's terms: decoded preempt_count words and the kernel's own BUG lines."""

from __future__ import annotations

from typing import Any

from preemptcheck.expr.ast import Value
from preemptcheck.model.ir import NEED_RESCHED_FIELD, Model, Property, PropKind, Var
from preemptcheck.semantics.system import State, StepLabel


def show_scalar(var: Var, value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if var.info.kind == "word":
        assert isinstance(value, int)
        digits = max(1, (var.info.hi.bit_length() + 3) // 4)
        text = f"0x{value:0{digits}x}"
        fields = describe_word(var, value)
        return f"{text} ({fields})" if fields else text
    return str(value)


def describe_word(var: Var, value: int) -> str:
    info = var.info
    if not info.fields:
        return ""
    parts: list[str] = []
    resched = ""
    for name, shift, width in sorted(info.fields, key=lambda f: -f[1]):
        v = (value >> shift) & ((1 << width) - 1)
        if var.role == "preempt_count" and name == NEED_RESCHED_FIELD and width == 1:
            resched = "no resched" if v else "need resched"
        elif v or (var.role == "preempt_count" and name in ("count", "preempt")):
            parts.append(f"{name} {v}")
    if resched:
        parts.append(resched)
    return ", ".join(parts)


def preempt_count(var: Var, raw: int) -> int:
    """preempt_count(): the word without PREEMPT_NEED_RESCHED (the kernel masks it out)."""
    spec = var.info.field(NEED_RESCHED_FIELD)
    if spec is None:
        return raw
    shift, width = spec
    return raw & ~(((1 << width) - 1) << shift)


def entry(model: Model, var: Var, st: State, cpu: int) -> Any:
    value = st.values[model.vars.index(var)]
    if var.info.index is None:
        return value
    if var.info.index.is_cpus:
        return value[cpu]
    return None


def bug_lines(model: Model, prop: Property, label: StepLabel, pre: State) -> list[str]:
    """The kernel's own splat for a `never` violation, when the action's tags name a check.

    The line is printed only when the kernel's check would fire in the state before the
    step; when it would not, that is said instead: the model caught what the kernel misses.
    """
    if prop.kind != PropKind.NEVER:
        return []
    action = model.action(label.action)
    # tag sleep: __might_resched(); tag schedule (or schedule_debug, for a model whose
    # __schedule() entry and switch are separate steps): schedule_debug()
    tags = ["schedule" if t == "schedule_debug" else t for t in action.tags]
    kinds = [t for t in ("sleep", "schedule") if f"tag:{t}" in prop.selector]
    kinds += [t for t in ("sleep", "schedule") if t in tags and t not in kinds]
    pcv = model.role("preempt_count")
    if not kinds or pcv is None:
        return []
    raw = entry(model, pcv, pre, label.cpu)
    if not isinstance(raw, int):
        return []
    count = preempt_count(pcv, raw)
    irqs = model.role("irqs_disabled")
    irq_off = bool(entry(model, irqs, pre, label.cpu)) if irqs is not None else False
    name, pid = _current(model, pre, label.cpu)
    if kinds[0] == "sleep":
        # __might_resched() (kernel-facts §3.6): silent when the count is the expected 0 and
        # interrupts are enabled
        if count == 0 and not irq_off:
            return [
                "no kernel splat: __might_resched() sees preempt_count() 0 with interrupts "
                "enabled, so the kernel's own check misses this"
            ]
        return [
            f"BUG: sleeping function called from invalid context at {action.span.file}:"
            f"{action.span.line}",
            f"in_atomic(): {int(count != 0)}, irqs_disabled(): {int(irq_off)}, "
            f"non_block: 0, pid: {pid}, name: {name}",
            f"preempt_count: {count:x}, expected: 0",
        ]
    # schedule_debug() (§3.3) runs after schedule()'s own preempt_disable(): in_atomic_preempt_off()
    # fires when preempt_count() is then not PREEMPT_DISABLE_OFFSET (1), and prints it.
    seen = preempt_count(pcv, (raw + 1) & pcv.info.hi)
    if seen == 1:
        return [
            "no kernel splat: schedule_debug() sees preempt_count() at the expected "
            "offset, so the kernel's own check misses this"
        ]
    return [f"BUG: scheduling while atomic: {name}/{pid}/0x{seen:08x}"]


def _current(model: Model, st: State, cpu: int) -> tuple[str, int]:
    curr = model.role("current_task")
    if curr is None:
        return "?", 0
    task = entry(model, curr, st, cpu)
    if isinstance(task, str) and task in model.tasks:
        return task, model.tasks.index(task) + 1
    return str(task), 0
