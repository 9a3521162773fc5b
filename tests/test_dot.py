"""The .dot loader: bundled monitors, rvgen's dialect, located PC114 errors, unreadable paths."""

from __future__ import annotations

import os
import re
import string
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from preemptcheck.core.errors import Code, ModelError
from preemptcheck.monitors.dot import Automaton, Comparison, load_automaton, parse_automaton

ROOT = Path(__file__).resolve().parents[1]
MONITORS = ROOT / "monitors"

# monitor: (initial, finals, states, edges); kernel-facts §6.2, counted by (state, event)
BUNDLED = {
    "wip": ("preemptive", {"preemptive"}, 2, 3),
    "wwnr": ("not_running", {"not_running"}, 2, 3),
    "sco": ("thread_context", {"thread_context"}, 2, 3),
    "snroc": ("other_context", {"other_context"}, 2, 3),
    "scpd": ("cant_sched", {"cant_sched"}, 2, 4),
    "snep": ("non_scheduling_context", {"non_scheduling_context"}, 2, 4),
    "sncid": ("can_sched", {"can_sched"}, 2, 4),
    "tss": ("thread", {"thread"}, 2, 3),
    "sts": ("can_sched", {"can_sched"}, 7, 15),
    "nrp": ("preempt_irq", {"any_thread_running"}, 4, 15),
    "sssw": ("runnable", {"runnable"}, 4, 24),
    "opid": ("any", {"any"}, 1, 2),
    "opid-da": ("disabled", {"enabled"}, 5, 18),
}


