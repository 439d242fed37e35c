"""The compute screen on the demo emulator (frozen clock): list, nodes, sizes, and every action end to
end — stop and start an instance, scale a cluster, create one, delete it — with bad input refused in
the form, read-only refusals and the production guard."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from textual.widgets import Input

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.compute import ComputeScreen, NodesScreen, SizesScreen
from screens.modals import ConfirmScreen, FormScreen
from services import compute, workspaces
from tests.test_app import wait_for

PROD = "mlw-prod-eus"
Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]


def run(scenario: Scenario, **app_kwargs: Any) -> None:
    backend = DemoBackend({"frozen": "true"})

    async def main() -> None:
        app = AzmlApp(backend.connect, profile="demo", refresh_interval=0, default_workspace=PROD, **app_kwargs)
        async with app.run_test(size=(120, 40)) as pilot:
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


async def command(pilot: Any, text: str) -> None:
    await pilot.press("colon", *("space" if ch == " " else ch for ch in text), "enter")
    await pilot.pause(0.05)


async def open_compute(app: AzmlApp, pilot: Any) -> ComputeScreen:
    await wait_for(lambda: app.workspace is not None, pilot, timeout=60)
    await command(pilot, "compute")
    await wait_for(lambda: isinstance(app.screen, ComputeScreen) and bool(app.screen.models), pilot)
    screen = app.screen
    assert isinstance(screen, ComputeScreen)
    return screen


def _ws(app: AzmlApp) -> Any:
    assert app.session is not None
    return next(w for w in workspaces.list_workspaces(app.session) if w.name == PROD)


async def _fill(pilot: Any, form: FormScreen, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = form.query_one(f"#field-{name}", Input)
        field.value = value
    await pilot.pause(0.05)


async def _confirm(app: AzmlApp, pilot: Any, typed: str = "") -> None:
    await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    if typed:
        screen.query_one("#confirm-input", Input).value = typed
    await pilot.click("#confirm-run")
    await pilot.pause(0.05)


def test_list_matches_the_service_and_nodes_open() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        assert app.session is not None
        expected = {c.key for c in compute.list_computes(app.session, _ws(app))}
        assert set(screen.models) == expected
        cluster = next(c for c in screen.models.values() if c.kind == "cluster")
        screen.table.move_cursor(cluster.key)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, NodesScreen) and bool(app.screen.models), pilot)
        nodes = app.screen
        assert isinstance(nodes, NodesScreen)
        assert len(nodes.models) == cluster.nodes.total
        await pilot.press("escape")
        await command(pilot, "sizes")
        await wait_for(lambda: isinstance(app.screen, SizesScreen) and bool(app.screen.models), pilot)
        sizes = app.screen
        assert isinstance(sizes, SizesScreen)
        total = len(sizes.models)
        await pilot.press("g")  # GPU only
        await pilot.pause(0.1)
        assert 0 < sizes.table.row_count < total

    run(scenario)


def test_stop_then_start_an_instance_and_see_the_state_change() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        running = next(c for c in screen.models.values() if c.kind == "instance" and c.state == "Running")
        screen.table.move_cursor(running.key)
        await pilot.press("o")
        await _confirm(app, pilot)
        await wait_for(lambda: screen.pending.get(running.key) == "stopping", pilot)
        await wait_for(lambda: not screen.pending and screen.models[running.key].state == "Stopped", pilot)
        screen.table.move_cursor(running.key)
        await pilot.press("a")
        await _confirm(app, pilot)
        await wait_for(lambda: not screen.pending and screen.models[running.key].state == "Running", pilot)
        assert app.session is not None
        outcomes = [(r.operation, r.outcome) for r in app.session.guard.records]
        assert ("compute.stop", "succeeded") in outcomes and ("compute.start", "succeeded") in outcomes

    run(scenario)


def test_scale_form_refuses_bad_input_in_place_then_scales() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        cluster = next(c for c in screen.models.values() if c.name == "cpu-cluster")
        screen.table.move_cursor(cluster.key)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        emu = backend.emulator
        assert emu is not None
        before = emu.request_count
        await _fill(pilot, form, {"min_instances": "5", "max_instances": "2", "idle_seconds": "120"})
        await pilot.click("#form-submit")
        await pilot.pause(0.1)
        assert app.screen is form, "the form must stay open"
        error = str(form.query_one("#error-min_instances").render())
        assert "must not exceed max_instances" in error
        assert form.values()["min_instances"] == "5"  # nothing typed is lost
        assert emu.request_count == before
        await _fill(pilot, form, {"min_instances": "1", "max_instances": "6"})
        await pilot.click("#form-submit")
        await _confirm(app, pilot)
        await wait_for(lambda: not screen.pending and screen.models[cluster.key].max_nodes == 6, pilot)
        assert screen.models[cluster.key].min_nodes == 1

    run(scenario)


def test_create_a_cluster_then_delete_it_with_its_name_typed() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        await _fill(pilot, form, {"name": "tmp-cpu", "size": "Standard_Nope_v9"})
        await pilot.click("#form-submit")
        await pilot.pause(0.1)
        assert "not offered in eastus" in str(form.query_one("#error-size").render())
        await _fill(pilot, form, {"size": "Standard_DS3_v2", "max_instances": "2"})
        await pilot.click("#form-submit")
        await _confirm(app, pilot)
        await wait_for(lambda: any(c.name == "tmp-cpu" for c in screen.models.values()), pilot)
        created = next(c for c in screen.models.values() if c.name == "tmp-cpu")
        screen.table.move_cursor(created.key)
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.plan.confirm_text == "tmp-cpu"
        assert confirm.plan.az.startswith("az ml compute delete --name tmp-cpu")
        await _confirm(app, pilot, typed="tmp-cpu")
        await wait_for(lambda: not any(c.name == "tmp-cpu" for c in screen.models.values()), pilot)

    run(scenario)


def test_read_only_refuses_every_action_key() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        instance = next(c for c in screen.models.values() if c.kind == "instance")
        screen.table.move_cursor(instance.key)
        for key in ("o", "a", "R", "D"):
            await pilot.press(key)
            await pilot.pause(0.05)
            assert app.screen is screen, key
        assert any("read-only" in n.message for n in app._notifications)
        # nothing was attempted: every key was refused, and each refusal is in the audit
        assert app.session is not None and app.session.guard.records
        assert {r.outcome for r in app.session.guard.records} == {"refused"}

    run(scenario, read_only=True)


def test_production_needs_the_name_typed_even_to_stop() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        running = next(c for c in screen.models.values() if c.kind == "instance" and c.state == "Running")
        screen.table.move_cursor(running.key)
        await pilot.press("o")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.plan.confirm_text == running.name
        await pilot.click("#confirm-run")  # nothing typed: refused, dialog stays
        await pilot.pause(0.05)
        assert app.screen is confirm
        assert "type" in str(confirm.query_one("#confirm-error").render())

    run(scenario, production=True)


def test_a_new_instance_for_yourself_goes_from_the_generated_form_to_its_plan() -> None:
    """The instance form's inputs are its parameter model's; left as they open (no assigned user), they make a
    valid request: its plan and az equivalent come up (the tenant input no longer starts filled, which the
    model's rule refused as a tenant without an object id)."""
    from services.kinds.compute import CreateInstance

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await open_compute(app, pilot)
        emu = backend.emulator
        assert emu is not None
        await pilot.press("i")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        inputs = [f for f in CreateInstance.form_fields()]
        assert list(form.values()) == [f.name for f in inputs]  # every input from the model, in its order
        shown = " ".join(str(label.render()) for label in form.query("Label"))
        assert all(f.label in shown for f in inputs)
        before = emu.request_count
        await _fill(pilot, form, {"name": "ci-mine"})
        await pilot.click("#form-submit")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.plan.az.startswith(
            "az ml compute create --name ci-mine --type ComputeInstance --size Standard_DS3_v2 "
        )
        assert "--user-object-id" not in confirm.plan.az
        assert emu.request_count == before  # nothing sent before the plan is confirmed
        await pilot.press("escape")

    run(scenario)


def test_the_cluster_form_refuses_each_bad_value_on_its_field_and_sends_nothing() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await open_compute(app, pilot)
        emu = backend.emulator
        assert emu is not None and app.session is not None
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        before, records = emu.request_count, len(app.session.guard.records)
        bad = {"name": "9lives", "max_instances": "two", "idle_seconds": "60", "tier": "spot"}
        await _fill(pilot, form, bad)
        await pilot.click("#form-submit")
        await pilot.pause(0.1)
        assert app.screen is form
        assert "must be a whole number" in str(form.query_one("#error-max_instances").render())
        await _fill(pilot, form, {"max_instances": "2"})
        await pilot.click("#form-submit")
        await pilot.pause(0.1)
        assert app.screen is form
        assert "must start with a letter" in str(form.query_one("#error-name").render())
        assert "must be dedicated or low_priority" in str(form.query_one("#error-tier").render())
        await _fill(pilot, form, {"name": "ok-name", "tier": "dedicated", "idle_seconds": str(8 * 24 * 3600)})
        await pilot.click("#form-submit")
        await pilot.pause(0.1)
        assert app.screen is form and "at most 7 days" in str(form.query_one("#error-idle_seconds").render())
        assert emu.request_count == before and len(app.session.guard.records) == records
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)

    run(scenario)
