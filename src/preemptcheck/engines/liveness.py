"""Response properties on the explicit state graph: `leads_to`, `within`, latency.

For one request R (`from`), response Q (`to`: a state, or a step of some actions) and CPU:

* The *pending* graph keeps the states where Q does not hold and the steps that are not a
  Q step and do not enter a Q state. Its *starts* are the reachable states where R holds and
  Q does not.
* A run never answers a request when, from a start, the pending graph reaches a deadlock (the
  run stops) or a strongly connected component that is *fair*: for every action A (on every
  CPU) of `fair`, A is taken inside the component or disabled in one of its states. A run
  that goes round every edge of such a component forever is then weakly fair, and one that
  stays in a component without that property is not (weak fairness is closed under
  sub-components, so components need no refinement).
* The worst case of a count (steps, or steps of the `count` actions) before the response is
  a longest path over the components, in reverse topological order: "unbounded" when a
  cycle that repeats a counted step can be reached, "never" when a fair run avoids Q.

Every trace built here is a real run; `trace.replay` checks it again on the reference
semantics, fairness and count included, before it is shown.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import eq
from typing import TYPE_CHECKING

from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.explicit.codegen import compile_predicate
from preemptcheck.engines.graph import StateGraph, sccs

if TYPE_CHECKING:
    from preemptcheck.engines.bigraph import Index
from preemptcheck.expr.ast import Expr, Value
from preemptcheck.model.ir import Response
from preemptcheck.semantics.trace import Trace

BIG = 50_000  # states: from here on the pending graph's components are found in compiled code

NEVER = sys.maxsize  # a fair run never reaches the response
UNBOUNDED = sys.maxsize - 1  # a cycle repeats counted steps without the response


def show_worst(n: int) -> str:
    return "never" if n == NEVER else "unbounded" if n == UNBOUNDED else str(n)


@dataclass(frozen=True, slots=True)
class ResponseRun:
    """The worst case over every reachable request, and the run that shows it."""

    worst: int  # a count, UNBOUNDED or NEVER
    requests: int  # reachable states where the request holds and the response does not
    trace: Trace | None  # a lasso (never, unbounded), or a path (to the response, or cut)
    triggered: int = 0  # reachable states where the request holds


class Weights:
    """Which steps a bound counts: none (plain leads_to), every step, or some actions'."""

    def __init__(self, kind: str, actions: tuple[str, ...] = ()) -> None:
        self.kind = kind  # "none" | "steps" | "count"
        self.actions = actions

    @classmethod
    def of(cls, r: Response) -> Weights:
        if r.within is not None:
            return cls("steps")
        if r.count_max is not None:
            return cls("count", r.count)
        return cls("none")


