"""The sub-flow crash battery's flow and worker: kill -9 while children run.

Usage: python -m tests.recovery.sub_flow_battery DB SINK COUNT
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from orchestrator import TriggerFlow, TriggerFlowRuntimeData
from tests.recovery.battery_flow import IdempotentSink


def build_parent(store: str) -> TriggerFlow:
    child = TriggerFlow(name="sub-child", store=store)

    async def enrich(data: TriggerFlowRuntimeData) -> Any:
        sink: IdempotentSink = data.require_resource("sink")
        await asyncio.sleep(0.003)
        receipt = await data.step(
            "enrich", sink.apply, data.step_key, data.execution_id, "enrich", data.value
        )
        data.set_state("enriched", receipt["value"] * 3)
        return data.value

    async def finish(data: TriggerFlowRuntimeData) -> Any:
        await asyncio.sleep(0.003)
        data.append_state("child_trail", "finish")
        data.set_state(
            "$final_result", {"score": data.get_state("enriched") + 1}, emit=False
        )
        return None

    child.to(enrich).to(finish)

    parent = TriggerFlow(name="sub-parent", store=store, lease_ttl=5.0)

    async def prepare(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("trail", "prepare")
        return data.value["n"]

    async def combine(data: TriggerFlowRuntimeData) -> Any:
        data.append_state("trail", "combine")
        return data.get_state("first")["score"] + data.value["score"]

    async def store_total(data: TriggerFlowRuntimeData) -> None:
        data.set_state("total", data.value)

    capture = {"resources": {"sink": "resources.sink"}}
    (
        parent.to(prepare)
        .to_sub_flow(
            child,
            name="first_call",
            capture=capture,
            write_back={"value": "result", "state": {"first": "result"}},
        )
        .to(lambda data: data.get_state("first")["score"], name="pass_score")
        .to_sub_flow(
            child,
            name="second_call",
            capture=capture,
            write_back={"value": "result", "state": {"second": "result"}},
        )
        .to(combine)
        .to(store_total)
    )
    return parent


def inputs(count: int) -> dict[str, dict[str, Any]]:
    return {f"parent-{i:03d}": {"n": i + 1} for i in range(count)}


async def main(db: str, sink_path: str, count: int) -> None:
    flow = build_parent(db)
    resources = {"sink": IdempotentSink(sink_path)}
    handles = {h.id: h for h in await flow.async_recover(runtime_resources=resources)}
    print("ready", len(handles), flush=True)
    starts = []
    for execution_id, value in inputs(count).items():
        if execution_id in handles or flow.has_execution(execution_id):
            continue
        execution = flow.create_execution(
            execution_id=execution_id, runtime_resources=resources
        )
        handles[execution_id] = execution
        starts.append(execution.async_start(value))
    await asyncio.gather(*starts)
    for handle in handles.values():
        await handle.async_wait_idle()
        if handle.lifecycle_state != "closed":
            await handle.async_close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
