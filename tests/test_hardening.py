"""Never crash, never hang (issue 13): each input that once ended in an internal error or never
finished, as a regression test.

Every case is a located diagnostic with exit code 2 (or a normal verdict where the input is
fine), never `internal error` (exit 4) and never a traceback. Cases that could block for ever
(a FIFO, a device) run in a subprocess with a time limit, so a regression fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import counter_model, write_model
from preemptcheck.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
OK = textwrap.dedent(counter_model("ok")).lstrip("\n")
LONG_NAME = "n" * 300  # one path component past NAME_MAX (255 bytes)


def _verify(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["verify", "--no-cache", *args])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def _located(out: str, code: str, where: str) -> None:
    """`out` reports `code` at `where` (FILE:LINE:COL or FILE), with no internal error."""
    assert "internal error" not in out, out
    assert "Traceback" not in out, out
    assert f"{where}: error[{code}]" in out, out


def _subprocess(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed command in a child process (a hang fails the test at `timeout`)."""
    env = {**os.environ, "PREEMPTCHECK_CACHE": "0"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("preemptcheck")), "verify", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _model_with(tmp_path: Path, top: str, name: str = "model.yaml") -> str:
    """The counter model with extra top-level YAML (`extends: ...`, `check: ...`, `doc: ...`)."""
    return write_model(tmp_path, textwrap.dedent(top).strip() + "\n" + textwrap.dedent(OK), name)


# ---------------------------------------------------------------- YAML scalars


@pytest.mark.parametrize("value", [".inf", "-.inf", "+.INF", ".nan", ".NaN", "1e400", "1.5"])
@pytest.mark.parametrize(("key", "code"), [("doc", "PC102"), ("cpus", "PC105")])
def test_float_specials_are_located_errors(tmp_path: Path, key: str, code: str, value: str) -> None:
    """A string is needed (doc: the wrong type) or an integer expression (cpus: a float is
    outside the expression language)."""
    path = _model_with(tmp_path, f"{key}: {value}")
    exit_code, out, _ = _verify(path)
    assert exit_code == 2
    _located(out, code, f"{path}:1:{len(key) + 3}")


def test_float_special_in_a_range_and_a_param(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        """
        model: m
        params:
          P: {values: [.nan, 1]}
        vars:
          x: {type: int, range: [0, .inf]}
        actions:
          a: {do: {x: 1}}
        """,
    )
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC102", f"{path}:3:16")


def test_empty_param_values(tmp_path: Path) -> None:
    path = _model_with(tmp_path, "params: {mode: []}")
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC107", f"{path}:1:16")


def test_a_5001_digit_integer_in_yaml(tmp_path: Path) -> None:
    path = write_model(
        tmp_path, OK.replace("range: [0, 3]", f"range: [0, {'9' * 5001}]"), "wide.yaml"
    )
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC007", f"{path}:3:29")
    assert "128 bits" in out
    assert len(max(out.splitlines(), key=len)) < 300  # the source line is shown as a window


@pytest.mark.parametrize("literal", ["9" * 5001, "0x" + "f" * 40, str(2**129)])
def test_a_wide_integer_literal_in_an_expression(tmp_path: Path, literal: str) -> None:
    path = write_model(tmp_path, OK.replace("when: x < 3", f'when: "x < {literal}"'))
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC007", f"{path}:6:16")  # at the literal: `    when: "x < LITERAL"`


def test_a_literal_of_128_bits_is_fine(tmp_path: Path) -> None:
    path = write_model(tmp_path, OK.replace("when: x < 3", f'when: "x < {2**127} - {2**127} + 3"'))
    code, out, _ = _verify(path)
    assert code == 0, out


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize("key", ["extends", "check"])
def test_a_nul_byte_in_a_path(tmp_path: Path, key: str) -> None:
    path = _model_with(tmp_path, f'{key}: "a\\0b.yaml"')
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC001", f"{path}:1:{len(key) + 3}")
    assert "NUL byte" in out


def test_a_nul_byte_in_a_command_line_path() -> None:
    code, out, err = _verify("models/a\0b.yaml")
    assert code == 2
    assert "error[PC001]" in out + err
    assert "NUL byte" in out + err


@pytest.mark.parametrize("key", ["extends", "check"])
def test_a_path_component_over_255_bytes(tmp_path: Path, key: str) -> None:
    path = _model_with(tmp_path, f"{key}: {LONG_NAME}.yaml")
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC001", f"{path}:1:{len(key) + 3}")
    assert "too long" in out


