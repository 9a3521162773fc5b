"""The explicit-state engine: breadth-first search with shortest traces.

The pipeline, one module each: `codegen` lowers a model's steps and property checks to
straight-line code (the Python target); `native` emits the same lowering for numba, with
`bounds` deciding whether 64-bit integers are exact for the model; `store` is the native
search over packed words in flat arrays (open-addressing visited set, parent and step id
per state); `search` runs either backend and builds the traces; `found` is what a search
reports, whichever backend ran it.
"""

from preemptcheck.engines.explicit.found import ExplicitRun, Finding, Progress, ProgressFn
from preemptcheck.engines.explicit.search import Explorer

__all__ = ["ExplicitRun", "Explorer", "Finding", "Progress", "ProgressFn"]
