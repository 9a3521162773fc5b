"""JSON renderings: the versioned result document (`--format json`) and ITF traces."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from preemptcheck.checking.results import ModelFailure, ModelResult, PropertyResult, RunResult
from preemptcheck.core.errors import Diagnostic
from preemptcheck.core.version import __version__
from preemptcheck.model.ir import Model, Var
from preemptcheck.report.kernel import bug_lines
from preemptcheck.report.matrix import Matrix
from preemptcheck.semantics.system import State, StepLabel
from preemptcheck.semantics.trace import Trace

RESULT_SCHEMA = "preemptcheck/result"
RESULT_VERSION = 1
ITF_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def run_document(run: RunResult, *, matrix: Sequence[Matrix] | None = None) -> dict[str, Any]:
    """The result document; `matrix` (with --all-modes) the verdicts by mode, else null."""
    c = run.counts()
    return {
        "schema": RESULT_SCHEMA,
        "version": RESULT_VERSION,
        "tool": {"name": "preemptcheck", "version": __version__},
        "exit_code": run.exit_code,
        "summary": {
            "models": len(run.models),
            "as_expected": c["as-expected"],
            "unexpected": c["unexpected"],
            "inconclusive": c["inconclusive"],
            "errors": c["errors"],
            "warnings": c["warnings"],
        },
        "models": [_model(m) for m in run.models],
        "matrix": None if matrix is None else [_matrix(t) for t in matrix],
        "interrupted": run.interrupted,
        "unchecked": list(run.unchecked),
    }


def _matrix(t: Matrix) -> dict[str, Any]:
    return {
        "file": t.file,
        "model": t.name,
        "params": dict(t.params),
        "modes": list(t.columns),
        "rows": [
            {
                "property": r.property,
                "cells": {col: _cell(p) for col, p in zip(t.columns, r.cells, strict=True)},
            }
            for r in t.rows
        ],
    }


def _cell(p: PropertyResult | None) -> dict[str, Any]:
    if p is None:  # not checked in this mode: its `modes` exclude it
        return {"verdict": "n/a", "strength": None, "expect": None, "outcome": None, "length": None}
    return {
        "verdict": p.verdict.value,
        "strength": p.strength.value,
        "expect": p.expect.value,
        "outcome": p.outcome.value,
        "length": p.trace.length if p.trace is not None else None,
    }


def diagnostic(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code.value,
        "message": d.message,
        "file": d.span.file,
        "line": d.span.line,
        "column": d.span.col,
        "key_path": d.key_path,
        "hint": d.hint,
    }


def _model(m: ModelResult | ModelFailure) -> dict[str, Any]:
    if isinstance(m, ModelFailure):
        return {
            "file": m.file,
            "status": "error",
            "diagnostics": [diagnostic(d) for d in m.diagnostics],
        }
    s = m.stats
    return {
        "file": m.file,
        "status": "checked",
        "model": m.name,
        "params": dict(m.params),
        "engine": m.engine,
        "stats": {
            "states": s.states,
            "transitions": s.transitions,
            "depth": s.depth,
            "complete": s.complete,
            "limit": s.limit,
            "state_bits": s.state_bits,
            "backend": s.backend,
            "symmetry": None
            if s.symmetry is None
            else {"reduced_by": s.symmetry, "states_unreduced": s.states_unreduced},
        },
        "coverage": dict(m.coverage),
        "disabled_actions": list(m.disabled),
        "warnings": list(m.warnings),
        "notes": list(m.notes),
        "invariants": list(m.invariants),
        "invariants_unwritten": m.invariants_unwritten,
        "skipped": [{"id": pid, "reason": why} for pid, why in m.skipped],
        "properties": [_prop(m.model, p) for p in m.properties],
    }


def _prop(model: Model, p: PropertyResult) -> dict[str, Any]:
    out = _prop_fields(p.cti_model or model, p)
    if p.all_cpus is not None:  # --all-cpus: the verdict is for every number of CPUs
        out["all_cpus"] = {
            "from_cpus": p.all_cpus,
            "invariant": list(p.invariant),
            "invariant_unwritten": p.invariant_unwritten,
            "cti_cpus": p.cti_model.cpus if p.cti_model is not None else None,
        }
    return out


def _prop_fields(model: Model, p: PropertyResult) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind.value,
        "verdict": p.verdict.value,
        "strength": p.strength.value,
        "expect": p.expect.value,
        "outcome": p.outcome.value,
        "reason": p.reason,
        "doc": p.doc,
        "location": {"file": p.span.file, "line": p.span.line, "column": p.span.col}
        if p.span.line
        else None,
        "trace": _trace(model, p, p.trace) if p.trace is not None else None,
        "induction_cti": _cti(model, p.cti) if p.cti is not None else None,
        "edges": {
            "taken": p.edges.taken,
            "total": p.edges.total,
            "untaken": list(p.edges.untaken),
            "silent": list(p.edges.silent),
            "reasons": dict(p.edges.reasons),
        }
        if p.edges is not None
        else None,
    }


def _cti(model: Model, cti: Trace) -> dict[str, Any]:
    """A failed induction step: its states satisfy the property but need not be reachable."""
    return {
        "k": cti.length,
        "first": _state(model, cti.states[0]),
        "steps": [
            {"step": k + 1, **_label(model, label), "changes": _diff(model, a, b)}
            for k, (label, a, b) in enumerate(
                zip(cti.steps, cti.states, cti.states[1:], strict=False)
            )
        ],
    }


def plain(var: Var, value: Any) -> Any:
    """A variable's value as JSON: scalars as they are, indexed variables as objects."""
    if var.info.index is None:
        return value
    return {str(k): v for k, v in zip(var.info.index.values, value, strict=True)}


