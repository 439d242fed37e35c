"""The compute area, exercised through the real azure-ai-ml SDK (MLClient) against the emulator.

azure-ai-ml 1.35 quirk, pinned here because the console depends on it: VmSize, Usage and AmlComputeNodeInfo
are filled with ``__dict__.update(rest_obj.as_dict())``, so their data sits under the wire (camelCase) names
(``size.vCPUs``, ``usage.currentValue``, ``usage.name["value"]``, ``node.nodeState``) while the snake_case
attributes stay None. AmlCompute has no node counts at all: they are read from the REST object that
``ml_client.compute._operation.get`` returns (``properties.properties.node_state_counts``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from azure.ai.ml.entities import AmlCompute, ComputeInstance, KubernetesCompute
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from emulator import Emulator, EmulatorConfig
from emulator.areas import compute as area
from emulator.areas import compute_catalog as catalog

STATE_KEYS = {
    "idle": "idle_node_count",
    "running": "running_node_count",
    "preparing": "preparing_node_count",
    "unusable": "unusable_node_count",
    "leaving": "leaving_node_count",
    "preempted": "preempted_node_count",
}


def _ws(emu: Emulator, index: int = 0, *, purpose: str | None = None) -> dict[str, Any]:
    items = emu.estate.workspaces()
    if purpose is not None:
        items = [w for w in items if w["tags"]["purpose"] == purpose]
    w = items[index]
    parts = w["id"].split("/")
    return {"subscription": parts[2], "resource_group": parts[4], "name": w["name"], "location": w["location"]}


def _raw(ml: Any, ws: dict[str, Any], name: str) -> Any:
    """The REST object behind ml_client.compute.get (it carries what the entity drops)."""
    return ml.compute._operation.get(ws["resource_group"], ws["name"], name)


def _nodes(ml: Any, name: str) -> list[dict[str, Any]]:
    return [
        {"nodeId": n.nodeId, "nodeState": n.nodeState, "runId": n.run_id or getattr(n, "runId", None), "port": n.port}
        for n in ml.compute.list_nodes(name)
    ]


# -- reads ---------------------------------------------------------------------------------------------


def test_clusters_carry_size_scale_settings_and_tier(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]
) -> None:
    seen_low_priority = False
    for ws in workspaces:
        computes = {c.name: c for c in ml_client(ws).compute.list()}
        cpu = computes["cpu-cluster"]
        assert isinstance(cpu, AmlCompute)
        assert cpu.size in ("Standard_D4s_v3", "Standard_DS3_v2")
        assert cpu.tier == "dedicated"
        assert cpu.min_instances is not None and cpu.max_instances is not None
        assert 0 <= cpu.min_instances <= cpu.max_instances
        assert cpu.idle_time_before_scale_down in (120.0, 600.0)
        assert cpu.location == ws["location"]
        t4 = computes["gpu-t4"]
        assert isinstance(t4, AmlCompute) and t4.size == "Standard_NC4as_T4_v3"
        seen_low_priority |= t4.tier == "low_priority"
        assert all(c.provisioning_state == "Succeeded" for c in computes.values())
    assert seen_low_priority


def test_node_state_counts_agree_with_list_nodes(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]
) -> None:
    states_seen: set[str] = set()
    for ws in workspaces:
        ml = ml_client(ws)
        for c in ml.compute.list(compute_type="AmlCompute"):
            props = _raw(ml, ws, c.name).properties.properties
            nodes = _nodes(ml, c.name)
            counts = props.node_state_counts
            for state, attr in STATE_KEYS.items():
                assert getattr(counts, attr) == sum(1 for n in nodes if n["nodeState"] == state), (c.name, state)
            assert props.current_node_count == sum(1 for n in nodes if n["nodeState"] != "preempted")
            assert props.target_node_count == sum(
                1 for n in nodes if n["nodeState"] in ("preparing", "idle", "running")
            )
            assert props.current_node_count <= c.max_instances
            assert props.allocation_state in ("Steady", "Resizing")
            assert props.allocation_state_transition_time is not None
            for n in nodes:
                assert n["nodeId"].startswith("tvm-")
                assert (n["runId"] is not None) == (n["nodeState"] == "running")
            states_seen |= {n["nodeState"] for n in nodes}
    # The generated estate shows the interesting states, including a preempted low-priority node.
    assert {"running", "idle", "preempted"} <= states_seen


def test_low_priority_clusters_have_preempted_nodes(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]
) -> None:
    for ws in workspaces:
        ml = ml_client(ws)
        t4 = ml.compute.get("gpu-t4")
        if t4.tier == "low_priority":
            assert _raw(ml, ws, "gpu-t4").properties.properties.node_state_counts.preempted_node_count >= 1


def test_compute_instances_have_state_user_and_applications(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator
) -> None:
    states: set[str] = set()
    for ws in workspaces:
        instances = [c for c in ml_client(ws).compute.list() if isinstance(c, ComputeInstance)]
        assert len(instances) >= 2
        for ci in instances:
            assert str(ci.name).startswith("ci-")
            states.add(ci.state)
            assert ci.create_on_behalf_of is not None
            assert ci.create_on_behalf_of.user_tenant_id == emulator.tenant_id
            assert ci.last_operation["operationStatus"] == "Succeeded"
            assert {s["displayName"] for s in ci.services} >= {"Jupyter", "Jupyter Lab"}
            assert ci.ssh_settings is not None and ci.ssh_settings.admin_username == "azureuser"
            if ci.state == "Running":
                assert ci.network_settings is not None and ci.network_settings.public_ip_address
    assert {"Running", "Stopped"} <= states


def test_kubernetes_compute_attached_in_production_workspaces(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator
) -> None:
    purposes = {w["name"]: w["tags"]["purpose"] for w in emulator.estate.workspaces()}
    for ws in workspaces:
        k8s = [c for c in ml_client(ws).compute.list() if isinstance(c, KubernetesCompute)]
        if purposes[ws["name"]] == "production":
            assert len(k8s) == 1
            assert k8s[0].namespace == "default"
            assert "Microsoft.ContainerService/managedClusters" in str(k8s[0].resource_id)
        else:
            assert k8s == []


def test_list_is_paged_and_filtered_by_type(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ml = ml_client(workspaces[0])
    everything = list(ml.compute.list())
    clusters = list(ml.compute.list(compute_type="AmlCompute"))
    assert {c.name for c in clusters} < {c.name for c in everything}
    assert all(c.type == "amlcompute" for c in clusters)


def test_list_sizes_by_region(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ml = ml_client(workspaces[0])
    eastus = {s.name: s for s in ml.compute.list_sizes(location="eastus")}
    weu = {s.name: s for s in ml.compute.list_sizes(location="westeurope")}
    h100 = eastus["Standard_NC40ads_H100_v5"]
    assert (h100.vCPUs, h100.gpus, h100.memoryGB) == (40, 1, 320.0)
    assert eastus["Standard_D4s_v3"].vCPUs == 4 and eastus["Standard_D4s_v3"].gpus == 0
    assert eastus["Standard_NC24ads_A100_v4"].family == "StandardNCADSA100v4Family"
    assert "Standard_NC40ads_H100_v5" not in weu and "Standard_D4s_v3" in weu
    prices = {
        (p["osType"], p["vmTier"]): p["retailPrice"] for p in eastus["Standard_D4s_v3"].estimatedVMPrices["values"]
    }
    assert prices[("Linux", "LowPriority")] < prices[("Linux", "Standard")] < prices[("Windows", "Standard")]
    # compute_type filters on supportedComputeTypes (ND sizes are cluster-only).
    ci_sizes = {s.name for s in ml.compute.list_sizes(location="eastus", compute_type="ComputeInstance")}
    assert "Standard_ND96asr_v4" in eastus and "Standard_ND96asr_v4" not in ci_sizes
    with pytest.raises(HttpResponseError) as err:
        list(ml.compute.list_sizes(location="atlantis"))
    assert err.value.status_code == 400


def _expected_usage(emu: Emulator, sub: str, loc: str) -> dict[tuple[str, str], int]:
    """vCPUs by (tier, family), recomputed from the node lists and instance states as a user would."""
    out: dict[tuple[str, str], int] = {}
    st = area._state(emu.estate)
    for res in emu.estate.of_type(area.COMPUTE_TYPE):
        if res["id"].split("/")[2] != sub or res["location"] != loc:
            continue
        p = res["properties"]["properties"]
        kind = res["properties"]["computeType"]
        if kind == "Kubernetes":
            continue
        size = catalog.SIZES_BY_NAME[p["vmSize"].lower()]
        if kind == "AmlCompute":
            tier = "LowPriority" if p["vmPriority"] == "LowPriority" else "Dedicated"
            nodes = [n for n in st.clusters[res["id"].lower()].nodes if n.state != "preempted"]
            used = size.vcpus * len(nodes)
        else:
            tier, used = "Dedicated", size.vcpus if p["state"] == "Running" else 0
        out[(tier, size.family)] = out.get((tier, size.family), 0) + used
    return out


def _check_usage(ml: Any, emu: Emulator, ws: dict[str, Any]) -> None:
    usages = list(ml.compute.list_usage(location=ws["location"]))
    expected = _expected_usage(emu, ws["subscription"], ws["location"])
    by_id = {(u.type, u.id): u for u in usages}
    for fam in catalog.FAMILIES.values():
        for tier in ("Dedicated", "LowPriority"):
            rid = f"/subscriptions/{ws['subscription']}/usages/{fam.usage_key(tier)}"
            u = by_id.get(("Microsoft.MachineLearningServices/vmFamily/usages", rid))
            want = expected.get((tier, fam.key), 0)
            if u is None:
                assert want == 0
                continue
            assert u.currentValue == want, (tier, fam.key)
            assert u.unit == "Count" and u.name["value"] == fam.usage_name(tier)
            assert u.limit == -1 if tier == "LowPriority" else u.limit >= u.currentValue
    totals = {u.name["value"]: u.currentValue for u in usages if u.id.endswith("/usages")}
    assert totals["Total Cluster Dedicated Regional vCPUs"] == sum(
        v for (t, _f), v in expected.items() if t == "Dedicated"
    )
    assert totals["Total Cluster LowPriority Regional vCPUs"] == sum(
        v for (t, _f), v in expected.items() if t == "LowPriority"
    )
    assert totals["Total Cluster Dedicated Regional vCPUs"] > 0
    # Workspace- and compute-level breakdowns carry the workspace location.
    per_compute = [u for u in usages if u.type.endswith("/workspaces/computes/usages")]
    assert per_compute and all(u.amlWorkspaceLocation == ws["location"] for u in per_compute)


def test_usage_matches_running_nodes_and_instances(
    ml_client: Callable[..., Any], workspaces: list[dict[str, Any]], emulator: Emulator
) -> None:
    for ws in workspaces:
        _check_usage(ml_client(ws), emulator, ws)


def test_quotas_list(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ws = workspaces[0]
    ml = ml_client(ws)
    quotas = list(ml._service_client_08_2023_preview.quotas.list(location=ws["location"]))
    fam = [q for q in quotas if q.type.endswith("/vmFamily/quotas")]
    assert any(q.name.value == "Standard DSv3 Family Cluster Dedicated vCPUs" and q.limit > 0 for q in fam)
    assert any(q.type.endswith("/workspaces/quotas") and ws["name"] in q.id for q in quotas)


# -- errors ----------------------------------------------------------------------------------------------


def test_unknown_compute_is_404(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ml = ml_client(workspaces[0])
    with pytest.raises(ResourceNotFoundError) as err:
        ml.compute.get("no-such-compute")
    assert "no-such-compute" in str(err.value)
    with pytest.raises(ResourceNotFoundError):
        list(ml.compute.list_nodes("no-such-compute"))


def test_create_validation_errors(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ml = ml_client(workspaces[0])
    cases = [
        (AmlCompute(name="1-bad", size="Standard_D4s_v3", max_instances=2), "between 2 and 16 characters"),
        (AmlCompute(name="way-too-long-cluster-name", max_instances=2), "between 2 and 16 characters"),
        (ComputeInstance(name="ci", size="Standard_DS11_v2"), "between 3 and 24 characters"),
        (
            AmlCompute(name="minmax", size="Standard_D4s_v3", min_instances=5, max_instances=2),
            "minNodeCount = 5) cannot be greater than the maximum number of nodes (maxNodeCount = 2)",
        ),
        (AmlCompute(name="nosuch", size="Standard_Imaginary_v9", max_instances=2), "not a valid"),
    ]
    for entity, message in cases:
        with pytest.raises(HttpResponseError) as err:
            ml.compute.begin_create_or_update(entity)
        assert err.value.status_code == 400, entity.name
        assert message in str(err.value), str(err.value)
    assert "minmax" not in {c.name for c in ml.compute.list()}


def test_vm_size_not_offered_in_region_is_400(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ws = next(w for w in workspaces if w["location"] == "westeurope")
    ml = ml_client(ws)
    with pytest.raises(HttpResponseError) as err:
        ml.compute.begin_create_or_update(AmlCompute(name="h100", size="Standard_ND96isr_H100_v5", max_instances=1))
    assert err.value.status_code == 400
    assert "'Standard_ND96isr_H100_v5' is not available in region 'westeurope'" in str(err.value)


def test_instance_actions_in_wrong_state(ml_client: Callable[..., Any], workspaces: list[dict[str, Any]]) -> None:
    ws = workspaces[0]
    ml = ml_client(ws)
    instances = [c for c in ml.compute.list() if isinstance(c, ComputeInstance)]
    running = next(c for c in instances if c.state == "Running")
    stopped = next(c for c in instances if c.state == "Stopped")
    with pytest.raises(ResourceExistsError) as err:
        ml.compute.begin_start(running.name)
    assert err.value.status_code == 409 and "while it is Running" in str(err.value)
    with pytest.raises(ResourceExistsError):
        ml.compute.begin_stop(stopped.name)
    with pytest.raises(ResourceExistsError):
        ml.compute.begin_restart(stopped.name)
    with pytest.raises(HttpResponseError) as err2:
        ml.compute.begin_stop("cpu-cluster")
    assert err2.value.status_code == 400 and "only supported for ComputeInstance" in str(err2.value)


# -- mutations (private emulator) --------------------------------------------------------------------------


def test_start_stop_restart_instance_are_quick_and_change_state(
    fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]
) -> None:
    ws = _ws(fresh_emulator)
    ml = fresh_ml_client(ws)
    ci = next(c for c in ml.compute.list() if isinstance(c, ComputeInstance) and c.state == "Stopped")

    t0 = time.monotonic()
    poller = ml.compute.begin_start(ci.name)
    assert ml.compute.get(ci.name).state == "Starting"
    poller.result()
    assert time.monotonic() - t0 < 5
    started = ml.compute.get(ci.name)
    assert started.state == "Running"
    assert started.last_operation["operationName"] == "Start"
    assert started.last_operation["operationStatus"] == "Succeeded"
    assert started.network_settings.public_ip_address

    t0 = time.monotonic()
    ml.compute.begin_restart(ci.name).result()
    assert time.monotonic() - t0 < 5
    assert ml.compute.get(ci.name).last_operation["operationName"] == "Restart"
    assert ml.compute.get(ci.name).state == "Running"

    t0 = time.monotonic()
    poller = ml.compute.begin_stop(ci.name)
    assert ml.compute.get(ci.name).state == "Stopping"
    poller.result()
    assert time.monotonic() - t0 < 5
    assert ml.compute.get(ci.name).state == "Stopped"


def test_starting_an_instance_adds_its_vcpus_to_usage(
    fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]
) -> None:
    ws = _ws(fresh_emulator)
    ml = fresh_ml_client(ws)
    ci = next(c for c in ml.compute.list() if isinstance(c, ComputeInstance) and c.state == "Stopped")
    size = catalog.SIZES_BY_NAME[str(ci.size).lower()]
    label = catalog.FAMILIES[size.family].usage_name("Dedicated")

    def used() -> int:
        return next(
            u.currentValue
            for u in ml.compute.list_usage()
            if u.type.endswith("/vmFamily/usages") and u.name["value"] == label
        )

    before = used()
    ml.compute.begin_start(ci.name).result()
    assert used() == before + size.vcpus
    _check_usage(ml, fresh_emulator, ws)


def test_create_cluster_then_get_and_list_nodes(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator)
    ml = fresh_ml_client(ws)
    t0 = time.monotonic()
    poller = ml.compute.begin_create_or_update(
        AmlCompute(
            name="train-d8",
            size="Standard_D8s_v3",
            min_instances=10,
            max_instances=12,
            idle_time_before_scale_down=300,
            tier="dedicated",
        )
    )
    created = poller.result()
    assert time.monotonic() - t0 < 5
    assert created.provisioning_state == "Succeeded"
    got = ml.compute.get("train-d8")
    assert (got.size, got.min_instances, got.max_instances, got.idle_time_before_scale_down, got.tier) == (
        "Standard_D8s_v3",
        10,
        12,
        300.0,
        "dedicated",
    )
    props = _raw(ml, ws, "train-d8").properties.properties
    assert props.node_state_counts.preparing_node_count == 10
    assert (props.current_node_count, props.target_node_count, props.allocation_state) == (10, 10, "Resizing")
    # More nodes than one page: the SDK follows nextLink with a GET.
    nodes = _nodes(ml, "train-d8")
    assert len(nodes) == 10 and len({n["nodeId"] for n in nodes}) == 10
    assert [n["port"] for n in nodes] == list(range(50000, 50010))
    assert any(m == "GET" and p.endswith("/computes/train-d8/listNodes") for m, p, _s in fresh_emulator.request_log)
    # The preparing nodes come up as the clock moves on (no demand: they idle at minNodeCount).
    fresh_emulator.clock.advance(600)
    assert {n["nodeState"] for n in _nodes(ml, "train-d8")} == {"idle"}
    assert _raw(ml, ws, "train-d8").properties.properties.allocation_state == "Steady"
    # An existing name with another type is a conflict.
    with pytest.raises(ResourceExistsError):
        ml.compute.begin_create_or_update(ComputeInstance(name="train-d8", size="Standard_DS11_v2"))


def test_create_compute_instance_then_get(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator)
    ml = fresh_ml_client(ws)
    t0 = time.monotonic()
    poller = ml.compute.begin_create_or_update(
        ComputeInstance(name="ci-newcomer", size="Standard_DS11_v2", idle_time_before_shutdown_minutes=30)
    )
    assert ml.compute.get("ci-newcomer").provisioning_state == "Creating"
    poller.result()
    assert time.monotonic() - t0 < 5
    ci = ml.compute.get("ci-newcomer")
    assert (ci.state, ci.size, ci.provisioning_state) == ("Running", "Standard_DS11_v2", "Succeeded")
    assert ci.idle_time_before_shutdown_minutes == 30
    assert ci.last_operation["operationName"] == "Create"
    assert ci.create_on_behalf_of is not None
    # Idle shutdown after 30 simulated minutes without activity.
    fresh_emulator.clock.advance(31 * 60)
    stopped = ml.compute.get("ci-newcomer")
    assert stopped.state == "Stopped"
    assert stopped.last_operation["operationTrigger"] == "IdleShutdown"


def test_update_scale_settings(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator)
    ml = fresh_ml_client(ws)
    cluster = ml.compute.get("gpu-t4")
    cluster.min_instances, cluster.max_instances = 2, 3
    cluster.idle_time_before_scale_down = 900
    updated = ml.compute.begin_update(cluster).result()
    assert (updated.min_instances, updated.max_instances, updated.idle_time_before_scale_down) == (2, 3, 900.0)
    props = _raw(ml, ws, "gpu-t4").properties.properties
    assert 2 <= props.target_node_count <= 3  # surplus nodes are leaving (still counted as current)
    assert props.current_node_count - props.node_state_counts.leaving_node_count <= 3
    # PATCH (ClusterUpdateParameters) is an LRO too.
    patch = {"properties": {"properties": {"scaleSettings": {"minNodeCount": 0, "maxNodeCount": 6}}}}
    ml.compute._operation.begin_update(ws["resource_group"], ws["name"], "gpu-t4", patch).result()
    got = ml.compute.get("gpu-t4")
    assert (got.min_instances, got.max_instances, got.idle_time_before_scale_down) == (0, 6, 900.0)
    # Invalid updates are refused and leave the cluster alone.
    got.min_instances = 9
    with pytest.raises(HttpResponseError) as err:
        ml.compute.begin_update(got)
    assert err.value.status_code == 400
    got.min_instances, got.size = 0, "Standard_NC8as_T4_v3"
    with pytest.raises(HttpResponseError) as err:
        ml.compute.begin_update(got)
    assert "cannot be changed" in str(err.value)
    assert ml.compute.get("gpu-t4").max_instances == 6


def test_delete_and_detach(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator, purpose="production")
    ml = fresh_ml_client(ws)
    with pytest.raises(HttpResponseError) as err:
        ml.compute.begin_delete("cpu-cluster", action="Detach")
    assert err.value.status_code == 400
    t0 = time.monotonic()
    ml.compute.begin_delete("cpu-cluster").result()
    assert time.monotonic() - t0 < 5
    with pytest.raises(ResourceNotFoundError):
        ml.compute.get("cpu-cluster")
    ml.compute.begin_delete("aks-inference", action="Detach").result()
    names = {c.name for c in ml.compute.list()}
    assert "cpu-cluster" not in names and "aks-inference" not in names
    _check_usage(ml, fresh_emulator, ws)


# -- simulation ------------------------------------------------------------------------------------------


def _compute_dump(emu: Emulator) -> str:
    st = area._state(emu.estate)
    emu.estate.tick()
    data = {
        "resources": sorted((r for r in emu.estate.of_type(area.COMPUTE_TYPE)), key=lambda r: r["id"]),
        "nodes": {cid: [area.node_json(cl, n) for n in cl.nodes] for cid, cl in sorted(st.clusters.items())},
    }
    return json.dumps(data, sort_keys=True)


def test_same_seed_same_compute_json() -> None:
    a, b = Emulator(EmulatorConfig(seed=11)), Emulator(EmulatorConfig(seed=11))
    assert _compute_dump(a) == _compute_dump(b)
    c = Emulator(EmulatorConfig(seed=12))
    assert _compute_dump(a) != _compute_dump(c)


def test_simulation_is_a_function_of_time() -> None:
    """Without the jobs area's demand (the fallback is a function of time), one jump of the clock and
    many small observed ones reach the same state."""
    a, b = Emulator(EmulatorConfig(seed=7)), Emulator(EmulatorConfig(seed=7))
    for emu in (a, b):
        emu.estate.area_state.pop("jobs_demand", None)
    start = _compute_dump(a)
    a.clock.advance(2 * 3600)
    for _ in range(8):
        b.clock.advance(900)
        _compute_dump(b)
    after = _compute_dump(a)
    assert after == _compute_dump(b)
    assert after != start


def test_same_clock_same_state_with_jobs_demand() -> None:
    """The jobs area's demand is only known for "now": the same clock sequence gives the same state."""
    a, b = Emulator(EmulatorConfig(seed=7)), Emulator(EmulatorConfig(seed=7))
    assert callable(a.estate.area_state.get("jobs_demand"))
    for _ in range(6):
        a.clock.advance(1200)
        b.clock.advance(1200)
        assert _compute_dump(a) == _compute_dump(b)


