"""What the metrics panels load, in their worker threads: the scope a panel is for, the parameters its data
depends on, the answer it gets (KQL rows aggregated on the server, or Azure Monitor platform metrics), the
clusters and endpoints a scope can name, and how a failure is told (Azure's message with its request id).

No widgets here: the screen (screens/metrics.py) decides when to load, the panel (screens/metrics_panel.py)
draws the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from services import monitor
from services.metrics_catalog import PANELS, PanelSpec

if TYPE_CHECKING:
    from services.models import LogsResult, MetricSeries, OnlineDeployment, OnlineEndpoint, Workspace
    from services.models.monitor import PanelQuery
    from services.session import Session

    Deployments: TypeAlias = Mapping[str, Sequence[OnlineDeployment]]  # endpoint name → its deployments

RANGES: tuple[tuple[str, dt.timedelta], ...] = (
    ("15m", dt.timedelta(minutes=15)),
    ("1h", dt.timedelta(hours=1)),
    ("6h", dt.timedelta(hours=6)),
    ("24h", dt.timedelta(hours=24)),
    ("7d", dt.timedelta(days=7)),
)


@dataclass(frozen=True)
class Scope:
    kind: str = "workspace"  # workspace | cluster | endpoint
    name: str = ""

    @property
    def label(self) -> str:
        return "workspace" if self.kind == "workspace" else f"{self.kind} {self.name}"

    def values(self) -> dict[str, str]:
        return {self.kind: self.name} if self.kind != "workspace" else {}


@dataclass
class Targets:
    """What a scope can name: the workspace's clusters and online endpoints (with their deployments)."""

    clusters: list[str] = field(default_factory=list)
    endpoints: list[OnlineEndpoint] = field(default_factory=list)
    deployments: dict[str, list[OnlineDeployment]] = field(default_factory=dict)  # endpoint name → deployments
    loaded: bool = False


@dataclass(frozen=True)
class Params:
    """What a panel's data depends on: a change reloads it."""

    range: dt.timedelta
    scope: Scope
    bin: dt.timedelta
    workspace: str
    width: int = field(default=60, compare=False)  # the columns the bin was chosen for


@dataclass(frozen=True)
class Loaded:
    """A panel's answer, built in the worker."""

    params: Params
    query: str  # the KQL sent (or, for platform metrics, a description of the request)
    columns: tuple[tuple[str, str], ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    series: tuple[MetricSeries, ...] = ()
    partial: str = ""


def _request_id(exc: BaseException) -> str:
    from services.errors import classify

    for e in (exc, exc.__cause__):
        if e is not None:
            rid = classify(e).request_id
            if rid:
                return rid
    return ""


def describe_failure(exc: BaseException) -> str:
    """Azure's message (and where, for KQL), with the request id when there is one."""
    from services.errors import describe
    from services.models import KqlQueryFailed

    if isinstance(exc, KqlQueryFailed):
        rid = _request_id(exc)
        return str(exc.error) + (f" (request id {rid})" if rid else "")
    if isinstance(exc, monitor.MonitorLookupError):
        return str(exc)
    return describe(exc)


def load_targets(session: Session, ws: Workspace) -> tuple[Targets, str]:
    """In a thread: the clusters and online endpoints (with their deployments) a scope can name, and the
    failure that stopped the listing ("" when there was none)."""
    from services import compute, deployments

    targets = Targets(loaded=True)
    error = ""
    try:
        targets.clusters = sorted(c.name for c in compute.list_computes(session, ws) if c.kind == "cluster")
        targets.endpoints = sorted(deployments.list_online_endpoints(session, ws), key=lambda e: e.name)
        for e in targets.endpoints:
            targets.deployments[e.name] = deployments.list_online_deployments(session, ws, e.name)
    except Exception as e:
        error = describe_failure(e)
    return targets, error


def fetch_panel(
    session: Session,
    ws: Workspace,
    spec: PanelSpec,
    query: PanelQuery | None,
    params: Params,
    deployments: Callable[[], Deployments],
) -> Loaded:
    """In a thread: one panel's query, aggregated on the server. `deployments` gives the online deployments
    by endpoint as known when the request is built (the scope's targets may arrive while this runs)."""
    law = monitor.log_analytics_workspace(session, ws)
    if spec.platform:
        return _fetch_metrics(session, ws, law, params, deployments())
    assert query is not None
    kql, _ = monitor.render_panel(query, timespan=params.range, width=params.width, scope=params.scope.values())
    result: LogsResult = monitor.run_query(session, law, kql, params.range)
    return Loaded(
        params,
        kql,
        tuple((c.name, c.type) for c in result.columns),
        result.rows,
        partial=str(result.partial_error) if result.partial_error else "",
    )


def _fetch_metrics(session: Session, ws: Workspace, law: Any, params: Params, endpoints: Deployments) -> Loaded:
    spec = next(s for s in PANELS if s.platform)
    if params.scope.kind == "endpoint":
        deps = list(endpoints.get(params.scope.name, []))
    else:
        deps = [d for ds in endpoints.values() for d in ds]
    names = [v for v, _ in spec.variants]
    description = (
        f"Azure Monitor metrics:getBatch · namespace {monitor.DEPLOYMENT_NAMESPACE}\n"
        f"metrics {', '.join(names)} · aggregation Average · interval {monitor.kql_timespan(params.bin)}\n"
        f"over the last {monitor.kql_timespan(params.range)} for {len(deps)} deployments:\n"
        + "\n".join(f"  {d.endpoint}/{d.name}" for d in deps)
    )
    if not deps:
        return Loaded(params, description)
    # The estate's clock (Log Analytics' now()), so the window ends where the logs do.
    now_rows = monitor.run_query(session, law, "print Now = now()", None).rows
    end = now_rows[0][0] if now_rows and isinstance(now_rows[0][0], dt.datetime) else None
    series = monitor.query_metrics(
        session,
        [(d.id, ws.location) for d in deps],
        monitor.DEPLOYMENT_NAMESPACE,
        names,
        timespan=params.range,
        end=end,
        interval=params.bin,
    )
    return Loaded(params, description, series=tuple(series))
