"""Identifiers: random ones for new executions, derived ones for everything else.

Signal ids and chunk-run ids are *derived* from what caused them, so re-running the
same code over the same history produces the same ids and "has this already
happened?" is a lookup (see docs/model.md).
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid

from orchestrator.errors import ExecutionIdError

__all__ = [
    "CHILD_ID_PATTERN",
    "EXECUTION_ID_MAX_LENGTH",
    "FLOW_NAME_MAX_LENGTH",
    "check_execution_id",
    "child_execution_id",
    "derive_id",
    "execution_id_problem",
    "flow_name_problem",
    "is_child_id",
    "new_execution_id",
    "new_owner_id",
]

EXECUTION_ID_MAX_LENGTH = 128
# No ':' and no '/': flow streams are "flow:<name>" and "flow:<name>/<child id>",
# and step keys and child interrupt ids join ids with ':', so an execution id
# can never spell one of them.
_EXECUTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# derive_id("c", parent, run): the ids of sub-flow children, which share the
# execution namespace; a chosen id of this form could take a future child's place.
CHILD_ID_PATTERN = re.compile(r"c[0-9a-f]{16}")


def _name_problem(value: object, what: str, limit: int) -> str | None:
    """The checks execution ids and flow names share (type, emptiness, length)."""
    if not isinstance(value, str):
        return f"{what} must be a string, not {type(value).__name__}"
    if not value:
        return f"{what} cannot be empty"
    if len(value) > limit:
        return f"it is {len(value)} characters long (at most {limit})"
    return None


def execution_id_problem(value: object) -> str | None:
    """Why ``value`` cannot be the id of a (root) execution, or None if it can.

    The one rule every entry point applies (create_execution, load(), history
    import): each wraps the reason in its own typed error.
    """
    problem = _name_problem(value, "an execution id", EXECUTION_ID_MAX_LENGTH)
    if problem is not None or not isinstance(value, str):
        return problem
    if _EXECUTION_ID.fullmatch(value) is None:
        if value.startswith("flow:"):
            return "'flow:' names the flow-data streams of the store"
        return "it has a character outside [A-Za-z0-9._-] or does not start with a letter or digit"
    if is_child_id(value):
        return "'c' + 16 hex digits is the form of a sub-flow child id"
    return None


FLOW_NAME_MAX_LENGTH = 128


def flow_name_problem(value: object) -> str | None:
    """Why ``value`` cannot name a new flow, or None if it can.

    The same alphabet as execution ids, for the same reason: a flow's data lives
    in the stream "flow:<name>" and a sub-flow child's in "flow:<name>/<child id>",
    so a name with ':' or '/' could write into another flow's (or child's) stream.
    Only defining a flow checks this; reading a store never does.
    """
    problem = _name_problem(value, "a flow name", FLOW_NAME_MAX_LENGTH)
    if problem is not None or not isinstance(value, str):
        return problem
    if _EXECUTION_ID.fullmatch(value) is None:
        return (
            "a flow name is 1-128 characters of [A-Za-z0-9._-] starting with a "
            "letter or digit (':' and '/' would spell another flow's data stream)"
        )
    return None


def check_execution_id(value: object) -> str:
    """``value`` if it is a valid execution id, else :class:`ExecutionIdError`."""
    problem = execution_id_problem(value)
    if problem is not None or not isinstance(value, str):
        raise ExecutionIdError(value, problem or "not a string")
    return value


def child_execution_id(parent_id: str, run_id: str) -> str:
    """The id of the child a sub-flow run starts: derived, so a re-run finds it."""
    return derive_id("c", parent_id, run_id)


def is_child_id(value: str) -> bool:
    """True if ``value`` has the form of a derived sub-flow child id."""
    return CHILD_ID_PATTERN.fullmatch(value) is not None


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
