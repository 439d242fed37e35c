"""The simulated estate: subscriptions, resource groups, workspaces and everything under them.

Resources are held in their ARM JSON shape, keyed by lower-cased resource id, so that the REST routes,
Resource Graph and the simulation all read and change one truth. Generation is deterministic from
the seed; each area module (``emulator.areas.*``) adds its resources and its simulation step.
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .clock import SimClock, iso

ML = "Microsoft.MachineLearningServices"
WORKSPACE_TYPE = f"{ML}/workspaces"


@dataclass(frozen=True)
class Scale:
    name: str
    subscriptions: int
    workspaces: int
    jobs_per_workspace: int


SCALES = {
    "small": Scale("small", subscriptions=2, workspaces=4, jobs_per_workspace=90),
    "large": Scale("large", subscriptions=4, workspaces=24, jobs_per_workspace=100_000 // 24 + 1),
}

# (name stem, region, subscription index, purpose) — the small estate; large repeats the pattern.
_WORKSPACE_PLAN = [
    ("mlw-prod-eus", "eastus", 0, "production"),
    ("mlw-prod-weu", "westeurope", 0, "production"),
    ("mlw-dev-eus2", "eastus2", 1, "development"),
    ("mlw-research-scus", "southcentralus", 1, "research"),
]
_REGIONS = [
    "eastus",
    "westeurope",
    "eastus2",
    "southcentralus",
    "westus3",
    "northeurope",
    "uksouth",
    "japaneast",
]
_SUB_NAMES = ["Contoso ML Production", "Contoso ML Development", "Contoso ML Research", "Contoso ML Sandbox"]


def arm_id(*parts: str) -> str:
    return "/" + "/".join(p.strip("/") for p in parts)


def parent_of(resource_id: str) -> str:
    """The id of the resource that contains this one (…/providers/NS/type/name → drop type/name)."""
    segs = resource_id.strip("/").split("/")
    return "/" + "/".join(segs[:-2])


class Estate:
    def __init__(self, *, seed: int = 7, scale: str = "small", clock: SimClock | None = None) -> None:
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}")
        self.seed = seed
        self.scale = SCALES[scale]
        self.clock = clock or SimClock()
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.tenant_id = self.uuid()
        self.subscriptions: list[dict[str, Any]] = []
        self.resource_groups: dict[str, dict[str, Any]] = {}  # lower id -> RG JSON
        self.resources: dict[str, dict[str, Any]] = {}  # lower id -> ARM JSON
        self.tickers: list[Callable[[Estate], None]] = []
        self.area_state: dict[str, Any] = {}  # per-area private state, by area name
        self._build_core()

    # -- deterministic helpers --------------------------------------------------------------

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def area_rng(self, area: str) -> random.Random:
        """A generator private to one area, so that areas stay deterministic independently."""
        return random.Random(f"{self.seed}:{area}")

    def now_iso(self) -> str:
        return iso(self.clock.now())

    def system_data(self, created_by: str = "ops@contoso.example", *, age_days: float = 30.0) -> dict[str, Any]:
        import datetime as dt

        created = self.clock.start - dt.timedelta(days=age_days)
        return {
            "createdAt": iso(created),
            "createdBy": created_by,
            "createdByType": "User",
            "lastModifiedAt": iso(created),
            "lastModifiedBy": created_by,
            "lastModifiedByType": "User",
        }

    # -- the store ---------------------------------------------------------------------------

    def put(self, resource: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.resources[resource["id"].lower()] = resource
        return resource

    def get(self, resource_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.resources.get(resource_id.lower())

    def delete(self, resource_id: str) -> dict[str, Any] | None:
        """Remove a resource and everything under it."""
        key = resource_id.lower()
        with self.lock:
            gone = self.resources.pop(key, None)
            for k in [k for k in self.resources if k.startswith(key + "/")]:
                del self.resources[k]
        return gone

    def children(self, parent_id: str, child_type: str) -> list[dict[str, Any]]:
        """Direct children of ``parent_id`` whose id continues with ``/{child_type}/{name}``."""
        prefix = f"{parent_id.lower()}/{child_type.lower()}/"
        with self.lock:
            return [r for k, r in self.resources.items() if k.startswith(prefix) and "/" not in k[len(prefix) :]]

    def of_type(self, rtype: str) -> Iterator[dict[str, Any]]:
        rtype = rtype.lower()
        with self.lock:
            items = list(self.resources.values())
        return (r for r in items if r.get("type", "").lower() == rtype)

    def snapshot(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A copy safe to serialize outside the lock."""
        with self.lock:
            return copy.deepcopy(resource)

    # -- subscriptions, groups, workspaces ------------------------------------------------------

    def subscription(self, sub_id: str) -> dict[str, Any] | None:
        return next((s for s in self.subscriptions if s["subscriptionId"].lower() == sub_id.lower()), None)

    def workspace(self, sub: str, rg: str, name: str) -> dict[str, Any] | None:
        return self.get(arm_id("subscriptions", sub, "resourceGroups", rg, "providers", WORKSPACE_TYPE, name))

    def workspaces(self) -> list[dict[str, Any]]:
        return sorted(self.of_type(WORKSPACE_TYPE), key=lambda w: w["id"].lower())

    def _build_core(self) -> None:
        scale = self.scale
        for i in range(scale.subscriptions):
            sub_id = self.uuid()
            self.subscriptions.append(
                {
                    "id": f"/subscriptions/{sub_id}",
                    "subscriptionId": sub_id,
                    "tenantId": self.tenant_id,
                    "displayName": _SUB_NAMES[i % len(_SUB_NAMES)] + ("" if i < len(_SUB_NAMES) else f" {i}"),
                    "state": "Enabled",
                    "subscriptionPolicies": {
                        "locationPlacementId": "Public_2014-09-01",
                        "quotaId": "EnterpriseAgreement_2014-09-01",
                        "spendingLimit": "Off",
                    },
                    "authorizationSource": "RoleBased",
                    "managedByTenants": [],
                    "tags": {},
                }
            )
        plan = list(_WORKSPACE_PLAN)
        n = len(plan)
        while len(plan) < scale.workspaces:
            stem, _, _, purpose = _WORKSPACE_PLAN[len(plan) % n]
            region = _REGIONS[len(plan) % len(_REGIONS)]
            plan.append(
                (
                    f"{stem.rsplit('-', 1)[0]}-{region[:5]}{len(plan):02d}",
                    region,
                    len(plan) % scale.subscriptions,
                    purpose,
                )
            )
        for stem, region, sub_index, purpose in plan[: scale.workspaces]:
            sub = self.subscriptions[sub_index % scale.subscriptions]["subscriptionId"]
            rg_name = f"rg-{stem.removeprefix('mlw-')}"
            self._add_resource_group(sub, rg_name, region, purpose)
            self._add_workspace(sub, rg_name, stem, region, purpose)

    def _add_resource_group(self, sub: str, name: str, location: str, purpose: str) -> None:
        rid = arm_id("subscriptions", sub, "resourceGroups", name)
        self.resource_groups[rid.lower()] = {
            "id": rid,
            "name": name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": location,
            "properties": {"provisioningState": "Succeeded"},
            "tags": {"purpose": purpose},
        }

    def _add_workspace(self, sub: str, rg: str, name: str, location: str, purpose: str) -> None:
        rg_id = arm_id("subscriptions", sub, "resourceGroups", rg)
        short = name.replace("mlw-", "").replace("-", "")[:16]
        linked = {
            "storageAccount": f"{rg_id}/providers/Microsoft.Storage/storageAccounts/st{short}",
            "keyVault": f"{rg_id}/providers/Microsoft.KeyVault/vaults/kv-{short}",
            "applicationInsights": f"{rg_id}/providers/Microsoft.Insights/components/appi-{short}",
            "containerRegistry": f"{rg_id}/providers/Microsoft.ContainerRegistry/registries/cr{short}",
        }
        wid = f"{rg_id}/providers/{WORKSPACE_TYPE}/{name}"
        workspace_guid = self.uuid()
        self.put(
            {
                "id": wid,
                "name": name,
                "type": WORKSPACE_TYPE,
                "location": location,
                "kind": "Default",
                "tags": {"purpose": purpose, "costCenter": f"cc-{self.rng.randint(1000, 9999)}"},
                "identity": {
                    "type": "SystemAssigned",
                    "principalId": self.uuid(),
                    "tenantId": self.tenant_id,
                },
                "sku": {"name": "Basic", "tier": "Basic"},
                "systemData": self.system_data(age_days=400 if purpose == "production" else 120),
                "properties": {
                    "friendlyName": name,
                    "description": f"{purpose.capitalize()} machine learning workspace in {location}",
                    "provisioningState": "Succeeded",
                    "workspaceId": workspace_guid,
                    "hbiWorkspace": False,
                    "publicNetworkAccess": "Disabled" if purpose == "production" else "Enabled",
                    "v1LegacyMode": False,
                    "storageHnsEnabled": False,
                    "allowPublicAccessWhenBehindVnet": False,
                    "enableDataIsolation": False,
                    "imageBuildCompute": None,
                    "managedNetwork": {"isolationMode": "Disabled"},
                    "systemDatastoresAuthMode": "accessKey",
                    "storageAccount": linked["storageAccount"],
                    "keyVault": linked["keyVault"],
                    "applicationInsights": linked["applicationInsights"],
                    "containerRegistry": linked["containerRegistry"],
                    # discoveryUrl and mlFlowTrackingUri depend on the server's address: filled per request.
                },
            }
        )

    # -- simulation -----------------------------------------------------------------------------

    def tick(self) -> None:
        """Bring the estate up to the simulation clock's now (called before each request)."""
        with self.lock:
            for ticker in self.tickers:
                ticker(self)
