"""Mutation tests of the bundled base model: each plausible bug in the preemption machinery
is caught by the property meant to catch it, in the mode where it shows. A property that no
mutant can break would prove nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import without_monitors
from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import Outcome

ROOT = Path(__file__).resolve().parents[1]

# name: (text in models/_base.yaml, its mutation, mode, the property that must fail)
MUTANTS = {
    "spin_lock forgets PREEMPT_LOCK_OFFSET": (
        "      holds[curr]: true\n      pc: pc + lock_offset",
        "      holds[curr]: true\n      pc: pc", "full", "no-preemption-inside-atomic-section"),
    "spin_unlock never preempts": (
        "schedule_from: preempt_schedule if mode != rt and preemption and pc == 1 and not irqs_off"
        " else none", "schedule_from: none", "full", "preempt-now-is-taken"),
    "a wakeup from task code is not a preemption point": (
        "preempt_schedule if in_task and preemption and not irqs_off",
        "preempt_schedule if False and in_task and preemption and not irqs_off",
        "lazy", "preempt-now-is-taken"),
    "IRQ exit preempts without checking the count": (
        "ctx[curr] == kernel and preemption and preempt_count == 0 and tif_nr[curr]",
        "ctx[curr] == kernel and preemption and tif_nr[curr]", "full",
        "no-preemption-inside-atomic-section"),
    "cond_resched reschedules in every mode": (
        "cond_resched if mode in [none, voluntary] and pc == 0",
        "cond_resched if pc == 0", "full", "preemption-only-where-the-mode-allows"),
    "the tick does not promote LAZY": (
        "tif_nr[curr]: tif_nr[curr] or (lazy_tif and tif_lazy[curr]) or (expired == 1 and not "
        "lazy_tif)", "tif_nr[curr]: tif_nr[curr] or (expired == 1 and not lazy_tif)",
        "lazy", "lazy-promoted-by-the-next-tick"),
    "a lazy request is folded": (
        "pc.need_resched: 0 if (how == rt or (how == fair and not lazy_tif)) and not tif_nr[curr]",
        "pc.need_resched: 0 if (how != nothing) and not tif_nr[curr]", "lazy",
        "lazy-bit-never-folded"),
    "return to user ignores LAZY": (
        "      ctx[curr]: kernel if tif_nr[curr] or tif_lazy[curr] else user\n"
        "      schedule_from: exit_to_user_mode if tif_nr[curr] or tif_lazy[curr] else none",
        "      ctx[curr]: kernel if tif_nr[curr] else user\n"
        "      schedule_from: exit_to_user_mode if tif_nr[curr] else none", "lazy",
        "user-space-runs-without-requests"),
    "__schedule leaves LAZY set": (
        "      tif_lazy[curr]: false\n      pc.need_resched: 1", "      pc.need_resched: 1",
        "lazy", "switched-out-tasks-have-no-requests"),
    "a local resched_curr does not fold": (
        "pc.need_resched: 0 if (how == rt or (how == fair and not lazy_tif)) and not tif_nr[curr]"
        " else pc.need_resched", "pc.need_resched: pc.need_resched", "full",
        "need-resched-folded-in-step"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_caught(name: str, tmp_path: Path) -> None:
    old, new, mode, prop = MUTANTS[name]
    base = (ROOT / "models" / "_base.yaml").read_text()
    assert old in base, "the mutation no longer applies: update it with the model"
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(ROOT / "properties", tmp_path / "properties")
    without_monitors(tmp_path / "models")
    (tmp_path / "models" / "_base.yaml").write_text(base.replace(old, new))
    result = check_file(str(tmp_path / "models" / f"{mode}.yaml"),
                        Options(max_states=200_000))
    failed = {p.id for p in result.properties if p.outcome == Outcome.UNEXPECTED}
    assert prop in failed, f"{name}: {prop} did not fail (failed: {sorted(failed)})"
