"""DESIGN §1, construct by construct: small models whose state and transition counts,
verdicts and shortest trace lengths are derived by hand (the derivation is in the comments).

Conventions used in the derivations: a transition is one enabled step instance that produces
a successor state (a step that fails with a range error produces none); a trace's length is its
number of steps, and a range-error trace ends with the failing step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_model
from preemptcheck.checking.check import Options, check_file
from preemptcheck.checking.results import ModelResult, Outcome, PropertyResult, Verdict
from preemptcheck.core.errors import InputError

H, V, U = Verdict.HOLDS, Verdict.VIOLATED, Verdict.UNKNOWN


def run(tmp_path: Path, text: str, name: str = "model.yaml", **options: object) -> ModelResult:
    return check_file(write_model(tmp_path, text, name), Options(**options))  # type: ignore[arg-type]


def prop(result: ModelResult, pid: str) -> PropertyResult:
    hits = [p for p in result.properties if p.id == pid]
    assert len(hits) == 1, f"no property {pid} in {[p.id for p in result.properties]}"
    return hits[0]


def verdicts(result: ModelResult) -> dict[str, tuple[Verdict, int | None]]:
    """Property id -> (verdict, trace length or None)."""
    return {
        p.id: (p.verdict, None if p.trace is None else p.trace.length) for p in result.properties
    }


def counts(result: ModelResult) -> tuple[int, int, bool]:
    return result.stats.states, result.stats.transitions, result.stats.complete


# ---------------------------------------------------------------- variables


def test_bool_var(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: bools
        vars:
          b: {type: bool}
        actions:
          flip: {do: {b: not b}}
        properties:
          b-reachable: {reachable: b}
          tautology: {invariant: b or not b}
        """,
    )
    # b in {false, true}: 2 states; flip is enabled in both and leads to the other: 2.
    assert counts(r) == (2, 2, True)
    assert verdicts(r) == {
        "b-reachable": (H, 1),  # false -flip-> true
        "tautology": (H, None),
        "range": (H, None),
        "deadlock": (H, None),
    }
    assert r.coverage == (("flip", 2),)


def test_int_range_error_is_the_range_property(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: ints
        vars:
          x: {type: int, range: [0, 3]}
        actions:
          inc: {do: {x: x + 1}}
        properties:
          below-three: {invariant: x < 3}
        """,
    )
    # x = 0..3: 4 states. inc succeeds from 0, 1, 2 (3 transitions); from 3 it assigns 4,
    # outside [0, 3]: a range error, no successor. inc is still enabled at 3: no deadlock.
    assert counts(r) == (4, 3, True)
    assert verdicts(r) == {
        "below-three": (V, 3),  # 0 -> 1 -> 2 -> 3
        "range": (V, 4),  # three incs, then the fourth inc fails
        "deadlock": (H, None),
    }
    rng = prop(r, "range").trace
    assert rng is not None
    assert rng.failed
    assert len(rng.states) == 4  # the failing step has no successor state
    assert [s.action for s in rng.steps] == ["inc"] * 4
    assert "4" in (rng.message or "")


def test_enum_var(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: enums
        vars:
          ctx: {type: enum, values: [user, kernel, irq], init: user}
        actions:
          syscall: {when: ctx == user, do: {ctx: kernel}}
          irq_entry: {when: ctx == kernel, do: {ctx: irq}}
          irq_exit_to_user: {when: ctx == irq, do: {ctx: user}}
        properties:
          in-irq: {reachable: ctx == irq}
          never-irq: {invariant: 'ctx in [user, kernel]'}
        """,
    )
    # A 3-cycle user -> kernel -> irq -> user: 3 states, 3 transitions.
    assert counts(r) == (3, 3, True)
    assert verdicts(r) == {
        "in-irq": (H, 2),
        "never-irq": (V, 2),
        "range": (H, None),
        "deadlock": (H, None),
    }
    assert dict(r.coverage) == {"syscall": 1, "irq_entry": 1, "irq_exit_to_user": 1}


def test_word_wraps_around(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: wrap
        vars:
          w: {type: word, bits: 8}
        actions:
          dec: {do: {w: w - 1}}
        properties:
          wrapped: {reachable: w == 255}
          not-250: {invariant: w != 250}
        """,
    )
    # 0 - 1 wraps to 255 (mod 2^8), then 254, ..., 1, 0: all 256 values, one dec each.
    assert counts(r) == (256, 256, True)
    assert verdicts(r) == {
        "wrapped": (H, 1),
        "not-250": (V, 6),  # 0 -> 255 -> 254 -> 253 -> 252 -> 251 -> 250
        "range": (H, None),  # wrapping a whole word is not an error
        "deadlock": (H, None),
    }


def test_word_carry_from_field_into_next_field(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: carry
        vars:
          pc: {type: word, bits: 4, fields: {count: [0, 2], softirq: [2, 2]}}
        actions:
          inc: {do: {pc: pc + 1}}
        properties:
          carried: {reachable: pc.softirq == 1 and pc.count == 0}
          whole: {invariant: pc == pc.count + 4 * pc.softirq}
        """,
    )
    # pc = 0..15 and back to 0: 16 states, 16 transitions. 3 + 1 = 4 carries out of the
    # 2-bit count into softirq: count 0, softirq 1 after 4 incs.
    assert counts(r) == (16, 16, True)
    assert verdicts(r) == {
        "carried": (H, 4),
        "whole": (H, None),
        "range": (H, None),
        "deadlock": (H, None),
    }


