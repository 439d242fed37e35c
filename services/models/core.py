"""The models the service layer hands out: frozen, plain, free of SDK types."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Subscription:
    id: str
    name: str
    state: str
    tenant_id: str


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    sku: str = ""
    public_network_access: str = ""
    storage_account: str = ""
    key_vault: str = ""
    container_registry: str = ""
    application_insights: str = ""
    description: str = ""
    tags: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return self.id.lower()
