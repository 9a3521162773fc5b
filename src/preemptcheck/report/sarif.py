"""SARIF 2.1.0 for code review: each unexpected or inconclusive verdict at its YAML line.

Only verdicts that need a reviewer's attention become results: an unexpected one is an
`error`, an inconclusive one (unknown, bounded) a `warning`, and a file that could not be
checked gives an `error` per diagnostic, at its location. Verdicts as expected are left
out, so that a code-scanning view of a pull request shows what changed for the worse
rather than a note on every property line. A violation's trace is a code flow over the
actions' YAML lines, and the step that broke the property is a related location.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from preemptcheck.checking.results import (
    ModelFailure,
    ModelResult,
    Outcome,
    PropertyResult,
    RunResult,
)
from preemptcheck.core.errors import CODE_TITLES, Diagnostic
from preemptcheck.core.source import NO_SPAN, Span
from preemptcheck.core.version import __version__
from preemptcheck.model.params import show
from preemptcheck.report.text import changes, verdict_text
from preemptcheck.semantics.trace import Trace

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://preemptcheck.invalid/"


def document(run: RunResult, *, cwd: Path) -> dict[str, Any]:
    """The SARIF log of a run; file locations are relative to `cwd` where they lie in it."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for m in run.models:
        if isinstance(m, ModelFailure):
            results += [_diagnostic(d, m.file, rules, cwd) for d in m.diagnostics]
            continue
        for p in m.properties:
            if p.outcome != Outcome.AS_EXPECTED:
                results.append(_property(m, p, rules, cwd))
    driver = {
        "name": "preemptcheck",
        "version": __version__,
        "informationUri": INFORMATION_URI,
        "rules": list(rules.values()),
    }
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [{"executionSuccessful": True, "exitCode": run.exit_code}],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def artifact_path(file: str, cwd: Path) -> str:
    """`file` relative to `cwd` with forward slashes, or its absolute path outside `cwd`."""
    base = Path(os.path.abspath(cwd))
    full = Path(os.path.abspath(base / file))
    try:
        return full.relative_to(base).as_posix()
    except ValueError:
        return full.as_posix()


def _uri(file: str, cwd: Path) -> str:
    """A URI for a path: its bytes percent-encoded (a name that is not UTF-8 keeps its own
    bytes, as %XX), under file:// when absolute."""
    path = artifact_path(file, cwd)
    encoded = quote(os.fsencode(path))
    return f"file://{encoded}" if os.path.isabs(path) else encoded


def _location(span: Span, fallback: str, cwd: Path, message: str | None = None) -> dict[str, Any]:
    """A location at `span`; the start of `fallback` (a model file) when it has none."""
    if span.line < 1:
        file = fallback if span.file == NO_SPAN.file else span.file
        span = Span(file, 1, 1)
    region: dict[str, int] = {"startLine": span.line}
    if span.col >= 1:
        region["startColumn"] = span.col
    out: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(span.file, cwd)},
            "region": region,
        }
    }
    if message is not None:
        out["message"] = {"text": message}
    return out


def _rule(rules: dict[str, dict[str, Any]], rule_id: str, description: str) -> int:
    """Register a rule on first use; its index in the driver's rules."""
    if rule_id not in rules:
        text = " ".join(description.split()) or rule_id
        short = text.split(". ")[0].rstrip(".") + "."
        rule: dict[str, Any] = {"id": rule_id, "shortDescription": {"text": short}}
        if text.rstrip(".") != short.rstrip("."):
            rule["fullDescription"] = {"text": text}
        rules[rule_id] = rule
    return list(rules).index(rule_id)


def _property(
    m: ModelResult, p: PropertyResult, rules: dict[str, dict[str, Any]], cwd: Path
) -> dict[str, Any]:
    params = ", ".join(f"{k}={show(v)}" for k, v in m.params)
    where = artifact_path(m.file, cwd) + (f" ({params})" if params else "")
    out: dict[str, Any] = {
        "ruleId": p.id,
        "ruleIndex": _rule(rules, p.id, p.doc or f"{p.kind.value} property {p.id}"),
        "level": "error" if p.outcome == Outcome.UNEXPECTED else "warning",
        "message": {"text": f"{p.id}: {verdict_text(p)}, in {where}"},
        "locations": [_location(p.span, m.file, cwd)],
    }
    trace = p.trace
    if trace is not None and trace.steps:
        n = trace.length
        step, why = n, ""
        if trace.loop is not None and trace.loop < n:  # a liveness lasso: no step breaks it
            step, why = trace.loop + 1, " (the loop that avoids the response starts here)"
        label = trace.steps[step - 1]
        span = m.model.action(label.action).span
        text = f"step {step}: {label}{why}"
        out["relatedLocations"] = [_location(span, m.file, cwd, text) | {"id": 1}]
        out["codeFlows"] = [_code_flow(m, trace, cwd)]
    out["properties"] = {
        "model": artifact_path(m.file, cwd),
        "params": dict(m.params),
        "verdict": p.verdict.value,
        "strength": p.strength.value,
        "expect": p.expect.value,
        "outcome": p.outcome.value,
    }
    return out


def _code_flow(m: ModelResult, trace: Trace, cwd: Path) -> dict[str, Any]:
    """The trace's steps, each at the YAML line of its action, with what it changed."""
    steps: list[dict[str, Any]] = []
    for k, label in enumerate(trace.steps):
        if k + 1 < len(trace.states):
            ch = changes(m.model, trace.states[k], trace.states[k + 1], label) or ["(no change)"]
        else:
            ch = [f"error: {trace.message}"]
        text = f"step {k + 1}: {label}: {', '.join(ch)}"
        span = m.model.action(label.action).span
        steps.append({"location": _location(span, m.file, cwd, text), "executionOrder": k + 1})
    flow: dict[str, Any] = {"threadFlows": [{"locations": steps}]}
    if trace.loop is not None and trace.loop < trace.length:
        flow["message"] = {"text": f"steps {trace.loop + 1}-{trace.length} repeat forever"}
    return flow


def _diagnostic(
    d: Diagnostic, file: str, rules: dict[str, dict[str, Any]], cwd: Path
) -> dict[str, Any]:
    text = (f"{d.key_path}: " if d.key_path else "") + d.message
    if d.hint:
        text += f" ({d.hint})"
    return {
        "ruleId": d.code.value,
        "ruleIndex": _rule(rules, d.code.value, CODE_TITLES[d.code]),
        "level": "error",
        "message": {"text": text},
        "locations": [_location(d.span, file, cwd)],
    }