@pytest.mark.parametrize("key", ["extends", "check", None])
def test_a_symlink_loop(tmp_path: Path, key: str | None) -> None:
    (tmp_path / "loop1.yaml").symlink_to("loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to("loop1.yaml")
    if key is None:
        code, out, _ = _verify(str(tmp_path / "loop1.yaml"))
        where = str(tmp_path / "loop1.yaml")
    else:
        where = _model_with(tmp_path, f"{key}: loop1.yaml")
        code, out, _ = _verify(where)
        where += f":1:{len(key) + 3}"
    assert code == 2
    _located(out, "PC001", where)
    assert "symbolic links" in out


def _chain(tmp_path: Path, depth: int) -> str:
    """model 0 extends 1 extends ... extends depth-1, the last one the counter model."""
    for i in range(depth - 1):
        (tmp_path / f"c{i}.yaml").write_text(f"model: c{i}\nextends: c{i + 1}.yaml\n")
    write_model(tmp_path, OK, f"c{depth - 1}.yaml")
    return str(tmp_path / "c0.yaml")


def test_an_extends_chain_of_300_works(tmp_path: Path) -> None:
    code, out, _ = _verify(_chain(tmp_path, 300))
    assert code == 0, out
    assert "c0.yaml: c0" in out


def test_an_extends_chain_of_1500_is_refused_at_the_limit(tmp_path: Path) -> None:
    code, out, _ = _verify(_chain(tmp_path, 1500))
    assert code == 2
    _located(out, "PC007", f"{tmp_path / 'c999.yaml'}:2:10")
    assert "deeper than 1000" in out


def test_a_diamond_of_extends_is_loaded_once_per_file(tmp_path: Path) -> None:
    """Each file extends the next one twice: 2^40 paths, 40 files."""
    for i in range(40):
        (tmp_path / f"d{i}.yaml").write_text(
            f"model: d{i}\nextends: [d{i + 1}.yaml, d{i + 1}.yaml]\n"
        )
    write_model(tmp_path, OK, "d40.yaml")
    code, out, _ = _verify(str(tmp_path / "d0.yaml"))
    assert code == 0, out


DEVICES = [d for d in ("/dev/zero", "/dev/full", "/dev/urandom") if os.path.exists(d)]


@pytest.mark.slow
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("key", ["extends", "check", None])
def test_a_device_is_refused_unread(tmp_path: Path, device: str, key: str | None) -> None:
    if key is None:
        proc = _subprocess(device)
        where = device
    else:
        where = _model_with(tmp_path, f"{key}: {device}")
        proc = _subprocess(where)
        where += f":1:{len(key) + 3}"
    assert proc.returncode == 2, proc.stdout + proc.stderr
    _located(proc.stdout, "PC001", where)
    assert "character device" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("key", ["extends", "check", None])
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, key: str | None) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    if key is None:
        proc = _subprocess(str(fifo))
        where = str(fifo)
    else:
        where = _model_with(tmp_path, f"{key}: fifo.yaml")
        proc = _subprocess(where)
        where += f":1:{len(key) + 3}"
    assert proc.returncode == 2, proc.stdout + proc.stderr
    _located(proc.stdout, "PC001", where)
    assert "FIFO" in proc.stdout


