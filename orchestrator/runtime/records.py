"""Small pure functions over the records the log carries (signals, layer marks, errors).

The bottom floor of the runtime: no engine, no store, only record values.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from orchestrator.ids import derive_id

if TYPE_CHECKING:
    from orchestrator.events.records import ErrorRecord, LayerMark, SignalRecord

__all__ = ["error_record", "join_scope", "layers_key", "op_signal_id"]


def layers_key(layers: list[LayerMark]) -> str:
    """The scope of a list of fan-out marks, or ``__root__`` for none."""
    if not layers:
        return "__root__"
    return ".".join(f"{mark[0]}:{mark[1]}" for mark in layers)


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
