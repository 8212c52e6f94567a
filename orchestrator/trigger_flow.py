"""TriggerFlow: the facade users import (definition DSL, executions, flow data).

``from orchestrator import TriggerFlow`` replaces ``from agently import
TriggerFlow``; every execution is durable in the event store without any
persistence code. The definition operators come from
:class:`~orchestrator.flow.process.TriggerFlowProcess` (the flow is the process
rooted at ``START``); executions, recovery and blueprints are below.
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Any

from orchestrator.clock import Clock, SystemClock
from orchestrator.errors import ExecutionNotFoundError, FlowDefinitionError
from orchestrator.events.execution import ExecutionCreated
from orchestrator.flow.blueprint import export_config, import_config
from orchestrator.flow.chunk import TriggerFlowChunk, callable_name
from orchestrator.flow.definition import FlowDefinition
from orchestrator.flow.mermaid import to_mermaid
from orchestrator.flow.operators import START, OperatorKind
from orchestrator.flow.process import TriggerFlowProcess
from orchestrator.ids import check_execution_id, flow_name_problem, new_execution_id
from orchestrator.projection.execution import ExecutionView
from orchestrator.runtime.assembly import handle_of, open_engine
from orchestrator.runtime.flow_data import FlowDataService
from orchestrator.runtime.loop import run_sync
from orchestrator.runtime.owner import process_owner
from orchestrator.runtime.rebuild import ExecutionSummary, rebuild_view, summaries
from orchestrator.runtime.recovery import recover_executions
from orchestrator.runtime.resources import RuntimeResources
from orchestrator.store.open import is_durable, open_store

if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping

    from orchestrator.runtime.engine import ExecutionEngine
    from orchestrator.runtime.execution import TriggerFlowExecution
    from orchestrator.runtime.recovery_report import RecoveryReport
    from orchestrator.store.base import EventStore

__all__ = ["TriggerFlow"]


class TriggerFlow(TriggerFlowProcess):
    """A flow definition and the entry point to its executions.

    Args:
        blueprint: a ``trigger_flow/v1`` dict to load (handlers must be registered).
        name: the flow's name; executions are stored and listed under it.
            Required on a durable store (unless ``blueprint`` names the flow):
            without it ``FlowDefinitionError``. Default on ``":memory:"``: random.
        store: a path, ``sqlite:///path``, ``":memory:"`` or an EventStore; default
            ``$TRIGGERLOG_DB``, else ``triggerlog.db`` in the current directory.
        skip_exceptions: record chunk errors but keep running (TriggerFlow's flag).
        clock: time source (tests pass a FakeClock).
        lease_ttl: seconds an execution's lease outlives its last renewal; a
            process that dies holding it on another host is taken over after this
            (on the same host, a dead owner is detected at once).
        handlers / conditions: chunk and condition handlers to register before
            ``blueprint`` is loaded (a list of functions, or a dict name -> function).
    """

    def __init__(
        self,
        blueprint: dict[str, Any] | None = None,
        name: str | None = None,
        *,
        store: str | os.PathLike[str] | EventStore | None = None,
        skip_exceptions: bool = False,
        clock: Clock | None = None,
        lease_ttl: float = 30.0,
        handlers: Any = None,
        conditions: Any = None,
    ) -> None:
        if name == "":  # "no name", as Agently treats it: refused below when durable
            name = None
        if name is not None and (problem := flow_name_problem(name)) is not None:
            raise FlowDefinitionError(
                f"TriggerFlow(name={name!r}): {problem}. Nothing was written; pass "
                "e.g. name='orders'."
            )
        random_name = new_execution_id()[:16]
        self._definition = FlowDefinition(name or random_name)
        super().__init__(self, ("event", START))
        self._store_spec = store
        self._store: EventStore | None = None
        self._clock = clock or SystemClock()
        self._skip_exceptions = skip_exceptions
        if lease_ttl <= 0:
            raise ValueError(f"lease_ttl must be > 0 seconds, got {lease_ttl}")
        self.lease_ttl = float(lease_ttl)
        self._flow_resources: dict[str, Any] = {}
        self._flow_data = FlowDataService(self)
        self._engines: weakref.WeakValueDictionary[str, ExecutionEngine] = (
            weakref.WeakValueDictionary()
        )
        for registry, register in (
            (handlers, self.register_chunk_handler),
            (conditions, self.register_condition_handler),
        ):
            items = (
                registry.items()
                if isinstance(registry, dict)
                else [(None, fn) for fn in registry or ()]
            )
            for name, fn in items:
                register(fn, name=name)
        if blueprint is not None:
            self.load_blueprint(blueprint)
        if name is None and self.name == random_name and is_durable(store):
            raise FlowDefinitionError(
                "TriggerFlow() on a durable store needs name=...: executions are "
                "stored and listed under the flow's name, and a random one "
                f"({random_name!r}) cannot be found again after a restart (recover() "
                "and get_execution() would miss them). Pass a stable name, e.g. "
                "TriggerFlow(name='orders', ...), or use store=':memory:' for a "
                "throwaway flow."
            )

    def __repr__(self) -> str:
        return (
            f"TriggerFlow({self.name!r}, {len(self._definition.operators)} operators)"
        )

    # -- FlowHost -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The flow name (executions are listed under it)."""
        return self._definition.name

    @property
    def definition(self) -> FlowDefinition:
        """The operators and handler registries."""
        return self._definition

    @property
    def store(self) -> EventStore:
        """The event store (opened on first use)."""
        if self._store is None:
            spec = self._store_spec
            if spec is None or isinstance(spec, str | os.PathLike):
                self._store = open_store(spec, clock=self._clock)
            else:
                self._store = open_store(spec)
        return self._store

    @property
    def clock(self) -> Clock:
        """The time source of this flow's executions."""
        return self._clock

    @property
    def flow_data(self) -> FlowDataService:
        """The flow-shared data layer."""
        return self._flow_data

    @property
    def flow_resources(self) -> MutableMapping[str, Any]:
        """Flow-level runtime resources."""
        return self._flow_resources

    @property
    def skip_exceptions(self) -> bool:
        """Default ``skip_exceptions`` of new executions."""
        return self._skip_exceptions

    def live_engines(self) -> list[ExecutionEngine]:
        """Executions of this flow alive in this process."""
        return [e for e in list(self._engines.values()) if self._live(e.id) is e]

    def _live(self, execution_id: str) -> ExecutionEngine | None:
        """The live engine of ``execution_id``, unless its event loop has closed.

        An engine whose loop closed (its asyncio.run returned) can run nothing
        more; it leaves the live set, so the log rebuilds the execution anew.
        """
        engine = self._engines.get(execution_id)
        if engine is not None and engine.loop is not None and engine.loop.is_closed():
            self.forget_engine(engine)
            return None
        return engine

    def register_engine(self, engine: ExecutionEngine) -> None:
        """An execution of this flow became live in this process."""
        self._engines[engine.id] = engine

    def forget_engine(self, engine: ExecutionEngine) -> None:
        """A closed execution leaves the live set."""
        if self._engines.get(engine.id) is engine:
            del self._engines[engine.id]

    def sub_flow(self, op_id: str) -> Any:
        """The child flow of a sub-flow operator."""
        return self._definition.sub_flows[op_id]

    # -- chunks and handlers --------------------------------------------------------------

    def chunk(
        self, fn: Callable[..., Any] | str | None = None, *, name: str | None = None
    ) -> Any:
        """``flow.chunk(fn)`` or ``@flow.chunk("name")``: a named chunk object."""
        if isinstance(fn, str):
            chunk_name = fn
            return lambda f: TriggerFlowChunk(f, chunk_name)
        if fn is None:
            return lambda f: TriggerFlowChunk(f, name)
        return TriggerFlowChunk(fn, name)

    @property
    def chunks(self) -> dict[str, TriggerFlowChunk]:
        """Wired chunks by name."""
        result: dict[str, TriggerFlowChunk] = {}
        for op in self._definition.operators.values():
            if (
                op.kind == OperatorKind.CHUNK
                and op.handler in self._definition.chunk_handlers
            ):
                result[op.name] = TriggerFlowChunk(
                    self._definition.chunk_handlers[op.handler], op.name
                )
        return result

    def register_chunk_handler(
        self, fn: Callable[..., Any], *, name: str | None = None
    ) -> Callable[..., Any]:
        """Register a handler by name (blueprints refer to handlers by name)."""
        self._definition.register_chunk_handler(name or callable_name(fn), fn)
        return fn

    def register_condition_handler(
        self, fn: Callable[..., Any], *, name: str | None = None
    ) -> Callable[..., Any]:
        """Register a match/if condition by name."""
        self._definition.register_condition_handler(name or callable_name(fn), fn)
        return fn

    # -- runtime resources --------------------------------------------------------------

    def update_runtime_resources(
        self, mapping: dict[str, Any] | None = None, **resources: Any
    ) -> None:
        """Set flow-level resources: defaults every execution sees."""
        self._flow_resources.update(mapping or {}, **resources)

    def set_runtime_resource(self, key: str, value: Any) -> None:
        """Set one flow-level resource."""
        self._flow_resources[key] = value

    def get_runtime_resource(self, key: str, default: Any = None) -> Any:
        """One flow-level resource."""
        return self._flow_resources.get(key, default)

    def del_runtime_resource(self, key: str) -> None:
        """Remove one flow-level resource."""
        self._flow_resources.pop(key, None)

    def clear_runtime_resources(self) -> None:
        """Remove every flow-level resource."""
        self._flow_resources.clear()

    @property
    def runtime_resources(self) -> dict[str, Any]:
        """A copy of the flow-level resources."""
        return dict(self._flow_resources)

    # -- flow data ------------------------------------------------------------------------

    def get_flow_data(
        self, key: str | None = None, default: Any = None, *, no_warning: bool = False
    ) -> Any:
        """Flow-shared data (warns unless ``no_warning``)."""
        return self._flow_data.get(key, default, no_warning=no_warning)

    def set_flow_data(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Set flow-shared data; live executions listening to ``key`` are signalled."""
        self._flow_data.warn("set_flow_data", no_warning)
        self._flow_data.write("set", key, value, emit=emit)

    def append_flow_data(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Append to flow-shared data."""
        self._flow_data.warn("append_flow_data", no_warning)
        self._flow_data.write("append", key, value, emit=emit)

    def del_flow_data(
        self, key: str, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Delete flow-shared data."""
        self._flow_data.warn("del_flow_data", no_warning)
        self._flow_data.write("delete", key, None, emit=emit)

    async def async_set_flow_data(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """``set_flow_data`` that waits for durability."""
        self._flow_data.warn("set_flow_data", no_warning)
        self._flow_data.write("set", key, value, emit=emit)
        await self._flow_data.durable()

    async def async_append_flow_data(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """``append_flow_data`` that waits for durability."""
        self._flow_data.warn("append_flow_data", no_warning)
        self._flow_data.write("append", key, value, emit=emit)
        await self._flow_data.durable()

    async def async_del_flow_data(
        self, key: str, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """``del_flow_data`` that waits for durability."""
        self._flow_data.warn("del_flow_data", no_warning)
        self._flow_data.write("delete", key, None, emit=emit)
        await self._flow_data.durable()

    # -- executions -----------------------------------------------------------------------

    def create_execution(
        self,
        *,
        auto_close: bool = True,
        runtime_resources: dict[str, Any] | None = None,
        concurrency: int | None = None,
        skip_exceptions: bool | None = None,
        execution_id: str | None = None,
        **unsupported: Any,
    ) -> TriggerFlowExecution:
        """A new execution of this flow (written to the log when it first runs)."""
        if "execution_environments" in unsupported:
            raise TypeError(
                "create_execution(execution_environments=...) was renamed; pass "
                "execution_resources=... (or runtime_resources=...) instead"
            )
        execution_resources = unsupported.pop("execution_resources", None)
        if execution_resources:
            if not isinstance(execution_resources, dict):
                raise TypeError(
                    "execution_resources must be a dict of name -> live object "
                    f"(merged into runtime_resources), got {type(execution_resources).__name__}"
                )
            runtime_resources = {**execution_resources, **(runtime_resources or {})}
        if unsupported:
            raise TypeError(
                f"create_execution() got unexpected arguments {sorted(unsupported)}"
            )
        if concurrency is not None and (
            not isinstance(concurrency, int) or concurrency < 1  # type: ignore[redundant-expr]
        ):
            raise ValueError(
                f"concurrency must be a positive int or None, got {concurrency!r}"
            )
        if execution_id is not None:
            check_execution_id(execution_id)
        return self._new_execution(
            auto_close=auto_close,
            runtime_resources=runtime_resources,
            concurrency=concurrency,
            skip_exceptions=self._skip_exceptions
            if skip_exceptions is None
            else skip_exceptions,
            execution_id=execution_id,
        )

    def _new_execution(
        self,
        *,
        auto_close: bool,
        runtime_resources: dict[str, Any] | None,
        concurrency: int | None,
        skip_exceptions: bool,
        execution_id: str | None = None,
        hidden: bool = False,
        parent: dict[str, Any] | None = None,
    ) -> TriggerFlowExecution:
        self._definition.validate()
        view = ExecutionView(execution_id or new_execution_id())
        resources = RuntimeResources(self._flow_resources, runtime_resources)
        engine = open_engine(
            self,
            view,
            resources,
            owner=process_owner(),
            lease_ttl=self.lease_ttl,
            hidden=hidden,
        )
        engine.record(
            ExecutionCreated(
                flow_name=self.name,
                fingerprint=self._definition.fingerprint,
                kind="child" if parent else "execution",
                resource_keys=sorted(resources.keys()),
                auto_close=auto_close,
                concurrency=concurrency,
                skip_exceptions=skip_exceptions,
                parent=parent,
            ),
            flush=False,
        )
        request = self._flow_data.definition_request(self._definition)
        if request is not None:
            engine.journal.add_extra(request)
        return handle_of(engine)

    def start(
        self,
        input: Any = None,
        *,
        runtime_resources: dict[str, Any] | None = None,
        timeout: float | None = None,
        concurrency: int | None = None,
        **_deprecated: Any,
    ) -> dict[str, Any]:
        """Run one hidden execution to completion and return its close snapshot."""
        return run_sync(
            self.async_start(
                input,
                runtime_resources=runtime_resources,
                timeout=timeout,
                concurrency=concurrency,
            )
        )

    async def async_start(
        self,
        input: Any = None,
        *,
        runtime_resources: dict[str, Any] | None = None,
        timeout: float | None = None,
        concurrency: int | None = None,
        **_deprecated: Any,
    ) -> dict[str, Any]:
        """Async :meth:`start`: no polling delay, returns as soon as it is closed."""
        execution = self._new_execution(
            auto_close=True,
            runtime_resources=runtime_resources,
            concurrency=concurrency,
            skip_exceptions=self._skip_exceptions,
            hidden=True,
        )
        snapshot = await execution.async_start(input, timeout=timeout)
        if snapshot is None:
            snapshot = await execution.async_close()
        return snapshot  # type: ignore[no-any-return]

    async def async_start_execution(
        self,
        input: Any = None,
        *,
        runtime_resources: dict[str, Any] | None = None,
        concurrency: int | None = None,
    ) -> TriggerFlowExecution:
        """Create and start an execution; return its handle (open, for emits)."""
        execution = self.create_execution(
            auto_close=False,
            runtime_resources=runtime_resources,
            concurrency=concurrency,
        )
        await execution.async_start(input)
        return execution

    def start_execution(
        self,
        input: Any = None,
        *,
        runtime_resources: dict[str, Any] | None = None,
        concurrency: int | None = None,
    ) -> TriggerFlowExecution:
        """Synchronous :meth:`async_start_execution`."""
        execution = self.create_execution(
            auto_close=False,
            runtime_resources=runtime_resources,
            concurrency=concurrency,
        )
        execution.start(input)
        return execution

    def get_execution(
        self,
        execution_id: str,
        *,
        runtime_resources: dict[str, Any] | None = None,
        allow_definition_change: bool = False,
    ) -> TriggerFlowExecution:
        """Rebuild an execution from the log (any process) so it can continue."""
        live = self._live(execution_id)
        if live is not None:
            if runtime_resources:
                live.resources.update_local(runtime_resources)
            return handle_of(live)
        view = rebuild_view(
            self, execution_id, allow_definition_change=allow_definition_change
        )
        resources = RuntimeResources(self._flow_resources, runtime_resources)
        engine = open_engine(
            self,
            view,
            resources,
            owner=process_owner(),
            lease_ttl=self.lease_ttl,
            rebuilt=True,
            allow_definition_change=allow_definition_change,
        )
        return handle_of(engine)

    async def async_recover(
        self,
        *,
        runtime_resources: dict[str, Any] | None = None,
        allow_definition_change: bool = False,
    ) -> RecoveryReport:
        """Resume every execution of this flow that is not closed (see docs/durability.md).

        In-flight chunk runs run again (their logged operations are skipped by
        key); executions waiting on an interrupt stay waiting; executions another
        live process holds are left alone. Each execution is handled on its own:
        one that cannot be resumed (another definition, a damaged log...) is
        skipped and reported, the others are still recovered. Returns a
        RecoveryReport: a sequence of the recovered handles (their work
        continues in the background: ``await handle.async_close()`` or
        ``async_wait_idle()``) whose ``outcomes`` say, per execution, what was
        done or why not, and what to do. Outcomes are logged under
        ``triggerlog.recovery``.
        """
        return await recover_executions(
            self,
            runtime_resources=runtime_resources,
            allow_definition_change=allow_definition_change,
        )

    def recover(
        self,
        *,
        runtime_resources: dict[str, Any] | None = None,
        allow_definition_change: bool = False,
    ) -> RecoveryReport:
        """Synchronous :meth:`async_recover` (work continues on the background loop)."""
        return run_sync(
            self.async_recover(
                runtime_resources=runtime_resources,
                allow_definition_change=allow_definition_change,
            )
        )

    def list_executions(
        self, status: str | list[str] | None = None, limit: int | None = None
    ) -> list[ExecutionSummary]:
        """Executions of this flow, newest update first (reads the index only)."""
        return summaries(self.store, self.name, status, limit)

    def has_execution(self, execution_id: str) -> bool:
        """True if the store holds this execution."""
        return self.store.get_stream(execution_id) is not None

    def _missing(self, execution_id: str) -> ExecutionNotFoundError:
        return ExecutionNotFoundError(execution_id, self.store.url)

    # -- blueprint ------------------------------------------------------------------------

    def get_flow_config(self, validate_serializable: bool = True) -> dict[str, Any]:
        """The ``trigger_flow/v1`` structure of this flow (handlers by name)."""
        return export_config(self._definition, validate_serializable)

    save_blueprint = get_flow_config

    def load_flow_config(
        self, config: dict[str, Any] | str, replace: bool = True
    ) -> TriggerFlow:
        """Rebuild the structure from a blueprint; handlers must be registered by name."""
        import_config(self._definition, config, replace)
        self._flow_data.reset()
        return self

    load_blueprint = load_flow_config

    def to_mermaid(self, mode: str = "simplified") -> str:
        """A Mermaid flowchart of the operators."""
        return to_mermaid(self._definition, mode)
