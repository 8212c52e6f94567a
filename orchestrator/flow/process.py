"""The chain DSL: ``to``, ``side_branch``, ``when``, ``collect``, ``end``.

A process is a position in the flow: the signal the next operator will listen
to, plus the blocks (``for_each``, ``match``) still open. Every operator method
returns a new process; the flow itself is the process rooted at ``START``.
Block operators (``batch``, ``for_each``, ``match`` and its ``if_condition``
aliases) live in :mod:`orchestrator.flow.blocks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError
from orchestrator.flow.chunk import TriggerFlowChunk, callable_identity, same_code
from orchestrator.flow.operators import (
    Operator,
    OperatorKind,
    SignalKey,
    short_hash,
)

if TYPE_CHECKING:
    from orchestrator.flow.definition import FlowDefinition

__all__ = [
    "Block",
    "chunk_operator",
    "ChunkLike",
    "resolve_triggers",
    "TriggerFlowProcess",
]

ChunkLike = Callable[..., Any] | TriggerFlowChunk | str | tuple[str, Callable[..., Any]]

_TRIGGER_TYPES = ("event", "runtime_data", "flow_data")


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
    from orchestrator.flow.retry import RetryPolicy, timeout_problem

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
    from orchestrator.flow.chunk import callable_name

    return callable_name(chunk.handler)


def resolve_triggers(definition: FlowDefinition, triggers: Any) -> list[SignalKey]:
    """Turn ``when()``'s argument into signal keys."""
    if isinstance(triggers, dict):
        keys: list[SignalKey] = []
        for kind, value in triggers.items():
            names = [value] if isinstance(value, str) else list(value)
            if kind in _TRIGGER_TYPES:
                if kind == "event":
                    keys.extend(_resolve_one(definition, n) for n in names)
                else:
                    keys.extend((kind, n) for n in names)
            elif kind == "collect":
                keys.extend(("event", f"Collect-{n}") for n in names)
            else:
                raise FlowDefinitionError(
                    f"when(): unknown trigger kind {kind!r}; use one of "
                    "'event', 'runtime_data', 'flow_data', 'collect'"
                )
        return keys
    if isinstance(triggers, list | tuple):
        return [_resolve_one(definition, t) for t in triggers]
    return [_resolve_one(definition, triggers)]


def _resolve_one(definition: FlowDefinition, trigger: Any) -> SignalKey:
    if isinstance(trigger, TriggerFlowChunk):
        op = definition.chunk_by_name(trigger.name)
        if op is None or op.continuation is None:
            raise FlowDefinitionError(
                f"when(): chunk {trigger.name!r} is not wired into flow {definition.name!r}"
            )
        return ("event", op.continuation)
    if callable(trigger):
        for op in definition.operators.values():
            handler = definition.chunk_handlers.get(op.handler or "")
            if op.kind == OperatorKind.CHUNK and handler is trigger and op.continuation:
                return ("event", op.continuation)
        raise FlowDefinitionError(
            f"when(): function {trigger!r} is not wired into flow {definition.name!r}"
        )
    if isinstance(trigger, str):
        op = definition.chunk_by_name(trigger)
        if op is not None and op.continuation is not None:
            return ("event", op.continuation)
        return ("event", trigger)
    raise FlowDefinitionError(f"when(): cannot use {trigger!r} as a trigger")


