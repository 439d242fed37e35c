"""Platform metrics of the workspaces' storage accounts (Microsoft.Storage/storageAccounts).

Names, units and dimensions are Azure Storage's account-level ones: UsedCapacity (hourly, no dimension),
Transactions (dimensions ApiName and ResponseType), Ingress, Egress, SuccessE2ELatency and Availability.
Values are deterministic per account and minute (seeded), with a daily load curve: the artefacts, logs and
checkpoints an Azure ML workspace writes to its default storage.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from .. import logs, metrics
from ..clock import iso
from ..estate import Estate

NS = "microsoft.storage/storageaccounts"
_APIS = ("GetBlob", "PutBlob", "ListBlobs", "GetBlobProperties", "PutBlock")
_RESPONSES = ("Success", "ClientOtherError", "ServerTimeoutError")

_DEFS = [
    metrics.MetricDef("UsedCapacity", "Bytes", "average", "", "The amount of storage used by the account."),
    metrics.MetricDef("Transactions", "Count", "total", "ApiName", "The number of requests made to the account."),
    metrics.MetricDef("Ingress", "Bytes", "total", "ApiName", "The amount of ingress data, in bytes."),
    metrics.MetricDef("Egress", "Bytes", "total", "ApiName", "The amount of egress data, in bytes."),
    metrics.MetricDef(
        "SuccessE2ELatency", "MilliSeconds", "average", "ApiName", "The end-to-end latency of successful requests."
    ),
    metrics.MetricDef("Availability", "Percent", "average", "ApiName", "The percentage of availability."),
]
DEFINITIONS = {m.name.lower(): m for m in _DEFS}


def _per_minute(estate: Estate, account: str, metric: str, api: str, minute: int) -> float:
    """One minute's value of a metric for one API of one account."""
    seed = logs.seed_of(estate.seed, "storage", account.lower(), api)
    u = logs.unit(seed, minute)
    hour = (minute / 60.0) % 24
    load = 0.55 + 0.45 * math.sin((hour - 8) / 24 * 2 * math.pi)
    weight = 1.0 / (1 + _APIS.index(api))
    calls = round(40 * weight * load * (0.6 + 0.8 * u))
    if metric == "Transactions":
        return float(calls)
    if metric == "Ingress":
        return float(calls * (2_097_152 if api in ("PutBlob", "PutBlock") else 512))
    if metric == "Egress":
        return float(calls * (1_048_576 if api == "GetBlob" else 2_048))
    if metric == "SuccessE2ELatency":
        return round(6 + 30 * weight * u, 2) if calls else 0.0
    return 100.0 if u > 0.002 else 99.5


def _capacity(estate: Estate, account: str, minute: int) -> float:
    seed = logs.seed_of(estate.seed, "storage-capacity", account.lower())
    base = 40 * 1024**3 * (1 + 4 * logs.unit(seed, 0))
    return float(round(base + minute * 1024**2 * (1 + logs.unit(seed, 1))))


def query(
    estate: Estate,
    res: dict[str, Any],
    m: metrics.MetricDef,
    start: dt.datetime,
    end: dt.datetime,
    interval: float,
    aggs: list[str],
    dims: dict[str, tuple[str, list[str]]],
    *,
    align: bool = True,
) -> dict[str, Any]:
    clock0 = estate.clock.start
    now = estate.clock.elapsed()
    s0, s1 = (start - clock0).total_seconds(), (end - clock0).total_seconds()
    first = math.floor(s0 / interval) * interval if align else s0
    starts: list[float] = []
    t = first
    while t < s1 and len(starts) <= metrics.MAX_POINTS:
        starts.append(t)
        t += interval
    if len(starts) > metrics.MAX_POINTS:
        from .insights import MetricsError

        raise MetricsError(400, "BadRequest", f"The request asks for more than {metrics.MAX_POINTS} data points.")
    found = dims.get(m.dimension.lower()) if m.dimension else None
    groups: list[tuple[str, list[str]]] = [("", list(_APIS))]
    split = found is not None
    if found is not None:
        wanted = {w.lower() for w in found[1]}
        groups = [(a, [a]) for a in _APIS if "*" in wanted or a.lower() in wanted]
    timeseries = []
    for label, members in groups:
        data = []
        for s in starts:
            minutes = [mi for mi in range(math.ceil(s / 60), math.ceil((s + interval) / 60)) if mi * 60 <= now]
            if m.name == "UsedCapacity":
                values = [_capacity(estate, res["id"], mi) for mi in minutes[::60] or minutes[:1]]
            elif m.unit in ("Percent", "MilliSeconds"):
                values = [_per_minute(estate, res["id"], m.name, a, mi) for mi in minutes for a in members]
            else:
                values = [sum(_per_minute(estate, res["id"], m.name, a, mi) for a in members) for mi in minutes]
            point: dict[str, Any] = {"timeStamp": iso(clock0 + dt.timedelta(seconds=s))}
            point.update(metrics.aggregate(values, aggs or [m.primary]))
            data.append(point)
        meta = [{"name": {"value": m.dimension, "localizedValue": m.dimension}, "value": label}] if split else []
        timeseries.append({"metadatavalues": meta, "data": data})
    return {
        "id": f"{res['id']}/providers/Microsoft.Insights/metrics/{m.name}",
        "type": "Microsoft.Insights/metrics",
        "name": {"value": m.name, "localizedValue": m.name},
        "displayDescription": m.description,
        "unit": m.unit,
        "timeseries": timeseries,
        "errorCode": "Success",
    }
