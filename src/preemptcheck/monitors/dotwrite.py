"""A deterministic automaton -> the text of a .dot file in the kernel's dialect, laid out as
rvgen (tools/verification/rvgen/rvgen/automata.py) reads it line by line."""

from __future__ import annotations

import re
from collections.abc import Sequence

from preemptcheck.monitors.dot import INIT_MARKER, SEP

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def render(states: Sequence[str], edges: Sequence[tuple[str, str, str]]) -> str:
    """`states[0]` is the initial state (a doublecircle: rvgen's final state), the others
    circles; `edges` are (src, event, dst), at most one per (src, event). rvgen reads the
    `{node` lines as a block, then skips one line (the initial edge), then reads edges until
    a line that does not start with '"': the order below is the one it needs. The events
    of one (src, dst) pair share one edge, sorted, separated by `\\n`."""
    assert states, "an automaton has an initial state"
    for name in (*states, *(ev for _, ev, _ in edges)):
        assert _IDENT.fullmatch(name), f"not a C identifier: {name!r}"
    assert len({(s, ev) for s, ev, _ in edges}) == len(edges), "not deterministic"
    init = states[0]
    marker = f"{INIT_MARKER}{init}"
    lines = [
        "digraph state_automaton {",
        f'\t{{node [shape = plaintext, style=invis, label=""] "{marker}"}};',
        f'\t{{node [shape = doublecircle] "{init}"}};',
        *(f'\t{{node [shape = circle] "{s}"}};' for s in states[1:]),
        f'\t"{marker}" -> "{init}";',
    ]
    rank = {s: k for k, s in enumerate(states)}
    grouped: dict[tuple[str, str], list[str]] = {}
    for src, ev, dst in sorted(edges, key=lambda e: (rank[e[0]], e[1])):
        grouped.setdefault((src, dst), []).append(ev)
    for (src, dst), events in grouped.items():
        lines.append(f'\t"{src}" -> "{dst}" [ label = "{SEP.join(events)}" ];')
    lines += ["\t{ rank = min ;", f'\t\t"{marker}";', f'\t\t"{init}";', "\t}", "}"]
    return "\n".join(lines) + "\n"
