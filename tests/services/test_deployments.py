"""Endpoint and deployment reads and actions through the service layer, against the emulator with the real SDKs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator import Emulator
from services import deployments, mutations, workspaces
from services.errors import ErrorKind, classify
from services.models import Workspace
from services.models.deployments import OnlineEndpoint, as_dict
from services.mutations import ReadOnlyError, Target
from services.validation import ValidationError
from tests.conftest import session_for

PROD = "mlw-prod-eus"
CHURN = "churn-scoring-prod-eus"  # Key auth, blue 90 / green 10
FRAUD = "fraud-detect-prod-eus"  # AMLToken auth, blue 100, 20% mirrored to shadow
LLM = "llm-summarize-prod-eus"  # main 100, a Failed canary
ROWS = {"data": [[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.5, 0.0], [9.0, 9.0, 9.0, 9.0]]}


def _ws(session: Any, name: str = PROD) -> Workspace:
    return next(w for w in workspaces.list_workspaces(session) if w.name == name)


def _target(ws: Workspace, name: str = "", parent: str = "") -> Target:
    return Target(ws.subscription_id, ws.resource_group, ws.name, name, parent)


def _routing(session: Any, ws: Workspace, endpoint: str) -> tuple[OnlineEndpoint, tuple[str, ...]]:
    ep = deployments.get_online_endpoint(session, ws, endpoint)
    names = tuple(d.name for d in deployments.list_online_deployments(session, ws, endpoint))
    return ep, names


# -- reads -----------------------------------------------------------------------------------------


def test_online_endpoints_match_the_estate(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    items = {e.name: e for e in deployments.list_online_endpoints(session, ws)}
    raw = {r["name"]: r for r in emulator.estate.children(ws.id, "onlineEndpoints")}
    assert set(items) == set(raw)
    for name, ep in items.items():
        props = raw[name]["properties"]
        assert ep.auth_mode == props["authMode"]
        assert as_dict(ep.traffic) == props["traffic"]
        assert ep.provisioning_state == props["provisioningState"]
        assert ep.scoring_uri.startswith("https://") and ep.scoring_uri.endswith("/score")
        assert ep.swagger_uri.endswith("/swagger.json")
        assert ep.kind == "managed" and ep.location == ws.location
        assert ep.public_network_access in ("Enabled", "Disabled")
        hash(ep)  # frozen and hashable, traffic maps included
    churn = items[CHURN]
    assert churn.traffic_of("blue") == 90 and churn.traffic_of("GREEN") == 10
    fraud = items[FRAUD]
    assert fraud.auth_mode == "AMLToken" and fraud.mirror_traffic == (("shadow", 20),)
    assert fraud.mirror_of("shadow") == 20 and fraud.traffic_of("shadow") == 0
    assert deployments.get_online_endpoint(session, ws, CHURN) == churn


def test_a_kubernetes_endpoint_names_its_compute(session: Any) -> None:
    found = [
        e
        for w in workspaces.list_workspaces(session)
        for e in deployments.list_online_endpoints(session, w)
        if e.kind == "kubernetes"
    ]
    assert len(found) == 1
    k8s = found[0]
    assert k8s.compute and k8s.compute_id.endswith("/computes/" + k8s.compute)
    ws = _ws(session, k8s.workspace)
    (dep,) = deployments.list_online_deployments(session, ws, k8s.name)
    assert dep.kind == "kubernetes" and dep.scale.autoscaled
    assert 1 <= dep.scale.min_instances <= dep.instance_count <= dep.scale.max_instances
    assert dep.scale.target_utilization == 70 and dep.scale.polling_interval_s == 10


def test_online_deployments_match_the_estate(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    items = deployments.list_online_deployments(session, ws, CHURN)
    raw = {r["name"]: r for r in emulator.estate.children(f"{ws.id}/onlineEndpoints/{CHURN}", "deployments")}
    assert [d.name for d in items] == sorted(raw) == ["blue", "green"]
    for d in items:
        r = raw[d.name]
        assert d.endpoint == CHURN and d.workspace == PROD and d.kind == "managed"
        assert d.instance_type == r["properties"]["instanceType"] == "Standard_DS3_v2"
        assert d.instance_count == r["sku"]["capacity"]
        assert d.model == r["properties"]["model"] and d.model_name == "churn-model" and d.model_version.isdigit()
        assert d.environment == r["properties"]["environmentId"]
        assert d.provisioning_state == "Succeeded" and d.error is None
        assert d.scale.scale_type == "Default" and not d.scale.autoscaled
        assert d.request_settings.request_timeout_ms == 5000
        assert d.request_settings.max_queue_wait_ms == 500
        assert d.liveness_probe.period_s == 10 and d.liveness_probe.failure_threshold == 30
        hash(d)
    blue = deployments.get_online_deployment(session, ws, CHURN, "blue")
    assert blue == items[0] and 2 <= blue.instance_count <= 4
    fraud_blue = deployments.get_online_deployment(session, ws, FRAUD, "blue")
    assert fraud_blue.request_settings.request_timeout_ms == 1000
    assert fraud_blue.request_settings.max_concurrent_requests_per_instance == 4


def test_a_failed_deployment_shows_its_error(session: Any) -> None:
    ws = _ws(session)
    canary = deployments.get_online_deployment(session, ws, LLM, "canary")
    assert canary.failed and canary.error is not None
    assert canary.error.code == "ResourceNotReady"
    assert "No module named 'transformers'" in canary.error.message
    listed = {d.name: d for d in deployments.list_online_deployments(session, ws, LLM)}
    assert listed["canary"].error == canary.error and listed["main"].error is None


def test_batch_endpoints_and_deployments_match_the_estate(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    (bep,) = deployments.list_batch_endpoints(session, ws)
    raw = emulator.estate.children(ws.id, "batchEndpoints")
    assert [bep.name] == [r["name"] for r in raw]
    assert bep.default_deployment == "nightly" and bep.provisioning_state == "Succeeded"
    assert bep.auth_mode == "AADToken" and bep.scoring_uri.endswith("/jobs")
    assert deployments.get_batch_endpoint(session, ws, bep.name) == bep
    items = {d.name: d for d in deployments.list_batch_deployments(session, ws, bep.name)}
    assert set(items) == {"nightly", "v-next"}
    raw_deps = {r["name"]: r for r in emulator.estate.children(bep.id, "deployments")}
    for name, d in items.items():
        p = raw_deps[name]["properties"]
        assert d.compute == "cpu-cluster" and d.compute_id == p["compute"]
        assert d.mini_batch_size == p["miniBatchSize"]
        assert d.instance_count == p["resources"]["instanceCount"]
        assert d.max_retries == p["retrySettings"]["maxRetries"] and d.retry_timeout_s == 30
        assert d.model == p["model"]["assetId"] and d.provisioning_state == "Succeeded"
        assert d.error_threshold == -1 and d.output_action == "AppendRow"
    assert deployments.get_batch_deployment(session, ws, bep.name, "nightly") == items["nightly"]


def test_not_found_is_classified(session: Any) -> None:
    ws = _ws(session)
    with pytest.raises(Exception) as exc:
        deployments.get_online_endpoint(session, ws, "no-such-endpoint")
    assert classify(exc.value).kind == ErrorKind.NOT_FOUND
    with pytest.raises(Exception) as exc:
        deployments.get_online_deployment(session, ws, CHURN, "purple")
    assert classify(exc.value).kind == ErrorKind.NOT_FOUND


def test_logs_tail_n_lines_of_the_chosen_container(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    server = deployments.get_logs(session, ws, CHURN, "blue", lines=5)
    assert len(server.splitlines()) == 5
    full = deployments.get_logs(session, ws, CHURN, "blue", container="InferenceServer", lines=2000)
    assert "Azure ML Inferencing HTTP server" in full and full.splitlines()[-5:] == server.splitlines()
    init = deployments.get_logs(session, ws, CHURN, "blue", container="storage-initializer", lines=100)
    assert "Storage initializer completed successfully" in init and "Inferencing HTTP server" not in init
    failed = deployments.get_logs(session, ws, LLM, "canary", lines=50)
    assert "ModuleNotFoundError" in failed
    before = emulator.request_count
    with pytest.raises(ValidationError) as exc:
        deployments.get_logs(session, ws, CHURN, "blue", container="sidecar", lines=-1)
    assert set(exc.value.fields) == {"container", "lines"}
    assert emulator.request_count == before


# -- traffic ---------------------------------------------------------------------------------------


def test_traffic_update_stays_changed(fresh_session: Any) -> None:
    ws = _ws(fresh_session)
    _, names = _routing(fresh_session, ws, CHURN)
    deployments.update_traffic(fresh_session, _target(ws, CHURN), traffic={"blue": 50, "green": 50}, deployments=names)
    ep = deployments.get_online_endpoint(fresh_session, ws, CHURN)
    assert as_dict(ep.traffic) == {"blue": 50, "green": 50} and ep.provisioning_state == "Succeeded"
    # Mirror 10% of live traffic to green while blue takes it all.
    deployments.update_traffic(
        fresh_session,
        _target(ws, CHURN),
        traffic={"blue": 100, "green": 0},
        mirror_traffic={"green": 10},
        deployments=names,
    )
    ep = deployments.get_online_endpoint(fresh_session, ws, CHURN)
    assert ep.traffic_of("blue") == 100 and ep.traffic_of("green") == 0 and ep.mirror_of("green") == 10
    records = [(r.operation, r.outcome) for r in fresh_session.guard.records]
    assert records.count(("deployments.update_traffic", "succeeded")) == 2
    cmd = mutations.az_command(
        "deployments.update_traffic", _target(ws, CHURN), {"traffic": {"blue": 100}, "mirror_traffic": {"green": 10}}
    )
    assert cmd.startswith('az ml online-endpoint update --name churn-scoring-prod-eus --traffic "blue=100"')
    assert '--mirror-traffic "green=10"' in cmd


@pytest.mark.parametrize(
    ("endpoint", "traffic", "mirror", "field", "rule"),
    [
        (CHURN, {"blue": 60, "green": 30}, None, "traffic", "must sum to 100 (it sums to 90)"),
        (CHURN, {"blue": 90, "purple": 10}, None, "traffic", "which the endpoint does not have"),
        (FRAUD, {"blue": 100}, {"shadow": 60}, "mirror_traffic", "from 0 to 50"),
        (FRAUD, {"blue": 100}, {"blue": 10}, "mirror_traffic", "takes live traffic"),
        (FRAUD, {"blue": 0, "shadow": 0}, {"shadow": 10}, "mirror_traffic", "needs live traffic"),
    ],
)
def test_bad_traffic_is_refused_before_any_request(
    fresh_session: Any,
    fresh_emulator: Emulator,
    endpoint: str,
    traffic: dict[str, int],
    mirror: dict[str, int] | None,
    field: str,
    rule: str,
) -> None:
    ws = _ws(fresh_session)
    _, names = _routing(fresh_session, ws, endpoint)
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        deployments.update_traffic(
            fresh_session, _target(ws, endpoint), traffic=traffic, mirror_traffic=mirror, deployments=names
        )
    assert field in exc.value.fields
    assert any(rule in e.rule for e in exc.value.errors if e.field == field), exc.value
    assert fresh_emulator.request_count == before
    assert fresh_session.guard.records[-1].outcome == "invalid"


# -- scale -----------------------------------------------------------------------------------------


def test_scale_instance_count_then_read_back(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    deployments.scale(fresh_session, _target(ws, "green", CHURN), instance_count=3)
    green = deployments.get_online_deployment(fresh_session, ws, CHURN, "green")
    assert green.instance_count == 3 and green.provisioning_state == "Succeeded"
    before = fresh_emulator.request_count
    for bad in (0, 21, 2.5):
        with pytest.raises(ValidationError) as exc:
            deployments.scale(fresh_session, _target(ws, "green", CHURN), instance_count=bad)
        assert exc.value.fields == ("instance_count",)
    assert fresh_emulator.request_count == before
    cmd = mutations.az_command("deployments.scale", _target(ws, "green", CHURN), {"instance_count": 3})
    assert "az ml online-deployment update --name green --endpoint-name churn-scoring-prod-eus" in cmd
    assert "--set instance_count=3" in cmd


def test_scaling_an_autoscaled_deployment_is_refused(fresh_session: Any, fresh_emulator: Emulator) -> None:
    k8s = next(
        e
        for w in workspaces.list_workspaces(fresh_session)
        for e in deployments.list_online_endpoints(fresh_session, w)
        if e.kind == "kubernetes"
    )
    ws = _ws(fresh_session, k8s.workspace)
    with pytest.raises(ValidationError) as exc:
        deployments.scale(fresh_session, _target(ws, "default", k8s.name), instance_count=3)
    assert exc.value.fields == ("instance_count",) and "autoscaler" in str(exc.value)
    assert deployments.get_online_deployment(fresh_session, ws, k8s.name, "default").provisioning_state == "Succeeded"


# -- delete ----------------------------------------------------------------------------------------


def test_delete_is_refused_while_the_deployment_carries_traffic(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    ep, names = _routing(fresh_session, ws, CHURN)
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        deployments.delete_deployment(
            fresh_session, _target(ws, "green", CHURN), traffic=as_dict(ep.traffic), mirror_traffic={}
        )
    assert exc.value.errors[0].field == "deployment"
    assert exc.value.errors[0].rule == "carries 10% of live traffic; move its traffic first"
    assert fresh_emulator.request_count == before
    # A mirrored deployment is refused too.
    fraud = deployments.get_online_endpoint(fresh_session, ws, FRAUD)
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        deployments.delete_deployment(
            fresh_session,
            _target(ws, "shadow", FRAUD),
            traffic=as_dict(fraud.traffic),
            mirror_traffic=as_dict(fraud.mirror_traffic),
        )
    assert exc.value.errors[0].rule == "carries 20% of mirrored traffic; move its traffic first"
    assert fresh_emulator.request_count == before
    # Move the traffic, then delete.
    deployments.update_traffic(fresh_session, _target(ws, CHURN), traffic={"blue": 100, "green": 0}, deployments=names)
    ep = deployments.get_online_endpoint(fresh_session, ws, CHURN)
    deployments.delete_deployment(fresh_session, _target(ws, "green", CHURN), traffic=as_dict(ep.traffic))
    assert [d.name for d in deployments.list_online_deployments(fresh_session, ws, CHURN)] == ["blue"]
    outcomes = [(r.operation, r.outcome) for r in fresh_session.guard.records if r.operation == "deployments.delete"]
    assert outcomes[-2:] == [("deployments.delete", "attempted"), ("deployments.delete", "succeeded")]
    assert ("deployments.delete", "invalid") in outcomes


# -- invoke ----------------------------------------------------------------------------------------


def test_invoke_returns_predictions_deployment_and_latency(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    payload = json.dumps(ROWS)
    routed = deployments.invoke(fresh_session, _target(ws, CHURN), payload=payload)
    assert routed.status == 200 and routed.deployment == "blue"  # this payload hashes into blue's 90%
    assert isinstance(routed.response, list) and len(routed.response) == 3
    assert all(0.0 <= p <= 1.0 for p in routed.response)
    assert routed.latency_ms > 0 and routed.request_bytes == len(payload)
    blue = deployments.invoke(fresh_session, _target(ws, CHURN), payload=payload, deployment_name="blue")
    green = deployments.invoke(fresh_session, _target(ws, CHURN), payload=payload, deployment_name="green")
    assert (blue.deployment, green.deployment) == ("blue", "green")
    assert green.response != blue.response  # different model versions
    again = deployments.invoke(fresh_session, _target(ws, CHURN), payload=payload)
    assert again.deployment == routed.deployment  # no header sticks from the previous call
    # An AML-token endpoint: the token is fetched over REST and presented.
    fraud = deployments.invoke(fresh_session, _target(ws, FRAUD), payload=payload.encode())
    assert fraud.deployment == "blue" and len(fraud.response) == 3


def test_invoke_audit_has_sizes_and_never_the_key_or_payload(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    keys = fresh_emulator.estate.area_state["endpoints"].keys[f"{ws.id}/onlineEndpoints/{CHURN}".lower()]
    payload = json.dumps({"data": [[123.456, 789.012, 3.5, 4.25]]})
    result = deployments.invoke(fresh_session, _target(ws, CHURN), payload=payload, deployment_name="blue")
    assert result.deployment == "blue"
    records = [r for r in fresh_session.guard.records if r.operation == "deployments.invoke"]
    assert [r.outcome for r in records] == ["attempted", "succeeded"]
    assert records[-1].parameters["payload_bytes"] == len(payload)
    text = repr(records) + repr(result)
    for secret in keys.values():
        assert secret not in text
    assert "123.456" not in repr(records)
    # A model error is raised and classified; the failure is audited without key or payload either.
    with pytest.raises(Exception) as exc:
        deployments.invoke(fresh_session, _target(ws, CHURN), payload='{"data": [["x"]]}', deployment_name="blue")
    err = classify(exc.value)
    assert err.status == 424 and "non-numeric" in err.message
    failed = fresh_session.guard.records[-1]
    assert failed.outcome == "failed" and all(s not in repr(failed) and s not in str(exc.value) for s in keys.values())


def test_invoke_validates_before_any_request_and_is_refused_read_only(
    fresh_session: Any, fresh_emulator: Emulator
) -> None:
    ws = _ws(fresh_session)
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        deployments.invoke(fresh_session, _target(ws, CHURN), payload="{not json")
    assert exc.value.fields == ("payload",)
    with pytest.raises(ValidationError) as exc:
        deployments.invoke(
            fresh_session, _target(ws, CHURN), payload="{}", deployment_name="purple", deployments=("blue", "green")
        )
    assert exc.value.fields == ("deployment_name",)
    with pytest.raises(ValidationError) as exc:
        deployments.invoke(fresh_session, _target(ws, CHURN), payload="{}", deployment="green")
    assert exc.value.fields == ("deployment",)
    ro = session_for(fresh_emulator, read_only=True)
    with pytest.raises(ReadOnlyError):
        deployments.invoke(ro, _target(ws, CHURN), payload=json.dumps(ROWS))
    assert fresh_emulator.request_count == before
    assert mutations.registry()["deployments.invoke"] is deployments.invoke.operation  # type: ignore[attr-defined]
    assert mutations.FUNCTIONS["deployments.invoke"] is deployments.invoke


# -- a batch endpoint's default deployment -----------------------------------------------------------


def test_batch_endpoint_default_deployment_changes_with_one_put(fresh_emulator: Emulator) -> None:
    session = session_for(fresh_emulator)
    ws = _ws(session)
    ep = next(e for e in deployments.list_batch_endpoints(session, ws) if e.name == "churn-batch-prod-eus")
    names = tuple(d.name for d in deployments.list_batch_deployments(session, ws, ep.name))
    other = next(n for n in names if n != ep.default_deployment)
    target = _target(ws, ep.name)
    assert mutations.az_command("deployments.set_batch_default", target, {"deployment_name": other}).startswith(
        f"az ml batch-endpoint update --name {ep.name} --set defaults.deployment_name={other} "
    )
    # a deployment the endpoint does not have: refused before any request
    before = len(fresh_emulator.request_log)
    with pytest.raises(ValidationError) as exc:
        deployments.set_batch_default(session, target, deployment_name="nope", deployments=names)
    assert exc.value.errors[0].field == "deployment_name"
    assert fresh_emulator.request_log[before:] == []

    deployments.set_batch_default(session, target, deployment_name=other, deployments=names)
    sent = [(m, p, s) for m, p, s in fresh_emulator.request_log[before:] if m != "GET"]
    assert [(m, s) for m, _, s in sent] == [("PUT", 200)] and sent[0][1].endswith(f"/batchEndpoints/{ep.name}")
    assert deployments.get_batch_endpoint(session, ws, ep.name).default_deployment == other
    raw = fresh_emulator.estate.get(ep.id)
    assert raw is not None and raw["properties"]["defaults"] == {"deploymentName": other}
    # read back after a lost answer: applied
    reconcile = mutations.registry()["deployments.set_batch_default"].reconcile
    assert reconcile is not None
    applied, state = reconcile(session, target, {"deployment_name": other})
    assert applied is True and other in state
    outcomes = [r.outcome for r in session.guard.records if r.operation == "deployments.set_batch_default"]
    assert outcomes == ["invalid", "attempted", "succeeded"]
