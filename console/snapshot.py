"""`azml snapshot` data path: the estate as one JSON document (and its Markdown / CSV views).

Built from the service layer and its models only — no Textual, direct or indirect (an import-linter
contract and a subprocess test hold this). The picture formats (txt, svg) live in snapshot_render.

The document (see schemas/snapshot.schema.json, versioned by ``SCHEMA_VERSION``):
- keys in a fixed order, rows sorted, times ISO-8601 UTC ("2026-11-02T09:30:00Z");
- one flat list of rows per table, each row naming its workspace;
- errors beside the data: one entry per (area, target) that failed, with Azure's kind, message, status,
  code and request id, so one failing workspace never hides the others (partial results);
- secrets redacted: the models carry none (datastores know how they authenticate, endpoints their auth
  mode), and ``redact`` still masks any secret-looking field or URL signature on the way out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.errors import ErrorKind, ServiceError
from services.fanout import DEFAULT_CONCURRENCY, collect
from services.models import (
    BatchDeployment,
    BatchEndpoint,
    Compute,
    Datastore,
    OnlineDeployment,
    OnlineEndpoint,
    Subscription,
    Usage,
    Workspace,
)
from services.models.jobs import Job, JobFilter
from services.session import Session

from .exitcodes import ExitCode

SCHEMA_VERSION = "1.0"
SCHEMA_ID = "urn:azml-console:schemas:snapshot:1.0"  # also the $id of schemas/snapshot.schema.json
KIND = "azml.snapshot"

AREAS: tuple[str, ...] = ("workspaces", "compute", "datastores", "jobs", "deployments", "metrics")
# area → the tables it fills, in document order
AREA_TABLES: dict[str, tuple[str, ...]] = {
    "workspaces": ("workspaces",),
    "compute": ("compute", "quota"),
    "datastores": ("datastores",),
    "jobs": ("jobs",),
    "deployments": ("endpoints", "deployments"),
    "metrics": ("metrics",),
}
TABLES: tuple[str, ...] = tuple(t for a in AREAS for t in AREA_TABLES[a])
FORMATS = ("json", "md", "csv", "txt", "svg")
DATA_FORMATS = ("json", "md", "csv")
JOB_LIMIT = 100  # the most recent jobs per workspace: one server page, never more

METRICS_WINDOW = dt.timedelta(hours=1)
METRICS_NOTE = (
    "metrics: the hour before generated_at, per workspace — each online endpoint's requests, 5xx rate and p95 "
    "latency from Log Analytics (AmlOnlineEndpointTrafficLog, aggregated on the server), and each cluster's "
    "node counts by state from Azure Monitor platform metrics (the latest 1-minute point)"
)
# One row per endpoint, whatever the traffic: the aggregation happens in Log Analytics.
ENDPOINT_HEALTH_KQL = """AmlOnlineEndpointTrafficLog
| summarize Requests = count(), Errors5xx = countif(ResponseCode >= 500),
    P95 = percentile(TotalDurationMs, 95) by EndpointName
