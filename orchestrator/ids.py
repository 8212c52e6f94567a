"""Identifiers: random ones for new executions, derived ones for everything else.

Signal ids and chunk-run ids are *derived* from what caused them, so re-running the
same code over the same history produces the same ids and "has this already
happened?" is a lookup (see docs/model.md).
"""

from __future__ import annotations

import hashlib
import os
import uuid

__all__ = ["derive_id", "new_execution_id", "new_owner_id"]


def new_execution_id() -> str:
    """A fresh random execution id (32 hex characters)."""
    return uuid.uuid4().hex


def new_owner_id() -> str:
    """An id for this process as a lease owner: host-unique and human-readable."""
    return f"pid{os.getpid()}-{uuid.uuid4().hex[:8]}"


def derive_id(prefix: str, *parts: object) -> str:
    """A short stable id derived from ``parts`` (16 hex characters after ``prefix``)."""
    text = "\x1f".join(str(p) for p in parts)
    return prefix + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
