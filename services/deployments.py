"""Online and batch endpoints and their deployments.

Reads go over the REST client. Actions go through the mutation choke point: traffic and instance
count through azure-ai-ml (``begin_create_or_update`` on the entity just read, which is what ``az ml``
does and gives us its long-running-operation polling), deletes through ``online_deployments.begin_delete``.
Invoking an endpoint does NOT use ``online_endpoints.invoke``: it writes the deployment and
Authorization headers into a module-level dict shared by every later call (a later invoke without a
deployment keeps going to the old one). We fetch the key or token over REST and POST to the scoring
URI ourselves, through an azure-core pipeline with the cloud's CA (``RestClient.send_external``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from . import validation as v
from .errors import ServiceError, describe
from .kinds import deployments as kinds
from .models import Workspace
from .models.deployments import (
    BatchDeployment,
    BatchEndpoint,
    DeploymentError,
    InvokeResult,
    OnlineDeployment,
    OnlineEndpoint,
    Probe,
    RequestSettings,
    ScaleSettings,
    Traffic,
    traffic_of,
)
from .mutations import (
    FUNCTIONS,
    REGISTRY,
    Mutation,
    Reconciled,
    Target,
    expect_state,
    operation,
    read_resource,
    resource_path,
    run,
)
from .session import Session
from .times import parse_time

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

API = "2024-10-01"
LOG_CONTAINERS = {"inferenceserver": "InferenceServer", "storageinitializer": "StorageInitializer"}
MAX_LOG_LINES = 10_000


# -- small readers ---------------------------------------------------------------------------------


def _duration_ms(text: Any) -> int:
    """ISO-8601 duration (PT5S, PT0.5S, PT1M30S, P1D) → milliseconds; 0 when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return 0
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text)
    if not m:
        return 0
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return round((d * 86400 + h * 3600 + mi * 60 + s) * 1000)


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _seconds(text: Any) -> float:
    return _duration_ms(text) / 1000.0


def _traffic(raw: Any) -> Traffic:
    if not isinstance(raw, Mapping):
        return ()
    return tuple(sorted(((str(k), int(v or 0)) for k, v in raw.items()), key=lambda kv: kv[0].lower()))


def _tags(raw: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (raw or {}).items())) if isinstance(raw, Mapping) else ()


def _last(resource_id: Any) -> str:
    return str(resource_id or "").rstrip("/").rsplit("/", 1)[-1]


def _ws_base(ws: Workspace) -> str:
    return ws.id


def _probe(raw: Any) -> Probe:
    p = raw if isinstance(raw, Mapping) else {}
    return Probe(
        initial_delay_s=_seconds(p.get("initialDelay")),
        period_s=_seconds(p.get("period")),
        timeout_s=_seconds(p.get("timeout")),
        failure_threshold=int(p.get("failureThreshold") or 0),
        success_threshold=int(p.get("successThreshold") or 0),
    )


# -- online endpoints ------------------------------------------------------------------------------


def _online_endpoint(body: Mapping[str, Any], ws: Workspace) -> OnlineEndpoint:
    p = body.get("properties") or {}
    compute_id = str(p.get("compute") or "")
    kind = "kubernetes" if compute_id or str(body.get("kind", "")).lower() == "kubernetes" else "managed"
    sd = body.get("systemData") or {}
    return OnlineEndpoint(
        id=str(body["id"]),
        name=str(body["name"]),
        workspace=ws.name,
        location=str(body.get("location") or ws.location),
        kind=kind,
        auth_mode=str(p.get("authMode") or ""),
        scoring_uri=str(p.get("scoringUri") or ""),
        swagger_uri=str(p.get("swaggerUri") or ""),
        provisioning_state=str(p.get("provisioningState") or ""),
        traffic=_traffic(p.get("traffic")),
        mirror_traffic=tuple((k, pct) for k, pct in _traffic(p.get("mirrorTraffic")) if pct),
        public_network_access=str(p.get("publicNetworkAccess") or ""),
        compute=_last(compute_id) if compute_id else "",
        compute_id=compute_id,
        description=str(p.get("description") or ""),
        tags=_tags(body.get("tags")),
        created_on=parse_time(sd.get("createdAt")),
        created_by=str(sd.get("createdBy") or ""),
    )


