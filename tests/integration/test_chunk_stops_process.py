"""KeyboardInterrupt and SystemExit raised inside a chunk stop the program.

Issue 11, item 15: such an exception was later reported as "the log refused a
write ... once the store is healthy" although the store was fine, and the sync
API (which runs executions on a background loop) hung instead of stopping: the
exception killed the loop's thread. Now it propagates to the caller as Python
expects (the process ends, ``sys.exit(3)`` exits with 3), the execution says
what happened (``ExecutionStoppedError``: which chunk raised what; the log is
intact), and recovery in a new process runs the chunk again. Real processes:
these exceptions would end the test runner itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(120)

FLOW = """
import asyncio, json, sys
from orchestrator import TriggerFlow

db, handler_kind, how = sys.argv[1], sys.argv[2], sys.argv[3]


def stop_sync(data):
    if how == "interrupt":
        raise KeyboardInterrupt
    if how == "exit":
        sys.exit(3)
    return "fine"


async def stop_async(data):
    return stop_sync(data)


def build():
    flow = TriggerFlow(name="stops", store=db)
    handler = stop_sync if handler_kind == "sync" else stop_async
    flow.to(handler).to(("after", lambda data: data.set_state("after", data.value)))
    return flow


def report(**fields):
    print(json.dumps(fields), flush=True)
"""


def run(tmp_path: Path, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(REPO), env.get("PYTHONPATH", "")] if p
    )
    return subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(FLOW) + textwrap.dedent(body),
            str(tmp_path / "stops.db"),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env=env,
        timeout=60,
        check=False,
    )


def reports(done: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    return [
        json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")
    ]


SYNC_START = """
flow = build()
try:
    if sys.argv[4] == "flow":
        flow.start("in")
    else:
        flow.create_execution(auto_close=False).start("in")
except BaseException as error:
    report(raised=type(error).__name__)
    raise
"""


@pytest.mark.parametrize("api", ["flow", "execution"])
@pytest.mark.parametrize("handler_kind", ["sync", "async"])
def test_keyboard_interrupt_in_a_chunk_stops_a_sync_caller(
    tmp_path: Path, handler_kind: str, api: str
) -> None:
    done = run(tmp_path, SYNC_START, handler_kind, "interrupt", api)
    assert reports(done) == [{"raised": "KeyboardInterrupt"}], done.stderr
    assert done.returncode != 0
    assert "KeyboardInterrupt" in done.stderr


@pytest.mark.parametrize("handler_kind", ["sync", "async"])
def test_sys_exit_in_a_chunk_exits_a_sync_caller(
    tmp_path: Path, handler_kind: str
) -> None:
    done = run(tmp_path, SYNC_START, handler_kind, "exit", "execution")
    assert reports(done) == [{"raised": "SystemExit"}], done.stderr
    assert done.returncode == 3, done.stderr


ASYNC_START = """
async def main():
    flow = build()
    execution = flow.create_execution(auto_close=False)
    report(id=execution.id)
    try:
        await execution.async_start("in")
    except BaseException as error:
        report(start=type(error).__name__)
        try:
            await execution.async_close()
        except Exception as closing:
            report(close=type(closing).__name__, message=str(closing))
        raise

try:
    asyncio.run(main())
except BaseException as error:
    report(run=type(error).__name__)
    raise
"""

RECOVER = """
flow = build()
(handle,) = flow.recover()
handle.close()
report(id=handle.id, status=handle.get_status(), state=handle.get_state())
"""


@pytest.mark.parametrize("handler_kind", ["sync", "async"])
def test_keyboard_interrupt_is_reported_truthfully_and_recoverable(
    tmp_path: Path, handler_kind: str
) -> None:
    done = run(tmp_path, ASYNC_START, handler_kind, "interrupt")
    lines = reports(done)
    assert lines[-1] == {"run": "KeyboardInterrupt"}, done.stderr
    assert done.returncode != 0
    execution_id = lines[0]["id"]
    (closing,) = [line for line in lines if "close" in line]
    assert closing["close"] == "ExecutionStoppedError"
    message = closing["message"]
    assert "refused a write" not in message
    for part in (
        execution_id,
        "KeyboardInterrupt",
        "'stop_",
        "store is fine",
        "log intact",
        "flow.recover()",
    ):
        assert part in message

    again = run(tmp_path, RECOVER, handler_kind, "ok")
    assert again.returncode == 0, again.stderr
    assert reports(again) == [
        {"id": execution_id, "status": "completed", "state": {"after": "fine"}}
    ]


SAME_PROCESS = """
flow = build()
execution = flow.create_execution(auto_close=False)
try:
    execution.start("in")
except KeyboardInterrupt:
    report(raised="KeyboardInterrupt")
try:
    execution.close()
except Exception as error:
    report(close=type(error).__name__)
how = "ok"
again = flow.get_execution(execution.id)
again.close()
report(status=again.get_status(), state=again.get_state())
"""


def test_a_program_that_catches_the_interrupt_can_rebuild_the_execution(
    tmp_path: Path,
) -> None:
    done = run(tmp_path, SAME_PROCESS, "sync", "interrupt")
    assert done.returncode == 0, done.stderr
    assert reports(done) == [
        {"raised": "KeyboardInterrupt"},
        {"close": "ExecutionStoppedError"},
        {"status": "completed", "state": {"after": "fine"}},
    ]
