"""Text report for people: per model its verdicts, counterexample tables and kernel BUG lines."""

from __future__ import annotations

import textwrap
from typing import Any

from preemptcheck.checking.results import (
    ModelFailure,
    ModelResult,
    Outcome,
    PropertyResult,
    RunResult,
    Strength,
    Verdict,
)
from preemptcheck.core.source import SourceCache
from preemptcheck.expr.evaluate import EvalError
from preemptcheck.ftrace.render import ftrace_text
from preemptcheck.model.ir import Model, Property, PropKind, Var
from preemptcheck.report.kernel import bug_lines, show_scalar
from preemptcheck.semantics.reference import Reference
from preemptcheck.semantics.system import StepLabel
from preemptcheck.semantics.trace import Trace

WIDTH = 100
MARK = {Outcome.AS_EXPECTED: "ok", Outcome.UNEXPECTED: "FAIL", Outcome.INCONCLUSIVE: "??"}
# on a terminal: green, bold red, yellow (ANSI SGR)
COLOR = {
    Outcome.AS_EXPECTED: "\x1b[32m",
    Outcome.UNEXPECTED: "\x1b[1;31m",
    Outcome.INCONCLUSIVE: "\x1b[33m",
}


def render_run(
    run: RunResult,
    sources: SourceCache | None = None,
    *,
    traces: str = "violations",
    trace_format: str = "table",
    invariants: bool = False,
    quiet: bool = False,
    color: bool = False,
) -> str:
    """`quiet`: only the models and properties whose verdict is not as expected, and the
    summary; `color`: ok, FAIL and ?? in ANSI colours (a terminal)."""
    parts = [
        render_model(
            m,
            sources,
            traces=traces,
            trace_format=trace_format,
            invariants=invariants,
            quiet=quiet,
            color=color,
        )
        for m in run.models
    ]
    parts = [p for p in parts if p]
    if run.interrupted is not None:
        parts.append(interrupted_line(run))
    return "\n".join([*parts, summary_line(run)]) + "\n"


def interrupted_line(run: RunResult) -> str:
    """What a run stopped by a signal left undone."""
    n = len(run.unchecked)
    rest = f"; {n} model file{'s' * (n != 1)} not checked" if n else ""
    return f"interrupted by {run.interrupted}: the verdicts above are all that was decided{rest}"


def summary_line(run: RunResult) -> str:
    """The run's one-line count: models, runs, properties by outcome, errors, warnings."""
    c = run.counts()
    props = c["as-expected"] + c["unexpected"] + c["inconclusive"]
    files = len({m.file for m in run.models})
    runs = len(run.models)
    what = f"{files} model{'s' * (files != 1)}"
    if runs != files:
        what += f" in {runs} runs"  # a model checked for several param choices
    summary = (
        f"{what}, {props} properties: {c['as-expected']} as "
        f"expected, {c['unexpected']} unexpected, {c['inconclusive']} inconclusive"
    )
    if c["errors"]:
        summary += f"; {c['errors']} with errors"
    if c["warnings"]:
        summary += f"; {c['warnings']} warning{'s' * (c['warnings'] != 1)}"
    return summary


