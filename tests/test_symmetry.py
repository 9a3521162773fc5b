"""CPU symmetry reduction: detection, and agreement with the unreduced search."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_model
from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import ModelResult
from preemptcheck.core.errors import InputError
from preemptcheck.engines.symmetry import analyze
from preemptcheck.model import load_model

ROOT = Path(__file__).resolve().parents[1]


def _verdicts(r: ModelResult) -> dict[str, tuple[str, int | None]]:
    return {p.id: (p.verdict.value, p.trace.length if p.trace else None) for p in r.properties}


def assert_reduction_agrees(path: str, **overrides: str) -> ModelResult:
    """The reduced search decides every property as the full one, with traces of the same
    length, and its orbit count is the full state count."""
    full = check_file(path, Options(overrides=overrides))
    reduced = check_file(path, Options(overrides=overrides, symmetry=True))
    assert reduced.stats.symmetry is not None, reduced.notes
    assert reduced.stats.states_unreduced == full.stats.states
    assert reduced.stats.states <= full.stats.states
    assert _verdicts(reduced) == _verdicts(full)
    return reduced


# ---------------------------------------------------------------- bundled models


@pytest.mark.parametrize("ncpu", ["3", "4"])
def test_fold_ipi_remote_cpus_are_interchangeable(ncpu: str) -> None:
    path = str(ROOT / "models" / "races" / "fold-ipi.yaml")
    r = assert_reduction_agrees(path, NCPU=ncpu)
    assert r.stats.symmetry == "CPUs " + ", ".join(map(str, range(1, int(ncpu)))) + \
        " interchangeable"
    assert r.stats.states < r.stats.states_unreduced  # type: ignore[operator]


@pytest.mark.slow
def test_benchmark_model_halves_with_two_cpus() -> None:
    path = str(ROOT / "benchmarks" / "models" / "lost-update.yaml")
    r = assert_reduction_agrees(path)
    assert (r.stats.states, r.stats.states_unreduced) == (63_652, 127_040)


@pytest.mark.slow
def test_not_applied_to_the_one_cpu_models() -> None:
    r = check_file(str(ROOT / "models" / "full.yaml"), Options(symmetry=True))
    assert r.stats.symmetry is None
    assert r.warnings == ()            # a note, so that --strict does not fail on it
    assert r.notes == ("no symmetry reduction: the model has one CPU",)


# ---------------------------------------------------------------- detection

BASE = """
    model: sym
    cpus: 3
    vars:
      x: {{type: int, range: [0, 2], index: cpus}}
      y: {{type: int, range: [0, 2], index: cpus}}
      g: {{type: int, range: [0, 3]}}
    actions:
      {action}
    deadlock: allowed
