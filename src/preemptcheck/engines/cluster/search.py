"""The partitioned exhaustive search: the driver of one `Partition` actor per worker.

Level by level, as the single-process search: every partition expands its share of the
frontier with the native successor function, sends each successor to the partition that
owns it (records in batches, a share of the frontier at a time, through Ray's object
store), and enters those it owns; then the partitions number the level's new states as
the single-process search would (engines.cluster.kernels), so the counts, the findings
and the parent links are that search's. The driver holds only counts, each property's
first shortest finding (partition, index, step, cpu), and the active properties; a trace
is rebuilt by asking the partitions for parent links backwards, then replayed as always.

A worker that dies makes the run inconclusive with its partial counts; Ctrl-C and
--timeout stop it between two shares. The actors serve the next model of the same
connection after a whole run; one that stops midway kills them (work may be queued on
them), and so does the connection's end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from preemptcheck.core import interrupt
from preemptcheck.engines.cluster.connect import ClusterInfo, require_ray
from preemptcheck.engines.cluster.partition import Partition, share_size
from preemptcheck.engines.explicit.found import ExplicitRun, Finding, Progress, ProgressFn
from preemptcheck.engines.explicit.native import NativeCodegen
from preemptcheck.engines.explicit.nativerun import words_to_int
from preemptcheck.engines.explicit.search import Explorer

NONE = np.iinfo(np.int64).max
ACTORS = "partition actors"


class WorkerLost(Exception):
    """A partition's actor died (its node, a kill, the out-of-memory killer)."""


