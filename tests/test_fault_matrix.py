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
import urllib.parse
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


# -- mutations: each sent at most once, its outcome read back ---------------------------------------
#
# Every mutating operation x every fault that leaves the outcome open: the fault is on the mutating
# request itself (its method and path, every time it arrives, so a re-send would meet it again and be
# counted). The server must see that request exactly once, and the audit's outcome must match the
# emulator's state: only a reset-after (applied, then the answer dropped) changes the resource.

MUTATION_FAULTS = {
    "reset": "reset",
    "reset-after": "reset-after",
    "500": "500",
    "503": "503:retry-after=1",  # even a 503 with Retry-After: the request may have been acted on
    "timeout": "timeout",
    "lro-fail": "lro-fail",
}
PROD_WS = "mlw-prod-eus"
CHURN = "churn-scoring-prod-eus"


@dataclass(frozen=True)
class MutationCase:
    op: str  # the registered operation
    methods: tuple[str, ...]  # the mutating request's method (PUT or PATCH: whichever the SDK sends)
    lro: bool  # accepted, then polled (lro-fail applies); otherwise lro-fail leaves the request alone
    run_history: bool = False  # sent to the run-history service (.../runs/{name}), not to ARM


def _first(items: Any, test: Any) -> Any:
    return next(i for i in items if test(i))


def _mutation_setup(session: Session, ws: Any, op: str) -> tuple[Any, dict[str, Any], str]:
    """(call, params, the ARM path read to see the operation's effect) for ``op`` in a fresh estate."""
    from services import compute, datastores, deployments, jobs
    from services.mutations import FUNCTIONS, Target, resource_path
    from services.secrets import MemorySecrets

    def t(name: str = "", parent: str = "") -> Target:
        return Target(ws.subscription_id, ws.resource_group, ws.name, name, parent)

    call = FUNCTIONS[op]
    if op.startswith("compute."):
        computes = compute.list_computes(session, ws)
        offered = tuple(s.name for s in compute.vm_sizes(session, ws.subscription_id, ws.location))
        running = _first(computes, lambda c: c.kind == "instance" and c.state == "Running")
        cluster = _first(computes, lambda c: c.kind == "cluster")
        if op == "compute.start":
            compute.stop_instance(session, t(running.name))
            return call, {"target": t(running.name)}, resource_path(t(), "computes", running.name)
        if op in ("compute.stop", "compute.restart"):
            return call, {"target": t(running.name)}, resource_path(t(), "computes", running.name)
        if op == "compute.create_cluster":
            params = {"name": "cpu-new", "size": "Standard_DS3_v2", "min_instances": 0, "max_instances": 3}
            params |= {"location": ws.location, "offered_sizes": offered}
            return call, {"target": t(), **params}, resource_path(t(), "computes", "cpu-new")
        if op == "compute.create_instance":
            params = {"name": "ci-newcomer", "size": "Standard_DS11_v2", "location": ws.location}
            return (
                call,
                {"target": t(), **params, "offered_sizes": offered},
                resource_path(t(), "computes", "ci-newcomer"),
            )
        path = resource_path(t(), "computes", cluster.name)
        if op == "compute.update_scale":
            params = {"min_instances": 0, "max_instances": cluster.max_nodes + 2, "idle_seconds": 900}
            return call, {"target": t(cluster.name), **params}, path
        return call, {"target": t(cluster.name)}, path  # compute.delete
    if op.startswith("datastore."):
        stores = datastores.list_datastores(session, ws)
        other = _first(stores, lambda d: not d.is_default and d.kind == "blob")
        if op == "datastore.register_blob":
            params = {"name": "team_blob", "account_name": "stteam01", "container_name": "features", "auth": "identity"}
        elif op == "datastore.register_adls_gen2":
            params = {"name": "team_blob", "account_name": "dlsteam01", "filesystem": "bronze", "auth": "identity"}
        elif op == "datastore.register_file":
            params = {"name": "team_blob", "account_name": "stteam01", "file_share_name": "notebooks"}
            params |= {"credential_ref": "kv/key", "secrets": MemorySecrets({"kv/key": "a2V5"})}
        else:  # set_default, unregister: an existing, non-default datastore
            return call, {"target": t(other.name)}, resource_path(t(), "datastores", other.name)
        return call, {"target": t(), **params}, resource_path(t(), "datastores", "team_blob")
    if op == "deployments.set_batch_default":  # a batch endpoint's other deployment becomes its default
        for ep in deployments.list_batch_endpoints(session, ws):
            names = tuple(d.name for d in deployments.list_batch_deployments(session, ws, ep.name))
            other = [n for n in names if n.lower() != ep.default_deployment.lower()]
            if other:
                params = {"deployment_name": other[0], "deployments": names}
                return call, {"target": t(ep.name), **params}, resource_path(t(), "batchEndpoints", ep.name)
        raise AssertionError(f"no batch endpoint of {ws.name} has a second deployment")
    if op.startswith("deployments."):
        names = tuple(d.name for d in deployments.list_online_deployments(session, ws, CHURN))
        if op == "deployments.update_traffic":
            params = {"traffic": {"blue": 50, "green": 50}, "deployments": names}
            return call, {"target": t(CHURN), **params}, resource_path(t(), "onlineEndpoints", CHURN)
        path = resource_path(t(), "onlineEndpoints", CHURN, "deployments", "green")
        if op == "deployments.scale":
            return call, {"target": t("green", CHURN), "instance_count": 3}, path
        deployments.update_traffic(session, t(CHURN), traffic={"blue": 100, "green": 0}, deployments=names)
        return call, {"target": t("green", CHURN), "traffic": {"blue": 100, "green": 0}}, path
    page = jobs.list_jobs(session, ws, jobs.JobFilter(), page_size=200).next_page()
    if op == "job.cancel":
        job = _first(page, lambda j: j.status in ("Running", "Queued") and j.type == "command")
        return call, {"target": t(job.name), "status": job.status}, resource_path(t(), "jobs", job.name)
    done = _first(page, lambda j: j.status == "Completed" and j.type == "command")
    if op == "job.restore":
        jobs.archive_job(session, t(done.name))
    if op == "job.resubmit":
        new = f"{done.name}_again"
        return call, {"target": t(done.name), "new_name": new}, resource_path(t(), "jobs", new)
    return call, {"target": t(done.name)}, resource_path(t(), "jobs", done.name)


