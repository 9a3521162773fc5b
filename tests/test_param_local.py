"""Invariants of one CPU count proved on representative steps (engines/param/local.py),
against the engines that look at every step: whatever it proves, explicit search finds
holding, and on models without `steps:` sequences it proves exactly what the whole
transition relation proves 1-inductive (Houdini's largest inductive subset is unique).
Checked on random multi-CPU models, a lock with a per-CPU invariant about the other CPUs,
a model that names a CPU, and the stop_machine() benchmark with its invariant."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import write_model
from preemptcheck.checking.check import Options, check_model
from preemptcheck.checking.results import Verdict
from preemptcheck.engines.param import frame as framing
from preemptcheck.engines.param.fixed import instance_with, prove_fixed_with
from preemptcheck.engines.param.local import LocalRun, prove_locally
from preemptcheck.engines.symbolic import Symbolic
from preemptcheck.expr.ast import Agg, Expr, VarInfo, walk
from preemptcheck.expr.evaluate import EvalError, evaluate
from preemptcheck.model import load_model
from preemptcheck.model.ir import Model, PropKind
from test_param_agreement import random_model

ROOT = Path(__file__).resolve().parents[1]
STOP_MACHINE = str(ROOT / "benchmarks" / "models" / "stop-machine.yaml")
# the invariant `verify --all-cpus` prints for stop-machine's headline property
STOP_INVARIANT = [
    "all(implies(cur[c] == in_fn, state == run) for c in cpus)",
    "all(implies(state == run, pc[c].hardirq == 0) for c in cpus)",
    "all(implies(pc[c].count == 0, state in [none, prepare, exit]) for c in cpus)",
    "all(implies(state == run, irqs_off[c]) for c in cpus)",
    "all(implies(cur[c] == disable_irq, pc[c].hardirq == 0) for c in cpus)",
    "all(implies(cur[c] == none, state in [none, prepare, exit]) for c in cpus)",
    "all(implies(cur[c] == prepare, pc[c].count == 1) for c in cpus)",
    "all(implies(cur[c] == exit, state in [none, prepare, exit]) for c in cpus)",
    "all(implies(cur[c] == disable_irq, irqs_off[c]) for c in cpus)",
]


def _invariants_only(model: Model) -> Model:
    keep = tuple(p for p in model.properties if p.kind == PropKind.INVARIANT)
    return dataclasses.replace(model, properties=keep)


def _agree(full: Model) -> set[str]:
    """Local proofs of `full`'s invariants against explicit search (on `full`, whose `range`
    it needs) and the whole relation; the ids proved."""
    return _agree_run(full)[0]


def _agree_run(full: Model) -> tuple[set[str], LocalRun]:
    """_agree, and the local run it checked."""
    model = _invariants_only(full)
    local = prove_locally(model)
    assert not local.reason, local.reason
    proved = {model.properties[pi].id for pi in local.proved}
    explicit = check_model(full.file, full, Options(), None)
    assert explicit.stats.complete
    for p in explicit.properties:
        if p.id in proved:
            assert p.verdict == Verdict.HOLDS, (model.cpus, p.id, p.verdict, p.reason)
    ids = [p.id for p in model.properties]
    whole = Symbolic(model).run(bound=1, strengthen_with=ids)
    by_whole = {
        model.properties[o.prop_index].id
        for o in whole.outcomes
        if o.status == "proved" and o.depth == 1
    }
    assert proved == by_whole, (model.cpus, proved, by_whole, local.dropped)
    return proved, local


def test_random_models_agree(tmp_path: Path) -> None:
    rng = random.Random(1919)
    proved = dropped = 0
    for i in range(10):
        text = random_model(rng, i)
        path = write_model(tmp_path, text, f"random-{i}.yaml")
        for n in (2, 3):
            model = load_model(path, overrides={"NCPU": str(n)})
            got = _agree(model)
            proved += len(got)
            dropped += sum(1 for p in model.properties if p.kind == PropKind.INVARIANT) - len(got)
    assert proved > 0, "the random models exercise both answers"
    assert dropped > 0, "the random models exercise both answers"


LOCK = """
model: one-lock
params:
  NCPU: {values: [2, 3], default: 2}