def render_model(
    m: ModelResult | ModelFailure,
    sources: SourceCache | None = None,
    *,
    traces: str = "violations",
    trace_format: str = "table",
    invariants: bool = False,
    quiet: bool = False,
    color: bool = False,
) -> str:
    """`trace_format`: table (a row a step) or ftrace (the trace as a kernel recording);
    `invariants` (-v): the action coverage, and what a strengthened k-induction proof rests
    on."""
    if isinstance(m, ModelFailure):
        lines = [f"{m.file}: cannot be checked"]
        lines += ["  " + line for d in m.diagnostics for line in d.render(sources).splitlines()]
        return "\n".join(lines) + "\n"
    params = ", ".join(f"{k}={_v(v)}" for k, v in m.params)
    lines = [f"{m.file}: {m.name}" + (f" ({params})" if params else "")]
    if quiet and not m.warnings and all(p.outcome == Outcome.AS_EXPECTED for p in m.properties):
        return ""
    if not quiet:
        lines.extend(_about(m, invariants))
    width = max((len(p.id) for p in m.properties), default=10) + 2
    for p in m.properties:
        if quiet and p.outcome == Outcome.AS_EXPECTED:
            continue
        mark = f"{MARK[p.outcome]:<5}"
        if color:
            mark = f"{COLOR[p.outcome]}{mark}\x1b[0m"
        lines.append(f"  {mark} {p.id:<{width}} {verdict_text(p)}")
        show = p.trace is not None and (
            traces == "all"
            or (traces == "violations" and p.verdict == Verdict.VIOLATED)
            or (traces != "none" and p.outcome == Outcome.UNEXPECTED)
        )
        if show:
            assert p.trace is not None
            if trace_format == "ftrace":
                shown = ftrace_text(m.model, p.trace, f"{m.file}: {p.id}")
            else:
                shown = render_trace(m.model, p, p.trace)
            lines.extend(textwrap.indent(shown, "        ").splitlines())
        if p.cti is not None and traces != "none":
            shown = render_cti(p.cti_model or m.model, p, p.cti)
            lines.extend(textwrap.indent(shown, "        ").splitlines())
    if not quiet:
        if m.disabled:
            head = "  actions off for these params: "
            for k, line in enumerate(_wrap_items(list(m.disabled), WIDTH - len(head))):
                lines.append((head if k == 0 else " " * len(head)) + line)
        if m.skipped:
            mode = dict(m.params).get("mode", "?")
            ids = [pid for pid, _ in m.skipped]
            head = f"  skipped, not for mode {mode}: "
            for k, line in enumerate(_wrap_items(ids, WIDTH - len(head))):
                lines.append((head if k == 0 else " " * len(head)) + line)
    for w in m.warnings:
        lines.append(f"  warning: {w}")
    for n in m.notes if not quiet else ():
        lines.append(f"  note: {n}")
    return "\n".join(lines) + "\n"


def _about(m: ModelResult, invariants: bool) -> list[str]:
    """The lines under a model's name: the search, and with -v coverage and invariants."""
    lines: list[str] = []
    s = m.stats
    if m.engine == "all-cpus":
        lines.append(
            "  symbolic (z3), every number of CPUs: quantified inductive invariants"
            + (f" (incomplete: {s.limit})" if s.limit else "")
        )
    elif s.states is None:  # the symbolic engine: no state enumeration
        lines.append(
            f"  {m.engine} (z3): bounded model checking to depth {s.depth}, k-induction"
            + (f" (incomplete: {s.limit})" if s.limit else "")
        )
    else:
        how = "exhaustive" if s.complete else f"incomplete: {s.limit}"
        if s.backend is not None:
            how += f"; {s.backend} backend"
        lines.append(
            f"  {s.states:,} states, {s.transitions:,} transitions, depth {s.depth} ({how})"
        )
    if s.symmetry is not None:
        full = f"{s.states_unreduced:,}" if s.states_unreduced is not None else "?"
        part = "" if s.complete else " (in the part explored)"
        lines.append(
            f"  symmetry-reduced ({s.symmetry}): {full} states without the reduction{part}"
        )
    if invariants and m.coverage:  # -v: how many reachable states enable each action
        head = "  coverage (states that enable each action): "
        items = [f"{a} {n:,}" for a, n in m.coverage]
        for k, line in enumerate(_wrap_items(items, WIDTH - len(head))):
            lines.append((head if k == 0 else " " * len(head)) + line)
    if invariants and (m.invariants or m.invariants_unwritten):
        total = len(m.invariants) + m.invariants_unwritten
        lines.append(
            f"  k-induction strengthened by {total} invariants, proved inductive together with "
            "the properties:"
        )
        lines.extend(f"    {inv}" for inv in m.invariants)
        if m.invariants_unwritten:
            lines.append(
                f"    and {m.invariants_unwritten} about CPUs' places in `steps:` sequences, "
                "which the model language cannot write"
            )
    return lines


