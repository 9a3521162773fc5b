"""The z3 engine on the bundled models: the same verdicts as explicit search, proofs where
explicit search cannot go, honest bounded and unknown verdicts, and z3 kept in its corner."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from preemptcheck.checking.check import Options, check_file, check_paths, find_models
from preemptcheck.checking.results import Outcome, Strength, Verdict
from preemptcheck.cli.main import app
from preemptcheck.model import load_model
from preemptcheck.model.ir import PropKind
from preemptcheck.semantics.reference import Reference
from preemptcheck.semantics.trace import replay

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = find_models([str(ROOT / "models")])
LARGE = str(ROOT / "models-large" / "full-smp.yaml")


def _summary(result):  # type: ignore[no-untyped-def]
    return {
        (m.file, m.params, p.id): (p.verdict, p.trace.length if p.trace else None)
        for m in result.models
        for p in m.properties
    }


def _options(path: str, **kw: object) -> Options:
    """The mode models without interrupts inside __schedule() (their finer variant takes
    z3 minutes) and without their monitors (decided on the explicit graph by either
    engine, tests/test_monitors.py)."""
    model = load_model(path)
    small = {"IRQS_IN_SCHEDULE": "false"} if any(
        p.name == "IRQS_IN_SCHEDULE" for p in model.params
    ) else {}
    ids = tuple(p.id for p in model.properties if p.kind != PropKind.MONITOR and not p.builtin)
    skipped = tuple(pid for pid, _ in model.skipped)
    return Options(overrides=small, properties=ids + skipped, **kw)  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("path", BUNDLED, ids=[Path(p).stem for p in BUNDLED])
def test_symbolic_gives_the_explicit_verdicts_on_every_bundled_model(path: str) -> None:
    explicit = check_paths([path], _options(path))
    symbolic = check_paths([path], _options(path, engine="symbolic"))
    assert all(m.stats.complete for m in explicit.models)
    assert [m.engine for m in symbolic.models] == ["symbolic"] * len(symbolic.models)
    # the same verdict, and for violations and witnesses a trace of the same (shortest) length;
    # known gap: k-induction does not prove rt.yaml's deadlock freedom (bounded, never wrong)
    got, want = _summary(symbolic), _summary(explicit)
    gaps = {k for k in want if Path(k[0]).stem == "rt" and k[2] == "deadlock"}
    for k in gaps:
        assert want[k] == (Verdict.HOLDS, None)
        assert got[k] in ((Verdict.HOLDS, None), (Verdict.BOUNDED, None))
    assert {k: v for k, v in got.items() if k not in gaps} == {
        k: v for k, v in want.items() if k not in gaps
    }
    for m in symbolic.models:
        model = m.model
        for p in m.properties:
            if p.trace is not None:  # every z3 trace replays on the reference interpreter
                replay(model, next(x for x in model.properties if x.id == p.id), p.trace)
            if (m.file, m.params, p.id) in gaps:
                continue
            assert p.outcome == Outcome.AS_EXPECTED, (m.params, p.id, p.verdict, p.reason)
            if p.kind in (PropKind.LEADS_TO, PropKind.MONITOR):  # on the explicit graph
                assert p.strength in (Strength.EXHAUSTIVE, Strength.COUNTEREXAMPLE)
                continue
            if p.verdict == Verdict.HOLDS and p.trace is None:
                assert p.strength == Strength.INDUCTIVE
                how = r"k-induction, k=\d+(, strengthened by \d+ invariants)?"
                assert re.fullmatch(how, p.reason)


@pytest.mark.slow
def test_full_smp_is_proved_where_explicit_search_gives_up() -> None:
    """The 4-CPU, 8-bit-count model: explicit search hits its state limit, `auto` hands it
    to the symbolic engine, which proves every invariant by k-induction."""
    small = Options(max_states=20_000)
    explicit = check_file(LARGE, small)
    assert not explicit.stats.complete
    assert explicit.stats.states == 20_000
    assert all(p.verdict == Verdict.UNKNOWN for p in explicit.properties if p.trace is None)

    auto = check_file(LARGE, Options(max_states=20_000, engine="auto"))
    assert auto.engine == "symbolic"
    assert any("--max-states 20,000" in n and "symbolic" in n for n in auto.notes)
    assert dict(auto.params) == {"NCPU": 4, "MAXCOUNT": 255}
    for p in auto.properties:
        assert p.outcome == Outcome.AS_EXPECTED, (p.id, p.verdict, p.reason)
        if p.trace is None:
            assert p.strength == Strength.INDUCTIVE
            assert p.reason.startswith("k-induction")


@pytest.mark.slow
def test_full_smp_small_instance_agrees_with_explicit_search() -> None:
    opts = {"NCPU": "2", "MAXCOUNT": "3"}
    explicit = check_file(LARGE, Options(overrides=opts))
    symbolic = check_file(LARGE, Options(overrides=opts, engine="symbolic"))
    assert explicit.stats.complete
    assert [(p.id, p.verdict) for p in symbolic.properties] == [
        (p.id, p.verdict) for p in explicit.properties
    ]


CTI_MODEL = """\
model: cti-demo
vars:
  a: {type: int, range: [0, 100]}
  b: {type: int, range: [0, 100]}
  c: {type: int, range: [0, 100]}
