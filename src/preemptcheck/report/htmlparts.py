"""The HTML report's building blocks: its style sheet, element helpers, the index of what
links to what (a section per property, an anchor per YAML line), and a YAML file's listing."""

from __future__ import annotations

import re
from html import escape

from preemptcheck.checking.results import ModelResult, RunResult
from preemptcheck.core.source import SourceCache, Span, UnreadableError, read_source
from preemptcheck.model.params import show
from preemptcheck.report import matrix

# Verdicts and outcomes are always written in words too: colour only helps (print, no colour).
CSS = """
:root{--ok:#1e7b34;--bad:#b00020;--warn:#9a6700;--muted:#555;--line:#d0d7de}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
 background:#fff;line-height:1.4}
main{max-width:1200px;margin:0 auto;padding:1rem 1.5rem}
h1{font-size:1.5rem}h2{font-size:1.25rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;
 margin-top:2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}h4{font-size:1rem;margin:.2rem 0}
code,pre,.yaml-file{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;
 font-size:.85rem}
pre{overflow-x:auto;background:#f6f8fa;padding:.5rem;border:1px solid var(--line)}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid var(--line);padding:.15rem .5rem;text-align:left;vertical-align:top}
tbody tr.model th{background:#eef1f4;font-weight:bold}
th[scope=row] code{white-space:nowrap}
#summary ul.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem}
#summary .count{font-weight:bold;font-size:1.2rem}
#summary dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}
#summary dt{color:var(--muted)}#summary dd{margin:0}
.v-holds{color:var(--ok)}.v-violated{color:var(--bad)}.v-bounded,.v-unknown{color:var(--warn)}
td.v-holds a,td.v-violated a,td.v-bounded a,td.v-unknown a{color:inherit}
td.o-unexpected{background:#fdecea;font-weight:bold}td.o-inconclusive{background:#fff8c5}
td.na{color:var(--muted)}
section.property{border:1px solid var(--line);border-left:6px solid var(--ok);margin:.8rem 0;
 padding:.4rem .8rem}
section.property.o-unexpected{border-left-color:var(--bad)}
section.property.o-inconclusive{border-left-color:var(--warn)}
section.property:target,section.run:target{outline:3px solid #0969da}
.mark{display:inline-block;min-width:3.2em;font-weight:bold}
.o-as-expected .mark{color:var(--ok)}.o-unexpected .mark{color:var(--bad)}
.o-inconclusive .mark{color:var(--warn)}
.message{margin:.2rem 0}.where,.doc,.stats,.note,.legend{color:var(--muted);margin:.2rem 0}
.warning{color:var(--warn)}
.picture{overflow-x:auto}
ol.steps{columns:3 18em;margin:.3rem 0}
tr.unfired td{color:var(--bad);font-weight:bold}
.yaml-file{border:1px solid var(--line);background:#f6f8fa;overflow-x:auto;padding:.3rem 0}
.yaml-file div{white-space:pre;padding:0 .5rem}
.yaml-file div:target{background:#fff8c5;outline:1px solid var(--warn)}
.yaml-file .ln{display:inline-block;width:3.5em;color:var(--muted);user-select:none}
@media print{
 section.property{break-inside:avoid}details{display:block}
 a{color:inherit;text-decoration:none}
 td.o-unexpected,td.o-inconclusive{background:none}
}
"""


def attrs(**values: object) -> str:
    """` k="v"` pairs, escaped; `class_` is `class`, `data_x` is `data-x`; None is left out."""
    return "".join(
        f' {k.rstrip("_").replace("_", "-")}="{escape(str(v))}"'
        for k, v in values.items()
        if v is not None
    )


def tag(name: str, body: str = "", **values: object) -> str:
    """An element; `body` is HTML (escape text first)."""
    return f"<{name}{attrs(**values)}>{body}</{name}>"


def link(target: str | None, text: str, **values: object) -> str:
    """A fragment link, or the bare (escaped) text without a target."""
    if target is None:
        return escape(text)
    return tag("a", escape(text), href=f"#{target}", **values)


def line_anchor(index: int, line: int) -> str:
    """The id of line `line` (1-based) of the `index`-th embedded file."""
    return f"src-{index}-L{line}"


def source_listing(index: int, file: str, text: str) -> str:
    """A YAML file, a `div` with an id per line, in its own section."""
    rows = [
        f'<div id="{line_anchor(index, k)}"><span class="ln">{k}</span>{escape(line)}</div>'
        for k, line in enumerate(text.splitlines(), start=1)
    ]
    return "\n".join(
        [
            f'<section class="source" id="src-{index}"{attrs(data_file=file)}>',
            tag("h3", tag("code", escape(file))),
            '<div class="yaml-file">',
            *rows,
            "</div>",
            "</section>",
        ]
    )


def params_text(m: ModelResult) -> str:
    return ", ".join(f"{k}={show(v)}" for k, v in m.params)


class Index:
    """The page's ids: a section per (model run, property), the matrix column of each run,
    and the YAML files embedded (every file a checked model read), with a line's anchor."""

    def __init__(self, run: RunResult, sources: SourceCache) -> None:
        self.runs = [(i, m) for i, m in enumerate(run.models) if isinstance(m, ModelResult)]
        self.tables = matrix.build(run, by_mode=False)  # one per model file
        self.column: dict[int, str] = {}  # run index -> its matrix column (a mode, or params)
        for t in self.tables:
            mine = [i for i, m in self.runs if m.file == t.file]
            self.column.update(zip(mine, t.columns, strict=True))
        self.ids: dict[tuple[int, str], str] = {}  # (run index, property id) -> section id
        used: set[str] = set()
        for i, m in self.runs:
            for p in m.properties:
                base = ident = f"p{i}-{re.sub(r'[^A-Za-z0-9_.-]', '_', p.id)}"
                k = 2
                while ident in used:
                    ident, k = f"{base}-{k}", k + 1
                used.add(ident)
                self.ids[(i, p.id)] = ident
        self.files: dict[str, int] = {}  # embedded file -> its index
        self.texts: list[tuple[str, str]] = []
        for _, m in self.runs:
            for f in (m.file, *m.model.files):
                self._embed(f, sources)

    def _embed(self, file: str, sources: SourceCache) -> None:
        if file in self.files:
            return
        content = sources.text(file)
        if content is None:
            try:
                content = read_source(file)
            except UnreadableError:
                return
        self.files[file] = len(self.texts)
        self.texts.append((file, content))

    def anchor(self, span: Span) -> str | None:
        """The id of the YAML line at `span`, if that file is embedded."""
        n = self.files.get(span.file)
        return None if n is None or span.line < 1 else line_anchor(n, span.line)

    def sources(self) -> str:
        out = ['<section id="sources">', "<h2>Sources</h2>"]
        out += [source_listing(n, file, content) for n, (file, content) in enumerate(self.texts)]
        out.append("</section>")
        return "\n".join(out)
