"""Blocks of the REST shapes that the other areas' generators leave out, added once the estate is built.

Following the Microsoft.MachineLearningServices stable 2025-12-01 examples: a network-isolated workspace's
managed network, encryption and private endpoint connections; the service-provisioned resource group; the
identities of its computes; custom applications on compute instances; identity and sku of endpoints and
deployments.

Values derive from each resource's id and the seed, never from the estate's shared generator, so adding a block
shifts no other generated value.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from ..estate import ML, Estate

ONLINE_ENDPOINT = f"{ML}/workspaces/onlineEndpoints"
ONLINE_DEPLOYMENT = f"{ML}/workspaces/onlineEndpoints/deployments"
BATCH_ENDPOINT = f"{ML}/workspaces/batchEndpoints"
BATCH_DEPLOYMENT = f"{ML}/workspaces/batchEndpoints/deployments"
COMPUTE = f"{ML}/workspaces/computes"

# The estate's own package mirror: an isolated workspace may reach it and nothing else outside Azure.
_MIRROR_FQDN = "artifacts.contoso.example"


def _digest(estate: Estate, *parts: str) -> bytes:
    return hashlib.sha256(":".join((str(estate.seed), *parts)).encode()).digest()


def _uuid(estate: Estate, *parts: str) -> str:
    return str(uuid.UUID(bytes=_digest(estate, *parts)[:16], version=4))


def _name_of(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def _workspace(estate: Estate, ws: dict[str, Any]) -> None:
    props = ws["properties"]
    rid = ws["id"]
    rg_id = rid.split("/providers/", 1)[0]
    name = ws["name"]
    props["serviceProvisionedResourceGroup"] = f"{name}_{props['workspaceId'].replace('-', '')[:16]}"
    props.setdefault("sharedPrivateLinkResources", [])
    if props.get("publicNetworkAccess") != "Disabled":
        props["privateEndpointConnections"] = []
        props["managedNetwork"] = {
            "isolationMode": "Disabled",
            "outboundRules": {},
            "status": {"sparkReady": False, "status": "Inactive"},
        }
        return
    # A network-isolated workspace: reached through a private endpoint, outbound through an approved-only
    # managed network, its data encrypted with a key of its own key vault.
    pe_name = f"pe-{name}"
    props["privateEndpointConnections"] = [
        {
            "id": f"{rid}/privateEndpointConnections/{pe_name}.{_uuid(estate, rid, 'pe')}",
            "name": f"{pe_name}.{_uuid(estate, rid, 'pe')}",
            "type": f"{ML}/workspaces/privateEndpointConnections",
            "properties": {
                "privateEndpoint": {"id": f"{rg_id}/providers/Microsoft.Network/privateEndpoints/{pe_name}"},
                "privateLinkServiceConnectionState": {
                    "status": "Approved",
                    "description": "Auto-Approved",
                    "actionsRequired": "None",
                },
                "provisioningState": "Succeeded",
            },
        }
    ]
    rules: dict[str, Any] = {
        "__SYS_ST_AzureMachineLearning": {
            "type": "ServiceTag",
            "category": "Required",
            "status": "Active",
            "destination": {"serviceTag": "AzureMachineLearning", "protocol": "TCP", "portRanges": "443"},
        },
    }
    for key, sub in (("storageAccount", "blob"), ("keyVault", "vault"), ("containerRegistry", "registry")):
        target = props.get(key)
        if target:
            rules[f"__SYS_PE_{_name_of(target)}_{sub}"] = {
                "type": "PrivateEndpoint",
                "category": "Required",
                "status": "Active",
                "destination": {"serviceResourceId": target, "subresourceTarget": sub, "sparkEnabled": False},
            }
    rules["artifact-mirror"] = {
        "type": "FQDN",
        "category": "UserDefined",
        "status": "Active",
        "destination": _MIRROR_FQDN,
    }
    props["managedNetwork"] = {
        "isolationMode": "AllowOnlyApprovedOutbound",
        "networkId": _uuid(estate, rid, "managed-network"),
        "outboundRules": rules,
        "status": {"sparkReady": False, "status": "Active"},
    }
    vault = props.get("keyVault")
    if vault:
        props["encryption"] = {
            "status": "Enabled",
            "keyVaultProperties": {
                "keyVaultArmId": vault,
                "keyIdentifier": f"https://{_name_of(vault)}.vault.azure.net/keys/cmk-{name}/"
                + _digest(estate, rid, "cmk").hex()[:32],
                "identityClientId": "",
            },
        }


def _compute_identity(estate: Estate, ws: dict[str, Any], compute: dict[str, Any]) -> None:
    """In an isolated workspace computes reach data as themselves (no keys): a system-assigned identity each."""
    if ws["properties"].get("publicNetworkAccess") != "Disabled" or compute.get("identity"):
        return
    if compute["properties"].get("computeType") in ("AmlCompute", "ComputeInstance"):
        compute["identity"] = {
            "type": "SystemAssigned",
            "principalId": _uuid(estate, compute["id"], "principal"),
            "tenantId": estate.tenant_id,
        }


def _compute_instance(estate: Estate, ws: dict[str, Any], compute: dict[str, Any]) -> None:
    """Data scientists outside production add RStudio to their instances as a custom application."""
    if ws["properties"].get("publicNetworkAccess") == "Disabled":
        return
    inner = compute["properties"].get("properties") or {}
    if inner.get("customServices"):
        return
    registry = _name_of(ws["properties"].get("containerRegistry") or "registry")
    inner["customServices"] = [
        {
            "name": "rstudio",
            "image": {"type": "docker", "reference": f"{registry}.azurecr.io/rstudio/rocker-ml-verse:4.4"},
            "docker": {"privileged": True},
            "environmentVariables": {"RSTUDIO_WHICH_R": {"type": "local", "value": "/usr/local/bin/R"}},
            "volumes": [
                {
                    "type": "bind",
                    "readOnly": False,
                    "source": "/home/azureuser/cloudfiles",
                    "target": "/home/azureuser/cloudfiles",
                }
            ],
            "endpoints": [{"name": "connect", "target": 8787, "published": 8787, "protocol": "http"}],
        }
    ]
    apps = inner.get("applications")
    if isinstance(apps, list) and apps:
        host = apps[0]["endpointUri"].split("/")[2]
        apps.append({"displayName": "rstudio", "endpointUri": f"https://{host}/rstudio"})


def _endpoint(estate: Estate, endpoint: dict[str, Any]) -> None:
    endpoint.setdefault("sku", {"name": "Default", "tier": "Standard"})
    if endpoint["type"] == ONLINE_ENDPOINT:
        props = endpoint["properties"].setdefault("properties", {})
        props.setdefault("azureml.onlineendpointid", endpoint["id"].lower())
        props.setdefault("createdBy", endpoint["systemData"]["createdBy"])


def _deployment(estate: Estate, deployment: dict[str, Any]) -> None:
    """A deployment runs as its endpoint's identity; a batch deployment's sku counts its instances."""
    endpoint = estate.get(deployment["id"].rsplit("/deployments/", 1)[0])
    identity = (endpoint or {}).get("identity")
    if identity and "identity" not in deployment:
        deployment["identity"] = dict(identity)
    if deployment["type"] == BATCH_DEPLOYMENT and "sku" not in deployment:
        count = (deployment["properties"].get("resources") or {}).get("instanceCount") or 1
        deployment["sku"] = {"name": "Default", "tier": "Standard", "capacity": count}


def populate(estate: Estate) -> None:
    workspaces = {w["id"].lower(): w for w in estate.workspaces()}
    for ws in workspaces.values():
        _workspace(estate, ws)
    for compute in list(estate.of_type(COMPUTE)):
        owner = workspaces.get(compute["id"].rsplit("/computes/", 1)[0].lower())
        if owner is None:
            continue
        _compute_identity(estate, owner, compute)
        if compute["properties"].get("computeType") == "ComputeInstance":
            _compute_instance(estate, owner, compute)
    for kind in (ONLINE_ENDPOINT, BATCH_ENDPOINT):
        for endpoint in list(estate.of_type(kind)):
            _endpoint(estate, endpoint)
    for kind in (ONLINE_DEPLOYMENT, BATCH_DEPLOYMENT):
        for deployment in list(estate.of_type(kind)):
            _deployment(estate, deployment)


def register(router: Any, emu: Any) -> None:
    """No routes: the blocks are served by the areas that own the resources."""
