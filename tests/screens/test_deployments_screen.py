"""The endpoints and deployments screen on the demo emulator (frozen clock): the tree-shaped list, traffic,
scale, delete, logs and test invoke, read-only refusals and an 80x24 screenshot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rich.text import Text
from textual.screen import Screen
from textual.widgets import Input, Static

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.deployments import DeploymentsScreen, InvokeResultScreen, LogsScreen, TrafficFormScreen
from screens.modals import ConfirmScreen, DetailScreen, FormScreen
from services import deployments, workspaces
from services.models import Workspace
from tests.screens.rendered import screen_text
from tests.test_app import wait_for

PROD = "mlw-prod-eus"
CHURN = "churn-scoring-prod-eus"  # Key auth, blue 90 / green 10
FRAUD = "fraud-detect-prod-eus"  # blue 100, 20% mirrored to shadow
LLM = "llm-summarize-prod-eus"  # main 100, a Failed canary (no traffic)
BATCH = "churn-batch-prod-eus"  # nightly (default) and v-next

S = TypeVar("S", bound=Screen[Any])
Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]


def run(scenario: Scenario, *, read_only: bool = False, size: tuple[int, int] = (120, 40)) -> None:
    """Run `scenario(app, pilot, backend)` on a private demo emulator, stopped afterwards."""
    backend = DemoBackend({"frozen": "true"})

    async def main() -> None:
        app = AzmlApp(backend.connect, profile="demo", read_only=read_only, refresh_interval=0)
        async with app.run_test(size=size) as pilot:
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


async def command(pilot: Any, text: str) -> None:
    """Type a `:` command the way a user does."""
    await pilot.press("colon")
    await pilot.pause(0.05)
    await pilot.press(*("space" if ch == " " else ch for ch in text), "enter")
    await pilot.pause(0.05)


async def open_screen(app: AzmlApp, pilot: Any, workspace: str = PROD) -> DeploymentsScreen:
    await wait_for(lambda: app.workspace is not None, pilot, timeout=60)  # the first start imports the SDKs
    await command(pilot, f"ws {workspace}")
    await wait_for(lambda: app.workspace is not None and app.workspace.name == workspace, pilot)
    await command(pilot, "deployments")
    await wait_for(lambda: isinstance(app.screen, DeploymentsScreen), pilot)
    screen = app.screen
    assert isinstance(screen, DeploymentsScreen)
    await wait_for(lambda: screen.loads >= 1, pilot)
    return screen


def key_of(screen: DeploymentsScreen, name: str) -> str:
    """The row key of `endpoint` or `endpoint/deployment`."""
    return next(k for k, r in screen.models.items() if r.name == name)


async def cursor_to(screen: DeploymentsScreen, pilot: Any, name: str) -> None:
    assert screen.table.move_cursor(key_of(screen, name))
    await pilot.pause(0.05)


def drawn(screen: DeploymentsScreen, name: str) -> str:
    """The row's line as the table draws it (branch glyphs included)."""
    line = screen.table.rendered(key_of(screen, name))
    assert line is not None, f"{name} is not shown"
    return line


def cell(screen: DeploymentsScreen, name: str, column: str) -> str:
    row = screen.table.row_dict(key_of(screen, name))
    assert row is not None
    value = row[column]
    return value.plain if isinstance(value, Text) else str(value)


def top(app: AzmlApp, kind: type[S]) -> S:
    """The screen on top, which must be a `kind`."""
    screen = app.screen
    assert isinstance(screen, kind), screen
    return screen


def ws_of(app: AzmlApp) -> Workspace:
    assert app.session is not None and app.workspace is not None
    return app.workspace


