"""JSON values: the only thing that may enter the log.

:func:`to_json_value` validates a user value and returns a JSON-native copy of it
(dicts with str keys, lists, str, int, finite float, bool, None). Dataclasses and
pydantic models become their dict form, tuples become lists. Everything else is
refused with an error naming the path of the offending part, before anything is
written. The copy also means later mutation of the caller's object never changes
recorded state.

Nesting is capped at :data:`MAX_VALUE_DEPTH` lists/dicts. orjson refuses to
encode more than 254 nested containers, and the log wraps every value in a few
more: an event payload, the execution view of a periodic snapshot, a ``save()``
dict, an exported history (up to 11 levels around the deepest view slot). A
value accepted at write time must stay encodable in all of them, or the first
snapshot after it would wedge the execution; the cap leaves room for those
wrappers and for sub-flow capture/write_back paths. The depth counter also
stops a value nested thousands of levels deep (or one that contains itself)
long before Python's recursion limit.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, TypeAlias

from orchestrator.errors import PayloadError

__all__ = [
    "MAX_RECORD_DEPTH",
    "MAX_VALUE_DEPTH",
    "JsonValue",
    "copy_json",
    "nested_beyond",
    "to_json_value",
]

JsonValue: TypeAlias = (
    bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
)

_SCALARS = (str, int, bool, type(None))

#: Most lists/dicts a value may nest (a dot path's extra segments count too).
MAX_VALUE_DEPTH = 128

#: Most lists/dicts a whole record from outside may nest: a ``save()`` dict
#: given to ``load()``, the data of one event of an imported history. A value
#: at the cap sits at most 7 containers deep in them (a view slot, the view,
#: the document); the rest is room for sub-flow write_back path segments. The
#: wrappers derived from such a record (a snapshot in an exported history: 6
#: more) still stay far below orjson's 254.
MAX_RECORD_DEPTH = MAX_VALUE_DEPTH + 32

_HINTS = {
    "set": "convert it to a sorted list",
    "frozenset": "convert it to a sorted list",
    "bytes": "decode it to str or base64-encode it",
    "bytearray": "decode it to str or base64-encode it",
    "datetime": "store value.isoformat() (or a timestamp) instead",
    "date": "store value.isoformat() instead",
    "Decimal": "store str(value) or a float",
    "UUID": "store str(value)",
}


def to_json_value(
    value: Any, where: str = "value", path: str = "$", *, depth: int = 0
) -> JsonValue:
    """Return a JSON-native deep copy of ``value`` or raise :class:`PayloadError`.

    ``depth``: containers the value already sits in, counted against
    :data:`MAX_VALUE_DEPTH` (``set_state("a.b", v)`` puts ``v`` one dict deeper
    than ``set_state("a", v)``); -1 for a dict that is itself a state root.
    """
    kind = type(value)
    if kind is dict or kind is list or kind is tuple:
        depth += 1
    if depth > MAX_VALUE_DEPTH:
        raise _too_deep(where, path)
    if kind is int and not -(2**63) <= value < 2**64:
        raise PayloadError(
            where,
            path,
            f"the integer {value}",
            "integers must fit in 64 bits; store big numbers as strings",
        )
    if kind in _SCALARS:
        return value  # type: ignore[no-any-return]
    if kind is float:
        if math.isfinite(value):
            return value  # type: ignore[no-any-return]
        raise PayloadError(
            where,
            path,
            repr(value),
            "JSON has no NaN or infinity; use None or a sentinel",
        )
    if kind is dict:
        out: dict[str, JsonValue] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise PayloadError(
                    where,
                    f"{path}[{key!r}]",
                    f"a key of type {type(key).__name__}",
                    "JSON object keys must be str",
                )
            out[key] = to_json_value(item, where, f"{path}.{key}", depth=depth)
        return out
    if kind is list or kind is tuple:
        return [
            to_json_value(item, where, f"{path}[{i}]", depth=depth)
            for i, item in enumerate(value)
        ]
    return _convert_other(value, where, path, depth)


def copy_json(value: Any) -> Any:
    """Deep copy of a JSON value (scalars are returned as they are)."""
    if type(value) is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_json(v) for v in value]
    return value


def nested_beyond(value: Any, limit: int) -> str | None:
    """The path of the first list/dict of ``value`` nested more than ``limit`` deep.

    None when ``value`` nests at most ``limit`` lists/dicts. Iterative, and it
    stops descending at the limit: a value nested 10,000 deep (or containing
    itself) costs ``limit`` levels and never reaches the recursion limit. Paths
    are only built for the one offending branch.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        kind = type(node)
        if kind is dict:
            children: Any = node.values()
        elif kind is list or kind is tuple:
            children = node
        else:
            continue
        if level > limit:
            return _path_to_depth(value, limit + 1)
        stack.extend((child, level + 1) for child in children)
    return None


def _path_to_depth(value: Any, level: int) -> str:
    """``$.a[0].b``: the path of a container at nesting ``level`` (it exists)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "$")]
    while stack:
        node, at, path = stack.pop()
        kind = type(node)
        if kind is dict:
            items = [(child, f"{path}.{key}") for key, child in node.items()]
        elif kind is list or kind is tuple:
            items = [(child, f"{path}[{i}]") for i, child in enumerate(node)]
        else:
            continue
        if at == level:
            return path
        stack.extend((child, at + 1, where) for child, where in items)
    return "$"


def _too_deep(where: str, path: str) -> PayloadError:
    shown = path if len(path) <= 40 else path[:37] + "..."
    return PayloadError(
        where,
        shown,
        f"nested more than {MAX_VALUE_DEPTH} lists/dicts deep where it is stored "
        "(dot-path segments and the list of an append count)",
        "flatten it or store it as a JSON string; the log wraps every value in "
        "snapshots, save() and exported histories, which must stay encodable",
        problem="beyond the nesting the log accepts",
    )


def _convert_other(value: Any, where: str, path: str, depth: int) -> JsonValue:
    if isinstance(value, bool | int | str) and not isinstance(value, float):
        # Subclasses (IntEnum, StrEnum, ...) are stored as their plain value.
        base = (
            bool if isinstance(value, bool) else int if isinstance(value, int) else str
        )
        return base(value)
    if isinstance(value, float):
        return to_json_value(float(value), where, path)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return to_json_value(fields, where, path, depth=depth)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and hasattr(type(value), "model_fields"):
        return to_json_value(dump(mode="json"), where, path, depth=depth)
    if isinstance(value, dict):
        return to_json_value(dict(value), where, path, depth=depth)
    if isinstance(value, list | tuple):
        return to_json_value(list(value), where, path, depth=depth)
    name = type(value).__name__
    hint = _HINTS.get(
        name, "keep live objects in runtime_resources and store only data in state"
    )
    raise PayloadError(where, path, f"a {name} ({_short_repr(value)})", hint)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
        text = object.__repr__(value)
    return text if len(text) <= 60 else text[:57] + "..."
