"""Shared test helpers."""

from __future__ import annotations

import textwrap
from pathlib import Path

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
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/ from the current output (review the diff)")
    parser.addoption("--update-agreement", action="store_true", default=False,
                     help="draw tests/fixtures/agreement/ again from the model strategy")



@pytest.fixture(autouse=True)
def _private_results_cache(tmp_path_factory: pytest.TempPathFactory,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs in tests check every model (no results cache, which tests/test_cache.py
    turns on where it tests it), and a cache directory would be the test's own anyway."""
    monkeypatch.setenv("PREEMPTCHECK_CACHE", "0")
    monkeypatch.setenv("PREEMPTCHECK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


BUNDLED_MODES = ("none", "voluntary", "full", "lazy", "rt")


class _Bundled:
    """The default-option results of the bundled mode models, each checked once per test
    session (a mode model with its 13 monitors takes several seconds): tests that only
    read verdicts share them; tests of how a result comes about check again."""

    def __init__(self) -> None:
        self._done: dict[str, object] = {}

    def __getitem__(self, mode: str):  # type: ignore[no-untyped-def]
        if mode not in self._done:
            from preemptcheck.checking.check import Options, check_file

            root = Path(__file__).resolve().parents[1]
            self._done[mode] = check_file(str(root / "models" / f"{mode}.yaml"), Options())
        return self._done[mode]


@pytest.fixture(scope="session")
def bundled_results() -> _Bundled:
    return _Bundled()


def without_monitors(models: Path) -> None:
    """Copies of the bundled mode models that check properties/core.yaml only: for tests of
    something else than the monitors, which cost most of a mode model's run."""
    for path in models.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(", ../properties/monitors.yaml]", "]"), encoding="utf-8")
