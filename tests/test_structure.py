"""The shape of the package: no import cycle among cryptocheck's modules, and no module over
450 lines (STYLE.md: one module per concept; ARCHITECTURE.md: the flow the folders tell).

The import graph is read from the source with ``ast``, not by importing it:

- every ``import`` and ``from ... import`` counts, at module level, inside functions and
  under ``if TYPE_CHECKING`` alike: a deferred import is still a dependency, it only moves
  the cycle from import time to call time;
- ``from pkg import name`` is an edge to the submodule ``pkg.name`` when there is one, and
  to the package ``pkg`` (its ``__init__``) otherwise;
- importing ``a.b.c`` is an edge to ``a.b.c`` only. Python also runs the ``__init__`` of
  ``a`` and ``a.b`` first, but those are not counted: a package ``__init__`` that imports
  its own submodules (to offer a small API) makes no cycle, unless a submodule imports the
  package back (``from cryptocheck.report import FORMATS`` inside ``cryptocheck.report.html``
  while ``cryptocheck/report/__init__.py`` imports ``html``): that one counts;
- a module named in a string (``importlib.import_module``, a ``"module:attr"`` table) is not
  an import: such tables are meant to break cycles, and are replaced by registries anyway.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cryptocheck"
MAX_LINES = 450


def module_files(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``package`` (a package is
    named by its ``__init__.py``)."""
    base = package.parent
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve(name: str, known: Iterable[str]) -> str | None:
    """The longest prefix of the dotted ``name`` that is a known module (``a.b.attr`` ->
    ``a.b``), None when it is outside the package."""
    known = set(known)
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


# How an import is written; a module imported more than one way is shown by the first of
# these (the one that binds hardest).
MODULE_LEVEL, IN_FUNCTION, TYPE_CHECKING_ONLY = "module level", "in a function", "type checking"
_ORDER = (MODULE_LEVEL, IN_FUNCTION, TYPE_CHECKING_ONLY)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports_with_context(tree: ast.AST) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import statement of ``tree`` with how it is written (see ``_ORDER``)."""
    def visit(node: ast.AST, context: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, context
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            context = IN_FUNCTION if context == MODULE_LEVEL else context
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                yield from visit(statement, TYPE_CHECKING_ONLY)
            for statement in node.orelse:
                yield from visit(statement, context)
            return
        for child in ast.iter_child_nodes(node):
            yield from visit(child, context)
    yield from visit(tree, MODULE_LEVEL)


def imports_of(module: str, path: Path, known: Mapping[str, Path]) -> dict[str, str]:
    """The known modules ``module`` imports anywhere in its source, each with how it is
    imported (see the module docstring for how names resolve)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: dict[str, str] = {}

    def add(target: str | None, context: str) -> None:
        if target is not None and target != module:
            before = found.get(target, TYPE_CHECKING_ONLY)
            found[target] = min(before, context, key=_ORDER.index)

    for node, context in _imports_with_context(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(_resolve(alias.name, known), context)
            continue
        if node.level:  # relative: from the module's own package, up level - 1
            anchor = module.split(".") if is_package else module.split(".")[:-1]
            anchor = anchor[:len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            add(submodule if submodule in known else _resolve(base, known), context)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, str]]:
    """Module -> the package's modules it imports, each with how it is imported."""
    known = module_files(package)
    return {module: imports_of(module, path, known) for module, path in known.items()}


def describe(cycle: list[str], graph: Mapping[str, Mapping[str, str]]) -> str:
    """``a -> b (in a function) -> a (module level)``: a cycle with how each edge is written."""
    return cycle[0] + "".join(f" -> {target} ({graph[source][target]})"
                              for source, target in itertools.pairwise(cycle))


