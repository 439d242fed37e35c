"""The spec-generated azure-mgmt-machinelearningservices client (2.x, a client the product does not use) against
the emulator over HTTPS: workspaces, compute (including start/stop, create, scale, delete, nodes), VM sizes,
usages, quotas, datastores, jobs, online and batch endpoints and deployments."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator import Emulator, EmulatorConfig

mgmt = pytest.importorskip("azure.mgmt.machinelearningservices")
models = pytest.importorskip("azure.mgmt.machinelearningservices.models")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """An emulator of this module's own: the compute tests change the estate."""
    emu = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True, lro_seconds=0.2)).start()
    try:
        yield emu
    finally:
        emu.stop()


def client(emu: Emulator, sub: str) -> Any:
    return mgmt.MachineLearningServicesMgmtClient(
        emu.credential(),
        sub,
        base_url=emu.endpoint,
        connection_verify=emu.ca_file,
        polling_interval=0.05,
    )


def _split(resource_id: str) -> tuple[str, str, str]:
    segs = resource_id.split("/")
    return segs[2], segs[4], segs[8]


@pytest.fixture(scope="module")
def ws(emu: Emulator) -> dict[str, Any]:
    """A workspace with computes, jobs, endpoints and deployments of each kind."""
    return next(w for w in emu.estate.workspaces() if w["tags"]["purpose"] == "production")


@pytest.fixture(scope="module")
def ml(emu: Emulator, ws: dict[str, Any]) -> Any:
    return client(emu, _split(ws["id"])[0])


def names(ws: dict[str, Any]) -> tuple[str, str]:
    _, rg, name = _split(ws["id"])
    return rg, name


# -- workspaces ------------------------------------------------------------------------------------


def test_workspaces_list_and_get(emu: Emulator, ml: Any, ws: dict[str, Any]) -> None:
    sub, rg, name = _split(ws["id"])
    by_sub = {w.id for w in ml.workspaces.list_by_subscription()}
    assert by_sub == {w["id"] for w in emu.estate.workspaces() if w["id"].split("/")[2] == sub}
    assert ws["id"] in {w.id for w in ml.workspaces.list_by_resource_group(rg)}
    got = ml.workspaces.get(rg, name)
    assert got.name == name and got.location == ws["location"]
    assert got.workspace_id == ws["properties"]["workspaceId"]
    assert got.identity.type == "SystemAssigned" and got.identity.principal_id
    assert got.storage_account == ws["properties"]["storageAccount"]
    assert got.key_vault == ws["properties"]["keyVault"]
    assert got.public_network_access == "Disabled"
    assert got.discovery_url.startswith(emu.endpoint)
    assert got.encryption.status == "Enabled"
    assert got.encryption.key_vault_properties.key_vault_arm_id == ws["properties"]["keyVault"]
    assert len(got.private_endpoint_connections) == got.private_link_count == 1
    assert got.private_endpoint_connections[0].private_link_service_connection_state.status == "Approved"
    assert got.system_data.created_by


# -- compute ---------------------------------------------------------------------------------------


def test_compute_list_and_get_and_nodes(ml: Any, ws: dict[str, Any]) -> None:
    rg, name = names(ws)
    computes = {c.name: c for c in ml.compute.list(rg, name)}
    kinds = {c.properties.compute_type for c in computes.values()}
    assert {"AmlCompute", "ComputeInstance"} <= kinds
    cluster = next(c for c in computes.values() if c.properties.compute_type == "AmlCompute")
    got = ml.compute.get(rg, name, cluster.name)
    assert isinstance(got.properties, models.AmlCompute)
    props = got.properties.properties
    assert props.vm_size and props.scale_settings.max_node_count >= props.scale_settings.min_node_count
    assert props.allocation_state in ("Steady", "Resizing")
    assert props.node_state_counts is not None
    assert got.identity.type == "SystemAssigned" and got.identity.principal_id  # an isolated workspace's compute
    busy = next(
        c.name
        for c in computes.values()
        if c.properties.compute_type == "AmlCompute" and (c.properties.properties.current_node_count or 0) > 0
    )
    nodes = list(ml.compute.list_nodes(rg, name, busy))
    assert nodes and all(n.node_id and n.node_state for n in nodes)
    ci = next(c for c in computes.values() if c.properties.compute_type == "ComputeInstance")
    got_ci = ml.compute.get(rg, name, ci.name)
    assert isinstance(got_ci.properties, models.ComputeInstance)
    assert got_ci.properties.properties.state in ("Running", "Stopped")
    assert got_ci.properties.properties.personal_compute_instance_settings.assigned_user.object_id


def test_compute_instance_stop_then_start(ml: Any, ws: dict[str, Any]) -> None:
    rg, name = names(ws)
    running = next(
        c.name
        for c in ml.compute.list(rg, name)
        if c.properties.compute_type == "ComputeInstance" and c.properties.properties.state == "Running"
    )
    ml.compute.begin_stop(rg, name, running).result()
    assert ml.compute.get(rg, name, running).properties.properties.state == "Stopped"
    ml.compute.begin_start(rg, name, running).result()
    assert ml.compute.get(rg, name, running).properties.properties.state == "Running"


