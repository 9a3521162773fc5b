"""The HTML report's sections per model run: each property (its verdict in words, the
message, the YAML line it is defined on, the timeline and the trace) and the action coverage."""

from __future__ import annotations

from html import escape

from preemptcheck.checking.results import ModelResult, Outcome, PropertyResult, Verdict
from preemptcheck.model.params import show
from preemptcheck.report import matrix, text
from preemptcheck.report.htmlparts import Index, attrs, link, params_text, tag
from preemptcheck.report.timeline import render_svg

OUTCOME_WORDS = {
    Outcome.AS_EXPECTED: "as expected",
    Outcome.UNEXPECTED: "unexpected",
    Outcome.INCONCLUSIVE: "inconclusive",
}


def properties(index: Index) -> str:
    """A section per model run: how it was searched, then a section per property."""
    out = ['<section id="properties">', "<h2>Properties</h2>"]
    for i, m in index.runs:
        where = attrs(data_model=m.file, data_mode=index.column[i])
        out.append(f'<section class="run" id="run-{i}"{where}>')
        params = params_text(m)
        out.append(
            tag(
                "h3",
                tag("code", escape(m.file))
                + escape(f": {m.name}" + (f" ({params})" if params else "")),
            )
        )
        out += [tag("p", escape(line.strip()), class_="stats") for line in text._about(m, False)]
        out += [tag("p", escape(f"warning: {w}"), class_="warning") for w in m.warnings]
        out += [tag("p", escape(f"note: {n}"), class_="note") for n in m.notes]
        for k, p in enumerate(m.properties):
            out.append(_property(index, i, k, m, p))
        if m.skipped:
            mode = dict(m.params).get("mode", "?")
            ids = ", ".join(pid for pid, _ in m.skipped)
            out.append(
                tag("p", escape(f"skipped, not for mode {show(mode)}: {ids}"), class_="note")
            )
        out.append("</section>")
    out.append("</section>")
    return "\n".join(out)


def _property(index: Index, i: int, k: int, m: ModelResult, p: PropertyResult) -> str:
    outcome = p.outcome
    out = [
        f'<section class="property o-{outcome.value}" id="{index.ids[(i, p.id)]}"'
        + attrs(
            data_model=m.file,
            data_mode=index.column[i],
            data_property=p.id,
            data_verdict=p.verdict.value,
            data_outcome=outcome.value,
        )
        + ">",
        tag(
            "h4",
            tag("span", text.MARK[outcome], class_="mark")
            + " "
            + tag("code", escape(p.id))
            + " "
            + tag("span", p.verdict.value, class_=f"verdict v-{p.verdict.value}")
            + escape(f", {OUTCOME_WORDS[outcome]}"),
        ),
        tag("p", escape(text.verdict_text(p)), class_="message"),
    ]
    expect = "hold" if p.expect.value == "holds" else "be violated"
    where = f"{p.kind.value} property, expected to {expect}"
    target = index.anchor(p.span)
    if target is not None:
        shown = f"{p.span.file}:{p.span.line}"
        where = link(target, shown, class_="yaml") + " " + escape(where)
    else:
        where = escape(where + " (built in)" if p.kind in matrix.BUILTIN else where)
    out.append(tag("p", where, class_="where"))
    if p.doc:
        out.append(tag("p", escape(p.doc), class_="doc"))
    if p.trace is not None:
        svg = render_svg(m.model, p, p.trace, f"{m.file}: {p.id}", id_prefix=f"t{i}-{k}-")
        out.append(tag("div", svg, class_="picture"))
        out.append(_trace(index, m, p))
    if p.cti is not None:
        cti = text.render_cti(m.model, p, p.cti)
        out.append(
            tag(
                "details",
                tag("summary", "counterexample to induction") + tag("pre", escape(cti)),
            )
        )
    out.append("</section>")
    return "\n".join(out)


def _trace(index: Index, m: ModelResult, p: PropertyResult) -> str:
    """The trace as the text report prints it, and its steps linked to their actions."""
    assert p.trace is not None
    steps = []
    for label in p.trace.steps:
        span = m.model.action(label.action).span
        steps.append(tag("li", link(index.anchor(span), str(label), class_="step-action")))
    n = p.trace.length
    kind = "witness" if p.verdict == Verdict.HOLDS else "counterexample"
    return tag(
        "details",
        tag("summary", escape(f"the {kind}, {n} step{'s' * (n != 1)}: table of states"))
        + tag("ol", "".join(steps), class_="steps")
        + tag("pre", escape(text.render_trace(m.model, p, p.trace)), class_="trace"),
    )


def coverage(index: Index) -> str:
    """Per model run, the states that enable each action (the text report's -v line)."""
    out = [
        '<section id="coverage">',
        "<h2>Action coverage</h2>",
        tag("p", "Per model run, how many reachable states enable each action; an action "
            "never enabled is marked (a property over it proves nothing).", class_="note"),
    ]  # fmt: skip
    for i, m in index.runs:
        params = params_text(m)
        head = tag("code", escape(m.file)) + escape(f" ({params})" if params else "")
        out.append(
            f'<div class="run-coverage"{attrs(data_model=m.file, data_mode=index.column[i])}>'
        )
        out.append(tag("h3", head))
        if not m.coverage:
            out.append(tag("p", f"no coverage from the {escape(m.engine)} engine", class_="note"))
            out.append("</div>")
            continue
        rows = [tag("tr", '<th scope="col">action</th><th scope="col">states that enable it</th>')]
        for action, n in m.coverage:
            span = m.model.action(action).span
            off = " (off for these params)" if action in m.disabled else ""
            cells = tag("td", link(index.anchor(span), action) + escape(off))
            cells += tag("td", f"{n:,}" + (" (never enabled)" if n == 0 else ""))
            rows.append(tag("tr", cells, class_="unfired" if n == 0 else None, data_action=action))
        out.append(tag("table", "".join(rows), class_="coverage"))
        out.append("</div>")
    out.append("</section>")
    return "\n".join(out)
