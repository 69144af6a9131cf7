"""The service package's modules import one another one way only (no cycle, counting imports
inside functions too), and none is over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import cryptocheck.service

PACKAGE = "cryptocheck.service"
FOLDER = Path(cryptocheck.service.__file__).parent


def _modules() -> dict[str, Path]:
    return {PACKAGE + ("" if path.stem == "__init__" else "." + path.stem): path
            for path in sorted(FOLDER.glob("*.py"))}


def _imports(path: Path, known: set[str]) -> set[str]:
    """The service modules ``path`` imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # ``from cryptocheck.service import jobs`` imports the module jobs.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the service modules it imports (the package itself left out: importing
    a submodule runs it first, and it imports nothing here)."""
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known) - {name, PACKAGE} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``graph`` as the list of its modules, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from cryptocheck.service import jobs\n"
                      "    import cryptocheck.service.storage\n")
    assert _imports(module, {"cryptocheck.service.jobs", "cryptocheck.service.storage"}) == {
        "cryptocheck.service.jobs", "cryptocheck.service.storage"}


def test_no_import_cycle_in_the_service() -> None:
    graph = import_graph()
    assert len(graph) > 5
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_no_service_module_over_400_lines() -> None:
    sizes = {path.name: len(path.read_text("utf-8").splitlines())
             for path in FOLDER.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}