def test_word_fields_read_and_written(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: fields
        vars:
          w: {type: word, bits: 4, fields: {a: [0, 2], b: [2, 2]}}
        actions:
          inc_a: {do: {w.a: w.a + 1}}
          copy: {do: {w.b: w.a}}
        properties:
          b-follows-a: {invariant: w.b <= w.a}
          layout: {invariant: w == w.a + 4 * w.b}
          b3: {reachable: w.b == 3}
        """,
    )
    # a only grows (0..3; inc_a at a = 3 assigns 4 to a 2-bit field: range error) and b is a
    # copy of an earlier a, so the states are the pairs b <= a: 1 + 2 + 3 + 4 = 10.
    # copy always succeeds (10 transitions); inc_a succeeds when a < 3 (1 + 2 + 3 = 6).
    assert counts(r) == (10, 16, True)
    assert verdicts(r) == {
        "b-follows-a": (H, None),
        "layout": (H, None),
        "b3": (H, 4),  # inc_a x3, copy
        "range": (V, 4),  # inc_a x3, then inc_a fails
        "deadlock": (H, None),
    }


# ---------------------------------------------------------------- indexed variables, init


def test_index_over_cpus_implicit_self(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: percpu
        cpus: 2
        vars:
          flag: {type: bool, index: cpus}
        actions:
          set: {do: {flag: true}}
        properties:
          both: {reachable: 'flag[0] and flag[1]'}
        """,
    )
    # flag[0], flag[1] each false/true: 4 states. set@cpu0 and set@cpu1 (flag means
    # flag[self]) are enabled everywhere and always succeed: 2 x 4 = 8 transitions.
    assert counts(r) == (4, 8, True)
    assert verdicts(r) == {"both": (H, 2), "range": (H, None), "deadlock": (H, None)}
    both = prop(r, "both").trace
    assert both is not None
    assert sorted(s.cpu for s in both.steps) == [0, 1]


def test_index_over_tasks_and_for_binding(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: tasks
        tasks: [A, B, C]
        vars:
          runnable: {type: bool, index: tasks}
        actions:
          wake:
            for: {t: tasks}
            when: 'not runnable[t]'
            do:
              runnable[t]: true
        """,
    )
    # 2^3 = 8 subsets of runnable tasks. A state with k sleeping tasks has k wake
    # instances enabled: sum_k k * C(3, k) = 3 + 6 + 3 = 12 transitions. All three awake:
    # nothing is enabled, a deadlock after 3 wakes.
    assert counts(r) == (8, 12, True)
    assert verdicts(r) == {"range": (H, None), "deadlock": (V, 3)}
    assert r.coverage == (("wake", 7),)  # every state but the last enables some wake[t]


def test_index_over_enum_with_init_list(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: enum-index
        enums:
          ctx: [user, kernel, irq]
        vars:
          n:
            type: int
            range: [0, 2]
            index: ctx
            init: [0, 1, 2]
        actions:
          rotate:
            do:
              n[user]: n[kernel]
              n[kernel]: n[irq]
              n[irq]: n[user]
        properties:
          user-two: {reachable: 'n[user] == 2'}
          permutation: {invariant: 'sum(n[c] for c in ctx) == 3'}
        """,
    )
    # (0,1,2) -> (1,2,0) -> (2,0,1) -> (0,1,2): a 3-cycle (simultaneous assignment).
    assert counts(r) == (3, 3, True)
    assert verdicts(r) == {
        "user-two": (H, 2),
        "permutation": (H, None),
        "range": (H, None),
        "deadlock": (H, None),
    }


def test_index_over_int_interval(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: interval
        vars:
          slot:
            type: int
            range: [0, 9]
            index: [1, 3]
            init: [1, 2, 3]
        actions:
          drain:
            for: {i: [1, 3]}
            when: 'slot[i] > 0'
            do:
              slot[i]: 'slot[i] - 1'
        properties:
          first-empty: {reachable: 'slot[1] == 0 and slot[3] == 3'}
        """,
    )
    # slot[1] in 0..1, slot[2] in 0..2, slot[3] in 0..3: 2 * 3 * 4 = 24 states.
    # drain[i] is enabled where slot[i] > 0: 12 + 16 + 18 = 46 transitions.
    # Deadlock at (0, 0, 0), after 1 + 2 + 3 = 6 drains.
    assert counts(r) == (24, 46, True)
    assert verdicts(r) == {"first-empty": (H, 1), "range": (H, None), "deadlock": (V, 6)}


def test_init_list_over_cpus_of_tasks(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: curr
        cpus: 2
        tasks: [A, B]
        vars:
          curr: {type: enum, of: tasks, index: cpus, init: [A, B]}
        actions:
          migrate:
            on: 0
            do:
              curr[0]: curr[1]
              curr[1]: curr[0]
        properties:
          distinct: {invariant: 'curr[0] != curr[1]'}
          b-on-0: {reachable: 'curr[0] == B'}
        """,
    )
    # (A, B) <-> (B, A): 2 states, 2 transitions (one instance: pinned to cpu 0).
    assert counts(r) == (2, 2, True)
    assert verdicts(r) == {
        "distinct": (H, None),
        "b-on-0": (H, 1),
        "range": (H, None),
        "deadlock": (H, None),
    }


