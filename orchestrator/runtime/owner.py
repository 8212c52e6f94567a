"""Who runs an execution: this process's lease-owner id, and whether an owner died.

An owner id names the host, the process id and the process start time, so a
recovering process on the same host can tell at once that a lease holder was
killed (its pid is gone or was reused) instead of waiting for the lease to
expire. Owners on other hosts are only ever judged by lease expiry.
"""

from __future__ import annotations

import os
import socket
from functools import cache

from orchestrator.ids import new_owner_id

__all__ = ["owner_is_dead", "process_owner"]

_SEP = "|"


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # Field 22 (starttime) follows the parenthesised command name.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


@cache
def _owner_for(pid: int) -> str:
    return _SEP.join(
        (socket.gethostname(), str(pid), _start_ticks(pid) or "?", new_owner_id())
    )


def process_owner() -> str:
    """This process's owner id (recomputed in a forked child)."""
    return _owner_for(os.getpid())


def owner_is_dead(owner: str) -> bool:
    """True only when ``owner`` is provably a dead process on this host."""
    parts = owner.split(_SEP)
    if len(parts) != 4 or parts[0] != socket.gethostname():
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return parts != process_owner().split(_SEP)
    ticks = _start_ticks(pid)
    if ticks is None:
        return True  # no such process
    return parts[2] != "?" and ticks != parts[2]  # the pid was reused
