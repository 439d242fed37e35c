"""Completion and matching on the demo emulator: Tab completes workspace names after `:ws` and the arguments of
`:jobs`; `:ws` takes a unique substring and names the matches when several; the palette lists workspaces and
screens beside the commands. Asserted on what is drawn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.command import CommandPalette

from console.app import AzmlApp
from console.completion import NoMatch, complete_line, fit_names, match_name
from console.demo import DemoBackend
from screens.compute import ComputeScreen
from screens.jobs import JobsScreen
from screens.widgets.prompt import Prompt
from screens.workspaces import WorkspacesScreen
from tests.screens.rendered import screen_lines, screen_text
from tests.test_app import wait_for

Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]
NAMES = ["mlw-dev-eus2", "mlw-prod-eus", "mlw-prod-weu", "mlw-research-scus"]


def _run(scenario: Scenario, size: tuple[int, int] = (80, 24)) -> None:
    backend = DemoBackend({"frozen": "true"})

    async def main() -> None:
        app = AzmlApp(backend.connect, profile="demo", refresh_interval=0, default_workspace="mlw-dev-eus2")
        async with app.run_test(size=size) as pilot:
            await wait_for(lambda: app.workspace is not None and bool(app.known_workspaces()), pilot, timeout=60)
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


def _keys(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


def _prompt_drawn(app: AzmlApp) -> str:
    """The prompt's line as the prompt draws it."""
    prompt = app.screen.query_one(Prompt)
    return "".join(seg.text for seg in prompt.render_line(0)).strip()


def _status(app: AzmlApp) -> str:
    return screen_lines(app)[-2]  # the status line, above the key bar


@pytest.mark.timeout(120)
def test_tab_completes_workspace_names_and_job_arguments() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        emu = backend.emulator
        assert emu is not None
        before = emu.request_count
        await pilot.press("colon", *_keys("ws mlw-r"), "tab")
        await pilot.pause(0.1)
        prompt = app.screen.query_one(Prompt)
        assert prompt.value == "ws mlw-research-scus "
        assert _prompt_drawn(app) == "ws mlw-research-scus"
        await pilot.press("ctrl+u", *_keys("ws WEU"), "tab")  # no prefix matches: the only name containing it
        await pilot.pause(0.1)
        assert prompt.value == "ws mlw-prod-weu "
        await pilot.press("ctrl+u", *_keys("ws mlw-p"), "tab")  # two: the common part, and the names shown
        await pilot.pause(0.1)
        assert prompt.value == "ws mlw-prod-"
        assert any("mlw-prod-eus  mlw-prod-weu" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+u", *_keys("ws r"), "tab")  # several contain it: what was typed stays
        await pilot.pause(0.1)
        assert prompt.value == "ws r"
        await pilot.press("ctrl+u", *_keys("jobs fa"), "tab")
        await pilot.pause(0.1)
        assert prompt.value == "jobs failed "
        await pilot.press(*_keys("compu"), "tab")
        await pilot.pause(0.1)
        assert prompt.value == "jobs failed compute="  # a key waits for its value: no space
        assert emu.request_count == before  # completion reads only what the console holds
        await pilot.press("escape")

    _run(scenario)


@pytest.mark.timeout(120)
def test_tab_completes_compute_names_seen_on_the_compute_screen() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await pilot.press("colon", *_keys("compute"), "enter")
        await wait_for(lambda: isinstance(app.screen, ComputeScreen) and bool(app.screen.models), pilot)
        screen = app.screen
        assert isinstance(screen, ComputeScreen)
        name = sorted(c.name for c in screen.models.values())[0]
        await pilot.press("colon", *_keys(f"jobs compute={name[:-1]}"), "tab")
        await pilot.pause(0.1)
        assert app.screen.query_one(Prompt).value.startswith(f"jobs compute={name[:-1]}")
        options = app.complete_command(f"jobs compute={name[:-1]}")
        assert f"jobs compute={name}" in options

    _run(scenario)


@pytest.mark.timeout(120)
def test_ws_takes_a_unique_substring_and_names_the_matches_when_several() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        assert app.workspace is not None and app.workspace.name == "mlw-dev-eus2"
        depth = len(app.screen_stack)
        await pilot.press("colon", *_keys("ws prod"), "enter")
        await pilot.pause(0.2)
        status = _status(app)
        assert "2 workspaces match 'prod': mlw-prod-eus, mlw-prod-weu" in status
        assert len(status.rstrip()) <= 80
        assert app.workspace.name == "mlw-dev-eus2" and len(app.screen_stack) == depth  # nothing chosen or opened
        await pilot.press("colon", *_keys("ws nowhere"), "enter")
        await pilot.pause(0.2)
        assert "no workspace matches 'nowhere'" in _status(app)
        await pilot.press("colon", *_keys("ws WEU"), "enter")  # unique, any case
        await wait_for(lambda: app.workspace is not None and app.workspace.name == "mlw-prod-weu", pilot)
        await wait_for(lambda: "ws mlw-prod-weu" in screen_lines(app)[0], pilot)  # the header says it

    _run(scenario)


@pytest.mark.timeout(120)
def test_palette_lists_workspaces_and_screens_and_choosing_one_acts() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "workspace mlw-prod-weu" in shown and "screen Compute" in shown  # listed before typing
        await pilot.press(*_keys("workspace mlw-prod-weu"))
        await pilot.pause(0.5)
        assert "westeurope · rg-prod-weu" in screen_text(app)
        await pilot.press("enter")
        await wait_for(lambda: app.workspace is not None and app.workspace.name == "mlw-prod-weu", pilot)
        assert isinstance(app.screen, WorkspacesScreen)
        # a screen entry opens that screen
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.press(*_keys("screen Jobs"))
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, JobsScreen), pilot)
        assert "Jobs · mlw-prod-weu" in screen_text(app)

    _run(scenario, size=(100, 30))


def test_matching_rules() -> None:
    assert match_name("MLW-PROD-EUS", NAMES) == "mlw-prod-eus"  # exact, any case
    assert match_name("research", NAMES) == "mlw-research-scus"
    with pytest.raises(NoMatch, match=r"2 workspaces match 'prod': mlw-prod-eus, mlw-prod-weu"):
        match_name("prod", NAMES)
    with pytest.raises(NoMatch) as e:
        match_name("mlw", NAMES, width=40)
    assert len(str(e.value)) <= 40 and "more" in str(e.value)
    assert fit_names(["a" * 30, "b" * 30, "c"], 40) == "a" * 30 + " +2 more"

    def values(command: str, word: str) -> list[str]:
        return NAMES if command == "workspaces" else []

    assert complete_line("ws mlw-d", values) == ["ws mlw-dev-eus2"]
    assert complete_line(":comp", values) == ["compute"]
    assert complete_line("compute x", values) == []  # takes no argument
