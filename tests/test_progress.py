"""Progress for every engine (issue 17, item 3): a live line on a terminal, plain lines
every ten seconds elsewhere, and the symbolic engine's phase in words."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from preemptcheck.checking.check import check_paths
from preemptcheck.checking.options import Options
from preemptcheck.cli import progress as progress_module
from preemptcheck.cli.progress import Display, describe
from preemptcheck.core.progress import Phase
from preemptcheck.engines.explicit import Progress

ROOT = Path(__file__).resolve().parents[1]


def _p(states: int, elapsed: float) -> Progress:
    return Progress(states=states, frontier=7, transitions=3 * states, depth=4, elapsed=elapsed)


def test_the_line_says_states_rate_frontier_depth_time_share_and_memory() -> None:
    line = describe("m.yaml", _p(500_000, 2.0), limit=2_000_000)
    assert line.startswith("m.yaml: 500,000 states (25% of --max-states), frontier 7, depth 4, ")
    assert "250,000 states/s, 2 s, peak memory " in line
    assert line.endswith("MiB") or line.endswith("GiB")
    assert "of --max-states" not in describe("m.yaml", _p(5, 2.0))  # no limit given


def test_off_a_terminal_a_plain_line_every_ten_seconds() -> None:
    out = io.StringIO()
    display = Display(stream=out, tty=False)
    for t in (0.2, 0.9, 1.5, 5.0, 11.4, 11.6, 21.5, 30.0):
        display("m.yaml", _p(int(t * 1000), t))
    lines = out.getvalue().splitlines()
    # nothing in the first second; then at 1.5, 11.6 (10.1 s later; not 11.4), and 30.0
    # (21.5 is 9.9 s after 11.6)
    shown = [line.split(" states")[0] for line in lines]
    assert shown == ["m.yaml: 1,500", "m.yaml: 11,600", "m.yaml: 30,000"]
    assert "\x1b" not in out.getvalue()  # no terminal control codes in a log
    display.done()


def test_on_a_terminal_one_live_line_redrawn_and_cleared() -> None:
    out = io.StringIO()
    display = Display(stream=out, tty=True)
    display("m.yaml", _p(10, 0.5))
    assert display.live is None  # quiet for the first second
    display("m.yaml", _p(2_000, 1.5))
    display("m.yaml", Phase("symbolic: BMC depth 3 of 30", 2.5))
    display.done()
    text = out.getvalue()
    assert "symbolic: BMC depth 3 of 30" in text
    assert "\x1b[2K" in text  # the line is erased at the end: only the report stays
    assert display.live is None


@pytest.mark.slow
def test_the_symbolic_engine_reports_its_phases() -> None:
    seen: list[tuple[str, object]] = []
    model = str(ROOT / "models" / "races" / "fold-ipi.yaml")
    options = Options(engine="symbolic", bound=4, overrides={"NCPU": "2"})
    check_paths([model], options, progress=lambda p, e: seen.append((p, e)))
    phases = [e.text for _, e in seen if isinstance(e, Phase)]
    assert all(p == model for p, _ in seen)
    assert any(t.startswith("symbolic: strengthening: Houdini round 1, ") for t in phases), phases
    depths = [int(t.split("BMC depth ")[1].split(" ")[0]) for t in phases if "BMC depth" in t]
    assert depths == sorted(depths)
    assert depths[0] == 0
    assert all("of 4" in t for t in phases if "BMC depth" in t)
    elapsed = [e.elapsed for _, e in seen if isinstance(e, Phase)]
    assert elapsed == sorted(elapsed)


def test_verify_prints_the_symbolic_phase_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    monkeypatch.setattr(progress_module, "QUIET_FOR", 0.0)
    result = CliRunner().invoke(
        app,
        ["verify", str(ROOT / "models" / "races" / "fold-ipi.yaml"), "--engine", "symbolic",
         "--set", "NCPU=2", "--bound", "3", "--no-cache"],
    )  # fmt: skip
    assert result.exit_code in (0, 3), result.output  # 3: a witness deeper than the bound
    assert "fold-ipi.yaml: symbolic: " in result.stderr
    assert "symbolic:" not in result.stdout  # the report stays the same bytes


@pytest.mark.slow
def test_the_work_after_the_search_reports_its_phase_too() -> None:
    """leads_to and monitors are decided on the whole state graph after the search: its
    building and the monitors' product report what they do (no silent minutes)."""
    seen: list[object] = []
    check_paths(
        [str(ROOT / "models" / "lazy.yaml")], Options(), progress=lambda p, e: seen.append(e)
    )
    texts = [e.text for e in seen if isinstance(e, Phase)]
    assert any(t.startswith("state graph: ") for t in texts), texts  # more than 16,384 states
    assert any(t.startswith("monitors: their product with the state graph (") for t in texts)
    assert any(isinstance(e, Progress) for e in seen)  # the search itself, before
