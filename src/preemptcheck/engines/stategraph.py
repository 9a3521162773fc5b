"""The reachable state graph as data: packed states, edges in CSR arrays, the BFS tree.

Built by `graph.build_graph` (or natively, by `explicit.nativerun`), read by liveness,
latency and the monitors' product.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any


class GraphLimit(Exception):
    """The state graph does not fit the limits: the liveness verdict is unknown."""


@dataclass(frozen=True, slots=True)
class StateGraph:
    states: list[int]  # packed, in BFS order: states[0] is the initial state
    off: array[int]  # edges of state v: off[v] <= e < off[v + 1]
    dst: array[int]  # the state an edge leads to
    sid: array[int]  # the step (TransitionSystem.steps index) an edge takes
    parent: array[int]  # the BFS tree: the state before v on a shortest path (-1 for 0)
    via: array[int]  # the edge from parent[v] to v
    failing: str | None = None  # a step or a property that cannot be evaluated somewhere
    words: Any = None  # built natively: the states as the native store's uint64 rows

    def __len__(self) -> int:
        return len(self.states)

    def edges(self, v: int) -> range:
        return range(self.off[v], self.off[v + 1])

    def path_to(self, v: int) -> list[int]:
        """The edges of a shortest path from the initial state to v."""
        out: list[int] = []
        while v != 0:
            out.append(self.via[v])
            v = self.parent[v]
        out.reverse()
        return out
