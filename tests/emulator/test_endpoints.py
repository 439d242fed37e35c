"""Online and batch endpoints through the real azure-ai-ml SDK (and raw REST where the SDK has no call)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.ai.ml.entities import (
    BatchEndpoint,
    BatchRetrySettings,
    EndpointAuthKeys,
    EndpointAuthToken,
    KubernetesOnlineEndpoint,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    ModelBatchDeployment,
    ModelBatchDeploymentSettings,
    ResourceConfiguration,
    TargetUtilizationScaleSettings,
)
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from emulator import Emulator, EmulatorConfig
from emulator.areas.endpoints_model import ONLINE_DEPLOYMENT_TYPE, ONLINE_ENDPOINT_TYPE

PROD = "mlw-prod-eus"
PROD2 = "mlw-prod-weu"
DEV = "mlw-dev-eus2"
SKLEARN_ENV = "azureml://registries/azureml/environments/sklearn-1.5/versions/14"


def _ws(workspaces: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(w for w in workspaces if w["name"] == name)


def _ws_of(emu: Emulator, name: str) -> dict[str, Any]:
    w = next(w for w in emu.estate.workspaces() if w["name"] == name)
    parts = w["id"].split("/")
    return {"subscription": parts[2], "resource_group": parts[4], "name": w["name"], "id": w["id"]}


def _rest(emu: Emulator, method: str, path: str, body: Any = None) -> requests.Response:
    token = emu.credential().get_token("https://management.azure.com/.default").token
    url = path if path.startswith("https://") else f"{emu.endpoint}{path}"
    sep = "&" if "?" in url else "?"
    if "api-version" not in url:
        url += f"{sep}api-version=2025-12-01"
    return requests.request(
        method, url, json=body, headers={"Authorization": f"Bearer {token}"}, verify=emu.ca_file, timeout=10
    )


_HTTP = requests.Session()  # keep-alive: the routing test sends dozens of requests


def _score(emu: Emulator, uri: str, payload: bytes, key: str | None, **headers: str) -> requests.Response:
    hdrs = {"Content-Type": "application/json", **headers}
    if key is not None:
        hdrs["Authorization"] = f"Bearer {key}"
    return _HTTP.post(uri, data=payload, headers=hdrs, verify=emu.ca_file, timeout=10)


def _request_file(tmp_path: Path, rows: list[list[float]]) -> str:
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"data": rows}))
    return str(path)


# -- reading the generated estate ----------------------------------------------------------------


def test_online_endpoints_list_and_get(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator
) -> None:
    ml = ml_client(_ws(workspaces, PROD))
    endpoints = {e.name: e for e in ml.online_endpoints.list()}
    assert set(endpoints) == {"churn-scoring-prod-eus", "fraud-detect-prod-eus", "llm-summarize-prod-eus"}
    churn = endpoints["churn-scoring-prod-eus"]
    assert isinstance(churn, ManagedOnlineEndpoint)
    assert churn.auth_mode == "key"
    assert churn.traffic == {"blue": 90, "green": 10}
    assert churn.provisioning_state == "Succeeded"
    assert churn.scoring_uri == f"{emulator.endpoint}/score/eastus/churn-scoring-prod-eus/score"
    assert str(churn.openapi_uri).endswith("/swagger.json")
    assert churn.identity is not None and churn.identity.type == "system_assigned"
    fraud = ml.online_endpoints.get("fraud-detect-prod-eus")
    assert fraud.auth_mode == "aml_token"
    assert fraud.traffic == {"blue": 100}
    assert fraud.mirror_traffic == {"shadow": 20}
    # get() lists deployments too: ones without live or mirrored traffic show 0.
    llm = ml.online_endpoints.get("llm-summarize-prod-eus")
    assert llm.traffic == {"main": 100, "canary": 0}


def test_most_workspaces_have_online_endpoints_and_one_is_kubernetes(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator
) -> None:
    with_online = [w for w in workspaces if list(ml_client(w).online_endpoints.list())]
    assert len(with_online) >= len(workspaces) - 1
    ml = ml_client(_ws(workspaces, PROD2))
    k8s = [e for e in ml.online_endpoints.list() if isinstance(e, KubernetesOnlineEndpoint)]
    assert [e.name for e in k8s] == ["recs-k8s-prod-weu"]
    compute = emulator.estate.get(str(k8s[0].compute))
    assert compute is not None and compute["properties"]["computeType"] == "Kubernetes"
    dep = ml.online_deployments.get("default", "recs-k8s-prod-weu")
    assert type(dep).__name__ == "KubernetesOnlineDeployment"
    assert isinstance(dep.scale_settings, TargetUtilizationScaleSettings)
    assert dep.scale_settings.min_instances <= dep.instance_count <= dep.scale_settings.max_instances


def test_online_deployments_list_and_get(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ml = ml_client(_ws(workspaces, PROD))
    deps = {d.name: d for d in ml.online_deployments.list("churn-scoring-prod-eus")}
    assert set(deps) == {"blue", "green"}
    blue = ml.online_deployments.get("blue", "churn-scoring-prod-eus")
    assert blue.instance_type == "Standard_DS3_v2"
    assert 2 <= blue.instance_count <= 4
    assert "/models/churn-model/versions/" in blue.model
    assert blue.environment == SKLEARN_ENV
    assert blue.provisioning_state == "Succeeded"
    assert type(blue.scale_settings).__name__ == "DefaultScaleSettings"
    assert blue.request_settings.request_timeout_ms == 5000
    assert blue.liveness_probe.period == 10
    assert blue.endpoint_name == "churn-scoring-prod-eus"
    gpu = ml.online_deployments.get("main", "llm-summarize-prod-eus")
    assert gpu.instance_type == "Standard_NC6s_v3" and gpu.instance_count == 2


def test_failed_deployment_points_at_its_failed_operation(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator
) -> None:
    ml = ml_client(_ws(workspaces, PROD))
    canary = ml.online_deployments.get("canary", "llm-summarize-prod-eus")
    assert canary.provisioning_state == "Failed"
    status = _rest(emulator, "GET", canary.properties["AzureAsyncOperationUri"]).json()
    assert status["status"] == "Failed"
    assert status["error"]["code"] == "ResourceNotReady"
    logs = ml.online_deployments.get_logs("canary", "llm-summarize-prod-eus", lines=50)
    assert "ModuleNotFoundError: No module named 'transformers'" in logs


def test_get_logs_tails_lines_per_container(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ml = ml_client(_ws(workspaces, PROD))
    server = ml.online_deployments.get_logs("blue", "churn-scoring-prod-eus", lines=5)
    assert len(server.splitlines()) == 5
    full = ml.online_deployments.get_logs("blue", "churn-scoring-prod-eus", lines=10_000)
    assert "Azure ML Inferencing HTTP server" in full
    assert "Users's init has completed successfully" in full
    assert full.splitlines()[-5:] == server.splitlines()
    init = ml.online_deployments.get_logs(
        "blue", "churn-scoring-prod-eus", lines=100, container_type="storage-initializer"
    )
    assert "Storage initializer completed successfully" in init
    assert "/azureml-models/churn-model/" in init
    assert init != full
    # The same request twice gives the same text (deterministic, frozen clock).
    assert ml.online_deployments.get_logs(
        "green", "churn-scoring-prod-eus", lines=20
    ) == ml.online_deployments.get_logs("green", "churn-scoring-prod-eus", lines=20)


def test_keys_and_tokens(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator) -> None:
    ml = ml_client(_ws(workspaces, PROD))
    keys = ml.online_endpoints.get_keys("churn-scoring-prod-eus")
    assert isinstance(keys, EndpointAuthKeys)
    assert len(str(keys.primary_key)) == 32 and len(str(keys.secondary_key)) == 32
    assert keys.primary_key != keys.secondary_key
    token = ml.online_endpoints.get_keys("fraud-detect-prod-eus")
    assert isinstance(token, EndpointAuthToken)
    assert token.access_token and token.expiry_time_utc > time.time()
    # listKeys is refused for a token endpoint, token for a key endpoint.
    ws = _ws(workspaces, PROD)
    base = (
        f"/subscriptions/{ws['subscription']}/resourceGroups/{ws['resource_group']}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{PROD}/onlineEndpoints"
    )
    assert _rest(emulator, "POST", f"{base}/fraud-detect-prod-eus/listKeys").status_code == 400
    assert _rest(emulator, "POST", f"{base}/churn-scoring-prod-eus/token").status_code == 400


def test_skus_and_swagger(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator) -> None:
    ws = _ws(workspaces, PROD)
    path = (
        f"/subscriptions/{ws['subscription']}/resourceGroups/{ws['resource_group']}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{PROD}/onlineEndpoints/churn-scoring-prod-eus/deployments/blue/skus"
    )
    skus = _rest(emulator, "GET", path).json()["value"]
    assert skus[0]["capacity"]["maximum"] == 20
    ml = ml_client(ws)
    ep = ml.online_endpoints.get("churn-scoring-prod-eus")
    key = ml.online_endpoints.get_keys(ep.name).primary_key
    doc = requests.get(ep.openapi_uri, headers={"Authorization": f"Bearer {key}"}, verify=emulator.ca_file, timeout=10)
    assert doc.status_code == 200 and "/score" in doc.json()["paths"]


# -- scoring ----------------------------------------------------------------------------------


def test_invoke_through_the_sdk(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], tmp_path: Path
) -> None:
    from azure.ai.ml.constants._endpoint import EndpointInvokeFields

    ml = ml_client(_ws(workspaces, PROD2))
    rows = [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.5, 0.0], [9.0, 9.0, 9.0, 9.0]]
    try:
        out = json.loads(
            ml.online_endpoints.invoke("churn-scoring-prod-weu", request_file=_request_file(tmp_path, rows))
        )
        assert len(out) == 3 and all(0.0 <= p <= 1.0 for p in out)
        green = json.loads(
            ml.online_endpoints.invoke(
                "churn-scoring-prod-weu", request_file=_request_file(tmp_path, rows), deployment_name="green"
            )
        )
        blue = json.loads(
            ml.online_endpoints.invoke(
                "churn-scoring-prod-weu", request_file=_request_file(tmp_path, rows), deployment_name="blue"
            )
        )
        assert green != blue  # different model versions
        assert out in (green, blue)
        # An AML-token endpoint: the SDK fetches a token from .../token and presents it.
        fraud = json.loads(
            ml.online_endpoints.invoke("fraud-detect-prod-weu", request_file=_request_file(tmp_path, rows))
        )
        assert len(fraud) == 3
    finally:
        # azure-ai-ml mutates this module-level dict in invoke(): the deployment header would stick.
        EndpointInvokeFields.DEFAULT_HEADER.pop(EndpointInvokeFields.MODEL_DEPLOYMENT, None)
        EndpointInvokeFields.DEFAULT_HEADER.pop(EndpointInvokeFields.AUTHORIZATION, None)


def test_scoring_auth_routing_and_errors(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator
) -> None:
    ml = ml_client(_ws(workspaces, PROD2))
    ep = ml.online_endpoints.get("churn-scoring-prod-weu")
    keys = ml.online_endpoints.get_keys(ep.name)
    payload = json.dumps({"data": [[1, 2, 3]]}).encode()
    assert _score(emulator, ep.scoring_uri, payload, None).status_code == 401
    assert _score(emulator, ep.scoring_uri, payload, "not-the-key").status_code == 401
    ok = _score(emulator, ep.scoring_uri, payload, keys.secondary_key)
    assert ok.status_code == 200
    assert ok.headers["azureml-model-deployment"] in ("blue", "green")
    assert ok.headers["x-ms-request-id"]
    # Routing follows traffic: ~90/10 over many distinct payloads, and is stable per payload.
    seen = [
        _score(emulator, ep.scoring_uri, json.dumps({"data": [[i, i + 1]]}).encode(), keys.primary_key).headers[
            "azureml-model-deployment"
        ]
        for i in range(60)
    ]
    assert 40 <= seen.count("blue") <= 59 and seen.count("green") >= 1
    again = _score(emulator, ep.scoring_uri, json.dumps({"data": [[7, 8]]}).encode(), keys.primary_key)
    assert again.headers["azureml-model-deployment"] == seen[7]
    pinned = _score(emulator, ep.scoring_uri, payload, keys.primary_key, **{"azureml-model-deployment": "green"})
    assert pinned.headers["azureml-model-deployment"] == "green"
    # The request shows in that deployment's inference-server log.
    tail = ml.online_deployments.get_logs("green", ep.name, lines=3)
    assert f"req={pinned.headers['x-ms-request-id']}" in tail
    assert (
        _score(emulator, ep.scoring_uri, payload, keys.primary_key, **{"azureml-model-deployment": "nope"}).status_code
        == 404
    )
    bad = _score(emulator, ep.scoring_uri, b"{not json", keys.primary_key)
    assert bad.status_code == 400
    assert _score(emulator, ep.scoring_uri, b'{"data": "x"}', keys.primary_key).status_code == 424
    # AML tokens are per endpoint: another endpoint's token is refused.
    token = ml.online_endpoints.get_keys("fraud-detect-prod-weu").access_token
    fraud = ml.online_endpoints.get("fraud-detect-prod-weu")
    assert _score(emulator, fraud.scoring_uri, payload, token).status_code == 200
    assert _score(emulator, ep.scoring_uri, payload, token).status_code == 401
    assert _score(emulator, fraud.scoring_uri, payload, keys.primary_key).status_code == 401


# -- mutations ----------------------------------------------------------------------------------


def test_create_endpoint_and_deployment_then_route_traffic(
    fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any], tmp_path: Path
) -> None:
    ws = _ws_of(fresh_emulator, DEV)
    ml = fresh_ml_client(ws)
    t0 = time.monotonic()
    ep = ml.online_endpoints.begin_create_or_update(
        ManagedOnlineEndpoint(name="ep-created-1", auth_mode="key", description="made by a test")
    ).result()
    assert time.monotonic() - t0 < 5
    assert ep.provisioning_state == "Succeeded" and ep.traffic == {}
    assert ep.scoring_uri.startswith(fresh_emulator.endpoint)
    model = f"{ws['id']}/models/churn-model/versions/3"
    t0 = time.monotonic()
    dep = ml.online_deployments.begin_create_or_update(
        ManagedOnlineDeployment(
            name="blue",
            endpoint_name="ep-created-1",
            model=model,
            environment=SKLEARN_ENV,
            instance_type="Standard_DS3_v2",
            instance_count=1,
        )
    ).result()
    assert time.monotonic() - t0 < 5
    assert dep.provisioning_state == "Succeeded"
    assert dep.model == model and dep.instance_count == 1
    # No traffic yet: scoring without a deployment header has nowhere to go.
    keys = ml.online_endpoints.get_keys("ep-created-1")
    uri = ml.online_endpoints.get("ep-created-1").scoring_uri
    assert _score(fresh_emulator, uri, b'{"data": [[1]]}', keys.primary_key).status_code == 404
    ep = ml.online_endpoints.get("ep-created-1")
    ep.traffic = {"blue": 100}
    ml.online_endpoints.begin_create_or_update(ep).result()
    assert ml.online_endpoints.get("ep-created-1").traffic == {"blue": 100}
    out = _score(fresh_emulator, uri, b'{"data": [[1, 2], [3, 4]]}', keys.primary_key)
    assert out.status_code == 200 and len(out.json()) == 2


def test_traffic_rules_are_enforced(fresh_ml_client: Callable[..., Any], fresh_emulator: Emulator) -> None:
    ml = fresh_ml_client(_ws_of(fresh_emulator, PROD))
    ep = ml.online_endpoints.get("churn-scoring-prod-eus")
    ep.traffic = {"blue": 80, "green": 10}
    with pytest.raises(HttpResponseError) as info:
        ml.online_endpoints.begin_create_or_update(ep)
    assert info.value.status_code == 400
    assert "sum to 90" in str(info.value)
    ep.traffic = {"blue": 50, "purple": 50}
    with pytest.raises(HttpResponseError) as info:
        ml.online_endpoints.begin_create_or_update(ep)
    assert "purple" in str(info.value)
    ep = ml.online_endpoints.get("fraud-detect-prod-eus")
    ep.mirror_traffic = {"shadow": 60}
    with pytest.raises(HttpResponseError, match="at most 50%"):
        ml.online_endpoints.begin_create_or_update(ep)
    ep.mirror_traffic = {"blue": 10}
    with pytest.raises(HttpResponseError, match="live or mirrored"):
        ml.online_endpoints.begin_create_or_update(ep)
    # Nothing changed.
    assert ml.online_endpoints.get("churn-scoring-prod-eus").traffic == {"blue": 90, "green": 10}
    assert ml.online_endpoints.get("fraud-detect-prod-eus").mirror_traffic == {"shadow": 20}
    # A valid change sticks: move the mirror percentage.
    ep = ml.online_endpoints.get("fraud-detect-prod-eus")
    ep.mirror_traffic = {"shadow": 50}
    ml.online_endpoints.begin_create_or_update(ep).result()
    assert ml.online_endpoints.get("fraud-detect-prod-eus").mirror_traffic == {"shadow": 50}


def test_patch_endpoint_traffic_and_paging(fresh_emulator: Emulator) -> None:
    ws = _ws_of(fresh_emulator, PROD)
    path = f"{ws['id']}/onlineEndpoints/churn-scoring-prod-eus"
    bad = _rest(fresh_emulator, "PATCH", path, {"properties": {"traffic": {"blue": 30, "green": 30}}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BadArgument"
    ok = _rest(
        fresh_emulator, "PATCH", path, {"properties": {"traffic": {"blue": 30, "green": 70}}, "tags": {"a": "b"}}
    )
    assert ok.status_code == 202 and ok.headers["Retry-After"] == "1"
    assert _rest(fresh_emulator, "GET", path).json()["properties"]["provisioningState"] == "Updating"
    fresh_emulator.clock.advance(1.1)  # the operation settles on the simulated clock
    got = _rest(fresh_emulator, "GET", path).json()
    assert got["properties"]["traffic"] == {"blue": 30, "green": 70}
    assert got["properties"]["provisioningState"] == "Succeeded" and got["tags"] == {"a": "b"}
    # Lists page with $top and follow nextLink.
    first = _rest(fresh_emulator, "GET", f"{ws['id']}/onlineEndpoints?$top=2").json()
    assert len(first["value"]) == 2 and "nextLink" in first
    rest = _rest(fresh_emulator, "GET", first["nextLink"]).json()
    names = [e["name"] for e in first["value"] + rest["value"]]
    assert names == ["churn-scoring-prod-eus", "fraud-detect-prod-eus", "llm-summarize-prod-eus"]
    # getLogs over REST: tail 0 is empty, a negative tail or unknown container is refused.
    logs = f"{path}/deployments/blue/getLogs"
    assert _rest(fresh_emulator, "POST", logs, {"tail": 0}).json() == {"content": ""}
    assert _rest(fresh_emulator, "POST", logs, {"tail": -1}).status_code == 400
    assert _rest(fresh_emulator, "POST", logs, {"containerType": "Sidecar"}).status_code == 400


def test_scale_instance_count(fresh_ml_client: Callable[..., Any], fresh_emulator: Emulator) -> None:
    ws = _ws_of(fresh_emulator, PROD)
    ml = fresh_ml_client(ws)
    dep = ml.online_deployments.get("green", "churn-scoring-prod-eus")
    dep.instance_count = 3
    poller = ml.online_deployments.begin_create_or_update(dep)
    raw = fresh_emulator.estate.get(f"{ws['id']}/onlineEndpoints/churn-scoring-prod-eus/deployments/green")
    assert raw is not None and raw["properties"]["provisioningState"] == "Updating"
    assert poller.result().instance_count == 3
    got = ml.online_deployments.get("green", "churn-scoring-prod-eus")
    assert got.instance_count == 3 and got.provisioning_state == "Succeeded"
    # PATCH with the sku, as the REST API allows; out-of-range counts are refused.
    path = f"{ws['id']}/onlineEndpoints/churn-scoring-prod-eus/deployments/green"
    assert _rest(fresh_emulator, "PATCH", path, {"sku": {"capacity": 0}}).status_code == 400
    assert _rest(fresh_emulator, "PATCH", path, {"sku": {"capacity": 21}}).status_code == 400
    resp = _rest(fresh_emulator, "PATCH", path, {"sku": {"capacity": 5}})
    assert resp.status_code == 202 and "Azure-AsyncOperation" in resp.headers
    # A second change while the first is in flight conflicts.
    assert _rest(fresh_emulator, "PATCH", path, {"sku": {"capacity": 6}}).status_code == 409
    fresh_emulator.clock.advance(1.1)  # the operation settles on the simulated clock
    assert ml.online_deployments.get("green", "churn-scoring-prod-eus").instance_count == 5
    # Managed deployments support the Default scale type only; instance types cannot change in place.
    body = _rest(fresh_emulator, "GET", path).json()
    body["properties"]["instanceType"] = "Standard_DS4_v2"
    assert _rest(fresh_emulator, "PUT", path, body).status_code == 400


def test_delete_deployment_refused_while_it_takes_traffic(
    fresh_ml_client: Callable[..., Any], fresh_emulator: Emulator
) -> None:
    ml = fresh_ml_client(_ws_of(fresh_emulator, PROD))
    with pytest.raises(HttpResponseError) as info:
        ml.online_deployments.begin_delete("green", "churn-scoring-prod-eus").result()
    assert info.value.status_code == 400
    assert "10% live traffic" in str(info.value)
    ep = ml.online_endpoints.get("churn-scoring-prod-eus")
    ep.traffic = {"blue": 100, "green": 0}
    ml.online_endpoints.begin_create_or_update(ep).result()
    ml.online_deployments.begin_delete("green", "churn-scoring-prod-eus").result()
    assert [d.name for d in ml.online_deployments.list("churn-scoring-prod-eus")] == ["blue"]
    with pytest.raises(ResourceNotFoundError):
        ml.online_deployments.get("green", "churn-scoring-prod-eus")
    # Deleting the endpoint removes it with its deployments.
    ml.online_endpoints.begin_delete("churn-scoring-prod-eus").result()
    with pytest.raises(ResourceNotFoundError):
        ml.online_endpoints.get("churn-scoring-prod-eus")
    assert not [
        r for r in fresh_emulator.estate.of_type(ONLINE_DEPLOYMENT_TYPE) if "/churn-scoring-prod-eus/" in r["id"]
    ]


def test_regenerate_keys(fresh_ml_client: Callable[..., Any], fresh_emulator: Emulator) -> None:
    ml = fresh_ml_client(_ws_of(fresh_emulator, PROD))
    before = ml.online_endpoints.get_keys("churn-scoring-prod-eus")
    ml.online_endpoints.begin_regenerate_keys("churn-scoring-prod-eus", key_type="secondary").result()
    after = ml.online_endpoints.get_keys("churn-scoring-prod-eus")
    assert after.primary_key == before.primary_key
    assert after.secondary_key != before.secondary_key
    uri = ml.online_endpoints.get("churn-scoring-prod-eus").scoring_uri
    assert _score(fresh_emulator, uri, b'{"data": [[1]]}', before.secondary_key).status_code == 401
    assert _score(fresh_emulator, uri, b'{"data": [[1]]}', after.secondary_key).status_code == 200


def test_not_found(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ml = ml_client(_ws(workspaces, PROD))
    with pytest.raises(ResourceNotFoundError):
        ml.online_endpoints.get("no-such-endpoint")
    with pytest.raises(ResourceNotFoundError):
        ml.online_deployments.get("nope", "churn-scoring-prod-eus")
    with pytest.raises(ResourceNotFoundError):
        ml.batch_endpoints.get("no-such-batch")


# -- batch ----------------------------------------------------------------------------------------


def test_batch_endpoints_and_deployments(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ml = ml_client(_ws(workspaces, PROD))
    assert [b.name for b in ml.batch_endpoints.list()] == ["churn-batch-prod-eus"]
    bep = ml.batch_endpoints.get("churn-batch-prod-eus")
    assert bep.defaults.deployment_name == "nightly"
    assert bep.auth_mode == "aad_token" and bep.provisioning_state == "Succeeded"
    assert bep.scoring_uri.endswith("/jobs")
    assert [d.name for d in ml.batch_deployments.list("churn-batch-prod-eus")] == ["nightly", "v-next"]
    nightly = ml.batch_deployments.get("nightly", "churn-batch-prod-eus")
    assert nightly.compute.endswith("/computes/cpu-cluster")
    assert nightly.mini_batch_size in (10, 20, 50)
    assert nightly.retry_settings.max_retries in (2, 3, 5)
    assert nightly.resources.instance_count >= 2
    assert "/models/churn-model/versions/" in nightly.model
    research = ml_client(_ws(workspaces, "mlw-research-scus"))
    assert [b.name for b in research.batch_endpoints.list()] == ["embed-batch-research-scus"]


def test_batch_create_default_and_delete(fresh_ml_client: Callable[..., Any], fresh_emulator: Emulator) -> None:
    ws = _ws_of(fresh_emulator, DEV)
    ml = fresh_ml_client(ws)
    t0 = time.monotonic()
    bep = ml.batch_endpoints.begin_create_or_update(BatchEndpoint(name="score-batch-1", description="t")).result()
    assert bep.provisioning_state == "Succeeded" and time.monotonic() - t0 < 5
    dep = ml.batch_deployments.begin_create_or_update(
        ModelBatchDeployment(
            name="first",
            endpoint_name="score-batch-1",
            model=f"{ws['id']}/models/churn-model/versions/3",
            environment=SKLEARN_ENV,
            compute="cpu-cluster",
            resources=ResourceConfiguration(instance_count=2),
            settings=ModelBatchDeploymentSettings(
                mini_batch_size=25, retry_settings=BatchRetrySettings(max_retries=4, timeout=60)
            ),
        )
    ).result()
    assert dep.provisioning_state == "Succeeded" and dep.mini_batch_size == 25
    assert dep.compute == f"{ws['id']}/computes/cpu-cluster"  # the SDK resolves the name to an ARM id
    assert dep.retry_settings.max_retries == 4 and dep.resources.instance_count == 2
    # The first deployment becomes the endpoint's default, which cannot be deleted.
    assert ml.batch_endpoints.get("score-batch-1").defaults.deployment_name == "first"
    with pytest.raises(HttpResponseError, match="default deployment"):
        ml.batch_deployments.begin_delete("first", "score-batch-1").result()
    ml.batch_endpoints.begin_delete("score-batch-1").result()
    with pytest.raises(ResourceNotFoundError):
        ml.batch_endpoints.get("score-batch-1")


# -- simulation and determinism ----------------------------------------------------------------


def test_target_utilization_deployment_follows_simulated_load(fresh_emulator: Emulator) -> None:
    ws = _ws_of(fresh_emulator, PROD2)
    rid = f"{ws['id']}/onlineEndpoints/recs-k8s-prod-weu/deployments/default"
    seen = []
    for _ in range(24):
        fresh_emulator.clock.advance(3600)
        _rest(fresh_emulator, "GET", rid)  # each request brings the simulation up to date
        dep = fresh_emulator.estate.get(rid)
        assert dep is not None
        seen.append(dep["sku"]["capacity"])
    assert all(1 <= c <= 5 for c in seen)
    assert len(set(seen)) > 1


def _endpoint_json(emu: Emulator) -> str:
    types = {ONLINE_ENDPOINT_TYPE.lower(), ONLINE_DEPLOYMENT_TYPE.lower()}
    items = [
        r for r in emu.estate.resources.values() if r["type"].lower() in types or "/batchendpoints/" in r["id"].lower()
    ]
    keys = emu.estate.area_state["endpoints"].keys
    return json.dumps({"resources": sorted(items, key=lambda r: r["id"]), "keys": keys}, sort_keys=True)


def test_same_seed_same_endpoints() -> None:
    a = _endpoint_json(Emulator(EmulatorConfig(seed=7)))
    b = _endpoint_json(Emulator(EmulatorConfig(seed=7)))
    c = _endpoint_json(Emulator(EmulatorConfig(seed=8)))
    assert a == b
    assert a != c