def test_default_inits(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: defaults
        vars:
          b: {type: bool}
          i: {type: int, range: [-2, 5]}
          e: {type: enum, values: [p, q]}
          w: {type: word, bits: 8}
        actions:
          idle: {do: {}}
        properties:
          defaults: {invariant: not b and i == -2 and e == p and w == 0}
        """,
    )
    # Defaults false, lo, the first value, 0; idle is a self-loop: 1 state, 1 transition.
    assert counts(r) == (1, 1, True)
    assert prop(r, "defaults").verdict == H


# ---------------------------------------------------------------- params, cpus, defs


@pytest.mark.parametrize(("overrides", "bits", "init"), [({}, 4, 6), ({"B": "2"}, 3, 4)])
def test_declarations_are_expressions_over_params(
    tmp_path: Path, overrides: dict[str, str], bits: int, init: int
) -> None:
    r = run(
        tmp_path,
        """
        model: decl-exprs
        params:
          B: 3
        vars:
          w: {type: word, bits: B + 1, init: B * 2}
          x: {type: int, range: [0, B], init: B - 1}
          y: {type: int, range: [-B, B]}
        actions:
          dec: {do: {w: w - 1}}
        properties:
          zero: {reachable: w == 0}
          x-init: {invariant: x == B - 1 and y == -B}
        """,
        overrides=overrides,
    )
    # w counts down from 2B through 0 and wraps: all 2^(B+1) values, one dec each.
    assert counts(r) == (2**bits, 2**bits, True)
    assert verdicts(r) == {
        "zero": (H, init),  # 2B decrements
        "x-init": (H, None),
        "range": (H, None),
        "deadlock": (H, None),
    }


COUNTER = """
model: params
params:
  N: 2
  STEP: {values: [1, 2, 3], default: 2}
vars:
  x: {type: int, range: [0, N]}
actions:
  inc: {when: x < N, do: {x: 'min(x + STEP, N)'}}
"""


@pytest.mark.parametrize(
    ("overrides", "states", "deadlock"),
    [
        # N = 2, STEP = 2: 0 -> 2. 2 states, 1 transition, deadlock at 2 after 1 step.
        ({}, 2, 1),
        # N = 4, STEP = 2: 0 -> 2 -> 4. 3 states, 2 transitions.
        ({"N": "4"}, 3, 2),
        # N = 4, STEP = 1: 0 -> 1 -> 2 -> 3 -> 4. 5 states, 4 transitions.
        ({"N": "4", "STEP": "1"}, 5, 4),
        # N = 5, STEP = 3: 0 -> 3 -> 5 (min caps it). 3 states, 2 transitions.
        ({"N": "5", "STEP": "3"}, 3, 2),
    ],
)
def test_params_and_set(
    tmp_path: Path, overrides: dict[str, str], states: int, deadlock: int
) -> None:
    r = run(tmp_path, COUNTER, overrides=overrides)
    # A chain: the last state has no enabled action.
    assert counts(r) == (states, states - 1, True)
    assert verdicts(r) == {"range": (H, None), "deadlock": (V, deadlock)}


def test_set_checks_params_it_is_given(tmp_path: Path) -> None:
    # an int param's `values` are what a run checks; --set may choose any integer:
    # N = 2, STEP = 7: 0 -> 2 (min caps it). 2 states, 1 transition.
    r = run(tmp_path, COUNTER, overrides={"STEP": "7"})
    assert counts(r) == (2, 1, True)
    with pytest.raises(InputError):
        run(tmp_path, COUNTER, overrides={"STEP": "seven"})
    with pytest.raises(InputError):
        run(tmp_path, COUNTER, overrides={"NOPE": "1"})


@pytest.mark.parametrize(("ncpu", "cpus"), [({}, 2), ({"NCPU": "1"}, 2), ({"NCPU": "2"}, 3)])
def test_cpus_is_an_expression_over_a_param(
    tmp_path: Path, ncpu: dict[str, str], cpus: int
) -> None:
    r = run(
        tmp_path,
        """
        model: ncpu
        params:
          NCPU: {values: [1, 2], default: 1}
        cpus: NCPU + 1
        vars:
          flag: {type: bool, index: cpus}
          n: {type: int, range: [0, NCPU + 1]}
        actions:
          set: {when: not flag, do: {flag: true, n: n + 1}}
        properties:
          all-set: {reachable: 'n == NCPU + 1'}
          counted: {invariant: 'n == count(flag[c] for c in cpus)'}
        """,
        overrides=ncpu,
    )
    # Each CPU sets its flag once: the states are the 2^cpus subsets (n is their size);
    # a subset of size k enables cpus - k sets: cpus * 2^(cpus-1) transitions in all.
    assert r.model.cpus == cpus
    assert counts(r) == (2**cpus, cpus * 2 ** (cpus - 1), True)
    assert verdicts(r) == {
        "all-set": (H, cpus),
        "counted": (H, None),
        "range": (H, None),
        "deadlock": (V, cpus),
    }


def test_defs_are_macros_with_implicit_self(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: defs
        cpus: 2
        vars:
          flag: {type: bool, index: cpus}
          x: {type: int, range: [0, 2]}
        defs:
          mine: flag                 # flag[self] wherever it is expanded
          full: x == 2
          both: full and mine
        actions:
          take: {when: not mine and not full, do: {flag: true, x: x + 1}}
        properties:
          consistent: {invariant: 'implies(mine, x >= 1)'}   # per CPU through the def
          saturated: {reachable: full}
          both-here: {reachable: both}
        """,
    )
    # Each CPU takes once: {}, {0}, {1}, {0,1} = 4 states; 2 + 1 + 1 + 0 = 4 transitions;
    # the last state deadlocks after 2 steps.
    assert counts(r) == (4, 4, True)
    assert verdicts(r) == {
        "consistent": (H, None),
        "saturated": (H, 2),
        "both-here": (H, 2),
        "range": (H, None),
        "deadlock": (V, 2),
    }


# ---------------------------------------------------------------- expressions

EXPR_MODEL = """
model: expr
cpus: 2
tasks: [A, B, C]
enums:
  ctx: [user, kernel, irq]
vars:
  a: {{type: int, range: [0, 20], init: 7}}
  b: {{type: int, range: [-8, 8], init: 3}}
  n: {{type: int, range: [-10, 10], init: -7}}
  z: {{type: int, range: [0, 1], init: 0}}
  t: {{type: bool, init: true}}
  f: {{type: bool, index: cpus, init: [true, false]}}
  r: {{type: int, range: [0, 3], index: tasks, init: [1, 2, 3]}}
  e: {{type: bool, index: ctx, init: [true, true, false]}}
  k: {{type: enum, of: ctx, init: kernel}}
  w: {{type: word, bits: 8, fields: {{lo: [0, 4], hi: [4, 4]}}, init: 0x5a}}
actions:
  idle: {{do: {{}}}}
properties:
  p: {{invariant: {expr}}}
"""