class ResponseChecker:
    def __init__(self, explorer: Explorer, graph: StateGraph) -> None:
        self.explorer = explorer
        self.graph = graph
        self.ts = explorer.ts
        self.model = explorer.ts.model
        self.labels = [s.label for s in self.ts.steps]

    # ------------------------------------------------------------ evaluation

    def _holds(self, e: Expr, cpu: int) -> list[bool]:
        """`e` in every state (EvalError if it cannot be evaluated in one)."""
        env: dict[str, Value] = {"self": cpu} if cpu >= 0 else {}
        pred = compile_predicate(self.ts, self.explorer.layout, e, env)
        g = self.graph
        if g.words is not None and len(g) >= BIG:  # in compiled code over the native store
            from preemptcheck.engines.bigraph import holds_everywhere

            return holds_everywhere(self.ts, self.explorer.layout, e, env, g, pred)
        return [pred(p) for p in g.states]

    def _steps_of(self, actions: tuple[str, ...], cpu: int) -> list[bool]:
        """Per step id: is it a step of one of `actions` (on `cpu`, when one is given)?"""
        names = set(actions)
        return [lb.action in names and (cpu < 0 or lb.cpu == cpu) for lb in self.labels]

    # ------------------------------------------------------------ analysis

    def run(
        self,
        r: Response,
        cpu: int,
        weights: Weights,
        *,
        bound: int | None = None,
        to_response: bool = False,
    ) -> ResponseRun:
        """The worst case for `r` on `cpu` (-1: not per CPU). With `bound`, the trace of a
        finite worst case stops at the step that exceeds it; `to_response` runs it on to
        the response instead (a latency witness). EvalError if `r` cannot be evaluated."""
        g = self.graph
        n = len(g)
        trig = self._holds(r.trigger, cpu)
        pend = [not x for x in self._holds(r.goal, cpu)] if r.goal is not None else [True] * n
        goal_step = self._steps_of(r.goal_actions, cpu)
        if weights.kind == "steps":
            weight = [1] * len(self.labels)
        elif weights.kind == "count":
            weight = [int(x) for x in self._steps_of(weights.actions, cpu)]
        else:
            weight = [0] * len(self.labels)
        a = _Pending(g, pend, goal_step, weight)
        # fairness: one obligation per (action, cpu), weak ones first
        obligations = [
            (name, c) for name in (*r.fair, *r.strong) for c in self.model.action(name).cpus
        ]
        ob_index = {key: k for k, key in enumerate(obligations)}
        a.step_ob = [ob_index.get((lb.action, lb.cpu), -1) for lb in self.labels]
        n_weak = sum(len(self.model.action(name).cpus) for name in r.fair)
        a.weak = (1 << n_weak) - 1
        a.full = (1 << len(obligations)) - 1
        a.strong = a.full & ~a.weak
        starts = [v for v in range(n) if trig[v] and pend[v]]
        a.solve(starts)
        if not starts:
            return ResponseRun(0, 0, None, sum(trig))
        top = max(a.value[a.comp_of[v]] for v in starts)
        s = next(v for v in starts if a.value[a.comp_of[v]] == top)  # BFS order: shortest prefix
        loop: int | None = None
        if bound is not None and not to_response and bound < top < NEVER:
            edges, origin = self._exceeding(a, trig, bound)  # the shortest such run
        elif top >= UNBOUNDED:
            edges, origin, loop = self._lasso(a, s, "never" if top == NEVER else "unbounded")
        else:
            edges, origin = self._worst_path(a, s, None)
        trace = self._trace(edges, cpu, origin=origin, loop=loop)
        return ResponseRun(top, len(starts), trace, sum(trig))

    # ------------------------------------------------------------ traces

    def _bfs(
        self,
        src: int,
        ok: Callable[[int], bool],
        edges: Callable[[int], list[int]],
        *,
        nonempty: bool = False,
    ) -> list[int]:
        """Edges of a shortest path from src to a state where `ok` holds."""
        g = self.graph
        if ok(src) and not nonempty:
            return []
        prev: dict[int, tuple[int, int]] = {}  # state -> (edge into it, the state before)
        seen = {src}
        queue = deque([src])
        while queue:
            v = queue.popleft()
            for e in edges(v):
                w = g.dst[e]
                if ok(w):
                    path = [e]
                    while v != src:
                        pe, v = prev[v]
                        path.append(pe)
                    path.reverse()
                    return path
                if w not in seen:
                    seen.add(w)
                    prev[w] = (e, v)
                    queue.append(w)
        raise AssertionError("no path: a bug in the liveness analysis")

    def _lasso(self, a: _Pending, s: int, want: str) -> tuple[list[int], int, int]:
        """A run to s, on to a component of kind `want`, and round a cycle in it that is
        weakly fair (never) or repeats a counted step (unbounded): edges, origin, loop."""
        g = self.graph
        to_bad = self._bfs(s, lambda v: v in a.comp_of and a.kind[a.comp_of[v]] == want, a.edges)
        entry = g.dst[to_bad[-1]] if to_bad else s
        ci = a.comp_of[entry]
        found = a.core[ci]
        core: list[int] = found if want == "never" and found is not None else a.comps[ci]
        prefix = g.path_to(s)
        origin = len(prefix)
        prefix += to_bad
        if entry not in core:  # a fair cycle lies in a part of the component: go there
            whole = set(a.comps[ci])
            prefix += self._bfs(entry, set(core).__contains__, partial(a.inside, whole))
            entry = g.dst[prefix[-1]]
        members = [entry] + [v for v in core if v != entry]  # short cycles first
        inside = partial(a.inside, set(members))
        cycle: list[int] = []
        if g.off[entry] != g.off[entry + 1]:  # else a deadlock: the run stops here
            cycle = self._cycle(a, entry, members, inside, counted=want == "unbounded")
        return prefix + cycle, origin, len(prefix)

    def _cycle(
        self,
        a: _Pending,
        entry: int,
        members: list[int],
        inside: Callable[[int], list[int]],
        *,
        counted: bool,
    ) -> list[int]:
        """A cycle through `entry` inside `members` that takes a counted step (`counted`), or
        else meets every fairness obligation: a weak one disabled in one of its states or
        taken, a strong one taken unless it is enabled nowhere in `members`. Greedy: always
        on to the nearest state that settles an open obligation."""
        g = self.graph
        ob = a.step_ob
        # the obligations enabled in v, computed as they are asked for: the tests below
        # mostly stop at the first member, and a component may have millions
        cache: dict[int, set[int]] = {}

        def enabled(v: int) -> set[int]:
            got = cache.get(v)
            if got is None:
                got = cache[v] = {ob[g.sid[e]] for e in g.edges(v)}
            return got

        need_off: set[int] = set()  # weak: pass a state where it is disabled
        need_edge: set[int] = set()  # take a step of it
        if not counted:
            for k in range(a.full.bit_length()):
                disabled_somewhere = any(k not in enabled(v) for v in members)
                if a.weak >> k & 1 and disabled_somewhere:
                    need_off.add(k)
                elif a.weak >> k & 1 or any(k in enabled(v) for v in members):
                    need_edge.add(k)
        want_count = [counted]

        def settles(e: int) -> bool:
            return ob[g.sid[e]] in need_edge or (want_count[0] and a.weight[g.sid[e]] > 0)

        def visit(v: int) -> None:
            need_off.difference_update([k for k in need_off if k not in enabled(v)])

        def take(e: int) -> None:
            need_edge.discard(ob[g.sid[e]])
            if a.weight[g.sid[e]] > 0:
                want_count[0] = False
            visit(g.dst[e])

        def useful(v: int) -> bool:
            return any(k not in enabled(v) for k in need_off) or any(settles(e) for e in inside(v))

        cycle: list[int] = []
        cur = entry
        visit(cur)
        while need_off or need_edge or want_count[0]:
            for e in self._bfs(cur, useful, inside):
                cycle.append(e)
                take(e)
                cur = g.dst[e]
            step = next((e for e in inside(cur) if settles(e)), None)
            if step is not None:
                cycle.append(step)
                take(step)
                cur = g.dst[step]
        for e in self._bfs(cur, partial(eq, entry), inside, nonempty=not cycle):
            cycle.append(e)
        return cycle

    def _exceeding(self, a: _Pending, trig: list[bool], bound: int) -> tuple[list[int], int]:
        """A shortest run on which some request sees more than `bound` counted steps before
        its response: breadth-first over (state, count since the oldest open request)."""
        g = self.graph

        def opened(v: int) -> int:  # -1: no request open in v
            return 0 if trig[v] and a.pend[v] else -1

        start = (0, opened(0))
        prev: dict[tuple[int, int], tuple[int, tuple[int, int]]] = {}
        queue = deque([start])
        seen = {start}
        while queue:
            node = queue.popleft()
            v, c = node
            for e in g.edges(v):
                w = g.dst[e]
                if c >= 0:
                    total = c + a.weight[g.sid[e]]
                    if total > bound:  # found: unwind, the origin is where c became 0
                        path = [e]
                        back = node
                        while back != start:
                            pe, back = prev[back]
                            path.append(pe)
                        path.reverse()
                        return path, self._origin(path, trig, a)
                    nc = opened(w) if a.answers(e) else total
                else:
                    nc = opened(w)
                nxt = (w, nc)
                if nxt not in seen:
                    seen.add(nxt)
                    prev[nxt] = (e, node)
                    queue.append(nxt)
        raise AssertionError("no run exceeds the bound: a bug in the liveness analysis")

    def _origin(self, path: list[int], trig: list[bool], a: _Pending) -> int:
        """The index of the state where the request that the run's last step overruns arose
        (the oldest request still open before that step)."""
        g = self.graph
        origin = 0 if trig[0] and a.pend[0] else -1
        for k, e in enumerate(path[:-1], 1):
            if origin >= 0 and a.answers(e):
                origin = -1
            v = g.dst[e]
            if origin < 0 and trig[v] and a.pend[v]:
                origin = k
        return origin

    def _worst_path(self, a: _Pending, s: int, bound: int | None) -> tuple[list[int], int]:
        """A run to s, then along the worst case: to the response, or until the count
        exceeds `bound`. Edges, origin."""
        g = self.graph
        path = g.path_to(s)
        origin = len(path)
        v, total = s, 0
        while True:
            ci = a.comp_of[v]
            src, e = a.best_exit[ci]
            path += self._bfs(v, partial(eq, src), partial(a.inside, set(a.comps[ci])))
            path.append(e)
            total += a.weight[g.sid[e]]
            if a.answers(e) or (bound is not None and total > bound):
                return path, origin
            v = g.dst[e]

    def _trace(self, edges: list[int], cpu: int, *, origin: int, loop: int | None) -> Trace:
        g = self.graph
        unpack = self.explorer.layout.unpack
        packed = [g.states[0]] + [g.states[g.dst[e]] for e in edges]
        return Trace(
            tuple(unpack(p) for p in packed),
            tuple(self.labels[g.sid[e]] for e in edges),
            cpu=cpu,
            origin=origin,
            loop=loop,
        )


