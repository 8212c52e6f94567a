"""Where the runtime's floors are wired together: the one place engines are made.

The engine sits low and calls upward only through its
:class:`~orchestrator.runtime.engine.EngineDriver`; this module, above every
floor it wires, is that driver. :func:`open_engine` is the one constructor of
a live execution (engine, rebuild adoption, registration, handle) for the flow
facade, recovery, ``load()`` and sub-flow children.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.runtime import lifecycle
from orchestrator.runtime.child_frames import cancel_children, reconcile_frames
from orchestrator.runtime.engine import ExecutionEngine
from orchestrator.runtime.execution import TriggerFlowExecution
from orchestrator.runtime.runners import run_operator

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from orchestrator.projection.execution import ExecutionView, RunRecord
    from orchestrator.runtime.engine import EngineHost
    from orchestrator.runtime.resources import RuntimeResources

__all__ = ["DRIVER", "Driver", "handle_of", "open_engine"]


class Driver:
    """The :class:`~orchestrator.runtime.engine.EngineDriver` of this runtime."""

    __slots__ = ()

    def run(self, engine: ExecutionEngine, run: RunRecord) -> Coroutine[Any, Any, None]:
        """Run an operator (runners)."""
        return run_operator(engine, run)

    def reconcile(self, engine: ExecutionEngine) -> Coroutine[Any, Any, None]:
        """Finish sub-flow frames after a rebuild (sub_flows)."""
        return reconcile_frames(engine)

    def resume_rebuilt(self, engine: ExecutionEngine) -> None:
        """Resume a rebuilt execution's pending work (lifecycle)."""
        lifecycle.resume_rebuilt(engine)

    def cancel_children(
        self, engine: ExecutionEngine, reason: str
    ) -> Coroutine[Any, Any, None]:
        """Cancel the live sub-flow children (sub_flows)."""
        return cancel_children(engine, reason)

    def open_engine(
        self,
        host: EngineHost,
        view: ExecutionView,
        resources: RuntimeResources,
        *,
        owner: str | None = None,
        lease_ttl: float | None = None,
        rebuilt: bool = False,
        allow_definition_change: bool = False,
    ) -> ExecutionEngine:
        """See :func:`open_engine`."""
        return open_engine(
            host,
            view,
            resources,
            owner=owner,
            lease_ttl=lease_ttl,
            rebuilt=rebuilt,
            allow_definition_change=allow_definition_change,
        )


DRIVER = Driver()


def open_engine(
    host: EngineHost,
    view: ExecutionView,
    resources: RuntimeResources,
    *,
    owner: str | None = None,
    lease_ttl: float | None = None,
    hidden: bool = False,
    rebuilt: bool = False,
    allow_definition_change: bool = False,
) -> ExecutionEngine:
    """A live engine for ``view``, registered with ``host``, with its handle.

    ``rebuilt``: the view was folded from the log (the engine adopts it, and
    records a DefinitionChanged when ``allow_definition_change`` lets it run
    another definition); otherwise the caller records ExecutionCreated next.
    """
    engine = ExecutionEngine(
        host, view, resources, DRIVER, owner=owner, lease_ttl=lease_ttl, hidden=hidden
    )
    if rebuilt:
        engine.after_rebuild()
        lifecycle.adopt_definition(engine, allow_definition_change)
    host.register_engine(engine)
    TriggerFlowExecution(engine)
    return engine


def handle_of(engine: ExecutionEngine) -> TriggerFlowExecution:
    """The public handle of a live engine (every engine made here has one)."""
    handle = engine.handle
    if not isinstance(handle, TriggerFlowExecution):
        handle = TriggerFlowExecution(engine)
    return handle
