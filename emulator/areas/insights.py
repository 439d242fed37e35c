"""The Azure Monitor metrics API on ARM resource ids: what azure-mgmt-monitor and ``az monitor metrics`` read.

Routes, under any resource the emulator holds that has platform metrics (workspaces, their computes,
online endpoints and deployments, and the workspaces' storage accounts):

- ``GET {resourceId}/providers/Microsoft.Insights/metrics`` — timespan, interval (ISO 8601 or ``FULL``),
  metricnames, aggregation, top, orderby, ``$filter`` (dimension filters: ``d eq 'v'``, ``d eq '*'``,
  ``d eq 'a' or d eq 'b'``, joined by ``and``), resultType (``Data`` or ``Metadata``), metricnamespace,
  AutoAdjustTimegrain, ValidateDimensions;
- ``GET {resourceId}/providers/Microsoft.Insights/metricDefinitions`` — the metrics of the namespace;
- ``GET {resourceId}/providers/Microsoft.Insights/metricNamespaces`` — the resource type's one namespace.

Shapes follow Microsoft.Insights/stable/2024-02-01 (GetMetric, GetMetricDefinitionsMetricClass,
GetMetricNamespaces examples); errors are the API's ``{code, message}``. Values come from
:func:`emulator.metrics.query`, the same computation ``metrics:getBatch`` answers with, so the two APIs agree
point for point. A compute's metrics are its workspace's cluster metrics for that cluster alone.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from dataclasses import replace
from typing import Any

from .. import metrics
from ..clock import iso
from ..estate import ML, Estate
from ..http import ApiError, Request, Response
from . import storage_metrics
from .monitor import parse_timespan, state

INSIGHTS = "/providers/Microsoft.Insights/"
COMPUTE_NS = "microsoft.machinelearningservices/workspaces/computes"
_AGG_NAMES = {"average": "Average", "minimum": "Minimum", "maximum": "Maximum", "total": "Total", "count": "Count"}
_GRAINS = ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "P1D")
_AUTO_GRAINS = (60, 300, 900, 1800, 3600, 21600, 43200, 86400)


def _compute_defs() -> dict[str, metrics.MetricDef]:
    """A compute's metrics: the workspace's per-cluster ones, without the ClusterName dimension."""
    return {
        k: replace(m, dimension="")
        for k, m in metrics.DEFINITIONS[metrics.WS_NS].items()
        if m.dimension == "ClusterName"
    }


DEFINITIONS: dict[str, dict[str, metrics.MetricDef]] = {
    **metrics.DEFINITIONS,
    COMPUTE_NS: _compute_defs(),
    storage_metrics.NS: storage_metrics.DEFINITIONS,
}


def _metric_class(m: metrics.MetricDef) -> str:
    name = m.name.lower()
    if "latency" in name:
        return "Latency"
    if "error" in name or "failed" in name:
        return "Errors"
    if name.endswith("runs") or "request" in name or name in ("transactions", "ingress", "egress", "networkbytes"):
        return "Transactions"
    if name == "availability":
        return "Availability"
    return "Saturation"


class MetricsError(ApiError):
    """The metrics API's own error body: ``{code, message}`` at the top level."""

    def to_response(self) -> Response:
        return Response(self.status, {"code": self.code, "message": self.message}, dict(self.headers))


def _bad(message: str, code: str = "BadRequest") -> MetricsError:
    return MetricsError(400, code, message)


# -- parameters -----------------------------------------------------------------------------------------

