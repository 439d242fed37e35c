"""Monitoring: Log Analytics (KQL over simulated Azure ML tables), Azure Monitor metrics, diagnostic settings.

Routes:

- ``GET {workspace or online endpoint id}/providers/Microsoft.Insights/diagnosticSettings`` — each Azure ML
  workspace (and its online endpoints) sends its logs to a Log Analytics workspace ``log-<stem>`` in the
  same resource group;
- ``GET .../providers/Microsoft.OperationalInsights/workspaces[/{name}]`` — the Log Analytics workspaces,
  ``properties.customerId`` being the GUID the query API takes;
- ``POST /v1/workspaces/{customerId}/query`` — LogsQueryClient.query_workspace: {query, timespan,
  workspaces}; ``Prefer: include-statistics=true``; 400 with line/pos for refused queries; a 200 carrying
  ``error.code = PartialError`` when a table is flagged partially unavailable or the result is cut at
  ``max_result_rows``;
- ``POST /subscriptions/{sub}/metrics:getBatch`` — MetricsClient.query_resources (see emulator.metrics).

Options (``--demo-option``): ``log_volume`` (multiplier of high-rate log rows, default 1),
``partial_tables`` (comma-separated tables that answer with a PartialError), ``max_result_rows``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .. import logs, metrics
from ..estate import ML, Estate
from ..http import ApiError, Request, Response
from ..kql import KqlEngine, KqlQueryError, Table, default_engine
from ..kql.errors import to_log_analytics

LA_TYPE = "Microsoft.OperationalInsights/workspaces"
WS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/" + ML + "/workspaces/{ws}"
DIAG = "/providers/Microsoft.Insights/diagnosticSettings"
WS_LOG_CATEGORIES = (
    "AmlComputeClusterEvent",
    "AmlComputeClusterNodeEvent",
    "AmlComputeJobEvent",
    "AmlComputeCpuGpuUtilization",
    "AmlRunStatusChangedEvent",
)
EP_LOG_CATEGORIES = ("AmlOnlineEndpointTrafficLog", "AmlOnlineEndpointConsoleLog", "AmlOnlineEndpointEventLog")


@dataclass
class LaWorkspace:
    resource: dict[str, Any]
    customer_id: str
    aml_ids: list[str] = field(default_factory=list)


@dataclass
class MonitorState:
    by_arm_id: dict[str, LaWorkspace] = field(default_factory=dict)  # lower LA ARM id →
    by_customer: dict[str, LaWorkspace] = field(default_factory=dict)  # lower customerId →
    by_aml: dict[str, LaWorkspace] = field(default_factory=dict)  # lower AML workspace id →
    volume: int = 1
    max_rows: int = 500_000
    lock: threading.Lock = field(default_factory=threading.Lock)


def _guid(*parts: object) -> str:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def state(estate: Estate) -> MonitorState:
    st = estate.area_state.get("monitor")
    if not isinstance(st, MonitorState):
        st = MonitorState()
        estate.area_state["monitor"] = st
    return st


def _link(estate: Estate, st: MonitorState, ws: dict[str, Any]) -> LaWorkspace:
    key = ws["id"].lower()
    found = st.by_aml.get(key)
    if found is not None:
        return found
    rg_id = ws["id"].split("/providers/")[0]
    name = "log-" + str(ws["name"]).removeprefix("mlw-")
    la_id = f"{rg_id}/providers/{LA_TYPE}/{name}"
    la = st.by_arm_id.get(la_id.lower())
    if la is None:
        customer = _guid(estate.seed, "law", la_id.lower())
        resource = {
            "id": la_id,
            "name": name,
            "type": LA_TYPE,
            "location": ws["location"],
            "tags": dict(ws.get("tags") or {}),
            "properties": {
                "provisioningState": "Succeeded",
                "customerId": customer,
                "sku": {"name": "PerGB2018"},
                "retentionInDays": 30,
                "publicNetworkAccessForIngestion": "Enabled",
                "publicNetworkAccessForQuery": "Enabled",
                "features": {"enableLogAccessUsingOnlyResourcePermissions": True},
                "workspaceCapping": {"dailyQuotaGb": -1.0},
                "createdDate": estate.system_data(age_days=400)["createdAt"],
            },
        }
        la = LaWorkspace(resource, customer)
        st.by_arm_id[la_id.lower()] = la
        st.by_customer[customer.lower()] = la
    la.aml_ids.append(ws["id"])
    st.by_aml[key] = la
    return la


def populate(estate: Estate) -> None:
    st = state(estate)
    for ws in estate.workspaces():
        _link(estate, st, ws)
    estate.tickers.append(logs.record_ticker)


def _int_option(options: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = options.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ValueError(f"emulator option {key}: {raw!r} is not a whole number") from e
    if not low <= value <= high:
        raise ValueError(f"emulator option {key}: {value} is outside {low}..{high}")
    return value


# -- timespans --------------------------------------------------------------------------------------

_DUR = re.compile(
    r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.I
)


def _duration_s(text: str) -> float | None:
    m = _DUR.match(text.strip())
    if not m or text.strip().upper() in ("P", "PT"):
        return None
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + s


def _instant(text: str) -> dt.datetime | None:
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def parse_timespan(text: str | None, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime]:
    """Log Analytics' timespan: a duration ending now, ``start/end``, ``start/duration`` or ``duration/end``."""
    if not text:
        return None, now
    parts = text.split("/")
    bad = ApiError(
        400,
        "BadArgumentError",
        f"The request had some invalid properties: timespan '{text}' is not an ISO 8601 interval or duration.",
    )
    if len(parts) == 1:
        seconds = _duration_s(parts[0])
        if seconds is None:
            raise bad
        return now - dt.timedelta(seconds=seconds), now
    if len(parts) != 2:
        raise bad
    a, b = parts
    start, end = _instant(a), _instant(b)
    if start is not None and end is not None:
        return start, end
    if start is not None and _duration_s(b) is not None:
        return start, start + dt.timedelta(seconds=_duration_s(b) or 0)
    if end is not None and _duration_s(a) is not None:
        return end - dt.timedelta(seconds=_duration_s(a) or 0), end
    raise bad


