"""A worker process of the crash battery: recover, create what is missing, run to the end.

Usage: python -m tests.recovery.battery_worker DB SINK COUNT
Prints "ready" once recovery has claimed its executions, then "done" when every
execution is closed. Exits 0 only then; the parent SIGKILLs it at random instants.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from tests.recovery.battery_flow import IdempotentSink, build_flow, inputs


async def drive(flow: Any, wanted: dict[str, Any], resources: dict[str, Any]) -> None:
    """Recover what a killed worker left, start what is missing, finish everything."""
    handles = {h.id: h for h in await flow.async_recover(runtime_resources=resources)}
    print("ready", len(handles), flush=True)
    starts = []
    for execution_id, value in wanted.items():
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


async def main(db: str, sink_path: str, count: int) -> None:
    await drive(build_flow(db), inputs(count), {"sink": IdempotentSink(sink_path)})


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
