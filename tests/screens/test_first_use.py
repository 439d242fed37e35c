"""What a new user meets first, read from the rendered screen (compositor lines, not widget values): the prompt
shows what is typed; focus is marked without colour; Esc closes the topmost thing first; read-only refuses every
action key before any form opens, with nothing sent; action keys follow the row's state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.widgets import Input

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.base import ResourceScreen
from screens.compute import ComputeScreen
from screens.datastores import DatastoresScreen
from screens.deployments import DeploymentsScreen
from screens.jobs import JobsScreen
from screens.modals import ConfirmScreen, DetailScreen, FormScreen
from services.mutations import registry
from tests.screens.rendered import screen_lines, strips, styled
from tests.test_app import wait_for

PROD = "mlw-prod-eus"
Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]


def run(
    scenario: Scenario,
    *,
    size: tuple[int, int] = (80, 24),
    notifications: bool = False,
    options: dict[str, str] | None = None,
    **app_kwargs: Any,
) -> None:
    backend = DemoBackend({"frozen": "true", **(options or {})}, read_only=bool(app_kwargs.get("read_only")))

    async def main() -> None:
        app_kwargs.setdefault("refresh_interval", 0)
        app = AzmlApp(backend.connect, profile="demo", **app_kwargs)
        async with app.run_test(size=size, notifications=notifications) as pilot:
            await wait_for(lambda: app.workspace is not None, pilot, timeout=60)
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


async def command(pilot: Any, text: str) -> None:
    await pilot.press("colon", *("space" if ch == " " else ch for ch in text), "enter")
    await pilot.pause(0.05)


async def open_screen(app: AzmlApp, pilot: Any, name: str, kind: type[ResourceScreen[Any]]) -> Any:
    await command(pilot, f"ws {PROD}")
    await wait_for(lambda: app.workspace is not None and app.workspace.name == PROD, pilot)
    await command(pilot, name)
    await wait_for(lambda: isinstance(app.screen, kind) and app.screen.loads > 0, pilot)
    await pilot.pause(0.1)
    return app.screen


def bottom(app: AzmlApp) -> str:
    return screen_lines(app)[-1]


def messages(app: AzmlApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def sent(backend: DemoBackend, since: int, *, mutating_only: bool = False) -> list[tuple[str, str, int]]:
    emu = backend.emulator
    assert emu is not None
    return [r for r in emu.request_log[since:] if not mutating_only or r[0] != "GET"]


def log_size(backend: DemoBackend) -> int:
    assert backend.emulator is not None
    return len(backend.emulator.request_log)


# -- 1. the prompt is visible while open ------------------------------------------------------------


@pytest.mark.timeout(120)
def test_colon_and_slash_show_the_typed_text_on_the_bottom_line() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot, "compute", ComputeScreen)
        assert "Refresh" in bottom(app)  # the key bar, while no prompt is open
        await pilot.press("colon")
        await pilot.pause(0.05)
        assert bottom(app).lstrip().startswith(":command (Tab completes"), bottom(app)  # the placeholder
        await pilot.press(*"comp")
        await pilot.pause(0.05)
        line = bottom(app)
        assert line.lstrip().startswith(":comp"), line
        assert "Refresh" not in line  # the key bar gives way
        # the cursor: the cell after the typed text is drawn in reverse video or in the cursor's colours
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert "Refresh" in bottom(app)
        await pilot.press("slash", *"gpu")
        await pilot.pause(0.05)
        assert bottom(app).lstrip().startswith("/gpu"), bottom(app)
        await pilot.press("enter")
        await pilot.pause(0.1)
        shown = "\n".join(screen_lines(app))
        assert "filter 'gpu'" in shown and " of " in shown
        assert screen.table.filter_text == "gpu"

    run(scenario)


# -- 2. focus is visible without colour -------------------------------------------------------------


@pytest.mark.timeout(120)
def test_focus_is_marked_without_colour_and_a_bad_value_is_selected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        assert app.no_color
        screen = await open_screen(app, pilot, "compute", ComputeScreen)
        # the list row under the cursor: reverse video
        row = next(i for i, line in enumerate(screen_lines(app)) if line.startswith(screen.current().name))
        assert styled(strips(app)[row], "reverse").startswith(screen.current().name)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        await pilot.pause(0.1)

        def marked() -> list[str]:
            lines = screen_lines(app)
            return [lines[i - 1] for i, line in enumerate(lines) if "▌" in line]

        # the label above the one marked field names the focused field
        assert len(marked()) == 1 and "Name" in marked()[0], screen_lines(app)
        await pilot.press("tab")
        await pilot.pause(0.05)
        assert len(marked()) == 1 and "VM size" in marked()[0]
        # a bad value: after the error, typing replaces it
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-name", Input).value = "tmp-cpu"
        form.query_one("#field-min_instances", Input).value = "x2"
        form.query_one("#field-min_instances", Input).focus()
        await pilot.press("enter")  # the next field
        await pilot.click("#form-submit")
        await pilot.pause(0.1)
        assert len(marked()) == 1 and "Minimum nodes" in marked()[0]
        assert "whole number" in "\n".join(screen_lines(app))
        await pilot.press("3")
        await pilot.pause(0.05)
        assert form.query_one("#field-min_instances", Input).value == "3"
        # the focused button: reverse video
        form.query_one("#form-submit").focus()
        await pilot.pause(0.05)
        assert any("Next" in styled(strip, "reverse") for strip in strips(app))

    run(scenario, size=(100, 40))


def test_the_highlighted_choice_is_marked_without_colour() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import OptionList

    from themes import STYLESHEET

    class Picker(App[None]):
        CSS_PATH = str(STYLESHEET)

        def compose(self) -> ComposeResult:
            yield OptionList("std_log.txt", "user_logs/std_err.txt", "system_logs/lifecycler.log")

    async def main() -> None:
        app = Picker()
        async with app.run_test(size=(50, 6)) as pilot:
            choices = app.query_one(OptionList)
            choices.focus()
            choices.highlighted = 1
            await pilot.pause(0.1)
            lines = strips(app)
            assert "std_err" in styled(lines[2], "underline") and styled(lines[1], "underline") == ""

    asyncio.run(main())


# -- 3. Esc closes the topmost thing first ----------------------------------------------------------


@pytest.mark.timeout(120)
def test_esc_closes_modal_then_prompt_then_filter_then_goes_back() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot, "compute", ComputeScreen)
        await pilot.press("slash", *"gpu", "enter")
        await pilot.pause(0.05)

        def on_compute_filtered() -> bool:
            lines = screen_lines(app)
            return lines[1].lstrip().startswith("Compute") and "filter 'gpu'" in lines[-2]

        assert on_compute_filtered()
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
        await pilot.press("escape")  # the modal
        await pilot.pause(0.05)
        assert app.screen is screen and on_compute_filtered()
        await pilot.press("colon")
        await pilot.pause(0.05)
        assert bottom(app).lstrip().startswith(":")
        await pilot.press("escape")  # the prompt
        await pilot.pause(0.05)
        assert app.screen is screen and on_compute_filtered() and "Refresh" in bottom(app)
        await pilot.press("escape")  # the filter: cleared, still on compute
        await pilot.pause(0.05)
        lines = screen_lines(app)
        assert app.screen is screen and lines[1].lstrip().startswith("Compute") and "filter" not in lines[-2]
        assert " of " not in lines[-2]  # every row again
        # keys typed right after a modal closes land on the screen the user sees
        await pilot.press("d", "escape", "slash", "g")
        await pilot.pause(0.1)
        assert app.screen is screen and bottom(app).lstrip().startswith("/g")
        await pilot.press("escape")
        await pilot.pause(0.05)
        await pilot.press("escape")  # nothing left to close: back
        await pilot.pause(0.1)
        assert app.screen is not screen and screen_lines(app)[1].lstrip().startswith("Workspaces")

    run(scenario)


@pytest.mark.timeout(180)
def test_a_detail_still_loading_never_opens_over_the_screen_the_user_went_on_to() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot, "jobs", JobsScreen)
        reads = screen.loads
        await pilot.press("d", "colon", *"compute", "enter")  # on to compute while the job is read
        await wait_for(lambda: isinstance(app.screen, ComputeScreen) and app.screen.loads > 0, pilot)
        await pilot.pause(1.5)  # the read of the job completes meanwhile
        assert not isinstance(app.screen, DetailScreen)
        assert screen_lines(app)[1].lstrip().startswith("Compute") and screen.loads == reads

    run(scenario, options={"latency_ms": "400"})


# -- 4. read-only refuses on the key press ----------------------------------------------------------


def _keys(screen: ResourceScreen[Any]) -> dict[str, str]:
    """action → key of every action key that leads to a mutation."""
    actions = screen.mutations()
    return {b.action: b.key for b in screen.BINDINGS if not isinstance(b, tuple) and b.action in actions}  # type: ignore[union-attr]


@pytest.mark.timeout(240)
def test_read_only_refuses_every_action_key_before_any_form_with_nothing_sent() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        assert app.session is not None
        guard = app.session.guard
        covered: set[str] = set()
        for name, kind in (
            ("compute", ComputeScreen),
            ("jobs", JobsScreen),
            ("datastores", DatastoresScreen),
            ("deployments", DeploymentsScreen),
        ):
            screen = await open_screen(app, pilot, name, kind)
            await pilot.pause(0.5)
            await wait_for(lambda s=screen: not s.busy and not getattr(s, "enriching", False), pilot)  # type: ignore[misc]
            keys = _keys(screen)
            assert keys, name
            for action, key in keys.items():
                operation = screen.mutations()[action]
                before, records = log_size(backend), len(guard.records)
                await pilot.press(key)
                await pilot.pause(0.1)
                assert app.screen is screen, (name, key)  # no form, no plan
                assert not isinstance(app.screen, FormScreen | ConfirmScreen)
                assert sent(backend, before) == [], (name, key)  # zero requests
                assert any(r.outcome == "refused" and r.operation == operation for r in guard.records[records:]), key
                assert messages(app)[-1] == f"{registry()[operation].title} refused: profile 'demo' is read-only"
                covered.add(operation)
            # the key bar dims them
            assert "Refresh" in bottom(app)
            await pilot.press("escape")
            await pilot.pause(0.05)
        # every mutation the console offers a key for (datastore registration takes its kind in the form)
        offered = set(registry()) - {"datastore.register_file", "datastore.register_adls_gen2"}
        assert covered == offered

    run(scenario, size=(120, 40), read_only=True)


# -- 5. action keys follow the row's state ----------------------------------------------------------


@pytest.mark.timeout(180)
def test_instance_keys_follow_its_state_and_are_refused_locally() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot, "compute", ComputeScreen)
        instances = [c for c in screen.models.values() if c.kind == "instance"]
        stopped = next(c for c in instances if c.state == "Stopped")
        running = next(c for c in instances if c.state == "Running")
        cluster = next(c for c in screen.models.values() if c.kind == "cluster")

        async def on(key: str) -> str:
            screen.table.move_cursor(key)
            await pilot.pause(0.1)
            return bottom(app)

        bar = await on(stopped.key)
        assert " a Start " in bar and " o Stop " not in bar and " R Restart " not in bar and " n Nodes " not in bar
        bar = await on(running.key)
        assert " o Stop " in bar and " R Restart " in bar and " a Start " not in bar and " e Scale " not in bar
        bar = await on(cluster.key)
        assert " n Nodes " in bar and " e Scale " in bar and " a Start " not in bar and " o Stop " not in bar

        before = log_size(backend)
        for row, key, word in ((stopped, "o", "Stopped"), (running, "a", "Running"), (cluster, "o", "cluster")):
            await on(row.key)
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is screen, key
            assert word in messages(app)[-1] and row.name in messages(app)[-1]
        await on(running.key)
        await pilot.press("n")
        await pilot.pause(0.1)
        assert app.screen is screen and "only clusters have nodes" in messages(app)[-1]
        assert sent(backend, before, mutating_only=True) == []

    run(scenario, size=(120, 40))


@pytest.mark.timeout(180)
def test_finished_jobs_offer_no_cancel_and_refuse_it_locally() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot, "jobs", JobsScreen)
        finished = next(j for j in screen.models.values() if j.is_terminal)
        active = next(j for j in screen.models.values() if not j.is_terminal)
        screen.table.move_cursor(active.key)
        await pilot.pause(0.1)
        assert " x Cancel " in bottom(app)
        screen.table.move_cursor(finished.key)
        await pilot.pause(0.1)
        assert " x Cancel " not in bottom(app)
        before = log_size(backend)
        await pilot.press("x")
        await pilot.pause(0.1)
        assert app.screen is screen
        assert "already finished" in messages(app)[-1] and finished.name in messages(app)[-1]
        assert sent(backend, before, mutating_only=True) == []

    run(scenario, size=(120, 40))


@pytest.mark.timeout(180)
def test_batch_endpoints_have_no_traffic_and_change_their_default_deployment() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot, "deployments", DeploymentsScreen)
        from services.models import BatchEndpoint

        ep_row = next(r for r in screen.models.values() if isinstance(r.endpoint, BatchEndpoint) and not r.deployment)
        ep = ep_row.endpoint
        assert isinstance(ep, BatchEndpoint)
        other = next(n for n in ep_row.deployment_names if n != ep.default_deployment)
        dep_key = next(k for k, r in screen.models.items() if r.endpoint.name == ep.name and r.name.endswith(other))
        screen.table.move_cursor(ep_row.key)
        await pilot.pause(0.1)
        assert " t Traffic " not in bottom(app) and " i Invoke " not in bottom(app)
        before = log_size(backend)
        await pilot.press("t")
        await pilot.pause(0.1)
        assert app.screen is screen and "batch endpoint" in messages(app)[-1]
        assert sent(backend, before, mutating_only=True) == []

        screen.table.move_cursor(dep_key)
        await pilot.pause(0.1)
        assert " * Default " in bottom(app)
        await pilot.press("asterisk")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.plan.az.startswith(
            f"az ml batch-endpoint update --name {ep.name} --set defaults.deployment_name={other}"
        )
        await pilot.click("#confirm-run")
        await wait_for(lambda: any(m == "PUT" for m, _, _ in sent(backend, before)), pilot)
        await wait_for(
            lambda: (
                screen.models[ep_row.key].endpoint.default_deployment == other  # type: ignore[union-attr]
                and screen.busy is False
            ),
            pilot,
        )
        puts = [r for r in sent(backend, before, mutating_only=True)]
        assert [(m, s) for m, _, s in puts] == [("PUT", 200)] and puts[0][1].endswith(f"/batchEndpoints/{ep.name}")
        # now the default: the key is gone from that row
        screen.table.move_cursor(dep_key)
        await pilot.pause(0.1)
        assert " * Default " not in bottom(app)

    run(scenario, size=(120, 40))


# -- 6. narrow terminals ----------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_at_80_columns_header_status_and_notifications_keep_their_place() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        import re

        await command(pilot, "compute")
        await wait_for(lambda: isinstance(app.screen, ComputeScreen) and app.screen.loads > 0, pilot)
        screen = app.screen
        assert isinstance(screen, ComputeScreen)
        await pilot.pause(0.1)
        header = screen_lines(app)[0].rstrip()
        assert re.search(r"│ \d\d:\d\d:\d\d │ auto 30s$", header), header  # the refresh time and interval whole
        assert "…" in header  # the subscription name gave way instead
        # a long error: one status line, ending in an ellipsis; the key bar stays below it
        first = screen.current()
        assert first is not None
        screen._failed("InternalServerError: " + "the service could not complete the request " * 6 + "(request id x)")
        await wait_for(lambda: "could not complete" in "".join(screen_lines(app)[:2]), pilot, timeout=5)
        lines = screen_lines(app)
        assert lines[-2].rstrip().endswith("…") and "Refresh" in lines[-1]
        # its notification: at most two lines, over the header, never over the focused row (nor any row)
        toast = [i for i, line in enumerate(lines) if "could not complete" in line or "▌ Compute" in line]
        assert toast and len(toast) <= 2 and max(toast) <= 1, "\n".join(lines)
        assert lines[2].startswith("Name") and lines[3].startswith(first.name)

    run(scenario, refresh_interval=30, notifications=True)
