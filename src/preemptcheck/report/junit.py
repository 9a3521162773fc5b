"""JUnit XML for CI dashboards: a testsuite per model file, a testcase per run and property.

A testcase is named `property-id [mode=full, NCPU=2]`: the property and the param values of
its run, always (not only when a file is checked for several param choices), so that a
test keeps its name from one CI run to the next whatever the other runs are. Its classname
is the model file. An unexpected verdict is a `<failure>` holding the trace as the text
report prints it; an inconclusive one (unknown, or holds only up to a depth) is
`<skipped>` with the reason: no verdict was reached, and the run's exit code 3 already
fails the job. A file that could not be checked is one `<error>` testcase with its
diagnostics. Times are 0: the same input gives the same bytes (timings go to stderr).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

from preemptcheck.checking.results import (
    ModelFailure,
    ModelResult,
    Outcome,
    PropertyResult,
    RunResult,
)
from preemptcheck.core.source import SourceCache
from preemptcheck.model.params import show
from preemptcheck.report.text import render_trace, verdict_text

KINDS = ("tests", "failures", "errors", "skipped")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0


def render(run: RunResult, sources: SourceCache | None = None) -> str:
    root = ET.Element("testsuites", name="preemptcheck")
    total: Counter[str] = Counter()
    files: dict[str, list[ModelResult | ModelFailure]] = {}
    for m in run.models:
        files.setdefault(m.file, []).append(m)
    for file, runs in files.items():
        suite = ET.SubElement(root, "testsuite", name=_safe(file))
        counts: Counter[str] = Counter()
        for m in runs:
            if isinstance(m, ModelFailure):
                _failure_case(suite, m, sources, counts)
                continue
            for p in m.properties:
                _property_case(suite, m, p, counts)
            if run.strict and m.warnings:  # --strict: warnings fail the run (exit 1)
                case = _case(suite, file, f"warnings{_suffix(m)}", counts)
                bad = ET.SubElement(case, "failure", message="warnings fail the run (--strict)")
                bad.set("type", "warning")
                bad.text = _safe("\n".join(m.warnings) + "\n")
                counts["failures"] += 1
        _count(suite, counts)
        total += counts
    _count(root, total)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _count(elem: ET.Element, counts: Counter[str]) -> None:
    for kind in KINDS:
        elem.set(kind, str(counts[kind]))
    elem.set("time", "0")


def _suffix(m: ModelResult) -> str:
    params = ", ".join(f"{k}={show(v)}" for k, v in m.params)
    return f" [{params}]" if params else ""


def _case(suite: ET.Element, file: str, name: str, counts: Counter[str]) -> ET.Element:
    counts["tests"] += 1
    case = ET.SubElement(suite, "testcase", classname=_safe(file), name=_safe(name))
    case.set("time", "0")
    return case


def _property_case(
    suite: ET.Element, m: ModelResult, p: PropertyResult, counts: Counter[str]
) -> None:
    case = _case(suite, m.file, p.id + _suffix(m), counts)
    if p.outcome == Outcome.INCONCLUSIVE:
        ET.SubElement(case, "skipped", message=_safe(verdict_text(p)))
        counts["skipped"] += 1
    elif p.outcome == Outcome.UNEXPECTED:
        bad = ET.SubElement(case, "failure", message=_safe(verdict_text(p)), type="unexpected")
        if p.trace is not None:
            detail = render_trace(m.model, p, p.trace)
        else:
            detail = f"{p.id}: {verdict_text(p)}\n" + (f"{p.doc}\n" if p.doc else "")
        bad.text = _safe(detail)
        counts["failures"] += 1


def _failure_case(
    suite: ET.Element, m: ModelFailure, sources: SourceCache | None, counts: Counter[str]
) -> None:
    case = _case(suite, m.file, "cannot be checked", counts)
    first = m.diagnostics[0]
    err = ET.SubElement(case, "error", message=_safe(first.headline()), type=first.code.value)
    err.text = _safe("\n".join(d.render(sources) for d in m.diagnostics) + "\n")
    counts["errors"] += 1


def _safe(text: str) -> str:
    """ElementTree escapes markup, but writes characters XML 1.0 forbids as they are."""
    return _NOT_XML.sub("?", text)
