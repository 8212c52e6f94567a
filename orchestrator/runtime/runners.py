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
from orchestrator.events.chunk import ChunkStarted
from orchestrator.events.step import ChunkRetrying
from orchestrator.events.values import JsonValue, to_json_value
from orchestrator.flow.operators import Operator, OperatorKind
from orchestrator.flow.retry import RetryPolicy
from orchestrator.runtime.attempts import (
    cancel_requested,
    stray_cancellation,
    with_timeout,
)
from orchestrator.runtime.joins import (
    complete,
    emit_from,
    pass_through,
    run_batch_collect,
    run_batch_fanout,
    run_collect_branch,
    run_for_each_collect,
    run_for_each_split,
    run_gate,
    run_match_collect,
    run_result_sink,
)
from orchestrator.runtime.records import error_record
from orchestrator.runtime.runtime_data import TriggerFlowRuntimeData
from orchestrator.runtime.steps import CURRENT_DATA
from orchestrator.runtime.sub_flows import run_sub_flow

if TYPE_CHECKING:
    from orchestrator.events.records import SignalRecord
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
        held = engine.tasks.permits_for(signal)
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
            data.fail_paused_run(failure)
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
        # An earlier attempt's pause is stale once a retry returns a value.
        data.cancel_run_interrupts(f"chunk {op.name!r} completed on a later attempt")
        complete(
            engine, run, [emit_from(engine, run, 0, op.continuation, value, signal)]
        )
        return


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
        pass_through(engine, op, run, signal)
        return
    emits = [
        emit_from(
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
    complete(engine, run, emits)


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


async def _run_sub_flow(
    engine: ExecutionEngine, op: Operator, run: RunRecord, signal: SignalRecord
) -> None:
    await run_sub_flow(engine, op, run, signal)


_RUNNERS: dict[
    str, Callable[[ExecutionEngine, Operator, RunRecord, SignalRecord], Awaitable[None]]
] = {
    OperatorKind.CHUNK: _run_chunk,
    OperatorKind.SIGNAL_GATE: run_gate,
    OperatorKind.BATCH_FANOUT: run_batch_fanout,
    OperatorKind.BATCH_COLLECT: run_batch_collect,
    OperatorKind.FOR_EACH_SPLIT: run_for_each_split,
    OperatorKind.FOR_EACH_COLLECT: run_for_each_collect,
    OperatorKind.MATCH_ROUTE: _run_match_route,
    OperatorKind.MATCH_COLLECT: run_match_collect,
    OperatorKind.COLLECT_BRANCH: run_collect_branch,
    OperatorKind.RESULT_SINK: run_result_sink,
    OperatorKind.SUB_FLOW: _run_sub_flow,
}
