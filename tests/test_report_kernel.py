"""Kernel vocabulary in reports: decoded preempt_count words and the kernel's BUG lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_model
from preemptcheck.model import load_model
from preemptcheck.report.kernel import bug_lines, describe_word, preempt_count, show_scalar
from preemptcheck.semantics.system import State, StepLabel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base():  # type: ignore[no-untyped-def]
    return load_model(str(ROOT / "models" / "full.yaml"))


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (0x80000000, "count 0, no resched"),              # PREEMPT_ENABLED (kernel-facts §1.4)
        (0x00000000, "count 0, need resched"),            # raw 0: "preempt now"
        (0x80010001, "hardirq 1, count 1, no resched"),   # DESIGN §2's example
        (0x80000202, "softirq 2, count 2, no resched"),   # SOFTIRQ_DISABLE_OFFSET + 2 (§1.1)
        (0x00110000, "nmi 1, hardirq 1, count 0, need resched"),  # nmi_enter (§1.1)
        (0x7FFFFFFF, "nmi 15, hardirq 15, softirq 255, count 255, need resched"),  # underflow
    ],
)
def test_preempt_count_is_decoded_by_field(base, raw: int, text: str) -> None:  # type: ignore[no-untyped-def]
    pc = base.var("pc")
    assert describe_word(pc, raw) == text
    assert show_scalar(pc, raw) == f"0x{raw:08x} ({text})"


def test_preempt_count_masks_the_need_resched_bit(base) -> None:  # type: ignore[no-untyped-def]
    pc = base.var("pc")
    assert preempt_count(pc, 0x80000001) == 1
    assert preempt_count(pc, 0x00000001) == 1


def _state(model, **changes):  # type: ignore[no-untyped-def]
    values = []
    for v in model.vars:
        value = v.init[0] if v.info.index is None else tuple(v.init)
        values.append(changes.get(v.name, value))
    return State(tuple(values), (None,) * model.cpus)


def test_sleeping_bug_line_is_the_kernels(base) -> None:  # type: ignore[no-untyped-def]
    prop = next(p for p in base.properties if p.id == "no-sleep-in-atomic")
    label = StepLabel("might_sleep", 0, (), 0, 1)
    pre = _state(base, pc=(0x80000001,), irqs_off=(False,))
    lines = bug_lines(base, prop, label, pre)
    assert lines[0].startswith("BUG: sleeping function called from invalid context at ")
    assert lines[0].endswith("_base.yaml:" + str(base.action("might_sleep").span.line))
    assert lines[1] == "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 1, name: A"
    assert lines[2] == "preempt_count: 1, expected: 0"
    pre = _state(base, pc=(0x80000000,), irqs_off=(True,))
    assert bug_lines(base, prop, label, pre)[1].startswith("in_atomic(): 0, irqs_disabled(): 1")


def test_no_bug_line_where_the_kernel_check_is_silent(base) -> None:  # type: ignore[no-untyped-def]
    prop = next(p for p in base.properties if p.id == "no-sleep-in-atomic")
    label = StepLabel("might_sleep", 0, (), 0, 1)
    lines = bug_lines(base, prop, label, _state(base))
    assert lines == ["no kernel splat: __might_resched() sees preempt_count() 0 with interrupts "
                     "enabled, so the kernel's own check misses this"]


def test_scheduling_while_atomic_prints_the_count_schedule_sees(base) -> None:  # type: ignore[no-untyped-def]
    prop = next(p for p in base.properties if p.id == "no-schedule-while-atomic")
    label = StepLabel("__schedule", 0, (("next", "B"),), 0, 1)
    # a spinlock held (count 1): __schedule() sees 2 after schedule()'s own preempt_disable()
    lines = bug_lines(base, prop, label, _state(base, pc=(0x80000001,)))
    assert lines == ["BUG: scheduling while atomic: A/1/0x00000002"]
    assert bug_lines(base, prop, label, _state(base))[0].startswith("no kernel splat")


def test_no_bug_line_without_roles(tmp_path: Path) -> None:
    model = load_model(write_model(tmp_path, """
        model: plain
        vars:
          n: {type: int, range: [0, 1]}
        actions:
          nap:
            do: {n: 1}
            tags: [sleep]
        properties:
          never-nap:
            never: tag:sleep
    """))
    prop = model.properties[0]
    st = State((0,), (None,))
    assert bug_lines(model, prop, StepLabel("nap", 0, (), 0, 1), st) == []
