"""The native backend (numba) against the Python backend, the oracle: random and bundled models.

Both searches must agree exactly: states, transitions, depth, completeness and limit; for
every property the same finding (the same shortest trace, state by state and step by step,
with the same message); coverage and the properties that could not be evaluated somewhere.
The CLI's output must be the same apart from the line that names the backend.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import SWITCHES, write_model
from preemptcheck.engines.explicit import ExplicitRun, Explorer, nativerun
from preemptcheck.engines.explicit.bounds import int64_exact
from preemptcheck.model import instantiations, load_model
from preemptcheck.model.ir import Model
from strategies import models

ROOT = Path(__file__).resolve().parents[1]

# Random models in three streams (xdist runs them side by side). Each costs a numba compile
# of 1-4 s, so the suite runs 3 x 15 of them (3 x 100 took CI to 19 minutes on this machine
# kind; 3 x 40 kept the whole suite near 12 on a fresh clone, where numba compiles each);
# `pytest --backend-examples 100` runs the 300 the backend's acceptance asks for.
EXAMPLES = int(SWITCHES["backend_examples"])  # type: ignore[call-overload]
RANDOM = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _summary(run: ExplicitRun) -> dict[str, object]:
    return {
        "states": run.states,
        "transitions": run.transitions,
        "depth": run.depth,
        "complete": run.complete,
        "limit": run.limit,
        "findings": [
            (f.prop_index, f.trace.states, f.trace.steps, f.trace.message, f.trace.cpu)
            for f in run.findings
        ],
        "coverage": run.coverage,
        "eval_errors": sorted(run.eval_errors),
        "disabled": sorted(run.disabled),
        "symmetry": (run.symmetry, run.full_states),
    }


# the native search's (workers, states per block): one worker in the default blocks, and
# two in blocks of three states, so that small models cross many blocks and levels inside
# them, and limits stop the search in the middle of one
NATIVE_RUNS = ((1, nativerun.BLOCK), (2, 3))
# the mode models (tens of thousands of states): one native run, two workers in the default
# blocks; the small models above cross blocks and levels, these fill blocks
LARGE_RUNS = ((2, nativerun.BLOCK),)


def assert_backends_agree(
    model: Model,
    *,
    symmetry: bool = False,
    runs: tuple[tuple[int, int], ...] = NATIVE_RUNS,
    **kw: object,
) -> str:
    """Runs the Python backend and the native one (see NATIVE_RUNS); returns the backend
    the native runs used (native, unless the model cannot run natively, in which case the
    reason must be a real one)."""
    py = _explorer(model, "python", 1, symmetry).run(**kw)  # type: ignore[arg-type]
    assert py.backend == "python"
    for workers, block in runs:
        default, nativerun.BLOCK = nativerun.BLOCK, block
        try:
            nat = _explorer(model, "native", workers, symmetry).run(**kw)  # type: ignore[arg-type]
        finally:
            nativerun.BLOCK = default
        if nat.backend != "native":
            why = Explorer(model).native_unsupported()
            assert why is not None, "fell back to Python without a reason"
            assert nat.notes
            return nat.backend
        assert _summary(nat) == _summary(py), (workers, block)
    return "native"


def _explorer(model: Model, backend: str, workers: int, symmetry: bool) -> Explorer:
    explorer = Explorer(model, backend=backend, workers=workers)
    if symmetry:
        from preemptcheck.engines.symmetry import analyze

        analysis = analyze(model)
        if analysis.classes:
            explorer.reduce_symmetry(analysis)
    return explorer


def _check_random(model_dir: Path, text: str) -> None:
    model = load_model(write_model(model_dir, text))
    used = assert_backends_agree(model)
    if used != "native":
        ts = Explorer(model).ts
        assert int64_exact(ts, iter(())) is not None, text


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated")


@pytest.mark.slow
@RANDOM
@given(text=models())
def test_random_models_agree(model_dir: Path, text: str) -> None:
    _check_random(model_dir, text)


@pytest.mark.slow
@RANDOM
@given(text=models(member_hazard=False))
def test_random_models_agree_second_stream(model_dir: Path, text: str) -> None:
    _check_random(model_dir, text)


@pytest.mark.slow
@RANDOM
@given(text=models(action_properties=False, max_cpus=3))
def test_random_models_agree_third_stream(model_dir: Path, text: str) -> None:
    _check_random(model_dir, text)


# The mode models share _base.yaml: by default the native agreement runs on the two that
# exercise the most of it (full: nesting, irqs in __schedule; rt: sleeping locks, threaded
# irqs), each a numba compile of 10-15 s on a fresh checkout; `pytest --backend-examples
# 100` (the backend's acceptance run) takes every mode model and param choice.
MODE_MODELS_BY_DEFAULT = ("models/full.yaml", "models/rt.yaml")


def _bundled() -> list[tuple[str, dict[str, str]]]:
    every = int(SWITCHES["backend_examples"]) >= 100  # type: ignore[call-overload]
    cases = []
    for folder in ("models", "models/races"):
        for path in sorted((ROOT / folder).glob("*.yaml")):
            if path.name.startswith("_"):
                continue
            rel = str(path.relative_to(ROOT))
            if folder == "models" and rel not in MODE_MODELS_BY_DEFAULT and not every:
                continue
            for choice in instantiations(rel, {}):
                cases.append((rel, choice))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "params"),
    _bundled(),
    ids=lambda x: x if isinstance(x, str) else ",".join(f"{k}={v}" for k, v in x.items()),
)
def test_bundled_and_race_models_agree(
    path: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    runs = NATIVE_RUNS if "races" in path else LARGE_RUNS
    assert assert_backends_agree(load_model(path, overrides=params), runs=runs) == "native"


@pytest.mark.slow
def test_symmetry_reduced_search_agrees(tmp_path: Path) -> None:
    """Canonicalisation in native code: the same orbit representatives and orbit sizes."""
    model = load_model(str(ROOT / "benchmarks/models/lost-update.yaml"))
    assert assert_backends_agree(model, symmetry=True) == "native"


@pytest.mark.slow
def test_limits_agree() -> None:
    """--max-states and --fail-fast stop both searches at the same state."""
    model = load_model(str(ROOT / "benchmarks/models/lost-update.yaml"))
    for cap in (1, 2, 1000, 5000):
        assert_backends_agree(model, max_states=cap)
    race = load_model(str(ROOT / "models/races/fold-remote-rmw.yaml"))
    assert_backends_agree(race, fail_fast=True)


def _cli(args: list[str], backend: str) -> tuple[str, dict[str, object]]:
    """The text and the JSON output, without what names the backend."""
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    common = [*args, "--no-cache", "--backend", backend]
    text = CliRunner().invoke(app, common).stdout
    data = json.loads(CliRunner().invoke(app, [*common, "--format", "json"]).stdout)
    for m in data["models"]:
        if "stats" in m:
            assert m["stats"].pop("backend") == backend
    return text.replace(f"; {backend} backend)", ")"), data


@pytest.mark.slow
def test_workers_give_the_same_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same text and JSON from the native backend with one worker and with two, and
    from the Python backend."""
    monkeypatch.chdir(ROOT)
    args = ["verify", "models/races/", "models/none.yaml"]  # and a mode model's monitors
    one = _cli(args, "native")
    assert _cli([*args, "--workers", "2"], "native") == one
    assert one == _cli(args, "python")


