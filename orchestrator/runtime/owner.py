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


# /proc/<pid>/stat states of a process that has exited: a zombie (Z) waits
# only for its parent to reap it and never runs again; X is the instant after.
_DEAD_STATES = frozenset({"Z", "X"})


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name is parenthesised and may hold spaces or ")".
    return stat.rsplit(")", 1)[-1].split()


def _start_ticks(pid: int) -> str | None:
    fields = _stat_fields(pid)
    # Field 22 (starttime) is the 20th after the command name.
    return fields[19] if fields is not None and len(fields) > 19 else None


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
    fields = _stat_fields(pid)
    if fields is None or len(fields) <= 19:
        return True  # no such process
    if parts[2] != "?" and fields[19] != parts[2]:
        return True  # the pid was reused by another process
    # Killed (or exited) but not yet reaped by its parent: it never runs
    # again. Its other threads may still be finishing their exit in the kernel
    # for a few ms, but none returns to user code. (A main thread that called
    # pthread_exit alone also shows Z; CPython's main thread never does that.)
    return fields[0] in _DEAD_STATES
