"""The table's search index: each row's search text (its cells as displayed, casefolded, one per line), built
on demand or ahead of time in short slices, and the texts aligned with the current order for a filter to scan.

Pure Python, no Textual: the table schedules the slices (`build_for`) between frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter

from .table_cells import Cell, Column, plain

_BATCH = 500  # rows indexed between two looks at the clock


class SearchIndex:
    """Search texts by key, over the rows and columns the table gives it (`rows` and `columns` are the table's
    own: it hands over the new ones when it replaces them)."""

    def __init__(self) -> None:
        self.rows: Mapping[str, tuple[Cell, ...]] = {}
        self.columns: tuple[Column, ...] = ()
        self.texts: dict[str, str] = {}
        self.pending: list[str] = []  # keys whose search text is still to be built ahead of time
        self._haystack: list[str] | None = None
        self._haystack_order: list[str] | None = None

    def text(self, key: str) -> str:
        """What a filter searches in the row `key`: the cells as displayed, casefolded, one per line."""
        text = self.texts.get(key)
        if text is None:
            text = self.texts[key] = "\n".join(
                [
                    value if type(value) is str and column.format is None else plain(value, column)
                    for value, column in zip(self.rows[key], self.columns, strict=False)
                ]
            ).casefold()
        return text

    def forget(self, key: str) -> None:
        """The row changed or went: its text is built again when asked."""
        self.texts.pop(key, None)
        self._haystack = None

    def reset(self) -> None:
        """The columns changed: every text is built again, every row queued for indexing ahead of time."""
        self.texts.clear()
        self._haystack = None
        self.pending = list(self.rows)

    def haystacks(self, order: list[str]) -> list[str]:
        """The search texts aligned with `order`, kept while neither changes."""
        if self._haystack is None or self._haystack_order is not order:
            texts, row_text = self.texts, self.text
            self._haystack = [texts.get(key) or row_text(key) for key in order]
            self._haystack_order = order
        return self._haystack

    def build_for(self, seconds: float) -> bool:
        """Build pending texts for about `seconds`; True while some are left."""
        pending, texts, rows, row_text = self.pending, self.texts, self.rows, self.text
        deadline = perf_counter() + seconds
        while pending and perf_counter() < deadline:
            for key in pending[-_BATCH:]:
                if key in rows and key not in texts:
                    row_text(key)
            del pending[-_BATCH:]
        return bool(pending)