| order by EndpointName asc"""
NODE_METRICS = ("Active Nodes", "Idle Nodes", "Unusable Nodes", "Preempted Nodes")
JOBS_NOTE = "jobs: the {limit} most recent active jobs per workspace (newest first)"


class SnapshotUsageError(ValueError):
    """The request cannot be served as asked (unknown workspace, bad area); exit code USAGE."""


@dataclass(frozen=True)
class SnapshotRequest:
    areas: tuple[str, ...] = AREAS
    workspaces: tuple[str, ...] = ()  # names (or ids), case-insensitive; empty: every visible workspace
    job_limit: int = JOB_LIMIT
    concurrency: int = DEFAULT_CONCURRENCY

    def __post_init__(self) -> None:
        unknown = [a for a in self.areas if a not in AREAS]
        if unknown:
            raise SnapshotUsageError(f"unknown area {unknown[0]!r}; choose among {', '.join(AREAS)}")
        if not 1 <= self.job_limit <= JOB_LIMIT:
            raise SnapshotUsageError(f"the job limit must be within 1..{JOB_LIMIT}")

    @property
    def tables(self) -> tuple[str, ...]:
        wanted = set(self.areas)
        return tuple(t for a in AREAS if a in wanted for t in AREA_TABLES[a])


@dataclass
class Snapshot:
    doc: dict[str, Any]
    workspaces: list[Workspace] = field(default_factory=list)
    succeeded: int = 0  # targets read without error
    fatal: ServiceError | None = None  # the workspace list itself could not be read

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.doc.get("errors", []))

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for([_kind_of(e) for e in self.errors], succeeded=self.succeeded, fatal=self.fatal is not None)


def _kind_of(error: Mapping[str, Any]) -> ErrorKind:
    try:
        return ErrorKind(error.get("kind", "error"))
    except ValueError:
        return ErrorKind.UNKNOWN


def exit_code_for(kinds: Sequence[ErrorKind], *, succeeded: int, fatal: bool = False) -> ExitCode:
    """OK without errors; PARTIAL when some targets failed and others answered; when nothing could be
    read, AUTH if every failure was about credentials or access, else UNREACHABLE."""
    if not kinds and not fatal:
        return ExitCode.OK
    if succeeded and not fatal:
        return ExitCode.PARTIAL
    if kinds and all(k in (ErrorKind.AUTH, ErrorKind.FORBIDDEN) for k in kinds):
        return ExitCode.AUTH
    return ExitCode.UNREACHABLE


# -- small value helpers -----------------------------------------------------------------------------


def iso_utc(value: str | dt.datetime | None) -> str | None:
    """Any ISO-8601 time (Z, offset, extra fractional digits) → "YYYY-MM-DDTHH:MM:SSZ"; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        t = value
    else:
        text = str(value).strip()
        m = re.match(r"^(.*?T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", text)
        if m:  # Python < 3.11 parsers choke on 7 fractional digits; seconds are enough here
            text = m.group(1) + (m.group(3) or "")
        try:
            t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pairs(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {str(k): v for k, v in sorted(pairs)}


def _last(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id else ""


# -- rows (each builder fixes the key order of its table) ------------------------------------------


def workspace_row(w: Workspace, subscriptions: Mapping[str, Subscription]) -> dict[str, Any]:
    sub = subscriptions.get(w.subscription_id.lower())
    return {
        "name": w.name,
        "id": w.id,
        "subscription_id": w.subscription_id,
        "subscription": sub.name if sub else "",
        "resource_group": w.resource_group,
        "location": w.location,
        "sku": w.sku,
        "public_network_access": w.public_network_access,
        "storage_account": _last(w.storage_account),
        "key_vault": _last(w.key_vault),
        "container_registry": _last(w.container_registry),
        "application_insights": _last(w.application_insights),
        "description": w.description,
        "tags": _pairs(w.tags),
    }


def compute_row(c: Compute) -> dict[str, Any]:
    n = c.nodes
    return {
        "workspace": c.workspace,
        "name": c.name,
        "id": c.id,
        "kind": c.kind,
        "compute_type": c.compute_type,
        "location": c.location,
        "vm_size": c.vm_size,
        "vcpus": c.vcpus,
        "gpus": c.gpus,
        "state": c.state,
        "provisioning_state": c.provisioning_state,
        "priority": c.priority,
        "min_nodes": c.min_nodes,
        "max_nodes": c.max_nodes,
        "idle_seconds_before_scale_down": c.idle_seconds,
        "current_nodes": c.current_nodes,
        "target_nodes": c.target_nodes,
        "nodes": {
            "running": n.running,
            "idle": n.idle,
            "preparing": n.preparing,
            "unusable": n.unusable,
            "preempted": n.preempted,
            "leaving": n.leaving,
        },
        "instance_type": c.instance_type,
        "namespace": c.namespace,
        "created_on": iso_utc(c.created_on),
        "errors": list(c.errors),
    }


def quota_row(subscription_id: str, location: str, u: Usage) -> dict[str, Any]:
    return {
        "subscription_id": subscription_id,
        "location": location,
        "name": u.name,
        "label": u.label,
        "current": u.current,
        "limit": u.limit,
        "unit": u.unit,
        "percent": None if u.limit <= 0 else round(u.percent, 1),
    }


def datastore_row(d: Datastore) -> dict[str, Any]:
    return {
        "workspace": d.workspace,
        "name": d.name,
        "id": d.id,
        "kind": d.kind,
        "datastore_type": d.datastore_type,
        "account_name": d.account_name,
        "container": d.container,
        "storage_url": d.storage_url,
        "auth": d.auth,  # how it authenticates, never the secret (Azure returns none without listSecrets)
        "identity_access": d.identity_access,
        "is_default": d.is_default,
        "is_system": d.is_system,
        "tenant_id": d.tenant_id,
        "client_id": d.client_id,
        "description": d.description,
        "tags": _pairs(d.tags),
        "created_on": iso_utc(d.created_on),
        "modified_on": iso_utc(d.modified_on),
    }


def job_row(j: Job) -> dict[str, Any]:
    return {
        "workspace": j.workspace,
        "name": j.name,
        "display_name": j.display_name,
        "type": j.type,
        "status": j.status,
        "experiment": j.experiment,
        "compute": j.compute,
        "creator": j.creator,
        "created": iso_utc(j.created),
        "environment": j.environment,
        "is_archived": j.is_archived,
        "tags": _pairs(j.tags),
    }


def online_endpoint_row(e: OnlineEndpoint) -> dict[str, Any]:
    return {
        "workspace": e.workspace,
        "name": e.name,
        "id": e.id,
        "type": "online",
        "kind": e.kind,
        "auth_mode": e.auth_mode,
        "provisioning_state": e.provisioning_state,
        "scoring_uri": e.scoring_uri,
        "traffic": _pairs(e.traffic),
        "mirror_traffic": _pairs(e.mirror_traffic),
        "default_deployment": "",
        "public_network_access": e.public_network_access,
        "compute": e.compute,
        "created_on": iso_utc(e.created_on),
    }


def batch_endpoint_row(e: BatchEndpoint) -> dict[str, Any]:
    return {
        "workspace": e.workspace,
        "name": e.name,
        "id": e.id,
        "type": "batch",
        "kind": "batch",
        "auth_mode": e.auth_mode,
        "provisioning_state": e.provisioning_state,
        "scoring_uri": e.scoring_uri,
        "traffic": {},
        "mirror_traffic": {},
        "default_deployment": e.default_deployment,
        "public_network_access": "",
        "compute": "",
        "created_on": iso_utc(e.created_on),
    }


def online_deployment_row(d: OnlineDeployment, endpoint: OnlineEndpoint) -> dict[str, Any]:
    return {
        "workspace": d.workspace,
        "endpoint": d.endpoint,
        "name": d.name,
        "id": d.id,
        "endpoint_type": "online",
        "kind": d.kind,
        "provisioning_state": d.provisioning_state,
        "traffic_percent": endpoint.traffic_of(d.name),
        "mirror_percent": endpoint.mirror_of(d.name),
        "instance_type": d.instance_type,
        "instance_count": d.instance_count,
        "scale_type": d.scale.scale_type,
        "compute": "",
        "model": d.model,
        "environment": d.environment,
        "error": {"code": d.error.code, "message": d.error.message} if d.error else None,
        "created_on": iso_utc(d.created_on),
        "modified_on": iso_utc(d.modified_on),
    }


def batch_deployment_row(d: BatchDeployment, endpoint: BatchEndpoint) -> dict[str, Any]:
    default = endpoint.default_deployment.lower() == d.name.lower()
    return {
        "workspace": d.workspace,
        "endpoint": d.endpoint,
        "name": d.name,
        "id": d.id,
        "endpoint_type": "batch",
        "kind": "batch",
        "provisioning_state": d.provisioning_state,
        "traffic_percent": 100 if default else 0,
        "mirror_percent": 0,
        "instance_type": d.instance_type,
        "instance_count": d.instance_count,
        "scale_type": "",
        "compute": d.compute,
        "model": d.model,
        "environment": d.environment,
        "error": None,
        "created_on": iso_utc(d.created_on),
        "modified_on": None,
    }


def metric_row(
    workspace: str, scope: str, metric: str, aggregation: str, value: float | None, unit: str, time: Any
) -> dict[str, Any]:
    return {
        "workspace": workspace,
        "scope": scope,
        "metric": metric,
        "aggregation": aggregation,
        "value": value,
        "unit": unit,
        "time": iso_utc(time),
    }


def error_row(area: str, workspace: str | None, target: str, err: ServiceError) -> dict[str, Any]:
    return {
        "area": area,
        "workspace": workspace,
        "target": target,
        "kind": err.kind.value,
        "message": err.message,
        "status": err.status,
        "code": err.code,
        "request_id": err.request_id or None,
    }


# -- secrets ------------------------------------------------------------------------------------------

REDACTED = "***REDACTED***"
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|credential|connection_?string|sas_?token|account_?key|"
    r"primary_?key|secondary_?key|api_?key|private_?key|signature)",
    re.IGNORECASE,
)
_SIGNED_URL = re.compile(r"([?&])(sig|se|sv|skoid|sktid|st|sp|spr|srt|ss)=[^&\s\"]*", re.IGNORECASE)


def redact(value: Any, key: str = "") -> Any:
    """Mask any secret-looking field and any URL signature; everything else passes unchanged."""
    if key and _SECRET_KEY.search(key) and value not in (None, "", {}, []):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and "sig=" in value.lower():
        return _SIGNED_URL.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", value)
    return value


# -- collection -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    area: str
    workspace: Workspace | None
    region: tuple[str, str] = ("", "")  # quota: (subscription id, location)

    @property
    def target(self) -> str:
        if self.workspace is not None:
            return self.workspace.id
        return f"/subscriptions/{self.region[0]}/locations/{self.region[1]}"


Loaded = tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]  # rows per table, errors


