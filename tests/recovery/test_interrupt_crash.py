"""kill -9 between InterruptResolved and the downstream chunk completing."""

from __future__ import annotations

from pathlib import Path

import orjson

from orchestrator.store.sqlite import SQLiteEventStore
from tests.recovery.scenarios import approval_flow
from tests.recovery.test_timers_retries import _park


async def test_recovery_continues_the_resumed_branch_once(tmp_path: Path) -> None:
    db = tmp_path / "approval.db"
    flow = approval_flow(str(db))
    execution = flow.create_execution(auto_close=False, execution_id="approval-1")
    await execution.async_start("invoice-7")
    assert execution.get_status() == "waiting"
    flow.store.close()

    _park("resume-crash", db)  # another process resolves it and dies mid-downstream

    flow = approval_flow(str(db))
    [recovered] = await flow.async_recover()
    interrupt = recovered.get_interrupt("approve")
    assert interrupt is not None
    assert interrupt["status"] == "resolved"
    await recovered.async_wait_idle()
    snapshot = await recovered.async_close()
    assert snapshot == {"asked": "invoice-7", "after": [{"sent": {"ok": True}}]}
    store = SQLiteEventStore(str(db), read_only=True)
    events = store.read_stream("approval-1")
    store.close()
    types = [e.type for e in events]
    assert types.count("interrupt.resolved") == 1
    assert types.count("step.completed") == 1, "the step must not run again"
    completed_after = [
        orjson.loads(e.data) for e in events if e.type == "chunk.completed"
    ]
    assert len(completed_after) == 2  # ask (paused) and after, once each
