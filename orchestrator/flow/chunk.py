"""Chunks and where their identity comes from.

A chunk's identity is its explicit ``name=`` or its function's
``module:qualname`` — never a file path or line number, so moving code within a
file does not invalidate stored executions. Anonymous callables (lambdas,
partials, callable objects without a qualname) get an identity from their
position in the definition (the signal they listen to and their rank among the
anonymous handlers there); :func:`same_code` tells whether a second anonymous
callable is the first one defined again, so it takes the same place.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = [
    "ChunkHandler",
    "TriggerFlowChunk",
    "callable_identity",
    "callable_name",
    "same_code",
]

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


def same_code(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """True when ``b`` is ``a`` defined again: the same code, the same plain captures.

    Compared in this process only (bytecode is not stable across Python
    versions, so it never goes into an id). Captured values that are plain
    scalars (defaults, closure cells) count, so ``lambda d, k=k: ...`` in a loop
    gives one handler per ``k``; other captured objects do not, so re-running
    definition code that captures a new client object is still the same lambda.
    """
    return a is b or _code_key(a) == _code_key(b)


_PLAIN = (str, int, float, bool, bytes, type(None))


def _code_key(fn: Any) -> tuple[Any, ...]:
    if isinstance(fn, functools.partial):
        keywords = sorted(fn.keywords.items())
        return ("partial", _code_key(fn.func), _plain(fn.args), _plain(keywords))
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType):
        cls = type(fn)
        return ("object", cls.__module__, cls.__qualname__)
    cells = tuple(_cell(c) for c in getattr(fn, "__closure__", None) or ())
    kwdefaults = sorted((getattr(fn, "__kwdefaults__", None) or {}).items())
    return (
        getattr(fn, "__module__", None),
        getattr(fn, "__qualname__", None),
        _code(code),
        _plain(getattr(fn, "__defaults__", None) or ()),
        _plain(kwdefaults),
        _plain(cells),
    )


def _code(code: types.CodeType) -> tuple[Any, ...]:
    # Everything that makes the behaviour, nothing that says where it is written
    # (co_filename, co_firstlineno and the line table are left out).
    consts = tuple(
        _code(c) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return (code.co_code, code.co_names, code.co_varnames, code.co_freevars, consts)


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _plain(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, tuple | list):
        return tuple(_plain(v) for v in value)
    return ("object", type(value).__qualname__)


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