"""


@pytest.mark.parametrize(
    ("action", "classes", "reason"),
    [
        ("inc: {when: x < 2, do: {x: x + 1}}", ((0, 1, 2),), ""),
        ("poke: {for: {t: cpus}, when: t != self, do: {'y[t]': 1}}", ((0, 1, 2),), ""),
        ("pin: {on: 0, do: {x: 1}}", ((1, 2),), ""),
        ("zero: {when: self != 0, do: {x: 1}}", ((1, 2),), ""),
        ("first: {do: {'x[1]': 1}}", ((0, 2),), ""),
        ("sum: {when: 'g < 3', do: {g: 'sum(x[c] for c in cpus) % 4'}}", ((0, 1, 2),), ""),
        ("next: {do: {x: 'x[(self + 1) % 3]'}}", (), "a CPU is chosen by a computed expression"),
        ("store: {do: {g: self}}", (), "the CPU id 'self' is used as a value"),
        ("order: {for: {t: cpus}, when: t < self, do: {x: 1}}", (),
         "the CPU id 't' is used as a value"),
    ],
)
def test_detection(tmp_path: Path, action: str, classes: object, reason: str) -> None:
    model = load_model(write_model(tmp_path, BASE.format(action=action)))
    a = analyze(model)
    assert a.classes == classes
    assert reason in a.reason


def test_cpus_with_different_initial_values_are_not_permuted(tmp_path: Path) -> None:
    text = BASE.format(action="inc: {when: x < 2, do: {x: x + 1}}").replace(
        "x: {type: int, range: [0, 2], index: cpus}",
        "x: {type: int, range: [0, 2], index: cpus, init: [0, 1, 0]}")
    assert analyze(load_model(write_model(tmp_path, text))).classes == ((0, 2),)


def test_declared_symmetry_is_checked(tmp_path: Path) -> None:
    good = BASE.format(action="inc: {when: x < 2, do: {x: x + 1}}") + "    symmetry: cpus\n"
    r = check_file(write_model(tmp_path, good), Options())
    assert r.stats.symmetry == "CPUs 0, 1, 2 interchangeable"
    assert r.stats.states_unreduced == 27
    assert r.stats.states == 10          # multisets of 3 values from {0, 1, 2}
    bad = BASE.format(action="store: {do: {g: self}}") + "    symmetry: cpus\n"
    with pytest.raises(InputError) as err:
        check_file(write_model(tmp_path, bad, "bad.yaml"), Options())
    d = err.value.diagnostics[0]
    assert (d.code.value, d.key_path, d.span.line) == ("PC107", "symmetry", 10)
    assert "the CPU id 'self' is used as a value" in d.message


# ---------------------------------------------------------------- generated symmetric models

EXPRS = ["x < 1", "x == y", "y != 0", "g < 2", "not flag", "flag or x == 0",
         "any(x[c] == 1 for c in cpus)", "count(flag[c] for c in cpus) < 2"]


@st.composite
def symmetric_models(draw: st.DrawFn) -> str:
    every = ["do", "for", "seq", "seqfor", "irq", "pin", "pinseq", "notzero"]
    kinds = [draw(st.sampled_from(every)) for _ in range(draw(st.integers(1, 4)))]
    # CPU 0 named by a pinned action or a comparison: the others must still be two or more
    named = any(k in ("pin", "pinseq", "notzero") for k in kinds)
    cpus = 3 if named else draw(st.integers(2, 3))
    actions: dict[str, object] = {}
    for i, kind in enumerate(kinds):
        guard = draw(st.sampled_from(EXPRS))
        if kind == "do":
            actions[f"a{i}"] = {"when": guard, "do": {"x": "(x + 1) % 2", "flag": "not flag"}}
        elif kind == "for":
            actions[f"a{i}"] = {"for": {"t": "cpus"}, "when": f"t != self and {guard}",
                                "do": {"y[t]": "(y[t] + x) % 2"}}
        elif kind == "seq":
            actions[f"a{i}"] = {"when": guard, "steps": [{"do": {"y": "g % 2"}},
                                                         {"do": {"g": "(y + g) % 3"}}]}
        elif kind == "seqfor":  # a sequence bound to another CPU: blocks cannot just be sorted
            actions[f"a{i}"] = {"for": {"t": "cpus"}, "when": f"t != self and {guard}",
                                "steps": [{"do": {"y": "x[t]"}}, {"do": {"x[t]": "(y + 1) % 2"}}]}
        elif kind == "pin":
            actions[f"a{i}"] = {"on": 0, "when": guard, "do": {"g": "(g + x) % 3"}}
        elif kind == "pinseq":  # CPU 0 in a sequence bound to a CPU that the reduction moves
            actions[f"a{i}"] = {"on": 0, "for": {"t": "cpus"}, "when": f"t != 0 and {guard}",
                                "steps": [{"do": {"y[t]": "1"}}, {"do": {"x[t]": "y[t]"}},
                                          {"do": {"y[t]": "0"}}]}
        elif kind == "notzero":
            actions[f"a{i}"] = {"when": f"self != 0 and {guard}", "do": {"y": "(y + 1) % 2"}}
        else:
            actions[f"a{i}"] = {"irq": True, "when": guard, "do": {"flag": "not flag"}}
    props = {
        "p0": {"invariant": draw(st.sampled_from(EXPRS))},
        "p1": {"reachable": draw(st.sampled_from(EXPRS))},
        "p2": {"never": draw(st.sampled_from(sorted(actions))),
               "when": draw(st.sampled_from(EXPRS))},
    }
    doc = {
        "model": "symmetric", "cpus": cpus,
        "vars": {"x": {"type": "int", "range": [0, 1], "index": "cpus"},
                 "y": {"type": "int", "range": [0, 1], "index": "cpus"},
                 "flag": {"type": "bool", "index": "cpus"},
                 "g": {"type": "int", "range": [0, 2]}},
        "actions": actions, "properties": props, "deadlock": "allowed",
    }
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.mark.slow
@settings(max_examples=100, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=symmetric_models())
def test_generated_symmetric_models_agree(tmp_path: Path, text: str) -> None:
    path = write_model(tmp_path, text)
    assert analyze(load_model(path)).classes, text
    assert_reduction_agrees(path)


# ---------------------------------------------------------------- found in review

PINNED_SEQUENCE = """
    model: pinned-sequence
    cpus: 3
    vars:
      v: {type: int, range: [0, 3], index: cpus}
      done: {type: bool, index: cpus}
    actions:
      set1: {when: self != 0 and not done, do: {v: 1, done: true}}
      set2: {when: self != 0 and not done, do: {v: 2, done: true}}
      poke:
        on: 0
        for: {t: cpus}
        when: t != 0 and v[t] == 2 and all(done[c] for c in cpus if c != 0)
        steps:
          - do:
              v[t]: 0
          - do:
              v[t]: 3
    properties:
      never-three-beside-one:
        invariant: not (any(v[c] == 3 for c in cpus) and any(v[c] == 1 for c in cpus))
    deadlock: allowed