cpus: NCPU
vars:
  locked: {type: bool}
  holder: {type: bool, index: cpus}
  pc: {type: int, range: [0, 3], index: cpus}     # the lock's preempt count
actions:
  lock:
    when: not locked
    do: {locked: true, holder: true, pc: pc + 1}
  unlock:
    when: holder
    do: {locked: false, holder: false, pc: pc - 1}
  steal:                      # another CPU takes the lock over: holder moves
    for: {t: cpus}
    when: holder and t != self and STEAL
    do:
      holder: false
      holder[t]: true
properties:
  one-holder:
    invariant: implies(holder, all(not holder[c] for c in cpus if c != self))
  held-is-atomic:
    invariant: implies(holder, pc != 0)
  count-matches:
    invariant: "pc == (1 if holder else 0)"
  holder-locked:
    invariant: all(implies(holder[c], locked) for c in cpus)
  pairs:
    invariant: all(all(implies(c != d, not (holder[c] and holder[d])) for d in cpus) for c in cpus)
"""


@pytest.mark.parametrize("steal", ["false", "true"])
def test_lock_agrees(tmp_path: Path, steal: str) -> None:
    path = write_model(tmp_path, LOCK.replace("STEAL", steal))
    for n in (2, 3):
        proved = _agree(load_model(path, overrides={"NCPU": str(n)}))
        if steal == "false":
            assert proved == {
                "one-holder",
                "held-is-atomic",
                "count-matches",
                "holder-locked",
                "pairs",
            }
        else:  # the new holder's count was never raised
            assert not {"held-is-atomic", "count-matches"} & proved
            assert {"one-holder", "pairs", "holder-locked"} <= proved


def test_a_named_cpu_is_kept_apart(tmp_path: Path) -> None:
    # CPU 0 may not take the lock: the others are interchangeable, CPU 0 is not
    text = LOCK.replace("STEAL", "false").replace(
        "when: not locked", "when: not locked and self != 0"
    )
    path = write_model(tmp_path, text)
    model = load_model(path, overrides={"NCPU": "3"})
    local = prove_locally(_invariants_only(model))
    assert local.symmetry == "CPUs 1, 2 interchangeable"
    _agree(model)
    extra = "  zero-never-holds:\n    invariant: not holder[0]\n"
    model = load_model(write_model(tmp_path, text + extra, "named.yaml"), overrides={"NCPU": "3"})
    assert "zero-never-holds" in _agree(model)


def test_stop_machine_instances_agree() -> None:
    base = load_model(STOP_MACHINE)
    for n in (2, 3):
        inst = instance_with(
            base, n, STOP_INVARIANT, properties=["fn-runs-on-a-stopped-machine", "range"]
        )
        proved = _agree(inst)
        assert "fn-runs-on-a-stopped-machine" in proved
        assert len(proved) == len(inst.properties) - 1  # all but range


def test_stop_machine_large_instance_is_proved_on_representative_steps() -> None:
    base = load_model(STOP_MACHINE)
    for n in (64, 1):
        m, run = prove_fixed_with(
            base, n, STOP_INVARIANT, properties=["fn-runs-on-a-stopped-machine"]
        )
        assert [o.status for o in run.outcomes] == ["proved"] * len(m.properties), run
        assert "representative steps" in run.outcomes[0].reason
        if n > 2:  # each step proved on its frame: the check's size does not grow with n
            local = prove_locally(m)
            assert local.framed == local.steps, local
    # without the invariant's facts about the other CPUs it is not proved, and the whole
    # instance's engine (where the check falls back to) finds no proof either
    weak = [c for c in STOP_INVARIANT if "pc[c].count" not in c]
    m, run = prove_fixed_with(base, 3, weak, bound=3, properties=["fn-runs-on-a-stopped-machine"])
    pi = [p.id for p in m.properties].index("fn-runs-on-a-stopped-machine")
    assert run.outcomes[pi].status != "proved"
    assert "representative" not in run.outcomes[pi].reason


def test_order_dependent_aggregates_use_no_symmetry(tmp_path: Path) -> None:
    # an element that may fail (a division) makes `all`'s answer depend on the CPUs' order
    text = LOCK.replace("STEAL", "false") + (
        "  odd:\n    invariant: all(pc[c] // 1 >= 0 for c in cpus)\n"
    )
    model = load_model(write_model(tmp_path, text), overrides={"NCPU": "3"})
    local = prove_locally(_invariants_only(model))
    assert "may fail to evaluate" in local.symmetry
    _agree(model)


def test_a_limit_proves_nothing() -> None:
    base = load_model(STOP_MACHINE)
    inst = instance_with(base, 8, STOP_INVARIANT, properties=["fn-runs-on-a-stopped-machine"])
    for kw in ({"work_limit": 1}, {"deadline": 0.0}):
        local = prove_locally(inst, **kw)  # type: ignore[arg-type]
        assert local.proved == ()
        assert local.reason


def test_the_whole_instance_build_honours_the_deadline() -> None:
    """--timeout stops the fixed-instance engine while it builds a large instance (256 CPUs
    took 70 s to build): every property is then unknown, never proved."""
    inst = instance_with(load_model(STOP_MACHINE), 64, STOP_INVARIANT)
    run = Symbolic(inst, deadline=0.0).run(deadline=0.0)
    assert {o.status for o in run.outcomes} == {"unknown"}
    assert all("--timeout" in o.reason for o in run.outcomes)


WITNESS = """
model: witness
params:
  NCPU: {values: [3, 4], default: 3}
