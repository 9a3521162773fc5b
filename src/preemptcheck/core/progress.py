"""What a long run reports while it works, for a display to show.

The explicit search reports counts (`engines.explicit.Progress`: states, frontier, depth);
an engine without a state count reports its `Phase` in words: the symbolic engine's BMC
depth, Houdini round and k-induction k.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Phase:
    text: str  # e.g. "BMC depth 5 of 30, k-induction k=6, 3 properties open"
    elapsed: float  # seconds since this model's check started
