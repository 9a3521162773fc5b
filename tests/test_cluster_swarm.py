"""`simulate --cluster`: the walks of one seed shared out over Ray workers; a violation is
found and its printed command repeats it on one machine, every walk runs when nothing stops
them (the result is the single-process one), a lost worker fails the run (exit 3), Ctrl-C
stops the workers, and without Ray the option says what to install."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import signal
import sys
import threading
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import write_model
from preemptcheck.checking.simulate import (
    Mark,
    SimOptions,
    SimProperty,
    SimReport,
    SimResult,
    Status,
    simulate_path,
)
from preemptcheck.cli.main import app
from preemptcheck.cli.simulate import document, render_text
from preemptcheck.core import interrupt
from preemptcheck.engines.simulate import Order, SimProgress, omitted

UNIFORM, SWARM = Order.UNIFORM, Order.SWARM

ROOT = Path(__file__).resolve().parents[1]

GRID = """
    model: grid
    vars:
      x: {type: int, range: [0, TOP]}
      y: {type: int, range: [0, TOP]}
    actions:
      inc:
        when: x < TOP
        do: {x: x + 1}
      incy:
        when: y < TOP
        do: {y: y + 1}
      reset:
        when: x == TOP
        do: {x: 0}
      resety:
        do: {y: 0}
    properties:
      rare:
        invariant: RARE
      corner:
        reachable: x == TOP and y == TOP
      never-top:
        invariant: x < TOP
        expect: violated
