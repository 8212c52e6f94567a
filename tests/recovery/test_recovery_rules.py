"""Recovery rules: one runner per execution, definition versions, cancellation,
nondeterminism, and what a re-executed chunk run sees."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrator import (
    DefinitionMismatchError,
    ExecutionCancelledError,
    FakeClock,
    NondeterminismError,
    TriggerFlow,
    TriggerFlowRuntimeData,
)
from tests.recovery.harness import ROOT
from tests.recovery.scenarios import pid_flow
from tests.recovery.test_timers_retries import _park


def _start(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.recovery.scenarios", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_recovering_processes_never_run_the_same_execution(tmp_path: Path) -> None:
    db = tmp_path / "pids.db"
    _park("pids-start", db)  # 20 executions, each 2 of 6 chunks done, then kill -9
    go = tmp_path / "go"
    first, second = (
        _start(["pids-recover", str(db), str(go)]),
        _start(["pids-recover", str(db), str(go)]),
    )
    go.write_text("go")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert first.returncode == 0, outputs
    assert second.returncode == 0, outputs
    claimed = [set(out.split()[1:]) for out, _ in outputs]
    assert not claimed[0] & claimed[1], "an execution was recovered by both processes"
    assert claimed[0] | claimed[1] == {f"p{i:02d}" for i in range(20)}
    flow = pid_flow(str(db))
    for index in range(20):
        pids = flow.get_execution(f"p{index:02d}").get_state("pids")
        assert len(pids) == 6, "every chunk ran exactly once"
        # The parked process may finish a chunk or two between printing
        # "parked" and the SIGKILL landing; whatever came after it ran in one
        # recovering process, never in both.
        killed = pids[0]
        later = [pid for pid in pids if pid != killed]
        assert pids[: len(pids) - len(later)] == [killed] * (len(pids) - len(later))
        assert len(set(later)) <= 1, (
            f"chunks after the crash ran in two processes: {pids}"
        )
    flow.store.close()


def _write_module(path: Path, body: str) -> None:
    path.write_text(textwrap.dedent(body))


def _load(module_dir: Path, name: str) -> TriggerFlow:
    sys.path.insert(0, str(module_dir))
    try:
        sys.modules.pop(name, None)
        import importlib

        module = importlib.import_module(name)
        flow: TriggerFlow = module.build()
        return flow
    finally:
        sys.path.remove(str(module_dir))


_FLOW_V1 = """
from orchestrator import TriggerFlow

async def ask(data):
    return await data.async_pause_for(type="review")

async def after(data):
    data.set_state("reviewed", data.value)

def build():
    flow = TriggerFlow(name="versioned", store={db!r})
    flow.to(ask).to(after)
    return flow
