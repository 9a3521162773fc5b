"""The native target: the same lowering as the Python successor function, emitted for numba.

`NativeCodegen` overrides only Codegen's target hooks. A state is `words` uint64s (the
packed integer of engines.layout, cut into 64-bit words; a slot may straddle two). Values
are int64, which bounds.int64_exact has shown to be exact for the model. Evaluation errors
are caught as in the Python target but carry no message: the search asks the Python target
for the message of the one event it reports (the same generated checks, in the same order).

The generated module is written to the user cache directory under a name that hashes its
source and the library versions, and numba caches its machine code beside it, so the second
run of a model does not compile again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from preemptcheck.engines.explicit.codegen import Codegen
from preemptcheck.engines.layout import Layout
from preemptcheck.engines.symmetry import Canonicalizer
from preemptcheck.expr.ast import Binary, Expr, Member, VarInfo
from preemptcheck.semantics.system import TransitionSystem

M64 = (1 << 64) - 1
PART_LINES = 150
META = 4  # meta: events, enabled, error flag, successors; then a flag per action
_HELPER = {"<<": "_shl", ">>": "_shr", "//": "_div", "%": "_mod"}


class NativeCodegen(Codegen):
    def __init__(self, ts: TransitionSystem, layout: Layout) -> None:
        super().__init__(ts, layout)
        self.words = max(1, (layout.bits + 63) // 64)
        self.max_succ = 0
        self.max_events = 0
        self.uints: dict[str, int] = {}

    def member(self, e: Member) -> str:
        # no `:=` in numba: the argument is evaluated again per option (expressions are
        # pure, and an argument that fails fails at the first comparison as in Python)
        arg = self.ex(e.arg)
        chain = "(" + " or ".join(f"{arg} == {self.ex(o)}" for o in e.options) + ")"
        return f"(not {chain})" if e.negate else chain

    def read_bits(self, offset: int, width: int) -> str:
        w, r = divmod(offset, 64)
        mask = (1 << width) - 1
        if r + width <= 64:
            return f"_i((s{w} >> {self.u(r)}) & {self.u(mask)})"
        return f"_i(((s{w} >> {self.u(r)}) | (s{w + 1} << {self.u(64 - r)})) & {self.u(mask)})"

    # numba's SSA passes take time proportional to the blocks of the function for each
    # variable assigned more than once: the code assigns every local once. A step builds its
    # successor in its row of `out` (committed by advancing meta[3]), and the counters that
    # every step updates live in `meta`.

    def u(self, value: int) -> str:
        """A uint64 constant: a module global, which numba folds (a call to np.uint64 at each
        use costs it typing time)."""
        name = f"U{value}"
        self.uints[name] = value
        return name

    def ns(self, w: int) -> str:
        return f"out[r{self.sid}, {w}]" if self.sid >= 0 else f"ns{w}"

    def write_bits(self, depth: int, offset: int, width: int, value: str) -> None:
        w, r = divmod(offset, 64)
        mask = (1 << width) - 1
        keep = ~(mask << r) & M64
        if self.sid < 0:
            a = self.ns(w)
            self.emit(depth, f"{a} = ({a} & {self.u(keep)}) | (_u({value}) << {self.u(r)})")
            assert r + width <= 64, "canon blocks are read from one word"
            return
        # a call to a compiled helper costs numba less than the two array accesses inline
        self.emit(depth, f"_put(out, r{self.sid}, {w}, {self.u(keep)}, {value}, {r})")
        if r + width > 64:  # the high bits in the next word
            keep = ~(mask >> (64 - r)) & M64
            self.emit(
                depth, f"_put_high(out, r{self.sid}, {w + 1}, {self.u(keep)}, {value}, {64 - r})"
            )

    def write_entry(
        self, depth: int, offsets: tuple[int, ...], pos: str, shift: int, width: int, value: str
    ) -> None:
        for k, off in enumerate(offsets):
            self.emit(depth, f"{'if' if k == 0 else 'elif'} {pos} == {k}:")
            self.write_bits(depth + 1, off + shift, width, value)

    # Evaluation errors without exceptions (a try block costs numba seconds to compile):
    # a failing operation sets the flag meta[2] and yields 0, so what follows is computed
    # on a harmless value; the flag is tested where the Python target's handler would run.

    def fail(self, depth: int, message: str) -> None:
        self.emit(depth, "meta[2] = 1")

    def ex(self, e: Expr) -> str:
        if isinstance(e, Binary) and e.op in _HELPER:
            return f"{_HELPER[e.op]}({self.ex(e.left)}, {self.ex(e.right)}, meta)"
        return super().ex(e)

    def where(self, var: VarInfo) -> str:
        return "meta"  # the error flag, not a message

    def protect(
        self,
        depth: int,
        test: str,
        body: Callable[[int], None],
        handler: Callable[[int, str | None], None],
        prefix: str,
    ) -> None:
        # the test is a branch condition, not a value: `a and b` as a value would be a
        # variable assigned in two blocks
        self.emit(depth, "meta[2] = 0")
        self.emit(depth, f"if {test}:")
        self.emit(depth + 1, "if meta[2]:")
        handler(depth + 2, "1")
        self.emit(depth + 2, "meta[2] = 0")
        self.emit(depth + 1, "else:")
        body(depth + 2)
        self.emit(depth, "elif meta[2]:")
        handler(depth + 1, "1")
        self.emit(depth + 1, "meta[2] = 0")

    def finish(self, depth: int, sid: int, handler: Callable[[int, str | None], None]) -> None:
        self.emit(depth, "if meta[2]:")
        handler(depth + 1, "1")
        self.emit(depth + 1, "meta[2] = 0")
        self.emit(depth, "else:")
        self.successor(depth + 1, sid)

    def active(self, pi: int) -> str:
        return f"active[{pi}]"

    def event(self, depth: int, pi: int, sid: int, cpu: int, message: str | None) -> None:
        self.max_events += 1
        err = 0 if message is None else 1
        self.emit(depth, f"_event(ev, meta, {pi}, {sid}, {cpu}, {err})")

    def successor(self, depth: int, sid: int) -> None:
        self.max_succ += 1
        self.emit(depth, f"sids[r{sid}] = {sid}; meta[3] = r{sid} + 1")

    def enabled(self, depth: int, ai: int | None) -> None:
        self.emit(depth, "meta[1] = 1")
        if ai is not None:
            self.emit(depth, f"meta[{META + ai}] = 1")

    def copy_state(self, depth: int) -> None:
        self.emit(depth, f"r{self.sid} = meta[3]")
        self.emit(depth, "; ".join(f"{self.ns(w)} = s{w}" for w in range(self.words)))

    def generate(self) -> str:
        """The Python target's function cut into parts of about PART_LINES lines at its top
        level: numba's front end takes time superlinear in a function's size. Parts share
        nothing but the arrays (every counter is in `meta`), and `expand` calls each."""
        self._state_props()
        self._steps()
        body, self.lines = self.lines, []
        parts: list[list[str]] = [[]]
        for line in body:
            top = line.startswith("    ") and not line.startswith(("     ", "    el"))
            if top and len(parts[-1]) >= PART_LINES:
                parts.append([])
            parts[-1].append(line)
        if len(parts) == 1:  # one function: numba's cost per function is paid once
            self.emit(0, "def expand(s, active, out, sids, ev, cov, meta):")
            self.header()
            self.prologue()
            self.locals_init()
            self.lines.extend(parts[0])
            self.footer()
            return "\n".join(self.lines) + "\n"
        self.header()
        self.prologue()
        preamble, self.lines = self.lines, []
        for k, part in enumerate(parts):
            self.emit(0, "@njit(PART_SIG, cache=True)")
            self.emit(0, f"def part{k}(s, active, out, sids, ev, meta):")
            self.lines.extend(_needed(preamble, part))
            self.lines.extend(part or ["    pass"])
            self.emit(0, "")
        self.emit(0, "def expand(s, active, out, sids, ev, cov, meta):")
        self.locals_init()
        for k in range(len(parts)):
            self.emit(1, f"part{k}(s, active, out, sids, ev, meta)")
        self.footer()
        return "\n".join(self.lines) + "\n"

    def header(self) -> None:
        for w in range(self.words):
            self.emit(1, f"s{w} = s[{w}]")

    def locals_init(self) -> None:
        self.emit(1, "meta[0] = 0; meta[1] = 0; meta[2] = 0; meta[3] = 0")

    def footer(self) -> None:
        self.sid = -1
        self.emit(1, f"for a in range({len(self.ts.model.actions)}):")
        self.emit(2, f"if meta[{META} + a]:")
        self.emit(3, "cov[a] += 1")
        self.emit(3, f"meta[{META} + a] = 0")
        self.emit(1, "return meta[3]")

    def canon_source(self, sym: Canonicalizer | None) -> str:
        """`canon(w)`: the orbit representative of state `w`, in place, and the orbit's size.

        Exactly Canonicalizer.canon for sortable classes: each class's blocks sorted as
        unsigned integers, smallest at the lowest offset."""
        lines = ["def canon(w):"]
        if sym is None:
            return ""  # store.no_canon
        words = self.words
        lines.append("    " + "; ".join(f"s{k} = w[{k}]" for k in range(words)))
        lines.append("    " + "; ".join(f"ns{k} = s{k}" for k in range(words)))
        lines.append("    orbit = 1")
        body = self.lines
        for ci, (offs, mask) in enumerate(sym.blocks):
            width = mask.bit_length()
            n = len(offs)
            names = [f"b{ci}_{j}" for j in range(n)]
            for name, off in zip(names, offs, strict=True):
                lines.append(f"    {name} = {self.read_bits(off, width)}")
            lines.append(f"    t = np.empty({n}, np.int64)")
            for j, name in enumerate(names):
                lines.append(f"    t[{j}] = {name}")
            lines.append("    t.sort()")
            self.lines = []
            for j, off in enumerate(offs):
                self.write_bits(1, off, width, f"t[{j}]")
            lines.extend(self.lines)
            lines.append(f"    orbit *= _FACT[{n}]")
            lines.append("    run = 1")
            lines.append(f"    for j in range(1, {n}):")
            lines.append("        if t[j] == t[j - 1]:")
            lines.append("            run += 1")
            lines.append("            orbit //= run")
            lines.append("        else:")
            lines.append("            run = 1")
        self.lines = body
        lines.append("    " + "; ".join(f"w[{k}] = ns{k}" for k in range(words)))
        lines.append("    return orbit")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class NativeCode:
    expand: Any  # a numba dispatcher: expand(s, active, out, sids, ev, cov, meta) -> n
    canon: Any  # canon(w) -> orbit size; the identity without symmetry
    words: int
    max_succ: int
    max_events: int


_NAME = re.compile(r"[A-Za-z_]\w*")


def _needed(preamble: list[str], body: list[str]) -> list[str]:
    """The lines of `preamble` (each `name = expression`: the state's words, slots, tuples
    and sequence positions read into locals) that `body` uses, directly or through another
    kept line. A part reads a few of a model's variables; numba types every statement of a
    function, used or not, and these were a large share of a part's compile time."""
    used = {m.group() for line in body for m in _NAME.finditer(line)}
    kept: list[str] = []
    for line in reversed(preamble):
        name, _, value = line.strip().partition(" = ")
        if name in used:
            kept.append(line)
            used.update(m.group() for m in _NAME.finditer(value))
    return kept[::-1]


