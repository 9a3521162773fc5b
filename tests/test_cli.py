"""The command line: exit codes, formats, trace files, determinism, the installed command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import counter_model, write_model
from preemptcheck.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "result.schema.json").read_text())
FULL = str(ROOT / "models" / "full.yaml")

PASSING = counter_model(
    "passing",
    properties="""
    bounded:
      invariant: x <= 3
    reaches-top:
      reachable: x == 3
""",
)
FAILING = counter_model(
    "failing",
    properties="""
    below-two:
      invariant: x < 2
""",
)
EXPECTED_BUG = counter_model(
    "expected-bug",
    properties="""
    below-two:
      invariant: x < 2
      expect: violated
""",
)
WRONG_EXPECT = counter_model(
    "wrong-expect",
    properties="""
    bounded:
      invariant: x <= 3
      expect: violated
""",
)
IDLE_ACTION = counter_model(
    "idle-action",
    actions="""
    never:
      when: x > 3
      do: {x: 0}
""",
)

BROKEN = """
    model: broken
    vars:
      x: {type: int, range: [0, 3]}
    actions:
      inc:
        do: {x: y + 1}
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def report(*args: str) -> tuple[int, str]:
    """A run's exit code and stdout (with `shared_results`, stderr notes the reuse)."""
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {
        name: write_model(tmp_path, text, f"{name}.yaml")
        for name, text in (
            ("passing", PASSING),
            ("failing", FAILING),
            ("broken", BROKEN),
            ("expected-bug", EXPECTED_BUG),
            ("wrong-expect", WRONG_EXPECT),
            ("idle-action", IDLE_ACTION),
        )
    }


# ---------------------------------------------------------------- exit codes (DESIGN §2)


@pytest.mark.parametrize(
    ("names", "extra", "code"),
    [
        (["passing"], [], 0),
        (["failing"], [], 1),
        (["broken"], [], 2),
        (["passing"], ["--max-states", "2"], 3),
        (["failing", "passing"], [], 1),
        (["failing", "broken"], [], 2),  # bad input wins over a failed check
        (["failing"], ["--max-states", "2"], 3),  # x < 2 is not violated within 2 states
        (["broken", "passing"], ["--max-states", "2"], 2),
        (["failing", "passing"], ["--max-states", "3"], 1),  # unexpected wins over inconclusive
        (["expected-bug"], [], 0),  # violated, as its `expect` says
        (["wrong-expect"], [], 1),  # holds, but `expect: violated`
        (["expected-bug", "wrong-expect"], [], 1),
        (["idle-action"], [], 0),  # an action that never fires: a warning
        (["idle-action"], ["--strict"], 1),  # ... that --strict turns into a failure
        (["idle-action", "broken"], ["--strict"], 2),
        (["expected-bug"], ["--max-states", "2"], 3),  # not yet violated: inconclusive
    ],
)
def test_exit_codes(files: dict[str, str], names: list[str], extra: list[str], code: int) -> None:
    got, out = run("verify", *[files[n] for n in names], *extra)
    assert got == code, out


def test_bad_input_in_a_folder_still_checks_the_rest(files: dict[str, str]) -> None:
    code, out = run("verify", str(Path(files["passing"]).parent))
    assert code == 2
    assert "broken.yaml:6:13: error[PC103]: actions.inc.do.x: unknown name 'y'" in out
    assert "passing.yaml: passing" in out
    assert "failing.yaml: failing" in out


@pytest.mark.slow
def test_verify_models_folder_lists_every_bundled_model(shared_results: Path) -> None:
    code, out = report("verify", str(ROOT / "models"), "--traces", "none")
    assert code == 0, out
    for mode in ("none", "voluntary", "full", "lazy", "rt"):
        assert f"models/{mode}.yaml: preempt-{mode} (mode={mode}, MAXNEST=2, " in out
    assert "models/latency.yaml: preemption-latency (mode=full, MAXNEST=1, " in out
    for race in (
        "fold-remote-rmw",
        "fold-ipi",
        "fold-loadstore-irq",
        "lost-wakeup",
        "allow-resched",
        "in-atomic-no-count",
        "wip-trace-window",
    ):
        assert f"models/races/{race}.yaml: {race} (" in out
    assert "_base.yaml" not in out  # a partial: skipped when a folder is given
    # swept params: fold-ipi for 2 and 3 CPUs, lost-wakeup for 8 choices, latency for 2, ...
    assert out.rstrip().endswith(
        "13 models in 28 runs, 334 properties: 334 as expected, 0 unexpected, 0 inconclusive"
    )


