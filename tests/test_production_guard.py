"""Production profiles: every mutation needs the target typed, on every screen (not just deletes) — and the
behaviour under faults that is seen rather than counted: a lost answer shown as what happened, a log tail
that reconnects visibly."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Input, Static

from console.app import AzmlApp
from console.demo import DemoBackend
from emulator.faults import parse_faults
from screens.base import ResourceScreen
from screens.job_logs import LogScreen
from screens.modals import ConfirmScreen, FormScreen
from tests.test_app import wait_for

pytestmark = pytest.mark.timeout(120)

Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]


def _drive(scenario: Scenario, *, production: bool = False) -> None:
    backend = DemoBackend({"frozen": "true"})

    def connect() -> Any:
        session = backend.connect()
        session.retry_backoff_s = 0.05
        return session

    async def main() -> None:
        app = AzmlApp(connect, profile="demo", production=production, refresh_interval=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.workspace is not None, pilot)
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


async def _open(app: AzmlApp, pilot: Any, command: str, ws: str = "mlw-prod-eus") -> ResourceScreen[Any]:
    await pilot.press("colon", *f"ws {ws}", "enter")
    await wait_for(lambda: app.workspace is not None and app.workspace.name == ws, pilot)
    await pilot.press("colon", *command, "enter")
    await wait_for(lambda: isinstance(app.screen, ResourceScreen) and app.screen.loads > 0, pilot)
    screen = app.screen
    assert isinstance(screen, ResourceScreen)
    return screen


async def _select(screen: ResourceScreen[Any], pilot: Any, pick: Callable[[Any], bool]) -> Any:
    key, model = next((k, m) for k, m in screen.models.items() if pick(m))
    screen.table.move_cursor(key)
    await pilot.pause()
    assert screen.table.cursor_key == key
    return model


async def _typed_confirmation(app: AzmlApp, pilot: Any, expected: str) -> None:
    """The plan asks for the name; enter alone does nothing; typing it runs the action."""
    await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
    confirm = app.screen
    assert isinstance(confirm, ConfirmScreen)
    assert confirm.plan.confirm_text == expected
    await pilot.press("enter")
    await pilot.pause(0.1)
    assert app.screen is confirm  # not confirmed
    error = confirm.query_one("#confirm-error", Static).content
    assert "type" in (error.plain if isinstance(error, Text) else str(error))
    confirm.query_one("#confirm-input", Input).value = expected
    await pilot.press("enter")
    await wait_for(lambda: not isinstance(app.screen, ConfirmScreen), pilot)


def test_compute_stop_needs_typing_on_production() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot, "compute")
        inst = await _select(screen, pilot, lambda c: c.kind == "instance" and c.state == "Running")
        await pilot.press("o")
        await _typed_confirmation(app, pilot, inst.name)
        await wait_for(lambda: "stop" in screen.last_action.lower() or "stopp" in screen.last_action.lower(), pilot)

    _drive(scenario, production=True)


def test_compute_create_needs_typing_on_production() -> None:
    """A creation's target has no name yet: the name being created is typed."""

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await _open(app, pilot, "compute")
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-name", Input).value = "prodnew1"
        form._submit()
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.plan.confirm_text == "prodnew1"
        await pilot.press("escape")

    _drive(scenario, production=True)


def test_datastore_set_default_needs_typing_on_production() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot, "datastores")
        d = await _select(screen, pilot, lambda d: not d.is_default)
        await pilot.press("asterisk")
        await _typed_confirmation(app, pilot, d.name)
        await wait_for(lambda: bool(screen.last_action), pilot, timeout=60)

    _drive(scenario, production=True)


def test_job_archive_needs_typing_on_production() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot, "jobs")
        job = await _select(screen, pilot, lambda j: not j.is_archived)
        await pilot.press("A")
        await _typed_confirmation(app, pilot, job.name)
        await wait_for(lambda: "archived" in screen.last_action, pilot, timeout=60)

    _drive(scenario, production=True)


