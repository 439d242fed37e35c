"""The resources an Azure ML workspace depends on, as ARM resources of their own, plus the workspace's
``listKeys`` and ``connections``.

Each workspace names a storage account, a key vault, a container registry and an Application Insights
component in its properties, and sends its logs to a Log Analytics workspace (the monitor area's). They
exist here as Azure holds them: in the estate (so the resource-group listing and Resource Graph show them)
with their GETs and list-by-resource-group / list-by-subscription routes. Shapes follow the specs'
examples: Microsoft.Storage 2024-01-01 (StorageAccountGetProperties, StorageAccountListKeys),
Microsoft.KeyVault 2023-07-01 (getVault), Microsoft.ContainerRegistry 2023-07-01 (RegistryGet),
Microsoft.Insights 2020-02-02 (ComponentsGet), Microsoft.OperationalInsights 2022-10-01 (WorkspacesGet), and
Microsoft.MachineLearningServices 2025-12-01 (Workspace/listKeys, WorkspaceConnection/list and get).

Keys, passwords and instrumentation keys are derived from the seed (stable across runs) and are served only
by the key-listing POSTs; nothing here logs them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from ..estate import ML, WORKSPACE_TYPE, Estate
from ..http import ApiError, Request, Response, page
from .arm import group_not_found, subscription_not_found

STORAGE = "Microsoft.Storage/storageAccounts"
VAULT = "Microsoft.KeyVault/vaults"
REGISTRY = "Microsoft.ContainerRegistry/registries"
COMPONENT = "Microsoft.Insights/components"
LOG_ANALYTICS = "Microsoft.OperationalInsights/workspaces"
CONNECTION_TYPE = f"{WORKSPACE_TYPE}/connections"
KINDS = (STORAGE, VAULT, REGISTRY, COMPONENT, LOG_ANALYTICS)
_STORAGE_SERVICES = ("web", "dfs", "blob", "file", "queue", "table")


def secret(estate: Estate, *parts: object, size: int = 64) -> str:
    """Key material derived from the seed: base64 of a keyed hash, Azure's length for account keys."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=size, key=str(estate.seed).encode())
    return base64.b64encode(digest.digest()).decode()