def dot(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def bundled(name: str) -> Automaton:
    return load_automaton(str(MONITORS / f"{name}.dot"))


def run(automaton: Automaton, events: list[str]) -> str | None:
    """The state after `events` from the initial state; None once an event has no edge."""
    state: str | None = automaton.initial
    for event in events:
        assert state is not None
        edge = automaton.step(state, event)
        state = edge.dst if edge is not None else None
        if state is None:
            return None
    return state


# --- the bundled monitors -------------------------------------------------------------------


def test_the_bundled_folder_holds_exactly_the_listed_monitors() -> None:
    assert {p.stem for p in MONITORS.glob("*.dot")} == set(BUNDLED)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_monitor_loads(name: str) -> None:
    initial, finals, n_states, n_edges = BUNDLED[name]
    a = bundled(name)
    assert a.name == name
    assert a.initial == initial
    assert a.states[0] == initial
    assert list(a.states[1:]) == sorted(a.states[1:])
    assert a.finals == finals
    assert len(a.states) == n_states
    assert len(a.edges) == n_edges
    assert len({(e.src, e.event) for e in a.edges}) == n_edges
    assert a.events == tuple(sorted({e.event for e in a.edges}))
    assert "#" not in (MONITORS / f"{name}.dot").read_text()  # rvgen reads them line by line


def test_monitor_readme_table_matches_the_files() -> None:
    rows = re.findall(
        r"^\| `([\w-]+)` \| `([\w/]+\.dot)` \| [^|]+ \| (per_cpu|per_task) \| (\d+) \| (\d+) \|",
        (MONITORS / "README.md").read_text(),
        re.M,
    )
    assert {row[0] for row in rows} == set(BUNDLED)
    for name, source, _, states, edges in rows:
        a = bundled(name)
        assert source.rsplit("/", 1)[-1] == f"{name.removesuffix('-da')}.dot"
        assert (len(a.states), len(a.edges)) == (int(states), int(edges)), name


def test_wip_step_follows_edges_and_refuses_a_wakeup_while_preemptive() -> None:
    wip = bundled("wip")
    edge = wip.step("preemptive", "preempt_disable")
    assert edge is not None
    assert edge.dst == "non_preemptive"
    assert edge in wip.edges
    assert wip.step("preemptive", "sched_waking") is None
    assert wip.step("nowhere", "preempt_disable") is None
    assert run(wip, ["preempt_disable", "sched_waking", "sched_waking", "preempt_enable"]) == (
        "preemptive"
    )


def test_sts_allows_one_task_switch_per_schedule_call() -> None:
    sts = bundled("sts")
    call = ["schedule_entry", "irq_disable", "sched_switch", "irq_enable", "schedule_exit"]
    assert run(sts, call + call) == "can_sched"
    assert run(sts, ["schedule_entry", "irq_disable", "sched_switch", "sched_switch"]) is None
    assert run(sts, ["sched_switch"]) is None  # a switch outside schedule()
    assert run(sts, ["irq_disable", "schedule_entry"]) is None  # schedule() with irqs off


def test_nrp_preemption_needs_need_resched_with_one_nested_exception() -> None:
    nrp = bundled("nrp")
    assert run(nrp, ["schedule_entry_preempt"]) == "nested_preempt"  # starts in preempt_irq
    assert run(nrp, ["schedule_entry_preempt", "schedule_entry_preempt"]) == "any_thread_running"
    assert run(nrp, ["schedule_entry", "schedule_entry", "schedule_entry_preempt"]) is None
    assert run(nrp, ["schedule_entry", "schedule_entry", "sched_need_resched",
                     "schedule_entry_preempt"]) == "any_thread_running"  # fmt: skip


def test_sssw_sleeping_task_needs_a_wakeup_before_switching_in() -> None:
    sssw = bundled("sssw")
    assert run(sssw, ["sched_set_state_sleepable", "sched_switch_blocking"]) == "sleeping"
    assert (
        run(sssw, ["sched_set_state_sleepable", "sched_switch_blocking", "sched_switch_in"]) is None
    )
    assert run(sssw, ["sched_set_state_sleepable", "sched_switch_preempt"]) == "sleepable"
    assert run(sssw, ["sched_set_state_sleepable", "sched_switch_yield"]) == "signal_wakeup"


def test_snep_keeps_the_kernels_spelling() -> None:
    snep = bundled("snep")
    assert snep.states == ("non_scheduling_context", "scheduling_contex")
    assert run(snep, ["preempt_disable", "preempt_enable", "schedule_entry"]) == (
        "scheduling_contex"
    )
    assert run(snep, ["schedule_entry", "preempt_disable"]) is None


def test_opid_hybrid_guards() -> None:
    opid = bundled("opid")
    resched = opid.step("any", "sched_need_resched")
    waking = opid.step("any", "sched_waking")
    assert resched is not None
    assert waking is not None
    assert resched.guard is not None
    assert waking.guard is not None
    assert [[(c.var, c.op, c.value) for c in alt] for alt in resched.guard.alternatives] == [
        [("irq_off", "==", 1)]
    ]
    assert [[(c.var, c.op, c.value) for c in alt] for alt in waking.guard.alternatives] == [
        [("irq_off", "==", 1), ("preempt_off", "==", 1)]
    ]
    assert opid.clocks == ()
    opid_da = bundled("opid-da")
    assert opid_da.step("disabled", "sched_waking") is not None
    assert opid_da.step("irq_disabled", "sched_waking") is None
    assert opid_da.step("irq_disabled", "sched_need_resched") is not None
    assert all(e.guard is None for e in opid_da.edges)


def test_automata_are_values() -> None:
    assert bundled("sts") == bundled("sts")
    assert hash(bundled("sts")) == hash(bundled("sts"))
    assert bundled("sts") != bundled("tss")


# --- the dialect ----------------------------------------------------------------------------

KERNEL_STYLE = dot(
    r"""
    digraph state_automaton {
        center = true;
        size = "7,11";
        {node [shape = plaintext, style=invis, label=""] "__init_idle"};
        {node [shape = ellipse] "idle"};
        {node [shape = plaintext] "idle"};
        {node [shape = plaintext] "busy"};
        "__init_idle" -> "idle";
        "idle" [label = "idle", color = green3];
        "idle" -> "busy" [ label = "start\nkick" ];
        "busy" [label = "busy"];
        "busy" -> "idle" [ label = "stop" ];
        "busy" -> "busy" [ label = "kick" ];
        { rank = min ;
            "__init_idle";
            "idle";
        }
    }
    """
)


def test_kernel_style_file_with_multi_event_label_and_rank_block() -> None:
    a = parse_automaton(KERNEL_STYLE, "models/sample.gv")
    assert a.name == "sample"
    assert a.file == "models/sample.gv"
    assert a.states == ("idle", "busy")
    assert a.initial == "idle"
    assert a.finals == {"idle"}  # ellipse
    assert a.events == ("kick", "start", "stop")
    assert [(e.src, e.event, e.dst) for e in a.edges] == [
        ("idle", "start", "busy"),
        ("idle", "kick", "busy"),
        ("busy", "stop", "idle"),
        ("busy", "kick", "busy"),
    ]
    assert all(not e.src.startswith("__init_") for e in a.edges)
    start, kick = a.edges[:2]
    # line 10: `    "idle" -> "busy" [ label = "start\nkick" ];`
    assert (start.span.line, start.span.col, start.span.length) == (10, 33, 5)
    assert (kick.span.line, kick.span.col, kick.span.length) == (10, 40, 4)
    assert (a.span.line, a.span.col) == (1, 1)
    assert a.invariants == ()
    assert a.clocks == ()


def test_states_other_than_the_initial_are_sorted_and_finals_default_to_initial() -> None:
    a = parse_automaton(
        dot(
            r"""
            digraph state_automaton {
                {node [shape = circle] "zeta"};
                {node [shape = circle] "mid"};
                {node [shape = plaintext, style=invis, label=""] "__init_mid"};
                {node [shape = circle] "alpha"};
                "__init_mid" -> "mid";
                "mid" -> "zeta" [ label = "z" ];
                "zeta" -> "alpha" [ label = "a" ];
                "alpha" -> "mid" [ label = "m" ];
            }
            """
        ),
        "order.dot",
    )
    assert a.states == ("mid", "alpha", "zeta")
    assert a.finals == {"mid"}  # nothing marked: the initial state
    assert a.events == ("a", "m", "z")


def test_doublecircle_and_ellipse_mark_finals_wherever_declared() -> None:
    a = parse_automaton(
        dot(
            r"""
            // a comment, /* another */ and a preprocessor line
            # 1 "sample.dot"
            digraph state_automaton {
                node [shape = circle]
                {node [shape = plaintext, style=invis, label=""] "__init_a"}
                {node [shape = doublecircle] "a"}
                "b"
                "c" [shape = ellipse]
                subgraph cluster_x { node [shape = doublecircle]; "d" }
                "e"
                "__init_a" -> "a"
                "a" -> "b" -> "c" [label = "next"]
                /* d and e */
                "c" -> "d" [label = "next"]; "d" -> "e" [label = "next"]
            }
            """
        ),
        "finals.dot",
    )
    assert a.finals == {"a", "c", "d"}  # the block's `node [shape=...]` reaches only "d"
    assert a.states == ("a", "b", "c", "d", "e")
    assert [(e.src, e.dst) for e in a.edges] == [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")]


HYBRID = dot(
    r"""
    digraph state_automaton {
        {node [shape = plaintext, style=invis, label=""] "__init_ready"};
        {node [shape = doublecircle] "ready"};
        {node [shape = circle] "running"};
        {node [shape = circle] "throttled"};
        "__init_ready" -> "ready";
        "ready" [label = "ready\nclk < DEADLINE_NS()", color = green3];
        "ready" -> "running" [ label = "switch_in;budget >= 10us && prio != 0 || forced == 1" ];
        "ready" -> "ready" [ label = "wakeup\nreplenish;reset(clk)" ];
        "running" [label = "running\nwall < threshold_jiffies"];
        "running" -> "throttled" [ label = "throttle;is_defer == 1;reset(wall)" ];
        "running" -> "ready" [ label = "yield;true" ];
        "throttled" -> "ready" [ label = "replenish;reset(clk);limit <= MAX_LIMIT" ];
    }
    """
)


def test_hybrid_guards_and_or_precedence_and_values() -> None:
    a = parse_automaton(HYBRID, "hybrid.dot")
    edge = a.step("ready", "switch_in")
    assert edge is not None
    assert edge.guard is not None
    assert edge.guard.text == "budget >= 10us && prio != 0 || forced == 1"
    assert [[(c.var, c.op, c.value) for c in alt] for alt in edge.guard.alternatives] == [
        [("budget", ">=", "10us"), ("prio", "!=", 0)],
        [("forced", "==", 1)],
    ]
    first = edge.guard.alternatives[0][0]
    assert isinstance(first, Comparison)
    # line 8: `    "ready" -> "running" [ label = "switch_in;budget >= 10us && ..." ];`
    assert (first.span.line, first.span.col, first.span.length) == (8, 47, 14)
    assert (edge.guard.span.col, edge.guard.span.length) == (47, len(edge.guard.text))
    yielded = a.step("running", "yield")
    assert yielded is not None
    assert yielded.guard is not None
    assert yielded.guard.alternatives == ((),)  # true
    wakeup = a.step("ready", "wakeup")
    assert wakeup is not None
    assert wakeup.guard is None
    assert wakeup.resets == ()
    throttled = a.step("throttled", "replenish")
    assert throttled is not None
    assert throttled.guard is not None
    assert throttled.resets == ("clk",)
    assert throttled.guard.alternatives[0][0].value == "MAX_LIMIT"


def test_resets_and_invariants_give_the_clocks() -> None:
    a = parse_automaton(HYBRID, "hybrid.dot")
    assert a.clocks == ("clk", "wall")  # reset on edges and named in invariants
    assert [(s, t) for s, t, _ in a.invariants] == [
        ("ready", "clk < DEADLINE_NS()"),
        ("running", "wall < threshold_jiffies"),
    ]
    _, _, span = a.invariants[0]
    assert (span.line, span.col, span.length) == (7, 30, 19)
    replenish = a.step("ready", "replenish")
    throttle = a.step("running", "throttle")
    assert replenish is not None
    assert replenish.resets == ("clk",)
    assert replenish.guard is None
    assert throttle is not None
    assert throttle.resets == ("wall",)
    assert throttle.guard is not None
    assert throttle.guard.text == "is_defer == 1"


def test_load_automaton_reads_a_gv_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.gv"
    path.write_text(KERNEL_STYLE)
    a = load_automaton(str(path))
    assert a.name == "mine"
    assert a.file == str(path)
    assert a.edges[0].span.file == str(path)


# --- malformed files: PC114 at an exact place -----------------------------------------------

VALID = dot(
    r"""
    digraph state_automaton {
        {node [shape = plaintext, style=invis, label=""] "__init_a"};
        {node [shape = doublecircle] "a"};
        {node [shape = circle] "b"};
        "__init_a" -> "a";
        "a" [label = "a"];
        "a" -> "b" [ label = "go" ];
        "b" [label = "b"];
        "b" -> "a" [ label = "back" ];
    }
    """
)


def edit(old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


MALFORMED = {
    "truncated": (VALID.rstrip().removesuffix("}"), 9, 35, "ends before the '}'"),
    "unterminated string": (edit('"back" ];', '"back ];'), 9, 26, "unterminated string"),
    "unterminated comment": (edit('"b" -> "a"', '/* "b" -> "a"'), 9, 5, "unterminated comment"),
    "unknown state": (edit('"a" -> "b" [', '"a" -> "c" ['), 7, 12, "unknown state 'c' on an edge"),
    "no initial state": (
        edit('    {node [shape = plaintext, style=invis, label=""] "__init_a"};\n', "").replace(
            '    "__init_a" -> "a";\n', ""
        ),
        1,
        1,
        "no initial state",
    ),
    "two initial states": (
        edit('{node [shape = circle] "b"};', '{node [shape = circle] "b"}; "__init_b";'),
        4,
        34,
        "a second initial state 'b'",
    ),
    "duplicate (state, event)": (
        edit('"back" ];', '"back" ];\n    "b" -> "b" [ label = "stay\\nback" ];'),
        10,
        33,
        "state 'b' has two edges on 'back': to 'a' at 9:27 and to 'b' at 10:33",
    ),
    "same destination twice": (
        edit('"go" ];', '"go\\ngo" ];'),
        7,
        31,
        "state 'a' has two edges on 'go'",
    ),
    "wrong graph name": (edit("digraph state_automaton", "digraph automaton"), 1, 9, "rvgen"),
    "undirected graph": (edit("digraph state_automaton", "graph state_automaton"), 1, 1, "rvgen"),
    "strict digraph": (edit("digraph state_automaton", "strict digraph state_automaton"), 1, 1, ""),
    "edge without label": (edit('"a" -> "b" [ label = "go" ];', '"a" -> "b";'), 7, 5, "no label"),
    "edge with another attribute only": (
        edit('"a" -> "b" [ label = "go" ];', '"a" -> "b" [ color = red ];'),
        7,
        5,
        "no label",
    ),
    "bad guard operator": (edit('"go" ]', '"go;x => 1" ]'), 7, 30, "'x => 1' is not a comparison"),
    "bad guard value": (edit('"go" ]', '"go;x < 1.5" ]'), 7, 34, "'1.5' is not a value"),
    "dangling &&": (edit('"go" ]', '"go;x < 1 && " ]'), 7, 38, "an empty comparison"),
    "two guards": (edit('"go" ]', '"go;x < 1;y > 2" ]'), 7, 36, "a second guard"),
    "two resets": (edit('"go" ]', '"go;reset(c);reset(d)" ]'), 7, 39, "a second reset"),
    "empty constraint": (edit('"go" ]', '"go;" ]'), 7, 29, "nothing after ';'"),
    "empty event": (edit('"go" ]', '"go\\n" ]'), 7, 31, "an empty event"),
    "event not an identifier": (edit('"go" ]', '"go on" ]'), 7, 27, "'go on' is not an event"),
    "invariant not clock < value": (
        edit('[label = "b"]', '[label = "b\\nclk >= 3"]'),
        8,
        22,
        "is not `clock < value`",
    ),
    "state label names another state": (
        edit('[label = "b"]', '[label = "c"]'),
        8,
        18,
        "the label of state 'b' starts with 'c'",
    ),
    "stray token after the graph": (VALID + "extra\n", 11, 1, "after the '}' that closes"),
    "stray character": (edit('"a" [label', '"a" @ [label'), 6, 9, "unexpected character '@'"),
    "undirected edge": (edit('"a" -> "b"', '"a" -- "b"'), 7, 9, "'--' is an undirected edge"),
    "edge into a block": (edit('"a" -> "b" [', '"a" -> { "b" } ['), 7, 12, "expected a node name"),
    "unquoted keyword as a node": (edit('"a" -> "b" [', '"a" -> node ['), 7, 12, "keyword"),
    "attribute without value": (edit('[ label = "go"', '[ label "go"'), 7, 24, "expected '='"),
    "initial marker pointing elsewhere": (
        edit('"__init_a" -> "a";', '"__init_a" -> "b";'),
        5,
        19,
        "its edge goes to 'a'",
    ),
    "initial state not declared": (
        edit('"__init_a"};', '"__init_x"};').replace('"__init_a" -> "a"', '"__init_x" -> "x"'),
        2,
        54,
        "the initial state 'x'",
    ),
    "number running into a name": (
        edit('"a" [label = "a"];', '"a" [label = "a", width = 10us];'),
        6,
        31,
        "quote it",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_is_pc114_at_the_exact_place(case: str) -> None:
    text, line, col, words = MALFORMED[case]
    with pytest.raises(ModelError) as info:
        parse_automaton(text, "bad.dot")
    first = info.value.diagnostics[0]
    assert first.code is Code.DOT_SYNTAX
    assert (first.span.file, first.span.line, first.span.col) == ("bad.dot", line, col), (
        first.headline()
    )
    assert words in first.message
    assert first.headline().startswith(f"bad.dot:{line}:{col}: error[PC114]: ")


def test_the_valid_base_of_the_malformed_cases_parses() -> None:
    a = parse_automaton(VALID, "bad.dot")
    assert (a.initial, a.states, len(a.edges)) == ("a", ("a", "b"), 2)


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = edit('"a" -> "b" [ label = "go" ];', '"a" -> "c";').replace('"back" ]', '"back;x ~ 1" ]')
    with pytest.raises(ModelError) as info:
        parse_automaton(text, "bad.dot")
    found = [(d.span.line, d.span.col) for d in info.value.diagnostics]
    assert found == [(7, 5), (7, 12), (9, 32)]  # sorted by place
    assert {d.code for d in info.value.diagnostics} == {Code.DOT_SYNTAX}


def test_an_unknown_state_gets_a_did_you_mean() -> None:
    with pytest.raises(ModelError) as info:
        parse_automaton(edit('"a" -> "b" [', '"a" -> "bb" ['), "bad.dot")
    assert info.value.diagnostics[0].hint == "did you mean 'b'?"


# --- unreadable paths: PC001 naming the path, never a hang ----------------------------------


def test_missing_file_cannot_be_read(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.dot")
    with pytest.raises(ModelError) as info:
        load_automaton(path)
    (diag,) = info.value.diagnostics
    assert diag.code is Code.CANNOT_READ
    assert diag.span.file == path
    assert diag.headline().startswith(f"{path}: error[PC001]: no such file")


def test_directory_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        load_automaton(str(tmp_path))
    (diag,) = info.value.diagnostics
    assert diag.code is Code.CANNOT_READ
    assert diag.span.file == str(tmp_path)
    assert "directory" in diag.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.dot"
    os.mkfifo(fifo)
    with pytest.raises(ModelError) as info:
        load_automaton(str(fifo))
    (diag,) = info.value.diagnostics
    assert diag.code is Code.CANNOT_READ
    assert diag.span.file == str(fifo)
    assert "FIFO" in diag.message


# --- any text: an Automaton or a ModelError -------------------------------------------------

FRAGMENTS = [
    "digraph state_automaton {",
    "}",
    "{",
    '"a"',
    '"b"',
    '"__init_a"',
    '"__init_b"',
    "->",
    "[",
    "]",
    "label =",
    r'"e\nf;x < 1 && y >= 2us || z != K()"',
    '"e;reset(c)"',
    r'"a\nc < 3"',
    "shape = doublecircle",
    "node [shape = ellipse]",
    "subgraph",
    ";",
    ",",
    "=",
    "\n",
    '"',
    "/*",
    "*/",
    "//",
    "#",
    "-",
    "rank = min",
]
STATEMENTS = [
    '"__init_a";',
    '"__init_b" -> "b";',
    '"__init_a" -> "a";',
    '"a";',
    '"b" [label = "b"];',
    r'"b" [label = "b\nclk < 10us"];',
    '{node [shape = doublecircle] "b"};',
    '{ rank = min; "__init_a"; "a"; }',
    '"a" -> "b" [label = "e"];',
    r'"b" -> "a" [label = "f\ne;x < 1 || y == K && z != f()"];',
    '"a" -> "a" [label = "g;reset(clk)"];',
    '"a" -> "b" [label = "e"];',
    '"b" -> "c" [label = "h"];',
    'size = "7,11";',
]
TEXTS = st.one_of(
    st.lists(st.sampled_from(STATEMENTS), max_size=12).map(
        lambda stmts: 'digraph state_automaton {\n"__init_a"; "a"; "b"\n' + "\n".join(stmts) + "\n}"
    ),
    st.text(alphabet=string.printable),
    st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=string.printable, max_size=3)),
        max_size=40,
    ).map(" ".join),
)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(TEXTS)
def test_any_text_parses_or_raises_a_located_model_error(text: str) -> None:
    try:
        a = parse_automaton(text, "fuzz.dot")
    except ModelError as exc:
        diagnostics = exc.diagnostics
    else:
        assert a.initial == a.states[0]
        assert a.finals <= set(a.states)
        for e in a.edges:
            assert a.step(e.src, e.event) is e
            assert {e.src, e.dst} <= set(a.states)
        return
    assert diagnostics
    lines = len(text.splitlines()) + 1
    for diag in diagnostics:
        assert diag.code is Code.DOT_SYNTAX
        assert diag.span.file == "fuzz.dot"
        assert 1 <= diag.span.line <= lines
        assert diag.span.col >= 1
