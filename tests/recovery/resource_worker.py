"""A process that runs an execution needing a runtime resource, then hangs.

``python -m tests.recovery.resource_worker DB ID`` creates execution ``ID``
with the resource ``mailer``, records one step, prints ``ready`` and waits to
be killed, leaving its chunk run pending in the log.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from orchestrator import TriggerFlow, TriggerFlowRuntimeData


async def send(data: TriggerFlowRuntimeData) -> Any:
    mailer = data.require_resource("mailer")
    await data.step("prepare", lambda: 1)
    if os.environ.get("RESOURCE_WORKER_HANG"):
        print("ready", flush=True)
        await asyncio.sleep(3600)
    data.set_state("sent", mailer)


def build(db: str) -> TriggerFlow:
    flow = TriggerFlow(name="mailing", store=db, lease_ttl=600)
    flow.to(send)
    return flow


if __name__ == "__main__":
    flow = build(sys.argv[1])
    execution = flow.create_execution(
        execution_id=sys.argv[2],
        auto_close=False,
        runtime_resources={"mailer": "smtp"},
    )
    execution.start(1)
