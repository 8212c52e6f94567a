"""Small flows that recovery tests run in a real process and then kill.

Usage: python -m tests.recovery.scenarios NAME DB [ARG]
Each scenario prints "parked" once the execution reached the state the test
wants to kill it in (everything before it durable), then waits to be killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from orchestrator import FakeClock, TriggerFlow, TriggerFlowRuntimeData
from orchestrator.flow.retry import RetryPolicy

T0 = 1_735_689_600.0  # the fake clock's start
HOUR = 3600.0


def timer_flow(db: str, clock: FakeClock) -> TriggerFlow:
    flow = TriggerFlow(name="timer", store=db, clock=clock, lease_ttl=5.0)

    async def nap(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("slept_at", clock.now())
        await data.sleep(HOUR)
        data.set_state("woke_at", clock.now())
        return "rested"

    flow.to(nap)
    return flow


def retry_flow(db: str, clock: FakeClock, marker: str) -> TriggerFlow:
    flow = TriggerFlow(name="retry", store=db, clock=clock, lease_ttl=5.0)

    async def flaky(data: TriggerFlowRuntimeData) -> Any:
        with open(marker, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        with open(marker, encoding="utf-8") as handle:
            attempts = len(handle.read().splitlines())
        if attempts < 3:
            raise ConnectionError(f"attempt {attempts} failed")
        return attempts

    flow.to(
        flaky, retry=RetryPolicy(attempts=5, initial_backoff=600, jitter=0), timeout=30
    )
    return flow


def pid_flow(db: str, hold_from: int | None = None) -> TriggerFlow:
    """A chain whose every chunk appends the pid of the process running it.

    With ``hold_from``, chunks from that index on never finish in this process,
    so a kill always leaves work to recover: on a loaded machine the fastest of
    many executions could otherwise run to its end before the slowest parked.
    """
    flow = TriggerFlow(name="pids", store=db, lease_ttl=30.0)
    process: Any = flow
    for index in range(6):
        hold = hold_from is not None and index >= hold_from
        process = process.to(_pid_step(hold), name=f"step{index}")
    return flow


def approval_flow(db: str, park: bool = False) -> TriggerFlow:
    """ask pauses; after resumes with a journaled step and state writes."""
    flow = TriggerFlow(name="approval", store=db, lease_ttl=5.0)

    async def ask(data: TriggerFlowRuntimeData) -> Any:
        data.set_state("asked", data.value)
        return await data.async_pause_for(type="approval", interrupt_id="approve")

    async def after(data: TriggerFlowRuntimeData) -> Any:
        receipt = await data.step("notify", lambda: {"sent": data.value})
        if park:
            print("parked", flush=True)  # the resolution and the step are durable
            await asyncio.sleep(3600)
        data.append_state("after", receipt)
        return "finished"

    flow.to(ask).to(after)
    return flow


def _pid_step(hold: bool) -> Any:
    async def step(data: TriggerFlowRuntimeData) -> Any:
        await asyncio.sleep(0.01)
        if hold:
            await asyncio.sleep(HOUR)  # killed here, before recording
        data.append_state("pids", os.getpid())
        return data.value

    return step


async def park_until(predicate: Any) -> None:
    while not predicate():
        await asyncio.sleep(0.005)
    print("parked", flush=True)
    await asyncio.sleep(3600)


async def main(name: str, db: str, arg: str | None) -> None:
    clock = FakeClock(T0)
    if name == "timer":
        flow = timer_flow(db, clock)
        execution = flow.create_execution(auto_close=False, execution_id="sleeper")
        task = asyncio.ensure_future(execution.async_start(None))
        # Parked while the chunk sleeps on its timer, once the timer is durable.
        await park_until(
            lambda: (
                any(r.wake_at for r in execution.view.runs.values())
                and _durable(flow, execution)
            )
        )
        await task
    elif name == "retry":
        assert arg is not None
        flow = retry_flow(db, clock, arg)
        execution = flow.create_execution(auto_close=False, execution_id="flaky")
        task = asyncio.ensure_future(execution.async_start(None))
        while not any(r.status == "retrying" for r in execution.view.runs.values()):
            await asyncio.sleep(0.005)
        clock.advance(600)  # let the first backoff pass: attempt 2 fails too
        # Parked in the backoff after the second failure (its timer is durable).
        await park_until(
            lambda: (
                any(
                    r.status == "retrying" and r.attempt == 2
                    for r in execution.view.runs.values()
                )
                and _durable(flow, execution)
            )
        )
        await task
    elif name == "resume-crash":
        flow = approval_flow(db, park=True)
        execution = flow.get_execution("approval-1")
        await execution.async_continue_with("approve", {"ok": True})
    elif name == "pids-start":
        flow = pid_flow(db, hold_from=2)
        executions = [
            flow.create_execution(auto_close=False, execution_id=f"p{i:02d}")
            for i in range(20)
        ]
        tasks = [asyncio.ensure_future(e.async_start(None)) for e in executions]
        await park_until(
            lambda: (
                all(len(e.get_state("pids", [])) >= 2 for e in executions)
                and all(_durable(flow, e) for e in executions)
            )
        )
        await asyncio.gather(*tasks)
    elif name == "pids-recover":
        flow = pid_flow(db)
        ready = arg
        while ready and not os.path.exists(ready):
            await asyncio.sleep(0.001)  # both recoverers start together
        handles = await flow.async_recover()
        # recover() returns every execution that is not closed; the ones this
        # process resumes are those with runs pending as it returns.
        resumed = sorted(h.id for h in handles if h.view.runs)
        for handle in handles:
            await handle.async_wait_idle()
        print("recovered", " ".join(resumed), flush=True)
    else:
        raise SystemExit(f"unknown scenario {name!r}")


def _durable(flow: TriggerFlow, execution: Any) -> bool:
    info = flow.store.get_stream(execution.id)
    return info is not None and info.last_seq == execution.view.last_seq


if __name__ == "__main__":
    asyncio.run(
        main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    )
