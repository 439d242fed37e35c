"""Spec coverage: every Azure ML operation the emulator serves answers with the key paths of that operation's
example in azure-rest-api-specs (vendored under tests/spec_examples, see its README).

Each example's request is sent to the emulator with the example's api-version, its subscription, resource group,
workspace and resource names mapped onto the demo estate's real ones. The JSON key paths of the example's response
(arrays collapsed to ``[]``, free-form maps such as tags collapsed to ``*``) are compared with the emulator's.
"""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "spec_examples"
ML = "Microsoft.MachineLearningServices"
MEAN_FLOOR = 0.90
OPERATION_FLOOR = 0.70

# Keys whose values are maps with caller-chosen keys, wherever they appear.
_MAP_KEYS = frozenset({"tags", "userAssignedIdentities", "environmentVariables", "outboundRules", "traffic"})
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _placeholder_key(key: str) -> bool:
    """A key an example uses to stand for any key of a map ("string", a resource id, a GUID)."""
    return key in ("string", "some_string") or key.startswith("/subscriptions/") or bool(_UUID.match(key))


def _is_map(path: str, key: str, value: dict[str, Any], maps: set[str] | None) -> bool:
    if key in _MAP_KEYS:
        return True
    if maps is None:  # the example: placeholders say it is a map
        return any(_placeholder_key(k) for k in value)
    return path in maps


def key_paths(body: Any, maps: set[str] | None = None) -> tuple[set[str], set[str]]:
    """(key paths, paths of map containers) of a JSON document.

    With ``maps`` None the document is an example and map containers are found from its placeholder keys; with
    ``maps`` given (the example's), those containers are collapsed in the emulator's document the same way.
    """
    paths: set[str] = set()
    found: set[str] = set()

    def walk(node: Any, path: str, key: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path + "[]", key)
        elif isinstance(node, dict):
            collapse = bool(path) and _is_map(path, key, node, maps)
            if collapse:
                found.add(path)
            for k, v in node.items():
                child = f"{path}.{'*' if collapse else k}" if path else k
                paths.add(child)
                walk(v, child, k)

    walk(body, "", "")
    return paths, found


@dataclass(frozen=True)
class Case:
    example: str  # path under tests/spec_examples
    method: str
    path: Callable[[Targets], str]  # the request path on the estate
    body: Callable[[Targets, dict[str, Any]], Any] | None = None  # (targets, the example's parameters) -> body


@dataclass(frozen=True)
class Targets:
    """Resource ids of the demo estate standing for the examples' resources."""

    subs: list[str]
    sub: str
    rg: str
    ws_id: str
    private_ws_id: str  # a network-isolated workspace, as the workspace example is
    location: str
    compute_instance: str
    cluster: str
    datastore: str
    command_job: str
    pipeline_job: str
    sweep_job: str
    online_deployment: str
    aad_deployment: str  # a deployment of an online endpoint that takes Azure ML tokens
    batch_deployment: str


def _parent(resource_id: str) -> str:
    return resource_id.rsplit("/", 2)[0]


