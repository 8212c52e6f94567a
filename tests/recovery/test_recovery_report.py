"""recover() handles each execution on its own and reports what it did and why.

A redeploy changed the definition under the same flow name, and one log is
damaged: the executions of the current definition are still recovered, the
others are skipped with their typed error and the operator's next step.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from orchestrator import (
    CorruptEventError,
    DefinitionMismatchError,
    RecoveryReport,
    TriggerFlow,
    TriggerFlowRuntimeData,
)
from orchestrator.runtime import recovery
from tests.reliability.helpers import execute

SECRET = "secret-payload-7f3a"  # a payload value: it must never reach a log line


async def ask(data: TriggerFlowRuntimeData) -> Any:
    data.set_state("asked", data.value)
    return await data.async_pause_for(type="review", interrupt_id="review")


async def after(data: TriggerFlowRuntimeData) -> Any:
    data.set_state("reviewed", data.value)


async def extra(data: TriggerFlowRuntimeData) -> Any:
    data.set_state("extra", True)


def build(db: str, version: int) -> TriggerFlow:
    flow = TriggerFlow(name="deploys", store=db)
    chain = flow.to(ask).to(after)
    if version == 2:
        chain.to(extra)
    return flow


async def _waiting(db: str, version: int, count: int) -> list[str]:
    flow = build(db, version)
    ids = []
    for _ in range(count):
        execution = flow.create_execution(auto_close=False)
        await execution.async_start(SECRET)
        assert execution.get_status() == "waiting"
        ids.append(execution.id)
    flow.store.close()
    return ids


async def test_recovery_skips_and_reports_what_it_cannot_resume(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = str(tmp_path / "deploys.db")
    old = await _waiting(db, 1, 2)
    current = await _waiting(db, 2, 3)
    damaged = current.pop(1)
    # Damage one event behind the store's back: its checksum no longer matches.
    execute(
        db,
        "UPDATE events SET data = ? WHERE stream_id = ? AND seq = 2",
        (b'{"damaged": ', damaged),
    )

    flow = build(db, 2)  # the restarted process, on the new definition
    with caplog.at_level(logging.INFO, logger="triggerlog.recovery"):
        report = await flow.async_recover()

    assert isinstance(report, RecoveryReport)
    assert [h.id for h in report] == current  # a sequence of the recovered handles
    assert len(report) == 2
    assert report[0].id == current[0]
    by_id = {o.execution_id: o for o in report.outcomes}
    assert list(by_id) == [*old, current[0], damaged, current[1]]  # oldest first
    for execution_id in current:
        assert by_id[execution_id].outcome == "recovered"
        assert "waiting on 1 interrupt" in by_id[execution_id].reason
        assert "continue_with" in by_id[execution_id].action
    assert [o.execution_id for o in report.skipped] == [*old, damaged]
    for execution_id in old:
        outcome = by_id[execution_id]
        assert isinstance(outcome.error, DefinitionMismatchError)
        assert outcome.error.execution_id == execution_id
        assert "DefinitionMismatchError" in outcome.reason
        assert "fingerprint mismatch" in outcome.reason
        assert "allow_definition_change=True" in outcome.action
        assert outcome.error.recorded in outcome.action
    broken = by_id[damaged]
    assert isinstance(broken.error, CorruptEventError)
    assert (broken.error.stream_id, broken.error.seq) == (damaged, 2)
    assert "backup" in broken.action
    assert report.held_elsewhere == ()

    # One log record per outcome, then a summary; ids and reasons, no payloads.
    records = [r for r in caplog.records if r.name == "triggerlog.recovery"]
    assert len(records) == 6
    for execution_id in [*old, damaged]:
        [record] = [r for r in records if execution_id in r.getMessage()]
        assert record.levelno == logging.WARNING
        assert "skipped" in record.getMessage()
    assert (
        "2 recovered, 0 held by another process, 3 skipped" in records[-1].getMessage()
    )
    assert all(SECRET not in r.getMessage() for r in records)

    # The recovered executions continue normally.
    for handle in report:
        await handle.async_continue_with("review", "ok")
        assert await handle.async_close() == {
            "asked": SECRET,
            "reviewed": "ok",
            "extra": True,
        }
    # Nothing was written to the skipped ones.
    assert flow.store.get_stream(old[0]).status == "waiting"  # type: ignore[union-attr]
    flow.store.close()


async def test_allowing_the_change_recovers_the_old_ones_too(tmp_path: Path) -> None:
    db = str(tmp_path / "deploys.db")
    old = await _waiting(db, 1, 2)
    flow = build(db, 2)
    report = await flow.async_recover(allow_definition_change=True)
    assert [h.id for h in report] == old
    assert report.skipped == ()
    flow.store.close()


async def test_a_failure_after_the_claim_releases_the_lease_and_logs_no_payload(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Any error, even after the lease was taken, skips only that execution."""
    db = str(tmp_path / "stuck.db")
    first = TriggerFlow(name="stuck", store=db)
    never = asyncio.Event()

    async def wait(data: TriggerFlowRuntimeData) -> None:
        await never.wait()

    first.to(wait)
    executions = [first.create_execution(auto_close=False) for _ in range(3)]
    tasks = [asyncio.create_task(e.async_start(SECRET)) for e in executions]
    while not all(_leased(first, e.id) for e in executions):
        await asyncio.sleep(0.01)
    broken = executions[1].id

    real_adopt = recovery._adopt

    def adopt(flow: Any, view: Any, *args: Any) -> Any:
        if view.execution_id == broken:
            raise RuntimeError(f"boom {SECRET}")
        return real_adopt(flow, view, *args)

    monkeypatch.setattr(recovery, "_adopt", adopt)
    second = TriggerFlow(name="stuck", store=db)  # same process: may claim them
    second.to(wait)
    with caplog.at_level(logging.INFO, logger="triggerlog.recovery"):
        report = await second.async_recover()

    assert {h.id for h in report} == {executions[0].id, executions[2].id}
    [skipped] = report.skipped
    assert skipped.execution_id == broken
    assert isinstance(skipped.error, RuntimeError)
    assert SECRET in skipped.reason  # the report keeps the message...
    messages = [r.getMessage() for r in caplog.records]
    assert all(SECRET not in m for m in messages)  # ...the log does not
    assert any(
        broken in m and "RuntimeError (message not logged" in m for m in messages
    )
    info = second.store.get_stream(broken)
    assert info is not None
    assert info.owner is None  # the lease it took was given back

    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for handle in report:
        await handle.async_cancel()
    first.store.close()
    second.store.close()


def _leased(flow: TriggerFlow, execution_id: str) -> bool:
    info = flow.store.get_stream(execution_id)
    return info is not None and info.owner is not None