def _load(session: Session, task: _Task, request: SnapshotRequest, now: dt.datetime | None = None) -> Loaded:
    """One (area, workspace) read. Raises on failure of the whole target; inner failures are errors."""
    from services import compute, datastores, jobs

    ws = task.workspace
    if task.area == "quota":
        sub, location = task.region
        usages = compute.list_usages(session, sub, location)
        # the subscription-and-region usages only (Azure also repeats each per workspace and per cluster)
        regional = [u for u in usages if not u.kind.lower().endswith(("/workspaces/usages", "/computes/usages"))]
        # families nothing uses are noise; the regional totals always show
        regional = [u for u in regional if u.current > 0 or not u.kind.lower().endswith("/vmfamily/usages")]
        return {"quota": [quota_row(sub, location, u) for u in regional]}, []
    assert ws is not None
    if task.area == "compute":
        return {"compute": [compute_row(c) for c in compute.list_computes(session, ws)]}, []
    if task.area == "datastores":
        return {"datastores": [datastore_row(d) for d in datastores.list_datastores(session, ws)]}, []
    if task.area == "jobs":
        pager = jobs.list_jobs(session, ws, JobFilter(), page_size=request.job_limit, limit=request.job_limit)
        return {"jobs": [job_row(j) for j in pager]}, []
    if task.area == "deployments":
        return _load_deployments(session, ws)
    if task.area == "metrics":
        return _load_metrics(session, ws, now)
    raise AssertionError(task.area)


