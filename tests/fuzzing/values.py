"""Odd values: floats, huge integers and odd parameter declarations (float, bigint, params)."""

from __future__ import annotations

import random

from .cases import Case, kind, nth, variant
from .models import COUNTER, HEAVY, bundled_base, own_base, with_top
from .yamltext import CONST_RE, EXPR_PATH, in_scalar, replace_node, splice, tree

HUGE_INT = "9" * 5001


FLOATS = [
    ".inf",
    "-.inf",
    "+.inf",
    ".nan",
    ".NaN",
    ".Inf",
    "1e999",
    "-1e999",
    "-0.0",
    "0.5",
    "1.0",
    "3.0",
    "1e-300",
    "2.5e1",
    ".5",
    "1e3",
]


@kind("float")
def _float(rng: random.Random, seed: int) -> Case:
    """`.inf` / `.nan` and other floats anywhere: scalars, expressions, --set."""
    files, mutate, target = bundled_base(rng) if rng.random() < 0.4 else own_base(rng)
    text = str(files[mutate])
    if nth(seed) == 0:
        files, mutate, target = (
            {
                "model.yaml": with_top(COUNTER, "doc: .inf").replace(
                    "doc: A counter that goes 0, 1, 2, 3 and back to 0.\n", ""
                )
            },
            "model.yaml",
            "model.yaml",
        )
        return Case("float", seed, "doc: .inf", ["verify", "model.yaml"], files)
    t = tree(text)
    assert t is not None
    done = []
    for _ in range(rng.choice([1, 1, 2])):
        value = rng.choice(FLOATS)
        where = rng.random()
        if where < 0.6:
            path, node = rng.choice(t.values if rng.random() < 0.3 else t.scalars)
            text = replace_node(text, node, value)
            done.append(f"{path} := {value}")
        else:
            exprs = [(p, n) for p, n in t.scalars if EXPR_PATH.search(p)]
            hits = [(p, m) for p, n in exprs for m in in_scalar(text, n, CONST_RE)]
            if hits:
                path, m = rng.choice(hits)
                lit = value.lstrip("+").replace(".inf", "1e999").replace(".nan", "1e999 - 1e999")
                lit = lit.replace(".NaN", "0.0").replace(".Inf", "1e999")
                text = splice(text, [(m.start(), m.end(), lit)])
                done.append(f"{path}: {m.group(0)} -> {lit}")
        t = tree(text) or t
    files[mutate] = text
    argv = ["verify", target, "--max-states", "3000", "--timeout", "8"]
    if rng.random() < 0.3:
        argv += ["--format", "json"]
    if rng.random() < 0.2:
        argv += ["--set", f"{rng.choice(['P', 'MAXNEST', 'MAXC', 'mode'])}={rng.choice(FLOATS)}"]
        done.append(" ".join(argv[-2:]))
    if rng.random() < 0.1 and target not in HEAVY:
        argv += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
    return Case("float", seed, f"{mutate}: " + "; ".join(done), argv, files, limit=20)


