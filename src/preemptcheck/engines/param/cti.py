"""A counterexample to induction for every number of CPUs, as a step of one instance: the z3
model's N and CPU indices, decoded into states of the model loaded with that many CPUs.
Only this package, engines/_z3expr.py, engines/_houdini.py and engines/symbolic.py import z3.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from preemptcheck.core.source import SourceCache
from preemptcheck.engines._z3expr import Z
from preemptcheck.engines.layout import decode
from preemptcheck.engines.param.encode import Encoding, PState, Rule, per_cpu
from preemptcheck.engines.param.fragment import instance
from preemptcheck.expr.ast import Value
from preemptcheck.model.ir import Model
from preemptcheck.semantics.system import SeqPos, State, StepLabel
from preemptcheck.semantics.trace import Trace


@dataclass(frozen=True, slots=True)
class ParamCTI:
    """A state that satisfies the candidate invariant (for `ncpu` CPUs, reachable or not)
    and a step into one that breaks the property: `trace` is over `model`, the instance
    with `ncpu` CPUs (None when the model's CPU count is a literal: `text` only)."""

    ncpu: int
    trace: Trace | None
    model: Model | None
    text: str
    initial: bool = False  # the initial state itself breaks it (a real violation)


def decode_cti(
    enc: Encoding,
    m: Z,
    rule: Rule | None,
    changes: list[tuple[Z, Z]],
    sources: SourceCache | None = None,
) -> ParamCTI:
    """The z3 model `m` of a failed step (`rule`; None: the initial state, whose values
    `changes` gives) as a trace of the instance."""
    n = m.eval(enc.n, model_completion=True).as_long()
    pre = _state(enc, m, enc.x, [], n)
    post = _state(enc, m, enc.x, changes, n)
    inst = instance(enc.model, n, sources)
    if rule is None:
        text = f"the initial state with {n} CPUs breaks it"
        trace = Trace((post,), ()) if inst is not None else None
        return ParamCTI(n, trace, inst, text, initial=True)
    cpu = m.eval(rule.cpu, model_completion=True).as_long()
    bound = {name: m.eval(t, model_completion=True).as_long() for name, t in rule.cpu_bindings}
    small = dict(rule.bindings)
    bindings = tuple(
        (name, bound[name] if d.is_cpus else small[name]) for name, d in rule.action.bindings
    )
    label = StepLabel(rule.action.name, cpu, bindings, rule.step, len(rule.action.steps))
    text = f"with {n} CPUs: {label}"
    trace = Trace((pre, post), (label,)) if inst is not None else None
    if inst is None:
        text += "; " + _show(enc, pre, n)
    return ParamCTI(n, trace, inst, text)


def _state(enc: Encoding, m: Z, st: PState, changes: list[tuple[Z, Z]], n: int) -> State:
    def ev(t: Z) -> Z:
        if changes:
            t = z3.substitute(t, *changes)
        return m.eval(t, model_completion=True)

    values: list[Value | tuple[Value, ...]] = []
    for v in enc.model.vars:
        if per_cpu(v.info):
            arr = st.arrays[v.name]
            values.append(
                tuple(
                    decode(v.info, ev(z3.Select(arr, z3.IntVal(i, enc.cx.ctx))).as_long())
                    for i in range(n)
                )
            )
        else:
            entries = [
                decode(v.info, ev(st.scalars[(v.name, e)]).as_long()) for e in range(len(v.entries))
            ]
            values.append(entries[0] if v.info.index is None else tuple(entries))
    seq: list[SeqPos | None] = [None] * n
    if st.seq is not None:
        back = {code: key for key, code in enc.codes.items()}
        for i in range(n):
            code = ev(z3.Select(st.seq, z3.IntVal(i, enc.cx.ctx))).as_long()
            if code in back:
                name, combo, k = back[code]
                seq[i] = SeqPos(name, combo, k)
    return State(tuple(values), tuple(seq))


def _show(enc: Encoding, st: State, n: int) -> str:
    parts = []
    for v, value in zip(enc.model.vars, st.values, strict=True):
        if isinstance(value, tuple):
            parts.append(f"{v.name}=[{', '.join(map(str, value))}]")
        else:
            parts.append(f"{v.name}={value}")
    return ", ".join(parts)
