"""Monitoring: KQL over Log Analytics, Azure Monitor platform metrics, and the panels' query library.

- :func:`log_analytics_workspace` finds the Log Analytics workspace behind an Azure ML workspace from its
  diagnostic settings (cached on the session), or takes an override (a profile setting);
- :func:`run_query` runs KQL with azure-monitor-query's LogsQueryClient and returns a frozen
  :class:`LogsResult`; a refused query raises :class:`KqlQueryFailed` with Azure's message, codes, line and
  position; a partial answer carries ``partial_error``;
- :func:`query_metrics` reads platform metrics with azure-monitor-querymetrics' MetricsClient, batching the
  resources of one subscription, region and namespace into one ``metrics:getBatch`` call;
- the query library: :func:`load_queries` (built-ins in services/queries/*.kql, plus a user directory),
  :func:`choose_bin` and :func:`render_panel` — every panel aggregates on the server with
  ``summarize ... by bin(TimeGenerated, <bin>)``, the bin chosen from the time range and the panel width,
  so a panel's answer is bounded by its buckets, never by the raw rows.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import clients
from .errors import AzmlError
from .models import Workspace
from .models.monitor import (
    KqlQueryFailed,
    LogAnalyticsWorkspace,
    LogColumn,
    LogsResult,
    MetricPoint,
    MetricSeries,
    PanelQuery,
    QueryError,
)
from .session import Session

if TYPE_CHECKING:
    from azure.monitor.query import LogsQueryClient
    from azure.monitor.querymetrics import MetricsClient

DIAGNOSTIC_SETTINGS_API = "2021-05-01-preview"
LOG_ANALYTICS_API = "2022-10-01"
MAX_BATCH = 50  # resources per metrics:getBatch call

WORKSPACE_NAMESPACE = "Microsoft.MachineLearningServices/workspaces"
ENDPOINT_NAMESPACE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
DEPLOYMENT_NAMESPACE = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"

# Bins a panel may use, and the intervals Azure Monitor metrics accept.
NICE_BINS = tuple(dt.timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080))
METRIC_INTERVALS = tuple(dt.timedelta(minutes=m) for m in (1, 5, 15, 30, 60, 360, 720, 1440))

# Platform-metric panels (the KQL panels live in services/queries/*.kql).
METRIC_PANELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cluster-active-nodes": (WORKSPACE_NAMESPACE, ("Active Nodes", "Idle Nodes", "Unusable Nodes", "Preempted Nodes")),
    "workspace-runs": (WORKSPACE_NAMESPACE, ("Completed Runs", "Failed Runs", "Cancelled Runs")),
    "endpoint-traffic": (
        ENDPOINT_NAMESPACE,
        ("RequestsPerMinute", "RequestLatency_P50", "RequestLatency_P95", "RequestLatency_P99"),
    ),
    "deployment-utilization": (
        DEPLOYMENT_NAMESPACE,
        (
            "CpuUtilizationPercentage",
            "CpuMemoryUtilizationPercentage",
            "GpuUtilizationPercentage",
            "GpuMemoryUtilizationPercentage",
        ),
    ),
}


class MonitorLookupError(AzmlError, LookupError):
    """No Log Analytics workspace could be found for an Azure ML workspace; the message says what to do."""


# -- the Log Analytics workspace behind an Azure ML workspace -----------------------------------------

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def _law_from_resource(body: Mapping[str, Any], source: str) -> LogAnalyticsWorkspace:
    props = body.get("properties") or {}
    return LogAnalyticsWorkspace(
        customer_id=str(props.get("customerId") or ""),
        id=str(body.get("id") or ""),
        name=str(body.get("name") or ""),
        location=str(body.get("location") or ""),
        source=source,
    )


def resolve_log_analytics(session: Session, ref: str, source: str = "override") -> LogAnalyticsWorkspace:
    """A Log Analytics workspace named by its customerId (GUID) or its ARM id."""
    ref = ref.strip()
    if _GUID.match(ref):
        return LogAnalyticsWorkspace(customer_id=ref, source=source)
    if "/providers/microsoft.operationalinsights/workspaces/" not in ref.lower():
        raise MonitorLookupError(
            f"{ref!r} is neither a Log Analytics workspace id (GUID) nor its ARM resource id "
            "(/subscriptions/…/providers/Microsoft.OperationalInsights/workspaces/NAME)"
        )
    body = session.rest().get(ref, LOG_ANALYTICS_API)
    return _law_from_resource(body, source)


def log_analytics_workspace(
    session: Session, workspace: Workspace | str, override: str | None = None
) -> LogAnalyticsWorkspace:
    """The Log Analytics workspace an Azure ML workspace sends its logs to (diagnostic settings), cached.

    ``override`` (a customerId or an ARM id, e.g. from the profile) wins over diagnostic settings."""
    if override:
        return resolve_log_analytics(session, override)
    ws_id = workspace.id if isinstance(workspace, Workspace) else workspace

    def load() -> LogAnalyticsWorkspace:
        body = session.rest().get(f"{ws_id}/providers/Microsoft.Insights/diagnosticSettings", DIAGNOSTIC_SETTINGS_API)
        targets = [
            str((s.get("properties") or {}).get("workspaceId") or "")
            for s in (body or {}).get("value") or []
            if (s.get("properties") or {}).get("workspaceId")
        ]
        if not targets:
            name = ws_id.rstrip("/").rsplit("/", 1)[-1]
            raise MonitorLookupError(
                f"no diagnostic setting of workspace {name!r} sends its logs to a Log Analytics workspace; "
                "add one in the portal, or set log_analytics_workspace in the profile"
            )
        return resolve_log_analytics(session, targets[0], source="diagnostic settings")

    found: LogAnalyticsWorkspace = session.cache(("log-analytics", ws_id.lower()), load)
    return found


# -- KQL ------------------------------------------------------------------------------------------------


def _logs_client(session: Session) -> LogsQueryClient:
    return session.cache(
        ("logs-client",),
        lambda: clients.logs_client(
            session.cloud, session.credential, **session.sdk_kwargs(session.cloud.log_analytics_scope)
        ),
    )


def _flatten(prefix: str, value: Any, out: list[tuple[str, Any]]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        out.append((prefix, tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in value)))
    else:
        out.append((prefix, value))


def _error_from_body(body: Mapping[str, Any], status: int | None) -> QueryError:
    """Azure's nested error → one QueryError (the innermost message and position, the outer codes)."""
    found = body.get("error")
    err: Mapping[str, Any] = found if isinstance(found, Mapping) else body
    outer_code = str(err.get("code") or "")
    chain = [err]
    node: Any = err
    while isinstance(node, Mapping) and isinstance(node.get("innererror"), Mapping):
        node = node["innererror"]
        chain.append(node)
    if len(chain) == 1 and err.get("details"):
        first = err["details"][0]
        if isinstance(first, Mapping):
            chain.append(first)
            while isinstance(chain[-1].get("innererror"), Mapping):
                chain.append(chain[-1]["innererror"])
    inner = chain[-1]
    kind = str(chain[1].get("code") or "") if len(chain) > 2 else outer_code
    line = inner.get("line")
    pos = inner.get("pos")
    return QueryError(
        message=str(inner.get("message") or err.get("message") or ""),
        code=outer_code,
        kind=kind,
        detail_code=str(inner.get("code") or "") if len(chain) > 1 else "",
        line=int(line) if isinstance(line, int | float) else None,
        position=int(pos) if isinstance(pos, int | float) else None,
        token=str(inner.get("token") or ""),
        status=status,
    )


