"""`preemptcheck diff BASE`: git worktrees, the comparison of two runs, its three renderings."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import without_monitors, write_model
from preemptcheck.checking.check import Options, check_paths
from preemptcheck.checking.diff import Change, Diff, Effect, Kind, compare
from preemptcheck.checking.results import (
    ModelFailure,
    ModelResult,
    RunResult,
    Strength,
    Verdict,
)
from preemptcheck.ci import gitrev
from preemptcheck.cli.main import app
from preemptcheck.model.ir import Expect
from preemptcheck.report import diff as report

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "diff.schema.json").read_text())
GOOD = "      holds[curr]: true\n      pc: pc + lock_offset"
BUG = "      holds[curr]: true\n      pc: pc"  # spin_lock forgets PREEMPT_LOCK_OFFSET
LIMIT = ["--max-states", "50000"]  # the bug makes the count drift: keep its search short


IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
Outcomes = dict[tuple[str, str], str]  # (file, property) -> outcome


def git(repo: Path, *args: str) -> str:
    """git in `repo` only, with a committer identity of its own."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return proc.stdout


def make_repo(repo: Path) -> Path:
    """A git repository holding a copy of the bundled base, full and lazy models."""
    (repo / "models").mkdir(parents=True)
    (repo / "properties").mkdir()
    for name in ("_base.yaml", "full.yaml", "lazy.yaml"):
        shutil.copy(ROOT / "models" / name, repo / "models" / name)
    shutil.copy(ROOT / "properties" / "core.yaml", repo / "properties" / "core.yaml")
    without_monitors(repo / "models")
    git(repo, "init", "-q")
    commit(repo, "models")
    return repo


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def plant(repo: Path, old: str, new: str) -> None:
    base = repo / "models" / "_base.yaml"
    text = base.read_text()
    assert old in text
    base.write_text(text.replace(old, new))


def worktrees(repo: Path) -> list[str]:
    return [
        ln
        for ln in git(repo, "worktree", "list", "--porcelain").splitlines()
        if ln.startswith("worktree ")
    ]


