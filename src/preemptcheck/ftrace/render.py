"""A counterexample as a kernel recording: ftrace text (the trace file's current layout, which
`preemptcheck trace` reads back and Perfetto opens) and Chrome trace-event JSON (Perfetto,
chrome://tracing).

Each step's events become lines on its CPU, with the flags column the model's state shows
at that event (flags.step_views, the same the trace checker expects), and the task that is
current on that CPU (the `current_task` role) as TASK-PID. A `#` comment before each step
names it, so the recording reads alongside the step table. Timestamps are made up: 10 us a
step, 1 us between the events of one step.
"""

from __future__ import annotations

from typing import Any

from preemptcheck.expr.ast import Value
from preemptcheck.ftrace.flags import ModelFlags, View, context_letter, resched_letter, step_views
from preemptcheck.model.ir import Model, TraceMap
from preemptcheck.monitors.semantics import emitted
from preemptcheck.semantics.system import State, StepLabel
from preemptcheck.semantics.trace import Trace

START = 100.0  # seconds: the first step's time
STEP_US = 10
PID_BASE = 100  # task i of the model is pid PID_BASE + i

HEADER = """\
# tracer: nop
#
# entries-in-buffer/entries-written: {n}/{n}   #P:{cpus}
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |"""


def flags_text(view: View, fallback: View) -> str:
    """The 5-character column for a view; components it leaves open come from `fallback`."""
    v = View._make(a if a is not None else b for a, b in zip(view, fallback, strict=True))
    irq = "D" if v.irqs_off and v.bh_off else "d" if v.irqs_off else "b" if v.bh_off else "."
    resched = resched_letter(bool(v.need_resched), bool(v.folded), bool(v.lazy))
    ctx = v.context or context_letter(False, False, False)
    depth = f"{v.depth:x}" if v.depth else "."
    return f"{irq}{resched}{ctx}{depth}."


class _Steps:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.index = {v.name: i for i, v in enumerate(model.vars)}
        self.flags = ModelFlags(model)
        self.curr = model.role("current_task")
        self.pids = {t: int(p) for p, t in reversed(model.trace_tasks) if p.isdigit()}
        self.maps: dict[str, TraceMap] = {}  # model event -> its first tracepoint
        for m in model.trace:
            self.maps.setdefault(m.event, m)

    def task(self, st: State, cpu: int) -> tuple[str, int]:
        """TASK-PID of a line: the CPU's current task, with its pid from the model's
        `trace: {tasks: ...}` or PID_BASE + its index."""
        if self.curr is None:
            return f"cpu{cpu}", PID_BASE + cpu
        value = st.values[self.index[self.curr.name]]
        name = str(value[cpu] if self.curr.info.index is not None else value)
        if name in self.pids:
            return name, self.pids[name]
        return name, PID_BASE + list(self.model.tasks).index(name)

    def events(
        self, pre: State, post: State | None, label: StepLabel
    ) -> list[tuple[str, tuple[tuple[str, Value], ...], str]]:
        """(tracepoint, arguments, flags column) of each event of the step: the model's
        event and attributes, through its `trace:` section backwards where it has one."""
        out = emitted(self.model, self.index, pre, label)
        before = self.flags.view(pre, label.cpu)
        after = self.flags.view(post, label.cpu) if post is not None else before
        views = step_views(before, after, tuple(name for name, _ in out))
        return [
            (*self._recorded(name, attrs), flags_text(view, after))
            for (name, attrs), view in zip(out, views, strict=True)
        ]

    def _recorded(
        self, event: str, attrs: tuple[tuple[str, Value], ...]
    ) -> tuple[str, tuple[tuple[str, Value], ...]]:
        mapped = self.maps.get(event)
        if mapped is None:
            return event, attrs
        args = {a.attr: a for a in mapped.args}
        shown: list[tuple[str, Value]] = []
        for name, value in attrs:
            arg = args.get(name)
            back = next((k for k, v in arg.values if v == value), None) if arg else None
            shown.append((arg.arg, back) if arg is not None and back is not None else (name, value))
        return mapped.tracepoint, tuple(shown)


def ftrace_text(model: Model, trace: Trace, title: str = "") -> str:
    steps = _Steps(model)
    body: list[str] = []
    n = 0
    for k, label in enumerate(trace.steps):
        pre = trace.states[k]
        post = trace.states[k + 1] if k + 1 < len(trace.states) else None
        if trace.loop is not None and k == trace.loop:
            body.append("# -- loop: from here the steps repeat forever --")
        body.append(f"# step {k + 1}: {label}")
        if post is None:  # the step cannot complete: its events are not a recording
            body.append(f"#   fails: {trace.message or 'cannot be evaluated'}")
            continue
        comm, pid = steps.task(pre, label.cpu)
        for i, (event, attrs, flags) in enumerate(steps.events(pre, post, label)):
            us = (k + 1) * STEP_US + i
            ts = f"{START + us // 1_000_000:.0f}.{us % 1_000_000:06d}"
            args = " ".join(f"{a}={_show(v)}" for a, v in attrs)
            body.append(
                f"{comm:>16}-{pid:<7} [{label.cpu:03d}] {flags} {ts:>12}: {event}: {args}".rstrip()
            )
            n += 1
    head = HEADER.format(n=n, cpus=model.cpus)
    intro = [f"# {title}"] if title else []
    return "\n".join([*intro, head, *body]) + "\n"


def chrome_trace(model: Model, trace: Trace, title: str = "") -> dict[str, Any]:
    """Chrome trace-event JSON: a track per CPU (pid) and task (tid), an instant event per
    traced event and a complete event (`X`) per model step, timestamps in microseconds."""
    steps = _Steps(model)
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": c, "args": {"name": f"CPU {c}"}}
        for c in range(model.cpus)
    ]
    for k, label in enumerate(trace.steps):
        pre = trace.states[k]
        post = trace.states[k + 1] if k + 1 < len(trace.states) else None
        comm, pid = steps.task(pre, label.cpu)
        us = (k + 1) * STEP_US
        events.append(
            {
                "name": str(label).replace(f"@cpu{label.cpu}", ""),
                "cat": "step",
                "ph": "X",
                "ts": us,
                "dur": STEP_US - 1,
                "pid": label.cpu,
                "tid": pid,
                "args": {"step": k + 1, "task": comm, "fails": post is None},
            }
        )
        if post is None:
            continue
        for i, (event, attrs, flags) in enumerate(steps.events(pre, post, label)):
            events.append(
                {
                    "name": event,
                    "cat": "tracepoint",
                    "ph": "i",
                    "s": "t",
                    "ts": us + i,
                    "pid": label.cpu,
                    "tid": pid,
                    "args": {"flags": flags, **{a: _show(v) for a, v in attrs}},
                }
            )
    meta = {"title": title} if title else {}
    return {"traceEvents": events, "displayTimeUnit": "ns", "otherData": meta}


def _show(v: Value) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)
