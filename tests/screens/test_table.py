"""KeyedTable: diffs keep the cursor on its key, unchanged data paints nothing, sort/filter/keys/mouse, literal
text, truncation at 80 columns, and 100,000 rows (timings are printed and recorded, never asserted)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip

from screens.widgets.table import Cell, Column, KeyedTable

COLUMNS = [
    Column("name", "Name", flex=True),
    Column("status", "Status", width=10),
    Column("compute", "Compute"),
    Column("duration", "Duration", numeric=True, width=10),
    Column("created", "Created", width=10),
]
STATES = ("Running", "Failed", "Completed")


def job(i: int, status: str | None = None) -> tuple[Cell, ...]:
    state = status or STATES[i % 3]
    return (f"job-{i}", Text(state, style="red" if state == "Failed" else ""), f"cpu-{i % 7}", i * 1.5, "2024-05-01")


def jobs(n: int, start: int = 0) -> dict[str, tuple[Cell, ...]]:
    return {f"job-{i}": job(i) for i in range(start, start + n)}


class CountingTable(KeyedTable):
    """Counts render_line calls: an update must re-render only what changed."""

    render_calls = 0

    def render_line(self, y: int) -> Strip:
        self.render_calls += 1
        return super().render_line(y)


class TableApp(App[None]):
    def __init__(self, columns: list[Column] | None = None, **table: Any) -> None:
        super().__init__()
        self.columns = columns or COLUMNS
        self.table_options = table
        self.selected: list[str] = []
        self.highlighted: list[str | None] = []
        self.frames: list[float] = []

    def compose(self) -> ComposeResult:
        yield CountingTable(self.columns, id="table", **self.table_options)

    @property
    def table(self) -> CountingTable:
        return self.query_one(CountingTable)

    def on_keyed_table_selected(self, message: KeyedTable.Selected) -> None:
        self.selected.append(message.key)

    def on_keyed_table_highlighted(self, message: KeyedTable.Highlighted) -> None:
        self.highlighted.append(message.key)

    def _display(self, screen: Any, renderable: Any) -> None:
        # Headless runs write nothing, but every update that would reach the terminal passes through here.
        if renderable is not None:
            self.frames.append(time.perf_counter())
        super()._display(screen, renderable)


Scenario = Callable[[TableApp, CountingTable, Pilot[None]], Awaitable[None]]


def run(scenario: Scenario, size: tuple[int, int] = (80, 24), **table: Any) -> None:
    table.setdefault("ascii_only", False)  # glyph tests must not depend on the runner's TERM

    async def main() -> None:
        app = TableApp(**table)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await scenario(app, app.table, pilot)

    asyncio.run(main())


def texts(table: KeyedTable) -> Iterator[str]:
    for y in range(table.scrollable_content_region.height):
        yield table.render_line(y).text


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause(0.05)


def test_100k_rows_first_paint_and_filter_stay_responsive(record_property: Callable[[str, object], None]) -> None:
    rows = jobs(100_000)

    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        app.frames.clear()
        start = time.perf_counter()
        table.set_rows(rows)
        call = time.perf_counter() - start
        while not app.frames:
            await asyncio.sleep(0.001)
        first_paint = app.frames[0] - start
        assert table.row_count == 100_000 and table.visible_count == 100_000
        assert "job-0" in table.render_line(1).text

        await pilot.press("end")
        assert table.cursor_key == "job-99999"
        assert "job-99999" in "\n".join(texts(table))

        await pilot.pause(1.0)  # background search indexing runs between frames
        start = time.perf_counter()
        table.set_filter("cpu-3")
        filter_time = time.perf_counter() - start
        assert table.visible_count == len([k for k, r in rows.items() if r[2] == "cpu-3"])

        start = time.perf_counter()
        table.set_filter("re:^job-9999\\d$")
        regex_time = time.perf_counter() - start
        assert table.visible_count == 10

        table.set_filter("")
        start = time.perf_counter()
        table.update_cell("job-5", "status", "Canceled")
        update_time = time.perf_counter() - start

        start = time.perf_counter()
        table.sort_by("duration", reverse=True)
        sort_time = time.perf_counter() - start
        assert table.visible_keys[0] == "job-99999"

        timings = {
            "set_rows_100k_s": round(call, 3),
            "first_paint_100k_s": round(first_paint, 3),
            "filter_substring_100k_ms": round(filter_time * 1000, 1),
            "filter_regex_100k_ms": round(regex_time * 1000, 1),
            "update_cell_ms": round(update_time * 1000, 2),
            "sort_numeric_100k_ms": round(sort_time * 1000, 1),
        }
        for name, value in timings.items():
            record_property(name, value)
        print(timings)

    run(scenario, size=(120, 40))


def test_diff_keeps_cursor_on_its_key_and_the_scroll_offset() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(200))
        await settle(pilot)
        for _ in range(30):
            await pilot.press("down")
        assert table.cursor_key == "job-30"
        scroll = table.scroll_y
        assert scroll > 0

        # New rows on top, one row changed, one row gone: the cursor follows job-30.
        new = {"job-new-a": job(1000), "job-new-b": job(1001), **jobs(200)}
        new["job-30"] = job(30, status="Failed")
        del new["job-100"]
        table.set_rows(new)
        await settle(pilot)
        assert table.cursor_key == "job-30"
        assert table.cursor_row == 32
        assert table.scroll_y == scroll
        assert table.row(table.cursor_key) == job(30, status="Failed")
        assert app.highlighted[-1] == "job-30"  # no Highlighted for a cursor that did not move

    run(scenario)


def test_removing_the_cursor_row_moves_to_the_next_then_the_previous() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(10))
        await settle(pilot)
        assert table.move_cursor("job-4")
        rows = jobs(10)
        del rows["job-4"]
        table.set_rows(rows)
        assert table.cursor_key == "job-5"  # the row that took its place

        await pilot.press("end")
        assert table.cursor_key == "job-9"
        del rows["job-9"], rows["job-8"]
        table.set_rows(rows)
        assert table.cursor_key == "job-7"  # nothing after it: the previous survivor

        table.set_rows({})
        await settle(pilot)
        assert table.cursor_key is None and table.row_count == 0
        assert app.highlighted[-1] is None
        await pilot.press("down", "enter")  # an empty table ignores keys
        assert app.selected == []

    run(scenario)


def test_sort_toggles_numbers_naturally_with_empty_cells_last() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        rows: dict[str, tuple[Cell, ...]] = {
            "a": ("node-10", "x", "c", 10, ""),
            "b": ("node-2", "x", "c", 9.5, ""),
            "c": ("node-1", "x", "c", None, ""),
            "d": ("Node-3", "x", "c", 100, ""),
        }
        table.set_rows(rows)
        await settle(pilot)
        table.move_cursor("b")

        table.sort_by("duration")
        assert list(table.visible_keys) == ["b", "a", "d", "c"]
        assert "Duration ▲" in table.render_line(0).text
        assert table.cursor_key == "b"
        table.sort_by("duration")  # again: toggles
        assert table.sort_reverse
        assert list(table.visible_keys) == ["d", "a", "b", "c"]  # None stays last
        assert "Duration ▼" in table.render_line(0).text
        assert table.cursor_key == "b" and table.cursor_row == 2

        table.sort_by("name")
        assert list(table.visible_keys) == ["c", "b", "d", "a"]  # node-1, node-2, Node-3, node-10
        table.sort_by("name", reverse=True)
        assert list(table.visible_keys) == ["a", "d", "b", "c"]

        # A diff under a sort keeps rows sorted; a changed sort cell moves its row.
        rows["e"] = ("node-0", "x", "c", 1, "")
        table.set_rows(rows)
        assert list(table.visible_keys) == ["a", "d", "b", "c", "e"]
        table.update_cell("e", "name", "node-99")
        assert list(table.visible_keys) == ["e", "a", "d", "b", "c"]

        table.sort_by(None)
        assert list(table.visible_keys) == ["a", "b", "c", "d", "e"]

    run(scenario)


def test_filter_substring_regex_and_inverted() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        rows = jobs(30)
        rows["bang"] = ("!important", Text("Running"), "cpu-0", 1.0, "2024-05-01")
        table.set_rows(rows)
        await settle(pilot)

        assert table.set_filter("FAILED")  # case-insensitive, Text cells included
        assert table.visible_count == 10
        assert all(table.row(k)[1].plain == "Failed" for k in table.visible_keys)  # type: ignore[index,union-attr]

        assert table.set_filter("re:^job-2\\d$")  # anchors at cell boundaries
        assert list(table.visible_keys) == [f"job-{i}" for i in range(20, 30)]
        assert table.set_filter("/^job-1[0-4]$/")
        assert list(table.visible_keys) == [f"job-{i}" for i in range(10, 15)]

        assert table.set_filter("!cpu-0")
        assert table.visible_count == 31 - 6
        assert "bang" not in table.visible_keys
        assert table.set_filter("!re:completed|failed")
        assert {table.row(k)[1].plain for k in table.visible_keys} == {"Running"}  # type: ignore[index,union-attr]
        assert "bang" in table.visible_keys

        assert table.set_filter("\\!imp")  # a literal leading "!"
        assert list(table.visible_keys) == ["bang"]

        assert table.set_filter("no such thing")
        assert table.visible_count == 0
        assert table.cursor_key is None
        assert "no rows match" in table.render_line(1).text

        assert table.set_filter("")
        assert table.visible_count == 31

    run(scenario)


def test_invalid_regex_keeps_the_previous_rows_and_reports() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(30))
        await settle(pilot)
        assert table.set_filter("re:^job-1")
        before = list(table.visible_keys)
        assert table.filter_error is None

        assert not table.set_filter("re:job-[")
        assert table.filter_error and "invalid regular expression" in table.filter_error
        assert list(table.visible_keys) == before
        assert table.filter_text == "re:^job-1"

        assert table.set_filter("re:job-[12]$")
        assert table.filter_error is None
        assert list(table.visible_keys) == ["job-1", "job-2"]

    run(scenario)


def test_filtered_rows_follow_updates() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(9))
        table.set_filter("failed")
        assert list(table.visible_keys) == ["job-1", "job-4", "job-7"]
        table.update_cell("job-0", "status", "Failed")
        table.update_cell("job-4", "status", "Completed")
        assert list(table.visible_keys) == ["job-0", "job-1", "job-7"]
        rows = jobs(9)
        rows["job-2"] = job(2, status="Failed")
        table.set_rows(rows)
        assert list(table.visible_keys) == ["job-1", "job-2", "job-4", "job-7"]

    run(scenario)


def test_unchanged_update_renders_and_writes_nothing_and_one_change_one_line() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(500))
        await settle(pilot)
        await pilot.pause(0.2)
        calls, rendered = table.render_calls, table.lines_rendered
        app.frames.clear()

        table.set_rows(jobs(500))  # equal values, new objects
        await settle(pilot)
        await pilot.pause(0.2)  # idle as well
        assert table.render_calls == calls
        assert table.lines_rendered == rendered
        assert app.frames == []

        table.update_cell("job-3", "duration", 99.0)
        await settle(pilot)
        assert table.lines_rendered == rendered + 1
        assert table.render_calls - calls <= 2  # the changed line (the compositor may add a neighbour)
        assert "99" in table.render_line(4).text

        rows = jobs(500)
        rows["job-3"] = ("job-3", Text("Running"), "cpu-3", 99.0, "2024-05-01")
        rows["job-5"] = job(5, status="Failed")
        calls, rendered = table.render_calls, table.lines_rendered
        table.set_rows(rows)
        await settle(pilot)
        assert table.lines_rendered == rendered + 1  # job-3 equal to what update_cell made; job-5 changed
        assert table.render_calls - calls <= 3

        rows["job-400"] = job(400, status="Failed")  # off screen: nothing to paint
        calls = table.render_calls
        app.frames.clear()
        table.set_rows(rows)
        await settle(pilot)
        assert table.render_calls == calls
        assert app.frames == []

    run(scenario)


def test_keys_move_the_cursor_and_enter_selects() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(100))
        await settle(pilot)
        assert table.has_focus
        assert table.cursor_key == "job-0"
        await pilot.press("down", "down")
        assert table.cursor_key == "job-2"
        assert app.highlighted[-2:] == ["job-1", "job-2"]
        await pilot.press("up")
        assert table.cursor_key == "job-1"

        page = table.scrollable_content_region.height - 2
        await pilot.press("pagedown")
        assert table.cursor_row == 1 + page
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert table.scroll_y > 0
        first_visible = round(table.scroll_y)
        rows_visible = table.scrollable_content_region.height - 1
        assert first_visible <= table.cursor_row < first_visible + rows_visible

        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_key == "job-99"
        assert "job-99" in "\n".join(texts(table))
        await pilot.press("pageup")
        assert table.cursor_row == 99 - page
        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_key == "job-0" and table.scroll_y == 0

        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == ["job-0"]

    run(scenario)


def test_click_moves_the_cursor_and_header_click_sorts() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(20))
        await settle(pilot)
        await pilot.click(CountingTable, offset=(2, 4))  # line 0 is the header
        assert table.cursor_key == "job-3"
        await pilot.double_click(CountingTable, offset=(2, 6))
        await pilot.pause()
        assert table.cursor_key == "job-5"
        assert app.selected[-1] == "job-5"

        x = table.render_line(0).text.index("Duration")
        await pilot.click(CountingTable, offset=(x, 0))
        assert table.sort_column == "duration" and not table.sort_reverse
        await pilot.click(CountingTable, offset=(x, 0))
        assert table.sort_reverse
        assert table.visible_keys[0] == "job-19"
        assert table.cursor_key == "job-5"

    run(scenario)


def test_markup_looking_text_is_shown_literally() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows({"m": ("[bold]train[/bold] [link=x]y", "[red]x", "c", None, "a\nb\tc")})
        await settle(pilot)
        line = table.render_line(1)
        assert "[bold]train[/bold] [link=x]y" in line.text
        assert "[red]x" in line.text
        assert "a b c" in line.text  # control characters cannot break the line
        assert line.cell_length == table.scrollable_content_region.width
        name = next(seg for seg in line if "train" in seg.text)
        assert name.style is not None and not name.style.link
        assert table.row("m") == ("[bold]train[/bold] [link=x]y", "[red]x", "c", None, "a\nb\tc")

    run(scenario)


def test_80_columns_fit_and_long_cells_end_with_an_ellipsis() -> None:
    long_name = "pipeline-" + "very-long-experiment-name-" * 6 + "end"

    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        rows = jobs(5)
        rows["long"] = (long_name, Text("Completed"), "gpu-cluster-with-a-very-long-name-a100", 12.25, "2024-05-01")
        table.set_rows(rows)
        await settle(pilot)
        width = table.scrollable_content_region.width
        assert width <= 80
        header = table.render_line(0).text
        for label in ("Name", "Status", "Compute", "Duration", "Created"):
            assert label in header
        line = table.render_line(6).text
        assert len(line) == width
        assert "pipeline-very-long" in line and "…" in line
        assert long_name not in line
        assert line.rstrip().endswith("2024-05-01")
        assert table.row("long")[0] == long_name  # type: ignore[index]
        duration = line.index("12.25")
        assert header.index("Duration") + len("Duration") == duration + len("12.25")  # numbers right-aligned

    run(scenario, size=(80, 24))


def test_ascii_glyphs_for_linux_consoles() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows({"x": ("y" * 200, "Running", "c", 1, "d")})
        table.sort_by("name", reverse=True)
        await settle(pilot)
        assert "Name v" in table.render_line(0).text
        line = table.render_line(1).text
        assert "~" in line and "…" not in line
        assert line.isascii()

    run(scenario, ascii_only=True)


def test_cursor_line_uses_reverse_so_it_shows_without_colour() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(3))
        await settle(pilot)
        cursor, other = table.render_line(1), table.render_line(2)
        assert all(seg.style and seg.style.reverse for seg in cursor if seg.text.strip())
        assert not any(seg.style and seg.style.reverse for seg in other)
        header = table.render_line(0)
        assert all(seg.style and seg.style.bold for seg in header if seg.text.strip())

    run(scenario)


def test_svg_screenshot_includes_the_header(tmp_path: Path) -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(50))
        await settle(pilot)
        path = Path(app.save_screenshot(filename="table.svg", path=str(tmp_path)))
        svg = path.read_text()
        for label in ("Name", "Status", "Compute", "Duration", "Created"):
            assert label in svg
        assert "job-0" in svg

    run(scenario, size=(100, 30))


@pytest.mark.parametrize("bad", [[Column("a", "A", flex=True), Column("b", "B", flex=True)]])
def test_at_most_one_flex_column(bad: list[Column]) -> None:
    with pytest.raises(ValueError):
        KeyedTable(bad)


def test_filtering_while_scrolled_down_shows_the_matches() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(200))
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert table.scroll_y > 0
        table.set_filter("re:^job-1[0-2]$")
        await settle(pilot)
        assert table.scroll_y == 0
        assert [line.split()[0] for line in list(texts(table))[1:4]] == ["job-10", "job-11", "job-12"]
        assert table.cursor_key == "job-12"  # the nearest survivor of job-199, searching backwards

    run(scenario)


def test_sort_scrolls_to_keep_the_cursor_row_in_sight() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(jobs(200))
        await settle(pilot)
        table.sort_by("duration", reverse=True)  # job-0 moves from the top to the bottom
        await settle(pilot)
        assert table.cursor_key == "job-0" and table.cursor_row == 199
        assert "job-0 " in "\n".join(texts(table))

    run(scenario)


DROPPING = [
    Column("name", "Name", flex=True, min_width=12),
    Column("status", "Status"),
    Column("compute", "Compute"),
    Column("note", "Note", drop=1),
    Column("tier", "Tier", drop=2),
]


def _dropping_rows() -> dict[str, tuple[Cell, ...]]:
    return {
        f"r{i}": (f"row-{i}", "Completed", "gpu-cluster-a100-east", "a note of some length", "dedicated")
        for i in range(3)
    }


@pytest.mark.parametrize(("width", "shown"), [(120, 5), (75, 4), (62, 3)])
def test_narrow_tables_drop_the_optional_columns_before_truncating_others(width: int, shown: int) -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(_dropping_rows())
        await settle(pilot)
        keys = [c.key for c in table.shown_columns]
        assert keys == ["name", "status", "compute", "note", "tier"][:shown]  # tier goes first, then note
        header, line = table.render_line(0).text, table.render_line(1).text
        assert header.split() == [c.label for c in table.shown_columns]
        assert "Completed" in line and "gpu-cluster-a100-east" in line  # the others stay whole
        if shown < 5:
            assert "Tier" not in header and "dedicated" not in line
        # A click on a header still sorts by the column under it.
        await pilot.click(CountingTable, offset=(header.index("Compute") + 1, 0))
        await pilot.pause()
        assert table.sort_column == "compute"

    run(scenario, size=(width, 10), columns=DROPPING)


def test_wide_terminals_let_capped_columns_show_their_values_whole() -> None:
    columns = [Column("name", "Name", flex=True, min_width=10), Column("exp", "Experiment", max_width=8)]

    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows({"a": ("job-a", "image-classification"), "b": ("job-b", "churn")})
        await settle(pilot)
        assert "image-classification" in table.render_line(1).text  # room to spare: the cap gives way

    run(scenario, size=(120, 10), columns=columns)

    async def narrow(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows({"a": ("job-a", "image-classification"), "b": ("job-b", "churn")})
        await settle(pilot)
        line = table.render_line(1).text
        assert "…" in line and "image-classification" not in line  # no room: truncated

    run(narrow, size=(20, 10), columns=columns)


def test_truncated_names_keep_the_tail_that_tells_them_apart() -> None:
    columns = [Column("name", "Name", flex=True, min_width=14, max_width=14), Column("state", "State", width=65)]

    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(
            {
                "a": ("mlw-prod-westeurope-07", "ok"),
                "b": ("mlw-prod-westeurope-08", "ok"),
                "c": ("tvmps_8a1c6e0f2d4b9c3e5f7a_d", "ok"),
                "d": ("tvmps_8a1c6e0f2d4b9c3e5f7b_d", "ok"),
            }
        )
        await settle(pilot)
        lines = [line.split(" ")[0] for line in list(texts(table))[1:5]]
        assert lines[0] == "mlw-prod-w…-07" and lines[1] == "mlw-prod-w…-08"
        assert len(set(lines)) == 4, lines  # every row still distinguishable
        assert all(len(name) == 14 for name in lines)

    run(scenario, size=(80, 10), columns=columns)


def test_left_and_right_scroll_to_the_columns_dropped_at_this_width() -> None:
    async def scenario(app: TableApp, table: CountingTable, pilot: Pilot[None]) -> None:
        table.set_rows(_dropping_rows())
        table.focus()
        await settle(pilot)
        first = table.render_line(0).text.split()
        assert first == ["Name", "Status", "Compute"]
        await pilot.press("right")
        await settle(pilot)
        header = table.render_line(0).text.split()
        assert header[0] == "Name" and "Status" not in header and "Note" in header
        await pilot.press("right", "right", "right")  # only as far as the last column
        await settle(pilot)
        header = table.render_line(0).text.split()
        assert header[-1] == "Tier" and "dedicated" in table.render_line(1).text
        await pilot.press("left", "left", "left", "left", "left")
        await settle(pilot)
        assert table.render_line(0).text.split() == first

    run(scenario, size=(62, 10), columns=DROPPING)
