"""Worst-case latency per mode (issue 5): every figure of the README's table, pinned; the
witnesses replayed; a query from the command line; what replay refuses."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import write_model
from preemptcheck.checking.check import Options
from preemptcheck.checking.latency import LatencyResult, LatencyRun, Query, latency_paths
from preemptcheck.cli.main import app
from preemptcheck.model import load_model
from preemptcheck.model.ir import PropKind
from preemptcheck.semantics.trace import ReplayError, replay_latency

ROOT = Path(__file__).resolve().parents[1]
MODES = ("none", "voluntary", "full", "lazy", "rt")

# models/latency.yaml, `latency --all-modes`: per IRQOFF_ENABLE, property -> one figure per
# mode (None: the property is not checked in that mode). Derivations in properties/latency.yaml.
EXPECTED = {
    "false": {
        # NONE/VOLUNTARY: a kernel loop without cond_resched()/might_resched() never
        # reschedules; the preemptible modes always do, after arbitrarily many steps
        "need-resched-served": ("never", "never", "unbounded", "unbounded", "unbounded"),
        # VOLUNTARY: at the first might_sleep(); NONE: might_resched() is empty
        "need-resched-at-first-might-resched": ("never", "1", None, None, None),
        # every mode: the interrupt that set it returns to user and schedules (irq_exit,
        # irqentry_exit, __schedule, context_switch, and a tick or wakeup in between)
        "served-at-return-to-user": ("5", "5", "5", "5", "5"),
        "lazy-request-served": (None, None, None, "unbounded", None),
        "lazy-promoted-by-first-tick": (None, None, None, "1", None),
        # a preempt-disabled section can span any number of ticks
        "lazy-within-one-tick": (None, None, None, "unbounded", None),
        "lazy-served-at-preemptible-tick": (None, None, None, "6", None),
    },
    "true": {
        # preempt_enable() inside local_irq_disable(): FULL, LAZY and RT can be starved (§7.9)
        "need-resched-served": ("never",) * 5,
        "need-resched-at-first-might-resched": ("never", "never", None, None, None),
        "served-at-return-to-user": ("5", "5", "5", "5", "5"),
        "lazy-request-served": (None, None, None, "never", None),
        "lazy-promoted-by-first-tick": (None, None, None, "1", None),
        "lazy-within-one-tick": (None, None, None, "never", None),
        "lazy-served-at-preemptible-tick": (None, None, None, "6", None),
    },
}


@pytest.fixture(scope="module")
def all_modes() -> LatencyRun:
    return latency_paths([str(ROOT / "models" / "latency.yaml")], Options(), all_modes=True)


def _figures(run: LatencyRun) -> dict[str, dict[str, tuple[str | None, ...]]]:
    out: dict[str, dict[str, list[str | None]]] = {}
    for r in run.results:
        assert isinstance(r, LatencyResult)
        params = dict(r.params)
        table = out.setdefault(str(params["IRQOFF_ENABLE"]).lower(), {})
        for c in r.cells:
            row = table.setdefault(c.prop, [None] * len(MODES))
            row[MODES.index(str(params["mode"]))] = c.worst
    return {k: {p: tuple(v) for p, v in t.items()} for k, t in out.items()}


@pytest.mark.slow
def test_latency_table_of_the_modes(all_modes: LatencyRun) -> None:
    assert all_modes.exit_code == 0
    assert _figures(all_modes) == EXPECTED


@pytest.mark.slow
def test_every_witness_is_replayed_and_shows_its_figure(all_modes: LatencyRun) -> None:
    seen = set()
    for r in all_modes.results:
        assert isinstance(r, LatencyResult)
        for c in r.cells:
            assert c.trace is not None, (r.params, c.prop)
            prop = next(p for p in r.model.properties if p.id == c.prop)
            assert prop.response is not None
            counted = prop.response.count if prop.response.count_max is not None else None
            replay_latency(r.model, prop.response, c.trace, counted, c.worst)  # again
            if c.worst in ("never", "unbounded"):
                assert c.trace.loop is not None
            else:
                assert c.trace.loop is None
            seen.add(c.worst if not c.worst.isdigit() else "count")
            # a witness for a different figure is refused
            other = "never" if c.worst != "never" else "unbounded"
            with pytest.raises(ReplayError):
                replay_latency(r.model, prop.response, c.trace, counted, other)
    assert seen == {"never", "unbounded", "count"}


@pytest.mark.slow
def test_replay_refuses_a_wrong_count(all_modes: LatencyRun) -> None:
    r = next(
        x
        for x in all_modes.results
        if isinstance(x, LatencyResult) and dict(x.params)["mode"] == "lazy"
    )
    cell = next(c for c in r.cells if c.prop == "served-at-return-to-user")
    prop = next(p for p in r.model.properties if p.id == cell.prop)
    assert cell.trace is not None
    assert prop.response is not None
    replay_latency(r.model, prop.response, cell.trace, None, "5")
    with pytest.raises(ReplayError, match="answered"):
        replay_latency(r.model, prop.response, cell.trace, None, "4")
    shorter = dataclasses.replace(cell.trace, origin=cell.trace.origin + 1)
    with pytest.raises(ReplayError):
        replay_latency(r.model, prop.response, shorter, None, "5")


def test_lost_wakeup_sleeper_is_woken_only_in_the_correct_order() -> None:
    run = latency_paths([str(ROOT / "models" / "races" / "lost-wakeup.yaml")], Options())
    got = {}
    for r in run.results:
        assert isinstance(r, LatencyResult)
        p = dict(r.params)
        (cell,) = r.cells
        got[(p["order"], p["preempt_blocks"], p["waker"])] = cell.worst
    assert got.pop(("correct", False, "ordered")) == "2"  # the waker's two steps
    assert set(got.values()) == {"never"}
    assert len(got) == 7


def test_query_from_the_command_line(tmp_path: Path) -> None:
    # in LAZY, a lazy request with only the tick fair: the task may stay in a section for ever
    lazy = str(ROOT / "models" / "lazy.yaml")
    q = Query(
        "tif_lazy[curr]",
        "tag:schedule",
        "sched_tick",
        ("irq_exit", "irqentry_exit"),
        ("irq_enter", "sched_tick"),
    )
    run = latency_paths([lazy], Options(), query=q)
    (r,) = run.results
    assert isinstance(r, LatencyResult)
    (cell,) = r.cells
    assert (cell.prop, cell.unit, cell.worst) == ("latency", "steps of sched_tick", "never")
    assert cell.trace is not None
    assert cell.trace.loop is not None
    # the query is not added to the model file's own properties
    assert all(p.id != "latency" for p in load_model(lazy).properties)
    # in FULL the lazy bit is never set: nothing to measure
    run = latency_paths([str(ROOT / "models" / "full.yaml")], Options(), query=q)
    (r,) = run.results
    assert isinstance(r, LatencyResult)
    assert r.cells[0].worst == "n/a"


def test_query_errors_point_into_the_query() -> None:
    lazy = str(ROOT / "models" / "lazy.yaml")
    run = latency_paths([lazy], Options(), query=Query("tif_lazzy[curr]", "tag:schedule"))
    assert run.exit_code == 2
    (failure,) = run.results
    assert not isinstance(failure, LatencyResult)
    (d,) = failure.diagnostics
    assert d.span.file == "<latency query>"
    assert "tif_lazzy" in d.message
    assert "did you mean" in (d.hint or "") or "tif_lazy" in (d.hint or "")
    run = latency_paths([lazy], Options(), query=Query("tif_lazy[curr]", "tag:schedule", "tik"))
    (failure,) = run.results
    assert not isinstance(failure, LatencyResult)
    assert "unknown action 'tik'" in failure.diagnostics[0].message


def test_a_model_without_response_properties_has_no_table(tmp_path: Path) -> None:
    path = write_model(
        tmp_path,
        """
        model: plain
        vars:
          x: {type: bool}
        actions:
          flip: {do: {x: not x}}
    """,
    )
    run = latency_paths([path], Options())
    (r,) = run.results
    assert isinstance(r, LatencyResult)
    assert r.cells == ()
    missing = latency_paths([str(tmp_path / "missing.yaml")], Options())
    assert missing.exit_code == 2
    assert all(p.kind != PropKind.LEADS_TO for p in load_model(path).properties)


# ---------------------------------------------------------------- the command


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "x"], "--from and --to go together"),
        (["--count", "tick"], "belong to a --from/--to query"),
        (["--all-modes", "--mode", "full"], "drop --mode"),
        (["--max-states", "0"], "--max-states must be at least 1"),
    ],
)
def test_latency_usage_errors(args: list[str], message: str) -> None:
    code, out = _cli("latency", str(ROOT / "models" / "lazy.yaml"), *args)
    assert code == 2
    assert message in out


@pytest.mark.slow
def test_latency_json_markdown_and_witnesses() -> None:
    path = str(ROOT / "models" / "latency.yaml")
    code, out = _cli("latency", path, "--format", "json", "--set", "IRQOFF_ENABLE=false")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, json.loads((ROOT / "docs" / "latency.schema.json").read_text()))
    (table,) = doc["tables"]
    assert table["modes"] == ["full"]
    cell = next(r for r in table["rows"] if r["property"] == "need-resched-served")["cells"]
    assert cell["full"]["worst"] == "unbounded"
    assert cell["full"]["witness"]["loop"] is not None
    code, out = _cli("latency", path, "--format", "markdown", "--mode", "lazy")
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert "| `lazy-promoted-by-first-tick` | steps of sched_tick | 1 |" in rows
    code, out = _cli(
        "latency",
        path,
        "--mode",
        "voluntary",
        "--set",
        "IRQOFF_ENABLE=false",
        "--property",
        "need-resched-at-first-might-resched",
        "--witness",
    )
    assert code == 0
    assert "need-resched-at-first-might-resched, mode voluntary: 1 (steps of might_sleep)" in out
    assert "might_sleep" in out.split("mode voluntary: 1")[1]  # the trace ends with it
    code, out = _cli("latency", path, "--max-states", "10")
    assert code == 3
    assert "unknown" in out


def test_failing_steps_make_figures_unknown_not_never(tmp_path: Path) -> None:
    # x reaches 2 and `inc` then fails: without the failing step the state would look like
    # a stop, and "never" would be a wrong answer
    path = write_model(
        tmp_path,
        """
        model: rng
        vars:
          x: {type: int, range: [0, 2]}
        actions:
          inc: {do: {x: x + 1}}
        properties:
          back:
            leads_to: {from: x == 1, to: x == 0}
    """,
    )
    run = latency_paths([path], Options())
    (r,) = run.results
    assert isinstance(r, LatencyResult)
    assert r.cells[0].worst == "unknown"
    assert "assigns 3 to x" in r.cells[0].reason
    assert run.exit_code == 3
    code, out = _cli("verify", path)
    assert code == 1  # range is violated
    assert "back       unknown: not checked: some steps of the model fail" in out
