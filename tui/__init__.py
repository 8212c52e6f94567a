"""The operator console: a Textual app over a triggerlog database, read-only.

Run it with ``triggerlog console [--db PATH]`` or ``python -m tui [--db PATH]``.
:class:`ConsoleApp` is imported lazily so that ``tui.data`` (no Textual) can be
used on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.app import ConsoleApp

__all__ = ["ConsoleApp"]


def __getattr__(name: str) -> Any:
    if name == "ConsoleApp":
        # lazy: tui.app needs textual; tui.data must import without it
        from tui.app import ConsoleApp

        return ConsoleApp
    raise AttributeError(f"module 'tui' has no attribute {name!r}")