"""


def grid(top: int, rare: str) -> str:
    return GRID.replace("TOP", str(top)).replace("RARE", rare)


SOUND = grid(7, "x <= 7")
# x and y climb apart to 15, y reset by an action always enabled: uniform walks of 40 steps
# almost never see both at 12 (seed 1: not in 2,000), walks that leave resety out often do
DEEP = grid(15, "not (x == 12 and y == 12)")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["simulate", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def only(report: SimReport) -> SimResult:
    (result,) = report.results
    assert isinstance(result, SimResult), result
    return result


def prop(result: SimResult, pid: str) -> SimProperty:
    return next(p for p in result.properties if p.id == pid)


def swarm_workers(title: str) -> list[int]:
    """This process's Ray workers whose process title starts with `title` (Ray's workers
    are its descendants; a swarm actor running walks is titled ray::_Worker.walks)."""
    children: dict[int, list[int]] = {}
    titles: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            titles[int(entry)] = (
                Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            )
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [os.getpid()]
    while todo:
        for kid in children.get(todo.pop(), []):
            todo.append(kid)
            if titles.get(kid, "").startswith(title):
                out.append(kid)
    return out


# ---------------------------------------------------------------- found, and repeated


def test_the_swarm_order_finds_what_uniform_walks_miss(tmp_path: Path) -> None:
    path = write_model(tmp_path, DEEP)
    uniform = only(simulate_path(path, SimOptions(seed=1, runs=2000, depth=40)))
    assert prop(uniform, "rare").status == Status.NOT_VIOLATED
    swarm = only(simulate_path(path, SimOptions(seed=1, runs=2000, depth=40, order=SWARM)))
    p = prop(swarm, "rare")
    assert (p.status, p.mark) == (Status.VIOLATED, Mark.UNEXPECTED)
    assert p.trace is not None
    assert p.run is not None
    # the walk starts none of the actions it left out (something else could always step)
    assert p.omitted == omitted(swarm.model, 1, p.run)
    assert p.omitted
    taken = {label.action for label in p.trace.steps}
    assert not taken & set(p.omitted), (taken, p.omitted)


@pytest.mark.usefixtures("ray_instance")
def test_a_violation_is_found_and_its_printed_command_repeats_it(tmp_path: Path) -> None:
    path = write_model(tmp_path, DEEP)
    args = ["--seed", "1", "--runs", "20000", "--depth", "40", "--order", "swarm"]
    code, out, _ = invoke(path, *args, "--cluster", "local:2")
    assert code == 1, out
    assert ", swarm order, on 2 workers (cluster local:2)" in out
    assert "stopped at the first trace that goes against an expectation" in out
    m = re.search(r"FAIL +rare +violated \((\d+) steps, walk (\d+)\), expected holds", out)
    assert m is not None, out
    walks = re.search(r"1 unexpected in ([\d,]+) walks", out)
    assert walks is not None, out
    assert int(walks[1].replace(",", "")) < 20000  # the swarm stopped
    shown = out[m.start() :]
    assert re.search(rf"walk {m[2]} leaves out the actions: [a-z, ]+\n", shown)
    hint = re.findall(r"repeat this walk: preemptcheck simulate (.*)", shown)[0]
    assert hint.endswith(f"--order swarm --depth 40 --seed 1 --run {m[2]}")
    # on one machine, no cluster: the same walk, the same trace, the same verdict
    code, again, _ = invoke(*shlex.split(hint))
    assert code == 1, again
    assert re.search(rf"FAIL +rare +violated \({m[1]} steps, walk {m[2]}\)", again), again
    table = shown[shown.index("step  cpu") : shown.index("repeat this walk")]
    assert table in again


@pytest.mark.usefixtures("ray_instance")
@pytest.mark.parametrize("order", [UNIFORM, SWARM])
def test_with_nothing_to_stop_them_every_walk_runs_as_on_one_machine(
    tmp_path: Path, order: Order
) -> None:
    # `never-top` is violated as expected and `corner` witnessed: neither stops the swarm
    path = write_model(tmp_path, SOUND)
    options = SimOptions(seed=3, runs=300, depth=40, order=order)
    one = only(simulate_path(path, options))
    report = simulate_path(path, dataclasses.replace(options, cluster="local:2"))
    many = only(report)
    assert report.exit_code == 0
    assert (many.run.runs, many.run.limit, many.run.stopped, many.run.workers) == (
        300,
        None,
        None,
        2,
    )
    assert many.run.findings  # there is something to compare
    same = ("runs", "steps", "states", "stuck", "findings", "unknown")
    assert [getattr(many.run, f) for f in same] == [getattr(one.run, f) for f in same]
    assert many.properties == one.properties
    text = render_text(report)
    assert "no unexpected violation in 300 walks of at most 40 steps (seed 3)" in text
    doc = document(report)
    schema = json.loads((ROOT / "docs" / "simulate.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert (doc["cluster"], doc["models"][0]["walks"], doc["models"][0]["workers"]) == (
        "local:2",
        300,
        2,
    )


# ---------------------------------------------------------------- faults


@pytest.mark.usefixtures("ray_instance")
def test_workers_the_cluster_has_no_cpu_for_are_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the Ray instance has 2 CPUs: the third worker of local:3 never starts
    from preemptcheck.engines.cluster import swarm

    monkeypatch.setattr(swarm, "START", 1.0)
    path = write_model(tmp_path, SOUND)
    r = only(simulate_path(path, SimOptions(seed=2, runs=50, depth=20, cluster="local:3")))
    assert (r.run.runs, r.run.limit) == (50, None)
    assert r.run.workers in (1, 2)  # those up when START ran out (both, unless one was slow)


class Killer:
    """Kills the first swarm worker it sees running walks (SIGKILL), from a thread."""

    def __init__(self) -> None:
        self.killed: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.wait(0.02):
            busy = swarm_workers("ray::_Worker.walks")
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                self.killed.append(busy[0])
                return

    def __enter__(self) -> Killer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


@pytest.mark.usefixtures("ray_instance")
def test_a_worker_killed_mid_run_fails_the_run_with_the_counts_so_far(tmp_path: Path) -> None:
    # two param choices: the kill comes in the first; the second gets a new worker
    path = write_model(
        tmp_path,
        SOUND.replace("    vars:", "    params:\n      k: {values: [1, 2], default: 1}\n    vars:"),
    )
    args = ["--seed", "1", "--runs", "2000", "--depth", "30", "--set", "k=1,2"]
    with Killer() as killer:
        code, out, _ = invoke(path, *args, "--cluster", "local:2", "--format", "json")
    assert killer.killed
    doc = json.loads(out)  # stdout holds the report alone, whatever Ray says on the way
    assert code == doc["exit_code"] == 3
    first, second = doc["models"]
    assert first["params"] == {"k": 1}
    lost = r"worker [12] of 2 lost \(\w+\): its walks \d+-\d+ not counted"
    assert re.fullmatch(lost, first["limit"]), first["limit"]
    assert first["walks"] < 2000
    assert (second["walks"], second["limit"], second["workers"]) == (2000, None, 2)
    # in text: the walks that ran, never a clean "in 2,000 walks"
    with Killer() as killer:
        code, text, _ = invoke(path, *args[:-2], "--cluster", "local:2")
    assert killer.killed
    assert code == 3
    m = re.search(r"simulation: ([\d,]+) walks of at most 30 steps, seed 1, on 2 workers", text)
    assert m is not None, text
    assert m[1] != "2,000"
    assert re.search(r"stopped early: worker [12] of 2 lost", text)
    assert "2,000 walks" not in text


@pytest.mark.usefixtures("ray_instance")
def test_ctrl_c_stops_the_workers_and_reports_what_ran(tmp_path: Path) -> None:
    path = write_model(tmp_path, SOUND)
    sent: list[bool] = []

    def interrupt_once(_: str, p: SimProgress) -> None:
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    with interrupt.handling():
        options = SimOptions(seed=1, runs=200_000, depth=30, cluster="local:2")
        report = simulate_path(path, options, progress=interrupt_once)
    r = only(report)
    assert (report.interrupted, report.exit_code) == ("SIGINT", 130)
    assert r.run.limit == "interrupted by SIGINT"
    assert r.run.runs < 200_000


# ---------------------------------------------------------------- usage


def test_without_ray_the_option_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_model(tmp_path, SOUND)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code, out, err = invoke(path, "--runs", "5", "--cluster", "local:2")
    assert (code, out) == (2, "")
    assert "error[PC" in err
    assert "--cluster needs Ray" in err
    assert "pip install 'preemptcheck[cluster]'" in err
    # and without --cluster, simulate does not need it
    code, out, _ = invoke(path, "--runs", "5")
    assert code == 0, out


@pytest.mark.parametrize("spec", ["", "local:0", "local:x", "nowhere", "host:99999"])
def test_a_bad_cluster_spec_is_a_usage_error(tmp_path: Path, spec: str) -> None:
    path = write_model(tmp_path, SOUND)
    code, out, err = invoke(path, "--runs", "5", "--cluster", spec)
    assert (code, out) == (2, "")
    assert f"--cluster {spec!r}" in err
