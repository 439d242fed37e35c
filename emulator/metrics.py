"""Azure Monitor platform metrics for Azure ML resources, from the same simulation as the log tables.

Served as ``POST /subscriptions/{sub}/metrics:getBatch`` (what azure-monitor-querymetrics' MetricsClient
sends): several resources of one namespace per call. Names, units and dimensions are Azure ML's:

- workspaces: Active/Idle/Unusable/Preempted/Leaving/Total Nodes (and Cores), Completed/Failed/Cancelled/
  Started/Queued Runs, CpuUtilization, GpuUtilization, GpuMemoryUtilization — dimension ClusterName;
- onlineEndpoints: RequestsPerMinute, RequestLatency, RequestLatency_P50/P90/P95/P99, NetworkBytes —
  dimension deployment;
- onlineEndpoints/deployments: CpuUtilizationPercentage, CpuMemoryUtilizationPercentage,
  GpuUtilizationPercentage, GpuMemoryUtilizationPercentage, DeploymentCapacity, DiskUtilization.

Node counts agree with the compute area at the current instant and with AmlComputeClusterEvent; request
counts and latencies are computed from the very requests AmlOnlineEndpointTrafficLog lists.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import logs
from .clock import iso
from .estate import Estate
from .http import ApiError

WS_NS = "microsoft.machinelearningservices/workspaces"
EP_NS = "microsoft.machinelearningservices/workspaces/onlineendpoints"
DEP_NS = "microsoft.machinelearningservices/workspaces/onlineendpoints/deployments"
AGGREGATIONS = ("average", "minimum", "maximum", "total", "count")
MAX_POINTS = 10_000


@dataclass(frozen=True)
class MetricDef:
    name: str
    unit: str
    primary: str  # the default aggregation
    dimension: str  # "" when the metric has none
    description: str


_NODE_STATES = {
    "Active": "running",
    "Idle": "idle",
    "Unusable": "unusable",
    "Preempted": "preempted",
    "Leaving": "leaving",
}
_RUN_STATUS = {
    "Completed Runs": "Completed",
    "Failed Runs": "Failed",
    "Cancelled Runs": "Canceled",
    "Started Runs": "Running",
    "Queued Runs": "Queued",
    "Preparing Runs": "Preparing",
    "Cancel Requested Runs": "CancelRequested",
}


def _defs() -> dict[str, dict[str, MetricDef]]:
    ws: list[MetricDef] = []
    for label, state in _NODE_STATES.items():
        ws.append(MetricDef(f"{label} Nodes", "Count", "average", "ClusterName", f"Number of {state} nodes."))
        ws.append(MetricDef(f"{label} Cores", "Count", "average", "ClusterName", f"Number of {state} cores."))
    ws.append(MetricDef("Total Nodes", "Count", "average", "ClusterName", "Number of allocated nodes."))
    ws.append(MetricDef("Total Cores", "Count", "average", "ClusterName", "Number of allocated cores."))
    for name, status in _RUN_STATUS.items():
        ws.append(MetricDef(name, "Count", "total", "", f"Number of runs that became {status}."))
    for name in ("CpuUtilization", "GpuUtilization", "GpuMemoryUtilization"):
        ws.append(MetricDef(name, "Percent", "average", "ClusterName", f"{name} of the cluster nodes."))
    ep = [
        MetricDef("RequestsPerMinute", "Count", "average", "deployment", "Requests sent to the endpoint per minute."),
        MetricDef("RequestLatency", "MilliSeconds", "average", "deployment", "Mean time to answer a request."),
        MetricDef("RequestLatency_P50", "MilliSeconds", "average", "deployment", "Latency, 50th percentile."),
        MetricDef("RequestLatency_P90", "MilliSeconds", "average", "deployment", "Latency, 90th percentile."),
        MetricDef("RequestLatency_P95", "MilliSeconds", "average", "deployment", "Latency, 95th percentile."),
        MetricDef("RequestLatency_P99", "MilliSeconds", "average", "deployment", "Latency, 99th percentile."),
        MetricDef("Errors5xxPerMinute", "Count", "average", "deployment", "Requests answered 5xx per minute."),
        MetricDef("NetworkBytes", "BytesPerSecond", "average", "deployment", "Bytes per second served."),
    ]
    dep = [
        MetricDef("CpuUtilizationPercentage", "Percent", "average", "instanceId", "CPU utilization."),
        MetricDef("CpuMemoryUtilizationPercentage", "Percent", "average", "instanceId", "Memory utilization."),
        MetricDef("GpuUtilizationPercentage", "Percent", "average", "instanceId", "GPU utilization."),
        MetricDef("GpuMemoryUtilizationPercentage", "Percent", "average", "instanceId", "GPU memory utilization."),
        MetricDef("DiskUtilization", "Percent", "average", "instanceId", "Disk utilization."),
        MetricDef("DeploymentCapacity", "Count", "average", "", "Instances in the deployment."),
    ]
    return {
        WS_NS: {m.name.lower(): m for m in ws},
        EP_NS: {m.name.lower(): m for m in ep},
        DEP_NS: {m.name.lower(): m for m in dep},
    }


DEFINITIONS = _defs()
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)


def parse_interval(text: str) -> float:
    m = _DURATION.match(text or "")
    if not m or text.upper() in ("P", "PT"):
        raise ApiError(400, "BadRequest", f"Invalid interval '{text}': expected an ISO 8601 duration such as PT1M.")
    d, h, mi, s = m.groups()
    seconds = int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)
    if seconds < 60:
        raise ApiError(400, "BadRequest", f"Invalid interval '{text}': the finest grain is PT1M.")
    return seconds


def duration(seconds: float) -> str:
    """Seconds as an ISO 8601 duration (PT1M, P1D...)."""
    s = int(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return out + ("T" + time if time else "" if days else "T0S")


def parse_filter(text: str | None) -> dict[str, str]:
    """``dim eq 'value' and other eq '*'`` → {dim: value}; '*' means split by that dimension."""
    out: dict[str, str] = {}
    if not text:
        return out
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        m = re.fullmatch(r"\s*([\w%]+)\s+eq\s+'([^']*)'\s*", clause, re.IGNORECASE)
        if not m:
            raise ApiError(400, "BadRequest", f"Invalid filter clause '{clause}': expected name eq 'value'.")
        out[m.group(1).lower()] = m.group(2)
    return out


Samples = dict[str, list[list[float]]]  # dimension value → per bucket, the samples


@dataclass
class Window:
    estate: Estate
    now: float  # sim seconds
    starts: list[float]  # bucket starts, sim seconds
    interval: float
    volume: int

    @property
    def end(self) -> float:
        return self.starts[-1] + self.interval if self.starts else 0.0

    def minute_samples(self, i: int) -> list[float]:
        """Sample instants of bucket i: each whole minute up to now, and now itself when it falls inside."""
        s, e = self.starts[i], self.starts[i] + self.interval
        out = [m * 60.0 for m in range(math.ceil(s / 60), math.ceil(e / 60)) if m * 60.0 <= self.now]
        if s <= self.now < e and (not out or out[-1] < self.now - 1e-6):
            out.append(self.now)
        return out

    def bucket_of(self, t: float) -> int | None:
        if not self.starts or t < self.starts[0] or t >= self.end:
            return None
        return int((t - self.starts[0]) // self.interval)


def _workspace_samples(w: Window, res: dict[str, Any], metric: MetricDef) -> Samples:
    out: Samples = {}
    name = metric.name
    if name in _RUN_STATUS:
        status = _RUN_STATUS[name]
        counts = [0.0] * len(w.starts)
        for rec in logs.all_runs(w.estate, res["id"]):
            if rec.t_queue > w.end:
                continue
            for t, st in logs.transitions(rec, w.now):
                b = w.bucket_of(t)
                if st == status and b is not None:
                    counts[b] += 1
        out[""] = [[c] for c in counts]
        return out
    t0 = w.starts[0] if w.starts else w.now
    for cl in logs.clusters(w.estate, [res["id"]]):
        if name in ("CpuUtilization", "GpuUtilization", "GpuMemoryUtilization"):
            out[cl.name] = _node_utilization(w, cl, name)
            continue
        hist = logs.NodeHistory(w.estate, cl, w.now, t0)
        label, _, kind = name.partition(" ")
        per_bucket = []
        for i in range(len(w.starts)):
            values = []
            for t in w.minute_samples(i):
                c = hist.at(t)
                if label == "Total":
                    n = sum(v for k, v in c.items() if k != "preempted")
                else:
                    n = c[_NODE_STATES[label]]
                values.append(float(n * (cl.cores if kind == "Cores" else 1)))
            per_bucket.append(values)
        out[cl.name] = per_bucket
    return out


def _node_utilization(w: Window, cl: logs.ClusterInfo, name: str) -> list[list[float]]:
    nodes = logs.current_nodes(w.estate, cl)
    per_bucket: list[list[float]] = []
    devices = [0] if name == "CpuUtilization" else list(range(cl.gpus))
    metric = name
    for i in range(len(w.starts)):
        values: list[float] = []
        for t in w.minute_samples(i):
            k = int(t // logs.SAMPLE_S)
            for node, created in nodes:
                state = logs.node_state_at(node, created, t)
                if state is None or state in ("leaving", "preempted"):
                    continue
                seed = logs.seed_of(w.estate.seed, "util", node.node_id)
                for g in devices:
                    j = 0 if metric == "CpuUtilization" else 1 + 2 * g + (1 if metric == "GpuMemoryUtilization" else 0)
                    values.append(logs.utilization(state, metric, logs.unit(seed, k * 8 + j)))
        per_bucket.append(values)
    return per_bucket


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100.0 * len(ordered)) - 1))
    return ordered[k]


def _endpoint_samples(w: Window, res: dict[str, Any], metric: MetricDef, split: bool) -> Samples:
    deps = [d for d in logs.deployments(w.estate) if d.endpoint_id.lower() == res["id"].lower()]
    by_dep: dict[str, list[list[logs.Request]]] = {}
    t1 = min(w.end, w.now)
    for d in deps:
        buckets: list[list[logs.Request]] = [[] for _ in w.starts]
        if w.starts:
            for r in logs.requests(w.estate, d, w.starts[0], t1, w.volume):
                b = w.bucket_of(r.t)
                if b is not None:
                    buckets[b].append(r)
        by_dep[d.name] = buckets
    groups: dict[str, list[list[logs.Request]]] = {}
    if split:
        groups = by_dep
    else:
        groups[""] = [[r for d in by_dep.values() for r in d[i]] for i in range(len(w.starts))]
    out: Samples = {}
    name = metric.name
    minutes = w.interval / 60.0
    for key, buckets in groups.items():
        series: list[list[float]] = []
        for i, reqs in enumerate(buckets):
            if w.starts[i] > w.now:
                series.append([])
                continue
            lat = [r.latency for r in reqs]
            if name == "RequestsPerMinute":
                series.append([len(reqs) / minutes])
            elif name == "Errors5xxPerMinute":
                series.append([sum(1 for r in reqs if r.code >= 500) / minutes])
            elif name == "NetworkBytes":
                series.append([sum(r.req_size + r.resp_size for r in reqs) / w.interval])
            elif name == "RequestLatency":
                series.append([sum(lat) / len(lat)] if lat else [])
            else:
                p = float(name.rsplit("_P", 1)[1])
                series.append([_percentile(lat, p)] if lat else [])
        out[key] = series
    return out


def _deployment_samples(w: Window, res: dict[str, Any], metric: MetricDef) -> Samples:
    found = [d for d in logs.deployments(w.estate) if d.id.lower() == res["id"].lower()]
    if not found:
        return {"": [[] for _ in w.starts]}
    d = found[0]
    seed = logs.seed_of(w.estate.seed, "depmetric", d.id.lower(), metric.name)
    per_bucket: list[list[float]] = []
    for i in range(len(w.starts)):
        values: list[float] = []
        for t in w.minute_samples(i):
            if d.state != "Succeeded" or t < d.created:
                continue
            cap = logs.capacity_at(w.estate, d, t, w.now)
            load = logs.load_factor(d.endpoint_id.lower(), t, w.estate.clock.start) * max(0.05, d.share)
            u = logs.unit(seed, int(t // 60))
            if metric.name == "DeploymentCapacity":
                values.append(float(cap))
            elif metric.name == "CpuUtilizationPercentage":
                values.append(round(min(99.0, 5 + 120 * load / (1 + cap) + 6 * u), 2))
            elif metric.name == "CpuMemoryUtilizationPercentage":
                values.append(round(32 + 25 * load + 4 * u, 2))
            elif metric.name == "GpuUtilizationPercentage":
                values.append(round(min(99.0, 4 + 150 * load / (1 + cap) + 5 * u), 2) if d.gpus else 0.0)
            elif metric.name == "GpuMemoryUtilizationPercentage":
                values.append(round(58 + 20 * load + 3 * u, 2) if d.gpus else 0.0)
            else:
                values.append(round(18 + 2 * u, 2))
        per_bucket.append(values)
    return {"": per_bucket}


def aggregate(values: list[float], aggregations: list[str]) -> dict[str, float]:
    if not values:
        return {"count": 0.0} if "count" in aggregations else {}
    out: dict[str, float] = {}
    for a in aggregations:
        if a == "average":
            out[a] = round(sum(values) / len(values), 6)
        elif a == "minimum":
            out[a] = min(values)
        elif a == "maximum":
            out[a] = max(values)
        elif a == "total":
            out[a] = round(sum(values), 6)
        elif a == "count":
            out[a] = float(len(values))
    return out


def _combine(samples: Samples, metric: MetricDef, buckets: int) -> list[list[float]]:
    """Fold the per-dimension samples into one series: counts add up, percentages average."""
    if "" in samples:
        return samples[""]
    out: list[list[float]] = [[] for _ in range(buckets)]
    keys = list(samples)
    for i in range(buckets):
        per_key = [samples[k][i] for k in keys]
        if metric.unit == "Percent":
            out[i] = [v for vals in per_key for v in vals]
        else:
            width = max((len(v) for v in per_key), default=0)
            out[i] = [sum(v[j] for v in per_key if j < len(v)) for j in range(width)]
    return out


def query(
    estate: Estate,
    resource: dict[str, Any],
    namespace: str,
    names: list[str],
    start: dt.datetime,
    end: dt.datetime,
    interval_s: float,
    aggregations: list[str],
    filters: dict[str, str],
    volume: int,
    *,
    align: bool = True,
) -> dict[str, Any]:
    """One resource's entry of a getBatch answer. Buckets start at multiples of the interval (as Azure
    Monitor aligns them) unless ``align`` is off: then the first bucket starts at ``start`` (the ARM
    metrics API's ``interval=FULL``, one point for the whole timespan)."""
    ns = namespace.lower()
    defs = DEFINITIONS.get(ns, {})
    clock0 = estate.clock.start
    now = estate.clock.elapsed()
    s0 = (start - clock0).total_seconds()
    s1 = (end - clock0).total_seconds()
    first = math.floor(s0 / interval_s) * interval_s if align else s0
    starts: list[float] = []
    t = first
    while t < s1 and len(starts) <= MAX_POINTS:
        starts.append(t)
        t += interval_s
    if len(starts) > MAX_POINTS:
        raise ApiError(400, "BadRequest", f"The request asks for more than {MAX_POINTS} data points per series.")
    w = Window(estate, now, starts, interval_s, volume)
    values = []
    for name in names:
        metric = defs[name.lower()]
        dim = metric.dimension.lower()
        split = bool(dim) and filters.get(dim) == "*"
        wanted = filters.get(dim) if dim and filters.get(dim) not in (None, "*") else None
        samples: Samples
        if ns == WS_NS:
            samples = _workspace_samples(w, resource, metric)
        elif ns == EP_NS:
            samples = _endpoint_samples(w, resource, metric, split or wanted is not None)
        else:
            samples = _deployment_samples(w, resource, metric)
        aggs = aggregations or [metric.primary]
        series: list[tuple[dict[str, str], list[list[float]]]] = []
        if wanted is not None:
            picked = {k: v for k, v in samples.items() if k.lower() == wanted.lower()}
            series.append(
                ({metric.dimension: wanted}, _combine(picked, metric, len(starts)) if picked else [[]] * len(starts))
            )
        elif split and "" not in samples:
            for key in sorted(samples):
                series.append(({metric.dimension: key}, samples[key]))
        else:
            series.append(({}, _combine(samples, metric, len(starts))))
        timeseries = []
        for meta, per_bucket in series:
            data = []
            for i, t in enumerate(starts):
                point: dict[str, Any] = {"timeStamp": iso(clock0 + dt.timedelta(seconds=t))}
                point.update(aggregate(per_bucket[i] if i < len(per_bucket) else [], aggs))
                data.append(point)
            timeseries.append(
                {
                    "metadatavalues": [
                        {"name": {"value": k, "localizedValue": k}, "value": v} for k, v in meta.items()
                    ],
                    "data": data,
                }
            )
        values.append(
            {
                "id": f"{resource['id']}/providers/Microsoft.Insights/metrics/{metric.name}",
                "type": "Microsoft.Insights/metrics",
                "name": {"value": metric.name, "localizedValue": metric.name},
                "displayDescription": metric.description,
                "unit": metric.unit,
                "timeseries": timeseries,
                "errorCode": "Success",
            }
        )
    return {
        "starttime": iso(start),
        "endtime": iso(end),
        "interval": duration(interval_s),
        "namespace": namespace,
        "resourceregion": resource.get("location", ""),
        "resourceid": resource["id"],
        "value": values,
    }


def validate_names(namespace: str, names: list[str]) -> None:
    defs = DEFINITIONS.get(namespace.lower())
    if defs is None:
        raise ApiError(
            400,
            "BadRequest",
            f"Failed to find metric configuration for provider namespace '{namespace}'. Valid namespaces: "
            + ", ".join(sorted(DEFINITIONS)),
        )
    for name in names:
        if name.lower() not in defs:
            provider, _, rtype = namespace.partition("/")
            raise ApiError(
                400,
                "BadRequest",
                f"Failed to find metric configuration for provider: {provider}, resource Type: {rtype}, "
                f"metric: {name}, Valid metrics: {', '.join(m.name for m in defs.values())}",
            )


Resolver = Callable[[str], dict[str, Any] | None]
