"""Chunks and where their identity comes from.

A chunk's identity is its explicit ``name=`` or its function's
``module:qualname`` — never a file path or line number, so moving code within a
file does not invalidate stored executions. Anonymous callables (lambdas,
partials, callable objects without a qualname) get an identity from their
position in the definition (the signal they listen to).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ChunkHandler", "TriggerFlowChunk", "callable_identity", "callable_name"]

ChunkHandler = Callable[..., Any]


def callable_name(fn: Callable[..., Any]) -> str:
    """The display name of a handler (``__name__`` or the class name)."""
    name = getattr(fn, "__name__", None)
    if isinstance(name, str) and name:
        return name
    func = getattr(fn, "func", None)  # functools.partial
    if func is not None:
        return callable_name(func)
    return type(fn).__name__


def callable_identity(fn: Callable[..., Any]) -> str | None:
    """``module:qualname`` of a named function, or None when it has no stable one."""
    qualname = getattr(fn, "__qualname__", None)
    module = getattr(fn, "__module__", None)
    if not isinstance(qualname, str) or not isinstance(module, str):
        return None
    if "<lambda>" in qualname:
        return None
    return f"{_module_name(module)}:{qualname}"


def _module_name(module: str) -> str:
    # A module run as a script is "__main__" there and its real name elsewhere;
    # use the real name so both processes agree on the identity.
    if module != "__main__":
        return module
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None):
        return str(spec.name)
    path = getattr(main, "__file__", None)
    return Path(path).stem if isinstance(path, str) else module


class TriggerFlowChunk:
    """A handler with a name: what ``to()`` wires into a flow.

    Create one with ``flow.chunk(fn)`` or ``@flow.chunk("name")``; passing a plain
    function to ``to()`` makes one implicitly.
    """

    __slots__ = ("declared_emits", "handler", "name", "options")

    def __init__(
        self,
        handler: ChunkHandler,
        name: str | None = None,
        **options: Any,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"a chunk handler must be callable, got {handler!r}")
        self.handler = handler
        self.name = name or callable_name(handler)
        self.options = options
        self.declared_emits: list[str] = []

    @property
    def explicit_identity(self) -> str | None:
        """The identity used for ids when no ``name=`` was given."""
        return callable_identity(self.handler)

    def declare_emits(self, *events: str) -> TriggerFlowChunk:
        """Declare events this chunk emits (for diagrams and the flow config)."""
        self.declared_emits.extend(e for e in events if e not in self.declared_emits)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the handler (a chunk object stays usable as a function)."""
        return self.handler(*args, **kwargs)

    def __repr__(self) -> str:
        return f"TriggerFlowChunk({self.name!r})"
