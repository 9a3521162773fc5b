"""`preemptcheck graph`: the state graph and its quotients as DOT, GraphML and SVG, the
counterexample's path marked; the size limit and bad --project names."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from conftest import counter_model, write_model
from preemptcheck.cli.main import app
from preemptcheck.engines.explicit import Explorer
from preemptcheck.engines.graph import build_graph
from preemptcheck.model import load_model

ROOT = Path(__file__).resolve().parent.parent
FULL = str(ROOT / "models" / "full.yaml")
COUNTER = counter_model(
    "counter",
    properties="""
    below-three:
      invariant: x < 3
    """,
)

NODE = re.compile(r"^  (s\d+) \[(.*)\];$")
EDGE = re.compile(r"^  (s\d+) -> (s\d+) \[(.*)\];$")
MARK = 'class="counterexample"'


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["graph", *args])
    return result.exit_code, result.stdout, result.stderr


def _expected(path: str, project: tuple[str, ...]) -> nx.DiGraph:
    """The quotient computed apart from the command: the state graph's arrays, each state
    unpacked and mapped to the raw values of the projected variables (itself when none);
    a step inside one block is a loop on it."""
    model = load_model(path)
    explorer = Explorer(model)
    sg = build_graph(explorer)
    cols = [k for k, v in enumerate(model.vars) if v.name in project]

    def block(packed: int) -> object:
        if not project:
            return packed
        values = explorer.layout.unpack(packed).values
        return tuple(values[k] for k in cols)

    key = [block(p) for p in sg.states]
    quotient = nx.DiGraph()
    quotient.add_nodes_from(key)
    quotient.add_edges_from((key[v], key[sg.dst[e]]) for v in range(len(sg)) for e in sg.edges(v))
    return quotient


def _parse_dot(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Nodes and edges of a DOT text as to_dot writes it; the braces balance outside quotes."""
    assert text.startswith("digraph ")
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    depth = 0
    for ch in unquoted:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert unquoted.count("{") == 1
    nodes = [(m[1], m[2]) for line in text.splitlines() if (m := NODE.match(line))]
    edges = [(m[1], m[2], m[3]) for line in text.splitlines() if (m := EDGE.match(line))]
    return nodes, edges


