"""The library API (docs/api.md): its example prints what the page shows, its verdicts are the
command line's, models from strings report located errors, options take enums (or their
strings), `import preemptcheck` stays light, and a typed user script passes mypy --strict."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import preemptcheck as pc
from preemptcheck import api

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
COUNTER = textwrap.dedent(
    """\
    model: counter
    vars:
      x: {type: int, range: [0, 3]}
    actions:
      inc:
        when: x < 3
        do: {x: x + 1}
      reset:
        when: x == 3
        do: {x: 0}
    properties:
      small:
        invariant: x <= 2
        expect: violated
    """
)


def _blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(DOC.read_text(encoding="utf-8")) if kind == lang]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )


def _in_order(expected: list[str], actual: list[str]) -> list[str]:
    """The expected lines that are not found in `actual` in this order."""
    rest = iter(actual)
    return [line for line in expected if not any(line == a for a in rest)]


# ---------------------------------------------------------------- (a) the page's example


@pytest.mark.slow
def test_the_pages_example_prints_what_the_page_shows() -> None:
    code = "\n".join(_blocks("python"))
    assert "pc.load(" in code
    assert "pc.loads(" in code
    run = _python(code)
    assert run.returncode == 0, run.stderr
    actual = [line.rstrip() for line in run.stdout.splitlines()]
    shown = [
        line.rstrip()
        for block in _blocks("text")
        for line in block.splitlines()
        if line.strip() not in ("", "...")
    ]
    assert "kernel-preemption-needs-need-resched: violated (counterexample), as-expected" in shown
    assert "<string>:7:13: error[PC103]: actions.inc.do.x: unknown name 'y'" in shown
    assert _in_order(shown, actual) == []


def test_the_calls_table_lists_every_call() -> None:
    page = DOC.read_text(encoding="utf-8")
    calls = [n for n in pc.__all__ if n[0].islower() and not n.startswith("__")]
    assert calls
    assert [n for n in calls if f"`{n}(" not in page] == []


# ---------------------------------------------------------------- (b) the command line agrees


def _cli_json(path: str) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-m", "preemptcheck", "verify", path, "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


def _jsonish(value: Any) -> Any:
    """An API trace value as the JSON document writes it (index keys are strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonish(v) for k, v in value.items()}
    return value


def _api_rows(result: pc.ModelResult) -> list[dict[str, Any]]:
    rows = []
    for p in result.properties:
        trace = pc.trace_of(result, p)
        rows.append(
            {
                "id": p.id,
                "verdict": p.verdict.value,
                "strength": p.strength.value,
                "outcome": p.outcome.value,
                "trace": None
                if trace is None
                else {
                    "initial": _jsonish(trace.initial),
                    "steps": [(s.label, _jsonish(s.changes)) for s in trace.steps],
                },
            }
        )
    return rows


def _cli_rows(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": p["id"],
            "verdict": p["verdict"],
            "strength": p["strength"],
            "outcome": p["outcome"],
            "trace": None
            if p["trace"] is None
            else {
                "initial": p["trace"]["initial"],
                "steps": [(s["label"], s["changes"]) for s in p["trace"]["steps"]],
            },
        }
        for p in model["properties"]
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", ["models/races/fold-ipi.yaml", "models/races/fold-remote-rmw.yaml"]
)
def test_the_verdicts_and_traces_are_the_command_lines(path: str) -> None:
    cli = _cli_json(path)
    run = pc.check_all(ROOT / path)
    assert run.exit_code == cli["exit_code"]
    assert len(run.models) == len(cli["models"]) >= 1
    for ours, theirs in zip(run.models, cli["models"], strict=True):
        assert isinstance(ours, pc.ModelResult)
        assert dict(ours.params) == theirs["params"]
        assert _api_rows(ours) == _cli_rows(theirs)
        # one choice of params, through load() and check()
        one = pc.check(pc.load(ROOT / path, params=dict(ours.params)))
        assert _api_rows(one) == _cli_rows(theirs)
    assert any(row["trace"] for m in cli["models"] for row in _cli_rows(m))


