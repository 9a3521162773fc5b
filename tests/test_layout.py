"""The package's layout: no import cycle, a stage per folder, the command line on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "preemptcheck"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `name` imports, anywhere in it: a lazy import inside a
    function is still a dependency. Imports under `if TYPE_CHECKING:` are not (annotations
    only, never executed)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            # `from a.b import c` imports the module a.b.c when there is one, else a.b
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]  # fmt: skip
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def _walk(node: ast.AST) -> list[ast.AST]:
    out = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
            out.extend(_walk(ast.Module(body=child.orelse, type_ignores=[])))
            continue
        out.append(child)
        out.extend(_walk(child))
    return out


def _graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        graph.add_edges_from((name, t) for t in _imports(name, path, modules))
    return graph


def test_no_import_cycle() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(_graph()) if len(c) > 1]
    assert cycles == []


def test_the_graph_is_read_right() -> None:
    """The check above sees imports (a graph without edges would pass it)."""
    graph = _graph()
    assert graph.has_edge("preemptcheck.cli.main", "preemptcheck.cli.verify")
    assert graph.has_edge("preemptcheck.cli.verify", "preemptcheck.checking.check")
    assert graph.has_edge("preemptcheck.checking.check", "preemptcheck.core.interrupt")
    # a lazy import inside a function counts
    assert graph.has_edge("preemptcheck.engines.graph", "preemptcheck.engines.explicit.nativerun")


def test_one_module_per_command() -> None:
    from typer.main import get_command

    from preemptcheck.cli.main import app

    commands = get_command(app).commands  # type: ignore[attr-defined]
    for name, command in commands.items():
        module = command.callback.__module__
        assert module == f"preemptcheck.cli.{name.replace('-', '_')}", name


def test_only_the_cli_imports_typer() -> None:
    """Printing and exiting stay in cli/: the stages return values."""

    def imports_typer(path: Path) -> bool:
        for n in ast.walk(ast.parse(path.read_text())):
            if isinstance(n, ast.Import) and any(a.name.split(".")[0] == "typer" for a in n.names):
                return True
            if isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "typer":
                return True
        return False

    users = {name for name, path in _modules().items() if imports_typer(path)}
    assert "preemptcheck.cli.main" in users
    assert {u for u in users if not u.startswith("preemptcheck.cli.")} == set()


def test_top_level_is_only_packages() -> None:
    """Every module sits in the folder of its stage; the top level keeps only the package's
    own entry points."""
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py"]
