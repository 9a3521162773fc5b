"""What a strengthened k-induction proof rests on (issue 17, item 4): the invariants are
written in model syntax, in JSON always and in the text with -v, and copied into the model
as `invariant:` properties they load and hold (checked exhaustively by the explicit engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_model
from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import ModelResult, Verdict
from preemptcheck.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "params"),
    [("models/races/fold-ipi.yaml", {"NCPU": "2"}), ("models/full.yaml", {})],
)
def test_the_invariants_are_model_syntax_and_hold(
    tmp_path: Path, path: str, params: dict[str, str]
) -> None:
    model = str(ROOT / path)
    proved = check_file(model, Options(engine="symbolic", overrides=params))
    assert isinstance(proved, ModelResult)
    invariants = proved.invariants
    assert invariants, "no strengthened proof"
    assert any(" in [" in i for i in invariants)
    props = "".join(
        f"  aux{k}:\n    invariant: {json.dumps(i)}\n" for k, i in enumerate(invariants)
    )
    copied = write_model(tmp_path, f"model: copied\nextends: {model}\nproperties:\n{props}")
    checked = check_file(copied, Options(overrides=params))
    assert isinstance(checked, ModelResult)
    verdicts = {p.id: p.verdict for p in checked.properties if p.id.startswith("aux")}
    assert len(verdicts) == len(invariants)
    assert set(verdicts.values()) == {Verdict.HOLDS}
    assert checked.stats.complete


@pytest.mark.slow
def test_verbose_text_lists_them_and_json_always_has_them() -> None:
    model = str(ROOT / "models/races/fold-ipi.yaml")
    args = ["verify", model, "--set", "NCPU=2", "--engine", "symbolic", "--no-cache"]
    plain = CliRunner().invoke(app, args).stdout
    verbose = CliRunner().invoke(app, [*args, "-v"]).stdout
    assert "k-induction strengthened by" not in plain
    assert "k-induction strengthened by" in verbose
    explicit = CliRunner().invoke(app, ["verify", model, "--set", "NCPU=2", "-v", "--no-cache"])
    assert "coverage (states that enable each action): " in explicit.stdout
    assert "coverage" not in CliRunner().invoke(app, [*args[:4], "--no-cache"]).stdout
    doc = json.loads(CliRunner().invoke(app, [*args, "--format", "json"]).stdout)
    (m,) = doc["models"]
    assert m["invariants"]
    assert m["invariants"][0] in verbose
