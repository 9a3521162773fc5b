"""Shared test helpers."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_model(tmp_path: Path, text: str, name: str = "model.yaml") -> str:
    """Write a (dedented) YAML model into `tmp_path` and return its path as a string."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


def pytest_addoption(parser) -> None:  # type: ignore[no-untyped-def]
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/ from the current output (review the diff)")
