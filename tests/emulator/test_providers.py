"""Provider metadata, api-version validation and ARM's errors, consistent across every route; with the real
azure-mgmt-resource clients and plain azure-core requests."""

from __future__ import annotations

import re
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient

from emulator import Emulator
from emulator.providers import NAMESPACES, resolve
from services.cloud import Cloud

ML = "Microsoft.MachineLearningServices"


@pytest.fixture(scope="module")
def rmc(emulator: Emulator, cloud: Cloud, credential: Any) -> ResourceManagementClient:
    return ResourceManagementClient(
        credential, emulator.subscription_ids[0], base_url=emulator.endpoint, connection_verify=emulator.ca_file
    )


def _send(rmc: ResourceManagementClient, method: str, url: str) -> Any:
    return rmc.send_request(HttpRequest(method, url))


def _workspace(emulator: Emulator) -> dict[str, Any]:
    return emulator.estate.workspaces()[0]


def test_provider_metadata_lists_types_api_versions_and_locations(emulator: Emulator, rmc: Any) -> None:
    provider = rmc.providers.get(ML)
    assert provider.namespace == ML and provider.registration_state == "Registered"
    types = {t.resource_type: t for t in provider.resource_types}
    assert {"workspaces", "workspaces/computes", "workspaces/jobs", "workspaces/onlineEndpoints"} <= set(types)
    assert types["workspaces"].api_versions[0] == "2025-12-01"
    for sent in ("2024-10-01-preview", "2023-08-01-preview", "2024-01-01-preview", "2022-02-01-preview"):
        assert sent in types["workspaces"].api_versions  # what azure-ai-ml sends
    assert "East US" in types["workspaces"].locations
    listed = {p.namespace for p in rmc.providers.list()}
    assert {ML, "Microsoft.Resources", "Microsoft.ResourceGraph", "Microsoft.Insights"} <= listed
    tenant_level = rmc.providers.get_at_tenant_scope(ML)
    assert tenant_level.id == f"/providers/{ML}"


def test_operations_list_shape(rmc: Any) -> None:
    resp = _send(rmc, "GET", f"/providers/{ML}/operations?api-version=2025-12-01")
    assert resp.status_code == 200
    ops = resp.json()["value"]
    names = {o["name"] for o in ops}
    assert f"{ML}/workspaces/read" in names and f"{ML}/workspaces/computes/start/action" in names
    assert all(set(o["display"]) == {"provider", "resource", "operation", "description"} for o in ops)
    assert {o["origin"] for o in ops} == {"user,system"} and not any(o["isDataAction"] for o in ops)


def test_az_resource_show_picks_an_api_version_from_the_provider(emulator: Emulator, rmc: Any) -> None:
    """What `az resource show --ids` does: read the provider, take the newest non-preview version, GET."""
    ws = _workspace(emulator)
    compute = next(r for r in emulator.estate.resources.values() if r.get("type") == f"{ML}/workspaces/computes")
    for resource in (ws, compute):
        namespace, type_path = resource["type"].split("/", 1)
        provider = rmc.providers.get(namespace)
        versions = next(t.api_versions for t in provider.resource_types if t.resource_type.lower() == type_path.lower())
        version = next(v for v in versions if "preview" not in v)
        got = rmc.resources.get_by_id(resource["id"], api_version=version)
        assert got.id.lower() == resource["id"].lower()


def test_missing_and_unknown_api_versions_are_refused_as_arm_does(emulator: Emulator, rmc: Any) -> None:
    ws = _workspace(emulator)["id"]
    resp = _send(rmc, "GET", ws)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "MissingApiVersionParameter"
    assert (
        resp.json()["error"]["message"]
        == "The api-version query parameter (?api-version=) is required for all requests."
    )
    resp = _send(rmc, "GET", ws + "?api-version=1999-01-01")
    error = resp.json()["error"]
    assert resp.status_code == 400 and error["code"] == "NoRegisteredProviderFound"
    assert re.match(
        r"No registered resource provider found for location '\w+' and API version '1999-01-01' for type "
        r"'workspaces'\. The supported api-versions are '2025-12-01, .*'\. The supported locations are '.*eastus.*'\.",
        error["message"],
    )
    resp = _send(rmc, "GET", "/subscriptions?api-version=1999-01-01")
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert (
        "The api-version '1999-01-01' is invalid. The supported versions are '2025-04-01,"
        in resp.json()["error"]["message"]
    )
    with pytest.raises(HttpResponseError) as exc:
        rmc.resources.get_by_id(ws, api_version="2010-01-01")
    assert exc.value.status_code == 400 and exc.value.error is not None
    assert exc.value.error.code == "NoRegisteredProviderFound"


