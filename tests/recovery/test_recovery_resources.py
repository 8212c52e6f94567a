"""recover() without a resource the execution recorded skips it, untouched.

Review of issue 11, finding 1: a process killed while running a chunk that
needs ``mailer`` left its run pending; ``recover()`` without ``mailer`` said
"recovered", re-ran the chunk into a MissingResourceError and failed the
execution for good, although the log records its resource keys. Now such an
execution is skipped before its lease is taken or anything is written, and
recovering it again with the resource completes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator import MissingResourceError
from tests.recovery.harness import ROOT
from tests.recovery.resource_worker import build

pytestmark = pytest.mark.timeout(120)


def killed_while_running(db: Path, execution_id: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RESOURCE_WORKER_HANG": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.recovery.resource_worker", str(db), execution_id],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    process.kill()
    _, err = process.communicate()
    assert line.strip() == "ready", err


async def test_recover_without_a_recorded_resource_skips_and_writes_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "mailing.db"
    killed_while_running(db, "mail-1")
    flow = build(str(db))
    before = flow.store.read_stream("mail-1")
    head = flow.store.get_stream("mail-1")

    report = await flow.async_recover()

    assert list(report) == []
    (outcome,) = report.outcomes
    assert outcome.outcome == "skipped"
    assert isinstance(outcome.error, MissingResourceError)
    assert outcome.error.missing == ["mailer"]
    assert outcome.error.available == []
    assert "'mailer'" in outcome.reason
    assert "recover(runtime_resources=" in outcome.action
    # Nothing written, no lease taken: the log and its index are as they were.
    assert flow.store.read_stream("mail-1") == before
    latest = flow.store.get_stream("mail-1")
    assert latest is not None
    assert head is not None
    assert (latest.last_seq, latest.owner, latest.lease_until) == (
        head.last_seq,
        head.owner,
        head.lease_until,
    )
    flow.store.close()

    again = build(str(db))
    (handle,) = await again.async_recover(runtime_resources={"mailer": "smtp2"})
    await handle.async_close()
    assert handle.get_status() == "completed"
    assert handle.get_state() == {"sent": "smtp2"}
    again.store.close()


async def test_a_flow_level_resource_counts_as_provided(tmp_path: Path) -> None:
    db = tmp_path / "mailing.db"
    killed_while_running(db, "mail-2")
    flow = build(str(db))
    flow.update_runtime_resources({"mailer": "flow-smtp"})
    (handle,) = await flow.async_recover()
    await handle.async_close()
    assert handle.get_state() == {"sent": "flow-smtp"}
    flow.store.close()
