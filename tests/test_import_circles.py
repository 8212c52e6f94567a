"""No import circle inside orchestrator/, and no unexplained function-level import.

Every import counts: at module level, inside functions and under
``TYPE_CHECKING`` (import-linter's contracts see only some of these). A
function-level import of the library's own modules is allowed only to keep an
optional or costly dependency lazy, and says so on its line or the line above:
``# lazy: <reason>``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import orchestrator

ROOT = Path(orchestrator.__file__).parent

# Circles and unmarked lazy imports being removed by a parallel change (the
# flow/blocks.py <-> flow/process.py circle); delete an entry once it is gone.
# Nothing may be added here: a new circle is fixed, not listed.


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module of ``name`` (a module, or a name imported from one)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> list[tuple[ast.stmt, list[str], bool]]:
    """Every import statement: (node, imported names, inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(
                id(sub)
                for sub in ast.walk(node)
                if isinstance(sub, (ast.Import, ast.ImportFrom))
            )
    found: list[tuple[ast.stmt, list[str], bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.append((node, names, id(node) in in_function))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for _, names, _ in _imports(path):
            for imported in names:
                target = _resolve(imported)
                if target is not None and target != name:
                    graph[name].add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_check_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [frozenset({"a", "b", "c"})]


def test_no_import_circle_in_orchestrator() -> None:
    circles = [sorted(c) for c in _circles(_graph())]
    assert circles == []


def test_no_import_circle_in_runtime() -> None:
    circles = [
        sorted(c)
        for c in _circles(_graph())
        if any(m.startswith("orchestrator.runtime") for m in c)
    ]
    assert circles == []


def test_function_level_imports_of_our_modules_say_why() -> None:
    unexplained = []
    for path in sorted(MODULES.values()):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node, names, in_function in _imports(path):
            if not in_function or not any(_resolve(n) for n in names):
                continue
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2] if node.lineno > 1 else ""
            if "# lazy:" not in here and not above.strip().startswith("# lazy:"):
                unexplained.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert unexplained == []
