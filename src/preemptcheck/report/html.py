"""`verify --html`: a run as one self-contained HTML page (no scripts, nothing fetched):
the summary, the verdict matrix, every property with its timeline and trace, the latency
table, the action coverage, and the YAML every verdict links to, line by line."""

from __future__ import annotations

from html import escape

from preemptcheck.checking.latency import LatencyRun
from preemptcheck.checking.results import (
    ModelFailure,
    Outcome,
    PropertyResult,
    RunResult,
    Verdict,
)
from preemptcheck.core.source import SourceCache
from preemptcheck.core.version import __version__
from preemptcheck.model.params import show
from preemptcheck.report import htmlprops, matrix, text
from preemptcheck.report import latency as latency_report
from preemptcheck.report.htmlparts import CSS, Index, attrs, link, tag
from preemptcheck.report.htmlprops import OUTCOME_WORDS


def render(run: RunResult, sources: SourceCache, *, latency: LatencyRun | None = None) -> str:
    """The page of `run`; `latency`: the worst cases of its leads_to properties, if measured."""
    return _Page(run, sources, latency).html()


class _Page:
    def __init__(self, run: RunResult, sources: SourceCache, latency: LatencyRun | None) -> None:
        self.run, self.sources, self.latency = run, sources, latency
        self.index = Index(run, sources)
        self.runs, self.tables = self.index.runs, self.index.tables

    def html(self) -> str:
        title = "preemptcheck: " + text.summary_line(self.run)
        body = [
            self._summary(),
            self._errors(),
            self._matrix(),
            self._latency(),
            htmlprops.properties(self.index),
            htmlprops.coverage(self.index),
            self.index.sources(),
        ]
        return (
            "\n".join(
                [
                    "<!DOCTYPE html>",
                    '<html lang="en">',
                    "<head>",
                    '<meta charset="utf-8">',
                    '<meta name="viewport" content="width=device-width, initial-scale=1">',
                    tag("title", escape(title)),
                    f"<style>{CSS}</style>",
                    "</head>",
                    "<body>",
                    '<main id="report">',
                    *(part for part in body if part),
                    "</main>",
                    "</body>",
                    "</html>",
                ]
            )
            + "\n"
        )

    def _summary(self) -> str:
        props = [p for _, m in self.runs for p in m.properties]
        verdicts = [
            f'<li><span class="count v-{v.value}" data-verdict="{v.value}">'
            f"{sum(p.verdict == v for p in props)}</span> {v.value}</li>"
            for v in Verdict
        ]
        counts = self.run.counts()
        outcomes = [
            f'<li><span class="count" data-outcome="{o.value}">{counts[o.value]}</span> '
            f"{OUTCOME_WORDS[o]}</li>"
            for o in Outcome
        ]
        engines = sorted({m.engine for _, m in self.runs})
        code = self.run.exit_code
        meaning = {0: "as expected", 1: "a verdict differs from its expectation"}
        meaning |= {2: "bad input", 3: "inconclusive (a limit was reached)"}
        files, runs = len({m.file for m in self.run.models}), len(self.run.models)
        facts = [
            ("models", f"{files} file{'s' * (files != 1)}, {runs} run{'s' * (runs != 1)}"),
            ("engine", ", ".join(engines) or "none"),
            ("exit code", f"{code} ({meaning.get(code, 'interrupted')})"),
            ("preemptcheck", __version__),
        ]  # fmt: skip
        dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
        return "\n".join(
            [
                '<section id="summary">',
                "<h1>preemptcheck verify</h1>",
                tag("p", tag("strong", escape(text.summary_line(self.run))), class_="summary"),
                '<ul class="counts">',
                *verdicts,
                *outcomes,
                "</ul>",
                f"<dl>{dl}</dl>",
                "</section>",
            ]
        )

    def _errors(self) -> str:
        failed = [m for m in self.run.models if isinstance(m, ModelFailure)]
        if not failed:
            return ""
        out = ['<section id="errors">', "<h2>Files that cannot be checked</h2>"]
        for m in failed:
            shown = "\n".join(d.render(self.sources) for d in m.diagnostics)
            out.append(tag("h3", tag("code", escape(m.file))))
            out.append(tag("pre", escape(shown), data_model=m.file))
        out.append("</section>")
        return "\n".join(out)

    def _matrix(self) -> str:
        out = [
            '<section id="verdicts">',
            "<h2>Verdicts</h2>",
            tag(
                "p",
                "Each property's verdict in each mode (or param choice); a verdict links to "
                "its property.",
                class_="note",
            ),
            '<table id="matrix">',
        ]
        for t in self.tables:
            mine = [i for i, m in self.runs if m.file == t.file]
            shared = ", ".join(f"{k}={show(v)}" for k, v in t.params)
            head = f"{t.file}: {t.name}" + (f" ({shared})" if shared else "")
            out.append(f"<tbody{attrs(data_model=t.file)}>")
            out.append(
                tag("tr", tag("th", escape(head), colspan=len(t.columns) + 1), class_="model")
            )
            cols = "".join(tag("th", escape(c), scope="col") for c in t.columns)
            out.append(tag("tr", tag("th", "property", scope="col") + cols))
            for row in t.rows:
                cells = [tag("th", tag("code", escape(row.property)), scope="row")]
                for i, col, p in zip(mine, t.columns, row.cells, strict=True):
                    cells.append(self._cell(i, col, row.property, p))
                out.append(tag("tr", "".join(cells)))
            out.append("</tbody>")
        out.append("</table>")
        out.append(tag("p", escape("Legend: " + " ".join(matrix.LEGEND)), class_="legend"))
        out.append("</section>")
        return "\n".join(out)

    def _cell(self, i: int, col: str, pid: str, p: PropertyResult | None) -> str:
        if p is None:
            return tag(
                "td", matrix.NOT_APPLICABLE, class_="na",
                data_property=pid, data_mode=col, data_verdict=matrix.NOT_APPLICABLE,
            )  # fmt: skip
        return tag(
            "td", link(self.index.ids[(i, pid)], matrix.cell_text(p)),
            class_=f"v-{p.verdict.value} o-{p.outcome.value}",
            data_property=pid, data_mode=col, data_verdict=p.verdict.value,
        )  # fmt: skip

    def _latency(self) -> str:
        tables = latency_report.tables(self.latency) if self.latency is not None else []
        if not tables:
            return ""
        out = ['<section id="latencies">', "<h2>Latency</h2>", '<table id="latency">']
        reasons = []
        for t in tables:
            head = f"{t.file}: {t.name}" + (f" ({t.fixed})" if t.fixed else "")
            out.append(f"<tbody{attrs(data_model=t.file)}>")
            out.append(
                tag("tr", tag("th", escape(head), colspan=len(t.columns) + 2), class_="model")
            )
            names = ["worst case, request to response", "unit", *t.columns]
            out.append(tag("tr", "".join(tag("th", escape(c), scope="col") for c in names)))
            for row in t.rows:
                cells = [
                    tag("th", tag("code", escape(row)), scope="row"),
                    tag("td", escape(t.units[row])),
                ]
                for col in t.columns:
                    c = t.cells.get((row, col))
                    if c is None:
                        cells.append(
                            tag("td", "n/a", class_="na", data_property=row, data_mode=col)
                        )
                        continue
                    r = t.results[(row, col)]
                    i = next(
                        (i for i, m in self.runs if (m.file, m.params) == (r.file, r.params)), -1
                    )
                    cells.append(
                        tag("td", link(self.index.ids.get((i, c.prop)), c.worst),
                            data_property=c.prop, data_mode=col, data_worst=c.worst)
                    )  # fmt: skip
                    if c.worst == "unknown":
                        reasons.append(
                            f"{row}"
                            + (f" (mode {col})" if col != "-" else "")
                            + f": unknown, {c.reason}"
                        )
                out.append(tag("tr", "".join(cells)))
            out.append("</tbody>")
        out.append("</table>")
        out += [tag("p", escape(r), class_="note") for r in reasons]
        out.append(tag("p", escape(latency_report.LEGEND), class_="legend"))
        out.append("</section>")
        return "\n".join(out)
