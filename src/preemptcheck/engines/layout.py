"""Packing states into one integer: a bit slot per variable entry, per CPU sequence position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from preemptcheck.expr.ast import EnumT, Value, VarInfo
from preemptcheck.model.ir import Var
from preemptcheck.semantics.system import SeqPos, State, TransitionSystem


@dataclass(frozen=True, slots=True)
class Slot:
    var: VarInfo
    entry: int  # position in the variable's index domain (0 when not indexed)
    offset: int
    width: int

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1


def _width(n_values: int) -> int:
    return max(n_values - 1, 0).bit_length()


def _var_width(var: Var) -> int:
    info = var.info
    if info.kind == "word":
        return info.hi.bit_length()
    return _width(info.hi - info.lo + 1)


def encode(var: VarInfo, value: Value) -> int:
    if var.kind == "bool":
        return 1 if value else 0
    if isinstance(var.type, EnumT):
        assert isinstance(value, str)
        return var.type.code(value)
    assert isinstance(value, int)
    return value - var.lo


def decode(var: VarInfo, raw: int) -> Value:
    if var.kind == "bool":
        return bool(raw)
    if isinstance(var.type, EnumT):
        return var.type.values[raw]
    return raw + var.lo


class Layout:
    """Where each variable entry lives in the packed state; sequence codes per CPU."""

    def __init__(self, ts: TransitionSystem) -> None:
        self.ts = ts
        model = ts.model
        # sequence positions: code 0 = no sequence in progress on that CPU
        self.seq_codes: list[dict[tuple[int, int], int]] = [{} for _ in range(model.cpus)]
        self.seq_decode: list[dict[int, tuple[int, int]]] = [{} for _ in range(model.cpus)]
        for inst in ts.instances:
            if not inst.action.is_sequence:
                continue
            for k in range(1, len(inst.steps)):
                codes = self.seq_codes[inst.cpu]
                code = len(codes) + 1
                codes[(inst.index, k)] = code
                self.seq_decode[inst.cpu][code] = (inst.index, k)
        widths = {v.name: _var_width(v) for v in model.vars}
        offsets: dict[tuple[str, int], int] = {}
        offset = 0
        # variables not indexed by CPU first, then one contiguous block per CPU holding its
        # entry of every CPU-indexed variable and its sequence position (so that symmetry
        # reduction moves a CPU's whole slice with one shift)
        per_cpu = [v for v in model.vars if v.info.index is not None and v.info.index.is_cpus]
        for var in model.vars:
            if var in per_cpu:
                continue
            for e in range(len(var.entries)):
                offsets[(var.name, e)] = offset
                offset += widths[var.name]
        self.seq_slots: list[tuple[int, int]] = []
        self.cpu_blocks: list[tuple[int, int]] = []
        for cpu in range(model.cpus):
            start = offset
            for var in per_cpu:
                offsets[(var.name, cpu)] = offset
                offset += widths[var.name]
            w = _width(len(self.seq_codes[cpu]) + 1)
            self.seq_slots.append((offset, w))
            offset += w
            self.cpu_blocks.append((start, offset - start))
        self.bits = offset
        self.slots: list[Slot] = []
        self.first_slot: dict[str, int] = {}
        for var in model.vars:
            self.first_slot[var.name] = len(self.slots)
            for e in range(len(var.entries)):
                self.slots.append(Slot(var.info, e, offsets[(var.name, e)], widths[var.name]))

    def entry_offsets(self, var: str) -> tuple[int, ...]:
        first = self.first_slot[var]
        n = len(self.ts.model.var(var).entries)
        return tuple(sl.offset for sl in self.slots[first : first + n])

    def slot(self, var: str, entry: int) -> Slot:
        return self.slots[self.first_slot[var] + entry]

    def pack(self, st: State) -> int:
        s = 0
        for var, value in zip(self.ts.model.vars, st.values, strict=True):
            entries = (value,) if var.info.index is None else value
            for e, v in enumerate(entries):
                slot = self.slot(var.name, e)
                s |= encode(var.info, v) << slot.offset
        for cpu, pos in enumerate(st.seq):
            if pos is not None:
                inst = next(
                    i
                    for i in self.ts.instances
                    if i.action.name == pos.action and i.cpu == cpu and i.bindings == pos.bindings
                )
                off, _ = self.seq_slots[cpu]
                s |= self.seq_codes[cpu][(inst.index, pos.next)] << off
        return s

    def unpack(self, s: int) -> State:
        values: list[Any] = []
        for var in self.ts.model.vars:
            entries = [decode(var.info, (s >> sl.offset) & sl.mask) for sl in self._var_slots(var)]
            values.append(entries[0] if var.info.index is None else tuple(entries))
        seq: list[SeqPos | None] = []
        for cpu, (off, w) in enumerate(self.seq_slots):
            code = (s >> off) & ((1 << w) - 1)
            if code == 0:
                seq.append(None)
            else:
                ii, k = self.seq_decode[cpu][code]
                inst = self.ts.instances[ii]
                seq.append(SeqPos(inst.action.name, inst.bindings, k))
        return State(tuple(values), tuple(seq))

    def _var_slots(self, var: Var) -> list[Slot]:
        first = self.first_slot[var.name]
        n = 1 if var.info.index is None else len(var.info.index.values)
        return self.slots[first : first + n]
