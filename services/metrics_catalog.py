"""The metrics catalog: what the metrics screen charts and what the snapshot's metrics area reads, in one
place (no Textual). KQL panels name a query of the library (services/queries/*.kql), which aggregates on the
server; platform panels read Azure Monitor metrics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# -- the snapshot's metrics area (and `azml check`): the hour before the snapshot, per workspace ---------

METRICS_WINDOW = dt.timedelta(hours=1)
# One row per endpoint, whatever the traffic: the aggregation happens in Log Analytics.
ENDPOINT_HEALTH_KQL = """AmlOnlineEndpointTrafficLog
| summarize Requests = count(), Errors5xx = countif(ResponseCode >= 500),
    P95 = percentile(TotalDurationMs, 95) by EndpointName
| order by EndpointName asc"""
# cluster node counts by state, from the workspace's platform metrics
NODE_METRICS = ("Active Nodes", "Idle Nodes", "Unusable Nodes", "Preempted Nodes")

# -- the metrics screen's panels ---------------------------------------------------------------------


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    scopes: tuple[str, ...]  # the scope kinds it shows for
    query: str = ""  # the query library's key (KQL panels)
    values: tuple[str, ...] = ()
    split: tuple[str, ...] = ()
    fill: float | None = None  # counts: a bucket without rows is 0
    unit: str = ""
    variant_column: str = ""  # `m` cycles the rows shown by this column's value
    variants: tuple[tuple[str, str], ...] = ()  # (value, label)
    platform: bool = False  # Azure Monitor platform metrics instead of KQL


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("nodes", "Cluster nodes by state", ("workspace", "cluster"), "cluster_nodes_by_state", unit="nodes"),
    PanelSpec(
        "utilization",
        "Node utilization",
        ("workspace", "cluster"),
        "node_utilization",
        values=("Utilization",),
        split=("NodeId",),
        unit="%",
        variant_column="MetricName",
        variants=(("GpuUtilization", "GPU"), ("CpuUtilization", "CPU"), ("GpuMemoryUtilization", "GPU memory")),
    ),
    PanelSpec("jobs", "Job outcomes", ("workspace",), "job_outcomes", ("Runs",), ("Status",), fill=0.0, unit="runs"),
    PanelSpec(
        "requests",
        "Endpoint requests per minute",
        ("workspace", "endpoint"),
        "endpoint_requests",
        ("RequestsPerMinute",),
        ("DeploymentName",),
        fill=0.0,
        unit="req/min",
    ),
    PanelSpec("latency", "Endpoint latency", ("workspace", "endpoint"), "endpoint_latency", ("P50", "P95", "P99")),
    PanelSpec("errors", "Endpoint 5xx rate", ("workspace", "endpoint"), "endpoint_errors", ("ErrorRate",), unit="%"),
    PanelSpec(
        "deployment",
        "Deployment utilization (platform metrics)",
        ("workspace", "endpoint"),
        unit="%",
        variants=(
            ("CpuUtilizationPercentage", "CPU"),
            ("CpuMemoryUtilizationPercentage", "memory"),
            ("GpuUtilizationPercentage", "GPU"),
            ("GpuMemoryUtilizationPercentage", "GPU memory"),
        ),
        platform=True,
    ),
)
