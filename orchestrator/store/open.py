"""Turning what a user passes as ``store=`` into an :class:`EventStore`."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, urlparse

from orchestrator.errors import StoreError
from orchestrator.store.base import EventStore
from orchestrator.store.memory import InMemoryEventStore
from orchestrator.store.sqlite import SQLiteEventStore

__all__ = ["DEFAULT_DB_ENV", "DEFAULT_DB_FILE", "is_durable", "open_store"]

DEFAULT_DB_ENV = "TRIGGERLOG_DB"
DEFAULT_DB_FILE = "triggerlog.db"
_MEMORY = (":memory:", "memory://", "memory:")


def open_store(
    spec: str | os.PathLike[str] | EventStore | None = None, **options: Any
) -> EventStore:
    """Open the store that ``spec`` names.

    ``None`` reads ``$TRIGGERLOG_DB`` and falls back to ``triggerlog.db`` in the
    current directory; ``":memory:"`` (or ``memory://``) gives a throwaway
    in-memory store; ``sqlite:///path`` or a plain path gives an SQLite file; an
    object implementing :class:`EventStore` is used as is.
    """
    if spec is not None and not isinstance(spec, (str, os.PathLike)):
        if isinstance(spec, EventStore):
            return spec
        raise StoreError(
            f"store must be a path, a URL or an EventStore, got {type(spec).__name__}"
        )
    if spec is None:
        spec = os.environ.get(DEFAULT_DB_ENV) or DEFAULT_DB_FILE
    text = os.fspath(spec)
    if text in _MEMORY:
        clock = options.get("clock")
        return InMemoryEventStore(clock=clock)
    if "://" in text:
        url = urlparse(text)
        if url.scheme == "sqlite":
            # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them
            path = (
                unquote(text[len("sqlite:///") :])
                if text.startswith("sqlite:///")
                else ""
            )
            if not path:
                raise StoreError(
                    f"{text!r}: an sqlite URL needs a path, e.g. sqlite:///flows.db"
                )
            return SQLiteEventStore(path, **options)
        if url.scheme in ("postgresql", "postgres"):
            raise StoreError(
                f"{url.scheme}:// stores are not available in this build yet; use an "
                "SQLite path for now"
            )
        raise StoreError(
            f"unknown store URL scheme {url.scheme!r} in {text!r}; use a path, "
            "sqlite:///path.db or ':memory:'"
        )
    return SQLiteEventStore(text, **options)


def is_durable(spec: str | os.PathLike[str] | EventStore | None) -> bool:
    """True unless ``spec`` names (or is) a throwaway in-memory store; opens nothing."""
    if spec is None:
        spec = os.environ.get(DEFAULT_DB_ENV) or DEFAULT_DB_FILE
    if isinstance(spec, str | os.PathLike):
        return os.fspath(spec) not in _MEMORY
    return not isinstance(spec, InMemoryEventStore)