def test_render_and_as_json_are_the_command_lines() -> None:
    result = pc.check(ROOT / "models/races/fold-remote-rmw.yaml")
    run = pc.RunResult((result,))
    doc = pc.as_json(result)
    assert doc == pc.as_json(run)
    assert doc["models"][0]["file"] == result.file
    text = pc.render(run)
    assert pc.render(result) in text
    assert text.rstrip().splitlines()[-1].startswith("1 model")
    violated = next(p for p in result.properties if p.verdict is pc.Verdict.VIOLATED)
    table = pc.render_trace(result, violated.id)
    assert textwrap.indent(table, " " * 8) in pc.render(result)


# ---------------------------------------------------------------- (c) models from strings


def test_loads_errors_name_the_string_with_line_and_column() -> None:
    with pytest.raises(pc.ModelError) as info:
        pc.loads(COUNTER.replace("do: {x: x + 1}", "do: {x: y + 1}"))
    (d,) = info.value.diagnostics
    assert (d.span.file, d.span.line, d.span.col, d.code) == (
        "<string>",
        7,
        13,
        pc.Code.UNKNOWN_NAME,
    )
    assert str(info.value).startswith("<string>:7:13: error[PC103]")
    shown = pc.render_error(info.value)
    assert "   7 |     do: {x: y + 1}\n" in shown
    assert shown.splitlines()[-1].strip() == "^"


def test_loads_errors_use_the_given_name_for_every_stage() -> None:
    with pytest.raises(pc.ModelError) as info:
        pc.loads("model: m\nvars: [\n", name="scratch.yaml")
    d = info.value.diagnostics[0]
    assert (d.span.file, d.span.line, d.code) == ("scratch.yaml", 3, pc.Code.YAML_SYNTAX)
    assert "scratch.yaml" in pc.render_error(info.value)
    with pytest.raises(pc.UsageError) as usage:
        pc.loads(COUNTER, params={"NCPU": 2})
    assert usage.value.diagnostics[0].code == pc.Code.UNKNOWN_PARAM
    assert "/tmp" not in str(usage.value)


def test_a_string_model_checks_and_its_results_name_it() -> None:
    model = pc.loads(COUNTER, name="counter.yaml")
    assert model.file == "counter.yaml"
    result = pc.check(model)
    assert result.file == "counter.yaml"
    small = next(p for p in result.properties if p.id == "small")
    assert (small.verdict, small.outcome) == (pc.Verdict.VIOLATED, pc.Outcome.AS_EXPECTED)
    assert small.span.file == "counter.yaml"
    trace = pc.trace_of(result, "small")
    assert trace is not None
    assert trace.initial == {"x": 0}
    assert [(s.label, dict(s.changes)) for s in trace.steps] == [
        ("inc@cpu0", {"x": n}) for n in (1, 2, 3)
    ]
    assert trace.steps[-1].state == {"x": 3}


def test_loads_follows_extends_from_base_dir_and_leaves_no_file(tmp_path: Path) -> None:
    (tmp_path / "counter.yaml").write_text(COUNTER, encoding="utf-8")
    child = "model: child\nextends: counter.yaml\nremove: {properties: [small]}\n"
    with pytest.raises(pc.ModelError) as info:
        pc.loads(child)  # a string has no folder of its own
    d = info.value.diagnostics[0]
    assert (d.span.file, d.span.line, d.code) == ("<string>", 2, pc.Code.EXTENDS_MISSING)
    assert "counter.yaml" in d.message
    assert d.hint is not None
    assert "base_dir" in d.hint
    model = pc.loads(child, base_dir=tmp_path)
    assert (model.name, model.file) == ("child", "<string>")
    assert [p.id for p in model.properties] == ["range", "deadlock"]
    assert sorted(os.listdir(tmp_path)) == ["counter.yaml"]


