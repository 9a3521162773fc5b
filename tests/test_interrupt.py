"""Ctrl-C and SIGTERM (issue 13, item 5): the run stops at a safe point, prints what it decided,
writes no output file and exits 130 or 143; a second signal stops at once.

Each test starts the installed command on a model whose search takes many seconds
(models-large/full-smp.yaml, 2.4 million states, on the Python backend or the symbolic
engine; for the default backend, which goes native after 100,000 states, the 13-million-state
model of the cluster tests, whose numba compile takes seconds where full-smp's takes 20),
waits for its first progress line on stderr (so the search is under way), and signals it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from preemptcheck.core import interrupt

ROOT = Path(__file__).resolve().parents[1]
BIG = ROOT / "models-large" / "full-smp.yaml"
NATIVE = ROOT / "tests" / "fixtures" / "cluster" / "lost-update-13m.yaml"
EXE = Path(sys.executable).with_name("preemptcheck")
SCHEMA = json.loads((ROOT / "docs" / "result.schema.json").read_text())


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PREEMPTCHECK_CACHE": "0"}
    return subprocess.Popen(
        [str(EXE), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _signal_when_busy(proc: subprocess.Popen[str], *signums: int) -> tuple[str, str]:
    """Wait for a progress line, send the signals, and collect the output."""
    assert proc.stderr is not None
    first = proc.stderr.readline()  # blocks until the search reports progress
    assert "states" in first, first
    for signum in signums:
        proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    return out, first + err


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_search_and_reports_what_was_decided(
    tmp_path: Path, signum: int, status: int
) -> None:
    proc = _start(
        "verify", str(NATIVE), "--junit", "out/junit.xml", "--sarif", "out.sarif",
        "--trace-dir", "traces", cwd=tmp_path,
    )  # fmt: skip
    out, err = _signal_when_busy(proc, signum)
    name = signal.Signals(signum).name
    assert proc.returncode == status, out + err
    assert f"(incomplete: interrupted by {name}" in out, out
    assert f"unknown: interrupted by {name}" in out
    assert "holds (witness" in out  # found before the signal: kept
    assert f"interrupted by {name}: the verdicts above are all that was decided" in out
    assert "internal error" not in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output file, no temporary


@pytest.mark.slow
def test_the_files_not_reached_are_listed_and_json_says_interrupted(tmp_path: Path) -> None:
    lazy = ROOT / "models" / "lazy.yaml"
    # the Python backend: a search that is busy at once (no native compile to wait for)
    proc = _start(
        "verify", "--backend", "python", "--format", "json", str(BIG), str(lazy), cwd=tmp_path
    )
    out, err = _signal_when_busy(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["interrupted"] == "SIGINT"
    assert doc["exit_code"] == 130
    assert doc["unchecked"] == [str(lazy)]
    (model,) = doc["models"]
    assert model["stats"]["complete"] is False


@pytest.mark.slow
def test_a_second_signal_stops_at_once(tmp_path: Path) -> None:
    proc = _start("verify", "--backend", "python", str(BIG), "--junit", "junit.xml", cwd=tmp_path)
    out, err = _signal_when_busy(proc, signal.SIGTERM, signal.SIGTERM)
    assert proc.returncode == 143, out + err
    assert "interrupted" in out + err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_abrupt_turns_sigterm_into_a_stop_with_status_143() -> None:
    """`latency` and `diff` stop at once (a half-checked diff would mislead): SIGTERM raises
    in the main thread, so their clean-ups (the diff's worktree) run, and the status is 143."""

    def stop_me() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass

    before = signal.getsignal(signal.SIGTERM)
    with interrupt.abrupt(), pytest.raises(interrupt.Stopped) as stopped:
        stop_me()
    assert stopped.value.status == 143
    assert signal.getsignal(signal.SIGTERM) is before  # restored


def test_handling_records_the_first_signal_and_cancels() -> None:
    """In-process: the first SIGINT is recorded (engines poll it) and the registered cancel
    callbacks run (the z3 engine's); leaving the block forgets it and puts the handler back."""
    before = signal.getsignal(signal.SIGINT)
    cancelled: list[str] = []
    with interrupt.handling(), interrupt.cancelling(lambda: cancelled.append("z3")):
        assert interrupt.requested() is None
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass
        assert interrupt.requested() == "SIGINT"
        assert interrupt.reason() == "interrupted by SIGINT"
    assert set(cancelled) == {"z3"}
    assert interrupt.requested() is None
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.slow
def test_sigterm_cancels_a_z3_query_and_keeps_what_was_decided(tmp_path: Path) -> None:
    """The symbolic engine spends its time inside z3, where Python's handlers wait: the
    watcher thread cancels the query, and the run reports like the explicit one."""
    proc = _start("verify", "--engine", "symbolic", str(BIG), "--junit", "j.xml", cwd=tmp_path)
    try:  # the strengthening alone takes many seconds: let z3 get busy, then stop it
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, out + err
    assert "unknown: interrupted by SIGTERM" in out
    assert "interrupted by SIGTERM: the verdicts above are all that was decided" in out
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_the_work_limit_defaults_agree() -> None:
    from preemptcheck.checking.options import DEFAULT_WORK_LIMIT, Options
    from preemptcheck.engines import symbolic

    assert DEFAULT_WORK_LIMIT == symbolic.DEFAULT_WORK_LIMIT == Options().work_limit


def _signal_after(fn, signum: int):  # type: ignore[no-untyped-def]
    """`fn`, then (its first call only) a signal to this process (handled at the next
    bytecode boundary)."""
    calls = []

    def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = fn(*args, **kwargs)
        if not calls:
            calls.append(1)
            os.kill(os.getpid(), signum)
            for _ in range(1000):
                pass
        return out

    return wrapped


def test_a_signal_while_a_model_is_read_leaves_it_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A model of 10,000 properties takes seconds to read and compile and then little to
    explore: a signal in that time must not be lost (it once was: the run exited 0)."""
    from preemptcheck.checking import check

    monkeypatch.setattr(check, "load_model", _signal_after(check.load_model, signal.SIGTERM))
    lazy, full = str(ROOT / "models" / "lazy.yaml"), str(ROOT / "models" / "full.yaml")
    with interrupt.handling():
        run = check.check_paths([lazy, full], check.Options())
    assert run.interrupted == "SIGTERM"
    assert run.models == ()
    assert run.unchecked == (lazy, full)
    assert run.exit_code == 143


@pytest.mark.slow
def test_a_signal_after_the_last_search_still_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    from preemptcheck.checking import check

    monkeypatch.setattr(check, "check_model", _signal_after(check.check_model, signal.SIGINT))
    lazy, full = str(ROOT / "models" / "lazy.yaml"), str(ROOT / "models" / "full.yaml")
    with interrupt.handling():
        run = check.check_paths([lazy, full], check.Options())
    assert run.interrupted == "SIGINT"
    (done,) = run.models
    assert done.file == lazy
    assert done.stats.complete  # decided before the signal: kept whole
    assert run.unchecked == (full,)
    assert run.exit_code == 130


@pytest.mark.slow
def test_a_signal_while_the_report_is_written_lets_it_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every verdict was decided: the files are written whole, then the signal is the exit."""
    from typer.testing import CliRunner

    from preemptcheck.cli import common
    from preemptcheck.cli.main import app

    monkeypatch.setattr(common, "write_atomic", _signal_after(common.write_atomic, signal.SIGINT))
    result = CliRunner().invoke(
        app,
        ["verify", str(ROOT / "models" / "lazy.yaml"), "--junit", str(tmp_path / "j.xml"),
         "--sarif", str(tmp_path / "s.sarif")],
    )  # fmt: skip
    assert result.exit_code == 130, result.output
    assert "interrupted by SIGINT after the run: its report is whole" in result.stderr
    assert "39 properties: 39 as expected" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.xml", "s.sarif"]
    json.loads((tmp_path / "s.sarif").read_text())