def verdict_text(p: PropertyResult) -> str:
    if p.all_cpus is not None:
        return _all_cpus_text(p)
    steps = f"{p.trace.length} step{'s' * (p.trace.length != 1)}" if p.trace else ""
    if p.verdict == Verdict.UNKNOWN:
        return f"unknown: {p.reason}"
    if p.verdict == Verdict.BOUNDED:
        k = f"; induction fails at k={p.cti.length}" if p.cti is not None else ""
        return f"holds up to depth {p.reason} (bounded, not a proof{k})"
    if p.strength == Strength.INDUCTIVE:
        text = f"{p.verdict.value} (proved: {p.reason})"
        if p.outcome == Outcome.UNEXPECTED:
            text += f", expected {p.expect.value}"
        elif p.verdict == Verdict.VIOLATED:
            text += ", as expected"
        return text
    detail = (
        p.strength.value
        if not p.trace
        else (f"{p.strength.value}, {steps}" if p.strength.value == "witness" else steps)
    )
    if p.verdict == Verdict.VIOLATED and p.reason and not p.trace:
        detail = p.reason
    if p.edges is not None:
        detail += f"; edges taken {p.edges.taken}/{p.edges.total}"
    text = f"{p.verdict.value} ({detail})"
    if p.outcome == Outcome.UNEXPECTED:
        text += f", expected {p.expect.value}"
    elif p.verdict == Verdict.VIOLATED:
        text += ", as expected"
    return text


def _all_cpus_text(p: PropertyResult) -> str:
    """A verdict for every number of CPUs: the invariant its proof rests on."""
    if p.verdict == Verdict.HOLDS:
        parts = list(p.invariant)
        if p.invariant_unwritten:
            parts.append(f"{p.invariant_unwritten} more about CPUs' places in `steps:` sequences")
        if p.kind == PropKind.NEVER:
            inv = "true" if not parts else "; ".join(parts)
            text = (
                "holds for every number of CPUs (no step fires under the inductive "
                f"invariant: {inv})"
            )
        else:
            inv = "the property alone" if not parts else "the property and " + "; ".join(parts)
            text = f"holds for every number of CPUs (inductive invariant: {inv})"
        if p.all_cpus is not None and p.all_cpus > 1:
            text += f", from {p.all_cpus} CPUs"
    elif p.verdict == Verdict.VIOLATED:
        text = f"violated ({p.reason})"
    else:
        return f"unknown for every number of CPUs: {p.reason}"
    if p.outcome == Outcome.UNEXPECTED:
        text += f", expected {p.expect.value}"
    return text


def _v(v: object) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


# ---------------------------------------------------------------- traces


def var_entries(model: Model, var: Var, value: Any) -> list[tuple[str, Any]]:
    """(display name, value) per entry; CPU-indexed names drop `[0]` on one-CPU models."""
    info = var.info
    if info.index is None:
        return [(var.name, value)]
    if info.index.is_cpus and model.cpus == 1:
        return [(var.name, value[0])]
    return [(f"{var.name}[{_v(k)}]", v) for k, v in zip(info.index.values, value, strict=True)]


def changes(model: Model, before: Any, after: Any, label: StepLabel | None = None) -> list[str]:
    """What a step changed; a preempt_count word before and after; and for a step of a
    non-atomic sequence also what it wrote without changing (the value a load picked up)."""
    written = _written(model, before, label) if label is not None else set()
    out: list[str] = []
    for var, a, b in zip(model.vars, before.values, after.values, strict=True):
        for (name, va), (_, vb) in zip(
            var_entries(model, var, a), var_entries(model, var, b), strict=True
        ):
            if va != vb and var.role == "preempt_count":
                out.append(f"{name}: {show_scalar(var, va)} -> {show_scalar(var, vb)}")
            elif va != vb:
                out.append(f"{name}={show_scalar(var, vb)}")
            elif name in written:
                out.append(f"{name}={show_scalar(var, vb)} (unchanged)")
    return out


def _written(model: Model, before: Any, label: StepLabel) -> set[str]:
    """Display names of the entries a `steps` step assigns (evaluated in the state before)."""
    action = model.action(label.action)
    if not action.is_sequence:
        return set()
    ref = Reference(model)
    env = {"self": label.cpu, **dict(label.bindings)}
    step = action.steps[label.step]
    try:
        if step.cond is not None and not ref.eval(step.cond, before, env):
            return set()  # `if` was false: the step wrote nothing
    except EvalError:
        return set()
    names: set[str] = set()
    for a in step.assigns:
        t = a.target
        var = model.var(t.var.name)
        if t.index is None:
            names.add(var_entries(model, var, before.values[model.vars.index(var)])[0][0])
            continue
        try:
            idx = ref.eval(t.index, before, env)
        except EvalError:
            continue
        value = before.values[model.vars.index(var)]
        for (name, _), key in zip(var_entries(model, var, value), var.entries, strict=True):
            if key == idx:
                names.add(name)
    return names


