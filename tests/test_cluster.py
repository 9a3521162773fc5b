"""verify --cluster: the partitioned search on a local Ray instance against the single-process
search. The same text and JSON (but for the backend they name), on the bundled multi-CPU
models and on a model of 13 million states; a worker killed midway and Ctrl-C make the run
inconclusive, never `holds`; bad specs and a missing Ray are usage errors.

One local Ray instance (two CPUs) per test process: `verify --cluster local:2` inside it
uses the instance the process is connected to (engines/cluster/connect.py), so Ray starts
once per xdist worker, not once per run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from preemptcheck.checking.check import Options, check_paths
from preemptcheck.cli.main import app
from preemptcheck.core import interrupt
from preemptcheck.engines.cluster import connect, search

ROOT = Path(__file__).resolve().parents[1]
BIG = ROOT / "tests/fixtures/cluster/lost-update-13m.yaml"
MULTI_CPU = ["models/races/fold-ipi.yaml", "models/races/fold-remote-rmw.yaml",
             "models/races/lost-wakeup.yaml"]  # fmt: skip
LOST_UPDATE = ROOT / "benchmarks/models/lost-update.yaml"


def _cli(args: list[str], *, json_too: bool) -> tuple[int, str, dict[str, Any] | None]:
    """Exit code, text and JSON of `verify ARGS`, without the backend they name."""
    text = CliRunner().invoke(app, ["verify", *args, "--no-cache"])
    assert "Traceback" not in text.output
    out = text.stdout
    for b in ("python", "native", "cluster"):
        out = out.replace(f"; {b} backend)", ")")
    if not json_too:
        return text.exit_code, out, None
    js = CliRunner().invoke(app, ["verify", *args, "--no-cache", "--format", "json"])
    assert "Traceback" not in js.output
    data = json.loads(js.stdout)
    for m in data["models"]:
        assert m["stats"].pop("backend") in ("python", "native", "cluster")
    assert js.exit_code == text.exit_code
    return text.exit_code, out, data


def _agree(
    args: list[str], monkeypatch: pytest.MonkeyPatch, *, json_too: bool = True
) -> tuple[int, str]:
    monkeypatch.chdir(ROOT)
    single = _cli(args, json_too=json_too)
    cluster = _cli([*args, "--cluster", "local:2"], json_too=json_too)
    assert cluster == single
    return single[0], single[1]


def test_the_bundled_multi_cpu_models_agree(
    ray_instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, text = _agree(MULTI_CPU, monkeypatch)
    assert code == 0
    assert "violated (" in text  # traces compared, not only counts
    assert "(exhaustive)" in text


@pytest.mark.slow
def test_thirteen_million_states_agree(ray_instance: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # the text only (a JSON run of each would double the test's time): it has the counts,
    # the verdicts and the traces
    code, text = _agree([str(BIG.relative_to(ROOT))], monkeypatch, json_too=False)
    assert code == 0
    assert "13,289,616 states, 78,076,620 transitions, depth 46 (exhaustive)" in text
    assert "violated (24 steps), as expected" in text
    assert "holds (witness, 6 steps)" in text


def _capture_actors(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The partition actors of the next runs, as they are made or reused."""
    seen: list[Any] = []
    make = search._workers

    def workers(ray: Any, info: connect.ClusterInfo) -> list[Any]:
        actors = make(ray, info)
        seen[:] = actors
        return actors

    monkeypatch.setattr(search, "_workers", workers)
    return seen