def tangles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected groups of modules (each reaches every other through imports),
    each sorted. Tarjan's algorithm, iterative (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in graph:
                    continue
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One shortest cycle (``[a, b, ..., a]``) through each tangle, shortest first."""
    found = [_cycle_in(group, graph) for group in tangles(graph)]
    return sorted(found, key=lambda cycle: (len(cycle), cycle))


def _cycle_in(group: list[str], graph: Mapping[str, Iterable[str]]) -> list[str]:
    """A shortest cycle through the first module of a strongly connected ``group``
    (breadth-first inside the group)."""
    members = set(group)
    start = group[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node]):
                if target not in members:
                    continue
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {group}")  # a group always has one


def oversize(package: Path = PACKAGE, limit: int = MAX_LINES) -> dict[str, int]:
    """Module file (relative to the repository) -> lines, for those over ``limit``."""
    sizes = {}
    for path in sorted(package.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            sizes[str(path.relative_to(package.parent))] = lines
    return sizes


def test_no_import_cycle() -> None:
    graph = import_graph()
    found = cycles(graph)
    # A tangle can hold more modules than its shortest cycle: name them all.
    tangled = sorted(module for group in tangles(graph) for module in group)
    assert not found, (f"{len(found)} import cycle(s):\n"
                       + "\n".join(describe(cycle, graph) for cycle in found)
                       + f"\nmodules in a cycle: {', '.join(tangled)}")


def test_no_module_over_450_lines() -> None:
    found = oversize()
    assert not found, f"{len(found)} module(s) over {MAX_LINES} lines:\n" + "\n".join(
        f"{path}: {lines}" for path, lines in sorted(found.items(), key=lambda kv: -kv[1]))


# The checks themselves, on small packages made here: they find what they must, and only that.

def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_a_function_level_import_back_is_a_cycle(tmp_path: Path) -> None:
    package = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "def late():\n    from pkg.a import thing\n    return thing\n",
    })
    graph = import_graph(package)
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]
    assert describe(["pkg.a", "pkg.b", "pkg.a"], graph) == (
        "pkg.a -> pkg.b (module level) -> pkg.a (in a function)")


def test_a_package_importing_its_submodules_is_no_cycle_until_one_imports_it_back(
        tmp_path: Path) -> None:
    package = _package(tmp_path, {
        "pkg/__init__.py": "from pkg.sub import api\n",
        "pkg/sub/__init__.py": "from pkg.sub.api import run\nfrom pkg.sub import fmt\n",
        "pkg/sub/api.py": "import pkg.sub.fmt as fmt\nimport json\n",
        "pkg/sub/fmt.py": "from . import helpers\n",
        "pkg/sub/helpers.py": "X = 1\n",
    })
    graph = import_graph(package)
    assert graph["pkg.sub"] == {"pkg.sub.api": MODULE_LEVEL, "pkg.sub.fmt": MODULE_LEVEL}
    assert set(graph["pkg.sub.fmt"]) == {"pkg.sub.helpers"}  # relative, to the submodule
    assert cycles(graph) == []
    (package / "sub" / "helpers.py").write_text("from pkg.sub import run\n", encoding="utf-8")
    assert cycles(import_graph(package)) == [
        ["pkg.sub", "pkg.sub.fmt", "pkg.sub.helpers", "pkg.sub"]]


def test_type_checking_imports_count(tmp_path: Path) -> None:
    package = _package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/model.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                        "    from pkg.run import Run\n",
        "pkg/run.py": "from pkg.model import Record\n",
    })
    graph = import_graph(package)
    assert graph["pkg.model"] == {"pkg.run": TYPE_CHECKING_ONLY}
    assert cycles(graph) == [["pkg.model", "pkg.run", "pkg.model"]]


def test_oversize_counts_lines(tmp_path: Path) -> None:
    package = _package(tmp_path, {"pkg/__init__.py": "", "pkg/big.py": "x = 1\n" * 451,
                                  "pkg/fits.py": "x = 1\n" * 450})
    assert oversize(package) == {"pkg/big.py": 451}
