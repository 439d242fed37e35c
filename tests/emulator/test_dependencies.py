"""The resources a workspace names in its properties exist as ARM resources: storage accounts through
azure-mgmt-storage (a client the product does not use), the others through the product's own ARM and
Resource Graph clients; the workspace's listKeys and connections from the ML spec."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
from azure.mgmt.storage import StorageManagementClient

from emulator import Emulator, EmulatorConfig
from services import clients
from services.cloud import Cloud
from services.rest import RestClient

DEPENDENCY_TYPES = {
    "storageAccount": "Microsoft.Storage/storageAccounts",
    "keyVault": "Microsoft.KeyVault/vaults",
    "containerRegistry": "Microsoft.ContainerRegistry/registries",
    "applicationInsights": "Microsoft.Insights/components",
}
# Each type's api-version from its spec (ARM refuses one a type does not support)
API_VERSIONS = {
    "Microsoft.Storage/storageAccounts": "2024-01-01",
    "Microsoft.KeyVault/vaults": "2023-07-01",
    "Microsoft.ContainerRegistry/registries": "2023-07-01",
    "Microsoft.Insights/components": "2020-02-02",
}
LA = "Microsoft.OperationalInsights/workspaces"


def _storage_ids(emulator: Emulator, sub: str, rg: str | None = None) -> set[str]:
    """The storage accounts expected in a subscription (or one of its groups): each workspace's own and the
    accounts its blob, file and ADLS Gen2 datastores point at, in the workspace's group."""
    out = set()
    for w in emulator.estate.workspaces():
        wsub, wrg, _ = _parts(w["id"])
        if wsub != sub or (rg is not None and wrg != rg):
            continue
        out.add(w["properties"]["storageAccount"])
        group = w["id"].split("/providers/")[0]
        for ds in emulator.estate.children(w["id"], "datastores"):
            account = ds["properties"].get("accountName")
            if account and account not in {_parts(i)[2] for i in out}:
                out.add(f"{group}/providers/Microsoft.Storage/storageAccounts/{account}")
    return out


def _parts(rid: str) -> tuple[str, str, str]:
    p = rid.split("/")
    return p[2], p[4], p[-1]


def _storage(emu: Emulator, sub: str) -> StorageManagementClient:
    return StorageManagementClient(emu.credential(), sub, base_url=emu.endpoint, connection_verify=emu.ca_file)


def _log_analytics_id(rest: RestClient, ws: dict[str, Any]) -> str:
    diag = rest.get(ws["id"] + "/providers/Microsoft.Insights/diagnosticSettings", "2021-05-01-preview")
    return str(diag["value"][0]["properties"]["workspaceId"])


def test_storage_accounts_through_azure_mgmt_storage(emulator: Emulator) -> None:
    for ws in emulator.estate.workspaces():
        sub, rg, _ = _parts(ws["id"])
        account_id = ws["properties"]["storageAccount"]
        client = _storage(emulator, sub)
        listed = list(client.storage_accounts.list_by_resource_group(rg))
        assert {a.id for a in listed} == _storage_ids(emulator, sub, rg) and account_id in {a.id for a in listed}
        for ds in emulator.estate.children(ws["id"], "datastores"):  # a lake's account has its namespace on
            if ds["properties"]["datastoreType"] == "AzureDataLakeGen2":
                lake = client.storage_accounts.get_properties(rg, ds["properties"]["accountName"])
                assert lake.is_hns_enabled is True and lake.primary_endpoints.dfs
        account = client.storage_accounts.get_properties(rg, _parts(account_id)[2])
        assert account.kind == "StorageV2" and account.sku.name.startswith("Standard_")
        assert account.is_hns_enabled is False and account.provisioning_state == "Succeeded"
        assert account.primary_endpoints.blob == f"https://{account.name}.blob.core.windows.net/"
        assert account.primary_endpoints.dfs == f"https://{account.name}.dfs.core.windows.net/"
        assert account.location == ws["location"]
        keys = client.storage_accounts.list_keys(rg, account.name).keys_property
        assert [k.key_name for k in keys] == ["key1", "key2"]
        assert len({k.value for k in keys}) == 2 and all(len(k.value) == 88 for k in keys)
        in_sub = {a.id for a in client.storage_accounts.list()}
        assert account_id in in_sub
        assert in_sub == _storage_ids(emulator, sub)
    client = _storage(emulator, emulator.subscription_ids[0])
    with pytest.raises(ResourceNotFoundError) as err:
        list(client.storage_accounts.list_by_resource_group("rg-nope"))
    assert "ResourceGroupNotFound" in str(err.value)
    with pytest.raises(ResourceNotFoundError):
        client.storage_accounts.get_properties(_parts(ws["id"])[1], "stnope")


