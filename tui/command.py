"""``triggerlog console``: the console's own subcommand, added through an entry point.

``pyproject.toml`` declares it in the ``triggerlog.commands`` entry-point group
(``console = "tui.command:console"``), where ``triggerlog`` finds its
subcommands from other packages (:class:`orchestrator.cli.Command`), so the
library never imports the console. This module loads no Textual: ``triggerlog``
loads it to build its parser, and without the ``console`` extra ``triggerlog
console`` says how to install it (exit 2).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from orchestrator.cli import INSTALL_CONSOLE_HINT, open_read_only, resolve_db

if TYPE_CHECKING:
    import argparse
    from typing import TextIO

__all__ = ["ConsoleCommand", "console"]

# Top-level packages whose absence means "the console extra is not installed".
_EXTRA_MODULES = ("textual", "rich")


class ConsoleCommand:
    """``triggerlog console [--db PATH]``: the console on the database, read-only."""

    summary = "open the operator console (needs textual)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The console takes only ``--db``."""

    def run(self, args: argparse.Namespace, _out: TextIO) -> int:
        """Open the database read-only and run the console until it quits."""
        try:
            # lazy: textual is the optional `console` extra; this module loads without it
            from tui.app import ConsoleApp
        except ModuleNotFoundError as error:
            if (error.name or "").partition(".")[0] not in _EXTRA_MODULES:
                raise
            sys.stderr.write(
                f"triggerlog: the console needs Textual; {INSTALL_CONSOLE_HINT}\n"
            )
            return 2
        db = resolve_db(args.db)
        store = open_read_only(db)
        try:
            ConsoleApp(store, source=db).run()
        finally:
            store.close()
        return 0


console = ConsoleCommand()
"""The object the ``console`` entry point names."""
