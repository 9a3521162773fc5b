"""What changed between two revisions: text, markdown (a pull-request comment) and JSON."""

from __future__ import annotations

import itertools
from typing import Any

from preemptcheck.checking.diff import Change, Diff, Effect, Kind, length
from preemptcheck.checking.results import ModelResult, Outcome, PropertyResult
from preemptcheck.core.version import __version__
from preemptcheck.model.params import show
from preemptcheck.report.jsonout import diagnostic
from preemptcheck.report.text import verdict_text

DIFF_SCHEMA = "preemptcheck/diff"
DIFF_VERSION = 1

# a row's label, and the summary line's noun (singular, plural)
LABELS: dict[Kind, tuple[str, str, str]] = {
    Kind.FAILS_TO_LOAD: ("fails to load", "model fails to load", "models fail to load"),
    Kind.LOADS_AGAIN: ("loads again", "model loads again", "models load again"),
    Kind.MODEL_ADDED: ("model added", "model added", "models added"),
    Kind.MODEL_REMOVED: ("model removed", "model removed", "models removed"),
    Kind.PARAMS_CHANGED: ("params changed", "run with other params", "runs with other params"),
    Kind.NEWLY_VIOLATED: ("newly violated", "newly violated", "newly violated"),
    Kind.NEWLY_HOLDS: ("newly holds", "newly holding", "newly holding"),
    Kind.WEAKER: ("weaker", "weaker verdict", "weaker verdicts"),
    Kind.STRONGER: ("stronger", "stronger verdict", "stronger verdicts"),
    Kind.STRENGTH_CHANGED: ("strength changed", "strength change", "strength changes"),
    Kind.EXPECT_CHANGED: ("expect changed", "expect change", "expect changes"),
    Kind.PROPERTY_ADDED: ("property added", "property added", "properties added"),
    Kind.PROPERTY_REMOVED: ("property removed", "property removed", "properties removed"),
    Kind.TRACE_LENGTH: ("trace length", "trace-length change", "trace-length changes"),
    Kind.STATE_SPACE: ("state space", "state-space change", "state-space changes"),
}
MARK = {Effect.REGRESSION: "regression", Effect.FIX: "fix", Effect.NONE: ""}


