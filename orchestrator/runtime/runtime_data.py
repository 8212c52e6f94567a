"""TriggerFlowRuntimeData: the ``data`` a chunk handler receives.

Reads are local; every write is an event in the log with the key of the
operation that made it (see :mod:`orchestrator.runtime.operations`). Sync
methods may be called from sync handlers, which run in worker threads: the call
is carried over to the execution's loop.
"""

from __future__ import annotations

import warnings
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError, MissingResourceError
from orchestrator.events.state import (
    ResourceKeyDeleted,
    ResourceKeySet,
    StateAppended,
    StateDeleted,
    StateSet,
)
from orchestrator.events.values import to_json_value
from orchestrator.projection.paths import MISSING, copy_json, get_path, write_depth
from orchestrator.runtime.emits import EmitMixin
from orchestrator.runtime.namespaces import FlowStateNamespace, StateNamespace
from orchestrator.runtime.operations import RunOperations
from orchestrator.runtime.pausing import PauseMixin
from orchestrator.runtime.records import mark_group, mark_index, op_signal_id
from orchestrator.runtime.steps import StepMixin

if TYPE_CHECKING:
    from collections.abc import Mapping

    from orchestrator.events.records import SignalRecord
    from orchestrator.flow.operators import Operator
    from orchestrator.projection.execution import OpKind, RunRecord
    from orchestrator.runtime.engine import ExecutionEngine
    from orchestrator.runtime.records import WriteAction

__all__ = ["TriggerFlowEventData", "TriggerFlowRuntimeData"]

# The operation kind each write records (one spelling of the action, typed).
_STATE_OPS: dict[WriteAction, OpKind] = {
    "set": "state.set",
    "append": "state.append",
    "delete": "state.delete",
}
_FLOW_DATA_OPS: dict[WriteAction, OpKind] = {
    "set": "flow_data.set",
    "append": "flow_data.append",
    "delete": "flow_data.delete",
}

_DEPRECATED = (
    "is deprecated; use the state API (get_state/set_state/append_state/del_state)"
)


def _check_key(key: Any) -> str:
    if (
        not isinstance(key, str)
        or not key
        or key.startswith(".")
        or key.endswith(".")
        or ".." in key
    ):
        raise FlowDefinitionError(
            f"state keys are non-empty dot paths like 'a' or 'a.b', got {key!r}"
        )
    return key


