"""CPU symmetry: which CPUs a model treats alike, and canonical packed states under permuting them.

Detection is conservative: a CPU is *distinguished* when the model names it (`on: N`, an index
`pc[0]`, a comparison `self != 0`), and reduction is refused outright when a CPU id is used
as a value (arithmetic, ordering, stored in a variable, a computed index). The remaining CPUs
with equal initial values are interchangeable, and every property, guard and update treats
them alike, so exploring one state per orbit decides every property as the full search would.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass

from preemptcheck.engines.layout import Layout
from preemptcheck.expr.ast import (
    Agg,
    Binary,
    Bound,
    Const,
    Expr,
    Member,
    Target,
    VarRef,
    children,
)
from preemptcheck.model.ir import Model

MAX_GROUP = 720  # permutations tried per state when slices cannot simply be sorted


@dataclass(frozen=True, slots=True)
class Analysis:
    classes: tuple[tuple[int, ...], ...]  # interchangeable CPUs, each class of 2 or more
    reason: str = ""  # why there are none, when `classes` is empty

    def describe(self) -> str:
        return "; ".join(
            "CPUs " + ", ".join(map(str, c)) + " interchangeable" for c in self.classes
        )


class _Breaker(Exception):
    pass


class _Scan:
    def __init__(self) -> None:
        self.named: set[int] = set()

    def expr(self, e: Expr, cpu_names: frozenset[str], where: str) -> None:
        if isinstance(e, Bound) and e.name in cpu_names:
            raise _Breaker(f"{where}: the CPU id '{e.name}' is used as a value")
        if (
            isinstance(e, VarRef)
            and e.index is not None
            and e.var.index is not None
            and e.var.index.is_cpus
        ):
            self.cpu(e.index, cpu_names, where)
            return
        if (
            isinstance(e, Binary)
            and e.op in ("==", "!=")
            and (self._is_cpu(e.left, cpu_names) or self._is_cpu(e.right, cpu_names))
        ):
            for side in (e.left, e.right):
                if not (self._is_cpu(side, cpu_names) or isinstance(side, Const)):
                    raise _Breaker(
                        f"{where}: a CPU id is compared with a value that is not "
                        "a CPU name or a constant"
                    )
                self.cpu(side, cpu_names, where)
            return
        if isinstance(e, Member) and self._is_cpu(e.arg, cpu_names):
            self.cpu(e.arg, cpu_names, where)
            for o in e.options:
                self.cpu(o, cpu_names, where)
            return
        if isinstance(e, Agg):
            inner = cpu_names | {e.var} if e.domain.is_cpus else cpu_names
            self.expr(e.body, inner, where)
            if e.cond is not None:
                self.expr(e.cond, inner, where)
            return
        for c in children(e):
            self.expr(c, cpu_names, where)

    @staticmethod
    def _is_cpu(e: Expr, cpu_names: frozenset[str]) -> bool:
        return isinstance(e, Bound) and e.name in cpu_names

    def cpu(self, e: Expr, cpu_names: frozenset[str], where: str) -> None:
        """`e` stands for a CPU: a CPU name, or a constant that names one CPU."""
        if isinstance(e, Bound) and e.name in cpu_names:
            return
        if isinstance(e, Const) and isinstance(e.value, int):
            self.named.add(e.value)
            return
        raise _Breaker(f"{where}: a CPU is chosen by a computed expression")

    def target(self, t: Target, cpu_names: frozenset[str], where: str) -> None:
        if t.index is None:
            return
        if t.var.index is not None and t.var.index.is_cpus:
            self.cpu(t.index, cpu_names, where)
        else:
            self.expr(t.index, cpu_names, where)


def analyze(model: Model) -> Analysis:
    if model.cpus < 2:
        return Analysis((), "the model has one CPU")
    scan = _Scan()
    try:
        for action in model.actions:
            if len(action.cpus) < model.cpus:
                scan.named.update(action.cpus)
            names = frozenset({"self"} | {b for b, d in action.bindings if d.is_cpus})
            where = f"actions.{action.name}"
            if action.when is not None:
                scan.expr(action.when, names, where)
            for step in action.steps:
                for e in (step.when, step.cond):
                    if e is not None:
                        scan.expr(e, names, where)
                for a in step.assigns:
                    scan.target(a.target, names, where)
                    scan.expr(a.value, names, where)
        for prop in model.properties:
            where = f"properties.{prop.id}"
            if prop.expr is not None:
                scan.expr(prop.expr, frozenset({"self"}), where)
            for name, when in prop.actions:
                action = model.action(name)
                names = frozenset({"self"} | {b for b, d in action.bindings if d.is_cpus})
                if when is not None:
                    scan.expr(when, names, where)
    except _Breaker as exc:
        return Analysis((), str(exc))
    per_cpu = [v for v in model.vars if v.info.index is not None and v.info.index.is_cpus]
    groups: dict[tuple[object, ...], list[int]] = {}
    for c in range(model.cpus):
        if c not in scan.named:
            groups.setdefault(tuple(v.init[c] for v in per_cpu), []).append(c)
    classes = tuple(tuple(g) for g in groups.values() if len(g) > 1)
    if not classes:
        named = ", ".join(map(str, sorted(scan.named))) or "none"
        free = [c for c in range(model.cpus) if c not in scan.named]
        why = (
            "the others start with different values"
            if len(free) > 1
            else f"only CPU {free[0]} is not"
            if free
            else "every CPU is"
        )
        return Analysis((), f"no two CPUs are interchangeable (named in the model: {named}; {why})")
    return Analysis(classes)


class Canonicalizer:
    """Maps a packed state to its orbit's representative, and counts the orbit.

    Each CPU's entries and sequence position form one contiguous block of the packed state
    (engines.layout), so permuting CPUs moves whole blocks.
    """

    def __init__(self, layout: Layout, analysis: Analysis) -> None:
        self.layout = layout
        self.classes = analysis.classes
        self.blocks: list[tuple[tuple[int, ...], int]] = []  # (block offsets, block mask)
        clear = 0
        for cls in self.classes:
            widths = {layout.cpu_blocks[c][1] for c in cls}
            assert len(widths) == 1, "CPUs of one class have blocks of one width"
            mask = (1 << widths.pop()) - 1
            offs = tuple(layout.cpu_blocks[c][0] for c in cls)
            self.blocks.append((offs, mask))
            clear |= sum(mask << o for o in offs)
        self.clear = ~clear
        c0 = self.classes[0][0]
        self.seq_rel = layout.seq_slots[c0][0] - layout.cpu_blocks[c0][0]
        self.seq_mask = (1 << layout.seq_slots[c0][1]) - 1
        # sequences that bind a CPU tie a block to other CPUs: sorting is then not enough
        self.sortable = not any(
            inst.action.is_sequence and any(d.is_cpus for _, d in inst.action.bindings)
            for inst in layout.ts.instances
        )
        group = math.prod(math.factorial(len(cls)) for cls in self.classes)
        if not self.sortable and group > MAX_GROUP:
            raise ValueError(f"{group:,} CPU permutations per state is too many to try")
        # listed only where they are tried (11 CPUs have 39,916,800 of them)
        self.perms = (
            [] if self.sortable else [list(itertools.permutations(c)) for c in self.classes]
        )
        self.factorial = [math.factorial(n) for n in range(max(map(len, self.classes)) + 1)]
        moved = {c for cls in self.classes for c in cls}
        self.fixed = [c for c, (_, w) in enumerate(layout.seq_slots) if c not in moved and w]
        self._code_maps: dict[tuple[int, int, tuple[tuple[int, int], ...]], int] = {}

    def canon(self, s: int) -> tuple[int, int]:
        """(representative, number of states in the orbit of `s`)."""
        if not self.sortable:
            images = {self._apply(s, perm) for perm in self._group()}
            return min(images), len(images)
        rep = s & self.clear
        orbit = 1
        for offs, mask in self.blocks:
            vals = sorted([(s >> o) & mask for o in offs])
            for o, v in zip(offs, vals, strict=True):
                rep |= v << o
            orbit *= self.factorial[len(vals)]
            if len(set(vals)) < len(vals):
                for n in _multiplicities(vals):
                    orbit //= self.factorial[n]
        return rep, orbit

    def _group(self) -> Iterator[dict[int, int]]:
        for combo in itertools.product(*self.perms):
            mapping: dict[int, int] = {}
            for cls, image in zip(self.classes, combo, strict=True):
                mapping.update(zip(cls, image, strict=True))
            yield mapping

    def _apply(self, s: int, perm: dict[int, int]) -> int:
        out = s & self.clear
        blocks = self.layout.cpu_blocks
        for c, d in perm.items():
            off, width = blocks[c]
            block = (s >> off) & ((1 << width) - 1)
            code = (block >> self.seq_rel) & self.seq_mask
            mapped = self._map_code(c, code, perm)
            block = (block & ~(self.seq_mask << self.seq_rel)) | (mapped << self.seq_rel)
            out |= block << blocks[d][0]
        # a CPU that stays put may be inside a sequence bound to a CPU that moves: its
        # sequence position must follow (a sequence of `on: 0` with `for: {t: cpus}`)
        for c in self.fixed:
            off, width = self.layout.seq_slots[c]
            mask = (1 << width) - 1
            code = (s >> off) & mask
            if code:
                mapped = self._map_code(c, code, {**perm, c: c})
                out = (out & ~(mask << off)) | (mapped << off)
        return out

    def _map_code(self, cpu: int, code: int, perm: dict[int, int]) -> int:
        """The sequence position `code` of `cpu`, as it reads on CPU perm[cpu]."""
        if code == 0:
            return 0
        key = (cpu, code, tuple(sorted(perm.items())))
        hit = self._code_maps.get(key)
        if hit is not None:
            return hit
        ts = self.layout.ts
        ii, k = self.layout.seq_decode[cpu][code]
        inst = ts.instances[ii]
        moved = tuple(
            (n, perm.get(v, v) if d.is_cpus and isinstance(v, int) else v)
            for (n, v), (_, d) in zip(inst.bindings, inst.action.bindings, strict=True)
        )
        target = next(
            j.index
            for j in ts.instances
            if j.action.name == inst.action.name and j.cpu == perm[cpu] and j.bindings == moved
        )
        mapped = self.layout.seq_codes[perm[cpu]][(target, k)]
        self._code_maps[key] = mapped
        return mapped


def _multiplicities(items: list[int]) -> Iterator[int]:
    for _, group in itertools.groupby(items):
        yield sum(1 for _ in group)