cpus: NCPU
vars:
  flag: {type: bool, index: cpus}
  x: {type: bool, index: cpus, init: true}
  y: {type: bool, index: cpus}
actions:
  hoist:
    when: all(x[c] for c in cpus)
    do: {flag: true}
  drop:
    when: flag
    do: {flag: false}
  clear:
    when: not any(flag[c] for c in cpus) and not y
    do: {x: false}
  restore:
    when: not x
    do: {x: true}
  copy:                 # some CPU has raised its flag: every x is set, this one's too
    when: any(flag[c] for c in cpus)
    do: {y: true}
  forget:
    do: {y: false}
properties:
  flag-means-all-x:
    invariant: implies(flag, all(x[c] for c in cpus))
  y-means-x:
    invariant: implies(y, x)
"""


def test_a_witness_among_all_cpus_needs_every_instance(tmp_path: Path) -> None:
    # `copy` is enabled by some CPU whose flag is up: which one is not among the CPUs near
    # the step, so the first, smaller assumption leaves y-means-x open; assuming
    # flag-means-all-x at every CPU proves it
    for n in (3, 4):
        model = load_model(write_model(tmp_path, WITNESS), overrides={"NCPU": str(n)})
        assert _agree(model) == {"flag-means-all-x", "y-means-x"}


# ---------------------------------------------------------------- aggregates cut to a frame

CUT = """
model: cut
params:
  NCPU: {values: [4, 5], default: 4}
cpus: NCPU
enums:
  mode: [idle, busy, done]
vars:
  a: {type: bool, index: cpus}
  n: {type: int, range: [0, 2], index: cpus}
  m: {type: enum, of: mode, index: cpus, init: idle}
  g: {type: bool}
actions:
  tick:
    do: {g: not g}
properties:
  under-not: {invariant: "not all(a[c] for c in cpus if c != self)"}
  in-a-value: {invariant: "(n if any(a[c] and g for c in cpus) else 2) == n[0]"}
  mixed: {invariant: "all(implies(m[c] == busy, n[c] > 0) for c in cpus) == g"}
  named: {invariant: "any(c == 0 and a[c] for c in cpus)"}
  nested: {invariant: "all(any(a[d] != a[c] for d in cpus) for c in cpus)"}
  count: {invariant: "count(a[c] for c in cpus) > 1"}
  may-fail: {invariant: "all(2 // n[c] > 1 for c in cpus)"}
  global-read: {invariant: "not any(m[c] in [busy, done] and not g for c in cpus if c != self)"}
  no-entry: {invariant: "all(c != 2 for c in cpus) or a"}
  two: {invariant: "any(a[c] == a[self] for c in cpus if c != self) != all(n[c] < n for c in cpus)"}
  member: {invariant: "implies(any(c in [0, 1] and m[c] == done for c in cpus), not a)"}
