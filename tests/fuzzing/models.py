"""The texts cases are built from: the bundled models and small models of our own."""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
MARKER = "PWNED"


def _bundled() -> dict[str, str]:
    """The bundled models and property files; the mode models without their monitors (a
    mode model's 13 product searches would take most of a case's time limit; the monitor
    machinery has its own tests and fuzzing in tests/test_monitors.py and test_dot.py)."""
    out: dict[str, str] = {}
    for pattern in ("models/*.yaml", "models/races/*.yaml", "properties/*.yaml"):
        for p in sorted(ROOT.glob(pattern)):
            text = p.read_text(encoding="utf-8")
            out[str(p.relative_to(ROOT))] = text.replace(", ../properties/monitors.yaml]", "]")
    return out


BUNDLED = _bundled()
MODE_FILES = [f"models/{m}.yaml" for m in ("none", "voluntary", "full", "lazy", "rt")]
RACES = sorted(p for p in BUNDLED if p.startswith("models/races/"))
HEAVY = {*MODE_FILES, "models/_base.yaml", "models/latency.yaml"}  # too slow for z3 in a case


COUNTER = """\
model: counter
doc: A counter that goes 0, 1, 2, 3 and back to 0.
params:
  P: 1
vars:
  x: {type: int, range: [0, 3]}
  flag: {type: bool}
actions:
  inc:
    when: x < 3
    do: {x: x + P}
    tags: [step]
  reset:
    when: x == 3
    do: {x: 0, flag: not flag}
    event: wrap
properties:
  bounded:
    invariant: x <= 3
  reaches-top:
    reachable: x == 3
  below-two:
    invariant: x < 2
    expect: violated
  no-step-at-top:
    never: tag:step
    when: x >= 3
  wraps:
    leads_to: {from: x == 3, to: reset}
    fair: [inc, reset]
"""

RICH = """\
model: rich-small
doc: Two CPUs, a preempt_count word with fields, an enum context, tasks and a remote request.
params:
  mode: {values: [none, voluntary, full, lazy, rt], default: full}
  MAXC: 2
cpus: 2
tasks: [A, B]
enums:
  ctx: [user, kernel, irq]
vars:
  pc:
    type: word
    bits: 8
    fields: {count: [0, 3], need_resched: [7, 1]}
    index: cpus
    init: 0x80
    role: preempt_count
  where: {type: enum, of: ctx, index: cpus, init: user}
  irqs_off: {type: bool, index: cpus, role: irqs_disabled}
  tif: {type: bool, index: tasks}
  curr: {type: enum, of: tasks, index: cpus, init: [A, B], role: current_task}
  n: {type: int, range: [0, 3]}
defs:
  atomic: pc.count != 0 or irqs_off
actions:
  enter_kernel:
    when: where == user
    do: {where: kernel}
  preempt_disable:
    when: where != user and pc.count < MAXC
    do: {pc.count: pc.count + 1}
    tags: [preempt_off]
  preempt_enable:
    when: pc.count > 0
    steps:
      - do: {pc.count: pc.count - 1}
      - if: pc.count == 0 and tif[curr] and mode != none
        do:
          tif[curr]: false
          n: min(n + 1, 3)
    tags: [schedule]
  remote_resched:
    for: {t: cpus}
    when: t != self and not tif[curr[t]]
    do:
      tif[curr[t]]: true
  irq_enter:
    irq: true
    when: not irqs_off and where != irq
    do: {irqs_off: true}
  irq_exit:
    on: 0
    when: irqs_off
    do: {irqs_off: false, where: kernel if where != user else user}
  might_sleep:
    when: where == kernel
    do: {n: n if n < 3 else 0}
    tags: [sleep]
  exit_user:
    when: where == kernel and pc.count == 0 and not irqs_off
    do: {where: user}
properties:
  count-bounded:
    invariant: pc.count <= MAXC
  no-sleep-in-atomic:
    doc: 'might_sleep() in atomic context: "BUG: sleeping function called from invalid context"'
    never: tag:sleep
    when: atomic
    expect: violated
  all-ctx:
    invariant: all(where[c] != irq for c in cpus)
  resched-reachable:
    reachable: any(tif[t] for t in tasks) and count(pc[c].count > 0 for c in cpus) == 2
  n-small:
    invariant: n < 3
    expect: violated
"""

VIOLATING = """\
model: violating
vars:
  x: {type: int, range: [0, 3]}
actions:
  inc:
    when: x < 3
    do: {x: x + 1}
  reset:
    when: x == 3
    do: {x: 0}
properties:
  below-two:
    invariant: x < 2
  top:
    reachable: x == 3
"""

BROKEN = """\
model: broken
vars:
  x: {type: int, range: [0, 3]}
actions:
  inc:
    do: {x: y + 1}
"""

PROPS = """\
doc: Extra properties for the counter.
properties:
  never-four:
    invariant: x != 4
"""

OK_SMALL = (TESTS / "fixtures" / "ok_small.yaml").read_text(encoding="utf-8")
OWN = {"counter": COUNTER, "rich": RICH, "ok-small": OK_SMALL, "violating": VIOLATING}


def slow_model(n: int) -> str:
    """Two counters over [0, n]: (n+1)^2 states, slow enough to interrupt."""
    return f"""\
model: slow
vars:
  x: {{type: int, range: [0, {n}]}}
  y: {{type: int, range: [0, {n}]}}
actions:
  incx:
    when: x < {n}
    do: {{x: x + 1}}
  incy:
    when: y < {n}
    do: {{y: y + 1}}
  back:
    when: x == {n} and y == {n}
    do: {{x: 0, y: 0}}
properties:
  diagonal:
    invariant: x + y < {2 * n}
    expect: violated
"""


def with_top(text: str, *lines: str) -> str:
    """`text` with more top-level `key: value` lines."""
    return text.rstrip("\n") + "\n" + "".join(line + "\n" for line in lines)


def q(value: str) -> str:
    """A YAML double-quoted scalar of any string (JSON is a subset of YAML's escapes)."""
    return json.dumps(value)


def bundled_base(rng: random.Random) -> tuple[dict[str, str | bytes], str, str]:
    """(files, the file to mutate, the model to verify) over a copy of the bundled models."""
    files: dict[str, str | bytes] = dict(BUNDLED)
    mutate = rng.choice(sorted(BUNDLED))
    if mutate in ("models/_base.yaml", "properties/core.yaml"):
        target = rng.choice([*MODE_FILES, "models/_base.yaml"])
    elif mutate == "properties/latency.yaml":
        target = "models/latency.yaml"
    else:
        target = mutate
    return files, mutate, target


def own_base(rng: random.Random) -> tuple[dict[str, str | bytes], str, str]:
    name = rng.choice(sorted(OWN))
    files: dict[str, str | bytes] = {"model.yaml": OWN[name]}
    if rng.random() < 0.2:
        files["model.yaml"] = (
            with_top(OWN[name], "check: [props.yaml]") if name == "counter" else OWN[name]
        )
        files["props.yaml"] = PROPS
    return files, "model.yaml", "model.yaml"
