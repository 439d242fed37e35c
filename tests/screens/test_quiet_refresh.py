"""A live refresh repaints only what changed: the rows of the terminal each screen update touches are
recorded from the compositor's updates (what Textual would write to the terminal), on the demo emulator.

- compute: a refresh of unchanged data touches the header and the status line only; after another
  operator stops an instance, the refresh touches that instance's row as well, and nothing else;
- metrics: a refresh of every panel touches border rows and the status line, never a chart's interior;
- a screen left beneath another (the history stack) does not leak repaints onto the screen on top.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual._compositor import ChopsUpdate, LayoutUpdate

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.compute import ComputeScreen
from screens.metrics import MetricsScreen
from services import compute, workspaces
from services.mutations import Target
from tests.test_app import wait_for

PROD = "mlw-prod-eus"
SIZE = (120, 40)


class Rows:
    """The terminal rows written by each screen update, from the compositor's renderables."""

    def __init__(self, app: AzmlApp) -> None:
        self.touched: set[int] = set()
        self.full = 0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if isinstance(renderable, LayoutUpdate):
                self.full += 1
                self.touched.update(range(renderable.region.y, renderable.region.bottom))
            elif isinstance(renderable, ChopsUpdate):
                self.touched.update(y for y, _, _ in renderable.spans)
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    def take(self) -> set[int]:
        touched, self.touched = self.touched, set()
        return touched


def run(scenario: Callable[[AzmlApp, Any], Awaitable[None]], size: tuple[int, int] = SIZE) -> None:
    """The console on the frozen demo estate at `size`, opened on the production workspace."""
    backend = DemoBackend({"frozen": "true"})
    ticks = itertools.count()

    def clock() -> str:  # a clock that moves: the header's "last refresh" changes on every refresh, as it does live
        return f"09:{next(ticks) % 60:02d}"

    async def main() -> None:
        app = AzmlApp(backend.connect, profile="demo", refresh_interval=0, default_workspace=PROD, clock=clock)
        async with app.run_test(size=size) as pilot:
            try:
                await scenario(app, pilot)
            finally:
                if app.session is not None:
                    app.session.close()

    try:
        asyncio.run(main())
    finally:
        backend.stop()


def _row_of(screen: ComputeScreen, key: str) -> int:
    """The terminal row showing `key`: the screen's table region, its header line, then the row's index."""
    table = screen.table
    return table.region.y + 1 + table.visible_keys.index(key) - round(table.scroll_y)


@pytest.mark.timeout(120)
def test_compute_refresh_writes_only_the_changed_row() -> None:
    async def scenario(app: AzmlApp, pilot: Any) -> None:
        await wait_for(lambda: app.workspace is not None, pilot, timeout=60)
        await pilot.press("colon", *"compute", "enter")
        await wait_for(lambda: isinstance(app.screen, ComputeScreen) and bool(app.screen.models), pilot)
        screen = app.screen
        assert isinstance(screen, ComputeScreen)
        await pilot.pause(0.3)
        rows = Rows(app)
        status_row = SIZE[1] - 2  # above the footer
        header_rows = {0, status_row}

        await pilot.press("r")
        await wait_for(lambda: screen.loads >= 2 and not screen.busy, pilot)
        await pilot.pause(0.3)
        unchanged = rows.take()
        assert rows.full == 0
        assert unchanged <= header_rows, f"rows {sorted(unchanged - header_rows)} repainted with unchanged data"

        # Another operator stops a running instance; the next refresh shows it.
        running = next(c for c in screen.models.values() if c.kind == "instance" and c.state == "Running")
        assert app.session is not None
        ws = next(w for w in workspaces.list_workspaces(app.session) if w.name == PROD)
        await asyncio.to_thread(
            compute.stop_instance, app.session, Target(ws.subscription_id, ws.resource_group, ws.name, running.name)
        )
        row = _row_of(screen, running.key)
        rows.take()
        await pilot.press("r")
        await wait_for(lambda: screen.loads >= 3 and not screen.busy, pilot)
        await pilot.pause(0.3)
        changed = rows.take()
        assert rows.full == 0
        assert row in changed, "the stopped instance's row was not redrawn"
        assert changed <= header_rows | {row}, f"rows {sorted(changed - header_rows - {row})} repainted"

    run(scenario)


@pytest.mark.timeout(120)
def test_metrics_refresh_leaves_the_charts_alone() -> None:
    async def scenario(app: AzmlApp, pilot: Any) -> None:
        await wait_for(lambda: app.workspace is not None, pilot, timeout=60)
        await pilot.press("colon", *"metrics", "enter")
        await wait_for(lambda: isinstance(app.screen, MetricsScreen), pilot)
        screen = app.screen
        assert isinstance(screen, MetricsScreen)
        panels = screen.shown_panels()
        assert len(panels) > 1
        await wait_for(lambda: all(not p.busy and p.loaded is not None for p in panels), pilot, timeout=60)
        await pilot.pause(0.3)
        loads = [p.loads for p in panels]
        rows = Rows(app)
        await pilot.press("r")
        await wait_for(
            lambda: all(not p.busy and p.loads > n for p, n in zip(panels, loads, strict=True)), pilot, timeout=60
        )
        await pilot.pause(0.3)
        touched = rows.take()
        assert rows.full == 0
        for p in panels:
            interior = set(range(p.region.y + 1, p.region.bottom - 1))
            assert not (touched & interior), f"panel {p.spec.key}: chart rows {sorted(touched & interior)} repainted"

    run(scenario)
