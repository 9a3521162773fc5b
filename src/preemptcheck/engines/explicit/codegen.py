"""Generates the explicit engine's successor function from the model, once per model.

One generator, two targets: `Codegen` lowers guards, updates and property checks to
straight-line code and emits it for CPython (this module); `native.NativeCodegen` overrides
only the hooks marked *target* below (how a slot is read and written, how a successor or an
event is recorded, how an evaluation error is caught) to emit the same code for numba.

Python target:

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
from preemptcheck.semantics.system import SpecStep, TransitionSystem

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
        # None in a model whose properties were narrowed without the built-in `range`
        self.range_pi = next(
            (i for i, p in enumerate(self.props) if p.kind == PropKind.RANGE), None
        )
        self.sid = -1  # the step being generated

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
            return f"_oob({self.where(var)}, {index.value!r})", None
        if isinstance(dom.type, EnumT):
            return self.ex(index), None
        lo = dom.values[0]
        return f"_ix({self.ex(index)}, {lo}, {len(dom.values)}, {self.where(var)})", None

    def where(self, var: VarInfo) -> str:  # target
        """The last argument of _ix and _oob: what an index error names."""
        return repr(var.name)

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
            return self.member(e)
        if isinstance(e, IfExp):
            return f"({self.ex(e.then)} if {self.ex(e.cond)} else {self.ex(e.orelse)})"
        if isinstance(e, Call):
            if e.fn == "implies":
                return f"((not {self.ex(e.args[0])}) or {self.ex(e.args[1])})"
            return f"{e.fn}({', '.join(self.ex(a) for a in e.args)})"
        assert not isinstance(e, Agg | Bound), "aggregates and bound names are folded away"
        raise AssertionError(type(e))

    def member(self, e: Member) -> str:  # target
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

    # ------------------------------------------------------------ target hooks

    def read_bits(self, offset: int, width: int) -> str:  # target
        """The unsigned value of `width` bits at `offset` of the packed state `s`."""
        return f"((s >> {offset}) & {(1 << width) - 1})"

    def write_bits(self, depth: int, offset: int, width: int, value: str) -> None:  # target
        """`ns` with its `width` bits at `offset` replaced by `value` (in range, unsigned)."""
        mask = (1 << width) - 1
        self.emit(depth, f"ns = (ns & ~({mask << offset})) | ({value} << {offset})")

    def write_entry(
        self, depth: int, offsets: tuple[int, ...], pos: str, shift: int, width: int, value: str
    ) -> None:  # target
        """Like write_bits, at `offsets[pos] + shift` for a position known only at run time."""
        self.emit(depth, f"o_ = {self.const(offsets)}[{pos}] + {shift}")
        mask = (1 << width) - 1
        self.emit(depth, f"ns = (ns & ~({mask} << o_)) | ({value} << o_)")

    def fail(self, depth: int, message: str) -> None:  # target
        """An evaluation error; `message` is code for the string the reference semantics gives."""
        self.emit(depth, f"raise _EvalErr({message})")

    def active(self, pi: int) -> str:  # target
        # `active >> pi & 1`, not `active & (1 << pi)`: with thousands of properties the
        # mask would be a literal of thousands of digits on every line
        return f"active >> {pi} & 1"

    def event(self, depth: int, pi: int, sid: int, cpu: int, message: str | None) -> None:
        # target
        self.emit(depth, f"ev.append(({pi}, {sid}, {cpu}, {message or 'None'}))")

    def successor(self, depth: int, sid: int) -> None:  # target
        self.emit(depth, f"out.append(ns); out.append({sid})")

    def catch(self, depth: int, prefix: str) -> str | None:  # target
        """Opens the handler of an evaluation error; returns code for its message."""
        self.emit(depth, "except _ERRS as x:")
        self.emit(depth + 1, f"m = _msg({prefix!r}, x)")
        return "m"

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
                self.emit(1, f"v{i} = {self.read_bits(slot.offset, slot.width)}{extra}")
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
        self.header()
        self.prologue()
        self.locals_init()
        self.lines.extend(body)
        self.footer()
        return "\n".join(self.lines) + "\n"

    def prologue(self) -> None:
        """Every slot of the state, and every CPU's sequence position, in a local."""
        self.unpack_lines()
        for cpu, (off, w) in enumerate(self.layout.seq_slots):
            self.emit(1, f"q{cpu} = {self.read_bits(off, w)}" if w else f"q{cpu} = 0")

    def header(self) -> None:  # target
        self.emit(0, "def expand(s, active, cov):")

    def locals_init(self) -> None:  # target
        self.emit(1, "out = []")
        self.emit(1, "ev = []")
        self.emit(1, "en = 0")
        for ai in range(len(self.ts.model.actions)):
            self.emit(1, f"c{ai} = 0")

    def footer(self) -> None:  # target
        for ai in range(len(self.ts.model.actions)):
            self.emit(1, f"if c{ai}: cov[{ai}] += 1")
        self.emit(1, "return out, ev, en")

    def copy_state(self, depth: int) -> None:  # target
        self.emit(depth, "ns = s")

    def enabled(self, depth: int, ai: int | None) -> None:  # target
        """The state enables a step (the first of action `ai`, when not None)."""
        self.emit(depth, "en = 1")
        if ai is not None:
            self.emit(depth, f"c{ai} = 1")

    def protect(
        self,
        depth: int,
        test: str,
        body: Callable[[int], None],
        handler: Callable[[int, str | None], None],
        prefix: str,
    ) -> None:  # target
        """`if test: body`, where an evaluation error anywhere runs `handler` instead of what
        was left to do (handler(depth, code for the message, prefixed by `prefix`))."""
        self.emit(depth, "try:")
        self.emit(depth + 1, f"if {test}:")
        body(depth + 2)
        handler(depth + 1, self.catch(depth, prefix))

    def finish(self, depth: int, sid: int, handler: Callable[[int, str | None], None]) -> None:
        """The end of a protected step: its successor (`handler` if an error is pending)."""
        self.successor(depth, sid)

    def cond(self, e: Expr) -> str:  # target
        """A test inside a protected step, after which no error may be pending."""
        return self.ex(e)

    def _record(self, depth: int, pi: int, sid: int, cpu: int, cond: str | None) -> None:
        test = self.active(pi) if cond is None else f"{cond} and {self.active(pi)}"
        self.emit(depth, f"if {test}:")
        self.event(depth + 1, pi, sid, cpu, None)

    def _errors(self, sid: int, cpu: int, pi: int | None) -> Callable[[int, str | None], None]:
        """An evaluation error is a `range` event, and an event of the property being evaluated
        (whose verdict cannot then be `holds`)."""

        def handler(depth: int, message: str | None) -> None:
            for p in (self.range_pi, pi):
                if p is not None:
                    self.emit(depth, f"if {self.active(p)}:")
                    self.event(depth + 1, p, sid, cpu, message)

        return handler

    def _state_props(self) -> None:
        for sp in self.ts.state_props:
            prop = self.props[sp.prop_index]
            cond = self.ex(sp.expr)
            if prop.kind == PropKind.INVARIANT:
                cond = f"(not {cond})"
            pi = sp.prop_index

            def body(depth: int, pi: int = pi, cpu: int = sp.cpu) -> None:
                self.event(depth, pi, -1, cpu, None)

            self.protect(
                1,
                f"{cond} and {self.active(pi)}",
                body,
                self._errors(-1, sp.cpu, pi),
                f"evaluating property {prop.id}: ",
            )

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
        handler = self._errors(step.sid, cpu, None)
        self.sid = step.sid

        def check(pi: int, when: Expr, depth: int) -> None:
            def body(d: int) -> None:
                self.event(d, pi, step.sid, cpu, None)

            self.protect(
                depth,
                f"({self.ex(when)}) and {self.active(pi)}",
                body,
                self._errors(step.sid, cpu, pi),
                f"evaluating property {self.props[pi].id}: ",
            )

        def body(depth: int) -> None:
            self.enabled(depth, ai if k == 0 else None)
            for pi, when in (*step.never, *step.reach):
                if when is None:
                    self._record(depth, pi, step.sid, cpu, None)
                else:
                    check(pi, when, depth)
            self.copy_state(depth)
            inner = depth
            if step.cond is not None:
                self.emit(depth, f"if {self.cond(step.cond)}:")
                inner = depth + 1
            self._writes(inner, step)
            if seq:
                off, w = self.layout.seq_slots[cpu]
                self.write_bits(depth, off, w, str(codes.get((ii, k + 1), 0)))
            self.finish(depth, step.sid, handler)

        self.emit(1, f"# sid {step.sid}: {step.label}")
        self.protect(1, " and ".join(tests) if tests else "True", body, handler, "")

    def _writes(self, depth: int, step: SpecStep) -> None:
        if not step.assigns:
            self.emit(depth, "pass")
            return
        # temporaries are named per step: one name keeps one type in a numba function
        tag = f"{step.sid}_"
        positions: list[tuple[str, int | None]] = []
        for j, a in enumerate(step.assigns):
            t = a.target
            if t.index is None:
                positions.append(("0", 0))
            else:
                code, pos = self.position(t.var, t.index)
                if pos is None:
                    self.emit(depth, f"p{tag}{j} = {code}")
                    positions.append((f"p{tag}{j}", None))
                else:
                    positions.append((code, pos))
            self.emit(depth, f"n{tag}{j} = {self.ex(a.value)}")
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
                        self.fail(depth, msg)
                else:
                    self.emit(depth, f"if {cj} == {ci}:")
                    self.fail(depth + 1, msg)
        for j, a in enumerate(step.assigns):
            self._write(depth, f"n{tag}{j}", a.target, positions[j])

    def _write(self, depth: int, n: str, t: Target, position: tuple[str, int | None]) -> None:
        var = t.var
        code, pos = position
        stride = self.layout.slot(var.name, 0).width  # every entry has the variable's width
        if pos is not None:
            where = repr(_where(t, pos))
        else:
            assert var.index is not None
            vals = self.const(tuple(str(v) for v in var.index.values))
            where = f"'{var.name}[' + {vals}[{code}] + ']'" + (f" + '.{t.fld}'" if t.fld else "")
        shift, width = 0, stride
        if t.fld is not None:
            spec = var.field(t.fld)
            assert spec is not None
            shift, width = spec
            self.emit(depth, f"if not 0 <= {n} <= {(1 << width) - 1}:")
            self.fail(
                depth + 1, f"'assigns ' + str({n}) + ' to ' + {where} + ', a {width}-bit field'"
            )
            enc = n
        elif var.kind == "bool":
            enc = f"(1 if {n} else 0)"
        elif var.kind == "word":
            enc = f"({n} & {(1 << stride) - 1})"
        elif isinstance(var.type, IntT):
            self.emit(depth, f"if not {var.lo} <= {n} <= {var.hi}:")
            self.fail(
                depth + 1,
                f"'assigns ' + str({n}) + ' to ' + {where} + ', range [{var.lo}, {var.hi}]'",
            )
            enc = f"({n} - {var.lo})" if var.lo else n
        else:
            enc = n
        if width == 0:
            return
        if pos is not None:
            self.write_bits(depth, self.layout.slot(var.name, pos).offset + shift, width, enc)
        else:
            self.write_entry(depth, self.layout.entry_offsets(var.name), code, shift, width, enc)


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