PARAM_DECLS = [
    "mode: []",
    "mode: {values: []}",
    "mode: {}",
    "mode: bogus",
    "mode: {values: [full, full]}",
    "mode: {values: [FULL]}",
    "mode: {values: [full], default: lazy}",
    "mode: null",
    "P: []",
    "P: {}",
    "P: {values: []}",
    "P: {values: [], default: 1}",
    "P: {values: [1, 2], default: 3}",
    "P: {default: 1}",
    "P: {values: [1, true, x]}",
    "P: {values: [[1]]}",
    "P: {values: {a: 1}}",
    "P: {values: [1, 1]}",
    "P: {values: [1, 2], sweep: yes}",
    "P: {values: [1, 2], sweep: 7}",
    "P: {values: [1, 2], default: 1, extra: 1}",
    "P: null",
    "P: ~",
    "P: ''",
    "P: -1",
    "P: 0",
    "P: 100000",
    "P: 1.5",
    "P: .nan",
    "P: x",
    "P: true",
    "P: {values: [0, 1, 2, 3], sweep: true}",
    "P: {values: [" + ", ".join(map(str, range(1, 201))) + "], sweep: true}",
    "P: {values: " + HUGE_INT + "}",
    "P: {values: [1, 2], default: [1]}",
    "P: {values: [a, b], default: a}",
    "P: [1, 2]",
    "P: {values: [-5, 5], default: -5}",
    "self: 1",
    "cpus: 2",
    "true: 1",
    "x: 1",
    "P: 1\n  p: 2",
    "P: 1\n  P: 2",
    "'': 1",
    "P: {values: [1, 2]}\n  Q: {values: [3, 4]}",
    "P: {values: ["
    + ", ".join(map(str, range(64)))
    + "], sweep: true}\n  Q: {values: [1, 2, 3], sweep: true}",
]
PARAM_USES = [
    ("cpus", "cpus: P"),
    ("range", "  y: {type: int, range: [0, P]}"),
    ("bits", "  w: {type: word, bits: P}"),
    ("index", "  a: {type: bool, index: [0, P]}"),
    ("init", "  z: {type: int, range: [0, 3], init: P}"),
    ("expr", None),
    ("none", None),
    ("for", None),
]
SET_VALUES = [
    "1",
    "0",
    "-1",
    "2",
    "x",
    "",
    "1,2",
    "1,,2",
    ",",
    "true",
    "0x10",
    "1e3",
    ".inf",
    "nan",
    HUGE_INT,
    "1,2,3,4,5,6,7,8",
    "full",
    "none,lazy",
    "'1'",
    "[1]",
    "{}",
    " 1 ",
    "1=2",
]


@kind("params")
def _params(rng: random.Random, seed: int) -> Case:
    """Empty and odd param declarations, params in declarations, odd --set/--mode values."""
    v = variant(seed, len(PARAM_DECLS), rng)
    decl = PARAM_DECLS[v]
    use, line = (
        PARAM_USES[rng.randrange(len(PARAM_USES))]
        if nth(seed) >= len(PARAM_DECLS)
        else ("none", None)
    )
    text = COUNTER.replace("params:\n  P: 1\n", f"params:\n  {decl}\n")
    if use == "cpus":
        text = with_top(text, line)
    elif line:
        text = text.replace("vars:\n", f"vars:\n{line}\n", 1)
    elif use == "expr":
        text = text.replace("x < 3", "x < P and P >= 0")
    elif use == "for":
        text = text.replace(
            "  reset:\n", "  jump:\n    for: {i: [0, P]}\n    do: {x: i % 4}\n  reset:\n"
        )
    argv = ["verify", "m.yaml", "--max-states", "3000", "--timeout", "8"]
    if rng.random() < 0.5 and nth(seed) >= 5:
        name = rng.choice(["P", "mode", "Q", "p", "x", "", "P ", "=P"])
        argv += rng.choice(
            [
                ["--set", f"{name}={rng.choice(SET_VALUES)}"],
                ["--mode", rng.choice(SET_VALUES)],
                ["--all-modes"],
                ["--set", name],
            ]
        )
    return Case(
        "params", seed, f"params: {decl[:60]} (used in {use})", argv, {"m.yaml": text}, limit=20
    )


BIGS = [
    HUGE_INT,
    "-" + HUGE_INT,
    "1" + "0" * 4300,
    "9" * 4300,
    "9" * 4301,
    "0x" + "f" * 5000,
    str(2**64),
    str(2**128 + 1),
    str(10**38),
    "-" + str(2**63),
    "0b" + "1" * 5000,
]