def messages(app: AzmlApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def set_inputs(form: FormScreen, pilot: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        form.query_one(f"#field-{name}", Input).value = value
    await pilot.pause(0.05)


async def submit(form: FormScreen, pilot: Any) -> None:
    """Enter in the form's last field submits it."""
    inputs = list(form.query(Input))
    inputs[-1].focus()
    await pilot.press("enter")
    await pilot.pause(0.1)


def error_text(form: FormScreen, name: str) -> str:
    return str(form.query_one(f"#error-{name}", Static).render())


# -- the list --------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_list_shows_the_workspaces_endpoints_and_their_deployments() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        session, ws = app.session, ws_of(app)
        assert session is not None
        online = deployments.list_online_endpoints(session, ws)
        batch = deployments.list_batch_endpoints(session, ws)
        expected: list[str] = []
        for ep in online:
            expected.append(ep.name)
            expected += [f"{ep.name}/{d.name}" for d in deployments.list_online_deployments(session, ws, ep.name)]
        for bep in batch:
            expected.append(bep.name)
            expected += [f"{bep.name}/{d.name}" for d in deployments.list_batch_deployments(session, ws, bep.name)]
        # Endpoints, each followed by its deployments, in that order.
        assert [screen.models[k].name for k in screen.table.visible_keys] == expected
        assert {CHURN, FRAUD, LLM, BATCH} <= set(expected)
        # Deployments are indented beneath their endpoint; the last one closes the branch.
        assert cell(screen, f"{CHURN}/green", "name") == "green"
        assert drawn(screen, f"{CHURN}/green").startswith("  └ green")
        assert drawn(screen, f"{CHURN}/blue").startswith("  ├ blue")
        # Kinds, live traffic and mirror traffic as the service reads them.
        assert cell(screen, CHURN, "kind") == "online" and cell(screen, BATCH, "kind") == "batch"
        assert cell(screen, f"{CHURN}/blue", "traffic_percent") == "90"
        assert cell(screen, f"{CHURN}/green", "traffic_percent") == "10"
        assert cell(screen, f"{FRAUD}/shadow", "traffic_percent") == "+20m"
        assert cell(screen, f"{BATCH}/nightly", "traffic_percent") == "default"
        assert cell(screen, CHURN, "auth_mode") == "Key" and cell(screen, FRAUD, "auth_mode") == "AMLToken"
        blue = deployments.get_online_deployment(session, ws, CHURN, "blue")
        assert cell(screen, f"{CHURN}/blue", "instance_count") == str(blue.instance_count)
        assert cell(screen, f"{CHURN}/blue", "instance_type") == blue.instance_type
        assert cell(screen, f"{LLM}/canary", "provisioning_state") == "Failed"
        status = str(screen.query_one("#status").render())
        assert f"{len(online) + len(batch)} endpoints" in status

        # d on an endpoint: auth, scoring URI, swagger, traffic, mirror, public network access.
        await cursor_to(screen, pilot, FRAUD)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
        text = str(app.screen.query_one("#detail-text", Static).render())
        fraud = deployments.get_online_endpoint(session, ws, FRAUD)
        for expected_text in ("AMLToken", fraud.scoring_uri, fraud.swagger_uri, "blue 100%", "shadow 20%"):
            assert expected_text in text
        assert fraud.public_network_access in text
        await pilot.press("escape")
        # enter on a Failed deployment: its error, from the failed operation.
        await cursor_to(screen, pilot, f"{LLM}/canary")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
        text = str(app.screen.query_one("#detail-text", Static).render())
        assert "ResourceNotReady" in text and "No module named 'transformers'" in text
        assert "phi3-mini-tickets:3" in text and "Standard_NC6s_v3" in text and "Failed" in text
        await pilot.press("escape")

    run(scenario)


# -- traffic ---------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_sorting_and_filtering_keep_deployments_beneath_their_endpoint() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        table = screen.table

        def names() -> list[str]:
            return [screen.models[k].name for k in table.visible_keys]

        def grouped() -> bool:
            """Every deployment follows its endpoint or a sibling."""
            shown = names()
            for i, name in enumerate(shown):
                if "/" in name:
                    before = shown[i - 1] if i else ""
                    if before.split("/")[0] != name.split("/")[0]:
                        return False
            return True

        table.sort_by("name", reverse=True)
        await pilot.pause(0.05)
        shown = names()
        endpoints = [n for n in shown if "/" not in n]
        assert endpoints == sorted(endpoints, reverse=True)
        assert grouped(), shown
        churn = [n for n in shown if n.startswith(f"{CHURN}/")]
        assert churn == sorted(churn, reverse=True)  # green, then blue: siblings sorted too
        assert drawn(screen, churn[0]).startswith("  ├ ") and drawn(screen, churn[-1]).startswith("  └ ")

        table.sort_by("provisioning_state")
        await pilot.pause(0.05)
        assert grouped(), names()

        # A deployment that matches shows with its endpoint; an endpoint that matches shows with all of its.
        table.sort_by(None)
        table.set_filter("canary")
        await pilot.pause(0.05)
        assert names() == [LLM, f"{LLM}/canary"]
        assert drawn(screen, f"{LLM}/canary").startswith("  └ canary")  # its sibling is filtered out
        table.set_filter(FRAUD)
        await pilot.pause(0.05)
        assert names()[0] == FRAUD and len(names()) > 1 and grouped()
        table.set_filter("")
        await pilot.pause(0.05)
        assert drawn(screen, f"{LLM}/canary").startswith("  ├ canary")

    run(scenario)


@pytest.mark.timeout(120)
def test_traffic_editor_routes_blue_50_green_50() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        await cursor_to(screen, pilot, f"{CHURN}/green")  # a deployment row edits its endpoint's traffic
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TrafficFormScreen), pilot)
        form = top(app, TrafficFormScreen)
        assert form.values() == {"live-blue": "90", "live-green": "10", "mirror-blue": "0", "mirror-green": "0"}
        assert "Live total: 100%" in str(form.query_one("#traffic-sum", Static).render())
        await set_inputs(form, pilot, {"live-blue": "50", "live-green": "50"})
        await submit(form, pilot)
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.plan.az.startswith(f'az ml online-endpoint update --name {CHURN} --traffic "blue=50 green=50"')
        assert any("blue 90% → 50%" in line for line in confirm.plan.details)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, DeploymentsScreen), pilot)
        await wait_for(
            lambda: not screen.pending and cell(screen, f"{CHURN}/blue", "traffic_percent") == "50", pilot, timeout=60
        )
        assert cell(screen, f"{CHURN}/green", "traffic_percent") == "50"
        assert app.session is not None
        ep = deployments.get_online_endpoint(app.session, ws_of(app), CHURN)
        assert (ep.traffic_of("blue"), ep.traffic_of("green")) == (50, 50)

    run(scenario)