CASES = [
    Case("machinelearningservices/Workspace/get.json", "GET", lambda t: t.private_ws_id),
    Case(
        "machinelearningservices/Workspace/listByResourceGroup.json",
        "GET",
        lambda t: f"/subscriptions/{t.sub}/resourceGroups/{t.rg}/providers/{ML}/workspaces",
    ),
    Case("machinelearningservices/Compute/list.json", "GET", lambda t: f"{t.ws_id}/computes"),
    Case("machinelearningservices/Compute/get/ComputeInstance.json", "GET", lambda t: t.compute_instance),
    Case("machinelearningservices/Compute/get/AmlCompute.json", "GET", lambda t: t.cluster),
    Case("machinelearningservices/Compute/listNodes.json", "POST", lambda t: f"{t.cluster}/listNodes"),
    Case("machinelearningservices/Datastore/list.json", "GET", lambda t: f"{_parent(t.datastore)}/datastores"),
    Case("machinelearningservices/Datastore/get.json", "GET", lambda t: t.datastore),
    Case("machinelearningservices/Datastore/listSecrets.json", "POST", lambda t: f"{t.datastore}/listSecrets"),
    Case("machinelearningservices/Job/CommandJob/list.json", "GET", lambda t: f"{_parent(t.command_job)}/jobs"),
    Case("machinelearningservices/Job/CommandJob/get.json", "GET", lambda t: t.command_job),
    Case("machinelearningservices/Job/PipelineJob/get.json", "GET", lambda t: t.pipeline_job),
    Case("machinelearningservices/Job/SweepJob/get.json", "GET", lambda t: t.sweep_job),
    Case(
        "machinelearningservices/Workspace/OnlineEndpoint/list.json",
        "GET",
        lambda t: f"{_parent(_parent(t.online_deployment))}/onlineEndpoints",
    ),
    Case("machinelearningservices/Workspace/OnlineEndpoint/get.json", "GET", lambda t: _parent(t.online_deployment)),
    Case(
        "machinelearningservices/OnlineDeployment/list.json",
        "GET",
        lambda t: f"{_parent(t.online_deployment)}/deployments",
    ),
    Case(
        "machinelearningservices/OnlineDeployment/ManagedOnlineDeployment/get.json",
        "GET",
        lambda t: t.online_deployment,
    ),
    Case(
        "machinelearningservices/OnlineDeployment/getLogs.json",
        "POST",
        lambda t: f"{t.online_deployment}/getLogs",
        lambda t, p: {"containerType": "InferenceServer", "tail": 20},
    ),
    Case("machinelearningservices/Workspace/BatchEndpoint/get.json", "GET", lambda t: _parent(t.batch_deployment)),
    Case("machinelearningservices/Workspace/BatchDeployment/get.json", "GET", lambda t: t.batch_deployment),
    Case(
        "machinelearningservices/Usage/list.json",
        "GET",
        lambda t: f"/subscriptions/{t.sub}/providers/{ML}/locations/{t.location}/usages",
    ),
    Case(
        "machinelearningservices/VirtualMachineSize/list.json",
        "GET",
        lambda t: f"/subscriptions/{t.sub}/providers/{ML}/locations/{t.location}/vmSizes",
    ),
    Case(
        "machinelearningservices/Quota/list.json",
        "GET",
        lambda t: f"/subscriptions/{t.sub}/providers/{ML}/locations/{t.location}/quotas",
    ),
    Case(
        "machinelearningservices/Workspace/listBySubscription.json",
        "GET",
        lambda t: f"/subscriptions/{t.sub}/providers/{ML}/workspaces",
    ),
    Case(
        "machinelearningservices/Workspace/OnlineEndpoint/getToken.json",
        "POST",
        lambda t: f"{_parent(t.aad_deployment)}/token",
    ),
    Case(
        "machinelearningservices/OnlineDeployment/ManagedOnlineDeployment/listSkus.json",
        "GET",
        lambda t: f"{t.online_deployment}/skus",
    ),
    Case(
        "machinelearningservices/Workspace/BatchEndpoint/list.json",
        "GET",
        lambda t: f"{_parent(_parent(t.batch_deployment))}/batchEndpoints",
    ),
    Case(
        "machinelearningservices/Workspace/BatchDeployment/list.json",
        "GET",
        lambda t: f"{_parent(t.batch_deployment)}/deployments",
    ),
    Case("resources/GetTenants.json", "GET", lambda t: "/tenants"),
    Case("resources/GetSubscriptions.json", "GET", lambda t: "/subscriptions"),
    Case("resources/GetSubscription.json", "GET", lambda t: f"/subscriptions/{t.sub}"),
    Case(
        "resourcegraph/ResourcesBasicQuery.json",
        "POST",
        lambda t: "/providers/Microsoft.ResourceGraph/resources",
        lambda t, p: {**p["query"], "subscriptions": t.subs},
    ),
]


def _call(emu: Emulator, method: str, path: str, api_version: str, body: Any = None) -> tuple[int, Any]:
    ctx = ssl.create_default_context(cafile=emu.ca_file)
    sep = "&" if "?" in path else "?"
    data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
    req = urllib.request.Request(f"{emu.endpoint}{path}{sep}api-version={api_version}", data=data, method=method)
    token = emu.credential().get_token("https://management.azure.com/.default").token
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def _values(emu: Emulator, path: str) -> list[dict[str, Any]]:
    status, body = _call(emu, "GET", path, "2025-12-01")
    assert status == 200, (path, body)
    return list(body["value"])


