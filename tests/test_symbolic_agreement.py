"""The symbolic engine (z3: bounded model checking, k-induction) against explicit search.

On 200 random small models of 1-3 CPUs (drawn once from tests/strategies.py and kept in
tests/fixtures/agreement/, so that every run checks the same ones) and on a few hand-written
models of the encoding's corners, every verdict the symbolic engine decides is the explicit
engine's, with a trace of the same (shortest) length, and every symbolic trace replays on the
reference semantics. The symbolic engine runs to the depth the explicit search needed (see
`_run`), so an undecided symbolic result is checkable too: BOUNDED means that explicit search
finds no violation of at most that length, "no witness within the bound" that it finds no such
witness.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

from conftest import write_model
from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import ModelResult, PropertyResult, Strength, Verdict
from preemptcheck.model.ir import PropKind
from preemptcheck.semantics.trace import replay
from strategies import AGREEMENT, models

WITNESS_KINDS = (PropKind.REACHABLE, PropKind.REACHABLE_ACTION)
DECIDED = (Verdict.HOLDS, Verdict.VIOLATED)
RLIMIT = 50_000_000  # z3's work limit per query: fixed here, so a run repeats exactly
# Some generated models count a byte through 256 states, with a shortest counterexample 200
# steps deep: unrolling that far takes minutes, so deeper traces are left to the explicit engine.
MAX_BOUND = 64

# 1-3 CPUs with a smaller state space than the explicit engine's agreement tests use: the
# symbolic engine unrolls every step of every CPU, and 200 examples must stay fast.
SMALL_MODELS = models(max_cpus=3, var_budget=600, max_states=2500)


def _length(p: PropertyResult) -> int | None:
    return None if p.trace is None else p.trace.length


def _run(path: str) -> tuple[ModelResult, ModelResult, int]:
    """Both engines on one model file, and the bound the symbolic engine ran to.

    The explicit search is exhaustive and its BFS depth D is the largest distance of a
    reachable state: every shortest trace has length at most D (decided in a state) or D + 1
    (decided by a step out of one). Bounded model checking to depth D + 1 therefore sees every
    shortest counterexample and witness, which makes each symbolic answer checkable against
    the explicit one: nothing decided late, nothing missed because the bound was too small.
    Beyond MAX_BOUND, a result left undecided must be one whose explicit trace is longer.
    """
    explicit = check_file(path, Options())
    assert explicit.stats.complete, explicit.stats.limit
    bound = min(explicit.stats.depth + 1, MAX_BOUND)
    symbolic = check_file(path, Options(engine="symbolic", bound=bound, rlimit=RLIMIT))
    return explicit, symbolic, bound


def compare(explicit: ModelResult, symbolic: ModelResult, bound: int, text: str) -> list[str]:
    """Assert that the engines agree; return one category per property, for the statistics.

    Categories: `decided` (the symbolic engine decided it, as the explicit one did),
    `beyond-bound` (undecided, and explicit search needs a longer trace), `bounded` (BOUNDED,
    and explicit search finds no violation: induction failed), `both-unknown` (neither decides
    it: a reachable property that cannot be evaluated everywhere) and `inconclusive` (no
    witness within the bound, and explicit search proves there is none).
    """
    assert [p.id for p in symbolic.properties] == [p.id for p in explicit.properties], text
    props = {p.id: p for p in symbolic.model.properties}
    out = []
    for e, s in zip(explicit.properties, symbolic.properties, strict=True):
        where = f"property {s.id}: explicit {e.verdict.value} ({_length(e)} steps), symbolic "
        where += f"{s.verdict.value} ({_length(s)} steps, {s.strength.value}: {s.reason})\n{text}"
        witness = s.kind in WITNESS_KINDS
        if s.trace is not None:
            replay(symbolic.model, props[s.id], s.trace)  # check_file did too: it must hold
            assert s.trace.length <= bound, where
        if s.verdict in DECIDED:
            assert s.verdict == e.verdict, where
            assert _length(s) == _length(e), where  # both shortest, or both without trace
            if s.trace is None:
                assert s.strength == Strength.INDUCTIVE, where  # a proof, not a search
            out.append("decided")
        else:
            assert s.trace is None, where
            deeper = e.trace is not None and e.trace.length > bound
            if s.verdict == Verdict.BOUNDED:  # no violation up to the bound
                assert not witness, where
                ok = e.verdict == Verdict.HOLDS or (e.verdict == Verdict.VIOLATED and deeper)
                assert ok, where
                out.append("beyond-bound" if deeper else "bounded")
                continue
            assert s.verdict == Verdict.UNKNOWN, where
            if witness and s.reason.startswith("no witness within depth"):
                assert e.verdict != Verdict.HOLDS or deeper, where
            if e.verdict == Verdict.UNKNOWN:
                out.append("both-unknown")
            else:
                out.append("beyond-bound" if deeper else "inconclusive")
    return out


def features(text: str) -> set[str]:
    """What a generated model uses, as names (`type:word`, `irq`, `cpus:3`, ...)."""
    doc: dict[str, Any] = yaml.safe_load(text)
    out = {f"cpus:{doc['cpus']}"}
    for var in doc["vars"].values():
        out.add(f"type:{var['type']}")
        if "fields" in var:
            out.add("word-fields")
        if "index" in var:
            out.add("indexed")
    for action in doc["actions"].values():
        dos = [action["do"]] if "do" in action else [s["do"] for s in action["steps"]]
        if any(len(do) >= 2 for do in dos):
            out.add("simultaneous")
        if "when" in action:
            out.add("guard")
        if "steps" in action:
            out.add("steps")
            if any("when" in s for s in action["steps"]):
                out.add("step-when")
            if any("if" in s for s in action["steps"]):
                out.add("step-if")
        for key in ("irq", "for", "on"):
            if key in action:
                out.add(key)
    for prop in doc.get("properties", {}).values():
        kind = next(k for k in ("invariant", "never", "reachable") if k in prop)
        out.add(f"property:{kind}")
    return out


def outcomes(result: ModelResult) -> set[str]:
    """The kinds of symbolic answers a model got, as names."""
    out = set()
    for p in result.properties:
        name = f"{p.kind.value}:{p.verdict.value}:{p.strength.value}"
        out.add(name)
        if p.kind == PropKind.RANGE and p.verdict == Verdict.VIOLATED:
            out.add("range-error")
        if p.trace is not None and p.trace.failed:
            out.add("failed-step")
    return out


MUST_COVER = {
    *(f"cpus:{n}" for n in (1, 2, 3)),
    *(f"type:{t}" for t in ("bool", "int", "enum", "word")),
    *("word-fields", "indexed", "guard", "simultaneous", "steps", "step-when", "step-if"),
    *("irq", "for", "on"),
    *(f"property:{k}" for k in ("invariant", "never", "reachable")),
    # answers: bounded model checking (counterexamples, witnesses, range errors, deadlocks)
    "invariant:violated:counterexample",
    "never:violated:counterexample",
    "reachable:holds:witness",
    "reachable-action:holds:witness",
    "range-error",
    "failed-step",
    "deadlock:violated:counterexample",
    # ... and k-induction (proofs of safety, unreachability)
    "invariant:holds:inductive",
    "never:holds:inductive",
    "range:holds:inductive",
    "deadlock:holds:inductive",
    "reachable:violated:inductive",
}


CORPUS = Path(__file__).parent / "fixtures" / "agreement"
CORPUS_SIZE = 200


def _draw_corpus() -> list[str]:
    """CORPUS_SIZE distinct models of SMALL_MODELS, derandomized. Hypothesis mixes into its
    choices constants found in the local modules loaded so far, so what it draws depends on
    what else the process has imported: the corpus is drawn once and kept in files."""
    texts: dict[str, None] = {}

    @settings(AGREEMENT, max_examples=CORPUS_SIZE * 3)
    @given(text=SMALL_MODELS)
    def draw(text: str) -> None:
        if len(texts) < CORPUS_SIZE:
            texts[text] = None

    draw()
    assert len(texts) == CORPUS_SIZE
    return list(texts)


def _corpus(request: pytest.FixtureRequest) -> list[Path]:
    if request.config.getoption("--update-agreement"):
        for old in CORPUS.glob("*.yaml"):
            old.unlink()
        CORPUS.mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(_draw_corpus()):
            (CORPUS / f"{i:03d}.yaml").write_text(text, encoding="utf-8")
    return sorted(CORPUS.glob("*.yaml"))


@pytest.mark.slow
def test_symbolic_agrees_with_explicit(request: pytest.FixtureRequest) -> None:
    """200 random models (tests/fixtures/agreement/, drawn from SMALL_MODELS; regenerate with
    `pytest tests/test_symbolic_agreement.py --update-agreement` and review); afterwards,
    what they covered and whether the symbolic engine left undecided a property that
    explicit search decides within the bound."""
    categories: Counter[str] = Counter()
    covered: set[str] = set()
    undecided: list[str] = []  # models with a `bounded` or `inconclusive` property
    corpus = _corpus(request)
    assert len(corpus) == CORPUS_SIZE
    for path in corpus:
        text = path.read_text(encoding="utf-8")
        explicit, symbolic, bound = _run(str(path))
        found = compare(explicit, symbolic, bound, f"{path}:\n{text}")
        categories.update(found)
        covered.update(features(text) | outcomes(symbolic))
        if {"bounded", "inconclusive"} & set(found):
            undecided.append(str(path))

    assert not MUST_COVER - covered, f"the corpus never reaches {MUST_COVER - covered}"
    # The engine's contract allows a property it cannot prove (BOUNDED, or no witness and no
    # proof that there is none), but on models this small k-induction with Houdini's
    # invariants proves every one: on 1,000 further random models of this strategy (not
    # derandomized, 3,894 properties) 3,871 were decided and 23 undecided by both engines
    # alike (a reachable property that cannot be evaluated everywhere), none left to the
    # symbolic engine alone. One that is not proved now means the engine lost proving power.
    assert not undecided, (categories, undecided[:3])


# ---------------------------------------------------------------- corners of the encoding

WORD_WRAP = """
model: word-wrap
vars:
  x: {type: word, bits: 8, init: 254}