# (expression, its value in the only state: a=7 b=3 n=-7 z=0 t f=[T,F] r=[1,2,3] e=[T,T,F])
EXPRESSIONS = [
    ("a + b == 10", True),
    ("a - b == 4", True),
    ("a * b == 21", True),
    ("a // b == 2", True),
    ("a % b == 1", True),
    ("n // b == -3", True),  # floor division, as in Python
    ("n % b == 2", True),
    ("-n == a", True),
    ("+a == 7", True),
    ("(a & b) == 3", True),
    ("(a | 8) == 15", True),
    ("(a ^ b) == 4", True),
    ("~a == -8", True),
    ("(a << b) == 56", True),
    ("(a >> 1) == 3", True),
    ("0x10 + 0b11 == 19", True),
    ("0 <= b < a <= 7", True),
    ("0 <= b < a < 7", False),
    ("b < a > n", True),
    ("b in [1, 3, 5]", True),
    ("b in [1, 2]", False),
    ("a not in [1, 2]", True),
    ("a not in [7]", False),
    ("k in [user, kernel]", True),
    ("k not in [kernel]", False),
    ("a > 0 and b > 0", True),
    ("a > 100 or b > 100", False),
    ("not t", False),
    ("not (a > 100) and (t or z == 1)", True),
    ("implies(a == 7, b == 3)", True),
    ("implies(a == 7, b == 4)", False),
    ("implies(a == 8, b == 4)", True),
    ("(a if b == 3 else 0) == 7", True),
    ("(a if b == 4 else 0) == 7", False),
    ("(user if t else irq) == user", True),
    ("min(a, b, 5) == 3", True),
    ("max(a, b) == 7", True),
    ("max(n, -9) == -7", True),
    ("abs(n) == 7", True),
    ("any(f[c] for c in cpus)", True),
    ("all(f[c] for c in cpus)", False),
    ("count(f[c] for c in cpus) == 1", True),
    ("sum(c for c in cpus) == 1", True),
    ("sum(r[x] for x in tasks) == 6", True),
    ("all(r[x] > 0 for x in tasks)", True),
    ("count(r[x] >= 2 for x in tasks) == 2", True),
    ("any(r[x] == 0 for x in tasks)", False),
    ("count(e[x] for x in ctx) == 2", True),
    ("any(e[x] for x in ctx if x != user)", True),
    ("all(e[x] for x in ctx if x != irq)", True),
    ("all(e[x] for x in ctx)", False),
    ("sum(r[x] for x in tasks if x != A) == 5", True),
    ("w.lo == 10 and w.hi == 5", True),
    ("(w >> 4) == w.hi", True),
    ("true and not false", True),
    ("True", True),
]


@pytest.mark.parametrize(("expr", "value"), EXPRESSIONS, ids=[e for e, _ in EXPRESSIONS])
def test_expression_forms(tmp_path: Path, expr: str, value: bool) -> None:
    quoted = "'" + expr.replace("'", "''") + "'"
    r = run(tmp_path, EXPR_MODEL.format(expr=quoted))
    # One state; idle is a self-loop on each of the 2 CPUs (2 transitions). The invariant
    # holds iff the expression is true; a violation is the initial state (trace length 0).
    assert counts(r) == (1, 2, True)
    assert verdicts(r)["p"] == ((H, None) if value else (V, 0))
    assert verdicts(r)["range"] == (H, None)


def test_expressions_in_updates(tmp_path: Path) -> None:
    """The same operators when computing a successor (compiled into the step, not a check)."""
    r = run(
        tmp_path,
        """
        model: updates
        cpus: 2
        vars:
          a: {type: int, range: [-20, 20], init: 7}
          b: {type: int, range: [-8, 8], init: 3}
          s: {type: int, range: [-64, 64]}
          c: {type: bool, index: cpus, init: [true, false]}
          done: {type: bool}
        actions:
          compute:
            on: 0
            when: not done
            do:
              done: true
              s: '(a // b) * 10 + a % b - (a ^ b) + (a << 1 >> 2) + min(a, b) * max(-1, -b)
                  + abs(b - a) + (1 if any(c[x] for x in cpus) else 0)
                  + count(c[x] for x in cpus) + sum(x for x in cpus if c[x])'
              a: -a
        properties:
          result: {reachable: done and s == 23 and a == -7}
        """,
    )
    # (7 // 3) * 10 = 20; 7 % 3 = 1; 7 ^ 3 = 4; (7 << 1) >> 2 = 3; min(7, 3) * max(-1, -3)
    # = -3; abs(3 - 7) = 4; any(c) -> 1; count(c) = 1; sum of the CPUs with c set = 0.
    # 20 + 1 - 4 + 3 - 3 + 4 + 1 + 1 + 0 = 23. compute fires once: 2 states, 1 transition,
    # and the second state deadlocks.
    assert counts(r) == (2, 1, True)
    assert verdicts(r) == {"result": (H, 1), "range": (H, None), "deadlock": (V, 1)}


# ---------------------------------------------------------------- actions: self, on, for


def test_per_cpu_invariant_reports_the_cpu(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: cpu1
        cpus: 2
        vars:
          x: {type: int, range: [0, 3], index: cpus}
        actions:
          inc: {do: {x: x + self}}
        properties:
          small: {invariant: x < 2}
          explicit: {invariant: 'x[self] < 2'}
        """,
    )
    # inc@cpu0 adds 0 (a self-loop on every state); inc@cpu1 moves x[1] 0 -> 1 -> 2 -> 3 and
    # fails at 3 (4 out of range). States: x[1] = 0..3 = 4; transitions 4 + 3 = 7.
    assert counts(r) == (4, 7, True)
    assert verdicts(r) == {
        "small": (V, 2),
        "explicit": (V, 2),
        "range": (V, 4),
        "deadlock": (H, None),
    }
    small = prop(r, "small").trace
    assert small is not None
    assert small.cpu == 1
    assert prop(r, "explicit").trace.cpu == 1  # type: ignore[union-attr]
    assert [(s.action, s.cpu) for s in small.steps] == [("inc", 1), ("inc", 1)]


def test_on_pins_an_action(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: pinned
        cpus: 2
        vars:
          flag: {type: bool, index: cpus}
        actions:
          set: {on: 1, do: {flag: true}}
        properties:
          cpu0-set: {reachable: 'flag[0]'}
          cpu1-set: {reachable: 'flag[1]'}
          some-cpu-set: {reachable: flag}     # per CPU: some CPU's flag
        """,
    )
    # Only set@cpu1 exists: (F, F) -> (F, T) -> (F, T): 2 states, 2 transitions.
    assert counts(r) == (2, 2, True)
    assert verdicts(r) == {
        "cpu0-set": (V, None),  # unreachable: no state satisfies it
        "cpu1-set": (H, 1),
        "some-cpu-set": (H, 1),
        "range": (H, None),
        "deadlock": (H, None),
    }
    witness = prop(r, "cpu1-set").trace
    assert witness is not None
    assert witness.steps[0].cpu == 1
    assert prop(r, "some-cpu-set").trace.cpu == 1  # type: ignore[union-attr]


