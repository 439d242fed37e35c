"""The data plane of online endpoints: scoring (keys, AML tokens, traffic routing, mirroring), the
swagger document, and the deterministic container logs that getLogs tails."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import random
import time
from typing import Any

from ..credential import decode_token
from ..estate import Estate
from ..http import ApiError, Request, Response
from .endpoints_model import ONLINE_ENDPOINT_TYPE, state

AML_TOKEN_LIFETIME_S = 3600
_MAX_REQUEST_LOG = 1000
_SERVER_VERSION = "1.4.1"


# -- AML tokens ---------------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def issue_aml_token(estate: Estate, endpoint: dict[str, Any]) -> dict[str, Any]:
    """An AML token for one endpoint (JWT-shaped, unsigned), as POST .../token returns it."""
    now = int(time.time())
    claims = {
        "iss": "azureml",
        "aud": endpoint["id"].lower(),
        "tid": estate.tenant_id,
        "iat": now,
        "exp": now + AML_TOKEN_LIFETIME_S,
    }
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    return {
        "accessToken": token,
        "tokenType": "Bearer",
        "expiryTimeUtc": now + AML_TOKEN_LIFETIME_S,
        "refreshAfterTimeUtc": now + AML_TOKEN_LIFETIME_S // 2,
    }


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "Unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="azureml"'})


def check_scoring_auth(estate: Estate, req: Request, endpoint: dict[str, Any]) -> None:
    auth = req.headers.get("authorization", "")
    if not auth.lower().startswith("bearer ") or not auth[7:].strip():
        raise _unauthorized("Authorization header is missing or is not a Bearer credential.")
    presented = auth[7:].strip()
    mode = endpoint["properties"].get("authMode", "Key")
    if mode == "Key":
        keys = state(estate).keys.get(endpoint["id"].lower(), {})
        if presented not in (keys.get("primaryKey"), keys.get("secondaryKey")):
            raise _unauthorized("The key is invalid for this endpoint.")
        return
    try:
        claims = decode_token(presented)
    except (ValueError, UnicodeDecodeError) as e:
        raise _unauthorized("The token is malformed.") from e
    if int(claims.get("exp", 0)) < time.time():
        raise _unauthorized("The token has expired.")
    if mode == "AMLToken":
        if claims.get("iss") != "azureml" or str(claims.get("aud", "")).lower() != endpoint["id"].lower():
            raise _unauthorized("The AML token was not issued for this endpoint.")
        return
    if claims.get("tid") != estate.tenant_id:  # AADToken: any Entra token of the tenant
        raise _unauthorized("The Microsoft Entra token is from another tenant.")


# -- routing and prediction -----------------------------------------------------------------------


def find_online_endpoint(estate: Estate, region: str, name: str) -> dict[str, Any]:
    with estate.lock:
        for ep in estate.of_type(ONLINE_ENDPOINT_TYPE):
            if ep["name"].lower() == name.lower() and ep["location"].lower() == region.lower():
                return ep
    raise ApiError(404, "EndpointNotFound", f"Endpoint '{name}' was not found in region '{region}'.")


def _bucket(payload: bytes, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(salt.encode() + payload).digest()[:4], "big") % 100


def pick_deployment(endpoint: dict[str, Any], payload: bytes) -> str | None:
    """The deployment live traffic sends this payload to: weighted by traffic, keyed by a hash of the payload."""
    traffic = {k: v for k, v in sorted(endpoint["properties"].get("traffic", {}).items()) if v > 0}
    if not traffic:
        return None
    point = _bucket(payload, "route")
    acc = 0
    for name, pct in traffic.items():
        acc += pct
        if point < acc:
            return name
    return list(traffic)[-1]


def _rows(doc: Any) -> list[list[float]]:
    """The numeric rows of the usual payload shapes: {"data": rows}, {"input_data": {"data": rows}}, or rows."""
    if isinstance(doc, dict):
        if "input_data" in doc:
            doc = doc["input_data"]
            if isinstance(doc, dict):
                doc = doc.get("data")
        elif "data" in doc:
            doc = doc["data"]
        elif "inputs" in doc:
            doc = doc["inputs"]
    if not isinstance(doc, list) or not doc:
        raise ValueError("expected a non-empty list of rows under 'data' or 'input_data'")
    rows: list[list[float]] = []
    for i, row in enumerate(doc):
        values = list(row.values()) if isinstance(row, dict) else row if isinstance(row, list) else [row]
        try:
            rows.append([float(v) for v in values])
        except (TypeError, ValueError) as e:
            raise ValueError(f"row {i} has a non-numeric value: {e}") from e
    return rows


def predict(deployment: dict[str, Any], rows: list[list[float]]) -> list[float]:
    """A deterministic linear 'model' per deployment (its model id seeds the weights)."""
    model = str(deployment["properties"].get("model") or deployment["id"])
    rng = random.Random(model.lower())
    weights = [round(rng.uniform(-1.0, 1.0), 3) for _ in range(16)]
    bias = round(rng.uniform(-0.5, 0.5), 3)
    out = []
    for row in rows:
        z = bias + sum(weights[j % len(weights)] * x for j, x in enumerate(row))
        out.append(round(1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))), 6))
    return out


def record_request(estate: Estate, deployment_id: str, line: str, *, mirrored: bool = False) -> None:
    st = state(estate)
    key = deployment_id.lower()
    with estate.lock:
        counter = st.mirrored if mirrored else st.requests
        counter[key] = counter.get(key, 0) + 1
        log = st.request_log.setdefault(key, [])
        log.append(line)
        if len(log) > _MAX_REQUEST_LOG:
            del log[: len(log) - _MAX_REQUEST_LOG]


def _model_error(message: str) -> Response:
    return Response(424, {"error": {"code": "ModelError", "message": message}})


def score(estate: Estate, req: Request, region: str, name: str) -> Response:
    endpoint = find_online_endpoint(estate, region, name)
    check_scoring_auth(estate, req, endpoint)
    with estate.lock:
        endpoint = json.loads(json.dumps(endpoint))
        deployments = {
            d["name"].lower(): json.loads(json.dumps(d)) for d in estate.children(endpoint["id"], "deployments")
        }
    wanted = req.headers.get("azureml-model-deployment")
    if wanted:
        chosen = deployments.get(wanted.lower())
        if chosen is None:
            raise ApiError(
                404,
                "DeploymentNotFound",
                f"Deployment '{wanted}' was not found in endpoint '{endpoint['name']}'.",
            )
    else:
        picked = pick_deployment(endpoint, req.body)
        if picked is None:
            raise ApiError(
                404,
                "NoValidDeployments",
                "No valid deployments to route to. Please check that the endpoint has at least one deployment "
                "with positive weight values or use a deployment specific header to route.",
            )
        chosen = deployments.get(picked.lower())
        if chosen is None:
            raise ApiError(404, "DeploymentNotFound", f"Deployment '{picked}' no longer exists.")
    dep_state = chosen["properties"].get("provisioningState")
    if dep_state not in ("Succeeded", "Updating"):
        raise ApiError(
            503,
            "ServiceUnavailable",
            f"Deployment '{chosen['name']}' is not ready to serve requests (provisioning state {dep_state}).",
        )
    stamp = _log_stamp(estate.clock.now())
    try:
        doc = json.loads(req.body or b"")
    except (ValueError, UnicodeDecodeError) as e:
        record_request(
            estate, chosen["id"], f'{stamp} | gunicorn.access | "POST /score HTTP/1.0" 400 req={req.request_id}'
        )
        return Response(
            400,
            {"error": {"code": "BadRequest", "message": f"Invalid JSON in request body: {e}"}},
            {"azureml-model-deployment": chosen["name"]},
        )
    try:
        rows = _rows(doc)
    except ValueError as e:
        record_request(estate, chosen["id"], f"{stamp} | root | ERROR | Exception in user run(): {e}")
        resp = _model_error(f"An unexpected error occurred in scoring script: {e}")
        resp.headers["azureml-model-deployment"] = chosen["name"]
        return resp
    predictions = predict(chosen, rows)
    record_request(
        estate,
        chosen["id"],
        f'{stamp} | gunicorn.access | "POST /score HTTP/1.0" 200 rows={len(rows)} req={req.request_id}',
    )
    if not wanted:  # mirrored copies follow live traffic only (the header bypasses mirroring, as in Azure)
        for mname, pct in sorted(endpoint["properties"].get("mirrorTraffic", {}).items()):
            mirror = deployments.get(mname.lower())
            if mirror is not None and pct > 0 and _bucket(req.body, "mirror:" + mname) < pct:
                record_request(
                    estate,
                    mirror["id"],
                    f'{stamp} | gunicorn.access | "POST /score HTTP/1.0" 200 rows={len(rows)} mirrored=true',
                    mirrored=True,
                )
    return Response(200, predictions, {"azureml-model-deployment": chosen["name"]})


def swagger(estate: Estate, req: Request, region: str, name: str) -> Response:
    endpoint = find_online_endpoint(estate, region, name)
    check_scoring_auth(estate, req, endpoint)
    doc = {
        "swagger": "2.0",
        "info": {
            "title": endpoint["name"],
            "description": endpoint["properties"].get("description", ""),
            "version": "1.0",
        },
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/score": {
                "post": {
                    "description": "Run the model on rows of numeric features.",
                    "parameters": [
                        {
                            "name": "body",
                            "in": "body",
                            "required": True,
                            "schema": {"type": "object", "properties": {"data": {"type": "array"}}},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "One prediction per row",
                            "schema": {"type": "array", "items": {"type": "number"}},
                        }
                    },
                }
            }
        },
    }
    return Response(200, doc)


# -- logs ---------------------------------------------------------------------------------------


def _log_stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"


def _parse(ts: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _model_path(model: str) -> tuple[str, str]:
    parts = model.rstrip("/").split("/")
    if "versions" in parts:
        i = parts.index("versions")
        return parts[i - 1], parts[i + 1] if i + 1 < len(parts) else "1"
    return parts[-1], "1"


def storage_initializer_log(deployment: dict[str, Any]) -> list[str]:
    props = deployment["properties"]
    t = _parse(deployment["systemData"]["lastModifiedAt"]) + dt.timedelta(seconds=40)
    rng = random.Random("storage:" + deployment["id"].lower())
    name, version = _model_path(str(props.get("model") or "model"))
    files = rng.randint(3, 14)
    size = round(rng.uniform(2, 900), 1)
    secs = round(size / rng.uniform(40, 120) + 1, 1)
    lines = [
        (0, "INFO", "Storage initializer started"),
        (1, "INFO", f"Resolving model asset {props.get('model')}"),
        (2, "INFO", f"Downloading model to /var/azureml-app/azureml-models/{name}/{version}"),
        (int(secs) + 2, "INFO", f"Downloaded {files} files ({size} MB) in {secs}s"),
        (int(secs) + 3, "INFO", "Verifying checksums: all files match"),
        (int(secs) + 3, "INFO", "Storage initializer completed successfully"),
    ]
    return [f"{_log_stamp(t + dt.timedelta(seconds=s))} | {lvl} | {msg}" for s, lvl, msg in lines]


def inference_server_log(estate: Estate, deployment: dict[str, Any]) -> list[str]:
    props = deployment["properties"]
    rid = deployment["id"].lower()
    t0 = _parse(deployment["systemData"]["lastModifiedAt"]) + dt.timedelta(seconds=75)
    rng = random.Random("server:" + rid)
    name, version = _model_path(str(props.get("model") or "model"))
    script = (props.get("codeConfiguration") or {}).get("scoringScript", "score.py")
    pid = rng.randint(60, 140)
    wpid = pid + rng.randint(20, 60)

    def at(seconds: float) -> str:
        return _log_stamp(t0 + dt.timedelta(seconds=seconds))

    lines = [
        f"Azure ML Inferencing HTTP server v{_SERVER_VERSION}",
        "",
        "Server Settings",
        "---------------",
        f"Entry Script Name: /var/azureml-app/onlinescoring/{script}",
        f"Model Directory: /var/azureml-app/azureml-models/{name}/{version}",
        "Config File: None",
        "Worker Count: 1",
        "Worker Timeout (seconds): 300",
        "Server Port: 31311",
        "Health Port: 31311",
        f"Application Insights Enabled: {str(bool(props.get('appInsightsEnabled'))).lower()}",
        f"Inferencing HTTP server version: azmlinfsrv/{_SERVER_VERSION}",
        "",
        "Server Routes",
        "---------------",
        "Liveness Probe: GET   127.0.0.1:31311/",
        "Score:          POST  127.0.0.1:31311/score",
        "",
        f"{at(0)} | gunicorn.error | INFO | Starting gunicorn 22.0.0",
        f"{at(0)} | gunicorn.error | INFO | Listening at: http://0.0.0.0:31311 ({pid})",
        f"{at(0)} | gunicorn.error | INFO | Using worker: sync",
        f"{at(0.2)} | gunicorn.error | INFO | Booting worker with pid: {wpid}",
        f"{at(1.1)} | root | INFO | Found user script at /var/azureml-app/onlinescoring/{script}",
        f"{at(1.1)} | root | INFO | run() is not decorated. Server will invoke it with the input in JSON string.",
        f"{at(1.2)} | root | INFO | Invoking user's init function",
    ]
    failure = state(estate).failures.get(rid)
    if props.get("provisioningState") == "Failed" or failure:
        lines += [
            f"{at(3.4)} | root | ERROR | User's init function failed",
            f"{at(3.4)} | root | ERROR | Encountered Exception Traceback (most recent call last):",
            f'  File "/var/azureml-app/onlinescoring/{script}", line 3, in <module>',
            "    from transformers import AutoModelForCausalLM, AutoTokenizer",
            "ModuleNotFoundError: No module named 'transformers'",
            f"{at(3.5)} | gunicorn.error | INFO | Worker exiting (pid: {wpid})",
            f"{at(3.9)} | gunicorn.error | INFO | Shutting down: Master",
            f"{at(3.9)} | gunicorn.error | INFO | Reason: Worker failed to boot.",
        ]
        return lines
    init_s = round(rng.uniform(2, 25), 1)
    lines += [
        f"{at(init_s)} | root | INFO | Users's init has completed successfully",
        f"{at(init_s)} | root | INFO | Scoring timeout is set to 5000 ms",
    ]
    # Recent history up to the simulation clock: liveness probes and scored requests, minute by minute.
    now = estate.clock.now()
    ready = t0 + dt.timedelta(seconds=init_s)
    start = max(ready, now - dt.timedelta(minutes=90))
    minute = 0
    while True:
        t = start + dt.timedelta(minutes=minute)
        if t > now:
            break
        mr = random.Random(f"{rid}:{int(t.timestamp()) // 60}")
        lines.append(f'{_log_stamp(t)} | gunicorn.access | "GET / HTTP/1.0" 200 liveness')
        for _ in range(mr.randint(0, 3)):
            ms = mr.randint(8, 140)
            ts = _log_stamp(t + dt.timedelta(seconds=mr.uniform(1, 59)))
            lines.append(f'{ts} | gunicorn.access | "POST /score HTTP/1.0" 200 {ms}ms')
        minute += 1
    with estate.lock:
        lines += list(state(estate).request_log.get(rid, []))
    return lines


def deployment_logs(estate: Estate, deployment: dict[str, Any], container: str, tail: int | None) -> str:
    lines = (
        storage_initializer_log(deployment)
        if container == "StorageInitializer"
        else inference_server_log(estate, deployment)
    )
    if deployment["properties"].get("provisioningState") == "Creating" and container != "StorageInitializer":
        lines = []  # the inference server container has not started yet
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    return "\n".join(lines) + ("\n" if lines else "")