class TriggerFlowRuntimeData(EmitMixin, StepMixin, PauseMixin):
    """Everything a chunk can see and do: its input, state, flow data, resources, emits."""

    # No instance __dict__: one run's data is then not a separate tracked
    # container for the garbage collector.
    __slots__ = ("_engine", "_ops", "_signal", "_value")

    def __init__(
        self,
        engine: ExecutionEngine,
        run: RunRecord,
        signal: SignalRecord,
        op: Operator,
    ) -> None:
        self._ops = RunOperations(engine, run, signal, op)
        self._engine = engine
        self._signal = signal
        self._value: Any = copy_json(signal["value"])
        self._step_key = None

    # Namespaces are made on access: holding them would make every chunk run's
    # data a reference cycle for the garbage collector (measured: a quarter of
    # the time of 1,000 concurrent executions went to gen-0 collections).
    @property
    def state(self) -> StateNamespace:
        """``data.state``: the execution state as a namespace."""
        return StateNamespace(self)

    @property
    def flow_state(self) -> FlowStateNamespace:
        """``data.flow_state``: the flow-shared data as a namespace."""
        return FlowStateNamespace(self)

    # -- identity and input -----------------------------------------------------------

    @property
    def value(self) -> Any:
        """The input of this chunk (the previous chunk's return value)."""
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        self._value = new

    input = value
    inputs = value

    @property
    def trigger_event(self) -> str:
        """The event that triggered this chunk."""
        return self._signal["event"]

    event = trigger_event

    @property
    def trigger_type(self) -> str:
        """``event``, ``runtime_data`` or ``flow_data``."""
        return self._signal["type"]

    type = trigger_type

    @property
    def execution_id(self) -> str:
        """The id of the running execution."""
        return self._engine.id

    @property
    def execution(self) -> Any:
        """The execution handle (``TriggerFlowExecution``)."""
        return self._engine.handle

    @property
    def signal(self) -> dict[str, Any]:
        """A copy of the signal record this chunk runs on."""
        return dict(copy_json(self._signal))

    @property
    def signal_id(self) -> str:
        """The id of the triggering signal (derived, stable across replays)."""
        return self._signal["id"]

    @property
    def signal_source(self) -> str:
        """Where the signal came from: start, chunk, runtime, runtime_data, flow_data..."""
        return self._signal["source"]

    @property
    def layer_mark(self) -> str | None:
        """The innermost fan-out mark (``group:index``), or None outside fan-outs."""
        layers = self._signal["layers"]
        if not layers:
            return None
        return f"{mark_group(layers[-1])}:{mark_index(layers[-1])}"

    @property
    def upper_layer_mark(self) -> str | None:
        """The fan-out mark one level up."""
        layers = self._signal["layers"]
        return f"{layers[-2][0]}:{layers[-2][1]}" if len(layers) > 1 else None

    @property
    def run_id(self) -> str:
        """The id of this chunk run (derived from the signal and the operator)."""
        return self._ops.run.run_id

    @property
    def permits(self) -> list[Any]:
        """Concurrency permits held by this handler (engine use)."""
        return self._ops.permits

    @permits.setter
    def permits(self, held: list[Any]) -> None:
        self._ops.permits = held

    # -- state ------------------------------------------------------------------------

    def get_state(self, key: str | None = None, default: Any = None) -> Any:
        """A deep copy of ``state[key]`` (dot path), or of the whole state."""
        return self._ops.call(self._get_state, key, default)

    def _get_state(self, key: str | None, default: Any) -> Any:
        if self._ops.replaying:
            # Re-executing what an earlier attempt logged: read the state as it was
            # when that attempt performed this operation, so the unlogged tail of
            # the run is computed from what the original saw.
            state = self._engine.journal.state_before(self._ops.recorded_seq())
        else:
            state = self._engine.view.state
        if key is None:
            return copy_json(state)
        found = get_path(state, _check_key(key), MISSING)
        return default if found is MISSING else copy_json(found)

    def set_state(self, key: str, value: Any, *, emit: bool = True) -> None:
        """``state[key] = value``; with ``emit`` a ``runtime_data`` signal goes out."""
        self._ops.call(self._write_state, "set", key, value, emit)

    def append_state(self, key: str, value: Any, *, emit: bool = True) -> None:
        """Append to the list at ``key`` (a missing key gives ``[value]``)."""
        self._ops.call(self._write_state, "append", key, value, emit)

    def del_state(self, key: str, *, emit: bool = True) -> None:
        """Delete ``key`` from the state."""
        self._ops.call(self._write_state, "delete", key, None, emit)

    async def async_set_state(self, key: str, value: Any, *, emit: bool = True) -> None:
        """``set_state`` that also awaits the handlers its signal triggers."""
        await self._await_signal(self._write_state("set", key, value, emit))

    async def async_append_state(
        self, key: str, value: Any, *, emit: bool = True
    ) -> None:
        """``append_state`` that awaits its handlers."""
        await self._await_signal(self._write_state("append", key, value, emit))

    async def async_del_state(self, key: str, *, emit: bool = True) -> None:
        """``del_state`` that awaits its handlers."""
        await self._await_signal(self._write_state("delete", key, None, emit))

    def _write_state(
        self, action: WriteAction, key: str, value: Any, emit: bool
    ) -> str | None:
        key = _check_key(key)
        kind = _STATE_OPS[action]  # the recorded operation kind
        json_value = (
            None
            if action == "delete"
            else to_json_value(
                value,
                f"{kind}({key!r})",
                depth=write_depth(key, action == "append"),
            )
        )
        index, recorded = self._ops.next(kind, key)
        run_id = self._ops.run.run_id
        if recorded is not None:
            return None
        if action == "set":
            self._engine.record(
                StateSet(key=key, value=json_value, run_id=run_id, op=index)
            )
        elif action == "append":
            self._engine.record(
                StateAppended(key=key, value=json_value, run_id=run_id, op=index)
            )
        else:
            self._engine.record(StateDeleted(key=key, run_id=run_id, op=index))
        if not emit or not self._engine.definition.targets("runtime_data", key):
            return None
        current = get_path(self._engine.view.state, key, None)
        signal_id = op_signal_id(run_id, f"{index}:rd")
        signal = self._engine.signal(
            signal_id,
            key,
            copy_json(current),
            trigger_type="runtime_data",
            source="runtime_data",
            cascade=signal_id,
            layers=self._signal["layers"],
            # A state change is its own origin, as in Agently (the execution
            # emits it, outside any chain): it joins in ``__root__``.
            origin=signal_id,
        )
        self._engine.emit_signal(signal, run_id, None)
        return signal["cascade"]

    # Deprecated aliases kept for code written against older TriggerFlow releases.
    def get_runtime_data(self, key: str | None = None, default: Any = None) -> Any:
        """Deprecated alias of :meth:`get_state`."""
        warnings.warn(
            f"get_runtime_data {_DEPRECATED}", DeprecationWarning, stacklevel=2
        )
        return self.get_state(key, default)

    def set_runtime_data(self, key: str, value: Any, *, emit: bool = True) -> None:
        """Deprecated alias of :meth:`set_state`."""
        warnings.warn(
            f"set_runtime_data {_DEPRECATED}", DeprecationWarning, stacklevel=2
        )
        self.set_state(key, value, emit=emit)

    def append_runtime_data(self, key: str, value: Any, *, emit: bool = True) -> None:
        """Deprecated alias of :meth:`append_state`."""
        warnings.warn(
            f"append_runtime_data {_DEPRECATED}", DeprecationWarning, stacklevel=2
        )
        self.append_state(key, value, emit=emit)

    def del_runtime_data(self, key: str, *, emit: bool = True) -> None:
        """Deprecated alias of :meth:`del_state`."""
        warnings.warn(
            f"del_runtime_data {_DEPRECATED}", DeprecationWarning, stacklevel=2
        )
        self.del_state(key, emit=emit)

    def set_result(self, value: Any) -> None:
        """Deprecated: write ``$final_result`` (prefer returning values or state)."""
        warnings.warn(
            "set_result is deprecated; write the result to state",
            DeprecationWarning,
            stacklevel=2,
        )
        self.set_state("$final_result", value, emit=False)

    def get_result(self) -> Any:
        """The ``$final_result`` state key, if set."""
        return self.get_state("$final_result")

    # -- flow data ----------------------------------------------------------------------

    def get_flow_data(
        self, key: str | None = None, default: Any = None, *, no_warning: bool = False
    ) -> Any:
        """Flow-shared data (warns: shared across executions)."""
        return self._engine.flow_data.get(
            key, default, no_warning=no_warning, stacklevel=3
        )

    def set_flow_data(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Set flow-shared data (logged on the flow's stream)."""
        self._ops.call(self._write_flow_data, "set", key, value, emit, no_warning)

    def append_flow_data(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Append to flow-shared data."""
        self._ops.call(self._write_flow_data, "append", key, value, emit, no_warning)

    def del_flow_data(
        self, key: str, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Delete flow-shared data."""
        self._ops.call(self._write_flow_data, "delete", key, None, emit, no_warning)

    async def async_set_flow_data(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """``set_flow_data`` that awaits the handlers it triggers here."""
        await self._await_signal(
            self._write_flow_data("set", key, value, emit, no_warning)
        )

    async def async_append_flow_data(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """``append_flow_data`` that awaits its handlers."""
        await self._await_signal(
            self._write_flow_data("append", key, value, emit, no_warning)
        )

    async def async_del_flow_data(
        self, key: str, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """``del_flow_data`` that awaits its handlers."""
        await self._await_signal(
            self._write_flow_data("delete", key, None, emit, no_warning)
        )

    def _write_flow_data(
        self, action: WriteAction, key: str, value: Any, emit: bool, no_warning: bool
    ) -> str | None:
        key = _check_key(key)
        service = self._engine.flow_data
        service.warn(f"{action}_flow_data", no_warning, stacklevel=5)
        json_value = (
            None
            if action == "delete"
            else to_json_value(
                value,
                f"{action}_flow_data({key!r})",
                depth=write_depth(key, action == "append"),
            )
        )
        index, recorded = self._ops.next(_FLOW_DATA_OPS[action], key)
        if recorded is not None:
            return None
        return service.write_from_run(
            self._engine, action, key, json_value, self._ops.run.run_id, index, emit
        )

    # -- resources ----------------------------------------------------------------------

    @property
    def resources(self) -> Mapping[str, Any]:
        """A read-only view of the runtime resources (flow defaults included)."""
        return MappingProxyType(dict(self._engine.resources.items()))

    def get_resource(self, key: str, default: Any = None) -> Any:
        """A runtime resource, or ``default``."""
        return self._engine.resources.get(key, default)

    def require_resource(self, key: str) -> Any:
        """A runtime resource that must be there."""
        resources = self._engine.resources
        if key not in resources:
            raise MissingResourceError(self._engine.id, [key], list(resources.keys()))
        return resources[key]

    def set_resource(self, key: str, value: Any) -> None:
        """Set an execution-scoped resource (only its key is logged)."""
        self._ops.call(self._resource_op, "resource.set", key, value)

    def del_resource(self, key: str) -> None:
        """Remove an execution-scoped resource."""
        self._ops.call(self._resource_op, "resource.delete", key, None)

    def _resource_op(self, kind: OpKind, key: str, value: Any) -> None:
        index, recorded = self._ops.next(kind, key)
        resources = self._engine.resources
        # The live object is not in the log: apply it even when the op is recorded.
        if kind == "resource.set":
            resources.set_local(key, value)
        else:
            resources.delete_local(key)
        if recorded is not None:
            return
        run_id = self._ops.run.run_id
        if kind == "resource.set":
            self._engine.record(ResourceKeySet(key=key, run_id=run_id, op=index))
        else:
            self._engine.record(ResourceKeyDeleted(key=key, run_id=run_id, op=index))


TriggerFlowEventData = TriggerFlowRuntimeData
