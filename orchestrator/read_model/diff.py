"""Diff between two execution views: JSON-path changes of the data layers and the rest.

:func:`diff_json` compares two JSON values structurally: objects key by key,
arrays index by index (a longer array adds its tail, a shorter one removes it), a
value of another JSON type (or an unequal scalar) is one ``changed``.
:func:`apply_changes` replays such a list, so ``apply_changes(a, diff_json(a,
b)) == b``. :func:`diff_states` compares two :class:`ExecutionState` values: of one
execution at two seqs, or of two executions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from orchestrator.projection.paths import copy_json

if TYPE_CHECKING:
    from orchestrator.read_model.state_at import ExecutionState

__all__ = [
    "JsonChange",
    "ViewDiff",
    "apply_changes",
    "diff_json",
    "diff_states",
    "format_path",
]

PathPart = str | int


def format_path(path: tuple[PathPart, ...]) -> str:
    """``("a", 0, "b c")`` -> ``$.a[0]["b c"]`` (JSONPath-style)."""
    text = "$"
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}"
        else:
            text += f"[{orjson.dumps(part).decode()}]"
    return text


@dataclass(frozen=True, slots=True)
class JsonChange:
    """One change at a JSON path: ``added`` (no old), ``removed`` (no new), ``changed``."""

    layer: str
    path: tuple[PathPart, ...]
    kind: str
    old: Any = None
    new: Any = None

    @property
    def path_text(self) -> str:
        """The path as ``$.a[0].b``."""
        return format_path(self.path)

    def to_json(self) -> dict[str, Any]:
        """JSON form: the path both as text and as a list of keys and indexes."""
        data: dict[str, Any] = {
            "layer": self.layer,
            "path": self.path_text,
            "keys": list(self.path),
            "kind": self.kind,
        }
        if self.kind != "added":
            data["old"] = self.old
        if self.kind != "removed":
            data["new"] = self.new
        return data

    def format(self) -> str:
        """One line: ``~ state $.a: 1 -> 2``."""
        old = orjson.dumps(self.old).decode()
        new = orjson.dumps(self.new).decode()
        if self.kind == "added":
            return f"+ {self.layer} {self.path_text}: {new}"
        if self.kind == "removed":
            return f"- {self.layer} {self.path_text}: {old}"
        return f"~ {self.layer} {self.path_text}: {old} -> {new}"


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: ``1``, ``1.0`` and ``True`` differ."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def diff_json(
    a: Any, b: Any, layer: str = "state", path: tuple[PathPart, ...] = ()
) -> list[JsonChange]:
    """The changes that turn JSON value ``a`` into ``b`` (empty when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        changes: list[JsonChange] = []
        for key in a:
            if key not in b:
                changes.append(JsonChange(layer, (*path, key), "removed", old=a[key]))
            else:
                changes.extend(diff_json(a[key], b[key], layer, (*path, key)))
        changes.extend(
            JsonChange(layer, (*path, key), "added", new=b[key])
            for key in b
            if key not in a
        )
        return changes
    if isinstance(a, list) and isinstance(b, list):
        changes = []
        for index in range(min(len(a), len(b))):
            changes.extend(diff_json(a[index], b[index], layer, (*path, index)))
        changes.extend(
            JsonChange(layer, (*path, i), "removed", old=a[i])
            for i in range(len(b), len(a))
        )
        changes.extend(
            JsonChange(layer, (*path, i), "added", new=b[i])
            for i in range(len(a), len(b))
        )
        return changes
    if _same(a, b):
        return []
    return [JsonChange(layer, path, "changed", old=a, new=b)]


def apply_changes(value: Any, changes: list[JsonChange]) -> Any:
    """``value`` with ``changes`` (from :func:`diff_json`) applied; ``value`` is kept."""
    result = copy_json(value)
    # Array tails go last-first when removed, first-last when added.
    removals = sorted(
        (c for c in changes if c.kind == "removed"),
        key=lambda c: c.path[-1] if c.path and isinstance(c.path[-1], int) else 0,
        reverse=True,
    )
    for change in [c for c in changes if c.kind == "changed"] + removals:
        if not change.path:
            result = copy_json(change.new)
            continue
        parent = _walk(result, change.path[:-1])
        if change.kind == "changed":
            parent[change.path[-1]] = copy_json(change.new)
        else:
            del parent[change.path[-1]]
    for change in (c for c in changes if c.kind == "added"):
        parent = _walk(result, change.path[:-1])
        key = change.path[-1]
        if isinstance(parent, list):
            parent.insert(int(key), copy_json(change.new))
        else:
            parent[key] = copy_json(change.new)
    return result


def _walk(value: Any, path: tuple[PathPart, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


@dataclass(frozen=True, slots=True)
class ViewDiff:
    """What differs between two execution views ``a`` and ``b``.

    ``status``/``lifecycle`` are ``(old, new)`` pairs when they differ;
    ``changes`` the JSON-path changes of ``state`` and ``flow_state``;
    ``interrupts`` and ``children`` the ids whose record (or status) differs, as
    ``(id, old, new)`` with ``None`` where absent.
    """

    a: str
    b: str
    status: tuple[str, str] | None
    lifecycle: tuple[str, str] | None
    changes: tuple[JsonChange, ...]
    interrupts: tuple[tuple[str, str | None, str | None], ...]
    children: tuple[tuple[str, str | None, str | None], ...]

    @property
    def empty(self) -> bool:
        """True when the two views agree on everything compared."""
        return not (
            self.status
            or self.lifecycle
            or self.changes
            or self.interrupts
            or self.children
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``triggerlog diff --json``)."""

        def pair(value: tuple[str, str] | None) -> dict[str, str] | None:
            return None if value is None else {"old": value[0], "new": value[1]}

        def triples(
            values: tuple[tuple[str, str | None, str | None], ...],
        ) -> list[dict[str, str | None]]:
            return [{"id": i, "old": old, "new": new} for i, old, new in values]

        return {
            "a": self.a,
            "b": self.b,
            "empty": self.empty,
            "status": pair(self.status),
            "lifecycle": pair(self.lifecycle),
            "changes": [c.to_json() for c in self.changes],
            "interrupts": triples(self.interrupts),
            "children": triples(self.children),
        }

    def format(self) -> str:
        """Printable lines (no trailing newline); ``no differences`` when empty."""
        lines = [f"--- {self.a}", f"+++ {self.b}"]
        if self.empty:
            return "\n".join([*lines, "no differences"])
        if self.status:
            lines.append(f"~ status: {self.status[0]} -> {self.status[1]}")
        if self.lifecycle:
            lines.append(f"~ lifecycle: {self.lifecycle[0]} -> {self.lifecycle[1]}")
        lines.extend(c.format() for c in self.changes)
        for name, values in (("interrupt", self.interrupts), ("child", self.children)):
            lines.extend(
                f"~ {name} {i}: {old or '(none)'} -> {new or '(none)'}"
                for i, old, new in values
            )
        return "\n".join(lines)


def _label(state: ExecutionState) -> str:
    return f"{state.execution_id}@{state.seq}"


def _by_id(
    old: dict[str, Any], new: dict[str, Any], describe: Any
) -> tuple[tuple[str, str | None, str | None], ...]:
    found = []
    for key in sorted(set(old) | set(new)):
        a = describe(old[key]) if key in old else None
        b = describe(new[key]) if key in new else None
        if key not in old or key not in new or not _same(old[key], new[key]):
            found.append((key, a, b))
    return tuple(found)


def diff_states(a: ExecutionState, b: ExecutionState) -> ViewDiff:
    """What changed from view ``a`` to view ``b`` (one execution or two)."""
    return ViewDiff(
        a=_label(a),
        b=_label(b),
        status=None if a.status == b.status else (a.status, b.status),
        lifecycle=None if a.lifecycle == b.lifecycle else (a.lifecycle, b.lifecycle),
        changes=tuple(
            diff_json(a.state, b.state, "state")
            + diff_json(a.flow_state, b.flow_state, "flow_state")
        ),
        interrupts=_by_id(
            a.view.interrupts, b.view.interrupts, lambda r: str(r.get("status"))
        ),
        children=_by_id(a.children, b.children, str),
    )