@kind("bigint")
def _bigint(rng: random.Random, seed: int) -> Case:
    """5,001-digit (and other huge) integers in YAML scalars, expressions and options."""
    big = HUGE_INT if nth(seed) < 40 else rng.choice(BIGS)
    positions = [
        ("cpus", lambda t: with_top(t, f"cpus: {big}")),
        ("range hi", lambda t: t.replace("range: [0, 3]", f"range: [0, {big}]")),
        ("range lo", lambda t: t.replace("range: [0, 3]", f"range: [{big}, 3]")),
        (
            "bits",
            lambda t: t.replace("  flag: {type: bool}", f"  flag: {{type: word, bits: {big}}}"),
        ),
        ("init", lambda t: t.replace("range: [0, 3]}", f"range: [0, 3], init: {big}}}")),
        ("param", lambda t: t.replace("P: 1", f"P: {big}")),
        ("param values", lambda t: t.replace("P: 1", f"P: {{values: [1, {big}]}}")),
        (
            "index",
            lambda t: t.replace(
                "  flag: {type: bool}", f"  flag: {{type: bool, index: [0, {big}]}}"
            ),
        ),
        (
            "field",
            lambda t: t.replace(
                "  flag: {type: bool}",
                f"  flag: {{type: word, bits: 8, fields: {{f: [{big}, 1]}}}}",
            ),
        ),
        ("on", lambda t: t.replace("    when: x == 3\n", f"    on: {big}\n    when: x == 3\n")),
        (
            "within",
            lambda t: t.replace(
                "    fair: [inc, reset]", f"    fair: [inc, reset]\n    within: {big}"
            ),
        ),
        ("when", lambda t: t.replace("x < 3", f"x < {big}")),
        ("do", lambda t: t.replace("x + P", f"x + {big}")),
        ("do mod", lambda t: t.replace("x + P", f"(x + {big}) % 4")),
        ("invariant", lambda t: t.replace("x <= 3", f"x <= {big}")),
        ("shift", lambda t: t.replace("x <= 3", f"(1 << {big}) > x")),
        ("shift right", lambda t: t.replace("x <= 3", f"({big} >> x) > 0")),
        ("mul", lambda t: t.replace("x <= 3", f"x * {big} * {big} >= 0")),
        ("floordiv", lambda t: t.replace("x <= 3", f"{big} // (x + 1) > 0")),
        ("in list", lambda t: t.replace("x <= 3", f"x not in [{big}, -{big}]")),
        ("defs", lambda t: with_top(t, f"defs: {{big: {big}}}").replace("x <= 3", "x < big")),
        ("neg", lambda t: t.replace("x <= 3", f"-{big} < x")),
        ("abs min", lambda t: t.replace("x <= 3", f"min(abs(-{big}), x) == x")),
        ("1 << 100000", lambda t: t.replace("x <= 3", "(1 << 100000) > x")),
        ("1 << 10**9", lambda t: t.replace("x <= 3", "(1 << 1000000000) > x")),
        (
            "big word bits",
            lambda t: t.replace("  flag: {type: bool}", "  flag: {type: word, bits: 129, init: 1}"),
        ),
    ]
    options = [
        ["--set", f"P={big}"],
        ["--max-states", big],
        ["--bound", big, "--engine", "symbolic", "--timeout", "3"],
        ["--rlimit", big, "--engine", "symbolic", "--bound", "2"],
        ["--rlimit", str(2**64), "--engine", "symbolic", "--bound", "2"],
        ["--rlimit", str(2**32), "--engine", "symbolic", "--bound", "2"],
        ["--timeout", big],
        ["--timeout", "1e308"],
        ["--bound", str(2**31), "--engine", "symbolic", "--timeout", "3"],
        ["--max-states", str(2**63)],
    ]
    n = len(positions) + len(options)
    v = variant(seed, n, rng)
    argv = ["verify", "m.yaml", "--max-states", "3000", "--timeout", "8"]
    text = COUNTER
    if v < len(positions):
        label, fn = positions[v]
        text = fn(text)
        if rng.random() < 0.2:
            argv += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
    else:
        opt = options[v - len(positions)]
        label = " ".join(o if len(o) < 30 else f"<{len(o)} chars>" for o in opt)
        argv = ["verify", "m.yaml", *opt]
        if "--max-states" not in opt:
            argv += ["--max-states", "3000"]
    digits = len(big.lstrip("-"))
    return Case(
        "bigint", seed, f"{digits}-character integer: {label}", argv, {"m.yaml": text}, limit=20
    )