def invoke(monkeypatch: pytest.MonkeyPatch, where: Path, *args: str) -> tuple[int, str]:
    monkeypatch.chdir(where)
    result = CliRunner().invoke(app, ["diff", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


def outcomes(monkeypatch: pytest.MonkeyPatch, where: Path) -> Outcomes:
    """What `verify` says there: (file, property) -> outcome."""
    monkeypatch.chdir(where)
    result = CliRunner().invoke(app, ["verify", "models/", *LIMIT, "--format", "json"])
    assert result.exit_code in (0, 1, 3), result.output
    doc = json.loads(result.stdout)
    return {(m["file"], p["id"]): p["outcome"] for m in doc["models"] for p in m["properties"]}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two commits: the bundled models, then the planted spin_lock bug (clean tree)."""
    repo = make_repo(tmp_path_factory.mktemp("planted") / "repo")
    plant(repo, GOOD, BUG)
    commit(repo, "spin_lock forgets the lock offset")
    return repo


@pytest.fixture(scope="module")
def verified(planted: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcomes, Outcomes]:
    """verify's outcomes before the bug (a copy of the first commit) and with it."""
    good = tmp_path_factory.mktemp("good")
    git(planted, "archive", "HEAD~1", "-o", str(good / "base.tar"))
    shutil.unpack_archive(good / "base.tar", good)
    with pytest.MonkeyPatch.context() as mp:
        return outcomes(mp, good), outcomes(mp, planted)


def newly_unexpected(before: Outcomes, after: Outcomes) -> set[tuple[str, str]]:
    """What the diff must call regressions: unexpected now, and not at BASE (or new)."""
    return {k for k, o in after.items() if o == "unexpected" and before.get(k) != "unexpected"}


# ---------------------------------------------------------------- the "done when"


@pytest.mark.slow
def test_planted_bug_reports_exactly_its_regressions(
    planted: Path,
    verified: tuple[Outcomes, Outcomes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = invoke(monkeypatch, planted, "HEAD~1", *LIMIT, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    expected = newly_unexpected(*verified)
    assert len(expected) == 17  # the README's planted bug: every safety property of both
    got = {(c["file"], c["property"]) for c in doc["changes"] if c["effect"] == "regression"}
    assert got == expected
    assert doc["summary"]["regressions"] == len(expected)
    assert doc["summary"]["fixes"] == 0
    assert doc["exit_code"] == 1
    assert doc["paths"] == ["models"]
    assert doc["base"]["commit"] == git(planted, "rev-parse", "HEAD~1").strip()
    for c in doc["changes"]:
        if c["effect"] == "regression":
            assert c["kind"] == "newly-violated"
            assert (c["before"]["verdict"], c["after"]["verdict"]) == ("holds", "violated")
    spaces = [c for c in doc["changes"] if c["kind"] == "state-space"]
    assert [c["file"] for c in spaces] == ["models/full.yaml", "models/lazy.yaml"]
    assert spaces[0]["before"]["states"] == 20505
    assert spaces[0]["before"]["complete"] is True
    assert spaces[0]["after"]["complete"] is False
    assert worktrees(planted) == [f"worktree {planted.resolve()}"]


@pytest.mark.slow
def test_planted_bug_text(
    planted: Path,
    verified: tuple[Outcomes, Outcomes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = invoke(monkeypatch, planted, "HEAD~1", *LIMIT)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("comparing models at HEAD~1 (")
    assert "models/full.yaml: preempt-full" in lines
    assert (
        "  regression  no-sleep-in-atomic                     newly violated: "
        "holds (exhaustive) -> violated (4 steps), expected holds"
    ) in lines
    assert (
        "              state space                            20,505 -> 50,000 states "
        "(+143.8%), 50,454 -> 101,928 transitions (+102.0%), exhaustive -> incomplete: "
        "state limit reached (50,000 states)"
    ) in lines
    n = len(newly_unexpected(*verified))
    assert lines[-1] == (
        f"{n} regressions, 0 fixes, 11 weaker verdicts, 2 state-space changes"
        " (2 runs, 46 properties now)"
    )
    assert sum(ln.startswith("  regression  ") for ln in lines) == n


@pytest.mark.slow
def test_planted_bug_markdown(planted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = invoke(monkeypatch, planted, "HEAD~1", *LIMIT, "--format", "markdown")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("### preemptcheck diff: `HEAD~1` (")
    assert lines[0].endswith(") → working tree")
    assert lines[2].startswith("**17 regressions, 0 fixes, 11 weaker verdicts, ")
    header = lines.index("| | model | property | change | before | after |")
    assert lines[header + 1] == "|---|---|---|---|---|---|"
    rows = lines[header + 2 :]
    assert rows[0] == (
        "| **regression** | `models/full.yaml` | `no-sleep-in-atomic` | "
        "newly violated | holds (exhaustive) | violated (4 steps), expected holds |"
    )
    assert all(r.startswith("| **regression** ") for r in rows[:17])  # regressions first
    assert not any("regression" in r for r in rows[17:])
    assert len(rows) == 17 + 11 + 2
    # the README's sample, line for line (its commit id aside)
    readme = (ROOT / "README.md").read_text()
    start = readme.index("$ preemptcheck diff HEAD~1 ")
    command, *sample = readme[start : readme.index("```", start)].splitlines()
    assert command == "$ preemptcheck diff HEAD~1 --max-states 50000 --format markdown"
    commit_id = re.compile(r"\(`?[0-9a-f]{12}`?\)")
    actual = [commit_id.sub("(...)", line) for line in lines]
    for line in sample:
        if line != "...":
            assert commit_id.sub("(...)", line) in actual, line


@pytest.mark.slow
def test_a_fix_in_the_working_tree_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verified: tuple[Outcomes, Outcomes]
) -> None:
    repo = make_repo(tmp_path / "repo")
    plant(repo, GOOD, BUG)
    commit(repo, "bug")
    plant(repo, BUG, GOOD)  # uncommitted: the working tree's files are compared
    code, out = invoke(monkeypatch, repo, "HEAD", *LIMIT, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    good, bad = verified
    fixed = {k for k, o in bad.items() if o == "unexpected" and good[k] == "as-expected"}
    got = {(c["file"], c["property"]) for c in doc["changes"] if c["effect"] == "fix"}
    assert got == fixed
    assert {c["kind"] for c in doc["changes"] if c["effect"] == "fix"} == {"newly-holds"}
    assert doc["summary"]["regressions"] == 0
    code, out = invoke(monkeypatch, repo, "HEAD", *LIMIT)
    assert out.splitlines()[-1].startswith(f"0 regressions, {len(fixed)} fixes, ")
    # the fixed working tree against the first commit: nothing changed
    code, out = invoke(monkeypatch, repo, "HEAD~1", *LIMIT)
    assert code == 0
    assert out.splitlines()[-1] == "no changes (2 runs, 46 properties)"
    code, out = invoke(monkeypatch, repo, "HEAD~1", *LIMIT, "--format", "markdown")
    assert "**no changes (2 runs, 46 properties)**" in out
    assert "| |" not in out
    assert worktrees(repo) == [f"worktree {repo.resolve()}"]


# ---------------------------------------------------------------- small repositories

TINY = """
    model: tiny
    params:
      mode: {values: [none, full], default: full}
    vars:
      x: {type: int, range: [0, 3]}
    actions:
      inc:
        when: x < 3
        do: {x: x + 1}
      reset:
        when: x == 3
        do: {x: 0}
    properties:
      bounded:
        invariant: x <= 3
      small:
        invariant: x < 2
        expect: violated
      reaches-top:
        reachable: x == 3
"""


OTHER = """
    model: other
    vars:
      y: {type: bool}
    actions:
      flip:
        do: {y: not y}
    properties:
      never-y:
        invariant: not y
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    write_model(repo / "models", TINY, "tiny.yaml")
    git(repo, "init", "-q")
    commit(repo, "tiny")
    return repo


def test_uncommitted_changes_and_new_files_are_compared(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tiny / "models" / "tiny.yaml"
    path.write_text(
        path.read_text()
        .replace("range: [0, 3]}", "range: [0, 4], init: 1}")
        .replace("x < 3", "x < 4")
        .replace("when: x == 3", "when: x == 4")
    )
    write_model(tiny / "models", OTHER, "other.yaml")  # untracked
    code, out = invoke(monkeypatch, tiny, "HEAD")
    assert code == 1
    commit_id = git(tiny, "rev-parse", "HEAD")[:12]
    assert out == (
        f"comparing models at HEAD ({commit_id}) with the working tree\n"
        "models/other.yaml: other\n"
        "              model added  - -> 3 properties: 2 as expected, 1 unexpected, "
        "0 inconclusive; 2 states, 2 transitions, exhaustive\n"
        "  regression  never-y      property added: - -> violated (1 step), expected holds\n"
        "models/tiny.yaml: tiny\n"
        "              state space  4 -> 5 states (+25.0%), 4 -> 5 transitions (+25.0%)\n"
        "  regression  bounded      newly violated: holds (exhaustive) -> violated (3 steps), "
        "expected holds\n"
        "              small        trace length: violated (2 steps), as expected -> "
        "violated (1 step), as expected\n"
        "              reaches-top  trace length: holds (witness, 3 steps) -> "
        "holds (witness, 2 steps)\n"
        "2 regressions, 0 fixes, 1 model added, 2 trace-length changes, 1 state-space change "
        "(2 runs, 8 properties now)\n"
    )
    assert worktrees(tiny) == [f"worktree {tiny.resolve()}"]


def test_paths_from_a_subfolder_are_taken_from_the_repository_root(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tiny / "models" / "tiny.yaml").write_text(
        (tiny / "models" / "tiny.yaml").read_text().replace("    expect: violated\n", "")
    )
    code, out = invoke(monkeypatch, tiny / "models", "HEAD", "tiny.yaml", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["paths"] == ["models/tiny.yaml"]
    (change,) = doc["changes"]
    assert (change["kind"], change["effect"], change["file"], change["property"]) == (
        "expect-changed",
        "regression",
        "models/tiny.yaml",
        "small",
    )
    monkeypatch.chdir(tiny / "models")
    result = CliRunner().invoke(app, ["diff", "HEAD", "../../elsewhere"])
    assert result.exit_code == 2
    assert "../../elsewhere is outside the repository at " in result.output


def test_all_modes_rows_name_the_mode(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tiny / "models" / "tiny.yaml"
    path.write_text(path.read_text().replace("  small:\n", "  small:\n    modes: [full]\n"))
    code, out = invoke(monkeypatch, tiny, "HEAD", "--all-modes", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert [(c["kind"], c["choice"], c["property"]) for c in doc["changes"]] == [
        ("property-removed", "mode=none", "small")
    ]
    code, out = invoke(monkeypatch, tiny, "HEAD", "--all-modes")
    assert "models/tiny.yaml: tiny [mode=none]" in out.splitlines()


def test_a_model_that_now_fails_to_load_is_a_regression(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tiny / "models" / "tiny.yaml"
    path.write_text(path.read_text().replace("x + 1", "y + 1"))
    code, out = invoke(monkeypatch, tiny, "HEAD", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    (change,) = doc["changes"]
    assert (change["kind"], change["effect"]) == ("fails-to-load", "regression")
    assert change["diagnostics"][0]["code"] == "PC103"
    assert change["diagnostics"][0]["file"] == "models/tiny.yaml"
    code, out = invoke(monkeypatch, tiny, "HEAD")
    assert "  regression  fails to load  checked -> models/tiny.yaml:9:13: error[PC103]" in out
    # committed, and fixed in the working tree: it loads again
    commit(tiny, "broken")
    path.write_text(path.read_text().replace("y + 1", "x + 1"))
    code, out = invoke(monkeypatch, tiny, "HEAD", "--format", "json")
    assert code == 0
    assert [(c["kind"], c["effect"]) for c in json.loads(out)["changes"]] == [
        ("loads-again", "fix")
    ]
    # broken on both sides: no change, but said
    path.write_text(path.read_text().replace("x + 1", "y + 1"))
    code, out = invoke(monkeypatch, tiny, "HEAD", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["changes"] == []
    assert [f["file"] for f in doc["still_failing"]] == ["models/tiny.yaml"]
    code, out = invoke(monkeypatch, tiny, "HEAD", "--set", "NOPE=1")
    assert code == 2  # the options fit no model on either side
    assert "models/tiny.yaml: cannot be checked at HEAD or now" in out


# ---------------------------------------------------------------- errors


def test_not_a_git_repository_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    write_model(tmp_path / "plain" / "models", TINY, "tiny.yaml")
    monkeypatch.chdir(tmp_path / "plain")
    result = CliRunner().invoke(app, ["diff", "HEAD"])
    assert result.exit_code == 2
    assert "error[PC203]: not a git repository: " in result.output
    assert "Traceback" not in result.output


def test_unknown_revision_is_exit_2_and_named(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny)
    for rev in ("no-such-branch", "--help-me"):
        result = CliRunner().invoke(app, ["diff", "--", rev])
        assert result.exit_code == 2, result.output
        assert f"unknown revision '{rev}'" in result.output
    assert worktrees(tiny) == [f"worktree {tiny.resolve()}"]


def test_no_models_on_either_side_is_exit_2(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tiny)
    result = CliRunner().invoke(app, ["diff", "HEAD", "nothing-here/"])
    assert result.exit_code == 2
    assert "error[PC202]: no model files in nothing-here at HEAD or in the working tree" in (
        result.output
    )


def test_the_worktree_is_removed_after_an_internal_error(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    trees: list[int] = []

    def boom(paths: list[str], *args: object, **kwargs: object) -> RunResult:
        seen.extend(paths)
        trees.append(len(worktrees(tiny)))
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(gitrev, "check_paths", boom)
    monkeypatch.chdir(tiny)
    result = CliRunner().invoke(app, ["diff", "HEAD"])
    assert result.exit_code == 4
    assert "internal error: RuntimeError: engine exploded" in result.output
    assert trees == [2]  # the BASE side was being checked in its worktree
    assert seen
    assert not Path(seen[0]).exists()
    assert worktrees(tiny) == [f"worktree {tiny.resolve()}"]


# ---------------------------------------------------------------- the pure comparison


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> ModelResult:
    """One real run of the tiny model, for hand-made variants."""
    top = tmp_path_factory.mktemp("tiny")
    write_model(top, TINY, "tiny.yaml")
    result = gitrev.relative(check_paths([str(top / "tiny.yaml")], Options()), top)
    (m,) = result.models
    assert isinstance(m, ModelResult)
    assert [p.id for p in m.properties] == ["bounded", "small", "reaches-top", "range", "deadlock"]
    return m


def with_prop(m: ModelResult, pid: str, **changes: Any) -> ModelResult:
    """`m` with property `pid`'s result changed: a hand-made variant."""
    props = tuple(dataclasses.replace(p, **changes) if p.id == pid else p for p in m.properties)
    return dataclasses.replace(m, properties=props)


def diff(before: ModelResult | ModelFailure, after: ModelResult | ModelFailure) -> Diff:
    d = compare(RunResult((before,)), RunResult((after,)))
    return dataclasses.replace(d, base="HEAD", commit="0" * 40, paths=("models",))


def kinds(d: Diff) -> list[tuple[Kind, Effect, str]]:
    return [(c.kind, c.effect, c.property) for c in d.changes]


def test_identical_runs_have_no_changes(run: ModelResult) -> None:
    d = diff(run, run)
    assert d.changes == ()
    assert (d.regressions, d.fixes, d.exit_code) == (0, 0, 0)
    assert report.summary_line(d) == "no changes (1 run, 5 properties)"


def test_state_count_change(run: ModelResult) -> None:
    more = dataclasses.replace(run, stats=dataclasses.replace(run.stats, states=6, transitions=4))
    d = diff(run, more)
    assert kinds(d) == [(Kind.STATE_SPACE, Effect.NONE, "")]
    (c,) = d.changes
    assert c.before_run is run
    assert c.after_run is more
    assert report.state_space(run, more) == "4 -> 6 states (+50.0%)"
    assert report.describe(c) == (
        "4 states, 4 transitions, exhaustive",
        "6 states (+50.0%), 4 transitions, exhaustive",
    )
    assert (
        report.summary_line(d)
        == "0 regressions, 0 fixes, 1 state-space change (1 run, 5 properties now)"
    )
    jsonschema.validate(report.document(d), SCHEMA)


def test_trace_length_change(run: ModelResult) -> None:
    small = next(p for p in run.properties if p.id == "small")
    assert small.trace is not None
    assert small.trace.length == 2
    longer = dataclasses.replace(small.trace, steps=small.trace.steps * 2)
    d = diff(run, with_prop(run, "small", trace=longer))
    assert kinds(d) == [(Kind.TRACE_LENGTH, Effect.NONE, "small")]
    assert report.describe(d.changes[0]) == (
        "violated (2 steps), as expected",
        "violated (4 steps), as expected",
    )
    doc = report.document(d)
    assert (doc["changes"][0]["before"]["length"], doc["changes"][0]["after"]["length"]) == (2, 4)


@pytest.mark.parametrize(
    ("after", "kind"),
    [
        (
            {"verdict": Verdict.UNKNOWN, "strength": Strength.NONE, "reason": "state limit"},
            Kind.WEAKER,
        ),
        ({"verdict": Verdict.BOUNDED, "strength": Strength.BOUNDED, "reason": "30"}, Kind.WEAKER),
        ({"strength": Strength.INDUCTIVE, "reason": "k-induction, k=1"}, Kind.STRENGTH_CHANGED),
    ],
)
def test_strength_change(run: ModelResult, after: dict[str, object], kind: Kind) -> None:
    weaker = with_prop(run, "bounded", **after)
    assert kinds(diff(run, weaker)) == [(kind, Effect.NONE, "bounded")]
    back = Kind.STRONGER if kind == Kind.WEAKER else kind
    assert kinds(diff(weaker, run)) == [(back, Effect.NONE, "bounded")]


def test_a_deeper_bound_is_stronger(run: ModelResult) -> None:
    def bounded(depth: str) -> ModelResult:
        return with_prop(
            run, "bounded", verdict=Verdict.BOUNDED, strength=Strength.BOUNDED, reason=depth
        )

    assert kinds(diff(bounded("10"), bounded("30"))) == [(Kind.STRONGER, Effect.NONE, "bounded")]
    assert kinds(diff(bounded("30"), bounded("10"))) == [(Kind.WEAKER, Effect.NONE, "bounded")]


def test_newly_violated_is_a_regression_unless_expected(run: ModelResult) -> None:
    small = next(p for p in run.properties if p.id == "small")
    broken = with_prop(
        run,
        "bounded",
        verdict=Verdict.VIOLATED,
        strength=Strength.COUNTEREXAMPLE,
        trace=small.trace,
    )
    assert kinds(diff(run, broken)) == [(Kind.NEWLY_VIOLATED, Effect.REGRESSION, "bounded")]
    assert kinds(diff(broken, run)) == [(Kind.NEWLY_HOLDS, Effect.FIX, "bounded")]
    assert diff(run, broken).exit_code == 1
    documented = with_prop(broken, "bounded", expect=Expect.VIOLATED)
    assert kinds(diff(run, documented)) == [(Kind.NEWLY_VIOLATED, Effect.NONE, "bounded")]
    # the expectation changed to match the verdict: a fix
    assert kinds(diff(broken, documented)) == [(Kind.EXPECT_CHANGED, Effect.FIX, "bounded")]
    # inconclusive at BASE, unexpected now: verify newly fails, a regression
    unknown = with_prop(run, "bounded", verdict=Verdict.UNKNOWN, strength=Strength.NONE)
    assert kinds(diff(unknown, broken)) == [(Kind.STRONGER, Effect.REGRESSION, "bounded")]


def test_property_added_and_removed(run: ModelResult) -> None:
    fewer = dataclasses.replace(
        run, properties=tuple(p for p in run.properties if p.id != "reaches-top")
    )
    assert kinds(diff(run, fewer)) == [(Kind.PROPERTY_REMOVED, Effect.NONE, "reaches-top")]
    assert kinds(diff(fewer, run)) == [(Kind.PROPERTY_ADDED, Effect.NONE, "reaches-top")]
    failing = with_prop(run, "reaches-top", verdict=Verdict.VIOLATED)
    assert kinds(diff(fewer, failing)) == [(Kind.PROPERTY_ADDED, Effect.REGRESSION, "reaches-top")]
    c = diff(fewer, failing).changes[0]
    assert report.describe(c)[0] == "-"
    assert report.document(diff(fewer, failing))["changes"][0]["before"] is None


def test_model_failing_to_load(run: ModelResult) -> None:
    from preemptcheck.core.errors import Code, Diagnostic
    from preemptcheck.core.source import Span

    bad = ModelFailure(
        run.file,
        (
            Diagnostic(
                Code.UNKNOWN_NAME, "unknown variable 'y'", Span(run.file, 7, 13), "actions.inc.do"
            ),
        ),
    )
    d = diff(run, bad)
    assert kinds(d) == [(Kind.FAILS_TO_LOAD, Effect.REGRESSION, "")]
    assert d.exit_code == 1
    assert report.describe(d.changes[0]) == (
        "checked",
        "tiny.yaml:7:13: error[PC103]: actions.inc.do: unknown variable 'y'",
    )
    jsonschema.validate(report.document(d), SCHEMA)
    assert kinds(diff(bad, run)) == [(Kind.LOADS_AGAIN, Effect.FIX, "")]
    both = diff(bad, bad)
    assert both.changes == ()
    assert both.still_failing == (bad,)
    new_and_bad = compare(RunResult(()), RunResult((bad,)))
    assert kinds(new_and_bad) == [(Kind.FAILS_TO_LOAD, Effect.REGRESSION, "")]
    assert report.describe(new_and_bad.changes[0])[0] == "-"


def test_models_added_removed_and_params_changed(run: ModelResult) -> None:
    other = dataclasses.replace(run, file="a.yaml")
    d = compare(RunResult((run,)), RunResult((other, run)))
    assert [(c.kind, c.file) for c in d.changes] == [(Kind.MODEL_ADDED, "a.yaml")]
    d = compare(RunResult((other, run)), RunResult((run,)))
    assert [(c.kind, c.file) for c in d.changes] == [(Kind.MODEL_REMOVED, "a.yaml")]
    # a param added to the model: the runs are still paired, on the params both have
    extra = dataclasses.replace(run, params=(*run.params, ("NEW", True)))
    d = diff(run, with_prop(extra, "small", expect=Expect.HOLDS))
    assert kinds(d) == [
        (Kind.PARAMS_CHANGED, Effect.NONE, ""),
        (Kind.EXPECT_CHANGED, Effect.REGRESSION, "small"),
    ]
    assert report.describe(d.changes[0]) == ("mode=full", "mode=full, NEW=true")


def test_runs_of_one_file_are_told_apart_by_their_choice(run: ModelResult) -> None:
    none = dataclasses.replace(run, params=(("mode", "none"),))
    broken = with_prop(none, "bounded", verdict=Verdict.VIOLATED)
    d = compare(RunResult((run, none)), RunResult((run, broken)))
    assert [(c.choice, c.property) for c in d.changes] == [("mode=none", "bounded")]
    text = report.render_text(dataclasses.replace(d, base="HEAD", paths=("models",)))
    assert "tiny.yaml: tiny [mode=none]" in text.splitlines()


def test_order_is_by_file_then_run_then_property(run: ModelResult) -> None:
    b, a = dataclasses.replace(run, file="b.yaml"), dataclasses.replace(run, file="a.yaml")
    d = compare(
        RunResult((b, a)),
        RunResult(
            (
                with_prop(b, "small", verdict=Verdict.HOLDS),
                with_prop(a, "bounded", verdict=Verdict.VIOLATED),
            )
        ),
    )
    assert [(c.file, c.property) for c in d.changes] == [("a.yaml", "bounded"), ("b.yaml", "small")]
    assert all(isinstance(c, Change) for c in d.changes)
    assert (d.regressions, d.fixes) == (2, 0)


def test_paths_are_made_relative_to_each_side(tmp_path: Path) -> None:
    write_model(tmp_path / "models", TINY.replace("x + 1", "y + 1"), "bad.yaml")
    result = check_paths([str(tmp_path / "models")], Options())
    (m,) = gitrev.relative(result, tmp_path).models
    assert isinstance(m, ModelFailure)
    assert m.file == "models/bad.yaml"
    assert m.diagnostics[0].span.file == "models/bad.yaml"
    assert str(tmp_path) not in m.diagnostics[0].headline()


def test_the_json_document_is_deterministic(run: ModelResult) -> None:
    broken = with_prop(run, "bounded", verdict=Verdict.VIOLATED)
    first = report.document(diff(run, broken))
    jsonschema.validate(first, SCHEMA)
    assert first == report.document(diff(run, broken))
    assert first["summary"]["kinds"] == {"newly-violated": 1}
    assert isinstance(first["changes"][0]["after"], dict)