def _la_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message}})


# -- routes ---------------------------------------------------------------------------------------


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate
    st = state(estate)
    options = dict(getattr(emu.config, "options", {}) or {})
    st.volume = _int_option(options, "log_volume", 1, 1, 1000)
    st.max_rows = _int_option(options, "max_result_rows", 500_000, 1, 10_000_000)
    for name in (options.get("partial_tables") or "").split(","):
        if name.strip():
            logs.log_state(estate).partial_tables.add(name.strip())
    engine: KqlEngine = default_engine()

    def la_for(ws_res: dict[str, Any]) -> LaWorkspace:
        with st.lock:
            return _link(estate, st, ws_res)

    def diag_body(resource_id: str, la: LaWorkspace, categories: tuple[str, ...]) -> dict[str, Any]:
        return {
            "id": f"{resource_id}{DIAG}/send-to-{la.resource['name']}",
            "type": "Microsoft.Insights/diagnosticSettings",
            "name": f"send-to-{la.resource['name']}",
            "location": None,
            "properties": {
                "storageAccountId": None,
                "serviceBusRuleId": None,
                "eventHubAuthorizationRuleId": None,
                "eventHubName": None,
                "workspaceId": la.resource["id"],
                "logAnalyticsDestinationType": "Dedicated",
                "metrics": [
                    {"category": "AllMetrics", "enabled": True, "retentionPolicy": {"enabled": False, "days": 0}}
                ],
                "logs": [
                    {
                        "category": c,
                        "categoryGroup": None,
                        "enabled": True,
                        "retentionPolicy": {"enabled": False, "days": 0},
                    }
                    for c in categories
                ],
            },
        }

    def find_ws(sub: str, rg: str, ws: str) -> dict[str, Any]:
        res = estate.workspace(sub, rg, ws)
        if res is None:
            raise ApiError(
                404,
                "ResourceNotFound",
                f"The Resource '{ML}/workspaces/{ws}' under resource group '{rg}' was not found.",
            )
        return res

    def ws_diag(req: Request, sub: str, rg: str, ws: str) -> Response:
        res = find_ws(sub, rg, ws)
        return Response(200, {"value": [diag_body(res["id"], la_for(res), WS_LOG_CATEGORIES)]})

    def ws_diag_one(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        res = find_ws(sub, rg, ws)
        body = diag_body(res["id"], la_for(res), WS_LOG_CATEGORIES)
        if body["name"].lower() != name.lower():
            raise ApiError(404, "ResourceNotFound", f"The diagnostic setting '{name}' does not exist.")
        return Response(200, body)

    def ep_diag(req: Request, sub: str, rg: str, ws: str, ep: str) -> Response:
        res = find_ws(sub, rg, ws)
        endpoint = estate.get(f"{res['id']}/onlineEndpoints/{ep}")
        if endpoint is None:
            raise ApiError(404, "ResourceNotFound", f"The online endpoint '{ep}' was not found.")
        return Response(200, {"value": [diag_body(endpoint["id"], la_for(res), EP_LOG_CATEGORIES)]})

    def la_get(req: Request, sub: str, rg: str, name: str) -> Response:
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{LA_TYPE}/{name}"
        la = st.by_arm_id.get(rid.lower())
        if la is None:
            raise ApiError(
                404,
                "ResourceNotFound",
                f"The Resource '{LA_TYPE}/{name}' under resource group '{rg}' was not found.",
            )
        return Response(200, la.resource)

    def la_list(req: Request, sub: str) -> Response:
        items = [la.resource for la in st.by_arm_id.values() if la.resource["id"].split("/")[2].lower() == sub.lower()]
        return Response(200, {"value": sorted(items, key=lambda r: r["id"].lower())})

    def la_list_rg(req: Request, sub: str, rg: str) -> Response:
        prefix = f"/subscriptions/{sub}/resourcegroups/{rg}/".lower()
        items = [la.resource for key, la in st.by_arm_id.items() if key.startswith(prefix)]
        return Response(200, {"value": sorted(items, key=lambda r: r["id"].lower())})

    def resolve_la(ref: str) -> LaWorkspace | None:
        ref = ref.strip().lower()
        return (
            st.by_customer.get(ref)
            or st.by_arm_id.get(ref)
            or next((la for la in st.by_arm_id.values() if la.resource["name"].lower() == ref), None)
        )

    def query(req: Request, wsid: str) -> Response:
        started = time.perf_counter()
        la = resolve_la(wsid)
        if la is None:
            return _la_error(
                404,
                "WorkspaceNotFoundError",
                f"The workspace could not be found: '{wsid}'",
            )
        body = req.json()
        if req.method == "GET":
            body = {"query": req.q("query"), "timespan": req.q("timespan")}
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _la_error(400, "BadArgumentError", "The request had some invalid properties: 'query' is required.")
        text: str = body["query"]
        now_dt = estate.clock.now()
        start, end = parse_timespan(body.get("timespan"), now_dt)
        scopes = [la]
        for extra in body.get("workspaces") or []:
            other = resolve_la(str(extra))
            if other is None:
                return _la_error(404, "WorkspaceNotFoundError", f"The workspace could not be found: '{extra}'")
            if other not in scopes:
                scopes.append(other)
        clock0 = estate.clock.start
        t0 = -1e18 if start is None else (start - clock0).total_seconds()
        t1 = (end - clock0).total_seconds()
        names = logs.referenced_tables(text)
        partial = sorted(set(names) & logs.log_state(estate).partial_tables)
        # Generate each workspace's jobs before taking the estate lock (the jobs model locks on its own).
        model: Any = estate.area_state.get("jobs")
        for la_ws in scopes:
            for ws_id in la_ws.aml_ids:
                if hasattr(model, "workspace"):
                    model.workspace(ws_id)
        tables: dict[str, Table] = {}
        with estate.lock:
            for name in names:
                parts = [
                    logs.build(logs.Scope(estate, s.aml_ids, s.customer_id, st.volume), name, t0, t1) for s in scopes
                ]
                tables[name] = _concat(parts) if len(parts) > 1 else parts[0]
        for name in partial:
            tables[name] = _drop_shards(tables[name])
        try:
            result = engine.run(text, tables, now=now_dt, max_rows=st.max_rows)
        except KqlQueryError as e:
            return Response(400, to_log_analytics(e))
        out: dict[str, Any] = {
            "tables": [
                {
                    "name": "PrimaryResult",
                    "columns": [{"name": n, "type": t} for n, t in result.columns],
                    "rows": result.rows,
                }
            ]
        }
        prefer = req.headers.get("prefer", "")
        applied = []
        if "include-statistics=true" in prefer.replace(" ", "").lower():
            applied.append("include-statistics=true")
            out["statistics"] = {
                "query": {
                    "executionTime": round(time.perf_counter() - started, 6),
                    "resourceUsage": {"cache": {"memory": {"hits": 0, "misses": 0, "total": 0}}},
                    "inputDatasetStatistics": {"rows": result.scanned_rows},
                    "datasetStatistics": [{"tableRowCount": len(result.rows), "tableSize": 0}],
                    "engine": engine.name,
                }
            }
        details = []
        if partial:
            details.append(
                {
                    "code": "EngineError",
                    "message": "Something went wrong processing your query on the server.",
                    "innererror": {
                        "code": "-2133196797",
                        "message": f"Table {', '.join(partial)}: some storage shards did not answer; "
                        "the result is missing rows (simulated partial failure).",
                        "severity": 2,
                        "severityName": "Error",
                    },
                }
            )
        if result.truncated:
            details.append(
                {
                    "code": "E_QUERY_RESULT_SET_TOO_LARGE",
                    "message": f"Query result set has exceeded the internal record count limit {st.max_rows}",
                    "innererror": {
                        "code": "E_QUERY_RESULT_SET_TOO_LARGE",
                        "message": f"Query result set has exceeded the internal record count limit {st.max_rows} "
                        "(E_QUERY_RESULT_SET_TOO_LARGE).",
                    },
                }
            )
        if details:
            out["error"] = {
                "code": "PartialError",
                "message": "There were some errors when processing your query.",
                "details": details,
                "innererror": details[0]["innererror"],
            }
        headers = {"Preference-Applied": ",".join(applied)} if applied else {}
        return Response(200, out, headers)

    def get_batch(req: Request, sub: str) -> Response:
        namespace = req.q("metricnamespace") or ""
        names = [n.replace("%2", ",").strip() for n in (req.q("metricnames") or "").split(",") if n.strip()]
        if not namespace or not names:
            raise ApiError(400, "BadRequest", "metricnamespace and metricnames are required.")
        metrics.validate_names(namespace, names)
        body = req.json()
        ids = body.get("resourceids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "BadRequest", "The request body must list resourceids.")
        if len(ids) > 50:
            raise ApiError(400, "BadRequest", "A batch may name at most 50 resources.")
        now_dt = estate.clock.now()
        end = _instant(req.q("endtime") or "") or now_dt
        start = _instant(req.q("starttime") or "") or end - dt.timedelta(hours=1)
        if start >= end:
            raise ApiError(400, "BadRequest", "starttime must be earlier than endtime.")
        interval = metrics.parse_interval(req.q("interval") or "PT1M")
        aggs = [a.strip().lower() for a in (req.q("aggregation") or "").split(",") if a.strip()]
        for a in aggs:
            if a not in metrics.AGGREGATIONS:
                raise ApiError(
                    400, "BadRequest", f"Invalid aggregation '{a}'. Valid: {', '.join(metrics.AGGREGATIONS)}."
                )
        filters = metrics.parse_filter(req.q("filter"))
        values = []
        model: Any = estate.area_state.get("jobs")
        resources = []
        for rid in ids:
            rid = str(rid)
            parts = rid.split("/")
            if len(parts) < 3 or parts[2].lower() != sub.lower():
                raise ApiError(400, "BadRequest", f"Resource '{rid}' is not in subscription '{sub}'.")
            res = estate.get(rid)
            if res is None:
                raise ApiError(404, "ResourceNotFound", f"The resource '{rid}' was not found.")
            if str(res.get("type", "")).lower() != namespace.lower():
                raise ApiError(
                    400, "BadRequest", f"Resource '{rid}' is of type '{res.get('type')}', not '{namespace}'."
                )
            resources.append(res)
            ws_id = rid.split("/onlineEndpoints/")[0]
            if hasattr(model, "workspace"):
                model.workspace(ws_id)
        with estate.lock:
            for res in resources:
                values.append(
                    metrics.query(estate, res, namespace, names, start, end, interval, aggs, filters, st.volume)
                )
        return Response(200, {"values": values})

    router.add("GET", WS + DIAG, ws_diag)
    router.add("GET", WS + DIAG + "/{name}", ws_diag_one)
    router.add("GET", WS + "/onlineEndpoints/{ep}" + DIAG, ep_diag)
    router.add("GET", "/subscriptions/{sub}/resourceGroups/{rg}/providers/" + LA_TYPE + "/{name}", la_get)
    router.add("GET", "/subscriptions/{sub}/resourceGroups/{rg}/providers/" + LA_TYPE, la_list_rg)
    router.add("GET", "/subscriptions/{sub}/providers/" + LA_TYPE, la_list)
    router.add("POST", "/v1/workspaces/{wsid}/query", query)
    router.add("GET", "/v1/workspaces/{wsid}/query", query)
    router.add("POST", "/subscriptions/{sub}/metrics:getBatch", get_batch)


def _concat(parts: list[Table]) -> Table:
    first = parts[0]
    data = {c: [v for p in parts for v in p.data.get(c, ())] for c, _ in first.columns}
    return Table(first.name, first.columns, data)


def _drop_shards(table: Table) -> Table:
    """Rows of a partially unavailable table: every third row is on a shard that did not answer."""
    keep = [i for i in range(table.row_count) if i % 3 != 2]
    return Table(table.name, table.columns, {c: [col[i] for i in keep] for c, col in table.data.items()})
