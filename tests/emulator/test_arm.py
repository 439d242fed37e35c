"""ARM through the real SDK clients: tenants, subscriptions, locations, resource groups, resource lists."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest

from emulator import Emulator
from emulator.areas.arm import is_top_level
from services import clients
from services.cloud import Cloud

WORKSPACE_TYPE = "Microsoft.MachineLearningServices/workspaces"


@pytest.fixture(scope="module")
def subs(cloud: Cloud, credential: Any) -> Any:
    return clients.subscription_client(cloud, credential)


def rc(cloud: Cloud, credential: Any, sub: str) -> Any:
    return clients.resource_client(cloud, credential, sub)


def groups_of(emulator: Emulator, sub: str) -> dict[str, dict[str, Any]]:
    prefix = f"/subscriptions/{sub}/resourcegroups/".lower()
    return {g["name"]: g for k, g in emulator.estate.resource_groups.items() if k.startswith(prefix)}


# -- subscriptions and tenants ---------------------------------------------------------------------


def test_subscriptions_list_has_every_subscription_with_display_names(emulator: Emulator, subs: Any) -> None:
    listed = {s.subscription_id: s for s in subs.subscriptions.list()}
    assert set(listed) == set(emulator.subscription_ids)
    assert len(listed) == len(emulator.estate.subscriptions) >= 2
    for s in emulator.estate.subscriptions:
        got = listed[s["subscriptionId"]]
        assert got.display_name == s["displayName"]
        assert got.id == f"/subscriptions/{s['subscriptionId']}"
        assert got.tenant_id == emulator.tenant_id
        assert got.state == "Enabled"
        assert got.subscription_policies.spending_limit == "Off"
    assert {s.display_name for s in listed.values()} >= {"Contoso ML Production", "Contoso ML Development"}


def test_subscription_get_and_unknown_subscription(emulator: Emulator, subs: Any) -> None:
    sub = emulator.subscription_ids[1]
    got = subs.subscriptions.get(sub)
    assert got.subscription_id == sub
    assert got.display_name == emulator.estate.subscription(sub)["displayName"]  # type: ignore[index]
    with pytest.raises(ResourceNotFoundError) as info:
        subs.subscriptions.get("00000000-0000-0000-0000-000000000000")
    assert info.value.status_code == 404
    assert info.value.error is not None and info.value.error.code == "SubscriptionNotFound"


def test_list_locations_covers_workspace_regions(emulator: Emulator, subs: Any) -> None:
    sub = emulator.subscription_ids[0]
    locations = {loc.name: loc for loc in subs.subscriptions.list_locations(sub)}
    regions = {w["location"] for w in emulator.estate.workspaces()}
    assert regions and regions <= set(locations)
    east = locations["eastus"]
    assert east.display_name == "East US"
    assert east.regional_display_name == "(US) East US"
    assert east.id == f"/subscriptions/{sub}/locations/eastus"
    assert east.metadata.paired_region[0].name == "westus"
    assert sorted(z.logical_zone for z in east.availability_zone_mappings) == ["1", "2", "3"]
    for loc in locations.values():  # every paired region is itself listed
        assert all(p.name in locations for p in loc.metadata.paired_region)
    with pytest.raises(ResourceNotFoundError):
        list(subs.subscriptions.list_locations("00000000-0000-0000-0000-000000000000"))


def test_tenants_list(emulator: Emulator, subs: Any) -> None:
    tenants = list(subs.tenants.list())
    assert [t.tenant_id for t in tenants] == [emulator.tenant_id]
    assert tenants[0].id == f"/tenants/{emulator.tenant_id}"
    assert tenants[0].tenant_category == "Home"
    assert tenants[0].default_domain in tenants[0].domains


def test_supported_api_versions_are_accepted_and_others_refused(emulator: Emulator, subs: Any) -> None:
    for version in ("2016-06-01", "2022-12-01"):
        resp = subs.send_request(HttpRequest("GET", f"/subscriptions?api-version={version}"))
        assert resp.status_code == 200
        assert {s["subscriptionId"] for s in resp.json()["value"]} == set(emulator.subscription_ids)
    resp = subs.send_request(HttpRequest("GET", "/subscriptions?api-version=2099-01-01-preview"))
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidApiVersionParameter"


# -- resource groups -------------------------------------------------------------------------------


def test_resource_groups_list_per_subscription(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    seen = 0
    for sub in emulator.subscription_ids:
        expected = groups_of(emulator, sub)
        listed = {g.name: g for g in rc(cloud, credential, sub).resource_groups.list()}
        assert set(listed) == set(expected)
        for name, g in listed.items():
            assert g.location == expected[name]["location"]
            assert g.tags == expected[name]["tags"]
            assert g.properties.provisioning_state == "Succeeded"
            assert g.type == "Microsoft.Resources/resourceGroups"
        seen += len(listed)
    assert seen == len(emulator.estate.resource_groups) > 0


def test_resource_groups_paging_follows_next_link(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    sub = emulator.subscription_ids[0]
    names = [g.name for g in rc(cloud, credential, sub).resource_groups.list(top=1)]
    assert sorted(names) == sorted(groups_of(emulator, sub))
    assert len(names) == len(set(names)) >= 2


def test_resource_group_tag_filter(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    client = rc(cloud, credential, emulator.subscription_ids[0])
    production = {
        n
        for n, g in groups_of(emulator, emulator.subscription_ids[0]).items()
        if g["tags"].get("purpose") == "production"
    }
    got = {g.name for g in client.resource_groups.list(filter="tagName eq 'purpose' and tagValue eq 'production'")}
    assert got == production and got
    assert list(client.resource_groups.list(filter="tagName eq 'purpose' and tagValue eq 'nothing'")) == []
    with pytest.raises(HttpResponseError) as info:
        list(client.resource_groups.list(filter="purpose is production"))
    assert info.value.status_code == 400


def test_resource_group_get_exists_and_404(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    ws = emulator.estate.workspaces()[0]
    sub, rg = ws["id"].split("/")[2], ws["id"].split("/")[4]
    client = rc(cloud, credential, sub)
    got = client.resource_groups.get(rg)
    assert got.name == rg
    assert got.id.lower() == f"/subscriptions/{sub}/resourcegroups/{rg}".lower()
    assert client.resource_groups.get(rg.upper()).name == rg  # ARM names are case-insensitive
    assert client.resource_groups.check_existence(rg) is True
    assert client.resource_groups.check_existence("rg-does-not-exist") is False
    with pytest.raises(ResourceNotFoundError) as info:
        client.resource_groups.get("rg-does-not-exist")
    assert info.value.error is not None and info.value.error.code == "ResourceGroupNotFound"
    assert "rg-does-not-exist" in str(info.value)
    missing = rc(cloud, credential, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(ResourceNotFoundError) as info:
        missing.resource_groups.get(rg)
    assert info.value.error is not None and info.value.error.code == "SubscriptionNotFound"


# -- resources ---------------------------------------------------------------------------------------


def top_level_in(emulator: Emulator, prefix: str) -> set[str]:
    with emulator.estate.lock:
        return {
            r["id"].lower()
            for k, r in emulator.estate.resources.items()
            if k.startswith(prefix.lower()) and is_top_level(r["id"])
        }


def test_list_by_resource_group_lists_top_level_resources_only(
    emulator: Emulator, cloud: Cloud, credential: Any
) -> None:
    total = 0
    for ws in emulator.estate.workspaces():
        sub, rg = ws["id"].split("/")[2], ws["id"].split("/")[4]
        listed = list(rc(cloud, credential, sub).resources.list_by_resource_group(rg))
        ids = {r.id.lower() for r in listed}
        assert ws["id"].lower() in ids
        assert ids == top_level_in(emulator, f"/subscriptions/{sub}/resourceGroups/{rg}/")
        for r in listed:
            tail = r.id.split("/providers/", 1)[1].split("/")
            assert len(tail) == 3, r.id  # namespace/type/name: no computes, datastores or endpoints
        total += len(listed)
    assert total >= len(emulator.estate.workspaces()) > 0
    with pytest.raises(ResourceNotFoundError):
        list(rc(cloud, credential, emulator.subscription_ids[0]).resources.list_by_resource_group("rg-nope"))


def test_resources_list_with_type_filter_and_expand(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    for sub in emulator.subscription_ids:
        client = rc(cloud, credential, sub)
        everything = {r.id.lower() for r in client.resources.list()}
        assert everything == top_level_in(emulator, f"/subscriptions/{sub}/")
        expected = {w["id"].lower() for w in emulator.estate.workspaces() if w["id"].split("/")[2] == sub}
        listed = list(
            client.resources.list(
                filter=f"resourceType eq '{WORKSPACE_TYPE.lower()}'", expand="createdTime,changedTime,provisioningState"
            )
        )
        assert {r.id.lower() for r in listed} == expected and expected
        for r in listed:
            assert r.type == WORKSPACE_TYPE
            assert r.location and r.kind == "Default" and r.sku.name == "Basic"
            assert r.identity.type == "SystemAssigned"
            assert r.created_time is not None and r.provisioning_state == "Succeeded"
        name = listed[0].name
        by_name = list(client.resources.list(filter=f"resourceType eq '{WORKSPACE_TYPE}' and name eq '{name}'"))
        assert [r.name for r in by_name] == [name]
        sub_of = list(client.resources.list(filter=f"substringof('{name[4:9]}', name)"))
        assert name in {r.name for r in sub_of}
        assert list(client.resources.list(filter="resourceType eq 'Microsoft.Compute/virtualMachines'")) == []
    with pytest.raises(HttpResponseError) as info:
        list(rc(cloud, credential, emulator.subscription_ids[0]).resources.list(filter="resourceType gt 'x'"))
    assert info.value.status_code == 400
    assert info.value.error is not None and info.value.error.code == "InvalidFilterInQueryString"


def test_resources_list_page_size(emulator: Emulator, cloud: Cloud, credential: Any) -> None:
    sub = emulator.subscription_ids[0]
    client = rc(cloud, credential, sub)
    pages = list(client.resources.list(top=1).by_page())
    ids = [r.id for p in pages for r in p]
    assert len(pages) == len(ids) == len(set(ids)) == len(top_level_in(emulator, f"/subscriptions/{sub}/")) >= 2


def test_is_top_level() -> None:
    base = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
    assert is_top_level(base)
    assert not is_top_level(base + "/computes/c")
    assert not is_top_level(base + "/onlineEndpoints/e/deployments/d")
    assert not is_top_level("/subscriptions/s/resourceGroups/rg")