class _Driver:
    def __init__(self, explorer: Explorer, info: ClusterInfo, budget: int | None) -> None:
        self.ray = require_ray()
        self.explorer = explorer
        self.parts = info.workers
        ts = explorer.ts
        self.n_props = len(ts.properties)
        gen = NativeCodegen(ts, explorer.layout)  # the workers compile it, or load it
        gen.generate()
        self.max_succ = max(gen.max_succ, 1)
        self.actors = _workers(self.ray, info)
        self.get(
            [
                a.load.remote(ts.model, explorer.analysis, self.parts, me, budget)
                for me, a in enumerate(self.actors)
            ]
        )
        self.active = np.ones(self.n_props, np.uint8)
        # per property: (length, global index, event) and (partition, index, step, cpu, err)
        self.best: dict[int, tuple[tuple[int, int, int], tuple[int, int, int, int, int]]] = {}
        self.states = 1
        self.transitions = 0
        self.depth = 0
        self.frontier = 1

    def get(self, refs: Any) -> Any:
        errors = self.ray.exceptions
        try:
            return self.ray.get(refs)
        except errors.RayError as exc:
            lost = (errors.RayActorError, errors.ObjectLostError)
            if (
                isinstance(exc, errors.RayTaskError)
                and not isinstance(exc, lost)
                and not isinstance(getattr(exc, "cause", None), errors.RayError)
            ):
                raise  # an exception in a worker's code: an internal error
            # a worker, its machine or its objects gone: the run cannot go on
            raise WorkerLost(_first_line(exc)) from None

    def run(self, *, timeout: float | None, progress: ProgressFn | None, t0: float) -> str | None:
        """Explore to the end or a limit; the limit's description, or None."""
        share = share_size(self.max_succ)
        while True:
            sizes = self.get([a.begin_level.remote(self.depth, self.active) for a in self.actors])
            self.frontier = sum(sizes)
            shares = -(-max(sizes) // share)
            inflight: list[Any] = []
            made: list[Any] = []
            # each worker expands share s + 1 before it enters share s: it need not wait
            # for the others' share s to be made, which they are making meanwhile
            for s in range(shares + 1):
                if s < shares:
                    made.append(
                        [
                            a.expand.options(num_returns=self.parts + 1).remote(s, share)
                            for a in self.actors
                        ]
                    )
                if s == 0:
                    continue
                outs = made.pop(0)
                entered = [
                    a.enter.remote(s - 1, *(outs[p][q] for p in range(self.parts)))
                    for q, a in enumerate(self.actors)
                ]
                inflight.append((entered, [o[self.parts] for o in outs]))
                if len(inflight) > 1:  # one share being entered while the next is made
                    limit = self._settle(inflight.pop(0), progress, t0, timeout)
                    if limit is not None:
                        return limit
            while inflight:
                limit = self._settle(inflight.pop(0), progress, t0, timeout)
                if limit is not None:
                    return limit
            ends = [a.end_level.options(num_returns=2).remote() for a in self.actors]
            summaries = self.get([e[0] for e in ends])
            new = 0
            for p, (best, found, n_new) in enumerate(summaries):
                new += n_new
                for pi in range(self.n_props):
                    key = (int(best[pi, 0]), int(best[pi, 1]), int(best[pi, 2]))
                    if key[0] == NONE:
                        continue
                    if pi not in self.best or key < self.best[pi][0]:
                        where = (p, *(int(x) for x in found[pi]))
                        self.best[pi] = (key, where)  # type: ignore[assignment]
            for pi in self.best:  # decided: as the single-process search, off after the level
                self.active[pi] = 0
            if new == 0:
                self.frontier = 0
                return None
            keys = [e[1] for e in ends]
            self.get([a.rank.remote(self.states, *keys) for a in self.actors])
            self.states += new
            self.depth += 1

    def _settle(
        self, flight: Any, progress: ProgressFn | None, t0: float, timeout: float | None
    ) -> str | None:
        entered, transitions = flight
        ok = self.get(entered)
        self.transitions += sum(self.get(transitions))
        if not all(ok):
            return "memory limit reached (a worker's store, --max-memory)"
        elapsed = time.monotonic() - t0
        if progress is not None:
            progress(Progress(self.states, self.frontier, self.transitions, self.depth, elapsed))
        if timeout is not None and elapsed > timeout:
            return f"timeout after {timeout:g} s"
        if interrupt.requested():
            return interrupt.reason()
        return None

    def findings(self) -> tuple[Finding, ...]:
        out = []
        for pi in sorted(self.best):
            (_, g, _), (p, _, sid, cpu, err) = self.best[pi]
            packed: list[int] = []
            sids: list[int] = []
            j = -1  # the place of the step from this state to the one after it
            while True:
                words, parent_p, pkey, step = self.get(self.actors[p].node.remote(g, j))
                packed.append(words_to_int(words))
                if j != -1:
                    sids.append(step)
                if parent_p == -1:
                    break
                p, (g, j) = parent_p, divmod(pkey, self.max_succ)
            packed.reverse()
            sids.reverse()
            msg = self.explorer.error_message(packed[-1], pi, sid, cpu) if err else None
            trace = self.explorer.finding_trace((packed, sids), pi, -1, sid, cpu, msg)
            out.append(Finding(pi, trace))
        return tuple(out)


def _workers(ray: Any, info: ClusterInfo) -> list[Any]:
    """One actor a worker, kept on the connection for the next model's search."""
    actors: list[Any] | None = info.kept.get(ACTORS)
    if actors is None:
        remote = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(Partition)
        actors = [remote.remote() for _ in range(info.workers)]
        info.kept[ACTORS] = actors
        info.closers.append(lambda: _drop(ray, info))
    return actors


def _drop(ray: Any, info: ClusterInfo) -> None:
    """Kill the kept actors: after a search that stopped midway (work may be queued on
    them, or one is dead), and when the connection ends."""
    for a in info.kept.pop(ACTORS, ()):
        with contextlib.suppress(Exception):
            ray.kill(a, no_restart=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_partitioned(
    explorer: Explorer,
    info: ClusterInfo,
    *,
    timeout: float | None,
    progress: ProgressFn | None,
    max_memory: int | None,
) -> ExplicitRun:
    """The model explored breadth-first across the cluster's workers: the single-process
    native search's counts and findings, or its partial counts and why it stopped."""
    t0 = time.monotonic()
    ts = explorer.ts
    cov = np.zeros(len(ts.model.actions), np.int64)
    eval_errors = np.zeros(len(ts.properties), np.uint8)
    full = 0
    clean = False
    driver: _Driver | None = None
    try:
        driver = _Driver(explorer, info, max_memory)
        limit = driver.run(timeout=timeout, progress=progress, t0=t0)
        findings = driver.findings()  # of the levels done: each is the shortest
        for c, e, f in driver.get([a.totals.remote() for a in driver.actors]):
            cov += c[: len(cov)]
            eval_errors |= e
            full += f
        clean = limit is None
    except WorkerLost as exc:
        limit = f"a cluster worker was lost ({exc})"
        findings = ()
    finally:
        if not clean:  # work may be queued on them, or one is dead
            _drop(require_ray(), info)
    states = driver.states if driver is not None else 0
    symmetric = explorer.symmetry is not None
    return ExplicitRun(
        states,
        driver.transitions if driver is not None else 0,
        driver.depth if driver is not None else 0,
        limit is None,
        limit,
        findings,
        tuple((a.name, int(cov[k])) for k, a in enumerate(ts.model.actions)),
        time.monotonic() - t0,
        explorer.layout.bits,
        ts.disabled_actions(),
        frozenset(pi for pi in range(len(ts.properties)) if eval_errors[pi]),
        explorer.analysis.describe() if explorer.analysis is not None else None,
        full if symmetric else None,
        "cluster",
    )


def run_on_cluster(
    explorer: Explorer,
    spec_text: str,
    *,
    timeout: float | None,
    progress: ProgressFn | None,
    max_memory: int | None,
    single: Callable[[], ExplicitRun],
) -> ExplicitRun:
    """`--cluster SPEC`'s search of one model: partitioned where the native backend can run
    the model, else `single` (this machine's search) with a note saying why."""
    from preemptcheck.engines.cluster.connect import parse_cluster, session

    why = explorer.native_unsupported()
    if why is not None:
        run = single()
        note = f"the search ran on this machine, not the cluster: not native because {why}"
        return dataclasses.replace(run, notes=(*run.notes, note))
    with session(parse_cluster(spec_text)) as info:
        return run_partitioned(
            explorer, info, timeout=timeout, progress=progress, max_memory=max_memory
        )
