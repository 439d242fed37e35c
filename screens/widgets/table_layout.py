"""The table's column layout: auto widths measured from a sample of rows, the widths fitted to the terminal
(declared widths stay, the flex column keeps its share, `drop` columns give way first, then the widest auto
columns give up cells), and a cell's text fitted to its width (an ellipsis, in the middle for names).

Pure Python (rich's Text and cell widths, no Textual).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.text import Text

from .table_cells import AUTO_MAX, Align, Cell, Column, plain

SEPARATOR = " "
_AUTO_SAMPLE = 200  # rows measured to size columns without a declared width


def measure(
    columns: Sequence[Column], rows: Mapping[str, tuple[Cell, ...]], order: Sequence[str]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Auto widths from the labels and a sample of rows (so widths stay put as data streams in), capped at each
    column's `max_width`; and the natural widths as measured (room to grow into on a wide terminal)."""
    widths = [cell_len(c.label) + 2 for c in columns]  # room for the sort glyph
    # The first rows plus an even spread of the rest: enough to catch wide values without reading them all.
    step = max(1, len(order) // _AUTO_SAMPLE)
    for key in [*order[:_AUTO_SAMPLE], *order[_AUTO_SAMPLE::step]]:
        cells = rows.get(key)
        if cells is None:
            continue
        for i, value in enumerate(cells[: len(columns)]):
            length = cell_len(plain(value, columns[i]))
            if length > widths[i]:
                widths[i] = length
    auto = tuple(min(w, c.max_width) for w, c in zip(widths, columns, strict=True))
    natural = tuple(min(w, AUTO_MAX) for w in widths)
    return auto, natural


def fit(
    columns: Sequence[Column],
    total: int,
    auto_widths: Sequence[int],
    natural: Sequence[int],
    scrolled_past: Sequence[int] = (),
) -> tuple[int, ...]:
    """Widths for `total` cells: declared widths stay; the flex column (usually the name) keeps at least its
    `min_width` or a third of the width; auto columns give up cells, widest first, to make room. The columns in
    `scrolled_past` (→ on a narrow terminal) and those dropped get width 0."""
    if not columns:
        return ()
    available = total - len(SEPARATOR) * (len(columns) - 1)
    autos = auto_widths or tuple(cell_len(c.label) for c in columns)
    want = [c.width if c.width is not None else auto for c, auto in zip(columns, autos, strict=True)]
    floor = [
        c.min_width if c.min_width is not None else min(w, max(cell_len(c.label), 3))
        for c, w in zip(columns, want, strict=True)
    ]
    flex = next((i for i, c in enumerate(columns) if c.flex), None)
    if flex is not None:
        label = cell_len(columns[flex].label)
        if columns[flex].min_width is None:
            floor[flex] = max(label, min(available // 3, 30))
        want[flex] = floor[flex]
    # Scrolled right (→): the first columns after the name give way, so the ones dropped at this width show.
    for i in scrolled_past:
        available += len(SEPARATOR)
        want[i] = floor[i] = 0
    overflow = sum(want) - available
    for i in sorted((i for i, c in enumerate(columns) if c.drop > 0), key=lambda i: -columns[i].drop):
        if overflow <= 0:
            break
        overflow -= want[i] + len(SEPARATOR)  # hidden: its cells and its separator go
        want[i] = floor[i] = 0
    while overflow > 0:  # shrink the widest auto column that can still give
        candidates = [
            i for i, c in enumerate(columns) if c.width is None and i != flex and want[i] > floor[i] and want[i]
        ]
        if not candidates:
            break
        widest = max(candidates, key=want.__getitem__)
        want[widest] -= 1
        overflow -= 1
    if flex is not None:
        # The flex column takes what is left, or gives back down to its label when even that is too much.
        want[flex] = max(min(cell_len(columns[flex].label), want[flex]), want[flex] - overflow)
        # On a wide terminal, room the flex column's values do not need lets capped columns show theirs whole.
        if len(natural) == len(columns):
            spare = want[flex] - max(natural[flex], floor[flex])
            for i, c in enumerate(columns):
                if spare <= 0:
                    break
                if i != flex and c.width is None and want[i] and natural[i] > want[i]:
                    give = min(natural[i] - want[i], spare)
                    want[i] += give
                    want[flex] -= give
                    spare -= give
    return tuple(want)


def fit_cell(text: Text, width: int, justify: Align, ellipsis: str, middle: bool = False) -> Text:
    """`text` truncated with `ellipsis` (in the middle when `middle`) and aligned to `width` cells."""
    if text.cell_len > width:
        plain_text = text.plain
        if middle and width >= 5 and len(plain_text) == text.cell_len:
            # Names: the end is what tells them apart (mlw-prod-weu-07, a job's random suffix, a node id's
            # tail), so the ellipsis goes in the middle and keeps the last part: mlw-prod-w…-07.
            room = width - 1
            cut = max(plain_text.rfind(ch) for ch in "-_./:")
            tail = len(plain_text) - cut if cut > 0 else 0
            if tail < 3:  # no last part, or a one-letter marker (a node id's "_d"): keep a third
                tail = room // 3
            tail = max(2, min(tail, room // 2))
            text = Text.assemble(text[: room - tail], ellipsis, text[len(plain_text) - tail :], end="")
        else:
            text = text.copy()
            if width <= 1:
                text.truncate(width, overflow="crop")
            else:
                text.truncate(width - 1, overflow="crop")
                text.append(ellipsis)
    text.align(justify, width)
    return text
