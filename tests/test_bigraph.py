"""The compiled Tarjan and pending-edge mask for large graphs against the Python ones."""

from __future__ import annotations

import random
from array import array
from pathlib import Path

import pytest

from preemptcheck.checking.check import Options, check_file
from preemptcheck.engines import liveness
from preemptcheck.engines.bigraph import edge_mask, sccs_csr
from preemptcheck.engines.graph import sccs

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("seed", range(40))
def test_compiled_tarjan_gives_the_same_components_in_the_same_order(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    off = array("q", [0])
    dst = array("q")
    for _ in range(n):
        for _ in range(rng.randint(0, 4)):
            dst.append(rng.randrange(n))
        off.append(len(dst))
    ans = [rng.random() < 0.3 for _ in dst]
    roots = rng.sample(range(n), rng.randint(1, n))

    def succ(v: int) -> list[int]:
        return [dst[e] for e in range(off[v], off[v + 1]) if not ans[e]]

    assert sccs_csr(roots, off, dst, ans) == sccs(roots, succ)


def test_edge_mask_is_the_python_one() -> None:
    rng = random.Random(7)
    sid = array("l", [rng.randrange(5) for _ in range(200)])
    dst = array("q", [rng.randrange(30) for _ in range(200)])
    goal = [rng.random() < 0.4 for _ in range(5)]
    pend = [rng.random() < 0.5 for _ in range(30)]
    want = [goal[s] or not pend[d] for s, d in zip(sid, dst, strict=True)]
    assert edge_mask(sid, dst, goal, pend) == want


@pytest.mark.slow
def test_leads_to_verdicts_and_traces_are_the_same_on_a_large_graph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """response.yaml (127,040 states): above liveness.BIG, and with the threshold raised."""
    path = str(ROOT / "benchmarks/models/response.yaml")
    compiled = check_file(path, Options(backend="python"))
    monkeypatch.setattr(liveness, "BIG", 10**9)
    plain = check_file(path, Options(backend="python"))
    assert [(p.id, p.verdict, p.reason, p.trace) for p in compiled.properties] == [
        (p.id, p.verdict, p.reason, p.trace) for p in plain.properties
    ]


LEADS_TO_MODELS = [
    ("models/latency.yaml", {"mode": m}) for m in ("none", "voluntary", "full", "lazy", "rt")
] + [("models/races/lost-wakeup.yaml", {}), ("benchmarks/models/response.yaml", {})]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "params"), LEADS_TO_MODELS, ids=lambda x: str(x))
def test_compiled_liveness_gives_the_same_verdicts_and_traces(
    path: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every leads_to of these models decided with the compiled analysis (liveness.BIG 0)
    and with the Python one: the same verdicts, reasons and traces, lassos included."""
    options = Options(backend="python", overrides=params)
    results = []
    for big in (0, 10**9):
        monkeypatch.setattr(liveness, "BIG", big)
        results.append(check_file(str(ROOT / path), options))
    compiled, plain = results
    assert [(p.id, p.verdict, p.reason, p.trace) for p in compiled.properties] == [
        (p.id, p.verdict, p.reason, p.trace) for p in plain.properties
    ]


@pytest.mark.slow
def test_native_graph_and_predicates_give_the_python_results() -> None:
    """response.yaml after a native search: graph, predicates and analysis compiled."""
    path = str(ROOT / "benchmarks/models/response.yaml")
    native = check_file(path, Options(backend="native"))
    python = check_file(path, Options(backend="python"))
    assert native.stats.backend == "native"
    assert [(p.id, p.verdict, p.reason, p.trace) for p in native.properties] == [
        (p.id, p.verdict, p.reason, p.trace) for p in python.properties
    ]


def test_a_predicate_that_cannot_be_evaluated_says_why_on_both_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import write_model

    text = """
model: bad-trigger
vars:
  x: {type: int, range: [0, 3]}
actions:
  inc: {when: x < 3, do: {x: x + 1}}
  reset: {when: x == 3, do: {x: 0}}
properties:
  p:
    leads_to: {from: '4 // (2 - x) > 0', to: 'x == 0'}
"""
    path = write_model(tmp_path, text)
    monkeypatch.setattr(liveness, "BIG", 0)
    native = check_file(path, Options(backend="native"))
    python = check_file(path, Options(backend="python"))
    (n,) = [p for p in native.properties if p.id == "p"]
    (q,) = [p for p in python.properties if p.id == "p"]
    assert "cannot be evaluated" in q.reason
    assert "by zero" in q.reason
    assert (n.verdict, n.reason) == (q.verdict, q.reason)
