"""Metrics of a workspace over the last hour: endpoint health from Log Analytics, cluster node counts from
Azure Monitor platform metrics (the queries and metric names: services/metrics_catalog, with the metrics
screen's panels)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..errors import classify
from ..kind import TIME, Column, Kind, Loaded, LoadOptions, Target, TargetError, iso_utc
from ..metrics_catalog import ENDPOINT_HEALTH_KQL, METRICS_WINDOW, NODE_METRICS

__all__ = ["ENDPOINT_HEALTH_KQL", "KINDS", "METRICS_WINDOW", "NODE_METRICS", "MetricPoint", "load"]


@dataclass(frozen=True)
class MetricPoint:
    workspace: str
    scope: str  # endpoint/NAME or cluster/NAME
    metric: str
    aggregation: str
    value: float | None
    unit: str
    time: Any

    @property
    def id(self) -> str:
        return f"{self.workspace}/{self.scope}/{self.metric}"

    @property
    def name(self) -> str:
        return f"{self.scope} {self.metric}"


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    """Endpoint health and cluster node counts of one workspace. A failure of one source is an error beside
    the other's rows; when both fail, the workspace failed (raises)."""
    from .. import monitor

    ws = target.workspace
    assert ws is not None
    end = options.now or dt.datetime.now(dt.UTC)
    out = Loaded({"metrics": []})
    rows = out.rows["metrics"]
    failures: list[Exception] = []
    try:
        law = monitor.log_analytics_workspace(session, ws)
        result = monitor.run_query(session, law, ENDPOINT_HEALTH_KQL, (end - METRICS_WINDOW, end))
        for name, requests, errors_5xx, p95 in result.rows:
            scope = f"endpoint/{name}"
            rate = round(100.0 * errors_5xx / requests, 2) if requests else None
            rows.append(MetricPoint(ws.name, scope, "requests", "count", requests, "Count", end))
            rows.append(MetricPoint(ws.name, scope, "5xx_rate", "percent", rate, "Percent", end))
            p95_value = float(p95) if isinstance(p95, int | float) else None
            rows.append(MetricPoint(ws.name, scope, "latency_p95", "p95", p95_value, "MilliSeconds", end))
    except Exception as exc:
        failures.append(exc)
        out.errors.append(TargetError("metrics", ws.name, ws.id, classify(exc)))
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
                    MetricPoint(
                        ws.name, f"cluster/{cluster}", s.metric, "average", point.average, s.unit, point.timestamp
                    )
                )
    except Exception as exc:
        failures.append(exc)
        out.errors.append(TargetError("metrics", ws.name, ws.id, classify(exc)))
    if len(failures) == 2:  # nothing read: the workspace failed (the fan-out classifies it)
        raise failures[0]
    return out


def _m(f: str) -> Any:
    return lambda m: getattr(m, f)


KINDS = (
    Kind(
        name="metrics",
        title="Metrics",
        model=MetricPoint,
        order=60,
        loader=load,
        service="services.monitor",
        schema_def="metric",
        description=(
            "one value per (workspace, scope, metric) over the hour before generated_at: endpoint/NAME rows carry "
            "requests (count), 5xx_rate (percent) and latency_p95 (p95, ms) from Log Analytics; cluster/NAME rows "
            "the latest node counts by state from Azure Monitor platform metrics"
        ),
        help="Live metrics; `:metrics NAME` for one cluster or endpoint",
        aliases=("metric", "m"),
        argument="NAME",
        screen="screens.metrics:MetricsScreen",
        sort_key=lambda r: (r["workspace"].lower(), r["scope"].lower(), r["metric"].lower(), r["aggregation"]),
        columns=(
            Column("workspace", "Workspace", _m("workspace"), md=True),
            Column("scope", "Scope", _m("scope"), {"type": "string", "pattern": "^(endpoint|cluster)/.+$"}, md=True),
            Column("metric", "Metric", _m("metric"), md=True),
            Column("aggregation", "Aggregation", _m("aggregation"), md=True),
            Column("value", "Value", _m("value"), {"type": ["number", "null"]}, md=True),
            Column("unit", "Unit", _m("unit"), md=True),
            Column("time", "Time", lambda m: iso_utc(m.time), TIME, md=True),
        ),
    ),
)