MUTATION_CASES = [
    MutationCase("compute.start", ("POST",), True),
    MutationCase("compute.stop", ("POST",), True),
    MutationCase("compute.restart", ("POST",), True),
    MutationCase("compute.create_cluster", ("PUT",), True),
    MutationCase("compute.create_instance", ("PUT",), True),
    MutationCase("compute.update_scale", ("PUT", "PATCH"), True),
    MutationCase("compute.delete", ("DELETE",), True),
    MutationCase("datastore.register_blob", ("PUT",), False),
    MutationCase("datastore.register_adls_gen2", ("PUT",), False),
    MutationCase("datastore.register_file", ("PUT",), False),
    MutationCase("datastore.set_default", ("PUT",), False),
    MutationCase("datastore.unregister", ("DELETE",), False),
    MutationCase("deployments.update_traffic", ("PUT", "PATCH"), True),
    MutationCase("deployments.scale", ("PUT", "PATCH"), True),
    MutationCase("deployments.delete", ("DELETE",), True),
    MutationCase("deployments.set_batch_default", ("PUT",), True),
    MutationCase("job.cancel", ("POST",), True),
    MutationCase("job.archive", ("PATCH",), False, run_history=True),
    MutationCase("job.restore", ("PATCH",), False, run_history=True),
    MutationCase("job.resubmit", ("PUT",), False),
]


