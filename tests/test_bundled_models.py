"""The bundled kernel models: every verdict as designed, and the engine against the reference."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import ModelResult, Outcome
from preemptcheck.engines.explicit import Explorer
from preemptcheck.model import load_model
from preemptcheck.semantics.reference import Reference

ROOT = Path(__file__).resolve().parents[1]
MODES = ("none", "voluntary", "full", "lazy", "rt")
MODEL_FILES = [ROOT / "models" / f"{m}.yaml" for m in MODES]


def _verdicts(result: ModelResult) -> dict[str, tuple[str, int | None]]:
    assert result.stats.complete
    return {p.id: (p.verdict.value, p.trace.length if p.trace else None)
            for p in result.properties}


@pytest.mark.slow
@pytest.mark.parametrize("path", MODEL_FILES, ids=MODES)
def test_every_verdict_as_expected_and_every_action_fires(path: Path, bundled_results) -> None:  # type: ignore[no-untyped-def]
    result = bundled_results[path.stem]
    assert result.stats.complete
    unexpected = [(p.id, p.verdict.value) for p in result.properties
                  if p.outcome != Outcome.AS_EXPECTED]
    assert unexpected == []
    assert result.warnings == ()   # every action is enabled in some reachable state ...
    off = set(result.disabled)     # ... except those the mode switches off entirely
    assert off == (set() if path.stem == "rt" else {"rtlock_slowpath", "rt_spin_unlock_wake"})
    assert all(n > 0 for a, n in result.coverage if a not in off)


# Verdicts pinned independently of the models' own `expect:` lines, so that editing an
# expectation cannot silently flip what the bundled models claim (kernel-facts §4.3, §8).
SAFETY = ("no-sleep-in-atomic", "no-schedule-while-atomic", "no-preemption-inside-atomic-section",
          "preempt-count-balanced", "preempt-count-never-underflows",
          "preemption-only-where-the-mode-allows", "need-resched-folded-in-step",
          "raw-zero-means-preempt-now",
          "user-space-runs-without-requests", "switched-out-tasks-have-no-requests",
          "range", "deadlock")
SAFETY_BY_MODE = {
    "none": ("kernel-preemption-needs-need-resched",),
    "voluntary": ("kernel-preemption-needs-need-resched",),
    "full": ("preempt-now-is-taken",),
    "lazy": ("preempt-now-is-taken", "lazy-bit-never-folded", "lazy-promoted-by-the-next-tick"),
    "rt": ("preempt-now-is-taken",),
}
# the kernel's RV monitors (properties/monitors.yaml): wwnr is wrong by the kernel's own
# documentation (a wakeup between set_current_state() and schedule()), the rest hold
MONITORS = ("wip", "sco", "snroc", "scpd", "snep", "sncid", "tss", "sts", "nrp", "sssw",
            "opid", "opid-da")
WITNESSES = {
    "none": ("preempts-at-cond-resched", "reschedules-at-return-to-user",
             "need-resched-pending-in-kernel"),
    "voluntary": ("preempts-at-cond-resched", "preempts-at-might-resched",
                  "reschedules-at-return-to-user", "need-resched-pending-in-kernel"),
    "full": ("preempts-at-irq-exit", "preempts-at-preempt-enable", "reschedules-at-return-to-user",
             "local-irq-enable-defers-resched", "preempts-at-end-of-wakeup"),
    "lazy": ("preempts-at-irq-exit", "preempts-at-preempt-enable", "reschedules-at-return-to-user",
             "lazy-request-waits-for-tick", "lazy-promoted-at-tick",
             "lazy-preempted-at-irq-exit-after-tick", "reschedules-at-return-to-user-on-lazy-alone",
             "local-irq-enable-defers-resched", "preempts-at-end-of-wakeup"),
    "rt": ("preempts-at-irq-exit", "preempts-at-preempt-enable", "reschedules-at-return-to-user",
           "rt-preempts-spinlock-holder", "rt-sleeps-on-contended-spinlock",
           "local-irq-enable-defers-resched", "preempts-at-end-of-wakeup"),
}


@pytest.mark.parametrize("mode", MODES)
def test_pinned_verdicts(mode: str, bundled_results) -> None:  # type: ignore[no-untyped-def]
    v = _verdicts(bundled_results[mode])
    safety = SAFETY + SAFETY_BY_MODE[mode]
    for pid in safety:
        assert v[pid] == ("holds", None), pid
    for pid in WITNESSES[mode]:
        assert v[pid][0] == "holds", pid
        assert v[pid][1] is not None, pid
    # the folklore reading breaks in every mode, at IRQ exit before irqentry_exit() acts
    assert v["need-resched-implies-atomic"][0] == "violated"
    for pid in MONITORS:
        assert v[pid] == ("holds", None), pid
    assert v["wwnr"][0] == "violated"
    # one nested preemption runs __schedule() without the flag where kernel code is
    # preempted (the nrp monitor's nested_preempt)
    nested = set() if mode in ("none", "voluntary") else {"kernel-preemption-needs-need-resched"}
    for pid in nested:
        assert v[pid][0] == "violated", pid
    expected_props = (set(safety) | set(WITNESSES[mode]) | set(MONITORS) | nested
                      | {"need-resched-implies-atomic", "wwnr"})
    assert set(v) == expected_props


def test_literal_invariant_breaks_at_irq_exit(bundled_results) -> None:  # type: ignore[no-untyped-def]
    result = bundled_results["full"]
    prop = next(p for p in result.properties if p.id == "need-resched-implies-atomic")
    assert prop.trace is not None
    assert [s.action for s in prop.trace.steps] == ["irq_enter", "sched_tick", "irq_exit"]
    last = prop.trace.states[-1]
    model = result.model
    pc = last.values[[v.name for v in model.vars].index("pc")][0]
    assert pc == 0   # count 0 and NEED_RESCHED folded: "preempt now"


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_base_model_in_each_mode_equals_the_mode_file(mode: str, bundled_results) -> None:  # type: ignore[no-untyped-def]
    a = check_file(str(ROOT / "models" / "_base.yaml"), Options(overrides={"mode": mode}))
    b = bundled_results[mode]
    assert (a.stats.states, a.stats.transitions) == (b.stats.states, b.stats.transitions)
    assert {p.id: p.verdict for p in a.properties if p.id in {q.id for q in b.properties}} == \
        {p.id: p.verdict for p in b.properties if p.id in {q.id for q in a.properties}}


@pytest.mark.slow
@pytest.mark.parametrize("path", [*MODEL_FILES, ROOT / "models" / "_base.yaml"],
                         ids=[*MODES, "base"])
def test_engine_agrees_with_reference_interpreter(path: Path) -> None:
    model = load_model(str(path))
    run = Explorer(model).run()
    ref = Reference(model).explore()
    assert ref.complete
    assert run.complete
    assert (run.states, run.transitions) == (ref.states, ref.transitions)
    assert dict(run.coverage) == {a.name: ref.coverage.get(a.name, 0) for a in model.actions}
    engine_depths = {model.properties[f.prop_index].id: f.trace.length for f in run.findings}
    assert engine_depths == ref.depth


def _planted(tmp_path: Path) -> Path:
    """A copy of the bundled full model whose spin_lock forgets PREEMPT_LOCK_OFFSET."""
    (tmp_path / "models").mkdir()
    (tmp_path / "properties").mkdir()
    shutil.copy(ROOT / "properties" / "core.yaml", tmp_path / "properties" / "core.yaml")
    shutil.copy(ROOT / "properties" / "monitors.yaml", tmp_path / "properties" / "monitors.yaml")
    shutil.copytree(ROOT / "monitors", tmp_path / "monitors")
    shutil.copy(ROOT / "models" / "full.yaml", tmp_path / "models" / "full.yaml")
    base = (ROOT / "models" / "_base.yaml").read_text()
    buggy = base.replace("      holds[curr]: true\n      pc: pc + lock_offset\n",
                         "      holds[curr]: true\n      pc: pc\n")
    assert buggy != base
    (tmp_path / "models" / "_base.yaml").write_text(buggy)
    return tmp_path / "models" / "full.yaml"


@pytest.mark.slow
def test_planted_bug_is_found_with_shortest_trace_and_bug_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    path = _planted(tmp_path)
    result = CliRunner().invoke(app, ["verify", str(path), "--max-states", "40000"])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "FAIL  no-sleep-in-atomic" in out
    assert "BUG: sleeping function called from invalid context" in out
    assert "in_atomic(): 1, irqs_disabled(): 0" in out
    # the preemption with the lock held is invisible to the kernel's own check
    assert "no kernel splat: schedule_debug() sees preempt_count() at the expected offset" in out
    # shortest, by the independent reference: the same lengths (a breadth-first search's
    # first finding is a shortest one wherever it stops; the four are found within 2,000
    # states, and the tree-walking reference takes 3 ms a state)
    model = load_model(str(path))
    ref = Reference(model).explore(max_states=5000)
    run = Explorer(model).run(max_states=5000)
    lengths = {model.properties[f.prop_index].id: f.trace.length for f in run.findings}
    for pid in ("no-sleep-in-atomic", "no-preemption-inside-atomic-section",
                "preempt-count-balanced", "preempt-count-never-underflows"):
        assert lengths[pid] == ref.depth[pid], pid
    assert lengths["no-sleep-in-atomic"] == 4   # syscall_enter, spin_lock, spin_unlock, might_sleep
