"""Candidate invariants for every number of CPUs, guessed from the reachable states of small
instances (NCPU = 1..3), Daikon-style, as engines/_houdini.py guesses them for one instance.

What a candidate speaks of is an atom: an entry of a per-CPU variable (or a word field of
it, or the CPU's place in a `steps:` sequence) of the quantified CPU `c` (and in pairwise
candidates of a second CPU `d`), of a CPU the model names (CPU 0), or of a global variable.
Candidates are the value sets of atoms, the implications `a == x -> b in S` between two
atoms, and equalities; each is stated for every CPU (`all(... for c in cpus)`), or for every
CPU the model does not name where CPU 0 differs, for every pair of distinct CPUs, or
globally. The samples only choose what is worth trying: engines/param/prove.py keeps what
Houdini proves, so an unlucky sample costs proofs, never soundness.
Only this package, engines/_z3expr.py, engines/_houdini.py and engines/symbolic.py import z3.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import z3

from preemptcheck.core import interrupt
from preemptcheck.engines._z3expr import Z, slot_width
from preemptcheck.engines.layout import decode, encode
from preemptcheck.engines.param.encode import Encoding, PState, per_cpu
from preemptcheck.model.ir import Model, Var
from preemptcheck.semantics.reference import Reference
from preemptcheck.semantics.system import State

MAX_VALUES = 8  # an atom with more observed values is described by its interval only
MAX_STATES = 20_000  # reachable states sampled per instance
MAX_CANDIDATES = 3000
FORMS = ("g", "u", "uk", "p", "pk")


@dataclass(frozen=True, slots=True)
class Atom:
    """A quantity: of CPU `c` ("c"), of CPU `d` ("d"), of a named CPU ("k", `cpu`), or of
    a global variable's entry ("g", `entry`); `var` None is the sequence place."""

    var: Var | None
    fld: str | None
    where: str
    cpu: int = 0
    entry: int = 0

    @property
    def width(self) -> int:
        if self.fld is not None:
            assert self.var is not None
            spec = self.var.info.field(self.fld)
            assert spec is not None
            return spec[1]
        return slot_width(self.var.info) if self.var is not None else 0

    @property
    def kind(self) -> tuple[object, ...]:
        if self.fld is not None:
            return ("field",)
        if self.var is None:
            return ("seq",)
        return (self.var.info.kind, self.var.info.type, self.var.info.lo)

    def name(self) -> str | None:
        if self.var is None:
            return None
        v = self.var
        if self.where in ("c", "d"):
            base = f"{v.name}[{self.where}]"
        elif self.where == "k":
            base = f"{v.name}[{self.cpu}]"
        elif v.info.index is None:
            base = v.name
        else:
            base = f"{v.name}[{_literal(v.info.index.values[self.entry])}]"
        return f"{base}.{self.fld}" if self.fld is not None else base

    def show(self, raw: int) -> str:
        if self.fld is not None or self.var is None:
            return str(raw)
        if self.var.info.kind == "word":
            return hex(raw)
        return _literal(decode(self.var.info, raw))

    def is_bool(self) -> bool:
        return self.var is not None and self.fld is None and self.var.info.kind == "bool"


def _literal(v: object) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


@dataclass(frozen=True, slots=True)
class Fact:
    """A candidate: `form` g (global), u (every CPU c), uk (every CPU c not named), p (every
    pair c != d), pk (every pair of CPUs not named); `build(state, c, d)` its body."""

    form: str
    build: Callable[[PState, Z | None, Z | None], Z]
    text: str | None
    key: str


