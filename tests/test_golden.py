"""Golden traces: every trace the bundled models print, pinned byte for byte.

Regenerate with `pytest tests/test_golden.py --update-golden` and review the diff: a changed
trace is a changed claim about the kernel.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preemptcheck.check import Options, check_file
from preemptcheck.report.jsonout import dumps, itf_document
from preemptcheck.report.text import render_trace

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
MODES = ("none", "voluntary", "full", "lazy", "rt")


def _cases() -> list[tuple[str, str]]:
    return [(mode, kind) for mode in MODES for kind in ("txt", "itf")]


@pytest.mark.parametrize(("mode", "kind"), _cases())
def test_golden_traces(mode: str, kind: str, request: pytest.FixtureRequest) -> None:
    result = check_file(str(ROOT / "models" / f"{mode}.yaml"), Options())
    rendered: dict[str, str] = {}
    for p in result.properties:
        if p.trace is None:
            continue
        if kind == "txt":
            rendered[f"{p.id}.txt"] = render_trace(result.model, p, p.trace)
        else:
            doc = itf_document(result.model, p, p.trace)
            doc["#meta"]["source"] = f"models/{mode}.yaml"   # independent of the checkout path
            rendered[f"{p.id}.itf.json"] = dumps(doc)
    assert rendered, "every bundled model has traces (witnesses and the folklore invariant)"
    folder = GOLDEN / mode
    suffix = ".txt" if kind == "txt" else ".itf.json"
    if request.config.getoption("--update-golden"):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"*{suffix}"):
            old.unlink()
        for name, text in rendered.items():
            (folder / name).write_text(text)
        return
    existing = {p.name: p.read_text() for p in folder.glob(f"*{suffix}")}
    assert sorted(existing) == sorted(rendered), "traces added or removed: --update-golden"
    for name, text in rendered.items():
        assert text == existing[name], f"{mode}/{name} changed: review, then --update-golden"
    if kind == "itf":
        for text in rendered.values():
            assert json.loads(text)["#meta"]["format"] == "ITF"
