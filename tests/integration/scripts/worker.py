"""A worker process for the cross-process tests: ``python worker.py <command> ...``.

It rebuilds the flows of :mod:`tests.integration.scripts.flows` on the given
SQLite file, acts on an execution by id, and prints one JSON document as its
last stdout line. With ``--barrier`` it prints ``ready`` once it has rebuilt the
execution and waits for a line on stdin, so that the test can release several
workers at the same moment.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.integration.scripts import flows  # noqa: E402


def _barrier(args: list[str]) -> None:
    if "--barrier" in args:
        print("ready", flush=True)
        sys.stdin.readline()


def _error(error: BaseException) -> dict[str, Any]:
    return {"error": type(error).__name__, "message": str(error)}


async def seed_continue(db: str, execution_id: str, mode: str, saved: str) -> Any:
    """Continue the seed-000 execution in this fresh process, then close it."""
    flow = flows.build_approval_flow(db)
    resources = {"search_tool": flows.SearchTool("fresh")}
    if mode == "get_execution":
        execution = flow.get_execution(execution_id, runtime_resources=resources)
    else:
        execution = flow.create_execution(auto_close=False, runtime_resources=resources)
        execution.load(saved)
    pending = execution.get_pending_interrupts()
    status_before = execution.get_status()
    interrupt_id = next(iter(pending))
    record = await execution.async_continue_with(interrupt_id, {"approved": True})
    snapshot = await execution.async_close()
    return {
        "execution_id": execution.id,
        "status_before": status_before,
        "pending": sorted(pending),
        "pending_record": pending[interrupt_id],
        "record_status": record["status"] if record else None,
        "snapshot": snapshot,
        "status": execution.get_status(),
    }


async def race(
    db: str, execution_id: str, value: str, request_id: str, args: list[str]
) -> Any:
    """Rebuild, wait at the barrier, then continue ``race-1``."""
    flow = flows.build_race_flow(db)
    execution = flow.get_execution(execution_id)
    assert execution.get_status() == "waiting", execution.get_status()
    _barrier(args)
    try:
        record = await execution.async_continue_with(
            "race-1", value, resume_request_id=request_id or None
        )
    except Exception as error:  # noqa: BLE001 - reported to the test
        return _error(error)
    return {"won": True, "record": record}


async def legal_continue(db: str, execution_id: str, value: str) -> Any:
    """Rebuild the parent, resume its child's projected interrupt, close."""
    parent = flows.build_legal_parent(db)
    execution = parent.get_execution(
        execution_id, runtime_resources={"reviewer": object()}
    )
    pending = execution.get_pending_interrupts()
    (interrupt_id,) = pending
    await execution.async_continue_with(interrupt_id, value)
    snapshot = await execution.async_close()
    return {
        "status_before": "waiting",
        "pending": pending,
        "snapshot": snapshot,
        "status": execution.get_status(),
        "children": execution.get_sub_flow_executions(),
    }


async def legal_race(db: str, execution_id: str, value: str, args: list[str]) -> Any:
    """Rebuild the parent, wait at the barrier, continue the projected interrupt."""
    parent = flows.build_legal_parent(db)
    execution = parent.get_execution(
        execution_id, runtime_resources={"reviewer": object()}
    )
    (interrupt_id,) = execution.get_pending_interrupts()
    _barrier(args)
    try:
        await execution.async_continue_with(interrupt_id, value)
    except Exception as error:  # noqa: BLE001 - reported to the test
        return _error(error)
    return {"won": True, "value": value}


async def nested_continue(db: str, execution_id: str, value: str) -> Any:
    """Rebuild the top of three levels and resume the bottom's interrupt from it."""
    top = flows.build_nested(db)
    execution = top.get_execution(execution_id)
    pending = execution.get_pending_interrupts()
    (interrupt_id,) = pending
    await execution.async_continue_with(interrupt_id, value)
    snapshot = await execution.async_close()
    return {"pending": pending, "snapshot": snapshot, "status": execution.get_status()}


async def main(argv: list[str]) -> Any:
    command, *args = argv
    if command == "seed_continue":
        return await seed_continue(*args[:4])
    if command == "race":
        return await race(args[0], args[1], args[2], args[3], args)
    if command == "legal_continue":
        return await legal_continue(*args[:3])
    if command == "legal_race":
        return await legal_race(args[0], args[1], args[2], args)
    if command == "nested_continue":
        return await nested_continue(*args[:3])
    raise SystemExit(f"unknown command {command!r}")


def _argv() -> list[str]:
    """The arguments, with a saved-execution path replaced by its contents."""
    argv = sys.argv[1:]
    if argv[:1] == ["seed_continue"] and argv[3:4] == ["load"]:
        argv[4] = Path(argv[4]).read_text()
    return argv


if __name__ == "__main__":
    # An exception ends the process with a traceback on stderr and exit code 1.
    result = asyncio.run(main(_argv()))
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    sys.stdout.flush()
