"""The log's tables, declared once with SQLModel for every SQL backend.

This module imports SQLModel (and so SQLAlchemy and pydantic, about 200 ms), so
backends import it only when they must create a schema; opening an existing
database never loads it.
"""

from __future__ import annotations

from sqlalchemy import Index, LargeBinary, UniqueConstraint
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Column, Field, SQLModel

__all__ = ["SCHEMA_VERSION", "EventTable", "MetaTable", "StreamTable", "ddl_statements"]

SCHEMA_VERSION = 1


class MetaTable(SQLModel, table=True):
    """Key/value facts about the database; ``schema_version`` above all."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str


class EventTable(SQLModel, table=True):
    """The append-only log. ``position`` orders the whole log, ``seq`` one stream."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("stream_id", "seq", name="uq_events_stream_seq"),
        # AUTOINCREMENT: a position is never reused, even if retention deletes
        # the newest rows, so "everything after P" stays a correct poll.
        {"sqlite_autoincrement": True},
    )

    position: int | None = Field(default=None, primary_key=True)
    stream_id: str = Field(nullable=False)
    seq: int = Field(nullable=False)
    type: str = Field(nullable=False)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    checksum: int = Field(nullable=False)
    created_at: float = Field(nullable=False)


class StreamTable(SQLModel, table=True):
    """One row per stream, written in the same transaction as its events."""

    __tablename__ = "streams"
    __table_args__ = (
        # updated_at is in one index only: every append moves it, and each index
        # holding it is rewritten on every commit (measured: the composite
        # (kind, status, updated_at) indexes cost a third of a 1-event commit).
        Index("ix_streams_kind_status", "kind", "status"),
        Index("ix_streams_flow_status", "flow_name", "status"),
        Index("ix_streams_parent", "parent_id"),
        Index("ix_streams_updated", "updated_at"),
        Index("ix_streams_lease", "status", "lease_until"),
        {"sqlite_with_rowid": False},
    )

    stream_id: str = Field(primary_key=True)
    kind: str = Field(nullable=False)
    flow_name: str | None = Field(default=None)
    parent_id: str | None = Field(default=None)
    status: str = Field(nullable=False)
    created_at: float = Field(nullable=False)
    updated_at: float = Field(nullable=False)
    last_seq: int = Field(nullable=False)
    snapshot_seq: int = Field(default=0, nullable=False)
    owner: str | None = Field(default=None)
    lease_until: float | None = Field(default=None)


def ddl_statements(dialect_name: str = "sqlite") -> list[str]:
    """CREATE TABLE / CREATE INDEX statements for ``dialect_name``, in order."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = (
        sqlite.dialect() if dialect_name == "sqlite" else postgresql.dialect()  # type: ignore[no-untyped-call]
    )
    statements: list[str] = []
    for table in (MetaTable, EventTable, StreamTable):
        sa_table = SQLModel.metadata.tables[str(table.__tablename__)]
        statements.append(str(CreateTable(sa_table).compile(dialect=dialect)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=dialect)).strip()
            for index in sorted(sa_table.indexes, key=lambda i: str(i.name))
        )
    return statements
