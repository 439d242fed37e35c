"""services.monitor against the emulator with the real SDK clients: Log Analytics lookup, KQL, panels,
metrics batching, and the pure helpers (bins, timespans, the query library)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator, EmulatorConfig
from services import monitor, workspaces
from services.models import KqlQueryFailed, LogAnalyticsWorkspace, LogsResult, Workspace
from services.monitor import MonitorLookupError

from ..conftest import session_for


def _ws(session: Any, name: str = "mlw-prod-eus") -> Workspace:
    return next(w for w in workspaces.list_workspaces(session) if w.name == name)


@pytest.fixture(scope="module")
def law(session: Any) -> LogAnalyticsWorkspace:
    return monitor.log_analytics_workspace(session, _ws(session))


# -- pure helpers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "width", "expected"),
    [
        (dt.timedelta(minutes=15), 60, dt.timedelta(minutes=1)),
        (dt.timedelta(hours=1), 60, dt.timedelta(minutes=1)),
        (dt.timedelta(hours=1), 30, dt.timedelta(minutes=2)),
        (dt.timedelta(hours=6), 80, dt.timedelta(minutes=5)),
        (dt.timedelta(hours=24), 100, dt.timedelta(minutes=15)),
        (dt.timedelta(days=7), 100, dt.timedelta(hours=2)),
        (dt.timedelta(days=7), 10, dt.timedelta(days=1)),
        (dt.timedelta(days=90), 10, dt.timedelta(days=9)),
    ],
)
def test_choose_bin_fits_the_panel_width(span: dt.timedelta, width: int, expected: dt.timedelta) -> None:
    chosen = monitor.choose_bin(span, width)
    assert chosen == expected
    assert span / chosen <= width


def test_choose_bin_never_goes_below_a_minimum_or_one_bucket_per_column() -> None:
    for width in (1, 7, 40, 120, 300):
        for minutes in (15, 60, 360, 1440, 10080):
            span = dt.timedelta(minutes=minutes)
            b = monitor.choose_bin(span, width, minimum=dt.timedelta(hours=1))
            assert b >= dt.timedelta(hours=1)
            assert math.ceil(span / b) <= max(width, 1) or b == dt.timedelta(hours=1)


def test_metric_interval_and_kql_timespan_and_parse_timespan() -> None:
    assert monitor.metric_interval(dt.timedelta(hours=1), 60) == dt.timedelta(minutes=1)
    assert monitor.metric_interval(dt.timedelta(hours=24), 100) == dt.timedelta(minutes=15)
    assert monitor.metric_interval(dt.timedelta(days=365), 10) == dt.timedelta(days=1)
    assert [monitor.kql_timespan(dt.timedelta(seconds=s)) for s in (30, 300, 7200, 86400, 90)] == [
        "30s",
        "5m",
        "2h",
        "1d",
        "90s",
    ]
    assert monitor.parse_timespan("15m") == dt.timedelta(minutes=15)
    assert monitor.parse_timespan("24h") == dt.timedelta(hours=24)
    assert monitor.parse_timespan("7d") == dt.timedelta(days=7)
    assert monitor.parse_timespan("PT1H30M") == dt.timedelta(minutes=90)
    with pytest.raises(ValueError, match="not a time range"):
        monitor.parse_timespan("soon")


def test_builtin_queries_are_data_with_headers() -> None:
    queries = {q.key: q for q in monitor.builtin_queries()}
    assert set(queries) >= {
        "cluster_nodes_by_state",
        "node_utilization",
        "job_outcomes",
        "endpoint_requests",
        "endpoint_latency",
        "endpoint_errors",
    }
    for q in queries.values():
        assert q.title and q.panel and q.scope in ("workspace", "cluster", "endpoint", "deployment")
        assert "bin(TimeGenerated, $bin)" in q.kql, f"{q.key} must aggregate on the server by bin"
        assert "summarize" in q.kql
    assert queries["job_outcomes"].timespan == dt.timedelta(hours=24)
    assert queries["job_outcomes"].min_bin == dt.timedelta(hours=1)


def test_user_queries_add_to_and_replace_builtins(tmp_path: Path) -> None:
    (tmp_path / "my_gpu.kql").write_text(
        "// title: Hot GPUs\n// scope: cluster\n// timespan: 6h\n// owner: alice\n"
        "AmlComputeCpuGpuUtilization | where MetricName == 'GpuUtilization'\n"
        "| summarize avg(Utilization) by bin(TimeGenerated, $bin)\n"
    )
    (tmp_path / "job_outcomes.kql").write_text("// title: Mine\nAmlRunStatusChangedEvent | count\n")
    (tmp_path / "empty.kql").write_text("// title: nothing\n")
    (tmp_path / "notes.txt").write_text("ignored")
    found = {q.key: q for q in monitor.load_queries(tmp_path)}
    assert found["my_gpu"].title == "Hot GPUs" and found["my_gpu"].timespan == dt.timedelta(hours=6)
    assert found["my_gpu"].source == str(tmp_path / "my_gpu.kql")
    assert dict(found["my_gpu"].meta) == {"owner": "alice"}
    assert found["job_outcomes"].title == "Mine"
    assert "empty" not in found and "cluster_nodes_by_state" in found
    assert any("empty.kql" in e for e in monitor.load_user_errors(tmp_path))
    assert monitor.load_queries(tmp_path / "missing")  # a missing directory is no error


def test_render_panel_substitutes_the_bin_and_escapes_scope_values() -> None:
    panel = next(q for q in monitor.builtin_queries() if q.key == "endpoint_requests")
    kql, chosen = monitor.render_panel(panel, timespan=dt.timedelta(hours=6), width=80, scope={"endpoint": 'a"b'})
    assert chosen == dt.timedelta(minutes=5)
    assert "bin(TimeGenerated, 5m)" in kql and "/ 5.0" in kql
    assert 'EndpointName == "a\\"b"' in kql
    assert "$" not in kql


# -- Log Analytics ----------------------------------------------------------------------------------------------


def test_log_analytics_workspace_comes_from_diagnostic_settings_and_is_cached(session: Any, emulator: Emulator) -> None:
    ws = _ws(session, "mlw-prod-weu")
    first = monitor.log_analytics_workspace(session, ws)
    assert first.name == "log-prod-weu" and first.source == "diagnostic settings"
    assert first.id.endswith("/Microsoft.OperationalInsights/workspaces/log-prod-weu")
    before = emulator.request_count
    assert monitor.log_analytics_workspace(session, ws.id) == first
    assert emulator.request_count == before


def test_log_analytics_override_by_guid_or_arm_id(session: Any, law: LogAnalyticsWorkspace) -> None:
    by_guid = monitor.log_analytics_workspace(session, _ws(session), override=law.customer_id)
    assert by_guid.customer_id == law.customer_id and by_guid.source == "override"
    by_id = monitor.log_analytics_workspace(session, _ws(session), override=law.id)
    assert by_id.customer_id == law.customer_id and by_id.name == law.name
    with pytest.raises(MonitorLookupError, match="neither"):
        monitor.resolve_log_analytics(session, "my-workspace")


def test_run_query_returns_typed_frozen_results_with_statistics(session: Any, law: LogAnalyticsWorkspace) -> None:
    r = monitor.run_query(
        session, law, "AmlComputeClusterEvent | summarize n = count() by bin(TimeGenerated, 15m)", dt.timedelta(hours=1)
    )
    assert isinstance(r, LogsResult)
    assert [(c.name, c.type) for c in r.columns] == [("TimeGenerated", "datetime"), ("n", "long")]
    assert r.chartable and r.time_column == 0 and r.numeric_columns == (1,)
    assert all(isinstance(row[0], dt.datetime) for row in r.rows)
    assert r.stat("query.inputDatasetStatistics.rows") == sum(row[1] for row in r.rows)
    assert r.partial_error is None
    with pytest.raises(AttributeError):
        r.rows = ()  # type: ignore[misc]


def test_a_refused_query_carries_azures_message_line_and_position(session: Any, law: LogAnalyticsWorkspace) -> None:
    with pytest.raises(KqlQueryFailed) as exc:
        monitor.run_query(session, law, "AmlComputeClusterEvent\n| summarize count() by Nope")
    err = exc.value.error
    assert (err.kind, err.detail_code, err.line, err.position, err.status) == ("SemanticError", "SEM0100", 2, 23, 400)
    assert err.message == "'summarize' operator: Failed to resolve scalar expression named 'Nope'"
    assert err.location == "line 2, position 23"
    with pytest.raises(KqlQueryFailed) as exc:
        monitor.run_query(session, law, "AmlComputeClusterEvent | project")
    assert exc.value.error.kind == "SyntaxError" and exc.value.error.line == 1


def test_a_partial_answer_is_a_result_with_its_error() -> None:
    emu = Emulator(EmulatorConfig(seed=7, frozen=True, options={"partial_tables": "AmlComputeJobEvent"})).start()
    try:
        session = session_for(emu)
        law = monitor.log_analytics_workspace(session, _ws(session))
        r = monitor.run_query(session, law, "AmlComputeJobEvent | summarize count()", dt.timedelta(days=2))
        assert r.is_partial and r.partial_error is not None
        assert r.partial_error.code == "PartialError" and "AmlComputeJobEvent" in r.partial_error.message
        assert r.rows and r.rows[0][0] > 0
        session.close()
    finally:
        emu.stop()


@pytest.mark.parametrize("key", [q.key for q in monitor.builtin_queries()])
@pytest.mark.parametrize("width", [30, 90])
def test_each_builtin_panel_runs_and_returns_bounded_buckets(
    session: Any, law: LogAnalyticsWorkspace, key: str, width: int
) -> None:
    panel = next(q for q in monitor.builtin_queries() if q.key == key)
    r = monitor.run_panel(session, law, panel, width=width)
    assert r.rows, f"{key} returned nothing for {law.name}"
    buckets = {row[r.time_column] for row in r.rows} if r.time_column is not None else set()
    assert 0 < len(buckets) <= width + 1
    series_cols = [i for i, c in enumerate(r.columns) if c.type == "string"]
    series = {tuple(row[i] for i in series_cols) for row in r.rows}
    assert len(r.rows) <= len(buckets) * len(series)
    assert len(r.rows) <= (width + 1) * max(1, len(series))
    assert r.stat("query.inputDatasetStatistics.rows", 0) >= len(r.rows)


def test_panels_scope_to_one_cluster_or_endpoint(session: Any, law: LogAnalyticsWorkspace, emulator: Emulator) -> None:
    panel = next(q for q in monitor.builtin_queries() if q.key == "node_utilization")
    r = monitor.run_panel(session, law, panel, width=20, scope={"cluster": "gpu-a100"})
    nodes = {row[r.column_index("NodeId")] for row in r.rows}
    area = emulator.estate.area_state["compute"].clusters
    cl = next(c for cid, c in area.items() if cid.endswith("mlw-prod-eus/computes/gpu-a100"))
    assert nodes <= {n.node_id for n in cl.nodes}
    assert {row[r.column_index("MetricName")] for row in r.rows} == {
        "CpuUtilization",
        "GpuUtilization",
        "GpuMemoryUtilization",
    }


# -- metrics ------------------------------------------------------------------------------------------------


def test_query_metrics_batches_resources_of_one_region_in_one_call(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    endpoints = [e for e in emulator.estate.children(ws.id, "onlineEndpoints")]
    assert len(endpoints) >= 2
    before = len(emulator.request_log)
    series = monitor.query_metrics(
        session,
        [(e["id"], ws.location) for e in endpoints],
        monitor.ENDPOINT_NAMESPACE,
        ["RequestsPerMinute", "RequestLatency_P95"],
        timespan=dt.timedelta(hours=1),
        end=emulator.clock.now(),
        width=12,
        split_by="deployment",
    )
    calls = [r for r in emulator.request_log[before:] if r[1].endswith("metrics:getBatch")]
    assert len(calls) == 1
    assert {s.resource_id for s in series} == {e["id"] for e in endpoints}
    assert all(len(s.points) <= 13 and s.interval == dt.timedelta(minutes=5) for s in series)
    assert all(dict(s.dimensions).get("deployment") for s in series)
    rpm = [p.average for s in series if s.metric == "RequestsPerMinute" for p in s.points if p.average]
    assert rpm and all(v > 0 for v in rpm)


def test_query_metrics_splits_batches_by_region_and_size(session: Any, emulator: Emulator) -> None:
    targets = [(w.id, w.location) for w in workspaces.list_workspaces(session)]
    regions = {(t[0].split("/")[2], t[1]) for t in targets}
    before = len(emulator.request_log)
    series = monitor.query_metrics(
        session, targets, monitor.WORKSPACE_NAMESPACE, ["Active Nodes"], end=emulator.clock.now(), width=6
    )
    calls = [r for r in emulator.request_log[before:] if r[1].endswith("metrics:getBatch")]
    assert len(calls) == len(regions)
    assert {s.resource_id for s in series} == {t[0] for t in targets}
    assert len(monitor._batches([(f"/subscriptions/s/r{i}", "eastus") for i in range(120)])) == 3
