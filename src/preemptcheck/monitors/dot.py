"""The kernel's RV automata in Graphviz DOT (rvgen's dialect) -> a frozen, located Automaton."""

from __future__ import annotations

import bisect
import itertools
import os
import re
from dataclasses import dataclass, field
from typing import NoReturn

from preemptcheck.core.errors import Code, Collector, Diagnostic, ModelError, did_you_mean
from preemptcheck.core.source import Span, UnreadableError, read_source, show_path

OPS = ("<", ">", "<=", ">=", "==", "!=")
INIT_MARKER = "__init_"  # a node `__init_X` marks X as the initial state (rvgen's automata.py)
FINAL_SHAPES = frozenset({"doublecircle", "ellipse"})
SEP = "\\n"  # the two characters backslash and n: between events, and before an invariant


@dataclass(frozen=True, slots=True)
class Comparison:
    """One hybrid-automaton comparison, `irq_off == 1`."""

    var: str
    op: str
    value: int | str  # a plain number, else its text: 10us, CONST, MACRO(), param, func()
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Guard:
    """A disjunction of conjunctions, as `a && b || c` parses; `true` is ((),)."""

    alternatives: tuple[tuple[Comparison, ...], ...]
    text: str
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Edge:
    src: str
    event: str
    dst: str
    guard: Guard | None
    resets: tuple[str, ...]  # clocks reset on this edge: reset(clk)
    span: Span = field(compare=False, repr=False)  # where the event is written in the label


@dataclass(frozen=True, slots=True)
class Automaton:
    """A deterministic (or hybrid) automaton as rvgen reads it from a .dot file."""

    name: str  # the file's basename without .dot/.gv
    file: str
    states: tuple[str, ...]  # the initial state first, the others sorted
    initial: str
    finals: frozenset[str]
    events: tuple[str, ...]  # sorted
    edges: tuple[Edge, ...]  # one per (src, event), in file order
    invariants: tuple[tuple[str, str, Span], ...]  # (state, invariant text, span)
    clocks: tuple[str, ...]  # sorted: reset on an edge or named in an invariant
    span: Span = field(compare=False, repr=False)  # the `digraph` keyword
    _table: dict[tuple[str, str], Edge] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_table", {(e.src, e.event): e for e in self.edges})

    def step(self, state: str, event: str) -> Edge | None:
        """The edge `event` takes from `state`, or None: the monitor's error (a reaction)."""
        return self._table.get((state, event))


def load_automaton(path: str) -> Automaton:
    """Read and parse one .dot file; raises ModelError (PC001 when it cannot be read)."""
    try:
        text = read_source(path)
    except UnreadableError as exc:
        shown = show_path(path)
        code = Code.TOO_LARGE if exc.too_large else Code.CANNOT_READ
        message = f"no such file: {shown}" if exc.missing else f"cannot read {shown}: {exc.reason}"
        raise ModelError([Diagnostic(code, message, Span(path, 0, 0))]) from None
    return parse_automaton(text, path)


def parse_automaton(text: str, file: str) -> Automaton:
    """Parse the text of a .dot automaton; raises ModelError with PC114 diagnostics."""
    src = _Source(text, file)
    diags = Collector()
    tokens = _tokenize(src, diags)
    diags.raise_if_any()
    parser = _Parser(src, tokens)
    digraph = parser.parse()
    return _Builder(src).build(digraph, parser.nodes, parser.edges)


# --- tokens ---------------------------------------------------------------------------------

_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines' line boundaries
_PUNCT = "{}[]=;,"
_LETTER = "A-Za-z_\u00a0-\u2027\u202a-\U0010ffff"
_ID = re.compile(f"[{_LETTER}][{_LETTER}0-9]*")
_NUMERAL = re.compile(r"-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)")
_KEYWORDS = frozenset({"node", "edge", "graph", "digraph", "subgraph", "strict"})
_MAX_LEX_ERRORS = 20


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "id", "str", "->", one of _PUNCT, "eof"
    text: str  # an id's text; a string's contents as written (escapes kept)
    start: int  # offsets in the source
    end: int

    @property
    def body(self) -> int:
        """The offset of text[0] in the source."""
        return self.start + 1 if self.kind == "str" else self.start


