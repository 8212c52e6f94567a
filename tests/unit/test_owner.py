"""owner_is_dead reads /proc/<pid>/stat: gone, reused or exited (Z, X) is dead."""

from __future__ import annotations

import os
import socket

import pytest

from orchestrator.runtime import owner as owner_module
from orchestrator.runtime.owner import owner_is_dead, process_owner

PID = 4242
TICKS = "777"


def _stat(state: str, ticks: str = TICKS) -> list[str]:
    """The fields after the command name, as _stat_fields returns them."""
    return [state, *["0"] * 18, ticks, "0"]


def _owner(ticks: str = TICKS) -> str:
    return "|".join((socket.gethostname(), str(PID), ticks, "pid4242-abcd"))


@pytest.mark.parametrize(
    ("fields", "dead"),
    [
        (None, True),  # no such process
        (_stat("S", ticks="778"), True),  # the pid now belongs to another process
        (_stat("Z"), True),  # killed, not yet reaped by its parent
        (_stat("X"), True),
        (_stat("S"), False),
        (_stat("R"), False),
        (_stat("D"), False),
        (_stat("T"), False),  # stopped is not dead: it may be continued
    ],
)
def test_the_state_and_start_time_decide(
    monkeypatch: pytest.MonkeyPatch, fields: list[str] | None, dead: bool
) -> None:
    monkeypatch.setattr(
        owner_module, "_stat_fields", lambda pid: fields if pid == PID else None
    )
    assert owner_is_dead(_owner()) is dead


def test_a_zombie_with_unknown_start_time_is_still_dead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(owner_module, "_stat_fields", lambda pid: _stat("Z"))
    assert owner_is_dead(_owner("?"))
    monkeypatch.setattr(owner_module, "_stat_fields", lambda pid: _stat("S"))
    assert not owner_is_dead(_owner("?"))


def test_this_process_and_other_hosts_are_never_judged_by_proc() -> None:
    assert not owner_is_dead(process_owner())
    assert not owner_is_dead(f"elsewhere.example|{os.getpid()}|1|x")
    assert not owner_is_dead("not-an-owner-id")