def test_for_bindings_instances(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: ipi
        cpus: 2
        tasks: [A, B]
        vars:
          ipi: {type: bool, index: cpus}
          val: {type: int, range: [0, 1], index: tasks}
        actions:
          send:
            for: {t: cpus}
            when: t != self
            do:
              ipi[t]: true
          mark:
            on: 0
            for: {k: tasks, v: [0, 1]}
            do:
              val[k]: v
        properties:
          ipi0: {reachable: 'ipi[0] and val[A] == 0'}
          no-ipi-to-0: {never: send, when: t == 0}     # when sees the action's bindings
          no-mark-b1: {never: mark, when: 'k == B and v == 1 and val[B] == 1'}
        """,
    )
    # ipi: 4 combinations, val: 4 combinations: 16 states. send has 2 x 2 instances, of which
    # 2 (t != self) are enabled everywhere; mark has 2 x 2 instances on cpu 0, all enabled:
    # 16 * (2 + 4) = 96 transitions.
    assert counts(r) == (16, 96, True)
    assert dict(r.coverage) == {"send": 16, "mark": 16}
    assert verdicts(r) == {
        "ipi0": (H, 1),
        "no-ipi-to-0": (V, 1),  # send@cpu1{t=0} from the initial state
        "no-mark-b1": (V, 2),  # mark{k=B,v=1}, then again
        "range": (H, None),
        "deadlock": (H, None),
    }
    witness = prop(r, "ipi0").trace
    assert witness is not None
    (step,) = witness.steps
    assert (step.action, step.cpu, step.bindings) == ("send", 1, (("t", 0),))


def test_indexed_word_field_targets(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: pc
        cpus: 2
        vars:
          pc:
            type: word
            bits: 4
            fields: {count: [0, 2], nr: [3, 1]}
            index: cpus
            role: preempt_count
        actions:
          preempt_disable: {when: pc.count < 3, do: {pc.count: pc.count + 1}}
          set_nr:
            for: {t: cpus}
            when: t != self
            do:
              pc[t].nr: 1
        properties:
          shallow: {invariant: pc.count <= 2}
          both-nr: {reachable: 'pc[0] == 8 and pc[1] == 8'}
          layout: {invariant: 'pc[1] == pc[1].count + 8 * pc[1].nr'}
        """,
    )
    # Per CPU: count 0..3 (only grows) x nr 0/1 (only set): 8 local states, 64 in all.
    # preempt_disable@c is enabled where count[c] < 3: 48 states per CPU = 96 transitions;
    # set_nr has one enabled instance per CPU (t != self) everywhere: 128 (self-loops once
    # nr is set). 224 transitions.
    assert counts(r) == (64, 224, True)
    assert verdicts(r) == {
        "shallow": (V, 3),  # three preempt_disable on one CPU
        "both-nr": (H, 2),  # set_nr@cpu0{t=1}, set_nr@cpu1{t=0}
        "layout": (H, None),
        "range": (H, None),
        "deadlock": (H, None),
    }


def test_simultaneous_assignment_swaps(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: swap
        vars:
          x: {type: int, range: [0, 3], init: 1}
          y: {type: int, range: [0, 3], init: 2}
        actions:
          swap: {do: {x: y, y: x}}
        properties:
          distinct: {invariant: x != y}     # sequential assignment would give x == y
          swapped: {reachable: x == 2 and y == 1}
        """,
    )
    # (1, 2) <-> (2, 1): 2 states, 2 transitions.
    assert counts(r) == (2, 2, True)
    assert verdicts(r) == {
        "distinct": (H, None),
        "swapped": (H, 1),
        "range": (H, None),
        "deadlock": (H, None),
    }


# ---------------------------------------------------------------- sequences and irq actions


def test_two_cpus_interleave_two_step_sequences(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: interleave
        cpus: 2
        deadlock: allowed
        vars:
          pc: {type: int, range: [0, 2], index: cpus}
          h: {type: int, range: [1, 31], init: 1}   # a leading 1, then each step's CPU
        actions:
          seq:
            when: pc == 0
            steps:
              - do: {pc: 1, h: 2 * h + self}
              - do: {pc: 2, h: 2 * h + self}
        properties:
          cpu0-then-1-then-0-then-1: {reachable: h == 0b10101}
          cpu0-twice-first: {reachable: h == 0b10011}
        """,
    )
    # h records the order of the steps, so each state is a distinct prefix of an interleaving
    # (a word with at most two 0s and two 1s): sum over (i, j) in [0, 2]^2 of C(i + j, i) =
    # 1+1+1+2+1+1+3+3+6 = 19 states. Every prefix but the empty one is reached by exactly one
    # step from its parent: 18 transitions. The 6 = C(4, 2) complete words are the
    # interleavings.
    assert counts(r) == (19, 18, True)
    assert verdicts(r) == {
        "cpu0-then-1-then-0-then-1": (H, 4),
        "cpu0-twice-first": (H, 4),
        "range": (H, None),
    }
    witness = prop(r, "cpu0-then-1-then-0-then-1").trace
    assert witness is not None
    assert [(s.cpu, s.step, s.nsteps) for s in witness.steps] == [
        (0, 0, 2),
        (1, 0, 2),
        (0, 1, 2),
        (1, 1, 2),
    ]