def native_unsupported(
    ts: TransitionSystem, layout: Layout, sym: Canonicalizer | None
) -> str | None:
    """Why this model cannot run natively (None: it can)."""
    from preemptcheck.engines.explicit.bounds import int64_exact

    if sym is not None:
        if not sym.sortable:
            return "its CPU symmetry needs permutations tried per state"
        if any(mask.bit_length() > 62 for _, mask in sym.blocks):
            return "a CPU's slice of the state is wider than 62 bits"
        if any(off % 64 + mask.bit_length() > 64 for offs, mask in sym.blocks for off in offs):
            # canon() reads and writes each CPU's slice within one 64-bit word
            return "a CPU's slice of the state straddles two 64-bit words"
        if any(math.factorial(len(cls)) >= 1 << 63 for cls in sym.classes):
            # orbit sizes are counted in int64, with n! for n interchangeable CPUs (store._FACT)
            return "more than 20 interchangeable CPUs (21! does not fit in 64 bits)"
    return int64_exact(ts, (s.width for s in layout.slots))


def cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "preemptcheck", "native")


def compile_native(ts: TransitionSystem, layout: Layout, sym: Canonicalizer | None) -> NativeCode:
    """Generate, write and load the model's native module (compiled now, or from the cache)."""
    gen = NativeCodegen(ts, layout)
    body = gen.generate()
    canon = gen.canon_source(sym)
    head = [
        "# generated by preemptcheck from model " + repr(ts.model.name),
        "import numpy as np",
        "from numba import njit",
        "from preemptcheck.engines.explicit.store import (",
        "    CANON_SIG, EXPAND_SIG, PART_SIG, _FACT, no_canon,",
        "    _div, _event, _i, _ix, _mod, _oob, _put, _put_high, _shl, _shr, _u,",
        ")",
        *(f"{k} = {v!r}" for k, v in gen.consts.items()),
        *(f"{k} = np.uint64({v})" for k, v in sorted(gen.uints.items())),
        "",
    ]
    tail = [
        "expand = njit(EXPAND_SIG, cache=True)(expand)",
        "canon = njit(CANON_SIG, cache=True)(canon)" if canon else "canon = no_canon",
        "",
    ]
    source = "\n".join(head) + "\n" + body + "\n" + canon + "\n" + "\n".join(tail)
    module = _load(source, "m")
    return NativeCode(
        module.expand,
        module.canon,
        gen.words,
        max(gen.max_succ, 1),
        max(gen.max_events, 1),
    )


