"""models/races/: the verdicts the race issue asks for, the traces that show them, and the
engine against the reference interpreter on every race model and param choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import Outcome
from preemptcheck.cli.main import app
from preemptcheck.engines.explicit import Explorer
from preemptcheck.model import instantiations, load_model
from preemptcheck.semantics.reference import Reference

ROOT = Path(__file__).resolve().parents[1]
RACES = ROOT / "models" / "races"

# (model, param choice) -> the headline property and its verdict, pinned here independently
# of the models' own `expect:` lines (kernel-facts §7.1, §7.2, §7.4, §7.5, §7.6).
HEADLINES = {
    ("fold-remote-rmw", ()): ("request-not-lost", "violated"),
    ("fold-ipi", (("NCPU", "2"),)): ("request-not-lost", "holds"),
    ("fold-ipi", (("NCPU", "3"),)): ("request-not-lost", "holds"),
    ("fold-loadstore-irq", (("update", "loadstore"),)): ("fold-not-lost", "violated"),
    ("fold-loadstore-irq", (("update", "x86"),)): ("fold-not-lost", "holds"),
    **{("lost-wakeup", (("order", o), ("preempt_blocks", p), ("waker", w))):
       ("no-lost-wakeup", "holds" if (o, p, w) == ("correct", "false", "ordered") else "violated")
       for o in ("wrong", "correct") for p in ("false", "true") for w in ("ordered", "reordered")},
    ("allow-resched", (("PREEMPT_COUNT", "n"),)): ("no-preemption-with-spinlock-held", "violated"),
    ("allow-resched", (("PREEMPT_COUNT", "y"),)): ("no-preemption-with-spinlock-held", "holds"),
    **{("in-atomic-no-count", (("PREEMPT_COUNT", n), ("check", c))):
       ("no-sleep-holding-spinlock", "violated" if (n, c) == ("n", "by_in_atomic") else "holds")
       for n in ("n", "y") for c in ("by_in_atomic", "by_preemptible")},
    # the kernel's wip monitor: its documented false alarm when a count update and its
    # tracepoint are two steps
    ("wip-trace-window", (("split", "true"),)): ("wip", "violated"),
    ("wip-trace-window", (("split", "false"),)): ("wip", "holds"),
}


def _runs() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    out = []
    for path in sorted(RACES.glob("*.yaml")):
        for choice in instantiations(str(path), {}):
            out.append((path.stem, tuple(choice.items())))
    return out


def test_every_race_run_is_pinned() -> None:
    assert sorted(_runs()) == sorted(HEADLINES)


@pytest.mark.parametrize(("name", "choice"), sorted(HEADLINES), ids=str)
def test_headline_verdict(name: str, choice: tuple[tuple[str, str], ...]) -> None:
    result = check_file(str(RACES / f"{name}.yaml"), Options(overrides=dict(choice)))
    pid, verdict = HEADLINES[(name, choice)]
    prop = next(p for p in result.properties if p.id == pid)
    assert prop.verdict.value == verdict
    assert all(p.outcome == Outcome.AS_EXPECTED for p in result.properties)
    assert result.warnings == ()


@pytest.mark.parametrize(("name", "choice"), sorted(HEADLINES), ids=str)
def test_engine_agrees_with_reference(name: str, choice: tuple[tuple[str, str], ...]) -> None:
    model = load_model(str(RACES / f"{name}.yaml"), overrides=dict(choice))
    run = Explorer(model).run()
    ref = Reference(model).explore()
    assert (run.states, run.transitions, run.complete) == (ref.states, ref.transitions, True)
    assert {model.properties[f.prop_index].id: f.trace.length for f in run.findings} == ref.depth


def _steps(name: str, pid: str, **choice: str) -> list[str]:
    result = check_file(str(RACES / f"{name}.yaml"), Options(overrides=choice))
    prop = next(p for p in result.properties if p.id == pid)
    assert prop.trace is not None
    return [f"{s.action}@{s.cpu}" + (f"#{s.step + 1}" if s.nsteps > 1 else "")
            for s in prop.trace.steps]


def test_remote_rmw_trace_is_load_remote_set_stale_store() -> None:
    assert _steps("fold-remote-rmw", "request-not-lost") == [
        "preempt_count_inc@0#1", "resched_remote@1", "preempt_count_inc@0#2"]


def test_loadstore_trace_is_load_ipi_stale_store() -> None:
    assert _steps("fold-loadstore-irq", "fold-not-lost", update="loadstore") == [
        "preempt_count_inc@0#1", "scheduler_ipi@0", "preempt_count_inc@0#2"]


def test_lost_wakeup_trace_is_the_documented_sequence() -> None:
    # §7.6: the sleeper tests CONDITION, the waker sets it and finds the task running,
    # the sleeper sets its state and blocks
    assert _steps("lost-wakeup", "no-lost-wakeup", order="wrong", preempt_blocks="false",
                  waker="ordered") == [
        "wait_event@0#1", "wait_event@0#2", "wake_up@1#1", "wake_up@1#2", "wait_event@0#3",
        "wait_event@0#4", "wait_event@0#5"]


def test_reordered_waker_is_store_buffering() -> None:
    # the waker reads the task's state before its CONDITION store; the sleeper then sets its
    # state, reads CONDITION 0 and blocks; the store lands last
    assert _steps("lost-wakeup", "no-lost-wakeup", order="correct", preempt_blocks="false",
                  waker="reordered") == [
        "wake_up@1#1", "wait_event@0#1", "wait_event@0#2", "wait_event@0#3", "wait_event@0#4",
        "wait_event@0#5", "wake_up@1#2"]


def test_allow_resched_trace_is_lock_inside_allowed_section() -> None:
    assert _steps("allow-resched", "no-preemption-with-spinlock-held", PREEMPT_COUNT="n") == [
        "allow_resched@0", "spin_lock@0", "irq_wakeup@0", "irqentry_exit_allow_resched@0"]


def test_in_atomic_trace_has_no_kernel_splat() -> None:
    result = CliRunner().invoke(app, ["verify", str(RACES / "in-atomic-no-count.yaml"),
                                      "--set", "check=by_in_atomic", "--set", "PREEMPT_COUNT=n"])
    assert result.exit_code == 0
    assert "no kernel splat: __might_resched() sees preempt_count() 0" in result.output


def test_races_folder_exits_0() -> None:
    result = CliRunner().invoke(app, ["verify", str(RACES), "--traces", "none"])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith(
        "7 models in 21 runs, 120 properties: 120 as expected, 0 unexpected, 0 inconclusive")


def test_set_lists_several_cpu_counts() -> None:
    result = CliRunner().invoke(app, ["verify", str(RACES / "fold-remote-rmw.yaml"),
                                      "--set", "NCPU=2,3,4", "--traces", "none"])
    assert result.exit_code == 0, result.output
    for n in (2, 3, 4):
        assert f"fold-remote-rmw (NCPU={n})" in result.output
    assert "1 model in 3 runs" in result.output


def test_trace_shows_the_register_and_the_word_before_and_after() -> None:
    result = CliRunner().invoke(app, ["verify", str(RACES / "fold-remote-rmw.yaml")])
    out = result.output
    assert "preempt_count_inc step 1/2  reg=0x80000000" in out
    assert ("resched_remote              pc[0]: 0x80000000 (count 0, no resched) -> "
            "0x00000000 (count 0, need resched)") in out
    assert ("preempt_count_inc step 2/2  pc[0]: 0x00000000 (count 0, need resched) -> "
            "0x80000001 (count 1, no resched)") in out


def test_fold_ipi_catches_a_remote_write_to_the_count(tmp_path: Path) -> None:
    """The adopted design holds because no remote CPU writes CPU0's preempt_count, not by
    construction: with the remote fold written straight into pc[0] instead of the IPI,
    CPU0's `incl` (a read and a write at the bus) loses it (§7.1)."""
    text = (RACES / "fold-ipi.yaml").read_text()
    old = """      - do:                     # smp_send_reschedule()
          ipi[0]: true
          sending: false"""
    assert old in text
    mutant = text.replace(old, """      - do:
          pc[0].need_resched: 0
          sending: false""")
    path = tmp_path / "fold-ipi.yaml"
    path.write_text(mutant)
    result = check_file(str(path), Options(overrides={"NCPU": "2"}))
    lost = next(p for p in result.properties if p.id == "request-not-lost")
    assert lost.verdict.value == "violated"
    assert lost.trace is not None
    assert [s.action for s in lost.trace.steps][-1] == "preempt_disable"  # the stale store