def list_online_endpoints(session: Session, ws: Workspace) -> list[OnlineEndpoint]:
    items = session.rest().items(f"{_ws_base(ws)}/onlineEndpoints", API)
    return sorted((_online_endpoint(e, ws) for e in items), key=lambda e: e.name.lower())


def get_online_endpoint(session: Session, ws: Workspace, name: str) -> OnlineEndpoint:
    return _online_endpoint(session.rest().get(f"{_ws_base(ws)}/onlineEndpoints/{name}", API), ws)


# -- online deployments ----------------------------------------------------------------------------


def _failure(session: Session, body: Mapping[str, Any]) -> DeploymentError | None:
    """Why a Failed deployment failed: Azure keeps it on the failed operation the deployment points at."""
    p = body.get("properties") or {}
    if p.get("provisioningState") != "Failed":
        return None
    uri = str((p.get("properties") or {}).get("AzureAsyncOperationUri") or "")
    base = session.cloud.resource_manager.rstrip("/").lower() + "/"
    if not uri.lower().startswith(base):  # never send the ARM token anywhere but ARM
        return DeploymentError("DeploymentFailed", "The deployment failed; Azure gave no operation to explain it.")
    try:
        status = session.rest().get(uri)
    except Exception as e:  # the deployment still reads; the reason is best effort
        return DeploymentError(
            "DeploymentFailed", f"The deployment failed; its operation could not be read ({describe(e)})"
        )
    error = (status or {}).get("error") or {}
    return DeploymentError(str(error.get("code") or "DeploymentFailed"), str(error.get("message") or ""))


def _online_deployment(session: Session, body: Mapping[str, Any], ws: Workspace, endpoint: str) -> OnlineDeployment:
    p = body.get("properties") or {}
    sku = body.get("sku") or {}
    scale = p.get("scaleSettings") or {}
    rs = p.get("requestSettings") or {}
    sd = body.get("systemData") or {}
    kind = str(p.get("endpointComputeType") or body.get("kind") or "Managed").lower()
    return OnlineDeployment(
        id=str(body["id"]),
        name=str(body["name"]),
        endpoint=endpoint,
        workspace=ws.name,
        kind="kubernetes" if kind == "kubernetes" else "managed",
        instance_type=str(p.get("instanceType") or ""),
        instance_count=int(sku.get("capacity") or 0),
        model=str(p.get("model") or ""),
        environment=str(p.get("environmentId") or ""),
        provisioning_state=str(p.get("provisioningState") or ""),
        scale=ScaleSettings(
            scale_type=str(scale.get("scaleType") or "Default"),
            min_instances=int(scale.get("minInstances") or 0),
            max_instances=int(scale.get("maxInstances") or 0),
            target_utilization=int(scale.get("targetUtilizationPercentage") or 0),
            polling_interval_s=_seconds(scale.get("pollingInterval")),
        ),
        request_settings=RequestSettings(
            request_timeout_ms=_duration_ms(rs.get("requestTimeout")),
            max_concurrent_requests_per_instance=int(rs.get("maxConcurrentRequestsPerInstance") or 0),
            max_queue_wait_ms=_duration_ms(rs.get("maxQueueWait")),
        ),
        liveness_probe=_probe(p.get("livenessProbe")),
        readiness_probe=_probe(p.get("readinessProbe")),
        app_insights_enabled=bool(p.get("appInsightsEnabled")),
        egress_public_network_access=str(p.get("egressPublicNetworkAccess") or ""),
        description=str(p.get("description") or ""),
        created_on=parse_time(sd.get("createdAt")),
        modified_on=parse_time(sd.get("lastModifiedAt")),
        error=_failure(session, body),
    )


def list_online_deployments(session: Session, ws: Workspace, endpoint: str) -> list[OnlineDeployment]:
    items = session.rest().items(f"{_ws_base(ws)}/onlineEndpoints/{endpoint}/deployments", API)
    return sorted((_online_deployment(session, d, ws, endpoint) for d in items), key=lambda d: d.name.lower())


def get_online_deployment(session: Session, ws: Workspace, endpoint: str, name: str) -> OnlineDeployment:
    body = session.rest().get(f"{_ws_base(ws)}/onlineEndpoints/{endpoint}/deployments/{name}", API)
    return _online_deployment(session, body, ws, endpoint)