def _marked_walk(edges: list[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """The marked edges, checked to be reachable from the initial node through marked edges."""
    marked = {(a, b) for a, b, attrs in edges if MARK in attrs}
    walk = nx.DiGraph(list(marked))
    assert "s0" in walk
    assert set(walk) == {"s0"} | nx.descendants(walk, "s0")
    return marked


@pytest.fixture(scope="module")
def full_quotient(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("graph")
    dot, graphml = out / "g.dot", out / "g.graphml"
    code, _, err = _invoke(FULL, "--project", "pc,irqs_off", "-o", str(dot))
    assert code == 0, err
    code2, _, err2 = _invoke(FULL, "--project", "pc", "--project", "irqs_off", "-o", str(graphml))
    assert code2 == 0, err2
    project = ("pc", "irqs_off")
    return {
        "dot": dot.read_text(),
        "graphml": graphml,
        "stderr": err,
        "expected": _expected(FULL, project),
    }


@pytest.mark.slow
def test_full_quotient_as_dot(full_quotient: dict[str, object]) -> None:
    expected = full_quotient["expected"]
    assert isinstance(expected, nx.DiGraph)
    nodes, edges = _parse_dot(str(full_quotient["dot"]))
    assert len(nodes) == expected.number_of_nodes()
    assert len(edges) == expected.number_of_edges()
    assert len({(a, b) for a, b, _ in edges}) == len(edges)
    assert "peripheries=2" in dict(nodes)["s0"]
    assert "pc=0x" in dict(nodes)["s0"]
    assert "irqs_off=" in dict(nodes)["s0"]
    assert _marked_walk(edges)
    assert "in red" in str(full_quotient["stderr"])


@pytest.mark.slow
def test_full_quotient_as_graphml(full_quotient: dict[str, object]) -> None:
    expected = full_quotient["expected"]
    assert isinstance(expected, nx.DiGraph)
    read = nx.read_graphml(full_quotient["graphml"])
    assert read.number_of_nodes() == expected.number_of_nodes()
    assert read.number_of_edges() == expected.number_of_edges()
    assert read.nodes["s0"]["initial"] == "true"
    assert {read.nodes[n]["pc"][:2] for n in read} == {"0x"}
    marked = [(a, b) for a, b, d in read.edges(data=True) if d["counterexample"] == "true"]
    assert marked
    assert read.graph["project"] == "pc,irqs_off"


def test_small_model_whole_graph(tmp_path: Path) -> None:
    path = write_model(tmp_path, COUNTER)
    code, out, err = _invoke(path)
    assert code == 0, err
    nodes, edges = _parse_dot(out)
    explorer = Explorer(load_model(path))
    assert len(nodes) == explorer.run().states == 4
    assert len(edges) == _expected(path, ()).number_of_edges() == 4
    # below-three is broken by x = 0, 1, 2, 3: the whole path is marked
    assert _marked_walk(edges) == {("s0", "s1"), ("s1", "s2"), ("s2", "s3")}
    assert 'label="x=3"' in out
    assert 'label="inc@cpu0"' in out


def test_format_from_the_output_name(tmp_path: Path) -> None:
    path = write_model(tmp_path, COUNTER)
    code, _, err = _invoke(path, "-o", str(tmp_path / "g.graphml"))
    assert code == 0, err
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_nodes() == 4
    code, _, err = _invoke(path, "-o", str(tmp_path / "g.png"))
    assert code == 2
    assert "error[PC203]" in err
    assert "--format" in err


@pytest.mark.skipif(shutil.which("dot") is not None, reason="Graphviz's dot is installed")
def test_svg_without_graphviz(tmp_path: Path) -> None:
    path = write_model(tmp_path, COUNTER)
    code, out, err = _invoke(path, "-o", str(tmp_path / "g.svg"))
    assert code == 2
    assert out == ""
    assert "error[PC203]" in err
    assert "dot is not installed" in err
    assert "--format dot" in err
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt install graphviz)"
)
def test_svg_with_graphviz(tmp_path: Path) -> None:
    path = write_model(tmp_path, COUNTER)
    code, _, err = _invoke(path, "-o", str(tmp_path / "g.svg"))
    assert code == 0, err
    root = ET.parse(tmp_path / "g.svg").getroot()
    assert root.tag.endswith("svg")
    assert "counterexample" in (tmp_path / "g.svg").read_text()


def test_over_max_nodes_is_a_limit_with_a_hint(tmp_path: Path) -> None:
    path = write_model(tmp_path, COUNTER)
    code, out, err = _invoke(path, "--max-nodes", "3")
    assert code == 3
    assert out == ""
    assert "4 nodes, over --max-nodes 3" in err
    assert "--project VAR,..." in err
    assert "--project x" in err


def test_bad_project_name(tmp_path: Path) -> None:
    path = write_model(tmp_path, COUNTER)
    code, out, err = _invoke(path, "--project", "xx")
    assert code == 2
    assert out == ""
    assert "error[PC203]: --project xx: not a variable of this model" in err
    assert "did you mean 'x'?" in err
    code, _, err = _invoke(path, "--project", "x,")
    assert code == 2
    assert "error[PC203]" in err


def test_projection_and_property_choice(tmp_path: Path) -> None:
    path = write_model(tmp_path, COUNTER)
    code, out, err = _invoke(path, "--project", "x", "--property", "below-three")
    assert code == 0, err
    nodes, _ = _parse_dot(out)
    assert len(nodes) == 4
    assert "(1 state)" in out
    assert "the trace of below-three in red" in err
    code, _, err = _invoke(path, "--property", "nosuch")
    assert code == 2
    assert "no such property" in err
