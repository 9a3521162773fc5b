"""Fuzz cases for `preemptcheck verify`, the oracle they must pass, and how they are run.

Issue 13: never crash, never hang. Shared by tests/test_fuzz.py (the CI suite, in-process)
and benchmarks/fuzz.py (the long campaign, one subprocess per case).

A `Case` is a small file tree, written into a fresh directory (the case's working directory,
where the command runs), a command line, a time limit and the few facts of how it must run
(`process`: it needs a real process: a FIFO or a device that blocks or never ends, a signal,
or a risk of taking the whole interpreter down). `generate(kind, seed)` builds the same case
for the same arguments on every machine and every run (each case draws from its own
`random.Random(f"{kind}:{seed}")`; generated models are the corpus tests/strategies.py drew
into tests/fixtures/agreement/), and `suite(counts, seed)` lists a mix of the classes in `KINDS`.
The oracle's promises are listed in the docstring of fuzzing/oracle.py.

Modules:
  cases        Case, Run, Problem, Result; the registry KINDS, generate, suite, CI_COUNTS
  runner       a case's files in a working directory, its runs (in-process or a real process)
  oracle       check_run, check_engines and the output-file checks
  diagnostics  the error[PCnnn] lines of a run and whether each says where
  models       bundled models and small models of our own that cases are built from
  yamltext     located YAML nodes and edits of a model's text
  one module per family of classes: structural, inject, values (float, params, bigint),
  paths, walk (devices, walk, unreadable), outputs, huge, cli, signals, mutants
"""

from __future__ import annotations

# the class modules register their generators in KINDS when imported
from . import cli, huge, inject, mutants, outputs, paths, signals, structural, values, walk
from .cases import (
    CAMPAIGN_WEIGHTS,
    CI_COUNTS,
    KINDS,
    SEED_BLOCK,
    Case,
    Problem,
    Result,
    Run,
    campaign_counts,
    excerpt,
    generate,
    normalize,
    suite,
)
from .models import RICH
from .mutants import MUTANT_ARGS
from .oracle import check_engines, check_run
from .runner import chmod_stops_reads, execute, materialize, release, report

__all__ = [
    "CAMPAIGN_WEIGHTS",
    "CI_COUNTS",
    "KINDS",
    "MUTANT_ARGS",
    "RICH",
    "SEED_BLOCK",
    "Case",
    "Problem",
    "Result",
    "Run",
    "campaign_counts",
    "check_engines",
    "check_run",
    "chmod_stops_reads",
    "cli",
    "excerpt",
    "execute",
    "generate",
    "huge",
    "inject",
    "materialize",
    "mutants",
    "normalize",
    "outputs",
    "paths",
    "release",
    "report",
    "signals",
    "structural",
    "suite",
    "values",
    "walk",
]