class Miner:
    """Samples the small instances' reachable states and turns them into candidates."""

    def __init__(self, enc: Encoding, instances: list[Model]) -> None:
        self.enc = enc
        self.model = enc.model
        self.instances = instances
        named = set(enc.frag.named)
        self.named = tuple(sorted(named))
        cpu_vars = [v for v in self.model.vars if per_cpu(v.info)]
        glob_vars = [v for v in self.model.vars if not per_cpu(v.info)]
        self.local: dict[str, list[Atom]] = {}
        for w in ("c", "d"):
            atoms = []
            for v in cpu_vars:
                atoms.append(Atom(v, None, w))
                atoms += [Atom(v, f, w) for f, _, width in v.info.fields if width < _bits(v)]
            if enc.codes:
                atoms.append(Atom(None, None, w))
            self.local[w] = atoms
        self.glob: list[Atom] = []
        for v in glob_vars:
            for e in range(len(v.entries)):
                self.glob.append(Atom(v, None, "g", entry=e))
                self.glob += [
                    Atom(v, f, "g", entry=e) for f, _, width in v.info.fields if width < _bits(v)
                ]
        for k in self.named:
            self.glob += [Atom(a.var, a.fld, "k", cpu=k) for a in self.local["c"]]
        self.index = {v.name: i for i, v in enumerate(self.model.vars)}

    # ------------------------------------------------------------ samples

    def states(self) -> list[tuple[int, State]]:
        out: list[tuple[int, State]] = []
        for m in self.instances:
            ref = Reference(m)
            init = ref.initial()
            seen = {init: None}  # a dict: breadth-first order, whatever the hash seed
            queue = deque([init])
            while queue and len(seen) < MAX_STATES and not interrupt.requested():
                for o in ref.outcomes(queue.popleft()):
                    if o.next is not None and o.next not in seen:
                        seen[o.next] = None
                        queue.append(o.next)
            out += [(m.cpus, st) for st in seen]
        return out

    def value(self, a: Atom, st: State, c: int, d: int) -> int:
        if a.var is None:
            cpu = c if a.where == "c" else d if a.where == "d" else a.cpu
            pos = st.seq[cpu]
            if pos is None:
                return 0
            return self.enc.codes[(pos.action, pos.bindings, pos.next)]
        val = st.values[self.index[a.var.name]]
        if a.where == "g":
            raw_val = val if a.var.info.index is None else val[a.entry]
        else:
            cpu = c if a.where == "c" else d if a.where == "d" else a.cpu
            raw_val = val[cpu]
        raw = encode(a.var.info, raw_val)
        if a.fld is not None:
            spec = a.var.info.field(a.fld)
            assert spec is not None
            return (raw >> spec[0]) & ((1 << spec[1]) - 1)
        return raw

    # ------------------------------------------------------------ terms

    def term(self, a: Atom, s: PState, c: Z | None, d: Z | None) -> Z:
        ctx = self.enc.cx.ctx
        cpu = c if a.where == "c" else d if a.where == "d" else z3.IntVal(a.cpu, ctx)
        if a.var is None:
            assert s.seq is not None
            return z3.Select(s.seq, cpu)
        if a.where == "g":
            raw = s.scalars[(a.var.name, a.entry)]
        else:
            raw = z3.Select(s.arrays[a.var.name], cpu)
        if a.fld is not None:
            spec = a.var.info.field(a.fld)
            assert spec is not None
            return z3.Extract(spec[0] + spec[1] - 1, spec[0], raw)
        return raw

    # ------------------------------------------------------------ candidates

    def candidates(self) -> list[Fact]:
        samples = self.states()
        rows: dict[str, list[tuple[State, int, int]]] = {f: [] for f in FORMS}
        for n, st in samples:
            rows["g"].append((st, 0, 0))
            for c in range(n):
                rows["u"].append((st, c, 0))
                if c not in self.named:
                    rows["uk"].append((st, c, 0))
                for d in range(n):
                    if d != c:
                        rows["p"].append((st, c, d))
                        if c not in self.named and d not in self.named:
                            rows["pk"].append((st, c, d))
        out: list[Fact] = []
        seen: set[str] = set()
        for form in FORMS:
            if not rows[form]:
                continue
            if form == "g":
                atoms, need = self.glob, None
            elif form in ("u", "uk"):
                atoms, need = self.local["c"] + self.glob, "c"
            else:
                atoms, need = self.local["c"] + self.local["d"], "cd"
            vals = {a: [self.value(a, st, c, d) for st, c, d in rows[form]] for a in atoms}
            for f in self._facts(form, atoms, vals, need):
                body = f.key.split(":", 1)[1]
                if form in ("uk", "pk") and f"{form[0]}:{body}" in seen:
                    continue  # already stated for every CPU
                if f.key not in seen:
                    seen.add(f.key)
                    out.append(f)
                if len(out) >= MAX_CANDIDATES:
                    return out
        return out

    def _facts(
        self, form: str, atoms: list[Atom], vals: dict[Atom, list[int]], need: str | None
    ) -> list[Fact]:
        out: list[Fact] = []
        for a in atoms:
            if need is None or a.where == "c":
                if need == "cd":
                    continue  # a single CPU's facts are stated for every CPU
                lit = self._member(a, set(vals[a]))
                if lit is not None:
                    out.append(self._fact(form, lit[0], lit[1], [a]))
        for ia, ib in itertools.permutations(range(len(atoms)), 2):
            a, b = atoms[ia], atoms[ib]
            if need == "c" and "c" not in (a.where, b.where):
                continue
            if need == "cd" and (a.where, b.where) != ("c", "d"):
                continue
            va, vb = vals[a], vals[b]
            if (
                a.kind == b.kind
                and a.width == b.width
                and va == vb
                and len(set(va)) > 1
                and ia < ib
            ):
                text = f"{a.name()} == {b.name()}" if a.name() and b.name() else None
                out.append(self._fact(form, self._equal(a, b), text, [a, b]))
            by: dict[int, set[int]] = {}
            for x, y in zip(va, vb, strict=True):
                by.setdefault(x, set()).add(y)
            if len(by) > MAX_VALUES:
                continue
            every = set(vb)
            for x in sorted(by):
                if by[x] == every:
                    continue
                lit = self._member(b, by[x])
                if lit is None:
                    continue
                cond, ctext = self._is(a, x)
                text = None
                if lit[1] is not None and ctext is not None:
                    text = f"implies({ctext}, {lit[1]})"
                out.append(
                    self._fact(
                        form,
                        _implies(cond, lit[0]),
                        text,
                        [a, b],
                        key=f"{a}=={x}->{b}in{sorted(by[x])}",
                    )
                )
        if need != "cd":
            out += self._conditional_equalities(form, atoms, vals, need)
        return out

    def _conditional_equalities(
        self, form: str, atoms: list[Atom], vals: dict[Atom, list[int]], need: str | None
    ) -> list[Fact]:
        """`implies(a == x, b == e)` for two atoms b, e of one (non-Boolean) kind that are
        equal in every sample where a is x (and not in every sample): a value read and not
        yet written back, as `implies(insn, reg == pc[0])`."""
        out: list[Fact] = []
        for ib, ie in itertools.combinations(range(len(atoms)), 2):
            b, e = atoms[ib], atoms[ie]
            if b.kind != e.kind or b.width != e.width or b.is_bool() or b.var is None:
                continue
            eq = [x == y for x, y in zip(vals[b], vals[e], strict=True)]
            if all(eq):
                continue
            for a in atoms:
                if a in (b, e) or (need == "c" and "c" not in (a.where, b.where, e.where)):
                    continue
                same: dict[int, bool] = {}
                for x, ok in zip(vals[a], eq, strict=True):
                    same[x] = same.get(x, True) and ok
                if len(same) > MAX_VALUES:
                    continue
                for x in sorted(k for k, ok in same.items() if ok):
                    cond, ctext = self._is(a, x)
                    text = None
                    if ctext is not None:
                        text = f"implies({ctext}, {b.name()} == {e.name()})"
                    out.append(
                        self._fact(
                            form,
                            _implies(cond, self._equal(b, e)),
                            text,
                            [a, b, e],
                            key=f"{a}=={x}->{b}=={e}",
                        )
                    )
        return out

    def _equal(self, a: Atom, b: Atom) -> Callable[[PState, Z | None, Z | None], Z]:
        return lambda s, c, d: self.term(a, s, c, d) == self.term(b, s, c, d)

    def _is(self, a: Atom, x: int) -> tuple[Callable[[PState, Z | None, Z | None], Z], str | None]:
        def cond(s: PState, c: Z | None, d: Z | None) -> Z:
            t = self.term(a, s, c, d)
            return t == z3.BitVecVal(x, t.size(), self.enc.cx.ctx)

        name = a.name()
        if name is None:
            return cond, None
        if a.is_bool():
            return cond, name if x else f"not {name}"
        return cond, f"{name} == {a.show(x)}"

    def _member(
        self, a: Atom, values: set[int]
    ) -> tuple[Callable[[PState, Z | None, Z | None], Z], str | None] | None:
        """`a` takes one of `values` (None when that says nothing), and its text."""
        full = 1 << a.width if a.var is not None else len(self.enc.codes) + 1
        if len(values) >= full:
            return None
        name = a.name()
        ctx = self.enc.cx.ctx
        if len(values) <= MAX_VALUES:
            vs = sorted(values)

            def member(s: PState, c: Z | None, d: Z | None) -> Z:
                t = self.term(a, s, c, d)
                return z3.Or(*(t == z3.BitVecVal(v, t.size(), ctx) for v in vs))

            text = None
            if name is not None:
                if a.is_bool():
                    text = name if vs == [1] else f"not {name}"
                elif len(vs) == 1:
                    text = f"{name} == {a.show(vs[0])}"
                else:
                    text = f"{name} in [{', '.join(a.show(v) for v in vs)}]"
            return member, text
        lo, hi = min(values), max(values)
        if lo == 0 and hi == (1 << a.width) - 1:
            return None

        def interval(s: PState, c: Z | None, d: Z | None) -> Z:
            t = self.term(a, s, c, d)
            return z3.And(z3.UGE(t, lo), z3.ULE(t, hi))

        text = None
        if name is not None:
            text = f"{name} >= {a.show(lo)} and {name} <= {a.show(hi)}"
        return interval, text

    def _fact(
        self,
        form: str,
        build: Callable[[PState, Z | None, Z | None], Z],
        body: str | None,
        atoms: list[Atom],
        key: str | None = None,
    ) -> Fact:
        return Fact(form, build, self.wrap(form, body), f"{form}:{key or body or repr(atoms)}")

    def wrap(self, form: str, body: str | None) -> str | None:
        """The body stated for every CPU (pair), in model syntax."""
        if body is None:
            return None
        if form == "g":
            return body
        skip = self.named
        if form in ("u", "uk"):
            cond = f" if {_not_named('c', skip)}" if form == "uk" else ""
            return f"all({body} for c in cpus{cond})"
        dcond = "d != c" + (f" and {_not_named('d', skip)}" if form == "pk" else "")
        ccond = f" if {_not_named('c', skip)}" if form == "pk" else ""
        return f"all(all({body} for d in cpus if {dcond}) for c in cpus{ccond})"


Build = Callable[[PState, Z | None, Z | None], Z]


def _implies(a: Build, b: Build) -> Build:
    return lambda s, c, d: z3.Implies(a(s, c, d), b(s, c, d))


def _not_named(v: str, named: tuple[int, ...]) -> str:
    if len(named) == 1:
        return f"{v} != {named[0]}"
    return f"{v} not in [{', '.join(map(str, named))}]"


def _bits(v: Var) -> int:
    return slot_width(v.info)
