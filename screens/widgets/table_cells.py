"""The table's cells and columns, and the text a cell shows (what the table draws and what a filter searches).

Pure Python (rich's Text, no Textual): the filter, the search index, the sort and the layout build on it, and each
can be tested without an app.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.text import Text

Cell = str | int | float | Text | None
Align = Literal["left", "right"]
RowsInput = Mapping[str, Sequence[Cell]] | Iterable[tuple[str, Sequence[Cell]]]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
AUTO_MAX = 48  # widest an auto-sized column grows before truncating


@dataclass(frozen=True)
class Column:
    """A column: `width` fixes its width, otherwise it fits its label and the first rows (up to `max_width`).
    The one `flex` column takes the width left over. `align` defaults to right for `numeric` columns.
    Columns with `drop` give way first on a narrow terminal (Describe still shows their values)."""

    key: str
    label: str
    width: int | None = None
    min_width: int | None = None
    max_width: int = AUTO_MAX
    align: Align | None = None
    numeric: bool = False
    flex: bool = False
    format: Callable[[object], str] | None = None
    drop: int = 0  # > 0: hidden when the table is too narrow to show every column whole, highest first

    @property
    def justify(self) -> Align:
        return self.align or ("right" if self.numeric else "left")


def format_number(value: float) -> str:
    text = f"{value:.4f}"
    return text.rstrip("0").rstrip(".") if "." in text else text  # "nan" and "inf" have no point


def plain(value: Cell, column: Column | None) -> str:
    """The text a cell shows (and that filters search)."""
    if column is not None and column.format is not None and value is not None:
        return column.format(value)
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is int:
        return str(value)
    if kind is float:
        return format_number(value)  # type: ignore[arg-type]
    if value is None:
        return "-"
    if isinstance(value, Text):
        return value.plain
    return str(value)


def cell_at(cells: tuple[Cell, ...], index: int) -> Cell:
    return cells[index] if index < len(cells) else None


def cell_text(value: Cell, column: Column) -> Text:
    """The cell as drawn: styled Text kept (control characters blanked), anything else as plain text, never
    markup (a job called "[bold]x" shows as typed); an empty cell dim."""
    if isinstance(value, Text) and column.format is None:
        text = value.copy()
        if _CONTROL.search(text.plain):  # one for one, so the spans stay in place
            text.plain = _CONTROL.sub(" ", text.plain)
        return text
    return Text(_CONTROL.sub(" ", plain(value, column)), style="dim" if value is None else "")