def test_check_rejects_params_for_a_loaded_model() -> None:
    with pytest.raises(TypeError, match="params"):
        pc.check(pc.loads(COUNTER), params={"x": 1})


# ---------------------------------------------------------------- (d) enums


def test_options_take_enums_or_their_strings() -> None:
    model = pc.loads(COUNTER)
    typed = pc.check(model, engine=pc.Engine.symbolic, bound=5)
    loose = pc.check(model, engine="symbolic", bound=5)  # type: ignore[arg-type]
    assert typed.engine == loose.engine == "symbolic"
    assert [p.verdict for p in typed.properties] == [p.verdict for p in loose.properties]
    assert pc.Options(backend="python").backend is pc.Backend.python  # type: ignore[arg-type]
    assert pc.Verdict("holds") is pc.Verdict.HOLDS
    assert pc.Verdict.HOLDS != "holds"  # results are enums, never strings


def test_bad_options_raise_type_or_value_errors() -> None:
    model = pc.loads(COUNTER)
    with pytest.raises(ValueError, match="engine: 'z3' is not one of explicit, symbolic, auto"):
        pc.check(model, engine="z3")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="engine: expected a member of Engine"):
        pc.check(model, engine=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_states"):
        pc.check(model, max_states=0)
    with pytest.raises(TypeError, match="params"):
        pc.load(ROOT / "models/none.yaml", params={"mode": 1.5})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="options"):
        pc.check(model, {"engine": "symbolic"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"no property 'smal'.*did you mean 'small'"):
        pc.trace_of(pc.check(model), "smal")


def test_a_property_selection_keeps_the_builtin_ones() -> None:
    result = pc.check(pc.loads(COUNTER), properties="small")
    assert [p.id for p in result.properties] == ["small", "range", "deadlock"]
    with pytest.raises(pc.UsageError):
        pc.check(pc.loads(COUNTER), properties=["big"])


# ---------------------------------------------------------------- (e) a light import


def test_import_preemptcheck_stays_light() -> None:
    run = _python("import preemptcheck, sys; print('numba' in sys.modules, 'z3' in sys.modules)")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False"]
    run = _python(
        "import preemptcheck, sys; "
        "print(sorted(m for m in sys.modules if m.startswith('preemptcheck')))"
    )
    # the package and the leaf that holds the version, nothing else
    assert (
        run.stdout.strip() == "['preemptcheck', 'preemptcheck.core', 'preemptcheck.core.version']"
    )


def test_the_package_exposes_the_api() -> None:
    assert pc.__version__
    assert set(pc.__all__) == {*api.__all__, "__version__"}
    for name in api.__all__:
        assert getattr(pc, name) is getattr(api, name)
    assert set(api.__all__) <= set(dir(pc))
    with pytest.raises(AttributeError, match="no attribute 'lod'"):
        pc.lod  # type: ignore[attr-defined]  # noqa: B018


# ---------------------------------------------------------------- (f) typed for a user


USER_ERRORS = """\
import preemptcheck as pc

model = pc.load("models/none.yaml")
pc.check(model, engine="symbolic")
name: int = pc.check(model).properties[0].id
"""


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None, reason="mypy is not installed (not in the test extra)"
)
def test_a_user_script_passes_mypy_strict(tmp_path: Path) -> None:
    good = tmp_path / "example.py"
    good.write_text("\n".join(_blocks("python")), encoding="utf-8")
    bad = tmp_path / "mistakes.py"
    bad.write_text(USER_ERRORS, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "--no-error-summary", "--hide-error-context", good.name, bad.name],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    # the page's example is clean; a str for an enum and a wrong result type are caught
    assert not [e for e in errors if e.startswith("example.py")], run.stdout
    assert sorted({int(e.split(":")[1]) for e in errors}) == [4, 5], run.stdout
