"""Command-line conventions a kernel developer expects (issue 17, item 2)."""

from __future__ import annotations

import os
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
    # the shell named on the command line, not detected from the parent processes (a test
    # run from cron or CI may have no shell above it); Typer's own switch for that
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("preemptcheck")), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "_preemptcheck_completion" in proc.stdout
    assert "complete " in proc.stdout


COMMANDS = ["verify", "simulate", "latency", "diff", "trace", "rv-export", "man", "graph"]


def _invoke(*args: str, columns: int = 80) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    result = CliRunner().invoke(
        app, list(args), env={"COLUMNS": str(columns)}, prog_name="preemptcheck"
    )
    return result.exit_code, result.stdout, result.stderr


def _click_command(name: str):  # type: ignore[no-untyped-def]
    from typer.main import get_command

    from preemptcheck.cli.main import app

    return get_command(app).commands[name]  # type: ignore[attr-defined]


def test_help_fits_80_columns_and_names_values_not_types() -> None:
    for name in ["", *COMMANDS]:
        code, out, _ = _invoke(*([name] if name else []), "--help")
        assert code == 0, name
        assert all(len(line) <= 80 for line in out.splitlines()), name
        for noise in ("<int>", "<str>", "<float>", "<path>", "<list[", "<bool>", "{", "╭"):
            assert noise not in out, (name, noise)
        if name:  # every option and environment variable name, whole on one line
            for param in _click_command(name).params:
                for opt in [*param.opts, *param.secondary_opts]:
                    if opt.startswith("-"):
                        assert opt in out, (name, opt)
                if param.envvar:
                    assert param.envvar in out.replace("\n", " ").replace("  ", " "), param.envvar


def test_click_usage_errors_look_like_every_other_error() -> None:
    lazy = "models/lazy.yaml"
    cases = [
        (["verify", lazy, "--frob"], "error[PC204]: no such option: --frob"),
        (["verify"], "error[PC204]: missing argument 'PATHS'"),
        (["verify", lazy, "--bound", "x"], "error[PC203]: invalid value for '--bound'"),
        (["verify", lazy, "--engine", "z"], "error[PC203]: invalid value for '--engine'"),
        (["verify", lazy, "--max-states"], "error[PC204]: option '--max-states' requires"),
        (["nosuch"], "error[PC204]: no such command 'nosuch'"),
    ]
    for args, first in cases:
        code, out, err = _invoke(*args)
        assert code == 2, args
        lines = err.splitlines()
        assert lines[0].startswith(first), (args, err)
        if len(lines) == 3:  # the usage line, when the command is known
            assert lines[1].startswith("usage: preemptcheck"), err
        assert len(lines) in (2, 3), err
        assert "--help' for the options" in lines[-1], err
        assert out == "", args


def test_a_usage_error_is_printed_once_not_once_per_param_choice() -> None:
    code, out, _ = _invoke(
        "verify", str(ROOT / "models" / "lazy.yaml"), "--set", "MAXNEST=1,2", "--property",
        "nosuch", "--no-cache",
    )  # fmt: skip
    assert code == 2
    assert out.count("--property nosuch: no such property") == 1, out


def test_the_man_page_is_generated_from_the_help_and_current() -> None:
    code, page, _ = _invoke("man")
    assert code == 0
    committed = (ROOT / "docs" / "preemptcheck.1").read_text()
    assert page == committed, "regenerate: preemptcheck man > docs/preemptcheck.1"
    assert page.startswith(".TH PREEMPTCHECK 1")
    for name in COMMANDS:
        roff_name = name.replace("-", "\\-")
        assert f'.SS "preemptcheck {roff_name} ' in page, name
        for param in _click_command(name).params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt.replace("-", "\\-") in page, (name, opt)
    for section in ("NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT"):
        assert f".SH {section}\n" in page


def test_the_man_page_renders_without_warnings(tmp_path: Path) -> None:
    import shutil

    import pytest

    if shutil.which("groff") is None:
        pytest.skip("groff is not installed (apt install groff-base) to render the page")
    page = tmp_path / "preemptcheck.1"
    page.write_text(_invoke("man")[1])
    proc = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z", str(page)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0
    assert proc.stderr == ""
