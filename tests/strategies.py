"""Hypothesis strategies: small, random, valid preemptcheck models as YAML text.

A generated model has 1-2 CPUs (1-3 with `max_cpus=3`), an optional named enum `k`, an int
param `P`, 1-3 variables (bool, int, enum, word with or without fields; scalar or indexed over
cpus, `k` or [lo, hi]), an optional def, 1-4 actions (guards, simultaneous updates, `for`
bindings, `on:` pinning, occasional `steps` sequences with step `when`/`if`, `irq: true`
actions, tags) and random invariant / never / reachable properties. Every model is meant to
load: a model the loader rejects is a bug of this strategy.

The product of the variables' domain sizes times the sequence positions bounds the state
space below MAX_STATES_BOUND (or the `max_states` given). Values are chosen so that words
overflow, ints leave their ranges, fields overflow and divisors can be zero: the built-in
`range` property is exercised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The agreement tests' settings: 200 examples, the same ones on every run (derandomized), no
# example database and no deadline (an example's time depends on the machine, not the code).
AGREEMENT = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

MAX_STATES_BOUND = 5000
VAR_BUDGET = 1200  # product of all variable entry domain sizes
MAX_DEPTH = 3

Draw = st.DrawFn


@dataclass(frozen=True)
class Dom:
    """An index or binding domain: `cpus`, `k`, or an int interval."""

    name: str  # as written in YAML: 'cpus', 'k' (a string) or [lo, hi] (a list)
    enum: str | None  # the enum type name for enum domains, else None (int)
    values: tuple[Any, ...]

    @property
    def yaml(self) -> Any:
        if self.name.startswith("["):
            return [self.values[0], self.values[-1]]
        return self.name


@dataclass
class Var:
    name: str
    kind: str  # bool | int | enum | word
    index: Dom | None
    lo: int = 0
    hi: int = 1
    enum: str | None = None  # enum type name (`k` or the var's own name)
    values: tuple[str, ...] = ()
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        if self.kind == "bool":
            return 2
        if self.kind == "enum":
            return len(self.values)
        return self.hi - self.lo + 1

    @property
    def entries(self) -> int:
        return 1 if self.index is None else len(self.index.values)


@dataclass
class Ctx:
    """Where an expression is written: is `self` bound, which names are bound to what."""

    self_ok: bool
    bindings: dict[str, Dom] = field(default_factory=dict)
    agg_level: int = 0
    with_member_hazard: bool = True


@dataclass
class World:
    cpus: int
    enum_k: tuple[str, ...] | None
    vars: list[Var]
    has_def: bool = False

    def domains(self) -> list[Dom]:
        out = [Dom("cpus", None, tuple(range(self.cpus)))]
        if self.enum_k:
            out.append(Dom("k", "k", self.enum_k))
        return out

    def enum_values(self, enum: str) -> tuple[str, ...]:
        if enum == "k":
            assert self.enum_k is not None
            return self.enum_k
        return next(v.values for v in self.vars if v.kind == "enum" and v.enum == enum)

    def enums(self) -> list[str]:
        names = ["k"] if self.enum_k else []
        for v in self.vars:
            if v.kind == "enum" and v.enum not in names:
                assert v.enum is not None
                names.append(v.enum)
        return names


INT_LITERALS = ("0", "0", "1", "1", "2", "3", "-1", "5", "16", "255", "0x3", "0b10")


# ---------------------------------------------------------------- declarations


def _var(draw: Draw, i: int, cpus: int, enum_k: tuple[str, ...] | None, budget: int) -> Var | None:
    name = f"v{i}"
    index_choices: list[Dom | None] = [None, None, Dom("cpus", None, tuple(range(cpus)))]
    if enum_k:
        index_choices.append(Dom("k", "k", enum_k))
    lo = draw(st.sampled_from([-1, 0, 1]))
    index_choices.append(Dom(f"[{lo}, {lo + 1}]", None, (lo, lo + 1)))
    index = draw(st.sampled_from(index_choices))
    n = 1 if index is None else len(index.values)
    kinds = ["bool", "int", "enum", "word", "word"]
    kind = draw(st.sampled_from(kinds))
    var = Var(name, kind, index)
    if kind == "int":
        var.lo = draw(st.sampled_from([-2, -1, 0, 0, 1]))
        var.hi = var.lo + draw(st.integers(1, 4))
    elif kind == "enum":
        if enum_k and draw(st.booleans()):
            var.enum, var.values = "k", enum_k
        else:
            var.enum = name
            var.values = tuple(f"{name}_{c}" for c in "abc"[: draw(st.integers(2, 3))])
    elif kind == "word":
        bits = draw(st.sampled_from([1, 2, 3, 4, 4, 5, 8]))
        var.hi = (1 << bits) - 1
        if bits >= 2 and draw(st.booleans()):
            cut = draw(st.integers(1, bits - 1))
            gap = 1 if bits - cut >= 2 and draw(st.booleans()) else 0
            var.fields = {"f0": (0, cut), "f1": (cut + gap, bits - cut - gap)}
    if var.size**n > budget:
        return None
    return var


def _var_decl(draw: Draw, var: Var) -> dict[str, Any]:
    d: dict[str, Any] = {"type": var.kind}
    if var.kind == "int":
        d["range"] = [var.lo, var.hi]
    elif var.kind == "enum":
        if var.enum == "k":
            d["of"] = "k"
        else:
            d["values"] = list(var.values)
    elif var.kind == "word":
        d["bits"] = var.hi.bit_length()
        if var.fields:
            d["fields"] = {f: [s, w] for f, (s, w) in var.fields.items()}
    if var.index is not None:
        d["index"] = var.index.yaml

    def one() -> Any:
        if var.kind == "bool":
            return draw(st.booleans())
        if var.kind == "enum":
            return draw(st.sampled_from(var.values))
        return draw(st.integers(var.lo, var.hi))

    choice = draw(st.sampled_from(["default", "one", "list"]))
    if choice == "one":
        d["init"] = one()
    elif choice == "list" and var.index is not None:
        d["init"] = [one() for _ in var.index.values]
    return d


# ---------------------------------------------------------------- expressions


def _int_bindings(ctx: Ctx) -> list[str]:
    return [n for n, d in ctx.bindings.items() if d.enum is None]


def _index(draw: Draw, w: World, var: Var, ctx: Ctx, *, target: bool = False) -> str | None:
    """An index for `var` (None: written bare, meaning [self])."""
    dom = var.index
    assert dom is not None
    opts: list[str | None] = []
    if dom.name == "cpus":
        if ctx.self_ok:
            opts += [None, None, "self"]
        opts += [str(c) for c in dom.values]
        opts += [n for n, d in ctx.bindings.items() if d.name == "cpus"] * 2
        if draw(st.integers(0, 19)) == 0:
            opts.append(str(w.cpus))  # out of range
    elif dom.enum is not None:
        opts += list(dom.values)
        opts += [n for n, d in ctx.bindings.items() if d.enum == dom.enum] * 2
        opts += [v.name for v in w.vars if v.kind == "enum" and v.enum == dom.enum and not v.index]
    else:
        lo, hi = dom.values[0], dom.values[-1]
        opts += [str(lo), str(hi)]
        opts += [n for n, d in ctx.bindings.items() if d.name == dom.name] * 2
        if draw(st.integers(0, 14)) == 0:
            opts += [str(lo - 1), str(hi + 1), *_int_bindings(ctx)]  # may be out of range
            opts += [v.name for v in w.vars if v.kind == "int" and not v.index]
    return draw(st.sampled_from(opts))


def _read(draw: Draw, w: World, var: Var, ctx: Ctx) -> str:
    if var.index is None:
        return var.name
    idx = _index(draw, w, var, ctx)
    return var.name if idx is None else f"{var.name}[{idx}]"


def _int_leaf(draw: Draw, w: World, ctx: Ctx) -> str:
    opts: list[Callable[[], str]] = [lambda: draw(st.sampled_from(INT_LITERALS)), lambda: "P"]
    int_vars = [v for v in w.vars if v.kind in ("int", "word")]
    if int_vars:
        opts += [lambda: _read(draw, w, draw(st.sampled_from(int_vars)), ctx)] * 3
    fielded = [v for v in w.vars if v.fields]
    if fielded:

        def fld() -> str:
            v = draw(st.sampled_from(fielded))
            return f"{_read(draw, w, v, ctx)}.{draw(st.sampled_from(sorted(v.fields)))}"

        opts += [fld] * 2
    names = _int_bindings(ctx) + (["self"] if ctx.self_ok else [])
    if names:
        opts.append(lambda: draw(st.sampled_from(names)))
    return draw(st.sampled_from(opts))()


def _agg_dom(draw: Draw, w: World) -> Dom:
    return draw(st.sampled_from(w.domains()))


def _with_agg(ctx: Ctx, dom: Dom) -> tuple[str, Ctx]:
    name = f"x{ctx.agg_level}"
    inner = Ctx(ctx.self_ok, {**ctx.bindings, name: dom}, ctx.agg_level + 1, ctx.with_member_hazard)
    return name, inner


def int_expr(draw: Draw, w: World, ctx: Ctx, depth: int) -> str:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return _int_leaf(draw, w, ctx)
    form = draw(
        st.sampled_from(
            ["bin", "bin", "bin", "div", "neg", "inv", "minmax", "abs", "if", "sum", "count"]
        )
    )
    d = depth - 1
    if form == "bin":
        op = draw(st.sampled_from(["+", "-", "*", "//", "%", "&", "|", "^", "<<", ">>"]))
        rhs = _int_leaf(draw, w, ctx) if op in ("<<", ">>") else int_expr(draw, w, ctx, d)
        return f"({int_expr(draw, w, ctx, d)} {op} {rhs})"
    if form == "div":  # division by a variable that may be zero
        op = draw(st.sampled_from(["//", "%"]))
        return f"({int_expr(draw, w, ctx, d)} {op} {_int_leaf(draw, w, ctx)})"
    if form == "neg":
        return f"(-{int_expr(draw, w, ctx, d)})"
    if form == "inv":
        return f"(~{int_expr(draw, w, ctx, d)})"
    if form == "minmax":
        fn = draw(st.sampled_from(["min", "max"]))
        args = [int_expr(draw, w, ctx, d) for _ in range(draw(st.integers(2, 3)))]
        return f"{fn}({', '.join(args)})"
    if form == "abs":
        return f"abs({int_expr(draw, w, ctx, d)})"
    if form == "if":
        c = bool_expr(draw, w, ctx, d)
        return f"({int_expr(draw, w, ctx, d)} if {c} else {int_expr(draw, w, ctx, d)})"
    dom = _agg_dom(draw, w)
    name, inner = _with_agg(ctx, dom)
    cond = ""
    if draw(st.booleans()):
        cond = f" if {bool_expr(draw, w, inner, 0)}"
    if form == "sum":
        return f"sum({int_expr(draw, w, inner, d)} for {name} in {dom.name}{cond})"
    return f"count({bool_expr(draw, w, inner, d)} for {name} in {dom.name}{cond})"


def enum_expr(draw: Draw, w: World, ctx: Ctx, enum: str, depth: int) -> str:
    opts: list[Callable[[], str]] = [lambda: draw(st.sampled_from(w.enum_values(enum)))]
    evars = [v for v in w.vars if v.kind == "enum" and v.enum == enum]
    if evars:
        opts += [lambda: _read(draw, w, draw(st.sampled_from(evars)), ctx)] * 2
    names = [n for n, d in ctx.bindings.items() if d.enum == enum]
    if names:
        opts.append(lambda: draw(st.sampled_from(names)))
    if depth > 0:

        def choose() -> str:
            then = enum_expr(draw, w, ctx, enum, depth - 1)
            cond = bool_expr(draw, w, ctx, depth - 1)
            return f"({then} if {cond} else {enum_expr(draw, w, ctx, enum, depth - 1)})"

        opts.append(choose)
    return draw(st.sampled_from(opts))()


def _bool_leaf(draw: Draw, w: World, ctx: Ctx) -> str:
    opts: list[Callable[[], str]] = [lambda: draw(st.sampled_from(["true", "false"]))]
    bvars = [v for v in w.vars if v.kind == "bool"]
    if bvars:
        opts += [lambda: _read(draw, w, draw(st.sampled_from(bvars)), ctx)] * 3
    cmp = ["==", "!=", "<", "<=", ">", ">="]
    opts += [
        lambda: (
            f"({_int_leaf(draw, w, ctx)} {draw(st.sampled_from(cmp))} {_int_leaf(draw, w, ctx)})"
        )
    ] * 3
    enums = w.enums()
    if enums:

        def enum_cmp() -> str:
            e = draw(st.sampled_from(enums))
            op = draw(st.sampled_from(["==", "!="]))
            return f"({enum_expr(draw, w, ctx, e, 0)} {op} {enum_expr(draw, w, ctx, e, 0)})"

        opts += [enum_cmp] * 2
    if w.has_def:
        opts.append(lambda: "d0")
    return draw(st.sampled_from(opts))()


def bool_expr(draw: Draw, w: World, ctx: Ctx, depth: int) -> str:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return _bool_leaf(draw, w, ctx)
    d = depth - 1
    form = draw(
        st.sampled_from(
            ["and", "or", "not", "implies", "cmp", "cmp", "chain", "in", "ein", "if", "eq", "agg"]
        )
    )
    if form in ("and", "or"):
        args = [bool_expr(draw, w, ctx, d) for _ in range(draw(st.integers(2, 3)))]
        return "(" + f" {form} ".join(args) + ")"
    if form == "not":
        return f"(not {bool_expr(draw, w, ctx, d)})"
    if form == "implies":
        return f"implies({bool_expr(draw, w, ctx, d)}, {bool_expr(draw, w, ctx, d)})"
    if form == "cmp":
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        return f"({int_expr(draw, w, ctx, d)} {op} {int_expr(draw, w, ctx, d)})"
    if form == "chain":
        ops = draw(st.lists(st.sampled_from(["<", "<=", "==", "!="]), min_size=2, max_size=3))
        parts = [int_expr(draw, w, ctx, d)]
        for op in ops:
            parts += [op, int_expr(draw, w, ctx, d)]
        return "(" + " ".join(parts) + ")"
    if form == "in":
        neg = draw(st.sampled_from(["in", "not in"]))

        def option() -> str:
            if ctx.with_member_hazard:
                return int_expr(draw, w, ctx, d)
            return draw(st.sampled_from(INT_LITERALS))  # cannot fail to evaluate

        opts = [option() for _ in range(draw(st.integers(1, 3)))]
        return f"({int_expr(draw, w, ctx, d)} {neg} [{', '.join(opts)}])"
    if form == "ein":
        enums = w.enums()
        if not enums:
            return _bool_leaf(draw, w, ctx)
        e = draw(st.sampled_from(enums))
        neg = draw(st.sampled_from(["in", "not in"]))

        def enum_option() -> str:
            if ctx.with_member_hazard:
                return enum_expr(draw, w, ctx, e, 0)
            return draw(st.sampled_from(w.enum_values(e)))

        opts = [enum_option() for _ in range(draw(st.integers(1, 2)))]
        return f"({enum_expr(draw, w, ctx, e, d)} {neg} [{', '.join(opts)}])"
    if form == "if":
        return (
            f"({bool_expr(draw, w, ctx, d)} if {bool_expr(draw, w, ctx, d)} "
            f"else {bool_expr(draw, w, ctx, d)})"
        )
    if form == "eq":
        op = draw(st.sampled_from(["==", "!="]))
        return f"({bool_expr(draw, w, ctx, d)} {op} {bool_expr(draw, w, ctx, d)})"
    dom = _agg_dom(draw, w)
    name, inner = _with_agg(ctx, dom)
    fn = draw(st.sampled_from(["any", "all"]))
    cond = ""
    if draw(st.booleans()):
        cond = f" if {bool_expr(draw, w, inner, 0)}"
    return f"{fn}({bool_expr(draw, w, inner, d)} for {name} in {dom.name}{cond})"


# ---------------------------------------------------------------- actions


def _assigns(draw: Draw, w: World, ctx: Ctx) -> dict[str, str]:
    out: dict[str, str] = {}
    used: dict[tuple[str, str], set[str]] = {}  # (var, index) -> fields written ('' = whole)
    for _ in range(draw(st.integers(1, 3))):
        var = draw(st.sampled_from(w.vars))
        idx = None if var.index is None else _index(draw, w, var, ctx, target=True)
        if var.index is not None and var.index.name == "cpus" and idx is None:
            key_idx = "self"
        else:
            key_idx = idx or ""
        fld = ""
        use_field: bool = draw(st.booleans())
        if var.fields and use_field:
            fld = draw(st.sampled_from(sorted(var.fields)))
        seen = used.setdefault((var.name, key_idx), set())
        if "" in seen or (fld == "" and seen) or fld in seen:
            continue  # the loader rejects writing the same bits twice in one step
        seen.add(fld)
        lhs = var.name if idx is None else f"{var.name}[{idx}]"
        ref = lhs
        if fld:
            lhs += f".{fld}"
            ref = lhs
        out[lhs] = _value(draw, w, ctx, var, fld, ref)
    return out


def _value(draw: Draw, w: World, ctx: Ctx, var: Var, fld: str, ref: str) -> str:
    nudge = draw(st.integers(0, 9)) < 4
    if var.kind == "bool" and not fld:
        return f"not {ref}" if nudge else bool_expr(draw, w, ctx, MAX_DEPTH - 1)
    if var.kind == "enum":
        return enum_expr(draw, w, ctx, var.enum or "", 1)
    if nudge:  # a counter: steps past its range (int, field) or around (word)
        k = draw(st.sampled_from(["1", "1", "2", "P"]))
        return f"{ref} {draw(st.sampled_from(['+', '-']))} {k}"
    e = int_expr(draw, w, ctx, MAX_DEPTH - 1)
    if (var.kind == "word" and not fld) or draw(st.booleans()):
        return e  # words wrap; ints and fields may go out of range
    lo, size = (0, 1 << var.fields[fld][1]) if fld else (var.lo, var.size)
    return f"{lo} + ({e}) % {size}"  # folded into range (unless e fails)


@dataclass
class ActionPlan:
    name: str
    irq: bool
    seq_steps: int  # 0: a `do` action
    on: int | None
    bindings: dict[str, Dom]

    @property
    def instances_per_cpu(self) -> int:
        n = 1
        for d in self.bindings.values():
            n *= len(d.values)
        return n


def _seq_factor(plans: list[ActionPlan], cpus: int) -> int:
    total = 1
    for cpu in range(cpus):
        positions = 1
        for p in plans:
            if p.seq_steps and (p.on is None or p.on == cpu):
                positions += p.instances_per_cpu * (p.seq_steps - 1)
        total *= positions
    return total


def _binding_doms(w: World) -> list[Dom]:
    doms = w.domains()
    doms.append(Dom("[0, 1]", None, (0, 1)))
    return doms


def _action(draw: Draw, w: World, plan: ActionPlan, ctx0: Ctx) -> dict[str, Any]:
    a: dict[str, Any] = {}
    bindings = plan.bindings
    if plan.on is not None:
        a["on"] = plan.on
    if bindings:
        a["for"] = {n: d.yaml for n, d in bindings.items()}
    ctx = Ctx(True, bindings, 0, ctx0.with_member_hazard)
    if draw(st.booleans()):
        a["when"] = bool_expr(draw, w, ctx, 2)
    if plan.irq:
        a["irq"] = True
    if plan.seq_steps:
        steps = []
        for _ in range(plan.seq_steps):
            s: dict[str, Any] = {}
            if draw(st.integers(0, 3)) == 0:
                s["when"] = bool_expr(draw, w, ctx, 1)
            if draw(st.integers(0, 3)) == 0:
                s["if"] = bool_expr(draw, w, ctx, 1)
            s["do"] = _assigns(draw, w, ctx) if draw(st.integers(0, 5)) else {}
            steps.append(s)
        a["steps"] = steps
    else:
        a["do"] = _assigns(draw, w, ctx)
    if draw(st.integers(0, 2)) == 0:
        a["tags"] = [draw(st.sampled_from(["ta", "tb"]))]
    if draw(st.integers(0, 5)) == 0:
        a["event"] = draw(st.sampled_from([False, "ev", ["ev", "ew"]]))
    return a


def _mover(draw: Draw, w: World) -> dict[str, Any]:
    """An action that walks one variable through its values without range errors."""
    ctx = Ctx(True)
    var = draw(st.sampled_from(w.vars))
    ref = _read(draw, w, var, ctx)
    use_field: bool = draw(st.booleans())
    fld = draw(st.sampled_from(sorted(var.fields))) if var.fields and use_field else ""
    if fld:
        value = f"({ref}.{fld} + 1) % {1 << var.fields[fld][1]}"
        ref = f"{ref}.{fld}"
    elif var.kind == "bool":
        value = f"not {ref}"
    elif var.kind == "word":
        value = f"{ref} + 1"  # wraps
    elif var.kind == "int":
        value = f"{ref} + 1 if {ref} < {var.hi} else {var.lo}"
    else:
        vals = list(var.values)
        value = vals[0]
        for prev, nxt in zip(reversed(vals[:-1]), reversed(vals[1:]), strict=True):
            value = f"{nxt} if {ref} == {prev} else {value}"
    action: dict[str, Any] = {"do": {ref: value}}
    if draw(st.integers(0, 3)) == 0:
        action["when"] = bool_expr(draw, w, ctx, 1)
    return action


# ---------------------------------------------------------------- models


@st.composite
def model_docs(
    draw: Draw,
    *,
    member_hazard: bool = True,
    action_properties: bool = True,
    max_cpus: int = 2,
    var_budget: int = VAR_BUDGET,
    max_states: int = MAX_STATES_BOUND,
) -> dict[str, Any]:
    """A model as a YAML-ready dict.

    `max_cpus`, `var_budget` and `max_states` only widen or narrow what is drawn: with their
    defaults, one sequence of choices gives the same model as before they existed.
    """
    cpus = draw(st.integers(1, max_cpus))
    enum_k = None
    if draw(st.booleans()):
        enum_k = tuple(f"k{c}" for c in "abc"[: draw(st.integers(2, 3))])
    budget = var_budget
    variables: list[Var] = []
    for i in range(draw(st.integers(1, 3))):
        var = _var(draw, i, cpus, enum_k, budget)
        if var is None:
            continue
        budget //= var.size**var.entries
        variables.append(var)
    if not variables:
        variables.append(Var("v0", "bool", None))
    w = World(cpus, enum_k, variables)
    doc: dict[str, Any] = {"model": "generated"}
    doc["params"] = {"P": draw(st.sampled_from([1, 2]))}
    doc["cpus"] = cpus
    if enum_k:
        doc["enums"] = {"k": list(enum_k)}
    doc["vars"] = {v.name: _var_decl(draw, v) for v in variables}
    hazard = Ctx(True, with_member_hazard=member_hazard)
    if draw(st.integers(0, 3)) == 0:
        # a def is expanded where it is used, maybe inside an aggregate over x0..x3
        def_ctx = Ctx(True, agg_level=5, with_member_hazard=member_hazard)
        doc["defs"] = {"d0": bool_expr(draw, w, def_ctx, 1)}
        w.has_def = True

    var_product = 1
    for v in variables:
        var_product *= v.size**v.entries
    room = max_states // var_product
    plans: list[ActionPlan] = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["do", "do", "do", "seq", "irq"]))
        on = draw(st.sampled_from([None, None, None, *range(cpus)]))
        bindings: dict[str, Dom] = {}
        for bname in ("t", "u"):
            if draw(st.integers(0, 2 if bname == "t" else 5)) == 0:
                bindings[bname] = draw(st.sampled_from(_binding_doms(w)))
        plan = ActionPlan(f"a{i}", kind == "irq", 0, on, bindings)
        if kind == "seq":
            plan.seq_steps = draw(st.integers(2, 3))
            if _seq_factor([*plans, plan], cpus) > room:
                plan.seq_steps, plan.bindings = 2, {}
            if _seq_factor([*plans, plan], cpus) > room:
                plan.seq_steps = 0  # no room for a sequence: a plain action
        plans.append(plan)
    doc["actions"] = {p.name: _action(draw, w, p, hazard) for p in plans}
    for i in range(draw(st.sampled_from([0, 1, 1, 2, 2, 3]))):
        doc["actions"][f"m{i}"] = _mover(draw, w)
        plans.append(ActionPlan(f"m{i}", False, 0, None, {}))

    props: dict[str, Any] = {}
    pctx = Ctx(True, with_member_hazard=member_hazard)
    for i in range(draw(st.integers(0, 2))):
        props[f"inv{i}"] = {"invariant": bool_expr(draw, w, pctx, MAX_DEPTH)}
    tags = sorted({t for a in doc["actions"].values() for t in a.get("tags", [])})
    selectors = [p.name for p in plans] + [f"tag:{t}" for t in tags]
    for i in range(draw(st.integers(0, 2)) if action_properties else 0):
        sel: Any = draw(st.sampled_from(selectors))
        if draw(st.integers(0, 4)) == 0:
            sel = sorted({sel, draw(st.sampled_from(selectors))})
        p: dict[str, Any] = {"never": sel}
        if draw(st.booleans()):
            p["when"] = bool_expr(draw, w, pctx, 2)
        props[f"never{i}"] = p
    if draw(st.booleans()):
        props["reach-state"] = {"reachable": bool_expr(draw, w, pctx, MAX_DEPTH)}
    if action_properties and draw(st.booleans()):
        p = {"reachable": draw(st.sampled_from(selectors))}
        if draw(st.booleans()):
            p["when"] = bool_expr(draw, w, pctx, 2)
        props["reach-action"] = p
    if draw(st.booleans()):
        expect = draw(st.sampled_from(["holds", "violated"]))
        for p in props.values():
            p["expect"] = expect
    if props:
        doc["properties"] = props
    if draw(st.booleans()):
        doc["deadlock"] = "allowed"
    return doc


def to_yaml(doc: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=10_000)
    return text


def models(
    *,
    member_hazard: bool = True,
    action_properties: bool = True,
    max_cpus: int = 2,
    var_budget: int = VAR_BUDGET,
    max_states: int = MAX_STATES_BOUND,
) -> st.SearchStrategy[str]:
    """YAML text of a random valid model (see the module docstring).

    `member_hazard=False` keeps every option of `x in [...]` from failing to evaluate;
    `action_properties=False` leaves out `never` and `reachable` over actions.
    `max_cpus=3` allows 3 CPUs; `var_budget` (the product of the variables' domain sizes) and
    `max_states` (that times the sequence positions) bound the state space: pass smaller ones
    with more CPUs or a slower engine.
    """
    return model_docs(
        member_hazard=member_hazard,
        action_properties=action_properties,
        max_cpus=max_cpus,
        var_budget=var_budget,
        max_states=max_states,
    ).map(to_yaml)