"""


def test_a_fixed_cpu_inside_a_sequence_bound_to_a_moved_cpu(tmp_path: Path) -> None:
    # CPU 0 stays put while CPUs 1 and 2 are swapped; its sequence position names one of them
    # and must follow the swap (else the reduction reaches states no run reaches)
    r = assert_reduction_agrees(write_model(tmp_path, PINNED_SEQUENCE))
    assert (r.stats.states, r.stats.states_unreduced) == (12, 20)
    assert _verdicts(r)["never-three-beside-one"] == ("violated", 4)


def test_too_many_permutations_falls_back(tmp_path: Path) -> None:
    text = PINNED_SEQUENCE.replace("cpus: 3", "cpus: 8").replace(
        "and all(done[c] for c in cpus if c != 0)", "")
    path = write_model(tmp_path, text)
    r = check_file(path, Options(symmetry=True, max_states=50))
    assert r.stats.symmetry is None
    assert r.notes == ("no symmetry reduction: 5,040 CPU permutations per state is too many "
                       "to try",)
    with pytest.raises(InputError) as err:
        check_file(write_model(tmp_path, text + "    symmetry: cpus\n", "d.yaml"), Options())
    assert "cpus is declared, but the CPUs cannot be reduced" in err.value.diagnostics[0].message


def test_comparing_a_cpu_with_a_variable_is_refused(tmp_path: Path) -> None:
    text = BASE.format(action="mine: {when: 'g == self', do: {x: 1}}")
    a = analyze(load_model(write_model(tmp_path, text)))
    assert a.classes == ()
    assert "a CPU id is compared with a value that is not a CPU name or a constant" in a.reason


def test_more_than_twenty_interchangeable_cpus_are_not_run_natively(tmp_path: Path) -> None:
    """The native backend counts an orbit's size in int64 from a table of n! up to 20!: with
    21 interchangeable CPUs it says why it cannot run, and the search falls back to Python
    (whose integers do not overflow), instead of reading past the table."""
    from preemptcheck.engines.explicit import Explorer

    # one bit per CPU: no CPU's slice straddles two 64-bit words (which the native backend
    # refuses for its own reason)
    one_bit = "model: sym\ncpus: {}\nvars:\n  x: {{type: int, range: [0, 1], index: cpus}}\n"
    one_bit += "actions:\n  inc: {{when: x < 1, do: {{x: x + 1}}}}\ndeadlock: allowed\n"

    def explorer(ncpu: int) -> Explorer:
        text = one_bit.format(ncpu)
        model = load_model(write_model(tmp_path, text, f"sym{ncpu}.yaml"))
        e = Explorer(model, backend="native")
        e.reduce_symmetry(analyze(model))
        return e

    assert explorer(20).native_unsupported() is None
    why = explorer(21).native_unsupported()
    assert why == "more than 20 interchangeable CPUs (21! does not fit in 64 bits)"
