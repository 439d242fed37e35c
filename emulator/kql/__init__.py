"""KQL over simulated tables, behind a small interface.

The emulator's Log Analytics API (and Resource Graph, through :mod:`emulator.kql.resource_graph`, which adds
ARG's dialect rules) hands an engine the tables a query needs (columns with their KQL types
and the rows, column by column) and the query's "now"; the engine answers with typed columns and rows
or raises :class:`KqlQueryError` carrying what Log Analytics reports: syntax or semantic, a code, a
message and the line and position in the query text. The engine today is duckdb-kql (KQL translated to
DuckDB SQL, pinned in pyproject); nothing outside :mod:`emulator.kql.duckdb_engine` knows that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# The column types of the Log Analytics query API.
KQL_TYPES = ("bool", "datetime", "dynamic", "int", "long", "real", "string", "guid", "decimal", "timespan")


@dataclass
class Table:
    """A table's data, columnar: ``data[name]`` holds one value per row, in the KQL type of the column.

    datetime columns hold seconds since the Unix epoch (floats), which load fastest."""

    name: str
    columns: Sequence[tuple[str, str]]  # (name, KQL type)
    data: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        first = next(iter(self.data.values()), ())
        return len(first)


@dataclass(frozen=True)
class Result:
    columns: tuple[tuple[str, str], ...]  # (name, KQL type)
    rows: list[list[Any]]  # JSON-ready values as Log Analytics writes them
    scanned_rows: int = 0  # rows the query's tables held
    truncated: bool = False


class KqlQueryError(Exception):
    """A query Log Analytics would refuse: ``kind`` is "syntax" or "semantic"."""

    def __init__(
        self,
        kind: str,
        code: str,
        message: str,
        *,
        line: int | None = None,
        pos: int | None = None,
        token: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.line = line
        self.pos = pos
        self.token = token


class KqlEngine(Protocol):
    name: str

    def run(self, query: str, tables: Mapping[str, Table], *, now: dt.datetime, max_rows: int = 500_000) -> Result: ...


def default_engine() -> KqlEngine:
    from .duckdb_engine import DuckDbKqlEngine

    return DuckDbKqlEngine()


__all__ = ["KQL_TYPES", "KqlEngine", "KqlQueryError", "Result", "Table", "default_engine"]
