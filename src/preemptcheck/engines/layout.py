"""Packing states into one integer: a bit slot per variable entry, per CPU sequence position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from preemptcheck.expr.ast import EnumT, Value, VarInfo
from preemptcheck.model.ir import Var
from preemptcheck.system import SeqPos, State, TransitionSystem


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
        self.slots: list[Slot] = []
        self.first_slot: dict[str, int] = {}
        offset = 0
        for var in ts.model.vars:
            info = var.info
            n = 1 if info.index is None else len(info.index.values)
            w = info.hi.bit_length() if info.kind == "word" else _width(info.hi - info.lo + 1)
            self.first_slot[info.name] = len(self.slots)
            for e in range(n):
                self.slots.append(Slot(info, e, offset, w))
                offset += w
        # sequence positions: code 0 = no sequence in progress on that CPU
        self.seq_codes: list[dict[tuple[int, int], int]] = [{} for _ in range(ts.model.cpus)]
        self.seq_decode: list[dict[int, tuple[int, int]]] = [{} for _ in range(ts.model.cpus)]
        for inst in ts.instances:
            if not inst.action.is_sequence:
                continue
            for k in range(1, len(inst.steps)):
                codes = self.seq_codes[inst.cpu]
                code = len(codes) + 1
                codes[(inst.index, k)] = code
                self.seq_decode[inst.cpu][code] = (inst.index, k)
        self.seq_slots: list[tuple[int, int]] = []
        for cpu in range(ts.model.cpus):
            w = _width(len(self.seq_codes[cpu]) + 1)
            self.seq_slots.append((offset, w))
            offset += w
        self.bits = offset

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
