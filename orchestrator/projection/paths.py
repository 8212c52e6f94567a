"""Dot-path access to JSON state: ``"a.b.c"`` walks nested dicts.

The semantics of TriggerFlow's state: setting a path creates the dicts on the
way (an intermediate non-dict is replaced), getting returns a deep copy, appending
to a missing key gives ``[v]`` and to a scalar ``[old, v]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator.events.values import copy_json

if TYPE_CHECKING:
    from orchestrator.events.values import JsonValue

__all__ = [
    "MISSING",
    "append_path",
    "copy_json",
    "delete_path",
    "get_path",
    "set_path",
    "write_depth",
]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _parent(
    root: dict[str, JsonValue], key: str, create: bool
) -> tuple[dict[str, JsonValue] | None, str]:
    if "." not in key:
        return root, key
    *parts, last = key.split(".")
    node = root
    for part in parts:
        child = node.get(part)
        if type(child) is not dict:
            if not create:
                return None, last
            child = {}
            node[part] = child
        node = child
    return node, last


def write_depth(key: str, append: bool = False) -> int:
    """Containers a write at ``key`` puts above its value (see MAX_VALUE_DEPTH).

    One per path segment after the first, one more for the list of an append.
    """
    return key.count(".") + (1 if append else 0)


def get_path(root: dict[str, JsonValue], key: str, default: Any = MISSING) -> Any:
    """The value at ``key`` (not copied), or ``default``."""
    if "." not in key:
        return root.get(key, default)
    node: Any = root
    for part in key.split("."):
        if type(node) is not dict or part not in node:
            return default
        node = node[part]
    return node


def set_path(root: dict[str, JsonValue], key: str, value: JsonValue) -> None:
    """``root[key] = value`` along a dot path."""
    parent, last = _parent(root, key, create=True)
    assert parent is not None
    parent[last] = value


def append_path(root: dict[str, JsonValue], key: str, value: JsonValue) -> None:
    """Append ``value`` to the list at ``key`` (see module doc for non-lists)."""
    parent, last = _parent(root, key, create=True)
    assert parent is not None
    current = parent.get(last, MISSING)
    if current is MISSING:
        parent[last] = [value]
    elif type(current) is list:
        current.append(value)
    else:
        parent[last] = [current, value]


def delete_path(root: dict[str, JsonValue], key: str) -> bool:
    """Remove ``key``; False when it was absent."""
    parent, last = _parent(root, key, create=False)
    if parent is None or last not in parent:
        return False
    del parent[last]
    return True