def _state(model: Model, st: State) -> dict[str, Any]:
    return {v.name: plain(v, x) for v, x in zip(model.vars, st.values, strict=True)}


def _diff(model: Model, a: State, b: State) -> dict[str, Any]:
    return {
        v.name: plain(v, y)
        for v, x, y in zip(model.vars, a.values, b.values, strict=True)
        if x != y
    }


def _label(model: Model, label: StepLabel) -> dict[str, Any]:
    return {
        "action": label.action,
        "cpu": label.cpu,
        "bindings": dict(label.bindings),
        "step": label.step + 1,
        "of": label.nsteps,
        "events": list(model.action(label.action).events),
        "irq": model.action(label.action).irq,
        "label": str(label),
    }


def _trace(model: Model, p: PropertyResult, trace: Trace) -> dict[str, Any]:
    steps = []
    for k, label in enumerate(trace.steps):
        row = {"step": k + 1, **_label(model, label)}
        if k + 1 < len(trace.states):
            row["changes"] = _diff(model, trace.states[k], trace.states[k + 1])
        else:
            row["error"] = trace.message
        steps.append(row)
    prop = next(x for x in model.properties if x.id == p.id)
    bug = (
        bug_lines(model, prop, trace.steps[-1], trace.states[trace.length - 1])
        if trace.steps
        else []
    )
    return {
        "length": trace.length,
        "failed": trace.failed,
        "cpu": trace.cpu if trace.cpu >= 0 else None,
        "message": trace.message,
        "initial": _state(model, trace.states[0]),
        "steps": steps,
        "bug": bug,
        "origin": trace.origin if trace.origin >= 0 else None,
        "loop": trace.loop,
        "monitor": [dict(item.split(": ", 1) for item in st) for st in trace.monitor]
        if trace.monitor
        else None,
    }


# ---------------------------------------------------------------- ITF (Apalache ADR-015)


def _itf_value(v: Any) -> Any:
    if isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    raise AssertionError(type(v))


def _itf_var(var: Var, value: Any) -> Any:
    if var.info.index is None:
        return _itf_value(value)
    return {
        "#map": [
            [_itf_value(k), _itf_value(v)]
            for k, v in zip(var.info.index.values, value, strict=True)
        ]
    }


def itf_document(model: Model, prop: PropertyResult, trace: Trace) -> dict[str, Any]:
    vars_ = [v.name for v in model.vars] + ["mbt::actionTaken", "mbt::nondetPicks"]
    states = []
    for k, st in enumerate(trace.states):
        row: dict[str, Any] = {"#meta": {"index": k}}
        for var, value in zip(model.vars, st.values, strict=True):
            row[var.name] = _itf_var(var, value)
        label = trace.steps[k - 1] if k > 0 else None
        row["mbt::actionTaken"] = str(label) if label else "init"
        picks: dict[str, Any] = {}
        if label is not None:
            picks = {"cpu": _itf_value(label.cpu), **{n: _itf_value(v) for n, v in label.bindings}}
        row["mbt::nondetPicks"] = picks
        if label is not None:
            row["#meta"]["events"] = list(model.action(label.action).events)
        states.append(row)
    meta: dict[str, Any] = {
        "format": "ITF",
        "format-description": ITF_DESCRIPTION,
        "source": model.file,
        "description": f"preemptcheck {__version__}: {prop.verdict.value} {prop.kind.value} "
        f"property {prop.id} of model {model.name}",
        "property": prop.id,
        "verdict": prop.verdict.value,
        "params": {k: v for k, v in model.param_values},
    }
    if trace.loop is not None:  # a lasso: the last state is the state at this index again
        meta["loop"] = trace.loop
    if trace.failed:
        meta["failedStep"] = str(trace.steps[-1])
        meta["error"] = trace.message
    return {"#meta": meta, "vars": vars_, "states": states}
