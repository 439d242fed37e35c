"""Storage accounts of a subscription, read-only: how each is set up (SKU, tier, namespace, network), never
its keys.

REST: GET /subscriptions/{id}/providers/Microsoft.Storage/storageAccounts (Storage Accounts - List).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the registry reads the model (the `:` commands, the palette) without a session
    from .session import Session

API = "2023-05-01"


@dataclass(frozen=True)
class StorageAccount:
    id: str
    name: str
    subscription_id: str
    resource_group: str
    location: str
    kind: str  # StorageV2, BlobStorage, FileStorage, ...
    sku: str  # Standard_LRS, Standard_GRS, ...
    access_tier: str  # Hot | Cool | ...
    hierarchical_namespace: bool  # ADLS Gen2
    https_only: bool
    minimum_tls: str
    public_blob_access: bool
    network_default_action: str  # Allow | Deny
    provisioning_state: str
    secondary_location: str = ""
    blob_endpoint: str = ""
    dfs_endpoint: str = ""
    created_on: str = ""
    tags: tuple[tuple[str, str], ...] = ()


def _account(body: dict[str, Any]) -> StorageAccount:
    p = body.get("properties") or {}
    rid = str(body.get("id") or "")
    parts = rid.split("/")
    endpoints = p.get("primaryEndpoints") or {}
    return StorageAccount(
        id=rid,
        name=str(body.get("name") or parts[-1]),
        subscription_id=parts[2] if len(parts) > 2 else "",
        resource_group=parts[4] if len(parts) > 4 else "",
        location=str(body.get("location") or ""),
        kind=str(body.get("kind") or ""),
        sku=str((body.get("sku") or {}).get("name") or ""),
        access_tier=str(p.get("accessTier") or ""),
        hierarchical_namespace=bool(p.get("isHnsEnabled")),
        https_only=bool(p.get("supportsHttpsTrafficOnly", True)),
        minimum_tls=str(p.get("minimumTlsVersion") or ""),
        public_blob_access=bool(p.get("allowBlobPublicAccess")),
        network_default_action=str((p.get("networkAcls") or {}).get("defaultAction") or ""),
        provisioning_state=str(p.get("provisioningState") or ""),
        secondary_location=str(p.get("secondaryLocation") or ""),
        blob_endpoint=str(endpoints.get("blob") or ""),
        dfs_endpoint=str(endpoints.get("dfs") or ""),
        created_on=str(p.get("creationTime") or ""),
        tags=tuple(sorted((str(k), str(v)) for k, v in (body.get("tags") or {}).items())),
    )


def list_storage_accounts(session: Session, subscription_id: str) -> list[StorageAccount]:
    items = session.rest().items(f"/subscriptions/{subscription_id}/providers/Microsoft.Storage/storageAccounts", API)
    return sorted((_account(a) for a in items), key=lambda a: a.name.lower())