def guid(estate: Estate, *parts: object) -> str:
    digest = hashlib.blake2b(":".join(map(str, (estate.seed, *parts))).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _name(rid: str) -> str:
    return rid.rstrip("/").rsplit("/", 1)[-1]


def _base(rid: str, rtype: str, ws: dict[str, Any], estate: Estate) -> dict[str, Any]:
    return {
        "id": rid,
        "name": _name(rid),
        "type": rtype,
        "location": ws["location"],
        "tags": dict(ws.get("tags") or {}),
        "systemData": copy.deepcopy(ws.get("systemData")) or estate.system_data(),
    }


def storage_account(estate: Estate, ws: dict[str, Any], rid: str, hns: bool | None = None) -> dict[str, Any]:
    name = _name(rid)
    created = (ws.get("systemData") or {}).get("createdAt") or estate.now_iso()
    if hns is None:
        hns = bool(ws["properties"].get("storageHnsEnabled"))
    body = _base(rid, STORAGE, ws, estate)
    production = ws["tags"].get("purpose") == "production"
    body.update(
        {
            "kind": "StorageV2",
            "sku": {"name": "Standard_GRS" if production else "Standard_LRS", "tier": "Standard"},
            "properties": {
                "keyCreationTime": {"key1": created, "key2": created},
                "privateEndpointConnections": [],
                "minimumTlsVersion": "TLS1_2",
                "allowBlobPublicAccess": False,
                "allowSharedKeyAccess": True,
                "isHnsEnabled": hns,
                "networkAcls": {
                    "bypass": "AzureServices",
                    "virtualNetworkRules": [],
                    "ipRules": [],
                    "defaultAction": "Deny" if production else "Allow",
                },
                "supportsHttpsTrafficOnly": True,
                "encryption": {
                    "services": {
                        s: {"keyType": "Account", "enabled": True, "lastEnabledTime": created} for s in ("file", "blob")
                    },
                    "keySource": "Microsoft.Storage",
                },
                "accessTier": "Hot",
                "provisioningState": "Succeeded",
                "creationTime": created,
                "primaryEndpoints": {s: f"https://{name}.{s}.core.windows.net/" for s in _STORAGE_SERVICES},
                "primaryLocation": ws["location"],
                "statusOfPrimary": "available",
                "isSkuConversionBlocked": False,
                "accountMigrationInProgress": False,
            },
        }
    )
    if production:
        props = body["properties"]
        props["secondaryLocation"] = _paired(ws["location"])
        props["statusOfSecondary"] = "available"
        props["geoReplicationStats"] = {"status": "Live", "lastSyncTime": estate.now_iso(), "canFailover": True}
    return body


def _paired(location: str) -> str:
    from .arm import REGIONS

    return REGIONS[location][6] if location in REGIONS else location


def key_vault(estate: Estate, ws: dict[str, Any], rid: str) -> dict[str, Any]:
    body = _base(rid, VAULT, ws, estate)
    body["properties"] = {
        "sku": {"family": "A", "name": "standard"},
        "tenantId": estate.tenant_id,
        "accessPolicies": [
            {
                "tenantId": estate.tenant_id,
                "objectId": ws["identity"]["principalId"],
                "permissions": {
                    "keys": ["all"],
                    "secrets": ["all"],
                    "certificates": ["all"],
                    "storage": [],
                },
            }
        ],
        "enabledForDeployment": False,
        "enabledForDiskEncryption": False,
        "enabledForTemplateDeployment": False,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90,
        "enableRbacAuthorization": False,
        "enablePurgeProtection": True,
        "vaultUri": f"https://{_name(rid)}.vault.azure.net/",
        "provisioningState": "Succeeded",
        "publicNetworkAccess": "Enabled",
    }
    return body


def container_registry(estate: Estate, ws: dict[str, Any], rid: str) -> dict[str, Any]:
    body = _base(rid, REGISTRY, ws, estate)
    production = ws["tags"].get("purpose") == "production"
    body["sku"] = {"name": "Premium" if production else "Standard", "tier": "Premium" if production else "Standard"}
    body["properties"] = {
        "loginServer": f"{_name(rid).lower()}.azurecr.io",
        "creationDate": body["systemData"].get("createdAt"),
        "provisioningState": "Succeeded",
        "adminUserEnabled": True,
        "policies": {
            "quarantinePolicy": {"status": "disabled"},
            "trustPolicy": {"type": "Notary", "status": "disabled"},
            "retentionPolicy": {
                "days": 7,
                "lastUpdatedTime": body["systemData"].get("createdAt"),
                "status": "disabled",
            },
            "exportPolicy": {"status": "enabled"},
        },
        "encryption": {"status": "disabled"},
        "dataEndpointEnabled": False,
        "dataEndpointHostNames": [],
        "privateEndpointConnections": [],
        "publicNetworkAccess": "Enabled",
        "networkRuleBypassOptions": "AzureServices",
        "zoneRedundancy": "Disabled",
        "anonymousPullEnabled": False,
    }
    return body


def app_insights(estate: Estate, ws: dict[str, Any], rid: str, la_id: str) -> dict[str, Any]:
    body = _base(rid, COMPONENT, ws, estate)
    ikey = guid(estate, "ikey", rid.lower())
    app_id = guid(estate, "appid", rid.lower())
    loc = ws["location"]
    body["kind"] = "web"
    body["etag"] = f'"{guid(estate, "etag", rid.lower())}"'
    body["properties"] = {
        "ApplicationId": _name(rid),
        "AppId": app_id,
        "Application_Type": "web",
        "Flow_Type": "Bluefield",
        "Request_Source": "rest",
        "InstrumentationKey": ikey,
        "ConnectionString": f"InstrumentationKey={ikey};IngestionEndpoint=https://{loc}-0.in.applicationinsights."
        f"azure.com/;LiveEndpoint=https://{loc}.livediagnostics.monitor.azure.com/;ApplicationId={app_id}",
        "Name": _name(rid),
        "CreationDate": body["systemData"].get("createdAt"),
        "TenantId": ws["id"].split("/")[2],
        "provisioningState": "Succeeded",
        "SamplingPercentage": None,
        "RetentionInDays": 90,
        "WorkspaceResourceId": la_id,
        "IngestionMode": "LogAnalytics",
        "publicNetworkAccessForIngestion": "Enabled",
        "publicNetworkAccessForQuery": "Enabled",
        "Ver": "v2",
    }
    return body


def connections(estate: Estate, ws: dict[str, Any]) -> list[dict[str, Any]]:
    """The workspace's connections: its registry and its default blob storage, as the studio creates them."""
    props = ws["properties"]
    registry = estate.get(props["containerRegistry"]) or {}
    storage = _name(props["storageAccount"])
    made = (ws.get("systemData") or {}).get("createdAt")
    items = [
        (
            "acr-" + _name(props["containerRegistry"]).lower(),
            {
                "category": "ContainerRegistry",
                "target": (registry.get("properties") or {}).get("loginServer", ""),
                "authType": "ManagedIdentity",
                "metadata": {"ResourceId": props["containerRegistry"]},
            },
        ),
        (
            "workspaceblobstore-connection",
            {
                "category": "AzureBlob",
                "target": f"https://{storage}.blob.core.windows.net/",
                "authType": "AccountKey",
                "metadata": {"AccountName": storage, "ContainerName": f"azureml-blobstore-{props['workspaceId']}"},
            },
        ),
    ]
    out = []
    for name, p in items:
        p.update(
            {
                "isSharedToAll": False,
                "sharedUserList": [],
                "createdByWorkspaceArmId": ws["id"],
                "group": "Azure",
                "expiryTime": None,
                "peRequirement": "NotRequired",
                "peStatus": "NotApplicable",
                "useWorkspaceManagedIdentity": p["authType"] == "ManagedIdentity",
                "error": None,
            }
        )
        out.append(
            {
                "id": f"{ws['id']}/connections/{name}",
                "name": name,
                "type": CONNECTION_TYPE,
                "systemData": {"createdAt": made, "createdBy": "ops@contoso.example", "createdByType": "User"},
                "properties": p,
            }
        )
    return out


def populate(estate: Estate) -> None:
    from .monitor import state

    st = state(estate)
    for ws in estate.workspaces():
        props = ws["properties"]
        la = st.by_aml.get(ws["id"].lower())
        if la is not None:
            _enrich_log_analytics(estate, la.resource)
            estate.put(la.resource)  # one dict: the monitor area's routes and the estate's listings agree
        estate.put(storage_account(estate, ws, props["storageAccount"]))
        _datastore_accounts(estate, ws)
        estate.put(key_vault(estate, ws, props["keyVault"]))
        estate.put(container_registry(estate, ws, props["containerRegistry"]))
        la_id = la.resource["id"] if la is not None else ""
        estate.put(app_insights(estate, ws, props["applicationInsights"], la_id))


def _datastore_accounts(estate: Estate, ws: dict[str, Any]) -> None:
    """The storage accounts the workspace's datastores point at exist too, in the workspace's resource group
    (hierarchical namespace on for an ADLS Gen2 datastore's)."""
    group = ws["id"].split("/providers/")[0]
    for ds in estate.children(ws["id"], "datastores"):
        dprops = ds["properties"]
        account = dprops.get("accountName")
        if not account or dprops.get("datastoreType") not in ("AzureBlob", "AzureFile", "AzureDataLakeGen2"):
            continue
        rid = f"{group}/providers/{STORAGE}/{account}"
        if estate.get(rid) is None and not any(r["name"] == account for r in _all_of(estate, STORAGE)):
            estate.put(storage_account(estate, ws, rid, hns=dprops["datastoreType"] == "AzureDataLakeGen2"))


def _all_of(estate: Estate, rtype: str) -> list[dict[str, Any]]:
    return [r for r in estate.resources.values() if r.get("type") == rtype]


def _enrich_log_analytics(estate: Estate, res: dict[str, Any]) -> None:
    props = res["properties"]
    created = props.get("createdDate") or estate.now_iso()
    props.setdefault("modifiedDate", created)
    props["sku"] = {"name": "PerGB2018", "lastSkuUpdate": created}
    cap = props.setdefault("workspaceCapping", {"dailyQuotaGb": -1.0})
    cap.setdefault("quotaNextResetTime", created)
    cap.setdefault("dataIngestionStatus", "RespectQuota")
    res.setdefault("etag", f'"{guid(estate, "etag", res["id"].lower())}"')
    res.setdefault("systemData", estate.system_data(age_days=400))


# -- routes ---------------------------------------------------------------------------------------------


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate

    def need_sub(sub: str) -> None:
        if estate.subscription(sub) is None:
            raise subscription_not_found(sub)

    def need_group(sub: str, rg: str) -> str:
        need_sub(sub)
        rg_id = f"/subscriptions/{sub}/resourceGroups/{rg}"
        if rg_id.lower() not in estate.resource_groups:
            raise group_not_found(rg)
        return rg_id

    def need(sub: str, rg: str, rtype: str, name: str) -> dict[str, Any]:
        rg_id = need_group(sub, rg)
        res = estate.get(f"{rg_id}/providers/{rtype}/{name}")
        if res is None or str(res.get("type", "")).lower() != rtype.lower():
            raise ApiError(
                404,
                "ResourceNotFound",
                f"The Resource '{rtype}/{name}' under resource group '{rg}' was not found. For more details "
                "please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        return res

    def listing(rtype: str) -> tuple[Callable[..., Response], Callable[..., Response], Callable[..., Response]]:
        def by_group(req: Request, sub: str, rg: str) -> Response:
            prefix = need_group(sub, rg).lower() + "/"
            items = [estate.snapshot(r) for r in estate.of_type(rtype) if r["id"].lower().startswith(prefix)]
            return page(req, sorted(items, key=lambda r: r["id"].lower()))

        def by_sub(req: Request, sub: str) -> Response:
            need_sub(sub)
            prefix = f"/subscriptions/{sub}/".lower()
            items = [estate.snapshot(r) for r in estate.of_type(rtype) if r["id"].lower().startswith(prefix)]
            return page(req, sorted(items, key=lambda r: r["id"].lower()))

        def get(req: Request, sub: str, rg: str, name: str) -> Response:
            return Response(200, estate.snapshot(need(sub, rg, rtype, name)))

        return by_group, by_sub, get

    for rtype in KINDS:
        if rtype == LOG_ANALYTICS:
            continue  # the monitor area serves these routes, from the very same resources
        by_group, by_sub, get = listing(rtype)
        router.add("GET", f"/subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/{rtype}", by_group)
        router.add("GET", f"/subscriptions/{{sub}}/providers/{rtype}", by_sub)
        router.add("GET", f"/subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/{rtype}/{{name}}", get)

    def storage_keys(req: Request, sub: str, rg: str, name: str) -> Response:
        res = need(sub, rg, STORAGE, name)
        created = res["properties"]["keyCreationTime"]
        keys = [
            {
                "keyName": k,
                "value": secret(estate, "storage", res["id"].lower(), k),
                "permissions": "FULL",
                "creationTime": created[k],
            }
            for k in ("key1", "key2")
        ]
        return Response(200, {"keys": keys})

    def registry_credentials(req: Request, sub: str, rg: str, name: str) -> Response:
        body = _registry_credentials(estate, need(sub, rg, REGISTRY, name))
        body.pop("location")  # RegistryListCredentialsResult has none; the workspace's listKeys does
        return Response(200, body)

    ws_path = f"/subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/{WORKSPACE_TYPE}/{{ws}}"

    def find_ws(sub: str, rg: str, ws: str) -> dict[str, Any]:
        from .workspaces import find

        return find(estate, sub, rg, ws)

    def ws_keys(req: Request, sub: str, rg: str, ws: str) -> Response:
        w = find_ws(sub, rg, ws)
        props = w["properties"]
        storage = estate.get(props["storageAccount"])
        component = estate.get(props["applicationInsights"])
        registry = estate.get(props["containerRegistry"])
        return Response(
            200,
            {
                "appInsightsInstrumentationKey": (component or {}).get("properties", {}).get("InstrumentationKey"),
                "containerRegistryCredentials": _registry_credentials(estate, registry) if registry else None,
                "notebookAccessKeys": {"primaryAccessKey": None, "secondaryAccessKey": None},
                "userStorageArmId": props["storageAccount"],
                "userStorageKey": secret(estate, "storage", storage["id"].lower(), "key1") if storage else None,
            },
        )

    def ws_connections(req: Request, sub: str, rg: str, ws: str) -> Response:
        items = connections(estate, find_ws(sub, rg, ws))
        target, category = req.q("target"), req.q("category")
        if target:
            items = [c for c in items if c["properties"]["target"].lower() == target.lower()]
        if category:
            items = [c for c in items if c["properties"]["category"].lower() == category.lower()]
        return page(req, items)

    def ws_connection(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        found = [c for c in connections(estate, find_ws(sub, rg, ws)) if c["name"].lower() == name.lower()]
        if not found:
            raise ApiError(
                404,
                "ResourceNotFound",
                f"The Resource '{CONNECTION_TYPE}/{ws}/{name}' under resource group '{rg}' was not found.",
            )
        return Response(200, found[0])

    router.add(
        "POST", f"/subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/{STORAGE}/{{name}}/listKeys", storage_keys
    )
    router.add(
        "POST",
        f"/subscriptions/{{sub}}/resourceGroups/{{rg}}/providers/{REGISTRY}/{{name}}/listCredentials",
        registry_credentials,
    )
    router.add("POST", ws_path + "/listKeys", ws_keys)
    router.add("GET", ws_path + "/connections", ws_connections)
    router.add("GET", ws_path + "/connections/{name}", ws_connection)


def _registry_credentials(estate: Estate, registry: dict[str, Any]) -> dict[str, Any]:
    name = registry["name"]
    return {
        "username": name,
        "passwords": [
            {"name": n, "value": secret(estate, "acr", registry["id"].lower(), n, size=24)}
            for n in ("password", "password2")
        ],
        "location": registry.get("location"),
    }


__all__ = ["KINDS", "ML", "populate", "register", "secret"]
