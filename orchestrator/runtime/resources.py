"""Runtime resources: live objects, layered, never written to the log.

Flow-level defaults (``flow.update_runtime_resources``) sit under the
execution's own (``create_execution(runtime_resources=...)`` and
``data.set_resource``). Only the keys are recorded, so a loader can say exactly
which objects must be injected again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["RuntimeResources"]

_DELETED = object()


class RuntimeResources(Mapping[str, Any]):
    """Execution resources over live flow defaults; writes stay in the execution."""

    def __init__(
        self,
        flow_defaults: MutableMapping[str, Any],
        own: Mapping[str, Any] | None = None,
    ) -> None:
        self._flow = flow_defaults
        self._own: dict[str, Any] = dict(own or {})

    def __getitem__(self, key: str) -> Any:
        if key in self._own:
            value = self._own[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        return self._flow[key]

    def __iter__(self) -> Iterator[str]:
        seen = set()
        for key, value in self._own.items():
            seen.add(key)
            if value is not _DELETED:
                yield key
        for key in self._flow:
            if key not in seen:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def set_local(self, key: str, value: Any) -> None:
        """Set an execution-scoped resource (the flow's default is untouched)."""
        self._own[key] = value

    def delete_local(self, key: str) -> None:
        """Hide a resource from this execution only."""
        self._own[key] = _DELETED

    def update_local(self, values: Mapping[str, Any]) -> None:
        """Re-inject several resources (after a rebuild or load)."""
        self._own.update(values)

    def replace_local(self, values: Mapping[str, Any]) -> None:
        """Swap the execution's own layer for ``values`` (a handle loaded anew)."""
        self._own = dict(values)

    def own(self) -> dict[str, Any]:
        """The execution's own layer (what create_execution/set_resource injected)."""
        return {k: v for k, v in self._own.items() if v is not _DELETED}

    def missing(self, required: list[str]) -> list[str]:
        """Which of ``required`` are not available."""
        return [key for key in required if key not in self]
