"""One way to print tables for ``doctor``, ``status`` and ``plan``: identifiers are never broken across lines.

Application IDs, GUIDs, URLs, keys and dates are copied from this output into other commands
(``az ad sp create --id …``), so a line break inside one is a bug. Rich's ``overflow="fold"`` breaks them
wherever a column ends, and Rich hard-wraps long plain lines too. So:

* A **table** is printed only on a terminal wide enough for it with every identifier column at full width
  and every prose column at least as wide as its longest word (Rich then wraps prose at spaces only).
* Otherwise (a pipe, a CI log, a narrow terminal) each row is **one plain line**, printed with
  ``soft_wrap`` so Rich inserts no line break: a terminal may fold it on screen, but the text, copied or
  piped, is whole.

Every table shares one style (`TABLE_BOX`, bold headers, no outer edge, one space of padding between
columns).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

TABLE_BOX: Final = box.SIMPLE_HEAD
"""The box style of every table (a rule under the header, no outer frame)."""


@dataclass(frozen=True)
class Column:
    """One table column.

    Attributes:
        header: Column title.
        prose: True for sentences (wrapped at spaces); False for identifiers, which are never wrapped.
    """

    header: str
    prose: bool = False


@dataclass(frozen=True)
class Cell:
    """One cell's text (plain, never markup) and an optional Rich style for the table view."""

    text: str
    style: str = ""


CellLike = str | Cell


def _cell(value: CellLike) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


def build_table(title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[CellLike]]) -> Table:
    """The table in the shared style; identifier columns get their full width as minimum and never wrap."""
    table = Table(
        title=escape(title) if title else None, box=TABLE_BOX, show_edge=False, pad_edge=False, header_style="bold"
    )
    cells = [[_cell(v) for v in row] for row in rows]
    for index, column in enumerate(columns):
        if column.prose:
            table.add_column(column.header, overflow="fold")
        else:
            widest = max([len(column.header), *(len(row[index].text) for row in cells)])
            table.add_column(column.header, no_wrap=True, min_width=widest, overflow="ignore")
    for row in cells:
        table.add_row(*(Text(c.text, style=c.style) for c in row))
    return table


def table_fits(columns: Sequence[Column], rows: Sequence[Sequence[CellLike]], width: int) -> bool:
    """True when ``table`` fits ``width`` without breaking a word: identifier columns whole, prose columns
    at least their longest word."""
    widths = []
    for index, column in enumerate(columns):
        texts = [column.header, *(_cell(row[index]).text for row in rows)]
        if column.prose:
            widths.append(max((len(word) for text in texts for word in text.split()), default=0))
        else:
            widths.append(max(len(text) for text in texts))
    padding = max(2 * len(columns) - 2, 0)  # one space each side, none at the outer edges
    separators = max(len(columns) - 1, 0)
    return sum(widths) + padding + separators <= width


def print_rows(
    console: Console,
    title: str | None,
    columns: Sequence[Column],
    rows: Sequence[Sequence[CellLike]],
    plain: Callable[[Sequence[str]], str],
) -> None:
    """A table when `table_fits` on a terminal, else the title and one `plain` line per row (see the module
    docstring). ``plain`` gets each row's cell texts."""
    table = build_table(title, columns, rows)
    if console.is_terminal and table_fits(columns, rows, console.width):
        console.print(table)
        return
    if title:
        print_line(console, title)
    for row in rows:
        print_line(console, plain([_cell(v).text for v in row]))


def print_line(console: Console, text: str) -> None:
    """One line of plain text (never markup), never wrapped by Rich."""
    console.print(text, markup=False, highlight=False, soft_wrap=True, emoji=False)


def keep_whole(text: str) -> str:
    """``text`` for a table cell; dates at UTC midnight (``2027-04-05T00:00:00Z``) shortened to the date."""
    return text.removesuffix("T00:00:00Z")
