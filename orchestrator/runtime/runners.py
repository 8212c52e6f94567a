"""What each operator kind does when one of its runs executes.

Chunks run user code; the other kinds are bookkeeping (joins, fan-out, routing)
whose whole effect is one ``ChunkCompleted`` event: the signals they emit and the
join progress they make, appended atomically, so a fold never sees half a join.
"""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

from orchestrator.errors import FlowDefinitionError, PayloadError
from orchestrator.events.chunk import ChunkCompleted, ChunkStarted
from orchestrator.events.state import StateSet
from orchestrator.events.step import ChunkRetrying
from orchestrator.events.values import JsonValue, to_json_value
from orchestrator.flow.operators import Operator, OperatorKind
from orchestrator.flow.retry import RetryPolicy
from orchestrator.runtime.attempts import (
    cancel_requested,
    stray_cancellation,
    with_timeout,
)
from orchestrator.runtime.engine import error_record, join_scope, layers_key
from orchestrator.runtime.runtime_data import TriggerFlowRuntimeData
from orchestrator.runtime.steps import CURRENT_DATA
from orchestrator.runtime.sub_flows import run_sub_flow

if TYPE_CHECKING:
    from orchestrator.events.records import JoinUpdate, LayerMark, SignalRecord
    from orchestrator.projection.execution import RunRecord
    from orchestrator.runtime.engine import ExecutionEngine

__all__ = ["ConditionResultWarning", "call_handler", "run_operator"]


class ConditionResultWarning(UserWarning):
    """A match condition returned something other than a bool (only ``True`` selects)."""


async def call_handler(handler: Callable[..., Any], data: Any) -> Any:
    """Run a handler: async ones on the loop, sync ones in a worker thread."""
    if inspect.iscoroutinefunction(handler):
        result = await handler(data)
    else:
        result = await anyio.to_thread.run_sync(handler, data)
    while inspect.isawaitable(result):
        result = await result
    return result


async def run_operator(engine: ExecutionEngine, run: RunRecord) -> None:
    """Execute one pending run of any operator kind."""
    op = engine.definition.operators.get(run.op_id)
    signal = engine.view.signals.get(run.signal_id)
    if op is None or signal is None:
        error = FlowDefinitionError(
            f"execution {engine.id!r}: run {run.run_id} targets operator {run.op_id!r}, "
            "which this flow definition does not have"
        )
        engine.fail_run(run, error)
        return
    runner = _RUNNERS.get(op.kind)
    if runner is None:
        engine.fail_run(run, FlowDefinitionError(f"unknown operator kind {op.kind!r}"))
        return
    try:
        await runner(engine, op, run, signal)
    except asyncio.CancelledError as cancelled:
        if cancel_requested():
            raise
        if run.run_id in engine.view.runs:
            engine.fail_run(run, stray_cancellation(engine.id, op.name, cancelled))
    except Exception as error:  # noqa: BLE001 - any failure of a run is recorded
        if run.run_id in engine.view.runs:
            engine.fail_run(run, error)


def _scoped(
    signal: SignalRecord, layers: list[LayerMark] | None = None
) -> dict[str, Any]:
    return {
        "layers": signal["layers"] if layers is None else layers,
        "cascade": signal["cascade"],
        "origin": signal.get("origin"),
    }


def _complete(
    engine: ExecutionEngine,
    run: RunRecord,
    emits: list[SignalRecord],
    join: JoinUpdate | None = None,
) -> None:
    engine.finish_run(run, ChunkCompleted(run_id=run.run_id, emits=emits, join=join))


def _emit(
    engine: ExecutionEngine,
    run: RunRecord,
    index: int | str,
    event: str,
    value: JsonValue,
    signal: SignalRecord,
    layers: list[LayerMark] | None = None,
) -> SignalRecord:
    return engine.signal(
        engine.op_signal_id(run.run_id, f"o{index}"),
        event,
        value,
        **_scoped(signal, layers),
    )


