"""The fault matrix: every screen and every snapshot area under every fault kind — no crash, no hang, and
what the user sees is asserted each time.

One app (one emulator) per fault kind walks every screen: the screen loads clean, the fault is switched on
for that screen's own routes, `r` refreshes, and the outcome is checked — the data after a visible retry,
or the rows kept and marked STALE with Azure's message (kind, code, request id). The client's timeout and
retry backoff are shortened through the session's settings so the matrix stays fast.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Static

from console.app import AzmlApp
from console.demo import DemoBackend
from console.exitcodes import ExitCode
from console.snapshot import AREAS, SnapshotRequest, collect_snapshot
from emulator import Emulator, EmulatorConfig
from emulator.faults import DISCOVERY_EXEMPT, FaultRule, parse_faults
from screens.base import ResourceScreen
from screens.modals import HelpScreen
from services.session import Session
from tests.conftest import session_for
from tests.test_app import wait_for

pytestmark = pytest.mark.timeout(150)

REQUEST_ID = re.compile(r"request id [0-9a-f-]{36}")
TIMEOUT_S = 0.5  # the client's read timeout under the timeout fault (a session setting; 30 s by default)
BACKOFF_S = 0.05


@dataclass(frozen=True)
class Kind:
    spec: str  # the fault, without its pattern
    outcome: str  # "recovers" (data after visible retries) | "data" (slow, then data) | "error"
    shows: str = ""  # what the status line says: the retry note, or the error's kind
    request_id: bool = True  # an error answered by Azure carries its request id
    timeout_s: float = 5.0  # the client's read timeout (the session setting): short only where it is the point


KINDS = {
    "429": Kind("429:retry-after=1:times=1", "recovers", "throttled, retrying in 1s (attempt 1/3)"),
    "503": Kind("503:times=1", "recovers", "service unavailable (503), retrying in"),
    "500": Kind("500", "error", "transient: "),
    "401": Kind("401", "error", "auth: "),
    "403": Kind("403", "error", "forbidden: "),
    "latency": Kind("latency=1.5s", "data"),
    "reset": Kind("reset", "error", "unreachable: ", request_id=False),
    "timeout": Kind("timeout", "error", "unreachable: ", request_id=False, timeout_s=TIMEOUT_S),
    "malformed": Kind("malformed", "error", "JSON"),
}

# (command, the screen's own routes)
SCREENS = [
    ("workspaces", r"/providers/Microsoft\.ResourceGraph/resources"),
    ("compute", r"/workspaces/[^/]+/computes$"),
    ("sizes", r"/locations/[^/]+/usages$"),
    ("datastores", r"/workspaces/[^/]+/datastores$"),
    ("jobs", r"/workspaces/[^/]+/jobs$"),
    ("deployments", r"/workspaces/[^/]+/onlineEndpoints$"),
    ("metrics", DISCOVERY_EXEMPT),
]


def _text(screen: Any, selector: str = "#status") -> str:
    found = screen.query(selector)
    if not found:
        return ""
    widget = found.first()
    content = widget.content if isinstance(widget, Static) else widget.render()
    return content.plain if isinstance(content, Text) else str(content)


def _tuned(backend: DemoBackend, kind: Kind) -> Session:
    session = backend.connect()
    session.timeout_s = kind.timeout_s
    session.retry_backoff_s = BACKOFF_S
    return session


def _add(emu: Emulator, pattern: str, spec: str) -> None:
    for rule in parse_faults(spec):
        rule.pattern = pattern
        rule._regex = re.compile(pattern, re.IGNORECASE)
        emu.faults.add(rule)


async def _resource_case(app: AzmlApp, pilot: Any, emu: Emulator, name: str, pattern: str, kind: Kind) -> None:
    screen = app.screen
    assert isinstance(screen, ResourceScreen), name
    await wait_for(lambda: screen.loads > 0 and not screen.busy, pilot, timeout=30)
    rows, loads = screen.table.row_count, screen.loads
    assert rows > 0, f"{name}: no rows before the fault"
    _add(emu, pattern, kind.spec)
    notes = len(screen.retry_notes)
    await pilot.press("r")
    if kind.outcome == "data":
        # the UI keeps answering while the slow load runs in its worker
        await pilot.pause(0.2)
        assert screen.busy, f"{name}: the latency fault did not slow the load"
        await pilot.press("question_mark")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot, timeout=1.0)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot, timeout=1.0)
    await wait_for(lambda: not screen.busy and (screen.loads > loads or bool(screen.error)), pilot, timeout=30)
    status = _text(screen)
    if kind.outcome in ("recovers", "data"):
        assert not screen.error and not screen.stale, f"{name}: {status}"
        assert screen.table.row_count == rows and "STALE" not in status
        if kind.outcome == "recovers":
            assert any(kind.shows in n for n in screen.retry_notes[notes:]), (name, screen.retry_notes)
    else:
        assert screen.stale and screen.table.row_count == rows, f"{name}: rows dropped"
        assert status.startswith("STALE (last update failed): "), f"{name}: {status}"
        assert kind.shows in status, f"{name}: {status}"
        if kind.request_id:
            assert REQUEST_ID.search(status), f"{name}: {status}"
        if kind.shows == "auth: ":
            assert "sign in again" in status, f"{name}: {status}"  # and the rows stay, as asserted above
    emu.faults.clear()


async def _metrics_case(app: AzmlApp, pilot: Any, emu: Emulator, pattern: str, kind: Kind) -> None:
    """Whatever the metrics screen is in this build: it opens, keeps answering and says something."""
    screen = app.screen
    assert type(screen).__name__ == "MetricsScreen"
    _add(emu, pattern, kind.spec)
    await pilot.press("r")
    await pilot.pause(0.3)
    await pilot.press("question_mark")
    await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot, timeout=2.0)
    await pilot.press("escape")
    await wait_for(lambda: app.screen is screen, pilot, timeout=2.0)
    await pilot.pause(1.0)
    assert app.is_running and app.screen is screen
    emu.faults.clear()


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_every_screen_under(kind_name: str) -> None:
    kind = KINDS[kind_name]
    backend = DemoBackend({"frozen": "true"})

    async def scenario() -> None:
        app = AzmlApp(lambda: _tuned(backend, kind), profile="demo", refresh_interval=0)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.workspace is not None, pilot, timeout=30)
            emu = backend.emulator
            assert emu is not None
            for name, pattern in SCREENS:
                if name != "workspaces":
                    await pilot.press("colon", *name, "enter")
                    await wait_for(lambda n=name: _screen_named(app, n), pilot, timeout=10)  # type: ignore[misc]
                if name == "metrics":
                    await _metrics_case(app, pilot, emu, pattern, kind)
                else:
                    await _resource_case(app, pilot, emu, name, pattern, kind)
            assert app.is_running
            await pilot.press("q")
            await pilot.pause(0.1)
        assert not app.is_running

    try:
        asyncio.run(scenario())
    finally:
        backend.stop()


def _screen_named(app: AzmlApp, name: str) -> bool:
    wanted = {
        "compute": "ComputeScreen",
        "sizes": "SizesScreen",
        "datastores": "DatastoresScreen",
        "jobs": "JobsScreen",
        "deployments": "DeploymentsScreen",
        "metrics": "MetricsScreen",
    }[name]
    return type(app.screen).__name__ == wanted


# -- snapshot areas -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = Emulator(EmulatorConfig(seed=7, frozen=True)).start()
    try:
        yield emulator
    finally:
        emulator.stop()


BROKEN = "mlw-prod-weu"  # the workspace whose areas fail; the others must still be there


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_every_snapshot_area_under(kind_name: str, emu: Emulator) -> None:
    kind = KINDS[kind_name]
    emu.faults.clear()
    _add(emu, f"/workspaces/{BROKEN}/", kind.spec)
    session = session_for(emu, timeout_s=kind.timeout_s, retry_backoff_s=BACKOFF_S)
    try:
        snap = collect_snapshot(session, SnapshotRequest(areas=AREAS, job_limit=10), source="test", now=_now())
    finally:
        emu.faults.clear()
        session.close()
    doc = snap.doc
    assert {w["name"] for w in doc["workspaces"]} >= {BROKEN, "mlw-prod-eus"}
    if kind.outcome in ("recovers", "data"):
        # a bounded number of transient faults: retried away, everything is there
        assert snap.exit_code == ExitCode.OK, doc["errors"]
        assert BROKEN in {r["workspace"] for r in doc["compute"]}
        return
    assert snap.exit_code == ExitCode.PARTIAL
    failed = [e for e in doc["errors"] if e["workspace"] == BROKEN]
    assert {e["area"] for e in failed} >= {"compute", "datastores", "jobs", "deployments"}
    assert not [e for e in doc["errors"] if e["workspace"] not in (BROKEN, None)]
    for e in failed:
        assert e["kind"] == kind.shows.rstrip(": ") or kind.shows == "JSON", e
        if kind.request_id:
            assert e["request_id"], e
    assert {r["workspace"] for r in doc["compute"]} >= {"mlw-prod-eus", "mlw-dev-eus2"}
    assert BROKEN not in {r["workspace"] for r in doc["compute"]}


@pytest.mark.parametrize("kind_name", ["403", "500", "reset"])
def test_snapshot_when_discovery_fails(kind_name: str, emu: Emulator) -> None:
    emu.faults.clear()
    emu.faults.add(
        FaultRule(pattern=r"/providers/Microsoft\.ResourceGraph/", kind="status" if kind_name != "reset" else "reset")
    )
    if kind_name != "reset":
        emu.faults.rules[-1].status = int(kind_name)
    session = session_for(emu, timeout_s=TIMEOUT_S, retry_backoff_s=BACKOFF_S)
    try:
        snap = collect_snapshot(session, SnapshotRequest(areas=AREAS, job_limit=10), source="test", now=_now())
    finally:
        emu.faults.clear()
        session.close()
    expected = {"403": ExitCode.AUTH, "500": ExitCode.UNREACHABLE, "reset": ExitCode.UNREACHABLE}[kind_name]
    assert snap.exit_code == expected
    assert snap.doc["errors"][0]["area"] == "workspaces" and snap.doc["workspaces"] == []


def _now() -> Any:
    import datetime as dt

    return dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