def test_keys_are_deterministic_from_the_seed_and_absent_from_reads(
    emulator: Emulator, cloud: Cloud, credential: Any
) -> None:
    ws = emulator.estate.workspaces()[0]
    sub, rg, _ = _parts(ws["id"])
    name = _parts(ws["properties"]["storageAccount"])[2]
    first = [k.value for k in _storage(emulator, sub).storage_accounts.list_keys(rg, name).keys_property]
    with Emulator(EmulatorConfig(seed=7, scale="small", frozen=True)) as again:
        same = [k.value for k in _storage(again, sub).storage_accounts.list_keys(rg, name).keys_property]
    with Emulator(EmulatorConfig(seed=8, scale="small", frozen=True)) as other:
        ws8 = other.estate.workspaces()[0]
        s8, r8, _ = _parts(ws8["id"])
        n8 = _parts(ws8["properties"]["storageAccount"])[2]
        different = [k.value for k in _storage(other, s8).storage_accounts.list_keys(r8, n8).keys_property]
    assert first == same and set(first).isdisjoint(different)
    rest = RestClient(cloud, credential)
    plain = str(rest.get(ws["properties"]["storageAccount"], "2024-01-01"))
    listing = str(rest.get(f"/subscriptions/{sub}/resourceGroups/{rg}/resources", "2025-04-01"))
    assert not any(k in plain or k in listing for k in first)