"""


async def _paused(module_dir: Path, db: Path) -> str:
    flow = _load(module_dir, "flowmod")
    execution = flow.create_execution(auto_close=False)
    await execution.async_start(None)
    assert execution.get_status() == "waiting"
    flow.store.close()
    return execution.id


async def test_moving_code_within_its_file_keeps_the_definition(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    _write_module(tmp_path / "flowmod.py", _FLOW_V1.format(db=str(db)))
    execution_id = await _paused(tmp_path, db)
    moved = "\n\n# a comment and blank lines move every function down\n\n\n" + _FLOW_V1
    _write_module(tmp_path / "flowmod.py", moved.format(db=str(db)))
    flow = _load(tmp_path, "flowmod")
    execution = flow.get_execution(execution_id)
    [interrupt_id] = execution.get_pending_interrupts()
    await execution.async_continue_with(interrupt_id, "ok")
    assert (await execution.async_close()) == {"reviewed": "ok"}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            ("flow.to(ask).to(after)", "flow.to(ask).to(after, name='after_v2')"),
            "after",
        ),
        (("flow.to(ask).to(after)", "flow.to(ask).to(after).end()"), "end"),
    ],
)
async def test_a_changed_definition_refuses_recovery(
    tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    db = tmp_path / "v.db"
    _write_module(tmp_path / "flowmod.py", _FLOW_V1.format(db=str(db)))
    execution_id = await _paused(tmp_path, db)
    _write_module(tmp_path / "flowmod.py", _FLOW_V1.replace(*change).format(db=str(db)))
    flow = _load(tmp_path, "flowmod")
    with pytest.raises(DefinitionMismatchError) as caught:
        flow.get_execution(execution_id)
    error = caught.value
    assert error.recorded != error.current
    assert error.recorded in str(error)
    assert error.current in str(error)
    assert named in error.first_difference
    # recover() skips it (and reports why) instead of raising.
    report = await flow.async_recover()
    assert list(report) == []
    [outcome] = report.skipped
    assert outcome.execution_id == execution_id
    assert isinstance(outcome.error, DefinitionMismatchError)
    execution = flow.get_execution(execution_id, allow_definition_change=True)
    await execution.async_save()
    types = [e.type for e in flow.store.read_stream(execution_id)]
    assert "execution.definition_changed" in types


async def test_cancel_during_a_running_chunk(tmp_path: Path) -> None:
    flow = TriggerFlow(name="cancel-run", store=str(tmp_path / "c.db"))
    started = asyncio.Event()
    reached_after = []

    async def busy(data: TriggerFlowRuntimeData) -> None:
        data.set_state("before", True)
        started.set()
        await asyncio.Event().wait()  # cancelled at this await
        reached_after.append(True)

    flow.to(busy)
    execution = flow.create_execution(auto_close=False)
    run = asyncio.ensure_future(execution.async_start(None))
    await started.wait()
    snapshot = await execution.async_cancel(reason="operator")
    assert snapshot == {"before": True}
    assert execution.get_status() == "cancelled"
    assert reached_after == []
    with pytest.raises(ExecutionCancelledError):
        await run
    with pytest.raises(ExecutionCancelledError):
        await execution.async_emit("anything")
    rebuilt = TriggerFlow(
        name="cancel-run", store=str(tmp_path / "c.db")
    ).get_execution(execution.id)
    assert rebuilt.get_status() == "cancelled"
    assert rebuilt.lifecycle_state == "closed"


async def test_cancel_during_a_sleep(tmp_path: Path) -> None:
    clock = FakeClock()
    flow = TriggerFlow(name="cancel-sleep", store=str(tmp_path / "s.db"), clock=clock)

    async def nap(data: TriggerFlowRuntimeData) -> None:
        await data.sleep(3600)
        data.set_state("woke", True)

    flow.to(nap)
    execution = flow.create_execution(auto_close=False)
    run = asyncio.ensure_future(execution.async_start(None))
    while not any(r.wake_at for r in execution.view.runs.values()):
        await asyncio.sleep(0.001)
    await execution.async_cancel()
    clock.advance(7200)
    await asyncio.sleep(0.01)
    assert execution.get_state() == {}
    assert execution.get_status() == "cancelled"
    with pytest.raises(ExecutionCancelledError):
        await run
    types = [e.type for e in flow.store.read_stream(execution.id)]
    assert types[-2:] == ["execution.cancelled", "execution.closed"]
    assert "timer.fired" not in types


def _crashed_run(tmp_path: Path, body: str) -> tuple[Path, str]:
    """Run a one-chunk flow in a process that dies inside the chunk (os._exit)."""
    db = tmp_path / "r.db"
    script = tmp_path / "crash.py"
    script.write_text(textwrap.dedent(body).format(db=str(db)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(script), "crash"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 9, result.stderr
    return db, script.stem


_COUNTER = """
import asyncio, os, sys
from orchestrator import TriggerFlow

async def count(data):
    n = data.get_state("n", 0)
    data.set_state("n", n + 1)           # op 0
    data.append_state("log", n)          # op 1
    if sys.argv[-1] == "crash":
        await data.execution.async_save()
        os._exit(9)                      # dies after two logged operations
    data.set_state("m", n + 1)           # op 2: computed from what op 0 read
    return n

def build():
    flow = TriggerFlow(name="counter", store={db!r})
    flow.to(count)
    return flow

if __name__ == "__main__":
    async def main():
        flow = build()
        execution = flow.create_execution(auto_close=False, execution_id="e1")
        await execution.async_start(None)
    asyncio.run(main())
"""


async def test_a_re_executed_run_skips_logged_operations_and_reads_what_they_read(
    tmp_path: Path,
) -> None:
    _, name = _crashed_run(tmp_path, _COUNTER)
    flow = _load(tmp_path, name)
    [execution] = await flow.async_recover()
    await execution.async_wait_idle()
    # Uninterrupted, the chunk reads n=0 and writes n=1, log=[0], m=1. The re-run
    # skips ops 0 and 1 (already logged) and reads n as op 0 saw it, so m is 1,
    # not 2, and nothing is appended twice.
    assert execution.get_state() == {"n": 1, "log": [0], "m": 1}
    snapshot = await execution.async_close()
    assert snapshot == {"n": 1, "log": [0], "m": 1}


_DIVERGENT = _COUNTER.replace(
    'data.append_state("log", n)          # op 1',
    'data.append_state("log", n) if sys.argv[-1] == "crash" else data.set_state("other", 1)',
)


async def test_a_divergent_re_execution_raises_nondeterminism(tmp_path: Path) -> None:
    _, name = _crashed_run(tmp_path, _DIVERGENT)
    flow = _load(tmp_path, name)
    [execution] = await flow.async_recover()
    await execution.async_wait_idle()
    assert execution.get_status() == "failed"
    [error] = execution.view.errors
    assert error["type"] == "NondeterminismError"
    assert "operation #1" in error["message"]
    assert "state.append" in error["message"]
    assert "state.set" in error["message"]
    assert NondeterminismError.__name__ == error["type"]
