"""The traces of a run, each with the stem of the files written for it (`verify
--trace-dir`, `verify --svg`): `<model stem>[.<params>].<property>`, distinct and within
NAME_MAX."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from preemptcheck.checking.results import ModelResult, PropertyResult, RunResult
from preemptcheck.core.outfiles import file_base
from preemptcheck.model.params import show
from preemptcheck.semantics.trace import Trace


def traced(run: RunResult) -> Iterator[tuple[str, ModelResult, PropertyResult, Trace]]:
    """(file stem, model run, property, its trace) for every property with a trace."""
    used: set[str] = set()
    runs_per_file = Counter(m.file for m in run.models)
    for m in run.models:
        if not isinstance(m, ModelResult):
            continue
        stem = Path(m.file).stem
        if runs_per_file[m.file] > 1:  # name the param choice of each run
            stem += "." + ",".join(f"{k}={show(v)}" for k, v in m.params)
        for p in m.properties:
            if p.trace is None:
                continue
            base, k = file_base(f"{stem}.{p.id}"), 2
            while base in used:
                base, k = file_base(f"{stem}-{k}.{p.id}"), k + 1
            used.add(base)
            yield base, m, p, p.trace
