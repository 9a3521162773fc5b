"""Proofs for every number of CPUs (engines/param): fold-ipi's request holds for every count
with its invariant printed in model syntax, every printed conjunct parses and holds on small
instances, a planted bug gets a counterexample to induction that is a real step of the
reference semantics, what the encoding cannot express is refused at its location, and an
`unknown` is never a proof."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from preemptcheck.checking.check import Options, check_model
from preemptcheck.checking.results import Verdict
from preemptcheck.cli.main import app
from preemptcheck.engines.param import ParamOutcome, ParamRun, prove_all_cpus, prove_fixed_with
from preemptcheck.engines.param.fixed import PREFIX, instance_with
from preemptcheck.engines.symbolic import Symbolic
from preemptcheck.model import load_model
from preemptcheck.model.ir import Model
from preemptcheck.semantics.reference import Reference

ROOT = Path(__file__).resolve().parents[1]
FOLD = str(ROOT / "models" / "races" / "fold-ipi.yaml")


pytestmark = pytest.mark.slow  # each proof for every count of fold-ipi takes 5-15 s


@pytest.fixture(scope="module")
def fold() -> tuple[Model, ParamRun]:
    model = load_model(FOLD)
    return model, prove_all_cpus(model)


def _outcome(run: tuple[Model, ParamRun], pid: str):  # type: ignore[no-untyped-def]
    model, r = run
    return r.outcomes[[p.id for p in model.properties].index(pid)]


def _variant(tmp_path: Path, old: str, new: str, name: str = "variant.yaml") -> str:
    text = Path(FOLD).read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return str(path)


def test_fold_ipi_request_not_lost_holds_for_every_count(fold) -> None:  # type: ignore[no-untyped-def]
    out = _outcome(fold, "request-not-lost")
    assert out.status == "holds-all", out.reason
    assert out.invariant, "the proof rests on more than the property"
    assert out.least == 1
    for pid in ("fold-only-with-request", "count-not-lost"):
        assert _outcome(fold, pid).status == "holds-all"
    for pid in ("request-served", "transient-unfolded-request", "range", "deadlock"):
        assert _outcome(fold, pid).status == "not-decided"
    assert fold[1].work > 0


def test_every_printed_conjunct_parses_and_holds_on_two_and_three_cpus(fold) -> None:  # type: ignore[no-untyped-def]
    model, run = fold
    conjuncts = sorted({c for o in run.outcomes for c in o.invariant})
    assert conjuncts
    for n in (2, 3):
        inst = instance_with(model, n, conjuncts)
        result = check_model(FOLD, inst, Options(), None)  # the explicit engine
        mine = [p for p in result.properties if p.id.startswith(PREFIX)]
        assert len(mine) == len(conjuncts)
        assert all(p.verdict == Verdict.HOLDS for p in mine), [
            (p.id, p.reason) for p in mine if p.verdict != Verdict.HOLDS
        ]


LOCK = """
model: one-lock
params:
  NCPU: {values: [2, 3], default: 2}
cpus: NCPU
vars:
  locked: {type: bool}
  holder: {type: bool, index: cpus}
  pc: {type: word, bits: 32, fields: {count: [0, 8]}, index: cpus, init: 0}
actions:
  lock:
    when: not locked
    do: {locked: true, holder: true, pc: pc + 1}
  unlock:
    when: holder
    do: {locked: false, holder: false, pc: pc - 1}
properties:
  one-holder:
    invariant: implies(holder, all(not holder[c] for c in cpus if c != self))
  held-is-atomic:
    invariant: implies(holder, pc.count != 0)
  no-unlock-while-unlocked:
    never: unlock
    when: not locked
  locks-once:
    never: lock
    expect: violated