CompileFn = Callable[[TransitionSystem, Layout, Canonicalizer | None], NativeCode]


def _load(source: str, tag: str) -> Any:
    """Write `source` to the code cache (named by its hash and the library versions) and
    import it; numba keeps the machine code beside it."""
    import numba

    from preemptcheck.core.version import __version__
    from preemptcheck.engines.explicit import store

    key = hashlib.sha256(
        "\0".join((source, numba.__version__, __version__, sys.version, store.ABI)).encode()
    ).hexdigest()[:24]
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, f"{tag}_{key}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(source)
        os.replace(tmp, path)  # atomic: a concurrent run reads the old or the new file whole
    name = f"preemptcheck_native_{tag}_{key}"
    if name in sys.modules:  # loaded earlier in this process
        return sys.modules[name]
    with _compile_lock(path):  # another process compiling it: wait, then load its result
        try:
            return _import(name, path)
        except Exception:
            stale = os.path.join(root, "__pycache__")
            for entry in os.listdir(stale) if os.path.isdir(stale) else ():
                if entry.startswith(f"{tag}_{key}."):
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(stale, entry))
            return _import(name, path)


@contextlib.contextmanager
def _compile_lock(path: str) -> Iterator[None]:
    """An exclusive lock on the module's lock file while it is compiled or loaded, so that
    two runs of one model at once (two terminals, two test workers) compile it once: the
    second waits and loads the first's machine code. The system releases it if the
    process dies; without fcntl (Windows) there is no lock, only duplicated work."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(f"{path}.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _import(name: str, path: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # numba's disk cache finds the functions' module by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def compile_native_predicate(ts: TransitionSystem, layout: Layout, e: Expr) -> Any:
    """`holds(states, n, out)`: out[i] = 1 where the folded expression `e` holds in state i,
    0 where not, 2 where it cannot be evaluated (codegen.compile_predicate over an array)."""
    gen = NativeCodegen(ts, layout)
    body = gen.ex(e)
    gen.lines = []
    gen.emit(0, "def holds(states, n, out):")
    gen.emit(1, "meta = np.zeros(3, np.int64)")
    gen.emit(1, "for i in range(n):")
    inner = len(gen.lines)
    for w in range(gen.words):
        gen.emit(1, f"s{w} = states[i, {w}]")
    gen.unpack_lines()
    gen.lines[inner:] = ["    " + line for line in gen.lines[inner:]]
    gen.emit(2, "meta[2] = 0")
    gen.emit(2, f"x = {body}")
    gen.emit(2, "out[i] = 2 if meta[2] else (1 if x else 0)")
    source = "\n".join(
        [
            "# generated by preemptcheck: a predicate of model " + repr(ts.model.name),
            "import numpy as np",
            "from numba import njit",
            "from preemptcheck.engines.explicit.store import (",
            "    _div, _i, _ix, _mod, _oob, _shl, _shr, _u,",
            ")",
            *(f"{k} = {v!r}" for k, v in gen.consts.items()),
            *(f"{k} = np.uint64({v})" for k, v in sorted(gen.uints.items())),
            "",
            *gen.lines,
            "",
            "holds = njit(cache=True)(holds)",
            "",
        ]
    )
    return _load(source, "p").holds
