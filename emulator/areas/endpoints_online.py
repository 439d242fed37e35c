"""Online endpoints and deployments: the ARM control plane (Azure ML MFE) routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..estate import Estate
from ..http import Request, Response, conflict, page
from ..lro import Operations
from .endpoints_model import (
    DEFAULT_LIVENESS_PROBE,
    DEFAULT_READINESS_PROBE,
    DEFAULT_REQUEST_SETTINGS,
    MANAGED_SKUS,
    MAX_INSTANCES,
    ONLINE_DEPLOYMENT_TYPE,
    ONLINE_ENDPOINT_TYPE,
    bad_argument,
    caller_name,
    deployment_id,
    identity_for,
    json_body,
    new_key,
    new_system_data,
    normalize_auth_mode,
    online_endpoint_id,
    properties_of,
    refuse_if_busy,
    render_deployment,
    render_online_endpoint,
    resource_not_found,
    state,
    touch,
    validate_deployment_name,
    validate_endpoint_name,
    validate_instance_count,
    validate_scale_settings,
    validate_traffic,
)
from .endpoints_scoring import deployment_logs, issue_aml_token
from .workspaces import find as find_workspace

WS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
EP = WS + "/onlineEndpoints/{name}"
DEP = EP + "/deployments/{dep}"

LOG_CONTAINERS = {"inferenceserver": "InferenceServer", "storageinitializer": "StorageInitializer"}


def register_online(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate
    ops: Operations = emu.ops

    def workspace(sub: str, rg: str, ws: str) -> dict[str, Any]:
        return find_workspace(estate, sub, rg, ws)

    def endpoint_of(sub: str, rg: str, ws: str, name: str) -> dict[str, Any]:
        w = workspace(sub, rg, ws)
        ep = estate.get(online_endpoint_id(w["id"], name))
        if ep is None:
            raise resource_not_found("online endpoint", rg, f"workspaces/{ws}/onlineEndpoints/{name}")
        return ep

    def deployment_of(sub: str, rg: str, ws: str, name: str, dep: str) -> tuple[dict[str, Any], dict[str, Any]]:
        ep = endpoint_of(sub, rg, ws, name)
        d = estate.get(deployment_id(ep["id"], dep))
        if d is None:
            raise resource_not_found("deployment", rg, f"workspaces/{ws}/onlineEndpoints/{name}/deployments/{dep}")
        return ep, d

    def settle_to_succeeded(rid: str, on_done: Callable[[dict[str, Any]], None] | None = None) -> Callable[[], None]:
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
            st = state(estate)
            with estate.lock:
                estate.delete(rid)
                prefix = rid.lower()
                st.keys.pop(prefix, None)
                for table in (st.requests, st.mirrored, st.request_log, st.failures, st.operation_ids):
                    for k in [k for k in table if k == prefix or k.startswith(prefix + "/")]:
                        del table[k]
                st.autoscaled[:] = [k for k in st.autoscaled if k != prefix and not k.startswith(prefix + "/")]

        return apply

    # -- endpoints --------------------------------------------------------------------------------

    def list_endpoints(req: Request, sub: str, rg: str, ws: str) -> Response:
        w = workspace(sub, rg, ws)
        items = sorted(estate.children(w["id"], "onlineEndpoints"), key=lambda r: r["name"].lower())
        name = req.q("name")
        if name:
            items = [r for r in items if r["name"].lower() == name.lower()]
        compute_type = (req.q("computeType") or "").lower()
        if compute_type:
            items = [
                r
                for r in items
                if (r["kind"] if "compute" not in r["properties"] else "Kubernetes").lower() == compute_type
            ]
        return page(req, [render_online_endpoint(estate, req, r) for r in items])

    def get_endpoint(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        return Response(200, render_online_endpoint(estate, req, endpoint_of(sub, rg, ws, name)))

    def put_endpoint(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        w = workspace(sub, rg, ws)
        body = json_body(req)
        props = properties_of(body)
        rid = online_endpoint_id(w["id"], name)
        with estate.lock:
            existing = estate.get(rid)
            if existing is None:
                validate_endpoint_name(name)
                for other in estate.of_type(ONLINE_ENDPOINT_TYPE):
                    if other["name"].lower() == name.lower() and other["location"].lower() == w["location"].lower():
                        raise conflict(
                            f"An online endpoint named '{name}' already exists in region '{w['location']}'. "
                            "Endpoint names must be unique within an Azure region.",
                            "EndpointAlreadyExists",
                        )
            else:
                refuse_if_busy(existing, "online endpoint")
                name = existing["name"]
            location = str(body.get("location") or w["location"])
            if location.replace(" ", "").lower() != w["location"].lower():
                raise bad_argument(
                    f"The endpoint location '{location}' must match the workspace location '{w['location']}'.",
                    "location",
                )
            auth = normalize_auth_mode(props.get("authMode"))
            compute = props.get("compute") or None
            if (
                existing is not None
                and (existing["properties"].get("compute") or "").lower() != (compute or "").lower()
            ):
                raise bad_argument("The compute of an existing endpoint cannot be changed.", "properties.compute")
            if compute is not None and (not isinstance(compute, str) or "/computes/" not in compute.lower()):
                raise bad_argument(f"'{compute}' is not the ARM id of a compute.", "properties.compute")
            deployments = [d["name"] for d in estate.children(rid, "deployments")]
            traffic, mirror = validate_traffic(name, deployments, props.get("traffic"), props.get("mirrorTraffic"))
            pna = props.get("publicNetworkAccess") or (
                existing["properties"].get("publicNetworkAccess") if existing else "Enabled"
            )
            if pna not in ("Enabled", "Disabled"):
                raise bad_argument(
                    f"publicNetworkAccess '{pna}' must be Enabled or Disabled.", "properties.publicNetworkAccess"
                )
            who = caller_name(req)
            resource: dict[str, Any] = {
                "id": rid,
                "name": name,
                "type": ONLINE_ENDPOINT_TYPE,
                "location": w["location"],
                "kind": body.get("kind") or (existing or {}).get("kind") or ("Kubernetes" if compute else "Managed"),
                "tags": dict(body.get("tags") or {}),
                "identity": identity_for(estate, body.get("identity"), (existing or {}).get("identity")),
                "systemData": dict(existing["systemData"]) if existing else new_system_data(estate, who),
                "properties": {
                    "description": props.get("description"),
                    "properties": dict(props.get("properties") or {}),
                    "authMode": auth,
                    "provisioningState": "Updating" if existing else "Creating",
                    "traffic": traffic,
                    "mirrorTraffic": mirror,
                    "publicNetworkAccess": pna,
                },
            }
            if compute:
                resource["properties"]["compute"] = compute
            touch(estate, resource, who)
            estate.put(resource)
            st = state(estate)
            if rid.lower() not in st.keys:
                st.keys[rid.lower()] = {"primaryKey": new_key(st.rng), "secondaryKey": new_key(st.rng)}
        op = ops.start("OnlineEndpoint.CreateOrUpdate", sub, w["location"], settle_to_succeeded(rid))
        return ops.accepted(req, op, 200 if existing else 201, render_online_endpoint(estate, req, resource))

    def patch_endpoint(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        body = json_body(req)
        props = properties_of(body, required=False)
        with estate.lock:
            refuse_if_busy(ep, "online endpoint")
            deployments = [d["name"] for d in estate.children(ep["id"], "deployments")]
            traffic, mirror = validate_traffic(
                ep["name"],
                deployments,
                props.get("traffic", ep["properties"].get("traffic")),
                props.get("mirrorTraffic", ep["properties"].get("mirrorTraffic")),
            )
            if "tags" in body:
                ep["tags"] = dict(body.get("tags") or {})
            if "identity" in body:
                ep["identity"] = identity_for(estate, body.get("identity"), ep.get("identity"))
            if "description" in props:
                ep["properties"]["description"] = props["description"]
            ep["properties"]["traffic"] = traffic
            ep["properties"]["mirrorTraffic"] = mirror
            ep["properties"]["provisioningState"] = "Updating"
            touch(estate, ep, caller_name(req))
        op = ops.start("OnlineEndpoint.Update", sub, ep["location"], settle_to_succeeded(ep["id"]))
        return ops.accepted(req, op, 202)

    def delete_endpoint(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        w = workspace(sub, rg, ws)
        ep = estate.get(online_endpoint_id(w["id"], name))
        if ep is None:
            return Response(204)
        with estate.lock:
            if ep["properties"].get("provisioningState") in ("Creating", "Updating"):
                refuse_if_busy(ep, "online endpoint")
            ep["properties"]["provisioningState"] = "Deleting"
            for d in estate.children(ep["id"], "deployments"):
                d["properties"]["provisioningState"] = "Deleting"
        op = ops.start("OnlineEndpoint.Delete", sub, ep["location"], deleter(ep["id"]))
        return ops.accepted(req, op, 202)

    def list_keys(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        if ep["properties"].get("authMode") != "Key":
            raise bad_argument(
                f"Endpoint '{ep['name']}' uses auth mode '{ep['properties'].get('authMode')}'; keys are available "
                "only for endpoints with auth mode 'Key'.",
            )
        with estate.lock:
            keys = dict(state(estate).keys.get(ep["id"].lower(), {}))
        return Response(200, keys)

    def regenerate_keys(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        body = json_body(req)
        if ep["properties"].get("authMode") != "Key":
            raise bad_argument(f"Endpoint '{ep['name']}' does not use keys for authentication.")
        key_type = str(body.get("keyType") or "")
        if key_type.lower() not in ("primary", "secondary"):
            raise bad_argument(f"keyType '{key_type}' must be 'Primary' or 'Secondary'.", "keyType")
        field = "primaryKey" if key_type.lower() == "primary" else "secondaryKey"
        rid = ep["id"].lower()

        def apply() -> None:
            st = state(estate)
            with estate.lock:
                if rid in st.keys:
                    st.keys[rid][field] = new_key(st.rng)  # keyValue in the request is the key being replaced

        op = ops.start("OnlineEndpoint.RegenerateKeys", sub, ep["location"], apply)
        return ops.accepted(req, op, 202)

    def get_token(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        if ep["properties"].get("authMode") != "AMLToken":
            raise bad_argument(
                f"Endpoint '{ep['name']}' uses auth mode '{ep['properties'].get('authMode')}'; tokens are issued "
                "only for endpoints with auth mode 'AMLToken'.",
            )
        return Response(200, issue_aml_token(estate, ep))

    # -- deployments ------------------------------------------------------------------------------

    def list_deployments(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        items = sorted(estate.children(ep["id"], "deployments"), key=lambda r: r["name"].lower())
        return page(req, [render_deployment(estate, req, d) for d in items])

    def get_deployment(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        _, d = deployment_of(sub, rg, ws, name, dep)
        return Response(200, render_deployment(estate, req, d))

    def put_deployment(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        body = json_body(req)
        props = properties_of(body)
        did = deployment_id(ep["id"], dep)
        st = state(estate)
        with estate.lock:
            if ep["properties"].get("provisioningState") == "Deleting":
                refuse_if_busy(ep, "online endpoint")
            existing = estate.get(did)
            if existing is None:
                validate_deployment_name(dep)
            else:
                refuse_if_busy(existing, "deployment")
                dep = existing["name"]
            endpoint_type = "Kubernetes" if ep["properties"].get("compute") else "Managed"
            compute_type = props.get("endpointComputeType")
            if compute_type not in ("Managed", "Kubernetes"):
                raise bad_argument(
                    "properties.endpointComputeType must be 'Managed' or 'Kubernetes'.",
                    "properties.endpointComputeType",
                )
            if compute_type != endpoint_type:
                raise bad_argument(
                    f"A {compute_type} deployment cannot be added to the {endpoint_type.lower()} online endpoint "
                    f"'{ep['name']}'.",
                    "properties.endpointComputeType",
                )
            sku: dict[str, Any] = body["sku"] if isinstance(body.get("sku"), dict) else {}
            default_capacity = existing["sku"]["capacity"] if existing else 1
            capacity = validate_instance_count(sku.get("capacity", default_capacity))
            instance_type = props.get("instanceType")
            if compute_type == "Managed":
                canonical = {k.lower(): k for k in MANAGED_SKUS}
                if not isinstance(instance_type, str) or instance_type.lower() not in canonical:
                    raise bad_argument(
                        f"Instance type '{instance_type}' is not supported for managed online deployments. "
                        "See https://aka.ms/azureml/managed-online-endpoints-sku-list for the supported SKUs.",
                        "properties.instanceType",
                    )
                instance_type = canonical[instance_type.lower()]
            else:
                instance_type = instance_type or "defaultinstancetype"
            if existing is not None and existing["properties"].get("instanceType") != instance_type:
                raise bad_argument(
                    f"The instance type of deployment '{dep}' cannot be changed from "
                    f"'{existing['properties'].get('instanceType')}' to '{instance_type}'. Create a new deployment "
                    "instead.",
                    "properties.instanceType",
                )
            if not props.get("model") and not props.get("environmentId"):
                raise bad_argument(
                    "A deployment needs a model (an MLflow model needs no environment) or an environment.",
                    "properties.model",
                )
            scale = validate_scale_settings(props.get("scaleSettings"), compute_type)
            if (
                scale["scaleType"] == "TargetUtilization"
                and not scale["minInstances"] <= capacity <= scale["maxInstances"]
            ):
                capacity = max(scale["minInstances"], min(capacity, scale["maxInstances"]))
            who = caller_name(req)
            properties: dict[str, Any] = {
                "description": props.get("description"),
                "properties": dict(props.get("properties") or {}),
                "codeConfiguration": props.get("codeConfiguration"),
                "environmentId": props.get("environmentId"),
                "environmentVariables": dict(props.get("environmentVariables") or {}),
                "scaleSettings": scale,
                "requestSettings": {**DEFAULT_REQUEST_SETTINGS, **(props.get("requestSettings") or {})},
                "appInsightsEnabled": bool(props.get("appInsightsEnabled", False)),
                "livenessProbe": {**DEFAULT_LIVENESS_PROBE, **(props.get("livenessProbe") or {})},
                "readinessProbe": {**DEFAULT_READINESS_PROBE, **(props.get("readinessProbe") or {})},
                "provisioningState": "Updating" if existing else "Creating",
                "instanceType": instance_type,
                "model": props.get("model"),
                "endpointComputeType": compute_type,
                "egressPublicNetworkAccess": props.get("egressPublicNetworkAccess") or "Enabled",
            }
            if compute_type == "Kubernetes":
                properties["containerResourceRequirements"] = props.get("containerResourceRequirements") or {
                    "containerResourceRequests": {"cpu": "500m", "memory": "1Gi"},
                    "containerResourceLimits": {"cpu": "1", "memory": "2Gi"},
                }
            if props.get("dataCollector"):
                properties["dataCollector"] = props["dataCollector"]
            resource = {
                "id": did,
                "name": dep,
                "type": ONLINE_DEPLOYMENT_TYPE,
                "location": ep["location"],
                "kind": compute_type,
                "tags": dict(body.get("tags") or {}),
                "sku": {
                    "name": sku.get("name") or "Default",
                    "tier": sku.get("tier") or "Standard",
                    "capacity": capacity,
                },
                "systemData": dict(existing["systemData"]) if existing else new_system_data(estate, who),
                "properties": properties,
            }
            touch(estate, resource, who)
            estate.put(resource)
            st.failures.pop(did.lower(), None)  # a redeployment replaces a failed one
            st.operation_ids.pop(did.lower(), None)

        def on_done(r: dict[str, Any]) -> None:
            if (
                r["properties"]["scaleSettings"].get("scaleType") == "TargetUtilization"
                and did.lower() not in st.autoscaled
            ):
                st.autoscaled.append(did.lower())

        op = ops.start("OnlineDeployment.CreateOrUpdate", sub, ep["location"], settle_to_succeeded(did, on_done))
        return ops.accepted(req, op, 200 if existing else 201, render_deployment(estate, req, resource))

    def patch_deployment(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        ep, d = deployment_of(sub, rg, ws, name, dep)
        body = json_body(req)
        props = properties_of(body, required=False)
        with estate.lock:
            refuse_if_busy(d, "deployment")
            sku: dict[str, Any] = body["sku"] if isinstance(body.get("sku"), dict) else {}
            capacity = d["sku"]["capacity"]
            if "capacity" in sku:
                capacity = validate_instance_count(sku["capacity"])
            scale = d["properties"]["scaleSettings"]
            if "scaleSettings" in props:
                scale = validate_scale_settings(props["scaleSettings"], d["properties"]["endpointComputeType"])
            for key in ("requestSettings", "livenessProbe", "readinessProbe"):
                if isinstance(props.get(key), dict):
                    d["properties"][key] = {**d["properties"][key], **props[key]}
            if "description" in props:
                d["properties"]["description"] = props["description"]
            if "tags" in body:
                d["tags"] = dict(body.get("tags") or {})
            d["sku"]["capacity"] = capacity
            d["properties"]["scaleSettings"] = scale
            d["properties"]["provisioningState"] = "Updating"
            touch(estate, d, caller_name(req))
        op = ops.start("OnlineDeployment.Update", sub, ep["location"], settle_to_succeeded(d["id"]))
        return ops.accepted(req, op, 202)

    def delete_deployment(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        ep = endpoint_of(sub, rg, ws, name)
        d = estate.get(deployment_id(ep["id"], dep))
        if d is None:
            return Response(204)
        with estate.lock:
            live = {k.lower(): v for k, v in ep["properties"].get("traffic", {}).items()}.get(d["name"].lower(), 0)
            mirrored = {k.lower(): v for k, v in ep["properties"].get("mirrorTraffic", {}).items()}.get(
                d["name"].lower(), 0
            )
            if live > 0 or mirrored > 0:
                kind = "live traffic" if live else "mirror traffic"
                raise bad_argument(
                    f"Deployment '{d['name']}' cannot be deleted because endpoint '{ep['name']}' routes "
                    f"{live or mirrored}% {kind} to it. Update the endpoint to send 0% traffic to this deployment "
                    "and try again.",
                    "deploymentName",
                )
            if d["properties"].get("provisioningState") in ("Creating", "Updating"):
                refuse_if_busy(d, "deployment")
            d["properties"]["provisioningState"] = "Deleting"
        op = ops.start("OnlineDeployment.Delete", sub, ep["location"], deleter(d["id"]))
        return ops.accepted(req, op, 202)

    def get_logs(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        _, d = deployment_of(sub, rg, ws, name, dep)
        body = json_body(req)
        container = LOG_CONTAINERS.get(str(body.get("containerType") or "InferenceServer").lower())
        if container is None:
            raise bad_argument(
                f"containerType '{body.get('containerType')}' must be 'InferenceServer' or 'StorageInitializer'.",
                "containerType",
            )
        tail = body.get("tail")
        if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
            raise bad_argument(f"tail '{tail}' must be a non-negative integer.", "tail")
        with estate.lock:
            snapshot = estate.snapshot(d)
        return Response(200, {"content": deployment_logs(estate, snapshot, container, tail)})

    def list_skus(req: Request, sub: str, rg: str, ws: str, name: str, dep: str) -> Response:
        _, d = deployment_of(sub, rg, ws, name, dep)
        tu = d["properties"]["scaleSettings"].get("scaleType") == "TargetUtilization"
        items = [
            {
                "resourceType": "Microsoft.MachineLearning.Services/endpoints/deployments",
                "sku": {"name": "Default", "tier": "Standard"},
                "capacity": {
                    "minimum": 1,
                    "maximum": MAX_INSTANCES,
                    "default": 1,
                    "scaleType": "Automatic" if tu else "Manual",
                },
            }
        ]
        return page(req, items)

    router.add("GET", WS + "/onlineEndpoints", list_endpoints)
    router.add("GET", EP, get_endpoint)
    router.add("PUT", EP, put_endpoint)
    router.add("PATCH", EP, patch_endpoint)
    router.add("DELETE", EP, delete_endpoint)
    router.add("POST", EP + "/listKeys", list_keys)
    router.add("POST", EP + "/regenerateKeys", regenerate_keys)
    router.add("POST", EP + "/token", get_token)
    router.add("GET", EP + "/deployments", list_deployments)
    router.add("GET", DEP, get_deployment)
    router.add("PUT", DEP, put_deployment)
    router.add("PATCH", DEP, patch_deployment)
    router.add("DELETE", DEP, delete_deployment)
    router.add("POST", DEP + "/getLogs", get_logs)
    router.add("GET", DEP + "/skus", list_skus)