def test_a_fifo_in_a_folder_is_not_a_model(tmp_path: Path) -> None:
    write_model(tmp_path, OK, "ok.yaml")
    os.mkfifo(tmp_path / "fifo.yaml")
    proc = _subprocess(str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 model," in proc.stdout


def test_a_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_model(tmp_path, OK)
    monkeypatch.setenv("PREEMPTCHECK_MAX_FILE_SIZE", "100")
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC007", path)
    monkeypatch.setenv("PREEMPTCHECK_MAX_FILE_SIZE", "1K")
    assert _verify(path)[0] == 0
    monkeypatch.setenv("PREEMPTCHECK_MAX_FILE_SIZE", "lots")
    code, out, err = _verify(path)
    assert code == 2
    assert "error[PC203]: PREEMPTCHECK_MAX_FILE_SIZE" in out + err


# ---------------------------------------------------------------- walking folders


def test_an_unreadable_folder_is_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`verify /` met folders even root cannot list (/proc/1/map_files): simulated here,
    since chmod 000 does not stop root."""
    write_model(tmp_path, OK, "ok.yaml")
    (tmp_path / "locked").mkdir()
    write_model(tmp_path, OK, "locked/hidden.yaml")
    (tmp_path / "loop").symlink_to(tmp_path)  # a link back up: not followed
    scandir = os.scandir

    def fake(path: str | os.PathLike[str] = ".") -> object:
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", fake)
    code, out, err = _verify(str(tmp_path))
    assert code == 0, out + err
    assert "1 model," in out
    assert f"warning: skipped {tmp_path / 'locked'}: Permission denied" in err


def test_walking_proc_lists_no_internal_error() -> None:
    """`verify /` crashed in /proc, which has folders even root cannot list: the walk over
    /proc/self (a few thousand entries, no YAML) reports them, never raises them."""
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc")
    code, out, err = _verify("/proc/self/")
    assert code == 2, out + err
    assert "error[PC202]: no model files (*.yaml) in /proc/self/" in out + err
    assert "internal error" not in out + err


# ---------------------------------------------------------------- sizes


def test_a_huge_expression_is_refused(tmp_path: Path) -> None:
    huge = "+".join(["x"] * 100_000)
    path = write_model(tmp_path, OK.replace("when: x < 3", f'when: "{huge} >= 0"'))
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC007", f"{path}:6:11")
    assert "limit is 100,000" in out


def test_defs_that_double_are_refused_not_expanded(tmp_path: Path) -> None:
    """d24 expands to 2^24 copies of x: refused by the node limit, not built."""
    defs = "\n".join(f"  d{i}: d{i - 1} + d{i - 1}" for i in range(1, 25))
    text = OK.replace("actions:", f"defs:\n  d0: x\n{defs}\nactions:").replace(
        "when: x < 3", "when: d24 >= 0"
    )
    path = write_model(tmp_path, text)
    code, out, _ = _verify(path)
    assert code == 2
    assert "error[PC007]" in out
    assert "20,000 nodes" in out
    assert "internal error" not in out


@pytest.mark.slow
def test_an_enum_of_100000_values(tmp_path: Path) -> None:
    values = ", ".join(f"v{i}" for i in range(100_000))
    path = write_model(
        tmp_path,
        f"""
        model: big-enum
        enums:
          e: [{values}]
        vars:
          x: {{type: enum, of: e}}
        actions:
          a: {{when: x == v0, do: {{x: v99999}}}}
        properties:
          p: {{invariant: "x in [v0, v99999]"}}
        deadlock: allowed
        """,
    )
    code, out, _ = _verify(path)
    assert code == 0, out
    assert "2 states" in out


def test_yaml_nested_past_the_limit(tmp_path: Path) -> None:
    path = write_model(tmp_path, OK + "doc: " + "[" * 300 + "]" * 300 + "\n")
    code, out, _ = _verify(path)
    assert code == 2
    assert "error[PC007]" in out or "error[PC002]" in out
    assert "internal error" not in out


# ---------------------------------------------------------------- output paths


@pytest.mark.parametrize("option", ["--junit", "--sarif", "--trace-dir"])
@pytest.mark.parametrize(
    ("target", "why"),
    [
        (LONG_NAME, "longer than 255 bytes"),
        ("model.yaml/out", "is not a folder"),
        ("/proc/self/out", "cannot write"),
    ],
)
def test_an_output_path_that_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, target: str, why: str
) -> None:
    if target.startswith("/proc") and not os.path.isdir("/proc/self"):
        pytest.skip("no /proc")
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path, OK)
    code, out, err = _verify("model.yaml", option, target)
    assert code == 2, out + err
    assert "states" not in out  # refused before the run
    assert f"error[PC203]: {option} " in err, err
    assert why in err, err


@pytest.mark.parametrize("option", ["--junit", "--sarif"])
def test_a_file_output_that_is_a_folder(tmp_path: Path, option: str) -> None:
    path = write_model(tmp_path, OK)
    code, _out, err = _verify(path, option, str(tmp_path))
    assert code == 2
    assert "is a directory" in err


@pytest.mark.parametrize("option", ["--junit", "--sarif"])
def test_missing_folders_of_an_output_are_created(tmp_path: Path, option: str) -> None:
    path = write_model(tmp_path, OK)
    target = tmp_path / "new" / "deeper" / "out"
    code, out, err = _verify(path, option, str(target))
    assert code == 0, out + err
    assert target.is_file()
    assert [p.name for p in target.parent.iterdir()] == ["out"]  # no temporary left


def test_long_trace_file_names_are_shortened(tmp_path: Path) -> None:
    prop = "p" * 250
    path = write_model(
        tmp_path,
        counter_model("m", properties=f"{prop}:\n  invariant: x < 3\n  expect: violated"),
    )
    code, out, err = _verify(path, "--trace-dir", str(tmp_path / "traces"))
    assert code == 0, out + err
    written = sorted(p.name for p in (tmp_path / "traces").iterdir())
    assert len(written) == 3  # ITF, ftrace text, Chrome JSON: one stem
    assert all(len(name.encode()) <= 255 for name in written)
    stems = {name.rsplit(".", 2)[0] for name in written}
    assert len(stems) == 1
    assert sorted(name[len(next(iter(stems))) :] for name in written) == [
        ".chrome.json",
        ".ftrace.txt",
        ".itf.json",
    ]


# ---------------------------------------------------------------- found by the fuzzing suite


def test_junit_and_sarif_to_one_file_are_refused(tmp_path: Path) -> None:
    path = write_model(tmp_path, OK)
    code, _out, err = _verify(path, "--junit", str(tmp_path / "x"), "--sarif", str(tmp_path / "x"))
    assert code == 2
    assert "error[PC203]: --junit and --sarif name the same file" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_a_timeout_that_is_not_a_positive_number(tmp_path: Path, value: str) -> None:
    code, _out, err = _verify(write_model(tmp_path, OK), "--timeout", value)
    assert code == 2
    assert "error[PC203]: --timeout must be a positive number of seconds" in err


@pytest.mark.parametrize("args", [["--mode", ""], ["--mode", " "], ["--set", "P=,"]])
def test_an_empty_param_choice_is_refused_not_zero_runs(tmp_path: Path, args: list[str]) -> None:
    path = write_model(tmp_path, "params:\n  P: {values: [1, 2]}\n" + OK)
    code, out, err = _verify(path, *args)
    assert code == 2, out + err
    assert "0 models" not in out


def test_an_empty_path_argument(tmp_path: Path) -> None:
    code, out, err = _verify("")
    assert code == 2
    assert "<command line>: error[PC001]: an empty path was given" in out + err


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["tree/**", "tree/**/*.yaml", "tree/*/**/ok.yaml"])
def test_a_recursive_glob_does_not_follow_link_loops(tmp_path: Path, pattern: str) -> None:
    """glob.glob('**') follows links to folders: two loops gave 2^40 paths, a hang."""
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    write_model(tmp_path, OK, "tree/sub/ok.yaml")
    (tmp_path / "tree" / "sub" / "up").symlink_to("..")
    (tmp_path / "tree" / "self").symlink_to(".")
    (tmp_path / "tree" / "loop").symlink_to("loop")
    os.mkfifo(tmp_path / "tree" / "sub" / "fifo.yaml")
    env = {**os.environ, "PREEMPTCHECK_CACHE": "0"}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("preemptcheck")), "verify", pattern],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 model, " in proc.stdout


def test_control_characters_in_the_model_name(tmp_path: Path) -> None:
    """The name reached compile()'s file name: a NUL there was an internal error."""
    path = write_model(tmp_path, OK.replace("model: ok", 'model: "a\\0b\\nc"'))
    code, out, _ = _verify(path)
    assert code == 0, out


def test_a_file_name_that_is_not_utf8_in_junit_and_sarif(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path) + b"/bad\xff"
    os.mkdir(folder)
    with open(folder + b"/m.yaml", "w", encoding="utf-8") as fh:
        fh.write(OK + "properties:\n  p: {invariant: x < 2}\n")  # violated: a failure
    env = {**os.environ, "PREEMPTCHECK_CACHE": "0"}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("preemptcheck")), "verify", folder,
         "--junit", "j.xml", "--sarif", "s.sarif"],
        cwd=tmp_path, capture_output=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert b"Traceback" not in proc.stderr
    (tmp_path / "j.xml").read_text(encoding="utf-8")  # valid UTF-8 both
    assert "\\udcff" in (tmp_path / "s.sarif").read_text(encoding="utf-8")