def full_state(model: Model, st: Any) -> list[str]:
    return [
        f"{name}={show_scalar(var, v)}"
        for var, value in zip(model.vars, st.values, strict=True)
        for name, v in var_entries(model, var, value)
    ]


def render_trace(model: Model, prop: PropertyResult, trace: Trace) -> str:
    rows: list[tuple[str, str, str, list[str]]] = [
        ("0", "", "initial state", full_state(model, trace.states[0]))
    ]
    for k, label in enumerate(trace.steps):
        action = model.action(label.action)
        cpu = f"{label.cpu}" + (" irq" if action.irq else "")
        name = str(label).replace(f"@cpu{label.cpu}", "")
        if k + 1 < len(trace.states):
            ch = changes(model, trace.states[k], trace.states[k + 1], label) or ["(no change)"]
        else:
            ch = [f"error: {trace.message}"]
        rows.append((str(k + 1), cpu, name, ch))
    aw = min(max(len(r[2]) for r in rows), 44)
    cw = max(len(r[1]) for r in [*rows, ("", "cpu", "", [])])
    head = f"{'step':>4}  {'cpu':<{cw}}  {'action':<{aw}}  changes"
    lines = []
    if trace.monitor:  # the kernel's reaction, then each instance's state after every step
        lines.append(trace.message or "")
        shown = [", ".join(m) for m in trace.monitor]
        mw = max(len(m) for m in [*shown, "monitor"])
        # the monitor column rides in the action column: action padded, then the states
        rows = [
            (a, b, f"{c:<{aw}}  {m:<{mw}}", d) for (a, b, c, d), m in zip(rows, shown, strict=True)
        ]
        head = f"{'step':>4}  {'cpu':<{cw}}  {'action':<{aw}}  {'monitor':<{mw}}  changes"
        aw += 2 + mw
    lines.append(head)
    indent = 4 + 2 + cw + 2 + aw + 2
    for i, (step, cpu, name, ch) in enumerate(rows):
        if trace.loop is not None and i == trace.loop + 1 and trace.loop < trace.length:
            lines.append(f"{'':>4}  -- loop: steps {i}-{trace.length} repeat forever --")
        wrapped = _wrap_items(ch, max(WIDTH - indent, 30))
        lines.append(f"{step:>4}  {cpu:<{cw}}  {name:<{aw}}  {wrapped[0]}")
        lines.extend(" " * indent + w for w in wrapped[1:])
    lines.extend(_epilogue(model, prop, trace))
    return "\n".join(lines) + "\n"


def render_cti(model: Model, prop: PropertyResult, cti: Trace) -> str:
    """The last step of a failed induction step: a state from which the property held for
    k steps (not known to be reachable), and the step into the state that breaks it."""
    k = cti.length
    lines = [
        f"counterexample to induction (k={k}): {k} step(s) through states that satisfy the",
        "property, which may be unreachable, into a state that breaks it (or has a step that",
        "does); the last step:",
    ]
    if k == 0:
        return "\n".join(lines) + "\n"
    before, after, label = cti.states[-2], cti.states[-1], cti.steps[-1]
    items = full_state(model, before)
    lines += _wrap_items(items, WIDTH - 8)
    ch = changes(model, before, after, label) or ["(no change)"]
    name = str(label).replace(f"@cpu{label.cpu}", "")
    cpu = f" on cpu {label.cpu}" if model.cpus > 1 else ""
    lines.append(f"then {name}{cpu}:")
    lines += ["  " + w for w in _wrap_items(ch, WIDTH - 10)]
    if prop.all_cpus is not None:
        lines += [
            f"not a violation: on {len(before.seq)} CPUs, a state the invariant kept does not "
            "exclude; state",
            "the fact that does as an invariant, or check that many CPUs with the explicit engine",
        ]
    else:
        lines.append(
            "not a violation: state the invariant that excludes such states as a property, or "
            "raise --bound"
        )
    return "\n".join(lines) + "\n"


