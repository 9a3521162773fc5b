"""`cpus: any` (issue 19): a model for every number of CPUs. `verify --engine symbolic` checks
it as --all-cpus does, without the option; everything that needs one number refuses it at
its `cpus:` line (PC113, exit 2); the schema and the loader accept it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from conftest import write_model
from preemptcheck.cli.main import app
from preemptcheck.core.errors import ModelError
from preemptcheck.model import load_model

ROOT = Path(__file__).resolve().parents[1]

LOCK = """\
model: any-lock
cpus: any
vars:
  locked: {type: bool}
  holder: {type: bool, index: cpus}
actions:
  lock:
    when: not locked
    do: {locked: true, holder: true}
  unlock:
    when: holder
    do: {locked: false, holder: false}
properties:
  one-holder:
    invariant: implies(holder, all(not holder[c] for c in cpus if c != self))
  someone-holds:
    reachable: holder
"""


def _run(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(app, list(args))
    assert out.exception is None or isinstance(out.exception, SystemExit), out.output
    return out.exit_code, out.output


@pytest.mark.parametrize("engine", ["symbolic", "auto"])
def test_verify_checks_every_number_of_cpus(tmp_path: Path, engine: str) -> None:
    path = write_model(tmp_path, LOCK)
    code, out = _run("verify", "--no-cache", "--engine", engine, path)
    assert code == 0, out
    assert "one-holder" in out
    assert "holds for every number of CPUs (inductive invariant:" in out
    assert "cpus: any: invariants decided for every number of CPUs from 1" in out
    assert "decided for this instance (2 CPUs)" in out


def test_what_is_not_proved_is_not_said_to_hold(tmp_path: Path) -> None:
    text = LOCK.replace("when: not locked\n", "when: not holder\n")  # no mutual exclusion
    code, out = _run("verify", "--no-cache", "--engine", "symbolic", write_model(tmp_path, text))
    assert code == 3, out  # inconclusive: a counterexample to induction, not a proof
    line = next(x for x in out.splitlines() if "one-holder" in x)
    assert "unknown for every number of CPUs" in line, out


@pytest.mark.parametrize(
    "args",
    [
        ["verify"],
        ["verify", "--engine", "explicit"],
        ["simulate"],
        ["graph"],
        ["rv-export", "--events", "lock"],
    ],
)
def test_what_needs_a_number_refuses_it_at_its_line(tmp_path: Path, args: list[str]) -> None:
    path = write_model(tmp_path, LOCK)
    code, out = _run(*args, path)
    assert code == 2, out
    assert f"{path}:2:7: error[PC113]: cpus: `any` (every number of CPUs)" in out, out
    assert "give it (cpus: 4)" in out
    assert "Traceback" not in out


def test_the_loader(tmp_path: Path) -> None:
    path = write_model(tmp_path, LOCK)
    with pytest.raises(ModelError) as info:
        load_model(path)
    (d,) = info.value.diagnostics
    assert (d.code.value, d.span.line, d.span.col, d.key_path) == ("PC113", 2, 7, "cpus")
    m = load_model(path, allow_any_cpus=True)
    assert (m.cpus, m.cpus_any is not None) == (2, True)
    assert load_model(path, ncpu=5).cpus == 5
    # an `on:` that names CPU 3 needs four
    pinned = LOCK.replace("  unlock:\n", "  unlock:\n    on: 3\n")
    assert load_model(write_model(tmp_path, pinned, "pinned.yaml"), allow_any_cpus=True).cpus == 4
    # a number is a number: `ncpu` changes nothing, and `any` is no longer special
    fixed = write_model(tmp_path, LOCK.replace("cpus: any", "cpus: 3"), "three.yaml")
    assert load_model(fixed, ncpu=5).cpus == 3
    assert load_model(fixed).cpus_any is None
    with pytest.raises(ModelError):
        load_model(write_model(tmp_path, LOCK.replace("cpus: any", "cpus: 0"), "zero.yaml"), ncpu=0)


def test_the_schema_accepts_it() -> None:
    schema = json.loads((ROOT / "docs" / "model.schema.json").read_text())
    doc = yaml.safe_load(LOCK)
    jsonschema.validate(doc, schema)
    assert "`any`" in schema["properties"]["cpus"]["description"]
