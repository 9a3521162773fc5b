"""Swarm simulation (`simulate --cluster`): the walks of one seed shared out in chunks over
Ray actors, stopped everywhere at the first unexpected verdict.

Walk k draws from the seed and k alone (engines/simulate.py), and in the `swarm` order
also the actions it leaves out, so a walk is the same on whichever worker runs it: a
walk's configuration is (seed, k, order), a worker's is its share of the walk numbers, and
the printed `--seed S --run K` (with `--order swarm`) repeats any walk on one machine.

Each actor compiles the model once and runs chunks of walk numbers handed out as workers
free up; it returns only counts and, per property, the length and walk number of its
shortest trace. The driver keeps the shortest over all chunks (the earliest walk on a tie,
as one process does) and walks each winner again on its own simulator to build the trace,
so a printed trace is exactly what `--run K` prints; checking/simulate.py replays it on
the reference semantics. With every walk done the result is the single-process one.

The first trace a worker finds that goes against its property's expectation (the verdict
that fails the run) sets a flag actor; the other workers read it between walks and stop.
A worker lost mid-run (its process killed, its node gone) stops the run too: the counts
are those of the chunks that came back, and the lost walks are the limit (exit 3), never
a clean "not violated in N walks". Ctrl-C stops the workers the same way.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from preemptcheck.core import interrupt
from preemptcheck.engines.cluster.connect import ClusterSpec, connected, require_ray
from preemptcheck.engines.simulate import (
    STEP_KINDS,
    WITNESS_KINDS,
    Order,
    SimFinding,
    SimProgress,
    SimulationRun,
    Simulator,
    Walk,
)
from preemptcheck.model.ir import Expect, Model

CHUNKS_PER_WORKER = 8  # chunks of walk numbers per worker: load balance, and what a loss costs
MAX_CHUNK = 1000
IN_FLIGHT = 2  # chunks queued on each actor, so it never waits for the driver
POLL = 0.1  # seconds between looks at the stop flag (workers) or at the chunks (driver)
GRACE = 10.0  # seconds the driver waits for running chunks to stop before killing them
START = 60.0  # seconds to wait for every worker to start before going on with those that did
NO_WORKER = 600.0  # seconds to wait for the first worker to start (a busy cluster)


def unexpected_when_found(model: Model) -> frozenset[int]:
    """The properties whose trace goes against their expectation: a counterexample to one
    expected to hold, a witness of one expected not to be reachable."""
    out = set()
    for pi, p in enumerate(model.properties):
        shows = Expect.HOLDS if p.kind in WITNESS_KINDS else Expect.VIOLATED
        if p.kind in STEP_KINDS and p.expect != shows:
            out.add(pi)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Chunk:
    """What one worker did of the walks `first`, `first + 1`, ... (it may stop early)."""

    first: int
    runs: int
    steps: int
    states: int
    stuck: int
    found: tuple[tuple[int, int, int], ...]  # (property index, trace length, walk), shortest
    unknown: tuple[tuple[int, str], ...]


class _Flag:
    """The run's stop flag: the first reason given wins."""

    def __init__(self) -> None:
        self.why: str | None = None

    def stop(self, why: str) -> None:
        if self.why is None:
            self.why = why

    def reason(self) -> str | None:
        return self.why


class _Worker:
    """One worker process: the model's successor function, compiled once per model."""

    def __init__(self) -> None:
        self.sim: Simulator | None = None
        self.unexpected: frozenset[int] = frozenset()

    def load(self, model: Model) -> None:
        self.sim = Simulator(model)
        self.unexpected = unexpected_when_found(model)

    def walks(self, seed: int, first: int, last: int, depth: int, order: Order, flag: Any) -> Chunk:
        ray = require_ray()
        sim = self.sim
        assert sim is not None, "load() first"
        why = ray.get(flag.reason.remote())
        last_look = time.monotonic()

        def stop(w: Walk) -> str | None:
            nonlocal last_look
            bad = [f for f in w.findings if f.prop_index in self.unexpected]
            if bad:
                flag.stop.remote(f"walk {w.run} went against an expectation")
                return "found"
            if time.monotonic() - last_look >= POLL:
                last_look = time.monotonic()
                got: str | None = ray.get(flag.reason.remote())
                return got
            return None

        if why is not None:
            return Chunk(first, 0, 0, 0, 0, (), ())
        run = sim.run(seed, runs=range(first, last + 1), depth=depth, stop=stop, order=order)
        return Chunk(
            first,
            run.runs,
            run.steps,
            run.states,
            run.stuck,
            tuple((f.prop_index, f.trace.length, f.run) for f in run.findings),
            run.unknown,
        )


def chunks(runs: range, workers: int) -> deque[tuple[int, int]]:
    """`runs` cut into (first, last) pieces, about CHUNKS_PER_WORKER per worker."""
    size = max(1, min(MAX_CHUNK, math.ceil(len(runs) / (workers * CHUNKS_PER_WORKER))))
    return deque((k, min(k + size - 1, runs[-1])) for k in range(runs[0], runs[-1] + 1, size))


