"""Generates the explicit engine's successor function as Python source, once per model.

`expand(s, active, cov)` unpacks the packed state `s`, evaluates the state properties and
every step instance, and returns `(succ, events, enabled)`: `succ` alternates successor
state and step id; `events` are `(property index, step id or -1, cpu or -1, message)`.
Every property is evaluated in every state (so evaluation errors are found exactly as
the reference semantics finds them); `active` only decides what is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from preemptcheck.engines.layout import Layout
from preemptcheck.expr.ast import (
    Agg,
    Binary,
    BoolOp,
    BoolT,
    Bound,
    Call,
    Const,
    EnumT,
    Expr,
    IfExp,
    IntT,
    Member,
    Target,
    Unary,
    VarInfo,
    VarRef,
)
from preemptcheck.expr.evaluate import MAX_SHIFT, can_fail
from preemptcheck.model.ir import PropKind
from preemptcheck.system import SpecStep, TransitionSystem

ExpandFn = Callable[
    [int, int, list[int]], tuple[list[int], list[tuple[int, int, int, str | None]], int]
]


class _EvalErr(Exception):
    pass


def _shl(a: int, b: int) -> int:
    if b < 0:
        raise _EvalErr(f"negative shift count in '{a} << {b}'")
    if b > MAX_SHIFT:
        raise _EvalErr(f"shift count {b} is too large (at most {MAX_SHIFT})")
    return a << b


def _shr(a: int, b: int) -> int:
    if b < 0:
        raise _EvalErr(f"negative shift count in '{a} >> {b}'")
    return a >> b


def _ix(i: int, lo: int, n: int, name: str) -> int:
    if not lo <= i < lo + n:
        raise _EvalErr(f"index {i} is out of range for {name}")
    return i - lo


def _oob(name: str, value: object) -> int:
    raise _EvalErr(f"index {value} is out of range for {name}")


def _msg(prefix: str, exc: Exception) -> str:
    if isinstance(exc, ZeroDivisionError):
        return prefix + "division by zero"
    return prefix + str(exc)


HELPERS: dict[str, Any] = {
    "_EvalErr": _EvalErr,
    "_shl": _shl,
    "_shr": _shr,
    "_ix": _ix,
    "_oob": _oob,
    "_msg": _msg,
    "_ERRS": (_EvalErr, ZeroDivisionError),
}


class Codegen:
    def __init__(self, ts: TransitionSystem, layout: Layout) -> None:
        self.ts = ts
        self.layout = layout
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self.dyn: set[str] = set()
        self.temps = 0
        self.props = ts.properties
        self.range_pi = next(i for i, p in enumerate(self.props) if p.kind == PropKind.RANGE)

    # ------------------------------------------------------------ expressions

    def local(self, var: VarInfo, entry: int) -> str:
        return f"v{self.layout.first_slot[var.name] + entry}"

    def position(self, var: VarInfo, index: Expr) -> tuple[str, int | None]:
        """The entry position of `var[index]`: as code, and as a number when constant."""
        assert var.index is not None
        dom = var.index
        if isinstance(index, Const):
            if index.value in dom.values:
                pos = dom.values.index(index.value)
                return str(pos), pos
            return f"_oob({var.name!r}, {index.value!r})", None
        if isinstance(dom.type, EnumT):
            return self.ex(index), None
        lo = dom.values[0]
        return f"_ix({self.ex(index)}, {lo}, {len(dom.values)}, {var.name!r})", None

    def ex(self, e: Expr) -> str:
        if isinstance(e, Const):
            if isinstance(e.type, BoolT):
                return "True" if e.value else "False"
            if isinstance(e.type, EnumT):
                assert isinstance(e.value, str)
                return str(e.type.code(e.value))
            return repr(e.value)
        if isinstance(e, VarRef):
            info = e.var
            if e.index is None:
                base = self.local(info, 0)
            else:
                code, pos = self.position(info, e.index)
                if pos is not None:
                    base = self.local(info, pos)
                else:
                    self.dyn.add(info.name)
                    base = f"A_{info.name}[{code}]"
            if e.fld is None:
                return base
            spec = info.field(e.fld)
            assert spec is not None
            shift, width = spec
            return f"(({base} >> {shift}) & {(1 << width) - 1})"
        if isinstance(e, Unary):
            op = "not " if e.op == "not" else e.op
            return f"({op}{self.ex(e.arg)})"
        if isinstance(e, Binary):
            a, b = self.ex(e.left), self.ex(e.right)
            if e.op == "<<":
                return f"_shl({a}, {b})"
            if e.op == ">>":
                return f"_shr({a}, {b})"
            return f"({a} {e.op} {b})"
        if isinstance(e, BoolOp):
            return "(" + f" {e.op} ".join(self.ex(a) for a in e.args) + ")"
        if isinstance(e, Member):
            if not any(can_fail(o) for o in e.options):
                opts = ", ".join(self.ex(o) for o in e.options)
                return f"({self.ex(e.arg)} {'not in' if e.negate else 'in'} ({opts},))"
            # `x in [a, b]` is `x == a or x == b`, left to right: a later option that
            # cannot be evaluated is not evaluated once an earlier one matched
            self.temps += 1
            tmp = f"_w{self.temps}"
            tests = [f"({tmp} := {self.ex(e.arg)}) == {self.ex(e.options[0])}"]
            tests += [f"{tmp} == {self.ex(o)}" for o in e.options[1:]]
            chain = "(" + " or ".join(tests) + ")"
            return f"(not {chain})" if e.negate else chain
        if isinstance(e, IfExp):
            return f"({self.ex(e.then)} if {self.ex(e.cond)} else {self.ex(e.orelse)})"
        if isinstance(e, Call):
            if e.fn == "implies":
                return f"((not {self.ex(e.args[0])}) or {self.ex(e.args[1])})"
            return f"{e.fn}({', '.join(self.ex(a) for a in e.args)})"
        assert not isinstance(e, Agg | Bound), "aggregates and bound names are folded away"
        raise AssertionError(type(e))

    # ------------------------------------------------------------ statements

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def const(self, value: Any) -> str:
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    def unpack_lines(self) -> None:
        """The prologue that reads every slot of the packed state `s` into a local."""
        for i, slot in enumerate(self.layout.slots):
            lo = slot.var.lo if slot.var.kind == "int" else 0
            if slot.width == 0:
                self.emit(1, f"v{i} = {lo}")
            else:
                extra = f" + {lo}" if lo else ""
                self.emit(1, f"v{i} = ((s >> {slot.offset}) & {slot.mask}){extra}")
        for name in sorted(self.dyn):
            first = self.layout.first_slot[name]
            n = len(self.ts.model.var(name).entries)
            self.emit(1, f"A_{name} = ({', '.join(f'v{first + k}' for k in range(n))},)")

    def generate(self) -> str:
        body_start = len(self.lines)
        self._state_props()
        self._steps()
        body = self.lines[body_start:]
        self.lines = self.lines[:body_start]
        self.emit(0, "def expand(s, active, cov):")
        self.unpack_lines()
        for cpu, (off, w) in enumerate(self.layout.seq_slots):
            self.emit(1, f"q{cpu} = (s >> {off}) & {(1 << w) - 1}" if w else f"q{cpu} = 0")
        self.emit(1, "out = []")
        self.emit(1, "ev = []")
        self.emit(1, "en = 0")
        for ai in range(len(self.ts.model.actions)):
            self.emit(1, f"c{ai} = 0")
        self.lines.extend(body)
        for ai in range(len(self.ts.model.actions)):
            self.emit(1, f"if c{ai}: cov[{ai}] += 1")
        self.emit(1, "return out, ev, en")
        return "\n".join(self.lines) + "\n"

    def _record(self, depth: int, pi: int, sid: int, cpu: int, cond: str | None) -> None:
        # `active >> pi & 1`, not `active & (1 << pi)`: with thousands of properties the
        # mask would be a literal of thousands of digits on every line
        test = f"active >> {pi} & 1" if cond is None else f"{cond} and active >> {pi} & 1"
        self.emit(depth, f"if {test}: ev.append(({pi}, {sid}, {cpu}, None))")

    def _catch(self, depth: int, sid: int, cpu: int, prefix: str, pi: int | None = None) -> None:
        """An evaluation error is a `range` event, and an event of the property being evaluated
        (whose verdict cannot then be `holds`)."""
        self.emit(depth, "except _ERRS as x:")
        self.emit(depth + 1, f"m = _msg({prefix!r}, x)")
        for p in (self.range_pi, pi):
            if p is not None:
                self.emit(depth + 1, f"if active >> {p} & 1: ev.append(({p}, {sid}, {cpu}, m))")

    def _state_props(self) -> None:
        for sp in self.ts.state_props:
            prop = self.props[sp.prop_index]
            cond = self.ex(sp.expr)
            if prop.kind == PropKind.INVARIANT:
                cond = f"(not {cond})"
            self.emit(1, "try:")
            self._record(2, sp.prop_index, -1, sp.cpu, cond)
            self._catch(1, -1, sp.cpu, f"evaluating property {prop.id}: ", sp.prop_index)

    def _steps(self) -> None:
        for inst in self.ts.instances:
            for k, step in enumerate(inst.steps):
                self._step(
                    inst.cpu,
                    inst.action_index,
                    inst.action.irq,
                    inst.index,
                    k,
                    step,
                    len(inst.steps) > 1 or inst.action.is_sequence,
                )

    def _step(
        self, cpu: int, ai: int, irq: bool, ii: int, k: int, step: SpecStep, seq: bool
    ) -> None:
        if isinstance(step.guard, Const) and step.guard.value is False:
            return  # the params switch this step off: no code, no cost per state
        codes = self.layout.seq_codes[cpu]
        tests: list[str] = []
        if k > 0:
            tests.append(f"q{cpu} == {codes[(ii, k)]}")
        elif not irq and codes:
            tests.append(f"q{cpu} == 0")
        if step.guard is not None:
            tests.append(self.ex(step.guard))
        self.emit(1, f"# sid {step.sid}: {step.label}")
        self.emit(1, "try:")
        self.emit(2, f"if {' and '.join(tests) if tests else 'True'}:")
        self.emit(3, "en = 1")
        if k == 0:
            self.emit(3, f"c{ai} = 1")
        for pi, when in (*step.never, *step.reach):
            if when is None:
                self._record(3, pi, step.sid, cpu, None)
            else:
                self.emit(3, "try:")
                self._record(4, pi, step.sid, cpu, f"({self.ex(when)})")
                self._catch(3, step.sid, cpu, f"evaluating property {self.props[pi].id}: ", pi)
        self.emit(3, "ns = s")
        depth = 3
        if step.cond is not None:
            self.emit(3, f"if {self.ex(step.cond)}:")
            depth = 4
        self._writes(depth, step)
        if seq:
            off, w = self.layout.seq_slots[cpu]
            nxt = codes.get((ii, k + 1), 0)
            self.emit(3, f"ns = (ns & {~(((1 << w) - 1) << off)}) | {nxt << off}")
        self.emit(3, f"out.append(ns); out.append({step.sid})")
        self._catch(1, step.sid, cpu, "")

    def _writes(self, depth: int, step: SpecStep) -> None:
        if not step.assigns:
            self.emit(depth, "pass")
            return
        positions: list[tuple[str, int | None]] = []
        for j, a in enumerate(step.assigns):
            t = a.target
            if t.index is None:
                positions.append(("0", 0))
            else:
                code, pos = self.position(t.var, t.index)
                if pos is None:
                    self.emit(depth, f"p{j} = {code}")
                    positions.append((f"p{j}", None))
                else:
                    positions.append((code, pos))
            self.emit(depth, f"n{j} = {self.ex(a.value)}")
        for j, a in enumerate(step.assigns):
            for i in range(j):
                b = step.assigns[i]
                if a.target.var.name != b.target.var.name:
                    continue
                if not (
                    a.target.fld is None or b.target.fld is None or a.target.fld == b.target.fld
                ):
                    continue
                (cj, pj), (ci, pi) = positions[j], positions[i]
                msg = repr(f"conflicting assignments to {_where(a.target)} in one step")
                if pj is not None and pi is not None:
                    if pj == pi:
                        self.emit(depth, f"raise _EvalErr({msg})")
                else:
                    self.emit(depth, f"if {cj} == {ci}: raise _EvalErr({msg})")
        for j, a in enumerate(step.assigns):
            self._write(depth, j, a.target, positions[j])

    def _write(self, depth: int, j: int, t: Target, position: tuple[str, int | None]) -> None:
        var = t.var
        code, pos = position
        stride = self.layout.slot(var.name, 0).width  # every entry has the variable's width
        if pos is not None:
            off = f"{self.layout.slot(var.name, pos).offset}"
            where = repr(_where(t, pos))
        else:
            offsets = self.const(self.layout.entry_offsets(var.name))
            self.emit(depth, f"o{j} = {offsets}[{code}]")
            off = f"o{j}"
            assert var.index is not None
            vals = self.const(tuple(str(v) for v in var.index.values))
            where = f"'{var.name}[' + {vals}[{code}] + ']'" + (f" + '.{t.fld}'" if t.fld else "")
        n = f"n{j}"
        if t.fld is not None:
            spec = var.field(t.fld)
            assert spec is not None
            shift, width = spec
            fmask = (1 << width) - 1
            self.emit(
                depth,
                f"if not 0 <= {n} <= {fmask}: raise _EvalErr('assigns ' + str({n}) "
                f"+ ' to ' + {where} + ', a {width}-bit field')",
            )
            self.emit(
                depth, f"ns = (ns & ~({fmask << shift} << {off})) | ({n} << ({off} + {shift}))"
            )
            return
        mask = (1 << stride) - 1
        if var.kind == "bool":
            enc = f"(1 if {n} else 0)"
        elif var.kind == "word":
            enc = f"({n} & {mask})"
        elif isinstance(var.type, IntT):
            self.emit(
                depth,
                f"if not {var.lo} <= {n} <= {var.hi}: raise _EvalErr('assigns ' + "
                f"str({n}) + ' to ' + {where} + ', range [{var.lo}, {var.hi}]')",
            )
            enc = f"({n} - {var.lo})" if var.lo else n
        else:
            enc = n
        if stride == 0:
            return
        self.emit(depth, f"ns = (ns & ~({mask} << {off})) | ({enc} << {off})")


def _where(t: Target, pos: int | None = None) -> str:
    idx = ""
    if t.var.index is not None:
        idx = f"[{t.var.index.values[pos]}]" if pos is not None else "[…]"
    return t.var.name + idx + (f".{t.fld}" if t.fld else "")


def compile_expand(ts: TransitionSystem, layout: Layout) -> tuple[ExpandFn, str]:
    gen = Codegen(ts, layout)
    src = gen.generate()
    namespace: dict[str, Any] = dict(HELPERS)
    namespace.update(gen.consts)
    exec(compile(src, f"<preemptcheck expand: {ts.model.name!r}>", "exec"), namespace)
    return namespace["expand"], src


def compile_predicate(
    ts: TransitionSystem, layout: Layout, e: Expr, env: dict[str, Any]
) -> Callable[[int], bool]:
    """`e` (with `self` and bound names from `env`) as a function of a packed state; it
    raises EvalError where the reference semantics cannot evaluate `e` either."""
    from preemptcheck.expr.evaluate import EvalError, fold

    gen = Codegen(ts, layout)
    body = gen.ex(fold(e, env))
    gen.emit(0, "def pred(s):")
    gen.unpack_lines()
    gen.emit(1, f"return bool({body})")
    namespace: dict[str, Any] = dict(HELPERS)
    namespace.update(gen.consts)
    exec(
        compile(
            "\n".join(gen.lines) + "\n", f"<preemptcheck predicate: {ts.model.name!r}>", "exec"
        ),
        namespace,
    )
    raw: Callable[[int], bool] = namespace["pred"]

    def pred(s: int) -> bool:
        try:
            return raw(s)
        except (_EvalErr, ZeroDivisionError) as exc:
            raise EvalError(str(exc)) from None

    return pred
