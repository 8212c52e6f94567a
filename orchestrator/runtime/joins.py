"""The operators whose whole effect is one ChunkCompleted: joins and fan-outs.

when("and"), batch, for_each, match collection and collect record each arrival
as the ChunkCompleted's join progress and, once a join is complete, its
continuation signal: appended atomically, so a fold never sees half a join.
One function, :func:`join`, is the join of all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.events.chunk import ChunkCompleted
from orchestrator.events.state import StateSet
from orchestrator.flow.operators import OperatorKind
from orchestrator.runtime.records import (
    join_scope,
    layers_key,
    mark_count,
    mark_group,
    mark_index,
    op_signal_id,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestrator.events.records import JoinUpdate, LayerMark, SignalRecord
    from orchestrator.events.values import JsonValue
    from orchestrator.flow.operators import Operator
    from orchestrator.projection.execution import RunRecord
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = [
    "collect_layer",
    "complete",
    "emit_from",
    "in_order",
    "join",
    "pass_through",
    "run_batch_collect",
    "run_batch_fanout",
    "run_collect_branch",
    "run_for_each_collect",
    "run_for_each_split",
    "run_gate",
    "run_match_collect",
    "run_result_sink",
]


def _scoped(
    signal: SignalRecord, layers: list[LayerMark] | None = None
) -> dict[str, Any]:
    return {
        "layers": signal["layers"] if layers is None else layers,
        "cascade": signal["cascade"],
        "origin": signal.get("origin"),
    }


def complete(
    engine: ExecutionEngine,
    run: RunRecord,
    emits: list[SignalRecord],
    join: JoinUpdate | None = None,
) -> None:
    """Finish ``run`` with one ChunkCompleted: its emits and join progress."""
    engine.finish_run(run, ChunkCompleted(run_id=run.run_id, emits=emits, join=join))


def emit_from(
    engine: ExecutionEngine,
    run: RunRecord,
    index: int | str,
    event: str,
    value: JsonValue,
    signal: SignalRecord,
    layers: list[LayerMark] | None = None,
) -> SignalRecord:
    """The ``index``-th signal a run emits, in the scope of the signal it ran on."""
    return engine.signal(
        op_signal_id(run.run_id, f"o{index}"),
        event,
        value,
        **_scoped(signal, layers),
    )


# -- when ----------------------------------------------------------------------------


async def run_gate(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """when(): "or" passes each signal on; "and" joins the listened events."""
    mode = op.options["mode"]
    assert op.continuation is not None
    value = signal["value"]
    if mode == "simple_or":
        complete(
            engine, run, [emit_from(engine, run, 0, op.continuation, value, signal)]
        )
        return
    if mode == "or":
        payload: JsonValue = [signal["type"], signal["event"], value]
        complete(
            engine, run, [emit_from(engine, run, 0, op.continuation, payload, signal)]
        )
        return
    expected = [f"{t}:{e}" for t, e in op.listen]

    def grouped(arrived: dict[str, JsonValue]) -> JsonValue:
        by_type: dict[str, JsonValue] = {}
        for trigger_type, event in op.listen:
            bucket = by_type.setdefault(trigger_type, {})
            assert isinstance(bucket, dict)
            bucket[event] = arrived[f"{trigger_type}:{event}"]
        return by_type

    join(
        engine,
        run,
        signal,
        op.continuation,
        join_id=op.id,
        scope=join_scope(signal),
        key=f"{signal['type']}:{signal['event']}",
        ready=lambda arrived: all(k in arrived for k in expected),
        build=grouped,
    )


def join(
    engine: ExecutionEngine,
    run: RunRecord,
    signal: SignalRecord,
    continuation: str,
    *,
    join_id: str,
    scope: str,
    key: str,
    ready: Callable[[dict[str, JsonValue]], bool],
    build: Callable[[dict[str, JsonValue]], JsonValue],
    keep: bool | None = None,
    layers: list[LayerMark] | None = None,
) -> None:
    """Record one arrival at a join; once ``ready``, fire its continuation.

    The one join of when("and"), for_each/batch collection and collect:
    arrivals are kept in the view per join id and scope (the log's
    JoinUpdate). Firing clears the scope, recording no value, unless
    ``keep`` is given: then the firing arrival's value is recorded and the
    scope is kept when ``keep`` is True (collect's ``filled_and_update``).
    """
    value = signal["value"]
    arrived = dict(engine.view.joins.get(join_id, {}).get(scope, {}))
    arrived[key] = value
    if not ready(arrived):
        waiting: JoinUpdate = {
            "op": join_id,
            "scope": scope,
            "key": key,
            "value": value,
            "clear": False,
        }
        complete(engine, run, [], waiting)
        return
    fired: JoinUpdate = {
        "op": join_id,
        "scope": scope,
        "key": key,
        "value": None if keep is None else value,
        "clear": not keep,
    }
    emit = emit_from(engine, run, 0, continuation, build(arrived), signal, layers)
    complete(engine, run, [emit], fired)


# -- batch ---------------------------------------------------------------------------


async def run_batch_fanout(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """batch(): one branch signal per member, under a new fan-out mark."""
    names: list[str] = op.options["branches"]
    cap = op.options.get("concurrency")
    emits = []
    for index, event in enumerate(op.emits[: len(names)]):
        mark: LayerMark = [run.run_id, index, len(names), cap or 0]
        emits.append(
            emit_from(
                engine,
                run,
                index,
                event,
                signal["value"],
                signal,
                [*signal["layers"], mark],
            )
        )
    complete(engine, run, emits)


async def run_batch_collect(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """batch(): join the branches into one dict by member name."""
    branches: dict[str, str] = op.options["branches"]
    name = branches[signal["event"]]
    collect_layer(
        engine,
        op,
        run,
        signal,
        name,
        lambda arrived, _count: {
            n: arrived[n] for n in branches.values() if n in arrived
        },
    )


# -- for_each ------------------------------------------------------------------------


async def run_for_each_split(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """for_each(): one item signal per element, under a new fan-out mark."""
    value = signal["value"]
    items = value if isinstance(value, list) else [value]
    send, end = op.emits[0], op.emits[1]
    if not items:
        complete(engine, run, [emit_from(engine, run, 0, end, [], signal)])
        return
    cap = op.options.get("concurrency") or 0
    emits = [
        emit_from(
            engine,
            run,
            index,
            send,
            item,
            signal,
            [*signal["layers"], [run.run_id, index, len(items), cap]],
        )
        for index, item in enumerate(items)
    ]
    complete(engine, run, emits)


async def run_for_each_collect(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """for_each(): join the items back into a list, in order."""
    index = str(mark_index(signal["layers"][-1])) if signal["layers"] else "0"
    collect_layer(
        engine,
        op,
        run,
        signal,
        index,
        in_order,
    )


def in_order(arrived: dict[str, JsonValue], count: int) -> JsonValue:
    """The branches of a fan-out of ``count``, as a list in branch order."""
    return [arrived[str(i)] for i in range(count)]


def pass_through(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """Complete ``run`` by passing the signal's value on to the continuation."""
    assert op.continuation is not None
    complete(
        engine,
        run,
        [emit_from(engine, run, 0, op.continuation, signal["value"], signal)],
    )


def collect_layer(
    engine: ExecutionEngine,
    op: Operator,
    run: RunRecord,
    signal: SignalRecord,
    key: str,
    build: Callable[[dict[str, JsonValue], int], JsonValue],
) -> None:
    """Join the branches of the fan-out whose mark tops the signal's layers."""
    assert op.continuation is not None
    layers = signal["layers"]
    if not layers:
        pass_through(engine, op, run, signal)  # reached without a fan-out
        return
    mark = layers[-1]
    outer = layers[:-1]
    group, count = mark_group(mark), mark_count(mark)
    join(
        engine,
        run,
        signal,
        op.continuation,
        join_id=op.id,
        scope=f"{layers_key(outer)}|{group}",
        key=key,
        ready=lambda arrived: len(arrived) >= count,
        build=lambda arrived: build(arrived, count),
        layers=outer,
    )


async def run_match_collect(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """match(): join the hit cases (hit_all: a list; else the one hit)."""
    index = str(mark_index(signal["layers"][-1])) if signal["layers"] else "0"
    if op.options.get("mode") == "hit_all":
        collect_layer(
            engine,
            op,
            run,
            signal,
            index,
            in_order,
        )
    else:
        collect_layer(
            engine, op, run, signal, index, lambda arrived, _count: arrived[index]
        )


# -- collect and end -----------------------------------------------------------------


async def run_collect_branch(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    """collect(): join the named branches into one dict."""
    name = op.options["collect"]
    branch = op.options["branch_id"]
    branches = [
        other.options["branch_id"]
        for other in engine.definition.operators.values()
        if other.kind == OperatorKind.COLLECT_BRANCH
        and other.options.get("collect") == name
    ]
    assert op.continuation is not None
    join(
        engine,
        run,
        signal,
        op.continuation,
        join_id=f"Collect-{name}",
        scope=join_scope(signal),
        key=branch,
        ready=lambda arrived: all(b in arrived for b in branches),
        build=lambda arrived: {b: arrived[b] for b in branches},
        keep=op.options.get("mode") == "filled_and_update",
    )


async def run_result_sink(
    engine: ExecutionEngine,
    op: Operator,  # noqa: ARG001 - every runner takes (engine, op, run, signal)
    run: RunRecord,
    signal: SignalRecord,
) -> None:
    """end(): record the final result in state."""
    engine.record(
        StateSet(key="$final_result", value=signal["value"], run_id=run.run_id, op=0)
    )
    complete(engine, run, [])