_CLAUSE = re.compile(r"^\s*([\w %.\-]+?)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)


def parse_dimension_filter(text: str | None) -> dict[str, tuple[str, list[str]]]:
    """``$filter`` → {lower dimension: (dimension as written, values)}; the value ``*`` splits by it."""
    out: dict[str, tuple[str, list[str]]] = {}
    if not text or not text.strip():
        return out
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        part = part.strip()
        if part.startswith("(") and part.endswith(")"):
            part = part[1:-1]
        for alt in re.split(r"\s+or\s+", part, flags=re.IGNORECASE):
            m = _CLAUSE.match(alt)
            if not m:
                raise _bad(
                    f"Invalid $filter '{text}': each clause must read <dimension> eq '<value>' "
                    "(joined by 'and', alternatives of one dimension by 'or')."
                )
            name, value = m.group(1).strip(), m.group(2).replace("''", "'")
            entry = out.setdefault(name.lower(), (name, []))
            entry[1].append(value)
    return out


def _timespan(text: str | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if not text:
        return now - dt.timedelta(hours=1), now
    if "%" in text:
        # Some clients (az monitor metrics list) percent-encode the timespan before the HTTP layer encodes it
        # again; Azure Monitor reads it either way, so a second layer is decoded here too.
        text = urllib.parse.unquote(text)
    try:
        start, end = parse_timespan(text, now)
    except ApiError as e:
        raise _bad(f"Invalid timespan '{text}': expected 'start/end' in ISO 8601 (or an ISO 8601 duration).") from e
    if start is None or start >= end:
        raise _bad(f"Invalid timespan '{text}': the start must be earlier than the end.")
    return start, end


def _aggregations(text: str | None) -> list[str]:
    out = []
    for a in (text or "").split(","):
        a = a.strip().lower()
        if not a:
            continue
        if a == "none":
            continue
        if a not in metrics.AGGREGATIONS:
            raise _bad(f"Invalid aggregation '{a}'. Valid: {', '.join(_AGG_NAMES.values())}.")
        out.append(a)
    return out


def _orderby(text: str | None) -> tuple[str, bool] | None:
    if not text:
        return None
    parts = text.strip().split()
    key = parts[0].lower()
    key = {"sum": "total", "avg": "average", "min": "minimum", "max": "maximum"}.get(key, key)
    direction = parts[1].lower() if len(parts) > 1 else "desc"
    if key not in metrics.AGGREGATIONS or direction not in ("asc", "desc") or len(parts) > 2:
        raise _bad(f"Invalid orderby '{text}': expected '<aggregation> [asc|desc]', e.g. 'sum asc'.")
    return key, direction == "desc"


# -- the routes -----------------------------------------------------------------------------------------


def resource_namespace(resource: dict[str, Any]) -> str:
    return str(resource.get("type", "")).lower()


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate

    def find(req: Request, suffix: str, *, metered: bool = True) -> tuple[dict[str, Any], str]:
        rid = "/" + req.path.strip("/")
        rid = rid[: len(rid) - len(suffix)] if rid.lower().endswith(suffix.lower()) else rid
        parts = rid.split("/")
        if len(parts) > 2 and estate.subscription(parts[2]) is None:
            raise MetricsError(404, "SubscriptionNotFound", f"The subscription '{parts[2]}' could not be found.")
        res = estate.get(rid)
        if res is None:
            raise MetricsError(404, "ResourceNotFound", f"The resource '{rid}' was not found.")
        ns = resource_namespace(res)
        if ns not in DEFINITIONS and metered:
            raise _bad(
                f"Failed to find metric configuration for provider namespace '{res.get('type')}': the resource "
                "type has no platform metrics."
            )
        wanted = (req.q("metricnamespace") or "").strip().lower()
        if wanted and wanted != ns:
            raise _bad(
                f"Failed to find metric configuration for provider namespace '{req.q('metricnamespace')}' on "
                f"resource type '{res.get('type')}'. Valid namespaces: {ns}"
            )
        return res, ns

    def definitions(req: Request, **_: str) -> Response:
        res, ns = find(req, INSIGHTS + "metricDefinitions", metered=False)
        items = []
        for m in DEFINITIONS.get(ns, {}).values():
            body: dict[str, Any] = {
                "id": f"{res['id']}/providers/microsoft.insights/metricdefinitions/{m.name}",
                "resourceId": res["id"],
                "namespace": ns,
                "category": _metric_class(m),
                "metricClass": _metric_class(m),
                "name": {"value": m.name, "localizedValue": m.name},
                "displayDescription": m.description,
                "isDimensionRequired": False,
                "unit": m.unit,
                "primaryAggregationType": _AGG_NAMES[m.primary],
                "supportedAggregationTypes": ["None", *_AGG_NAMES.values()],
                "metricAvailabilities": [{"timeGrain": g, "retention": "P93D"} for g in _GRAINS],
            }
            if m.dimension:
                body["dimensions"] = [{"value": m.dimension, "localizedValue": m.dimension}]
            items.append(body)
        return Response(200, {"value": items})

    def namespaces(req: Request, **_: str) -> Response:
        res, ns = find(req, INSIGHTS + "metricNamespaces", metered=False)
        if ns not in DEFINITIONS:  # a resource type without platform metrics has no namespace to list
            return Response(200, {"value": []})
        name = ns.replace("/", "-")
        body = {
            "id": f"{res['id']}/providers/microsoft.insights/metricNamespaces/{name}",
            "name": name,
            "type": "Microsoft.Insights/metricNamespaces",
            "classification": "Platform",
            "properties": {"metricNamespaceName": ns},
        }
        return Response(200, {"value": [body]})

    def list_metrics(req: Request, **_: str) -> Response:
        res, ns = find(req, INSIGHTS + "metrics")
        defs = DEFINITIONS[ns]
        now = estate.clock.now()
        start, end = _timespan(req.q("timespan"), now)
        raw_names = [n.replace("%2", ",").strip() for n in (req.q("metricnames") or "").split(",") if n.strip()]
        names = raw_names or [next(iter(defs.values())).name]
        for n in names:
            if n.lower() not in defs:
                raise _bad(
                    f"Failed to find metric configuration for provider: {ns.split('/')[0]}, resource Type: "
                    f"{ns.partition('/')[2]}, metric: {n}, Valid metrics: {', '.join(m.name for m in defs.values())}"
                )
        aggs = _aggregations(req.q("aggregation"))
        order = _orderby(req.q("orderby"))
        top_text = req.q("top")
        try:
            top = int(top_text) if top_text else 10
        except ValueError as e:
            raise _bad(f"Invalid top '{top_text}': expected a whole number.") from e
        if top < 1:
            raise _bad("top must be at least 1.")
        result_type = (req.q("resultType") or "Data").lower()
        if result_type not in ("data", "metadata"):
            raise _bad(f"Invalid resultType '{req.q('resultType')}'. Valid: Data, Metadata.")
        interval_text = (req.q("interval") or "PT1M").strip()
        full = interval_text.upper() == "FULL"
        span = (end - start).total_seconds()
        try:
            interval = span if full else metrics.parse_interval(interval_text)
        except ApiError as e:
            raise _bad(e.message) from e
        auto = (req.q("AutoAdjustTimegrain") or "").lower() == "true"
        if not full and span / interval > metrics.MAX_POINTS and auto:
            interval = next((float(g) for g in _AUTO_GRAINS if span / g <= metrics.MAX_POINTS), span)
        dim_filter = parse_dimension_filter(req.q("$filter") or req.q("filter"))
        validate = (req.q("ValidateDimensions") or "true").lower() != "false"
        values = []
        for name in names:
            m = defs[name.lower()]
            dims = {k: v for k, v in dim_filter.items() if m.dimension and k == m.dimension.lower()}
            unknown = [v[0] for k, v in dim_filter.items() if k not in dims]
            if unknown and validate:
                raise _bad(
                    f"Metric: {m.name} does not support requested dimension combination: {', '.join(unknown)}, "
                    f"supported ones are: {m.dimension or 'none'}"
                )
            entry = _query(estate, res, ns, m, start, end, interval, aggs, dims, full, emu)
            entry = _shape_series(entry, dims, order, top)
            if result_type == "metadata":
                for ts in entry["timeseries"]:
                    ts.pop("data", None)
            values.append(entry)
        points = sum(len(ts.get("data", ())) for v in values for ts in v["timeseries"])
        return Response(
            200,
            {
                "cost": points,
                "timespan": f"{iso(start)}/{iso(end)}",
                "interval": metrics.duration(interval),
                "value": values,
                "namespace": ns,
                "resourceregion": res.get("location", ""),
            },
        )

    suffixes = {"metrics": list_metrics, "metricDefinitions": definitions, "metricNamespaces": namespaces}
    base = "/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{t1}/{n1}"
    for suffix, handler in suffixes.items():
        for nested in ("", "/{t2}/{n2}", "/{t2}/{n2}/{t3}/{n3}"):
            router.add("GET", base + nested + INSIGHTS + suffix, handler)


def _query(
    estate: Estate,
    res: dict[str, Any],
    ns: str,
    m: metrics.MetricDef,
    start: dt.datetime,
    end: dt.datetime,
    interval: float,
    aggs: list[str],
    dims: dict[str, tuple[str, list[str]]],
    full: bool,
    emu: Any,
) -> dict[str, Any]:
    """One metric's entry, from the simulation ``metrics:getBatch`` reads."""
    if ns == storage_metrics.NS:
        return storage_metrics.query(estate, res, m, start, end, interval, aggs, dims, align=not full)
    filters: dict[str, str] = {}
    for key, (_, wanted) in dims.items():
        filters[key] = wanted[0] if len(wanted) == 1 else "*"
    volume = state(estate).volume
    target = res
    if ns == COMPUTE_NS:
        ws_id = res["id"].rsplit("/computes/", 1)[0]
        target = estate.get(ws_id) or res
        filters = {"clustername": str(res["name"])}
    jobs: Any = estate.area_state.get("jobs")
    ws_id = target["id"].split("/onlineEndpoints/")[0]
    if hasattr(jobs, "workspace"):
        jobs.workspace(ws_id)
    query_ns = metrics.WS_NS if ns == COMPUTE_NS else ns
    with estate.lock:
        out = metrics.query(
            estate, target, query_ns, [m.name], start, end, interval, aggs, filters, volume, align=not full
        )
    entry: dict[str, Any] = out["value"][0]
    if ns == COMPUTE_NS:
        entry["id"] = f"{res['id']}/providers/Microsoft.Insights/metrics/{m.name}"
        for ts in entry["timeseries"]:
            ts["metadatavalues"] = []
    return entry


def _total(ts: dict[str, Any], key: str) -> float:
    return sum(float(p.get(key) or 0.0) for p in ts.get("data", ()))


def _shape_series(
    entry: dict[str, Any],
    dims: dict[str, tuple[str, list[str]]],
    order: tuple[str, bool] | None,
    top: int,
) -> dict[str, Any]:
    """Keep the series the filter asked for, sorted by ``orderby`` and cut at ``top``."""
    series = entry["timeseries"]
    for _key, (_, wanted) in dims.items():
        if len(wanted) > 1 and "*" not in wanted:
            keep = {w.lower() for w in wanted}
            series = [
                ts for ts in series if any(str(mv.get("value", "")).lower() in keep for mv in ts["metadatavalues"])
            ]
    if order is not None:
        key, descending = order
        series = sorted(series, key=lambda ts: _total(ts, key), reverse=descending)
    entry["timeseries"] = series[:top]
    return entry


__all__ = ["COMPUTE_NS", "DEFINITIONS", "INSIGHTS", "ML", "register"]
