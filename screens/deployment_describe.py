"""What the describe view shows of an endpoint, an online deployment or a batch deployment, and the small
formatters it (and the plans of the actions) share: traffic splits, probes, model and environment names."""

from __future__ import annotations

from services.kinds.deployments import TreeRow as Row
from services.models.deployments import (
    BatchDeployment,
    BatchEndpoint,
    OnlineDeployment,
    OnlineEndpoint,
    Probe,
    Traffic,
)
from services.times import iso

Endpoint = OnlineEndpoint | BatchEndpoint


def routing(traffic: Traffic, empty: str = "none") -> str:
    shown = [f"{name} {pct}%" for name, pct in traffic if pct]
    return ", ".join(shown) if shown else empty


def probe_text(p: Probe) -> str:
    if not p.period_s and not p.failure_threshold:
        return "default"
    return (
        f"initial delay {p.initial_delay_s:g}s, period {p.period_s:g}s, timeout {p.timeout_s:g}s, "
        f"failure threshold {p.failure_threshold}, success threshold {p.success_threshold}"
    )


def asset_label(asset_id: str, kind: str) -> str:
    """`.../models/churn-model/versions/5` → `churn-model:5` (the id itself when it has another shape)."""
    parts = asset_id.rstrip("/").split("/")
    if kind in parts:
        i = parts.index(kind)
        name = parts[i + 1] if i + 1 < len(parts) else ""
        version = parts[i + 3] if i + 3 < len(parts) and parts[i + 2] == "versions" else ""
        return f"{name}:{version}" if version else name
    return asset_id.removeprefix("azureml:")


def describe_row(row: Row) -> list[tuple[str, str]]:
    """The describe view of a row: an endpoint, an online deployment or a batch deployment."""
    ep, d = row.endpoint, row.deployment
    if d is None:
        return _endpoint_fields(row, ep)
    if isinstance(d, OnlineDeployment):
        return _online_fields(d, ep)
    return _batch_fields(d, ep)


def _endpoint_fields(row: Row, ep: Endpoint) -> list[tuple[str, str]]:
    fields = [("Name", ep.name), ("Id", ep.id), ("Kind", row.kind)]
    if isinstance(ep, OnlineEndpoint):
        fields += [
            ("Auth mode", ep.auth_mode),
            ("Scoring URI", ep.scoring_uri),
            ("Swagger URI", ep.swagger_uri),
            ("Traffic", routing(ep.traffic)),
            ("Mirror traffic", routing(ep.mirror_traffic)),
            ("Public network access", ep.public_network_access or "-"),
        ]
        if ep.compute:
            fields.append(("Kubernetes compute", ep.compute))
    else:
        fields += [
            ("Auth mode", ep.auth_mode),
            ("Scoring URI", ep.scoring_uri),
            ("Swagger URI", ep.swagger_uri),
            ("Default deployment", ep.default_deployment or "none"),
        ]
    fields += [
        ("Deployments", ", ".join(row.deployment_names) or "none"),
        ("Provisioning state", ep.provisioning_state),
        ("Region", ep.location),
        ("Description", ep.description),
    ]
    if isinstance(ep, OnlineEndpoint):
        fields.append(("Tags", ", ".join(f"{k}={v}" for k, v in ep.tags)))
        created = iso(ep.created_on)
        fields.append(("Created", f"{created} by {ep.created_by}" if ep.created_by else created))
    else:
        fields.append(("Created", iso(ep.created_on)))
    if row.error:
        fields.append(("Error", f"deployments could not be read: {row.error}"))
    return fields


def _online_fields(d: OnlineDeployment, ep: Endpoint) -> list[tuple[str, str]]:
    s, rs = d.scale, d.request_settings
    if s.autoscaled:
        scale = (
            f"TargetUtilization: {s.min_instances} to {s.max_instances} instances, "
            f"target {s.target_utilization}% utilization, polling every {s.polling_interval_s:g}s"
        )
    else:
        scale = f"{s.scale_type} (the instance count is set by hand)"
    live = ep.traffic_of(d.name) if isinstance(ep, OnlineEndpoint) else 0
    mirror = ep.mirror_of(d.name) if isinstance(ep, OnlineEndpoint) else 0
    fields = [
        ("Name", d.name),
        ("Endpoint", d.endpoint),
        ("Id", d.id),
        ("Kind", d.kind),
        ("Model", f"{asset_label(d.model, 'models')} ({d.model})" if d.model else "-"),
        ("Environment", asset_label(d.environment, "environments") or "-"),
        ("Instance type", d.instance_type),
        ("Instance count", str(d.instance_count)),
        ("Scale settings", scale),
        (
            "Request settings",
            f"timeout {rs.request_timeout_ms} ms, {rs.max_concurrent_requests_per_instance} concurrent "
            f"requests per instance, max queue wait {rs.max_queue_wait_ms} ms",
        ),
        ("Liveness probe", probe_text(d.liveness_probe)),
        ("Readiness probe", probe_text(d.readiness_probe)),
        ("Traffic", f"live {live}%, mirrored {mirror}%"),
        ("Provisioning state", d.provisioning_state),
        ("App Insights", "enabled" if d.app_insights_enabled else "disabled"),
        ("Egress public network", d.egress_public_network_access or "-"),
        ("Created", iso(d.created_on)),
        ("Modified", iso(d.modified_on)),
        ("Description", d.description),
    ]
    if d.error is not None:
        fields.append(("Error", f"{d.error.code}: {d.error.message}"))
    return fields


def _batch_fields(d: BatchDeployment, ep: Endpoint) -> list[tuple[str, str]]:
    default = isinstance(ep, BatchEndpoint) and ep.default_deployment.lower() == d.name.lower()
    threshold = "ignore failed mini-batches" if d.error_threshold < 0 else str(d.error_threshold)
    return [
        ("Name", d.name),
        ("Endpoint", d.endpoint),
        ("Id", d.id),
        ("Default deployment", "yes" if default else "no"),
        ("Model", f"{asset_label(d.model, 'models')} ({d.model})" if d.model else "-"),
        ("Environment", asset_label(d.environment, "environments") or "-"),
        ("Compute", d.compute),
        ("Instance type", d.instance_type or "-"),
        ("Instance count", str(d.instance_count)),
        ("Mini-batch size", str(d.mini_batch_size)),
        ("Max concurrency", f"{d.max_concurrency_per_instance} per instance"),
        ("Retries", f"{d.max_retries}, timeout {d.retry_timeout_s:g}s"),
        ("Error threshold", threshold),
        ("Output", f"{d.output_action} to {d.output_file_name}" if d.output_file_name else d.output_action),
        ("Logging level", d.logging_level),
        ("Provisioning state", d.provisioning_state),
        ("Created", iso(d.created_on)),
        ("Description", d.description),
    ]