def test_deployment_scale_needs_typing_on_production() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot, "deployments")

        def scalable(row: Any) -> bool:
            d = row.deployment
            return d is not None and hasattr(d, "scale") and not d.scale.autoscaled and hasattr(d, "instance_count")

        row = await _select(screen, pilot, scalable)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-instance_count", Input).value = str(row.deployment.instance_count + 1)
        form._submit()
        await _typed_confirmation(app, pilot, row.deployment.name)
        await wait_for(lambda: bool(screen.last_action), pilot, timeout=60)

    _drive(scenario, production=True)


def test_non_destructive_actions_need_no_typing_elsewhere() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot, "jobs")
        await _select(screen, pilot, lambda j: not j.is_archived)
        await pilot.press("A")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.plan.confirm_text == ""
        await pilot.press("escape")

    _drive(scenario, production=False)


# -- under faults, as the user sees it -------------------------------------------------------------


def test_a_lost_answer_is_shown_as_what_happened() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot, "compute")
        inst = await _select(screen, pilot, lambda c: c.kind == "instance" and c.state == "Running")
        emu = backend.emulator
        assert emu is not None
        emu.faults.add(parse_faults(f"/computes/{inst.name}/stop$:reset-after:times=1")[0])
        await pilot.press("o")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("enter")
        await wait_for(lambda: bool(screen.last_action), pilot, timeout=60)
        assert f"the answer was lost (connection dropped), but Azure accepted it: {inst.name} is Stopping" in (
            screen.last_action
        )
        posts = [1 for m, p, _ in emu.request_log if m == "POST" and p.endswith(f"/computes/{inst.name}/stop")]
        assert posts == [1]  # never re-sent
        await wait_for(lambda: screen.models[inst.key].state in ("Stopping", "Stopped"), pilot)

    _drive(scenario)


def test_a_5xx_to_a_delete_is_read_back_and_shown_as_what_happened() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot, "compute")
        cluster = await _select(screen, pilot, lambda c: c.kind == "cluster")
        emu = backend.emulator
        assert emu is not None
        for rule in parse_faults(f"/computes/{cluster.name}$:500:method=DELETE"):
            emu.faults.add(rule)
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        if confirm.plan.confirm_text:
            await pilot.press(*confirm.plan.confirm_text)
        await pilot.press("enter")
        await wait_for(lambda: bool(screen.last_action), pilot, timeout=60)
        shown = screen.last_action
        assert "Azure answered 500 InternalServerError, which leaves the outcome open and Azure did not apply" in (
            shown
        ), shown
        assert "Nothing was re-sent" in shown and re.search(r"request id [0-9a-f-]{36}", shown), shown
        deletes = [1 for m, p, _ in emu.request_log if m == "DELETE" and p.endswith(f"/computes/{cluster.name}")]
        assert deletes == [1]  # never re-sent

    _drive(scenario)


def test_a_log_tail_reconnects_visibly_after_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LogScreen, "POLL_SECONDS", 0.3)

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot, "jobs")
        await _select(screen, pilot, lambda j: j.status == "Running" and j.type == "command")
        emu = backend.emulator
        assert emu is not None
        # every read of the log content drops, four times over: beyond the client's own three retries
        emu.faults.add(parse_faults("^/logs/:reset:times=4")[0])
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, LogScreen), pilot)
        logs = app.screen
        assert isinstance(logs, LogScreen)
        seen: list[str] = []

        def status() -> str:
            content = str(logs.query_one("#status").render())
            text = content.plain if isinstance(content, Text) else str(content)
            seen.append(text)
            return text

        await wait_for(lambda: "reconnecting… (attempt 1)" in status(), pilot, timeout=30)
        assert any("unreachable" in s and "read failed" in s for s in seen), seen[-3:]
        await wait_for(lambda: not logs.error and logs.view.line_count > 0, pilot, timeout=30)
        assert "read failed" not in status()

    _drive(scenario)


def test_invoke_needs_typing_on_production() -> None:
    """Invoking runs outside act() (its own worker and result screen) but is a mutation all the same."""

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        from services.models.deployments import OnlineEndpoint

        screen = await _open(app, pilot, "deployments")
        row = await _select(screen, pilot, lambda r: r.deployment is None and isinstance(r.endpoint, OnlineEndpoint))
        await pilot.press("i")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form._submit()
        await _typed_confirmation(app, pilot, row.endpoint.name)

    _drive(scenario, production=True)
