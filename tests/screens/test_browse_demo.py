"""`enter` on a demo datastore lists its contents on the rendered screen: folders first, then files with their
sizes and modified times, served by the emulator's storage data plane through the Cloud seam (no public host)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from console.app import AzmlApp
from console.demo import DemoBackend
from console.snapshot_render import _screen_text
from screens.datastores import BrowseScreen, DatastoresScreen, human_size
from services import datastores
from tests.test_app import wait_for


@pytest.mark.parametrize(
    "name", ["workspaceblobstore", "workspacefilestore", "raw_landing", "shared_models", "curated_lake"]
)
def test_enter_on_a_demo_datastore_lists_folders_and_files_on_screen(name: str) -> None:
    backend = DemoBackend({"frozen": "true"})
    seen: dict[str, Any] = {}

    async def main() -> None:
        app = AzmlApp(backend.connect, profile="demo")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(lambda: app.workspace is not None, pilot)
            await pilot.press("colon", *"datastores", "enter")
            await wait_for(lambda: isinstance(app.screen, DatastoresScreen) and app.screen.loads > 0, pilot)
            screen = app.screen
            assert isinstance(screen, DatastoresScreen)
            key = next(k for k, d in screen.models.items() if d.name == name)
            screen.table.move_cursor(key)
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(lambda: isinstance(app.screen, BrowseScreen) and app.screen.loads > 0, pilot, timeout=45)
            browser = app.screen
            assert isinstance(browser, BrowseScreen)
            await pilot.pause()
            seen["error"] = browser.error
            seen["text"] = _screen_text(app)
            assert app.session is not None
            seen["listing"] = datastores.browse(app.session, screen.models[key])

    try:
        asyncio.run(main())
    finally:
        backend.stop()
    assert seen["error"] == ""
    text: str = seen["text"]
    assert f"Browse {name}:/" in text
    assert "getaddrinfo" not in text and "core.windows.net" not in text
    lines = text.splitlines()
    entries = seen["listing"].entries
    dirs = [e for e in entries if e.is_dir]
    files = [e for e in entries if not e.is_dir]
    assert dirs and files
    for d in dirs:
        assert any(f" {d.name}/ " in f" {line} " for line in lines), (d.name, text)
    for f in files:  # a file's row: its name, its size and its modified time on one line
        row = next((line for line in lines if f" {f.name} " in f" {line} "), "")
        assert human_size(f.size) in row and f.modified is not None and f.modified.strftime("%Y-%m-%d") in row, (
            f.name,
            text,
        )
