"""Import hygiene: what loads what, and who may import whom.

* ``import orchestrator`` (and the CLI) loads no UI toolkit; checked in a fresh
  process.
* No hidden imports: nothing in ``orchestrator/`` or ``tui/`` loads our own
  packages by name (``importlib.import_module``, ``__import__``), which the
  import-linter contracts cannot see. The console adds its command through an
  entry point instead (``triggerlog.commands``).
* ``projection/`` is pure: it folds streams and never reads or writes a store.
* The console contract in ``pyproject.toml`` covers every module of the library.
"""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import orchestrator

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import sys
{imports}
loaded = sorted(
    name for name in sys.modules
    if name.partition(".")[0] in ("textual", "rich", "tui")
)
print(",".join(loaded))
"""


def _loaded_after(imports: str) -> list[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(imports=imports)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return [name for name in result.stdout.strip().split(",") if name]


@pytest.mark.parametrize(
    "imports",
    [
        "import orchestrator",
        "import orchestrator; import orchestrator.cli",
        "import orchestrator.cli_demo, orchestrator.read_model",
        "import orchestrator.cli_read, orchestrator.cli_travel, orchestrator.cli_tail",
    ],
)
def test_the_engine_and_the_cli_load_no_ui_toolkit(imports: str) -> None:
    assert _loaded_after(imports) == []


def test_the_console_data_facade_loads_no_textual() -> None:
    loaded = _loaded_after("import tui.data")
    assert not [m for m in loaded if m.partition(".")[0] in ("textual", "rich")]


def test_the_probe_does_see_textual() -> None:
    """Guard against a probe that can never fail."""
    assert "textual" in _loaded_after("import tui.app")


def test_building_the_cli_parser_loads_no_ui_toolkit() -> None:
    """The parser loads the console's command (an entry point), never Textual."""
    loaded = _loaded_after("import orchestrator.cli; orchestrator.cli.build_parser()")
    assert not [m for m in loaded if m.partition(".")[0] in ("textual", "rich")]


# -- no hidden imports -----------------------------------------------------------------

OWN_PACKAGES = ("orchestrator", "tui")


def hidden_imports(source: str) -> list[str]:
    """``import_module(...)`` / ``__import__(...)`` calls that load our own packages.

    A name that is not a string literal counts too: it could be one of ours.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = (
            func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        )
        if called not in ("import_module", "__import__") or not node.args:
            continue
        name = node.args[0]
        if not isinstance(name, ast.Constant) or not isinstance(name.value, str):
            found.append(f"line {node.lineno}: {called}({ast.unparse(name)})")
        elif name.value.partition(".")[0] in OWN_PACKAGES:
            found.append(f"line {node.lineno}: {called}({name.value!r})")
    return found


def test_hidden_imports_are_seen() -> None:
    """Guard against a check that can never fail."""
    assert hidden_imports("import importlib\nimportlib.import_module('tui.app')")
    assert hidden_imports("from importlib import import_module\nimport_module(n)")
    assert hidden_imports("__import__('orchestrator.cli')")
    assert not hidden_imports("import importlib\nimportlib.import_module('json')")


def test_nothing_loads_our_own_packages_by_name() -> None:
    found = [
        f"{path.relative_to(REPO)} {hit}"
        for package in OWN_PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
        for hit in hidden_imports(path.read_text(encoding="utf-8"))
    ]
    assert not found, (
        "imports by name dodge the import-linter contracts; import statically, or "
        f"(for the console's command) use the triggerlog.commands entry point: {found}"
    )


# -- projection/ is pure ----------------------------------------------------------------

# What a fold may import at run time; under TYPE_CHECKING it may also name the
# store's records (what a fold reads, what a listing row is built from).
PURE = (
    "orchestrator.errors",
    "orchestrator.ids",
    "orchestrator.events",
    "orchestrator.projection",
)
STORE_RECORDS = ("orchestrator.store.base", {"StoredEvent", "StreamInfo"})


def _type_checking_blocks(tree: ast.Module) -> set[ast.AST]:
    inside: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.body:
                inside.update(ast.walk(child))
    return inside


def test_projection_reads_and_writes_no_store() -> None:
    wrong = []
    for path in sorted((REPO / "orchestrator" / "projection").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = _type_checking_blocks(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported: list[tuple[str, set[str]]] = [
                    (alias.name, set()) for alias in node.names
                ]
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported = [(node.module, {alias.name for alias in node.names})]
            else:
                continue
            for module, names in imported:
                if module.partition(".")[0] not in OWN_PACKAGES:
                    continue
                pure = any(module == p or module.startswith(p + ".") for p in PURE)
                record = (
                    node in type_only
                    and module == STORE_RECORDS[0]
                    and names <= STORE_RECORDS[1]
                )
                if not (pure or record):
                    wrong.append(f"{path.relative_to(REPO)}:{node.lineno} {module}")
    assert not wrong, (
        "projection/ folds streams; reading or writing a store belongs above it "
        f"(orchestrator.history, orchestrator.read_model, runtime/): {wrong}"
    )


# -- the console contract covers the whole library ---------------------------------------


def _console_contract() -> dict[str, Any]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("source_modules") == ["tui"]]
    return contract


def _matches(module: str, expression: str) -> bool:
    """import-linter's reading of a module expression, treated as a package."""
    if expression.endswith(".*"):
        base = expression[:-2]
        return module.startswith(base + ".")
    return module == expression or module.startswith(expression + ".")


def test_the_console_contract_is_strict_and_covers_every_module() -> None:
    contract = _console_contract()
    assert contract["type"] == "forbidden"
    assert not contract.get("allow_indirect_imports", False)
    ignored: list[str] = contract["ignore_imports"]
    doors = {line.partition(" -> ")[0] for line in ignored}
    # A door may only be a public module: its own imports are what is ignored.
    assert all(line.endswith(" -> orchestrator.**") for line in ignored), ignored
    assert doors == {
        "orchestrator",
        "orchestrator.cli",
        "orchestrator.events",
        "orchestrator.read_model",
        "orchestrator.store",
        "orchestrator.testing",
    }
    forbidden: list[str] = contract["forbidden_modules"]
    modules = [
        info.name
        for info in pkgutil.walk_packages(orchestrator.__path__, "orchestrator.")
    ]
    loose = [
        name
        for name in modules
        if name not in doors and not any(_matches(name, e) for e in forbidden)
    ]
    assert not loose, f"add these to the console contract's forbidden_modules: {loose}"
    assert not [d for d in doors if any(_matches(d, e) for e in forbidden)]