def _targets(emu: Emulator) -> Targets:
    """For each example, a resource of the demo estate in the same situation as the example's."""
    found: dict[str, str] = {}
    for ws in emu.estate.workspaces():
        wid = ws["id"]
        if ws["properties"]["publicNetworkAccess"] == "Disabled":
            found.setdefault("private_ws_id", wid)
        for c in _values(emu, f"{wid}/computes"):
            kind, inner = c["properties"]["computeType"], c["properties"].get("properties") or {}
            if kind == "ComputeInstance" and inner.get("customServices"):  # the example's runs a custom app
                found.setdefault("compute_instance", c["id"])
            if kind == "AmlCompute" and inner.get("currentNodeCount"):  # nodes to list
                found.setdefault("cluster", c["id"])
        for j in _values(emu, f"{wid}/jobs?$top=200"):
            kind = (j.get("properties") or {}).get("jobType")
            if kind in ("Command", "Pipeline", "Sweep"):
                found.setdefault(f"{kind.lower()}_job", j["id"])
        for d in _values(emu, f"{wid}/datastores"):
            p = d["properties"]  # the example's: a blob container reached with the account key
            if p.get("datastoreType") == "AzureBlob" and p["credentials"]["credentialsType"] == "AccountKey":
                found.setdefault("datastore", d["id"])
        for kind in ("online", "batch"):
            for e in _values(emu, f"{wid}/{kind}Endpoints"):
                for d in _values(emu, f"{e['id']}/deployments"):
                    if kind == "batch" or d["properties"].get("endpointComputeType") == "Managed":
                        found.setdefault(f"{kind}_deployment", d["id"])
                    if kind == "online" and e["properties"]["authMode"] == "AMLToken":
                        found.setdefault("aad_deployment", d["id"])
    ws_id = _parent(found["compute_instance"])
    segs = ws_id.split("/")
    location = next(w["location"] for w in emu.estate.workspaces() if w["id"] == ws_id)
    return Targets(subs=emu.subscription_ids, sub=segs[2], rg=segs[4], ws_id=ws_id, location=location, **found)


def coverage(emu: Emulator) -> dict[str, tuple[float, list[str]]]:
    """Per example: (share of the example's key paths the emulator's response carries, the missing paths)."""
    targets = _targets(emu)
    result: dict[str, tuple[float, list[str]]] = {}
    for case in CASES:
        example = json.loads((EXAMPLES / case.example).read_text())
        expected, maps = key_paths(example["responses"]["200"]["body"])
        expected.discard("nextLink")  # present only when another page follows; these lists fit on one
        params = example["parameters"]
        request = case.body(targets, params) if case.body else None
        status, body = _call(emu, case.method, case.path(targets), params["api-version"], request)
        if status != 200:  # an operation that fails covers nothing; say why in the report
            error = (body or {}).get("error") or {} if isinstance(body, dict) else {}
            result[case.example] = (0.0, [f"HTTP {status} {error.get('code', '')}".strip()])
            continue
        got, _ = key_paths(body, maps)
        missing = sorted(expected - got)
        result[case.example] = (1 - len(missing) / len(expected), missing)
    return result


def test_every_vendored_example_is_exercised() -> None:
    vendored = {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.json")}
    assert vendored == {c.example for c in CASES}


def test_key_paths_collapse_arrays_and_maps() -> None:
    example = {"value": [{"properties": {"tags": {"string": "x"}, "state": "Running", "inputs": {"string": {"a": 1}}}}]}
    paths, maps = key_paths(example)
    assert "value[].properties.state" in paths and "value[].properties.inputs.*.a" in paths
    assert maps == {"value[].properties.tags", "value[].properties.inputs"}
    served = {"value": [{"properties": {"tags": {"team": "a"}, "inputs": {"data": {"a": 2}}}}]}
    got, _ = key_paths(served, maps)
    assert {"value[].properties.tags.*", "value[].properties.inputs.*.a"} <= got
    assert "value[].properties.state" not in got


def test_responses_carry_the_spec_examples_key_paths(emulator: Emulator) -> None:
    result = coverage(emulator)
    lines = []
    for name, (share, missing) in sorted(result.items(), key=lambda kv: kv[1][0]):
        lines.append(f"{share:6.1%}  {name}" + (f"\n          missing: {', '.join(missing)}" if missing else ""))
    shares = [share for share, _ in result.values()]
    mean = sum(shares) / len(shares)
    report = f"mean {mean:.1%}, min {min(shares):.1%}\n" + "\n".join(lines)
    print(report)
    assert mean >= MEAN_FLOOR, report
    worst = {name: share for name, (share, _) in result.items() if share < OPERATION_FLOOR}
    assert not worst, report
