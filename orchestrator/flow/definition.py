"""FlowDefinition: the operators of a flow, their listeners and their handlers.

Adding an operator that already exists with the same wiring is a no-op, so
running definition code twice (a module reloaded, a service assembling its flows
again) is idempotent. Adding a *different* operator under an existing id — the
same function wired as two different stages — raises, instead of silently
merging two stages into one node (Agently's defect).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError
from orchestrator.events.codec import dumps
from orchestrator.flow.chunk import callable_identity, same_code
from orchestrator.flow.operators import (
    INTERNAL_EVENT_PREFIXES,
    START,
    Operator,
    OperatorKind,
    SignalKey,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BLUEPRINT_VERSION", "FlowDefinition"]

BLUEPRINT_VERSION = "trigger_flow/v1"


class FlowDefinition:
    """Operators plus the handler and condition registries of one flow."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.operators: dict[str, Operator] = {}
        self.listeners: dict[SignalKey, list[str]] = {}
        self.chunk_handlers: dict[str, Callable[..., Any]] = {}
        self.condition_handlers: dict[str, Callable[..., Any]] = {}
        self.sub_flows: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        # Condition names made up for lambdas: a blueprint cannot refer to them.
        self.anonymous_conditions: set[str] = set()
        self._fingerprint: str | None = None
        self._validated: str | None = None

    # -- registries -------------------------------------------------------------------

    def register_chunk_handler(self, name: str, fn: Callable[..., Any]) -> None:
        """Register ``fn`` under ``name``; a different function under it raises."""
        _register(self.chunk_handlers, "chunk", name, fn)

    def register_condition_handler(self, name: str, fn: Callable[..., Any]) -> None:
        """Register a condition under ``name``."""
        _register(self.condition_handlers, "condition", name, fn)

    # -- operators --------------------------------------------------------------------

    def add(self, op: Operator) -> Operator:
        """Add ``op`` (idempotent for identical wiring); return the stored operator."""
        existing = self.operators.get(op.id)
        if existing is not None:
            if existing.same_wiring(op):
                return existing
            if existing.kind == op.kind == OperatorKind.CHUNK:
                raise FlowDefinitionError(
                    f"flow {self.name!r}: chunk {op.name!r} (handler {op.handler!r}) is "
                    f"wired as two different stages: listening to "
                    f"{_keys(existing.listen)} and to {_keys(op.listen)}. The same "
                    "function used as two logical stages must be disambiguated with "
                    "name=..., e.g. .to(fn, name='fn_again')."
                )
            raise FlowDefinitionError(
                f"flow {self.name!r}: operator {op.id!r} ({op.kind}) is defined twice "
                f"with different wiring ({_keys(existing.listen)} vs {_keys(op.listen)}); "
                "pass name=... to one of the blocks (batch/for_each/match take name=) "
                "or start them from different signals."
            )
        self.operators[op.id] = op
        for key in op.listen:
            self.listeners.setdefault(key, []).append(op.id)
        self._fingerprint = None
        return op

    def adopt(self, staged: FlowDefinition) -> None:
        """Take the name, meta and operators of ``staged`` at once (a checked load)."""
        self.name = staged.name
        self.meta = dict(staged.meta)
        self.operators = staged.operators
        self.listeners = staged.listeners
        self.sub_flows = {
            k: v for k, v in self.sub_flows.items() if k in self.operators
        }
        self._fingerprint = None

    def update_options(self, op_id: str, **options: Any) -> None:
        """Change an operator's options while its block is being defined."""
        self.operators[op_id].options.update(options)
        self._fingerprint = None

    def add_listen(self, op_id: str, key: SignalKey) -> None:
        """Make an existing operator listen to one more signal (join operators)."""
        op = self.operators[op_id]
        if key not in op.listen:
            op.listen.append(key)
            self.listeners.setdefault(key, []).append(op_id)
            self._fingerprint = None

    def targets(self, trigger_type: str, event: str) -> list[str]:
        """Operator ids listening to a signal, in registration order."""
        return self.listeners.get((trigger_type, event), [])

    def chunk_by_name(self, name: str) -> Operator | None:
        """The chunk operator with this display name, if exactly one exists."""
        found = [
            op
            for op in self.operators.values()
            if op.kind == OperatorKind.CHUNK and op.name == name
        ]
        return found[0] if len(found) == 1 else None

    def emitted_events(self) -> set[str]:
        """Every event some operator emits, plus START."""
        events = {START}
        for op in self.operators.values():
            if op.continuation:
                events.add(op.continuation)
            events.update(op.emits)
        return events

    def validate(self) -> None:
        """Check the wiring before an execution runs it (once per definition)."""
        fingerprint = self.fingerprint
        if self._validated == fingerprint:
            return
        self._validate()
        self._validated = fingerprint

    def _validate(self) -> None:
        emitted = self.emitted_events()
        for op in self.operators.values():
            for trigger_type, event in op.listen:
                if (
                    trigger_type == "event"
                    and event.startswith(INTERNAL_EVENT_PREFIXES)
                    and event not in emitted
                ):
                    raise FlowDefinitionError(
                        f"flow {self.name!r}: operator {op.name!r} listens to "
                        f"{event!r}, which looks like an internal event but no "
                        "operator emits it. Use the chunk object or its name in "
                        "when(...), or a plain event name for external emits."
                    )
            if op.kind == OperatorKind.CHUNK and op.handler not in self.chunk_handlers:
                raise FlowDefinitionError(
                    f"flow {self.name!r}: chunk {op.name!r} has no registered handler "
                    f"{op.handler!r}; register it with register_chunk_handler()."
                )

    # -- blueprint ----------------------------------------------------------------------

    def to_config(self) -> dict[str, Any]:
        """The ``trigger_flow/v1`` blueprint: structure only, handlers by name."""
        return {
            "version": BLUEPRINT_VERSION,
            "name": self.name,
            "meta": dict(self.meta),
            "operators": [op.to_config() for op in self.operators.values()],
            "sub_flows": {
                k: v.definition.to_config() for k, v in self.sub_flows.items()
            },
        }

    @property
    def fingerprint(self) -> str:
        """``sha256:`` of the canonical blueprint without the flow name."""
        if self._fingerprint is None:
            config = self.to_config()
            config.pop("name")
            config.pop("meta")
            digest = hashlib.sha256(dumps(config)).hexdigest()
            self._fingerprint = f"sha256:{digest}"
        return self._fingerprint

    def first_difference(self, other_config: dict[str, Any]) -> str:
        """Describe the first operator that differs from a recorded blueprint."""
        mine = {op.id: op.to_config() for op in self.operators.values()}
        theirs = {op["id"]: op for op in other_config.get("operators", [])}
        for op_id, recorded in theirs.items():
            current = mine.get(op_id)
            if current is None:
                return f"{recorded['kind']} {recorded['name']!r} ({op_id}) was removed"
            if current != recorded:
                return f"{recorded['kind']} {recorded['name']!r} ({op_id}) changed its wiring"
        for op_id, current in mine.items():
            if op_id not in theirs:
                return f"{current['kind']} {current['name']!r} ({op_id}) was added"
        return "sub-flow or option changes"


def _register(
    registry: dict[str, Callable[..., Any]],
    what: str,
    name: str,
    fn: Callable[..., Any],
) -> None:
    existing = registry.get(name)
    if existing is None or existing is fn:
        registry[name] = fn
        return
    old, new = callable_identity(existing), callable_identity(fn)
    if old is not None and old == new:
        registry[name] = fn  # the same function re-created (module reload)
        return
    if old is None and new is None and same_code(existing, fn):
        registry[name] = fn  # the same lambda, its definition code run again
        return
    raise FlowDefinitionError(
        f"{what} handler name {name!r} is already registered to {old or existing!r}; "
        f"{new or fn!r} cannot take it. Pass a distinct name=..."
    )


def _keys(keys: list[SignalKey]) -> str:
    return ", ".join(f"{t}:{e}" for t, e in keys) or "nothing"
