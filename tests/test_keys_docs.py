"""README and help agree with the bindings: every binding id of the app's screens and widgets is listed by
`:keys` (and the current screen's by `?`) and in the README's key-id list; every theme the README names exists."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

import screens
from console.app import AzmlApp
from console.demo import DemoBackend
from screens.modals import DetailScreen, HelpScreen
from tests.screens.rendered import screen_text
from tests.test_app import wait_for

README = Path(__file__).resolve().parent.parent / "README.md"


def declared_bindings() -> dict[str, Binding]:
    """Every Binding declared in a class body of the screens package or the app shell."""
    modules = [importlib.import_module(i.name) for i in pkgutil.walk_packages(screens.__path__, "screens.")]
    modules.append(importlib.import_module("console.app"))
    found: dict[str, Binding] = {}
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for b in cls.__dict__.get("BINDINGS", ()):
                assert isinstance(b, Binding), f"{cls.__name__} declares a binding without an id: {b!r}"
                assert b.id, f"{cls.__name__}: binding {b.key!r} has no id, so it cannot be remapped"
                found[b.id] = b
    return found


def readme_key_ids() -> set[str]:
    text = README.read_text()
    block = text.split("<!-- KEYS:START -->", 1)[1].split("<!-- KEYS:END -->", 1)[0]
    return set(re.findall(r"`([a-z_]+\.[a-z0-9_]+)`", block))


def test_every_binding_is_in_the_readme_key_list() -> None:
    ids = set(declared_bindings())
    assert len(ids) > 50
    listed = readme_key_ids()
    assert ids - listed == set(), "missing from README (regenerate with python -m console.keys)"
    assert listed - ids == set(), "listed in README but bound nowhere"


def test_every_theme_the_readme_names_exists() -> None:
    text = README.read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("Themes: "))
    named = set(re.findall(r"`([a-z0-9-]+)`", line))
    named |= set(re.findall(r'^theme = "([^"]+)"', text, re.MULTILINE))
    available = set(AzmlApp(lambda: None, profile="x").available_themes)  # type: ignore[arg-type,return-value]
    assert named and named <= available, sorted(named - available)
    assert {"textual-dark", "nord"} <= named


def _plain(widget: Any) -> str:
    content = widget.content if isinstance(widget, Static) else widget.render()
    return content.plain if isinstance(content, Text) else str(content)


@pytest.mark.timeout(120)
def test_keys_command_lists_every_id_and_help_shows_the_screens_ids() -> None:
    backend = DemoBackend({"frozen": "true"})
    ids = set(declared_bindings())

    async def scenario() -> None:
        app = AzmlApp(backend.connect, profile="demo", refresh_interval=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.workspace is not None, pilot, timeout=60)
            await pilot.press("colon", *"keys", "enter")
            await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
            listed = _plain(app.screen.query_one("#detail-text"))
            assert {i for i in ids if i not in listed} == set()
            assert "keymap" in screen_text(app)  # the title says where remapping goes
            await pilot.press("escape")
            await pilot.press("colon", *"jobs", "enter")
            await wait_for(lambda: type(app.screen).__name__ == "JobsScreen", pilot)
            await pilot.press("question_mark")
            await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
            await pilot.pause(0.1)
            shown = screen_text(app)
            for i in ("jobs.logs", "jobs.status_filter", "jobs.cancel", "list.refresh"):
                assert f"({i})" in shown, i

    try:
        asyncio.run(scenario())
    finally:
        backend.stop()
