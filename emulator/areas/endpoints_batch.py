"""Batch endpoints and deployments: the ARM control plane routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..estate import Estate
from ..http import Request, Response, page
from ..lro import Operations
from .endpoints_model import (
    BATCH_DEPLOYMENT_TYPE,
    BATCH_ENDPOINT_TYPE,
    bad_argument,
    batch_endpoint_id,
    caller_name,
    deployment_id,
    identity_for,
    json_body,
    new_system_data,
    normalize_auth_mode,
    properties_of,
    refuse_if_busy,
    render_batch_endpoint,
    resource_not_found,
    touch,
    validate_deployment_name,
    validate_endpoint_name,
)
from .endpoints_online import WS
from .workspaces import find as find_workspace

BEP = WS + "/batchEndpoints/{name}"
BDEP = BEP + "/deployments/{dep}"

_OUTPUT_ACTIONS = {"appendrow": "AppendRow", "summaryonly": "SummaryOnly"}
_LOGGING_LEVELS = {"info": "Info", "warning": "Warning", "debug": "Debug"}


def _positive_int(value: Any, default: int, target: str, *, minimum: int = 1) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise bad_argument(f"{target} must be an integer >= {minimum}, not {value!r}.", target)
    return value


def register_batch(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate
    ops: Operations = emu.ops

    def endpoint_of(sub: str, rg: str, ws: str, name: str) -> dict[str, Any]:
        w = find_workspace(estate, sub, rg, ws)
        ep = estate.get(batch_endpoint_id(w["id"], name))
        if ep is None:
            raise resource_not_found("batch endpoint", rg, f"workspaces/{ws}/batchEndpoints/{name}")
        return ep

    def deployment_of(sub: str, rg: str, ws: str, name: str, dep: str) -> tuple[dict[str, Any], dict[str, Any]]:
        ep = endpoint_of(sub, rg, ws, name)
        d = estate.get(deployment_id(ep["id"], dep))
        if d is None:
            raise resource_not_found("batch deployment", rg, f"workspaces/{ws}/batchEndpoints/{name}/deployments/{dep}")
        return ep, d

    def settle(rid: str, on_done: Callable[[dict[str, Any]], None] | None = None) -> Callable[[], None]:
        def apply() -> None:
            with estate.lock:
                r = estate.get(rid)
                if r is None or r["properties"].get("provisioningState") not in ("Creating", "Updating"):
                    return
                r["properties"]["provisioningState"] = "Succeeded"
                if on_done:
                    on_done(r)

        return apply

    def deleter(rid: str) -> Callable[[], None]:
        def apply() -> None:
            estate.delete(rid)

        return apply

    def check_default(ep_id: str, defaults: Any) -> dict[str, Any]:
        if defaults is None:
            return {"deploymentName": None}
        if not isinstance(defaults, dict):
            raise bad_argument("properties.defaults must be an object.", "properties.defaults")
        wanted = defaults.get("deploymentName")
        if wanted:
            names = {d["name"].lower(): d["name"] for d in estate.children(ep_id, "deployments")}
            if str(wanted).lower() not in names:
                raise bad_argument(
                    f"The default deployment '{wanted}' does not exist in this batch endpoint.",
                    "properties.defaults.deploymentName",
                )
            wanted = names[str(wanted).lower()]
        return {"deploymentName": wanted or None}

    # -- endpoints --------------------------------------------------------------------------------

    def list_endpoints(req: Request, sub: str, rg: str, ws: str) -> Response:
        w = find_workspace(estate, sub, rg, ws)
        items = sorted(estate.children(w["id"], "batchEndpoints"), key=lambda r: r["name"].lower())
        name = req.q("name")
        if name:
            items = [r for r in items if r["name"].lower() == name.lower()]
        return page(req, [render_batch_endpoint(estate, req, r) for r in items])

    def get_endpoint(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        return Response(200, render_batch_endpoint(estate, req, endpoint_of(sub, rg, ws, name)))

    def put_endpoint(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        w = find_workspace(estate, sub, rg, ws)
        body = json_body(req)
        props = properties_of(body)
        rid = batch_endpoint_id(w["id"], name)
        with estate.lock:
            existing = estate.get(rid)
            if existing is None:
                validate_endpoint_name(name)
            else:
                refuse_if_busy(existing, "batch endpoint")
                name = existing["name"]
            auth = normalize_auth_mode(props.get("authMode") or "AADToken", allowed=("AADToken",))
            who = caller_name(req)
            resource: dict[str, Any] = {
                "id": rid,
                "name": name,
                "type": BATCH_ENDPOINT_TYPE,
                "location": w["location"],
                "kind": body.get("kind") or "BatchEndpoint",
                "tags": dict(body.get("tags") or {}),
                "identity": identity_for(estate, body.get("identity"), (existing or {}).get("identity")),
                "systemData": dict(existing["systemData"]) if existing else new_system_data(estate, who),
                "properties": {
                    "description": props.get("description"),
                    "properties": dict(props.get("properties") or {}),
                    "authMode": auth,
                    "defaults": check_default(rid, props.get("defaults")),
                    "provisioningState": "Updating" if existing else "Creating",
                },
            }
            touch(estate, resource, who)
            estate.put(resource)
        op = ops.start("BatchEndpoint.CreateOrUpdate", sub, w["location"], settle(rid))
        return ops.accepted(req, op, 200 if existing else 201, render_batch_endpoint(estate, req, resource))

    def patch_endpoint(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        body = json_body(req)
        props = properties_of(body, required=False)
        with estate.lock:
            refuse_if_busy(ep, "batch endpoint")
            if "defaults" in props:
                ep["properties"]["defaults"] = check_default(ep["id"], props["defaults"])
            if "description" in props:
                ep["properties"]["description"] = props["description"]
            if "tags" in body:
                ep["tags"] = dict(body.get("tags") or {})
            if "identity" in body:
                ep["identity"] = identity_for(estate, body.get("identity"), ep.get("identity"))
            ep["properties"]["provisioningState"] = "Updating"
            touch(estate, ep, caller_name(req))
        op = ops.start("BatchEndpoint.Update", sub, ep["location"], settle(ep["id"]))
        return ops.accepted(req, op, 202)

    def delete_endpoint(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        w = find_workspace(estate, sub, rg, ws)
        ep = estate.get(batch_endpoint_id(w["id"], name))
        if ep is None:
            return Response(204)
        with estate.lock:
            if ep["properties"].get("provisioningState") in ("Creating", "Updating"):
                refuse_if_busy(ep, "batch endpoint")
            ep["properties"]["provisioningState"] = "Deleting"
        op = ops.start("BatchEndpoint.Delete", sub, ep["location"], deleter(ep["id"]))
        return ops.accepted(req, op, 202)

    # -- deployments ------------------------------------------------------------------------------

    def list_deployments(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        items = sorted(estate.children(ep["id"], "deployments"), key=lambda r: r["name"].lower())
        return page(req, [estate.snapshot(d) for d in items])

    def get_deployment(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        _, d = deployment_of(sub, rg, ws, name, dep)
        return Response(200, estate.snapshot(d))

    def put_deployment(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        body = json_body(req)
        props = properties_of(body)
        did = deployment_id(ep["id"], dep)
        with estate.lock:
            existing = estate.get(did)
            if existing is None:
                validate_deployment_name(dep)
            else:
                refuse_if_busy(existing, "batch deployment")
                dep = existing["name"]
            compute = props.get("compute")
            if not isinstance(compute, str) or not compute:
                raise bad_argument(
                    "A batch deployment needs a compute cluster (properties.compute).", "properties.compute"
                )
            model = props.get("model")
            if model is not None and (not isinstance(model, dict) or not model.get("referenceType")):
                raise bad_argument(
                    "properties.model must be an asset reference with a referenceType.", "properties.model"
                )
            retry = props.get("retrySettings") or {}
            resources = props.get("resources") or {}
            output_action = _OUTPUT_ACTIONS.get(str(props.get("outputAction") or "AppendRow").lower())
            if output_action is None:
                raise bad_argument("outputAction must be 'AppendRow' or 'SummaryOnly'.", "properties.outputAction")
            logging_level = _LOGGING_LEVELS.get(str(props.get("loggingLevel") or "Info").lower())
            if logging_level is None:
                raise bad_argument("loggingLevel must be 'Info', 'Warning' or 'Debug'.", "properties.loggingLevel")
            who = caller_name(req)
            resource: dict[str, Any] = {
                "id": did,
                "name": dep,
                "type": BATCH_DEPLOYMENT_TYPE,
                "location": ep["location"],
                "tags": dict(body.get("tags") or {}),
                "systemData": dict(existing["systemData"]) if existing else new_system_data(estate, who),
                "properties": {
                    "description": props.get("description"),
                    "properties": dict(props.get("properties") or {}),
                    "codeConfiguration": props.get("codeConfiguration"),
                    "environmentId": props.get("environmentId"),
                    "environmentVariables": dict(props.get("environmentVariables") or {}),
                    "compute": compute,
                    "errorThreshold": _positive_int(props.get("errorThreshold"), -1, "errorThreshold", minimum=-1),
                    "retrySettings": {
                        "maxRetries": _positive_int(retry.get("maxRetries"), 3, "retrySettings.maxRetries", minimum=0),
                        "timeout": retry.get("timeout") or "PT30S",
                    },
                    "miniBatchSize": _positive_int(props.get("miniBatchSize"), 10, "miniBatchSize"),
                    "loggingLevel": logging_level,
                    "model": model,
                    "maxConcurrencyPerInstance": _positive_int(
                        props.get("maxConcurrencyPerInstance"), 1, "maxConcurrencyPerInstance"
                    ),
                    "outputAction": output_action,
                    "outputFileName": props.get("outputFileName") or "predictions.csv",
                    "resources": {
                        "instanceCount": _positive_int(resources.get("instanceCount"), 1, "resources.instanceCount"),
                        "instanceType": resources.get("instanceType"),
                        "properties": dict(resources.get("properties") or {}),
                    },
                    "provisioningState": "Updating" if existing else "Creating",
                },
            }
            if props.get("deploymentConfiguration"):
                resource["properties"]["deploymentConfiguration"] = props["deploymentConfiguration"]
            touch(estate, resource, who)
            estate.put(resource)
        ep_id = ep["id"]

        def on_done(r: dict[str, Any]) -> None:
            parent = estate.get(ep_id)
            if parent is not None and not (parent["properties"].get("defaults") or {}).get("deploymentName"):
                parent["properties"]["defaults"] = {"deploymentName": r["name"]}  # the first deployment is the default

        op = ops.start("BatchDeployment.CreateOrUpdate", sub, ep["location"], settle(did, on_done))
        return ops.accepted(req, op, 200 if existing else 201, estate.snapshot(resource))

    def patch_deployment(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        ep, d = deployment_of(sub, rg, ws, name, dep)
        body = json_body(req)
        props = properties_of(body, required=False)
        with estate.lock:
            refuse_if_busy(d, "batch deployment")
            if "description" in props:
                d["properties"]["description"] = props["description"]
            if "tags" in body:
                d["tags"] = dict(body.get("tags") or {})
            d["properties"]["provisioningState"] = "Updating"
            touch(estate, d, caller_name(req))
        op = ops.start("BatchDeployment.Update", sub, ep["location"], settle(d["id"]))
        return ops.accepted(req, op, 202)

    def delete_deployment(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        d = estate.get(deployment_id(ep["id"], dep))
        if d is None:
            return Response(204)
        with estate.lock:
            default = (ep["properties"].get("defaults") or {}).get("deploymentName")
            if default and default.lower() == d["name"].lower():
                raise bad_argument(
                    f"Deployment '{d['name']}' is the default deployment of batch endpoint '{ep['name']}' and cannot "
                    "be deleted. Set another default deployment first, or delete the endpoint.",
                    "deploymentName",
                )
            if d["properties"].get("provisioningState") in ("Creating", "Updating"):
                refuse_if_busy(d, "batch deployment")
            d["properties"]["provisioningState"] = "Deleting"
        op = ops.start("BatchDeployment.Delete", sub, ep["location"], deleter(d["id"]))
        return ops.accepted(req, op, 202)

    router.add("GET", WS + "/batchEndpoints", list_endpoints)
    router.add("GET", BEP, get_endpoint)
    router.add("PUT", BEP, put_endpoint)
    router.add("PATCH", BEP, patch_endpoint)
    router.add("DELETE", BEP, delete_endpoint)
    router.add("GET", BEP + "/deployments", list_deployments)
    router.add("GET", BDEP, get_deployment)
    router.add("PUT", BDEP, put_deployment)
    router.add("PATCH", BDEP, patch_deployment)
    router.add("DELETE", BDEP, delete_deployment)