def test_step_when_waits(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: wait
        cpus: 2
        vars:
          a: {type: int, range: [0, 2]}
          go: {type: bool}
        actions:
          waiter:
            on: 0
            when: a == 0
            steps:
              - do: {a: 1}
              - when: go
                do: {a: 2}
          release: {on: 1, when: not go, do: {go: true}}
        properties:
          finished: {reachable: a == 2}
        """,
    )
    # S0 (a0, !go, idle) -> waiter.1 -> S1 (a1, !go, mid); S0 -> release -> S2 (a0, go, idle)
    # S1: step 2 waits for go; release -> S3 (a1, go, mid). S2 -> waiter.1 -> S3.
    # S3 -> waiter.2 -> S4 (a2, go, idle): nothing enabled. 5 states, 2 + 1 + 1 + 1 = 5
    # transitions; S1 is not a deadlock (release is enabled).
    assert counts(r) == (5, 5, True)
    assert verdicts(r) == {"finished": (H, 3), "range": (H, None), "deadlock": (V, 3)}


def test_step_if_skips(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: skip
        deadlock: allowed
        vars:
          a: {type: int, range: [0, 1]}
          b: {type: bool}
        actions:
          seq:
            for: {f: [0, 1]}
            when: a == 0
            steps:
              - do: {a: 1}
              - if: f == 1
                do: {b: true}
        properties:
          b-set: {reachable: b}
          b-set-after: {never: seq, when: b}
        """,
    )
    # seq{f=0}.1 -> (a1, !b, mid f=0) -> .2 skips its do -> (a1, !b, idle)
    # seq{f=1}.1 -> (a1, !b, mid f=1) -> .2 -> (a1, b, idle)
    # 5 states (the initial one, two mid-sequence, two final), 4 transitions.
    assert counts(r) == (5, 4, True)
    assert verdicts(r) == {"b-set": (H, 2), "b-set-after": (H, None), "range": (H, None)}


def test_irq_interleaves_a_sequence_but_other_actions_of_the_cpu_do_not(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: irq
        vars:
          a: {type: int, range: [0, 2]}
          i: {type: bool}
          o: {type: bool}
        actions:
          seq:
            when: a == 0
            steps:
              - do: {a: 1}
              - do: {a: 2}
          tick: {irq: true, when: not i, do: {i: true}}
          other: {when: not o, do: {o: true}}
        properties:
          other-inside: {never: other, when: a == 1}
          tick-inside: {reachable: tick, when: a == 1}
          second-step: {never: seq, when: a == 1}     # never covers every step of seq
        """,
    )
    # a, i, o: 3 * 2 * 2 = 12 states, all reachable (a == 1 means mid-sequence).
    # seq: step 1 where a == 0, step 2 where a == 1: 4 + 4 = 8; tick where !i: 6;
    # other where !o and not mid-sequence (a != 1): 2 * 2 = 4. 18 transitions.
    # (a, i, o) = (2, T, T) enables nothing: seq x2, tick, other = 4 steps.
    assert counts(r) == (12, 18, True)
    assert verdicts(r) == {
        "other-inside": (H, None),
        "tick-inside": (H, 2),  # seq step 1, tick
        "second-step": (V, 2),  # seq step 1, then step 2 starts in a == 1
        "range": (H, None),
        "deadlock": (V, 4),
    }
    assert dict(r.coverage) == {"seq": 4, "tick": 6, "other": 4}


# ---------------------------------------------------------------- events, tags, never


def test_event_tags_never_with_when(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: tags
        vars:
          cnt: {type: int, range: [0, 2]}
        actions:
          lock: {when: cnt < 2, do: {cnt: cnt + 1}, tags: [preempt_off]}
          unlock:
            when: cnt > 0
            do: {cnt: cnt - 1}
            event: [preempt_enable, irq_enable]
            tags: [preempt_on]
          might_sleep: {do: {}, tags: [sleep], event: false}
        properties:
          no-sleep-in-atomic: {never: 'tag:sleep', when: cnt != 0}
          no-sleep-when-deep: {never: 'tag:sleep', when: cnt > 2}
          no-unlock-at-zero: {never: unlock, when: cnt == 0}
          no-nested-lock: {never: lock, when: cnt == 1}
          no-toggle: {never: ['tag:preempt_off', 'tag:preempt_on']}
        """,
    )
    # cnt = 0, 1, 2: 3 states. lock from 0, 1; unlock from 1, 2; might_sleep self-loops on
    # all 3: 2 + 2 + 3 = 7 transitions.
    assert counts(r) == (3, 7, True)
    assert verdicts(r) == {
        "no-sleep-in-atomic": (V, 2),  # lock, might_sleep (the matching step ends the trace)
        "no-sleep-when-deep": (H, None),
        "no-unlock-at-zero": (H, None),  # the guard keeps it from firing there
        "no-nested-lock": (V, 2),  # lock, lock
        "no-toggle": (V, 1),  # lock
        "range": (H, None),
        "deadlock": (H, None),
    }
    steps = prop(r, "no-sleep-in-atomic").trace.steps  # type: ignore[union-attr]
    assert [s.action for s in steps] == ["lock", "might_sleep"]
    m = r.model
    assert m.action("lock").events == ("lock",)  # default: its name
    assert m.action("unlock").events == ("preempt_enable", "irq_enable")
    assert m.action("might_sleep").events == ()
    assert m.action("might_sleep").tags == ("sleep",)