"""


def test_the_fixed_instance_engine_reuses_the_invariant(tmp_path: Path) -> None:
    path = tmp_path / "lock.yaml"
    path.write_text(LOCK)
    model = load_model(str(path))
    run = prove_all_cpus(model)
    assert {o.status for o in run.outcomes[:3]} == {"holds-all"}
    # a `never`: no step fires from a state of the invariant, for any CPU of any count
    assert "all(implies(holder[c], locked) for c in cpus)" in run.outcomes[2].invariant
    fires = run.outcomes[3]
    assert fires.status == "not-inductive"
    assert fires.cti is not None
    assert fires.cti.trace is not None
    assert fires.cti.trace.steps[0].action == "lock"
    inv = sorted({c for o in run.outcomes[:2] for c in o.invariant})
    assert all(o.unwritten == 0 for o in run.outcomes)
    for n in (2, 4, 16):
        inst, fixed = prove_fixed_with(model, n, inv, properties=["one-holder", "held-is-atomic"])
        assert inst.cpus == n
        for o, p in zip(fixed.outcomes, inst.properties, strict=True):
            if p.kind.value == "invariant":
                assert (o.status, o.depth) == ("proved", 1), (n, p.id, o.reason)


def test_fold_ipi_invariant_strengthens_the_fixed_engine(fold) -> None:  # type: ignore[no-untyped-def]
    model, _ = fold
    inv = _outcome(fold, "request-not-lost").invariant
    inst, run = prove_fixed_with(model, 2, inv)
    pi = [p.id for p in inst.properties].index("request-not-lost")
    assert run.outcomes[pi].status == "proved", run.outcomes[pi].reason
    # each printed conjunct is proved by the fixed-instance engine on 2 and 3 CPUs too (with
    # its own strengthening: the facts about places in `steps:` have no model syntax)
    conjuncts = sorted({c for o in fold[1].outcomes for c in o.invariant})
    for n in (2, 3):
        inst = instance_with(model, n, conjuncts)
        run = Symbolic(inst).run()
        mine = [o for o, p in zip(run.outcomes, inst.properties, strict=True)
                if p.id.startswith(PREFIX)]  # fmt: skip
        assert len(mine) == len(conjuncts)
        assert all(o.status == "proved" for o in mine), [o.reason for o in mine]


def test_a_planted_bug_is_not_proved_and_its_cti_is_a_real_step(tmp_path: Path) -> None:
    # the remote CPU folds the request into CPU0's preempt_count itself, with no IPI: a
    # write that CPU0's own read-modify-write can lose (kernel-facts §7.1)
    path = _variant(
        tmp_path,
        "      - do:                     # smp_send_reschedule()\n          ipi[0]: true\n",
        "      - do:\n          pc[0].need_resched: 0\n",
    )
    model = load_model(path)
    run = prove_all_cpus(model)
    out = run.outcomes[[p.id for p in model.properties].index("request-not-lost")]
    assert out.status == "not-inductive"
    cti = out.cti
    assert cti is not None
    assert cti.trace is not None
    assert cti.model is not None
    assert cti.model.cpus == cti.ncpu >= 1
    (label,) = cti.trace.steps
    assert 0 <= label.cpu < cti.ncpu
    before, after = cti.trace.states
    assert len(before.seq) == cti.ncpu
    ref = Reference(cti.model)
    assert any(o.label == label and o.next == after for o in ref.outcomes(before))
    # the state before holds the property, the state after breaks it
    pi = [p.id for p in cti.model.properties].index("request-not-lost")
    assert all(v is True for p, _, v in ref.state_checks(before) if p == pi)
    assert any(v is not True for p, _, v in ref.state_checks(after) if p == pi)


# clear's step breaks others-set from a state of the candidates with 2 CPUs (CPU 0 clear,
# CPU 1 set; CPU 1 clears CPU 0), but z3's quantified query over every N, with the `all`
# nested in the property, ran to its rlimit and left it unknown (69M units, 45 s)
NESTED_ALL = """
model: nested-all
params:
  NCPU: {values: [1, 2, 3], default: 2}
cpus: NCPU
vars:
  n: {type: int, range: [0, 2], index: cpus}
  a: {type: bool, index: cpus, init: true}
actions:
  set:
    when: n > 0
    do: {a: n > 0}
  flip:
    when: a and all(n[c] > 0 for c in cpus if c != self)
    do: {a: not a}
  reset:
    when: n != 2
    do: {n: 0}
  clear:
    for: {t: cpus}
    when: t != self and a[t] and not a
    do:
      a[t]: false
properties:
  others-set:
    invariant: implies(not a, all(a[c] for c in cpus if c != self))
deadlock: allowed
"""

# gather needs four CPUs: a step with fewer cannot break never-gathered
FOUR_CPUS = """
model: four-cpus
params:
  NCPU: {values: [1, 2, 3, 4], default: 2}
cpus: NCPU
vars:
  x: {type: bool, index: cpus}
actions:
  gather:
    for: {t: cpus, u: cpus, v: cpus}
    when: t != self and u != self and v != self and t != u and t != v and u != v
    do: {x: true}
properties:
  never-gathered:
    invariant: not x
