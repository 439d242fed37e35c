"""100,000 jobs in the console's table vs the stock DataTable: first paint, filter, sort, peak RSS.

Each variant runs in its own process so peak RSS is its own. Prints one JSON object.
    python -m benchmarks.table_100k keyed|datatable ROWS
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def rows(n: int) -> list[tuple[str, list[str | int]]]:
    statuses = ["Completed", "Failed", "Running", "Canceled", "Queued"]
    return [
        (
            f"job-{i:06d}",
            [f"train-model-{i:06d}", statuses[i % 5], f"exp-{i % 37}", f"gpu-{i % 4}", i * 7 % 86400, f"user{i % 11}"],
        )
        for i in range(n)
    ]


async def painted(app: Any, change: Callable[[], object]) -> float:
    """Seconds from making `change` until the frame showing it has been composed (Textual runs
    after-refresh callbacks once the screen update that follows the change is done)."""
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    start = time.perf_counter()
    change()
    app.call_after_refresh(lambda: done.set_result(time.perf_counter()))
    return await done - start


async def keyed(n: int) -> dict[str, float]:
    from textual.app import App, ComposeResult

    from screens.widgets.table import Column, KeyedTable

    data = rows(n)
    cols = [
        Column("name", "Name", flex=True),
        Column("status", "Status"),
        Column("exp", "Experiment"),
        Column("compute", "Compute"),
        Column("dur", "Duration", numeric=True),
        Column("user", "Creator"),
    ]

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield KeyedTable(cols, id="t")

    app = Bench()
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(KeyedTable)
        await pilot.pause()
        before = table.lines_rendered
        out["first_paint_s"] = await painted(app, lambda: table.set_rows(data))
        out["lines_painted"] = table.lines_rendered - before  # the frame did draw the rows
        t = time.perf_counter()
        await pilot.pause()  # the search index is built in slices between frames, as a user would see it
        out["index_built_s"] = out["first_paint_s"] + time.perf_counter() - t
        out["filter_s"] = await painted(app, lambda: table.set_filter("failed"))
        out["filter_rows"] = table.visible_count
        table.set_filter("")
        await pilot.pause()
        out["sort_s"] = await painted(app, lambda: table.sort_by("dur"))
    return out


async def datatable(n: int) -> dict[str, float]:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    data = rows(n)

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="t")

    app = Bench()
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        table: DataTable[object] = app.query_one(DataTable)
        for c in ("Name", "Status", "Experiment", "Compute", "Duration", "Creator"):
            table.add_column(c, key=c.lower())
        await pilot.pause()

        def fill() -> None:
            for key, cells in data:
                table.add_row(*cells, key=key)

        out["first_paint_s"] = await painted(app, fill)
        await pilot.pause()
        out["sort_s"] = await painted(app, lambda: table.sort("duration"))
    return out


def peak_rss_mb() -> float:
    """This process's own high-water mark. (ru_maxrss survives exec on Linux: a child started by a big
    parent would report the parent's peak.)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    kind, n = sys.argv[1], int(sys.argv[2])
    result = asyncio.run(keyed(n) if kind == "keyed" else datatable(n))
    result["peak_rss_mb"] = peak_rss_mb()
    result["rows"] = n
    print(json.dumps(result))


if __name__ == "__main__":
    main()
