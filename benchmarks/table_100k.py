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


def rows(n: int) -> list[tuple[str, list[object]]]:
    statuses = ["Completed", "Failed", "Running", "Canceled", "Queued"]
    return [
        (
            f"job-{i:06d}",
            [f"train-model-{i:06d}", statuses[i % 5], f"exp-{i % 37}", f"gpu-{i % 4}", i * 7 % 86400, f"user{i % 11}"],
        )
        for i in range(n)
    ]


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
        t = time.perf_counter()
        table.set_rows(data)
        await pilot.pause()
        out["first_paint_s"] = time.perf_counter() - t
        await pilot.pause(0.8)  # background search indexing, as a user would see it
        t = time.perf_counter()
        table.set_filter("failed")
        await pilot.pause()
        out["filter_s"] = time.perf_counter() - t
        out["filter_rows"] = table.visible_count
        table.set_filter("")
        await pilot.pause()
        t = time.perf_counter()
        table.sort_by("dur")
        await pilot.pause()
        out["sort_s"] = time.perf_counter() - t
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
        t = time.perf_counter()
        for key, cells in data:
            table.add_row(*cells, key=key)
        await pilot.pause()
        out["first_paint_s"] = time.perf_counter() - t
        t = time.perf_counter()
        table.sort("duration")
        await pilot.pause()
        out["sort_s"] = time.perf_counter() - t
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
