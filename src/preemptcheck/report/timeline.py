"""A trace as a timeline: one self-contained SVG with a lane per CPU and a column per step.

Each CPU's lane shows, per state of the trace, its context (user, kernel, softirq, hardirq,
NMI) as a coloured band with the task current there, interrupts off as shading, the
preempt_count's count and its hardirq/softirq counts as step lines, and TIF_NEED_RESCHED,
the folded PREEMPT_NEED_RESCHED and TIF_NEED_RESCHED_LAZY as markers. What the lanes show
comes from the variables' roles (ftrace/flags.py reads them with the kernel's masks), the
user/kernel split from an enum variable with the members `user` and `kernel`; the other
variables a trace changes get a row each below the lanes, so a model without roles still
shows its run. Above the lanes every step is labelled (action@cpu, as the text report names
it); the last step is highlighted with the property's message and the kernel's BUG line, and
a lasso draws its loop. No scripts, fonts, images or links: a browser and a GitHub comment
show the same picture, and the same trace gives the same bytes.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from preemptcheck.checking.results import PropertyResult, RunResult, Verdict
from preemptcheck.expr.ast import EnumT
from preemptcheck.ftrace.flags import ModelFlags, View
from preemptcheck.model.ir import Model, Var
from preemptcheck.model.params import show
from preemptcheck.report.kernel import entry
from preemptcheck.report.text import _epilogue, var_entries, verdict_text
from preemptcheck.report.tracenames import traced
from preemptcheck.semantics.system import State, StepLabel
from preemptcheck.semantics.trace import Trace

LEFT, COL = 150, 84  # lane names, one column per state
CHAR = 6.7  # the width of a character at 11px monospace; labels are rotated 45 degrees
LANE, ROW, LINE = 118, 17, 16  # a CPU's lane, a variable's row, a message line
BAND = {  # context -> fill
    "user": "#cdeccd",
    "kernel": "#cfe0f7",
    "softirq": "#fde3b5",
    "hardirq": "#f6c0c0",
    "nmi": "#dccaf2",
}
MARKS = (  # View field -> (letter, colour, offset in the column)
    ("need_resched", "N", "#c0392b", -22),
    ("folded", "F", "#8e44ad", 0),
    ("lazy", "L", "#d68910", 22),
)
STYLE = (
    "text{font-family:monospace;font-size:11px;fill:#222}"
    ".small{font-size:9px}.tiny{font-size:8px}.title{font-size:14px;font-weight:bold}"
    ".lane-name{font-weight:bold}.msg{font-size:12px}.bug{fill:#b00020;font-weight:bold}"
    ".changed{font-weight:bold}"
)
_SHOWN_ROLES = ("preempt_count", "irqs_disabled", "current_task")  # per CPU, in the lanes
_TAG, _ID = re.compile(r"<[^<>]*>"), re.compile(r' id="')


def render_svg(
    model: Model, prop: PropertyResult, trace: Trace, title: str, *, id_prefix: str = ""
) -> str:
    """The timeline of `trace`, a counterexample or witness of `prop` in `model`.

    `id_prefix`: for a picture embedded in a page with others (`verify --html`): every id
    starts with it, the style applies to this picture only (`svg.timeline`), and the
    highlighted step's group also has class="violation"."""
    svg = _Timeline(model, prop, trace, title).svg()
    return _embedded(svg, id_prefix) if id_prefix else svg


def _embedded(svg: str, prefix: str) -> str:
    scoped = "".join(f"svg.timeline {rule}}}" for rule in STYLE.split("}") if rule)
    svg = svg.replace(f"<style>{STYLE}</style>", f"<style>{scoped}</style>", 1)
    svg = svg.replace("<svg ", '<svg class="timeline" ', 1)
    labels = f'aria-labelledby="{prefix}title {prefix}desc"'
    svg = svg.replace('aria-labelledby="title desc"', labels, 1)
    svg = svg.replace('<g id="violation" ', '<g id="violation" class="violation" ', 1)
    # text is escaped, so every `<...>` is a tag; prefix the id attribute of each
    return _TAG.sub(lambda t: _ID.sub(f' id="{prefix}', t.group(0), 1), svg)


