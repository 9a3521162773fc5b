"""The SVG timeline of a trace (report/timeline.py): lanes, labels, markers, the loop."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import counter_model, write_model
from preemptcheck.checking.check import check_paths
from preemptcheck.checking.options import Options
from preemptcheck.checking.results import ModelResult, PropertyResult, RunResult
from preemptcheck.report.timeline import render_svg, svg_files

ROOT = Path(__file__).resolve().parents[1]
FOLD = "models/races/fold-remote-rmw.yaml"
EXAMPLE = ROOT / "examples" / "timeline-fold-remote-rmw.svg"
NS = "{http://www.w3.org/2000/svg}"


def _run(*paths: str) -> RunResult:
    return check_paths(list(paths), Options())


def _prop(run: RunResult, pid: str) -> tuple[ModelResult, PropertyResult]:
    m = run.models[0]
    assert isinstance(m, ModelResult)
    return m, next(p for p in m.properties if p.id == pid)


def _by_id(root: ET.Element) -> dict[str, ET.Element]:
    return {e.attrib["id"]: e for e in root.iter() if "id" in e.attrib}


def _texts(e: ET.Element) -> str:
    return " ".join(t.text or "" for t in e.iter(f"{NS}text"))


def _example() -> str:
    """The README's example: the lost request of models/races/fold-remote-rmw.yaml."""
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)  # the title names the model as `verify` from the checkout would
    try:
        m, p = _prop(_run(FOLD), "request-not-lost")
    finally:
        os.chdir(cwd)
    assert p.trace is not None
    return render_svg(m.model, p, p.trace, f"{FOLD}: {p.id}")


def test_lost_request_is_drawn_at_step_3() -> None:
    root = ET.fromstring(_example())
    ids = _by_id(root)
    assert root.find(f"{NS}title") is not None
    assert {"lane-cpu0", "lane-cpu1"} <= ids.keys()
    assert "lane-cpu2" not in ids
    step3 = ids["step-3"]
    assert step3.attrib["data-action"] == "preempt_count_inc"
    assert step3.attrib["data-cpu"] == "0"
    assert "preempt_count_inc@cpu0 step 2/2" in _texts(step3)
    assert ids["step-2"].attrib["data-action"] == "resched_remote"
    # CPU1 folds the request into CPU0's word at step 2; CPU0's stale store drops it at 3
    assert "set" in ids["folded-cpu0-2"].attrib["class"].split()
    assert "cleared" in ids["folded-cpu0-3"].attrib["class"].split()
    assert not any(k.startswith("folded-cpu1") for k in ids)
    # the count goes to 1 in the same step
    assert ids["count-cpu0-3"].text == "1"
    violation = ids["violation"]
    assert violation.attrib["data-step"] == "3"
    assert violation.attrib["data-verdict"] == "violated"
    message = _texts(ids["message"])
    assert "request-not-lost: violated (3 steps)" in message
    assert "implies(requested, pc[0].need_resched == 0)" in message


def test_example_is_current(request: pytest.FixtureRequest) -> None:
    """examples/timeline-fold-remote-rmw.svg is what the code draws now (rewritten by
    `pytest --update-golden`)."""
    want = _example()
    if request.config.getoption("--update-golden"):
        EXAMPLE.write_text(want, encoding="utf-8")
    assert EXAMPLE.read_text(encoding="utf-8") == want


def test_witness_is_highlighted() -> None:
    """A reachable property's witness: its last step, with what it shows."""
    m, p = _prop(_run(FOLD), "request-served")
    assert p.trace is not None
    root = ET.fromstring(render_svg(m.model, p, p.trace, "served"))
    assert _by_id(root)["violation"].attrib["data-verdict"] == "holds"
    assert "preempt_schedule: can fire at step 2" in _texts(_by_id(root)["message"])


def _well_formed(svg: str) -> None:
    ET.fromstring(svg)
    assert "<script" not in svg
    rest = svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in rest
    assert "https://" not in rest
    assert "href" not in rest


