"""``python -m tui [--db PATH]``: the same as ``triggerlog console [--db PATH]``.

It runs the ``triggerlog`` command, which finds ``console`` through its entry
point (:mod:`tui.command`), so there is one code path that opens the database
(read-only) and hands the store to the console.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from orchestrator.cli import main as triggerlog

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console; the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    return triggerlog(["console", *args])


if __name__ == "__main__":
    raise SystemExit(main())