@pytest.mark.timeout(120)
def test_invalid_traffic_stays_in_the_form_and_sends_nothing() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        await cursor_to(screen, pilot, CHURN)
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TrafficFormScreen), pilot)
        form = top(app, TrafficFormScreen)
        emu = backend.emulator
        assert emu is not None
        await set_inputs(form, pilot, {"live-blue": "100", "live-green": "10"})
        assert "Live total: 110%" in str(form.query_one("#traffic-sum", Static).render())
        before = emu.request_count
        await submit(form, pilot)
        assert app.screen is form
        assert "must sum to 100 (it sums to 110)" in error_text(form, "live-green")
        assert form.values()["live-blue"] == "100" and form.values()["live-green"] == "10"
        # A mirror to a deployment that takes live traffic: under that deployment's mirror field.
        await set_inputs(form, pilot, {"live-blue": "90", "live-green": "10", "mirror-green": "5"})
        await submit(form, pilot)
        assert app.screen is form
        assert "takes live traffic" in error_text(form, "mirror-green")
        assert error_text(form, "live-green") == ""
        # Not a number: named under its field.
        await set_inputs(form, pilot, {"mirror-green": "ten"})
        await submit(form, pilot)
        assert "whole number" in error_text(form, "mirror-green")
        assert emu.request_count == before
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        assert cell(screen, f"{CHURN}/blue", "traffic_percent") == "90"

    run(scenario)


