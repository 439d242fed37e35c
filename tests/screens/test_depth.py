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


# -- the VM size picker and the quota refusal -------------------------------------------------------

A100 = "Standard_NC24ads_A100_v4"  # 24 vCPUs; its family has 24 of 96 vCPUs left in eastus (demo)
A100_BIG = "Standard_NC48ads_A100_v4"  # 48 vCPUs: more than is left
OBJECT_ID = "5f0c3f4e-8a1b-4c2d-9e3f-0a1b2c3d4e5f"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


async def open_compute(app: AzmlApp, pilot: Any) -> Any:
    from screens.compute import ComputeScreen

    await command(pilot, "ws mlw-prod-eus")
    await wait_for(lambda: app.workspace is not None and app.workspace.name == "mlw-prod-eus", pilot)
    await command(pilot, "compute")
    await wait_for(lambda: isinstance(app.screen, ComputeScreen) and bool(app.screen.models), pilot)
    return app.screen


def writes(backend: DemoBackend, since: int) -> list[tuple[str, str, int]]:
    emu = backend.emulator
    assert emu is not None
    return [r for r in emu.request_log[since:] if r[0] in ("PUT", "PATCH", "POST", "DELETE") and "/computes/" in r[1]]


async def fill(form: Any, pilot: Any, values: dict[str, str]) -> None:
    from textual.widgets import Input

    for name, value in values.items():
        form.query_one(f"#field-{name}", Input).value = value
    await pilot.pause(0.1)


@pytest.mark.timeout(150)
def test_size_picker_searches_filters_gpus_and_quota_refuses_before_sending() -> None:
    from screens.modals import ConfirmScreen
    from screens.size_picker import ComputeFormScreen, SizePickerScreen

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        emu = backend.emulator
        assert emu is not None
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ComputeFormScreen), pilot)
        form = app.screen
        since = len(emu.request_log)
        await pilot.press("ctrl+o")
        await wait_for(lambda: isinstance(app.screen, SizePickerScreen), pilot)
        picker = app.screen
        await pilot.press(*"a100")
        await pilot.pause(0.2)
        shown = screen_text(app)
        rows = [line for line in shown.splitlines() if "Standard_" in line]
        assert rows and all("A100" in line for line in rows)  # the search keeps only A100 sizes
        a100 = next(line for line in rows if A100 in line)
        assert " 24 " in a100 and "24/96" in a100  # vCPUs and the family's quota left
        assert any(A100_BIG in line and "!" in line for line in rows)  # 48 vCPUs > 24 left: marked
        await pilot.press("ctrl+u", "ctrl+g")  # clear the search, GPU only
        await pilot.pause(0.2)
        shown = screen_text(app)
        assert "GPU only" in shown
        assert "Standard_DS3_v2" not in shown and "Standard_NC6s_v3" in shown
        await pilot.press("down")
        assert picker.table.move_cursor(A100.lower())
        await pilot.press("enter")
        await wait_for(lambda: app.screen is form, pilot)
        await fill(form, pilot, {"name": "gpu-h-a100", "max_instances": "2"})
        assert "this needs 48: EXCEEDS" in flat(app)
        form._submit()
        await pilot.pause(0.2)
        assert app.screen is form
        shown = flat(app)
        assert "2 nodes x 24 vCPUs = 48 vCPUs exceeds the NCADSA100v4 quota left: 24 of 96 vCPUs" in shown
        assert writes(backend, since) == []  # refused before any request
        await fill(form, pilot, {"max_instances": "1"})  # fits: the plan comes up
        form._submit()
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert "24 vCPUs, 220 GB, 1 GPUs" in flat(app) or "this needs 24: fits" in flat(app)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        assert writes(backend, since) == []
        # an instance larger than what is left is refused on its size
        await pilot.press("i")
        await wait_for(lambda: isinstance(app.screen, ComputeFormScreen), pilot)
        form = app.screen
        await fill(form, pilot, {"name": "ci-h-big", "size": A100_BIG})
        form._submit()
        await pilot.pause(0.2)
        assert app.screen is form
        assert "48 vCPUs exceeds the NCADSA100v4 quota left: 24 of 96 vCPUs" in flat(app)
        assert writes(backend, since) == []

    run(scenario)


