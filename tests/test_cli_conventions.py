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