def get_logs(
    session: Session,
    ws: Workspace,
    endpoint: str,
    deployment: str,
    *,
    container: str = "InferenceServer",
    lines: int = 200,
) -> str:
    """The last ``lines`` lines of one container of a deployment (InferenceServer or StorageInitializer).

    A read (``az ml online-deployment get-logs``), though Azure serves it as a POST.
    """
    canonical = LOG_CONTAINERS.get(container.replace("-", "").replace("_", "").lower())
    v.check(
        None if canonical else v.FieldError("container", "must be InferenceServer or StorageInitializer"),
        None
        if isinstance(lines, int) and not isinstance(lines, bool) and 0 <= lines <= MAX_LOG_LINES
        else v.FieldError("lines", f"must be a whole number from 0 to {MAX_LOG_LINES}"),
    )
    body = session.rest().post(
        f"{_ws_base(ws)}/onlineEndpoints/{endpoint}/deployments/{deployment}/getLogs",
        API,
        body={"containerType": canonical, "tail": lines},
    )
    return str((body or {}).get("content") or "") if isinstance(body, Mapping) else str(body or "")


# -- batch -----------------------------------------------------------------------------------------


def _batch_endpoint(body: Mapping[str, Any], ws: Workspace) -> BatchEndpoint:
    p = body.get("properties") or {}
    sd = body.get("systemData") or {}
    return BatchEndpoint(
        id=str(body["id"]),
        name=str(body["name"]),
        workspace=ws.name,
        location=str(body.get("location") or ws.location),
        auth_mode=str(p.get("authMode") or ""),
        scoring_uri=str(p.get("scoringUri") or ""),
        swagger_uri=str(p.get("swaggerUri") or ""),
        default_deployment=str((p.get("defaults") or {}).get("deploymentName") or ""),
        provisioning_state=str(p.get("provisioningState") or ""),
        description=str(p.get("description") or ""),
        created_on=parse_time(sd.get("createdAt")),
    )


def list_batch_endpoints(session: Session, ws: Workspace) -> list[BatchEndpoint]:
    items = session.rest().items(f"{_ws_base(ws)}/batchEndpoints", API)
    return sorted((_batch_endpoint(e, ws) for e in items), key=lambda e: e.name.lower())


def get_batch_endpoint(session: Session, ws: Workspace, name: str) -> BatchEndpoint:
    return _batch_endpoint(session.rest().get(f"{_ws_base(ws)}/batchEndpoints/{name}", API), ws)


def _batch_deployment(body: Mapping[str, Any], ws: Workspace, endpoint: str) -> BatchDeployment:
    p = body.get("properties") or {}
    resources = p.get("resources") or {}
    retry = p.get("retrySettings") or {}
    model = p.get("model") or {}
    sd = body.get("systemData") or {}
    compute_id = str(p.get("compute") or "")
    return BatchDeployment(
        id=str(body["id"]),
        name=str(body["name"]),
        endpoint=endpoint,
        workspace=ws.name,
        compute=_last(compute_id),
        compute_id=compute_id,
        mini_batch_size=int(p.get("miniBatchSize") or 0),
        instance_count=int(resources.get("instanceCount") or 0),
        provisioning_state=str(p.get("provisioningState") or ""),
        instance_type=str(resources.get("instanceType") or ""),
        max_concurrency_per_instance=int(p.get("maxConcurrencyPerInstance") or 1),
        max_retries=int(retry.get("maxRetries") or 0),
        retry_timeout_s=_seconds(retry.get("timeout")),
        error_threshold=_int(p.get("errorThreshold"), -1),
        output_action=str(p.get("outputAction") or ""),
        output_file_name=str(p.get("outputFileName") or ""),
        logging_level=str(p.get("loggingLevel") or ""),
        model=str(model.get("assetId") or "") if isinstance(model, Mapping) else str(model),
        environment=str(p.get("environmentId") or ""),
        description=str(p.get("description") or ""),
        created_on=parse_time(sd.get("createdAt")),
    )


def list_batch_deployments(session: Session, ws: Workspace, endpoint: str) -> list[BatchDeployment]:
    items = session.rest().items(f"{_ws_base(ws)}/batchEndpoints/{endpoint}/deployments", API)
    return sorted((_batch_deployment(d, ws, endpoint) for d in items), key=lambda d: d.name.lower())


