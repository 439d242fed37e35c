"""The duckdb-kql adapter: a query's tables loaded into an in-memory DuckDB (a pooled connection, the tables
dropped after the query), KQL translated to SQL (cached by query, schema and "now").

duckdb-kql 1.1.2 is young (pre-alpha): it is pinned, used only here, and its errors are translated by
:mod:`emulator.kql.errors`. Known gaps (measured): make-series, percentiles(), bin_at, todecimal — these
answer with a SEM0001 error that names the construct and says Azure runs it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from . import KqlQueryError, Result, Table
from .errors import from_engine

_SQL_TYPES = {
    "bool": "BOOLEAN",
    "datetime": "DOUBLE",  # epoch seconds, converted on load
    "dynamic": "JSON",
    "int": "INTEGER",
    "long": "BIGINT",
    "real": "DOUBLE",
    "string": "VARCHAR",
    "guid": "VARCHAR",
    "decimal": "DOUBLE",
    "timespan": "DOUBLE",  # seconds, converted on load
}


def _kql_type(sql_type: str) -> str:
    t = sql_type.upper()
    if t.startswith("TIMESTAMP") or t == "DATE":
        return "datetime"
    if t == "INTERVAL":
        return "timespan"
    if t in ("BIGINT", "HUGEINT", "UBIGINT", "UINTEGER"):
        return "long"
    if t in ("INTEGER", "SMALLINT", "TINYINT", "USMALLINT", "UTINYINT"):
        return "int"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "real"
    if t == "BOOLEAN":
        return "bool"
    if t == "UUID":
        return "guid"
    if t == "VARCHAR":
        return "string"
    return "dynamic"  # JSON, LIST, STRUCT, MAP


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".") + "Z"


def _timespan(value: dt.timedelta) -> str:
    total = value.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    whole = int(seconds)
    frac = round((seconds - whole) * 10_000_000)
    text = f"{int(hours):02d}:{int(minutes):02d}:{whole:02d}" + (f".{frac:07d}" if frac else "")
    return f"{sign}{int(days)}.{text}" if days else sign + text


def _value(kql_type: str, value: Any) -> Any:
    if value is None:
        return None
    if kql_type == "datetime" and isinstance(value, dt.datetime):
        return _iso(value)
    if kql_type == "datetime" and isinstance(value, dt.date):
        return value.isoformat() + "T00:00:00Z"
    if kql_type == "timespan" and isinstance(value, dt.timedelta):
        return _timespan(value)
    if kql_type == "dynamic":
        if isinstance(value, str):
            return value  # JSON text already; Log Analytics sends dynamic values as JSON strings
        return json.dumps(value, default=str, separators=(",", ":"))
    if kql_type == "real":
        f = float(value)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return f
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


_POOL: list[Any] = []  # idle connections, shared by every engine instance (opening one costs ~20 ms)
_POOL_LOCK = threading.Lock()
_POOL_SIZE = 4
_SQL: dict[tuple[Any, ...], tuple[str, Any]] = {}  # (query, tables' schemas, now) → (SQL, its parameters)
_SQL_LIMIT = 512


class DuckDbKqlEngine:
    name = "duckdb-kql"

    def _connect(self) -> Any:
        with _POOL_LOCK:
            if _POOL:
                return _POOL.pop()
        import duckdb_kql

        con = duckdb_kql.connect()
        con.execute("SET TimeZone='UTC'")
        return con

    def _release(self, con: Any, names: list[str]) -> None:
        """Drop the query's tables and keep the connection for the next query (or close it)."""
        try:
            for name in names:
                con.execute(f'DROP TABLE IF EXISTS "{name}"')
        except Exception:
            con.close()
            return
        with _POOL_LOCK:
            if len(_POOL) < _POOL_SIZE:
                _POOL.append(con)
                return
        con.close()

    def _translate(self, con: Any, query: str, tables: Mapping[str, Table], now: dt.datetime) -> tuple[str, Any]:
        """KQL → SQL, cached: the ANTLR parse and lowering cost ~40 ms and queries repeat (refreshes)."""
        from duckdb_kql import to_sql
        from duckdb_kql.engine import schema

        key = (query, tuple((t.name, tuple(t.columns)) for t in tables.values()), now)
        found = _SQL.get(key)
        if found is None:
            translated = to_sql(query, schema=schema(con), allow_write=False, query_now=now)
            if translated.unbound:  # declared query parameters without values: what kql() refuses
                from duckdb_kql.errors import KqlSchemaError

                raise KqlSchemaError(", ".join(translated.unbound), hint="declared query parameter with no value")
            found = (str(translated), translated.parameters)
            with _POOL_LOCK:
                if len(_SQL) >= _SQL_LIMIT:
                    _SQL.clear()
                _SQL[key] = found
        return found

    def _load(self, con: Any, table: Table) -> None:
        names = [n for n, _ in table.columns]
        if not names:
            return
        select = []
        params = []
        for i, (name, kql_type) in enumerate(table.columns):
            sql_type = _SQL_TYPES.get(kql_type, "VARCHAR")
            col = f"unnest(${i + 1}::{sql_type}[])"
            if kql_type == "datetime":
                col = f"make_timestamp(CAST(round({col} * 1000000) AS BIGINT))"
            elif kql_type == "timespan":
                col = f"to_microseconds(CAST(round({col} * 1000000) AS BIGINT))"
            select.append(f'{col} AS "{name}"')
            params.append(list(table.data.get(name, ())))
        if table.row_count == 0:
            cols = ", ".join(
                f'"{n}" {"TIMESTAMP" if t == "datetime" else "INTERVAL" if t == "timespan" else _SQL_TYPES[t]}'
                for n, t in table.columns
            )
            con.execute(f'CREATE TABLE "{table.name}" ({cols})')
            return
        con.execute(f'CREATE TABLE "{table.name}" AS SELECT {", ".join(select)}', params)

    def run(self, query: str, tables: Mapping[str, Table], *, now: dt.datetime, max_rows: int = 500_000) -> Result:
        if not query.strip():
            raise KqlQueryError(
                "syntax", "SYN0002", "Query could not be parsed at '<EOF>' on line [1,0]", line=1, pos=0
            )
        con = self._connect()
        loaded: list[str] = []
        try:
            for table in tables.values():
                loaded.append(table.name)
                self._load(con, table)
            naive_now = now.astimezone(dt.UTC).replace(tzinfo=None)
            try:
                sql, params = self._translate(con, query, tables, naive_now)
                rel = con.sql(sql, params=params) if params else con.sql(sql)
                if rel is None:
                    return Result((), [], sum(t.row_count for t in tables.values()))
                types = tuple(_kql_type(str(t)) for t in rel.types)
                columns = tuple(zip(rel.columns, types, strict=True))
                raw = rel.limit(max_rows + 1).fetchall()
            except KqlQueryError:
                raise
            except Exception as e:  # every engine failure becomes a Log Analytics error
                raise from_engine(e, query) from e
            truncated = len(raw) > max_rows
            rows = [[_value(types[i], v) for i, v in enumerate(r)] for r in raw[:max_rows]]
            return Result(columns, rows, sum(t.row_count for t in tables.values()), truncated)
        finally:
            self._release(con, loaded)
