"""What the chain DSL and its blocks both build with: chunk operators and open blocks.

:mod:`orchestrator.flow.process` (``to``, ``when`` ...) and
:mod:`orchestrator.flow.blocks` (``batch``, ``for_each``, ``match``) both place
chunks and track the blocks still open; both import these pieces from here, and
neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError
from orchestrator.flow.chunk import (
    TriggerFlowChunk,
    callable_identity,
    callable_name,
    same_code,
)
from orchestrator.flow.operators import Operator, OperatorKind, SignalKey, short_hash
from orchestrator.flow.retry import RetryPolicy, timeout_problem

if TYPE_CHECKING:
    from orchestrator.flow.definition import FlowDefinition

__all__ = ["Block", "ChunkLike", "chunk_operator"]

ChunkLike = Callable[..., Any] | TriggerFlowChunk | str | tuple[str, Callable[..., Any]]


@dataclass(slots=True)
class Block:
    """An open ``for_each`` or ``match`` block."""

    kind: str
    group_id: str
    op_id: str
    mode: str = ""
    branch_ends: list[SignalKey] = field(default_factory=list)
    in_case: bool = False
    has_else: bool = False


def chunk_operator(
    definition: FlowDefinition,
    chunk: ChunkLike,
    listen: SignalKey,
    name: str | None = None,
    *,
    retry: Any = None,
    timeout: float | None = None,
) -> Operator:
    """Build (not add) the operator for a chunk placed after ``listen``."""
    explicit = name
    if isinstance(chunk, tuple):
        explicit, fn = chunk[0], chunk[1]
        chunk = TriggerFlowChunk(fn, explicit)
    if isinstance(chunk, str):
        handler = definition.chunk_handlers.get(chunk)
        if handler is None:
            raise FlowDefinitionError(
                f"flow {definition.name!r}: to({chunk!r}) names no registered chunk "
                f"handler; registered: {sorted(definition.chunk_handlers)}. Register it "
                "with register_chunk_handler(fn, name=...) first."
            )
        explicit = explicit or chunk
        chunk = TriggerFlowChunk(handler, chunk)
    if not isinstance(chunk, TriggerFlowChunk):
        if not callable(chunk):
            raise FlowDefinitionError(
                f"flow {definition.name!r}: to() takes a function, a chunk, a (name, "
                f"fn) pair, a registered name or a sub-flow; got {chunk!r}"
            )
        chunk = TriggerFlowChunk(chunk, explicit)
    elif explicit is None and chunk.name != _default_name(chunk):
        explicit = chunk.name
    display = explicit or chunk.name
    stable = callable_identity(chunk.handler)
    if explicit is not None:
        identity, handler_name = f"name:{explicit}", explicit
    elif stable is not None:
        identity, handler_name = stable, display
    else:
        identity = _anonymous_identity(definition, chunk.handler, listen, display)
        handler_name = f"{display}#{short_hash(identity)[:8]}"
    chunk_id = f"chunk-{short_hash(identity)}"
    definition.register_chunk_handler(handler_name, chunk.handler)
    options: dict[str, Any] = dict(chunk.options)
    if stable is None and explicit is None:
        options["anonymous"] = True
    _set_policy(options, retry, timeout)
    return Operator(
        id=chunk_id,
        kind=OperatorKind.CHUNK,
        name=display,
        listen=[listen],
        continuation=f"Chunk[{display}]-{chunk_id}",
        emits=list(chunk.declared_emits),
        handler=handler_name,
        options=options,
    )


def _anonymous_identity(
    definition: FlowDefinition,
    handler: Callable[..., Any],
    listen: SignalKey,
    display: str,
) -> str:
    """The place of a handler with no stable identity (lambda, partial).

    The signal it listens to plus its rank among the anonymous handlers there:
    the first keeps the rank-less identity of earlier versions, each different
    one takes the next free rank, and the same code defined again (definition
    code re-run) finds its old rank. No file, line or bytecode goes in, so the
    id is the same in every process that builds the flow the same way.
    """
    base = f"anon:{listen[0]}:{listen[1]}:{display}"
    rank = 0
    while True:
        identity = base if rank == 0 else f"{base}:{rank}"
        existing = definition.operators.get(f"chunk-{short_hash(identity)}")
        if existing is None:
            return identity
        registered = definition.chunk_handlers.get(existing.handler or "")
        if registered is None or same_code(registered, handler):
            return identity
        rank += 1


def _set_policy(options: dict[str, Any], retry: Any, timeout: float | None) -> None:
    policy = RetryPolicy.coerce(options.pop("retry", None) if retry is None else retry)
    if policy is not None:
        options["retry"] = policy.to_json()
    timeout = options.pop("timeout", None) if timeout is None else timeout
    problem = timeout_problem(timeout)
    if problem is not None:
        raise FlowDefinitionError(problem.message("timeout="))
    if timeout is not None:
        options["timeout"] = float(timeout)


def _default_name(chunk: TriggerFlowChunk) -> str:
    return callable_name(chunk.handler)