def get_batch_deployment(session: Session, ws: Workspace, endpoint: str, name: str) -> BatchDeployment:
    body = session.rest().get(f"{_ws_base(ws)}/batchEndpoints/{endpoint}/deployments/{name}", API)
    return _batch_deployment(body, ws, endpoint)


@dataclasses.dataclass(frozen=True)
class EndpointTree:
    """One endpoint with its deployments as read with it; ``error``: why they could not be read."""

    endpoint: OnlineEndpoint | BatchEndpoint
    deployments: tuple[OnlineDeployment | BatchDeployment, ...] = ()
    error: ServiceError | None = None


def endpoint_tree(session: Session, ws: Workspace) -> list[EndpointTree]:
    """Every endpoint (online, then batch) of a workspace with its deployments, read concurrently: one
    endpoint failing keeps the others (its error beside it). The endpoint lists themselves raise."""
    from .fanout import collect

    endpoints: list[OnlineEndpoint | BatchEndpoint] = [
        *list_online_endpoints(session, ws),
        *list_batch_endpoints(session, ws),
    ]

    def children(ep: OnlineEndpoint | BatchEndpoint) -> list[OnlineDeployment | BatchDeployment]:
        if isinstance(ep, OnlineEndpoint):
            return list(list_online_deployments(session, ws, ep.name))
        return list(list_batch_deployments(session, ws, ep.name))

    return [EndpointTree(r.target, tuple(r.value or ()), r.error) for r in collect(endpoints, children)]


# -- actions ---------------------------------------------------------------------------------------


def _ml(session: Session, t: Target) -> MLClient:
    return session.ml_client(t.subscription_id, t.resource_group, t.workspace)


