"""`preemptcheck trace`: reading ftrace text in its real layouts, checking recordings against
models, and counterexamples written as recordings that read back."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import BUNDLED_MODES
from preemptcheck.checking.check import Options, check_paths
from preemptcheck.checking.results import ModelResult
from preemptcheck.cli.main import app
from preemptcheck.ftrace.flags import View, observed, step_views
from preemptcheck.ftrace.parse import LOST, Reader, TraceFormatError, parse_flags
from preemptcheck.ftrace.render import ftrace_text
from preemptcheck.ftrace.run import TraceRun, check_trace
from preemptcheck.model import load_model
from preemptcheck.model.ir import Model

ROOT = Path(__file__).resolve().parents[1]
FULL = str(ROOT / "models/full.yaml")

# The current mainline header (5 flag columns, irqs-off/BH-disabled), as the trace file and
# `trace-cmd show` print it.
HEADER5 = """\
# tracer: nop
#
# entries-in-buffer/entries-written: 6/6   #P:2
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
"""


def _read(text: str) -> tuple[list, Reader]:
    reader = Reader(io.BytesIO(text.encode()))
    return list(reader), reader


def _check(tmp_path: Path, text: str, model: str | Model = FULL, **kw: object) -> TraceRun:
    path = tmp_path / "trace.txt"
    path.write_text(text)
    options = {"max_silent": 8, "from_initial": False, "max_states": None, **kw}
    loaded = load_model(model) if isinstance(model, str) else model
    return check_trace(loaded, str(path), **options)  # type: ignore[arg-type]


def _trace(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["trace", *args])
    return result.exit_code, result.stdout, result.stderr


# ---------------------------------------------------------------- the layouts


LAYOUTS = {
    # the trace file / trace-cmd show, 5 columns (v5.16 and later)
    "trace file": "            bash-1977    [001] ...1.   965.046684: preempt_disable: caller=x",
    # record-tgid
    "tgid": "        bash-1977    (   1977) [001] ...1.   965.046684: preempt_disable: caller=x",
    # trace-cmd report: no flags column, pid width 5, the event name padded
    "trace-cmd report": "            bash-1977  [001]   965.046684: preempt_disable:      caller=x",
    # trace-cmd report -l: the CPU glued to the flags
    "trace-cmd report -l": "    bash-1977     1...1.   965.046684: preempt_disable:      caller=x",
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_gives_the_same_event(layout: str) -> None:
    (line,), _ = _read(LAYOUTS[layout] + "\n")
    assert (line.task, line.pid, line.cpu, line.event) == ("bash", 1977, 1, "preempt_disable")
    assert line.timestamp == pytest.approx(965.046684)
    assert line.arg("caller") == "x"
    if layout == "trace-cmd report":
        assert line.flags is None
    else:
        assert line.flags is not None
        assert line.flags.depth == 1


@pytest.mark.parametrize(
    ("flags", "irqs_off", "resched", "context", "depth"),
    [
        ("d..2", True, ".", ".", 2),  # 4 columns (before v5.16)
        ("dNh3.", True, "N", "h", 3),  # 5 columns
        ("D.s1.", True, ".", "s", 1),  # irqs and bottom halves off
        ("b...1", False, ".", ".", 0),  # bottom halves off; migrate-disable 1
        ("X.z..", None, ".", "z", 0),  # cannot read the irq flags (before v6.13)
        ("..Hf.", False, ".", "H", 15),  # a hardirq inside a softirq; depth capped at f
        ("dn.h2..", True, "n", "h", 2),  # PREEMPT_RT's 7 columns
    ],
)
def test_flags_columns(
    flags: str, irqs_off: object, resched: str, context: str, depth: int
) -> None:
    parsed = parse_flags(flags)
    assert parsed is not None
    assert (parsed.irqs_off, parsed.need_resched, parsed.context, parsed.depth) == (
        irqs_off,
        resched,
        context,
        depth,
    )


@pytest.mark.parametrize("letter", list(".nNplLbB"))
def test_every_need_resched_letter(letter: str) -> None:
    parsed = parse_flags(f".{letter}.1.")
    assert parsed is not None
    view = observed(parsed, lazy_shown=True)
    expected = {
        ".": (False, False, False),
        "n": (True, False, False),
        "N": (True, True, False),
        "p": (False, True, False),
        "l": (False, False, True),
        "L": (False, True, True),
        "b": (True, False, True),
        "B": (True, True, True),
    }[letter]
    assert (view.need_resched, view.folded, view.lazy) == expected


def test_a_six_column_rt_layout_needs_its_header() -> None:
    """PREEMPT_RT kernels without migrate-disable: irqs-off, need-resched,
    need-resched-lazy, hardirq/softirq, preempt-depth, preempt-lazy-depth."""
    header = (
        "#                              _------=> irqs-off\n"
        "#                             / _-----=> need-resched\n"
        "#                            | / _----=> need-resched-lazy\n"
        "#                            || / _---=> hardirq/softirq\n"
        "#                            ||| / _--=> preempt-depth\n"
        "#                            |||| / _-=> preempt-lazy-depth\n"
    )
    line = "            bash-1977  [001] dnLh21   965.046684: preempt_disable: caller=x\n"
    (parsed,), _ = _read(header + line)
    assert parsed.flags is not None
    assert (parsed.flags.lazy, parsed.flags.context, parsed.flags.depth) == (True, "h", 2)
    _, reader = _read(line)  # without the header: not a column this reader knows
    assert reader.tally.skipped["unreadable flags"] == 1


def test_the_rt_lazy_column() -> None:
    parsed = parse_flags("dnLh2..")
    assert parsed is not None
    assert parsed.lazy is True
    assert parsed.context == "h"
    assert observed(parsed, lazy_shown=False).lazy is True
    assert parse_flags("dnXh2..") is None  # column 3 is L or .


def test_what_is_not_an_event_is_counted() -> None:
    text = HEADER5 + "\r\n".join(
        [
            "   <...>-12345   [000] d..1.   100.000001: preempt_disable: caller=x",
            " kworker/u8:2-my thing-12    [001] dNh3.   100.000002: sched_wakeup: comm=a pid=1",
            "CPU:3 [LOST 1024 EVENTS]",
            "            bash-1977    [000] ...1.   100.000003: <stack trace>",
            " => __schedule",
            " => schedule",
            "            bash-1977    [000] ....1   100.000004: _raw_spin_unlock <-__close_fd",
            " 0)   0.577 us    |      getname();",
            "CPU:1 [42 EVENTS DROPPED]",
            "",
            "garbage that is no event",
            "            bash-1977    [000] ...1.   100.000005: preempt_enable: caller=x",
        ]
    )
    lines, reader = _read(text)
    events = [line.event for line in lines]
    assert events == ["preempt_disable", "sched_wakeup", LOST, LOST, "preempt_enable"]
    assert lines[0].task == "<...>"
    assert lines[1].task == "kworker/u8:2-my thing"
    assert lines[1].pid == 12
    t = reader.tally
    assert t.events == 3
    assert t.lost == 1024 + 42
    assert t.skipped["stack trace"] == 3
    assert t.skipped["function or other tracer"] == 1
    assert t.skipped["not an event line"] == 2  # function_graph and garbage
    assert t.skipped["header or comment"] == HEADER5.count("\n")


def test_binary_files_and_backward_timestamps_are_located_errors() -> None:
    with pytest.raises(TraceFormatError) as err:
        _read("            bash-1977    [000] ...1.   1.0: preempt_disable: x\n\0\1\2\n")
    assert err.value.line == 2
    text = (
        "            bash-1977    [000] ...1.   2.000000: preempt_disable: x\n"
        "            bash-1977    [000] ...1.   1.000000: preempt_enable: x\n"
    )
    with pytest.raises(TraceFormatError) as err:
        _read(text)
    assert err.value.line == 2
    assert "before the one on line 1" in str(err.value)


def test_huge_and_truncated_lines_are_skipped() -> None:
    text = (
        "            bash-1977    [000] ...1.   1.000000: preempt_disable: " + "x" * 100_000 + "\n"
        "            bash-1977    [000] ...1.   1.0000\n"
        "            bash-1977    [000] ...1\n"
        "            bash-1977    [000] ...1.   1.000002: preempt_enable: caller=y\n"
    )
    lines, reader = _read(text)
    assert [line.event for line in lines] == ["preempt_enable"]
    assert reader.tally.skipped["line too long"] == 1
    assert reader.tally.skipped["not an event line"] == 2


# ---------------------------------------------------------------- when a tracepoint fires


def test_enable_events_show_the_state_before_and_disable_events_after() -> None:
    """kernel-facts §9.3: preempt_disable fires after the count rose, preempt_enable before
    it drops; irq_disable after interrupts went off, irq_enable before they come on."""
    off = View(False, False, False, False, False, ".", 0)
    on = off._replace(depth=1)
    assert step_views(off, on, ("preempt_disable",)) == (on,)
    assert step_views(on, off, ("preempt_enable",)) == (on,)
    irq_on = off._replace(irqs_off=True)
    assert step_views(off, irq_on, ("irq_disable",)) == (irq_on,)
    assert step_views(irq_on, off, ("irq_enable",)) == (irq_on,)
    # a wakeup from task code: interrupts off and on again within one step
    views = step_views(off, off, ("irq_disable", "preempt_disable", "sched_waking", "irq_enable",
                                  "preempt_enable"))  # fmt: skip
    assert [v.irqs_off for v in views] == [True, True, True, True, False]
    # before the step's own preempt_disable the depth is the model's; inside, the kernel may
    # nest more (p->pi_lock, the runqueue lock) than a model step shows
    assert [v.depth for v in views] == [0, None, None, None, None]


# ---------------------------------------------------------------- checking recordings


def _line(cpu: int, flags: str, us: int, event: str, args: str = "caller=x parent=0x0") -> str:
    comm, pid = ("bash", 1977) if cpu == 0 else ("kworker/1:2", 88)
    return f"{comm:>16}-{pid:<7} [{cpu:03d}] {flags}   100.{us:06d}: {event}: {args}"


# examples/traces/spinlock.txt: spin_lock()/spin_unlock() and a preempt_disable() section
CONFORMING = (ROOT / "examples/traces/spinlock.txt").read_text()
HIDDEN_WAKEUP = ROOT / "examples/traces/hidden-wakeup.txt"


@pytest.mark.slow
def test_a_recording_of_preempt_events_conforms_to_full(tmp_path: Path) -> None:
    run = _check(tmp_path, CONFORMING)
    assert run.conforms
    assert run.outcome.matched == 6
    assert run.outcome.cpus == 2
    assert run.recorded == {"preempt_disable", "preempt_enable"}
    code, out, _ = _trace(FULL, str(tmp_path / "trace.txt"))
    assert code == 0
    assert "conforms to" in out
    assert "6 events matched on 2 CPUs" in out


@pytest.mark.slow
def test_a_wakeup_inside_an_untraced_preempt_disabled_section_is_rejected(tmp_path: Path) -> None:
    """preempt_disable_notrace() raised the count: the wakeup's own preempt_disable (of
    p->pi_lock) is not traced, as the count was not 0; the model has no such section."""
    text = HIDDEN_WAKEUP.read_text()
    run = _check(tmp_path, text)
    assert not run.conforms
    rejection = run.outcome.rejection
    assert rejection is not None
    assert rejection.line.number == HEADER5.count("\n") + 3
    assert "preempt_disable on CPU 0" in rejection.allowed
    code, out, _ = _trace(FULL, str(tmp_path / "trace.txt"))
    assert code == 1
    assert f"trace.txt:{rejection.line.number}: does not conform" in out


@pytest.mark.slow
def test_a_hidden_preempt_disable_is_rejected_where_the_flags_reveal_it(tmp_path: Path) -> None:
    """Interrupts go off inside a section the tracepoints did not show: the line says
    preempt depth 1, the model has 0."""
    text = (
        "\n".join(
            [
                _line(0, "...1.", 10, "preempt_disable"),
                _line(0, "...1.", 20, "preempt_enable"),
                _line(0, "d..1.", 30, "irq_disable"),
            ]
        )
        + "\n"
    )
    run = _check(tmp_path, text)
    rejection = run.outcome.rejection
    assert rejection is not None
    assert rejection.line.number == 3
    assert any("preempt depth: the line shows 1, the model has 0" in w for w in rejection.why)


@pytest.mark.slow
def test_a_lost_events_marker_lets_the_cpu_start_again(tmp_path: Path) -> None:
    lines = [_line(0, "...1.", 10, "preempt_disable"), _line(0, "...1.", 20, "preempt_enable")]
    broken = [*lines, _line(0, "...1.", 30, "preempt_enable")]
    assert not _check(tmp_path, "\n".join(broken) + "\n").conforms
    lost = [*lines, "CPU:0 [LOST 3 EVENTS]", _line(0, "...1.", 30, "preempt_enable")]
    run = _check(tmp_path, "\n".join(lost) + "\n", from_initial=True)
    assert run.conforms
    assert run.outcome.resets == 1


@pytest.mark.slow
def test_unknown_events_are_skipped_and_counted(tmp_path: Path) -> None:
    text = CONFORMING + _line(0, "d.h..", 50, "ipi_raise", "target_mask=1") + "\n"
    run = _check(tmp_path, text)
    assert run.conforms
    assert run.outcome.unknown == {"ipi_raise": 1}


def test_more_cpus_than_the_model_has(tmp_path: Path) -> None:
    model = str(ROOT / "models/races/fold-ipi.yaml")
    text = "\n".join(_line(c, "...1.", 10 + c, "sched_set_need_resched", "") for c in (3, 5, 7))
    (tmp_path / "t.txt").write_text(text + "\n")
    code, _, err = _trace(model, str(tmp_path / "t.txt"))
    assert code == 2
    assert "t.txt:3:1: error[PC115]" in err
    assert "the trace has 3 CPUs" in err


def test_bad_trace_files_are_errors_with_their_line(tmp_path: Path) -> None:
    (tmp_path / "bin.txt").write_bytes(b"\x7fELF\0\0\0binary")
    code, out, err = _trace(FULL, str(tmp_path / "bin.txt"))
    assert code == 2
    assert "bin.txt:1:1: error[PC115]" in err
    assert "Traceback" not in out + err
    code, _, err = _trace(FULL, str(tmp_path / "missing.txt"))
    assert code == 2
    assert "error[PC001]" in err
    code, _, err = _trace(FULL, str(tmp_path / "bin.txt"), "--max-silent", "-1")
    assert code == 2


def _schema() -> dict:  # type: ignore[type-arg]
    return json.loads((ROOT / "docs/trace.schema.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.slow
def test_json_output(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text(CONFORMING)
    code, out, _ = _trace(FULL, str(tmp_path / "t.txt"), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, _schema())
    assert doc["schema"] == "preemptcheck/trace"
    assert doc["check"]["conforms"] is True
    assert doc["check"]["events_matched"] == 6
    assert doc["check"]["rejection"] is None
    assert doc["monitor"] is None
    code, out, _ = _trace(FULL, str(HIDDEN_WAKEUP), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, _schema())
    assert doc["check"]["rejection"]["line"] == 15
    assert "preempt_disable on CPU 0" in doc["check"]["rejection"]["allowed"]


# ---------------------------------------------------------------- counterexamples read back


def _bundled() -> list[str]:
    return sorted(
        str(p.relative_to(ROOT))
        for folder in ("models", "models/races")
        for p in (ROOT / folder).glob("*.yaml")
        if not p.name.startswith("_")
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", _bundled())
def test_every_counterexample_reads_back_as_a_conforming_recording(  # type: ignore[no-untyped-def]
    path: str, tmp_path: Path, bundled_results
) -> None:
    """verify --trace-format ftrace, fed to `preemptcheck trace`, conforms: from the
    initial state (the counterexample's own start), and, for the longest trace of each run
    (the other starts cost a state graph each), from any reachable state. A mode model's
    run (with its monitors: most of its time) is the session's shared one."""
    stem = Path(path).stem
    if Path(path).parent.name == "models" and stem in BUNDLED_MODES:
        models = [bundled_results[stem]]
    else:
        models = check_paths([str(ROOT / path)], Options()).models
    traces = 0
    for m in models:
        assert isinstance(m, ModelResult)
        traced = sorted((p for p in m.properties if p.trace is not None),
                        key=lambda p: -len(p.trace.steps))  # type: ignore[union-attr]  # fmt: skip
        for n, p in enumerate(traced):
            assert p.trace is not None
            text = ftrace_text(m.model, p.trace, f"{m.file}: {p.id}")
            for from_initial in (True, False) if n == 0 else (True,):
                out = _check(tmp_path, text, m.model, from_initial=from_initial)
                assert out.conforms, (p.id, out.outcome.rejection)
            traces += 1
    assert traces  # every bundled model documents some violation


def test_verify_prints_traces_as_recordings(tmp_path: Path) -> None:
    """The text report with --trace-format ftrace, saved as it is, is a trace file: the lines
    around the recording are skipped."""
    model = str(ROOT / "models/races/fold-remote-rmw.yaml")
    args = [model, "--set", "NCPU=2", "--property", "request-not-lost"]
    result = CliRunner().invoke(app, ["verify", *args, "--trace-format", "ftrace"])
    assert result.exit_code == 0
    assert "# tracer: nop" in result.stdout
    assert "sched_set_need_resched:" in result.stdout
    (tmp_path / "t.txt").write_text(result.stdout)
    code, out, _ = _trace(model, str(tmp_path / "t.txt"), "--set", "NCPU=2", "--from-initial")
    assert code == 0, out
    assert "skipped:" in out
    assert "not an event line" in out


def test_trace_dir_writes_the_recording_and_chrome_json(tmp_path: Path) -> None:
    model = str(ROOT / "models/races/fold-remote-rmw.yaml")
    args = ["verify", model, "--set", "NCPU=2", "--property", "request-not-lost"]
    CliRunner().invoke(app, [*args, "--trace-dir", str(tmp_path / "out")])
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    stem = "fold-remote-rmw.request-not-lost"
    assert names == [f"{stem}.chrome.json", f"{stem}.ftrace.txt", f"{stem}.itf.json"]
    doc = json.loads((tmp_path / "out" / f"{stem}.chrome.json").read_text())
    phases = {e["ph"] for e in doc["traceEvents"]}
    assert phases == {"M", "X", "i"}
    stamps = [e["ts"] for e in doc["traceEvents"] if e["ph"] != "M"]
    assert stamps == sorted(stamps)
    code, out, _ = _trace(model, str(tmp_path / "out" / f"{stem}.ftrace.txt"), "--set", "NCPU=2")
    assert code == 0, out


@pytest.mark.slow
def test_readme_trace_samples_are_what_trace_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text()
    samples = re.findall(r"```\n\$ preemptcheck (trace [^\n]*)\n(.*?)```", readme, re.S)
    assert len(samples) == 2
    for command, shown in samples:
        code, out, _ = _trace(*command.split()[1:])
        assert code in (0, 1)
        got = out.splitlines()
        want = shown.splitlines()
        assert len(got) == len(want), command
        for g, w in zip(got, want, strict=True):
            if w.endswith(" ..."):
                assert g.startswith(w[:-4]), (g, w)
            else:
                assert g == w


# ---------------------------------------------------------------- a kernel RV automaton


@pytest.mark.slow
def test_the_wip_monitor_rejects_the_hidden_wakeup_with_the_kernels_reaction() -> None:
    wip = str(ROOT / "monitors/wip.dot")
    code, out, _ = _trace("--monitor", wip, str(HIDDEN_WAKEUP))
    assert code == 1
    assert "hidden-wakeup.txt:15: the wip monitor" in out
    assert "rv: monitor wip does not allow event sched_waking on state preemptive on cpu0" in out
    code, out, _ = _trace("--monitor", wip, str(HIDDEN_WAKEUP), "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, _schema())
    assert doc["check"] is None
    assert doc["monitor"]["line"] == 15
    spinlock = str(ROOT / "examples/traces/spinlock.txt")
    code, out, _ = _trace(FULL, spinlock, "--monitor", wip, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, _schema())
    assert doc["check"]["conforms"] is True
    assert doc["monitor"]["allowed"] is True
    assert doc["monitor"]["events"] == 6
    assert doc["monitor"]["states"] == {"0": "preemptive", "1": "preemptive"}


def test_monitor_start_events_wait_for_a_known_state(tmp_path: Path) -> None:
    """A recording that begins inside a preempt-disabled section: from the initial state
    wip rejects the first preempt_enable; with it as the start event (as wip's handler
    does), the instance starts there and follows the rest."""
    text = "\n".join(
        [
            _line(0, "...1.", 10, "preempt_enable"),
            _line(0, "...1.", 20, "preempt_disable"),
            _line(0, "d..2.", 30, "sched_waking", "comm=cat pid=2001 prio=120 target_cpu=000"),
            _line(0, "...1.", 40, "preempt_enable"),
        ]
    )
    (tmp_path / "t.txt").write_text(text + "\n")
    wip = str(ROOT / "monitors/wip.dot")
    code, out, _ = _trace("--monitor", wip, str(tmp_path / "t.txt"))
    assert code == 1
    assert "t.txt:1:" in out
    code, out, _ = _trace("--monitor", wip, "--start", "preempt_enable", str(tmp_path / "t.txt"))
    assert code == 0, out
    assert "3 events seen by the monitor" in out


def test_monitor_usage_errors() -> None:
    wip = str(ROOT / "monitors/wip.dot")
    assert _trace(str(HIDDEN_WAKEUP))[0] == 2  # a trace without a model or a monitor
    assert _trace("--monitor", wip, "--per", "task", str(HIDDEN_WAKEUP))[0] == 2
    code, _, err = _trace("--monitor", str(ROOT / "README.md"), str(HIDDEN_WAKEUP))
    assert code == 2
    assert "error[PC114]" in err


# ---------------------------------------------------------------- the model's `trace:` section

MAPPED = """\
model: full-with-pids
extends: {full}
trace:
  sched_waking:
    args:
      pid: {{"1977": A, "2001": B}}
  sched_wakeup:
    args:
      pid: {{"1977": A, "2001": B}}
  sched_switch:
    args:
      prev_state: {{R: running, R+: running, S: interruptible, D: interruptible}}
      prev_pid: {{attr: prev, values: {{"1977": A, "2001": B}}}}
  tasks: {{"1977": A, "2001": B}}
"""


def _wakeup_of(pid: int) -> str:
    args = f"comm=cat pid={pid} prio=120 target_cpu=000"
    return (
        "\n".join(
            [
                _line(0, "d..1.", 10, "preempt_disable"),  # raw_spin_lock_irqsave(&p->pi_lock)
                _line(0, "d..1.", 11, "sched_waking", args),
                _line(0, "d..1.", 12, "sched_wakeup", args),
                _line(0, "...1.", 13, "preempt_enable"),
            ]
        )
        + "\n"
    )


@pytest.mark.slow
def test_trace_section_maps_arguments_to_the_models_values(tmp_path: Path) -> None:
    (tmp_path / "mapped.yaml").write_text(MAPPED.format(full=FULL))
    model = load_model(str(tmp_path / "mapped.yaml"))
    assert [m.tracepoint for m in model.trace] == ["sched_waking", "sched_wakeup", "sched_switch"]
    assert model.trace_tasks == (("1977", "A"), ("2001", "B"))
    # bash (A) is running and wakes cat (B): a step of the model
    assert _check(tmp_path, _wakeup_of(2001), model).conforms
    # bash waking itself: no step of the model wakes the running task from task code
    run = _check(tmp_path, _wakeup_of(1977), model)
    rejection = run.outcome.rejection
    assert rejection is not None
    assert rejection.line.number == 2
    assert any("pid=1977: the step has pid=B" in w for w in rejection.why)
    # a pid the section does not list claims nothing
    assert _check(tmp_path, _wakeup_of(4242), model).conforms
    # without the section, arguments and tasks are not compared
    assert _check(tmp_path, _wakeup_of(1977)).conforms


@pytest.mark.slow
def test_trace_section_tasks_name_the_running_task(tmp_path: Path) -> None:
    """The TASK-PID column against the CPU's current task: after bash (A) leaves its
    section, cat (B) cannot take a spin lock on that CPU: a switch to cat would have shown
    __schedule()'s own preempt_disable by bash first."""
    (tmp_path / "mapped.yaml").write_text(MAPPED.format(full=FULL))
    model = load_model(str(tmp_path / "mapped.yaml"))
    lines = [_line(0, "...1.", 10, "preempt_disable"), _line(0, "...1.", 20, "preempt_enable")]
    bash = _line(0, "...1.", 30, "preempt_disable")
    assert _check(tmp_path, "\n".join([*lines, bash]) + "\n", model).conforms
    cat = bash.replace("            bash-1977   ", "             cat-2001   ")
    run = _check(tmp_path, "\n".join([*lines, cat]) + "\n", model)
    rejection = run.outcome.rejection
    assert rejection is not None
    assert rejection.line.number == 3
    assert any("the line's task (pid 2001) is B, the CPU runs A" in w for w in rejection.why)


@pytest.mark.slow
def test_trace_section_counterexamples_read_back(tmp_path: Path) -> None:
    """Counterexamples are written with the tracepoints' arguments (through the section,
    backwards) and read back as conforming recordings."""
    (tmp_path / "mapped.yaml").write_text(MAPPED.format(full=FULL))
    run = check_paths([str(tmp_path / "mapped.yaml")], Options())
    (m,) = run.models
    assert isinstance(m, ModelResult)
    texts = [ftrace_text(m.model, p.trace, p.id) for p in m.properties if p.trace is not None]
    assert texts
    assert any("pid=1977" in t or "pid=2001" in t for t in texts)
    assert any(" bash-1977 " in t or " A-1977 " in t for t in texts)
    for text in texts:
        assert "pid=A" not in text
        assert "pid=B" not in text
        assert _check(tmp_path, text, m.model, from_initial=True).conforms


@pytest.mark.parametrize(
    ("section", "error"),
    [
        ("  sched_swich: {}", "no action of the model emits the event 'sched_swich'"),
        ("  sched_waking: {args: {cpu: {'1': A}}}", "has no attribute 'cpu' (it has: pid)"),
        ("  sched_waking: {args: {pid: {'1': Q}}}", "'Q' is not a value of the attribute 'pid'"),
        ("  sched_waking: {args: {pid: [A]}}", "expected a mapping of recorded values"),
        ("  sched_waking: {extra: 1}", "unknown key 'extra'"),
        ("  tasks: {'1': Q}", "'Q' is not a task of the model (A, B)"),
    ],
)
def test_trace_section_errors_are_located(tmp_path: Path, section: str, error: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"model: bad\nextends: {FULL}\ntrace:\n{section}\n")
    result = CliRunner().invoke(app, ["verify", str(path), "--no-cache"])
    assert result.exit_code == 2
    assert f"{path}:4:" in result.output
    assert error in result.output