@pytest.mark.parametrize("workers", ["0", "-1", "100000"])
def test_workers_out_of_range_is_a_usage_error(workers: str) -> None:
    from typer.testing import CliRunner

    from preemptcheck.cli.main import app

    args = ["verify", str(ROOT / "models/full.yaml"), "--workers", workers]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--workers must be between 1 and" in result.output


@pytest.mark.slow
def test_memory_limit_stops_the_native_search(tmp_path: Path) -> None:
    """--max-memory: inconclusive with the partial counts, never a verdict it cannot give."""
    model = load_model(str(ROOT / "benchmarks/models/lost-update.yaml"))
    run = Explorer(model, backend="native").run(max_memory=200_000)
    assert run.backend == "native"
    assert not run.complete
    assert run.limit is not None
    assert run.limit.startswith("memory limit reached")
    assert 0 < run.states <= 200_000 // 28
    full = Explorer(model, backend="python").run()
    assert run.states < full.states


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    ["benchmarks/models/response.yaml", "models/races/lost-wakeup.yaml", "models/latency.yaml"],
)
def test_state_graph_is_the_same_on_both_backends(path: str) -> None:
    """The graph for leads_to and monitors, built natively after a native search: the
    same states in the same order, the same edges, BFS tree and failing step."""
    from preemptcheck.engines.graph import build_graph

    model = load_model(str(ROOT / path))
    graphs = []
    for backend in ("python", "native"):
        explorer = Explorer(model, backend=backend)
        assert explorer.run().backend == backend
        graphs.append(build_graph(explorer, native=backend == "native"))
    py, nat = graphs
    assert nat.states == py.states
    assert (nat.off, nat.dst, nat.sid) == (py.off, py.dst, py.sid)
    assert (nat.parent, nat.via, nat.failing) == (py.parent, py.via, py.failing)


def test_failing_step_is_found_by_the_native_graph(tmp_path: Path) -> None:
    text = """
model: failing
vars:
  x: {type: int, range: [0, 2]}
actions:
  inc: {do: {x: x + 1}}
properties:
  p: {leads_to: {from: 'x == 0', to: 'x == 2'}}
"""
    from preemptcheck.engines.graph import build_graph

    model = load_model(write_model(tmp_path, text))
    graphs = []
    for backend in ("python", "native"):
        explorer = Explorer(model, backend=backend)
        explorer.run()
        graphs.append(build_graph(explorer, native=backend == "native"))
    assert graphs[1].failing == graphs[0].failing
    assert graphs[0].failing is not None


def test_a_model_being_compiled_is_locked_for_other_processes(tmp_path: Path) -> None:
    """Two runs of one model at once compile it once: while one holds the module's lock,
    another process cannot take it (it waits, then loads the compiled code)."""
    import subprocess
    import sys

    from preemptcheck.engines.explicit.native import _compile_lock

    path = str(tmp_path / "m_x.py")
    probe = (
        "import fcntl, sys\n"
        f"f = open({path + '.lock'!r}, 'a')\n"
        "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except BlockingIOError:\n    sys.exit(3)\n"
    )
    with _compile_lock(path):
        held = subprocess.run([sys.executable, "-c", probe], check=False, timeout=60)
    free = subprocess.run([sys.executable, "-c", probe], check=False, timeout=60)
    assert (held.returncode, free.returncode) == (3, 0)
