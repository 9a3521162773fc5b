"""Huge and deep inputs: long and nested expressions, deep YAML, enormous declarations."""

from __future__ import annotations

import random

from .cases import Case, kind, variant
from .inject import rename_everywhere
from .models import COUNTER, with_top


def _nest(template: str, inner: str, depth: int) -> str:
    out = inner
    for _ in range(depth):
        out = template.replace("@", out)
    return out


@kind("huge")
def _huge(rng: random.Random, seed: int) -> Case:
    """Huge expressions, deep expressions and YAML, enormous declarations."""
    v = variant(seed, 31, rng)
    text = COUNTER
    process = False
    inv = "x <= 3"

    def prop(expr: str) -> str:
        return text.replace(inv, expr if len(expr) < 80 else "'" + expr.replace("'", "''") + "'")

    n = rng.choice([1, 2, 5])
    if v == 0:
        label, text = "a 200,000-character sum", prop(" + ".join(["x"] * 50_000 * n) + " >= 0")
        process = True
    elif v == 1:
        label, text = (
            "a flat `or` of 300,000 characters",
            prop(" or ".join(f"x == {i % 4}" for i in range(30_000 * n))),
        )
    elif v == 2:
        label, text = (
            "x in a list of 60,000 literals",
            prop(f"x in [{', '.join(map(str, range(60_000)))}]"),
        )
    elif v == 3:
        label, text = "min() of 100,000 arguments", prop(f"min({', '.join(['x'] * 100_000)}) <= 3")
    elif v == 4:
        name = "x" * rng.choice([300_000, 100_000])
        label, text = (
            f"a {len(name):,}-character variable name",
            rename_everywhere(COUNTER, "x", name),
        )
    elif v == 5:
        d = rng.choice([1000, 10_000, 100_000])
        label, text, process = f"`not` nested {d:,} deep", prop("not " * d + "(x <= 3)"), True
    elif v == 6:
        d = rng.choice([199, 200, 201, 250])
        label, text, process = (
            f"{d} nested parentheses",
            prop("(" * d + "x" + ")" * d + " <= 3"),
            True,
        )
    elif v == 7:
        d = rng.choice([150, 190])
        label, text, process = (
            f"(x + (x + ...)) {d} deep",
            prop(_nest("(x + @)", "x", d) + " >= 0"),
            True,
        )
    elif v == 8:
        d = rng.choice([500, 2000, 20_000])
        label, text, process = f"x + 1 + 1 ... {d:,} terms", prop("x" + " + 1" * d + " >= 0"), True
    elif v == 9:
        d = rng.choice([1000, 5000])
        label, text, process = (
            f"a conditional expression {d:,} deep",
            prop(" if x == 0 else ".join(["true"] * d)),
            True,
        )
    elif v == 10:
        d = rng.choice([30, 100])
        expr = _nest("any(@ for c in [0, 1])", "x <= 3", d)
        label, text, process = f"aggregates nested {d} deep", prop(expr), True
    elif v == 11:
        d = rng.choice([10_000, 100_000])
        label, text, process = f"~ {d:,} times", prop("~" * d + "x <= 3"), True
    elif v == 12:
        d = rng.choice([1000, 10_000])
        label, text, process = (
            f"a YAML flow list {d:,} deep",
            with_top(text, "doc2: " + "[" * d + "]" * d),
            True,
        )
        text = text.replace("doc2:", "doc:").replace(
            "doc: A counter that goes 0, 1, 2, 3 and back to 0.\n", ""
        )
    elif v == 13:
        d = rng.choice([300, 1000])
        block = "".join("  " * i + f"k{i}:\n" for i in range(d)) + "  " * d + "v\n"
        label, text, process = (
            f"a YAML block mapping {d:,} deep",
            text + "remove:\n" + textwrap_indent(block, "  "),
            True,
        )
    elif v == 14:
        lol = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for i in range(1, 10):
            lol.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
        where = rng.choice(["doc", "params", "vars"])
        bomb = "{" + ", ".join(lol) + "}"
        label, process = f"a billion-laughs alias bomb in {where}", True
        text = (
            text.replace("doc: A counter that goes 0, 1, 2, 3 and back to 0.", f"doc: {bomb}")
            if where == "doc"
            else text.replace("  P: 1", f"  P: 1\n  B: {bomb}")
            if where == "params"
            else text.replace("  flag: {type: bool}", f"  flag: {{type: bool, extra: {bomb}}}")
        )
    elif v == 15:
        values = ", ".join(f"v{i}" for i in range(100_000))
        label, text = (
            "an enum of 100,000 values",
            text.replace("  flag: {type: bool}", f"  flag: {{type: enum, values: [{values}]}}"),
        )
    elif v == 16:
        values = ", ".join(f"e{i}" for i in range(100_000))
        label, text = (
            "a named enum of 100,000 values, indexing a variable",
            with_top(
                text.replace("  flag: {type: bool}", "  flag: {type: bool, index: big}"),
                f"enums: {{big: [{values}]}}",
            ),
        )
    elif v == 17:
        label, text = (
            "100,000 tasks",
            with_top(
                text.replace("  flag: {type: bool}", "  flag: {type: bool, index: tasks}"),
                f"tasks: [{', '.join(f't{i}' for i in range(100_000))}]",
            ),
        )
    elif v == 18:
        c = rng.choice([1000, 100_000, 10**6])
        label, process = f"cpus: {c:,} with a per-CPU flag", True
        text = with_top(
            text.replace("  flag: {type: bool}", "  flag: {type: bool, index: cpus}"), f"cpus: {c}"
        )
    elif v == 19:
        label, text = (
            "int range [0, 10**18]",
            text.replace("range: [0, 3]", "range: [0, 1000000000000000000]").replace(
                "x < 3", "x < 1000000000000000000"
            ),
        )
    elif v == 20:
        b = rng.choice([100_000, 10**6, 10**9])
        label, process = f"a word of {b:,} bits", True
        text = text.replace("  flag: {type: bool}", f"  flag: {{type: word, bits: {b}}}")
    elif v == 21:
        fields = ", ".join(f"f{i}: [{i}, 1]" for i in range(1000))
        label, text = (
            "a word with 1,000 fields",
            text.replace(
                "  flag: {type: bool}", f"  flag: {{type: word, bits: 1000, fields: {{{fields}}}}}"
            ),
        )
    elif v == 22:
        lines = "".join(f"  b{i}: {{type: bool}}\n" for i in range(10_000))
        label, text = "10,000 variables", text.replace("vars:\n", "vars:\n" + lines)
    elif v == 23:
        lines = "".join(
            f"  a{i}:\n    when: x == {i % 4}\n    do: {{flag: not flag}}\n" for i in range(10_000)
        )
        label, text = "10,000 actions", text.replace("actions:\n", "actions:\n" + lines)
    elif v == 24:
        lines = "".join(f"  p{i}:\n    invariant: x != {i + 4}\n" for i in range(10_000))
        label, text = "10,000 properties", text.replace("properties:\n", "properties:\n" + lines)
    elif v == 25:
        hi = rng.choice([10**6, 10**9])
        label, text = (
            f"for over [0, {hi:,}]",
            text.replace(
                "  reset:\n",
                f"  jump:\n    for: {{i: [0, {hi}]}}\n    when: i == x\n"
                "    do: {flag: true}\n  reset:\n",
            ),
        )
        process = hi > 10**6
    elif v == 26:
        hi = rng.choice([10**5, 10**7])
        label, process = f"an index over [0, {hi:,}]", True
        text = text.replace("  flag: {type: bool}", f"  flag: {{type: bool, index: [0, {hi}]}}")
    elif v == 27:
        label, text = (
            "an init list of 100,000 values",
            text.replace(
                "  flag: {type: bool}",
                "  flag: {type: bool, index: [0, 99999], init: ["
                + ", ".join(["false"] * 100_000)
                + "]}",
            ),
        )
    elif v == 28:
        label, text = (
            "a 10 MB doc string",
            text.replace(
                "doc: A counter that goes 0, 1, 2, 3 and back to 0.", "doc: " + "word " * 2_000_000
            ),
        )
    elif v == 29:
        files = {
            "m.yaml": with_top(
                COUNTER, f"check: [{', '.join(f'p/p{i}.yaml' for i in range(1000))}]"
            )
        }
        for i in range(1000):
            files[f"p/p{i}.yaml"] = f"properties:\n  q{i}:\n    invariant: x != {i + 4}\n"
        return Case(
            "huge",
            seed,
            "1,000 check files",
            ["verify", "m.yaml", "--max-states", "5000", "--timeout", "10"],
            dict(files),
            limit=20,
        )
    else:
        d = rng.choice([50, 200])
        label, text = (
            f"defs chained {d} deep",
            with_top(
                text.replace(inv, f"d{d}"),
                "defs: {"
                + ", ".join(
                    ["d0: x <= 3"] + [f"d{i}: d{i - 1} and d{i - 1}" for i in range(1, d + 1)]
                )
                + "}",
            ),
        )
        process = True
    argv = ["verify", "m.yaml", "--max-states", "5000", "--timeout", "10"]
    if rng.random() < 0.25:
        argv += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
        process = True
    return Case("huge", seed, label, argv, {"m.yaml": text}, process=process, limit=20)


def textwrap_indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))