def _load_metrics(session: Session, ws: Workspace, now: dt.datetime | None) -> Loaded:
    """Endpoint health from Log Analytics and cluster node counts from platform metrics, for one workspace.

    A failure of one source is an error row beside the other's rows; when both fail, the workspace failed."""
    from services import monitor
    from services.errors import classify

    end = now or dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    failures: list[Exception] = []
    try:
        law = monitor.log_analytics_workspace(session, ws)
        result = monitor.run_query(session, law, ENDPOINT_HEALTH_KQL, (end - METRICS_WINDOW, end))
        for name, requests, errors_5xx, p95 in result.rows:
            scope = f"endpoint/{name}"
            rate = round(100.0 * errors_5xx / requests, 2) if requests else None
            rows.append(metric_row(ws.name, scope, "requests", "count", requests, "Count", end))
            rows.append(metric_row(ws.name, scope, "5xx_rate", "percent", rate, "Percent", end))
            p95_value = float(p95) if isinstance(p95, int | float) else None
            rows.append(metric_row(ws.name, scope, "latency_p95", "p95", p95_value, "MilliSeconds", end))
    except Exception as exc:
        failures.append(exc)
        errors.append(error_row("metrics", ws.name, ws.id, _metrics_error(exc, classify)))
    try:
        series = monitor.query_metrics(
            session,
            [(ws.id, ws.location)],
            monitor.WORKSPACE_NAMESPACE,
            NODE_METRICS,
            timespan=dt.timedelta(minutes=11),
            end=end + dt.timedelta(minutes=1),  # the minute holding `end` is the one that agrees with compute
            interval=dt.timedelta(minutes=1),
            split_by="ClusterName",
        )
        for s in series:
            cluster = dict(s.dimensions).get("ClusterName") or dict(s.dimensions).get("clustername")
            point = next((p for p in reversed(s.points) if p.average is not None), None)
            if cluster and point is not None:
                rows.append(
                    metric_row(
                        ws.name, f"cluster/{cluster}", s.metric, "average", point.average, s.unit, point.timestamp
                    )
                )
    except Exception as exc:
        failures.append(exc)
        errors.append(error_row("metrics", ws.name, ws.id, _metrics_error(exc, classify)))
    if len(failures) == 2:  # nothing read: the workspace failed (collect classifies it)
        raise failures[0]
    return {"metrics": rows}, errors


