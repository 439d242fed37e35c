"""Subscriptions and workspaces: the list from one Resource Graph query, the detail from ARM."""

from __future__ import annotations

from typing import Any

from .models import Subscription, Workspace
from .session import Session

WORKSPACE_TYPE = "microsoft.machinelearningservices/workspaces"

_GRAPH_QUERY = (
    "Resources | where type =~ 'microsoft.machinelearningservices/workspaces' "
    "| project id, name, subscriptionId, resourceGroup, location, sku, properties, tags "
    "| order by name asc"
)


def list_subscriptions(session: Session) -> list[Subscription]:
    client = session.subscription_client()
    subs = [
        Subscription(
            id=s.subscription_id or "",
            name=s.display_name or s.subscription_id or "",
            state=str(getattr(s.state, "value", s.state) or ""),
            tenant_id=s.tenant_id or "",
        )
        for s in client.subscriptions.list()
    ]
    if session.subscription_ids:
        wanted = {s.lower() for s in session.subscription_ids}
        subs = [s for s in subs if s.id.lower() in wanted]
    return sorted(subs, key=lambda s: s.name.lower())


def _from_row(row: dict[str, Any]) -> Workspace:
    props = row.get("properties") or {}
    sku = row.get("sku") or {}
    rid = row["id"]
    parts = rid.split("/")
    return Workspace(
        id=rid,
        name=row.get("name") or parts[-1],
        subscription_id=row.get("subscriptionId") or parts[2],
        resource_group=parts[4] if len(parts) > 4 else row.get("resourceGroup", ""),
        location=row.get("location") or "",
        sku=(sku.get("name") if isinstance(sku, dict) else "") or "",
        public_network_access=str(props.get("publicNetworkAccess") or ""),
        storage_account=str(props.get("storageAccount") or ""),
        key_vault=str(props.get("keyVault") or ""),
        container_registry=str(props.get("containerRegistry") or ""),
        application_insights=str(props.get("applicationInsights") or ""),
        description=str(props.get("description") or ""),
        tags=tuple(sorted((str(k), str(v)) for k, v in (row.get("tags") or {}).items())),
    )


def get_workspace(session: Session, subscription_id: str, resource_group: str, name: str) -> Workspace:
    """One workspace's detail straight from ARM (fresher than the Resource Graph index)."""
    body = session.rest().get(
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{name}",
        "2024-10-01",
    )
    return _from_row(body)


def list_workspaces(session: Session, subscription_ids: list[str] | None = None) -> list[Workspace]:
    """Every workspace in the given (or the session's, or all visible) subscriptions."""
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    subs = subscription_ids or list(session.subscription_ids) or [s.id for s in list_subscriptions(session)]
    if not subs:
        return []
    client = session.graph_client()
    rows: list[dict[str, Any]] = []
    skip_token: str | None = None
    while True:
        options = QueryRequestOptions(top=1000, skip_token=skip_token, result_format="objectArray")
        result = client.resources(QueryRequest(subscriptions=subs, query=_GRAPH_QUERY, options=options))
        data = result.data  # objectArray: a list of rows (the table format would be a mapping)
        rows.extend(data if isinstance(data, list) else [])
        skip_token = result.skip_token
        if not skip_token:
            break
    return [_from_row(r) for r in rows]