def test_every_arm_route_has_its_type_in_the_provider_table(emulator: Emulator) -> None:
    """One table for metadata and validation: every ARM route the emulator serves resolves to a type in it."""
    missing = []
    for route in emulator.router.routes:
        path = re.sub(r"\{(\w+)\}", lambda m: "x" if m.group(1) != "ns" else ML, route.pattern)
        if not path.lower().startswith(("/subscriptions", "/providers", "/tenants")) or ":" in path:
            continue  # sign-in, run history, Log Analytics, scoring, the metrics data plane
        if resolve(path) is None:
            missing.append(f"{route.method} {route.pattern}")
    assert not missing, "routes whose resource type is not in emulator.providers.NAMESPACES: " + ", ".join(missing)
    assert all(t.api_versions for ns in NAMESPACES.values() for t in ns.types)


# -- ARM's errors, the same on every route -----------------------------------------------------------


def test_lists_in_a_missing_resource_group_are_resource_group_not_found(emulator: Emulator, rmc: Any) -> None:
    sub = emulator.subscription_ids[0]
    rg = f"/subscriptions/{sub}/resourceGroups/rg-does-not-exist"
    for path in (
        f"{rg}/providers/Microsoft.OperationalInsights/workspaces?api-version=2022-10-01",
        f"{rg}/providers/{ML}/workspaces?api-version=2024-10-01",
        f"{rg}/providers/{ML}/workspaces/mlw-prod-eus/computes?api-version=2024-10-01",
        f"{rg}/providers/{ML}/workspaces/mlw-prod-eus/jobs?api-version=2024-01-01-preview",
        f"{rg}/resources?api-version=2025-04-01",
    ):
        resp = _send(rmc, "GET", path)
        assert resp.status_code == 404, path
        assert resp.json()["error"] == {
            "code": "ResourceGroupNotFound",
            "message": "Resource group 'rg-does-not-exist' could not be found.",
        }, path


def test_an_unknown_subscription_is_subscription_not_found_everywhere(rmc: Any) -> None:
    sub = "00000000-0000-4000-8000-000000000000"
    for path in (
        f"/subscriptions/{sub}/providers?api-version=2025-04-01",
        f"/subscriptions/{sub}/providers/Microsoft.OperationalInsights/workspaces?api-version=2022-10-01",
        f"/subscriptions/{sub}/providers/{ML}/locations/eastus/usages?api-version=2024-10-01",
        f"/subscriptions/{sub}/resourceGroups/rg-prod-eus/providers/{ML}/workspaces/mlw-prod-eus/computes"
        "?api-version=2024-10-01",
    ):
        resp = _send(rmc, "GET", path)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "SubscriptionNotFound", path
        assert resp.json()["error"]["message"] == f"The subscription '{sub}' could not be found."


def test_children_of_a_missing_workspace_are_resource_not_found_in_arms_words(emulator: Emulator, rmc: Any) -> None:
    ws = _workspace(emulator)
    rg = ws["id"].split("/")[4]
    missing = ws["id"] + "-gone"
    for child in ("/computes", "/jobs", "/datastores", "/onlineEndpoints", "/batchEndpoints"):
        resp = _send(rmc, "GET", missing + child + "?api-version=2024-10-01")
        assert resp.status_code == 404, child
        assert resp.json()["error"] == {
            "code": "ResourceNotFound",
            "message": f"The Resource '{ML}/workspaces/{ws['name']}-gone' under resource group '{rg}' was not "
            "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        }, child
    with pytest.raises(ResourceNotFoundError):
        rmc.resources.get_by_id(missing, api_version="2025-12-01")


def test_a_forbidden_request_answers_authorization_failed_naming_action_and_scope(fresh_emulator: Emulator) -> None:
    from emulator.faults import parse_faults

    fresh_emulator.faults.add(parse_faults("/computes/[^/]+/start$:403:times=1")[0])
    cred = fresh_emulator.credential()
    client = ResourceManagementClient(
        cred,
        fresh_emulator.subscription_ids[0],
        base_url=fresh_emulator.endpoint,
        connection_verify=fresh_emulator.ca_file,
    )
    compute = next(r for r in fresh_emulator.estate.resources.values() if r.get("type") == f"{ML}/workspaces/computes")
    resp = _send(client, "POST", compute["id"] + "/start?api-version=2024-10-01")
    assert resp.status_code == 403
    error = resp.json()["error"]
    assert error["code"] == "AuthorizationFailed"
    assert error["message"] == (
        f"The client '{cred.upn}' with object id '{cred.object_id}' does not have authorization to perform "
        f"action '{ML}/workspaces/computes/start/action' over scope '{compute['id']}' or the scope is invalid. If "
        "access was recently granted, please refresh your credentials."
    )