def _metrics_error(exc: BaseException, classify: Callable[[BaseException], ServiceError]) -> ServiceError:
    from services.models import KqlQueryFailed

    if isinstance(exc, KqlQueryFailed):
        base = classify(exc.__cause__) if exc.__cause__ is not None else ServiceError(ErrorKind.INVALID, "")
        return ServiceError(ErrorKind.INVALID, str(exc.error), exc.error.status, exc.error.code, base.request_id)
    return classify(exc)


def _load_deployments(session: Session, ws: Workspace) -> Loaded:
    from services import deployments
    from services.errors import classify

    endpoints: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    online = deployments.list_online_endpoints(session, ws)
    batch = deployments.list_batch_endpoints(session, ws)
    for e in online:
        endpoints.append(online_endpoint_row(e))
        try:
            rows.extend(online_deployment_row(d, e) for d in deployments.list_online_deployments(session, ws, e.name))
        except Exception as exc:  # one endpoint failing keeps the others
            errors.append(error_row("deployments", ws.name, e.id, classify(exc)))
    for b in batch:
        endpoints.append(batch_endpoint_row(b))
        try:
            rows.extend(batch_deployment_row(d, b) for d in deployments.list_batch_deployments(session, ws, b.name))
        except Exception as exc:
            errors.append(error_row("deployments", ws.name, b.id, classify(exc)))
    return {"endpoints": endpoints, "deployments": rows}, errors


def _select(workspaces: list[Workspace], wanted: Sequence[str]) -> list[Workspace]:
    if not wanted:
        return workspaces
    chosen: list[Workspace] = []
    for name in wanted:
        low = name.lower()
        match = [w for w in workspaces if w.name.lower() == low or w.id.lower() == low]
        if not match:
            known = ", ".join(sorted(w.name for w in workspaces)[:8]) or "none"
            raise SnapshotUsageError(f"no workspace named {name!r} (visible: {known})")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


_SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "workspaces": lambda r: (r["name"].lower(), r["id"].lower()),
    "compute": lambda r: (r["workspace"].lower(), r["name"].lower()),
    "quota": lambda r: (r["subscription_id"], r["location"], r["label"].lower(), r["name"]),
    "datastores": lambda r: (r["workspace"].lower(), r["name"].lower()),
    "endpoints": lambda r: (r["workspace"].lower(), r["type"], r["name"].lower()),
    "deployments": lambda r: (r["workspace"].lower(), r["endpoint_type"], r["endpoint"].lower(), r["name"].lower()),
    "metrics": lambda r: (r["workspace"].lower(), r["scope"].lower(), r["metric"].lower(), r["aggregation"]),
    "errors": lambda r: (r["area"], (r["workspace"] or "").lower(), r["target"].lower()),
}


