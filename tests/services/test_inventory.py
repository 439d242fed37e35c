"""Inventory across subscriptions: one Resource Graph query, an ARM fallback that agrees with it, and
fan-out that keeps going when one workspace fails."""

from __future__ import annotations

from collections import Counter
from typing import Any

from emulator import Emulator
from emulator.faults import FaultRule
from services import compute, inventory, workspaces
from services.errors import ErrorKind
from services.fanout import collect


def _keyed(inv: Any) -> set[tuple[str, str, str, str, str]]:
    return {(i.key, i.kind, i.workspace, i.state, i.detail) for i in inv.items}


def test_inventory_is_one_graph_round_trip_across_subscriptions(session: Any, emulator: Emulator) -> None:
    subs = [s.id for s in workspaces.list_subscriptions(session)]
    before = len(emulator.request_log)
    inv = inventory.load_inventory(session, subs)
    calls = [p for _, p, _ in emulator.request_log[before:]]
    assert calls == ["/providers/Microsoft.ResourceGraph/resources"]
    assert inv.source == "resource-graph"
    kinds = Counter(i.kind for i in inv.items)
    assert kinds["workspace"] == len(emulator.estate.workspaces())
    assert kinds["compute"] > 0 and kinds["online-endpoint"] > 0 and kinds["online-deployment"] > 0
    assert {i.subscription_id for i in inv.items} == set(emulator.subscription_ids)


def test_fallback_without_resource_graph_gives_the_same_inventory(fresh_session: Any, fresh_emulator: Emulator) -> None:
    expected = inventory.load_inventory(fresh_session)
    fresh_emulator.faults.add(FaultRule(pattern=r"^/providers/Microsoft\.ResourceGraph/", status=403))
    fallback = inventory.load_inventory(fresh_session)
    assert fallback.source == "arm"
    assert _keyed(fallback) == _keyed(expected)


def test_one_failing_workspace_does_not_hide_the_others(fresh_session: Any, fresh_emulator: Emulator) -> None:
    wss = workspaces.list_workspaces(fresh_session)
    broken = wss[1]
    fresh_emulator.faults.add(FaultRule(pattern=f"/workspaces/{broken.name}/computes", status=500))
    results = collect(wss, lambda ws: compute.list_computes(fresh_session, ws))
    assert [r.target.name for r in results] == [w.name for w in wss]
    bad = [r for r in results if not r.ok]
    assert [r.target.name for r in bad] == [broken.name]
    err = bad[0].error
    assert err is not None and err.kind in (ErrorKind.TRANSIENT,) and err.status == 500
    assert err.request_id and "internal server error" in err.message.lower()
    assert all(r.value for r in results if r.ok)
