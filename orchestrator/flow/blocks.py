"""Block operators: ``batch``, ``for_each`` … ``end_for_each``, ``match`` … ``end_match``.

Fan-out operators push a layer mark ``[group, index, count]`` onto the signals of
their branches; the matching collect operator keys arrivals by it and pops it,
so joins are scoped per fan-out run and per execution. Ids are derived from the
structure, so defining the same block twice is idempotent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.errors import FlowDefinitionError
from orchestrator.events.values import to_json_value
from orchestrator.flow.building import Block, ChunkLike, chunk_operator
from orchestrator.flow.chunk import (
    TriggerFlowChunk,
    callable_identity,
    callable_name,
    same_code,
)
from orchestrator.flow.operators import Operator, OperatorKind, SignalKey, short_hash

if TYPE_CHECKING:
    from collections.abc import Sequence

    from orchestrator.flow.definition import FlowDefinition

__all__ = [
    "add_batch",
    "add_case",
    "add_else",
    "close_for_each",
    "close_match",
    "open_for_each",
    "open_match",
]


def _check_concurrency(what: str, concurrency: object) -> None:
    if concurrency is not None and (
        not isinstance(concurrency, int) or concurrency < 1
    ):
        raise FlowDefinitionError(
            f"{what}: concurrency must be a positive int or None, got {concurrency!r}"
        )


def add_batch(
    definition: FlowDefinition,
    listen: SignalKey,
    chunks: Sequence[ChunkLike],
    concurrency: int | None,
    name: str | None = None,
) -> SignalKey:
    """Fan out to ``chunks``; return the key of the ``{name: result}`` signal."""
    _check_concurrency("batch()", concurrency)
    if not chunks:
        raise FlowDefinitionError("batch() needs at least one chunk")
    names = [_display_name(c) for c in chunks]
    if len(set(names)) != len(names):
        raise FlowDefinitionError(
            f"batch(): branch names must be distinct (results are keyed by name), got {names}"
        )
    # name= tells apart two otherwise identical blocks on the same signal.
    group = short_hash("batch", *listen, *names, *([name] if name else []))
    inputs = [f"Batch-{group}-Input-{n}" for n in names]
    definition.add(
        Operator(
            id=f"batch-fanout-{group}",
            kind=OperatorKind.BATCH_FANOUT,
            name=f"batch:{group}",
            listen=[listen],
            emits=inputs,
            options={"branches": names, "concurrency": concurrency},
            group_id=group,
            group_kind="batch",
        )
    )
    branch_ends: dict[str, str] = {}
    for chunk, name, input_event in zip(chunks, names, inputs, strict=True):
        op = definition.add(
            chunk_operator(definition, chunk, ("event", input_event), None)
        )
        assert op.continuation is not None
        branch_ends[op.continuation] = name
    result = f"Batch-{group}-Result"
    definition.add(
        Operator(
            id=f"batch-collect-{group}",
            kind=OperatorKind.BATCH_COLLECT,
            name=f"batch-collect:{group}",
            listen=[("event", e) for e in branch_ends],
            continuation=result,
            options={"branches": branch_ends},
            group_id=group,
            group_kind="batch",
        )
    )
    return ("event", result)


def _display_name(chunk: ChunkLike) -> str:
    if isinstance(chunk, tuple):
        return chunk[0]
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, TriggerFlowChunk):
        return chunk.name
    return callable_name(chunk)


def open_for_each(
    definition: FlowDefinition,
    listen: SignalKey,
    concurrency: int | None,
    name: str | None = None,
) -> tuple[Block, SignalKey]:
    """Add the split operator; return the block and the per-item signal key."""
    _check_concurrency("for_each()", concurrency)
    group = short_hash("for_each", *listen, *([name] if name else []))
    send = f"ForEach-{group}-Send"
    op = definition.add(
        Operator(
            id=f"for-each-split-{group}",
            kind=OperatorKind.FOR_EACH_SPLIT,
            name=f"for_each:{group}",
            listen=[listen],
            emits=[send, f"ForEach-{group}-End"],
            options={"concurrency": concurrency},
            group_id=group,
            group_kind="for_each",
        )
    )
    return Block("for_each", group, op.id), ("event", send)


def close_for_each(
    definition: FlowDefinition, block: Block, last: SignalKey
) -> SignalKey:
    """Add the collect operator after the item chain ending at ``last``."""
    end = f"ForEach-{block.group_id}-End"
    definition.add(
        Operator(
            id=f"for-each-collect-{block.group_id}",
            kind=OperatorKind.FOR_EACH_COLLECT,
            name=f"for_each-collect:{block.group_id}",
            listen=[last],
            continuation=end,
            group_id=block.group_id,
            group_kind="for_each",
        )
    )
    return ("event", end)


def open_match(
    definition: FlowDefinition, listen: SignalKey, mode: str, name: str | None = None
) -> Block:
    """Add the routing operator of a match block."""
    if mode not in ("hit_first", "hit_all"):
        raise FlowDefinitionError(
            f"match(): mode must be 'hit_first' or 'hit_all', got {mode!r}"
        )
    group = short_hash("match", *listen, mode, *([name] if name else []))
    existing = definition.operators.get(f"match-route-{group}")
    if existing is not None and existing.listen == [listen]:
        # The block defined again: its cases are added again idempotently.
        return Block("match", group, existing.id, mode=mode)
    op = definition.add(
        Operator(
            id=f"match-route-{group}",
            kind=OperatorKind.MATCH_ROUTE,
            name=f"match:{group}",
            listen=[listen],
            continuation=f"Match-{group}-Result",
            options={"mode": mode, "cases": []},
            group_id=group,
            group_kind="match",
        )
    )
    return Block("match", group, op.id, mode=mode)


def _close_branch(block: Block, trigger: SignalKey | None) -> None:
    if block.in_case and trigger is not None and trigger not in block.branch_ends:
        block.branch_ends.append(trigger)


def add_case(
    definition: FlowDefinition, block: Block, condition: Any, trigger: SignalKey | None
) -> SignalKey:
    """Add a case to the open match; return its branch's first signal key."""
    if block.has_else:
        raise FlowDefinitionError(
            "case() after case_else(): the else branch must come last"
        )
    _close_branch(block, trigger)
    route = definition.operators[block.op_id]
    cases: list[dict[str, Any]] = route.options["cases"]
    if callable(condition):
        identity = callable_identity(condition)
        name = callable_name(condition)
        registered = [
            n for n, fn in definition.condition_handlers.items() if fn is condition
        ]
        if identity is None and registered:
            # A lambda registered by name: the blueprint can refer to that name.
            name = registered[0]
        elif identity is None:
            name = _anonymous_condition(definition, cases, block.group_id, condition)
            definition.anonymous_conditions.add(name)
        definition.register_condition_handler(name, condition)
        entry: dict[str, Any] = {"condition": name, "value": None, "is_else": False}
        case_id = short_hash(block.group_id, "condition", identity or name)
    else:
        value = to_json_value(condition, "case() literal")
        entry = {"condition": None, "value": value, "is_else": False}
        case_id = short_hash(block.group_id, "value", repr(value))
    entry["case_id"] = case_id
    event = f"Match-{block.group_id}-Case-{case_id}"
    if all(c["case_id"] != case_id for c in cases):
        cases.append(entry)
        route.emits.append(event)
        definition.update_options(block.op_id)
    block.in_case = True
    return ("event", event)


