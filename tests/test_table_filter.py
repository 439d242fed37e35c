"""The table's data modules alone, without an app: the `/` filter language, the search index, the sort, the
column layout and the rows' diffs (the widget that drives them is tested in tests/screens/test_table.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rich.text import Text

from screens.widgets.table_cells import Cell, Column
from screens.widgets.table_filter import FILTER_ERRORS, parse_filter
from screens.widgets.table_layout import fit, fit_cell, measure
from screens.widgets.table_rows import TableRows
from screens.widgets.table_search import SearchIndex
from screens.widgets.table_sort import SortValue, flipped, sort_keys

COLUMNS = (
    Column("name", "Name", flex=True),
    Column("status", "Status"),
    Column("gpus", "GPUs", numeric=True),
    Column("size", "Size", format=lambda v: f"{v} GiB"),
)
ROWS: dict[str, tuple[Cell, ...]] = {
    "a": ("gpu-cluster-2", Text("Running", style="green"), 4, 16),
    "b": ("cpu-cluster-10", "Stopped", 0, 8),
    "c": ("gpu-cluster-10", Text("Failed", style="red"), None, 32),
    "d": ("!important", "Running", 1.5, None),
}


def index() -> SearchIndex:
    idx = SearchIndex()
    idx.rows, idx.columns = ROWS, COLUMNS
    return idx


def shown(text: str, parents: dict[str, str] | None = None) -> list[str]:
    rule = parse_filter(text)
    order = list(ROWS)
    return order if rule is None else rule.apply(order, index().haystacks(order), parents or {})


def test_filter_language_substring_regex_inverted_and_literal_bang() -> None:
    assert shown("RUNNING") == ["a", "d"]  # case-insensitive, styled cells by their text
    assert shown("16 gib") == ["a"]  # a formatted cell as displayed
    assert shown("re:^gpu-cluster-\\d+$") == ["a", "c"]  # ^ and $ anchor at each cell
    assert shown("/^stopped$/") == ["b"]  # the closing slash is optional
    assert shown("/^stopped$") == ["b"]
    assert shown("!running") == ["b", "c"]
    assert shown("!re:running|failed") == ["b"]
    assert shown("\\!imp") == ["d"]  # a literal leading "!"
    assert shown("1.5") == ["d"]  # floats as displayed
    assert shown("") == shown("re:") == shown("!") == list(ROWS)  # nothing to match: every row
    for bad in ("re:job-[", "re:a{99999999999}"):
        with pytest.raises(FILTER_ERRORS):
            parse_filter(bad)


def test_filter_on_a_tree_keeps_parents_and_children() -> None:
    parents = {"c": "a"}  # c is a's child
    assert shown("failed", parents) == ["a", "c"]  # a matching child shows with its parent
    assert shown("gpu-cluster-2", parents) == ["a", "c"]  # a matching parent shows with its children
    assert shown("!failed", parents) == ["a", "b", "d"]  # inverted: a kept parent does not bring its children


def test_search_index_builds_ahead_and_forgets_changed_rows() -> None:
    idx = index()
    idx.reset()
    assert sorted(idx.pending) == sorted(ROWS) and not idx.texts
    assert idx.build_for(1.0) is False  # everything indexed within the slice
    assert idx.texts["c"] == "gpu-cluster-10\nfailed\n-\n32 gib"
    order = list(ROWS)
    first = idx.haystacks(order)
    assert idx.haystacks(order) is first  # kept while neither the order nor the rows change
    rows = dict(ROWS)
    rows["c"] = ("gpu-cluster-10", "Running", 2, 32)
    idx.rows = rows
    idx.forget("c")
    assert idx.haystacks(order) is not first and "running" in idx.haystacks(order)[2]


def test_sort_naturally_numbers_first_empty_last_and_children_under_parents() -> None:
    keys = list(ROWS)
    by_name = sort_keys(keys, ROWS, 0, {}, False, {})
    assert by_name == ["d", "b", "a", "c"]  # "!…" first; "cluster-2" before "cluster-10"
    gpus: dict[str, SortValue | None] = {}
    assert sort_keys(keys, ROWS, 2, gpus, False, {}) == ["b", "d", "a", "c"]  # the empty cell last
    assert sort_keys(keys, ROWS, 2, {}, True, {}) == ["a", "d", "b", "c"]  # last in either direction
    assert flipped(["b", "d", "a", "c"], gpus) == ["a", "d", "b", "c"]
    assert sort_keys(keys, ROWS, 2, {}, True, {"b": "c"}) == ["a", "d", "c", "b"]  # b stays under its parent


def test_layout_fits_columns_to_the_width_and_truncates_names_in_the_middle() -> None:
    auto, natural = measure(COLUMNS, ROWS, list(ROWS))
    wide = fit(COLUMNS, 80, auto, natural)
    assert sum(wide) + len(COLUMNS) - 1 == 80 and wide[0] >= len("gpu-cluster-10")
    narrow = fit(COLUMNS, 30, auto, natural)
    assert sum(narrow) + len(COLUMNS) - 1 <= 30 and all(narrow)
    assert fit(COLUMNS, 30, auto, natural, scrolled_past=[1])[1] == 0  # → scrolled past the status
    assert fit_cell(Text("mlw-prod-weu-07"), 10, "left", "…", middle=True).plain == "mlw-pr…-07"  # the last part kept
    assert fit_cell(Text("Completed"), 6, "left", "~").plain == "Compl~"


def test_rows_apply_diffs_sort_and_filter() -> None:
    data = TableRows()
    data.set_columns(COLUMNS)
    assert data.set_rows(ROWS) == set(ROWS)
    assert data.view() == list(ROWS)  # no sort: the order given
    versions = dict(data.versions)
    assert data.set_rows(ROWS) is None  # unchanged: nothing to repaint
    assert data.set_rows({**ROWS, "b": ("cpu-cluster-10", "Running", 0, 8)}) == {"b"}
    assert data.versions["b"] > versions["b"] and data.versions["a"] == versions["a"]
    assert data.sort_by("gpus") and data.view() == ["b", "d", "a", "c"]
    assert not data.sort_by("gpus", reverse=False)  # already so
    assert data.set_filter("running") and data.view() == ["b", "d", "a"]
    assert not data.set_filter("running")  # the filter in effect
    with pytest.raises(FILTER_ERRORS):
        data.set_filter("re:[")
    assert data.filter_text == "running"  # an invalid filter changes nothing
    assert data.update_cell("a", "gpus", 1) and data.view() == ["b", "a", "d"]  # the sort cell moved its row
    assert not data.update_cell("a", "gpus", 1)
    with pytest.raises(ValueError, match="flex"):
        data.set_columns([Column("a", "A", flex=True), Column("b", "B", flex=True)])


def test_the_data_modules_import_without_textual() -> None:
    code = (
        "import sys\n"
        "import screens.widgets.table_filter, screens.widgets.table_search\n"
        "import screens.widgets.table_sort, screens.widgets.table_layout, screens.widgets.table_rows\n"
        "assert 'textual' not in sys.modules, sorted(m for m in sys.modules if m.startswith('textual'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
