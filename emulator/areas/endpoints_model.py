"""Online and batch endpoints: resource types, per-estate state, rendering and the rules Azure enforces.

Shapes follow Microsoft.MachineLearningServices/stable/2025-12-01 (Workspace/OnlineEndpoint,
OnlineDeployment/{Managed,Kubernetes}OnlineDeployment, Workspace/BatchEndpoint, Workspace/BatchDeployment
examples). Secrets (endpoint keys) live in the area state, never in the resource JSON, as in Azure.
"""

from __future__ import annotations

import copy
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from ..estate import ML, Estate
from ..http import ApiError, Request, conflict

AREA = "endpoints"
ONLINE_ENDPOINT_TYPE = f"{ML}/workspaces/onlineEndpoints"
ONLINE_DEPLOYMENT_TYPE = f"{ML}/workspaces/onlineEndpoints/deployments"
BATCH_ENDPOINT_TYPE = f"{ML}/workspaces/batchEndpoints"
BATCH_DEPLOYMENT_TYPE = f"{ML}/workspaces/batchEndpoints/deployments"

BUSY_STATES = ("Creating", "Updating", "Deleting")
MAX_INSTANCES = 20
MAX_MIRROR_PERCENT = 50

# Managed online endpoint SKUs (https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list)
MANAGED_SKUS: dict[str, dict[str, Any]] = {
    "Standard_DS1_v2": {"cores": 1, "memoryGB": 3.5, "gpus": 0},
    "Standard_DS2_v2": {"cores": 2, "memoryGB": 7, "gpus": 0},
    "Standard_DS3_v2": {"cores": 4, "memoryGB": 14, "gpus": 0},
    "Standard_DS4_v2": {"cores": 8, "memoryGB": 28, "gpus": 0},
    "Standard_DS5_v2": {"cores": 16, "memoryGB": 56, "gpus": 0},
    "Standard_F2s_v2": {"cores": 2, "memoryGB": 4, "gpus": 0},
    "Standard_F4s_v2": {"cores": 4, "memoryGB": 8, "gpus": 0},
    "Standard_F8s_v2": {"cores": 8, "memoryGB": 16, "gpus": 0},
    "Standard_E4s_v3": {"cores": 4, "memoryGB": 32, "gpus": 0},
    "Standard_E8s_v3": {"cores": 8, "memoryGB": 64, "gpus": 0},
    "Standard_D2as_v4": {"cores": 2, "memoryGB": 8, "gpus": 0},
    "Standard_D4as_v4": {"cores": 4, "memoryGB": 16, "gpus": 0},
    "Standard_NC6s_v3": {"cores": 6, "memoryGB": 112, "gpus": 1},
    "Standard_NC12s_v3": {"cores": 12, "memoryGB": 224, "gpus": 2},
    "Standard_NC24s_v3": {"cores": 24, "memoryGB": 448, "gpus": 4},
    "Standard_NC4as_T4_v3": {"cores": 4, "memoryGB": 28, "gpus": 1},
    "Standard_NC8as_T4_v3": {"cores": 8, "memoryGB": 56, "gpus": 1},
    "Standard_NC24ads_A100_v4": {"cores": 24, "memoryGB": 220, "gpus": 1},
}

DEFAULT_REQUEST_SETTINGS = {"requestTimeout": "PT5S", "maxConcurrentRequestsPerInstance": 1, "maxQueueWait": "PT0.5S"}
DEFAULT_LIVENESS_PROBE = {
    "failureThreshold": 30,
    "successThreshold": 1,
    "timeout": "PT2S",
    "period": "PT10S",
    "initialDelay": "PT10S",
}
DEFAULT_READINESS_PROBE = {
    "failureThreshold": 30,
    "successThreshold": 1,
    "timeout": "PT2S",
    "period": "PT10S",
    "initialDelay": "PT10S",
}

_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$")
_DEPLOYMENT_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]{0,31}$")
_AUTH_MODES = {"key": "Key", "amltoken": "AMLToken", "aadtoken": "AADToken"}