def test_reachable_over_states_and_actions(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: reach
        vars:
          x: {type: int, range: [0, 2]}
        actions:
          inc: {when: x < 2, do: {x: x + 1}}
          reset: {when: x == 2, do: {x: 0}, tags: [clear]}
          stuck: {when: x > 5, do: {x: 0}}
        properties:
          two: {reachable: x == 2}
          three: {reachable: x == 3}
          cleared: {reachable: 'tag:clear'}
          early-reset: {reachable: reset, when: x == 1}
          stuck-fires: {reachable: stuck}
        """,
    )
    # 0 -> 1 -> 2 -> 0: 3 states, 3 transitions; stuck is never enabled.
    assert counts(r) == (3, 3, True)
    assert verdicts(r) == {
        "two": (H, 2),
        "three": (V, None),
        "cleared": (H, 3),  # inc, inc, reset
        "early-reset": (V, None),
        "stuck-fires": (V, None),
        "range": (H, None),
        "deadlock": (H, None),
    }
    assert dict(r.coverage) == {"inc": 2, "reset": 1, "stuck": 0}
    assert any("stuck" in w for w in r.warnings)


def test_deadlock_allowed(tmp_path: Path) -> None:
    text = """
        model: stop
        {deadlock}
        vars:
          x: {{type: int, range: [0, 2]}}
        actions:
          inc: {{when: x < 2, do: {{x: x + 1}}}}
        """
    r = run(tmp_path, text.format(deadlock=""))
    # 0 -> 1 -> 2: 3 states, 2 transitions, 2 has no enabled action.
    assert counts(r) == (3, 2, True)
    assert verdicts(r) == {"range": (H, None), "deadlock": (V, 2)}
    r = run(tmp_path, text.format(deadlock="deadlock: allowed"))
    assert counts(r) == (3, 2, True)
    assert verdicts(r) == {"range": (H, None)}


# ---------------------------------------------------------------- extends, check files


def test_extends_override_and_remove(tmp_path: Path) -> None:
    write_model(
        tmp_path,
        """
        model: base
        vars:
          x: {type: int, range: [0, 3]}
        actions:
          inc: {when: x < 3, do: {x: x + 1}}
          dec: {when: x > 0, do: {x: x - 1}}
          jump: {when: x == 0, do: {x: 3}}
        properties:
          below-three: {invariant: x < 3}
          three: {reachable: x == 3}
        """,
        "base.yaml",
    )
    r = run(
        tmp_path,
        """
        model: child
        extends: base.yaml
        remove: {actions: [jump], properties: [below-three]}
        actions:
          inc: {when: x < 2, do: {x: x + 1}}   # replaces the base's inc
        properties:
          at-most-two: {invariant: x <= 2}
        """,
        "child.yaml",
    )
    # Without jump and with the new inc: 0 <-> 1 <-> 2: 3 states; inc from 0, 1 and dec
    # from 1, 2: 4 transitions.
    assert r.name == "child"
    assert [a.name for a in r.model.actions] == ["inc", "dec"]
    assert counts(r) == (3, 4, True)
    assert verdicts(r) == {
        "three": (V, None),
        "at-most-two": (H, None),
        "range": (H, None),
        "deadlock": (H, None),
    }


def test_check_property_files(tmp_path: Path) -> None:
    write_model(
        tmp_path,
        """
        defs:
          high: x >= 2
        properties:
          never-high: {invariant: not high}
          high-reachable: {reachable: high}
        """,
        "props/high.yaml",
    )
    r = run(
        tmp_path,
        """
        model: checked
        check: [props/high.yaml]
        vars:
          x: {type: int, range: [0, 3]}
        actions:
          inc: {when: x < 3, do: {x: x + 1}}
          reset: {when: x == 3, do: {x: 0}}
        """,
    )
    # 0 -> 1 -> 2 -> 3 -> 0: 4 states, 4 transitions.
    assert counts(r) == (4, 4, True)
    assert verdicts(r) == {
        "never-high": (V, 2),
        "high-reachable": (H, 2),
        "range": (H, None),
        "deadlock": (H, None),
    }


# ---------------------------------------------------------------- YAML 1.2


def test_yaml_1_2_on_is_a_key_and_yes_no_are_strings(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: yaml12
        cpus: 2
        vars:
          answer: {type: enum, values: [no, yes, off], init: no}
        actions:
          agree:
            on: 1
            when: answer == no
            do: {answer: yes}
          switch_off: {on: 0, when: answer == yes, do: {answer: off}}
        properties:
          said-yes: {reachable: answer == yes}
          off-reached: {reachable: answer == off}
        """,
    )
    # no -agree@cpu1-> yes -switch_off@cpu0-> off: 3 states, 2 transitions, off deadlocks.
    assert counts(r) == (3, 2, True)
    assert r.model.var("answer").info.type.values == ("no", "yes", "off")  # type: ignore[union-attr]
    assert r.model.action("agree").cpus == (1,)
    assert r.model.action("switch_off").cpus == (0,)
    assert verdicts(r) == {
        "said-yes": (H, 1),
        "off-reached": (H, 2),
        "range": (H, None),
        "deadlock": (V, 2),
    }
    assert prop(r, "said-yes").trace.steps[0].cpu == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------- evaluation errors


