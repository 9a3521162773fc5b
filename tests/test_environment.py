"""The tests do not depend on the caller's environment (issue 17, item 9): tests/conftest.py
removes preemptcheck's PREEMPTCHECK_* settings and GITHUB_ACTIONS, and points XDG_CACHE_HOME
at a folder of the test session's own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Representative tests: exit codes through CliRunner (PREEMPTCHECK_MAX_FILE_SIZE=1 refuses
# every model), the installed command in a subprocess (it inherits the environment), and the
# results cache (PREEMPTCHECK_CACHE, PREEMPTCHECK_CACHE_DIR, XDG_CACHE_HOME).
REPRESENTATIVE = (
    "tests/test_cli.py::test_exit_codes",
    "tests/test_cli.py::test_installed_command_runs_as_a_subprocess",
    "tests/test_cache.py::test_unchanged_models_are_reused",
    "tests/test_cache.py::test_cli_reuses_results_and_no_cache_checks_again",
)


def _hostile(tmp_path: Path) -> dict[str, str]:
    """A caller's settings, each one unlike what the tests expect."""
    not_a_folder = tmp_path / "cache-home"
    not_a_folder.write_text("a file: nothing can be made under it, not even by root\n")
    return {
        "PREEMPTCHECK_CACHE": "1",  # the suite's default is 0
        "PREEMPTCHECK_CACHE_DIR": str(tmp_path / "nonexistent" / "cache"),
        "PREEMPTCHECK_TIMING": "1",
        "PREEMPTCHECK_MAX_FILE_SIZE": "1",
        "XDG_CACHE_HOME": str(not_a_folder),
        "GITHUB_ACTIONS": "true",
    }


def _read_by_preemptcheck() -> set[str]:
    """Every PREEMPTCHECK_* variable named in preemptcheck's source."""
    names: set[str] = set()
    for path in (ROOT / "src" / "preemptcheck").rglob("*.py"):
        names.update(re.findall(r"\bPREEMPTCHECK_[A-Z0-9_]*[A-Z0-9]", path.read_text()))
    return names


def test_the_hostile_caller_sets_every_variable_preemptcheck_reads(tmp_path: Path) -> None:
    read = _read_by_preemptcheck()
    assert {"PREEMPTCHECK_CACHE", "PREEMPTCHECK_MAX_FILE_SIZE"} <= read  # the scan works
    assert read <= set(_hostile(tmp_path)), "a new variable: add it to _hostile()"


def test_a_test_sees_the_sessions_settings_only(request: pytest.FixtureRequest) -> None:
    own = {name for name in os.environ if name.startswith("PREEMPTCHECK_")}
    assert own == {"PREEMPTCHECK_CACHE", "PREEMPTCHECK_CACHE_DIR"}  # set by conftest.py
    assert os.environ["PREEMPTCHECK_CACHE"] == "0"
    assert "GITHUB_ACTIONS" not in os.environ
    # the native backend's compiled models stay in pytest's cache folder, outside the
    # caller's cache and the same for every xdist worker
    home = Path(os.environ["XDG_CACHE_HOME"])
    assert home.is_dir()
    assert home.name == "xdg-cache"
    assert home.is_relative_to(request.config.rootpath / ".pytest_cache")


@pytest.mark.slow
def test_representative_tests_pass_whatever_the_caller_sets(tmp_path: Path) -> None:
    env = {**os.environ, **_hostile(tmp_path)}
    # one process, file order, and no pytest cache writes racing with this session's
    args = ["-n", "0", "-p", "no:randomly", "-p", "no:cacheprovider", "-q", *REPRESENTATIVE]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", done.stdout)
    assert "failed" not in done.stdout.splitlines()[-1]
