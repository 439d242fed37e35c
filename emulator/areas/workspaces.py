"""Azure ML workspaces (ARM) and the workspace discovery document.

Shapes follow Microsoft.MachineLearningServices/stable/2025-12-01 Workspaces_Get/List examples; the
SDK sends an older preview api-version, which is among those emulator.providers lists for workspaces.
"""

from __future__ import annotations

import copy
from typing import Any

from ..estate import ML, WORKSPACE_TYPE, Estate
from ..http import ApiError, Request, Response, not_found, page

WS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces"


def render(estate: Estate, req: Request, ws: dict[str, Any]) -> dict[str, Any]:
    """The workspace as served: per-server URLs filled in."""
    with estate.lock:
        body = copy.deepcopy(ws)
    props = body["properties"]
    props["discoveryUrl"] = f"{req.base_url}/discovery/workspaces/{props['workspaceId']}"
    props["mlFlowTrackingUri"] = f"azureml://{body['location']}.api.azureml.ms/mlflow/v1.0{ws['id']}"
    props["notebookInfo"] = None
    props["privateLinkCount"] = len(props.get("privateEndpointConnections") or [])
    props["tenantId"] = estate.tenant_id
    return body


def find(estate: Estate, sub: str, rg: str, name: str) -> dict[str, Any]:
    if estate.subscription(sub) is None:
        raise ApiError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    ws = estate.workspace(sub, rg, name)
    if ws is None:
        raise ApiError(
            404,
            "ResourceNotFound",
            f"The Resource '{WORKSPACE_TYPE}/{name}' under resource group '{rg}' was not found. For more "
            "details please go to https://aka.ms/ARMResourceNotFoundFix",
        )
    return ws


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate

    def list_by_subscription(req: Request, sub: str) -> Response:
        if estate.subscription(sub) is None:
            raise ApiError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        prefix = f"/subscriptions/{sub}/".lower()
        items = [render(estate, req, w) for w in estate.workspaces() if w["id"].lower().startswith(prefix)]
        return page(req, items)

    def list_by_group(req: Request, sub: str, rg: str) -> Response:
        if estate.subscription(sub) is None:
            raise ApiError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
        rg_id = f"/subscriptions/{sub}/resourceGroups/{rg}".lower()
        if rg_id not in estate.resource_groups:
            raise ApiError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
        items = [render(estate, req, w) for w in estate.workspaces() if w["id"].lower().startswith(rg_id + "/")]
        return page(req, items)

    def get(req: Request, sub: str, rg: str, ws: str) -> Response:
        return Response(200, render(estate, req, find(estate, sub, rg, ws)))

    def discovery(req: Request, wsid: str) -> Response:
        if not any(w["properties"]["workspaceId"] == wsid for w in estate.workspaces()):
            raise not_found("workspace", wsid)
        base = req.base_url
        keys = (
            "api",
            "catalog",
            "experimentation",
            "gallery",
            "history",
            "hyperdrive",
            "labeling",
            "modelmanagement",
            "pipelines",
            "studio",
        )
        return Response(200, {k: base for k in keys})

    router.add("GET", f"/subscriptions/{{sub}}/providers/{ML}/workspaces", list_by_subscription)
    router.add("GET", WS, list_by_group)
    router.add("GET", WS + "/{ws}", get)
    router.add("GET", "/discovery/workspaces/{wsid}", discovery)
