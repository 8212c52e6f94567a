"""The ``triggerlog`` command: ``demo``, ``list``, ``show``, ``export``, ``import``, and more.

``list``, ``show`` and ``export`` open the database read-only (``mode=ro``) and
never write; ``import`` writes a history into a database (all of it or nothing).
Other packages add subcommands through the ``triggerlog.commands`` entry-point
group (:class:`Command`): the operator console (``tui``) adds ``console`` that
way, so the library never imports the console and ``import orchestrator.cli``
loads no UI toolkit. Library errors are printed as one line on stderr with exit
code 1; bad usage exits 2 (argparse's convention).

The database is ``--db PATH``, else ``$TRIGGERLOG_DB``, else ``./triggerlog.db``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from importlib.metadata import PackageNotFoundError, entry_points, version
from typing import TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import unquote

import orjson

from orchestrator.cli_access import resolve_execution_id
from orchestrator.cli_demo import run as run_demo
from orchestrator.cli_read import add_read_commands
from orchestrator.errors import (
    ExecutionNotFoundError,
    HistoryFormatError,
    OrchestratorError,
    StoreError,
)
from orchestrator.history import (
    export_history,
    prepare_history,
    write_history,
)
from orchestrator.store.open import DEFAULT_DB_ENV, DEFAULT_DB_FILE, open_store
from orchestrator.store.sqlite import SQLiteEventStore

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TextIO

__all__ = [
    "COMMANDS_GROUP",
    "INSTALL_CONSOLE_HINT",
    "Command",
    "build_parser",
    "main",
    "open_read_only",
    "resolve_db",
]

INSTALL_CONSOLE_HINT = "install with pip install 'triggerlog[console]'"
COMMANDS_GROUP = "triggerlog.commands"

_R = TypeVar("_R")


class Command(Protocol):
    """A subcommand that another package adds to ``triggerlog``.

    A distribution declares an entry point in the ``triggerlog.commands`` group
    whose name is the subcommand and whose object is a ``Command``, e.g.
    ``console = "tui.command:console"``. ``triggerlog`` loads every one when it
    builds its parser (so loading must be cheap: import optional dependencies in
    :meth:`run`), gives the subcommand ``--db`` and :attr:`summary`, lets
    :meth:`add_arguments` add the rest, and calls :meth:`run` when it is chosen.
    A name that a built-in command or an earlier entry point holds is skipped.
    """

    summary: str
    """One line for ``triggerlog --help``."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the subcommand's own arguments (``--db`` is already there)."""

    def run(self, args: argparse.Namespace, out: TextIO) -> int:
        """Run the subcommand; the exit code.

        An :class:`~orchestrator.errors.OrchestratorError` it raises is printed as
        one line (exit 1), like a built-in command's.
        """


def resolve_db(db: str | None) -> str:
    """``--db``, else ``$TRIGGERLOG_DB``, else ``triggerlog.db``."""
    return db or os.environ.get(DEFAULT_DB_ENV) or DEFAULT_DB_FILE


def _sqlite_path(db: str) -> str:
    if db.startswith("sqlite:///"):
        return unquote(db[len("sqlite:///") :])
    if "://" in db or db in (":memory:", "memory:"):
        raise StoreError(
            f"{db!r} is not an SQLite file; list, show and console read a database "
            "file (a path or sqlite:///path)"
        )
    return db


def open_read_only(db: str) -> SQLiteEventStore:
    """Open an existing database read-only, with a clear error if it is missing."""
    path = _sqlite_path(db)
    if not os.path.exists(path):
        # The demo does not create directories, so the hint must when one is missing.
        make = f"triggerlog demo --db {shlex.quote(path)}"
        where = ""
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):
            where = f" (the directory {parent!r} does not exist)"
            make = f"mkdir -p {shlex.quote(parent)} && {make}"
        raise StoreError(
            f"no triggerlog database at {path}{where}; run `{make}` to make one, "
            f"or point --db or ${DEFAULT_DB_ENV} at an existing file"
        )
    return SQLiteEventStore(path, read_only=True)


# -- commands -------------------------------------------------------------------------


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    return run_demo(resolve_db(args.db), out)


def _open(args: argparse.Namespace) -> tuple[SQLiteEventStore, str]:
    db = resolve_db(args.db)
    return open_read_only(db), db


def _read_execution(
    args: argparse.Namespace, read: Callable[[SQLiteEventStore, str], _R]
) -> _R:
    """``read(store, execution_id)`` on the database opened read-only."""
    db = resolve_db(args.db)
    store = open_read_only(db)
    try:
        return read(store, resolve_execution_id(store, db, args.execution_id))
    finally:
        store.close()


