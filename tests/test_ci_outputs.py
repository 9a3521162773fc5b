"""CI outputs of `verify`: JUnit XML, SARIF 2.1.0 and GitHub Actions annotations.

tests/fixtures/sarif-schema-2.1.0.json is the official SARIF 2.1.0 JSON schema of the OASIS
SARIF Technical Committee (the OASIS Standard with Errata 01; its "id" is
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json),
copied byte for byte from the TC's repository github.com/oasis-tcs/sarif-spec, file
Schemata/sarif-schema-2.1.0.json at commit 0a8091f7d4057e57b6d8d9b56129e5f918747b34
(112,768 bytes, sha256 in SARIF_SCHEMA_SHA256 below). It is a draft-04 JSON schema, so
jsonschema's Draft4Validator checks documents against it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from typer.testing import CliRunner

from conftest import counter_model, write_model
from preemptcheck.checking.check import Options, check_paths
from preemptcheck.checking.results import ModelResult, Outcome, RunResult, Verdict
from preemptcheck.cli.main import app
from preemptcheck.model.ir import Expect
from preemptcheck.report import github, junit, sarif
from preemptcheck.report.text import render_trace

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA_PATH = ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json"
SARIF_SCHEMA_SHA256 = "ddddcccbf95c7c50c037b5b07eff4140556278ca574ff374db46786b5fce7949"
SARIF_SCHEMA = json.loads(SARIF_SCHEMA_PATH.read_text(encoding="utf-8"))

# preempt_disable() and then might_sleep(): the planted bug, found in two steps
PLANTED = """
    model: planted
    doc: A preempt_disable() section in which nothing stops might_sleep().
    params:
      MAX: {values: [1, 2], default: 1}
    vars:
      depth: {type: int, range: [0, MAX]}
    actions:
      preempt_disable:
        when: depth < MAX
        do: {depth: depth + 1}
      preempt_enable:
        when: depth > 0
        do: {depth: depth - 1}
      might_sleep:
        do: {}
        tags: [sleep]
    properties:
      no-sleep-in-atomic:
        doc: 'might_sleep() in atomic context. "BUG: sleeping function called from invalid context"'
        never: tag:sleep
        when: depth != 0
      depth-bounded:
        invariant: depth <= MAX
"""

COUNTER = counter_model(
    "counter",
    properties="""
    bounded:
      invariant: x <= 3
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


