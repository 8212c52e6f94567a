"""Event base class and the registry of stable type names.

Events are frozen dataclasses. Each class declares a ``type_name`` (a stable dotted
name such as ``"chunk.completed"``, never a Python path) and a ``schema_version``.
When a class changes shape, its version goes up and it gains an ``upcast_v<n>``
static method that lifts a version-``n`` payload one step; the codec applies them
in a loop on read.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

__all__ = ["EVENT_TYPES", "Event", "event_type", "field_names"]

EVENT_TYPES: dict[str, type[Event]] = {}

_E = TypeVar("_E", bound="type[Event]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base class of every event in the log."""

    type_name: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1


def event_type(cls: _E) -> _E:
    """Register ``cls`` under its ``type_name``; names must be unique."""
    name = cls.type_name
    if not name or "." not in name:
        raise ValueError(
            f"{cls.__name__}: type_name must be a dotted name, got {name!r}"
        )
    existing = EVENT_TYPES.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"event type {name!r} is registered twice: "
            f"{existing.__name__} and {cls.__name__}"
        )
    EVENT_TYPES[name] = cls
    return cls


_FIELD_NAMES: dict[type[Any], frozenset[str]] = {}


def field_names(cls: type[Any]) -> frozenset[str]:
    """The init field names of an event class (cached)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = frozenset(f.name for f in fields(cls) if f.init)
        _FIELD_NAMES[cls] = names
    return names
