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
    from tests.recovery.battery_worker import drive

    await drive(build_parent(db), inputs(count), {"sink": IdempotentSink(sink_path)})


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
