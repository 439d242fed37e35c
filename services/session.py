"""A Session: one profile's cloud and credential, with lazily built, cached SDK clients.

Clients are built on first use, off the UI thread; azure-ai-ml alone costs seconds to import.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import clients
from .cloud import Cloud
from .mutations import Guard

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


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
    _clients: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        clients.quiet_sdk_logging()  # nothing of the SDKs' may reach the terminal under the console
        self.guard.profile = self.profile
        self.guard.read_only = self.guard.read_only or self.read_only

    def _cached(self, key: tuple[str, ...], build: Any) -> Any:
        with self._lock:
            client = self._clients.get(key)
        if client is None:
            client = build()
            with self._lock:
                client = self._clients.setdefault(key, client)
        return client

    def cache(self, key: tuple[str, ...], load: Any) -> Any:
        """A value loaded once per session (catalogs that do not change while the console runs)."""
        return self._cached(("cache", *key), load)

    def rest(self) -> Any:
        """The light REST client for reads (see services/rest.py)."""
        from .rest import RestClient

        return self._cached(("rest",), lambda: RestClient(self.cloud, self.credential))

    def subscription_client(self) -> Any:
        return self._cached(("subscriptions",), lambda: clients.subscription_client(self.cloud, self.credential))

    def graph_client(self) -> Any:
        return self._cached(("graph",), lambda: clients.graph_client(self.cloud, self.credential))

    def resource_client(self, subscription_id: str) -> Any:
        return self._cached(
            ("resources", subscription_id),
            lambda: clients.resource_client(self.cloud, self.credential, subscription_id),
        )

    def ml_client(self, subscription_id: str, resource_group: str | None = None, workspace: str | None = None) -> Any:
        key = ("ml", subscription_id, (resource_group or "").lower(), (workspace or "").lower())
        return self._cached(
            key,
            lambda: clients.ml_client(self.cloud, self.credential, subscription_id, resource_group, workspace),
        )

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
