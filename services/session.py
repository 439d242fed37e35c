"""A Session: one profile's cloud and credential, with lazily built, cached SDK clients.

Clients are built on first use, off the UI thread; azure-ai-ml alone costs seconds to import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import clients
from .cloud import Cloud
from .mutations import Guard

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.core.credentials import TokenCredential
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.resource.subscriptions import SubscriptionClient
    from azure.mgmt.resourcegraph import ResourceGraphClient

    from .rest import RestClient, RetryEvent

T = TypeVar("T")


@dataclass
class Session:
    cloud: Cloud
    credential: TokenCredential
    subscription_ids: tuple[str, ...] = ()  # empty: every subscription the credential can see
    profile: str = "default"
    tenant_id: str = ""
    read_only: bool = False
    production: bool = False
    default_workspace: str = ""
    guard: Guard = field(default_factory=Guard)
    timeout_s: float | None = None  # the read timeout of every request (None: 30 s for REST, the SDKs' own)
    retry_backoff_s: float = 0.5  # the first wait between retries without Retry-After (doubling after)
    _retry_listeners: list[Callable[[RetryEvent], None]] = field(default_factory=list, repr=False)
    _clients: dict[tuple[str, ...], object] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _preloading: threading.Thread | None = field(default=None, repr=False)
    preload_error: str = field(default="", repr=False)
    _identity: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        clients.quiet_sdk_logging()  # nothing of the SDKs' may reach the terminal under the console
        self.guard.profile = self.profile
        self.guard.read_only = self.guard.read_only or self.read_only
        if not self.guard.user:
            self.guard.identify = self.identity

    def _cached(self, key: tuple[str, ...], build: Callable[[], T]) -> T:
        """One value per key (a key always maps to the type its one builder makes)."""
        with self._lock:
            client = self._clients.get(key)
        if client is None:
            client = build()
            with self._lock:
                client = self._clients.setdefault(key, client)
        return cast("T", client)

    def cache(self, key: tuple[str, ...], load: Callable[[], T]) -> T:
        """A value loaded once per session (catalogs that do not change while the console runs)."""
        return self._cached(("cache", *key), load)

    # -- retries, made visible ------------------------------------------------------------------

    def add_retry_listener(self, listener: Callable[[RetryEvent], None]) -> None:
        """Call ``listener(RetryEvent)`` (from the requesting thread) before every retry of this session."""
        with self._lock:
            self._retry_listeners.append(listener)

    def remove_retry_listener(self, listener: Callable[[RetryEvent], None]) -> None:
        with self._lock:
            if listener in self._retry_listeners:
                self._retry_listeners.remove(listener)

    def notify_retry(self, event: RetryEvent) -> None:
        with self._lock:
            listeners = list(self._retry_listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # a listener never breaks a request
                pass

    def sdk_kwargs(self, scope: str | None = None, *, at_most_once: bool = False) -> dict[str, Any]:
        """Retry, token and timeout settings for an SDK client, as the REST client has them: bounded retries
        made visible, and a 401 answered with one fresh token for ``scope`` (ARM's unless given).
        ``at_most_once``: for the clients that run mutations, which are never re-sent."""
        from .rest import DEFAULT_TIMEOUT_S, renewing_auth_policy, retry_policy

        timeout = self.timeout_s or DEFAULT_TIMEOUT_S
        kwargs: dict[str, Any] = {
            "retry_policy": retry_policy(
                self.notify_retry, timeout_s=timeout, backoff_s=self.retry_backoff_s, at_most_once=at_most_once
            ),
            "authentication_policy": renewing_auth_policy(self.credential, scope or self.cloud.arm_scope),
        }
        if self.timeout_s is not None:
            kwargs["read_timeout"] = self.timeout_s
        return kwargs

    def identity(self) -> str:
        """Who acts in this session, from the access token's claims: the user's sign-in name, or the
        service principal's application id; "" when no token can be had (the action then says why)."""
        with self._lock:
            known = self._identity
        if not known:
            known = token_identity(self.credential, self.cloud.arm_scope)
            with self._lock:
                self._identity = known
        return known

    def rest(self) -> RestClient:
        """The light REST client for reads (see services/rest.py)."""
        return self._rest_client(at_most_once=False)

    def mutation_rest(self) -> RestClient:
        """The REST client for mutations: as ``rest()``, but a change is sent at most once (never re-sent
        after a dropped connection, a timeout or a 5xx; the mutation's reconcile reads what happened)."""
        return self._rest_client(at_most_once=True)

    def _rest_client(self, *, at_most_once: bool) -> RestClient:
        from .rest import DEFAULT_TIMEOUT_S, RestClient

        return self._cached(
            ("rest", "mutations") if at_most_once else ("rest",),
            lambda: RestClient(
                self.cloud,
                self.credential,
                timeout_s=self.timeout_s or DEFAULT_TIMEOUT_S,
                observer=self.notify_retry,
                backoff_s=self.retry_backoff_s,
                at_most_once=at_most_once,
            ),
        )

    def subscription_client(self) -> SubscriptionClient:
        return self._cached(
            ("subscriptions",),
            lambda: clients.subscription_client(self.cloud, self.credential, **self.sdk_kwargs()),
        )

    def graph_client(self) -> ResourceGraphClient:
        return self._cached(("graph",), lambda: clients.graph_client(self.cloud, self.credential, **self.sdk_kwargs()))

    def resource_client(self, subscription_id: str) -> ResourceManagementClient:
        return self._cached(
            ("resources", subscription_id),
            lambda: clients.resource_client(self.cloud, self.credential, subscription_id, **self.sdk_kwargs()),
        )

    def ml_client(
        self, subscription_id: str, resource_group: str | None = None, workspace: str | None = None
    ) -> MLClient:
        key = ("ml", subscription_id, (resource_group or "").lower(), (workspace or "").lower())
        return self._cached(
            key,
            lambda: clients.ml_client(
                self.cloud,
                self.credential,
                subscription_id,
                resource_group,
                workspace,
                **self.sdk_kwargs(at_most_once=True),
            ),
        )

    def preload_actions(self) -> threading.Thread | None:
        """Import azure-ai-ml (seconds of imports) in a background thread, once, so the first action does not
        wait for it. Reads never need it; a read-only session never acts, so it is not loaded there."""
        if self.read_only or self.guard.read_only:
            return None
        with self._lock:
            if self._preloading is not None:
                return self._preloading

            def load() -> None:
                try:
                    import azure.ai.ml.entities  # noqa: F401  (MLClient and the entities the actions build)
                except Exception as e:  # kept for diagnosis: the action that needs it reports it in context
                    self.preload_error = f"{type(e).__name__}: {e}"

            self._preloading = threading.Thread(target=load, name="azml-preload-azure-ai-ml", daemon=True)
        self._preloading.start()
        return self._preloading

    def close(self) -> None:
        with self._lock:
            items = list(self._clients.values())
            self._clients.clear()
        for client in items:
            close = getattr(client, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # closing is best effort
                    pass


def token_identity(credential: TokenCredential, scope: str) -> str:
    """The acting identity named by an access token's claims (read, not verified: the token is the
    credential's own): upn / unique_name / preferred_username for a user, else ``app:<appid>`` for a
    service principal, else ``oid:<object id>``."""
    import base64
    import json

    try:
        token = credential.get_token(scope).token
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except Exception:  # no token, or not a JWT: the identity stays unknown, the action reports the cause
        return ""
    if not isinstance(claims, dict):
        return ""
    for key in ("upn", "unique_name", "preferred_username"):
        if isinstance(claims.get(key), str) and claims[key]:
            return str(claims[key])
    app = claims.get("appid") or claims.get("azp")
    if isinstance(app, str) and app:
        return f"app:{app}"
    oid = claims.get("oid")
    return f"oid:{oid}" if isinstance(oid, str) and oid else ""
