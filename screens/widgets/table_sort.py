"""The table's sort: numbers as numbers, digit runs in text naturally ("node-2" before "node-10"), empty cells
last in either direction; on a two-level tree the top rows sort and each one's children sort under it.

Pure Python, no Textual. Sort values are cached by key (`cache`): the table drops a key's entry when its cell
in the sort column changes, and the whole cache when the sort column does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rich.text import Text

from .table_cells import Cell, cell_at

SortValue = int | float | str

_DIGITS = re.compile(r"\d+")


def _pad_digits(match: re.Match[str]) -> str:
    return match.group().zfill(20)


def sort_value(value: Cell) -> SortValue | None:
    """Numbers as numbers; text casefolded with digit runs zero-padded ("node-2" before "node-10"); None, NaN
    and empty text as None (they sort last either way)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return None if value != value else value
    text = value.plain if isinstance(value, Text) else str(value)
    return _DIGITS.sub(_pad_digits, text.casefold()) if text else None


def sort_keys(
    keys: list[str],
    rows: Mapping[str, tuple[Cell, ...]],
    index: int,
    cache: dict[str, SortValue | None],
    reverse: bool,
    parents: Mapping[str, str],
) -> list[str]:
    """`keys` ordered by the cells at `index` (children of a tree under their parents)."""
    if not parents:
        return sort_flat(keys, rows, index, cache, reverse)
    present = set(keys)
    tops = [k for k in keys if parents.get(k) not in present]  # (a child whose parent is gone stands alone)
    children: dict[str, list[str]] = {}
    for key in keys:
        parent = parents.get(key)
        if parent in present:
            children.setdefault(parent, []).append(key)
    out: list[str] = []
    for top in sort_flat(tops, rows, index, cache, reverse):
        out.append(top)
        if top in children:
            out += sort_flat(children[top], rows, index, cache, reverse)
    return out


def sort_flat(
    keys: list[str],
    rows: Mapping[str, tuple[Cell, ...]],
    index: int,
    cache: dict[str, SortValue | None],
    reverse: bool,
) -> list[str]:
    present: list[str] = []
    empty: list[str] = []
    texts = numbers = False
    for key in keys:
        if key in cache:
            value = cache[key]
        else:
            value = cache[key] = sort_value(cell_at(rows[key], index))
        if value is None:
            empty.append(key)
            continue
        present.append(key)
        if type(value) is str:
            texts = True
        else:
            numbers = True
    if texts and numbers:  # a mixed column: numbers first, then text
        present.sort(key=lambda key: (type(cache[key]) is str, cache[key]), reverse=reverse)
    else:
        present.sort(key=cache.__getitem__, reverse=reverse)  # type: ignore[arg-type]
    return present + empty


def flipped(order: list[str], cache: Mapping[str, SortValue | None]) -> list[str]:
    """A flat `order` sorted on a column (every key in `cache`), in the other direction: the non-empty part
    reversed, the empty cells still last."""
    split = len(order)
    while split and cache[order[split - 1]] is None:
        split -= 1
    return order[split - 1 :: -1] + order[split:] if split else list(order)