@dataclass
class EndpointsState:
    """Per-estate state of this area that is not part of any resource's ARM JSON."""

    rng: random.Random  # keys and other values generated after population
    keys: dict[str, dict[str, str]] = field(default_factory=dict)  # endpoint id (lower) -> keys
    requests: dict[str, int] = field(default_factory=dict)  # deployment id (lower) -> scored requests
    mirrored: dict[str, int] = field(default_factory=dict)  # deployment id (lower) -> mirrored copies
    request_log: dict[str, list[str]] = field(default_factory=dict)  # deployment id (lower) -> log lines
    autoscaled: list[str] = field(default_factory=list)  # TargetUtilization deployment ids (lower)
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)  # deployment id (lower) -> error
    operation_ids: dict[str, str] = field(default_factory=dict)  # deployment id (lower) -> failed op id
    last_bucket: int | None = None


def state(estate: Estate) -> EndpointsState:
    with estate.lock:
        st = estate.area_state.get(AREA)
        if st is None:
            st = EndpointsState(rng=random.Random(f"{estate.seed}:{AREA}:runtime"))
            estate.area_state[AREA] = st
        assert isinstance(st, EndpointsState)
        return st


def new_key(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))


def rng_uuid(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# -- ids --------------------------------------------------------------------------------------


def workspace_id(sub: str, rg: str, ws: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{ML}/workspaces/{ws}"


def online_endpoint_id(ws_id: str, name: str) -> str:
    return f"{ws_id}/onlineEndpoints/{name}"


def batch_endpoint_id(ws_id: str, name: str) -> str:
    return f"{ws_id}/batchEndpoints/{name}"


def deployment_id(endpoint_id: str, name: str) -> str:
    return f"{endpoint_id}/deployments/{name}"


def subscription_of(resource_id: str) -> str:
    return resource_id.split("/")[2]


# -- validation ---------------------------------------------------------------------------------


def bad_argument(message: str, target: str | None = None) -> ApiError:
    details = [{"code": "BadArgument", "message": message, "target": target}] if target else None
    return ApiError(400, "BadArgument", message, details=details)


def validate_endpoint_name(name: str) -> None:
    if not _NAME.match(name) or "--" in name:
        raise bad_argument(
            f"Endpoint name '{name}' is invalid. It must be 3-32 characters long, begin with a letter, end with "
            "a letter or digit, and contain only letters, digits and single hyphens.",
            "name",
        )


def validate_deployment_name(name: str) -> None:
    if not _DEPLOYMENT_NAME.match(name):
        raise bad_argument(
            f"Deployment name '{name}' is invalid. It must be 1-32 characters long, begin with a letter or digit, "
            "and contain only letters, digits and hyphens.",
            "name",
        )


def normalize_auth_mode(value: Any, *, allowed: tuple[str, ...] = ("Key", "AMLToken", "AADToken")) -> str:
    mode = _AUTH_MODES.get(str(value or "").replace("_", "").lower())
    if mode is None or mode not in allowed:
        raise bad_argument(
            f"The auth mode '{value}' is not supported. Supported values: {', '.join(allowed)}.",
            "properties.authMode",
        )
    return mode


def as_percent(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise bad_argument(f"The {what} value '{value}' is not a whole percentage.", "properties.traffic")
    if not 0 <= int(value) <= 100:
        raise bad_argument(f"The {what} value {int(value)} must be between 0 and 100.", "properties.traffic")
    return int(value)


def validate_traffic(
    endpoint_name: str,
    deployments: list[str],
    traffic: Any,
    mirror: Any,
) -> tuple[dict[str, int], dict[str, int]]:
    """Azure's routing rules; returns (traffic, mirrorTraffic) keyed by the deployments' own names."""
    canonical = {d.lower(): d for d in deployments}
    if traffic is None:
        traffic = {}
    if mirror is None:
        mirror = {}
    if not isinstance(traffic, dict) or not isinstance(mirror, dict):
        raise bad_argument("Traffic and mirror traffic must be maps of deployment name to percentage.")
    live: dict[str, int] = {}
    for name, value in traffic.items():
        if str(name).lower() not in canonical:
            raise bad_argument(
                f"Traffic rule references deployment '{name}', which does not exist in endpoint '{endpoint_name}'. "
                f"Existing deployments: {', '.join(sorted(deployments)) or 'none'}.",
                "properties.traffic",
            )
        live[canonical[str(name).lower()]] = as_percent(value, "traffic")
    total = sum(live.values())
    if total not in (0, 100):
        raise bad_argument(
            f"Traffic values for endpoint '{endpoint_name}' sum to {total}. The traffic percentages across "
            "deployments must sum to 100 (or to 0 to route no live traffic).",
            "properties.traffic",
        )
    mirrored: dict[str, int] = {}
    for name, value in mirror.items():
        if str(name).lower() not in canonical:
            raise bad_argument(
                f"Mirror traffic rule references deployment '{name}', which does not exist in endpoint "
                f"'{endpoint_name}'.",
                "properties.mirrorTraffic",
            )
        pct = as_percent(value, "mirror traffic")
        if pct:
            mirrored[canonical[str(name).lower()]] = pct
    if len(mirrored) > 1:
        raise bad_argument(
            "Mirror traffic can be set for only one deployment of an endpoint.", "properties.mirrorTraffic"
        )
    for name, pct in mirrored.items():
        if pct > MAX_MIRROR_PERCENT:
            raise bad_argument(
                f"Mirror traffic for deployment '{name}' is {pct}%; at most {MAX_MIRROR_PERCENT}% of live traffic "
                "can be mirrored.",
                "properties.mirrorTraffic",
            )
        if live.get(name, 0) > 0:
            raise bad_argument(
                f"Deployment '{name}' receives live traffic ({live[name]}%) and cannot also receive mirror "
                "traffic. A deployment can take either live or mirrored traffic, not both.",
                "properties.mirrorTraffic",
            )
        if total == 0:
            raise bad_argument(
                "Mirror traffic needs live traffic to copy: set live traffic before mirroring.",
                "properties.mirrorTraffic",
            )
    return live, mirrored


def validate_instance_count(value: Any, target: str = "sku.capacity") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INSTANCES:
        raise bad_argument(
            f"Instance count {value!r} is invalid. It must be an integer between 1 and {MAX_INSTANCES}.",
            target,
        )
    return value


def validate_scale_settings(settings: Any, compute_type: str) -> dict[str, Any]:
    if settings is None:
        return {"scaleType": "Default"}
    if not isinstance(settings, dict):
        raise bad_argument("scaleSettings must be an object.", "properties.scaleSettings")
    scale_type = settings.get("scaleType", "Default")
    if scale_type == "Default":
        return {"scaleType": "Default"}
    if scale_type != "TargetUtilization":
        raise bad_argument(f"Unsupported scale type '{scale_type}'.", "properties.scaleSettings.scaleType")
    if compute_type == "Managed":
        raise bad_argument(
            "Managed online deployments support only the 'Default' scale type; use Azure Monitor autoscale "
            "instead of 'TargetUtilization'.",
            "properties.scaleSettings.scaleType",
        )
    low = settings.get("minInstances", 1)
    high = settings.get("maxInstances", 1)
    if not isinstance(low, int) or not isinstance(high, int) or low < 1 or high > MAX_INSTANCES or low > high:
        raise bad_argument(
            f"minInstances ({low}) and maxInstances ({high}) must satisfy 1 <= min <= max <= {MAX_INSTANCES}.",
            "properties.scaleSettings",
        )
    pct = settings.get("targetUtilizationPercentage", 70)
    if not isinstance(pct, int) or not 1 <= pct <= 100:
        raise bad_argument("targetUtilizationPercentage must be between 1 and 100.", "properties.scaleSettings")
    return {
        "scaleType": "TargetUtilization",
        "minInstances": low,
        "maxInstances": high,
        "pollingInterval": settings.get("pollingInterval") or "PT1S",
        "targetUtilizationPercentage": pct,
    }


# -- rendering ----------------------------------------------------------------------------------


def scoring_base(req: Request, endpoint: dict[str, Any]) -> str:
    return f"{req.base_url}/score/{endpoint['location']}/{endpoint['name']}"


def render_online_endpoint(estate: Estate, req: Request, endpoint: dict[str, Any]) -> dict[str, Any]:
    with estate.lock:
        body = copy.deepcopy(endpoint)
    base = scoring_base(req, body)
    body["properties"]["scoringUri"] = f"{base}/score"
    body["properties"]["swaggerUri"] = f"{base}/swagger.json"
    return body


def render_batch_endpoint(estate: Estate, req: Request, endpoint: dict[str, Any]) -> dict[str, Any]:
    with estate.lock:
        body = copy.deepcopy(endpoint)
    base = scoring_base(req, body)
    body["properties"]["scoringUri"] = f"{base}/jobs"
    body["properties"]["swaggerUri"] = f"{base}/swagger.json"
    return body


def render_deployment(estate: Estate, req: Request, deployment: dict[str, Any]) -> dict[str, Any]:
    with estate.lock:
        body = copy.deepcopy(deployment)
        op_id = state(estate).operation_ids.get(deployment["id"].lower())
    if op_id:
        sub = subscription_of(body["id"])
        body["properties"].setdefault("properties", {})["AzureAsyncOperationUri"] = (
            f"{req.base_url}/subscriptions/{sub}/providers/{ML}/locations/{body['location']}"
            f"/mfeOperationsStatus/{op_id}?api-version=2023-04-01-preview"
        )
    return body


def touch(estate: Estate, resource: dict[str, Any], by: str = "ops@contoso.example") -> None:
    sd = resource.setdefault("systemData", {})
    sd["lastModifiedAt"] = estate.now_iso()
    sd["lastModifiedBy"] = by
    sd["lastModifiedByType"] = "User"


def new_system_data(estate: Estate, by: str) -> dict[str, Any]:
    now = estate.now_iso()
    return {
        "createdAt": now,
        "createdBy": by,
        "createdByType": "User",
        "lastModifiedAt": now,
        "lastModifiedBy": by,
        "lastModifiedByType": "User",
    }


def resource_not_found(kind: str, rg: str, path: str) -> ApiError:
    return ApiError(
        404,
        "ResourceNotFound",
        f"The Resource 'Microsoft.MachineLearningServices/{path}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def json_body(req: Request) -> dict[str, Any]:
    body = req.json()
    if not isinstance(body, dict):
        raise bad_argument("The request body must be a JSON object.")
    return body


def properties_of(body: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    props = body.get("properties")
    if props is None and not required:
        return {}
    if not isinstance(props, dict):
        raise bad_argument("The request body must contain a 'properties' object.", "properties")
    return props


def refuse_if_busy(resource: dict[str, Any], kind: str) -> None:
    ps = resource["properties"].get("provisioningState")
    if ps in BUSY_STATES:
        raise conflict(
            f"The {kind} '{resource['name']}' is in provisioning state '{ps}'; wait for the current operation "
            "to finish before starting another.",
        )


def identity_for(estate: Estate, requested: Any, existing: dict[str, Any] | None) -> dict[str, Any]:
    requested = requested if isinstance(requested, dict) else {"type": "SystemAssigned"}
    kind = requested.get("type") or "SystemAssigned"
    if kind not in ("SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned", "None"):
        raise bad_argument(f"Identity type '{kind}' is not supported.", "identity.type")
    identity: dict[str, Any] = {"type": kind}
    if "SystemAssigned" in kind:
        same = existing is not None and "SystemAssigned" in existing.get("type", "")
        identity["principalId"] = existing["principalId"] if same and existing else rng_uuid(state(estate).rng)
        identity["tenantId"] = estate.tenant_id
    if "UserAssigned" in kind:
        identity["userAssignedIdentities"] = {
            uid: {"principalId": rng_uuid(state(estate).rng), "clientId": rng_uuid(state(estate).rng)}
            for uid in (requested.get("userAssignedIdentities") or {})
        }
    return identity


def caller_name(req: Request) -> str:
    return str(req.caller.get("upn") or req.caller.get("name") or "ops@contoso.example")