def test_the_mutation_matrix_covers_every_mutation() -> None:
    from services.mutations import registry

    # deployments.invoke changes no resource; its request goes out on a pipeline with no retries at all
    assert {c.op for c in MUTATION_CASES} == set(registry()) - {"deployments.invoke"}


def _read_raw(session: Session, path: str) -> Any:
    from services.mutations import read_resource

    return read_resource(session, path, "2024-10-01-preview")


@pytest.mark.parametrize("fault", list(MUTATION_FAULTS))
@pytest.mark.parametrize("case", MUTATION_CASES, ids=lambda c: c.op)
def test_every_mutation_is_sent_once_under(case: MutationCase, fault: str) -> None:
    from services import workspaces
    from services.mutations import ResponseLost

    backend = DemoBackend({"frozen": "true"})
    try:
        session = backend.connect()
        session.retry_backoff_s = BACKOFF_S
        emu = backend.emulator
        assert emu is not None
        ws = next(w for w in workspaces.list_workspaces(session) if w.name == PROD_WS)
        call, params, path = _mutation_setup(session, ws, case.op)
        session.timeout_s = TIMEOUT_S if fault == "timeout" else 10.0
        session.close()  # the clients are rebuilt with the timeout of this case
        target = params.pop("target")
        before = _read_raw(session, path)
        pattern = re.escape(urllib.parse.unquote(path)) + r"(/(start|stop|restart|cancel))?$"
        if case.run_history:
            pattern = "/runs/" + re.escape(path.rsplit("/", 1)[1]) + "$"
        for method in case.methods:
            for rule in parse_faults(MUTATION_FAULTS[fault]):
                rule.pattern = pattern
                rule._regex = re.compile(rule.pattern, re.IGNORECASE)
                rule.method = method
                emu.faults.add(rule)
        mark = len(session.guard.records)
        error: BaseException | None = None
        try:
            call(session, target, **params)
        except Exception as e:  # each fault's report is checked below
            error = e
        emu.faults.clear()
        sent = [(k, m, p) for k, m, p in emu.faults.log if m in case.methods]
        records = session.guard.records[mark:]
        after = _read_raw(session, path)
    finally:
        backend.stop()
    assert len(sent) == 1, f"{case.op} under {fault}: the server saw {sent}"
    applied_by_fault = fault == "reset-after" or (fault == "lro-fail" and not case.lro)
    assert [r.outcome for r in records] == ["attempted", "succeeded" if applied_by_fault else "failed"], (
        f"{case.op} under {fault}: {[(r.outcome, r.message) for r in records]}"
    )
    if fault != "lro-fail":
        assert (after != before) is applied_by_fault, f"{case.op} under {fault}: state {before} -> {after}"
        assert isinstance(error, ResponseLost), f"{case.op} under {fault}: {error!r}"
        assert error.applied is applied_by_fault, str(error)
        assert applied_by_fault or "Nothing was re-sent" in str(error)
    if fault in ("500", "503"):
        assert records[-1].request_id and records[-1].request_id in str(error)


def test_a_throttled_mutation_is_sent_again_after_retry_after() -> None:
    """The one exception to at most once: Azure answers 429 before acting on a request."""
    from services import compute, workspaces
    from services.mutations import Target

    backend = DemoBackend({"frozen": "true"})
    try:
        session = backend.connect()
        emu = backend.emulator
        assert emu is not None
        ws = next(w for w in workspaces.list_workspaces(session) if w.name == PROD_WS)
        inst = next(c for c in compute.list_computes(session, ws) if c.kind == "instance" and c.state == "Running")
        for rule in parse_faults(f"/computes/{inst.name}/stop$:429:retry-after=1:times=1"):
            emu.faults.add(rule)
        compute.stop_instance(session, Target(ws.subscription_id, ws.resource_group, ws.name, inst.name))
        posts = [s for m, p, s in emu.request_log if m == "POST" and p.endswith(f"/computes/{inst.name}/stop")]
        outcome = session.guard.records[-1].outcome
    finally:
        backend.stop()
    assert posts == [429, 202] and outcome == "succeeded"
