"""Running explicit-state work on a Ray cluster (the optional `cluster` extra).

`connect` parses a `--cluster` spec and connects to Ray for one run; `partition` is the
exhaustive search with its states hash-partitioned across Ray actors. Only these modules
import ray, and only when a run asks for a cluster: without the extra installed the
single-machine paths never touch it.
"""

from preemptcheck.engines.cluster.connect import (
    ClusterInfo,
    ClusterSpec,
    connected,
    parse_cluster,
    require_ray,
)

__all__ = ["ClusterInfo", "ClusterSpec", "connected", "parse_cluster", "require_ray"]
