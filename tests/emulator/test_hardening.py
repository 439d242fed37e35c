"""The emulator under hostile or careless clients: malformed tokens are a 401 in ARM's shape (never a 500),
idle connections are closed after the configured timeout while keep-alive still works, and a flood of idle
sockets neither grows the thread count without bound nor stops real requests being answered."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from emulator import Emulator, EmulatorConfig
from services import clients
from tests.conftest import cloud_for


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


HEADER = _b64(b'{"alg":"none","typ":"JWT"}')


def _jwt(claims: object) -> str:
    return f"{HEADER}.{_b64(json.dumps(claims).encode())}."


def _claims(emu: Emulator, **changes: object) -> dict[str, object]:
    good = {"tid": emu.tenant_id, "iss": f"https://sts.windows.net/{emu.tenant_id}/", "oid": "x", "exp": 4102444800}
    good.update(changes)
    return good


def _https(emu: Emulator, timeout: float = 30.0) -> http.client.HTTPSConnection:
    ctx = ssl.create_default_context(cafile=emu.ca_file)
    return http.client.HTTPSConnection("127.0.0.1", emu.port, context=ctx, timeout=timeout)


MALFORMED = {
    "exp is a string": lambda emu: _jwt(_claims(emu, exp="abc")),
    "exp is a list": lambda emu: _jwt(_claims(emu, exp=[1])),
    "exp is an object": lambda emu: _jwt(_claims(emu, exp={"a": 1})),
    "exp is true": lambda emu: _jwt(_claims(emu, exp=True)),
    "exp is missing": lambda emu: _jwt({k: v for k, v in _claims(emu).items() if k != "exp"}),
    "exp is infinite": lambda emu: _jwt(_claims(emu, exp=float("inf"))),
    "exp is NaN": lambda emu: _jwt(_claims(emu, exp=float("nan"))),
    "payload not base64": lambda emu: f"{HEADER}.@@@###.",
    "payload bad padding": lambda emu: f"{HEADER}.abcde.",
    "payload not JSON": lambda emu: f"{HEADER}.{_b64(b'not json at all')}.",
    "payload not UTF-8": lambda emu: f"{HEADER}.{_b64(bytes([0xFF, 0xFE, 0x00]))}.",
    "payload a JSON list": lambda emu: _jwt([1, 2, 3]),
    "payload deeply nested": lambda emu: f"{HEADER}.{_b64(b'[' * 10_000 + b']' * 10_000)}.",
    "one part": lambda emu: "abc",
    "two parts": lambda emu: "abc.def",
    "four parts": lambda emu: "a.b.c.d",
    "empty payload": lambda emu: f"{HEADER}..",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_token_is_401_in_arm_shape(emulator: Emulator, case: str) -> None:
    token = MALFORMED[case](emulator)
    conn = _https(emulator)
    try:
        conn.request("GET", "/subscriptions?api-version=2022-12-01", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        body = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 401, (case, resp.status, body)
    assert body == {"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}}
    challenge = resp.getheader("WWW-Authenticate") or ""
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert resp.getheader("x-ms-request-id")


@pytest.fixture()
def small_server() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True, idle_timeout_s=0.5, max_workers=16)).start()
    try:
        yield emu
    finally:
        emu.stop()


def test_keep_alive_works_and_an_idle_connection_is_then_closed(small_server: Emulator) -> None:
    token = small_server.credential().get_token("https://management.azure.com/.default").token
    conn = _https(small_server)
    try:
        for _ in range(3):  # one connection, several requests: keep-alive is honoured
            conn.request("GET", "/subscriptions?api-version=2022-12-01", headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            assert resp.status == 200
            resp.read()
        sock = conn.sock
        assert sock is not None
        sock.settimeout(30)  # a bound for the test; the server's idle timeout is 0.5 s
        try:
            got = sock.recv(1)  # the next thing from the server: the end of the connection
        except ssl.SSLError:
            got = b""
        assert got == b"", "the server kept an idle connection open"
    finally:
        conn.close()


def test_a_connection_that_never_speaks_is_closed(small_server: Emulator) -> None:
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=30) as raw:
        assert raw.recv(1) == b""  # no TLS handshake ever started: closed after the idle timeout


def test_hundreds_of_idle_sockets_keep_threads_bounded_and_requests_answered() -> None:
    emu = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True, max_workers=16)).start()  # idle: 75 s
    sockets: list[socket.socket] = []
    try:
        before = threading.active_count()
        ctx = ssl.create_default_context(cafile=emu.ca_file)
        for i in range(300):
            raw = socket.create_connection(("127.0.0.1", emu.port), timeout=30)
            if i % 10 == 0:  # some finish the TLS handshake and then say nothing
                raw = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            sockets.append(raw)
        sub = clients.subscription_client(cloud_for(emu), emu.credential())
        assert sorted(s.subscription_id for s in sub.subscriptions.list()) == sorted(emu.subscription_ids)
        grown = threading.active_count() - before
        assert grown <= 16 + 2, f"{grown} more threads for 300 idle sockets"
    finally:
        for s in sockets:
            s.close()
        emu.stop()