def collect_snapshot(
    session: Session,
    request: SnapshotRequest,
    *,
    source: str,
    now: dt.datetime,
) -> Snapshot:
    """Read every requested area of every chosen workspace concurrently; never raises for Azure errors."""
    from services import workspaces as ws_service
    from services.errors import classify

    tables: dict[str, list[dict[str, Any]]] = {t: [] for t in request.tables}
    errors: list[dict[str, Any]] = []
    notes: list[str] = []
    snap = Snapshot(doc={})
    try:
        subs = ws_service.list_subscriptions(session)
        visible = ws_service.list_workspaces(session, [s.id for s in subs]) if subs else []
    except Exception as exc:
        snap.fatal = classify(exc)
        errors.append(error_row("workspaces", None, "", snap.fatal))
        subs, visible = [], []
    chosen = _select(sorted(visible, key=lambda w: (w.name.lower(), w.id.lower())), request.workspaces)
    snap.workspaces = chosen
    if snap.fatal is None:
        snap.succeeded += 1
    by_sub = {s.id.lower(): s for s in subs}
    if "workspaces" in tables:
        tables["workspaces"] = [workspace_row(w, by_sub) for w in chosen]

    tasks: list[_Task] = []
    for area in ("compute", "datastores", "jobs", "deployments", "metrics"):
        if area in request.areas:
            tasks.extend(_Task(area, w) for w in chosen)
    if "compute" in request.areas:
        regions = sorted({(w.subscription_id, w.location) for w in chosen})
        tasks.extend(_Task("quota", None, r) for r in regions)

    for result in collect(tasks, lambda t: _load(session, t, request, now), concurrency=request.concurrency):
        task = result.target
        if result.error is not None:
            ws_name = task.workspace.name if task.workspace else None
            errors.append(
                error_row("compute" if task.area == "quota" else task.area, ws_name, task.target, result.error)
            )
            continue
        assert result.value is not None
        rows, inner = result.value
        snap.succeeded += 1
        errors.extend(inner)
        for table, items in rows.items():
            tables[table].extend(items)

    for table, items in tables.items():
        key = _SORT_KEYS.get(table)
        if key is not None:
            items.sort(key=key)
    if "jobs" in tables:
        # newest first within a workspace, as the service lists them (stable for equal times)
        tables["jobs"].sort(key=lambda r: r["workspace"].lower())
        notes.append(JOBS_NOTE.format(limit=request.job_limit))
    if "metrics" in tables:
        notes.append(METRICS_NOTE)
    errors.sort(key=_SORT_KEYS["errors"])

    doc: dict[str, Any] = {
        "kind": KIND,
        "schema_version": SCHEMA_VERSION,
        "schema": SCHEMA_ID,
        "generated_at": iso_utc(now),
        "source": source,
        "areas": [a for a in AREAS if a in request.areas],
        "workspace_filter": list(request.workspaces),
        "job_limit": request.job_limit,
        "summary": {
            "workspaces": len(chosen),
            "errors": len(errors),
            "rows": {t: len(tables[t]) for t in request.tables},
        },
    }
    doc.update(tables)
    doc["errors"] = errors
    doc["notes"] = notes
    snap.doc = redact(doc)
    return snap


# -- output formats ---------------------------------------------------------------------------------

TITLES = {
    "workspaces": "Workspaces",
    "compute": "Compute",
    "quota": "Quota",
    "datastores": "Datastores",
    "jobs": "Jobs",
    "endpoints": "Endpoints",
    "deployments": "Deployments",
    "metrics": "Metrics",
    "errors": "Errors",
}

# every column of a table, in order (CSV headers, and the shape of an empty table)
COLUMNS: dict[str, tuple[str, ...]] = {
    "workspaces": tuple(
        workspace_row(Workspace("", "", "", "", ""), {}).keys(),
    ),
    "compute": tuple(
        compute_row(Compute("", "", "", "", "", "", "", 0, 0, "", "")).keys(),
    ),
    "quota": tuple(quota_row("", "", Usage("", "", 0, 0, "", "")).keys()),
    "datastores": tuple(datastore_row(Datastore("", "", "", "", "", "", "")).keys()),
    "jobs": tuple(job_row(Job("", "", "", "", "", "")).keys()),
    "endpoints": tuple(online_endpoint_row(OnlineEndpoint("", "", "", "", "", "", "", "", "")).keys()),
    "deployments": tuple(
        online_deployment_row(
            OnlineDeployment("", "", "", "", "", "", 0, "", "", ""),
            OnlineEndpoint("", "", "", "", "", "", "", "", ""),
        ).keys()
    ),
    "metrics": ("workspace", "scope", "metric", "aggregation", "value", "unit", "time"),
    "errors": tuple(error_row("", None, "", ServiceError(ErrorKind.UNKNOWN, "")).keys()),
}

# the columns a person reads in Markdown
MD_COLUMNS: dict[str, tuple[str, ...]] = {
    "workspaces": ("name", "subscription", "resource_group", "location", "public_network_access"),
    "compute": ("workspace", "name", "kind", "vm_size", "gpus", "state", "nodes", "min_nodes", "max_nodes", "priority"),
    "quota": ("subscription_id", "location", "label", "current", "limit", "percent"),
    "datastores": ("workspace", "name", "kind", "account_name", "container", "auth", "is_default"),
    "jobs": ("workspace", "name", "display_name", "type", "status", "experiment", "compute", "created"),
    "endpoints": ("workspace", "name", "type", "kind", "auth_mode", "provisioning_state", "traffic"),
    "deployments": (
        "workspace",
        "endpoint",
        "name",
        "endpoint_type",
        "provisioning_state",
        "traffic_percent",
        "instance_type",
        "instance_count",
    ),
    "metrics": COLUMNS["metrics"],
    "errors": ("area", "workspace", "kind", "status", "code", "message", "request_id"),
}