def _n(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def summary_line(d: Diff) -> str:
    """`N regressions, M fixes, ...` (the other changes by kind), or `no changes`."""
    runs = f"{_n(d.runs[1], 'run', 'runs')}, {_n(d.properties[1], 'property', 'properties')}"
    if not d.changes:
        return f"no changes ({runs})"
    parts = [_n(d.regressions, "regression", "regressions"), _n(d.fixes, "fix", "fixes")]
    parts += [_n(n, *LABELS[k][1:]) for k, n in d.other_counts()]
    return f"{', '.join(parts)} ({runs} now)"


def _base(d: Diff) -> str:
    return f"{d.base} ({d.commit[:12]})" if d.commit else d.base


def _stats(m: ModelResult, was: ModelResult | None = None) -> str:
    s = m.stats
    if s.states is None or s.transitions is None:
        text = f"{m.engine}, depth {s.depth}"
    else:
        old = was.stats if was is not None else None
        states = _delta(old.states if old else None, s.states)
        transitions = _delta(old.transitions if old else None, s.transitions)
        text = f"{s.states:,} states{states}, {s.transitions:,} transitions{transitions}"
    return f"{text}, {_completeness(m)}"


def _delta(old: int | None, new: int) -> str:
    if old is None or old == new:
        return ""
    return f" ({(new - old) / old * 100:+.1f}%)" if old else f" ({new - old:+,})"


def state_space(b: ModelResult, a: ModelResult) -> str:
    """`976 -> 5,000 states (+412.3%), 3,180 -> 12,459 transitions (+291.8%), exhaustive ->
    incomplete: ...`: only what changed."""
    bs, as_ = b.stats, a.stats
    parts = []
    if bs.states is not None and as_.states is not None and bs.states != as_.states:
        parts.append(f"{bs.states:,} -> {as_.states:,} states{_delta(bs.states, as_.states)}")
    if (
        bs.transitions is not None
        and as_.transitions is not None
        and bs.transitions != as_.transitions
    ):
        parts.append(
            f"{bs.transitions:,} -> {as_.transitions:,} transitions"
            f"{_delta(bs.transitions, as_.transitions)}"
        )
    if bs.complete != as_.complete:
        parts.append(f"{_completeness(b)} -> {_completeness(a)}")
    return ", ".join(parts)


def _completeness(m: ModelResult) -> str:
    return "exhaustive" if m.stats.complete else f"incomplete: {m.stats.limit}"


def _run_summary(m: ModelResult) -> str:
    counts = {o: sum(p.outcome == o for p in m.properties) for o in Outcome}
    return (
        f"{_n(len(m.properties), 'property', 'properties')}: "
        f"{counts[Outcome.AS_EXPECTED]} as expected, {counts[Outcome.UNEXPECTED]} unexpected, "
        f"{counts[Outcome.INCONCLUSIVE]} inconclusive; {_stats(m)}"
    )


def _params(m: ModelResult) -> str:
    return ", ".join(f"{k}={show(v)}" for k, v in m.params) or "no params"


def describe(c: Change) -> tuple[str, str]:
    """The change's before and after, short, for people ("-" where there is nothing)."""
    if c.property:
        return (
            verdict_text(c.before) if c.before is not None else "-",
            verdict_text(c.after) if c.after is not None else "-",
        )
    b, a = c.before_run, c.after_run
    if c.kind == Kind.STATE_SPACE and b is not None and a is not None:
        return _stats(b), _stats(a, b)
    if c.kind == Kind.PARAMS_CHANGED and b is not None and a is not None:
        return _params(b), _params(a)
    if c.kind == Kind.FAILS_TO_LOAD:
        return ("checked" if b is not None else "-"), _failure(c)
    if c.kind == Kind.LOADS_AGAIN:
        return _failure(c), "checked"
    return (
        _run_summary(b) if b is not None else _failure(c) if c.diagnostics else "-",
        _run_summary(a) if a is not None else "-",
    )


def _failure(c: Change) -> str:
    more = len(c.diagnostics) - 1
    first = c.diagnostics[0].headline() if c.diagnostics else "cannot be checked"
    return first + (f" (and {_n(more, 'more error', 'more errors')})" if more > 0 else "")


def _title(c: Change) -> str:
    where = f"{c.file}: {c.model}" if c.model else c.file
    return where + (f" [{c.choice}]" if c.choice else "")


def render_text(d: Diff) -> str:
    """For people: a heading line, the changes grouped by model run, the summary last."""
    lines = [f"comparing {', '.join(d.paths)} at {_base(d)} with the working tree"]
    for title, group in itertools.groupby(d.changes, key=_title):
        rows = list(group)
        lines.append(title)
        width = max(len(c.property or LABELS[c.kind][0]) for c in rows) + 2
        for c in rows:
            what = c.property or LABELS[c.kind][0]
            if c.kind == Kind.STATE_SPACE and c.before_run and c.after_run:
                change = state_space(c.before_run, c.after_run)
            else:
                before, after = describe(c)
                change = f"{LABELS[c.kind][0]}: " if c.property else ""
                change += f"{before} -> {after}"
            lines.append(f"  {MARK[c.effect]:<10}  {what:<{width}}{change}")
            if c.kind == Kind.FAILS_TO_LOAD:
                lines += [f"              {x.headline()}" for x in c.diagnostics[1:]]
    for f in d.still_failing:
        lines.append(f"{f.file}: cannot be checked at {d.base} or now")
        lines += [f"  {x.headline()}" for x in f.diagnostics]
    lines.append(summary_line(d))
    return "\n".join(lines) + "\n"


def render_markdown(d: Diff) -> str:
    """A pull-request comment: a heading, the summary line, a table of the changes
    (regressions first, then fixes, then the rest, each in model order)."""
    out = [f"### preemptcheck diff: `{d.base}` ({d.commit[:12]}) → working tree", ""]
    out += [f"**{summary_line(d)}**", ""]
    if d.changes:
        out += ["| | model | property | change | before | after |", "|---" * 6 + "|"]
        order = {Effect.REGRESSION: 0, Effect.FIX: 1, Effect.NONE: 2}
        for c in sorted(d.changes, key=lambda c: order[c.effect]):  # stable: model order
            before, after = describe(c)
            model = f"`{c.file}`" + (f" {_md(c.choice)}" if c.choice else "")
            prop = f"`{c.property}`" if c.property else ""
            mark = f"**{MARK[c.effect]}**" if c.effect == Effect.REGRESSION else MARK[c.effect]
            cells = [mark, model, prop, LABELS[c.kind][0], _md(before), _md(after)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    for f in d.still_failing:
        out += [f"`{f.file}` cannot be checked at `{d.base}` or now:", "", "```"]
        out += [x.headline() for x in f.diagnostics]
        out += ["```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def document(d: Diff) -> dict[str, Any]:
    """The JSON document, schema docs/diff.schema.json."""
    kinds = {k.value: sum(c.kind == k for c in d.changes) for k in Kind}
    return {
        "schema": DIFF_SCHEMA,
        "version": DIFF_VERSION,
        "tool": {"name": "preemptcheck", "version": __version__},
        "base": {"revision": d.base, "commit": d.commit},
        "paths": list(d.paths),
        "exit_code": d.exit_code,
        "summary": {
            "regressions": d.regressions,
            "fixes": d.fixes,
            "changes": len(d.changes),
            "kinds": {k: n for k, n in kinds.items() if n},
            "runs": {"base": d.runs[0], "current": d.runs[1]},
            "properties": {"base": d.properties[0], "current": d.properties[1]},
        },
        "changes": [_change(c) for c in d.changes],
        "still_failing": [
            {"file": f.file, "diagnostics": [diagnostic(x) for x in f.diagnostics]}
            for f in d.still_failing
        ],
    }


def _change(c: Change) -> dict[str, Any]:
    if c.property:
        before, after = _cell(c.before), _cell(c.after)
    else:
        before, after = _run(c.before_run), _run(c.after_run)
    return {
        "kind": c.kind.value,
        "effect": c.effect.value,
        "file": c.file,
        "model": c.model or None,
        "params": dict(c.params),
        "choice": c.choice,
        "property": c.property or None,
        "before": before,
        "after": after,
        "diagnostics": [diagnostic(x) for x in c.diagnostics],
    }


def _cell(p: PropertyResult | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "verdict": p.verdict.value,
        "strength": p.strength.value,
        "expect": p.expect.value,
        "outcome": p.outcome.value,
        "length": length(p),
        "reason": p.reason,
    }


def _run(m: ModelResult | None) -> dict[str, Any] | None:
    if m is None:
        return None
    s = m.stats
    return {
        "params": dict(m.params),
        "engine": m.engine,
        "states": s.states,
        "transitions": s.transitions,
        "depth": s.depth,
        "complete": s.complete,
        "limit": s.limit,
        "outcomes": {o.value: sum(p.outcome == o for p in m.properties) for o in Outcome},
    }