def test_every_dependency_has_its_arm_get_and_lists(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    rest = RestClient(cloud, credential)
    for ws in emulator.estate.workspaces():
        sub, rg, _ = _parts(ws["id"])
        for key, rtype in DEPENDENCY_TYPES.items():
            rid = ws["properties"][key]
            api = API_VERSIONS[rtype]
            body = rest.get(rid, api)
            assert body["id"] == rid and body["type"] == rtype and body["location"] == ws["location"]
            in_group = rest.get(f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{rtype}", api)["value"]
            if rtype == "Microsoft.Storage/storageAccounts":  # the datastores' accounts are there too
                assert {r["id"] for r in in_group} == _storage_ids(emulator, sub, rg)
            else:
                assert [r["id"] for r in in_group] == [rid]
            in_sub = rest.get(f"/subscriptions/{sub}/providers/{rtype}", api)["value"]
            assert rid in {r["id"] for r in in_sub}
        vault = rest.get(ws["properties"]["keyVault"], "2023-07-01")["properties"]
        assert vault["vaultUri"].startswith("https://kv-") and vault["tenantId"] == emulator.tenant_id
        assert vault["accessPolicies"][0]["objectId"] == ws["identity"]["principalId"]
        registry = rest.get(ws["properties"]["containerRegistry"], "2023-07-01")
        assert registry["properties"]["loginServer"].endswith(".azurecr.io") and registry["sku"]["name"]
        component = rest.get(ws["properties"]["applicationInsights"], "2020-02-02")
        la_id = _log_analytics_id(rest, ws)
        assert component["kind"] == "web" and component["properties"]["WorkspaceResourceId"] == la_id
        la = rest.get(la_id, "2022-10-01")
        assert la["type"] == LA and la["properties"]["sku"]["name"] == "PerGB2018"
    with pytest.raises(Exception) as err:
        rest.get(f"/subscriptions/{sub}/resourceGroups/rg-nope/providers/Microsoft.KeyVault/vaults", "2023-07-01")
    assert "ResourceGroupNotFound" in str(err.value)


def test_dependencies_appear_in_the_generic_listing(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    rest = RestClient(cloud, credential)
    for ws in emulator.estate.workspaces():
        sub, rg, _ = _parts(ws["id"])
        listed = {
            r.id: r.type for r in clients.resource_client(cloud, credential, sub).resources.list_by_resource_group(rg)
        }
        for key, rtype in DEPENDENCY_TYPES.items():
            assert listed[ws["properties"][key]] == rtype
        assert listed[_log_analytics_id(rest, ws)] == LA
        assert listed[ws["id"]] == "Microsoft.MachineLearningServices/workspaces"
        everything = {r.id for r in clients.resource_client(cloud, credential, sub).resources.list()}
        assert ws["properties"]["storageAccount"] in everything


def test_dependencies_in_resource_graph_with_lower_cased_types(
    emulator: Emulator, cloud: Cloud, credential: Any
) -> None:
    graph = clients.graph_client(cloud, credential)
    kinds = [t.lower() for t in (*DEPENDENCY_TYPES.values(), LA)]
    request = QueryRequest(
        subscriptions=emulator.subscription_ids,
        query="resources | where type in~ ("
        + ", ".join(f"'{t}'" for t in kinds)
        + ") | project id, type, name, customerId = tostring(properties.customerId)",
        options=QueryRequestOptions(result_format="objectArray"),
    )
    rows = graph.resources(request).data
    by_id = {r["id"].lower(): r for r in rows}
    rest = RestClient(cloud, credential)
    for ws in emulator.estate.workspaces():
        for key, rtype in DEPENDENCY_TYPES.items():
            assert by_id[ws["properties"][key].lower()]["type"] == rtype.lower()
        la_id = _log_analytics_id(rest, ws)
        la = by_id[la_id.lower()]
        assert la["type"] == LA.lower()
        assert la["customerId"] == rest.get(la_id, "2022-10-01")["properties"]["customerId"]
    assert {r["type"] for r in rows} == set(kinds)


def test_workspace_list_keys_and_connections(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    rest = RestClient(cloud, credential)
    ws = emulator.estate.workspaces()[0]
    sub, rg, _ = _parts(ws["id"])
    keys = rest.post(ws["id"] + "/listKeys", "2025-12-01")
    account = _parts(ws["properties"]["storageAccount"])[2]
    storage_keys = _storage(emulator, sub).storage_accounts.list_keys(rg, account).keys_property
    assert keys["userStorageArmId"] == ws["properties"]["storageAccount"]
    assert keys["userStorageKey"] == storage_keys[0].value
    component = rest.get(ws["properties"]["applicationInsights"], "2020-02-02")
    assert keys["appInsightsInstrumentationKey"] == component["properties"]["InstrumentationKey"]
    registry = rest.get(ws["properties"]["containerRegistry"], "2023-07-01")
    creds = keys["containerRegistryCredentials"]
    assert creds["username"] == registry["name"] and [p["name"] for p in creds["passwords"]] == [
        "password",
        "password2",
    ]
    assert set(keys["notebookAccessKeys"]) == {"primaryAccessKey", "secondaryAccessKey"}

    listed = rest.get(ws["id"] + "/connections", "2025-12-01")["value"]
    assert {c["properties"]["category"] for c in listed} == {"ContainerRegistry", "AzureBlob"}
    for c in listed:
        assert c["type"] == "Microsoft.MachineLearningServices/workspaces/connections"
        assert c["id"] == f"{ws['id']}/connections/{c['name']}"
        assert rest.get(c["id"], "2025-12-01") == c
    acr = next(c for c in listed if c["properties"]["category"] == "ContainerRegistry")
    assert acr["properties"]["target"] == registry["properties"]["loginServer"]
    only = rest.get(ws["id"] + "/connections", "2025-12-01", category="AzureBlob")["value"]
    assert [c["properties"]["category"] for c in only] == ["AzureBlob"]
    with pytest.raises(Exception) as err:
        rest.get(ws["id"] + "/connections/nope", "2025-12-01")
    assert "ResourceNotFound" in str(err.value)