@pytest.mark.timeout(180)
def test_instance_assigned_user_round_trip() -> None:
    from screens.modals import ConfirmScreen
    from screens.size_picker import ComputeFormScreen

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        emu = backend.emulator
        assert emu is not None
        await pilot.press("i")
        await wait_for(lambda: isinstance(app.screen, ComputeFormScreen), pilot)
        form = app.screen
        since = len(emu.request_log)
        await fill(form, pilot, {"name": "ci-h-bob", "size": "Standard_DS3_v2", "assigned_user_object_id": "bob"})
        form._submit()
        await pilot.pause(0.2)
        assert "Assigned user's object id" in flat(app) and "must be an object id (a GUID)" in flat(app)
        assert writes(backend, since) == []
        await fill(form, pilot, {"assigned_user_object_id": OBJECT_ID, "assigned_user_tenant_id": TENANT_ID})
        form._submit()
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        shown = flat(app)
        assert f"--user-tenant-id {TENANT_ID} --user-object-id {OBJECT_ID}" in shown
        assert f"Assigned to user {OBJECT_ID} (tenant {TENANT_ID})" in shown
        await pilot.press("enter")
        await wait_for(lambda: "ci-h-bob: created" in screen.last_action, pilot, timeout=90)
        # what Azure stored, read back through the emulator's own estate
        stored = next(r for r in emu.estate.resources.values() if str(r.get("name")) == "ci-h-bob")
        assigned = stored["properties"]["properties"]["personalComputeInstanceSettings"]["assignedUser"]
        assert assigned == {"objectId": OBJECT_ID, "tenantId": TENANT_ID}
        await wait_for(lambda: any(c.name == "ci-h-bob" for c in screen.models.values()), pilot, timeout=30)
        key = next(k for k, c in screen.models.items() if c.name == "ci-h-bob")
        assert screen.table.move_cursor(key)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
        await pilot.pause(0.1)
        assert f"Assigned user object id {OBJECT_ID} (tenant {TENANT_ID})" in flat(app)

    run(scenario)


# -- deployment log follow --------------------------------------------------------------------------


@pytest.mark.timeout(150)
def test_deployment_logs_follow_appends_new_lines_and_f_toggles() -> None:
    from screens.deployment_logs import LogsScreen
    from screens.deployments import DeploymentsScreen
    from services import deployments
    from services.mutations import Target

    churn = "churn-scoring-prod-eus"

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await command(pilot, "ws mlw-prod-eus")
        await wait_for(lambda: app.workspace is not None and app.workspace.name == "mlw-prod-eus", pilot)
        await command(pilot, "deployments")
        await wait_for(lambda: isinstance(app.screen, DeploymentsScreen) and bool(app.screen.models), pilot)
        screen = app.screen
        assert isinstance(screen, DeploymentsScreen)
        key = next(k for k, r in screen.models.items() if r.name == f"{churn}/blue")
        assert screen.table.move_cursor(key)
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, LogsScreen) and app.screen.loads >= 1, pilot)
        logs = app.screen
        assert isinstance(logs, LogsScreen) and logs.follow
        before = logs.view.line_count
        assert "following" in flat(app)
        # another client scores a request: the deployment logs it, and the open view gains the line
        session, ws = app.session, app.workspace
        assert session is not None and ws is not None
        target = Target(ws.subscription_id, ws.resource_group, ws.name, churn)
        result = await asyncio.to_thread(
            deployments.invoke, session, target, payload='{"data": [[1, 2, 3, 4]]}', deployment_name="blue"
        )
        assert result.status == 200
        await wait_for(lambda: logs.view.line_count > before, pilot, timeout=30)
        appended = [logs.view.line(i) for i in range(before, logs.view.line_count)]
        assert any("POST /score" in line for line in appended), appended
        assert any("POST /score" in line for line in screen_text(app).splitlines()[-8:])  # drawn at the bottom
        assert logs.view.line(before - 1) != logs.view.line(before)  # appended, not reloaded
        # f pauses: nothing more is read
        await pilot.press("f")
        await pilot.pause(0.1)
        assert not logs.follow and "paused (f follows)" in flat(app)
        polls = logs.polls
        await asyncio.to_thread(
            deployments.invoke, session, target, payload='{"data": [[1, 2, 3, 4]]}', deployment_name="blue"
        )
        await pilot.pause(0.3)
        assert logs.polls == polls
        await pilot.press("f")  # following again: it catches up at once
        await wait_for(lambda: logs.polls > polls, pilot)
        assert logs.follow and "following" in flat(app)

    run(scenario)


