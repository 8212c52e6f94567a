"""The one encoder of the log: events to orjson bytes and back, with upcasting.

Encoding never sees a non-JSON value: user values are normalised by
:func:`orchestrator.events.values.to_json_value` when the event is built.
Decoding turns every failure into a typed error naming the stream and seq.
"""

from __future__ import annotations

from typing import Any

import orjson

from orchestrator.errors import CorruptEventError, PayloadError, UnknownEventTypeError
from orchestrator.events.base import EVENT_TYPES, Event, field_names

__all__ = ["decode", "decode_json", "dumps", "encode", "loads"]

_VERSION_KEY = "$v"


def encode(event: Event) -> tuple[str, bytes]:
    """``(type_name, payload bytes)`` of an event."""
    cls = type(event)
    try:
        if cls.schema_version == 1:
            data = orjson.dumps(event)
        else:
            payload = orjson.loads(orjson.dumps(event))
            payload[_VERSION_KEY] = cls.schema_version
            data = orjson.dumps(payload)
    except TypeError as error:
        raise PayloadError(
            cls.type_name,
            "$",
            f"not encodable ({error})",
            "normalise values with to_json_value first",
        ) from error
    return cls.type_name, data


def decode(type_name: str, data: bytes, stream_id: str, seq: int) -> Event:
    """Rebuild an event from its stored form, upcasting old versions."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise UnknownEventTypeError(stream_id, seq, type_name)
    payload = decode_json(data, stream_id, seq)
    if not isinstance(payload, dict):
        raise CorruptEventError(stream_id, seq, f"{type_name} payload is not an object")
    version = payload.pop(_VERSION_KEY, 1)
    if not isinstance(version, int) or version < 1:
        raise CorruptEventError(stream_id, seq, f"bad schema version {version!r}")
    if version > cls.schema_version:
        raise UnknownEventTypeError(stream_id, seq, f"{type_name} v{version}")
    while version < cls.schema_version:
        upcast = getattr(cls, f"upcast_v{version}", None)
        if upcast is None:
            raise CorruptEventError(
                stream_id,
                seq,
                f"{type_name} v{version} has no upcaster to v{version + 1}",
            )
        payload = upcast(payload)
        version += 1
    unknown = payload.keys() - field_names(cls)
    if unknown:
        raise CorruptEventError(
            stream_id, seq, f"{type_name} payload has unknown fields {sorted(unknown)}"
        )
    try:
        return cls(**payload)
    except TypeError as error:
        raise CorruptEventError(
            stream_id, seq, f"{type_name} payload: {error}"
        ) from None


def decode_json(data: bytes, stream_id: str, seq: int) -> Any:
    """Parse JSON bytes or raise :class:`CorruptEventError`."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise CorruptEventError(
            stream_id, seq, f"payload is not JSON ({error})"
        ) from None


def dumps(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys), for fingerprints and exports."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def loads(data: bytes | str) -> Any:
    """Parse JSON."""
    return orjson.loads(data)
