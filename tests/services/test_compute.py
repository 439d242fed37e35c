"""Compute reads and actions through the service layer, against the emulator with the real SDKs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from emulator import Emulator
from services import compute, workspaces
from services.models import Workspace
from services.mutations import Target
from services.validation import ValidationError


def _ws(session: Any) -> Workspace:
    return next(w for w in workspaces.list_workspaces(session) if w.name == "mlw-prod-eus")


def _target(ws: Workspace, name: str = "") -> Target:
    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


def test_list_computes_matches_the_estate_with_gpu_counts_from_the_catalog(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    items = compute.list_computes(session, ws)
    raw = emulator.estate.children(ws.id, "computes")
    assert {c.name for c in items} == {r["name"] for r in raw}
    kinds = {c.kind for c in items}
    assert {"cluster", "instance"} <= kinds
    sizes = {s.name: s for s in compute.vm_sizes(session, ws.subscription_id, ws.location)}
    for c in items:
        if c.kind == "kubernetes":
            assert c.instance_type and not c.vm_size
            continue
        assert c.vm_size in sizes, c
        assert c.gpus == sizes[c.vm_size].gpus and c.vcpus == sizes[c.vm_size].vcpus
        if c.kind == "cluster":
            assert c.max_nodes >= c.min_nodes and c.idle_seconds > 0 and c.priority
            assert c.current_nodes <= c.nodes.total  # preempted nodes are counted, not allocated
    assert any(c.is_gpu for c in items) and any(not c.is_gpu for c in items)


def test_nodes_agree_with_the_node_state_counts(session: Any) -> None:
    ws = _ws(session)
    for c in compute.list_computes(session, ws):
        if c.kind != "cluster":
            continue
        nodes = compute.list_nodes(session, ws, c.name)
        by_state: dict[str, int] = {}
        for n in nodes:
            by_state[n.state] = by_state.get(n.state, 0) + 1
        assert len(nodes) == c.nodes.total
        assert by_state.get("running", 0) == c.nodes.running
        assert by_state.get("idle", 0) == c.nodes.idle


def test_vm_sizes_and_usage_against_quota(session: Any) -> None:
    ws = _ws(session)
    sizes = compute.vm_sizes(session, ws.subscription_id, ws.location)
    assert any(s.gpus > 0 for s in sizes) and all(s.vcpus > 0 and s.memory_gb > 0 for s in sizes)
    usages = compute.list_usages(session, ws.subscription_id, ws.location)
    assert usages and all(u.limit >= -1 and u.current >= 0 for u in usages)
    assert all(u.percent == 0 for u in usages if u.unlimited)
    assert any(u.current > 0 for u in usages)


def test_instance_stop_and_start_change_state(fresh_session: Any) -> None:
    ws = _ws(fresh_session)
    running = next(c for c in compute.list_computes(fresh_session, ws) if c.kind == "instance" and c.state == "Running")
    t = time.monotonic()
    compute.stop_instance(fresh_session, _target(ws, running.name))
    assert time.monotonic() - t < 10
    assert compute.get_compute(fresh_session, ws, running.name).state == "Stopped"
    compute.start_instance(fresh_session, _target(ws, running.name))
    assert compute.get_compute(fresh_session, ws, running.name).state == "Running"
    outcomes = [(r.operation, r.outcome) for r in fresh_session.guard.records]
    assert ("compute.stop", "succeeded") in outcomes and ("compute.start", "succeeded") in outcomes


def test_create_update_and_delete_a_cluster(fresh_session: Any) -> None:
    ws = _ws(fresh_session)
    offered = tuple(s.name for s in compute.vm_sizes(fresh_session, ws.subscription_id, ws.location))
    compute.create_cluster(
        fresh_session,
        _target(ws),
        name="cpu-new",
        size="Standard_DS3_v2",
        min_instances=0,
        max_instances=3,
        idle_seconds=600,
        location=ws.location,
        offered_sizes=offered,
    )
    created = compute.get_compute(fresh_session, ws, "cpu-new")
    assert (created.kind, created.vm_size, created.max_nodes, created.idle_seconds) == (
        "cluster",
        "Standard_DS3_v2",
        3,
        600,
    )
    compute.update_scale(fresh_session, _target(ws, "cpu-new"), min_instances=1, max_instances=5, idle_seconds=300)
    updated = compute.get_compute(fresh_session, ws, "cpu-new")
    assert (updated.min_nodes, updated.max_nodes, updated.idle_seconds) == (1, 5, 300)
    compute.delete_compute(fresh_session, _target(ws, "cpu-new"))
    assert "cpu-new" not in {c.name for c in compute.list_computes(fresh_session, ws)}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"name": "1bad", "size": "Standard_DS3_v2", "min_instances": 0, "max_instances": 2}, "name"),
        ({"name": "ok", "size": "Standard_DS3_v2", "min_instances": 4, "max_instances": 2}, "min_instances"),
        ({"name": "ok", "size": "Standard_Nope_v9", "min_instances": 0, "max_instances": 2}, "size"),
    ],
)
def test_bad_cluster_input_is_refused_before_any_request(
    fresh_session: Any, fresh_emulator: Emulator, params: dict[str, Any], field: str
) -> None:
    ws = _ws(fresh_session)
    offered = tuple(s.name for s in compute.vm_sizes(fresh_session, ws.subscription_id, ws.location))
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        compute.create_cluster(fresh_session, _target(ws), location=ws.location, offered_sizes=offered, **params)
    assert field in exc.value.fields
    assert fresh_emulator.request_count == before


def test_create_an_instance_and_restart_it(fresh_session: Any) -> None:
    ws = _ws(fresh_session)
    offered = tuple(s.name for s in compute.vm_sizes(fresh_session, ws.subscription_id, ws.location))
    compute.create_instance(
        fresh_session,
        _target(ws),
        name="ci-newcomer",
        size="Standard_DS11_v2",
        location=ws.location,
        offered_sizes=offered,
    )
    created = compute.get_compute(fresh_session, ws, "ci-newcomer")
    assert (created.kind, created.vm_size, created.state) == ("instance", "Standard_DS11_v2", "Running")
    compute.restart_instance(fresh_session, _target(ws, "ci-newcomer"))
    assert compute.get_compute(fresh_session, ws, "ci-newcomer").state == "Running"
    ops = [r.operation for r in fresh_session.guard.records if r.outcome == "succeeded"]
    assert ops == ["compute.create_instance", "compute.restart"]
