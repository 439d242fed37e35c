"""The emulator's HTTPS server: one port serving ARM, Azure ML, run history and (later) monitoring."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import logging
import shutil
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .areas.identity import describe_principals, is_anonymous
from .certs import CertFiles, make_cert_files
from .clock import SimClock
from .config import EmulatorConfig
from .credential import EmulatorCredential, decode_token
from .estate import Estate
from .faults import LRO_FAILURE, Decision, Drop, Faults
from .http import ApiError, Request, Response, Router
from .identity import Directory, ServicePrincipal
from .lro import Operations
from .lro import register as register_lro
from .scope import check as check_scope

log = logging.getLogger("emulator")

# Area modules, in the order their resources are generated (later areas read earlier ones).
AREAS = [
    "arm",
    "graph",
    "workspaces",
    "compute",
    "datastores",
    "jobs",
    "endpoints",
    "monitor",
    "dependencies",
    "insights",
    "identity",
    "providers",
    "spec_shapes",
]

# Paths served without a bearer token (as in Azure: discovery is anonymous; scoring has its own keys).
_ANONYMOUS_PREFIXES = ("/discovery/", "/score/", "/emulator/", "/logs/", "/storage/")  # storage authorises itself


class Emulator:
    """An in-process Azure: start() it, point SDK clients at .endpoint with .ca_file and .credential()."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock = SimClock(frozen=self.config.frozen)
        self.estate = Estate(seed=self.config.seed, scale=self.config.scale, clock=self.clock)
        self.ops = Operations(duration_s=self.config.lro_seconds, retry_after=self.config.retry_after, clock=self.clock)
        self.router = Router()
        self.faults = Faults(self.config.seed)
        for rule in self.config.faults:  # the ``faults=`` option; copies, as a rule counts its ``times``
            self.faults.add(dataclasses.replace(rule))
        self._stopping = threading.Event()  # wakes requests held by latency or timeout faults at stop()
        register_lro(self.router, self.ops)
        self.request_count = 0
        self.request_log: list[tuple[str, str, int]] = []  # (method, path, status), for tests
        self._count_lock = threading.Lock()
        for name in AREAS:
            module = importlib.import_module(f"emulator.areas.{name}")
            populate = getattr(module, "populate", None)
            if populate:
                populate(self.estate)
            module.register(self.router, self)
        self.directory: Directory  # the demo tenant's sign-in (set by the identity area)
        self.certs: CertFiles | None = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        assert self.certs is not None, "start() the emulator first"
        return self.certs.ca_file

    @property
    def tenant_id(self) -> str:
        return self.estate.tenant_id

    @property
    def subscription_ids(self) -> list[str]:
        return [s["subscriptionId"] for s in self.estate.subscriptions]

    @property
    def authority(self) -> str:
        """The emulator's own sign-in authority (its token endpoint is {authority}/oauth2/v2.0/token)."""
        return f"{self.endpoint}/{self.tenant_id}"

    @property
    def service_principals(self) -> list[ServicePrincipal]:
        """The demo tenant's service principals: two with a secret, one with a certificate, one with no access."""
        return self.directory.materialize()

    def credential(self, **kwargs: Any) -> EmulatorCredential:
        return EmulatorCredential(self.tenant_id, **kwargs)

    def start(self) -> Emulator:
        self.certs = make_cert_files()
        self.directory.write_certificates(self.certs.directory)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certs.cert_file, self.certs.key_file)
        handler = _make_handler(self)
        httpd = _Server(("127.0.0.1", self.config.port), handler, max(1, self.config.max_workers))
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.faults.authority = self.authority
        self._thread = threading.Thread(target=httpd.serve_forever, name="azml-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.closing.set()
            self._httpd.shutdown()
            self._httpd.evict_idle(every=True)
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.certs is not None:
            shutil.rmtree(self.certs.directory, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *args: object) -> None:
        self.stop()

    def info(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "ca_file": self.ca_file,
            "tenant_id": self.tenant_id,
            "subscription_ids": self.subscription_ids,
            "authority": self.authority,
            "service_principals": describe_principals(self.service_principals),
        }

    # -- dispatch -------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        if self.config.latency_ms:
            self._stopping.wait(self.config.latency_ms / 1000.0)
        fault = self.faults.decide(req.method, req.path, _caller(req)) if self.faults.rules else Decision()
        if fault.delay_s:
            self._stopping.wait(fault.delay_s)
        if fault.drop:
            raise Drop()
        if fault.response is not None:
            return fault.response
        before = self._target(req) if fault.lro_fail else None
        resp = self._handle(req, fault)
        if fault.lro_fail:
            self._fail_operation(resp, req.method, before)
        if fault.drop_after:
            raise Drop()  # applied, but the client never hears of it
        return resp

    def _target(self, req: Request) -> tuple[str, dict[str, Any] | None]:
        """The resource a mutation acts on (a POST acts on the path above its action) and a copy of it now."""
        rid = req.path.rstrip("/")
        if req.method == "POST":
            rid = rid.rsplit("/", 1)[0]
        found = self.estate.get(rid)
        return rid, copy.deepcopy(found) if found is not None else None

    def _fail_operation(self, resp: Response, method: str, before: tuple[str, dict[str, Any] | None] | None) -> None:
        """The ``lro-fail`` fault: the operation this answer started fails when it settles, unapplied."""
        url = resp.headers.get("Azure-AsyncOperation") or resp.headers.get("Location") or ""
        op_id = urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        if not op_id:
            return
        try:
            op = self.ops.get(op_id)
        except ApiError:
            return
        op.fail_with = dict(LRO_FAILURE)
        if before is not None:
            op.on_fail = lambda: self._settle_failed(method, *before)

    def _settle_failed(self, method: str, rid: str, before: dict[str, Any] | None) -> None:
        """Where Azure leaves a resource whose operation failed: an action (start, stop, delete...) leaves it as
        it was, with its last operation marked Failed; a failed create or update leaves provisioningState
        Failed. Nothing stays in a transitional state."""
        with self.estate.lock:
            current = self.estate.get(rid)
            if before is not None and method in ("POST", "DELETE"):
                settled = copy.deepcopy(before)
                inner = settled.get("properties", {}).get("properties")
                last = inner.get("lastOperation") if isinstance(inner, dict) else None
                if isinstance(last, dict):
                    last["operationStatus"] = "Failed"
                self.estate.put(settled)
            elif current is not None and method in ("PUT", "PATCH"):
                props = current.get("properties")
                if isinstance(props, dict):
                    props["provisioningState"] = "Failed"

    def _handle(self, req: Request, fault: Decision) -> Response:
        try:
            if not req.path.startswith(_ANONYMOUS_PREFIXES) and not is_anonymous(req.path):
                req.caller = _authenticate(req, self.tenant_id)
            self.ops.settle()
            self.estate.tick()
            check_scope(req, self.estate, self.directory)
            found = self.router.match(req.method, req.path)
            if found is None:
                raise ApiError(
                    404,
                    "NoRegisteredProviderFound" if "/providers/" in req.path else "NotFound",
                    f"No route is registered for '{req.method} {req.path}'.",
                )
            handler, params = found
            req.params = params
            resp = handler(req, **params)
            if fault.malformed and resp.status < 300:
                resp = Response(resp.status, resp.encode()[: max(1, len(resp.encode()) // 2)] + b"\x00{", resp.headers)
            return resp
        except ApiError as e:
            return e.to_response()
        except Exception as e:  # a bug in the emulator must still answer in Azure's shape
            log.exception("emulator handler failed")
            return ApiError(500, "InternalServerError", f"The emulator failed: {type(e).__name__}: {e}").to_response()


def _caller(req: Request) -> tuple[str, str]:
    """(client name, object id) from the bearer token, unverified: what an AuthorizationFailed message names."""
    auth = req.headers.get("authorization", "")
    try:
        claims = decode_token(auth[7:].strip()) if auth.lower().startswith("bearer ") else {}
    except ValueError:
        return "", ""
    return str(claims.get("upn") or claims.get("appid") or ""), str(claims.get("oid") or "")


def _authenticate(req: Request, tenant_id: str) -> dict[str, Any]:
    auth = req.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise ApiError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            headers={
                "WWW-Authenticate": f'Bearer authorization_uri="{req.base_url}/{tenant_id}", error="invalid_token", '
                "error_description=\"The authentication failed because of missing 'Authorization' header.\""
            },
        )
    try:
        claims = decode_token(auth[7:].strip())
    except ValueError as e:
        raise ApiError(
            401,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
            headers={
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/", '
                'error="invalid_token", error_description="The access token is invalid."'
            },
        ) from e
    if claims.get("tid") != tenant_id:
        raise ApiError(
            401,
            "InvalidAuthenticationTokenTenant",
            f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match the tenant "
            f"'https://sts.windows.net/{tenant_id}/' associated with this subscription.",
        )
    if int(claims.get("exp", 0)) < time.time():
        raise ApiError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than now.")
    return claims


class _Server(ThreadingHTTPServer):
    """A thread per connection, but at most `max_workers` of them. A connection waiting for its next request
    (or its TLS handshake) is idle: it is closed after `idle_timeout` seconds (the handler's socket timeout),
    and when every worker is taken a new connection closes the longest-idle one, as servers close idle
    keep-alive connections under pressure; when none is idle, it waits for a worker."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_workers: int) -> None:
        super().__init__(address, handler)
        self.max_workers = max_workers
        self.closing = threading.Event()
        self._slots = threading.BoundedSemaphore(max_workers)
        self._idle: dict[socket.socket, float] = {}  # connections waiting for a request, since when
        self._evicted: set[socket.socket] = set()
        self._idle_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.evict_idle()
            while not self._slots.acquire(timeout=0.2):
                if self.closing.is_set():
                    self.shutdown_request(request)
                    return
                self.evict_idle()
        try:
            threading.Thread(
                target=self._work, args=(request, client_address), name="azml-emulator-conn", daemon=True
            ).start()
        except BaseException:
            self._slots.release()
            self.shutdown_request(request)
            raise

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._idle_lock:
                self._idle.pop(request, None)
                self._evicted.discard(request)
            self._slots.release()

    def mark_idle(self, conn: socket.socket) -> None:
        with self._idle_lock:
            if conn not in self._evicted:
                self._idle[conn] = time.monotonic()

    def mark_busy(self, conn: socket.socket) -> bool:
        """A request arrived on `conn`; False if the connection was closed as idle meanwhile."""
        with self._idle_lock:
            self._idle.pop(conn, None)
            return conn not in self._evicted

    def evict_idle(self, *, every: bool = False) -> None:
        with self._idle_lock:
            chosen = sorted(self._idle, key=self._idle.__getitem__)
            if not every:
                chosen = chosen[:1]
            for conn in chosen:
                del self._idle[conn]
                self._evicted.add(conn)
                try:  # the plain socket's shutdown: the worker blocked reading it wakes up to end-of-file
                    socket.socket.shutdown(conn, socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # TLS handshakes aborted by a client and connection resets are routine; stay quiet.
        return None


def _make_handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "azml-emulator"
        disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid ~40 ms per response
        sys_version = ""
        timeout = emulator.config.idle_timeout_s or None  # per socket operation: an idle connection is closed
        server: _Server

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def setup(self) -> None:
            super().setup()
            self.server.mark_idle(self.connection)
            self._handshaken = False
            try:
                self.connection.do_handshake()
                self._handshaken = True
            except (ssl.SSLError, OSError):
                self.close_connection = True

        def handle(self) -> None:
            if not self._handshaken:
                return
            self.close_connection = True
            self.handle_one_request()
            while not self.close_connection:
                self.server.mark_idle(self.connection)
                self.handle_one_request()

        def parse_request(self) -> bool:
            if not self.server.mark_busy(self.connection):
                self.close_connection = True  # closed as idle as this request arrived: the client retries
                return False
            return super().parse_request()

        def _serve(self) -> None:
            # "//metadata/endpoints": a base URL ending in "/" joined with a path (az cloud register does it)
            parsed = urllib.parse.urlsplit("/" + self.path.lstrip("/"))
            query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            request_id = str(uuid.uuid4())
            req = Request(
                method=self.command,
                path=parsed.path,
                query=query,
                headers=headers,
                body=body,
                base_url=emulator.endpoint,
                request_id=request_id,
            )
            try:
                resp = emulator.handle(req)
            except Drop:
                with emulator._count_lock:
                    emulator.request_count += 1
                    emulator.request_log.append((self.command, parsed.path, 0))  # 0: the connection dropped
                raise
            payload = resp.encode()
            with emulator._count_lock:
                emulator.request_count += 1
                emulator.request_log.append((self.command, parsed.path, resp.status))
                if len(emulator.request_log) > 10_000:
                    del emulator.request_log[:5_000]
            self.send_response(resp.status)
            self.send_header("x-ms-request-id", request_id)
            self.send_header("x-ms-correlation-request-id", headers.get("x-ms-correlation-request-id") or request_id)
            if "x-ms-client-request-id" in headers:
                self.send_header("x-ms-client-request-id", headers["x-ms-client-request-id"])
            for k, v in resp.headers.items():
                self.send_header(k, v)
            if payload or resp.status not in (204, 304):
                self.send_header("Content-Type", resp.content_type)
            if not (self.command == "HEAD" and "Content-Length" in resp.headers):  # HEAD: the entity's length
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _safe(self) -> None:
            try:
                self._serve()
            except Drop:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            except (ConnectionError, ssl.SSLError, TimeoutError):
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _safe

    return Handler


def dumps_line(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(", ", ": "))
