"""The README is a contract too: its commands, its model, its tables say what the tool does."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from preemptcheck.check import Options, check_file
from preemptcheck.cli import app
from preemptcheck.errors import CODE_TITLES, Code

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


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
    (tour,) = [b for b in _blocks(_section("The model language"), "yaml")
               if b.startswith("model: tour")]
    path = tmp_path / "tour.yaml"
    path.write_text(tour)
    full = check_file(str(path), Options())
    assert full.stats.states == 6
    verdicts = {p.id: (p.verdict.value, p.trace.length if p.trace else None)
                for p in full.properties}
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


def test_bundled_model_table_has_the_real_state_counts() -> None:
    rows = re.findall(r"^\| `(\w+)\.yaml` \| .* \| (\d+) \|$", _section("Bundled models"), re.M)
    assert {name for name, _ in rows} == {"none", "voluntary", "full", "lazy", "rt"}
    for name, states in rows:
        result = check_file(str(ROOT / "models" / f"{name}.yaml"), Options())
        assert result.stats.states == int(states), name


def test_sample_output_is_what_verify_prints(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    sample = _blocks(_section("What you get"), "")[0]
    result = CliRunner().invoke(app, ["verify", "models/full.yaml"])
    lines = [line for line in sample.splitlines()[1:] if line.strip() not in ("...", "")]
    actual = result.output
    for line in lines:
        if line.endswith("..."):
            line = line[:-3].rstrip(", ")
        assert line in actual, line


def test_planted_bug_sample_is_what_verify_prints(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    sample = _blocks(_section("What you get"), "")[1]
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(ROOT / "properties", tmp_path / "properties")
    base = tmp_path / "models" / "_base.yaml"
    base.write_text(base.read_text().replace("      holds[curr]: true\n      pc: pc + lock_offset",
                                             "      holds[curr]: true\n      pc: pc"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["verify", "models/full.yaml", "--max-states", "50000"])
    assert result.exit_code == 1
    actual = " ".join(result.output.split())
    for line in sample.splitlines():
        text = line.strip()
        if text and text != "...":
            assert " ".join(text.split()) in actual, line