class _Source:
    """The text, with its line starts to turn offsets into spans."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.starts = [0]
        for line in text.splitlines(keepends=True):
            if line[-1] in _BREAKS:
                self.starts.append(self.starts[-1] + len(line))

    def span(self, offset: int, length: int = 1) -> Span:
        line = bisect.bisect_right(self.starts, offset)
        return Span(self.file, line, offset - self.starts[line - 1] + 1, max(length, 1))

    def at(self, tok: _Tok) -> Span:
        return self.span(tok.start, tok.end - tok.start)

    def where(self, tok: _Tok) -> str:
        span = self.at(tok)
        return f"{span.line}:{span.col}"


def _tokenize(src: _Source, diags: Collector) -> list[_Tok]:
    text, n, i = src.text, len(src.text), 0
    toks: list[_Tok] = []
    line_start = True  # only blanks since the last line break (for `#` lines)
    while i < n and len(diags.diagnostics) < _MAX_LEX_ERRORS:
        c = text[i]
        if c in _BREAKS or c in " \t":
            line_start = line_start or c in _BREAKS
            i += 1
            continue
        if (c == "#" and line_start) or text.startswith("//", i):
            while i < n and text[i] not in _BREAKS:
                i += 1
            continue
        line_start = False
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                diags.error(
                    Code.DOT_SYNTAX, "an unterminated comment: '/*' has no '*/'", src.span(i, 2)
                )
                break
            i = end + 2
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                diags.error(Code.DOT_SYNTAX, "an unterminated string: no closing '\"'", src.span(i))
                break
            toks.append(_Tok("str", text[i + 1 : j], i, j + 1))
            i = j + 1
        elif text.startswith("->", i):
            toks.append(_Tok("->", "->", i, i + 2))
            i += 2
        elif text.startswith("--", i):
            message = "'--' is an undirected edge: the edges of a digraph are '->'"
            diags.error(Code.DOT_SYNTAX, message, src.span(i, 2))
            i += 2
        elif c in _PUNCT:
            toks.append(_Tok(c, c, i, i + 1))
            i += 1
        elif m := _ID.match(text, i) or _NUMERAL.match(text, i):
            end = m.end()
            if m.re is _NUMERAL and (tail := _ID.match(text, end)):
                where = src.span(i, tail.end() - i)
                diags.error(Code.DOT_SYNTAX, "a number runs into a name: quote it", where)
                end = tail.end()
            toks.append(_Tok("id", text[i:end], i, end))
            i = end
        else:
            diags.error(Code.DOT_SYNTAX, f"unexpected character {c!r}", src.span(i))
            i += 1
    eof = len(text.rstrip(" \t" + _BREAKS))
    toks.append(_Tok("eof", "", eof, eof))
    return toks


def _show(tok: _Tok) -> str:
    if tok.kind == "eof":
        return "the end of the file"
    text = tok.text if len(tok.text) <= 40 else tok.text[:37] + "..."
    return f'"{text}"' if tok.kind == "str" else f"'{text}'"


# --- syntax ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _NodeStmt:
    name: _Tok
    attrs: dict[str, _Tok]  # with the block's `node [...]` defaults
    own: dict[str, _Tok]  # written on the statement itself (rvgen reads labels only there)


@dataclass(frozen=True, slots=True)
class _EdgeStmt:
    src: _Tok
    dst: _Tok
    attrs: dict[str, _Tok]


class _Parser:
    """`digraph state_automaton { stmt* }`, blocks nested without recursion."""

    def __init__(self, src: _Source, toks: list[_Tok]) -> None:
        self.src = src
        self.toks = toks
        self.pos = 0
        self.nodes: list[_NodeStmt] = []
        self.edges: list[_EdgeStmt] = []

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += tok.kind != "eof"
        return tok

    def fail(self, tok: _Tok, message: str) -> NoReturn:
        raise ModelError([Diagnostic(Code.DOT_SYNTAX, message, self.src.at(tok))])

    def name(self, what: str) -> _Tok:
        tok = self.take()
        if tok.kind == "id" and tok.text.lower() in _KEYWORDS:
            self.fail(tok, f"'{tok.text}' is a DOT keyword: quote it to use it as {what}")
        if tok.kind not in ("id", "str"):
            self.fail(tok, f"expected {what}, found {_show(tok)}")
        return tok

    def parse(self) -> _Tok:
        """Parse the whole file; returns the `digraph` keyword."""
        expected = "rvgen expects the file to start with `digraph state_automaton {`"
        digraph = self.take()
        if digraph.kind != "id" or digraph.text != "digraph":
            self.fail(digraph, f"{expected}, found {_show(digraph)}")
        name = self.take()
        if name.kind != "id" or name.text != "state_automaton":
            self.fail(
                name, f"{expected}: the graph must be named state_automaton, not {_show(name)}"
            )
        brace = self.take()
        if brace.kind != "{":
            self.fail(brace, f"{expected}, found {_show(brace)} where '{{' belongs")
        self.body(brace)
        return digraph

    def body(self, brace: _Tok) -> None:
        # one entry per open block: its '{', its node defaults, its edge defaults
        blocks: list[tuple[_Tok, dict[str, _Tok], dict[str, _Tok]]] = [(brace, {}, {})]
        while blocks:
            opened, node_defaults, edge_defaults = blocks[-1]
            tok = self.take()
            if tok.kind == "eof":
                self.fail(
                    tok,
                    f"the file ends before the '}}' that closes the '{{' at "
                    f"{self.src.where(opened)}",
                )
            elif tok.kind == "}":
                blocks.pop()
                if blocks and self.peek().kind == "->":
                    self.fail(self.peek(), "an edge from a block: edges join two named states")
            elif tok.kind == "{" or (tok.kind == "id" and tok.text.lower() == "subgraph"):
                if tok.kind == "id":
                    if self.peek().kind in ("id", "str"):
                        self.take()
                    tok = self.take()
                    if tok.kind != "{":
                        self.fail(tok, f"expected '{{' to open the subgraph, found {_show(tok)}")
                blocks.append((tok, dict(node_defaults), dict(edge_defaults)))
            elif tok.kind == "id" and tok.text.lower() in ("node", "edge", "graph"):
                if self.peek().kind != "[":
                    self.fail(
                        self.peek(), f"expected '[' after '{tok.text}', found {_show(self.peek())}"
                    )
                attrs = self.attrs()
                if tok.text.lower() != "graph":
                    (node_defaults if tok.text.lower() == "node" else edge_defaults).update(attrs)
            elif tok.kind in ("id", "str") and self.peek().kind == "=":
                self.take()
                self.name("a value for the graph attribute '" + tok.text + "'")
            elif tok.kind in ("id", "str"):
                self.pos -= 1
                ends = [self.name("a node name")]
                while self.peek().kind == "->":
                    self.take()
                    ends.append(self.name("a node name after '->'"))
                own = self.attrs()
                if len(ends) == 1:
                    self.nodes.append(_NodeStmt(ends[0], {**node_defaults, **own}, own))
                for a, b in itertools.pairwise(ends):
                    self.edges.append(_EdgeStmt(a, b, {**edge_defaults, **own}))
            elif tok.kind != ";":
                self.fail(
                    tok, f"unexpected {_show(tok)}: expected a node, an edge, an attribute or '}}'"
                )
        if self.peek().kind != "eof":
            self.fail(
                self.peek(), f"unexpected {_show(self.peek())} after the '}}' that closes the graph"
            )

    def attrs(self) -> dict[str, _Tok]:
        """Zero or more `[ name = value, ... ]` lists."""
        out: dict[str, _Tok] = {}
        while self.peek().kind == "[":
            self.take()
            while self.peek().kind != "]":
                key = self.name("an attribute name or ']'")
                if self.peek().kind != "=":
                    self.fail(
                        self.peek(),
                        f"expected '=' after the attribute '{key.text}', "
                        f"found {_show(self.peek())}",
                    )
                self.take()
                out[key.text] = self.name(f"a value for the attribute '{key.text}'")
                if self.peek().kind in (",", ";"):
                    self.take()
            self.take()
        return out


# --- meaning --------------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESET = re.compile(r"reset\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)")
_COMPARISON = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(.*)", re.S)
_NUMBER = re.compile(r"[0-9]+")
_TEXT_VALUE = re.compile(r"[0-9]+[a-z]{1,2}|[A-Za-z_][A-Za-z0-9_]*(?:\(\s*\))?")
_GUARD_FORM = (
    "a guard is `variable OP value` (OP one of < > <= >= == !=) joined by && and ||, or true"
)


def _split(text: str, sep: str) -> list[tuple[int, str]]:
    """The pieces of `text` between `sep`s, each with its offset in `text`."""
    out: list[tuple[int, str]] = []
    start = 0
    while (i := text.find(sep, start)) >= 0:
        out.append((start, text[start:i]))
        start = i + len(sep)
    out.append((start, text[start:]))
    return out


def _strip(piece: str, offset: int) -> tuple[str, int]:
    """The piece without surrounding blanks, and the offset of its first character."""
    return piece.strip(), offset + len(piece) - len(piece.lstrip())


class _Builder:
    """Node and edge statements -> Automaton, collecting every problem."""

    def __init__(self, src: _Source) -> None:
        self.src = src
        self.diags = Collector()

    def error(self, message: str, span: Span, hint: str | None = None) -> None:
        self.diags.error(Code.DOT_SYNTAX, message, span, hint=hint)

    def guard(self, text: str, offset: int) -> Guard | None:
        alternatives: list[tuple[Comparison, ...]] = []
        ok = True
        for a_off, alternative in _split(text, "||"):
            conjunction: list[Comparison] = []
            for c_off, atom in _split(alternative, "&&"):
                comparison = self.comparison(atom, offset + a_off + c_off)
                if isinstance(comparison, Comparison):
                    conjunction.append(comparison)
                ok = ok and comparison is not None
            alternatives.append(tuple(conjunction))
        if not ok:
            return None
        return Guard(tuple(alternatives), text, self.src.span(offset, len(text)))

    def comparison(self, atom: str, offset: int) -> Comparison | bool | None:
        """A comparison; True for `true`; None (reported) when malformed."""
        text, at = _strip(atom, offset)
        if text == "true":
            return True
        m = _COMPARISON.fullmatch(text)
        if not text:
            self.error(f"an empty comparison: {_GUARD_FORM}", self.src.span(offset))
            return None
        if m is None:
            self.error(f"'{text}' is not a comparison: {_GUARD_FORM}", self.src.span(at, len(text)))
            return None
        raw = m[3]
        where = self.src.span(at + m.start(3), len(raw))
        if _NUMBER.fullmatch(raw):
            value: int | str = int(raw)
        elif _TEXT_VALUE.fullmatch(raw):
            value = raw
        else:
            self.error(
                f"'{raw}' is not a value: a number (with a unit such as 10us, 5ns, 2j), "
                "a CONST, a MACRO(), a param or a func()",
                where,
            )
            return None
        return Comparison(m[1], m[2], value, self.src.span(at, len(text)))

    def state_label(self, name: str, label: _Tok) -> tuple[str, str, Span, Guard] | None:
        """A state's `label = "name\\ninvariant"`: the invariant, if any."""
        parts = _split(label.text, SEP)
        first, _ = _strip(parts[0][1], label.body)
        if first != name:
            self.error(
                f"the label of state '{name}' starts with '{first}': rvgen reads the state's "
                "name from its label, and an invariant after '\\n'",
                self.src.at(label),
            )
            return None
        if len(parts) > 2:
            self.error(
                "a state has at most one invariant (rvgen): one '\\n' in its label",
                self.src.span(label.body + parts[2][0] - len(SEP), len(SEP)),
            )
            return None
        if len(parts) < 2:
            return None
        text, at = _strip(parts[1][1], label.body + parts[1][0])
        where = self.src.span(at, len(text))
        guard = self.guard(text, at) if text else None
        if guard is None:
            if not text:
                self.error("an empty invariant after '\\n'", self.src.at(label))
            return None
        alts = guard.alternatives
        if alts != ((),) and not (len(alts) == 1 and len(alts[0]) == 1 and alts[0][0].op == "<"):
            self.error(
                f"the invariant '{text}' is not `clock < value`: an invariant is one such "
                "comparison (Documentation/trace/rv/hybrid_automata.rst)",
                where,
            )
            return None
        return (name, text, where, guard)

    def events(self, label: _Tok) -> list[tuple[str, Span, Guard | None, tuple[str, ...]]]:
        """The events of an edge label `ev1\\nev2;guard;reset(clk)`, each located."""
        out: list[tuple[str, Span, Guard | None, tuple[str, ...]]] = []
        for p_off, part in _split(label.text, SEP):
            base = label.body + p_off
            (e_off, raw), *constraints = _split(part, ";")
            event, at = _strip(raw, base + e_off)
            where = self.src.span(at, len(event))
            if not event:
                self.error("an empty event in the label: events are separated by '\\n'", where)
                continue
            if not _IDENT.fullmatch(event):
                self.error(
                    f"'{event}' is not an event name: an event is a C identifier, then "
                    "optionally ';guard' and ';reset(clock)'",
                    where,
                )
                continue
            guard: Guard | None = None
            resets: list[str] = []
            ok, has_guard = True, False
            for c_off, constraint in constraints:
                text, c_at = _strip(constraint, base + c_off)
                reset = _RESET.fullmatch(text)
                if not text:
                    where_sep = self.src.span(base + c_off - 1)
                    self.error(
                        "nothing after ';': a guard or reset(clock) belongs there", where_sep
                    )
                    ok = False
                elif resets if reset else has_guard:
                    self.error(
                        f"a second {'reset' if reset else 'guard'} for '{event}': rvgen takes "
                        "one guard and one reset per event",
                        self.src.span(c_at, len(text)),
                    )
                    ok = False
                elif reset:
                    resets.append(reset[1])
                else:
                    has_guard = True
                    guard = self.guard(text, c_at)
                    ok = ok and guard is not None
            if ok:
                out.append((event, where, guard, tuple(resets)))
        return out

    def build(self, digraph: _Tok, nodes: list[_NodeStmt], edges: list[_EdgeStmt]) -> Automaton:
        src = self.src
        states: dict[str, _Tok] = {}
        finals: set[str] = set()
        markers: dict[str, _Tok] = {}
        initial: tuple[str, _Tok] | None = None
        invariants: dict[str, tuple[str, str, Span, Guard]] = {}
        for node in nodes:
            name = node.name.text
            if name.startswith(INIT_MARKER):
                target = name[len(INIT_MARKER) :]
                markers.setdefault(name, node.name)
                if initial is None:
                    initial = (target, node.name)
                elif initial[0] != target:
                    self.error(
                        f"a second initial state '{target}': '{INIT_MARKER}{initial[0]}' at "
                        f"{src.where(initial[1])} already marks '{initial[0]}' (an automaton "
                        "has exactly one initial state)",
                        src.at(node.name),
                    )
                continue
            states.setdefault(name, node.name)
            shape = node.attrs.get("shape")
            if shape is not None and shape.text in FINAL_SHAPES:
                finals.add(name)
            label = node.own.get("label")
            invariant = self.state_label(name, label) if label is not None else None
            if invariant is not None:
                if name in invariants:
                    self.error(f"a second invariant for state '{name}'", invariant[2])
                else:
                    invariants[name] = invariant
        if initial is None:
            self.error(
                f"no initial state: rvgen needs a node named '{INIT_MARKER}<state>' "
                f'(with the edge "{INIT_MARKER}<state>" -> "<state>")',
                src.at(digraph),
            )
        elif initial[0] not in states:
            self.error(
                f"the initial state '{initial[0]}' (marked by this node) is not declared as a node",
                src.at(initial[1]),
                did_you_mean(initial[0], states),
            )
        out: dict[tuple[str, str], Edge] = {}
        for edge in edges:
            if edge.src.text in markers:
                mine = initial is not None and edge.src.text == INIT_MARKER + initial[0]
                if initial is not None and mine and edge.dst.text != initial[0]:
                    self.error(
                        f"'{edge.src.text}' marks the initial state: its edge goes to "
                        f"'{initial[0]}'",
                        src.at(edge.dst),
                    )
                continue
            known = all(
                [self.endpoint(edge.src, states, markers), self.endpoint(edge.dst, states, markers)]
            )
            label = edge.attrs.get("label")
            if label is None:
                self.error(
                    f"the edge '{edge.src.text}' -> '{edge.dst.text}' has no label: rvgen "
                    'reads its events from [label = "event"]',
                    src.at(edge.src),
                )
                continue
            for event, where, guard, resets in self.events(label):
                key = (edge.src.text, event)
                first = out.get(key)
                if first is not None:
                    self.error(
                        f"state '{edge.src.text}' has two edges on '{event}': to '{first.dst}' "
                        f"at {first.span.line}:{first.span.col} and to '{edge.dst.text}' at "
                        f"{where.line}:{where.col} (rvgen would keep only the last)",
                        where,
                    )
                elif known:
                    out[key] = Edge(edge.src.text, event, edge.dst.text, guard, resets, where)
        self.diags.raise_if_any()
        assert initial is not None
        init = initial[0]
        clocks = {c for e in out.values() for c in e.resets}
        clocks |= {g.alternatives[0][0].var for *_, g in invariants.values() if g.alternatives[0]}
        return Automaton(
            name=_model_name(src.file),
            file=src.file,
            states=(init, *sorted(set(states) - {init})),
            initial=init,
            finals=frozenset(finals or {init}),
            events=tuple(sorted({e.event for e in out.values()})),
            edges=tuple(out.values()),
            invariants=tuple((s, t, w) for s, t, w, _ in invariants.values()),
            clocks=tuple(sorted(clocks)),
            span=src.at(digraph),
        )

    def endpoint(self, tok: _Tok, states: dict[str, _Tok], markers: dict[str, _Tok]) -> bool:
        if tok.text in states:
            return True
        if tok.text in markers:
            self.error(f"'{tok.text}' marks the initial state: it is not a state", self.src.at(tok))
        else:
            self.error(
                f"unknown state '{tok.text}' on an edge: declare it as a node",
                self.src.at(tok),
                did_you_mean(tok.text, states),
            )
        return False


def _model_name(file: str) -> str:
    base = os.path.basename(file)
    for suffix in (".dot", ".gv"):
        if base.endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return base