actions:
  inc: {do: {x: x + 1}}
properties:
  wraps-to-zero: {reachable: x == 0}
  stays-a-byte: {invariant: x <= 255}
  skips-one: {invariant: x != 1}
"""

FIELD_OVERFLOW = """
model: field-overflow
vars:
  pc:
    type: word
    bits: 4
    fields: {count: [0, 2], flag: [3, 1]}
actions:
  inc:
    do: {pc.count: pc.count + 1}
  whole:
    when: pc.flag == 0
    do: {pc: pc + 5}
properties:
  flag-set: {reachable: pc.flag == 1}
"""

INT_RANGE = """
model: int-range
vars:
  n: {type: int, range: [-1, 2], init: 0}
actions:
  up: {do: {n: n + 1}}
  down: {when: n > -1, do: {n: n - 1}}
properties:
  negative: {reachable: n == -1}
"""

DIV_IN_GUARD = """
model: div-guard
vars:
  d: {type: int, range: [0, 2], init: 2}
  x: {type: int, range: [0, 9]}
actions:
  dec: {when: d > 0, do: {d: d - 1}}
  use: {when: 10 // d > 7, do: {x: 1}}
"""

DIV_IN_EFFECT = """
model: div-effect
vars:
  d: {type: int, range: [0, 2], init: 2}
  x: {type: int, range: [0, 9]}
actions:
  dec: {when: d > 0, do: {d: d - 1}}
  use: {when: x == 0, do: {x: 10 % d}}
"""

SHIFT_IN_GUARD = """
model: shift-guard
vars:
  s: {type: int, range: [-1, 2], init: 1}
  x: {type: bool}
actions:
  dec: {when: s > -1, do: {s: s - 1}}
  use: {when: (1 << s) > 2, do: {x: true}}
"""

SHIFT_IN_EFFECT = """
model: shift-effect
vars:
  s: {type: int, range: [-1, 2], init: 1}
  x: {type: word, bits: 4}
actions:
  dec: {when: s > -1, do: {s: s - 1}}
  use: {do: {x: 8 >> s}}
"""

STEPS_AND_IRQ = """
model: rmw-irq
vars:
  c: {type: int, range: [0, 3]}
  reg: {type: int, range: [0, 3]}
  done: {type: bool}
  irq_done: {type: bool}
  other_done: {type: bool}
actions:
  rmw:                       # a non-atomic c++: an interrupt may come between load and store
    when: not done
    steps:
      - do: {reg: c}
      - do: {c: reg + 1, done: true}
  irq_inc:
    irq: true
    when: not irq_done
    do: {c: c + 1, irq_done: true}
  other_inc:                 # not an interrupt: cannot run inside rmw on the same CPU
    when: not other_done
    do: {c: c + 1, other_done: true}
properties:
  irq-loses-update: {reachable: done and irq_done and c == 1}
  other-cannot-interleave: {reachable: done and other_done and c == 1}
  irq-inside-rmw: {reachable: irq_inc, when: reg == 0 and c == 0 and not done}
deadlock: allowed
"""

FOR_OVER_THREE_CPUS = """
model: kick-three
cpus: 3
vars:
  need: {type: bool, index: cpus}
  ipi: {type: bool, index: cpus}
actions:
  kick:
    for: {t: cpus}
    when: t != self and not need[t]
    do:
      need[t]: true
      ipi[t]: true
  handle:
    irq: true
    when: ipi
    do: {ipi: false, need: false}
properties:
  all-need:
    reachable: all(need[c] for c in cpus)
  two-at-most:
    invariant: count(need[c] for c in cpus) <= 2
  no-self-kick:
    never: kick
    when: t == self
  one-kicks-two:
    reachable: kick
    when: self == 1 and t == 2
  ipi-implies-need:
    invariant: implies(ipi, need)
"""

ENUMS = """
model: enum-compare
enums:
  ctx: [user, kernel, irq]
vars:
  c: {type: enum, of: ctx}
  d: {type: enum, values: [lo, mid, hi], init: hi}
  seen: {type: enum, of: ctx, index: [0, 1], init: [kernel, user]}
actions:
  enter:
    when: c == user
    do: {c: kernel}
  intr:
    when: c != irq
    do: {c: irq, d: mid}
  back:
    when: c in [kernel, irq]
    do:
      c: user
      seen[1]: c
  reset:
    when: c == user and d not in [hi]
    do: {d: hi}
properties:
  irq-mid:
    reachable: c == irq and d == mid
  hi-not-in-irq:
    invariant: implies(d == hi, c != irq)
  enter-low:
    never: enter
    when: d != hi
  seen-irq:
    reachable: seen[1] == irq and seen[0] == (kernel if d == mid else user)
  seen0-kernel:
    invariant: seen[0] != user
"""

SHORT_CIRCUIT = """
model: short-circuit
vars:
  x: {type: int, range: [0, 3], init: 2}
  y: {type: int, range: [0, 9]}
  b: {type: bool}
actions:
  dec:
    when: x != 0 and 10 // x > 1
    do: {x: x - 1}
  reset:
    when: x == 0 or 10 // x > 100
    do: {x: 3, y: 0 if x == 0 else 9 // x}
  probe:
    when: not (x == 0 or 12 % x != 0)
    do:
      b: implies(x != 0, 6 // x >= 2)
properties:
  safe:
    invariant: x == 0 or 12 // x >= 4
  probe-fired:
    reachable: b
  y-stays-zero:
    invariant: y == 0
"""

H, V = Verdict.HOLDS, Verdict.VIOLATED

# model, {property: (verdict, trace length or None)}, {property: message part}, {property:
# the steps of its (unique) shortest trace}
CORNERS: dict[str, tuple[str, dict[str, Any], dict[str, str], dict[str, list[str]]]] = {
    "word-wrap": (
        WORD_WRAP,
        {
            "wraps-to-zero": (H, 2),  # 254 -> 255 -> 0: arithmetic on a whole word wraps
            "stays-a-byte": (H, None),
            "skips-one": (V, 3),
            "range": (H, None),  # wrapping is not a range error
            "deadlock": (H, None),
        },
        {},
        {"skips-one": ["inc@cpu0"] * 3},
    ),
    "field-overflow": (
        FIELD_OVERFLOW,
        {"flag-set": (H, 2), "range": (V, 4), "deadlock": (H, None)},
        {"range": "field"},  # a field does not wrap: 3 + 1 does not fit 2 bits
        {"flag-set": ["whole@cpu0", "whole@cpu0"]},  # 0 -> 5 -> 10: a carry into `flag`
    ),
    "int-range": (
        INT_RANGE,
        {"negative": (H, 1), "range": (V, 3), "deadlock": (H, None)},
        {"range": "assigns 3 to n, range [-1, 2]"},
        {"range": ["up@cpu0"] * 3},
    ),
    "div-in-guard": (
        DIV_IN_GUARD,
        {"range": (V, 3), "deadlock": (V, 2)},
        {"range": "division by zero"},
        {"range": ["dec@cpu0", "dec@cpu0", "use@cpu0"]},
    ),
    "div-in-effect": (
        DIV_IN_EFFECT,
        {"range": (V, 3), "deadlock": (H, None)},
        {"range": "division by zero"},
        {"range": ["dec@cpu0", "dec@cpu0", "use@cpu0"]},
    ),
    "shift-in-guard": (
        SHIFT_IN_GUARD,
        {"range": (V, 3), "deadlock": (V, 2)},
        {"range": "negative shift count"},
        {"range": ["dec@cpu0", "dec@cpu0", "use@cpu0"]},
    ),
    "shift-in-effect": (
        SHIFT_IN_EFFECT,
        {"range": (V, 3), "deadlock": (H, None)},
        {"range": "negative shift count"},
        {"range": ["dec@cpu0", "dec@cpu0", "use@cpu0"]},
    ),
    "steps-and-irq": (
        STEPS_AND_IRQ,
        {
            "irq-loses-update": (H, 3),
            "other-cannot-interleave": (V, None),
            "irq-inside-rmw": (H, 1),
            "range": (H, None),
        },
        {},
        {
            "irq-loses-update": ["rmw@cpu0 step 1/2", "irq_inc@cpu0", "rmw@cpu0 step 2/2"],
            "irq-inside-rmw": ["irq_inc@cpu0"],
        },
    ),
    "for-over-three-cpus": (
        FOR_OVER_THREE_CPUS,
        {
            "all-need": (H, 3),
            "two-at-most": (V, 3),
            "no-self-kick": (H, None),
            "one-kicks-two": (H, 1),
            "ipi-implies-need": (H, None),
            "range": (H, None),
            "deadlock": (H, None),
        },
        {},
        {"one-kicks-two": ["kick@cpu1{t=2}"]},
    ),
    "enums": (
        ENUMS,
        {
            "irq-mid": (H, 1),
            "hi-not-in-irq": (H, None),
            "enter-low": (V, 3),
            "seen-irq": (H, 2),
            "seen0-kernel": (H, None),
            "range": (H, None),
            "deadlock": (H, None),
        },
        {},
        {"irq-mid": ["intr@cpu0"], "enter-low": ["intr@cpu0", "back@cpu0", "enter@cpu0"]},
    ),
    "short-circuit": (
        SHORT_CIRCUIT,
        {
            "safe": (H, None),
            "probe-fired": (H, 1),
            "y-stays-zero": (H, None),
            "range": (H, None),  # `x != 0 and 10 // x > 1` never divides by zero
            "deadlock": (H, None),
        },
        {},
        {"probe-fired": ["probe@cpu0"]},
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CORNERS))
def test_encoding_corner(tmp_path: Path, name: str) -> None:
    text, want, messages, steps = CORNERS[name]
    explicit, symbolic, bound = _run(write_model(tmp_path, text))
    assert set(compare(explicit, symbolic, bound, text)) == {"decided"}
    for result in (explicit, symbolic):
        got = {p.id: (p.verdict, _length(p)) for p in result.properties}
        assert got == want, result.engine
        by_id = {p.id: p for p in result.properties}
        for pid, part in messages.items():
            trace = by_id[pid].trace
            assert trace is not None, (result.engine, pid)
            assert part in (trace.message or ""), (result.engine, pid)
        for pid, labels in steps.items():
            trace = by_id[pid].trace
            assert trace is not None, (result.engine, pid)
            assert [str(label) for label in trace.steps] == labels, (result.engine, pid)
