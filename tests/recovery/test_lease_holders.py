"""Another process holds the lease: a zombie holder is dead."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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