@pytest.mark.slow
def test_every_bundled_trace_renders(shared_results_dir: Path) -> None:
    # the session's runs of the bundled models (tests/test_ci_outputs.py reads the same)
    paths = [str(ROOT / "models"), str(ROOT / "models" / "races")]
    run = check_paths(paths, Options(cache_dir=str(shared_results_dir)))
    files = svg_files(run)
    assert len(files) >= 50
    assert len({name for name, _ in files}) == len(files)
    for name, svg in files:
        assert name.endswith(".svg")
        _well_formed(svg)
    assert svg_files(run) == files  # the same bytes again


def test_lasso_draws_its_loop(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        counter_model(
            "spin",
            actions="""
            stay:
              when: x == 1
              do: {x: 1}
            """,
            properties="""
            p: {leads_to: {from: 'x == 1', to: 'x == 2'}, expect: violated}
            """,
        ),
    )
    m, p = _prop(_run(path), "p")
    assert p.trace is not None
    assert p.trace.loop is not None
    svg = render_svg(m.model, p, p.trace, "lasso")
    _well_formed(svg)
    ids = _by_id(ET.fromstring(svg))
    loop = ids["loop"]
    assert loop.attrib["data-to"] == str(p.trace.loop)
    assert loop.attrib["data-from"] == str(p.trace.length)
    assert "repeat forever" in _texts(loop)
    assert "origin" in ids


def test_generic_model_renders(tmp_path: Path) -> None:
    """No roles: one lane per CPU with its actions, and the variables the run changes."""
    path = write_model(
        tmp_path,
        counter_model("generic", properties="small: {invariant: 'x < 3', expect: violated}"),
    )
    run = _run(path)
    m, p = _prop(run, "small")
    assert p.trace is not None
    svg = render_svg(m.model, p, p.trace, "generic")
    _well_formed(svg)
    assert svg == render_svg(m.model, p, p.trace, "generic")
    ids = _by_id(ET.fromstring(svg))
    assert "lane-cpu0" in ids
    assert ids["step-3"].attrib["data-action"] == "inc"
    grid = _texts(ids["variables"])
    assert grid.split()[:5] == ["x", "0", "1", "2", "3"]
    assert [name for name, _ in svg_files(run)] == ["model.small.svg"]


def test_bug_line_is_shown() -> None:
    """A `never` on a sleeping step: the kernel's own splat, under the message."""
    run = check_paths(
        [str(ROOT / "models" / "races" / "allow-resched.yaml")],
        Options(overrides={"PREEMPT_COUNT": "y"}),
    )
    m, p = _prop(run, "might-sleep-sees-the-lock")
    assert p.trace is not None
    ids = _by_id(ET.fromstring(render_svg(m.model, p, p.trace, "bug")))
    bug = [t for t in ids["message"].iter(f"{NS}text") if "bug" in t.attrib["class"].split()]
    assert bug[0].text is not None
    assert bug[0].text.startswith("BUG: sleeping function called from invalid context")


def test_range_error_renders(tmp_path: Path) -> None:
    """A last step that cannot complete: its column says so, nothing is read past the end."""
    path = write_model(
        tmp_path,
        counter_model("overflow", actions="over: {when: 'x == 3', do: {x: x + 1}}"),
    )
    m, p = _prop(_run(path), "range")
    assert p.trace is not None
    assert p.trace.failed
    svg = render_svg(m.model, p, p.trace, "range")
    _well_formed(svg)
    assert "error" in _texts(_by_id(ET.fromstring(svg))["lane-cpu0"])


def test_verify_svg_writes_the_timelines(tmp_path: Path) -> None:
    """`verify --svg DIR`: one timeline per traced property; fold-remote-rmw's shows the
    request lost at step 3 (the folded bit cleared while the request stands)."""
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    out = tmp_path / "svg"
    model = str(Path(__file__).resolve().parents[1] / "models/races/fold-remote-rmw.yaml")
    result = CliRunner().invoke(app, ["verify", "--svg", str(out), model])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "fold-remote-rmw.request-not-lost.svg" in names
    root = ET.fromstring((out / "fold-remote-rmw.request-not-lost.svg").read_text())
    ids = _by_id(root)
    assert ids["violation"].attrib["data-step"] == "3"
    assert "cleared" in ids["folded-cpu0-3"].attrib["class"].split()
