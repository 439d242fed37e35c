"""Inventory across subscriptions in one Resource Graph round trip (paged), the filtering pushed down
to Resource Graph; with a per-subscription ARM fallback when Resource Graph is not available."""

from __future__ import annotations

from typing import Any

from .errors import ErrorKind, ServiceError, classify
from .fanout import fan_out
from .models import Inventory, InventoryItem
from .session import Session
from .workspaces import list_subscriptions, list_workspaces

_KINDS = {
    "microsoft.machinelearningservices/workspaces": "workspace",
    "microsoft.machinelearningservices/workspaces/computes": "compute",
    "microsoft.machinelearningservices/workspaces/onlineendpoints": "online-endpoint",
    "microsoft.machinelearningservices/workspaces/onlineendpoints/deployments": "online-deployment",
    "microsoft.machinelearningservices/workspaces/batchendpoints": "batch-endpoint",
    "microsoft.machinelearningservices/workspaces/batchendpoints/deployments": "batch-deployment",
}

QUERY = (
    "Resources | where type in~ ("
    + ", ".join(f"'{t}'" for t in _KINDS)
    + ") | extend state = tostring(properties.provisioningState)"
    " | extend computeState = tostring(properties.properties.state)"
    " | extend computeType = tostring(properties.computeType)"
    " | extend vmSize = tostring(properties.properties.vmSize)"
    " | project id, name, type, subscriptionId, resourceGroup, location, state, computeState, computeType, vmSize, sku"
    " | order by id asc"
)

PAGE = 1000


def _workspace_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    if "workspaces" in lowered:
        i = lowered.index("workspaces")
        if i + 1 < len(parts):
            return parts[i + 1]
    return ""


def _item(row: dict[str, Any]) -> InventoryItem:
    kind = _KINDS.get(str(row.get("type", "")).lower(), "other")
    parts = row["id"].split("/")
    detail = ""
    if kind == "compute":
        detail = " ".join(x for x in (row.get("computeType"), row.get("vmSize")) if x)
    elif isinstance(row.get("sku"), dict):
        detail = str(row["sku"].get("name") or "")
    return InventoryItem(
        id=row["id"],
        name=str(row.get("name") or parts[-1]),
        kind=kind,
        subscription_id=str(row.get("subscriptionId") or parts[2]),
        resource_group=parts[4] if len(parts) > 4 else str(row.get("resourceGroup", "")),
        workspace=_workspace_of(row["id"]),
        location=str(row.get("location") or ""),
        state=str(row.get("computeState") or row.get("state") or ""),
        detail=detail,
    )


def _from_graph(session: Session, subs: list[str]) -> list[InventoryItem]:
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    client = session.graph_client()
    rows: list[dict[str, Any]] = []
    skip_token: str | None = None
    while True:
        options = QueryRequestOptions(top=PAGE, skip_token=skip_token, result_format="objectArray")
        result = client.resources(QueryRequest(subscriptions=subs, query=QUERY, options=options))
        rows.extend(result.data or [])
        skip_token = result.skip_token
        if not skip_token:
            return [_item(r) for r in rows]


def _from_arm(session: Session, subs: list[str]) -> tuple[list[InventoryItem], list[tuple[str, ServiceError]]]:
    """The fallback: workspaces per subscription, then each workspace's children, concurrently."""
    rest = session.rest()
    items: list[InventoryItem] = []
    errors: list[tuple[str, ServiceError]] = []
    workspaces: list[dict[str, Any]] = []
    for result in fan_out(
        subs,
        lambda s: list(
            rest.items(f"/subscriptions/{s}/providers/Microsoft.MachineLearningServices/workspaces", "2024-10-01")
        ),
    ):
        workspaces.extend(result.value or [])
        if result.error is not None:
            errors.append((result.target, result.error))

    def children(ws: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for child in ("computes", "onlineEndpoints", "batchEndpoints"):
            for r in rest.items(f"{ws['id']}/{child}", "2024-10-01"):
                out.append(r)
                if child != "computes":
                    out.extend(rest.items(f"{r['id']}/deployments", "2024-10-01"))
        return out

    resources = list(workspaces)
    for child_result in fan_out(workspaces, children):
        resources.extend(child_result.value or [])
        if child_result.error is not None:
            errors.append((child_result.target["id"], child_result.error))
    for r in resources:
        props = r.get("properties") or {}
        inner = props.get("properties") if isinstance(props.get("properties"), dict) else {}
        parts = r["id"].split("/")
        items.append(
            _item(
                {
                    "id": r["id"],
                    "name": r.get("name"),
                    "type": r.get("type"),
                    "subscriptionId": parts[2],
                    "location": r.get("location"),
                    "state": props.get("provisioningState"),
                    "computeState": (inner or {}).get("state"),
                    "computeType": props.get("computeType"),
                    "vmSize": (inner or {}).get("vmSize"),
                    "sku": r.get("sku"),
                }
            )
        )
    return sorted(items, key=lambda i: i.id.lower()), errors


def load_inventory(session: Session, subscription_ids: list[str] | None = None) -> Inventory:
    subs = subscription_ids or list(session.subscription_ids) or [s.id for s in list_subscriptions(session)]
    if not subs:
        return Inventory((), "resource-graph", ())
    try:
        return Inventory(tuple(_from_graph(session, subs)), "resource-graph", tuple(subs))
    except Exception as e:
        err = classify(e)
        # Resource Graph refused or absent for this caller: fall back to ARM, subscription by subscription.
        if err.kind not in (ErrorKind.FORBIDDEN, ErrorKind.NOT_FOUND, ErrorKind.AUTH):
            raise
    items, errors = _from_arm(session, subs)
    return Inventory(tuple(items), "arm", tuple(subs), tuple(errors))


__all__ = ["list_workspaces", "load_inventory"]