class _Pending:
    """The pending graph of one request, response and CPU, and its components' worst cases."""

    def __init__(
        self, g: StateGraph, pend: list[bool], goal_step: list[bool], weight: list[int]
    ) -> None:
        self.g = g
        self.pend = pend
        self.goal_step = goal_step
        self.weight = weight
        self.step_ob: list[int] = []
        self.weak = self.strong = self.full = 0  # obligation bit masks
        self.core: list[list[int] | None] = []  # per component: a part a fair run stays in
        self.comps: list[list[int]] = []
        self.comp_of: dict[int, int] | Index = {}
        self.value: list[int] = []
        self.kind: list[str] = []  # "never" / "unbounded" for a component that is so itself
        self.best_exit: list[tuple[int, int]] = []  # (state, edge) achieving the worst case
        self._succ: dict[int, list[int]] = {}
        # per edge: the step is the response, or enters a state where the response holds
        if len(g) >= BIG:
            from preemptcheck.engines.bigraph import edge_mask

            self.ans = edge_mask(g.sid, g.dst, goal_step, pend)
        else:
            self.ans = [goal_step[s] or not pend[d] for s, d in zip(g.sid, g.dst, strict=True)]

    def answers(self, e: int) -> bool:
        return self.ans[e]

    def edges(self, v: int) -> list[int]:
        """The steps out of v that keep the request open."""
        ans = self.ans
        return [e for e in range(self.g.off[v], self.g.off[v + 1]) if not ans[e]]

    def inside(self, comp: set[int], v: int) -> list[int]:
        """The steps out of v that keep the request open and stay in `comp`."""
        return [e for e in self.edges(v) if self.g.dst[e] in comp]

    def _succ_within(self, keep: set[int], v: int) -> list[int]:
        return [w for w in self._succ_states(v) if w in keep]

    def _succ_states(self, v: int) -> list[int]:
        if v not in self._succ:
            self._succ[v] = [self.g.dst[e] for e in self.edges(v)]
        return self._succ[v]

    def solve(self, starts: list[int]) -> None:
        g = self.g
        sid = g.sid
        if len(g) >= BIG and self.full.bit_length() <= 62:
            self._solve_compiled(starts)
            return
        self.comps = sccs(starts, self._succ_states)
        comp_of: dict[int, int] = {}
        for ci, comp in enumerate(self.comps):
            for v in comp:
                comp_of[v] = ci
        self.comp_of = comp_of
        for ci, comp in enumerate(self.comps):  # sinks first
            internal = counted = False
            worst, arg = -1, (-1, -1)
            for v in comp:
                for e in g.edges(v):
                    w = self.weight[sid[e]]
                    if self.ans[e]:
                        cand = w  # the count ends with this step
                    elif self.comp_of[g.dst[e]] == ci:
                        internal = True
                        counted = counted or w > 0
                        continue
                    else:
                        after = self.value[self.comp_of[g.dst[e]]]
                        cand = after if after >= UNBOUNDED else w + after
                    if cand > worst:
                        worst, arg = cand, (v, e)
            stuck = len(comp) == 1 and g.off[comp[0]] == g.off[comp[0] + 1]
            core = self._fair_core(comp) if internal else None
            kind = ""
            if stuck or core is not None:
                worst, kind = NEVER, "never"
            elif counted and worst < UNBOUNDED:
                worst, kind = UNBOUNDED, "unbounded"
            self.value.append(worst)
            self.kind.append(kind)
            self.best_exit.append(arg)
            self.core.append(core)

    def _solve_compiled(self, starts: list[int]) -> None:
        """`solve` for large graphs: the same steps over arrays, in compiled code (the same
        components in the same order, the same fair cores, values and exits)."""
        from preemptcheck.engines import bigraph

        g = self.g
        arrays = bigraph.Arrays(g.off, g.dst, g.sid, self.ans, self.weight, self.step_ob)
        self.comps, comp_of, internal = bigraph.components(arrays, starts)
        self.comp_of = bigraph.Index(comp_of)
        never = [0] * len(self.comps)
        self.core = [None] * len(self.comps)
        for ci in internal.nonzero()[0].tolist():
            core = bigraph.fair_core(arrays, self.comps[ci], self.weak, self.strong, self.full)
            self.core[ci] = core
            never[ci] = int(core is not None)
        self.value, kinds, self.best_exit = bigraph.values(arrays, comp_of, never)
        self.kind = [("", "never", "unbounded")[k] for k in kinds]

    def _fair_core(self, members: list[int]) -> list[int] | None:
        """A strongly connected part of `members` that a fair run can stay in forever.

        Weak obligations: taken inside, or disabled in one of its states; no part of a set
        that fails this passes it either. Strong obligations: taken inside, or enabled in
        none of its states; the states that enable one that is not taken inside are cut
        away and the rest split into components again (Emerson-Lei refinement).
        """
        g = self.g
        work = [members]
        while work:
            comp = work.pop()
            inside = set(comp)
            taken = disabled = 0
            internal = False
            enabled: dict[int, int] = {}
            for v in comp:
                en = 0
                for e in g.edges(v):
                    ob = self.step_ob[g.sid[e]]
                    if ob >= 0:
                        en |= 1 << ob
                    if g.dst[e] in inside and not self.ans[e]:
                        internal = True
                        if ob >= 0:
                            taken |= 1 << ob
                enabled[v] = en
                disabled |= self.full & ~en
            if not internal or (taken | disabled) & self.weak != self.weak:
                continue
            unmet = self.strong & ~taken
            cut = {v for v in comp if enabled[v] & unmet}
            if not cut:
                return comp
            rest = [v for v in comp if v not in cut]
            keep = set(rest)
            work.extend(sccs(rest, partial(self._succ_within, keep)))
        return None
