"""How the read verbs reach an execution: the read-only store, and ids by prefix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.errors import ExecutionNotFoundError, OrchestratorError
from orchestrator.projection.summary import EXECUTION_KINDS

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import TextIO

    from orchestrator.store.base import EventStore
    from orchestrator.store.sqlite import SQLiteEventStore

    Handler = Callable[[argparse.Namespace, TextIO], int]
    AddCommand = Callable[[str, Handler, str], argparse.ArgumentParser]
    Opener = Callable[[argparse.Namespace], tuple[SQLiteEventStore, str]]

__all__ = ["Reader", "resolve_execution_id"]

_CANDIDATES = 5


def resolve_execution_id(store: EventStore, db: str, wanted: str) -> str:
    """An exact id, or the one execution whose id starts with ``wanted``.

    ``ExecutionNotFoundError`` when none does; an ambiguous prefix is an
    ``OrchestratorError`` naming the candidates.
    """
    info = store.get_stream(wanted)
    if info is not None and info.kind in EXECUTION_KINDS:
        return wanted
    matches = sorted(
        s.stream_id
        for kind in EXECUTION_KINDS
        for s in store.list_streams(kind=kind)
        if s.stream_id.startswith(wanted)
    )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        shown = ", ".join(matches[:_CANDIDATES])
        more = len(matches) - _CANDIDATES
        tail = f" and {more} more" if more > 0 else ""
        raise OrchestratorError(
            f"{wanted!r} is the start of {len(matches)} execution ids in {db} "
            f"({shown}{tail}); give more characters"
        )
    raise ExecutionNotFoundError(wanted, db)


class Reader:
    """The read-only store of one command, closed when the command ends."""

    def __init__(self, open_store: Opener, args: argparse.Namespace) -> None:
        self.store, self.db = open_store(args)

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.close()

    def resolve(self, wanted: str) -> str:
        """The execution id that ``wanted`` names (exact, or a unique prefix)."""
        return resolve_execution_id(self.store, self.db, wanted)
