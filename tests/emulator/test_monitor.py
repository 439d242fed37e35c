"""The monitoring area against the real SDK clients: LogsQueryClient (azure-monitor-query) and MetricsClient
(azure-monitor-querymetrics), plus diagnostic settings and Log Analytics workspaces over plain ARM reads."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.monitor.query import LogsQueryPartialResult, LogsQueryResult

from emulator import Emulator, EmulatorConfig
from emulator import logs as sim_logs
from emulator.kql.errors import find_name, line_pos, unknown_operator
from services import clients
from services.cloud import custom_cloud
from services.rest import RestClient

WS_NS = "Microsoft.MachineLearningServices/workspaces"
EP_NS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
DEP_NS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"


def _cloud(emu: Emulator) -> Any:
    return custom_cloud("emulator", emu.endpoint, ca_bundle=emu.ca_file)


def _ws(emu: Emulator, name: str = "mlw-prod-eus") -> dict[str, Any]:
    return next(w for w in emu.estate.workspaces() if w["name"] == name)


def _customer_id(emu: Emulator, ws: dict[str, Any]) -> str:
    rest = RestClient(_cloud(emu), emu.credential())
    diag = rest.get(ws["id"] + "/providers/Microsoft.Insights/diagnosticSettings", "2021-05-01-preview")
    law = rest.get(diag["value"][0]["properties"]["workspaceId"], "2022-10-01")
    return str(law["properties"]["customerId"])


@pytest.fixture(scope="module")
def logs_client(emulator: Emulator) -> Any:
    return clients.logs_client(_cloud(emulator), emulator.credential())


@pytest.fixture(scope="module")
def prod(emulator: Emulator) -> str:
    return _customer_id(emulator, _ws(emulator))


# -- diagnostic settings and Log Analytics workspaces ----------------------------------------------------


def test_diagnostic_settings_link_each_workspace_to_a_log_analytics_workspace(emulator: Emulator) -> None:
    rest = RestClient(_cloud(emulator), emulator.credential())
    seen = set()
    for ws in emulator.estate.workspaces():
        body = rest.get(ws["id"] + "/providers/Microsoft.Insights/diagnosticSettings", "2021-05-01-preview")
        setting = body["value"][0]
        target = setting["properties"]["workspaceId"]
        assert "/providers/Microsoft.OperationalInsights/workspaces/" in target
        assert {c["category"] for c in setting["properties"]["logs"]} >= {
            "AmlComputeClusterEvent",
            "AmlRunStatusChangedEvent",
        }
        law = rest.get(target, "2022-10-01")
        assert law["id"] == target and law["type"] == "Microsoft.OperationalInsights/workspaces"
        seen.add(law["properties"]["customerId"])
    assert len(seen) == len(emulator.estate.workspaces())
    ep = next(emulator.estate.of_type(EP_NS))
    body = rest.get(ep["id"] + "/providers/Microsoft.Insights/diagnosticSettings", "2021-05-01-preview")
    assert "AmlOnlineEndpointTrafficLog" in {c["category"] for c in body["value"][0]["properties"]["logs"]}


def test_unknown_log_analytics_workspace_is_404_in_azure_shape(logs_client: Any) -> None:
    with pytest.raises(HttpResponseError) as exc:
        logs_client.query_workspace("00000000-0000-4000-8000-000000000000", "print 1", timespan=None)
    assert exc.value.status_code == 404
    assert json.loads(exc.value.response.text())["error"]["code"] == "WorkspaceNotFoundError"


# -- queries -----------------------------------------------------------------------------------------------


def test_the_sdk_sends_the_documented_path_and_reads_typed_columns(
    emulator: Emulator, logs_client: Any, prod: str
) -> None:
    before = len(emulator.request_log)
    r = logs_client.query_workspace(
        prod,
        "AmlComputeClusterEvent | summarize n = count(), latest = max(TimeGenerated) by ClusterName",
        timespan=dt.timedelta(hours=1),
        include_statistics=True,
    )
    assert isinstance(r, LogsQueryResult)
    assert any(p == f"/v1/workspaces/{prod}/query" and m == "POST" for m, p, _ in emulator.request_log[before:])
    table = r.tables[0]
    assert table.columns == ["ClusterName", "n", "latest"]
    assert table.columns_types == ["string", "long", "datetime"]
    assert {row[0] for row in table.rows} == {
        c["name"]
        for c in emulator.estate.children(_ws(emulator)["id"], "computes")
        if c["properties"]["computeType"] == "AmlCompute"
    }
    assert all(row[2] == emulator.clock.now() for row in table.rows)  # the latest snapshot is "now"
    assert r.statistics["query"]["inputDatasetStatistics"]["rows"] >= sum(row[1] for row in table.rows)


def test_the_timespan_is_honoured(emulator: Emulator, logs_client: Any, prod: str) -> None:
    q = "AmlComputeClusterEvent | summarize earliest = min(TimeGenerated), n = count()"
    now = emulator.clock.now()
    one = logs_client.query_workspace(prod, q, timespan=dt.timedelta(hours=1)).tables[0].rows[0]
    six = logs_client.query_workspace(prod, q, timespan=dt.timedelta(hours=6)).tables[0].rows[0]
    assert one[0] >= now - dt.timedelta(hours=1) and six[0] < now - dt.timedelta(hours=5)
    assert six[1] > 5 * one[1]
    window = (now - dt.timedelta(hours=3), now - dt.timedelta(hours=2))
    row = (
        logs_client.query_workspace(
            prod, "AmlComputeClusterEvent | summarize a = min(TimeGenerated), b = max(TimeGenerated)", timespan=window
        )
        .tables[0]
        .rows[0]
    )
    assert window[0] <= row[0] <= row[1] <= window[1]


@pytest.mark.parametrize("table", sim_logs.TABLE_NAMES)
def test_every_table_answers_with_its_documented_columns(logs_client: Any, prod: str, table: str) -> None:
    r = logs_client.query_workspace(prod, f"{table} | take 5", timespan=dt.timedelta(days=7))
    assert r.tables[0].columns == [c for c, _ in sim_logs.SCHEMAS[table]]
    assert {"TimeGenerated", "TenantId", "Type", "_ResourceId"} <= set(r.tables[0].columns)


def test_syntax_error_is_400_with_line_and_pos(logs_client: Any, prod: str) -> None:
    query = "AmlComputeClusterEvent\n| wherex ClusterName == 'x'"
    with pytest.raises(HttpResponseError) as exc:
        logs_client.query_workspace(prod, query, timespan=dt.timedelta(hours=1))
    assert exc.value.status_code == 400
    body = json.loads(exc.value.response.text())["error"]
    assert body["code"] == "BadArgumentError"
    assert body["innererror"]["code"] == "SyntaxError"
    inner = body["innererror"]["innererror"]
    assert (inner["code"], inner["line"], inner["pos"], inner["token"]) == ("SYN0002", 2, 2, "wherex")
    assert "line [2,2]" in inner["message"]


def test_semantic_error_names_the_column_and_where_it_is(logs_client: Any, prod: str) -> None:
    query = "AmlComputeClusterEvent\n| summarize count() by ClusterName\n| where NoSuchColumn > 1"
    with pytest.raises(HttpResponseError) as exc:
        logs_client.query_workspace(prod, query, timespan=dt.timedelta(hours=1))
    inner = json.loads(exc.value.response.text())["error"]["innererror"]
    assert inner["code"] == "SemanticError"
    assert inner["innererror"]["code"] == "SEM0100"
    assert (
        "'where' operator: Failed to resolve scalar expression named 'NoSuchColumn'" == inner["innererror"]["message"]
    )
    assert (inner["innererror"]["line"], inner["innererror"]["pos"]) == (3, 8)


def test_unknown_table_and_engine_gaps_are_semantic_errors(logs_client: Any, prod: str) -> None:
    with pytest.raises(HttpResponseError) as exc:
        logs_client.query_workspace(prod, "NoSuchTable | take 1", timespan=dt.timedelta(hours=1))
    inner = json.loads(exc.value.response.text())["error"]["innererror"]["innererror"]
    assert "Failed to resolve table or column expression named 'NoSuchTable'" in inner["message"]
    with pytest.raises(HttpResponseError) as exc:
        logs_client.query_workspace(
            prod,
            "AmlComputeClusterEvent | make-series count() on TimeGenerated step 5m",
            timespan=dt.timedelta(hours=1),
        )
    inner = json.loads(exc.value.response.text())["error"]["innererror"]["innererror"]
    assert inner["code"] == "SEM0001" and "make-series" in inner["message"] and inner["pos"] == 25


def test_error_positions_ignore_strings_and_comments() -> None:
    q = "// Foo here\nT | where Name == 'Foo' or Foo > 1"
    off = find_name(q, "Foo")
    assert off is not None and line_pos(q, off) == (2, 27)
    assert unknown_operator("T | where x == '| bogus' | summarize count()") is None
    assert unknown_operator("T | bogus") == (4, "bogus")


# -- partial results ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partial_emulator() -> Iterator[Emulator]:
    options = {"partial_tables": "AmlOnlineEndpointTrafficLog", "max_result_rows": "50"}
    emu = Emulator(EmulatorConfig(seed=7, frozen=True, options=options)).start()
    try:
        yield emu
    finally:
        emu.stop()


def test_a_partially_unavailable_table_gives_a_partial_result(partial_emulator: Emulator, emulator: Emulator) -> None:
    client = clients.logs_client(_cloud(partial_emulator), partial_emulator.credential())
    ws = _ws(partial_emulator)
    q = "AmlOnlineEndpointTrafficLog | summarize count()"
    r = client.query_workspace(_customer_id(partial_emulator, ws), q, timespan=dt.timedelta(hours=1))
    assert isinstance(r, LogsQueryPartialResult)
    assert r.partial_error.code == "PartialError"
    assert "AmlOnlineEndpointTrafficLog" in r.partial_error.message
    full = clients.logs_client(_cloud(emulator), emulator.credential()).query_workspace(
        _customer_id(emulator, _ws(emulator)), q, timespan=dt.timedelta(hours=1)
    )
    assert 0 < r.partial_data[0].rows[0][0] < full.tables[0].rows[0][0]
    ok = client.query_workspace(
        _customer_id(partial_emulator, ws), "AmlComputeClusterEvent | summarize count()", timespan=dt.timedelta(hours=1)
    )
    assert isinstance(ok, LogsQueryResult)


def test_a_result_over_the_row_limit_is_cut_and_partial(partial_emulator: Emulator) -> None:
    client = clients.logs_client(_cloud(partial_emulator), partial_emulator.credential())
    r = client.query_workspace(
        _customer_id(partial_emulator, _ws(partial_emulator)),
        "AmlComputeCpuGpuUtilization",
        timespan=dt.timedelta(hours=1),
    )
    assert isinstance(r, LogsQueryPartialResult)
    assert len(r.partial_data[0].rows) == 50
    assert "record count limit" in r.partial_error.message


# -- consistency -------------------------------------------------------------------------------------------


def test_nodes_by_state_kql_active_nodes_metric_and_compute_agree(
    emulator: Emulator, logs_client: Any, prod: str
) -> None:
    ws = _ws(emulator)
    rest = RestClient(_cloud(emulator), emulator.credential())
    computes = rest.get(ws["id"] + "/computes", "2024-10-01")["value"]
    counts = {
        c["name"]: c["properties"]["properties"]["nodeStateCounts"]
        for c in computes
        if c["properties"]["computeType"] == "AmlCompute"
    }
    assert sum(c["runningNodeCount"] for c in counts.values()) > 0
    kql = (
        "AmlComputeClusterEvent | summarize arg_max(TimeGenerated, RunningNodeCount, IdleNodeCount, "
        "PreemptedNodeCount) by ClusterName"
    )
    rows = logs_client.query_workspace(prod, kql, timespan=dt.timedelta(hours=1)).tables[0].rows
    latest = {r[0]: (r[2], r[3], r[4]) for r in rows}
    assert latest == {
        n: (c["runningNodeCount"], c["idleNodeCount"], c["preemptedNodeCount"]) for n, c in counts.items()
    }
    now = emulator.clock.now()
    metrics = clients.metrics_client(_cloud(emulator), emulator.credential(), ws["location"])
    result = metrics.query_resources(
        resource_ids=[ws["id"]],
        metric_namespace=WS_NS,
        metric_names=["Active Nodes", "Idle Nodes"],
        timespan=(now - dt.timedelta(minutes=10), now + dt.timedelta(minutes=1)),
        granularity=dt.timedelta(minutes=1),
        aggregations=["Maximum"],
        filter="ClusterName eq '*'",
    )[0]
    by_metric = {
        (m.name, ts.metadata_values["ClusterName"]): ts.data[-1].maximum for m in result.metrics for ts in m.timeseries
    }
    for name, c in counts.items():
        assert by_metric[("Active Nodes", name)] == c["runningNodeCount"]
        assert by_metric[("Idle Nodes", name)] == c["idleNodeCount"]


def test_run_outcomes_agree_between_logs_metrics_and_the_jobs_area(
    emulator: Emulator, logs_client: Any, prod: str
) -> None:
    ws = _ws(emulator)
    now = emulator.clock.now()
    window = (now - dt.timedelta(hours=24), now)
    rows = (
        logs_client.query_workspace(
            prod, "AmlRunStatusChangedEvent | where Status == 'Completed' | summarize count()", timespan=window
        )
        .tables[0]
        .rows
    )
    model = emulator.estate.area_state["jobs"]
    wj = model.workspace(ws["id"])
    t0 = -86400.0
    expected = sum(
        1 for r in wj.by_name.values() if r.canceled is None and r.outcome == "Completed" and t0 <= r.t_end <= 0.0
    )
    assert rows[0][0] == expected > 0
    metrics = clients.metrics_client(_cloud(emulator), emulator.credential(), ws["location"])
    result = metrics.query_resources(
        resource_ids=[ws["id"]],
        metric_namespace=WS_NS,
        metric_names=["Completed Runs"],
        timespan=window,
        granularity=dt.timedelta(hours=1),
        aggregations=["Total"],
    )[0]
    assert sum(p.total or 0 for p in result.metrics[0].timeseries[0].data) == expected


def test_requests_per_minute_metric_counts_the_traffic_log(emulator: Emulator, logs_client: Any, prod: str) -> None:
    ws = _ws(emulator)
    eps = [e for e in emulator.estate.children(ws["id"], "onlineEndpoints")]
    ep = sorted(eps, key=lambda e: e["name"])[0]
    now = emulator.clock.now()
    window = (now - dt.timedelta(minutes=30), now)
    rows = (
        logs_client.query_workspace(
            prod,
            f"AmlOnlineEndpointTrafficLog | where EndpointName == '{ep['name']}' | summarize count()",
            timespan=window,
        )
        .tables[0]
        .rows
    )
    metrics = clients.metrics_client(_cloud(emulator), emulator.credential(), ws["location"])
    result = metrics.query_resources(
        resource_ids=[ep["id"]],
        metric_namespace=EP_NS,
        metric_names=["RequestsPerMinute"],
        timespan=window,
        granularity=dt.timedelta(minutes=30),
        aggregations=["Average"],
    )[0]
    assert result.metrics[0].timeseries[0].data[0].average * 30 == pytest.approx(rows[0][0])


# -- metrics ------------------------------------------------------------------------------------------------


def test_metrics_for_several_resources_come_in_one_batch_request(emulator: Emulator) -> None:
    ws = _ws(emulator)
    deps = [d for d in emulator.estate.of_type(DEP_NS) if d["id"].lower().startswith(ws["id"].lower() + "/")]
    assert len(deps) >= 3
    client = clients.metrics_client(_cloud(emulator), emulator.credential(), ws["location"])
    before = len(emulator.request_log)
    now = emulator.clock.now()
    results = client.query_resources(
        resource_ids=[d["id"] for d in deps],
        metric_namespace=DEP_NS,
        metric_names=["CpuUtilizationPercentage", "DeploymentCapacity"],
        timespan=(now - dt.timedelta(hours=1), now),
        granularity=dt.timedelta(minutes=15),
    )
    batch = [r for r in emulator.request_log[before:] if r[1].endswith("/metrics:getBatch")]
    assert len(batch) == 1 and batch[0][2] == 200
    assert len(results) == len(deps)
    for d, r in zip(deps, results, strict=True):
        assert r.metrics[0].id.lower().startswith(d["id"].lower())
        cap = r.metrics[1].timeseries[0].data[-1].average
        if d["properties"]["provisioningState"] == "Succeeded":
            assert cap == d["sku"]["capacity"]
        else:
            assert cap is None  # a failed deployment serves nothing
        assert all(0 <= (p.average or 0) <= 100 for p in r.metrics[0].timeseries[0].data)


def test_unknown_metric_and_wrong_namespace_are_refused(emulator: Emulator) -> None:
    ws = _ws(emulator)
    client = clients.metrics_client(_cloud(emulator), emulator.credential(), ws["location"])
    now = emulator.clock.now()
    with pytest.raises(HttpResponseError) as exc:
        client.query_resources(
            resource_ids=[ws["id"]],
            metric_namespace=WS_NS,
            metric_names=["Bogus Metric"],
            timespan=(now - dt.timedelta(hours=1), now),
        )
    assert exc.value.status_code == 400 and "Active Nodes" in str(exc.value)
    with pytest.raises(HttpResponseError) as exc:
        client.query_resources(
            resource_ids=[ws["id"]],
            metric_namespace=EP_NS,
            metric_names=["RequestsPerMinute"],
            timespan=(now - dt.timedelta(hours=1), now),
        )
    assert exc.value.status_code == 400


# -- volume ----------------------------------------------------------------------------------------------------


def test_log_volume_multiplies_raw_rows_but_not_an_aggregated_answer() -> None:
    sizes = {}
    for volume in (1, 10):
        emu = Emulator(EmulatorConfig(seed=7, frozen=True, options={"log_volume": str(volume)})).start()
        try:
            client = clients.logs_client(_cloud(emu), emu.credential())
            cid = _customer_id(emu, _ws(emu))
            r = client.query_workspace(
                cid,
                "AmlOnlineEndpointTrafficLog | summarize n = count() by bin(TimeGenerated, 5m)",
                timespan=dt.timedelta(hours=1),
                include_statistics=True,
            )
            rows = r.tables[0].rows
            sizes[volume] = (len(rows), sum(x[1] for x in rows))
        finally:
            emu.stop()
    assert sizes[1][0] == sizes[10][0]
    assert 8 * sizes[1][1] < sizes[10][1] < 12 * sizes[1][1]


def test_bad_log_volume_option_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="log_volume"):
        Emulator(EmulatorConfig(options={"log_volume": "lots"}))


def test_a_query_using_now_runs_and_repeats_alike(logs_client: Any, prod: str) -> None:
    """now()/ago() are bound per run: a repeated query (served from the translation cache) answers the same."""
    text = "AmlComputeClusterEvent | where TimeGenerated > ago(30m) and TimeGenerated <= now() | summarize n = count()"
    first = [list(r) for r in logs_client.query_workspace(prod, text, timespan=dt.timedelta(hours=1)).tables[0].rows]
    again = [list(r) for r in logs_client.query_workspace(prod, text, timespan=dt.timedelta(hours=1)).tables[0].rows]
    assert first == again and first[0][0] > 0