@pytest.mark.slow
def test_glob_selects_models(shared_results: Path) -> None:
    code, out = report("verify", str(ROOT / "models" / "[fl]*.yaml"), "--traces", "none")
    assert code == 0, out
    assert "3 models" in out  # full, lazy, latency


def test_internal_error_is_exit_4_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import preemptcheck.cli.verify as cli

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(cli, "check_paths", boom)
    result = CliRunner().invoke(app, ["verify", FULL])
    assert result.exit_code == 4
    assert "internal error: RuntimeError: engine exploded" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(app, ["verify", FULL, "--debug"])
    assert result.exit_code == 4
    assert "Traceback" in result.output


@pytest.mark.slow
@pytest.mark.parametrize(("option", "name"), [("--junit", "r.xml"), ("--sarif", "r.sarif")])
def test_junit_and_sarif_write_their_files(tmp_path: Path, option: str, name: str) -> None:
    target = tmp_path / "ci" / name  # the folder is created; the contents: test_ci_outputs.py
    code, out = run("verify", FULL, option, str(target), "--traces", "none")
    assert code == 0, out
    assert "preemptcheck" in target.read_text(encoding="utf-8")


def test_unsupported_property_kinds_are_rejected_with_location(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        """
        model: live
        vars:
          x: {type: bool}
        actions:
          flip:
            do: {x: not x}
        properties:
          automaton:
            monitor: stall.dot
    """,
    )
    (tmp_path / "stall.dot").write_text(
        "digraph state_automaton {\n"
        '\t{node [shape = plaintext, style=invis, label=""] "__init_idle"};\n'
        '\t{node [shape = doublecircle] "idle"};\n'
        '\t"__init_idle" -> "idle";\n'
        '\t"idle" -> "idle" [ label = "flip;reset(clk)" ];\n'
        "}\n"
    )
    code, out = run("verify", path)
    assert code == 2  # a timed automaton: refused, never checked without time
    assert "stall.dot:5:30: error[PC113]: properties.automaton.monitor" in out


# ---------------------------------------------------------------- options


def test_mode_and_set_choose_params() -> None:
    base = str(ROOT / "models" / "_base.yaml")
    code, out = run("verify", base, "--mode", "lazy", "--set", "MAXNEST=1", "--traces", "none")
    assert code == 0, out
    assert "(mode=lazy, MAXNEST=1, NESTING=true, IRQOFF_ENABLE=true, IRQS_IN_SCHEDULE=true)" in out


def test_property_filter_keeps_builtins(files: dict[str, str]) -> None:
    code, out = run("verify", files["passing"], "--property", "bounded")
    assert code == 0
    assert "bounded" in out
    assert "reaches-top" not in out
    assert "range" in out
    assert "deadlock" in out


def test_fail_fast_stops_at_first_unexpected(files: dict[str, str]) -> None:
    code, out = run("verify", files["failing"], "--fail-fast")
    assert code == 1
    assert "stopped at the first unexpected verdict" in out


def test_version() -> None:
    code, out = run("--version")
    assert code == 0
    assert out.startswith("preemptcheck ")


# ---------------------------------------------------------------- output formats


def test_json_output_matches_the_documented_schema(files: dict[str, str]) -> None:
    for names in (["passing"], ["failing"], ["broken"], list(files)):
        code, out = run("verify", *[files[n] for n in names], "--format", "json")
        doc = json.loads(out)
        jsonschema.validate(doc, SCHEMA)
        assert doc["exit_code"] == code


