"""``python -m bench [store|runtime|peers|recovery|read|all] [section flags]``.

Each section is a module ``bench/<section>.py`` with ``main(argv) -> int``,
imported only when it runs (``runtime`` does not load the peers' tooling). What
is printed is also written to ``bench/results/latest.md``. ``all`` runs every
section present, in order; ``peers`` reuses the runtime figures measured earlier
in the same process.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any, TextIO

SECTIONS = ("store", "runtime", "peers", "recovery", "read")
LATEST = Path(__file__).resolve().parent / "results" / "latest.md"


class _Tee:
    """Write to the terminal and to a file."""

    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def run_section(name: str, argv: list[str]) -> int:
    """Import ``bench.<name>`` and call its ``main``; a missing module is reported."""
    try:
        module: Any = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"bench.{name}":
            raise
        print(f"== {name}: bench/{name}.py is not present; skipped ==")
        return 0
    takes_argv = bool(inspect.signature(module.main).parameters)
    return int(module.main(argv) if takes_argv else module.main() or 0)


def main(argv: list[str] | None = None) -> int:
    """Dispatch to one section, or all of them."""
    args = sys.argv[1:] if argv is None else argv
    section = args[0] if args else "all"
    if section not in (*SECTIONS, "all"):
        print(f"usage: python -m bench [{'|'.join(SECTIONS)}|all] [flags]")
        return 2
    LATEST.parent.mkdir(parents=True, exist_ok=True)
    with LATEST.open("w") as log:
        stdout, sys.stdout = sys.stdout, _Tee(sys.stdout, log)
        try:
            if section != "all":
                return run_section(section, args[1:])
            return max(run_section(name, []) for name in SECTIONS)
        finally:
            sys.stdout = stdout


if __name__ == "__main__":
    raise SystemExit(main())
