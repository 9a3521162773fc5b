"""The kernel's RV monitors on the bundled mode models: the README's verdict and coverage
table, the untaken edges and their reasons, and (with a kernel tree) the kernel's own .dot
files dropped in for the project's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import SWITCHES
from preemptcheck.checking.check import Options, check_paths
from preemptcheck.checking.results import ModelResult, RunResult
from preemptcheck.model.ir import PropKind

ROOT = Path(__file__).resolve().parent.parent
MODES = ("none", "voluntary", "full", "lazy", "rt")


def _run(root: Path) -> RunResult:
    return check_paths([str(root / "models" / f"{m}.yaml") for m in MODES], Options())


@pytest.fixture(scope="module")
def bundled(bundled_results) -> list[ModelResult]:  # type: ignore[no-untyped-def]
    return [bundled_results[m] for m in MODES]


def _monitors(m: ModelResult) -> dict[str, tuple[str, int, int, frozenset[str]]]:
    out = {}
    for p in m.properties:
        if p.kind == PropKind.MONITOR:
            assert p.edges is not None, p.id
            out[p.id] = (p.verdict.value, p.edges.taken, p.edges.total, frozenset(p.edges.untaken))
    return out


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.index("\n## ", start + 1)
    return text[start:end]


@pytest.mark.slow
def test_every_mode_model_runs_every_monitor_as_expected(bundled: list[ModelResult]) -> None:
    for m in bundled:
        got = _monitors(m)
        assert len(got) == 13, m.file
        assert {p.id for p in m.properties if p.outcome.value != "as-expected"} == set()
        assert got["wwnr"][0] == "violated"
        assert all(v == "holds" for k, (v, *_) in got.items() if k != "wwnr"), m.file
        assert m.warnings == (), m.warnings


def test_wwnr_is_reported_in_the_kernels_words(bundled: list[ModelResult]) -> None:
    for m in bundled:
        p = next(p for p in m.properties if p.id == "wwnr")
        assert p.trace is not None
        assert p.reason == (
            "rv: monitor wwnr does not allow event wakeup on state running with task A"
        )
        # the last step wakes the running task inside its wait loop
        assert p.trace.steps[-1].action == "ttwu_runnable"
        assert p.trace.monitor[-1][0] == "A: running"


def test_readme_table_is_what_verify_finds(bundled: list[ModelResult]) -> None:
    rows = re.findall(r"^\| `([\w-]+)` \| (.*) \|$", _section("The kernel's RV monitors"), re.M)
    table = {name: [c.strip() for c in cells.split("|")] for name, cells in rows}
    expect = {}
    for i, m in enumerate(bundled):
        for pid, (verdict, taken, total, _) in _monitors(m).items():
            expect.setdefault(pid, [""] * len(MODES))[i] = f"{verdict} {taken}/{total}"
    assert table == expect


def test_every_untaken_edge_has_its_reason_in_the_readme(bundled: list[ModelResult]) -> None:
    never: dict[str, set[str]] = {}
    for m in bundled:
        for pid, (*_, untaken) in _monitors(m).items():
            never[pid] = set(untaken) if pid not in never else never[pid] & set(untaken)
    section = _section("The kernel's RV monitors")
    listed = re.findall(r"^\* `([\w-]+)`: `([^`]+)`: (.+)$", section, re.M)
    model = bundled[0].model
    reasons = {p.id: dict(p.monitor.untaken) for p in model.properties if p.monitor is not None}
    assert {(pid, e) for pid, e, _ in listed} == {(pid, e) for pid, es in never.items() for e in es}
    for pid, edge, why in listed:
        assert reasons[pid][edge] == why


def test_no_stale_reason(bundled: list[ModelResult]) -> None:
    """Every edge a property says is untaken is untaken in some mode model."""
    untaken_somewhere: dict[str, set[str]] = {}
    for m in bundled:
        for pid, (*_, untaken) in _monitors(m).items():
            untaken_somewhere.setdefault(pid, set()).update(untaken)
    for p in bundled[0].model.properties:
        if p.monitor is not None:
            for edge, _ in p.monitor.untaken:
                assert edge in untaken_somewhere[p.id], (p.id, edge)


KERNEL = SWITCHES["kernel_models"]  # pytest --kernel-models DIR
KERNEL_FILES = {  # bundled name -> path under the kernel's tools/verification/models
    "wip": "wip.dot",
    "wwnr": "wwnr.dot",
    "sco": "sched/sco.dot",
    "snroc": "sched/snroc.dot",
    "scpd": "sched/scpd.dot",
    "snep": "sched/snep.dot",
    "sncid": "sched/sncid.dot",
    "tss": "sched/tss.dot",
    "sts": "sched/sts.dot",
    "nrp": "sched/nrp.dot",
    "sssw": "sched/sssw.dot",
    "opid": "sched/opid.dot",
}


@pytest.mark.skipif(KERNEL is None, reason="no kernel tree given (pytest --kernel-models DIR)")
def test_the_kernels_files_change_nothing(bundled: list[ModelResult], tmp_path: Path) -> None:
    assert KERNEL is not None
    for d in ("models", "properties", "monitors"):
        shutil.copytree(ROOT / d, tmp_path / d)
    dropped = 0
    for name, rel in KERNEL_FILES.items():
        src = Path(str(KERNEL)) / rel
        if not src.is_file():  # a kernel older or newer than a monitor lacks its file
            continue
        if name == "opid" and "irq_off" not in src.read_text(encoding="utf-8"):
            name = "opid-da"  # v6.17 to v7.0: the deterministic form
        shutil.copy(src, tmp_path / "monitors" / f"{name}.dot")
        dropped += 1
    assert dropped
    again = [m for m in _run(tmp_path).models if isinstance(m, ModelResult)]
    for a, b in zip(bundled, again, strict=True):
        assert _monitors(a) == _monitors(b)
        for pa, pb in zip(a.properties, b.properties, strict=True):
            assert (pa.verdict, pa.reason) == (pb.verdict, pb.reason)
