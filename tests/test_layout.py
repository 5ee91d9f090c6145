"""The layout shows the architecture: no import cycle between modules, and the subpackages depend on each
other in one direction only (a module may import lazily, inside a function, what would close a loop)."""

from __future__ import annotations

import ast
from pathlib import Path

import conformance

PACKAGE = Path(conformance.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """The conformance modules a module imports when it is loaded (not inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        nodes = [node] if not isinstance(node, ast.Try) else [*node.body]
        for item in nodes:
            if isinstance(item, ast.ImportFrom) and item.module and item.level == 0:
                if item.module.startswith("conformance"):
                    found.add(item.module)
                    found.update(f"{item.module}.{alias.name}" for alias in item.names)
            elif isinstance(item, ast.Import):
                found.update(alias.name for alias in item.names if alias.name.startswith("conformance"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py") if "media" not in path.parts}
    return {
        name: {dep for dep in top_level_imports(path) if dep in modules and dep != name}
        for name, path in modules.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def unit(module: str) -> str:
    """The part of the package a module belongs to: its first-level subpackage, or the top-level module."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_module_imports_itself_through_others():
    assert cycles(graph()) == []


def test_subpackages_depend_on_each_other_in_one_direction():
    edges: dict[str, set[str]] = {}
    for module, targets in graph().items():
        edges.setdefault(unit(module), set()).update(unit(t) for t in targets if unit(t) != unit(module))
    edges.pop("conformance", None)  # the package's own __init__ holds only the version
    assert cycles(edges) == []