@pytest.mark.slow
def test_json_output_of_bundled_models_matches_schema(shared_results: Path) -> None:
    code, out = report("verify", str(ROOT / "models"), "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert code == 0
    assert doc["summary"]["as_expected"] == 334
    full = next(m for m in doc["models"] if m["file"].endswith("full.yaml"))
    lit = next(p for p in full["properties"] if p["id"] == "need-resched-implies-atomic")
    assert lit["verdict"] == "violated"
    assert lit["outcome"] == "as-expected"
    assert [s["action"] for s in lit["trace"]["steps"]] == ["irq_enter", "sched_tick", "irq_exit"]
    # events are tracepoint names where the model gives them
    assert [s["events"] for s in lit["trace"]["steps"]] == [
        ["irq_disable", "preempt_disable", "irq_handler_entry"],
        ["sched_set_need_resched_tp"],
        ["irq_handler_exit", "preempt_enable"],
    ]
    assert lit["trace"]["steps"][-1]["changes"]["pc"] == {"0": 0}
    assert lit["location"]["file"].endswith("properties/core.yaml")


@pytest.mark.slow
def test_output_is_deterministic(files: dict[str, str]) -> None:
    races = str(ROOT / "models" / "races")
    none = str(ROOT / "models" / "none.yaml")  # a mode model and its monitors (the cheapest)
    # stdout: stderr's progress lines come and go with the machine's load
    for fmt in ("text", "json"):
        first = report("verify", races, none, files["failing"], "--format", fmt)
        second = report("verify", races, none, files["failing"], "--format", fmt)
        assert first == second


@pytest.mark.slow
def test_trace_dir_writes_itf(files: dict[str, str], tmp_path: Path) -> None:
    out_dir = tmp_path / "traces"
    code, _ = run("verify", files["failing"], FULL, "--trace-dir", str(out_dir))
    assert code == 1
    names = sorted(p.name for p in out_dir.iterdir())
    assert "failing.below-two.itf.json" in names
    assert "full.need-resched-implies-atomic.itf.json" in names
    assert not [n for n in names if n.endswith(".tmp")]
    doc = json.loads((out_dir / "failing.below-two.itf.json").read_text())
    assert doc["#meta"]["format"] == "ITF"
    assert doc["vars"][:1] == ["x"]
    assert [s["x"] for s in doc["states"]] == [{"#bigint": str(i)} for i in range(3)]
    assert [s["mbt::actionTaken"] for s in doc["states"]] == ["init", "inc@cpu0", "inc@cpu0"]
    full = json.loads((out_dir / "full.need-resched-implies-atomic.itf.json").read_text())
    last = full["states"][-1]
    assert last["pc"] == {"#map": [[{"#bigint": "0"}, {"#bigint": "0"}]]}
    assert last["tif_nr"] == {"#map": [["A", True], ["B", False]]}


@pytest.mark.slow
def test_installed_command_runs_as_a_subprocess() -> None:
    exe = Path(sys.executable).with_name("preemptcheck")
    assert exe.exists(), f"the console script is not installed next to {sys.executable}"
    proc = subprocess.run(
        [str(exe), "verify", str(ROOT / "models" / "lazy.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "39 properties: 39 as expected" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_timeout_is_inconclusive() -> None:
    model = str(ROOT / "benchmarks" / "models" / "lost-update.yaml")
    code, out = run("verify", model, "--set", "NCPU=3", "--timeout", "0.000001")
    assert code == 3, out
    assert "unknown: timeout after 1e-06 s" in out


def test_progress_line_for_long_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from preemptcheck.cli.progress import Display
    from preemptcheck.engines.explicit import Progress

    line = Display(tty=False)
    line("m.yaml", Progress(states=10, frontier=5, transitions=20, depth=2, elapsed=0.5))
    assert capsys.readouterr().err == ""  # quiet during the first second
    line("m.yaml", Progress(states=300_000, frontier=1_234, transitions=9, depth=7, elapsed=2.0))
    err = capsys.readouterr().err
    assert "m.yaml: 300,000 states, frontier 1,234, depth 7, 150,000 states/s, 2 s" in err


def test_engine_reports_progress() -> None:
    from preemptcheck.engines.explicit import Explorer
    from preemptcheck.model import load_model

    seen = []
    run_ = Explorer(load_model(FULL)).run(progress=seen.append, progress_every=100)
    assert seen
    assert all(p.states <= run_.states for p in seen)
    assert [p.states for p in seen] == sorted(p.states for p in seen)


@pytest.mark.slow
def test_json_with_symmetry_and_notes_matches_schema() -> None:
    code, out = run(
        "verify",
        str(ROOT / "models" / "races" / "fold-ipi.yaml"),
        str(ROOT / "models" / "full.yaml"),
        "--symmetry",
        "--format",
        "json",
    )
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert code == 0
    ipi3 = next(m for m in doc["models"] if m["params"].get("NCPU") == 3)
    assert ipi3["stats"]["symmetry"] == {
        "reduced_by": "CPUs 1, 2 interchangeable",
        "states_unreduced": 62,
    }
    full = next(m for m in doc["models"] if m["file"].endswith("full.yaml"))
    assert full["notes"] == ["no symmetry reduction: the model has one CPU"]
    assert full["warnings"] == []