_MAP_FIELDS = frozenset({"tags", "traffic", "mirror_traffic"})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ";".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ";".join(_cell(v) for v in value)
    return str(value)


def flatten(row: Mapping[str, Any]) -> dict[str, str]:
    """A row as flat text cells: fixed-shape objects become dotted columns (nodes.idle), maps k=v;k=v."""
    out: dict[str, str] = {}
    for key, value in row.items():
        if isinstance(value, dict) and key not in _MAP_FIELDS:
            for sub, v in value.items():
                out[f"{key}.{sub}"] = _cell(v)
        else:
            out[key] = _cell(value)
    return out


def _flat_columns(table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    columns: list[str] = []
    for key in COLUMNS[table]:
        sample = next((r.get(key) for r in rows if isinstance(r.get(key), dict)), None)
        if key == "nodes" and sample is None:
            sample = compute_row(Compute("", "", "", "", "", "", "", 0, 0, "", ""))["nodes"]
        if key == "error" and sample is None:
            sample = {"code": "", "message": ""}
        if isinstance(sample, dict) and key not in _MAP_FIELDS:
            columns.extend(f"{key}.{sub}" for sub in sample)
        else:
            columns.append(key)
    return columns


def _doc_tables(doc: Mapping[str, Any]) -> list[str]:
    return [t for t in TABLES if t in doc]


def to_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_csv(doc: Mapping[str, Any]) -> str:
    """One table: a plain CSV. Several: sections, each led by a `# TABLE` line, separated by a blank line."""
    tables = _doc_tables(doc)
    if doc.get("errors"):
        tables.append("errors")
    buf = io.StringIO()
    for i, table in enumerate(tables):
        rows: list[dict[str, Any]] = list(doc.get(table) or [])
        if len(tables) > 1:
            if i:
                buf.write("\n")
            buf.write(f"# {table}\n")
        columns = _flat_columns(table, rows)
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(flatten(row))
    return buf.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _md_cell(key: str, value: Any) -> str:
    if key == "nodes" and isinstance(value, dict):
        return "{running}r/{idle}i/{preparing}p/{unusable}u/{preempted}x".format(**value)
    if key == "percent" and value is not None:
        return f"{value}%"
    return _md_escape(_cell(value))


def to_markdown(doc: Mapping[str, Any]) -> str:
    lines = [
        "# azml snapshot",
        "",
        f"- Generated: {doc.get('generated_at')}",
        f"- Source: {doc.get('source')}",
        f"- Workspaces: {doc.get('summary', {}).get('workspaces', 0)}",
        f"- Errors: {len(doc.get('errors') or [])}",
        f"- Schema: {doc.get('kind')} {doc.get('schema_version')}",
    ]
    tables = _doc_tables(doc)
    if doc.get("errors"):
        tables.insert(0, "errors")
    for table in tables:
        rows = list(doc.get(table) or [])
        columns = MD_COLUMNS[table]
        lines += ["", f"## {TITLES[table]} ({len(rows)})", ""]
        if not rows:
            lines.append("_none_")
            continue
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "|".join("---:" if _numeric(rows, c) else "---" for c in columns) + "|")
        for row in rows:
            lines.append("| " + " | ".join(_md_cell(c, row.get(c)) for c in columns) + " |")
    notes = doc.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {_md_escape(n)}" for n in notes]
    return "\n".join(lines) + "\n"


def _numeric(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    values = [r.get(column) for r in rows if r.get(column) is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def render(doc: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(doc)
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "csv":
        return to_csv(doc)
    raise SnapshotUsageError(f"{fmt} is not a data format ({', '.join(DATA_FORMATS)})")


def estate_clock(source: Any) -> Callable[[], dt.datetime]:
    """The estate's own clock: the demo's simulation clock (frozen for golden files), else wall time.

    The Source does not carry a clock yet; the demo backend is found among its closers.
    """
    for close in source.closers:
        backend = getattr(close, "__self__", None)
        clock = getattr(getattr(backend, "emulator", None), "clock", None)
        now = getattr(clock, "now", None)
        if callable(now):
            return now  # type: ignore[no-any-return]
    return lambda: dt.datetime.now(dt.UTC)


def schema_path() -> str:
    from pathlib import Path

    return str(Path(__file__).with_name("schemas") / "snapshot.schema.json")
