"""Proofs for every number of CPUs (`verify --engine symbolic --all-cpus`): quantified
inductive invariants over per-CPU arrays, mined from small instances, kept by Houdini.

Modules, in pipeline order: fragment (what the proof may assume of a model; no z3),
encode (the model over N CPUs in z3), mine (candidates from NCPU = 1..3), prove (Houdini,
supports, counterexamples to induction), cti (their decoding), run (`prove_all_cpus`),
fixed (the invariant handed to the fixed-instance engine for one count).
"""

from __future__ import annotations

from preemptcheck.engines.param.cti import ParamCTI
from preemptcheck.engines.param.fixed import prove_fixed_with
from preemptcheck.engines.param.run import ParamOutcome, ParamRun, prove_all_cpus

__all__ = ["ParamCTI", "ParamOutcome", "ParamRun", "prove_all_cpus", "prove_fixed_with"]
