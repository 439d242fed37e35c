"""The key bar at the bottom of each screen, on the demo emulator: it lists the focused screen's keys, keeps
`? Help` when 80 columns cannot hold them all, and a click on a hint presses its key."""

from __future__ import annotations

from typing import Any

import pytest

from console.app import AzmlApp
from screens.compute import ComputeScreen
from screens.widgets.keybar import KeyBar
from tests.screens.test_quiet_refresh import run
from tests.test_app import wait_for


def _run(size: tuple[int, int], scenario: Any) -> None:
    async def on_compute(app: AzmlApp, pilot: Any) -> None:
        await wait_for(lambda: app.workspace is not None, pilot, timeout=60)
        await pilot.press("colon", *"compute", "enter")
        await wait_for(lambda: isinstance(app.screen, ComputeScreen) and bool(app.screen.models), pilot)
        await pilot.pause(0.2)
        await scenario(app, pilot, app.screen.query_one(KeyBar))

    run(on_compute, size)


@pytest.mark.timeout(120)
def test_wide_bar_lists_every_shown_key_of_the_screen() -> None:
    async def scenario(app: AzmlApp, pilot: Any, bar: KeyBar) -> None:
        screen = app.screen
        assert isinstance(screen, ComputeScreen)
        # the keys that apply to the row under the cursor: a cluster's, then a running instance's
        cluster = next(c for c in screen.models.values() if c.kind == "cluster")
        screen.table.move_cursor(cluster.key)
        await pilot.pause(0.1)
        shown = str(bar.render())
        for words in ("r Refresh", "n Nodes", "e Scale", "c New cluster", "D Delete", "? Help"):
            assert words in shown, f"{words!r} missing from {shown!r}"
        assert "GPU only" not in shown  # show=False stays out of the bar (it is in `?`)
        running = next(c for c in screen.models.values() if c.kind == "instance" and c.state == "Running")
        screen.table.move_cursor(running.key)
        await pilot.pause(0.1)
        shown = str(bar.render())
        for words in ("r Refresh", "o Stop", "R Restart", "c New cluster", "D Delete", "? Help"):
            assert words in shown, f"{words!r} missing from {shown!r}"

    _run((200, 40), scenario)


@pytest.mark.timeout(120)
def test_narrow_bar_keeps_help_and_a_click_presses_the_key() -> None:
    async def scenario(app: AzmlApp, pilot: Any, bar: KeyBar) -> None:
        screen = app.screen
        assert isinstance(screen, ComputeScreen)
        screen.table.move_cursor(next(c.key for c in screen.models.values() if c.kind == "cluster"))
        await pilot.pause(0.1)
        shown = str(bar.render())
        assert len(shown) <= 80
        assert shown.rstrip().endswith("? Help"), shown
        assert "D Delete" not in shown  # did not fit: dropped whole, not cut in half
        assert screen.table.sort_column is None
        x = shown.index(" s Sort")
        await pilot.click(KeyBar, offset=(x + 1, 0))
        await pilot.pause(0.1)
        assert screen.table.sort_column is not None, "a click on 's Sort' did not sort"

    _run((80, 24), scenario)
