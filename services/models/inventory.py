"""The estate at a glance: one row per Azure ML resource found by Resource Graph."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ServiceError


@dataclass(frozen=True)
class InventoryItem:
    id: str
    name: str
    kind: str  # workspace | compute | online-endpoint | online-deployment | batch-endpoint | batch-deployment
    subscription_id: str
    resource_group: str
    workspace: str
    location: str
    state: str  # provisioning state, or the compute's own state
    detail: str  # compute type, VM size, SKU...

    @property
    def key(self) -> str:
        return self.id.lower()


@dataclass(frozen=True)
class Inventory:
    items: tuple[InventoryItem, ...]
    source: str  # "resource-graph" or "arm" (the per-subscription fallback)
    subscriptions: tuple[str, ...]
    errors: tuple[tuple[str, ServiceError], ...] = ()  # (subscription or workspace id, what went wrong)

    def of_kind(self, kind: str) -> list[InventoryItem]:
        return [i for i in self.items if i.kind == kind]
