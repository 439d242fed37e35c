"""A virtualized table for the console's lists: rows by key, updated by diff, drawn with the Line API.

The stock DataTable measures every cell and repaints the whole table on each update, which stalls for tens of
seconds at 100,000 rows. Here rows live in a dict by key, the screen shows a slice of a filtered/sorted list of
keys, and each line is rendered on demand and cached by (key, version, column widths, cursor), so an update
repaints only the lines that changed and an unchanged update paints nothing at all.

The widget's data jobs live in pure-Python modules beside it, each testable without an app: the rows, their
order and the filter in effect (table_rows), cells and columns (table_cells), the `/` filter language
(table_filter: `text`, `re:pattern`, `!` inverts; an invalid expression leaves the previous result in place and
sets `filter_error`), the search index (table_search), the sort (table_sort) and the column layout (table_layout).

Rows can form a two-level tree (`set_parents`): a sort orders the top rows and, under each, its children;
a filter keeps a matching child with its parent, and a matching parent with its children; the branch glyphs
(├ └) are drawn from the rows' places in the view, so they stay right under any sort or filter.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .table_cells import Align, Cell, Column, RowsInput, cell_text
from .table_filter import FILTER_ERRORS
from .table_layout import SEPARATOR, fit, fit_cell, measure
from .table_rows import TableRows

__all__ = ["Align", "Cell", "Column", "KeyedTable", "RowsInput"]

# The Linux console and old VTs lack "…", "▲" and "▼" in many fonts: fall back to ASCII there.
_ASCII_TERMS = ("linux", "vt100", "vt102", "vt220", "dumb")
_INDEX_SLICE = 0.008  # seconds of background search indexing per slice
_INDEX_PAUSE = 0.01


class KeyedTable(ScrollView, can_focus=True):
    """A keyed, virtualized table. Feed it with `set_rows` (a full snapshot, applied as a diff) or `update_cell`,
    from the UI thread (fetch and build the rows in a worker). Line 0 is the header; data row `i` of the view is
    virtual line `i + 1`. `visible_keys` is the live view: read it, do not change it."""

    DEFAULT_CSS = """
    KeyedTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
        color: $foreground;
    }
    KeyedTable > .keyed-table--header {
        background: $panel;
        color: $foreground;
        text-style: bold;
    }
    KeyedTable > .keyed-table--cursor {
        text-style: reverse;
    }
    KeyedTable:focus > .keyed-table--cursor {
        text-style: bold reverse;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keyed-table--header", "keyed-table--cursor"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False, id="table.cursor_up"),
        Binding("down", "cursor_down", "Down", show=False, id="table.cursor_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home", "first", "First", show=False, id="table.first"),
        Binding("end", "last", "Last", show=False, id="table.last"),
        Binding("enter", "select", "Open", show=False, id="table.select"),
        Binding("right", "scroll_columns(1)", "Columns →", show=False, id="table.columns_right"),
        Binding("left", "scroll_columns(-1)", "Columns ←", show=False, id="table.columns_left"),
    ]

    class Highlighted(Message):
        """The cursor moved to another row (`key` is None when the table became empty)."""

        def __init__(self, table: KeyedTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> KeyedTable:
            return self.table

    class Selected(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, table: KeyedTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> KeyedTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        cache_size: int = 2048,
        ascii_only: bool | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        if ascii_only is None:
            ascii_only = os.environ.get("TERM", "") in _ASCII_TERMS
        self._ellipsis, self._up, self._down = ("~", "^", "v") if ascii_only else ("…", "▲", "▼")
        self._branch, self._branch_last = ("|-", "`-") if ascii_only else ("├", "└")
        self._data = TableRows()  # rows, versions, the sort's order, the filter, the search index
        self._view: list[str] = []  # the keys shown: the data's order, filtered
        self._positions: dict[str, int] = {}  # key -> index in `_view`
        self._cursor = 0
        self._cursor_key: str | None = None
        self._column_offset = 0  # columns after the name scrolled past with →
        self._indexing = False  # search texts are built in the background between frames
        self.filter_error: str | None = None
        self._auto_widths: tuple[int, ...] = ()
        self._natural_widths: tuple[int, ...] = ()  # as measured, before `max_width` (room to grow into)
        self._widths: tuple[int, ...] = ()
        self._fitted_from: tuple[int, ...] | None = None
        self._layout_width = -1
        self._line_cache: LRUCache[tuple[str, int, tuple[int, ...], bool, int], Strip] = LRUCache(cache_size)
        self.lines_rendered = 0  # rows rendered (cache misses): lets tests and benchmarks see the cache work
        self.set_columns(columns)

    # ------------------------------------------------------------------ public API

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._data.columns

    @property
    def shown_columns(self) -> tuple[Column, ...]:
        """The columns drawn at the current width (those with `drop` may give way on a narrow terminal)."""
        self._relayout()
        return tuple(column for _, column, _ in self._shown()) or self._data.columns

    @property
    def cursor_key(self) -> str | None:
        return self._cursor_key

    @property
    def cursor_row(self) -> int:
        """The cursor's index among the visible (filtered, sorted) rows."""
        return self._cursor

    @property
    def row_count(self) -> int:
        return len(self._data.rows)

    @property
    def visible_count(self) -> int:
        return len(self._view)

    @property
    def visible_keys(self) -> Sequence[str]:
        return self._view

    @property
    def filter_text(self) -> str:
        """The filter in effect (an invalid one is not applied)."""
        return self._data.filter_text

    @property
    def sort_column(self) -> str | None:
        return self._data.sort_column

    @property
    def sort_reverse(self) -> bool:
        return self._data.sort_reverse

    def row(self, key: str) -> tuple[Cell, ...] | None:
        """The row's cells, whole (the table shows them truncated)."""
        return self._data.rows.get(key)

    def row_dict(self, key: str) -> dict[str, Cell] | None:
        cells = self._data.rows.get(key)
        if cells is None:
            return None
        return {c.key: (cells[i] if i < len(cells) else None) for i, c in enumerate(self._data.columns)}

    def set_parents(self, parents: Mapping[str, str]) -> None:
        """Make rows children of others (child key -> parent key): see the module docstring."""
        if self._data.set_parents(parents):
            self._install(self._data.view(), set(), full=True)

    def rendered(self, key: str) -> str | None:
        """The row's line as drawn (plain text, at the current width), or None when it is not shown."""
        if key not in self._positions:
            return None
        self._relayout()
        return self._row_text_line(key, self._row_glyph(key)).plain

    def set_columns(self, columns: Sequence[Column]) -> None:
        self._data.set_columns(columns)
        self._index_later()
        self._auto_widths = ()
        self._measure()
        self._layout_width = -1
        self._line_cache.clear()
        self.refresh()

    def set_rows(self, rows: RowsInput) -> None:
        """Replace every row with `rows`, applied as a diff: removed rows go, changed rows are redrawn, new rows
        appear; the cursor stays on its key and the scroll offset is kept. Unchanged data repaints nothing.
        Without a sort, rows show in the order given."""
        changed = self._data.set_rows(rows)
        if changed is None:
            return
        self._measure()
        self._install(self._data.view(), changed)
        self._index_later()

    def update_cell(self, key: str, column: str, value: Cell) -> None:
        """Change one cell; only its line is redrawn (unless it moves under the sort or the filter)."""
        data = self._data
        if not data.update_cell(key, column, value):
            return
        view = self._view
        if column == data.sort_column or (data.filter is not None and (key in self._positions) != data.matches(key)):
            view = data.view()
        self._install(view, {key})

    def sort_by(self, column: str | None, reverse: bool | None = None) -> None:
        """Sort by `column` (None: the order rows were given in). Sorting again by the same column toggles the
        direction unless `reverse` says which. Numbers sort as numbers, digit runs in text naturally, and empty
        cells last in either direction."""
        if self._data.sort_by(column, reverse):
            self._install(self._data.view(), set(), full=True)
            self._scroll_to_cursor()  # the user asked for a new order: follow their row

    def set_filter(self, text: str) -> bool:
        """Show only the rows matching `text` (the syntax: screens/widgets/table_filter.py). Returns False, sets
        `filter_error` and keeps the previous rows when the expression is invalid."""
        try:
            changed = self._data.set_filter(text)
        except FILTER_ERRORS as error:
            self.filter_error = f"invalid regular expression: {error}"
            return False
        self.filter_error = None
        if changed:
            self._install(self._data.view(), set())
            self._scroll_to_cursor()
        return True

    def move_cursor(self, key: str) -> bool:
        """Put the cursor on `key` if it is visible, scrolling to it."""
        index = self._positions.get(key)
        if index is None:
            return False
        self._move_to(index)
        return True

    # ------------------------------------------------------------------ data plumbing

    def _index_later(self) -> None:
        """Build search texts in short slices between frames, so the first filter after a big load is quick
        and the load itself does not pay for them."""
        if self._data.index.pending and not self._indexing and self.is_mounted:
            self._indexing = True
            self.set_timer(_INDEX_PAUSE, self._index_slice)

    def _index_slice(self) -> None:
        self._indexing = False
        self._data.index.build_for(_INDEX_SLICE)
        self._index_later()

    def _install(self, view: list[str], changed: set[str], *, full: bool = False) -> None:
        """Show `view`; keep the cursor on its key (or the nearest surviving row); refresh what differs."""
        old_view, old_cursor, old_key = self._view, self._cursor, self._cursor_key
        positions = {key: i for i, key in enumerate(view)} if view is not old_view else self._positions
        self._view, self._positions = view, positions
        if not view:
            cursor, key = 0, None
        elif old_key is not None and old_key in positions:
            cursor, key = positions[old_key], old_key
        else:
            cursor = self._nearest(old_view, old_cursor, positions)
            key = view[cursor]
        self._cursor, self._cursor_key = cursor, key
        resized = len(view) != len(old_view)
        if resized:
            # A new virtual size repaints the whole widget anyway (lines come from the cache).
            self.virtual_size = Size(self.size.width, len(view) + 1)
        if key != old_key:
            self.post_message(self.Highlighted(self, key))
        if not self.is_mounted:
            return
        if self._relayout() or full or resized:
            self.refresh()
            return
        top, height = round(self.scroll_y), self.scrollable_content_region.height - 1
        tree = self._data.parents
        for index in range(top, top + max(height, 0)):
            new = view[index] if index < len(view) else None
            old = old_view[index] if index < len(old_view) else None
            if (
                new != old
                or (new is not None and new in changed)
                or ((index == cursor) != (index == old_cursor) and new is not None)
                or (tree and new in tree and self._glyph(new, view, index) != self._glyph(old, old_view, index))
            ):
                self._refresh_index(index)

    @staticmethod
    def _nearest(old_view: list[str], old_cursor: int, positions: dict[str, int]) -> int:
        for index in range(old_cursor, len(old_view)):
            if (found := positions.get(old_view[index])) is not None:
                return found
        for index in range(min(old_cursor, len(old_view)) - 1, -1, -1):
            if (found := positions.get(old_view[index])) is not None:
                return found
        return min(old_cursor, len(positions) - 1)

    def _refresh_index(self, index: int) -> None:
        y = index - round(self.scroll_y) + 1
        if 1 <= y < self.scrollable_content_region.height:
            self.refresh(Region(0, y, self.size.width, 1))

    # ------------------------------------------------------------------ layout

    def _measure(self) -> None:
        """Size auto columns from their label and a sample of rows, so widths stay put as data streams in."""
        auto, natural = measure(self._data.columns, self._data.rows, self._data.order)
        if auto != self._auto_widths or natural != self._natural_widths:
            self._auto_widths, self._natural_widths = auto, natural

    def _scrollable(self) -> list[int]:
        """The columns that ← and → scroll past: all but the first and the flex (the row's name)."""
        return [i for i, c in enumerate(self._data.columns) if i and not c.flex]

    def _scrolled_past(self) -> list[int]:
        return self._scrollable()[: self._column_offset]

    def action_scroll_columns(self, step: int) -> None:
        """→ shows columns dropped at this width (those after the name give way, one at a time); ← brings them
        back. Nothing moves when every column is already shown."""
        scrollable = self._scrollable()
        offset = self._column_offset + step
        if step > 0:
            hidden_after = [i for i in scrollable[offset:] if not self._widths[i]] if self._widths else []
            if not hidden_after or offset > len(scrollable):
                return
        if offset < 0:
            return
        self._column_offset = offset
        self._fitted_from = None
        if self._relayout():
            self.refresh()

    def _relayout(self) -> bool:
        """Fit the columns to the current width; True (and caches dropped) when any width changed."""
        width = self.scrollable_content_region.width
        if width == self._layout_width and self._auto_widths is self._fitted_from:
            return False
        self._fitted_from = self._auto_widths
        widths = self._fit(width)
        if widths == self._widths and width == self._layout_width:
            return False
        self._widths, self._layout_width = widths, width
        self._line_cache.clear()
        return True

    def _fit(self, total: int) -> tuple[int, ...]:
        return fit(self._data.columns, total, self._auto_widths, self._natural_widths, self._scrolled_past())

    # ------------------------------------------------------------------ rendering

    def _glyph(self, key: str | None, view: Sequence[str], index: int) -> int:
        """0: not a child; 1: a child with a sibling after it (├); 2: the last of its siblings shown (└)."""
        parent = self._data.parents.get(key) if key is not None else None
        if parent is None:
            return 0
        after = view[index + 1] if index + 1 < len(view) else None
        return 1 if after is not None and self._data.parents.get(after) == parent else 2

    def _row_glyph(self, key: str) -> int:
        return self._glyph(key, self._view, self._positions[key]) if self._data.parents else 0

    def _shown(self) -> Iterator[tuple[int, Column, int]]:
        """(index, column, width) of the columns drawn at this width: a dropped column has width 0."""
        for i, (column, width) in enumerate(zip(self._data.columns, self._widths, strict=True)):
            if width:
                yield i, column, width

    def _row_text_line(self, key: str, glyph: int) -> Text:
        cells = self._data.rows[key]
        line = Text(no_wrap=True, end="")
        for n, (i, column, column_width) in enumerate(self._shown()):
            if n:
                line.append(SEPARATOR)
            value = cells[i] if i < len(cells) else None
            text = cell_text(value, column)
            if i == 0 and glyph:
                text = Text.assemble(f"  {self._branch if glyph == 1 else self._branch_last} ", text)
            middle = n == 0 or column.flex
            line.append_text(fit_cell(text, column_width, column.justify, self._ellipsis, middle))
        line.truncate(self._layout_width, overflow="crop", pad=True)
        return line

    def _render_row(self, key: str, cursor: bool) -> Strip:
        width = self._layout_width
        glyph = self._row_glyph(key)
        cache_key = (key, self._data.versions[key], self._widths, cursor, glyph)
        strip = self._line_cache.get(cache_key)
        if strip is not None:
            return strip
        self.lines_rendered += 1
        line = self._row_text_line(key, glyph)
        if cursor:
            line.stylize(self.get_component_rich_style("keyed-table--cursor", partial=True))
        strip = Strip(line.render(self.app.console), width).apply_style(self.rich_style)
        self._line_cache.set(cache_key, strip)
        return strip

    def _render_header(self) -> Strip:
        width = self._layout_width
        line = Text(no_wrap=True, end="")
        for n, (_, column, column_width) in enumerate(self._shown()):
            if n:
                line.append(SEPARATOR)
            label = Text(column.label)
            if column.key == self._data.sort_column and column_width >= 3:
                # The direction glyph survives truncation: it is what says how the rows are ordered.
                label = fit_cell(label, min(label.cell_len, column_width - 2), "left", self._ellipsis)
                label.append(f" {self._down if self._data.sort_reverse else self._up}")
            line.append_text(fit_cell(label, column_width, column.justify, self._ellipsis))
        line.truncate(width, overflow="crop", pad=True)
        style = self.get_component_rich_style("keyed-table--header")
        return Strip(line.render(self.app.console), width).apply_style(style)

    def render_line(self, y: int) -> Strip:
        self._relayout()
        if y == 0:
            return self._render_header()
        index = round(self.scroll_y) + y - 1
        if index >= len(self._view):
            if index == 0 and self._data.rows:
                note = Text(" no rows match the filter", style="dim", end="")
                note.truncate(self._layout_width, pad=True)
                return Strip(note.render(self.app.console), self._layout_width).apply_style(self.rich_style)
            return Strip.blank(self._layout_width, self.rich_style)
        return self._render_row(self._view[index], index == self._cursor)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_cache.clear()
        self.refresh()

    def _on_focus(self, event: events.Focus) -> None:
        self._line_cache.clear()
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self._line_cache.clear()
        self.refresh()

    def on_mount(self) -> None:
        self._index_later()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._view) + 1)
        if self._relayout():
            self.refresh()

    # ------------------------------------------------------------------ cursor and keys

    def _move_to(self, index: int) -> None:
        if not self._view:
            return
        index = max(0, min(index, len(self._view) - 1))
        old = self._cursor
        self._cursor, self._cursor_key = index, self._view[index]
        if index != old:
            self._refresh_index(old)
            self._refresh_index(index)
            self.post_message(self.Highlighted(self, self._cursor_key))
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        rows = self.scrollable_content_region.height - 1
        if rows <= 0 or not self._view:
            return
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + rows:
            self.scroll_to(y=self._cursor - rows + 1, animate=False)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def action_cursor_up(self) -> None:
        self._move_to(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_to(self._cursor + 1)

    def action_page_up(self) -> None:
        self._move_to(self._cursor - self._page())

    def action_page_down(self) -> None:
        self._move_to(self._cursor + self._page())

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self._view) - 1)

    def action_select(self) -> None:
        if self._cursor_key is not None:
            self.post_message(self.Selected(self, self._cursor_key))

    def _column_at(self, x: int) -> str | None:
        edge = 0
        for _, column, width in self._shown():
            edge += width + len(SEPARATOR)
            if x < edge:
                return column.key
        return None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x)
            if column is not None:
                self.sort_by(column)
            return
        index = round(self.scroll_y) + offset.y - 1
        if index < len(self._view):
            self._move_to(index)
            if event.chain >= 2:
                self.action_select()
