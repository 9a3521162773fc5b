"""`verify --all-modes` and the verdict matrix: text, markdown, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from conftest import counter_model, write_model
from preemptcheck.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "result.schema.json").read_text())
BASE = str(ROOT / "models" / "_base.yaml")

# In mode none the counter stops at 1; in full and lazy it counts to 3.
MODAL = """
    model: modal
    params:
      mode: {values: [none, full, lazy], default: full}
    vars:
      x: {type: int, range: [0, 3]}
    actions:
      inc:
        when: x < 3 and (mode != none or x < 1)
        do: {x: x + 1}
      reset:
        when: x == 3 or (mode == none and x == 1)
        do: {x: 0}
    properties:
      small:
        invariant: x < 2
        expect: {none: holds, default: violated}
      full-only:
        invariant: x <= 3
        modes: [full]
      reaches-two:
        reachable: x == 2
        expect: {none: violated, default: holds}
"""

PLAIN = counter_model(
    "plain",
    properties="""
    bounded:
      invariant: x <= 3
""",
)

MODAL_TEXT = [
    "  property     none      full          lazy",
    "  small        holds     violated (2)  violated (2)",
    "  full-only    n/a       holds         n/a",
    "  reaches-two  violated  holds (2)     holds (2)",
    "  range        holds     holds         holds",
    "  deadlock     holds     holds         holds",
]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


def modal(tmp_path: Path, text: str = MODAL) -> str:
    return write_model(tmp_path, text, "modal.yaml")


def matrix_block(out: str) -> list[str]:
    """The text matrices: from the first `verdicts by mode` title up to the legend."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("verdicts by mode"))
    end = next(i for i, line in enumerate(lines) if line.startswith("legend: "))
    return lines[start:end]


def markdown_tables(out: str) -> dict[str, list[list[str]]]:
    """Heading -> the table's rows as cells (header first, separator checked and dropped)."""
    tables: dict[str, list[list[str]]] = {}
    heading = ""
    for line in out.splitlines():
        if line.startswith("### "):
            heading = line[4:]
            tables[heading] = []
        elif line.startswith("|"):
            assert line.endswith("|"), line
            tables[heading].append([c.strip() for c in line[1:-1].split("|")])
    for rows in tables.values():
        assert all(c == "---" for c in rows[1]), rows[1]
        assert all(len(r) == len(rows[0]) for r in rows)
        del rows[1]
    return tables


def cells(doc: dict[str, Any], file_end: str) -> dict[str, dict[str, dict[str, Any]]]:
    (table,) = [t for t in doc["matrix"] if t["file"].endswith(file_end)]
    return {row["property"]: row["cells"] for row in table["rows"]}


# ---------------------------------------------------------------- text


def test_text_matrix_has_a_column_per_mode_and_n_a_cells(tmp_path: Path) -> None:
    code, out = run("verify", "--all-modes", modal(tmp_path))
    assert code == 0, out
    block = matrix_block(out)
    assert block[0].endswith("modal.yaml: modal, verdicts by mode")
    assert block[1 : 1 + len(MODAL_TEXT)] == MODAL_TEXT
    assert "legend: (N) a trace of N steps decides it" in out
    # the normal report comes first, one run per mode; the summary line stays last
    assert out.index("modal.yaml: modal (mode=none)") < out.index("verdicts by mode")
    assert out.rstrip().splitlines()[-1] == (
        "1 model in 3 runs, 13 properties: 13 as expected, 0 unexpected, 0 inconclusive"
    )


def test_model_without_mode_param_has_one_column(tmp_path: Path) -> None:
    path = write_model(tmp_path, PLAIN, "plain.yaml")
    code, out = run("verify", "--all-modes", path, modal(tmp_path))
    assert code == 0, out
    block = matrix_block(out)
    start = next(i for i, line in enumerate(block) if line.endswith("plain, verdicts by mode"))
    assert block[start + 1 : start + 5] == [
        "  property  -",
        "  bounded   holds",
        "  range     holds",
        "  deadlock  holds",
    ]


def test_unexpected_cell_is_marked_and_exits_1(tmp_path: Path) -> None:
    flipped = MODAL.replace(
        "expect: {none: holds, default: violated}", "expect: {none: violated, default: violated}"
    )
    code, out = run("verify", "--all-modes", modal(tmp_path, flipped))
    assert code == 1
    assert "  small        holds !   violated (2)  violated (2)" in matrix_block(out)
    assert "! not as expected" in out
    assert "1 unexpected" in out.splitlines()[-1]


def test_unexpected_trace_stays_visible(tmp_path: Path) -> None:
    flipped = MODAL.replace("expect: {none: holds, default: violated}", "expect: holds")
    code, out = run("verify", "--all-modes", modal(tmp_path, flipped))
    assert code == 1
    assert "FAIL  small" in out
    assert "invariant 'x < 2' is false in the last state" in out  # the trace, before the matrix
    assert "  small        holds     violated (2) !  violated (2) !" in matrix_block(out)