def _reconcile_traffic(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
    body = read_resource(session, resource_path(t, "onlineEndpoints", t.name), API)
    if body is None:
        return False, f"{t.name} does not exist"
    now = {str(k).lower(): int(v) for k, v in ((body.get("properties") or {}).get("traffic") or {}).items()}
    wanted = {str(k).lower(): int(v) for k, v in (params.get("traffic") or {}).items()}
    shown = ", ".join(f"{k} {v}%" for k, v in sorted(now.items())) or "none"
    return {k: v for k, v in now.items() if v} == {k: v for k, v in wanted.items() if v}, f"{t.name} routes {shown}"


def _reconcile_scale(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
    body = read_resource(session, resource_path(t, "onlineEndpoints", t.parent, "deployments", t.name), API)
    if body is None:
        return False, f"{t.name} does not exist"
    count = int((body.get("sku") or {}).get("capacity") or 0)
    state = str((body.get("properties") or {}).get("provisioningState") or "")
    if count == int(params.get("instance_count", -1)):
        return True, f"{t.name} has {count} instances ({state})"
    return (None if state.lower() == "updating" else False), f"{t.name} has {count} instances ({state})"


def _deployment_state(session: Session, t: Target, params: Mapping[str, Any]) -> tuple[str, str]:
    body = read_resource(session, resource_path(t, "onlineEndpoints", t.parent, "deployments", t.name), API)
    return t.name, "" if body is None else str((body.get("properties") or {}).get("provisioningState") or "unknown")


@operation(
    "deployments.update_traffic", "Update endpoint traffic", params=kinds.UpdateTraffic, reconcile=_reconcile_traffic
)
def update_traffic(
    session: Session,
    target: Target,
    *,
    traffic: Mapping[str, int],
    mirror_traffic: Mapping[str, int] | None = None,
    deployments: tuple[str, ...] = (),
) -> None:
    """Route live (and mirrored) traffic of endpoint ``target.name``.

    ``deployments`` are the endpoint's deployment names (read them first, as the screen already has);
    the rules (kinds.UpdateTraffic) are checked against them before any request. ``traffic`` is the whole live routing;
    ``mirror_traffic`` the whole mirror routing (None keeps today's; {} stops mirroring).
    """
    ml = _ml(session, target)
    endpoint = ml.online_endpoints.get(target.name)
    endpoint.traffic = {k: int(pct) for k, pct in traffic.items()}
    if mirror_traffic is not None:
        endpoint.mirror_traffic = {k: int(pct) for k, pct in mirror_traffic.items()}
    ml.online_endpoints.begin_create_or_update(endpoint).result()


@operation(
    "deployments.scale",
    "Scale online deployment",
    params=kinds.ScaleDeployment,
    reconcile=_reconcile_scale,
)
def scale(session: Session, target: Target, *, instance_count: int) -> None:
    """Set the instance count of deployment ``target.name`` of endpoint ``target.parent``."""
    ml = _ml(session, target)
    deployment = ml.online_deployments.get(target.name, target.parent)
    settings = getattr(deployment, "scale_settings", None)
    from azure.ai.ml.entities import TargetUtilizationScaleSettings

    if isinstance(settings, TargetUtilizationScaleSettings):
        raise v.ValidationError(
            [
                v.FieldError(
                    "instance_count",
                    "is set by the autoscaler of a TargetUtilization deployment; change its min/max instances instead",
                )
            ]
        )
    deployment.instance_count = instance_count
    ml.online_deployments.begin_create_or_update(deployment, skip_script_validation=True).result()


def _refuse_if_routed(name: str, traffic: Mapping[str, int], mirror: Mapping[str, int]) -> None:
    live = traffic_of(tuple(traffic.items()), name)
    mirrored = traffic_of(tuple(mirror.items()), name)
    v.check(
        v.FieldError("deployment", f"carries {live}% of live traffic; move its traffic first") if live else None,
        v.FieldError("deployment", f"carries {mirrored}% of mirrored traffic; move its traffic first")
        if mirrored
        else None,
    )


@operation(
    "deployments.delete",
    "Delete online deployment",
    params=kinds.DeleteDeployment,
    destructive=True,
    reconcile=expect_state(_deployment_state, ("", "deleting"), ("*",)),
)
def delete_deployment(
    session: Session,
    target: Target,
    *,
    traffic: Mapping[str, int],
    mirror_traffic: Mapping[str, int] | None = None,
) -> None:
    """Delete deployment ``target.name`` of endpoint ``target.parent``.

    ``traffic``/``mirror_traffic`` are the endpoint's current routing (from get_online_endpoint): a
    deployment that still carries traffic is refused here, before any request, as Azure would refuse it.
    """
    _refuse_if_routed(target.name, traffic, mirror_traffic or {})
    _ml(session, target).online_deployments.begin_delete(target.name, target.parent).result()


def _reconcile_batch_default(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
    body = read_resource(session, resource_path(t, "batchEndpoints", t.name), API)
    if body is None:
        return False, f"{t.name} does not exist"
    now = str(((body.get("properties") or {}).get("defaults") or {}).get("deploymentName") or "")
    applied = now.lower() == str(params.get("deployment_name", "")).lower()
    return applied, f"the default deployment of {t.name} is {now or 'none'}"


@operation(
    "deployments.set_batch_default",
    "Set the default batch deployment",
    params=kinds.SetBatchDefault,
    reconcile=_reconcile_batch_default,
)
def set_batch_default(
    session: Session, target: Target, *, deployment_name: str, deployments: tuple[str, ...] = ()
) -> None:
    """Make ``deployment_name`` the default deployment of batch endpoint ``target.name`` (the one a job invoking
    the endpoint without naming a deployment runs on). ``deployments``: the endpoint's deployment names, checked
    before any request."""
    ml = _ml(session, target)
    endpoint = ml.batch_endpoints.get(target.name)
    endpoint.defaults = {"deployment_name": deployment_name}  # the only default a batch endpoint has
    ml.batch_endpoints.begin_create_or_update(endpoint).result()


# -- invoke ----------------------------------------------------------------------------------------
#
# Invoking changes no Azure resource, but it goes through the choke point all the same: a user
# triggers it, it fetches an endpoint secret (listKeys/token are ARM *actions*, which a Reader cannot
# perform), and it runs a production model on data (billing, data collection, the model's own side
# effects). So it is refused in read-only mode, validated before any request and audited. The audit
# records the payload's size, never its content; the key or token is used for one request and is
# never logged, audited, kept in a model or put into an exception message.


def _validate_invoke(p: Mapping[str, Any], payload: Any, unexpected: tuple[str, ...] = ()) -> None:
    """The model's rules (kinds.InvokeEndpoint) on the payload as text, and what only a call can get wrong: a
    payload that is not text, a parameter invoke does not have."""
    errors: list[v.FieldError | None] = [v.FieldError(name, "is not a parameter of invoke") for name in unexpected]
    text = ""
    if isinstance(payload, str | bytes):
        try:
            text = payload.decode() if isinstance(payload, bytes) else payload
        except UnicodeDecodeError:
            errors.append(v.FieldError("payload", "is not UTF-8 text"))
    else:
        errors.append(v.FieldError("payload", "must be JSON text"))
    found = kinds.InvokeEndpoint.of({**p, "payload": text}).validate()
    said = {e.field for e in errors if e is not None}
    v.check(*errors, *(e for e in found if e.field not in said))


# Registered like every mutation (the registry and the read-only test see it), but its entry point is
# invoke() below, which keeps the payload out of the audited parameters.
operation("deployments.invoke", "Invoke online endpoint", params=kinds.InvokeEndpoint)
_INVOKE = REGISTRY["deployments.invoke"]


def invoke(
    session: Session,
    target: Target,
    *,
    payload: str | bytes = "",
    deployment_name: str = "",
    deployments: tuple[str, ...] = (),
    timeout_s: float = 60.0,
    **unexpected: Any,
) -> InvokeResult:
    """Send a JSON ``payload`` to online endpoint ``target.name``; to ``deployment_name`` if given,
    else wherever the endpoint's traffic routes it. Non-2xx answers raise (classify() reads them).

    ``deployments`` (optional) are the endpoint's deployment names, to check ``deployment_name`` before
    any request. Unknown keyword arguments are refused by validation (after the read-only check, like
    every registered operation, so the registry can call it generically)."""
    data = payload.encode() if isinstance(payload, str) else payload if isinstance(payload, bytes) else b""
    audited = {"deployment_name": deployment_name, "payload_bytes": len(data), "deployments": tuple(deployments)}
    op = dataclasses.replace(_INVOKE, validate=lambda p: _validate_invoke(p, payload, tuple(sorted(unexpected))))

    def send(session: Session, target: Target, **_: Any) -> InvokeResult:
        return _send(session, target, data, deployment_name, timeout_s)

    return run(op, send, session, target, audited)


invoke.operation = _INVOKE  # type: ignore[attr-defined]  # invoke runs its own choke point (see above)
FUNCTIONS[_INVOKE.name] = cast("Mutation[..., InvokeResult]", invoke)


def _credential_for(session: Session, target: Target, auth_mode: str, endpoint_path: str) -> str:
    mode = auth_mode.lower()
    rest = session.rest()
    if mode == "key":
        keys = rest.post(f"{endpoint_path}/listKeys", API) or {}
        return str(keys.get("primaryKey") or keys.get("secondaryKey") or "")
    if mode == "amltoken":
        return str((rest.post(f"{endpoint_path}/token", API) or {}).get("accessToken") or "")
    scope = session.cloud.aml_resource_id.rstrip("/") + "/.default"  # AADToken: an Entra token for Azure ML
    return str(session.credential.get_token(scope).token)


def _send(session: Session, target: Target, data: bytes, deployment_name: str, timeout_s: float) -> InvokeResult:
    from azure.core.exceptions import HttpResponseError

    path = (
        f"/subscriptions/{target.subscription_id}/resourceGroups/{target.resource_group}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{target.workspace}/onlineEndpoints/{target.name}"
    )
    endpoint = session.rest().get(path, API)
    props = endpoint.get("properties") or {}
    scoring_uri = str(props.get("scoringUri") or "")
    secret = _credential_for(session, target, str(props.get("authMode") or "Key"), path)
    headers = {"Content-Type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {secret}"}
    del secret
    if deployment_name:
        headers["azureml-model-deployment"] = deployment_name
    started = time.perf_counter()
    status, text, response_headers = session.rest().send_external(
        "POST", scoring_uri, content=data, headers=headers, timeout_s=timeout_s
    )
    latency_ms = (time.perf_counter() - started) * 1000.0
    headers.clear()
    served = next((val for k, val in response_headers.items() if k.lower() == "azureml-model-deployment"), "")
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    if status >= 400:
        error = parsed.get("error") if isinstance(parsed, Mapping) else None
        message = (error or {}).get("message") if isinstance(error, Mapping) else None
        exc = HttpResponseError(message=f"({status}) {message or text[:500] or 'scoring request failed'}")
        exc.status_code = status
        raise exc
    return InvokeResult(
        status=status,
        deployment=served,
        latency_ms=round(latency_ms, 1),
        text=text,
        request_bytes=len(data),
        response=parsed,
    )