def _wrap_items(items: list[str], width: int) -> list[str]:
    """Join `a=1, b=2` items into lines of at most `width`, never splitting an item."""
    lines: list[str] = []
    cur = ""
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if cur and len(cur) + 1 + len(piece) > width:
            lines.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}" if cur else piece
    lines.append(cur)
    return lines


def _epilogue(model: Model, prop: PropertyResult, trace: Trace) -> list[str]:
    p = next((x for x in model.properties if x.id == prop.id), None)
    if p is None:
        return []
    cpu = f" on cpu{trace.cpu}" if trace.cpu >= 0 and model.cpus > 1 else ""
    if p.kind == PropKind.INVARIANT:
        return [f"invariant {p.source!r} is false in the last state{cpu}"]
    if p.kind == PropKind.REACHABLE:
        return [f"{p.source!r} holds in the last state{cpu}"]
    if p.kind == PropKind.DEADLOCK:
        return ["no action is enabled in the last state (deadlock: allowed permits this)"]
    if p.kind == PropKind.RANGE:
        return [f"range: {trace.message}"] if trace.message else []
    if p.kind == PropKind.LEADS_TO:
        return _response_epilogue(model, p, trace)
    if p.kind == PropKind.MONITOR:
        return [f"step {trace.length} ({trace.steps[-1]}): {trace.message}"]
    last = trace.steps[-1]
    cond = f" with {p.source}" if p.source else ""
    verb = "fires" if p.kind == PropKind.NEVER else "can fire"
    sel = f" ({p.selector})" if p.selector != last.action else ""
    lines = [f"{last.action}{sel}{cond}: {verb} at step {trace.length}"]
    lines += bug_lines(model, p, last, trace.states[trace.length - 1])
    return lines


def _after(k: int) -> str:
    return "in the initial state" if k == 0 else f"after step {k}"


def _response_epilogue(model: Model, p: Property, trace: Trace) -> list[str]:
    """Where the request arose, and how the run leaves it unanswered: a loop, a stop, or
    more counted steps than the bound allows."""
    r = p.response
    assert r is not None
    cpu = f" on cpu{trace.cpu}" if trace.cpu >= 0 and model.cpus > 1 else ""
    lines = [f"request {r.trigger_source!r} holds {_after(trace.origin)}{cpu}"]
    n = trace.length
    if trace.loop is not None and trace.loop == n:
        lines.append(f"no step is possible {_after(n)}: the run ends before {r.goal_source!r}")
    elif trace.loop is not None:
        lines.append(
            f"steps {trace.loop + 1}-{n} repeat forever (the state {_after(n)} is the state "
            f"{_after(trace.loop)}), never reaching {r.goal_source!r}"
        )
        mine = set(r.count)
        counted = sum(
            1
            for label in trace.steps[trace.loop :]
            if r.within is not None
            or (label.action in mine and (trace.cpu < 0 or label.cpu == trace.cpu))
        )
        if r.bounded and counted:
            unit = "steps" if r.within is not None else f"steps of {', '.join(r.count)}"
            lines.append(
                f"each time round, the loop counts {counted} more ({unit}): no bound holds"
            )
        else:
            if r.fair:
                lines.append(
                    f"weakly fair to {', '.join(r.fair)}: each is taken in the loop or "
                    "disabled in one of its states"
                )
            if r.strong:
                lines.append(
                    f"strongly fair to {', '.join(r.strong)}: each is taken in the loop or "
                    "enabled in none of its states"
                )
    else:
        mine = set(r.count)
        counted = sum(
            1
            for label in trace.steps[trace.origin :]
            if r.within is not None
            or (label.action in mine and (trace.cpu < 0 or label.cpu == trace.cpu))
        )
        unit = "steps" if r.within is not None else f"steps of {', '.join(r.count)}"
        bound = r.within if r.within is not None else r.count_max
        lines.append(f"{counted} {unit} since the request, more than {bound}, by step {n}")
    return lines