# -- chunk ---------------------------------------------------------------------------


async def _run_chunk(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    policy = RetryPolicy.coerce(op.options.get("retry"))
    timeout = op.options.get("timeout")
    handler = engine.definition.chunk_handlers[op.handler or ""]
    is_async = inspect.iscoroutinefunction(handler)
    while True:
        if run.status == "retrying" and run.wake_at is not None:
            # A durable backoff: the wake time is in the log, so a recovered
            # execution waits only what is left of it.
            await engine.clock.sleep_until(run.wake_at)
        # A run found "started" was interrupted by a crash: the same attempt again.
        attempt = (
            run.attempt if run.status == "started" and run.attempt else run.attempt + 1
        )
        if run.ops:
            # This attempt replays logged operations; their reads use the log.
            await engine.durable()
        data = TriggerFlowRuntimeData(engine, run, signal, op)
        token = CURRENT_DATA.set(data)
        held = engine.permits_for(signal)
        acquired: list[asyncio.Semaphore] = []
        result: Any = None
        try:
            for semaphore in held:
                await semaphore.acquire()
                acquired.append(semaphore)
            # Logged once the permit is held, so start-to-completion time in
            # the log is the chunk's own, not its wait for a concurrency slot.
            engine.record(
                ChunkStarted(
                    run_id=run.run_id,
                    op_id=op.id,
                    chunk=op.name,
                    signal_id=signal["id"],
                    attempt=attempt,
                )
            )
            data.permits = held
            if timeout is None and is_async:
                # call_handler inlined for the common case: two fewer coroutine
                # objects per chunk run on the hottest path.
                result = await handler(data)
                while inspect.isawaitable(result):
                    result = await result
            else:
                result = await with_timeout(
                    engine, call_handler(handler, data), timeout, op.name, attempt
                )
        except asyncio.CancelledError as cancelled:
            if cancel_requested():
                raise
            failure: Exception | None = stray_cancellation(
                engine.id, op.name, cancelled
            )
            cause: BaseException | None = cancelled
        except Exception as error:  # noqa: BLE001 - the chunk's error is recorded
            failure, cause = error, None
        else:
            failure = cause = None
        finally:
            for semaphore in reversed(acquired):
                semaphore.release()
            CURRENT_DATA.reset(token)
        if failure is not None:
            # A stray CancelledError is retried if the policy names it or ChunkError.
            if policy is not None and (
                policy.retries(failure, attempt)
                or (cause is not None and policy.retries(cause, attempt))
            ):
                retry_at = engine.clock.now() + policy.backoff(attempt)
                engine.record(
                    ChunkRetrying(
                        run_id=run.run_id,
                        attempt=attempt,
                        error=error_record(failure),
                        retry_at=retry_at,
                    )
                )
                continue
            engine.fail_run(run, failure)
            return
        if data.is_pause_result(result):
            data.complete_paused(result)
            return
        if data.fail_unreturned_pause(result):
            return
        try:
            value = to_json_value(result, f"chunk {op.name!r} return value")
        except PayloadError as error:
            engine.fail_run(run, error)
            return
        assert op.continuation is not None
        _complete(engine, run, [_emit(engine, run, 0, op.continuation, value, signal)])
        return


# -- when ----------------------------------------------------------------------------


async def _run_gate(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    mode = op.options["mode"]
    assert op.continuation is not None
    value = signal["value"]
    if mode == "simple_or":
        _complete(engine, run, [_emit(engine, run, 0, op.continuation, value, signal)])
        return
    if mode == "or":
        payload: JsonValue = [signal["type"], signal["event"], value]
        _complete(
            engine, run, [_emit(engine, run, 0, op.continuation, payload, signal)]
        )
        return
    scope = join_scope(signal)
    key = f"{signal['type']}:{signal['event']}"
    arrived = dict(engine.view.joins.get(op.id, {}).get(scope, {}))
    arrived[key] = value
    expected = [f"{t}:{e}" for t, e in op.listen]
    if not all(k in arrived for k in expected):
        join: JoinUpdate = {
            "op": op.id,
            "scope": scope,
            "key": key,
            "value": value,
            "clear": False,
        }
        _complete(engine, run, [], join)
        return
    grouped: dict[str, JsonValue] = {}
    for trigger_type, event in op.listen:
        bucket = grouped.setdefault(trigger_type, {})
        assert isinstance(bucket, dict)
        bucket[event] = arrived[f"{trigger_type}:{event}"]
    join = {"op": op.id, "scope": scope, "key": key, "value": None, "clear": True}
    _complete(
        engine, run, [_emit(engine, run, 0, op.continuation, grouped, signal)], join
    )


# -- batch ---------------------------------------------------------------------------


async def _run_batch_fanout(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    names: list[str] = op.options["branches"]
    cap = op.options.get("concurrency")
    emits = []
    for index, event in enumerate(op.emits[: len(names)]):
        mark: LayerMark = [run.run_id, index, len(names), cap or 0]
        emits.append(
            _emit(
                engine,
                run,
                index,
                event,
                signal["value"],
                signal,
                [*signal["layers"], mark],
            )
        )
    _complete(engine, run, emits)


async def _run_batch_collect(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    branches: dict[str, str] = op.options["branches"]
    name = branches[signal["event"]]
    _collect_layer(
        engine,
        op,
        run,
        signal,
        name,
        lambda arrived, count: {
            n: arrived[n] for n in branches.values() if n in arrived
        },
    )


# -- for_each ------------------------------------------------------------------------


async def _run_for_each_split(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    value = signal["value"]
    items = value if isinstance(value, list) else [value]
    send, end = op.emits[0], op.emits[1]
    if not items:
        _complete(engine, run, [_emit(engine, run, 0, end, [], signal)])
        return
    cap = op.options.get("concurrency") or 0
    emits = [
        _emit(
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
    _complete(engine, run, emits)


async def _run_for_each_collect(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    index = str(signal["layers"][-1][1]) if signal["layers"] else "0"
    _collect_layer(
        engine,
        op,
        run,
        signal,
        index,
        lambda arrived, count: [arrived[str(i)] for i in range(count)],
    )


def _collect_layer(
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
        # Reached without a fan-out (e.g. wired by hand): pass through.
        _complete(
            engine,
            run,
            [_emit(engine, run, 0, op.continuation, signal["value"], signal)],
        )
        return
    mark = layers[-1]
    outer = layers[:-1]
    group, count = str(mark[0]), int(mark[2])
    scope = f"{layers_key(outer)}|{group}"
    arrived = dict(engine.view.joins.get(op.id, {}).get(scope, {}))
    arrived[key] = signal["value"]
    if len(arrived) < count:
        join: JoinUpdate = {
            "op": op.id,
            "scope": scope,
            "key": key,
            "value": signal["value"],
            "clear": False,
        }
        _complete(engine, run, [], join)
        return
    join = {"op": op.id, "scope": scope, "key": key, "value": None, "clear": True}
    value = build(arrived, count)
    _complete(
        engine,
        run,
        [_emit(engine, run, 0, op.continuation, value, signal, outer)],
        join,
    )


# -- match ---------------------------------------------------------------------------


async def _run_match_route(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    data = TriggerFlowRuntimeData(engine, run, signal, op)
    hits: list[str] = []
    for case in op.options["cases"]:
        if await _case_hits(engine, case, data, signal["value"], op):
            hits.append(f"Match-{op.group_id}-Case-{case['case_id']}")
            if op.options["mode"] == "hit_first":
                break
    if not hits and op.options.get("else_event"):
        hits = [op.options["else_event"]]
    assert op.continuation is not None
    if not hits:
        _complete(
            engine,
            run,
            [_emit(engine, run, 0, op.continuation, signal["value"], signal)],
        )
        return
    emits = [
        _emit(
            engine,
            run,
            index,
            event,
            signal["value"],
            signal,
            [*signal["layers"], [run.run_id, index, len(hits), 0]],
        )
        for index, event in enumerate(hits)
    ]
    _complete(engine, run, emits)


async def _case_hits(
    engine: ExecutionEngine,
    case: dict[str, Any],
    data: Any,
    value: JsonValue,
    op: Operator,
) -> bool:
    name = case.get("condition")
    if name is None:
        return bool(value == case.get("value"))
    condition = engine.definition.condition_handlers.get(name)
    if condition is None:
        raise FlowDefinitionError(
            f"flow {engine.host.name!r}: match condition {name!r} is not registered; "
            "register it with register_condition_handler()"
        )
    judgement = condition(data)
    if isinstance(judgement, Awaitable):
        judgement = await judgement
    if not isinstance(judgement, bool):
        warnings.warn(
            f"match condition {name!r} returned {type(judgement).__name__} {judgement!r}; "
            "only `True` selects a case (a truthy value does not)",
            ConditionResultWarning,
            stacklevel=2,
        )
    return judgement is True


async def _run_match_collect(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    index = str(signal["layers"][-1][1]) if signal["layers"] else "0"
    if op.options.get("mode") == "hit_all":
        _collect_layer(
            engine,
            op,
            run,
            signal,
            index,
            lambda arrived, count: [arrived[str(i)] for i in range(count)],
        )
    else:
        _collect_layer(
            engine, op, run, signal, index, lambda arrived, count: arrived[index]
        )


# -- collect and end -----------------------------------------------------------------


async def _run_collect_branch(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    name = op.options["collect"]
    branch = op.options["branch_id"]
    branches = [
        other.options["branch_id"]
        for other in engine.definition.operators.values()
        if other.kind == OperatorKind.COLLECT_BRANCH
        and other.options.get("collect") == name
    ]
    join_id = f"Collect-{name}"
    scope = join_scope(signal)
    arrived = dict(engine.view.joins.get(join_id, {}).get(scope, {}))
    arrived[branch] = signal["value"]
    assert op.continuation is not None
    if not all(b in arrived for b in branches):
        join: JoinUpdate = {
            "op": join_id,
            "scope": scope,
            "key": branch,
            "value": signal["value"],
            "clear": False,
        }
        _complete(engine, run, [], join)
        return
    keep = op.options.get("mode") == "filled_and_update"
    join = {
        "op": join_id,
        "scope": scope,
        "key": branch,
        "value": signal["value"],
        "clear": not keep,
    }
    payload: JsonValue = {b: arrived[b] for b in branches}
    _complete(
        engine, run, [_emit(engine, run, 0, op.continuation, payload, signal)], join
    )


async def _run_result_sink(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    engine.record(
        StateSet(key="$final_result", value=signal["value"], run_id=run.run_id, op=0)
    )
    _complete(engine, run, [])


async def _run_sub_flow(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    await run_sub_flow(engine, op, run, signal)


_RUNNERS: dict[
    str, Callable[[ExecutionEngine, Operator, RunRecord, SignalRecord], Awaitable[None]]
] = {
    OperatorKind.CHUNK: _run_chunk,
    OperatorKind.SIGNAL_GATE: _run_gate,
    OperatorKind.BATCH_FANOUT: _run_batch_fanout,
    OperatorKind.BATCH_COLLECT: _run_batch_collect,
    OperatorKind.FOR_EACH_SPLIT: _run_for_each_split,
    OperatorKind.FOR_EACH_COLLECT: _run_for_each_collect,
    OperatorKind.MATCH_ROUTE: _run_match_route,
    OperatorKind.MATCH_COLLECT: _run_match_collect,
    OperatorKind.COLLECT_BRANCH: _run_collect_branch,
    OperatorKind.RESULT_SINK: _run_result_sink,
    OperatorKind.SUB_FLOW: _run_sub_flow,
}