"""


def test_a_cut_aggregate_can_take_its_exact_value(tmp_path: Path) -> None:
    """frame.cut's lemma, on random states of 4 and 5 CPUs and random frames: for some
    choice of each generic CPU among those outside the frame (and of each fresh Boolean),
    the cut expression evaluates as the exact one (an evaluation error included), wherever
    the aggregate sits (under `not`, in a value, compared, nested)."""
    rng = random.Random(1920)
    kinds = {"generic": 0, "boolean": 0, "kept": 0}
    counter = itertools.count()

    def fresh() -> str:
        return f"r{next(counter)}"

    for n in (4, 5):
        model = load_model(write_model(tmp_path, CUT), overrides={"NCPU": str(n)})
        cpus = list(range(n))
        for _ in range(40):
            state: dict[str, object] = {
                "a": [rng.random() < 0.5 for _ in cpus],
                "n": [rng.randint(0, 2) for _ in cpus],
                "m": [rng.choice(["idle", "busy", "done"]) for _ in cpus],
                "g": rng.random() < 0.5,
            }
            me = rng.choice(cpus)
            frame = frozenset(rng.sample(cpus, rng.randint(0, n - 1)))
            others = [c for c in cpus if c not in frame]
            for p in model.properties:
                if p.expr is None:
                    continue
                env = {"self": me} if p.per_cpu else {}
                cut, rests = framing.cut(p.expr, env, frame, fresh)
                n_aggs = sum(1 for x in walk(p.expr) if isinstance(x, Agg) and x.domain.is_cpus)
                kinds["kept"] += n_aggs > len(rests)
                for r in rests:
                    kinds["generic" if r.generic else "boolean"] += 1
                exact = _value(p.expr, state, env, {})
                choices = [others if r.generic else [False, True] for r in rests]
                got = {
                    _value(cut, state, env, dict(zip((r.name for r in rests), pick, strict=True)))
                    for pick in itertools.product(*choices)
                }
                assert exact in got, (n, p.id, me, sorted(frame), state, exact, got)
    assert all(kinds.values()), kinds


def _value(e: Expr, state: dict[str, Any], env: dict[str, int], pick: dict[str, Any]) -> object:
    """`e` in `state`; a generic CPU's entries are those of the CPU `pick` gives it."""

    def read(var: VarInfo, index: object) -> Any:
        if "@" in var.name:
            name, cpu = var.name.split("@")
            return state[name][pick[cpu]]
        if var.name in pick:
            return pick[var.name]
        return state[var.name] if index is None else state[var.name][index]

    try:
        return evaluate(e, read, env)
    except EvalError:
        return "error"