def _anonymous_condition(
    definition: FlowDefinition,
    cases: list[dict[str, Any]],
    group_id: str,
    condition: Any,
) -> str:
    """The name of a lambda condition: its case's place, or its old name if redefined."""
    for case in cases:
        name = case.get("condition")
        registered = definition.condition_handlers.get(name or "")
        if (
            name in definition.anonymous_conditions
            and registered is not None
            and same_code(registered, condition)
        ):
            return str(name)
    return f"{callable_name(condition)}#{short_hash(group_id, len(cases))[:8]}"


def add_else(
    definition: FlowDefinition, block: Block, trigger: SignalKey | None
) -> SignalKey:
    """Add the else branch; return its first signal key."""
    if block.has_else:
        raise FlowDefinitionError("case_else() given twice in one match")
    _close_branch(block, trigger)
    route = definition.operators[block.op_id]
    event = f"Match-{block.group_id}-Else"
    if route.options.get("else_event") != event:
        route.options["else_event"] = event
        route.emits.append(event)
        definition.update_options(block.op_id)
    block.in_case = True
    block.has_else = True
    return ("event", event)


def close_match(
    definition: FlowDefinition, block: Block, trigger: SignalKey | None
) -> SignalKey:
    """Add the collect operator of the match; return the result key."""
    _close_branch(block, trigger)
    if not block.branch_ends:
        raise FlowDefinitionError("end_match() without any case()")
    result = f"Match-{block.group_id}-Result"
    definition.add(
        Operator(
            id=f"match-collect-{block.group_id}",
            kind=OperatorKind.MATCH_COLLECT,
            name=f"match-collect:{block.group_id}",
            listen=list(block.branch_ends),
            continuation=result,
            options={"mode": block.mode},
            group_id=block.group_id,
            group_kind="match",
        )
    )
    return ("event", result)
