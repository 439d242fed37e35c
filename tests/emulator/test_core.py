"""The emulator's HTTP core: TLS, authentication, Azure-shaped errors, determinism, LRO timing."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError

from emulator import Emulator, EmulatorConfig
from emulator.credential import EmulatorCredential
from services import clients
from tests.conftest import cloud_for


def _get(emu: Emulator, path: str, token: str | None = None) -> tuple[int, dict[str, str], Any]:
    ctx = ssl.create_default_context(cafile=emu.ca_file)
    req = urllib.request.Request(emu.endpoint + path)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def _token(emu: Emulator) -> str:
    return emu.credential().get_token("https://management.azure.com/.default").token


def test_tls_is_required_and_trusted_only_through_the_run_ca(emulator: Emulator) -> None:
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(emulator.endpoint + "/subscriptions", timeout=5)  # system trust store
    status, _, _ = _get(emulator, "/subscriptions?api-version=2022-12-01", _token(emulator))
    assert status in (200, 404)  # trusted with the run's CA


def test_missing_token_is_401_in_arm_shape_with_request_ids(emulator: Emulator) -> None:
    status, headers, body = _get(emulator, "/subscriptions?api-version=2022-12-01")
    assert status == 401
    assert body["error"]["code"] == "AuthenticationFailed"
    assert headers["x-ms-request-id"] and headers["x-ms-correlation-request-id"]


def test_token_from_another_tenant_is_refused_by_the_sdk(emulator: Emulator) -> None:
    wrong = EmulatorCredential("00000000-0000-4000-8000-000000000000")
    cloud = cloud_for(emulator)
    ml = clients.ml_client(cloud, wrong, emulator.subscription_ids[0])
    with pytest.raises(ClientAuthenticationError) as exc:
        list(ml.workspaces.list(scope="subscription"))
    assert "InvalidAuthenticationTokenTenant" in str(exc.value)


def test_unknown_route_is_a_404_the_sdk_raises(emulator: Emulator, ml_client: Any) -> None:
    status, _headers, body = _get(emulator, "/nothing/here", _token(emulator))
    assert status == 404 and set(body["error"]) >= {"code", "message"}
    ml = ml_client()
    with pytest.raises(ResourceNotFoundError):
        ml.workspaces.get("no-such-workspace", resource_group_name="rg-prod-eus")


def test_same_seed_same_estate_and_frozen_clock_identical_responses() -> None:
    a = Emulator(EmulatorConfig(seed=42)).start()
    b = Emulator(EmulatorConfig(seed=42)).start()
    c = Emulator(EmulatorConfig(seed=43))
    try:
        assert a.tenant_id == b.tenant_id and a.subscription_ids == b.subscription_ids
        assert a.estate.resources == b.estate.resources
        assert c.estate.resources != a.estate.resources
        ws = a.estate.workspaces()[0]["id"]
        path = ws + "?api-version=2024-10-01-preview"
        first = _get(a, path, _token(a))[2]
        time.sleep(0.2)
        second = _get(a, path, _token(a))[2]
        other = _get(b, path, _token(b))[2]
        assert first == second
        # the only per-server difference is the server's own address
        assert json.dumps(first).replace(a.endpoint, "X") == json.dumps(other).replace(b.endpoint, "X")
    finally:
        a.stop()
        b.stop()


def test_latency_is_injected_per_request() -> None:
    with Emulator(EmulatorConfig(latency_ms=150)) as emu:
        t = time.monotonic()
        _get(emu, "/subscriptions?api-version=2022-12-01", _token(emu))
        assert time.monotonic() - t >= 0.15


def test_demo_options_are_validated_by_name() -> None:
    with pytest.raises(ValueError, match="latency_ms"):
        EmulatorConfig.from_options({"latency_ms": "slow"})
    with pytest.raises(ValueError, match="scale"):
        Emulator(EmulatorConfig(scale="huge"))
    cfg = EmulatorConfig.from_options({"seed": "3", "scale": "large", "frozen": "false"})
    assert (cfg.seed, cfg.scale, cfg.frozen) == (3, "large", False)


def test_clock_follows_wall_time_unless_frozen() -> None:
    live = Emulator(EmulatorConfig(frozen=False))
    frozen = Emulator(EmulatorConfig(frozen=True))
    t0, f0 = live.clock.now(), frozen.clock.now()
    time.sleep(0.05)
    assert live.clock.now() > t0
    assert frozen.clock.now() == f0
    frozen.clock.advance(60)
    assert (frozen.clock.now() - f0).total_seconds() == 60
