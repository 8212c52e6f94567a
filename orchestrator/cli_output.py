"""How ``triggerlog`` writes: plain tables, JSON documents, colour only on a terminal.

No UI toolkit: colour is a few ANSI codes, used only when the stream is a
terminal and ``NO_COLOR`` is unset, so piped output is plain text.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from typing import TextIO

__all__ = [
    "colour_status",
    "write_indented",
    "write_json",
    "write_json_line",
    "write_table",
]

_STATUS_COLOURS = {
    "completed": "32",
    "failed": "31",
    "cancelled": "33",
    "waiting": "35",
    "running": "36",
}


def _use_colour(out: TextIO) -> bool:
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def colour_status(out: TextIO, status: str) -> str:
    """``status`` in its colour when ``out`` is a terminal, else as is."""
    code = _STATUS_COLOURS.get(status)
    if code is None or not _use_colour(out):
        return status
    return f"\x1b[{code}m{status}\x1b[0m"


def write_json(out: TextIO, document: Any) -> None:
    """One JSON document, indented, then a newline (``--json``)."""
    text = orjson.dumps(
        document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    ).decode()
    out.write(text + "\n")


def write_json_line(out: TextIO, document: Any) -> None:
    """One JSON document on one line (``tail --json``: JSON Lines)."""
    out.write(orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")


def _visible(cell: str) -> int:
    """The printed width of a cell (ANSI colour codes take none)."""
    if "\x1b[" not in cell:
        return len(cell)
    width, skipping = 0, False
    for char in cell:
        if char == "\x1b":
            skipping = True
        elif skipping:
            skipping = char != "m"
        else:
            width += 1
    return width


def write_table(
    out: TextIO,
    header: list[str],
    rows: list[list[str]],
    *,
    right: tuple[int, ...] = (),
) -> None:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(_visible(r[i]) for r in [header, *rows]) for i in range(len(header))]
    last = len(header) - 1
    for cells in [header, *rows]:
        parts = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - _visible(cell))
            if i in right:
                parts.append(pad + cell)
            else:
                parts.append(cell if i == last else cell + pad)
        out.write("  ".join(parts).rstrip() + "\n")


def write_indented(out: TextIO, value: Any, indent: str = "  ") -> None:
    """``value`` as indented JSON, each line prefixed with ``indent``."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    out.writelines(f"{indent}{line}\n" for line in text.splitlines())