@pytest.mark.timeout(150)
def test_a_share_or_count_out_of_its_models_range_is_refused_on_its_field_and_sends_nothing() -> None:
    """The traffic and scale forms are checked by their parameter models (services/kinds/deployments.py): a
    share outside 0..100 under that deployment's input, a count outside 1..20 or not whole under the count's
    input, as drawn; not one request reaches the emulator."""

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        emu = backend.emulator
        assert emu is not None
        await cursor_to(screen, pilot, CHURN)
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, TrafficFormScreen), pilot)
        form = top(app, TrafficFormScreen)
        before = emu.request_count
        await set_inputs(form, pilot, {"live-blue": "120", "live-green": "-20"})  # sums to 100, each out of range
        await submit(form, pilot)
        assert app.screen is form
        assert error_text(form, "live-blue") == "blue must be a whole percentage from 0 to 100"
        assert "blue must be a whole percentage from 0 to 100" in screen_text(app)
        assert emu.request_count == before
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)

        await cursor_to(screen, pilot, f"{CHURN}/green")
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = top(app, FormScreen)
        assert "1 to 20" in screen_text(app)  # the count's help, from its declaration
        before = emu.request_count
        for typed, rule in (("25", "must be a whole number from 1 to 20"), ("2.5", "must be a whole number")):
            await set_inputs(form, pilot, {"instance_count": typed})
            await submit(form, pilot)
            assert app.screen is form and error_text(form, "instance_count") == rule
            assert rule in screen_text(app)
        assert emu.request_count == before
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        assert cell(screen, f"{CHURN}/green", "instance_count") == "1"

    run(scenario)


# -- scale -----------------------------------------------------------------------------------------


@pytest.mark.timeout(150)
def test_scale_a_deployment_to_3_instances_and_refuse_an_autoscaled_one() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        await cursor_to(screen, pilot, f"{CHURN}/green")
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = top(app, FormScreen)
        assert form.values() == {"instance_count": "1"}
        emu = backend.emulator
        assert emu is not None
        before = emu.request_count
        await set_inputs(form, pilot, {"instance_count": "0"})
        await submit(form, pilot)
        assert app.screen is form and "from 1 to 20" in error_text(form, "instance_count")
        assert emu.request_count == before
        await set_inputs(form, pilot, {"instance_count": "3"})
        await submit(form, pilot)
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert isinstance(app.screen, ConfirmScreen) and "--set instance_count=3" in app.screen.plan.az
        await pilot.press("enter")
        await wait_for(
            lambda: not screen.pending and cell(screen, f"{CHURN}/green", "instance_count") == "3", pilot, timeout=60
        )
        assert app.session is not None
        assert deployments.get_online_deployment(app.session, ws_of(app), CHURN, "green").instance_count == 3

        # The Kubernetes deployment in West Europe is autoscaled: refused with the reason, no form.
        await command(pilot, "ws mlw-prod-weu")
        await wait_for(lambda: app.workspace is not None and app.workspace.name == "mlw-prod-weu", pilot)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        await wait_for(lambda: any(r.name == "recs-k8s-prod-weu/default" for r in screen.models.values()), pilot)
        assert cell(screen, "recs-k8s-prod-weu", "kind") == "k8s"
        assert cell(screen, "recs-k8s-prod-weu/default", "instance_count") == "1-5"
        await cursor_to(screen, pilot, "recs-k8s-prod-weu/default")
        await pilot.press("e")
        await pilot.pause(0.1)
        assert app.screen is screen
        assert any("autoscaler" in m and "min/max instances" in m for m in messages(app))

    run(scenario)


