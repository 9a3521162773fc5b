"""Bad input: each tests/fixtures/bad/ case yields its declared first diagnostic, no traceback.

Each `tests/fixtures/bad/PCnnn_<what>.yaml` starts with
`# expect: PCnnn [FILE:]LINE:COL KEY.PATH`: the code, location and key path of the first
diagnostic. FILE (relative to the fixture) is given only when the diagnostic belongs to another
file, e.g. the partner of an `extends` cycle; such partners live in subfolders (`parts/`), which
the walk below does not enter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from preemptcheck.cli.main import app
from preemptcheck.core.errors import InputError
from preemptcheck.model import load_model

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad"
OK_SMALL = FIXTURES / "ok_small.yaml"
MIN_CASES = 25

_EXPECT = re.compile(
    r"^# expect: (?P<code>PC\d{3}) (?:(?P<file>\S+\.(?:ya?ml|dot)):)?(?P<line>\d+):(?P<col>\d+)"
    r"(?: (?P<key_path>\S.*))?$"
)

# Fixtures whose expectation states what the tool should report but does not yet: each is
# a tool bug to fix, never an expectation to adjust. (Empty: every known problem is fixed.)
KNOWN_TOOL_PROBLEMS: dict[str, str] = {}


@dataclass(frozen=True)
class Expectation:
    code: str
    file: Path
    line: int
    col: int
    key_path: str


def parse_expectation(fixture: Path) -> Expectation | None:
    first = fixture.read_text(encoding="utf-8").splitlines()[:1]
    m = _EXPECT.match(first[0].rstrip()) if first else None
    if m is None:
        return None
    file = fixture.parent / m["file"] if m["file"] else fixture
    return Expectation(m["code"], file, int(m["line"]), int(m["col"]), m["key_path"] or "")


def _fixtures() -> list[Path]:
    return sorted(BAD.glob("*.yaml"))


def _cases() -> list[Any]:
    out = []
    for fixture in _fixtures():
        reason = KNOWN_TOOL_PROBLEMS.get(fixture.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(fixture, id=fixture.stem, marks=marks))
    return out


def _output(result: Any) -> str:
    """Everything the command wrote (stdout and stderr, however the runner captured them)."""
    text: str = result.output
    try:
        stderr = result.stderr
    except (AttributeError, ValueError):  # older Click: stderr not captured separately
        stderr = ""
    if stderr and stderr not in text:
        text += stderr
    return text


def _invoke(args: list[str]) -> tuple[Any, str]:
    result = CliRunner().invoke(app, args)
    out = _output(result)
    assert "Traceback" not in out, out
    # An exception the runner swallowed would print no traceback but is one all the same.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{out}"
    )
    return result, out


def test_bad_fixture_folder_has_enough_cases() -> None:
    assert len(_fixtures()) >= MIN_CASES


@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.stem) for f in _fixtures()])
def test_bad_fixture_declares_its_expectation(fixture: Path) -> None:
    expect = parse_expectation(fixture)
    assert expect is not None, (
        f"{fixture.name}: the first line must be '# expect: PCnnn [FILE:]LINE:COL KEY.PATH'"
    )
    assert fixture.name.startswith(f"{expect.code}_"), (
        f"{fixture.name}: the file name must start with the expected code {expect.code}"
    )
    assert expect.file.is_file(), f"{fixture.name}: no such file {expect.file}"


@pytest.mark.slow
@pytest.mark.parametrize("fixture", _cases())
def test_bad_fixture_first_diagnostic(fixture: Path) -> None:
    expect = parse_expectation(fixture)
    assert expect is not None, f"{fixture.name}: no '# expect:' line"

    # (a) the Python API: the first diagnostic is exactly the declared one
    with pytest.raises(InputError) as info:
        load_model(str(fixture))
    first = info.value.diagnostics[0]
    got = (first.code.value, first.span.line, first.span.col, first.key_path)
    want = (expect.code, expect.line, expect.col, expect.key_path)
    assert got == want, "\n".join(d.headline() for d in info.value.diagnostics)
    assert Path(first.span.file).resolve() == expect.file.resolve()

    # (b) the command line: exit 2, the code and the location, no traceback
    result, out = _invoke(["verify", str(fixture)])
    assert result.exit_code == 2, out
    assert f"error[{expect.code}]" in out, out
    assert f"{expect.file}:{expect.line}:{expect.col}" in out, out


@pytest.mark.slow
@pytest.mark.parametrize("fixture", [pytest.param(f, id=f.stem) for f in _fixtures()])
def test_bad_fixture_is_bad_input_not_a_crash(fixture: Path) -> None:
    """Whatever its location, every fixture is bad input (exit 2), never an internal error."""
    result, out = _invoke(["verify", str(fixture)])
    assert result.exit_code == 2, out
    assert re.search(r"error\[PC\d{3}\]", out), out
    with pytest.raises(InputError):
        load_model(str(fixture))


def test_ok_small_is_valid() -> None:
    """The model the usage tests run against is itself fine."""
    model = load_model(str(OK_SMALL))
    assert "mode" in [p.name for p in model.params]
    result, out = _invoke(["verify", str(OK_SMALL)])
    assert result.exit_code == 0, out


# (args after `verify`, code, a hint the message must carry); {ok} is ok_small.yaml, {tmp} a
# fresh empty folder.
USAGE_CASES = [
    pytest.param(["{ok}", "--set", "NOPE=1"], "PC200", "params: mode", id="set-unknown-param"),
    pytest.param(
        ["{ok}", "--set", "mod=lazy"], "PC200", "did you mean 'mode'?", id="set-misspelt-param"
    ),
    pytest.param(
        ["{ok}", "--set", "mode=fast"],
        "PC201",
        "values: none, voluntary, full, lazy, rt",
        id="set-bad-mode",
    ),
    pytest.param(["{ok}", "--mode", "fast"], "PC201", "values: none", id="mode-bad-value"),
    pytest.param(["{tmp}/nope.yaml"], "PC001", "no such file", id="missing-path"),
    pytest.param(["{tmp}"], "PC202", "no model files", id="folder-without-models"),
    pytest.param(
        ["{ok}", "--property", "nope"], "PC203", "no such property", id="unknown-property"
    ),
    pytest.param(
        ["{ok}", "--property", "count-bound"],
        "PC203",
        "did you mean 'count-bounded'?",
        id="misspelt-property",
    ),
]


def _usage_args(args: list[str], tmp_path: Path) -> list[str]:
    return [a.format(ok=OK_SMALL, tmp=tmp_path) for a in args]


@pytest.mark.parametrize(("args", "code", "hint"), USAGE_CASES)
def test_usage_error(args: list[str], code: str, hint: str, tmp_path: Path) -> None:
    result, out = _invoke(["verify", *_usage_args(args, tmp_path)])
    assert result.exit_code == 2, out
    assert f"error[{code}]" in out, out
    assert hint in out, out


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["{ok}", "--set", "NOPE=1"], id="set-unknown-param"),
        pytest.param(["{ok}", "--set", "mode=fast"], id="set-bad-mode"),
        pytest.param(["{ok}", "--property", "nope"], id="unknown-property"),
    ],
)
def test_usage_error_names_no_placeholder_file(args: list[str], tmp_path: Path) -> None:
    result, out = _invoke(["verify", *_usage_args(args, tmp_path)])
    assert result.exit_code == 2, out
    assert "<none>" not in out, out
    model = _usage_args(args, tmp_path)[0]
    assert f"{model}: error[" in out, out
