"""Another process holds the lease: a zombie holder is dead; close() never hangs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator import (
    ExecutionHeldElsewhereError,
    LeaseLostError,
    TriggerFlow,
    TriggerFlowRuntimeData,
)
from orchestrator.runtime.owner import process_owner
from tests.recovery.harness import ROOT
from tests.recovery.lease_holder import holder_flow


class Holder:
    """A child process running one execution of ``holder_flow`` (it holds the lease)."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = str(tmp_path / "held.db")
        self.folder = tmp_path
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.recovery.lease_holder",
                self.db,
                str(tmp_path),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("running"):
            self.process.kill()
            _, err = self.process.communicate(timeout=30)
            raise AssertionError(f"holder did not start: {line!r}\n{err[-3000:]}")
        self.execution_id = line.split()[1]

    def release(self) -> None:
        (self.folder / "release").write_text("release")

    def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        self.process.communicate(timeout=30)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Holder]:
    held = Holder(tmp_path)
    try:
        yield held
    finally:
        held.stop()


def _proc_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0]


def test_a_zombie_lease_holder_is_dead_and_recovery_takes_over(holder: Holder) -> None:
    pid = holder.process.pid
    # Killed but not reaped: no wait()/poll() until the end, so the kernel
    # keeps the process as a zombie (state Z) with its pid and start time.
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _proc_state(pid) != "Z":
        assert time.monotonic() < deadline, "the killed holder never became a zombie"
        time.sleep(0.01)
    flow = holder_flow(holder.db)
    info = flow.store.get_stream(holder.execution_id)
    assert info is not None
    assert info.owner is not None
    assert info.owner.split("|")[1] == str(pid)
    assert info.lease_until is not None
    assert info.lease_until > flow.clock.now() + 60
    holder.release()  # the re-run chunk finishes at once
    report = flow.recover()
    assert [h.id for h in report] == [holder.execution_id], report.outcomes
    assert [(o.execution_id, o.outcome) for o in report.outcomes] == [
        (holder.execution_id, "recovered")
    ]
    assert _proc_state(pid) == "Z", "the test itself must not have reaped it"
    [handle] = report
    assert handle.close() == {"finished": True}
    info = flow.store.get_stream(holder.execution_id)
    assert info is not None
    assert info.owner in (None, process_owner())
    flow.store.close()


async def test_close_from_another_process_than_the_holder_returns_at_once(
    holder: Holder,
) -> None:
    flow = holder_flow(holder.db)
    execution = flow.get_execution(holder.execution_id)
    with pytest.raises(ExecutionHeldElsewhereError) as caught:
        await asyncio.wait_for(execution.async_close(), 10)
    error = caught.value
    assert error.execution_id == holder.execution_id
    assert error.holder.split("|")[1] == str(holder.process.pid)
    assert str(holder.process.pid) in str(error)
    assert "cancel" in str(error)
    assert "wait for that process" in str(error).lower()
    # Nothing was written by the refused close, and the holder still runs it.
    info = flow.store.get_stream(holder.execution_id)
    assert info is not None
    assert info.status == "running"
    assert "execution.sealed" not in [
        e.type for e in flow.store.read_stream(holder.execution_id)
    ]
    assert execution.lifecycle_state == "open"
    with pytest.raises(ExecutionHeldElsewhereError, match="cannot cancel it"):
        await asyncio.wait_for(execution.async_cancel(), 10)
    # Waiting for it would start its runs here too: refused the same way.
    with pytest.raises(ExecutionHeldElsewhereError, match="cannot wait for it"):
        await asyncio.wait_for(execution.async_wait_idle(), 10)
    assert flow.store.get_stream(holder.execution_id).status == "running"  # type: ignore[union-attr]

    holder.release()
    assert holder.process.stdout is not None
    line = await asyncio.to_thread(holder.process.stdout.readline)
    assert line.strip() == "closed"
    # The holder closed it: the same handle (and a fresh one) return its snapshot.
    assert await asyncio.wait_for(execution.async_close(), 10) == {"finished": True}
    await asyncio.wait_for(execution.async_wait_idle(), 10)
    again = holder_flow(holder.db)
    assert again.get_execution(holder.execution_id).close() == {"finished": True}
    again.store.close()
    flow.store.close()


async def test_close_waiting_for_runs_the_log_then_refuses_raises(
    tmp_path: Path,
) -> None:
    """The close was waiting for a run when another owner took the lease: the
    run's next append is fenced, and close() raises instead of waiting forever
    for a run that can no longer finish."""
    flow = TriggerFlow(name="fenced", store=str(tmp_path / "f.db"), lease_ttl=3600)
    go = asyncio.Event()

    async def work(data: TriggerFlowRuntimeData) -> None:
        await go.wait()
        data.set_state("after", True)  # this append is refused...
        await asyncio.sleep(3600)  # ...and the run is cancelled here

    flow.to(work)
    execution = flow.create_execution(auto_close=False)
    started = asyncio.create_task(execution.async_start())
    while not execution.view.runs or not _leased(flow, execution.id):
        await asyncio.sleep(0.01)
    closing = asyncio.create_task(execution.async_close(seal=False))
    await asyncio.sleep(0.05)  # close() is now waiting for the run
    assert not closing.done()
    assert flow.store.claim(execution.id, "elsewhere", 3600, steal_from=process_owner())
    go.set()
    with pytest.raises(LeaseLostError):
        await asyncio.wait_for(closing, 10)
    with pytest.raises(LeaseLostError):
        await started
    flow.store.close()


def _leased(flow: TriggerFlow, execution_id: str) -> bool:
    info = flow.store.get_stream(execution_id)
    return info is not None and info.owner == process_owner()