def test_division_by_zero_is_a_range_violation(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: div
        vars:
          d: {type: int, range: [0, 2], init: 2}
          x: {type: int, range: [0, 4]}
        actions:
          div: {do: {x: 4 // d}}
          dec: {when: d > 0, do: {d: d - 1}}
        """,
    )
    # (d, x): (2,0) (2,2) (1,0) (1,2) (1,4) (0,0) (0,2) (0,4) = 8 states. Where d > 0 both
    # div and dec succeed (5 states x 2 = 10); where d == 0 div fails and dec is disabled.
    # div is enabled there, so those states are not deadlocks.
    assert counts(r) == (8, 10, True)
    assert verdicts(r) == {"range": (V, 3), "deadlock": (H, None)}  # dec, dec, div fails
    trace = prop(r, "range").trace
    assert trace is not None
    assert trace.failed
    assert "division by zero" in (trace.message or "")
    assert [s.action for s in trace.steps] == ["dec", "dec", "div"]


def test_modulo_by_zero_in_a_property_is_a_range_violation(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: mod
        vars:
          d: {type: int, range: [0, 2], init: 2}
        actions:
          dec: {when: d > 0, do: {d: d - 1}}
          idle: {do: {}}
        properties:
          even: {invariant: 4 % d == 0}
        """,
    )
    # 2 -> 1 -> 0: 3 states; dec 2 + idle 3 = 5 transitions. In d == 0 the property cannot be
    # evaluated: a range violation in that state (2 steps).
    assert counts(r) == (3, 5, True)
    assert verdicts(r)["range"] == (V, 2)


def test_out_of_range_index_is_a_range_violation(tmp_path: Path) -> None:
    text = """
        model: index
        vars:
          a: {{type: bool, index: [0, 1]}}
          i: {{type: int, range: [0, 2]}}
        actions:
          step: {{when: i < 2, do: {{i: i + 1}}}}
          write:
            do:
              a[i]: true
        {props}
        """
    r = run(tmp_path, text.format(props=""))
    # i = 0: a[0] in {F, T} (2 states); i = 1 and i = 2: any a (4 + 4). 10 states.
    # step where i < 2: 6; write succeeds where i < 2: 6; at i == 2 a[2] does not exist.
    assert counts(r) == (10, 12, True)
    assert verdicts(r) == {"range": (V, 3), "deadlock": (H, None)}  # step, step, write fails
    assert "out of range" in (prop(r, "range").trace.message or "")  # type: ignore[union-attr]
    # Reading a[2] in a property fails in the state i == 2 itself: 2 steps.
    props = "properties:\n          p: {invariant: 'i < 2 or a[i]'}"
    r = run(tmp_path, text.format(props=props))
    assert counts(r) == (10, 12, True)
    assert verdicts(r)["range"] == (V, 2)


def test_range_trace_is_the_shortest(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: range-order
        vars:
          x: {type: int, range: [0, 2]}
          y: {type: int, range: [0, 1]}
        actions:
          a: {when: x == 0, do: {x: 1}}
          b: {when: x == 0, do: {x: 2}}
          c: {when: x == 1, do: {y: 5}}
          idle: {do: {}}
        properties:
          p: {invariant: 'x != 2 or 1 // y == 1'}
        """,
    )
    # (x, y): (0,0) -a-> (1,0), -b-> (2,0). 3 states; transitions: a, b, idle from (0,0);
    # idle from (1,0) (c fails: y = 5); idle from (2,0): 5. The range property breaks after
    # one step (b: p cannot be evaluated in (2,0)) and after two (a, then c fails): the
    # shortest trace has length 1.
    assert counts(r) == (3, 5, True)
    assert verdicts(r)["range"] == (V, 1)
    # p cannot be evaluated in (2,0): it is not established there, so it is not "holds"
    assert verdicts(r)["p"] == (V, 1)
    assert "division by zero" in (prop(r, "p").trace.message or "")  # type: ignore[union-attr]


# ---------------------------------------------------------------- expect, modes, limits


def test_expect_violated_is_as_expected(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: expect
        vars:
          x: {type: bool}
        actions:
          set: {do: {x: true}}
        properties:
          known-bug: {invariant: not x, expect: violated}
          fine: {invariant: x or not x, expect: violated}
          plain: {invariant: not x}
        """,
    )
    assert counts(r) == (2, 2, True)
    assert verdicts(r)["known-bug"] == (V, 1)
    assert prop(r, "known-bug").outcome == Outcome.AS_EXPECTED
    assert prop(r, "fine").outcome == Outcome.UNEXPECTED
    assert prop(r, "plain").outcome == Outcome.UNEXPECTED


MODES_MODEL = """
model: modes
params:
  mode: {values: [none, full], default: none}
vars:
  preempted: {type: bool}
actions:
  preempt: {when: mode == full, do: {preempted: true}}
  idle: {do: {}}
properties:
  no-preemption:
    invariant: not preempted
    expect: {full: violated, default: holds}
  preemption-happens:
    reachable: preempted
    modes: [full, lazy]
"""


def test_modes_and_per_mode_expect(tmp_path: Path) -> None:
    r = run(tmp_path, MODES_MODEL)
    # mode none: preempt never fires; 1 state, idle's self-loop.
    assert counts(r) == (1, 1, True)
    assert verdicts(r) == {"no-preemption": (H, None), "range": (H, None), "deadlock": (H, None)}
    assert prop(r, "no-preemption").outcome == Outcome.AS_EXPECTED
    assert [pid for pid, _ in r.skipped] == ["preemption-happens"]

    r = run(tmp_path, MODES_MODEL, overrides={"mode": "full"})
    # mode full: 2 states; preempt (unguarded by preempted) and idle on both: 4 transitions.
    assert counts(r) == (2, 4, True)
    assert verdicts(r) == {
        "no-preemption": (V, 1),
        "preemption-happens": (H, 1),
        "range": (H, None),
        "deadlock": (H, None),
    }
    assert prop(r, "no-preemption").outcome == Outcome.AS_EXPECTED
    assert r.skipped == ()


def test_per_mode_expect_none(tmp_path: Path) -> None:
    r = run(
        tmp_path,
        """
        model: none-mode
        params:
          mode: {values: [none, voluntary], default: none}
        vars:
          x: {type: bool}
        actions:
          set: {when: mode == none, do: {x: true}}
          idle: {do: {}}
        properties:
          p:
            invariant: not x
            expect: {none: violated, default: holds}
        """,
    )
    assert verdicts(r)["p"] == (V, 1)
    assert prop(r, "p").outcome == Outcome.AS_EXPECTED
    # mode voluntary: set never fires; 1 state, idle's self-loop; expect falls back to default.
    r2 = check_file(str(tmp_path / "model.yaml"), Options(overrides={"mode": "voluntary"}))
    assert counts(r2) == (1, 1, True)
    assert verdicts(r2)["p"] == (H, None)
    assert prop(r2, "p").outcome == Outcome.AS_EXPECTED


CHAIN = """
model: chain
vars:
  x: {type: int, range: [0, 9]}
actions:
  inc: {do: {x: (x + 1) % 10}}
properties:
  small: {invariant: x < 100}
  nine: {reachable: x == 9}
  one: {reachable: x == 1}
"""


def test_max_states_gives_unknown(tmp_path: Path) -> None:
    r = run(tmp_path, CHAIN, max_states=3)
    # A 10-cycle explored up to 3 states: the search is incomplete; x == 1 was already seen.
    assert r.stats.complete is False
    assert r.stats.states <= 3
    assert verdicts(r) == {
        "small": (U, None),
        "nine": (U, None),
        "one": (H, 1),
        "range": (U, None),
        "deadlock": (U, None),
    }
    assert prop(r, "small").outcome == Outcome.INCONCLUSIVE
    assert r.stats.limit


def test_max_states_unlimited_check(tmp_path: Path) -> None:
    r = run(tmp_path, CHAIN)
    # 10 states in a cycle, 10 transitions.
    assert counts(r) == (10, 10, True)
    assert verdicts(r) == {
        "small": (H, None),
        "nine": (H, 9),
        "one": (H, 1),
        "range": (H, None),
        "deadlock": (H, None),
    }


def test_max_states_equal_to_the_state_count_completes(tmp_path: Path) -> None:
    r = run(tmp_path, CHAIN, max_states=10)
    # The model has exactly 10 states: a limit of 10 is never exceeded.
    assert counts(r) == (10, 10, True)
    assert prop(r, "small").verdict == H