def svg_files(run: RunResult) -> list[tuple[str, str]]:
    """(file name, SVG) for every property of the run with a trace: a failing one's
    counterexample or a witness, named as `verify --trace-dir` names its files."""
    return [
        (f"{base}.svg", render_svg(m.model, p, trace, f"{m.file}: {p.id}"))
        for base, m, p, trace in traced(run)
    ]


def step_label(label: StepLabel) -> str:
    return str(label)


def _attr(**attrs: object) -> str:
    return "".join(
        f" {k.rstrip('_').replace('_', '-')}={quoteattr(str(v))}" for k, v in attrs.items()
    )


def _el(tag: str, **attrs: object) -> str:
    return f"<{tag}{_attr(**attrs)}/>"


def _open(tag: str, **attrs: object) -> str:
    return f"<{tag}{_attr(**attrs)}>"


def _text(x: float, y: float, s: str, **attrs: object) -> str:
    return f"<text{_attr(x=_n(x), y=_n(y), **attrs)}>{escape(s)}</text>"


def _rect(x: float, y: float, w: float, h: float, **attrs: object) -> str:
    return f"<rect{_attr(x=_n(x), y=_n(y), width=_n(w), height=_n(h), **attrs)}/>"


def _n(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


class _Timeline:
    def __init__(self, model: Model, prop: PropertyResult, trace: Trace, title: str) -> None:
        self.model, self.prop, self.trace, self.title = model, prop, trace, title
        self.flags = ModelFlags(model)
        self.pc = model.role("preempt_count")
        self.cols = trace.length + 1  # column i: the state after step i (0: initial)
        self.where = _user_kernel(model)
        self.rows = self._changed_rows()
        self.message = [f"{prop.id}: {verdict_text(prop)}", *_epilogue(model, prop, trace)]
        if trace.failed and trace.message and not any(trace.message in m for m in self.message):
            self.message.append(f"error: {trace.message}")
        longest = max([13, *(len(str(label)) + 4 for label in trace.steps)])
        rise = int(longest * CHAR * 0.71) + 8  # the rotated labels' height (and width)
        self.head = 56 + rise + 58  # title, step labels, step numbers, the loop bracket
        self.lanes_y = self.head
        self.grid_y = self.head + LANE * model.cpus + 8
        self.msg_y = self.grid_y + ROW * len(self.rows) + 26
        text_w = int(CHAR * 1.1 * max(len(m) for m in self.message)) + 20
        self.width = max(LEFT + COL * self.cols + max(rise - COL // 2, 40), text_w, 660)
        self.height = self.msg_y + LINE * len(self.message) + 44

    def x(self, i: int) -> float:
        return LEFT + COL * i

    def state(self, i: int) -> State | None:
        return self.trace.states[i] if i < len(self.trace.states) else None

    def svg(self) -> str:
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
            'role="img" aria-labelledby="title desc">',
            f'<title id="title">{escape(self.title)}</title>',
            f'<desc id="desc">{escape(" ".join(self.message))}</desc>',
            f"<style>{STYLE}</style>",
            _rect(0, 0, self.width, self.height, fill="#ffffff"),
            _text(10, 22, self.title, class_="title"),
            _text(10, 40, self._subtitle(), class_="small"),
        ]
        out += self._highlight()
        out += self._header()
        out += self._loop()
        for cpu in range(self.model.cpus):
            out += self._lane(cpu)
        out += self._grid()
        out += self._footer()
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def _subtitle(self) -> str:
        params = ", ".join(f"{k}={show(v)}" for k, v in self.model.param_values)
        head = f"model {self.model.name}" + (f" ({params})" if params else "")
        return f"{head}; {self.trace.length} steps, one column per state"

    def _highlight(self) -> list[str]:
        """The last step's column, red for a violation, green for a witness."""
        bad = self.prop.verdict == Verdict.VIOLATED
        colour = "#fdecea" if bad else "#e8f6e8"
        edge = "#c0392b" if bad else "#2e8b57"
        n = self.cols - 1
        return [
            f'<g id="violation" data-step="{n}" data-verdict="{self.prop.verdict.value}">',
            _rect(self.x(n), 46, COL, self.msg_y - 58, fill=colour, stroke=edge),
            "</g>",
        ]

    def _header(self) -> list[str]:
        out = []
        base = self.head - 58
        for i in range(self.cols):
            cx = self.x(i) + COL / 2
            if i == 0:
                out.append('<g id="step-0" data-action="initial state">')
                out.append(
                    _text(
                        cx - 4, base, "initial state", transform=f"rotate(-45 {_n(cx - 4)} {base})"
                    )
                )
                out.append(_text(cx, base + 16, "0", text_anchor="middle", class_="small"))
                out.append("</g>")
                continue
            label = self.trace.steps[i - 1]
            name = step_label(label)
            irq = " irq" if self.model.action(label.action).irq else ""
            out.append(
                _open(
                    "g",
                    id=f"step-{i}",
                    data_action=label.action,
                    data_cpu=label.cpu,
                    data_label=name,
                )
            )
            out.append(
                _text(cx - 4, base, f"{i}. {name}", transform=f"rotate(-45 {_n(cx - 4)} {base})")
            )
            out.append(
                _text(
                    cx,
                    base + 16,
                    f"step {i} cpu{label.cpu}{irq}",
                    text_anchor="middle",
                    class_="small",
                )
            )
            out.append("</g>")
        if self.trace.origin >= 0:
            cx = self.x(self.trace.origin) + COL / 2
            out.append(
                _text(
                    cx,
                    base + 28,
                    "▼ request",
                    id="origin",
                    text_anchor="middle",
                    class_="small",
                    fill="#c0392b",
                )
            )
        return out

    def _loop(self) -> list[str]:
        loop, n = self.trace.loop, self.trace.length
        if loop is None:
            return []
        y = self.head - 14
        if loop == n:
            return [
                f'<g id="loop" data-from="{n}" data-to="{n}">',
                _text(
                    self.x(n) + COL / 2, y, "run stops here", text_anchor="middle", class_="small"
                ),
                "</g>",
            ]
        x0, x1 = self.x(loop) + COL / 2, self.x(n) + COL / 2
        text = f"loop: steps {loop + 1}-{n} repeat forever (state {n} = state {loop})"
        return [
            f'<g id="loop" data-from="{n}" data-to="{loop}">',
            f'<path d="M {_n(x1)} {y + 10} V {y} H {_n(x0)} V {y + 10}" fill="none" '
            'stroke="#1f4e9e" stroke-width="2"/>',
            f'<path d="M {_n(x0 - 5)} {y + 4} L {_n(x0)} {y + 12} L {_n(x0 + 5)} {y + 4} Z" '
            'fill="#1f4e9e"/>',
            _text((x0 + x1) / 2, y - 4, text, text_anchor="middle", class_="small", fill="#1f4e9e"),
            "</g>",
        ]

    def _lane(self, cpu: int) -> list[str]:
        top = self.lanes_y + LANE * cpu
        out = [
            f'<g id="lane-cpu{cpu}" class="lane" data-cpu="{cpu}">',
            f'<line x1="0" y1="{top}" x2="{self.width}" y2="{top}" stroke="#999"/>',
            _text(10, top + 18, f"CPU {cpu}", class_="lane-name"),
        ]
        views: list[View | None] = []
        for i in range(self.cols):
            st = self.state(i)
            views.append(None if st is None else self.flags.view(st, cpu))
        band_y, plot_y, mark_y, act_y = top + 6, top + 34, top + 82, top + 112
        for i, view in enumerate(views):
            st = self.state(i)
            if st is None or view is None:
                out.append(
                    _text(
                        self.x(i) + COL / 2, top + 40, "error", text_anchor="middle", class_="bug"
                    )
                )
                continue
            x = self.x(i)
            if view.irqs_off:
                out.append(
                    _rect(
                        x,
                        top + 2,
                        COL,
                        LANE - 4,
                        fill="#777",
                        fill_opacity="0.18",
                        class_="irqs-off",
                        id=f"irqs-off-cpu{cpu}-{i}",
                    )
                )
            ctx = self._context(st, cpu, view)
            task = self.flags.current(st, cpu)
            if ctx is not None or task is not None:
                fill = BAND.get(ctx or "", "#eeeeee")
                out.append(_rect(x + 1, band_y, COL - 2, 18, fill=fill, class_=f"ctx ctx-{ctx}"))
                words = " ".join(str(w) for w in (task, ctx) if w is not None)
                out.append(
                    _text(
                        x + COL / 2,
                        band_y + 13,
                        _short(words, 13),
                        text_anchor="middle",
                        class_="small",
                    )
                )
        out += self._plot(cpu, views, plot_y)
        out += self._marks(cpu, views, mark_y)
        for i in range(1, self.cols):
            label = self.trace.steps[i - 1]
            if label.cpu == cpu:
                cx = self.x(i) + COL / 2
                out.append(
                    _el(
                        "path",
                        d=f"M {_n(cx - 5)} {band_y - 6} H {_n(cx + 5)} L {_n(cx)} {band_y} Z",
                        fill="#222",
                    )
                )
                name = str(label).replace(f"@cpu{cpu}", "")
                out.append(
                    _text(cx, act_y, _short(name, 13), text_anchor="middle", class_="small action")
                )
        out.append("</g>")
        return out

    def _context(self, st: State, cpu: int, view: View) -> str | None:
        if view.context is not None and view.context != ".":
            return {"h": "hardirq", "H": "hardirq", "s": "softirq"}.get(view.context, "nmi")
        if self.where is not None:
            var, per_task = self.where
            value = st.values[self.model.vars.index(var)]
            if per_task:
                task = self.flags.current(st, cpu)
                if task not in self.model.tasks:
                    return None
                value = value[self.model.tasks.index(task)]
            elif var.info.index is not None:
                value = value[cpu]
            return str(value)
        return "kernel" if view.context is not None else None

    def _plot(self, cpu: int, views: list[View | None], y: int) -> list[str]:
        """preempt_count's count (solid) and hardirq + softirq counts (dashed) as steps."""
        if self.pc is None:
            return []
        raws: list[int | None] = []
        for i in range(self.cols):
            st = self.state(i)
            raw = None if st is None else entry(self.model, self.pc, st, cpu)
            raws.append(raw if isinstance(raw, int) else None)
        series = {
            "count": [None if r is None else r & 0xFF for r in raws],
            "irq": [None if r is None else ((r >> 16) & 0xF) + ((r >> 8) & 0xFF) for r in raws],
        }
        top = max([1] + [v for s in series.values() for v in s if v is not None])
        out = [
            _text(10, y + 20, "preempt count", class_="small"),
            _text(10, y + 32, "-- irq counts", class_="small"),
        ]
        for name, values in series.items():
            if name == "irq" and not any(values):
                continue
            pts: list[str] = []
            for i, v in enumerate(values):
                if v is None:
                    continue
                yy = y + 40 - 36 * v / top
                pts += [f"{_n(self.x(i))},{_n(yy)}", f"{_n(self.x(i) + COL)},{_n(yy)}"]
                if i == 0 or values[i - 1] != v:
                    out.append(
                        _text(
                            self.x(i) + 3, yy - 2, str(v), class_="small", id=f"{name}-cpu{cpu}-{i}"
                        )
                    )
            dash = ' stroke-dasharray="4 3"' if name == "irq" else ""
            colour = "#1f4e9e" if name == "count" else "#c0392b"
            out.append(
                _el("polyline", class_=name, points=" ".join(pts), fill="none", stroke=colour)[:-2]
                + f' stroke-width="2"{dash}/>'
            )
        return out

    def _marks(self, cpu: int, views: list[View | None], y: int) -> list[str]:
        """A filled marker where a bit is set, a crossed one in the state it was cleared in."""
        out: list[str] = []
        for field, letter, colour, dx in MARKS:
            if all(v is None or getattr(v, field) is None for v in views):
                continue
            prev = False
            for i, v in enumerate(views):
                on = bool(v is not None and getattr(v, field))
                cx = self.x(i) + COL / 2 + dx
                cls = "set" if on and not prev else "kept" if on else "cleared" if prev else ""
                if cls:
                    fill = colour if on else "#ffffff"
                    ident = f"{'nr' if field == 'need_resched' else field}-cpu{cpu}-{i}"
                    out.append(f"<g{_attr(id=ident, class_=f'marker {field} {cls}', data_step=i)}>")
                    out.append(
                        _el(
                            "circle", cx=_n(cx), cy=y, r=8, fill=fill, stroke=colour, stroke_width=2
                        )
                    )
                    out.append(
                        _text(
                            cx,
                            y + 4,
                            letter if on else "\u00d7",  # a cross: cleared
                            text_anchor="middle",
                            fill="#fff" if on else colour,
                        )
                    )
                    if cls != "kept":
                        word = "set" if on else "off"
                        out.append(_text(cx, y + 19, word, text_anchor="middle", class_="tiny"))
                    out.append(f"<title>{escape(_MARK_NAMES[field])} {cls} (step {i})</title></g>")
                prev = on
        return out

    def _changed_rows(self) -> list[tuple[Var, str, list[Any]]]:
        """(variable, entry name, value per column) of the entries the trace changes, but
        for those the lanes show."""
        rows = []
        states = self.trace.states
        for vi, var in enumerate(self.model.vars):
            if var.role in _SHOWN_ROLES and (var.info.index is None or var.info.index.is_cpus):
                continue
            per_state = [var_entries(self.model, var, st.values[vi]) for st in states]
            for e, (name, first) in enumerate(per_state[0]):
                values = [entries[e][1] for entries in per_state]
                if any(v != first for v in values):
                    rows.append((var, name, values))
        return rows

    def _grid(self) -> list[str]:
        out = ['<g id="variables">']
        for r, (var, name, values) in enumerate(self.rows):
            y = self.grid_y + ROW * r
            out.append(_text(10, y + 12, _short(name, 20), class_="small"))
            for i, v in enumerate(values):
                changed = i > 0 and values[i - 1] != v
                if changed:
                    out.append(_rect(self.x(i) + 2, y + 1, COL - 4, ROW - 2, fill="#fff3b0"))
                out.append(
                    _text(
                        self.x(i) + COL / 2,
                        y + 12,
                        _short(_value(var, v), 13),
                        text_anchor="middle",
                        class_="small changed" if changed else "small",
                    )
                )
        out.append("</g>")
        return out

    def _footer(self) -> list[str]:
        out = ['<g id="message">']
        for k, line in enumerate(self.message):
            cls = "msg bug" if line.startswith("BUG:") else "msg"
            out.append(_text(10, self.msg_y + LINE * k, line, class_=cls))
        legend = [*(f"{k}" for k in BAND), "irqs off", "N TIF_NEED_RESCHED", "F folded", "L lazy"]
        y = self.msg_y + LINE * len(self.message) + 16
        x = 10
        for item in legend:
            fill = BAND.get(item, "#bbbbbb")
            out.append(_rect(x, y - 10, 12, 12, fill=fill))
            out.append(_text(x + 16, y, item, class_="small"))
            x += 24 + 6 * len(item)
        out.append("</g>")
        return out


_MARK_NAMES = {
    "need_resched": "TIF_NEED_RESCHED",
    "folded": "PREEMPT_NEED_RESCHED folded",
    "lazy": "TIF_NEED_RESCHED_LAZY",
}


def _user_kernel(model: Model) -> tuple[Var, bool] | None:
    """The enum variable (per CPU, per task or scalar) that says user or kernel."""
    for var in model.vars:
        t = var.info.type
        if isinstance(t, EnumT) and {"user", "kernel"} <= set(t.values):
            idx = var.info.index
            if idx is None or idx.is_cpus:
                return var, False
            if idx.values == model.tasks and model.role("current_task") is not None:
                return var, True
    return None


def _value(var: Var, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if var.info.kind == "word" and isinstance(v, int):
        return f"0x{v:0{max(1, (var.info.hi.bit_length() + 3) // 4)}x}"
    return str(v)
