"""Command-line conventions a kernel developer expects (issue 17, item 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_python_dash_m_runs_the_command_line() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "preemptcheck",
            "verify",
            "models/races/fold-ipi.yaml",
            "--no-cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "as expected, 0 unexpected" in proc.stdout


def _verify(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    result = CliRunner().invoke(app, ["verify", *args, "--no-cache"], env=env)
    return result.exit_code, result.stdout


FAILING = """\
model: failing
vars:
  x: {type: int, range: [0, 3]}
actions:
  inc:
    when: x < 3
    do: {x: x + 1}
properties:
  below-two:
    invariant: x < 2
  below-four:
    invariant: x < 4
"""


def test_quiet_prints_the_failures_and_the_summary(tmp_path: Path) -> None:
    (tmp_path / "failing.yaml").write_text(FAILING)
    fold = str(ROOT / "models/races/fold-ipi.yaml")
    code, out = _verify(str(tmp_path / "failing.yaml"), fold, "-q")
    assert code == 1
    assert "FAIL  below-two" in out
    assert "step" in out  # its trace
    assert "below-four" not in out  # as expected: left out
    assert "fold-ipi" not in out  # a model with every verdict as expected: left out
    assert "states," not in out
    assert out.rstrip().splitlines()[-1].startswith("2 models in 3 runs")
    code, _ = _verify(fold, "-q", "-v")
    assert code == 2


def test_colour_is_asked_for_or_follows_the_terminal_and_no_color(tmp_path: Path) -> None:
    fold = str(ROOT / "models/races/fold-ipi.yaml")
    _, coloured = _verify(fold, "--color", "always")
    assert "\x1b[32mok   \x1b[0m request-not-lost" in coloured
    _, plain = _verify(fold)  # auto, and the test's output is not a terminal
    assert "\x1b[" not in plain
    _, never = _verify(fold, "--color", "never")
    assert "\x1b[" not in never
    assert coloured.replace("\x1b[32m", "").replace("\x1b[0m", "") == plain
    from preemptcheck.cli.common import Color, use_color

    assert use_color(Color.always)
    assert not use_color(Color.never)


def test_shell_completion_is_offered() -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("preemptcheck")), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "_preemptcheck_completion" in proc.stdout
    assert "complete " in proc.stdout