def test_cluster_create_scale_and_delete(ml: Any, ws: dict[str, Any]) -> None:
    rg, name = names(ws)
    body = models.ComputeResource(
        location=ws["location"],
        properties=models.AmlCompute(
            description="created by the spec client",
            properties=models.AmlComputeProperties(
                vm_size="Standard_DS3_v2",
                vm_priority="Dedicated",
                scale_settings=models.ScaleSettings(max_node_count=2, min_node_count=0),
            ),
        ),
    )
    created = ml.compute.begin_create_or_update(rg, name, "spec-cluster", body).result()
    assert created.name == "spec-cluster"
    assert created.properties.provisioning_state == "Succeeded"
    assert created.properties.properties.scale_settings.max_node_count == 2
    update = models.ClusterUpdateParameters(
        properties=models.ScaleSettingsInformation(
            scale_settings=models.ScaleSettings(max_node_count=5, min_node_count=1)
        )
    )
    scaled = ml.compute.begin_update(rg, name, "spec-cluster", update).result()
    assert scaled.properties.properties.scale_settings.max_node_count == 5
    assert ml.compute.get(rg, name, "spec-cluster").properties.properties.scale_settings.min_node_count == 1
    ml.compute.begin_delete(rg, name, "spec-cluster", underlying_resource_action="Delete").result()
    assert "spec-cluster" not in {c.name for c in ml.compute.list(rg, name)}


# -- sizes, usages, quotas --------------------------------------------------------------------------


def test_vm_sizes_usages_and_quotas(ml: Any, ws: dict[str, Any]) -> None:
    location = ws["location"]
    sizes = ml.virtual_machine_sizes.list(location).value
    assert sizes and all(s.name and s.v_cp_us and s.memory_gb for s in sizes)
    assert any("AmlCompute" in (s.supported_compute_types or []) for s in sizes)
    usages = list(ml.usages.list(location))
    assert usages and all(u.name.value and u.limit is not None and u.unit == "Count" for u in usages)
    quotas = list(ml.quotas.list(location))
    assert quotas and all(q.name.value and q.limit is not None for q in quotas)


# -- datastores and jobs ---------------------------------------------------------------------------


def test_datastores_list_get_and_secrets(ml: Any, ws: dict[str, Any]) -> None:
    rg, name = names(ws)
    stores = {d.name: d for d in ml.datastores.list(rg, name)}
    assert "workspaceblobstore" in stores
    blob = ml.datastores.get(rg, name, "workspaceblobstore")
    assert isinstance(blob.properties, models.AzureBlobDatastore)
    assert blob.properties.is_default and blob.properties.account_name and blob.properties.container_name
    if blob.properties.credentials.credentials_type == "AccountKey":
        secrets = ml.datastores.list_secrets(rg, name, "workspaceblobstore")
        assert isinstance(secrets, models.AccountKeyDatastoreSecrets) and secrets.key


def test_jobs_list_get_and_cancel(ml: Any, ws: dict[str, Any]) -> None:
    rg, name = names(ws)
    jobs = list(ml.jobs.list(rg, name))
    assert len(jobs) > 50  # followed nextLink across pages
    kinds = {j.properties.job_type for j in jobs}
    assert {"Command", "Pipeline", "Sweep"} <= kinds
    command = next(j for j in jobs if j.properties.job_type == "Command")
    got = ml.jobs.get(rg, name, command.name)
    assert isinstance(got.properties, models.CommandJob)
    assert got.properties.command and got.properties.environment_id and got.properties.compute_id
    running = next(j for j in jobs if j.properties.status in ("Running", "Queued", "Preparing", "Starting"))
    ml.jobs.begin_cancel(rg, name, running.name).result()
    assert ml.jobs.get(rg, name, running.name).properties.status in ("CancelRequested", "Canceled")


# -- endpoints and deployments ---------------------------------------------------------------------


def test_online_endpoints_and_deployments(ml: Any, ws: dict[str, Any]) -> None:
    rg, name = names(ws)
    endpoints = list(ml.online_endpoints.list(rg, name))
    assert endpoints
    ep = ml.online_endpoints.get(rg, name, endpoints[0].name)
    assert ep.properties.auth_mode in ("Key", "AMLToken", "AADToken")
    assert ep.properties.scoring_uri and ep.identity.type == "SystemAssigned"
    assert sum(ep.properties.traffic.values()) == 100
    deployments = list(ml.online_deployments.list(rg, name, ep.name))
    assert {d.name for d in deployments} >= set(ep.properties.traffic)
    dep = ml.online_deployments.get(rg, name, ep.name, deployments[0].name)
    assert isinstance(dep.properties, models.ManagedOnlineDeployment)
    assert dep.properties.instance_type and dep.sku.capacity >= 1
    assert dep.identity.principal_id == ep.identity.principal_id


def test_batch_endpoints_and_deployments(ml: Any, ws: dict[str, Any]) -> None:
    rg, name = names(ws)
    endpoints = list(ml.batch_endpoints.list(rg, name))
    assert endpoints
    ep = ml.batch_endpoints.get(rg, name, endpoints[0].name)
    assert ep.properties.auth_mode == "AADToken" and ep.properties.scoring_uri
    deployments = list(ml.batch_deployments.list(rg, name, ep.name))
    assert deployments
    dep = ml.batch_deployments.get(rg, name, ep.name, deployments[0].name)
    assert dep.properties.compute and dep.properties.mini_batch_size >= 1
    assert dep.sku.capacity == dep.properties.resources.instance_count
