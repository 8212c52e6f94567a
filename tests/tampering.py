"""Hypothesis helpers for "any malformed document is refused and writes nothing".

The load() contract test and the history-import tree test both damage a real
document at a random place; one implementation of that damage serves both.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON-like document (the root excluded)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(json_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(json_paths(value, (*prefix, index)))
    return found


def tamper(
    data: Any, document: Any, path: tuple[Any, ...], junk: st.SearchStrategy[Any]
) -> None:
    """Delete the dict entry at ``path`` or replace what is there with ``junk``.

    Raises KeyError/IndexError/TypeError when an earlier change removed the path.
    """
    *parents, last = path
    node: Any = document
    for key in parents:
        node = node[key]
    if isinstance(node, dict) and data.draw(st.booleans()):
        node.pop(last, None)
    else:
        node[last] = data.draw(junk)