def test_tail_overlap_finds_the_new_lines() -> None:
    from screens.deployment_logs import lines_after

    assert lines_after(["a", "b", "c"], ["b", "c", "d", "e"]) == (["d", "e"], False)
    assert lines_after(["a", "b", "c"], ["a", "b", "c"]) == ([], False)
    assert lines_after(["x", "c"], ["c", "x", "c", "d"]) == (["d"], False)  # the longest overlap that fits
    assert lines_after(["a", "b"], ["q", "r"]) == (["q", "r"], True)  # no overlap: a gap
    assert lines_after([], ["a"]) == (["a"], False)


# -- per-node utilisation -----------------------------------------------------------------------------


@pytest.mark.timeout(150)
def test_nodes_view_shows_each_nodes_cpu_and_gpu_utilisation() -> None:
    import datetime as dt

    from screens.compute import NodesScreen

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        key = next(k for k, c in screen.models.items() if c.name == "gpu-a100")
        assert screen.table.move_cursor(key)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NodesScreen) and app.screen.loads > 0, pilot, timeout=60)
        nodes = app.screen
        assert isinstance(nodes, NodesScreen) and nodes.models
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "CPU%" in shown and "GPU%" in shown
        assert "mean of the last 10 min, Log Analytics" in shown
        # each node's figures, asked of Log Analytics independently, one node and one metric at a time
        session, ws = app.session, app.workspace
        assert session is not None and ws is not None
        law = monitor.log_analytics_workspace(session, ws)
        for node_id in nodes.models:
            line = next(ln for ln in shown.splitlines() if ln.startswith(node_id))
            for metric in ("CpuUtilization", "GpuUtilization"):
                kql = (
                    f'AmlComputeCpuGpuUtilization | where NodeId == "{node_id}" and MetricName == "{metric}" '
                    "| summarize v = avg(Utilization)"
                )
                result = monitor.run_query(session, law, kql, dt.timedelta(minutes=10))
                value = round(float(result.rows[0][0]), 1)
                assert f" {value:g} " in f" {line} ", (node_id, metric, value, line)

    run(scenario)


# -- nested pipeline step tree -----------------------------------------------------------------------


@pytest.mark.timeout(150)
def test_nested_pipeline_steps_show_indented_beneath_their_step() -> None:
    from screens.job_runs import StepsScreen
    from screens.jobs import JobsScreen
    from services import jobs
    from services.models.jobs import JobFilter

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        session, ws = app.session, app.workspace
        assert session is not None and ws is not None
        pipelines = jobs.list_jobs(session, ws, JobFilter.of(job_type="pipeline"), page_size=100).next_page()
        found = None
        for p in pipelines:
            steps = jobs.list_steps(session, ws, p.name)
            nested = next((s for s in steps if s.children), None)
            if nested is not None:
                found = (p, steps, nested)
                break
        assert found is not None, "the demo's run history has nested pipelines"
        pipeline, steps, nested = found
        await command(pilot, "jobs")
        await wait_for(lambda: isinstance(app.screen, JobsScreen) and pipeline.key in app.screen.models, pilot)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        assert screen.table.move_cursor(pipeline.key)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, StepsScreen) and app.screen.loads > 0, pilot)
        await pilot.pause(0.1)
        lines = screen_text(app).splitlines()
        names = [s.display_name for s in steps]
        row = {n: next(i for i, ln in enumerate(lines) if ln.split() and ln.split()[0] == n) for n in names}
        at = row[nested.display_name]
        assert "pipeline" in lines[at]
        beneath = lines[at + 1 : at + 1 + len(nested.children)]
        for line, child in zip(beneath, nested.children, strict=True):
            assert child.display_name in line and line.startswith("  "), (line, child.display_name)
            assert line.split()[0] in ("├", "└")  # drawn as branches of the nested step
        following = names[names.index(nested.display_name) + 1 :]
        if following:  # the next step of the outer pipeline comes after the nested ones
            assert row[following[0]] == at + 1 + len(nested.children)

    run(scenario)