def test_too_many_action_instances(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        OK.replace("vars:", "cpus: 64\nvars:")
        + "  wide:\n    for: {t: [0, 63], u: [0, 2]}\n    when: u > 5\n    do: {x: 0}\n",
    )
    code, out, _ = _verify(path)
    assert code == 2, out
    assert "more than 10,000 instances" in out


def test_a_set_value_of_5000_hex_digits(tmp_path: Path) -> None:
    path = write_model(tmp_path, "params: {P: 1}\n" + OK)
    code, out, err = _verify(path, "--set", "P=0x" + "f" * 5000)
    assert code == 2, out + err
    assert "error[PC201]" in out + err
    assert max(len(line) for line in (out + err).splitlines()) < 300


def test_symmetry_over_11_cpus_without_listing_their_permutations() -> None:
    """11! = 39,916,800 permutations were listed before the check that refuses them."""
    code, out, err = _verify(
        str(ROOT / "models-large" / "full-smp.yaml"),
        "--symmetry",
        "--set",
        "NCPU=11",
        "--max-states",
        "300",
    )
    assert code in (2, 3), out + err
    assert "internal error" not in out + err


def test_more_than_10000_properties(tmp_path: Path) -> None:
    props = "".join(f"  p{i}: {{invariant: x != {i + 4}}}\n" for i in range(10_001))
    path = write_model(tmp_path, OK + "properties:\n" + props)
    code, out, _ = _verify(path)
    assert code == 2
    _located(out, "PC007", f"{path}:{OK.count(chr(10)) + 2 + 10_000}:3")