def _framed_model(rng: random.Random, i: int) -> str:
    """A random model whose aggregates over cpus sit everywhere frame.cut reaches: guards,
    under `not`, assigned values, elements reading a global, `c != self`, CPU 0 named."""

    def elem() -> str:
        atom = rng.choice(["a[c]", "not a[c]", "n[c] > 0", "n[c] == 2", "n[c] < n"])
        return atom + rng.choice(["", "", " and g", " or not g"])

    def agg() -> str:
        cond = rng.choice(["", " if c != self", " if c != self", " if c != 0"])
        return f"{rng.choice(['any', 'all'])}({elem()} for c in cpus{cond})"

    local = ["a", "not a", "n > 0", "n == 0", "n < 2", "g", "not g"]
    actions: dict[str, Any] = {}
    for k in range(rng.randint(3, 5)):
        guard = rng.choice(
            [
                rng.choice(local),
                f"{rng.choice(local)} and {agg()}",
                f"{rng.choice(local)} and not {agg()}",
                f"not ({agg()} or g)",
                f"implies({agg()}, {rng.choice(local)})",
            ]
        )
        do: dict[str, str] = {}
        for var in rng.sample(["a", "n", "g"], rng.randint(1, 2)):
            do[var] = rng.choice(
                {
                    "a": ["not a", "true", "false", agg()],
                    "n": ["n + 1 if n < 2 else 0", "0", f"1 if {agg()} else 2"],
                    "g": ["not g", "a", agg(), f"not {agg()}"],
                }[var]
            )
        actions[f"a{k}"] = {"when": guard, "do": do}
    if rng.random() < 0.5:
        actions["give"] = {
            "for": {"t": "cpus"},
            "when": f"t != self and a and {rng.choice(['not a[t]', agg()])}",
            "do": {"a": "false", "a[t]": "true"},
        }
    props: dict[str, Any] = {}
    for k in range(rng.randint(2, 3)):
        rhs = rng.choice([rng.choice(local), agg(), agg(), f"not {agg()}"])
        props[f"inv{k}"] = {"invariant": f"implies({rng.choice(local)}, {rhs})"}
    props["glob"] = {
        "invariant": rng.choice(
            [
                "all(implies(a[c], g) for c in cpus)",
                "implies(g, any(a[c] for c in cpus))",
                "all(all(implies(c != d, not (a[c] and a[d])) for d in cpus) for c in cpus)",
                "all(implies(n[c] == 2, not g) for c in cpus)",
            ]
        )
    }
    doc = {
        "model": f"framed-{i}",
        "params": {"NCPU": {"values": [3, 4], "default": 3}},
        "cpus": "NCPU",
        "vars": {
            "a": {"type": "bool", "index": "cpus"},
            "n": {"type": "int", "range": [0, 2], "index": "cpus"},
            "g": {"type": "bool"},
        },
        "actions": actions,
        "properties": props,
        "deadlock": "allowed",
    }
    return str(yaml.safe_dump(doc, sort_keys=False, width=10_000))


@pytest.mark.slow
def test_random_models_with_cut_aggregates_agree(tmp_path: Path) -> None:
    # the same cross-check as test_random_models_agree, on models whose steps and
    # invariants have aggregates over cpus in every position: what the steps checked on
    # their frame prove is what the whole relation proves
    rng = random.Random(2019)
    proved = dropped = framed = widened = 0
    for i in range(14):
        text = _framed_model(rng, i)
        path = write_model(tmp_path, text, f"framed-{i}.yaml")
        for n in (3, 4):
            model = load_model(path, overrides={"NCPU": str(n)})
            try:
                got, local = _agree_run(model)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{text}") from exc
            proved += len(got)
            dropped += len(local.dropped)
            framed += local.framed
            widened += local.steps - local.framed
    assert proved > 0, "the random models exercise both answers"
    assert dropped > 0, "the random models exercise both answers"
    assert framed > 0, "some steps are proved on their frame"
    assert widened > 0, "some steps need every CPU"


# The soundness argument of the frame, pinned down: each of the next three models is proved
# by a variant of the check that drops one of its conditions, though explicit search finds
# the invariant violated. The violation needs two CPUs outside the frame playing different
# parts (the frame holds the step's CPU and one more), so only the generic CPUs can supply
# them.

KEPT_ACROSS = """
model: two-witnesses
params:
  NCPU: {values: [4, 5], default: 5}
cpus: NCPU
enums:
  role: [idle, pa, pb]
vars:
  m: {type: enum, of: role, index: cpus, init: idle}
  x: {type: bool, index: cpus}
  y: {type: bool}
  h: {type: bool}
  d: {type: bool}
actions:
  to_a:
    when: not h and not d
    do: {m: pa}
  to_b:
    when: not h and not d
    do: {m: pb}
  toggle:
    when: not h and not d
    do: {x: not x}
  arm:
    when: >-
      not h and not d and any(m[c] == pa and x[c] != y for c in cpus)
      and any(m[c] == pb and x[c] != y for c in cpus)
    do: {h: true}
  flip:
    when: h and m == idle
    do: {y: not y, h: false, d: true}
properties:
  snap:
    invariant: >-
      (any(m[c] == pa and x[c] != y for c in cpus)
      and any(m[c] == pb and x[c] != y for c in cpus)) == h or not (h or d)
deadlock: allowed
"""