def _export(args: argparse.Namespace, out: TextIO) -> int:
    history = _read_execution(args, export_history)
    data = orjson.dumps(history, option=orjson.OPT_INDENT_2)
    if args.output in (None, "-"):
        out.write(data.decode() + "\n")
    else:
        _write_file(args.output, data + b"\n")
        events = sum(len(s["events"]) for s in history["streams"])
        out.write(
            f"exported {history['execution_id']} ({events} events in "
            f"{len(history['streams'])} streams) to {args.output}\n"
        )
    return 0


def _import(args: argparse.Namespace, out: TextIO) -> int:
    db = resolve_db(args.db)
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else _read_file(args.file)
        history = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise HistoryFormatError(f"{args.file} is not JSON ({error})") from None
    prepared = prepare_history(history)  # a bad document creates no database
    store = open_store(_sqlite_path(db))
    try:
        execution_id = write_history(store, prepared)
    finally:
        store.close()
    out.write(f"imported {execution_id} into {db}\n")
    return 0


def _write_file(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as file:
            file.write(data)
    except OSError as error:
        raise OrchestratorError(
            f"cannot write the export to {path}: {error.strerror}; give -o the path "
            "of a file in an existing directory, or - for stdout"
        ) from None


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise HistoryFormatError(f"cannot read {path}: {error.strerror}") from None


class _Unloadable:
    """Stands in for an entry point that fails to load: the others still work."""

    def __init__(self, name: str, target: str, error: Exception) -> None:
        self.summary = f"(cannot be loaded from {target})"
        self._problem = (
            f"the {name} command ({target}) cannot be loaded: {_one_line(error)}"
        )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        pass

    def run(self, _args: argparse.Namespace, _out: TextIO) -> int:
        raise OrchestratorError(self._problem)


def _added_commands(taken: set[str]) -> list[tuple[str, Command]]:
    """The ``triggerlog.commands`` entry points, by name, minus the names taken."""
    found: list[tuple[str, Command]] = []
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        if entry.name in taken:
            continue
        taken.add(entry.name)
        try:
            command: Command = entry.load()
        except (ImportError, AttributeError) as error:
            command = _Unloadable(entry.name, entry.value, error)
        found.append((entry.name, command))
    return found


# -- plumbing -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``triggerlog``."""
    db_help = f"the database (default: ${DEFAULT_DB_ENV}, else ./{DEFAULT_DB_FILE})"
    # --db goes before or after the subcommand: the subcommand's copy only
    # overrides the global one when it is given (SUPPRESS leaves no default).
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
    parser = argparse.ArgumentParser(
        prog="triggerlog",
        description="Durable, event-sourced TriggerFlow executions on an SQLite log.",
        epilog="exit codes: 0 ok, 1 error (one line on stderr), 2 usage",
    )
    parser.add_argument("--db", metavar="PATH", help=db_help)
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace, TextIO], int], summary: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[db], help=summary, description=summary)
        sub.set_defaults(handler=handler)
        return sub

    command("demo", _demo, "run a document-pipeline flow, print its log, rebuild it")
    add_read_commands(command, _open)
    export = command(
        "export", _export, "an execution's history as JSON (read-only; for bug reports)"
    )
    export.add_argument("execution_id", metavar="EXECUTION_ID")
    export.add_argument("-o", "--output", metavar="FILE", help="write here, not stdout")
    imported = command(
        "import",
        _import,
        "write an exported history into the database (all or nothing)",
    )
    imported.add_argument("file", metavar="FILE", help="an export, or - for stdin")
    for name, added in _added_commands(set(commands.choices)):
        added.add_arguments(command(name, added.run, added.summary))
    return parser


def _version() -> str:
    try:
        return f"triggerlog {version('triggerlog')}"
    except PackageNotFoundError:
        return "triggerlog (version unknown: not installed)"


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``triggerlog`` with ``argv`` (default: ``sys.argv[1:]``); the exit code."""
    args = build_parser().parse_args(argv)
    out = sys.stdout
    try:
        return int(args.handler(args, out))
    except ExecutionNotFoundError as error:
        # The library's message points at flow.list_executions(); here the
        # scriptable twin is `triggerlog list`.
        db = resolve_db(args.db)
        sys.stderr.write(
            f"triggerlog: error: no execution {error.execution_id!r} in {db}; "
            f"see the ids with `triggerlog list --db {db}`\n"
        )
        return 1
    except OrchestratorError as error:
        out.flush()
        sys.stderr.write(f"triggerlog: error: {_one_line(error)}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("triggerlog: interrupted\n")
        return 130
    except BrokenPipeError:
        # `triggerlog show ... | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
