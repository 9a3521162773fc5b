"""The README is a contract too: its commands, its model, its tables say what the tool does."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import without_monitors
from preemptcheck.checking.check import Options, check_file, check_paths
from preemptcheck.checking.results import ModelResult
from preemptcheck.cli.main import app
from preemptcheck.core.errors import CODE_TITLES, Code

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _blocks(text: str, lang: str) -> list[str]:
    """The fenced code blocks of `text` whose info string is `lang`."""
    out: list[str] = []
    current: list[str] | None = None
    info = ""
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current, info = [], line[3:].strip()
            else:
                if info == lang:
                    out.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return out


def test_quick_start_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    blocks = _blocks(_section("Quick start"), "sh")
    assert len(blocks) == 1
    commands = [line for line in blocks[0].splitlines() if line.strip()]
    assert len(commands) == 2
    assert "preemptcheck verify models/lazy.yaml" in commands[0]
    assert "'.[test]'" in commands[1]
    assert commands[1].endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci


def test_tour_model_works_as_written(tmp_path: Path) -> None:
    (tour,) = [
        b for b in _blocks(_section("The model language"), "yaml") if b.startswith("model: tour")
    ]
    path = tmp_path / "tour.yaml"
    path.write_text(tour)
    full = check_file(str(path), Options())
    assert full.stats.states == 6
    verdicts = {
        p.id: (p.verdict.value, p.trace.length if p.trace else None) for p in full.properties
    }
    assert verdicts["need-resched-implies-atomic"] == ("violated", 1)
    assert verdicts["preempt-enable-preempts"][0] == "holds"
    assert verdicts["no-sleep-in-atomic"] == ("holds", None)
    result = CliRunner().invoke(app, ["verify", str(path)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["verify", str(path), "--mode", "none"])
    assert result.exit_code == 0, result.output
    assert "preempt-enable-preempts       violated" in result.output


def test_error_code_table_lists_every_code() -> None:
    table = _section("Command line")
    for code in Code:
        assert f"| {code.value} | {CODE_TITLES[code]} |" in table, code


def test_bundled_model_table_has_the_real_state_counts(bundled_results) -> None:  # type: ignore[no-untyped-def]
    rows = re.findall(r"^\| `(\w+)\.yaml` \| .* \| (\d+) \|$", _section("Bundled models"), re.M)
    assert {name for name, _ in rows} == {"none", "voluntary", "full", "lazy", "rt"}
    for name, states in rows:
        result = bundled_results[name]
        assert result.stats.states == int(states), name


def _command_samples() -> list[str]:
    return [
        b
        for b in _blocks(README, "")
        if b.startswith(("$ preemptcheck verify ", "$ preemptcheck simulate "))
    ]


def test_readme_has_command_samples() -> None:
    assert len(_command_samples()) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("sample", _command_samples(), ids=lambda b: b.splitlines()[0])
def test_command_sample_is_what_verify_prints(sample: str, monkeypatch, request) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    command, *expected = sample.splitlines()
    if " --cluster local" in command:  # the process's Ray, as the cluster tests share it
        request.getfixturevalue("ray_instance")
    args = shlex.split(command.removeprefix("$ preemptcheck "))
    result = CliRunner().invoke(app, args)
    actual = result.output
    for line in expected:
        text = line.rstrip()
        if text.strip() == "...":
            continue
        if text.endswith("..."):
            text = text[:-3].rstrip(", ")
        assert text in actual, line


def test_planted_bug_sample_is_what_verify_prints(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    (sample,) = [b for b in _blocks(_section("What you get"), "") if "BUG: sleeping" in b]
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(ROOT / "properties", tmp_path / "properties")
    without_monitors(tmp_path / "models")
    base = tmp_path / "models" / "_base.yaml"
    # the README's recipe: line 203, in spin_lock's do:
    lines = base.read_text().splitlines(keepends=True)
    assert lines[202] == "      pc: pc + lock_offset\n"
    assert lines[200:202] == ["    do:\n", "      holds[curr]: true\n"]
    assert "sed -i '203s/pc: pc + lock_offset/pc: pc/' models/_base.yaml" in _section(
        "What you get"
    )
    lines[202] = "      pc: pc\n"
    base.write_text("".join(lines))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["verify", "models/full.yaml", "--max-states", "50000"])
    assert result.exit_code == 1
    actual = " ".join(result.output.split())
    for line in sample.splitlines():
        text = line.strip()
        if text and text != "...":
            assert " ".join(text.split()) in actual, line


@pytest.mark.slow
def test_latency_table_is_what_latency_prints(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The README's latency table, byte for byte: every figure in it is pinned here (and
    derived in tests/test_latency.py)."""
    (block,) = [b for b in _blocks(README, "") if b.startswith("$ preemptcheck latency ")]
    command, _, expected = block.partition("\n")
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(command.removeprefix("$ preemptcheck ")))
    assert result.exit_code == 0, result.output
    assert result.output == expected


@pytest.mark.slow
def test_latency_model_row_has_the_real_state_counts() -> None:
    (lo, hi) = re.findall(
        r"^\| `latency\.yaml` \| .* \| ([\d,]+)–([\d,]+) per mode \|$",  # noqa: RUF001 (the README's en dash)
        _section("Bundled models"),
        re.M,
    )[0]
    runs = check_paths([str(ROOT / "models" / "latency.yaml")], Options(all_modes=True))
    states = [m.stats.states for m in runs.models if isinstance(m, ModelResult)]
    assert len(states) == 10
    assert (min(states), max(states)) == (int(lo.replace(",", "")), int(hi.replace(",", "")))


@pytest.mark.slow
def test_the_library_example_runs() -> None:
    import subprocess
    import sys

    (code,) = _blocks(_section("As a library, and in an editor"), "python")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "need-resched-implies-atomic violated as-expected" in proc.stdout
    assert "invariant 'implies(folded, preempt_count != 0)' is false" in proc.stdout  # the trace


def test_the_schema_header_points_at_the_schema() -> None:
    (header,) = _blocks(_section("As a library, and in an editor"), "yaml")
    target = header.strip().removeprefix("# yaml-language-server: $schema=")
    assert (ROOT / "models" / target).resolve() == ROOT / "docs" / "model.schema.json"


@pytest.mark.slow
def test_graph_sample_is_what_graph_prints(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (block,) = [b for b in _blocks(README, "") if b.startswith("$ preemptcheck graph ")]
    command, expected = block.splitlines()[:2]
    monkeypatch.chdir(ROOT)
    args = shlex.split(command.removeprefix("$ preemptcheck "))
    args[args.index("-o") + 1] = str(tmp_path / "full.dot")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == expected.replace("-> full.dot", f"-> {tmp_path / 'full.dot'}")
    assert (tmp_path / "full.dot").read_text().startswith("digraph")