def where(text: str, line: str, column_of: str | None = None) -> tuple[int, int]:
    """The 1-based line of `line` in the dedented model text, and the column of
    `column_of` in it (default: its first non-blank character)."""
    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    n = lines.index(line)
    col = lines[n].index(column_of) if column_of else len(line) - len(line.lstrip())
    return n + 1, col + 1


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def validate_sarif(doc: dict[str, Any]) -> None:
    errors = sorted(jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(doc), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The planted model, in the current directory (so that paths are relative)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    write_model(tmp_path, PLANTED)
    return "model.yaml"


@pytest.fixture(scope="module")
def bundled(shared_results_dir: Path) -> RunResult:
    return check_paths([str(ROOT / "models")], Options(cache_dir=str(shared_results_dir)))


# ---------------------------------------------------------------- SARIF


def test_vendored_schema_is_the_official_one() -> None:
    assert hashlib.sha256(SARIF_SCHEMA_PATH.read_bytes()).hexdigest() == SARIF_SCHEMA_SHA256
    assert SARIF_SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert SARIF_SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")


def test_sarif_of_a_planted_violation_points_at_the_yaml_lines(planted: str) -> None:
    code, _, _ = invoke("verify", planted, "--sarif", "out.sarif")
    assert code == 1
    doc = json.loads(Path("out.sarif").read_text(encoding="utf-8"))
    validate_sarif(doc)
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    (run,) = doc["runs"]
    assert run["tool"]["driver"]["name"] == "preemptcheck"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["no-sleep-in-atomic"]
    assert rules[0]["shortDescription"]["text"] == "might_sleep() in atomic context."
    (result,) = run["results"]  # as-expected verdicts are left out
    assert result["ruleId"] == "no-sleep-in-atomic"
    assert result["level"] == "error"
    assert "violated (2 steps), expected holds" in result["message"]["text"]
    assert "\n" not in result["message"]["text"]
    line, col = where(PLANTED, "  no-sleep-in-atomic:")
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "model.yaml"
    assert physical["region"] == {"startLine": line, "startColumn": col}
    # the step that broke it: might_sleep, at its action's YAML line
    (related,) = result["relatedLocations"]
    assert related["message"]["text"] == "step 2: might_sleep@cpu0"
    sleep_line, sleep_col = where(PLANTED, "  might_sleep:")
    assert related["physicalLocation"]["region"] == {
        "startLine": sleep_line,
        "startColumn": sleep_col,
    }
    steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
    lines = [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps]
    assert lines == [where(PLANTED, "  preempt_disable:")[0], sleep_line]
    assert steps[0]["location"]["message"]["text"] == "step 1: preempt_disable@cpu0: depth=1"


@pytest.mark.slow
def test_sarif_of_the_bundled_models_has_no_results(bundled: RunResult) -> None:
    assert bundled.exit_code == 0
    doc = sarif.document(bundled, cwd=ROOT)
    validate_sarif(doc)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["tool"]["driver"]["rules"] == []


def flipped(run: RunResult) -> RunResult:
    """The run with every expectation reversed: every verdict becomes unexpected."""
    flip = {Verdict.HOLDS: Expect.VIOLATED, Verdict.VIOLATED: Expect.HOLDS}
    return RunResult(
        tuple(
            dataclasses.replace(
                m,
                properties=tuple(
                    dataclasses.replace(p, expect=flip[p.verdict]) for p in m.properties
                ),
            )
            if isinstance(m, ModelResult)
            else m
            for m in run.models
        )
    )


def test_sarif_of_every_bundled_trace(bundled: RunResult) -> None:
    """Every trace shape (sequences' steps, interrupts, leads_to lassos, failing steps) makes
    a valid code flow, each step at its action's line, the last one the related location
    (for a lasso, the first step of its loop: no single step breaks a liveness property)."""
    run = flipped(bundled)
    doc = sarif.document(run, cwd=ROOT)
    validate_sarif(doc)
    results = iter(doc["runs"][0]["results"])
    for m in run.models:
        assert isinstance(m, ModelResult)
        for p in m.properties:
            result = next(results)
            assert (result["ruleId"], result["level"]) == (p.id, "error")
            if p.trace is None or not p.trace.steps:
                assert "codeFlows" not in result
                continue
            steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
            lines = [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps]
            assert lines == [m.model.action(label.action).span.line for label in p.trace.steps]
            (related,) = result["relatedLocations"]
            t = p.trace
            if t.loop is not None and t.loop < t.length:  # a lasso: where its loop starts
                text = f"step {t.loop + 1}: {t.steps[t.loop]} (the loop that avoids the "
                text += "response starts here)"
                assert related["physicalLocation"]["region"]["startLine"] == lines[t.loop]
            else:
                text = f"step {t.length}: {t.steps[-1]}"
                assert related["physicalLocation"]["region"]["startLine"] == lines[-1]
            assert related["message"]["text"] == text
    assert next(results, None) is None


def test_sarif_inconclusive_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path, COUNTER)
    code, _, _ = invoke("verify", "model.yaml", "--max-states", "2", "--sarif", "out.sarif")
    assert code == 3
    doc = json.loads(Path("out.sarif").read_text(encoding="utf-8"))
    validate_sarif(doc)
    results = doc["runs"][0]["results"]
    assert {r["level"] for r in results} == {"warning"}
    assert {r["ruleId"] for r in results} == {"bounded", "range", "deadlock"}
    # a built-in property has no line of its own: the model file's first line
    (deadlock,) = [r for r in results if r["ruleId"] == "deadlock"]
    assert deadlock["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_sarif_diagnostics_of_a_model_that_cannot_be_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path, BROKEN)
    code, _, _ = invoke("verify", "model.yaml", "--sarif", "out.sarif")
    assert code == 2
    doc = json.loads(Path("out.sarif").read_text(encoding="utf-8"))
    validate_sarif(doc)
    (result,) = doc["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("PC103", "error")
    assert result["message"]["text"] == "actions.inc.do.x: unknown name 'y'"
    line, col = where(BROKEN, "    do: {x: y + 1}", "y + 1")
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": line, "startColumn": col}
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "PC103"


def test_artifact_paths_are_relative_to_the_current_directory(tmp_path: Path) -> None:
    assert sarif.artifact_path("models/full.yaml", tmp_path) == "models/full.yaml"
    assert sarif.artifact_path(str(tmp_path / "a" / "b.yaml"), tmp_path) == "a/b.yaml"
    outside = sarif.artifact_path("/elsewhere/m.yaml", tmp_path)
    assert outside == "/elsewhere/m.yaml"


# ---------------------------------------------------------------- JUnit


def test_junit_of_the_bundled_models_has_a_testcase_per_run_and_property(
    bundled: RunResult, tmp_path: Path
) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(junit.render(bundled), encoding="utf-8")
    cases = ET.parse(path).getroot().findall("./testsuite/testcase")
    models = [m for m in bundled.models if isinstance(m, ModelResult)]
    assert len(cases) == sum(len(m.properties) for m in models) == 334
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == len(cases)
    xml = JUnitXml.fromfile(str(path))
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (334, 0, 0, 0)
    assert len(list(xml)) == len({m.file for m in models})  # a testsuite per model file
    full = str(ROOT / "models" / "full.yaml")
    names = [c.name for s in xml if s.name == full for c in s]
    assert (
        "no-sleep-in-atomic [mode=full, MAXNEST=2, NESTING=true, IRQOFF_ENABLE=true, "
        "IRQS_IN_SCHEDULE=true]"
    ) in names


def test_junit_and_annotations_of_every_bundled_trace(bundled: RunResult, tmp_path: Path) -> None:
    run = flipped(bundled)
    path = tmp_path / "junit.xml"
    path.write_text(junit.render(run), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    assert (xml.tests, xml.failures) == (334, 334)
    commands = github.commands(run, cwd=ROOT).splitlines()
    assert len(commands) == 334
    assert all(c.startswith("::error file=") for c in commands)


def test_junit_failures_are_the_unexpected_verdicts_with_their_traces(planted: str) -> None:
    code, _, _ = invoke("verify", planted, "--set", "MAX=1,2", "--junit", "out.xml")
    assert code == 1
    run = check_paths([planted], Options(overrides={"MAX": "1,2"}))
    models = [m for m in run.models if isinstance(m, ModelResult)]
    assert len(models) == 2  # one run per value of MAX
    root = ET.parse("out.xml").getroot()
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root] == [planted]
    xml = JUnitXml.fromfile("out.xml")
    cases = {c.name: c for s in xml for c in s}
    assert len(cases) == sum(len(m.properties) for m in models) == 8
    expected_failures = {
        f"{p.id} [MAX={dict(m.params)['MAX']}]": (m, p)
        for m in models
        for p in m.properties
        if p.outcome == Outcome.UNEXPECTED
    }
    assert set(expected_failures) == {"no-sleep-in-atomic [MAX=1]", "no-sleep-in-atomic [MAX=2]"}
    for name, case in cases.items():
        assert case.classname == planted
        failures = [r for r in case.result if isinstance(r, Failure)]
        if name not in expected_failures:
            assert case.is_passed, name
            continue
        (failure,) = failures
        m, p = expected_failures[name]
        assert p.trace is not None
        assert failure.message == "violated (2 steps), expected holds"
        assert failure.text == render_trace(m.model, p, p.trace)
        assert "might_sleep" in failure.text
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (8, 2, 0, 0)


def test_junit_inconclusive_is_skipped_and_bad_input_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path, COUNTER, "counter.yaml")
    write_model(tmp_path, BROKEN, "broken.yaml")
    code, _, _ = invoke(
        "verify", "counter.yaml", "broken.yaml", "--max-states", "2", "--junit", "out.xml"
    )
    assert code == 2
    xml = JUnitXml.fromfile("out.xml")
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (4, 0, 1, 3)
    suites = {s.name: s for s in xml}
    skipped = [r for c in suites["counter.yaml"] for r in c.result if isinstance(r, Skipped)]
    assert [r.message for r in skipped] == ["unknown: state limit reached (2 states)"] * 3
    (case,) = list(suites["broken.yaml"])
    (error,) = case.result
    assert isinstance(error, Error)
    assert error.type == "PC103"
    assert "broken.yaml:6:13: error[PC103]: actions.inc.do.x: unknown name 'y'" in error.text
    assert "^" in error.text  # with the source line and its caret


def test_junit_escapes_markup(tmp_path: Path) -> None:
    text = PLANTED.replace("depth != 0", "depth != 0 and depth < 5 and 1 > 0")
    path = write_model(tmp_path, text)
    out = junit.render(check_paths([path], Options()))
    failure = ET.fromstring(out.encode()).find(".//failure")
    assert failure is not None
    assert "with depth != 0 and depth < 5 and 1 > 0: fires at step 2" in (failure.text or "")
    assert "depth &lt; 5 and 1 &gt; 0" in out


# ---------------------------------------------------------------- GitHub annotations


def test_github_annotations_only_on_github_actions(
    planted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = invoke("verify", planted)
    assert code == 1
    assert "::error" not in out
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = invoke("verify", planted)
    assert code == 1
    (command,) = [line for line in out.splitlines() if line.startswith("::")]
    line, col = where(PLANTED, "  no-sleep-in-atomic:")
    head = f"::error file=model.yaml,line={line},col={col},title=preemptcheck no-sleep-in-atomic::"
    assert command.startswith(head)
    message = command[len(head) :]
    assert message.startswith("violated (2 steps), expected holds, in model.yaml (MAX=1)%0A")
    assert "might_sleep" in message  # the trace, on one line


def test_github_annotations_keep_json_stdout_clean(
    planted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, err = invoke("verify", planted, "--format", "json")
    assert code == 1
    assert json.loads(out)["summary"]["unexpected"] == 1
    assert "::error file=model.yaml," in err


def test_github_annotations_inconclusive_are_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path, COUNTER, "a,b:c.yaml")  # ',' and ':' must be escaped in file=
    run = check_paths(["a,b:c.yaml"], Options(max_states=2))
    commands = github.commands(run, cwd=tmp_path).splitlines()
    assert len(commands) == 3
    assert all(c.startswith("::warning file=a%2Cb%3Ac.yaml,line=") for c in commands)
    line, col = where(COUNTER, "  bounded:")
    assert commands[0] == (
        f"::warning file=a%2Cb%3Ac.yaml,line={line},col={col},title=preemptcheck bounded"
        "::unknown: state limit reached (2 states), in a,b:c.yaml"
    )


def test_github_escaping() -> None:
    assert github.escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert github.escape_property("preemptcheck a,b:c 5%\n") == "preemptcheck a%2Cb%3Ac 5%25%0A"


# ---------------------------------------------------------------- several outputs in one run


def test_several_outputs_in_one_run(planted: str) -> None:
    code, out, _ = invoke(
        "verify",
        planted,
        "--junit",
        "ci/junit.xml",
        "--sarif",
        "ci/out.sarif",
        "--format",
        "json",
        "--trace-dir",
        "traces",
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["summary"]["unexpected"] == 1
    assert JUnitXml.fromfile("ci/junit.xml").failures == 1
    sarif_doc = json.loads(Path("ci/out.sarif").read_text(encoding="utf-8"))
    validate_sarif(sarif_doc)
    assert len(sarif_doc["runs"][0]["results"]) == 1
    assert sorted(p.name for p in Path("traces").iterdir()) == [
        "model.no-sleep-in-atomic.chrome.json",
        "model.no-sleep-in-atomic.ftrace.txt",
        "model.no-sleep-in-atomic.itf.json",
    ]


def test_junit_path_that_is_a_directory_is_a_usage_error(planted: str) -> None:
    Path("reports").mkdir()
    code, out, err = invoke("verify", planted, "--junit", "reports", "--sarif", "out.sarif")
    assert code == 2
    assert "error[PC203]: --junit reports: is a directory, give a file name" in err
    assert out == ""
    assert list(Path("reports").iterdir()) == []
    assert not Path("out.sarif").exists()  # rejected before the run: nothing written


def test_unwritable_output_is_a_usage_error(planted: str) -> None:
    Path("plain").write_text("a file, not a folder\n")
    code, _, err = invoke("verify", planted, "--sarif", "plain/out.sarif")
    assert code == 2
    assert "error[PC203]: --sarif plain/out.sarif: cannot write: " in err
    assert Path("plain").read_text() == "a file, not a folder\n"


def test_failed_write_leaves_no_half_written_file(
    planted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("ci").mkdir()
    Path("ci/junit.xml").write_text("previous report\n")

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("preemptcheck.core.outfiles.os.replace", full_disk)
    code, _, err = invoke("verify", planted, "--junit", "ci/junit.xml")
    assert code == 2
    assert "--junit ci/junit.xml: cannot write: No space left on device" in err
    assert [p.name for p in Path("ci").iterdir()] == ["junit.xml"]  # no temporary left
    assert Path("ci/junit.xml").read_text() == "previous report\n"


def test_output_files_get_the_mode_open_would_give(tmp_path: Path) -> None:
    """Reports are artefacts others read: 0666 less the umask for a new file (not mkstemp's
    0600), and an existing file keeps its mode when rewritten."""
    import os

    from preemptcheck.core.outfiles import write_atomic

    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.xml", "x")
        assert (tmp_path / "new.xml").stat().st_mode & 0o777 == 0o640
        kept = tmp_path / "kept.xml"
        kept.write_text("old")
        kept.chmod(0o604)
        write_atomic(kept, "new")
        assert kept.read_text() == "new"
        assert kept.stat().st_mode & 0o777 == 0o604
        assert os.umask(0o027) == 0o027  # the umask was put back
    finally:
        os.umask(old)
