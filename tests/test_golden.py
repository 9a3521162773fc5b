"""Golden traces: every trace the bundled models print, pinned byte for byte.

Regenerate with `pytest tests/test_golden.py --update-golden` and review the diff: a changed
trace is a changed claim about the kernel.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preemptcheck.checking.check import Options, check_file
from preemptcheck.model import instantiations
from preemptcheck.report.jsonout import dumps, itf_document
from preemptcheck.report.text import render_trace

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
MODES = ("none", "voluntary", "full", "lazy", "rt")


def _runs() -> list[tuple[str, str, dict[str, str]]]:
    """(golden folder, model file relative to the root, param choice) of every bundled run."""
    out = [(mode, f"models/{mode}.yaml", {}) for mode in MODES]
    for path in sorted((ROOT / "models" / "races").glob("*.yaml")):
        for choice in instantiations(str(path), {}):
            suffix = "." + ",".join(f"{k}={v}" for k, v in choice.items()) if choice else ""
            out.append((f"races/{path.stem}{suffix}", f"models/races/{path.name}", choice))
    return out


def _cases() -> list[tuple[str, str, dict[str, str], str]]:
    return [(*run, kind) for run in _runs() for kind in ("txt", "itf")]


@pytest.mark.slow
@pytest.mark.parametrize(("folder", "file", "choice", "kind"), _cases(),
                         ids=[f"{c[0]}-{c[3]}" for c in _cases()])
def test_golden_traces(folder: str, file: str, choice: dict[str, str], kind: str,
                       request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
                       shared_results_dir: Path) -> None:
    monkeypatch.chdir(ROOT)  # paths in traces (a BUG line's file) as a user in the repo sees them
    # one run for both kinds: whichever comes second reads it from the shared results cache
    result = check_file(file, Options(overrides=choice, cache_dir=str(shared_results_dir)))
    rendered: dict[str, str] = {}
    for p in result.properties:
        if p.trace is None:
            continue
        if kind == "txt":
            rendered[f"{p.id}.txt"] = render_trace(result.model, p, p.trace)
        else:
            doc = itf_document(result.model, p, p.trace)
            doc["#meta"]["source"] = file   # independent of the checkout path
            rendered[f"{p.id}.itf.json"] = dumps(doc)
    assert rendered, "every bundled model has traces (witnesses or counterexamples)"
    where = GOLDEN / folder
    suffix = ".txt" if kind == "txt" else ".itf.json"
    if request.config.getoption("--update-golden"):
        where.mkdir(parents=True, exist_ok=True)
        for old in where.glob(f"*{suffix}"):
            old.unlink()
        for name, text in rendered.items():
            (where / name).write_text(text)
        return
    existing = {p.name: p.read_text() for p in where.glob(f"*{suffix}")}
    assert sorted(existing) == sorted(rendered), "traces added or removed: --update-golden"
    for name, text in rendered.items():
        assert text == existing[name], f"{folder}/{name} changed: review, then --update-golden"
    if kind == "itf":
        for text in rendered.values():
            assert json.loads(text)["#meta"]["format"] == "ITF"
