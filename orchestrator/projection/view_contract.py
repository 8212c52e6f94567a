"""The JSON form of an :class:`ExecutionView`, checked field by field before it is trusted.

A view arrives from outside the process in a ``save()`` dict and in a history's
``execution.snapshot`` events. :meth:`ExecutionView.from_json` and the runtime
trust its shape, so a tampered view (``state`` a list, ``signals`` a string)
would be written to the log and fail later with a bare ``TypeError``. Callers
check it here first and turn the answer, which names the field, into their own
typed error.
"""

from __future__ import annotations

from typing import Any

from orchestrator.projection.execution import (
    VIEW_FORMAT,
    ExecutionStatus,
    LifecycleState,
)
from orchestrator.projection.summary import EXECUTION_KINDS

__all__ = ["signal_problem", "view_problem"]

_LIFECYCLES = (LifecycleState.OPEN, LifecycleState.SEALED, LifecycleState.CLOSED)


class _BadFieldError(Exception):
    """Internal: the first wrong field, as ``path: what was expected, what was found``."""


def view_problem(data: object, path: str = "view") -> str | None:
    """What is wrong with ``data`` as a view's JSON form (naming the field), or None."""
    try:
        _view(data, path)
    except _BadFieldError as bad:
        return str(bad)
    return None


def signal_problem(data: object, path: str) -> str | None:
    """What is wrong with ``data`` as a signal record, or None."""
    try:
        _signal(data, path)
    except _BadFieldError as bad:
        return str(bad)
    return None


def _found(value: object) -> str:
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def _fail(path: str, expected: str, value: object) -> _BadFieldError:
    return _BadFieldError(f"{path}: expected {expected}, found {_found(value)}")


def _obj(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, "an object", value)
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, "a list", value)
    return value


def _str(value: object, path: str, *, optional: bool = False) -> None:
    if not (isinstance(value, str) or (optional and value is None)):
        raise _fail(path, "a string" + (" or null" if optional else ""), value)


def _int(value: object, path: str, *, low: int = 0, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        suffix = " or null" if optional else ""
        raise _fail(path, f"an integer >= {low}{suffix}", value)


def _time(value: object, path: str) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        raise _fail(path, "a number or null", value)


def _bool(value: object, path: str) -> None:
    if not isinstance(value, bool):
        raise _fail(path, "true or false", value)


def _one_of(value: object, path: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _fail(path, "one of " + ", ".join(allowed), value)


def _field(data: dict[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise _BadFieldError(f"{path}.{key}: missing")
    return data[key]


def _view(data: object, path: str) -> None:
    view = _obj(data, path)

    def get(key: str) -> Any:
        return _field(view, key, path)

    if get("format") != VIEW_FORMAT:
        raise _fail(f"{path}.format", str(VIEW_FORMAT), view["format"])
    for key in ("execution_id", "flow_name", "fingerprint"):
        _str(get(key), f"{path}.{key}")
    _one_of(get("kind"), f"{path}.kind", EXECUTION_KINDS)
    if get("parent") is not None:
        _obj(view["parent"], f"{path}.parent")
    _one_of(get("status"), f"{path}.status", ExecutionStatus.ALL)
    _one_of(get("lifecycle"), f"{path}.lifecycle", _LIFECYCLES)
    _str(get("close_reason"), f"{path}.close_reason", optional=True)
    for key in ("created_at", "started_at", "updated_at", "closed_at"):
        _time(get(key), f"{path}.{key}")
    _bool(get("auto_close"), f"{path}.auto_close")
    _bool(get("skip_exceptions"), f"{path}.skip_exceptions")
    _int(get("concurrency"), f"{path}.concurrency", low=1, optional=True)
    _obj(get("state"), f"{path}.state")
    _int(get("state_version"), f"{path}.state_version")
    if get("close_snapshot") is not None:
        _obj(view["close_snapshot"], f"{path}.close_snapshot")
    for n, key in enumerate(_list(get("resource_keys"), f"{path}.resource_keys")):
        _str(key, f"{path}.resource_keys[{n}]")
    for key, signal in _obj(get("signals"), f"{path}.signals").items():
        _signal(signal, f"{path}.signals[{key!r}]")
    for key, count in _obj(get("signal_refs"), f"{path}.signal_refs").items():
        _int(count, f"{path}.signal_refs[{key!r}]")
    for key, run in _obj(get("runs"), f"{path}.runs").items():
        _run(run, f"{path}.runs[{key!r}]")
    for key, count in _obj(get("cascades"), f"{path}.cascades").items():
        _int(count, f"{path}.cascades[{key!r}]")
    for key, scopes in _obj(get("joins"), f"{path}.joins").items():
        for scope, partial in _obj(scopes, f"{path}.joins[{key!r}]").items():
            _obj(partial, f"{path}.joins[{key!r}][{scope!r}]")
    for n, error in enumerate(_list(get("errors"), f"{path}.errors")):
        _obj(error, f"{path}.errors[{n}]")
    # Older views may lack these two (from_json defaults them).
    for key, record in _obj(view.get("interrupts", {}), f"{path}.interrupts").items():
        _keyed(record, f"{path}.interrupts[{key!r}]", ("id", "status"))
    for key, frame in _obj(view.get("frames", {}), f"{path}.frames").items():
        _keyed(frame, f"{path}.frames[{key!r}]", ("child_id", "operator_id", "status"))
    _int(get("external_signals"), f"{path}.external_signals")
    _int(get("last_seq"), f"{path}.last_seq")


def _keyed(data: object, path: str, keys: tuple[str, ...]) -> None:
    record = _obj(data, path)
    for key in keys:
        _str(_field(record, key, path), f"{path}.{key}")


def _run(data: object, path: str) -> None:
    run = _obj(data, path)
    for key in ("run_id", "op_id", "signal_id", "status"):
        _str(_field(run, key, path), f"{path}.{key}")
    _str(_field(run, "chunk", path), f"{path}.chunk", optional=True)
    _int(_field(run, "attempt", path), f"{path}.attempt")
    for n, op in enumerate(_list(_field(run, "ops", path), f"{path}.ops")):
        _list(op, f"{path}.ops[{n}]")
    _time(run.get("wake_at"), f"{path}.wake_at")


def _signal(data: object, path: str) -> None:
    signal = _obj(data, path)
    for key in ("id", "event", "type", "source", "cascade"):
        _str(_field(signal, key, path), f"{path}.{key}")
    _field(signal, "value", path)
    for n, layer in enumerate(_list(_field(signal, "layers", path), f"{path}.layers")):
        _list(layer, f"{path}.layers[{n}]")
    for n, target in enumerate(
        _list(_field(signal, "targets", path), f"{path}.targets")
    ):
        _str(target, f"{path}.targets[{n}]")
    if "meta" in signal:
        _obj(signal["meta"], f"{path}.meta")
