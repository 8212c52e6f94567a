"""``data.state`` and ``data.flow_state``: namespace spellings of the same API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["DataLayers", "FlowStateNamespace", "StateNamespace"]


class DataLayers(Protocol):
    """The runtime-data calls the namespaces spell differently (TriggerFlowRuntimeData)."""

    def get_state(self, key: str | None = None, default: Any = None) -> Any: ...  # noqa: D102
    def set_state(self, key: str, value: Any, *, emit: bool = True) -> None: ...  # noqa: D102
    def append_state(self, key: str, value: Any, *, emit: bool = True) -> None: ...  # noqa: D102
    def del_state(self, key: str, *, emit: bool = True) -> None: ...  # noqa: D102
    async def async_set_state(  # noqa: D102
        self, key: str, value: Any, *, emit: bool = True
    ) -> None: ...
    async def async_append_state(  # noqa: D102
        self, key: str, value: Any, *, emit: bool = True
    ) -> None: ...
    async def async_del_state(self, key: str, *, emit: bool = True) -> None: ...  # noqa: D102
    def get_flow_data(  # noqa: D102
        self, key: str | None = None, default: Any = None, *, no_warning: bool = False
    ) -> Any: ...
    def set_flow_data(  # noqa: D102
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None: ...
    def append_flow_data(  # noqa: D102
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None: ...
    def del_flow_data(  # noqa: D102
        self, key: str, *, emit: bool = True, no_warning: bool = False
    ) -> None: ...
    async def async_set_flow_data(  # noqa: D102
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None: ...
    async def async_append_flow_data(  # noqa: D102
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None: ...
    async def async_del_flow_data(  # noqa: D102
        self, key: str, *, emit: bool = True, no_warning: bool = False
    ) -> None: ...


class StateNamespace:
    """``data.state``: the execution-local state as a small mapping-like object."""

    __slots__ = ("_data",)

    def __init__(self, data: DataLayers) -> None:
        self._data = data

    def get(self, key: str | None = None, default: Any = None) -> Any:
        """Same as ``data.get_state``."""
        return self._data.get_state(key, default)

    def set(self, key: str, value: Any, *, emit: bool = True) -> None:
        """Same as ``data.set_state``."""
        self._data.set_state(key, value, emit=emit)

    def append(self, key: str, value: Any, *, emit: bool = True) -> None:
        """Same as ``data.append_state``."""
        self._data.append_state(key, value, emit=emit)

    def delete(self, key: str, *, emit: bool = True) -> None:
        """Same as ``data.del_state``."""
        self._data.del_state(key, emit=emit)

    async def async_set(self, key: str, value: Any, *, emit: bool = True) -> None:
        """Same as ``data.async_set_state``."""
        await self._data.async_set_state(key, value, emit=emit)

    async def async_append(self, key: str, value: Any, *, emit: bool = True) -> None:
        """Same as ``data.async_append_state``."""
        await self._data.async_append_state(key, value, emit=emit)

    async def async_delete(self, key: str, *, emit: bool = True) -> None:
        """Same as ``data.async_del_state``."""
        await self._data.async_del_state(key, emit=emit)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the whole state."""
        state: dict[str, Any] = self._data.get_state()
        return state

    def keys(self) -> list[str]:
        """Top-level keys."""
        return list(self.to_dict().keys())

    def items(self) -> list[tuple[str, Any]]:
        """Top-level items (copies)."""
        return list(self.to_dict().items())

    def __getitem__(self, key: str) -> Any:
        marker = object()
        value = self._data.get_state(key, marker)
        if value is marker:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        marker = object()
        return isinstance(key, str) and self._data.get_state(key, marker) is not marker

    def __len__(self) -> int:
        return len(self.to_dict())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


class FlowStateNamespace:
    """``data.flow_state``: the flow-shared data (every call warns, as flow_data does)."""

    __slots__ = ("_data",)

    def __init__(self, data: DataLayers) -> None:
        self._data = data

    def get(
        self, key: str | None = None, default: Any = None, *, no_warning: bool = False
    ) -> Any:
        """Same as ``data.get_flow_data``."""
        return self._data.get_flow_data(key, default, no_warning=no_warning)

    def set(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Same as ``data.set_flow_data``."""
        self._data.set_flow_data(key, value, emit=emit, no_warning=no_warning)

    def append(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Same as ``data.append_flow_data``."""
        self._data.append_flow_data(key, value, emit=emit, no_warning=no_warning)

    def delete(self, key: str, *, emit: bool = True, no_warning: bool = False) -> None:
        """Same as ``data.del_flow_data``."""
        self._data.del_flow_data(key, emit=emit, no_warning=no_warning)

    async def async_set(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Same as ``data.async_set_flow_data``."""
        await self._data.async_set_flow_data(
            key, value, emit=emit, no_warning=no_warning
        )

    async def async_append(
        self, key: str, value: Any, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Same as ``data.async_append_flow_data``."""
        await self._data.async_append_flow_data(
            key, value, emit=emit, no_warning=no_warning
        )

    async def async_delete(
        self, key: str, *, emit: bool = True, no_warning: bool = False
    ) -> None:
        """Same as ``data.async_del_flow_data``."""
        await self._data.async_del_flow_data(key, emit=emit, no_warning=no_warning)

    def to_dict(self, *, no_warning: bool = False) -> dict[str, Any]:
        """A copy of all flow data."""
        data: dict[str, Any] = self._data.get_flow_data(
            None, None, no_warning=no_warning
        )
        return data
