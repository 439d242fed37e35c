"""CPU and GPU utilisation of each node of a compute cluster, from Log Analytics.

Source: the `AmlComputeCpuGpuUtilization` table the workspace's diagnostic settings send to Log Analytics (the
same source as the metrics screen's node-utilisation panel). It is per node and per device (CPU, each GPU, each
GPU's memory), which Azure Monitor's platform metrics for a workspace are not: those are per cluster. The mean
over a short window is pushed down to Log Analytics; one query serves every node of the cluster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from . import monitor
from .models import Workspace
from .session import Session

WINDOW = dt.timedelta(minutes=10)

KQL = """AmlComputeCpuGpuUtilization
| where ClusterName == "{cluster}"
| summarize Utilization = round(avg(Utilization), 1) by NodeId, MetricName"""


@dataclass(frozen=True)
class NodeUtilization:
    node_id: str
    cpu: float | None = None  # percent, mean over the window
    gpu: float | None = None  # percent, mean over the window and the node's GPUs
    gpu_memory: float | None = None


def node_utilization(
    session: Session, ws: Workspace, cluster: str, *, window: dt.timedelta = WINDOW, override: str | None = None
) -> dict[str, NodeUtilization]:
    """node id → its mean CPU, GPU and GPU memory utilisation over the last `window` (only nodes that reported).

    Raises monitor.MonitorLookupError when the workspace sends no logs to Log Analytics."""
    safe = cluster.replace("\\", "\\\\").replace('"', '\\"')
    law = monitor.log_analytics_workspace(session, ws, override)
    result = monitor.run_query(session, law, KQL.format(cluster=safe), window, include_statistics=False)
    names = [c.name for c in result.columns]
    values: dict[str, dict[str, float]] = {}
    for row in result.rows:
        r: Mapping[str, object] = dict(zip(names, row, strict=False))
        node, metric, value = str(r.get("NodeId") or ""), str(r.get("MetricName") or ""), r.get("Utilization")
        if node and isinstance(value, int | float):
            values.setdefault(node, {})[metric] = float(value)
    return {
        node: NodeUtilization(node, m.get("CpuUtilization"), m.get("GpuUtilization"), m.get("GpuMemoryUtilization"))
        for node, m in values.items()
    }
