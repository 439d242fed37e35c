"""The datastores screen and the browser, driven with the pilot on the demo emulator (frozen clock), and on
Azurite for real storage contents."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Input, Static

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.datastores import BrowseScreen, DatastoresScreen, human_size
from screens.modals import ConfirmScreen, DetailScreen, FormScreen
from services import datastores
from services.cloud import custom_cloud
from services.models.datastores import Datastore
from services.mutations import Target
from services.secrets import MemorySecrets
from services.session import Session
from tests.conftest import Azurite
from tests.test_app import wait_for

ACCOUNT_KEY = "dHlwZWQtYWNjb3VudC1rZXktbmV2ZXItbG9nZ2VkLTAwMQ=="

pytestmark = pytest.mark.timeout(180)

Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]


def _plain(value: object) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def _static(screen: Any, selector: str) -> str:
    widget = screen.query_one(selector)
    return _plain(widget.content if isinstance(widget, Static) else widget.render())


def _drive(scenario: Scenario, *, read_only: bool = False, connect: Callable[[DemoBackend], Any] | None = None) -> None:
    backend = DemoBackend({"frozen": "true"}, read_only=read_only)

    async def main() -> None:
        app = AzmlApp(
            (lambda: connect(backend)) if connect else backend.connect,
            profile="demo",
            read_only=read_only,
        )
        async with app.run_test(size=(80, 24)) as pilot:
            await scenario(app, pilot, backend)

    try:
        asyncio.run(main())
    finally:
        backend.stop()


async def _open(app: AzmlApp, pilot: Any) -> DatastoresScreen:
    await wait_for(lambda: app.workspace is not None, pilot)
    await pilot.press("colon", *"datastores", "enter")
    await wait_for(lambda: isinstance(app.screen, DatastoresScreen) and app.screen.loads > 0, pilot)
    screen = app.screen
    assert isinstance(screen, DatastoresScreen)
    return screen


async def _select(screen: DatastoresScreen | BrowseScreen, pilot: Any, key: str) -> None:
    screen.table.move_cursor(key)
    await pilot.pause()
    assert screen.table.cursor_key == key


def _key_of(screen: DatastoresScreen, name: str) -> str:
    return next(k for k, d in screen.models.items() if d.name == name)


def _defaults(screen: DatastoresScreen) -> list[str]:
    return [_plain(screen.table.row(k)[0]) for k in screen.models if _plain(screen.table.row(k)[0]).endswith(" *")]


async def _fill(app: AzmlApp, pilot: Any, values: dict[str, str]) -> FormScreen:
    form = app.screen
    assert isinstance(form, FormScreen)
    for name, value in values.items():
        field = form.query_one(f"#field-{name}", Input)
        field.value = value
    await pilot.pause()
    return form


async def _submit(app: AzmlApp, pilot: Any) -> None:
    form = app.screen
    assert isinstance(form, FormScreen)
    form._submit()
    await pilot.pause()


async def _register(app: AzmlApp, pilot: Any, screen: DatastoresScreen, values: dict[str, str]) -> None:
    """Fill the register form, submit, run the plan, and wait until the new datastore is listed."""
    await pilot.press("n")
    await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
    await _fill(app, pilot, values)
    await _submit(app, pilot)
    await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
    confirm = app.screen
    assert isinstance(confirm, ConfirmScreen)
    assert values.get("secret", "") not in confirm.plan.az or not values.get("secret")
    await pilot.press("enter")
    await wait_for(lambda: any(d.name == values["name"] for d in screen.models.values()), pilot, timeout=60)


# -- the list ---------------------------------------------------------------------------------


def test_list_matches_the_service_marks_the_default_and_describes_without_secrets(tmp_path: Path) -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        assert app.session is not None and app.workspace is not None
        expected = datastores.list_datastores(app.session, app.workspace)
        assert {d.key: d for d in expected} == screen.models
        assert sorted(screen.table.visible_keys) == sorted(d.key for d in expected)
        default = next(d for d in expected if d.is_default)
        assert _defaults(screen) == [f"{default.name} *"]
        row = screen.table.row_dict(default.key)
        assert row is not None
        assert (row["kind"], row["account_name"], row["container"], row["auth"], row["endpoint"]) == (
            default.kind,
            default.account_name,
            default.container,
            default.auth_label,
            default.endpoint,
        )
        assert f"default {default.name}" in _static(screen, "#status")

        # the SVG at 80x24 (what an ops engineer sees in tmux) shows the datastores
        svg = Path(app.save_screenshot(path=str(tmp_path), filename="datastores.svg")).read_text()
        assert "workspaceblobstore" in svg and "Datastores" in svg
        assert re.search(r"workspaceblobstore(</text><text[^>]*>)?&#160;\*", svg)  # the default mark survives 80 cols

        # describe: every field, no secret (the emulator holds the real values)
        await _select(screen, pilot, default.key)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
        detail = _static(app.screen, "#detail-text")
        for label in ("Account", "Container", "Endpoint", "Storage URL", "Auth", "Secret", "Default"):
            assert label in detail
        assert default.id in detail and default.account_name in detail and "Account key" in detail
        emu = backend.emulator
        assert emu is not None
        stored = emu.estate.area_state["datastores"]["secrets"]
        values = [v for s in stored.values() for k, v in s.items() if k != "secretsType" and v]
        assert values
        for value in values:
            assert value not in detail
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)

        # a service principal datastore shows whose identity, not its secret
        lake = next(d for d in expected if d.auth == "service_principal")
        await _select(screen, pilot, lake.key)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
        detail = _static(app.screen, "#detail-text")
        assert lake.client_id in detail and lake.tenant_id in detail and "Filesystem" in detail
        for value in values:
            assert value not in detail

    _drive(scenario)


def test_register_through_the_form_validates_first_and_keeps_the_secret_out_of_the_audit() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        emu = backend.emulator
        assert emu is not None and app.session is not None
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        typed = {
            "kind": "blob",
            "name": "team_blob",
            "account": "Bad_Name",
            "container": "features",
            "auth": "account_key",
            "secret": ACCOUNT_KEY,
        }
        form = await _fill(app, pilot, typed)
        assert form.query_one("#field-secret", Input).password  # typed into a password field
        before = emu.request_count
        records = len(app.session.guard.records)
        await _submit(app, pilot)
        # the error sits under the field; the form stays open with everything typed; nothing was sent
        assert app.screen is form
        assert "lower-case letters or digits" in _static(form, "#error-account")
        assert _static(form, "#error-name") == "" and _static(form, "#error-secret") == ""
        assert form.values() == {**typed, "tenant_id": "", "client_id": ""}
        assert emu.request_count == before and len(app.session.guard.records) == records

        # a missing secret and a wrong type are caught the same way
        await _fill(app, pilot, {"account": "stteamdata01", "secret": "", "kind": "blob"})
        await _submit(app, pilot)
        assert app.screen is form and "account key" in _static(form, "#error-secret")
        assert _static(form, "#error-account") == ""
        await _fill(app, pilot, {"kind": "adls_gen2", "secret": ACCOUNT_KEY})
        await _submit(app, pilot)
        assert app.screen is form and "service_principal" in _static(form, "#error-auth")
        assert emu.request_count == before

        await _fill(app, pilot, {"kind": "blob"})
        await _submit(app, pilot)
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "az ml datastore create --name team_blob" in confirm.plan.az
        assert "<secret:session:" in confirm.plan.az and ACCOUNT_KEY not in repr(confirm.plan)
        await pilot.press("enter")
        await wait_for(lambda: any(d.name == "team_blob" for d in screen.models.values()), pilot, timeout=60)

        made = next(d for d in screen.models.values() if d.name == "team_blob")
        assert (made.kind, made.account_name, made.container, made.auth) == (
            "blob",
            "stteamdata01",
            "features",
            "account_key",
        )
        assert made.key in screen.table.visible_keys and not made.is_default
        # the secret went to the emulator (Azure ML keeps it) and to the session's store, nowhere else
        assert ACCOUNT_KEY in emu.estate.area_state["datastores"]["secrets"].values().__repr__()
        ref = next(r for r in app.session.guard.records if r.operation == "datastore.register_blob")
        secrets = app.secrets  # type: ignore[attr-defined]
        assert isinstance(secrets, MemorySecrets)
        assert secrets.get_secret(ref.parameters["credential_ref"]) == ACCOUNT_KEY
        outcomes = [(r.operation, r.outcome) for r in app.session.guard.records]
        assert outcomes[-2:] == [("datastore.register_blob", "attempted"), ("datastore.register_blob", "succeeded")]
        assert ACCOUNT_KEY not in repr(app.session.guard.records)
        assert ACCOUNT_KEY not in repr(secrets) and ACCOUNT_KEY not in repr(made)

    _drive(scenario)


def test_the_register_form_follows_the_model_of_the_type_chosen_and_sends_nothing_it_refuses() -> None:
    tenant, client = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00000000-1111-2222-3333-444444444444"

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        emu = backend.emulator
        assert emu is not None and app.session is not None
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        typed = {"kind": "nfs", "name": "lake_raw", "account": "dlsteam01", "container": "bronze", "auth": ""}
        form = await _fill(app, pilot, {**typed, "secret": ACCOUNT_KEY})
        before, records = emu.request_count, len(app.session.guard.records)
        await _submit(app, pilot)
        assert app.screen is form and "must be one of blob, adls_gen2, file" in _static(form, "#error-kind")
        # a blob datastore takes no tenant: said on the field
        await _fill(app, pilot, {"kind": "blob", "tenant_id": tenant})
        await _submit(app, pilot)
        assert app.screen is form and "only for service principal auth" in _static(form, "#error-tenant_id")
        # ADLS Gen2 defaults to a service principal, whose ids must be GUIDs
        await _fill(app, pilot, {"kind": "adls_gen2", "tenant_id": "not-a-guid"})
        await _submit(app, pilot)
        assert app.screen is form and "must be a GUID" in _static(form, "#error-tenant_id")
        assert "must be a GUID" in _static(form, "#error-client_id")
        assert emu.request_count == before and len(app.session.guard.records) == records
        await _fill(app, pilot, {"tenant_id": tenant, "client_id": client})
        await _submit(app, pilot)
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        az = confirm.plan.az
        assert az.startswith(
            "az ml datastore create --name lake_raw --file datastore.yml --set type=azure_data_lake_gen2"
        )
        assert f"filesystem=bronze credentials.tenant_id={tenant} credentials.client_id={client}" in az
        assert "credentials.client_secret=<secret:session:" in az and ACCOUNT_KEY not in repr(confirm.plan)
        assert emu.request_count == before
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)

    _drive(scenario)


def test_set_default_moves_the_star_and_unregister_needs_the_typed_name() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        old = next(d for d in screen.models.values() if d.is_default)
        new_key = _key_of(screen, "raw_landing")
        await _select(screen, pilot, new_key)
        await pilot.press("asterisk")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.plan.title == "Set default datastore" and confirm.plan.target.endswith("/raw_landing")
        assert not confirm.plan.confirm_text  # not destructive: enter runs it
        await pilot.press("enter")
        await wait_for(lambda: screen.models[new_key].is_default, pilot, timeout=60)
        await wait_for(lambda: not screen.pending, pilot)
        assert _defaults(screen) == ["raw_landing *"]
        assert not screen.models[old.key].is_default

        # the default cannot be unregistered: refused up front, with a message saying why
        before = len(app.screen_stack)
        await pilot.press("D")
        await pilot.pause()
        assert len(app.screen_stack) == before and app.screen is screen

        # another one can, once its name is typed
        gone = _key_of(screen, "shared_models")
        await _select(screen, pilot, gone)
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.plan.confirm_text == "shared_models"
        assert confirm.plan.az.startswith("az ml datastore delete --name shared_models")
        await pilot.press(*"shared", "enter")  # a wrong confirmation keeps the dialog open
        await pilot.pause()
        assert app.screen is confirm and "exactly" in _static(confirm, "#confirm-error")
        await pilot.press(*"_models", "enter")
        await wait_for(lambda: gone not in screen.models, pilot, timeout=60)
        assert gone not in screen.table.visible_keys
        assert app.session is not None
        outcomes = [(r.operation, r.outcome) for r in app.session.guard.records]
        assert ("datastore.set_default", "succeeded") in outcomes and ("datastore.unregister", "succeeded") in outcomes
        assert not any(
            r.target.endswith("/raw_landing") and r.operation == "datastore.unregister"
            for r in app.session.guard.records
        )

    _drive(scenario)


def test_read_only_refuses_register_set_default_and_unregister() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        notes: list[str] = []
        notify = app.notify

        def spy(message: str, **kwargs: Any) -> None:
            notes.append(message)
            notify(message, **kwargs)

        app.notify = spy  # type: ignore[method-assign]
        await _select(screen, pilot, _key_of(screen, "raw_landing"))
        for key in ("n", "asterisk", "D"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, key
        assert len([n for n in notes if "read-only" in n]) == 3
        # nothing attempted; the three refusals are in the audit
        assert app.session is not None and [r.outcome for r in app.session.guard.records] == ["refused"] * 3

    _drive(scenario, read_only=True)


# -- browsing ---------------------------------------------------------------------------------


def test_browsing_a_demo_datastore_fails_gracefully_as_unreachable() -> None:
    def connect(backend: DemoBackend) -> Session:
        base = backend.connect()  # the demo, with its blob service moved to a local port nothing listens on
        cloud = dataclasses.replace(base.cloud, blob_endpoint="https://127.0.0.1:9/{account}")
        return Session(cloud=cloud, credential=base.credential, profile="demo", tenant_id=base.tenant_id)

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        await _select(screen, pilot, _key_of(screen, "workspaceblobstore"))
        started = time.monotonic()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, BrowseScreen), pilot)
        browser = app.screen
        assert isinstance(browser, BrowseScreen)
        assert "Browse workspaceblobstore:/" in _static(browser, "#screen-title")
        await wait_for(lambda: bool(browser.error), pilot, timeout=45)
        assert time.monotonic() - started < 40  # the service's short retry, not the SDK's minute
        status = _static(browser, "#status")
        assert status.startswith("error: cannot list workspaceblobstore:/") and "unreachable" in status
        assert "Traceback" not in status and browser.table.row_count == 0
        assert app.is_running and not browser.busy
        await pilot.press("escape")  # esc at the root goes back to the list
        await wait_for(lambda: app.screen is screen, pilot)

    _drive(scenario, connect=connect)


BLOBS = {
    "README.md": b"# landing zone\n",
    "raw/2026/01/events-0001.jsonl": b'{"a": 1}\n' * 10,
    "raw/2026/manifest.json": b"{}",
    "raw/schema.json": b'{"type": "object"}' * 100,
    "curated/features.parquet": b"PAR1" + b"\0" * 3000,
    **{f"many/part-{i:03d}.csv": b"x,y\n" for i in range(6)},
}


@pytest.fixture()
def azurite_container(azurite: Azurite) -> Iterator[str]:
    name = "screen-browse"
    with azurite.service_client() as svc:
        client = svc.create_container(name)
        for path, data in BLOBS.items():
            client.upload_blob(path, data)
        yield name
        svc.delete_container(name)


def test_browse_azurite_descends_and_goes_back_up(
    azurite: Azurite, azurite_container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(BrowseScreen, "LIMIT", 5)

    def connect(backend: DemoBackend) -> Session:
        base = backend.connect()  # starts the demo emulator
        cloud = dataclasses.replace(
            custom_cloud("demo", base.cloud.resource_manager, ca_bundle=base.cloud.ca_bundle),
            blob_endpoint=azurite.blob_endpoint,
        )
        return Session(cloud=cloud, credential=base.credential, profile="demo", tenant_id=base.tenant_id)

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        await _register(
            app,
            pilot,
            screen,
            {
                "kind": "blob",
                "name": "azurite_data",
                "account": azurite.account,
                "container": azurite_container,
                "auth": "account_key",
                "secret": azurite.key,
            },
        )
        await _select(screen, pilot, _key_of(screen, "azurite_data"))
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, BrowseScreen), pilot)
        browser = app.screen
        assert isinstance(browser, BrowseScreen)
        await wait_for(lambda: browser.loads > 0, pilot, timeout=45)
        assert browser.error == ""
        shown = [(_plain(browser.table.row(k)[0]), _plain(browser.table.row(k)[1])) for k in browser.table.visible_keys]
        assert shown == [("curated/", ""), ("many/", ""), ("raw/", ""), ("README.md", "15")]
        readme = browser.table.row_dict("README.md")
        assert readme is not None and readme["modified"]
        assert human_size(15) == "15 B" and human_size(1800) == "1.8 KiB"
        assert "4 entries" not in _static(browser, "#status") and "3 directories, 1 file" in _static(browser, "#status")
        assert "TRUNCATED" not in _static(browser, "#status")
        assert browser.table.cursor_key == "curated/"

        # enter on a directory descends; the path is in the title
        await _select(browser, pilot, "raw/")
        await pilot.press("enter")
        await wait_for(lambda: browser.prefix == "raw/" and "raw/2026/" in browser.models, pilot, timeout=30)
        assert "Browse azurite_data:/raw/" in _static(browser, "#screen-title")
        assert [_plain(browser.table.row(k)[0]) for k in browser.table.visible_keys] == ["2026/", "schema.json"]
        assert _plain(browser.table.row("raw/schema.json")[1]) == "1800"  # shown as 1.8 KiB by the column format
        await pilot.press("enter")  # into raw/2026/
        await wait_for(lambda: browser.prefix == "raw/2026/" and browser.models, pilot, timeout=30)
        assert sorted(browser.models) == ["raw/2026/01/", "raw/2026/manifest.json"]

        # backspace goes up one level, onto the directory it came from
        await pilot.press("backspace")
        await wait_for(lambda: browser.prefix == "raw/" and "raw/2026/" in browser.models, pilot, timeout=30)
        assert browser.table.cursor_key == "raw/2026/"
        await pilot.press("escape")
        await wait_for(lambda: browser.prefix == "" and "raw/" in browser.models, pilot, timeout=30)
        assert browser.table.cursor_key == "raw/" and app.screen is browser
        assert _static(browser, "#screen-title").startswith("Browse azurite_data:/ ")

        # a listing longer than the limit says so
        await _select(browser, pilot, "many/")
        await pilot.press("enter")
        await wait_for(lambda: browser.prefix == "many/" and browser.models, pilot, timeout=30)
        assert len(browser.models) == 5 and "TRUNCATED" in _static(browser, "#status")

        await pilot.press("escape", "escape")
        await wait_for(lambda: app.screen is screen, pilot)

        # a wrong key is forbidden: said in the status line, no traceback
        assert app.session is not None and app.workspace is not None
        ws = app.workspace
        wrong: Datastore = datastores.register_blob(
            app.session,
            Target(ws.subscription_id, ws.resource_group, ws.name),
            name="azurite_wrong_key",
            account_name=azurite.account,
            container_name=azurite_container,
            credential_ref="test/wrong",
            secrets=MemorySecrets({"test/wrong": ACCOUNT_KEY}),
        )
        await pilot.press("r")
        await wait_for(lambda: wrong.key in screen.models, pilot)
        await _select(screen, pilot, wrong.key)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, BrowseScreen), pilot)
        denied = app.screen
        assert isinstance(denied, BrowseScreen)
        await wait_for(lambda: bool(denied.error), pilot, timeout=45)
        assert "forbidden" in _static(denied, "#status")
        for secret in (azurite.key, ACCOUNT_KEY):
            assert secret not in repr(app.session.guard.records)

    _drive(scenario, connect=connect)
