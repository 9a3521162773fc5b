"""Fuzzing in CI (issue 13: never crash, never hang): about 520 derandomized cases of every
class in tests/fuzzing/, the same ones on every run, judged by its oracle (exit codes
0-3, no internal error or traceback, a location on every exit 2, output files whole or
absent, the engines agreeing on semantic mutants, a time limit per case).

Cases run in this process through typer's CliRunner, under a SIGALRM time limit; the few
that need a real process (a FIFO, /dev/zero, a signal, inputs deep enough to threaten the
interpreter) run as one, killed at their limit. They are batched by class, at most 25 to a
test, so that a failure names its batch and lists every failing case with its reproducer.
The longer campaign is benchmarks/fuzz.py.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from fuzzing import CI_COUNTS, KINDS, Result, chmod_stops_reads, execute, generate, report, suite

BATCH = 25


def _batches() -> list[tuple[str, list[tuple[str, int]]]]:
    by_kind: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for kind, seed in suite(CI_COUNTS):
        by_kind[kind].append((kind, seed))
    out = []
    for kind, cases in by_kind.items():
        for i in range(0, len(cases), BATCH):
            out.append((f"{kind}-{i // BATCH}", cases[i : i + BATCH]))
    return out


BATCHES = _batches()


@pytest.fixture(autouse=True)
def _no_user_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """conftest turns the results cache off; a case that turns it on (`--cache`) without a
    folder of its own must not reach the user's cache either."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def test_the_suite_is_big_enough() -> None:
    assert sum(len(cases) for _, cases in BATCHES) >= 500
    assert set(CI_COUNTS) == set(KINDS)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "cases"), BATCHES, ids=[name for name, _ in BATCHES])
def test_fuzz_batch(name: str, cases: list[tuple[str, int]], tmp_path: Path) -> None:
    if cases[0][0] == "unreadable" and not chmod_stops_reads():
        pytest.skip("chmod 000 does not stop reads here (root): the unreadable class is moot")
    failures: list[Result] = []
    for i, (kind, seed) in enumerate(cases):
        case = generate(kind, seed)
        workdir = tmp_path / f"c{i}"
        workdir.mkdir()
        result = execute(case, workdir)
        if result.problems:
            failures.append(result)
    if failures:
        causes = sorted({p.cause for r in failures for p in r.problems})
        message = [f"{len(failures)} of {len(cases)} cases of batch {name} fail; causes:"]
        message += [f"  - {c}" for c in causes]
        message += ["", *(report(r, limit=1500) + "\n" for r in failures)]
        pytest.fail("\n".join(message), pytrace=False)
