"""docs/api.md cannot drift from the code: its stubs are checked, its examples run.

* Every fenced block tagged ``python api=<target>`` holds Python stubs. Each
  ``def``, class (bases and decorators), field and alias in it is compared, as an
  ``ast`` dump, with the definition in the source of ``<target>`` (a module or a
  class; inherited methods are found through the class).
* Every block tagged ``python test`` is executed in a fresh namespace, and every
  ``bash test`` block with ``triggerlog`` bound to ``python -m orchestrator.cli``;
  both run in a temporary directory with ``TRIGGERLOG_DB`` unset.
* Coverage: every public name (the ``__all__`` of the public packages, and the
  public attributes of the main classes) is documented.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import orchestrator
import orchestrator.cli
import orchestrator.errors
import orchestrator.events
import orchestrator.read_model
import orchestrator.store
import orchestrator.testing
from orchestrator import TriggerFlow
from orchestrator.events import EVENT_TYPES

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "api.md"
FENCE = re.compile(r"^```(\w+)[ \t]*([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


@functools.cache
def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _blocks(tag: str) -> list[tuple[int, str, str, str]]:
    """``(line, lang, argument, code)`` of every fenced block whose info has ``tag``."""
    text = _doc()
    found = []
    for match in FENCE.finditer(text):
        lang, info, code = match.groups()
        line = text.count("\n", 0, match.start()) + 1
        for word in info.split():
            key, _, value = word.partition("=")
            if key == tag:
                found.append((line, lang, value, code))
    return found


API_BLOCKS = _blocks("api")
EXAMPLES = _blocks("test")


# -- stubs against the source ---------------------------------------------------------


def _resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise LookupError(dotted)


@functools.cache
def _node(obj: Any) -> Any:
    """The ast of a module, or of the (first) definition of a class or function."""
    if inspect.ismodule(obj):
        return ast.parse(inspect.getsource(obj))
    return ast.parse(textwrap.dedent(inspect.getsource(obj))).body[0]


def _function(target: Any, name: str) -> Any:
    obj = getattr(target, name)
    if isinstance(obj, property):
        obj = obj.fget
    return getattr(obj, "__func__", obj)


def _signature(node: Any) -> tuple[Any, ...]:
    return (
        type(node).__name__,
        ast.dump(node.args),
        ast.dump(node.returns) if node.returns else None,
        [ast.dump(d) for d in node.decorator_list],
    )


def _check(stub: ast.stmt, target: Any, where: str) -> None:
    if isinstance(stub, ast.Expr):  # docstrings and "..."
        return
    if isinstance(stub, ast.FunctionDef | ast.AsyncFunctionDef):
        real = _node(_function(target, stub.name))
        assert _signature(real) == _signature(stub), (
            f"{where}: {stub.name} is documented as\n  {ast.unparse(stub).splitlines()[-2]}"
            f"\nbut the code says\n  {_header(real)}"
        )
        return
    if isinstance(stub, ast.ClassDef):
        cls = getattr(target, stub.name)
        real = _node(cls)
        assert [ast.dump(b) for b in real.bases] == [ast.dump(b) for b in stub.bases], (
            f"{where}: bases of {stub.name}: code has {ast.unparse(real).splitlines()[0]}"
        )
        if stub.decorator_list:
            assert [ast.dump(d) for d in real.decorator_list] == [
                ast.dump(d) for d in stub.decorator_list
            ], f"{where}: decorators of {stub.name}"
        for member in stub.body:
            _check(member, cls, f"{where} {stub.name}")
        return
    assert isinstance(stub, ast.Assign | ast.AnnAssign), f"{where}: unexpected stub"
    body = _node(target).body
    wanted = ast.dump(stub)
    assert any(ast.dump(s) == wanted for s in body), (
        f"{where}: `{ast.unparse(stub)}` is not in the source of {target!r}"
    )


def _header(node: Any) -> str:
    copy: Any = ast.parse(ast.unparse(node)).body[0]
    copy.body = [ast.Expr(ast.Constant(...))]
    return ast.unparse(copy).replace("\n", " ")


@pytest.mark.parametrize(
    ("line", "lang", "target", "code"), API_BLOCKS, ids=[f"L{b[0]}" for b in API_BLOCKS]
)
def test_stub_block_matches_the_source(line, lang, target, code):
    obj = _resolve(target)
    for stub in ast.parse(code).body:
        _check(stub, obj, f"docs/api.md:{line} ({target})")


# -- examples -------------------------------------------------------------------------


def _close_stores(namespace: dict[str, Any]) -> None:
    for value in namespace.values():
        store = value._store if isinstance(value, TriggerFlow) else value
        if isinstance(store, orchestrator.EventStore) and not inspect.isclass(store):
            store.close()


@pytest.mark.parametrize(
    ("line", "lang", "arg", "code"), EXAMPLES, ids=[f"L{b[0]}" for b in EXAMPLES]
)
def test_example_runs(line, lang, arg, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIGGERLOG_DB", raising=False)
    # Subprocesses (the CLI, assert_replay_equivalent(fresh_process=True)) must
    # import this checkout even though the current directory is tmp_path.
    paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    if lang == "bash":
        script = (
            f'triggerlog() {{ "{sys.executable}" -m orchestrator.cli "$@"; }}\n'
            f"set -euo pipefail\n{code}"
        )
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return
    assert lang == "python"
    namespace: dict[str, Any] = {"__name__": f"docs_api_L{line}"}
    try:
        exec(compile(code, f"docs/api.md:{line}", "exec"), namespace)
    finally:
        _close_stores(namespace)


# -- coverage -------------------------------------------------------------------------


def _words() -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", _doc()))


@pytest.mark.parametrize(
    "module",
    [
        orchestrator,
        orchestrator.events,
        orchestrator.store,
        orchestrator.testing,
        orchestrator.errors,
        orchestrator.read_model,
        orchestrator.cli,
    ],
    ids=lambda m: m.__name__,
)
def test_every_exported_name_is_documented(module):
    missing = sorted(set(module.__all__) - _words())
    assert not missing, f"{module.__name__}: undocumented {missing}"


def _stubbed() -> dict[Any, set[str]]:
    """Names stubbed per class (classes in module blocks included)."""
    names: dict[Any, set[str]] = {}

    def collect(owner: Any, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                cls = getattr(owner, stmt.name)
                names.setdefault(cls, set())
                collect(cls, stmt.body)
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                names.setdefault(owner, set()).add(stmt.name)
            elif isinstance(stmt, ast.Assign):
                names.setdefault(owner, set()).update(
                    t.id for t in stmt.targets if isinstance(t, ast.Name)
                )
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                names.setdefault(owner, set()).add(stmt.target.id)

    for _, _, target, code in API_BLOCKS:
        collect(_resolve(target), ast.parse(code).body)
    return names


# Instance attributes set in __init__ (slots), documented in prose.
PROSE_ATTRIBUTES = {
    "TriggerFlowProcess": {"trigger"},
    "TriggerFlowChunk": {"handler", "name", "options", "declared_emits"},
    "ResumeInfo": {"interrupt_id", "value", "interrupt"},
}


@pytest.mark.parametrize(
    "cls",
    [
        orchestrator.TriggerFlow,
        orchestrator.TriggerFlowProcess,
        orchestrator.TriggerFlowChunk,
        orchestrator.TriggerFlowExecution,
        orchestrator.TriggerFlowRuntimeData,
        orchestrator.RuntimeResources,
        orchestrator.ExecutionView,
        orchestrator.ExecutionSummary,
        orchestrator.FakeClock,
        orchestrator.SQLiteEventStore,
        orchestrator.InMemoryEventStore,
        orchestrator.EventStore,
        _resolve("orchestrator.flow.retry.RetryPolicy"),
        _resolve("orchestrator.runtime.namespaces.StateNamespace"),
        _resolve("orchestrator.runtime.namespaces.FlowStateNamespace"),
        _resolve("orchestrator.runtime.pausing.ResumeInfo"),
        orchestrator.read_model.ExecutionHistory,
        orchestrator.read_model.EventRow,
        orchestrator.cli.Command,
    ],
    ids=lambda c: c.__name__,
)
def test_every_public_attribute_is_stubbed(cls):
    stubbed = _stubbed()
    documented: set[str] = set()
    for klass in cls.__mro__:
        documented |= stubbed.get(klass, set())
        documented |= PROSE_ATTRIBUTES.get(klass.__name__, set())
    public = {name for name in dir(cls) if not name.startswith("_")}
    missing = sorted(n for n in public - documented if _defined_here(cls, n))
    assert not missing, f"{cls.__name__}: no stub for {missing}"
    for name in PROSE_ATTRIBUTES.get(cls.__name__, set()):
        assert f"`{name}`" in _doc(), f"{cls.__name__}.{name} is not described"


def _defined_here(cls: type, name: str) -> bool:
    """False for what builtins, typing and collections.abc provide (Mapping.get...)."""
    owner = next(k for k in cls.__mro__ if name in vars(k))
    return owner.__module__.partition(".")[0] == "orchestrator"


def test_events_table_lists_every_registered_type_with_its_fields():
    rows = re.findall(
        r"^\| `([a-z_]+\.[a-z_]+)` \| `(\w+)` \| ([^|]*) \|", _doc(), re.M
    )
    table = {type_name: (cls, fields) for type_name, cls, fields in rows}
    assert set(table) == set(EVENT_TYPES)
    for type_name, cls in EVENT_TYPES.items():
        name, cell = table[type_name]
        fields = [f.strip() for f in cell.split(",") if f.strip() not in ("", "—")]
        assert name == cls.__name__, type_name
        assert fields == [f.name for f in dataclasses.fields(cls)], type_name
        assert getattr(orchestrator.events, name) is cls


def test_cli_commands_are_documented():
    from orchestrator.cli import build_parser

    parser = build_parser()
    (choices,) = (a.choices for a in parser._actions if isinstance(a.choices, dict))
    for command in choices:
        assert f"triggerlog {command}" in _doc(), command