def test_inconclusive_cells_exit_3(tmp_path: Path) -> None:
    code, out = run("verify", "--all-modes", modal(tmp_path), "--max-states", "2")
    assert code == 3
    # mode none has two states, within the limit; full and lazy have more
    assert "  small        holds     unknown ?  unknown ?" in matrix_block(out)


def test_property_filter_keeps_its_rows_and_builtins(tmp_path: Path) -> None:
    code, out = run("verify", "--all-modes", modal(tmp_path), "--property", "full-only")
    assert code == 0, out
    assert matrix_block(out)[1:] == [
        "  property   none   full   lazy",
        "  full-only  n/a    holds  n/a",
        "  range      holds  holds  holds",
        "  deadlock   holds  holds  holds",
        "",
    ]


def test_rows_follow_the_model_where_no_run_orders_them(tmp_path: Path) -> None:
    # for-full and for-none are never checked in the same run: source order decides
    path = write_model(
        tmp_path,
        """
        model: disjoint
        params:
          mode: {values: [none, full], default: full}
        vars:
          x: {type: bool}
        actions:
          flip:
            do: {x: not x}
        properties:
          first:
            invariant: x or not x
          for-full:
            invariant: x or not x
            modes: [full]
          for-none:
            invariant: x or not x
            modes: [none]
          last:
            reachable: x
    """,
    )
    code, out = run("verify", "--all-modes", path)
    assert code == 0, out
    rows = [line.split()[0] for line in matrix_block(out)[2:] if line]
    assert rows == ["first", "for-full", "for-none", "last", "range", "deadlock"]


def test_all_modes_does_not_combine_with_mode(tmp_path: Path) -> None:
    path = modal(tmp_path)
    for extra in (["--mode", "full"], ["--set", "mode=none,full"]):
        result = CliRunner().invoke(app, ["verify", "--all-modes", path, *extra])
        assert result.exit_code == 2
        assert "error[PC203]: --all-modes" in result.output


def test_other_sweeps_give_a_matrix_per_choice(tmp_path: Path) -> None:
    text = MODAL.replace(
        "    params:\n", "    params:\n      LIMIT: {values: [1, 2], sweep: true}\n"
    )
    code, out = run("verify", "--all-modes", modal(tmp_path, text), "--format", "markdown")
    assert code == 0, out
    heads = list(markdown_tables(out))
    assert [h.split(": ", 1)[1] for h in heads] == ["modal (LIMIT=1)", "modal (LIMIT=2)"]


# ---------------------------------------------------------------- markdown


def test_markdown_table_per_file(tmp_path: Path) -> None:
    plain = write_model(tmp_path, PLAIN, "plain.yaml")
    code, out = run("verify", "--all-modes", modal(tmp_path), plain, "--format", "markdown")
    assert code == 0, out
    tables = markdown_tables(out)
    assert list(tables) == [f"`{tmp_path / 'modal.yaml'}`: modal", f"`{plain}`: plain"]
    rows = tables[f"`{tmp_path / 'modal.yaml'}`: modal"]
    assert rows[0] == ["property", "none", "full", "lazy"]
    assert {r[0]: r[1:] for r in rows[1:]} == {
        "`small`": ["holds", "violated (2)", "violated (2)"],
        "`full-only`": ["n/a", "holds", "n/a"],
        "`reaches-two`": ["violated", "holds (2)", "holds (2)"],
        "`range`": ["holds", "holds", "holds"],
        "`deadlock`": ["holds", "holds", "holds"],
    }
    assert tables[f"`{plain}`: plain"][0] == ["property", "-"]
    assert out.rstrip().splitlines()[-1] == (
        "**2 models in 4 runs, 16 properties: 16 as expected, 0 unexpected, 0 inconclusive**"
    )
    assert "```" not in out  # no failed files, no code block


def test_markdown_marks_unexpected_and_keeps_the_exit_code(tmp_path: Path) -> None:
    flipped = MODAL.replace("expect: {none: violated, default: holds}", "expect: holds")
    code, out = run("verify", "--all-modes", modal(tmp_path, flipped), "--format", "markdown")
    assert code == 1
    (rows,) = markdown_tables(out).values()
    assert rows[3] == ["`reaches-two`", "violated !", "holds (2)", "holds (2)"]
    assert "1 unexpected" in out.rstrip().splitlines()[-1]


def test_markdown_without_all_modes_has_a_column_per_run(tmp_path: Path) -> None:
    code, out = run("verify", modal(tmp_path), "--set", "mode=lazy,none", "--format", "markdown")
    assert code == 0, out
    (rows,) = markdown_tables(out).values()
    assert rows[0] == ["property", "lazy", "none"]
    code, out = run("verify", modal(tmp_path), "--format", "markdown")
    assert code == 0, out
    ((heading, rows),) = markdown_tables(out).items()
    assert heading.endswith("modal (mode=full)")
    assert rows[0] == ["property", "full"]