class TriggerFlowProcess:
    """A position in a flow definition; operator methods return new positions."""

    __slots__ = ("_blocks", "_flow", "trigger")

    def __init__(
        self, flow: Any, trigger: SignalKey | None, blocks: tuple[Block, ...] = ()
    ) -> None:
        self._flow = flow
        self.trigger = trigger
        self._blocks = blocks

    @property
    def definition(self) -> FlowDefinition:
        """The definition this process adds operators to."""
        definition: FlowDefinition = self._flow.definition
        return definition

    def _next(
        self, trigger: SignalKey | None, blocks: tuple[Block, ...] | None = None
    ) -> TriggerFlowProcess:
        return TriggerFlowProcess(
            self._flow, trigger, self._blocks if blocks is None else blocks
        )

    def _require_trigger(self, what: str) -> SignalKey:
        if self.trigger is None:
            raise FlowDefinitionError(
                f"{what}: this position has no signal to listen to; call case(...) or "
                "case_else() after match()/if_condition() first"
            )
        return self.trigger

    # -- chain operators ----------------------------------------------------------------

    def to(
        self,
        chunk: ChunkLike | Any,
        side_branch: bool = False,
        name: str | None = None,
        *,
        retry: Any = None,
        timeout: float | None = None,
        **sub_flow_options: Any,
    ) -> TriggerFlowProcess:
        """Run ``chunk`` on the current signal; continue from its result.

        ``retry`` (a RetryPolicy, an int of attempts or its dict form) and
        ``timeout`` (seconds per attempt) make the chunk retried and bounded;
        every attempt, failure and backoff is recorded.
        """
        if hasattr(chunk, "definition") and hasattr(chunk, "create_execution"):
            if retry is not None or timeout is not None:
                raise FlowDefinitionError(
                    "to(sub_flow, retry=/timeout=): a sub-flow call takes no retry or "
                    "timeout; set them on the child's chunks"
                )
            return self.to_sub_flow(
                chunk, side_branch=side_branch, name=name, **sub_flow_options
            )
        if sub_flow_options:
            raise FlowDefinitionError(
                f"to(): {sorted(sub_flow_options)} are options of a sub-flow call only"
            )
        listen = self._require_trigger("to()")
        op = self.definition.add(
            chunk_operator(
                self.definition, chunk, listen, name, retry=retry, timeout=timeout
            )
        )
        if side_branch:
            return self
        assert op.continuation is not None
        return self._next(("event", op.continuation))

    def side_branch(
        self,
        chunk: ChunkLike,
        *,
        name: str | None = None,
        retry: Any = None,
        timeout: float | None = None,
    ) -> TriggerFlowProcess:
        """Run ``chunk`` on the current signal but keep the main value flowing."""
        return self.to(chunk, side_branch=True, name=name, retry=retry, timeout=timeout)

    def to_sub_flow(self, flow: Any, **options: Any) -> TriggerFlowProcess:
        """Run an isolated child execution of ``flow`` (see the sub-flow docs)."""
        from orchestrator.flow.sub_flow import add_sub_flow

        listen = self._require_trigger("to_sub_flow()")
        op = add_sub_flow(self.definition, flow, listen, **options)
        if options.get("side_branch"):
            return self
        assert op.continuation is not None
        return self._next(("event", op.continuation))

    def when(self, triggers: Any, *, mode: str = "and") -> TriggerFlowProcess:
        """Start a chain from signals: one, or several joined with ``mode``."""
        keys = resolve_triggers(self.definition, triggers)
        if not keys:
            raise FlowDefinitionError("when(): needs at least one trigger")
        if mode not in ("and", "or", "simple_or"):
            raise FlowDefinitionError(
                f"when(): mode must be 'and', 'or' or 'simple_or', got {mode!r}"
            )
        if len(keys) == 1:
            return TriggerFlowProcess(self._flow, keys[0])
        ids = sorted(f"{t}:{e}" for t, e in keys)
        gate_id = short_hash(mode, *ids)
        op = self.definition.add(
            Operator(
                id=f"when-{gate_id}",
                kind=OperatorKind.SIGNAL_GATE,
                name=f"when:{gate_id}",
                listen=list(keys),
                continuation=f"When-{gate_id}",
                options={"mode": mode},
                group_id=gate_id,
                group_kind="when",
            )
        )
        assert op.continuation is not None
        return TriggerFlowProcess(self._flow, ("event", op.continuation))

    def collect(
        self,
        name: str,
        branch_id: str | None = None,
        *,
        mode: str = "filled_and_update",
    ) -> TriggerFlowProcess:
        """Contribute the current value to the named fan-in ``Collect-<name>``."""
        if mode not in ("filled_and_update", "filled_then_empty"):
            raise FlowDefinitionError(
                f"collect(): mode must be 'filled_and_update' or 'filled_then_empty', got {mode!r}"
            )
        listen = self._require_trigger("collect()")
        branch = branch_id or listen[1]
        self.definition.add(
            Operator(
                id=f"collect-{short_hash(name, branch)}",
                kind=OperatorKind.COLLECT_BRANCH,
                name=f"collect:{name}:{branch}",
                listen=[listen],
                continuation=f"Collect-{name}",
                options={"collect": name, "branch_id": branch, "mode": mode},
                group_id=short_hash("collect", name),
                group_kind="collect",
            )
        )
        return self._next(("event", f"Collect-{name}"))

    def end(self) -> TriggerFlowProcess:
        """Deprecated: write the incoming value to the state key ``$final_result``."""
        listen = self._require_trigger("end()")
        self.definition.add(
            Operator(
                id=f"result-sink-{short_hash(*listen)}",
                kind=OperatorKind.RESULT_SINK,
                name="end",
                listen=[listen],
            )
        )
        return self

    def ____(
        self,
        *args: Any,
        log_info: bool = False,
        print_info: bool = False,
        show_value: bool = False,
    ) -> TriggerFlowProcess:
        """A no-op chain separator (kept for compatibility)."""
        return self

    # -- blocks (implemented in flow.blocks) --------------------------------------------

    def batch(
        self,
        *chunks: ChunkLike,
        side_branch: bool = False,
        concurrency: int | None = None,
        name: str | None = None,
    ) -> TriggerFlowProcess:
        """Run the same value through several chunks; continue with ``{name: result}``."""
        from orchestrator.flow.blocks import add_batch

        listen = self._require_trigger("batch()")
        end = add_batch(self.definition, listen, chunks, concurrency, name)
        return self if side_branch else self._next(end)

    def for_each(
        self, *, concurrency: int | None = None, name: str | None = None
    ) -> TriggerFlowProcess:
        """Split a sequence into items; the chain until ``end_for_each`` runs per item."""
        from orchestrator.flow.blocks import open_for_each

        listen = self._require_trigger("for_each()")
        block, send = open_for_each(self.definition, listen, concurrency, name)
        return self._next(send, (*self._blocks, block))

    def end_for_each(self) -> TriggerFlowProcess:
        """Collect the items' results as a list in input order."""
        from orchestrator.flow.blocks import close_for_each

        block = self._pop_block("end_for_each()", "for_each")
        end = close_for_each(
            self.definition, block, self._require_trigger("end_for_each()")
        )
        return self._next(end, self._blocks[:-1])

    def match(
        self, *, mode: str = "hit_first", name: str | None = None
    ) -> TriggerFlowProcess:
        """Route the value to the first (or every) case whose condition holds."""
        from orchestrator.flow.blocks import open_match

        listen = self._require_trigger("match()")
        block = open_match(self.definition, listen, mode, name)
        return self._next(None, (*self._blocks, block))

    def case(self, condition: Any) -> TriggerFlowProcess:
        """A branch of the open match: a callable ``(data) -> bool`` or a literal."""
        from orchestrator.flow.blocks import add_case

        block = self._peek_block("case()", "match")
        case_key = add_case(self.definition, block, condition, self.trigger)
        return self._next(case_key)

    def case_else(self) -> TriggerFlowProcess:
        """The branch taken when no case matched."""
        from orchestrator.flow.blocks import add_else

        block = self._peek_block("case_else()", "match")
        return self._next(add_else(self.definition, block, self.trigger))

    def end_match(self) -> TriggerFlowProcess:
        """Close the match; continue with the branch result (a list for hit_all)."""
        from orchestrator.flow.blocks import close_match

        block = self._pop_block("end_match()", "match")
        end = close_match(self.definition, block, self.trigger)
        return self._next(end, self._blocks[:-1])

    def if_condition(self, condition: Any) -> TriggerFlowProcess:
        """``match().case(condition)``."""
        return self.match(mode="hit_first").case(condition)

    def elif_condition(self, condition: Any) -> TriggerFlowProcess:
        """Another case of the open if."""
        return self.case(condition)

    def else_condition(self) -> TriggerFlowProcess:
        """The else branch of the open if."""
        return self.case_else()

    def end_condition(self) -> TriggerFlowProcess:
        """Close the if."""
        return self.end_match()

    def _peek_block(self, what: str, kind: str) -> Block:
        if not self._blocks or self._blocks[-1].kind != kind:
            raise FlowDefinitionError(f"{what} without an open {kind}()")
        return self._blocks[-1]

    def _pop_block(self, what: str, kind: str) -> Block:
        return self._peek_block(what, kind)