class Swarm:
    """The actors of one `simulate --cluster` run, one per worker (CPU) of the cluster."""

    def __init__(self, workers: int) -> None:
        self.ray = require_ray()
        self.workers = workers
        self._worker = self.ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_Worker)
        self._flag = self.ray.remote(num_cpus=0)(_Flag)
        self.actors = [self._worker.remote() for _ in range(workers)]

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a, no_restart=True)

    def _replace(self, i: int) -> None:
        """A new actor for worker i, whose process was lost or is stuck in a chunk (the
        next model's run starts with every worker)."""
        self.ray.kill(self.actors[i], no_restart=True)
        self.actors[i] = self._worker.remote()

    def run(
        self,
        model: Model,
        seed: int,
        *,
        runs: range,
        depth: int,
        timeout: float | None = None,
        progress: Callable[[SimProgress], None] | None = None,
        order: Order = Order.UNIFORM,
    ) -> SimulationRun:
        """The walks numbered `runs` of `seed` over the actors; see the module docstring."""
        ray = self.ray
        t0 = time.monotonic()
        lost = ray.exceptions.RayActorError
        unexpected = unexpected_when_found(model)
        flag = self._flag.remote()
        try:
            todo = chunks(runs, self.workers)
            running: dict[Any, tuple[int, int, int]] = {}  # ref -> actor, first, last
            done: list[Chunk] = []
            limit: str | None = None
            stopped: str | None = None
            dead: set[int] = set()
            shared = ray.put(model)  # sent once to each node, not once per actor
            loads = {a.load.remote(shared): i for i, a in enumerate(self.actors)}
            up: list[int] = []  # the workers that started (their actor has the model)
            while loads and limit is None:
                ready, _ = ray.wait(list(loads), num_returns=len(loads), timeout=POLL)
                for ref in ready:
                    i = loads.pop(ref)
                    try:
                        ray.get(ref)
                        up.append(i)
                    except lost as exc:
                        dead.add(i)
                        limit = f"worker {i + 1} of {self.workers} lost ({type(exc).__name__})"
                waited = time.monotonic() - t0
                if interrupt.requested():
                    limit = interrupt.reason()
                elif waited > START and up:
                    break  # the others wait for a CPU the cluster does not have free
                elif waited > NO_WORKER and not up:
                    limit = f"no worker started in {NO_WORKER:g} s (no free CPU on the cluster?)"

            def submit(i: int) -> None:
                if todo and limit is None and stopped is None and i not in dead:
                    first, last = todo.popleft()
                    ref = self.actors[i].walks.remote(seed, first, last, depth, order, flag)
                    running[ref] = (i, first, last)

            for i in up:
                for _ in range(IN_FLIGHT):
                    submit(i)
            stop_at: float | None = None
            while running:
                ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL)
                for ref in ready:
                    i, first, last = running.pop(ref)
                    try:
                        c: Chunk = ray.get(ref)
                    except lost as exc:
                        dead.add(i)
                        if limit is None:
                            limit = (
                                f"worker {i + 1} of {self.workers} lost "
                                f"({type(exc).__name__}): its walks {first}-{last} not counted"
                            )
                        continue
                    done.append(c)
                    if stopped is None and any(pi in unexpected for pi, _, _ in c.found):
                        stopped = "stopped at the first trace that goes against an expectation"
                    submit(i)
                elapsed = time.monotonic() - t0
                if limit is None and interrupt.requested():
                    limit = interrupt.reason()
                if limit is None and timeout is not None and elapsed > timeout:
                    limit = f"timeout after {timeout:g} s"
                if limit is not None or stopped is not None:
                    flag.stop.remote(limit or stopped)
                    if stop_at is None:
                        stop_at = time.monotonic() + GRACE
                    elif time.monotonic() > stop_at:
                        dead.update(i for i, _, _ in running.values())
                        break  # chunks that do not stop in time are not counted
                if progress is not None:
                    walks, steps = sum(c.runs for c in done), sum(c.steps for c in done)
                    progress(SimProgress(walks, steps, elapsed))
            return self._merged(model, (seed, depth, order), done, (limit, stopped), len(up), t0)
        finally:
            ray.kill(flag)
            for i in sorted(dead):
                self._replace(i)

    def _merged(
        self,
        model: Model,
        walk: tuple[int, int, Order],  # seed, depth, order
        done: list[Chunk],
        why: tuple[str | None, str | None],  # the limit, or why the swarm stopped
        workers: int,
        t0: float,
    ) -> SimulationRun:
        """The chunks as one run: per property the shortest trace, the earliest walk on a
        tie, built again here by walking its walk (the same walk on every machine)."""
        best: dict[int, tuple[int, int]] = {}
        unknown: dict[int, str] = {}
        for c in sorted(done, key=lambda c: c.first):
            for pi, length, run in c.found:
                if (length, run) < best.get(pi, (length + 1, run)):
                    best[pi] = (length, run)
            for pi, reason in c.unknown:
                unknown.setdefault(pi, reason)
        seed, depth, order = walk
        limit, stopped = why
        sim = Simulator(model) if best else None
        findings: list[SimFinding] = []
        walked: dict[int, Walk] = {}
        for pi in sorted(best):
            length, run = best[pi]
            assert sim is not None
            if run not in walked:
                walked[run] = sim.walk(seed, run, depth, order=order)
            f = next(f for f in walked[run].findings if f.prop_index == pi)
            assert f.trace.length == length, "a walk differs between two processes"
            findings.append(f)
        return SimulationRun(
            sum(c.runs for c in done),
            sum(c.steps for c in done),
            sum(c.states for c in done),
            sum(c.stuck for c in done),
            tuple(findings),
            tuple(sorted(unknown.items())),
            limit,
            time.monotonic() - t0,
            stopped=None if limit is not None else stopped,
            workers=workers,
        )


@contextlib.contextmanager
def swarm(spec: ClusterSpec) -> Iterator[Swarm]:
    """A Swarm on the cluster `spec` names, connected while inside; its actors are killed
    on the way out, also on an error or a second Ctrl-C."""
    with connected(spec) as info:
        s = Swarm(info.workers)
        try:
            yield s
        finally:
            s.close()
