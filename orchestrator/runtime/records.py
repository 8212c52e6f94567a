"""Small pure functions over the records the log carries (signals, layer marks, errors).

The bottom floor of the runtime: no engine, no store, only record values.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Literal

from orchestrator.errors import StoreError
from orchestrator.ids import derive_id

if TYPE_CHECKING:
    from orchestrator.events.records import ErrorRecord, LayerMark, SignalRecord

__all__ = [
    "restated_store_error",
    "WriteAction",
    "error_record",
    "join_scope",
    "layers_key",
    "mark_count",
    "mark_group",
    "mark_index",
    "mark_limit",
    "op_signal_id",
]

# The one spelling of a data-layer write (state and flow_data alike). The
# recorded operation kinds prefix it with the layer: "state.set", "flow_data.set".
WriteAction = Literal["set", "append", "delete"]

# A LayerMark is recorded as a JSON list [group, index, count, limit]; these
# name its places (read it through them, never by position).


def mark_group(mark: LayerMark) -> str:
    """The fan-out a mark belongs to (the id of the run that fanned out)."""
    return str(mark[0])


def mark_index(mark: LayerMark) -> int:
    """This branch's index in its fan-out."""
    return int(mark[1])


def mark_count(mark: LayerMark) -> int:
    """How many branches the fan-out has."""
    return int(mark[2])


def mark_limit(mark: LayerMark) -> int:
    """The fan-out's concurrency cap (0: none; marks recorded before it had none)."""
    return int(mark[3]) if len(mark) > 3 else 0


def layers_key(layers: list[LayerMark]) -> str:
    """The scope of a list of fan-out marks, or ``__root__`` for none."""
    if not layers:
        return "__root__"
    return ".".join(f"{mark[0]}:{mark[1]}" for mark in layers)  # as recorded


def join_scope(signal: SignalRecord) -> str:
    """The scope in which a join (when "and", collect) pairs this signal's value.

    Inside a fan-out, the fan-out marks. Outside, the originating external
    signal (as Agently's aggregation scope): everything one start or one
    external emit caused joins together, and concurrent external emits each
    get their own join. External signals themselves, and signals recorded
    before origins were (no ``origin``), share ``__root__``.
    """
    layers = signal["layers"]
    if layers:
        return layers_key(layers)
    origin = signal.get("origin")
    if origin is None or origin == signal["id"]:
        return "__root__"
    return f"signal:{origin}"


def error_record(error: BaseException) -> ErrorRecord:
    """Type, message and traceback text of an exception, for the log."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {
        "type": type(error).__qualname__,
        "message": str(error),
        "traceback": text[-8000:],
    }


def op_signal_id(run_id: str, op: int | str) -> str:
    """The id of the signal that operation ``op`` of a run emits."""
    return derive_id("s", run_id, op)


def restated_store_error(error: BaseException | None, message: str) -> StoreError:
    """``message`` as an error of the same class as ``error`` (caused by it).

    ``except StorageFullError`` (or StorageIOError, StoreBusyError...) must catch
    a failure however far it travelled; anything not a StoreError becomes one.
    """
    kind = type(error) if isinstance(error, StoreError) else StoreError
    wrapped = kind.__new__(kind)
    if error is not None and kind is not StoreError:
        wrapped.__dict__.update(error.__dict__)  # stream_id, expected, ...
    StoreError.__init__(wrapped, message)
    wrapped.__cause__ = error
    return wrapped