def test_a_generic_cpu_is_not_kept_across_a_step_that_changes_what_it_reads(
    tmp_path: Path,
) -> None:
    """`flip` writes y, which every element of snap's aggregates reads: before the step each
    aggregate needs a CPU with x != y, after it one with x == y (the old y), two CPUs. With
    5 CPUs the step breaks snap from a state of it (two pa CPUs, two pb CPUs and the idle
    CPU that flips). Keeping snap's generic CPUs across the step would make each of them
    both CPUs at once: only the frame's one other CPU could then play a second part, for
    one aggregate, and snap would be proved although explicit search finds it violated."""
    path = write_model(tmp_path, KEPT_ACROSS)
    assert _agree(load_model(path, overrides={"NCPU": "4"})) == {"snap"}
    model = load_model(path, overrides={"NCPU": "5"})
    assert _agree(model) == set()
    local = prove_locally(_invariants_only(model))
    assert local.symmetry == "CPUs 0-4 interchangeable"
    assert local.framed > 0, "the other steps are proved on their frame"


THREE_ROLES = """
model: three-roles
params:
  NCPU: {values: [3, 4], default: 4}
cpus: NCPU
enums:
  role: [idle, pa, pb, pc]
vars:
  m: {type: enum, of: role, index: cpus, init: idle}
  h: {type: bool}
actions:
  to_a:
    when: not h
    do: {m: pa}
  to_b:
    when: not h
    do: {m: pb}
  to_c:
    when: not h
    do: {m: pc}
  fire:
    when: >-
      m == idle and any(m[c] == pa for c in cpus) and any(m[c] == pb for c in cpus)
      and any(m[c] == pc for c in cpus)
    do: {h: true}
properties:
  never-fired: {invariant: not h}
deadlock: allowed
"""


def test_each_cut_aggregate_has_a_generic_cpu_of_its_own(tmp_path: Path) -> None:
    """`fire`'s guard has three aggregates, each needing a CPU of another role: with 4 CPUs
    (the idle one firing and three others) never-fired is violated. Its frame, the firing CPU
    and one more, holds one of them; one generic CPU shared by the three aggregates could
    be only one other, and the guard could never hold on the frame."""
    path = write_model(tmp_path, THREE_ROLES)
    assert _agree(load_model(path, overrides={"NCPU": "3"})) == {"never-fired"}
    assert _agree(load_model(path, overrides={"NCPU": "4"})) == set()


ZERO_IDLE = """
model: zero-idle
params:
  NCPU: {values: [3, 4], default: 4}
cpus: NCPU
enums:
  role: [idle, pa, pb]
vars:
  m: {type: enum, of: role, index: cpus, init: idle}
  h: {type: bool}
actions:
  to_a:
    when: not h and self != 0
    do: {m: pa}
  to_b:
    when: not h and self != 0
    do: {m: pb}
  fire:
    when: m == idle and any(m[c] == pa for c in cpus) and any(m[c] == pb for c in cpus)
    do: {h: true}
properties:
  zero-idle: {invariant: "implies(self == 0, m == idle)"}
  never-fired: {invariant: not h}
deadlock: allowed
"""


def test_a_generic_cpu_is_assumed_only_what_holds_at_every_cpu(tmp_path: Path) -> None:
    """zero-idle holds at every CPU, but renamed to another CPU's entries it would say that
    CPU is idle too: a generic CPU must not be assumed it (it names a CPU, so it is not
    renamable). Assumed there, no generic CPU could be pa or pb, the frame (CPU 0, the
    firing CPU, one more) holds only one of the two roles `fire` needs, and never-fired,
    violated with 4 CPUs, would be proved."""
    path = write_model(tmp_path, ZERO_IDLE)
    model = load_model(path, overrides={"NCPU": "4"})
    assert prove_locally(_invariants_only(model)).symmetry == "CPUs 1-3 interchangeable"
    assert _agree(model) == {"zero-idle"}