deadlock: allowed
"""


def _first(tmp_path: Path, text: str) -> tuple[ParamRun, ParamOutcome]:
    path = tmp_path / "model.yaml"
    path.write_text(text.lstrip("\n"))
    run = prove_all_cpus(load_model(str(path)), rlimit=50_000_000, work_limit=500_000_000)
    return run, run.outcomes[0]


def test_a_step_that_breaks_a_candidate_is_sought_with_few_cpus_first(tmp_path: Path) -> None:
    """The counterexample to induction is found with at most three CPUs, in a fraction of
    the work the unbounded query spent before giving up."""
    run, out = _first(tmp_path, NESTED_ALL)
    assert out.status == "not-inductive", out.reason
    assert out.cti is not None
    assert 2 <= out.cti.ncpu <= 3
    assert run.work < 20_000_000, run.work


def test_a_step_that_needs_more_cpus_is_still_found(tmp_path: Path) -> None:
    """With few CPUs no step breaks the invariant; the query over every N still finds the
    one with four (a bounded search is never taken for a proof)."""
    _, out = _first(tmp_path, FOUR_CPUS)
    assert out.status == "not-inductive", out.reason
    assert out.cti is not None
    assert out.cti.ncpu == 4


def test_count_over_cpus_is_refused_at_its_location(tmp_path: Path) -> None:
    extra = "  one-sender:\n    invariant: count(sending[c] for c in cpus) <= 1\n"
    path = _variant(tmp_path, "properties:\n", "properties:\n" + extra)
    model = load_model(path)
    run = prove_all_cpus(model)
    ids = [p.id for p in model.properties]
    out = run.outcomes[ids.index("one-sender")]
    assert out.status == "unsupported"
    line = (
        Path(path)
        .read_text()
        .splitlines()
        .index("    invariant: count(sending[c] for c in cpus) <= 1")
        + 1
    )
    assert out.reason.startswith(f"{path}:{line}:16: error[PC113]: count over cpus"), out.reason
    # the rest still get their verdicts
    assert run.outcomes[ids.index("request-not-lost")].status == "holds-all"


def test_a_declaration_that_depends_on_the_count_is_refused(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "  depth: {type: int, range: [0, 1]}",
        "  depth: {type: int, range: [0, 1]}\n  last: {type: int, range: [0, NCPU]}",
    )
    run = prove_all_cpus(load_model(path))
    inv = [o for o in run.outcomes if o.status != "not-decided"]
    assert inv
    assert all(o.status == "unsupported" for o in inv)
    assert "vars.last: its declaration depends on the number of CPUs" in inv[0].reason
    assert f"{path}:" in inv[0].reason


def test_unknown_is_never_a_proof() -> None:
    model = load_model(FOLD)
    for kw in ({"rlimit": 1}, {"work_limit": 1}):
        run = prove_all_cpus(model, **kw)  # type: ignore[arg-type]
        statuses = {o.status for o in run.outcomes}
        assert "holds-all" not in statuses, kw
        assert "unknown" in statuses, kw


def test_cli_all_cpus(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["verify", "--all-cpus", FOLD])
    assert bad.exit_code == 2
    assert "error[PC203]: --all-cpus needs --engine symbolic" in bad.output
    out = runner.invoke(app, ["verify", "--no-cache", "--engine", "symbolic", "--all-cpus", FOLD])
    assert out.exit_code == 0, out.output
    assert "request-not-lost" in out.output
    assert "holds for every number of CPUs (inductive invariant: the property and " in out.output
    js = runner.invoke(
        app,
        ["verify", "--no-cache", "--engine", "symbolic", "--all-cpus", "--format", "json", FOLD],
    )
    doc = json.loads(js.stdout)
    jsonschema.validate(doc, json.loads((ROOT / "docs" / "result.schema.json").read_text()))
    (m,) = doc["models"]
    assert m["engine"] == "all-cpus"
    props = {p["id"]: p for p in m["properties"]}
    assert props["request-not-lost"]["all_cpus"]["invariant"]
    assert props["request-not-lost"]["strength"] == "inductive"
    assert "all_cpus" not in props["request-served"]  # witnessed on this instance


# a property naming CPUs 2 and 4: every count it is proved for has at least 5 CPUs
NAMED_FOUR = """
model: named-four
params:
  NCPU: {values: [5, 6], default: 5}
cpus: NCPU
vars:
  x: {type: bool, index: cpus}
  y: {type: bool, index: cpus}
actions:
  arm:
    when: not x[4]
    do: {y: true}
  hand:
    for: {t: cpus}
    when: y and t != self and t != 4
    do:
      x[4]: true
properties:
  four-clear:
    invariant: implies(y[2], not x[4])
deadlock: allowed
"""


def test_the_few_cpus_search_respects_the_least_count(tmp_path: Path) -> None:
    """The search with few CPUs first (at most max(least, 3)) never goes below the count the
    model names CPUs for: its counterexample to induction has 5 CPUs, a real step of the
    5-CPU instance from a state of the property into one that breaks it."""
    run, out = _first(tmp_path, NAMED_FOUR)
    assert out.status == "not-inductive", out.reason
    assert out.least == 5
    cti = out.cti
    assert cti is not None
    assert cti.trace is not None
    assert cti.model is not None
    assert cti.ncpu == cti.model.cpus == 5
    (label,) = cti.trace.steps
    before, after = cti.trace.states
    ref = Reference(cti.model)
    assert any(o.label == label and o.next == after for o in ref.outcomes(before))
    pi = [p.id for p in cti.model.properties].index("four-clear")
    assert all(v is True for p, _, v in ref.state_checks(before) if p == pi)
    assert any(v is not True for p, _, v in ref.state_checks(after) if p == pi)
    assert run.work < 20_000_000, run.work
