"""JSON records nested inside events: signals, layer marks, errors, join updates.

They are TypedDicts (plain dicts at run time) so that events encode and decode
with no per-field conversion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from orchestrator.events.values import JsonValue

__all__ = ["ErrorRecord", "JoinUpdate", "LayerMark", "SignalRecord"]

# One fan-out level: [group id (the fan-out run), item index, item count,
# concurrency cap of the fan-out (0: none)].
LayerMark = list[str | int]


class SignalRecord(TypedDict):
    """One signal: what triggered it, where it goes, what it carries.

    ``cascade`` names the awaited emit this signal belongs to: ``await emit(...)``
    returns when no run of its cascade is pending. ``targets`` are the operator
    ids that listen to it; each target becomes one run with a derived id.
    ``origin`` is the id of the external signal (start, external emit, flow
    data change) this one descends from, its own id for an external one: the
    join scope outside fan-outs. Signals recorded before it existed have none.
    """

    id: str
    event: str
    type: str
    value: JsonValue
    source: str
    cascade: str
    layers: list[LayerMark]
    targets: list[str]
    meta: NotRequired[dict[str, Any]]
    origin: NotRequired[str]


class ErrorRecord(TypedDict):
    """A recorded exception."""

    type: str
    message: str
    traceback: str


class JoinUpdate(TypedDict):
    """A change to the partial state of a join (when / batch / for_each / collect / match).

    ``key`` arrives with ``value`` in ``scope``; ``clear`` drops the scope after
    the join fired.
    """

    op: str
    scope: str
    key: str
    value: JsonValue
    clear: bool
