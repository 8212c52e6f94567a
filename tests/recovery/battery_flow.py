"""The flow the crash battery kills: chains, batch, for_each, an and-join,
state appends, awaited emits and journaled steps into an idempotent sink.

Its final state is deterministic for a given input (concurrent branches write
to distinct keys), so an interrupted run can be compared with a golden run.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

from orchestrator import TriggerFlow, TriggerFlowRuntimeData

SINK_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS effects (step_key TEXT PRIMARY KEY, execution TEXT, "
    "name TEXT, value TEXT);"
    "CREATE TABLE IF NOT EXISTS attempts (step_key TEXT, n INTEGER);"
)


class IdempotentSink:
    """The outside world: applies each effect once per step key, counts every call."""

    def __init__(self, path: str) -> None:
        self.lock = threading.Lock()
        self.conn = sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(SINK_SCHEMA)

    def apply(self, step_key: str, execution: str, name: str, value: Any) -> Any:
        with self.lock:
            self.conn.execute("INSERT INTO attempts VALUES (?, 1)", (step_key,))
            self.conn.execute(
                "INSERT OR IGNORE INTO effects VALUES (?, ?, ?, ?)",
                (step_key, execution, name, repr(value)),
            )
        return {"key": step_key, "value": value}


def build_flow(store: str, *, pause: float = 0.002) -> TriggerFlow:
    flow = TriggerFlow(name="battery", store=store, lease_ttl=5.0)

    async def intake(data: TriggerFlowRuntimeData) -> Any:
        sink: IdempotentSink = data.require_resource("sink")
        receipt = await data.step(
            "register",
            sink.apply,
            data.step_key,
            data.execution_id,
            "register",
            data.value["n"],
        )
        data.set_state("receipt", receipt["value"])
        data.append_state("trail", "intake")
        return data.value

    async def double(data: TriggerFlowRuntimeData) -> Any:
        await asyncio.sleep(pause)
        return {"n": data.value["n"] * 2, "items": data.value["items"]}

    async def square(data: TriggerFlowRuntimeData) -> Any:
        await asyncio.sleep(pause)
        return data.value["n"] ** 2

    async def negate(data: TriggerFlowRuntimeData) -> Any:
        await asyncio.sleep(pause)
        return -data.value["n"]

    async def merge(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("batch", data.value)
        data.append_state("trail", "merge")
        return data.value["square"] + data.value["negate"]

    async def items(data: TriggerFlowRuntimeData) -> Any:
        return data.get_state("receipt") and list(range(3))

    async def per_item(data: TriggerFlowRuntimeData) -> Any:
        sink: IdempotentSink = data.require_resource("sink")
        await asyncio.sleep(pause)
        charged = await data.step(
            "charge", sink.apply, data.step_key, data.execution_id, "charge", data.value
        )
        data.set_state(f"items.i{data.value}", charged["value"] * 10)
        await data.async_emit("item_done", data.value)
        return charged["value"] * 10

    async def tally(data: TriggerFlowRuntimeData) -> None:
        data.set_state("tally", data.value)
        data.append_state("trail", "tally")

    async def count_item(data: TriggerFlowRuntimeData) -> None:
        data.set_state(f"done.i{data.value}", True)

    async def joined(data: TriggerFlowRuntimeData) -> None:
        data.set_state("joined", sorted(str(k) for k in data.value.get("event", {})))
        data.append_state("trail", "joined")

    (
        flow.to(intake)
        .to(double)
        .batch(square, negate)
        .to(merge)
        .to(items)
        .for_each()
        .to(per_item)
        .end_for_each()
        .to(tally)
    )
    flow.when("item_done").to(count_item)
    flow.when([merge, tally], mode="and").to(joined)
    return flow


def inputs(count: int) -> dict[str, dict[str, Any]]:
    """Deterministic execution ids and inputs."""
    return {f"exec-{i:03d}": {"n": i + 1, "items": i % 3} for i in range(count)}
