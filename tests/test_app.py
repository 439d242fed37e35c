"""The app shell on the demo wiring: context header, workspace rows from the emulator, commands,
help, history, clean quit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.widgets.context_bar import render_context
from screens.workspaces import WorkspacesScreen


async def wait_for(predicate: Callable[[], Any], pilot: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


@pytest.mark.timeout(90)
def test_demo_shell_shows_context_and_workspaces_then_quits() -> None:
    backend = DemoBackend({"frozen": "true"})

    async def scenario() -> None:
        app = AzmlApp(backend.connect, profile="demo")
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.screen
            assert isinstance(screen, WorkspacesScreen)
            await wait_for(lambda: bool(screen.models) and app.workspace is not None, pilot)
            emu = backend.emulator
            assert emu is not None
            names = {w.name for w in screen.models.values()}
            assert names == {w["name"] for w in emu.estate.workspaces()}
            ctx = app.context
            assert ctx.profile == "demo"
            assert ctx.subscriptions == len(emu.subscription_ids)
            assert ctx.subscription in {s["displayName"] for s in emu.estate.subscriptions}
            assert ctx.refreshed and ctx.workspace in names
            rendered = str(render_context(ctx))
            assert "demo" in rendered and ctx.subscription in rendered
            await pilot.press("ctrl+c")  # must not quit
            await pilot.pause(0.1)
            assert app.is_running
            await pilot.press("down", "enter")
            await pilot.pause(0.1)
            assert app.workspace is not None and app.workspace.key == screen.table.cursor_key
            assert app.context.workspace == app.workspace.name
            await pilot.press("q")
            await pilot.pause(0.1)
        assert not app.is_running

    try:
        asyncio.run(scenario())
    finally:
        backend.stop()
    assert backend.emulator is None


def test_first_frame_imports_no_azure_sdk() -> None:
    code = (
        "import sys, console.app, console.demo, console.cli, screens.workspaces; "
        "bad = sorted(m for m in sys.modules if m.startswith(('azure.ai', 'azure.mgmt', 'azure.monitor')));"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def _loaded_after(code: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with one of ``prefixes`` loaded by ``code`` in a fresh interpreter."""
    probe = f"import sys; {code}; print(','.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def test_first_frame_loads_the_declarations_it_draws_not_the_loaders_nor_the_emulator_http_layer() -> None:
    """The first frame draws the workspace kind's columns: its loader's types, the error mapping and the
    emulator's HTTP layer (the demo validates its options first, then starts the emulator in a worker) wait."""
    code = (
        "import console.app, console.demo, console.cli, screens.workspaces; "
        "from emulator import EmulatorConfig; EmulatorConfig.from_options({'faults': 'rate=0.1'})"
    )
    heavy = ("services.kind_parts", "services.errors", "services.session", "emulator.http", "emulator.providers")
    assert _loaded_after(code, heavy) == []


def test_commands_and_palette_read_the_kind_registry_without_a_session_or_an_sdk() -> None:
    """`:`, Tab and the palette list every kind's command: reading the declarations loads no service module
    that talks to Azure (nor the session and its clients)."""
    code = "from console.commands import all_commands; all_commands()"
    assert _loaded_after(code, ("services.session", "services.clients", "azure")) == []


@pytest.mark.timeout(90)
def test_errors_show_in_full_on_demand() -> None:
    from emulator.faults import FaultRule
    from screens.modals import DetailScreen

    backend = DemoBackend({"frozen": "true"})

    async def scenario() -> None:
        app = AzmlApp(backend.connect, profile="demo", refresh_interval=0)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: app.workspace is not None, pilot)
            emu = backend.emulator
            assert emu is not None
            emu.faults.add(FaultRule(pattern=r"/computes$", status=403))
            await pilot.press("colon", *"compute", "enter")
            await wait_for(lambda: bool(app.errors), pilot)
            status = str(app.screen.query_one("#status").render())
            assert "forbidden" in status and "request id" in status
            await pilot.press("colon", *"errors", "enter")
            await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
            text = str(app.screen.query_one("#detail-text").render())
            assert "AuthorizationFailed" in text and "request id" in text

    try:
        asyncio.run(scenario())
    finally:
        backend.stop()