def _http_error(exc: Any) -> QueryError | None:
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None)
    if response is None or status != 400:
        return None
    try:
        body = json.loads(response.text())
    except (ValueError, TypeError):
        return None
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), Mapping):
        return None
    return _error_from_body(body, status)


def _table(table: Any) -> tuple[tuple[LogColumn, ...], tuple[tuple[Any, ...], ...]]:
    types = list(getattr(table, "columns_types", None) or [])
    names = list(table.columns)
    columns = tuple(LogColumn(n, str(types[i]) if i < len(types) else "string") for i, n in enumerate(names))
    rows = tuple(tuple(row) for row in table.rows)
    return columns, rows


def run_query(
    session: Session,
    workspace: LogAnalyticsWorkspace | str,
    kql: str,
    timespan: dt.timedelta | tuple[dt.datetime, dt.datetime] | None = dt.timedelta(hours=1),
    *,
    include_statistics: bool = True,
    server_timeout: int | None = None,
) -> LogsResult:
    """Run KQL against a Log Analytics workspace (its customerId, or the resolved workspace).

    Raises KqlQueryFailed for a query Azure refuses; other failures propagate (see services.errors)."""
    from azure.core.exceptions import HttpResponseError
    from azure.monitor.query import LogsQueryPartialResult

    customer = workspace.customer_id if isinstance(workspace, LogAnalyticsWorkspace) else workspace
    client = _logs_client(session)
    try:
        response = client.query_workspace(
            customer, kql, timespan=timespan, include_statistics=include_statistics, server_timeout=server_timeout
        )
    except HttpResponseError as e:
        error = _http_error(e)
        if error is not None:
            raise KqlQueryFailed(error) from e
        raise
    partial: QueryError | None = None
    if isinstance(response, LogsQueryPartialResult):
        tables = list(response.partial_data or [])
        pe = response.partial_error
        partial = QueryError(
            message=str(getattr(pe, "message", "") or "The query answered partially."),
            code=str(getattr(pe, "code", "") or "PartialError"),
            kind="PartialError",
            detail_code=str(((getattr(pe, "details", None) or [{}])[0] or {}).get("code", "")),
        )
    else:
        tables = list(response.tables or [])
    columns: tuple[LogColumn, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    if tables:
        columns, rows = _table(tables[0])
    stats: list[tuple[str, Any]] = []
    if getattr(response, "statistics", None):
        _flatten("", response.statistics, stats)
    return LogsResult(columns, rows, customer, kql, partial, tuple(stats))


# -- bins, timespans and the query library -------------------------------------------------------------


def choose_bin(timespan: dt.timedelta, width: int, minimum: dt.timedelta = dt.timedelta(minutes=1)) -> dt.timedelta:
    """The smallest "nice" bin that gives at most ``width`` buckets over ``timespan`` (one per column)."""
    width = max(1, int(width))
    for b in NICE_BINS:
        if b >= minimum and timespan / b <= width:
            return b
    # Beyond a week per column: whole days.
    days = max(1, math.ceil(timespan / dt.timedelta(days=1) / width))
    return max(dt.timedelta(days=days), minimum)


def metric_interval(timespan: dt.timedelta, width: int) -> dt.timedelta:
    """The finest metrics interval Azure Monitor accepts that keeps the points within ``width``."""
    width = max(1, int(width))
    for i in METRIC_INTERVALS:
        if timespan / i <= width:
            return i
    return METRIC_INTERVALS[-1]


def kql_timespan(value: dt.timedelta) -> str:
    """A KQL timespan literal: 30s, 5m, 2h, 1d."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w)s?\s*$", re.IGNORECASE)


def parse_timespan(text: str) -> dt.timedelta:
    """15m, 1h, 6h, 24h, 7d, or an ISO 8601 duration (PT1H, P1D)."""
    m = _SPAN.match(text)
    if m:
        n = float(m.group(1))
        unit = m.group(2).lower()[0]
        return dt.timedelta(seconds=n * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit])
    iso = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text.strip().upper())
    if iso and text.strip().upper() not in ("P", "PT"):
        d, h, mi, s = (float(x) if x else 0.0 for x in iso.groups())
        return dt.timedelta(days=d, hours=h, minutes=mi, seconds=s)
    raise ValueError(f"{text!r} is not a time range (try 15m, 1h, 6h, 24h, 7d or PT1H)")


_HEADER = re.compile(r"^\s*//\s*([A-Za-z_][A-Za-z0-9_\-]*)\s*:\s*(.*?)\s*$")


def parse_query_file(text: str, key: str, source: str = "builtin") -> PanelQuery:
    """A .kql file: a header of ``// name: value`` lines (title, panel, scope, timespan, min_bin, chart,
    description), then the KQL."""
    meta: dict[str, str] = {}
    lines = text.splitlines()
    body_start = 0
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m:
            meta[m.group(1).lower()] = m.group(2)
            body_start = i + 1
            continue
        if line.strip() == "" and not meta:
            body_start = i + 1
            continue
        break
    kql = "\n".join(lines[body_start:]).strip()
    if not kql:
        raise ValueError(f"{source}: no KQL after the header")
    known = {"title", "panel", "scope", "timespan", "min_bin", "chart", "description"}
    return PanelQuery(
        key=key,
        title=meta.get("title") or key.replace("_", " "),
        kql=kql,
        panel=meta.get("panel", ""),
        scope=meta.get("scope", "workspace"),
        timespan=parse_timespan(meta["timespan"]) if meta.get("timespan") else dt.timedelta(hours=1),
        min_bin=parse_timespan(meta["min_bin"]) if meta.get("min_bin") else dt.timedelta(minutes=1),
        chart=meta.get("chart", "line"),
        description=meta.get("description", ""),
        source=source,
        meta=tuple(sorted((k, v) for k, v in meta.items() if k not in known)),
    )


def builtin_queries() -> list[PanelQuery]:
    root = importlib.resources.files("services.queries")
    out = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".kql"):
            out.append(parse_query_file(entry.read_text(encoding="utf-8"), entry.name[:-4]))
    return out


def load_queries(user_dir: Path | str | None = None) -> list[PanelQuery]:
    """The built-in panels' queries, then the user's (``*.kql`` in ``user_dir``; a user file with a built-in's
    name replaces it). A user file that does not parse is skipped and reported in ``meta`` of nothing: the
    caller gets :func:`load_user_errors` for that."""
    queries = {q.key: q for q in builtin_queries()}
    if user_dir is not None:
        for q in _user_queries(Path(user_dir))[0]:
            queries[q.key] = q
    return sorted(queries.values(), key=lambda q: (q.source != "builtin", q.key))


def _user_queries(directory: Path) -> tuple[list[PanelQuery], list[str]]:
    found: list[PanelQuery] = []
    errors: list[str] = []
    if not directory.is_dir():
        return found, errors
    for path in sorted(directory.glob("*.kql")):
        try:
            found.append(parse_query_file(path.read_text(encoding="utf-8"), path.stem, str(path)))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            errors.append(f"{path}: {e}")
    return found, errors


def load_user_errors(user_dir: Path | str) -> list[str]:
    """Why user query files were skipped, one line each."""
    return _user_queries(Path(user_dir))[1]


def _kql_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def render_panel(
    panel: PanelQuery,
    *,
    timespan: dt.timedelta | None = None,
    width: int = 60,
    scope: Mapping[str, str] | None = None,
) -> tuple[str, dt.timedelta]:
    """The KQL a panel sends for a time range and a width in columns, and the bin it chose.

    Placeholders: $bin, $bin_minutes, $workspace, $cluster, $endpoint, $deployment (string values are
    escaped for KQL double-quoted literals; an absent scope value renders empty)."""
    span = timespan or panel.timespan
    chosen = choose_bin(span, width, panel.min_bin)
    values = {k: "" for k in ("workspace", "cluster", "endpoint", "deployment")}
    for k, v in (scope or {}).items():
        values[k] = _kql_string(str(v))
    values["bin"] = kql_timespan(chosen)
    minutes = chosen.total_seconds() / 60.0
    values["bin_minutes"] = f"{minutes:g}" if minutes != int(minutes) else f"{int(minutes)}.0"
    return string.Template(panel.kql).safe_substitute(values), chosen


def run_panel(
    session: Session,
    workspace: LogAnalyticsWorkspace,
    panel: PanelQuery,
    *,
    timespan: dt.timedelta | None = None,
    width: int = 60,
    scope: Mapping[str, str] | None = None,
) -> LogsResult:
    kql, _ = render_panel(panel, timespan=timespan, width=width, scope=scope)
    return run_query(session, workspace, kql, timespan or panel.timespan)


# -- platform metrics ----------------------------------------------------------------------------------


def _metrics_client(session: Session, region: str) -> MetricsClient:
    return session.cache(
        ("metrics-client", region.lower()),
        lambda: clients.metrics_client(
            session.cloud,
            session.credential,
            region,
            **session.sdk_kwargs(session.cloud.metrics_scope),
        ),
    )


def _batches(targets: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Resource ids grouped by subscription and region (one getBatch call each, at most MAX_BATCH ids)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for rid, region in targets:
        parts = rid.split("/")
        sub = parts[2].lower() if len(parts) > 2 else ""
        groups.setdefault((sub, region.lower()), []).append(rid)
    out = []
    for (_, region), ids in groups.items():
        for i in range(0, len(ids), MAX_BATCH):
            out.append((region, ids[i : i + MAX_BATCH]))
    return out


def query_metrics(
    session: Session,
    targets: Sequence[tuple[str, str]],
    namespace: str,
    metric_names: Sequence[str],
    *,
    timespan: dt.timedelta = dt.timedelta(hours=1),
    end: dt.datetime | None = None,
    interval: dt.timedelta | None = None,
    aggregations: Sequence[str] = ("Average",),
    split_by: str | None = None,
    width: int = 60,
) -> list[MetricSeries]:
    """Platform metrics of several resources, ``targets`` being (resource id, region) pairs.

    Resources of one subscription and region go in one ``metrics:getBatch`` call. ``end`` defaults to
    now; ``interval`` to the finest one that fits ``width`` points; ``split_by`` a dimension to split by."""
    end = end or dt.datetime.now(dt.UTC)
    start = end - timespan
    grain = interval or metric_interval(timespan, width)
    wanted = {rid.lower(): rid for rid, _ in targets}
    series: list[MetricSeries] = []
    for region, ids in _batches(targets):
        client = _metrics_client(session, region)
        results = client.query_resources(
            resource_ids=ids,
            metric_namespace=namespace,
            metric_names=list(metric_names),
            timespan=(start, end),
            granularity=grain,
            aggregations=list(aggregations),
            filter=f"{split_by} eq '*'" if split_by else None,
        )
        for result in results:
            for metric in result.metrics:
                rid = str(metric.id or "").split("/providers/Microsoft.Insights/metrics/")[0]
                rid = wanted.get(rid.lower(), rid)
                for ts in metric.timeseries:
                    points = tuple(
                        MetricPoint(
                            timestamp=p.timestamp,
                            average=p.average,
                            minimum=p.minimum,
                            maximum=p.maximum,
                            total=p.total,
                            count=p.count,
                        )
                        for p in ts.data
                    )
                    dims = tuple(sorted((str(k), str(v)) for k, v in (ts.metadata_values or {}).items()))
                    series.append(
                        MetricSeries(
                            resource_id=rid,
                            metric=str(metric.name),
                            unit=str(getattr(metric.unit, "value", metric.unit) or ""),
                            points=points,
                            dimensions=dims,
                            interval=result.granularity,
                        )
                    )
    return series


__all__ = [
    "KqlQueryFailed",
    "MonitorLookupError",
    "builtin_queries",
    "choose_bin",
    "kql_timespan",
    "load_queries",
    "log_analytics_workspace",
    "metric_interval",
    "parse_timespan",
    "query_metrics",
    "render_panel",
    "run_panel",
    "run_query",
]