def test_markdown_shows_files_that_cannot_be_checked(tmp_path: Path) -> None:
    broken = write_model(tmp_path, "model: broken\nactions:\n  a:\n    do: {y: 1}\n", "broken.yaml")
    code, out = run("verify", "--all-modes", broken, "--format", "markdown")
    assert code == 2
    assert f"### `{broken}`: cannot be checked" in out
    assert "error[PC103]" in out


# ---------------------------------------------------------------- json


def test_json_matrix_validates_and_has_cells_per_mode(tmp_path: Path) -> None:
    plain = write_model(tmp_path, PLAIN, "plain.yaml")
    code, out = run("verify", "--all-modes", modal(tmp_path), plain, "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert code == doc["exit_code"] == 0
    (table,) = [t for t in doc["matrix"] if t["file"].endswith("modal.yaml")]
    assert (table["model"], table["params"], table["modes"]) == (
        "modal",
        {},
        ["none", "full", "lazy"],
    )
    got = cells(doc, "modal.yaml")
    assert list(got) == ["small", "full-only", "reaches-two", "range", "deadlock"]
    assert got["small"]["full"] == {
        "verdict": "violated",
        "strength": "counterexample",
        "expect": "violated",
        "outcome": "as-expected",
        "length": 2,
    }
    assert got["small"]["none"] == {
        "verdict": "holds",
        "strength": "exhaustive",
        "expect": "holds",
        "outcome": "as-expected",
        "length": None,
    }
    assert got["full-only"]["lazy"] == {
        "verdict": "n/a",
        "strength": None,
        "expect": None,
        "outcome": None,
        "length": None,
    }
    assert got["reaches-two"]["lazy"]["strength"] == "witness"
    assert cells(doc, "plain.yaml")["bounded"] == {
        "-": {
            "verdict": "holds",
            "strength": "exhaustive",
            "expect": "holds",
            "outcome": "as-expected",
            "length": None,
        }
    }


def test_json_matrix_is_null_without_all_modes(tmp_path: Path) -> None:
    code, out = run("verify", modal(tmp_path), "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert code == 0
    assert doc["matrix"] is None


def test_json_unexpected_cell_exits_1(tmp_path: Path) -> None:
    flipped = MODAL.replace("expect: {none: holds, default: violated}", "expect: holds")
    code, out = run("verify", "--all-modes", modal(tmp_path, flipped), "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert code == doc["exit_code"] == 1
    outcomes = {m: c["outcome"] for m, c in cells(doc, "modal.yaml")["small"].items()}
    assert outcomes == {"none": "as-expected", "full": "unexpected", "lazy": "unexpected"}


# ---------------------------------------------------------------- bundled models


@pytest.mark.slow
def test_bundled_base_in_every_mode(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    code, out = run("verify", "--all-modes", "models/_base.yaml", "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert code == 0
    (table,) = doc["matrix"]
    assert table["modes"] == ["none", "voluntary", "full", "lazy", "rt"]
    for row in table["rows"]:
        assert list(row["cells"]) == table["modes"]
        for cell in row["cells"].values():
            assert cell["outcome"] in ("as-expected", None), (row["property"], cell)
    assert [r["property"] for r in table["rows"]][-2:] == ["range", "deadlock"]
    code, out = run("verify", "--all-modes", "models/_base.yaml", "--traces", "none")
    assert code == 0
    block = matrix_block(out)
    assert block[0].startswith("models/_base.yaml: kernel-preemption-base (MAXNEST=2")
    assert block[0].endswith("), verdicts by mode")
    assert block[1].split() == ["property", "none", "voluntary", "full", "lazy", "rt"]
    assert not [line for line in block if line.rstrip().endswith(("!", "?"))]


def _without_name_and_mode(path: Path) -> list[str]:
    """The file's lines but its comments, blank lines, name, doc and mode."""
    drop = ("model:", "doc:", "  mode:", "#")
    lines = path.read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith(drop)]


@pytest.mark.slow
def test_every_bundled_model_in_every_mode(shared_results: Path) -> None:
    """Every bundled model, with its properties and the kernel's monitors, as expected in
    every mode. The mode files differ from each other only in their name and their `mode`,
    which --all-modes sets: full.yaml in every mode stands for all five (checking the
    folder would run each of those 25 runs five times over)."""
    models = ROOT / "models"
    full = _without_name_and_mode(models / "full.yaml")
    for mode in ("none", "voluntary", "lazy", "rt"):
        assert _without_name_and_mode(models / f"{mode}.yaml") == full, mode
    assert sorted(p.name for p in models.glob("[!_]*.yaml")) == [
        *sorted(f"{m}.yaml" for m in ("none", "voluntary", "full", "lazy", "rt", "latency"))
    ]
    paths = [str(models / "full.yaml"), str(models / "latency.yaml")]
    result = CliRunner().invoke(app, ["verify", "--all-modes", *paths, "--traces", "none"])
    code, out = result.exit_code, result.stdout
    assert code == 0, out
    last = out.splitlines()[-1]
    assert last.startswith("2 models in "), last
    assert "0 unexpected, 0 inconclusive" in last
