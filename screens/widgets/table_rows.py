"""The table's data: rows by key with a version each, their order under the sort, the filter in effect and
the search index, as the widget (screens/widgets/table.py) shows them. Updates are diffs: each says which keys
changed, so the widget repaints only those lines.

Pure Python, no Textual: the widget owns the view (the keys shown, the cursor) and the drawing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import count

from .table_cells import Cell, Column, RowsInput, cell_at
from .table_filter import RowFilter, parse_filter
from .table_search import SearchIndex
from .table_sort import SortValue, flipped, sort_keys


class TableRows:
    def __init__(self) -> None:
        self.columns: tuple[Column, ...] = ()
        self.column_index: dict[str, int] = {}
        self.rows: dict[str, tuple[Cell, ...]] = {}
        self.versions: dict[str, int] = {}
        self._version_counter = count(1)
        self.order: list[str] = []  # every key, sorted (or in the order last given)
        self.parents: dict[str, str] = {}  # child key -> parent key (a two-level tree)
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.sort_keys: dict[str, SortValue | None] = {}
        self.index = SearchIndex()  # what a filter searches
        self.filter_text = ""
        self.filter: RowFilter | None = None

    def view(self) -> list[str]:
        """The keys shown: the order, filtered (the order itself when no filter is in effect)."""
        return self.filtered(self.order)

    def filtered(self, order: list[str]) -> list[str]:
        row_filter = self.filter
        if row_filter is None:
            return order
        return row_filter.apply(order, self.index.haystacks(order), self.parents)

    def matches(self, key: str) -> bool:
        return self.filter is None or self.filter.matches(self.index.text(key))

    def sorted(self, keys: list[str]) -> list[str]:
        column = self.sort_column
        if column is None:
            return keys
        return sort_keys(keys, self.rows, self.column_index[column], self.sort_keys, self.sort_reverse, self.parents)

    def set_columns(self, columns: Sequence[Column]) -> None:
        if sum(1 for c in columns if c.flex) > 1:
            raise ValueError("at most one flex column")
        self.columns = tuple(columns)
        self.column_index = {c.key: i for i, c in enumerate(self.columns)}
        if self.sort_column not in self.column_index:
            self.sort_column = None
        self.sort_keys.clear()
        self.index.columns = self.columns
        self.index.reset()

    def set_parents(self, parents: Mapping[str, str]) -> bool:
        """Make rows children of others; False when nothing changed."""
        parents = dict(parents)
        if parents == self.parents:
            return False
        self.parents = parents
        self.order = self.sorted(list(self.rows))
        return True

    def set_rows(self, rows: RowsInput) -> set[str] | None:
        """Replace every row, as a diff: the keys added or changed, or None when neither the rows nor their
        order changed. Without a sort, rows keep the order given."""
        items = rows.items() if isinstance(rows, Mapping) else rows
        old_rows, versions, index = self.rows, self.versions, self.index
        sort_index = self.column_index.get(self.sort_column) if self.sort_column is not None else None
        new_rows: dict[str, tuple[Cell, ...]] = {}
        changed: set[str] = set()
        added = 0
        resort = False
        for key, cells in items:
            cells = tuple(cells)
            new_rows[key] = cells
            previous = old_rows.get(key)
            if previous is None:
                added += 1
            elif previous == cells:
                continue
            elif sort_index is not None and cell_at(previous, sort_index) != cell_at(cells, sort_index):
                self.sort_keys.pop(key, None)
                resort = True
            versions[key] = next(self._version_counter)
            changed.add(key)
            index.forget(key)
            index.pending.append(key)
        same_keys = added == 0 and len(new_rows) == len(old_rows)
        if not same_keys:
            for key in old_rows.keys() - new_rows.keys():
                del versions[key]
                index.forget(key)
                self.sort_keys.pop(key, None)
        self.rows = index.rows = new_rows
        if same_keys and not changed and (sort_index is not None or self._same_order(new_rows)):
            return None
        if not (same_keys and not resort and (sort_index is not None or self._same_order(new_rows))):
            self.order = self.sorted(list(new_rows))
        return changed

    def _same_order(self, rows: dict[str, tuple[Cell, ...]]) -> bool:
        return len(rows) == len(self.order) and list(rows) == self.order

    def update_cell(self, key: str, column: str, value: Cell) -> bool:
        """Change one cell; False when it already held `value`. A change in the sort column re-sorts."""
        cells = self.rows.get(key)
        index = self.column_index[column]
        if cells is None:
            raise KeyError(key)
        current = cell_at(cells, index)
        if current == value and type(current) is type(value):
            return False
        padded = list(cells) + [None] * (len(self.columns) - len(cells))
        padded[index] = value
        self.rows[key] = tuple(padded)
        self.versions[key] = next(self._version_counter)
        self.index.forget(key)
        if column == self.sort_column:
            self.sort_keys.pop(key, None)
            self.order = self.sorted(self.order)
        return True

    def sort_by(self, column: str | None, reverse: bool | None = None) -> bool:
        """Sort by `column` (None: the order rows were given in); the same column again toggles the direction
        unless `reverse` says which. False when the order stays as it was."""
        if column is not None and column not in self.column_index:
            raise KeyError(column)
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column and column is not None else False
        if column == self.sort_column and reverse == self.sort_reverse:
            return False
        flip = (
            column == self.sort_column
            and column is not None
            and len(self.sort_keys) == len(self.order)
            and not self.parents
        )
        if column != self.sort_column:
            self.sort_keys.clear()
        self.sort_column, self.sort_reverse = column, reverse
        if flip:
            # Same column, other direction: reverse the non-empty part instead of sorting again.
            self.order = flipped(self.order, self.sort_keys)
        else:
            self.order = self.sorted(list(self.rows))
        return True

    def set_filter(self, text: str) -> bool:
        """Filter by `text` (the syntax: table_filter.py); False when it is the filter in effect already.
        Raises one of table_filter.FILTER_ERRORS, changing nothing, when the expression is invalid."""
        row_filter = parse_filter(text)
        if text == self.filter_text:
            return False
        self.filter_text, self.filter = text, row_filter
        return True
