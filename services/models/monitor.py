"""Monitoring: Log Analytics results and errors, platform metric series, the query library's panels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..errors import AzmlError, ErrorKind, ServiceError, request_id_of

NUMERIC_TYPES = frozenset({"int", "long", "real", "decimal"})


@dataclass(frozen=True)
class LogAnalyticsWorkspace:
    """The Log Analytics workspace behind an Azure ML workspace; ``customer_id`` is what queries address."""

    customer_id: str
    id: str = ""  # ARM id, when known
    name: str = ""
    location: str = ""
    source: str = "diagnostic settings"  # diagnostic settings | override


@dataclass(frozen=True)
class LogColumn:
    name: str
    type: str  # Log Analytics type: bool datetime dynamic int long real string guid decimal timespan


@dataclass(frozen=True)
class QueryError:
    """Azure's verdict on a query: its message and codes, and where in the text it went wrong."""

    message: str
    code: str = ""  # the outer code, e.g. BadArgumentError or PartialError
    kind: str = ""  # SyntaxError | SemanticError | PartialError | ...
    detail_code: str = ""  # the innermost code, e.g. SYN0002, SEM0100
    line: int | None = None  # 1-based
    position: int | None = None  # 0-based column in the line
    token: str = ""
    status: int | None = None

    @property
    def location(self) -> str:
        if self.line is None:
            return ""
        return f"line {self.line}, position {self.position if self.position is not None else 0}"

    def __str__(self) -> str:
        head = " ".join(x for x in (self.kind, self.detail_code) if x)
        where = f" at {self.location}" if self.location else ""
        return f"{head}{where}: {self.message}" if head or where else self.message


@dataclass(frozen=True)
class LogsResult:
    columns: tuple[LogColumn, ...]
    rows: tuple[tuple[Any, ...], ...]
    workspace: str = ""  # the Log Analytics customer id
    query: str = ""
    partial_error: QueryError | None = None
    statistics: tuple[tuple[str, Any], ...] = ()  # flattened: ("query.executionTime", 0.01), ...

    @property
    def is_partial(self) -> bool:
        return self.partial_error is not None

    def column_index(self, name: str) -> int:
        for i, c in enumerate(self.columns):
            if c.name == name:
                return i
        raise KeyError(name)

    @property
    def time_column(self) -> int | None:
        """The first datetime column (what a chart's x axis uses), if any."""
        return next((i for i, c in enumerate(self.columns) if c.type == "datetime"), None)

    @property
    def numeric_columns(self) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.columns) if c.type in NUMERIC_TYPES)

    @property
    def chartable(self) -> bool:
        return self.time_column is not None and bool(self.numeric_columns)

    def records(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=False)) for row in self.rows]

    def stat(self, key: str, default: Any = None) -> Any:
        return dict(self.statistics).get(key, default)


class KqlQueryFailed(AzmlError):
    """Log Analytics refused the query (syntax or semantic error); ``error`` says what and where."""

    kind = ErrorKind.INVALID

    def __init__(self, error: QueryError) -> None:
        super().__init__(str(error))
        self.error = error

    def service_error(self) -> ServiceError:
        rid = request_id_of(self.__cause__)
        return ServiceError(self.kind, str(self.error), self.error.status, self.error.code, rid)


@dataclass(frozen=True)
class MetricPoint:
    timestamp: dt.datetime
    average: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    total: float | None = None
    count: float | None = None

    def value(self, aggregation: str = "average") -> float | None:
        v: float | None = getattr(self, aggregation.lower(), None)
        return v


@dataclass(frozen=True)
class MetricSeries:
    resource_id: str
    metric: str
    unit: str
    points: tuple[MetricPoint, ...]
    dimensions: tuple[tuple[str, str], ...] = ()
    interval: dt.timedelta | None = None

    @property
    def label(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.metric} ({dims})" if dims else self.metric


@dataclass(frozen=True)
class PanelQuery:
    """One entry of the query library: a panel's KQL and how to show it."""

    key: str  # the file's stem
    title: str
    kql: str  # the template: $bin, $bin_minutes, $workspace, $cluster, $endpoint, $deployment
    panel: str = ""  # the panel it feeds (cluster-nodes, node-utilization, job-outcomes, ...)
    scope: str = "workspace"  # workspace | cluster | endpoint | deployment
    timespan: dt.timedelta = dt.timedelta(hours=1)  # default time range
    min_bin: dt.timedelta = dt.timedelta(minutes=1)
    chart: str = "line"  # line | stacked | bar
    description: str = ""
    source: str = "builtin"  # builtin, or the user file's path
    meta: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # other header keys
