"""Start-up resilience: a 401 on discovery (subscriptions, Resource Graph) is answered with a fresh token as
on every other route, and the console retries its connection — by itself after a blip, and on `r` — saying
so on its status line."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from rich.text import Text

from console.app import AzmlApp
from console.cli import main
from console.demo import DemoBackend
from console.exitcodes import ExitCode
from emulator.faults import parse_faults
from screens.widgets.context_bar import ContextBar
from services.session import Session
from tests.test_app import wait_for

pytestmark = pytest.mark.timeout(120)

DISCOVERY = {
    "subscriptions": r"^/subscriptions$",
    "resource-graph": r"/providers/Microsoft\.ResourceGraph/resources",
}


@pytest.mark.parametrize("route", list(DISCOVERY))
def test_a_401_on_discovery_at_start_up_is_renewed(route: str, capsys: pytest.CaptureFixture[str]) -> None:
    fault = f"{DISCOVERY[route]}:401:times=1"
    rc = main(["snapshot", "--demo", "--demo-option", f"faults={fault}", "-f", "json", "workspaces"])
    out = capsys.readouterr()
    assert rc == ExitCode.OK, out.err[-2000:]
    doc = json.loads(out.out)
    assert doc["workspaces"] and not doc["errors"]


@pytest.mark.parametrize("command", ["check", "query"])
def test_check_and_query_recover_from_a_401_at_start_up(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    faults = "faults=" + ";".join(f"{pattern}:401:times=1" for pattern in DISCOVERY.values())
    args = {
        "check": ["check", "--checks", "failed-jobs", "--format", "json"],
        "query": ["query", "-w", "mlw-prod-eus", "-f", "json", "print n = 1"],
    }[command]
    clean = main([args[0], "--demo", *args[1:]])  # the same command with no fault: what it should answer
    expected = capsys.readouterr().out
    rc = main([args[0], "--demo", "--demo-option", faults, *args[1:]])
    out = capsys.readouterr()
    assert rc == clean and clean != ExitCode.AUTH, out.err[-2000:]
    assert json.loads(out.out).keys() == json.loads(expected).keys()
    assert "auth" not in out.err.lower(), out.err[-2000:]


def _status(app: AzmlApp) -> str:
    """The context bar as drawn on the terminal."""
    rendered = app.screen.query_one(ContextBar).render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


def _faulty(backend: DemoBackend, spec: str, calls: list[int]) -> Any:
    """The demo's connect with a fault on the emulator from the first connection on."""

    def connect() -> Session:
        session = backend.connect()
        session.retry_backoff_s = 0.05
        emu = backend.emulator
        assert emu is not None
        if not calls:
            for rule in parse_faults(spec):
                emu.faults.add(rule)
        calls.append(1)
        return session

    return connect


def test_the_console_retries_its_connection_after_a_blip_and_says_so() -> None:
    backend = DemoBackend({"frozen": "true"})
    calls: list[int] = []
    seen: list[str] = []

    async def scenario() -> None:
        # the first attempt meets four 503s (more than the client's three retries); the second connects
        app = AzmlApp(_faulty(backend, r"^/subscriptions$:503:times=4", calls), profile="demo")
        async with app.run_test(size=(140, 30)) as pilot:
            await wait_for(lambda: "retrying in" in _status(app), pilot, timeout=60)
            seen.append(_status(app))
            await wait_for(lambda: app.session is not None and app.workspace is not None, pilot, timeout=60)
            seen.append(_status(app))
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        backend.stop()
    assert re.search(r"not connected · retrying in 1s \(attempt 1 failed\) · r retries now", seen[0]), seen[0]
    assert len(calls) == 2
    assert "not connected" not in seen[1] and "demo" in seen[1]


def test_r_reconnects_after_a_start_up_failure() -> None:
    backend = DemoBackend({"frozen": "true"})
    calls: list[int] = []
    seen: list[str] = []

    async def scenario() -> None:
        # a refusal (403) is not retried by itself: it waits for the user's `r`
        app = AzmlApp(_faulty(backend, r"^/subscriptions$:403", calls), profile="demo")
        async with app.run_test(size=(140, 30)) as pilot:
            await wait_for(lambda: "not connected" in _status(app), pilot, timeout=60)
            seen.append(_status(app))
            emu = backend.emulator
            assert emu is not None
            emu.faults.clear()  # the cause is fixed (a role granted)
            await pilot.press("r")
            await wait_for(lambda: app.session is not None and app.workspace is not None, pilot, timeout=60)
            seen.append(_status(app))
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        backend.stop()
    assert "not connected (attempt 1 failed) · r retries" in seen[0], seen[0]
    assert len(calls) == 2 and "not connected" not in seen[1]


def test_every_sdk_client_renews_its_token_on_a_401(fresh_emulator: Any) -> None:
    """azure-ai-ml's clients (the actions) and the Log Analytics client answer a 401 as the REST client does."""
    import datetime as dt

    from services import monitor, workspaces
    from tests.conftest import session_for
    from tests.emulator.test_monitor import _customer_id, _ws

    emu = fresh_emulator
    session = session_for(emu)
    try:
        ws = next(w for w in workspaces.list_workspaces(session) if w.name == "mlw-prod-eus")
        for rule in parse_faults(r"/computes/cpu-cluster$:401:method=GET:times=1"):
            emu.faults.add(rule)
        ml = session.ml_client(ws.subscription_id, ws.resource_group, ws.name)
        assert ml.compute.get("cpu-cluster").name == "cpu-cluster"
        law = _customer_id(emu, _ws(emu))
        for rule in parse_faults(rf"/v1/workspaces/{law}/query$:401:times=1"):
            emu.faults.add(rule)
        result = monitor._logs_client(session).query_workspace(law, "print n = 1", timespan=dt.timedelta(hours=1))
        assert result.tables[0].rows
    finally:
        session.close()
    assert [k for k, _m, _p in emu.faults.log] == ["401", "401"]
