"""Shared test helpers."""

from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def write_model(tmp_path: Path, text: str, name: str = "model.yaml") -> str:
    """Write a (dedented) YAML model into `tmp_path` and return its path as a string."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


def counter_model(name: str, *, properties: str = "", actions: str = "") -> str:
    """A 4-state counter (x goes 0, 1, 2, 3, back to 0), with more actions and properties."""
    text = f"""
    model: {name}
    vars:
      x: {{type: int, range: [0, 3]}}
    actions:
      inc:
        when: x < 3
        do: {{x: x + 1}}
      reset:
        when: x == 3
        do: {{x: 0}}
"""
    if actions:
        text += textwrap.indent(textwrap.dedent(actions).strip(), " " * 6) + "\n"
    if properties:
        text += "    properties:\n"
        text += textwrap.indent(textwrap.dedent(properties).strip(), " " * 6) + "\n"
    return text


def pytest_addoption(parser) -> None:  # type: ignore[no-untyped-def]
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current output (review the diff)",
    )
    parser.addoption(
        "--update-agreement",
        action="store_true",
        default=False,
        help="draw tests/fixtures/agreement/ again from the model strategy",
    )
    parser.addoption(
        "--backend-examples",
        type=int,
        default=15,
        metavar="N",
        help="random models per stream in tests/test_backends.py (100: the 300 of the native "
        "backend's acceptance, and every mode model natively)",
    )
    parser.addoption(
        "--all-cpus-heavy",
        action="store_true",
        default=False,
        help="also cross-check --all-cpus against the fixed-instance symbolic engine's full "
        "run at 8 and 16 CPUs (minutes) in tests/test_param_agreement.py",
    )
    parser.addoption(
        "--kernel-models",
        default=None,
        metavar="DIR",
        help="a kernel tree whose rvgen .dot files tests/test_kernel_monitors.py also checks",
    )


# where the caller's pip keeps its downloads, taken before pytest_configure replaces
# XDG_CACHE_HOME: tests/test_packaging.py installs into a clean venv from there (speed only)
CALLERS_PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pip"
)

# the suite's own switches (command-line options, never the environment), set at configure
# time: decorators read them when the test modules are collected
SWITCHES: dict[str, object] = {
    "backend_examples": 15,
    "kernel_models": None,
    "all_cpus_heavy": False,
}
_CACHE_HOME = pytest.StashKey[str]()


def _callers_settings() -> list[str]:
    """The caller's variables that change what preemptcheck does or prints: its own
    PREEMPTCHECK_* settings, and GITHUB_ACTIONS (annotations on stdout)."""
    return [
        name for name in os.environ if name.startswith("PREEMPTCHECK_") or name == "GITHUB_ACTIONS"
    ]


def _session_cache_home(config: pytest.Config) -> Path:
    """XDG_CACHE_HOME for the tests: in pytest's cache folder, so the native backend's
    compiled models stay warm from one run to the next, and the same for every xdist worker
    (each computes it from the rootdir)."""
    cache = getattr(config, "cache", None)  # absent under -p no:cacheprovider
    if cache is not None:
        return Path(cache.mkdir("xdg-cache"))
    path = config.rootpath / ".pytest_cache" / "d" / "xdg-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


# fixtures that check every bundled model (a mode model with its monitors takes seconds)
WHOLE_BUNDLE = frozenset({"bundled_results", "bundled", "shared_results", "shared_results_dir"})
# and the one that starts a Ray instance in the test process (seconds, and its workers')
RAY = frozenset({"ray_instance"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs every bundled model checked, or a Ray instance, is slow, whichever
    test of a worker happens to pay for the shared fixture (`pytest -m "not slow"` leaves
    them out).

    The longest tests (LONGEST) run first, then the other slow ones, then the rest, each
    part in pytest-randomly's order (this hook runs after its shuffle; the sort is stable):
    the run ends with tests of a second or less, so neither xdist worker idles while the
    other finishes a test of a minute."""
    for item in items:
        if (WHOLE_BUNDLE | RAY) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    items.sort(
        key=lambda item: (
            not item.nodeid.startswith(LONGEST),
            item.get_closest_marker("slow") is None,
        )
    )


