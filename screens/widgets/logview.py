"""A line-based log view: a bounded ring of lines drawn with the Line API (toolong's idiom).

Lines live in a list capped at `max_lines` (the oldest are dropped, and counted, as new ones arrive), so a log
of any size costs a bounded amount of memory and each frame renders only the lines on screen. Text arrives in
chunks (`append`): a chunk's incomplete last line is held until its newline comes. Wrap mode maps screen rows
to (line, segment) through prefix sums, rebuilt on resize. Search highlights every match on screen and moves
between matching lines with `find_next`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

MAX_LINES = 50_000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WIDTH_CAP = 4000  # widest line the horizontal scroll range follows


def clean_line(line: str) -> str:
    """A line as shown: escape sequences removed, tabs expanded, other control characters blanked."""
    line = _ANSI.sub("", line.rstrip("\r"))
    if "\t" in line:
        line = line.expandtabs(8)
    return _CONTROL.sub(" ", line) if _CONTROL.search(line) else line


def compile_search(text: str) -> re.Pattern[str] | None:
    """`text` as a case-insensitive search: a substring, or a regular expression after `re:`; None if invalid."""
    if not text:
        return None
    if text.startswith("re:"):
        try:
            return re.compile(text[3:], re.IGNORECASE) if text[3:] else None
        except re.error:
            return None
    return re.compile(re.escape(text), re.IGNORECASE)


class LogView(ScrollView, can_focus=True):
    """Lines of one log; `follow` keeps the view at the bottom as lines arrive."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    LogView > .log-view--match {
        text-style: reverse;
    }
    LogView > .log-view--current {
        background: $warning;
        color: $background;
        text-style: bold;
    }
    LogView > .log-view--marker {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log-view--match", "log-view--current", "log-view--marker"}

    class Unfollowed(Message):
        """The user scrolled away from the bottom while following."""

    def __init__(self, *, max_lines: int = MAX_LINES, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.max_lines = max(1, max_lines)
        self.lines: list[str] = []
        self.dropped = 0  # lines dropped from the front: line `i` of the buffer is line `dropped + i` of the log
        self._partial = ""  # the last line, still waiting for its newline
        self._max_width = 0
        self.follow = True
        self.wrap = False
        self.search: re.Pattern[str] | None = None
        self.current: tuple[int, int, int] | None = None  # (absolute line, start, end) of the current match
        self._starts: list[int] = []  # wrap mode: first screen row of each line
        self._wrap_width = 0
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._version = 0  # bumps when what a given line looks like changes (search, current match)

    # ------------------------------------------------------------------ content

    @property
    def line_count(self) -> int:
        return len(self.lines) + (1 if self._partial else 0)

    def line(self, index: int) -> str:
        """Line `index` of the buffer (the partial last line included)."""
        if index < len(self.lines):
            return self.lines[index]
        return clean_line(self._partial)

    def text(self) -> str:
        """What the buffer holds, as a file would (the partial last line without a newline)."""
        body = "\n".join(self.lines)
        if self.lines:
            body += "\n"
        return body + clean_line(self._partial)

    def clear(self) -> None:
        self.lines = []
        self.dropped = 0
        self._partial = ""
        self._max_width = 0
        self.current = None
        self._starts = []
        self._cache.clear()
        self._resize()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def append(self, chunk: str) -> int:
        """Add text read from the log; returns the number of complete lines added."""
        if not chunk:
            return 0
        parts = (self._partial + chunk).split("\n")
        self._partial = parts.pop()
        added = [clean_line(p) for p in parts]
        if added:
            widest = max(cell_len(p) for p in added[-2000:])
            self._max_width = min(_WIDTH_CAP, max(self._max_width, widest))
            self.lines.extend(added)
            overflow = len(self.lines) - self.max_lines
            if overflow > 0:
                del self.lines[:overflow]
                self.dropped += overflow
                self._cache.clear()
                if self.current is not None and self.current[0] < self.dropped:
                    self.current = None
            if self.wrap:
                self._rebuild_wrap() if overflow > 0 else self._extend_wrap(len(self.lines) - len(added))
        self._resize()
        if self.follow:
            self.scroll_end(animate=False, x_axis=False)
        self.refresh()
        return len(added)

    # ------------------------------------------------------------------ wrap

    def _content_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _rows_of(self, line: str, width: int) -> int:
        return max(1, -(-cell_len(line) // width))

    def _rebuild_wrap(self) -> None:
        width = self._content_width()
        self._wrap_width = width
        starts, row = [], 0
        for line in self.lines:
            starts.append(row)
            row += self._rows_of(line, width)
        self._starts = starts

    def _extend_wrap(self, first_new: int) -> None:
        width = self._wrap_width or self._content_width()
        starts = self._starts
        if len(starts) != first_new:
            self._rebuild_wrap()
            return
        row = self._wrapped_rows_upto(first_new)
        for line in self.lines[first_new:]:
            starts.append(row)
            row += self._rows_of(line, width)

    def _wrapped_rows_upto(self, count: int) -> int:
        """Screen rows taken by the first `count` complete lines in wrap mode."""
        if count == 0:
            return 0
        width = self._wrap_width or self._content_width()
        return self._starts[count - 1] + self._rows_of(self.lines[count - 1], width)

    def _total_rows(self) -> int:
        if not self.wrap:
            return self.line_count
        width = self._wrap_width or self._content_width()
        rows = self._wrapped_rows_upto(len(self.lines))
        return rows + (self._rows_of(clean_line(self._partial), width) if self._partial else 0)

    def set_wrap(self, wrap: bool) -> None:
        top_line = self._line_at_row(round(self.scroll_y))[0]
        self.wrap = wrap
        if wrap:
            self._rebuild_wrap()
        self._cache.clear()
        self._resize()
        if self.follow:
            self.scroll_end(animate=False, x_axis=False)
        else:
            self.scroll_to(0, self._row_of_line(top_line), animate=False, immediate=True)
        self.refresh()

    def _line_at_row(self, row: int) -> tuple[int, int]:
        """(buffer line, segment) shown at virtual row `row`."""
        if not self.wrap:
            return row, 0
        end = self._wrapped_rows_upto(len(self.lines))
        if row >= end:  # the partial line
            return len(self.lines), row - end
        index = max(0, bisect.bisect_right(self._starts, row) - 1)
        return index, row - self._starts[index]

    def _row_of_line(self, index: int) -> int:
        if not self.wrap:
            return index
        if index < len(self._starts):
            return self._starts[index]
        return self._wrapped_rows_upto(len(self.lines))

    def _resize(self) -> None:
        width = self._content_width() if self.wrap else self._max_width + 1
        self.virtual_size = Size(width, self._total_rows())

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap and self._content_width() != self._wrap_width:
            self._rebuild_wrap()
            self._cache.clear()
        self._resize()
        if self.follow:
            self.scroll_end(animate=False, x_axis=False)

    # ------------------------------------------------------------------ search

    def set_search(self, pattern: re.Pattern[str] | None) -> None:
        self.search = pattern
        self.current = None
        self._version += 1
        self._cache.clear()
        self.refresh()

    def find_next(self, backwards: bool = False) -> bool:
        """Move to the next (previous) match after the current one (or the top of the screen); False if none."""
        pattern = self.search
        if pattern is None or not self.line_count:
            return False
        count = self.line_count
        if self.current is not None and self.current[0] >= self.dropped:
            start_line, start_col = self.current[0] - self.dropped, self.current[1]
        else:
            start_line = min(self._line_at_row(round(self.scroll_y))[0], count - 1)
            start_col = 1 << 30 if backwards else -1
        # the rest of the current line first, then the other lines, wrapping around once
        line = self.line(start_line)
        found = self._in_line(pattern, line, start_col, backwards)
        if found is not None:
            return self._go(start_line, found)
        for step in range(1, count + 1):
            index = (start_line - step) % count if backwards else (start_line + step) % count
            text = self.line(index)
            spans = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
            if spans:
                return self._go(index, spans[-1] if backwards else spans[0])
        return False

    @staticmethod
    def _in_line(pattern: re.Pattern[str], line: str, col: int, backwards: bool) -> tuple[int, int] | None:
        spans = [m.span() for m in pattern.finditer(line) if m.end() > m.start()]
        if backwards:
            before = [s for s in spans if s[0] < col]
            return before[-1] if before else None
        after = [s for s in spans if s[0] > col]
        return after[0] if after else None

    def _go(self, index: int, span: tuple[int, int]) -> bool:
        self.current = (self.dropped + index, span[0], span[1])
        self._version += 1
        self._cache.clear()
        self.follow = False
        height = max(1, self.scrollable_content_region.height)
        row = self._row_of_line(index)
        if self.wrap:
            row += span[0] // self._content_width()
        else:
            width = self._content_width()
            x = 0 if span[1] <= width else max(0, span[0] - width // 3)
            self.scroll_to(x=x, animate=False, immediate=True)
        top = round(self.scroll_y)
        if not top <= row < top + height:
            self.scroll_to(y=max(0, row - height // 2), animate=False, immediate=True)
        self.refresh()
        return True

    def match_count(self) -> int:
        """Lines of the buffer with a match (for the status line)."""
        pattern = self.search
        if pattern is None:
            return 0
        return sum(1 for i in range(self.line_count) if pattern.search(self.line(i)))

    # ------------------------------------------------------------------ rendering

    def _styled(self, index: int) -> Text:
        text = Text(self.line(index), no_wrap=True, end="")
        pattern = self.search
        if pattern is not None:
            match_style = self.get_component_rich_style("log-view--match", partial=True)
            for m in pattern.finditer(text.plain):
                if m.end() > m.start():
                    text.stylize(match_style, m.start(), m.end())
            cur = self.current
            if cur is not None and cur[0] == self.dropped + index:
                text.stylize(self.get_component_rich_style("log-view--current", partial=True), cur[1], cur[2])
        return text

    def render_line(self, y: int) -> Strip:
        width = self._content_width()
        row = round(self.scroll_y) + y
        index, segment = self._line_at_row(row)
        if index >= self.line_count:
            return Strip.blank(width, self.rich_style)
        scroll_x = 0 if self.wrap else round(self.scroll_x)
        current = self.current if self.current is not None and self.current[0] == self.dropped + index else None
        key = (self.dropped + index, segment, width, scroll_x, self.wrap, self._version, current)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        text = self._styled(index)
        start = segment * width if self.wrap else scroll_x
        segments = list(text.render(self.app.console))
        strip = Strip(segments).crop(start, start + width).extend_cell_length(width)
        strip = strip.apply_style(self.rich_style)
        self._cache.set(key, strip)
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # ------------------------------------------------------------------ keys: scrolling up stops following

    def _unfollow(self) -> None:
        if self.follow:
            self.follow = False
            self.post_message(self.Unfollowed())

    def action_scroll_up(self) -> None:
        self._unfollow()
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self._unfollow()
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self._unfollow()
        super().action_scroll_home()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._unfollow()

    def visible_text(self) -> Sequence[str]:
        """The lines on screen (for tests and snapshots)."""
        top, height = round(self.scroll_y), self.scrollable_content_region.height
        out = []
        for row in range(top, top + height):
            index, _ = self._line_at_row(row)
            if index < self.line_count:
                out.append(self.line(index))
        return out
