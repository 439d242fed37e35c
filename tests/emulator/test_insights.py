"""The ARM metrics API (``{resourceId}/providers/Microsoft.Insights/metrics``, ``metricDefinitions``,
``metricNamespaces``) through azure-mgmt-monitor, a client the product does not use: it must read the
workspace, compute, online endpoint and deployment metrics, and agree with ``metrics:getBatch``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.monitor import MonitorManagementClient

from emulator import Emulator
from services import clients
from services.cloud import custom_cloud

WS_NS = "Microsoft.MachineLearningServices/workspaces"
EP_NS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
DEP_NS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments"


@pytest.fixture(scope="module")
def monitor(emulator: Emulator) -> MonitorManagementClient:
    return MonitorManagementClient(
        emulator.credential(),
        emulator.subscription_ids[0],
        base_url=emulator.endpoint,
        connection_verify=emulator.ca_file,
    )


def _ws(emu: Emulator, name: str = "mlw-prod-eus") -> dict[str, Any]:
    return next(w for w in emu.estate.workspaces() if w["name"] == name)


def _span(emu: Emulator, minutes: int) -> tuple[dt.datetime, dt.datetime, str]:
    now = emu.clock.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)  # the last bucket holds now
    start = now - dt.timedelta(minutes=minutes)
    return start, now, f"{start.isoformat().replace('+00:00', 'Z')}/{now.isoformat().replace('+00:00', 'Z')}"


def _cluster(emu: Emulator, ws: dict[str, Any]) -> dict[str, Any]:
    return sorted(
        (c for c in emu.estate.children(ws["id"], "computes") if c["properties"]["computeType"] == "AmlCompute"),
        key=lambda c: c["name"],
    )[0]


def test_workspace_metrics_agree_with_get_batch_point_for_point(emulator: Emulator, monitor: Any) -> None:
    ws = _ws(emulator)
    start, end, timespan = _span(emulator, 60)
    arm = monitor.metrics.list(
        ws["id"],
        timespan=timespan,
        interval="PT5M",
        metricnames="Active Nodes,Completed Runs",
        aggregation="Average,Maximum,Total",
        filter="ClusterName eq '*'",
        metricnamespace=WS_NS,
        validate_dimensions=False,  # Completed Runs has no ClusterName: Azure refuses the filter unless told
    )
    assert arm.interval == "PT5M" and arm.namespace == WS_NS.lower() and arm.resourceregion == ws["location"]
    batch = clients.metrics_client(
        custom_cloud("emulator", emulator.endpoint, ca_bundle=emulator.ca_file), emulator.credential(), ws["location"]
    ).query_resources(
        resource_ids=[ws["id"]],
        metric_namespace=WS_NS,
        metric_names=["Active Nodes", "Completed Runs"],
        timespan=(start, end),
        granularity=dt.timedelta(minutes=5),
        aggregations=["Average", "Maximum", "Total"],
        filter="ClusterName eq '*'",
    )[0]

    def points(series: Any, meta: dict[str, str]) -> tuple[Any, ...]:
        return (
            tuple(sorted(meta.items())),
            tuple((getattr(p, "time_stamp", None) or p.timestamp, p.average, p.maximum, p.total) for p in series.data),
        )

    arm_series = {
        m.name.value: sorted(
            points(ts, {mv.name.value: mv.value for mv in ts.metadatavalues or []}) for ts in m.timeseries
        )
        for m in arm.value
    }
    batch_series = {
        m.name: sorted(points(ts, dict(ts.metadata_values or {})) for ts in m.timeseries) for m in batch.metrics
    }
    assert arm_series == batch_series
    assert len(arm_series["Active Nodes"]) >= 2  # one series per cluster
    assert any(p[1] for _, pts in arm_series["Active Nodes"] for p in pts)
    assert sum(p[3] or 0 for _, pts in arm_series["Completed Runs"] for p in pts) >= 0


def test_compute_metrics_are_the_workspace_metrics_for_that_cluster(emulator: Emulator, monitor: Any) -> None:
    ws = _ws(emulator)
    cluster = _cluster(emulator, ws)
    _, _, timespan = _span(emulator, 30)
    compute = monitor.metrics.list(
        cluster["id"], timespan=timespan, interval="PT1M", metricnames="Active Nodes", aggregation="Maximum"
    )
    whole = monitor.metrics.list(
        ws["id"],
        timespan=timespan,
        interval="PT1M",
        metricnames="Active Nodes",
        aggregation="Maximum",
        filter=f"ClusterName eq '{cluster['name']}'",
    )
    assert compute.value[0].id.lower().startswith(cluster["id"].lower() + "/providers/microsoft.insights/metrics/")
    assert [p.maximum for p in compute.value[0].timeseries[0].data] == [
        p.maximum for p in whole.value[0].timeseries[0].data
    ]
    counts = cluster["properties"]["properties"]["nodeStateCounts"]
    assert compute.value[0].timeseries[0].data[-1].maximum == counts["runningNodeCount"]


def test_endpoint_metrics_split_filter_top_and_orderby(emulator: Emulator, monitor: Any) -> None:
    ws = _ws(emulator)
    ep = sorted(emulator.estate.children(ws["id"], "onlineEndpoints"), key=lambda e: e["name"])[0]
    deps = sorted(d["name"] for d in emulator.estate.children(ep["id"], "deployments"))
    assert len(deps) >= 2
    _, _, timespan = _span(emulator, 60)
    split = monitor.metrics.list(
        ep["id"],
        timespan=timespan,
        interval="FULL",
        metricnames="RequestsPerMinute",
        aggregation="Average",
        filter="deployment eq '*'",
        orderby="average asc",
        top=1,
    )
    assert split.interval == "PT1H"
    series = split.value[0].timeseries
    assert len(series) == 1 and len(series[0].data) == 1  # FULL: one point for the whole timespan
    every = monitor.metrics.list(
        ep["id"],
        timespan=timespan,
        interval="FULL",
        metricnames="RequestsPerMinute",
        aggregation="Average",
        filter=" or ".join(f"deployment eq '{d}'" for d in deps),
    )
    rates = {ts.metadatavalues[0].value: ts.data[0].average or 0 for ts in every.value[0].timeseries}
    assert set(rates) == set(deps)
    assert series[0].metadatavalues[0].value == min(rates, key=lambda d: rates[d])
    meta = monitor.metrics.list(
        ep["id"], timespan=timespan, metricnames="RequestsPerMinute", filter="deployment eq '*'", result_type="Metadata"
    )
    assert meta.value[0].timeseries and all(ts.data is None for ts in meta.value[0].timeseries)


def test_deployment_metrics_default_aggregation_and_capacity(emulator: Emulator, monitor: Any) -> None:
    ws = _ws(emulator)
    dep = next(
        d
        for d in emulator.estate.of_type(DEP_NS)
        if d["id"].lower().startswith(ws["id"].lower() + "/") and d["properties"]["provisioningState"] == "Succeeded"
    )
    _, _, timespan = _span(emulator, 15)
    result = monitor.metrics.list(dep["id"], timespan=timespan, metricnames="DeploymentCapacity")
    data = result.value[0].timeseries[0].data
    assert len(data) == 15 and result.value[0].unit == "Count"
    assert data[-1].average == dep["sku"]["capacity"] and data[-1].maximum is None


def test_metric_definitions_and_namespaces_of_each_resource_kind(emulator: Emulator, monitor: Any) -> None:
    ws = _ws(emulator)
    ep = emulator.estate.children(ws["id"], "onlineEndpoints")[0]
    cluster = _cluster(emulator, ws)
    storage = ws["properties"]["storageAccount"]
    expected = {
        ws["id"]: ("microsoft.machinelearningservices/workspaces", "Active Nodes", "ClusterName"),
        cluster["id"]: ("microsoft.machinelearningservices/workspaces/computes", "Active Nodes", None),
        ep["id"]: ("microsoft.machinelearningservices/workspaces/onlineendpoints", "RequestLatency", "deployment"),
        storage: ("microsoft.storage/storageaccounts", "Transactions", "ApiName"),
    }
    for rid, (ns, metric, dim) in expected.items():
        defs = {d.name.value: d for d in monitor.metric_definitions.list(rid)}
        d = defs[metric]
        assert d.namespace == ns and d.resource_id == rid and d.primary_aggregation_type
        assert [x.value for x in d.dimensions or []] == ([dim] if dim else [])
        grains = {a.time_grain for a in d.metric_availabilities}
        assert grains >= {dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)}
        namespaces = list(monitor.metric_namespaces.list(rid))
        assert [n.properties.metric_namespace_name for n in namespaces] == [ns]
        assert namespaces[0].classification == "Platform"


def test_storage_account_metrics_are_served_and_split_by_api(emulator: Emulator, monitor: Any) -> None:
    storage = _ws(emulator)["properties"]["storageAccount"]
    _, _, timespan = _span(emulator, 60)
    total = monitor.metrics.list(storage, timespan=timespan, interval="PT1H", metricnames="Transactions")
    split = monitor.metrics.list(
        storage, timespan=timespan, interval="PT1H", metricnames="Transactions", filter="ApiName eq '*'"
    )
    assert total.value[0].timeseries[0].data[0].total > 0
    assert sum(ts.data[0].total for ts in split.value[0].timeseries) == total.value[0].timeseries[0].data[0].total


def test_bad_requests_answer_in_the_metrics_api_error_shape(emulator: Emulator, monitor: Any) -> None:
    ws = _ws(emulator)
    with pytest.raises(HttpResponseError) as err:
        monitor.metrics.list(ws["id"], metricnames="No Such Metric")
    assert err.value.status_code == 400 and "No Such Metric" in str(err.value.message)
    assert "Valid metrics" in str(err.value.message)
    with pytest.raises(HttpResponseError) as err:
        monitor.metrics.list(ws["id"], metricnames="Active Nodes", filter="deployment eq '*'")
    assert err.value.status_code == 400 and "dimension" in str(err.value.message)
    ok = monitor.metrics.list(
        ws["id"], metricnames="Active Nodes", filter="deployment eq '*'", validate_dimensions=False, interval="PT1H"
    )
    assert ok.value[0].timeseries
    with pytest.raises(HttpResponseError) as err:
        monitor.metrics.list(ws["id"] + "-missing", metricnames="Active Nodes")
    assert err.value.status_code == 404
    with pytest.raises(HttpResponseError) as err:
        monitor.metrics.list(ws["id"], metricnames="Active Nodes", interval="PT10S")
    assert err.value.status_code == 400 and "PT1M" in str(err.value.message)


def test_a_resource_without_platform_metrics_lists_none_and_refuses_a_query(emulator: Emulator, monitor: Any) -> None:
    vault = _ws(emulator)["properties"]["keyVault"]
    assert list(monitor.metric_definitions.list(vault)) == []
    assert list(monitor.metric_namespaces.list(vault)) == []
    with pytest.raises(HttpResponseError) as err:
        monitor.metrics.list(vault, metricnames="ServiceApiHit")
    assert err.value.status_code == 400 and "no platform metrics" in str(err.value.message)