# The tests of 20 s or more on a fresh clone here (`pytest --durations=20`), started first
# (not those that read the session's shared runs: whichever comes first checks the bundle)
LONGEST = (
    "tests/test_cluster.py::test_thirteen_million_states_agree",
    "tests/test_cluster.py::test_the_bundled_multi_cpu_models_agree",
    "tests/test_packaging.py::",
    "tests/test_backends.py::test_random_models_agree",
    "tests/test_backends.py::test_workers_give_the_same_output",
    "tests/test_symbolic.py::test_symbolic_gives_the_explicit_verdicts_on_every_bundled_model",
    "tests/test_bundled_models.py::test_engine_agrees_with_reference_interpreter",
)


@pytest.hookimpl(trylast=True)  # after the cacheprovider has set config.cache
def pytest_configure(config: pytest.Config) -> None:
    """Tests never see the caller's settings: set here, in os.environ, so the subprocesses
    tests start inherit the same environment. That includes signals: a shell without job
    control starts a background command (`pytest &`) with SIGINT ignored, which exec passes
    on, and the interrupt tests need Ctrl-C to reach the processes they start."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    for name in _callers_settings():
        del os.environ[name]
    SWITCHES["backend_examples"] = config.getoption("backend_examples")
    SWITCHES["kernel_models"] = config.getoption("kernel_models")
    SWITCHES["all_cpus_heavy"] = config.getoption("all_cpus_heavy")
    config.stash[_CACHE_HOME] = os.environ["XDG_CACHE_HOME"] = str(_session_cache_home(config))


@pytest.fixture(autouse=True)
def _private_results_cache(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CLI runs in tests check every model (no results cache, which tests/test_cache.py
    turns on where it tests it), and a cache directory would be the test's own anyway.
    A setting another test left in os.environ is gone too."""
    for name in _callers_settings():
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", request.config.stash[_CACHE_HOME])
    monkeypatch.setenv("PREEMPTCHECK_CACHE", "0")
    monkeypatch.setenv("PREEMPTCHECK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def shared_results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results cache shared by the tests of one session, xdist workers included (their
    temporary folders share a parent): a bundled model checked by one worker is read back by
    the other. The cache writes a result by an atomic rename, so a reader finds it whole or
    not at all, and two workers checking the same run at once write the same result."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    path = base / "shared-results"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def shared_results(shared_results_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """For tests that only read the report of a run over the bundled models: the runs are
    reused across them through preemptcheck's own results cache (tests/test_cache.py shows
    a reused result prints the same bytes). Its note on reuse goes to stderr: read stdout."""
    monkeypatch.setenv("PREEMPTCHECK_CACHE", "1")
    monkeypatch.setenv("PREEMPTCHECK_CACHE_DIR", str(shared_results_dir))
    return shared_results_dir


BUNDLED_MODES = ("none", "voluntary", "full", "lazy", "rt")


class _Bundled:
    """The default-option results of the bundled mode models, each checked once per test
    session (a mode model with its 13 monitors takes several seconds), through the shared
    results cache: tests that only read verdicts share them; tests of how a result comes
    about check again."""

    def __init__(self, cache_dir: Path) -> None:
        self._done: dict[str, object] = {}
        self._cache_dir = str(cache_dir)  # shared with the other workers

    def __getitem__(self, mode: str):  # type: ignore[no-untyped-def]
        if mode not in self._done:
            from preemptcheck.checking.check import Options, check_file

            root = Path(__file__).resolve().parents[1]
            path = str(root / "models" / f"{mode}.yaml")
            self._done[mode] = check_file(path, Options(cache_dir=self._cache_dir))
        return self._done[mode]


@pytest.fixture(scope="session")
def bundled_results(shared_results_dir: Path) -> _Bundled:
    return _Bundled(shared_results_dir)


def without_monitors(models: Path) -> None:
    """Copies of the bundled mode models that check properties/core.yaml only: for tests of
    something else than the monitors, which cost most of a mode model's run."""
    for path in models.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(", ../properties/monitors.yaml]", "]"), encoding="utf-8")


@pytest.fixture(scope="session")
def ray_instance() -> Iterator[Any]:
    """One local Ray instance per test process for the cluster tests (tests/test_cluster.py,
    tests/test_cluster_swarm.py; starting one costs seconds): started unless the process
    already has one, and shut down only by whoever started it. `--cluster local:N` runs
    in the tests use this connection and leave it up."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            _node_ip_address="127.0.0.1",
        )
    yield ray
    if started:
        ray.shutdown()