# -- delete ----------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_delete_is_refused_while_carrying_traffic_then_deletes_an_unrouted_one() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        emu = backend.emulator
        assert emu is not None
        before = emu.request_count
        await cursor_to(screen, pilot, f"{CHURN}/green")
        await pilot.press("D")
        await pilot.pause(0.1)
        assert app.screen is screen
        assert any("carries 10% of live traffic; move its traffic first" in m for m in messages(app))
        await cursor_to(screen, pilot, f"{FRAUD}/shadow")
        await pilot.press("D")
        await pilot.pause(0.1)
        assert app.screen is screen
        assert any("carries 20% of mirrored traffic" in m for m in messages(app))
        assert emu.request_count == before

        # The Failed canary carries nothing: a typed confirmation, then it is gone.
        await cursor_to(screen, pilot, f"{LLM}/canary")
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.plan.confirm_text == "canary"
        assert confirm.plan.az.startswith(f"az ml online-deployment delete --name canary --endpoint-name {LLM}")
        await pilot.press("enter")  # nothing typed: refused, still open
        await pilot.pause(0.05)
        assert app.screen is confirm
        await pilot.press(*"canary", "enter")
        await wait_for(
            lambda: not screen.pending and all(r.name != f"{LLM}/canary" for r in screen.models.values()),
            pilot,
            timeout=60,
        )
        assert drawn(screen, f"{LLM}/main").startswith("  └ main")
        assert app.session is not None
        assert [d.name for d in deployments.list_online_deployments(app.session, ws_of(app), LLM)] == ["main"]

    run(scenario)


# -- logs ------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_logs_modal_shows_lines_and_switches_container() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        await cursor_to(screen, pilot, f"{CHURN}/blue")
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, LogsScreen), pilot)
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        await wait_for(lambda: logs.loads >= 1, pilot)
        log = logs.view
        assert 0 < log.line_count <= 200
        assert "Azure ML Inferencing HTTP server" in deployments.get_logs(
            app.session,  # type: ignore[arg-type]
            ws_of(app),
            CHURN,
            "blue",
            lines=5000,
        )
        assert list(log.lines) == logs.content.splitlines()
        await pilot.press("c")
        await wait_for(lambda: logs.loads >= 2, pilot)
        assert logs.container == "StorageInitializer"
        assert "Storage initializer completed successfully" in log.text()
        assert "StorageInitializer" in str(logs.query_one("#logs-title", Static).render())
        await pilot.press("n")
        await wait_for(lambda: logs.loads >= 3, pilot)
        assert logs.lines == 1000
        await pilot.press("c", "r")
        await wait_for(lambda: logs.loads >= 5 and logs.container == "InferenceServer", pilot)
        assert "Azure ML Inferencing HTTP server" in log.text()
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        # An endpoint row has no logs of its own: it says which deployments to choose from.
        await cursor_to(screen, pilot, CHURN)
        await pilot.press("l")
        await pilot.pause(0.05)
        assert app.screen is screen and any("blue, green" in m for m in messages(app))

    run(scenario)


# -- invoke ----------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_invoke_shows_predictions_and_the_answering_deployment() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        await cursor_to(screen, pilot, CHURN)
        await pilot.press("i")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = top(app, FormScreen)
        assert json.loads(form.values()["payload"]) == {"data": [[1, 2, 3, 4]]}
        emu = backend.emulator
        assert emu is not None
        before = emu.request_count
        await set_inputs(form, pilot, {"payload": '{"data": [[1, 2'})
        await submit(form, pilot)
        assert app.screen is form and "is not valid JSON" in error_text(form, "payload")
        await set_inputs(form, pilot, {"payload": '{"data": [[1, 2, 3, 4]]}', "deployment_name": "purple"})
        await submit(form, pilot)
        assert app.screen is form and "purple" in error_text(form, "deployment_name")
        assert error_text(form, "payload") == ""
        assert emu.request_count == before
        rows = {"data": [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.5, 0.0], [9.0, 9.0, 9.0, 9.0]]}
        await set_inputs(form, pilot, {"payload": json.dumps(rows), "deployment_name": ""})
        await submit(form, pilot)
        await confirm_plan(app, pilot)
        await wait_for(lambda: isinstance(app.screen, InvokeResultScreen), pilot, timeout=60)
        result_screen = app.screen
        assert isinstance(result_screen, InvokeResultScreen)
        result = result_screen.result
        assert result.status == 200 and result.deployment == "blue"  # these rows hash into blue's 90%
        assert isinstance(result.response, list) and len(result.response) == 3
        text = str(result_screen.query_one("#invoke-text", Static).render())
        assert "blue" in text and "200" in text and " ms" in text
        assert f"{result.response[0]}" in text
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        # From a deployment row the form names that deployment, and that deployment answers.
        await cursor_to(screen, pilot, f"{CHURN}/green")
        await pilot.press("i")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = top(app, FormScreen)
        assert form.values()["deployment_name"] == "green"
        await submit(form, pilot)
        await confirm_plan(app, pilot)
        await wait_for(lambda: isinstance(app.screen, InvokeResultScreen), pilot, timeout=60)
        assert isinstance(app.screen, InvokeResultScreen) and app.screen.result.deployment == "green"

    run(scenario)


