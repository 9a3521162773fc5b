"""Structural mutations of a YAML model: delete, duplicate, retype, rename, swap, inject."""

from __future__ import annotations

import random
from collections.abc import Callable

import yaml

from .cases import Case, kind
from .inject import inject_string
from .models import HEAVY, MARKER, bundled_base, own_base, q
from .values import HUGE_INT
from .yamltext import Pair, Tree, delete_pair, duplicate_pair, node_end, replace_node, splice, tree


def near_miss(name: str, rng: random.Random) -> str:
    """A plausible typo of `name`."""
    if not name:
        return "x"
    i = rng.randrange(len(name))
    ops: list[Callable[[], str]] = [
        lambda: name[:i] + name[i + 1 :] or name + name,
        lambda: name[:i] + name[i] + name[i:],
        lambda: name[:i] + name[i + 1 : i + 2] + name[i : i + 1] + name[i + 2 :],
        lambda: name.swapcase(),
        lambda: name + "s",
        lambda: name.replace("_", "-") if "_" in name else name.replace("-", "_") + "_",
        lambda: name[:i] + rng.choice("aeiouxz") + name[i + 1 :],
    ]
    out = rng.choice(ops)()
    return out if out != name else name + "x"


ODD_VALUES = [
    "null",
    "~",
    "[]",
    "[1, 2]",
    "{}",
    "{a: 1}",
    "true",
    "false",
    "1.5",
    "-2.5e3",
    ".inf",
    "-.inf",
    ".nan",
    "-1",
    "-7",
    "0",
    "''",
    '""',
    HUGE_INT,
    "-" + HUGE_INT,
    "0x" + "f" * 64,
    "2147483648",
    "18446744073709551616",
    '"x"',
    "[[[]]]",
    "{a: {b: {c: []}}}",
    "!!binary aGVsbG8=",
    f"!!python/object/apply:pathlib.Path.touch [{MARKER}]",
    "!!set {a, b}",
    "!!timestamp 2001-12-14",
    "!!float 1",
    "!!str 1",
    "&a [1]",
    "*nowhere",
    "yes",
    "on",
    "0o17",
    "0b101",
    "1_000",
    "+5",
    "1e3",
    "'0x10'",
]


def _pick_pair(
    rng: random.Random, t: Tree, pred: Callable[[Pair], bool] | None = None
) -> Pair | None:
    pool = [p for p in t.pairs if pred is None or pred(p)]
    return rng.choice(pool) if pool else None


def struct_mutation(rng: random.Random, text: str) -> tuple[str, str] | None:
    """One structural mutation of a YAML file: (new text, what was done)."""
    t = tree(text)
    if t is None or not t.pairs:
        return None
    op = rng.choice(
        ["delete", "duplicate", "retype", "retype", "rename", "near-miss", "swap", "inject"]
    )
    if op == "delete":
        p = _pick_pair(rng, t)
        assert p
        return delete_pair(text, p), f"delete {p.path}"
    if op == "duplicate":
        p = _pick_pair(rng, t)
        assert p
        return duplicate_pair(text, p), f"duplicate {p.path}"
    if op == "retype":
        path, node = rng.choice(t.values)
        new = rng.choice(ODD_VALUES)
        return replace_node(text, node, new), f"{path} := {new[:40]}"
    if op == "rename":
        p = _pick_pair(rng, t)
        assert p
        new = near_miss(p.key.value, rng)
        return replace_node(
            text, p.key, q(new) if p.key.style else new
        ), f"rename {p.path} to {new}"
    if op == "near-miss":
        if not t.scalars:
            return None
        path, node = rng.choice(t.scalars)
        new = near_miss(node.value, rng)
        return replace_node(text, node, q(new)), f"{path}: {node.value[:30]!r} -> {new[:30]!r}"
    if op == "swap":
        pool = [(p, n) for p, n in t.values if isinstance(n, yaml.ScalarNode) or rng.random() < 0.2]
        if len(pool) < 2:
            return None
        (pa, a), (pb, b) = rng.sample(pool, 2)
        sa, ea, sb, eb = (
            a.start_mark.index,
            node_end(text, a),
            b.start_mark.index,
            node_end(text, b),
        )
        if not (ea <= sb or eb <= sa):
            return None
        return splice(text, [(sa, ea, text[sb:eb]), (sb, eb, text[sa:ea])]), f"swap {pa} and {pb}"
    return inject_string(rng, text)


def _extra_options(rng: random.Random, target: str) -> list[str]:
    extra: list[str] = []
    r = rng.random() if target not in HEAVY else 1.0
    if r < 0.12:
        extra += ["--engine", "symbolic", "--bound", "3", "--rlimit", "2000000"]
    elif r < 0.16:
        extra += ["--engine", "auto", "--max-states", "500", "--bound", "3", "--rlimit", "2000000"]
    for p, opts in (
        (0.2, ["--format", "json"]),
        (0.05, ["--format", "markdown"]),
        (0.1, ["--traces", "all"]),
        (0.1, ["--junit", "out/junit.xml"]),
        (0.1, ["--sarif", "out/log.sarif"]),
        (0.1, ["--trace-dir", "out/traces"]),
        (0.05, ["--strict"]),
        (0.05, ["--fail-fast"]),
        (0.05, ["--symmetry"]),
    ):
        if rng.random() < p:
            extra += opts
    if rng.random() < 0.05 and "_base" in target:
        extra += ["--all-modes", "--max-states", "800"]
    return extra


@kind("structural")
def _structural(rng: random.Random, seed: int) -> Case:
    """Delete, duplicate, retype, rename, swap or inject in a bundled or small model."""
    files, mutate, target = bundled_base(rng) if rng.random() < 0.7 else own_base(rng)
    text = str(files[mutate])
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        out = struct_mutation(rng, text)
        if out:
            text, what = out
            done.append(what)
    files[mutate] = text
    argv = [
        "verify",
        target,
        "--max-states",
        "3000",
        "--timeout",
        "8",
        *_extra_options(rng, target),
    ]
    return Case("structural", seed, f"{mutate}: " + "; ".join(done), argv, files, limit=20)