def test_a_killed_worker_makes_the_run_inconclusive(
    ray_instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    actors = _capture_actors(monkeypatch)
    killed: list[int] = []

    def kill_one(path: str, event: object) -> None:
        if not killed and actors:
            pid = ray_instance.get(actors[1].pid.remote())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    options = Options(overrides={"NCPU": "2"}, cluster="local:2")
    run = check_paths([str(LOST_UPDATE)], options, progress=kill_one)
    assert killed
    (m,) = run.models
    assert m.stats.complete is False
    assert m.stats.limit is not None
    assert m.stats.limit.startswith("a cluster worker was lost"), m.stats.limit
    assert 0 < (m.stats.states or 0) < 127_040  # the partial counts
    assert {p.verdict.value for p in m.properties} == {"unknown"}
    assert run.exit_code == 3
    # the next run makes new actors and is whole
    again = check_paths([str(LOST_UPDATE)], options)
    assert again.models[0].stats.states == 127_040
    assert again.exit_code == 0


def test_ctrl_c_stops_the_run_and_its_workers_and_keeps_what_it_decided(
    ray_instance: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Stopped inside a level past the one that violated an invariant: the violation and its
    trace are the single-process search's, the rest is unknown, the workers are killed."""
    text = LOST_UPDATE.read_text().replace(
        "  hardirq-bounded:\n",
        "  shared-stays-small:\n    invariant: shared < 12\n    expect: violated\n"
        "  hardirq-bounded:\n",
    )
    model = tmp_path / "lost-update.yaml"
    model.write_text(text)
    single = check_paths([str(model)], Options()).models[0]
    (violated,) = [p for p in single.properties if p.verdict.value == "violated"]
    assert violated.trace is not None
    depth = len(violated.trace.steps)
    actors = _capture_actors(monkeypatch)
    stopped: list[Any] = []

    def ctrl_c(path: str, event: Any) -> None:
        if not stopped and event.depth > depth + 2:
            stopped.extend(actors)
            interrupt._stop(signal.SIGINT)

    try:
        run = check_paths([str(model)], Options(cluster="local:2"), progress=ctrl_c)
    finally:
        interrupt._requested = None
    (m,) = run.models
    assert stopped
    assert m.stats.complete is False
    assert m.stats.limit == "interrupted by SIGINT"
    assert 0 < (m.stats.states or 0) < (single.stats.states or 0)
    verdicts = {p.id: (p.verdict.value, p.trace) for p in m.properties}
    assert verdicts.pop(violated.id) == ("violated", violated.trace)
    assert {v for v, _ in verdicts.values()} == {"unknown"}
    # the workers were killed: a call to one fails
    with pytest.raises(ray_instance.exceptions.RayActorError):
        ray_instance.get(stopped[0].pid.remote(), timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster", "local:0"], "number of local workers must be 1 to"),
        (["--cluster", "nowhere"], "not a cluster address"),
        (["--cluster", "host:70000"], "port 70000 is not between 1 and 65535"),
        (["--cluster", "local:2", "--max-states", "10"], "--max-states is not supported"),
        (["--cluster", "local:2", "--fail-fast"], "--fail-fast is not supported"),
        (["--cluster", "local:2", "--engine", "symbolic"], "not with --engine symbolic"),
        (["--cluster", "local:2", "--backend", "python"], "not with --backend python"),
    ],
)
def test_bad_cluster_options_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["verify", str(ROOT / "models/full.yaml"), *args])
    assert result.exit_code == 2, result.output
    assert "error[PC203]" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_without_ray_cluster_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    result = CliRunner().invoke(
        app, ["verify", str(ROOT / "models/full.yaml"), "--cluster", "local:2"]
    )
    assert result.exit_code == 2, result.output
    assert "--cluster needs Ray, which is not installed" in result.output
    assert "pip install 'preemptcheck[cluster]'" in result.output


def test_a_run_without_cluster_never_imports_ray() -> None:
    code = (
        "import sys\n"
        "from preemptcheck.cli.main import main\n"
        f"sys.argv = ['preemptcheck', 'verify', {str(ROOT / 'models/races/lost-wakeup.yaml')!r},"
        " '--no-cache']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
        "print('no ray')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert out.stdout.strip().endswith("no ray"), out.stdout + out.stderr


def test_a_model_the_native_backend_refuses_runs_here_with_a_note() -> None:
    """fold-ipi on 4 CPUs reduced by symmetry: a CPU's slice straddles two 64-bit words,
    which the native canonicaliser cannot sort (it was an internal error, exit 4)."""
    args = ["verify", str(ROOT / "models/races/fold-ipi.yaml"), "--set", "NCPU=4",
            "--symmetry", "--no-cache"]  # fmt: skip
    why = "not native because a CPU's slice of the state straddles two 64-bit words"
    native = CliRunner().invoke(app, [*args, "--backend", "native"])
    assert native.exit_code == 0, native.output
    assert f"note: the Python backend explored this model: {why}" in native.stdout
    cluster = CliRunner().invoke(app, [*args, "--cluster", "local:2"])
    assert cluster.exit_code == 0, cluster.output
    assert f"note: the search ran on this machine, not the cluster: {why}" in cluster.stdout
    assert "50 states, 139 transitions, depth 11 (exhaustive; python backend)" in cluster.stdout


def test_a_worker_past_its_memory_stops_the_run_inconclusive(ray_instance: Any) -> None:
    options = Options(overrides={"NCPU": "2"}, cluster="local:2", max_memory=300_000)
    run = check_paths([str(LOST_UPDATE)], options)
    (m,) = run.models
    assert m.stats.complete is False
    assert m.stats.limit == "memory limit reached (a worker's store, --max-memory)"
    assert 0 < (m.stats.states or 0) < 127_040
    assert {p.verdict.value for p in m.properties} == {"unknown"}
    assert run.exit_code == 3