async def confirm_plan(app: AzmlApp, pilot: Any) -> None:
    await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
    await pilot.press("enter")


@pytest.mark.timeout(120)
def test_invoke_shows_its_plan_and_az_equivalent_before_sending() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        emu = backend.emulator
        assert emu is not None
        await cursor_to(screen, pilot, f"{CHURN}/green")
        await pilot.press("i")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        before = emu.request_count
        await submit(top(app, FormScreen), pilot)
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.pause(0.1)
        shown = " ".join(screen_text(app).replace("│", " ").split())  # the plan as drawn, wrapped lines joined
        assert "Invoke online endpoint" in shown
        assert f"az ml online-endpoint invoke --name {CHURN} --deployment-name green --request-file" in shown
        assert "Route: deployment green" in shown
        assert emu.request_count == before  # nothing sent while the plan is shown
        await pilot.press("escape")  # cancelled: still nothing sent, back on the list
        await wait_for(lambda: app.screen is screen, pilot)
        assert emu.request_count == before
        assert not any(isinstance(s, InvokeResultScreen) for s in app.screen_stack)

    run(scenario)


# -- read-only -------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_read_only_refuses_traffic_scale_and_delete_without_a_dialog() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_screen(app, pilot)
        emu = backend.emulator
        assert emu is not None
        before = emu.request_count
        await cursor_to(screen, pilot, f"{LLM}/canary")
        for key in ("t", "e", "D", "i"):
            await pilot.press(key)
            await pilot.pause(0.05)
            assert app.screen is screen, key
        refusals = [m for m in messages(app) if "read-only" in m]
        assert len(refusals) == 4
        assert any(m.startswith("Update endpoint traffic") for m in refusals)
        assert any(m.startswith("Scale online deployment") for m in refusals)
        assert any(m.startswith("Delete online deployment") for m in refusals)
        assert emu.request_count == before
        # Reading still works: logs open.
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, LogsScreen), pilot)

    run(scenario, read_only=True)


# -- screenshot ------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_screenshot_at_80x24_shows_the_endpoints(tmp_path: Path) -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await open_screen(app, pilot)
        await pilot.pause(0.1)
        path = app.save_screenshot(filename="deployments.svg", path=str(tmp_path))
        svg = Path(path).read_text()
        assert CHURN in svg and FRAUD in svg
        assert "blue" in svg and "Traffic" in svg

    run(scenario, size=(80, 24))


def test_service_listing_matches_on_the_shared_emulator(session: Any) -> None:
    """fetch() outside the UI: the same rows the service gives, endpoints before their deployments."""
    ws = next(w for w in workspaces.list_workspaces(session) if w.name == PROD)
    rows = DeploymentsScreen().fetch(session, ws)
    names = [r.name for r in rows.values()]
    assert names.index(CHURN) < names.index(f"{CHURN}/blue") < names.index(f"{CHURN}/green") < names.index(FRAUD)
    assert all(not r.error for r in rows.values())
    endpoint_row = rows[next(k for k, r in rows.items() if r.name == CHURN)]
    assert endpoint_row.deployment_names == ("blue", "green") and endpoint_row.kind == "online"
