"""Depth on the demo emulator, asserted on what is drawn: the Log Analytics workspace in a workspace's describe,
the compute instance's assigned user, the nested pipeline step tree, deployment log follow."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.modals import DetailScreen
from screens.workspaces import WorkspacesScreen
from services import monitor
from tests.screens.rendered import screen_text
from tests.test_app import wait_for

Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]


def run(scenario: Scenario, *, size: tuple[int, int] = (120, 40), **kwargs: Any) -> None:
    backend = DemoBackend({"frozen": "true"})

    async def main() -> None:
        app = AzmlApp(backend.connect, profile="demo", refresh_interval=0, **kwargs)
        async with app.run_test(size=size) as pilot:
            await wait_for(lambda: app.workspace is not None and bool(app.known_workspaces()), pilot, timeout=60)
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


def flat(app: AzmlApp) -> str:
    """The frame's text with box edges and line breaks folded into single spaces (wrapped values joined)."""
    return " ".join(screen_text(app).replace("│", " ").split())


async def command(pilot: Any, text: str) -> None:
    await pilot.press("colon", *("space" if ch == " " else ch for ch in text), "enter")
    await pilot.pause(0.05)


@pytest.mark.timeout(120)
def test_workspace_describe_names_its_log_analytics_workspace() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = app.screen
        assert isinstance(screen, WorkspacesScreen) and app.session is not None and app.workspace is not None
        law = monitor.log_analytics_workspace(app.session, app.workspace)
        assert screen.table.move_cursor(app.workspace.key)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
        await pilot.pause(0.1)
        shown = flat(app)
        assert f"Log Analytics workspace {law.name} (customer id {law.customer_id}" in shown
        assert "Application Insights" in shown

    run(scenario)