actions:
  inc_a: {when: c < 100, do: {a: a + 1, c: c + 1}}
  inc_b: {when: c < 100, do: {b: b + 1, c: c + 1}}
deadlock: allowed
properties:
  sum-bounded:
    doc: holds because a + b == c, which no candidate invariant states
    invariant: a + b <= 100
  never-past-100:
    reachable: a + b > 100
    expect: violated
"""


def test_failed_induction_step_is_bounded_with_its_counterexample(tmp_path: Path) -> None:
    path = tmp_path / "cti.yaml"
    path.write_text(CTI_MODEL)
    explicit = check_file(str(path), Options())
    assert explicit.properties[0].verdict == Verdict.HOLDS
    result = check_file(str(path), Options(engine="symbolic", bound=4))
    p = result.properties[0]
    assert (p.verdict, p.strength, p.outcome) == (
        Verdict.BOUNDED,
        Strength.BOUNDED,
        Outcome.INCONCLUSIVE,
    )
    assert p.trace is None
    assert p.cti is not None
    assert p.cti.length == 4
    # the counterexample to induction is a real path of steps through states that satisfy
    # the property, ending in one that breaks it; its first state is not reachable
    model = load_model(str(path))
    ref = Reference(model)
    for before, label, after in zip(p.cti.states, p.cti.steps, p.cti.states[1:], strict=False):
        assert any(o.label == label and o.next == after for o in ref.outcomes(before))
    holds = [dict((pi, v) for pi, _, v in ref.state_checks(s))[0] for s in p.cti.states]
    assert holds == [True] * 4 + [False]
    a, b, c = p.cti.states[0].values
    assert a + b != c
    # no trace is shown for it, and the verdict never passes: exit 3 on the command line
    out = CliRunner().invoke(app, ["verify", "--engine", "symbolic", "--bound", "4", str(path)])
    assert out.exit_code == 3
    assert "holds up to depth 4 (bounded, not a proof; induction fails at k=4)" in out.output
    assert "counterexample to induction (k=4)" in out.output
    assert "not a violation" in out.output


def test_unreachable_is_proved_not_just_unwitnessed(tmp_path: Path) -> None:
    path = tmp_path / "cti.yaml"
    path.write_text(CTI_MODEL)
    p = check_file(str(path), Options(engine="symbolic", bound=4)).properties[1]
    # a + b > 100 needs the relation a + b == c as well: within bound 4 no witness, no proof
    assert p.verdict == Verdict.UNKNOWN
    assert "no witness within depth 4" in p.reason
    path.write_text(CTI_MODEL.replace("a + b > 100", "c > 100"))
    p = check_file(str(path), Options(engine="symbolic", bound=4)).properties[1]
    assert (p.verdict, p.strength) == (Verdict.VIOLATED, Strength.INDUCTIVE)
    assert p.reason.startswith("unreachable, k-induction, k=")


@pytest.mark.slow
def test_a_tiny_rlimit_is_unknown_never_holds() -> None:
    path = str(ROOT / "models" / "none.yaml")
    result = check_file(path, Options(engine="symbolic", rlimit=2_000))
    verdicts = {p.verdict for p in result.properties}
    assert Verdict.UNKNOWN in verdicts or Verdict.BOUNDED in verdicts
    for p in result.properties:
        if p.verdict == Verdict.HOLDS and p.kind != PropKind.MONITOR:  # only what was shown
            assert p.strength in (Strength.WITNESS, Strength.INDUCTIVE)
    fold = str(ROOT / "models" / "races" / "fold-ipi.yaml")  # the CLI: a smaller model
    args = ["verify", "--engine", "symbolic", "--rlimit", "2000", "--set", "NCPU=2", fold]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 3
    assert "Traceback" not in out.output


def test_symbolic_runs_repeat_byte_for_byte() -> None:
    model = str(ROOT / "models" / "races" / "fold-remote-rmw.yaml")
    args = ["verify", "--engine", "symbolic", model]
    first = CliRunner().invoke(app, args)
    second = CliRunner().invoke(app, args)
    assert first.exit_code == 0
    # stdout: stderr's progress lines come and go with the machine's load
    assert first.stdout == second.stdout


def test_bound_must_be_positive() -> None:
    out = CliRunner().invoke(app, ["verify", "--bound", "0", str(ROOT / "models" / "none.yaml")])
    assert out.exit_code == 2
    assert "--bound must be at least 1" in out.output


@pytest.mark.slow
def test_only_the_symbolic_engine_imports_z3() -> None:
    src = ROOT / "src" / "preemptcheck"
    importers = sorted(
        str(f.relative_to(src))
        for f in src.rglob("*.py")
        if re.search(r"^\s*(import z3|from z3)", f.read_text(), re.M)
    )
    assert importers == [
        "engines/_houdini.py",
        "engines/_z3expr.py",
        "engines/param/cti.py",
        "engines/param/encode.py",
        "engines/param/local.py",
        "engines/param/mine.py",
        "engines/param/prove.py",
        "engines/param/run.py",
        "engines/symbolic.py",
    ]
    # and the explicit path never loads it
    code = (
        "import sys; from preemptcheck.checking.check import Options, check_file; "
        f"check_file({str(ROOT / 'models' / 'none.yaml')!r}, Options()); "
        "print('z3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_timeout_stops_the_symbolic_engine_inconclusive() -> None:
    out = CliRunner().invoke(
        app, ["verify", "--engine", "symbolic", "--timeout", "0.5", "--traces", "none", LARGE]
    )
    assert out.exit_code == 3
    assert "(incomplete: --timeout 0.5 s)" in out.output
    assert "unknown: --timeout reached after depth" in out.output
    assert CliRunner().invoke(app, ["verify", "--rlimit", "-1", LARGE]).exit_code == 2


def test_a_model_narrowed_without_the_range_property_is_strengthened() -> None:
    """Houdini samples states with the explicit engine's generated successor function, which
    once needed the built-in `range` property: a model narrowed to its invariants (as the
    all-CPUs engine narrows its instances) raised StopIteration instead of a verdict."""
    import dataclasses

    from preemptcheck.engines.symbolic import Symbolic
    from preemptcheck.model import load_model

    model = load_model(str(ROOT / "models" / "races" / "fold-ipi.yaml"))
    kept = tuple(p for p in model.properties if p.kind == PropKind.INVARIANT)
    assert kept
    assert all(p.kind != PropKind.RANGE for p in kept)
    narrowed = dataclasses.replace(model, properties=kept)
    run = Symbolic(narrowed).run()
    assert len(run.outcomes) == len(kept)
    assert [o.status for o in run.outcomes] == ["proved"] * len(kept), run.outcomes
    assert any("strengthened" in o.reason for o in run.outcomes), run.outcomes
