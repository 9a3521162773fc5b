"""The options of a check, and which of them the results depend on.

Each field says whether it changes what a run decides. Those that do (`keyed`) make up the
results cache's key; the others (`unkeyed`) change only how the run is done or reported,
and a cached result stays valid across them. A new field must choose one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

DEFAULT_MAX_STATES = 2_000_000
# engines.symbolic.DEFAULT_WORK_LIMIT (not imported: that would load z3): z3 resource units
# for a whole symbolic run, about 18 times what the largest bundled model takes
DEFAULT_WORK_LIMIT = 500_000_000


class Engine(StrEnum):
    explicit = "explicit"  # breadth-first search over every reachable state
    symbolic = "symbolic"  # z3: bounded model checking and k-induction
    auto = "auto"  # explicit within max_states, else symbolic


class Backend(StrEnum):
    """The explicit search's."""

    auto = "auto"  # python, and native once a model passes 100,000 states
    python = "python"  # the oracle
    native = "native"  # compiled with numba


def keyed(default: Any = dataclasses.MISSING, **kw: Any) -> Any:
    """A field the results depend on: part of the cache key."""
    return dataclasses.field(default=default, metadata={"keyed": True}, **kw)


def unkeyed(default: Any = dataclasses.MISSING, **kw: Any) -> Any:
    """A field that changes how a run is done or reported, never what it decides."""
    return dataclasses.field(default=default, metadata={"keyed": False}, **kw)


@dataclasses.dataclass(frozen=True)
class Options:
    # param -> value, or comma-separated values to check each (`--set NCPU=2,3`); a run's
    # own param values are keyed separately, as the model's
    overrides: Mapping[str, str] = unkeyed(default_factory=dict)
    properties: tuple[str, ...] = keyed(())
    # None: DEFAULT_MAX_STATES on the Python backend and for state graphs; the native
    # backend is then bounded by max_memory alone
    max_states: int | None = keyed(None)
    timeout: float | None = keyed(None)
    strict: bool = unkeyed(False)  # judged after the results, cached or not
    fail_fast: bool = keyed(False)
    symmetry: bool = keyed(False)  # one state per permutation of interchangeable CPUs
    engine: Engine = keyed(Engine.explicit)
    bound: int = keyed(30)  # symbolic: the depth of bounded model checking and k-induction
    rlimit: int | None = keyed(50_000_000)  # symbolic: z3's resource limit per query
    # symbolic: z3's resource units for a whole run, every query and the strengthening
    work_limit: int | None = keyed(DEFAULT_WORK_LIMIT)
    cache_dir: str | None = unkeyed(None)  # reuse results of unchanged models from here
    # check every value of each model's `mode` param (its `values`); replaces a `mode`
    # override, and each mode's run is keyed by its params
    all_modes: bool = unkeyed(False)
    backend: Backend = keyed(Backend.auto)  # which counts and limits are reported
    max_memory: int | None = keyed(None)  # bytes for the native store (None: half the machine's)
    # symbolic: prove invariants for every number of CPUs (quantified inductive invariants)
    all_cpus: bool = keyed(False)
    workers: int = unkeyed(1)  # threads of the native search (the result does not depend on it)
    # `--cluster SPEC`: the search partitioned across a Ray cluster (the same result)
    cluster: str | None = unkeyed(None)

    def __post_init__(self) -> None:
        # accept the plain strings too (the library API, older callers)
        object.__setattr__(self, "engine", Engine(self.engine))
        object.__setattr__(self, "backend", Backend(self.backend))

    def state_cap(self) -> int:
        """The state limit of the Python backend and of state graphs."""
        return self.max_states if self.max_states is not None else DEFAULT_MAX_STATES

    def keyed_settings(self) -> dict[str, Any]:
        """The options the results depend on, by name, for the cache key."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata["keyed"]
        }
