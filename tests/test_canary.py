"""The canary: known secret values (a datastore's account key and SAS token, the endpoints' keys, a service
principal's secret) go in through the product's own paths, and every output is searched for them — DEBUG logs
of the SDKs and the console, the audit file, snapshots in every format, SVG pictures of the screens (the
datastore's describe included), and the error messages of requests that carried them."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.app import AzmlApp
from console.audit import AuditLog
from console.demo import DemoBackend
from console.snapshot import SnapshotRequest, collect_snapshot, render
from console.snapshot_render import render_screens
from console.source import Source
from emulator.faults import FaultRule, parse_faults
from screens.base import ResourceScreen
from screens.modals import DetailScreen
from services import datastores, deployments, workspaces
from services.errors import describe
from services.mutations import Target
from services.secrets import MemorySecrets
from services.session import Session
from tests.test_app import wait_for

pytestmark = pytest.mark.timeout(180)

RUN = uuid.uuid4().hex[:10]
ACCOUNT_KEY = f"Q2FuYXJ5LWFjY291bnQta2V5LXt{RUN}ZXZlci1sb2dnZWQ=="
SAS_SIG = f"canarySig{RUN}Xy7"
SAS_TOKEN = f"sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig={SAS_SIG}"
SP_SECRET = f"sp-canary-{RUN}-~Q8"
WS = "mlw-prod-eus"


def _secret_parts(value: str) -> list[str]:
    """The value and the pieces that would still give it away (e.g. a SAS's signature alone)."""
    parts = [value]
    if "sig=" in value:
        parts.append(value.split("sig=", 1)[1])
    return parts


def _assert_clean(where: str, text: str, secrets: list[str]) -> None:
    for secret in secrets:
        for part in _secret_parts(secret):
            assert part not in text, f"a secret leaked into {where}"


@pytest.fixture()
def demo(tmp_path: Path) -> Iterator[tuple[DemoBackend, Session]]:
    backend = DemoBackend({"frozen": "true"})
    try:
        session = backend.connect()
        session.retry_backoff_s = 0.05
        session.guard.audit = AuditLog(tmp_path / "audit.jsonl")
        yield backend, session
    finally:
        backend.stop()


@pytest.fixture()
def debug_logs() -> Iterator[io.StringIO]:
    """Every record of the SDKs', the console's and the emulator's loggers, at DEBUG."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    names = ("", "azure", "azure.core", "azure.identity", "azure.ai.ml", "msal", "urllib3", "emulator", "console")
    saved = {n: logging.getLogger(n).level for n in names}
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)


def _debug_everything() -> None:
    # Sessions quiet the SDK loggers on creation; the canary turns them all the way up again.
    for name in ("", "azure", "azure.core", "azure.identity", "azure.ai.ml", "msal", "urllib3", "emulator"):
        logging.getLogger(name).setLevel(logging.DEBUG)


def _endpoint_keys(session: Session, emu: Any, ws: Any) -> tuple[str, list[str]]:
    """The name of an online endpoint using keys, and its keys (read as a user with the rights would)."""
    rest = session.rest()
    for ep in rest.items(f"{ws.id}/onlineEndpoints", "2024-10-01"):
        if (ep.get("properties") or {}).get("authMode", "").lower() == "key":
            keys = rest.post(f"{ws.id}/onlineEndpoints/{ep['name']}/listKeys", "2024-10-01")
            return ep["name"], [keys["primaryKey"], keys["secondaryKey"]]
    raise AssertionError("the demo estate has no key-auth online endpoint")


def test_no_secret_reaches_any_output(demo: tuple[DemoBackend, Session], debug_logs: io.StringIO) -> None:
    backend, session = demo
    emu = backend.emulator
    assert emu is not None
    _debug_everything()
    ws = next(w for w in workspaces.list_workspaces(session) if w.name == WS)
    secrets = MemorySecrets({"kv/key": ACCOUNT_KEY, "kv/sas": SAS_TOKEN})
    errors: list[str] = []

    # -- secrets in, through the service ------------------------------------------------------------
    datastores.register_blob(
        session,
        Target(ws.subscription_id, ws.resource_group, ws.name, "canary_key"),
        name="canary_key",
        account_name="stcanary01",
        container_name="keys",
        auth="account_key",
        credential_ref="kv/key",
        secrets=secrets,
    )
    datastores.register_file(
        session,
        Target(ws.subscription_id, ws.resource_group, ws.name, "canary_sas"),
        name="canary_sas",
        account_name="stcanary01",
        file_share_name="share",
        auth="sas",
        credential_ref="kv/sas",
        secrets=secrets,
    )
    endpoint, keys = _endpoint_keys(session, emu, ws)
    canaries = [ACCOUNT_KEY, SAS_TOKEN, *keys]
    stored = session.rest().post(f"{ws.id}/datastores/canary_key/listSecrets", "2024-10-01", body={})
    assert stored.get("key") == ACCOUNT_KEY  # the canary really went in (and Azure hands it back on request)

    # -- errors on requests that carry them ----------------------------------------------------------
    for spec in ("datastores/canary_again$:500", "datastores/canary_again$:reset:method=PUT"):
        emu.faults.add(parse_faults(spec)[0])
        with pytest.raises(Exception) as exc:
            datastores.register_blob(
                session,
                Target(ws.subscription_id, ws.resource_group, ws.name, "canary_again"),
                name="canary_again",
                account_name="stcanary01",
                container_name="keys",
                auth="account_key",
                credential_ref="kv/key",
                secrets=secrets,
            )
        errors += [str(exc.value), describe(exc.value), repr(exc.value)]
        emu.faults.clear()
    emu.faults.add(FaultRule(pattern=r"datastores/canary_key$", status=500, method="PUT"))
    with pytest.raises(Exception) as exc:  # set-default re-sends the stored secrets with the PUT
        datastores.set_default(session, Target(ws.subscription_id, ws.resource_group, ws.name, "canary_key"))
    errors += [str(exc.value), describe(exc.value), repr(exc.value)]
    emu.faults.clear()
    names = deployments.list_online_deployments(session, ws, endpoint)
    ep_target = Target(ws.subscription_id, ws.resource_group, ws.name, endpoint)
    result = deployments.invoke(
        session, ep_target, payload='{"data": [[1, 2]]}', deployments=tuple(d.name for d in names)
    )
    errors.append(repr(result))
    for spec in ("^/score/:500", "^/score/:reset", "^/score/:403"):
        emu.faults.add(parse_faults(spec)[0])
        try:
            outcome: Any = deployments.invoke(session, ep_target, payload='{"data": [[1]]}')
            errors.append(repr(outcome))
        except Exception as e:
            errors += [str(e), describe(e), repr(e)]
        emu.faults.clear()
    for text in errors:
        _assert_clean("an error message", text, canaries)

    # -- snapshots, every format --------------------------------------------------------------------
    snap = collect_snapshot(session, SnapshotRequest(job_limit=5), source="demo", now=_now())
    for fmt in ("json", "md", "csv"):
        _assert_clean(f"the {fmt} snapshot", render(snap.doc, fmt), canaries)
    source = Source(session, "demo", WS)
    for area in ("datastores", "deployments"):
        for fmt in ("txt", "svg"):
            text, _ = render_screens(source, [area], workspace=WS, size=(160, 50), fmt=fmt, timeout_s=60)
            assert "canary_key" in text or area != "datastores"
            _assert_clean(f"the {fmt} picture of {area}", text, canaries)

    # -- the screens, as SVG: the datastores' describe included --------------------------------------
    pictures = asyncio.run(_screenshots(session))
    assert len(pictures) >= 4
    for where, svg in pictures.items():
        _assert_clean(where, svg, canaries)

    # -- the audit file and the logs ------------------------------------------------------------------
    audit = Path(session.guard.audit.path).read_text()  # type: ignore[union-attr]
    assert "canary_key" in audit and "datastore.set_default" in audit
    _assert_clean("the audit log", audit, canaries)
    _assert_clean("the in-memory audit records", repr(session.guard.records), canaries)
    logs = debug_logs.getvalue()
    assert "azure" in logs  # the SDKs did log, at DEBUG
    _assert_clean("the DEBUG logs", logs, canaries)


async def _screenshots(session: Session) -> dict[str, str]:
    app = AzmlApp(lambda: session, profile="demo", refresh_interval=0, default_workspace=WS)
    out: dict[str, str] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: app.workspace is not None, pilot)
        await pilot.press("colon", *f"ws {WS}", "enter")
        await wait_for(lambda: app.workspace is not None and app.workspace.name == WS, pilot)
        await pilot.press("colon", *"datastores", "enter")
        await wait_for(lambda: isinstance(app.screen, ResourceScreen) and app.screen.loads > 0, pilot)
        screen = app.screen
        assert isinstance(screen, ResourceScreen)
        out["the datastores screen"] = app.export_screenshot()
        for name in ("canary_key", "canary_sas"):
            key = next(k for k, d in screen.models.items() if d.name == name)
            screen.table.move_cursor(key)
            await pilot.pause()
            await pilot.press("d")
            await wait_for(lambda: isinstance(app.screen, DetailScreen), pilot)
            out[f"the describe of {name}"] = app.export_screenshot()
            await pilot.press("escape")
            await wait_for(lambda s=screen: app.screen is s, pilot)  # type: ignore[misc]
        await pilot.press("colon", *"deployments", "enter")
        await wait_for(lambda: type(app.screen).__name__ == "DeploymentsScreen" and app.screen.loads > 0, pilot)
        out["the deployments screen"] = app.export_screenshot()
    return out


def _now() -> Any:
    import datetime as dt

    return dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


# -- the service principal's secret, through `azml profile add --secret-stdin` -----------------------


def test_a_service_principal_secret_reaches_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], debug_logs: io.StringIO
) -> None:
    from console.cli import main
    from tests.test_keyring import APP_ID, TENANT

    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("AZML_KEYRING_SERVICE", f"azml-console-canary-{RUN}")
    import keyring

    backend = keyring.get_keyring()
    if "SecretService" not in type(backend).__module__ + type(backend).__name__:
        pytest.skip("no Secret Service here: the keyring canary runs under `make test`")
    _debug_everything()
    monkeypatch.setattr(sys, "stdin", io.StringIO(SP_SECRET + "\n"))
    args = ["profile", "add", "canary", "--tenant", TENANT, "--client-id", APP_ID, "--secret-stdin"]
    assert main(args) == 0
    try:
        for command in (["profile", "show", "canary"], ["profile", "show", "canary", "--json"], ["profile", "list"]):
            main(command)
        main(["config", "check"])
        out = capsys.readouterr()
        _assert_clean("the profile commands' output", out.out + out.err, [SP_SECRET])
        for path in (tmp_path / "cfg").rglob("*"):
            if path.is_file():
                _assert_clean(str(path), path.read_text(errors="replace"), [SP_SECRET])
        _assert_clean("the DEBUG logs", debug_logs.getvalue(), [SP_SECRET])
        assert keyring.get_password(f"azml-console-canary-{RUN}", next(iter(_refs(tmp_path)))) == SP_SECRET
    finally:
        main(["profile", "remove", "canary"])


def _refs(tmp_path: Path) -> list[str]:
    import tomllib

    config = tomllib.loads(next((tmp_path / "cfg").rglob("*.toml")).read_text())
    return [str(config["profiles"]["canary"]["client_secret_ref"]).split(":", 1)[-1]]
