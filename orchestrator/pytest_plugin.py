"""triggerlog's pytest plugin: async flow tests that run in any project.

Installing triggerlog registers this module with pytest (the ``pytest11``
entry point), so a user's own suite needs no configuration:

- the ``triggerlog`` marker: an ``async def`` test carrying it (directly, or by
  its module's or class's ``pytestmark``) runs on asyncio through anyio's
  pytest plugin, which anyio (a dependency) installs. No ``anyio_mode = "auto"``
  is needed, and only asyncio is used (the runtime is asyncio's). An async test
  that requests one of the fixtures below is marked by itself;
- the ``triggerlog_store`` fixture: ``triggerlog_store(flow, kind="memory")``
  runs ``flow`` on a throwaway store until the test ends and returns it;
- the ``triggerlog_history`` fixture: ``triggerlog_history("approval.json")``
  reads a recorded history, relative to the test file's directory.

Nothing here is imported by the library itself; the testing helpers are loaded
only when a fixture is used.
"""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from orchestrator.store.base import EventStore
    from orchestrator.trigger_flow import TriggerFlow

__all__ = [
    "MARKER",
    "pytest_configure",
    "pytest_pycollect_makeitem",
    "triggerlog_history",
    "triggerlog_store",
]

MARKER = "triggerlog"
FIXTURES = frozenset({"triggerlog_store", "triggerlog_history"})
_BACKEND = "anyio_backend"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (so ``--strict-markers`` suites accept it)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}: run this async test on asyncio (triggerlog's plugin, via anyio's)",
    )


def _wants_triggerlog(collector: pytest.Collector, obj: Any, inner: Any) -> bool:
    if collector.get_closest_marker(MARKER) is not None:
        return True
    if any(mark.name == MARKER for mark in getattr(obj, "pytestmark", ())):
        return True
    try:
        parameters = inspect.signature(inner).parameters
    except (TypeError, ValueError):
        return False
    return not FIXTURES.isdisjoint(parameters)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> None:
    """Hand triggerlog's async tests to anyio's plugin, on asyncio only.

    Runs before the function is collected, so the marks added here are the
    ones pytest (and anyio's hooks) see: ``anyio`` and the backend fixture,
    parametrized to ``asyncio`` (an explicit parametrization of the fixture
    wins over anyio's trio-too default).
    """
    if not collector.istestfunction(obj, name):
        return
    hypothesis = getattr(obj, "hypothesis", None)
    inner = getattr(hypothesis, "inner_test", obj)
    if not inspect.iscoroutinefunction(inner):
        return
    if not _wants_triggerlog(collector, obj, inner):
        return
    marks = list(getattr(obj, "pytestmark", ()))
    if not any(mark.name == "anyio" for mark in marks):
        pytest.mark.anyio(obj)
    pytest.mark.usefixtures(_BACKEND)(obj)
    parametrized = any(
        mark.name == "parametrize" and _BACKEND in str(mark.args[0]) for mark in marks
    )
    if not parametrized:
        pytest.mark.parametrize(_BACKEND, ["asyncio"])(obj)


@pytest.fixture
def triggerlog_store() -> Iterator[Callable[..., EventStore]]:
    """``use(flow, kind="memory")``: run ``flow`` on a throwaway store for the test.

    The store is closed and the flow's own store put back at teardown.
    """
    # lazy: pytest loads this plugin in every session; the library only on use
    from orchestrator.testing import throwaway_store

    with contextlib.ExitStack() as stack:

        def use(flow: TriggerFlow, kind: str = "memory") -> EventStore:
            return stack.enter_context(throwaway_store(flow, kind=kind))

        yield use


@pytest.fixture
def triggerlog_history(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``load(path)``: a recorded history (JSON), relative to the test's file."""
    # lazy: pytest loads this plugin in every session; the library only on use
    from orchestrator.events.codec import loads

    base = Path(request.path).parent

    def load(path: str | Path) -> Any:
        return loads((base / path).read_bytes())

    return load
