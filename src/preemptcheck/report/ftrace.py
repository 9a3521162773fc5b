"""`preemptcheck trace` results: text for people, JSON (schema preemptcheck/trace v1)."""

from __future__ import annotations

from typing import Any

from preemptcheck.ftrace.run import TraceRun
from preemptcheck.ftrace.rvmon import MonitorRun
from preemptcheck.model.ir import Model
from preemptcheck.report.text import full_state

SCHEMA = "preemptcheck/trace"
VERSION = 1


def _model_name(model: Model) -> str:
    params = ", ".join(f"{k}={v}" for k, v in model.param_values)
    return f"{model.file} ({model.name}{', ' + params if params else ''})"


def _skipped(run: TraceRun) -> list[str]:
    parts = [f"{n:,} {kind}" for kind, n in sorted(run.tally.skipped.items())]
    unknown = run.outcome.unknown
    if unknown:
        names = ", ".join(f"{e} {n:,}" for e, n in sorted(unknown.items())[:8])
        more = ", ..." if len(unknown) > 8 else ""
        parts.append(f"{sum(unknown.values()):,} events the model does not emit ({names}{more})")
    return parts


def render_text(run: TraceRun) -> str:
    out = []
    o = run.outcome
    recorded = ", ".join(sorted(run.recorded)) or "none of the model's events"
    if o.rejection is None:
        out.append(f"{run.file}: conforms to {_model_name(run.model)}")
    else:
        r = o.rejection
        out.append(f"{run.file}:{r.line.number}: does not conform to {_model_name(run.model)}")
        out.append(f"  {r.line.number:>6} | {r.line.text.strip()}")
        out.append(
            f"  no behaviour of the model explains this line; just before it the model was in "
            f"{'one of ' + format(r.n_before, ',') + ' states' if r.n_before > 1 else 'the state'}"
            + (f" (the first {len(r.before)} shown):" if r.n_before > len(r.before) else ":")
        )
        for st in r.before:
            out.append("    " + ", ".join(full_state(run.model, st)))
        allowed = ", ".join(r.allowed[:12]) + (", ..." if len(r.allowed) > 12 else "")
        out.append(f"  the model could go on with: {allowed or 'no traced event'}")
        if r.why:
            out.append("  steps with this event whose flags disagree with the line:")
            out.extend(f"    {w}" for w in r.why)
    t = run.tally
    out.append(
        f"  {o.matched:,} events matched on {o.cpus} CPU{'s' if o.cpus != 1 else ''}; "
        f"{t.lines:,} lines read{' up to this one' if o.rejection else ''}"
    )
    out.append(f"  recorded events of the model: {recorded}")
    if not run.recorded:
        out.append("  note: the trace holds none of the model's events, so nothing was checked")
    skipped = _skipped(run)
    if skipped:
        out.append("  skipped: " + "; ".join(skipped))
    if o.resets:
        out.append(
            f"  the kernel reports {t.lost:,} events lost at {o.resets:,} markers; after each, "
            "that CPU was checked again from every reachable state"
        )
    return "\n".join(out) + "\n"


def document(run: TraceRun | None, file: str, monitor: MonitorRun | None) -> dict[str, Any]:
    """The JSON document (docs/trace.schema.json): the model's check and the monitor's run,
    each null when not asked for."""
    doc: dict[str, Any] = {"schema": SCHEMA, "version": VERSION, "file": file, "check": None}
    if run is not None:
        doc["check"] = _check_document(run)
    doc["monitor"] = _monitor_document(monitor) if monitor is not None else None
    return doc


def _check_document(run: TraceRun) -> dict[str, Any]:
    o = run.outcome
    doc: dict[str, Any] = {
        "model": {
            "file": run.model.file,
            "name": run.model.name,
            "params": {k: v for k, v in run.model.param_values},
        },
        "conforms": o.rejection is None,
        "lines": run.tally.lines,
        "events_matched": o.matched,
        "cpus": o.cpus,
        "recorded_events": sorted(run.recorded),
        "skipped": dict(sorted(run.tally.skipped.items())),
        "unknown_events": dict(sorted(o.unknown.items())),
        "lost_events": run.tally.lost,
        "lost_markers": o.resets,
        "rejection": None,
    }
    if o.rejection is not None:
        r = o.rejection
        doc["rejection"] = {
            "line": r.line.number,
            "text": r.line.text,
            "states_before": r.n_before,
            "some_states": [full_state(run.model, st) for st in r.before],
            "allowed": r.allowed,
            "disagreements": r.why,
        }
    return doc


def render_monitor(run: MonitorRun, file: str) -> str:
    a = run.automaton
    head = f"the {a.name} monitor ({a.file}, per {run.per})"
    if run.error is not None:
        line, reaction = run.error
        out = [
            f"{file}:{line.number}: {head} does not allow this line",
            f"  {line.number:>6} | {line.text.strip()}",
            f"  {reaction}",
        ]
    else:
        out = [f"{file}: {head} allows every event"]
    states = ", ".join(
        f"{'cpu' + str(k) + ' ' if run.per == 'cpu' else ''}{s}"
        for k, s in sorted(run.states.items())
    )
    out.append(f"  {run.events:,} events seen by the monitor; its states: {states or 'none'}")
    return "\n".join(out) + "\n"


def _monitor_document(run: MonitorRun) -> dict[str, Any]:
    return {
        "automaton": run.automaton.name,
        "file": run.automaton.file,
        "per": run.per,
        "events": run.events,
        "allowed": run.error is None,
        "line": run.error[0].number if run.error else None,
        "reaction": run.error[1] if run.error else None,
        "states": {str(k): s for k, s in sorted(run.states.items())},
    }