def test_advancing_the_clock_changes_nodes(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator, purpose="production")
    ml = fresh_ml_client(ws)
    names = [c.name for c in ml.compute.list(compute_type="AmlCompute")]
    before = {name: _nodes(ml, name) for name in names}
    history = []
    for _ in range(40):
        fresh_emulator.clock.advance(120)
        history.append({name: _nodes(ml, name) for name in names})
    assert history[-1] != before
    states = {n["nodeState"] for snap in history for nodes in snap.values() for n in nodes}
    assert {"running", "idle"} <= states and states & {"preparing", "leaving"}
    maxima = {c.name: c.max_instances for c in ml.compute.list(compute_type="AmlCompute")}
    for snap in history:
        for name, nodes in snap.items():
            assert sum(1 for n in nodes if n["nodeState"] != "preempted") <= maxima[name]
    _check_usage(ml, fresh_emulator, ws)


def test_jobs_demand_drives_the_cluster() -> None:
    emu = Emulator(EmulatorConfig(seed=7))
    target = next(
        r["id"].lower()
        for r in emu.estate.of_type(area.COMPUTE_TYPE)
        if r["name"] == "cpu-cluster" and r["properties"]["properties"]["scaleSettings"]["maxNodeCount"] >= 4
    )
    emu.estate.area_state["jobs_demand"] = lambda cid: 3 if cid == target else 0
    emu.clock.advance(3600)
    emu.estate.tick()
    res = emu.estate.get(target)
    assert res is not None
    counts = res["properties"]["properties"]["nodeStateCounts"]
    assert counts["runningNodeCount"] == 3
    assert counts["idleNodeCount"] == 0  # surplus nodes idled out and left
    others = [r for r in emu.estate.of_type(area.COMPUTE_TYPE) if r["properties"]["computeType"] == "AmlCompute"]
    for r in others:
        if r["id"].lower() != target:
            assert r["properties"]["properties"]["nodeStateCounts"]["runningNodeCount"] == 0
