"""Azure ML computes: clusters (AmlCompute), compute instances, attached Kubernetes; VM sizes, usages, quotas.

Shapes follow Microsoft.MachineLearningServices/stable/2025-12-01 examples (Compute/*, VirtualMachineSize/list,
Usage/list, Quota/list). Computes live in the estate as ARM JSON (``<workspace id>/computes/<name>``); the
simulation keeps each cluster's nodes in ``estate.area_state["compute"]`` and writes the derived counts
(nodeStateCounts, currentNodeCount, targetNodeCount, allocationState) back into the resource, so every reader
(REST, Resource Graph, usages) sees one truth.

The simulation advances in fixed steps of simulated time, each with a generator seeded by (seed, cluster,
step): the same seed and the same clock give the same estate, however often it is observed. Demand for nodes
comes from the jobs area (``estate.area_state["jobs_demand"]``) when it publishes one, else from a
deterministic function of simulated time.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..clock import iso
from ..estate import ML, WORKSPACE_TYPE, Estate
from ..http import ApiError, Request, Response, bad_request, conflict, page
from . import compute_catalog as catalog
from .workspaces import find as find_workspace

COMPUTE_TYPE = f"{WORKSPACE_TYPE}/computes"
WS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
LOC = "/subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{loc}"

STEP_S = 30  # simulated seconds per simulation step
MAX_CATCHUP_STEPS = 720  # a jump of more than 6 simulated hours only replays its last 6 hours
DEMAND_WINDOW_S = 20 * 60  # fallback demand changes every 20 simulated minutes
LEAVE_S = 90  # a leaving node is gone after this
PREEMPTED_LINGER_S = 300  # a preempted node stays listed this long
UNUSABLE_S = 600  # an unusable node is recycled after this
PREEMPT_P = 0.01  # per low-priority node and step
UNUSABLE_P = 0.0002  # per dedicated node and step
NODES_PAGE = 8  # listNodes page size (nextLink continues)

NODE_STATES = ("idle", "running", "preparing", "unusable", "leaving", "preempted")
_COUNT_KEY = {s: f"{s}NodeCount" for s in NODE_STATES}
_TRANSITIONAL = ("Creating", "Updating", "Deleting")
_CI_BUSY = ("Creating", "Starting", "Stopping", "Restarting", "Resizing", "Deleting")
_CI_ALLOCATED = ("Creating", "Running", "Starting", "Stopping", "Restarting")

_CLUSTER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,14}[A-Za-z0-9]$")
_INSTANCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)

_USERS = [
    ("alice", "Alice Martin"),
    ("bob", "Bob Okafor"),
    ("chen", "Chen Wei"),
    ("dana", "Dana Kowalski"),
    ("emeka", "Emeka Obi"),
    ("farah", "Farah Haddad"),
    ("gita", "Gita Raman"),
    ("hiro", "Hiro Tanaka"),
]

JobsDemand = Callable[[str], int]


# -- simulation state -------------------------------------------------------------------------------


@dataclass
class Node:
    serial: int
    node_id: str
    private_ip: str
    state: str
    since: float  # simulated seconds (clock.elapsed()) when it entered its state
    ready_at: float = 0.0  # preparing → idle
    run_id: str | None = None


@dataclass
class Cluster:
    id: str
    pool: int
    ip_prefix: str
    public_ip: str
    busy: float  # share of fallback-demand windows with work queued
    nodes: list[Node] = field(default_factory=list)
    next_serial: int = 1
    last_step: int = 0
    reconciled: bool = False


@dataclass
class ComputeState:
    clusters: dict[str, Cluster] = field(default_factory=dict)  # lower compute id → nodes
    activity: dict[str, float] = field(default_factory=dict)  # lower CI id → last activity (sim seconds)
    quotas: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # (sub, loc) → limits


def _state(estate: Estate) -> ComputeState:
    st = estate.area_state.get("compute")
    if not isinstance(st, ComputeState):
        st = ComputeState()
        estate.area_state["compute"] = st
    return st


def _at(estate: Estate, t: float) -> str:
    return iso(estate.clock.start + dt.timedelta(seconds=t))


def parse_duration(text: str) -> float | None:
    """Seconds in an ISO-8601 duration such as PT2M or PT1H30M; None if it is not one."""
    m = _DURATION.match(text or "")
    if not m or text.upper() in ("P", "PT"):
        return None
    d, h, mi, s = m.groups()
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def _props(res: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = res["properties"].setdefault("properties", {})
    return inner


def _compute_location(res: dict[str, Any]) -> str:
    return str(res["properties"].get("computeLocation") or res.get("location") or "")


# -- nodes --------------------------------------------------------------------------------------------


def _new_node(estate: Estate, cl: Cluster, state: str, t: float, rng: random.Random, gpu: bool) -> Node:
    serial = cl.next_serial
    cl.next_serial += 1
    created = estate.clock.start + dt.timedelta(seconds=t)
    node = Node(
        serial=serial,
        node_id=f"tvm-{cl.pool}_{serial}-{created.strftime('%Y%m%dt%H%M%S')}z",
        private_ip=f"{cl.ip_prefix}{4 + (serial - 1) % 250}",
        state=state,
        since=t,
    )
    if state == "preparing":
        node.ready_at = t + rng.randint(120, 420 if gpu else 240)
    if state == "running":
        node.run_id = _run_id(rng)
    cl.nodes.append(node)
    return node


def _run_id(rng: random.Random) -> str:
    return _uuid(rng)


def node_json(cl: Cluster, node: Node) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nodeId": node.node_id,
        "privateIpAddress": node.private_ip,
        "publicIpAddress": cl.public_ip,
        "port": 50000 + node.serial - 1,
        "nodeState": node.state,
    }
    if node.run_id:
        body["runId"] = node.run_id
    return body


def _demand(estate: Estate, cl: Cluster, t: float, max_nodes: int) -> int:
    fn = estate.area_state.get("jobs_demand")
    if callable(fn):
        return max(0, int(fn(cl.id.lower())))
    window = int(t // DEMAND_WINDOW_S)
    r = random.Random(f"{estate.seed}:compute-demand:{cl.id.lower()}:{window}")
    if r.random() >= cl.busy:
        return 0
    return r.randint(1, max(1, max_nodes))


def _step(
    estate: Estate,
    cl: Cluster,
    res: dict[str, Any],
    t: float,
    rng: random.Random,
    *,
    dynamic: bool = True,
    demand: int | None = None,
) -> None:
    """Advance one cluster to simulated time ``t``; ``dynamic`` False only reconciles with demand/settings.

    ``demand`` is the jobs area's figure for now, when the caller already has it."""
    p = _props(res)
    scale = p.get("scaleSettings") or {}
    lo, hi = int(scale.get("minNodeCount") or 0), int(scale.get("maxNodeCount") or 0)
    idle_s = parse_duration(str(scale.get("nodeIdleTimeBeforeScaleDown") or "PT2M")) or 120.0
    low_priority = p.get("vmPriority") == "LowPriority"
    size = catalog.SIZES_BY_NAME.get(str(p.get("vmSize", "")).lower())
    gpu = bool(size and size.gpus)

    if dynamic:
        kept: list[Node] = []
        for n in cl.nodes:
            if n.state == "preparing" and t >= n.ready_at:
                n.state, n.since = "idle", n.ready_at
            elif n.state == "leaving" and t - n.since >= LEAVE_S:
                continue
            elif n.state == "preempted" and t - n.since >= PREEMPTED_LINGER_S:
                continue
            elif n.state == "unusable" and t - n.since >= UNUSABLE_S:
                n.state, n.since = "leaving", t
            kept.append(n)
        cl.nodes = kept
        for n in cl.nodes:
            if n.state in ("idle", "running"):
                draw = rng.random()
                if low_priority and draw < PREEMPT_P:
                    n.state, n.since, n.run_id = "preempted", t, None
                elif not low_priority and draw < UNUSABLE_P:
                    n.state, n.since, n.run_id = "unusable", t, None

    want = min(_demand(estate, cl, t, hi) if demand is None else demand, hi)
    running = [n for n in cl.nodes if n.state == "running"]
    idle = [n for n in cl.nodes if n.state == "idle"]
    if len(running) > want:
        for n in sorted(running, key=lambda n: -n.serial)[: len(running) - want]:
            n.state, n.since, n.run_id = "idle", t, None
    elif len(running) < want:
        for n in sorted(idle, key=lambda n: n.serial)[: want - len(running)]:
            n.state, n.since, n.run_id = "running", t, _run_id(rng)

    active = [n for n in cl.nodes if n.state in ("preparing", "idle", "running")]
    allocated = [n for n in cl.nodes if n.state != "preempted"]
    goal = max(want, lo)
    if len(active) < goal:
        for _ in range(min(goal - len(active), hi - len(allocated))):
            _new_node(estate, cl, "preparing", t, rng, gpu)
    else:
        # Idle nodes leave after the idle timeout, at once when the cluster is above maxNodeCount
        # (after a scale-settings update), and then nodes still preparing are cancelled.
        surplus = len(active) - goal
        for n in sorted((n for n in cl.nodes if n.state == "idle"), key=lambda n: -n.serial):
            if surplus <= 0:
                break
            if t - n.since >= idle_s or len(active) > hi:
                n.state, n.since = "leaving", t
                surplus -= 1
                active.remove(n)
        for n in sorted((n for n in active if n.state == "preparing"), key=lambda n: -n.serial):
            if len(active) <= hi:
                break
            n.state, n.since = "leaving", t
            active.remove(n)
    _publish(estate, cl, res, t)


def _publish(estate: Estate, cl: Cluster, res: dict[str, Any], t: float) -> None:
    p = _props(res)
    counts = {_COUNT_KEY[s]: 0 for s in NODE_STATES}
    for n in cl.nodes:
        counts[_COUNT_KEY[n.state]] += 1
    current = sum(1 for n in cl.nodes if n.state != "preempted")
    target = sum(1 for n in cl.nodes if n.state in ("preparing", "idle", "running"))
    state = "Resizing" if current != target or counts["preparingNodeCount"] else "Steady"
    p["nodeStateCounts"] = counts
    p["currentNodeCount"] = current
    p["targetNodeCount"] = target
    if p.get("allocationState") != state:
        p["allocationState"] = state
        p["allocationStateTransitionTime"] = _at(estate, t)


def _tick(estate: Estate) -> None:
    st = _state(estate)
    now = estate.clock.elapsed()
    target_step = int(now // STEP_S)
    jobs_demand = callable(estate.area_state.get("jobs_demand"))
    for cid, cl in list(st.clusters.items()):
        res = estate.resources.get(cid)
        if res is None:
            del st.clusters[cid]
            continue
        if res["properties"].get("provisioningState") in ("Creating", "Deleting"):
            continue
        if not cl.reconciled and jobs_demand:
            cl.reconciled = True
            _step(estate, cl, res, cl.last_step * STEP_S, _step_rng(estate, cl, -1), dynamic=False)
        first = max(cl.last_step + 1, target_step - MAX_CATCHUP_STEPS + 1)
        # The jobs area only knows its demand for now: ask once and use it for the steps being caught up.
        now_demand = _demand(estate, cl, now, 0) if jobs_demand and first <= target_step else None
        for step in range(first, target_step + 1):
            _step(estate, cl, res, step * STEP_S, _step_rng(estate, cl, step), demand=now_demand)
        cl.last_step = max(cl.last_step, target_step)
    for cid, last in list(st.activity.items()):
        res = estate.resources.get(cid)
        if res is None:
            del st.activity[cid]
            continue
        p = _props(res)
        limit = parse_duration(str(p.get("idleTimeBeforeShutdown") or ""))
        if p.get("state") == "Running" and limit and now - last >= limit:
            p["state"] = "Stopped"
            p["connectivityEndpoints"]["publicIpAddress"] = None
            p["lastOperation"] = _last_op(estate, "Stop", last + limit, "Succeeded", "IdleShutdown")


def _step_rng(estate: Estate, cl: Cluster, step: int) -> random.Random:
    return random.Random(f"{estate.seed}:compute:{cl.id.lower()}:{step}")


def _last_op(estate: Estate, name: str, t: float, status: str, trigger: str = "User") -> dict[str, Any]:
    return {
        "operationName": name,
        "operationTime": _at(estate, t),
        "operationStatus": status,
        "operationTrigger": trigger,
    }


# -- generation ---------------------------------------------------------------------------------------


def _base(
    estate: Estate,
    ws: dict[str, Any],
    name: str,
    compute_type: str,
    location: str,
    description: str | None,
    created_by: str,
    age_days: float,
) -> dict[str, Any]:
    created = iso(estate.clock.start - dt.timedelta(days=age_days))
    return {
        "id": f"{ws['id']}/computes/{name}",
        "name": name,
        "type": COMPUTE_TYPE,
        "location": location,
        "tags": {},
        "systemData": estate.system_data(created_by, age_days=age_days),
        "properties": {
            "computeType": compute_type,
            "computeLocation": location,
            "description": description,
            "resourceId": None,
            "provisioningState": "Succeeded",
            "provisioningErrors": None,
            "createdOn": created,
            "modifiedOn": created,
            "isAttachedCompute": False,
            "disableLocalAuth": True,
            "properties": {},
        },
    }


def _cluster_props(
    size: str, priority: str, lo: int, hi: int, idle: str, ssh: str = "Disabled", os_type: str = "Linux"
) -> dict[str, Any]:
    return {
        "osType": os_type,
        "vmSize": size,
        "vmPriority": priority,
        "virtualMachineImage": None,
        "isolatedNetwork": False,
        "subnet": None,
        "scaleSettings": {"minNodeCount": lo, "maxNodeCount": hi, "nodeIdleTimeBeforeScaleDown": idle},
        "userAccountCredentials": None,
        "remoteLoginPortPublicAccess": ssh,
        "allocationState": "Steady",
        "allocationStateTransitionTime": None,
        "errors": None,
        "currentNodeCount": 0,
        "targetNodeCount": 0,
        "nodeStateCounts": {_COUNT_KEY[s]: 0 for s in NODE_STATES},
        "enableNodePublicIp": True,
        "propertyBag": None,
    }


def _new_cluster(estate: Estate, res: dict[str, Any], rng: random.Random, busy: float) -> Cluster:
    cl = Cluster(
        id=res["id"],
        pool=rng.randint(1_000_000_000, 4_000_000_000),
        ip_prefix=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.",
        public_ip=f"20.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        busy=busy,
        last_step=int(estate.clock.elapsed() // STEP_S),
    )
    _state(estate).clusters[res["id"].lower()] = cl
    return cl


def _seed_nodes(estate: Estate, cl: Cluster, res: dict[str, Any], rng: random.Random) -> None:
    """A lived-in starting point at t=0: nodes running, idle, preparing, leaving (and preempted if low-pri)."""
    p = _props(res)
    lo, hi = p["scaleSettings"]["minNodeCount"], p["scaleSettings"]["maxNodeCount"]
    idle_s = parse_duration(p["scaleSettings"]["nodeIdleTimeBeforeScaleDown"]) or 120.0
    size = catalog.SIZES_BY_NAME[p["vmSize"].lower()]
    gpu = size.gpus > 0
    running = max(0, min(hi - 1, round(cl.busy * hi * rng.uniform(0.5, 1.1))))
    idle = min(rng.randint(0, 2), hi - running)
    preparing = min(rng.randint(0, 1), hi - running - idle)
    leaving = min(rng.randint(0, 1), hi - running - idle - preparing)
    while running + idle + preparing < lo:
        idle += 1
    plan = ["running"] * running + ["idle"] * idle + ["preparing"] * preparing + ["leaving"] * leaving
    if p["vmPriority"] == "LowPriority":
        plan += ["preempted"] * rng.randint(1, 2)
    for state in plan:
        age = {
            "running": rng.randint(300, 3 * 3600),
            "idle": rng.randint(0, int(idle_s * 0.8)),
            "preparing": rng.randint(10, 60),
            "leaving": rng.randint(5, 40),
            "preempted": rng.randint(30, 200),
        }[state]
        node = _new_node(estate, cl, state, -float(age), rng, gpu)
        if state == "preparing":
            node.ready_at = rng.randint(60, 300)
    _publish(estate, cl, res, 0.0)
    p["allocationStateTransitionTime"] = _at(estate, -float(rng.randint(60, 900)))


def _ci_props(
    estate: Estate,
    name: str,
    location: str,
    size: str,
    state: str,
    user: tuple[str, str, str],
    idle: str | None,
    ssh: bool,
    rng: random.Random,
) -> dict[str, Any]:
    login, _display, oid = user
    running = state in _CI_ALLOCATED
    host = f"{name}.{location}.instances.azureml.ms"
    return {
        "vmSize": size,
        "subnet": None,
        "applicationSharingPolicy": "Personal",
        "sshSettings": {
            "sshPublicAccess": "Enabled" if ssh else "Disabled",
            "adminUserName": "azureuser",
            "sshPort": 50000 if ssh else None,
            "adminPublicKey": None,
        },
        "customServices": None,
        "osImageMetadata": {
            "currentImageVersion": rng.choice(["25.08.25", "25.09.22", "25.10.27"]),
            "latestImageVersion": "25.10.27",
            "isLatestOsImageVersion": False,
        },
        "connectivityEndpoints": {
            "publicIpAddress": _ip(rng, "20") if running else None,
            "privateIpAddress": _ip(rng, "10"),
        },
        "applications": [
            {"displayName": "Jupyter", "endpointUri": f"https://{host}/tree/"},
            {"displayName": "Jupyter Lab", "endpointUri": f"https://{host}/lab"},
            {"displayName": "VS Code (Web)", "endpointUri": f"https://{host}/vscode"},
            {"displayName": "Terminal", "endpointUri": f"https://{host}/terminal"},
        ],
        "createdBy": {"userName": f"{login}@contoso.example", "userOrgId": estate.tenant_id, "userId": oid},
        "errors": None,
        "state": state,
        "computeInstanceAuthorizationType": "personal",
        "enableSso": True,
        "personalComputeInstanceSettings": {"assignedUser": {"objectId": oid, "tenantId": estate.tenant_id}},
        "setupScripts": None,
        "lastOperation": None,
        "schedules": {"computeStartStop": []},
        "idleTimeBeforeShutdown": idle,
        "enableNodePublicIp": True,
        "enableRootAccess": True,
        "releaseQuotaOnStop": False,
        "enableOSPatching": False,
        "containers": None,
        "dataDisks": None,
        "dataMounts": [],
        "versions": {"runtime": "1.0.1"},
    }


def _ip(rng: random.Random, first: str) -> str:
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(4, 254)}"


def populate(estate: Estate) -> None:
    rng = estate.area_rng("compute")
    st = _state(estate)
    users = [(login, display, str(_uuid(rng))) for login, display in _USERS]
    for i, ws in enumerate(estate.workspaces()):
        loc = ws["location"]
        purpose = ws.get("tags", {}).get("purpose", "development")
        prod = purpose == "production"
        owner = "ops@contoso.example"
        specs: list[tuple[str, str, str, int, int, str, float, str]] = [
            # name, size, priority, min, max, idle, busy share, description
            (
                "cpu-cluster",
                "Standard_D4s_v3" if prod else "Standard_DS3_v2",
                "Dedicated",
                1 if prod else 0,
                rng.choice([8, 10, 12]) if prod else rng.choice([4, 6]),
                "PT2M" if not prod else "PT10M",
                0.75 if prod else 0.45,
                "General-purpose CPU training cluster",
            ),
            (
                "gpu-t4",
                "Standard_NC4as_T4_v3",
                "LowPriority",
                0,
                rng.choice([6, 8]),
                "PT10M",
                0.55,
                "Low-priority T4 cluster for experiments",
            ),
        ]
        if purpose != "development":
            specs.append(
                ("gpu-a100", "Standard_NC24ads_A100_v4", "Dedicated", 0, 4, "PT30M", 0.5, "A100 training cluster")
            )
        if purpose == "research":
            big = "Standard_NC40ads_H100_v5"
            if catalog.size_in_region(big, loc):
                specs.append(("gpu-h100", big, "Dedicated", 0, 2, "PT15M", 0.35, "H100 cluster for LLM fine-tuning"))
            specs.append(
                ("cpu-highmem", "Standard_E16s_v3", "Dedicated", 0, 4, "PT5M", 0.3, "Memory-optimised data prep")
            )
        for name, size, prio, lo, hi, scale_down, busy, desc in specs:
            if not catalog.size_in_region(size, loc):
                continue
            res = _base(estate, ws, name, "AmlCompute", loc, desc, owner, age_days=rng.randint(40, 300))
            res["properties"]["properties"] = _cluster_props(size, prio, lo, hi, scale_down)
            estate.put(res)
            cl = _new_cluster(estate, res, rng, busy)
            _seed_nodes(estate, cl, res, rng)
        # Compute instances: a few users each; the first Running, the last Stopped.
        n_ci = rng.randint(2, 4)
        start = (i * 3) % len(users)
        for k in range(n_ci):
            user = users[(start + k) % len(users)]
            name = f"ci-{user[0]}"
            ci_sizes = ["Standard_DS11_v2", "Standard_D4s_v3", "Standard_DS12_v2"]
            if k == 1:
                ci_sizes = ["Standard_NC4as_T4_v3"]
            size = rng.choice(ci_sizes)
            state = "Running" if k == 0 else "Stopped" if k == n_ci - 1 else rng.choice(["Running", "Stopped"])
            idle: str | None = rng.choice(["PT60M", "PT120M", None])
            res = _base(
                estate,
                ws,
                name,
                "ComputeInstance",
                loc,
                None,
                f"{user[0]}@contoso.example",
                age_days=rng.randint(5, 200),
            )
            props = _ci_props(estate, name, loc, size, state, user, idle, ssh=k % 2 == 0, rng=rng)
            if state == "Running":
                started = -float(rng.randint(600, 3 * 3600))
                if idle:
                    started = -float(rng.randint(0, int(0.8 * (parse_duration(idle) or 3600))))
                props["lastOperation"] = _last_op(estate, "Start", started, "Succeeded")
                st.activity[res["id"].lower()] = started
            else:
                when = -float(rng.randint(3600, 5 * 86400))
                props["lastOperation"] = _last_op(estate, "Stop", when, "Succeeded", "IdleShutdown" if idle else "User")
            res["properties"]["properties"] = props
            estate.put(res)
        if prod:
            name = "aks-inference"
            res = _base(
                estate,
                ws,
                name,
                "Kubernetes",
                loc,
                "Attached AKS cluster for online inference",
                owner,
                age_days=rng.randint(60, 300),
            )
            rg_id = ws["id"].split("/providers/")[0]
            res["properties"].update(
                {
                    "isAttachedCompute": True,
                    "resourceId": f"{rg_id}/providers/Microsoft.ContainerService/managedClusters/aks-{ws['name']}",
                }
            )
            res["properties"]["properties"] = _kubernetes_props(None)
            estate.put(res)
    _init_quotas(estate)
    estate.tickers.append(_tick)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _kubernetes_props(given: dict[str, Any] | None) -> dict[str, Any]:
    given = given or {}
    return {
        "relayConnectionString": None,
        "serviceBusConnectionString": None,
        "extensionPrincipalId": None,
        "extensionInstanceReleaseTrain": given.get("extensionInstanceReleaseTrain", "stable"),
        "vcName": None,
        "namespace": given.get("namespace") or "default",
        "defaultInstanceType": given.get("defaultInstanceType") or "defaultinstancetype",
        "instanceTypes": given.get("instanceTypes")
        or {
            "defaultinstancetype": {
                "nodeSelector": None,
                "resources": {
                    "requests": {"cpu": "1", "memory": "4Gi", "nvidia.com/gpu": None},
                    "limits": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": None},
                },
            }
        },
    }


# -- quotas and usages ----------------------------------------------------------------------------------


def _limits(estate: Estate, sub: str, loc: str) -> dict[str, int]:
    st = _state(estate)
    key = (sub.lower(), loc.lower())
    if key not in st.quotas:
        r = random.Random(f"{estate.seed}:compute-quota:{key[0]}:{key[1]}")
        limits = {}
        for fam in catalog.FAMILIES.values():
            limits[fam.key] = fam.default_limit * r.choice([1, 1, 2]) if fam.default_limit else 0
        limits["__dedicated__"] = 600 * r.choice([1, 2])
        limits["__lowpriority__"] = 200 * r.choice([1, 2])
        limits["__clusters__"] = 200
        st.quotas[key] = limits
    return st.quotas[key]


def _init_quotas(estate: Estate) -> None:
    """Raise the defaults so every generated cluster fits its quota at full scale."""
    need: dict[tuple[str, str], dict[str, int]] = {}
    for res in estate.of_type(COMPUTE_TYPE):
        p = _props(res)
        size = catalog.SIZES_BY_NAME.get(str(p.get("vmSize", "")).lower())
        if size is None:
            continue
        sub, loc = res["id"].split("/")[2], _compute_location(res)
        nodes = int((p.get("scaleSettings") or {}).get("maxNodeCount") or 1)
        tier = "__lowpriority__" if p.get("vmPriority") == "LowPriority" else "__dedicated__"
        acc = need.setdefault((sub, loc), {})
        if tier == "__dedicated__":
            acc[size.family] = acc.get(size.family, 0) + size.vcpus * nodes
        acc[tier] = acc.get(tier, 0) + size.vcpus * nodes
    for (sub, loc), acc in need.items():
        limits = _limits(estate, sub, loc)
        for k, v in acc.items():
            if limits.get(k, 0) < v:
                limits[k] = -(-v // 24) * 24


def usage_by(estate: Estate, sub: str, loc: str) -> dict[tuple[str, str, str], int]:
    """vCPUs in use: (tier, family key, compute id) → vCPUs, for one subscription and region."""
    out: dict[tuple[str, str, str], int] = {}
    prefix = f"/subscriptions/{sub}/".lower()
    for res in estate.of_type(COMPUTE_TYPE):
        if not res["id"].lower().startswith(prefix) or _compute_location(res).lower() != loc.lower():
            continue
        p = _props(res)
        size = catalog.SIZES_BY_NAME.get(str(p.get("vmSize", "")).lower())
        if size is None:
            continue
        kind = res["properties"].get("computeType")
        if kind == "AmlCompute":
            tier = "LowPriority" if p.get("vmPriority") == "LowPriority" else "Dedicated"
            used = size.vcpus * int(p.get("currentNodeCount") or 0)
        elif kind == "ComputeInstance":
            tier, used = "Dedicated", size.vcpus if p.get("state") in _CI_ALLOCATED else 0
        else:
            continue
        out[(tier, size.family, res["id"])] = used
    return out


def _usage_entry(rid: str, rtype: str, name: str, current: int, limit: int, loc: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rid,
        "type": rtype,
        "unit": "Count",
        "currentValue": current,
        "limit": limit,
        "name": {"value": name, "localizedValue": name},
    }
    if loc:
        body["amlWorkspaceLocation"] = loc
    return body


def usages(estate: Estate, sub: str, loc: str) -> list[dict[str, Any]]:
    limits = _limits(estate, sub, loc)
    used = usage_by(estate, sub, loc)
    base = f"/subscriptions/{sub}"
    offered = {s.family for s in catalog.offered(loc)}
    clusters = sum(
        1
        for r in estate.of_type(COMPUTE_TYPE)
        if r["id"].lower().startswith(base.lower() + "/")
        and _compute_location(r).lower() == loc.lower()
        and r["properties"].get("computeType") == "AmlCompute"
    )
    out = [
        _usage_entry(f"{base}/usages", f"{ML}/totalCores/usages", "Clusters", clusters, limits["__clusters__"], None)
    ]
    for tier, total_key, total_name, total_type in (
        ("Dedicated", "__dedicated__", "Total Cluster Dedicated Regional vCPUs", "dedicatedCores"),
        ("LowPriority", "__lowpriority__", "Total Cluster LowPriority Regional vCPUs", "lowPriorityCores"),
    ):
        tier_total = sum(v for (t, _f, _c), v in used.items() if t == tier)
        out.append(
            _usage_entry(f"{base}/usages", f"{ML}/{total_type}/usages", total_name, tier_total, limits[total_key], None)
        )
        for fam in catalog.FAMILIES.values():
            if fam.key not in offered:
                continue
            fam_used = {c: v for (t, f, c), v in used.items() if t == tier and f == fam.key}
            limit = limits.get(fam.key, 0) if tier == "Dedicated" else -1
            out.append(
                _usage_entry(
                    f"{base}/usages/{fam.usage_key(tier)}",
                    f"{ML}/vmFamily/usages",
                    fam.usage_name(tier),
                    sum(fam_used.values()),
                    limit,
                    None,
                )
            )
            by_ws: dict[str, int] = {}
            for cid, v in fam_used.items():
                wid = cid.rsplit("/computes/", 1)[0]
                by_ws[wid] = by_ws.get(wid, 0) + v
            for wid in sorted(by_ws):
                out.append(
                    _usage_entry(
                        f"{wid}/usages/{fam.usage_key(tier)}",
                        f"{ML}/workspaces/usages",
                        fam.usage_name(tier),
                        by_ws[wid],
                        limit,
                        loc,
                    )
                )
                for cid in sorted(c for c in fam_used if c.startswith(wid + "/")):
                    out.append(
                        _usage_entry(
                            f"{cid}/usages/{fam.usage_key(tier)}",
                            f"{ML}/workspaces/computes/usages",
                            fam.usage_name(tier),
                            fam_used[cid],
                            limit,
                            loc,
                        )
                    )
    return out


def quotas(estate: Estate, sub: str, loc: str) -> list[dict[str, Any]]:
    limits = _limits(estate, sub, loc)
    offered = {s.family for s in catalog.offered(loc)}
    prefix = f"/subscriptions/{sub}/".lower()
    ws_ids = [w["id"] for w in estate.workspaces() if w["id"].lower().startswith(prefix) and w["location"] == loc]
    out: list[dict[str, Any]] = []
    for fam in catalog.FAMILIES.values():
        if fam.key not in offered:
            continue
        name = fam.usage_name("Dedicated")
        entry = {
            "id": f"/subscriptions/{sub}/quotas/{fam.usage_key('Dedicated')}",
            "type": f"{ML}/vmFamily/quotas",
            "limit": limits.get(fam.key, 0),
            "name": {"value": name, "localizedValue": name},
            "unit": "Count",
        }
        out.append(entry)
        for wid in ws_ids:
            out.append(
                {
                    "id": f"{wid}/quotas/{fam.usage_key('Dedicated')}",
                    "type": f"{ML}/workspaces/quotas",
                    "limit": limits.get(fam.key, 0),
                    "amlWorkspaceLocation": loc,
                    "name": {"value": name, "localizedValue": name},
                    "unit": "Count",
                }
            )
    return out


# -- validation --------------------------------------------------------------------------------------


def _validate_name(name: str, compute_type: str) -> None:
    if compute_type == "ComputeInstance":
        if not _INSTANCE_NAME.match(name):
            raise bad_request(
                f"Compute instance name '{name}' is invalid. It can include letters, digits and dashes. It must "
                "start with a letter, end with a letter or digit, and be between 3 and 24 characters in length.",
                "InvalidComputeName",
                target="name",
            )
    elif not _CLUSTER_NAME.match(name):
        raise bad_request(
            f"Compute name '{name}' is invalid. It can include letters, digits and dashes. It must start with "
            "a letter, end with a letter or digit, and be between 2 and 16 characters in length.",
            "InvalidComputeName",
            target="name",
        )


def _validate_size(size_name: str, loc: str, compute_type: str) -> catalog.VmSize:
    size = catalog.SIZES_BY_NAME.get(size_name.lower())
    if size is None:
        raise bad_request(
            f"The specified VM size '{size_name}' is not a valid Azure Machine Learning VM size. Use the "
            "vmSizes API to list the sizes available in a region.",
            "InvalidVmSize",
            target="properties.properties.vmSize",
        )
    if catalog.size_in_region(size.name, loc) is None:
        raise bad_request(
            f"The specified VM size '{size.name}' is not available in region '{loc}'. Use the vmSizes API to "
            "list the sizes available in a region.",
            "VmSizeNotAvailableInRegion",
            target="properties.properties.vmSize",
        )
    if compute_type not in size.types:
        raise bad_request(
            f"The VM size '{size.name}' is not supported for compute type '{compute_type}'.",
            "VmSizeNotSupportedForComputeType",
            target="properties.properties.vmSize",
        )
    return size


def _validate_scale(scale: Any) -> dict[str, Any]:
    if not isinstance(scale, dict) or scale.get("maxNodeCount") is None:
        raise bad_request(
            "scaleSettings.maxNodeCount is required for AmlCompute.",
            "InvalidScaleSettings",
            target="properties.properties.scaleSettings",
        )
    try:
        lo, hi = int(scale.get("minNodeCount") or 0), int(scale["maxNodeCount"])
    except (TypeError, ValueError) as e:
        raise bad_request(f"scaleSettings node counts must be integers: {e}", "InvalidScaleSettings") from e
    if lo < 0 or hi < 0:
        raise bad_request(
            "scaleSettings node counts cannot be negative.",
            "InvalidScaleSettings",
            target="properties.properties.scaleSettings",
        )
    if lo > hi:
        raise bad_request(
            f"The minimum number of nodes (minNodeCount = {lo}) cannot be greater than the maximum number of "
            f"nodes (maxNodeCount = {hi}).",
            "InvalidScaleSettings",
            target="properties.properties.scaleSettings",
        )
    idle = scale.get("nodeIdleTimeBeforeScaleDown") or "PT2M"
    if parse_duration(str(idle)) is None:
        raise bad_request(
            f"nodeIdleTimeBeforeScaleDown '{idle}' is not an ISO-8601 duration.",
            "InvalidScaleSettings",
            target="properties.properties.scaleSettings",
        )
    return {"minNodeCount": lo, "maxNodeCount": hi, "nodeIdleTimeBeforeScaleDown": str(idle)}


# -- routes -----------------------------------------------------------------------------------------------


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate

    def compute_id(sub: str, rg: str, ws: str, name: str) -> str:
        return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{WORKSPACE_TYPE}/{ws}/computes/{name}"

    def find(sub: str, rg: str, ws: str, name: str) -> dict[str, Any]:
        find_workspace(estate, sub, rg, ws)
        res = estate.get(compute_id(sub, rg, ws, name))
        if res is None or res.get("type", "").lower() != COMPUTE_TYPE.lower():
            raise ApiError(
                404,
                "ResourceNotFound",
                f"The Resource '{WORKSPACE_TYPE}/{ws}/computes/{name}' under resource group '{rg}' was not "
                "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        return res

    def render(res: dict[str, Any]) -> dict[str, Any]:
        return estate.snapshot(res)

    def check_sub(sub: str) -> None:
        if estate.subscription(sub) is None:
            raise ApiError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")

    def busy_guard(res: dict[str, Any]) -> None:
        state = res["properties"].get("provisioningState")
        if state in _TRANSITIONAL:
            raise conflict(
                f"Compute '{res['name']}' is in provisioning state '{state}'; wait for the operation to finish.",
                "OperationInProgress",
            )

    # -- reads

    def list_computes(req: Request, sub: str, rg: str, ws: str) -> Response:
        w = find_workspace(estate, sub, rg, ws)
        items = sorted(estate.children(w["id"], "computes"), key=lambda r: r["name"].lower())
        return page(req, [render(r) for r in items])

    def get_compute(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        return Response(200, render(find(sub, rg, ws, name)))

    def list_nodes(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        res = find(sub, rg, ws, name)
        if res["properties"].get("computeType") != "AmlCompute":
            raise bad_request(
                f"listNodes is only supported for AmlCompute; '{name}' is {res['properties'].get('computeType')}.",
                "OperationNotSupported",
            )
        try:
            skip = int(req.q("$skipToken") or 0)
        except ValueError as e:
            raise bad_request(f"Invalid $skipToken: {e}", "InvalidQueryParameterValue") from e
        with estate.lock:
            cl = _state(estate).clusters.get(res["id"].lower())
            nodes = [node_json(cl, n) for n in sorted(cl.nodes, key=lambda n: n.serial)] if cl else []
        body: dict[str, Any] = {"nodes": nodes[skip : skip + NODES_PAGE], "nextLink": None}
        if skip + NODES_PAGE < len(nodes):
            body["nextLink"] = req.url(
                req.path,
                **{"api-version": req.q("api-version") or "2025-12-01", "$skipToken": str(skip + NODES_PAGE)},
            )
        return Response(200, body)

    def list_keys(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        res = find(sub, rg, ws, name)
        kind = res["properties"].get("computeType")
        raise bad_request(f"Compute '{name}' of type '{kind}' has no keys to list.", "OperationNotSupported")

    # -- create / update / delete

    def put_compute(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        w = find_workspace(estate, sub, rg, ws)
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise bad_request("The request body must contain 'properties'.", "InvalidRequestContent")
        outer = body["properties"]
        kind = outer.get("computeType")
        if kind not in ("AmlCompute", "ComputeInstance", "Kubernetes"):
            raise bad_request(
                f"Compute type '{kind}' is not supported by this emulator; use AmlCompute, ComputeInstance or "
                "Kubernetes.",
                "InvalidComputeType",
                target="properties.computeType",
            )
        inner = outer.get("properties") or {}
        cid = compute_id(sub, rg, w["name"], name)
        with estate.lock:
            existing = estate.get(cid)
            if existing is not None:
                busy_guard(existing)
                if existing["properties"].get("computeType") != kind:
                    raise conflict(
                        f"Compute '{name}' already exists in workspace '{w['name']}' with type "
                        f"'{existing['properties'].get('computeType')}'.",
                        "ComputeAlreadyExists",
                    )
                if kind != "AmlCompute":
                    raise conflict(
                        f"Compute '{name}' already exists in workspace '{w['name']}'; only AmlCompute scale "
                        "settings can be updated.",
                        "ComputeAlreadyExists",
                    )
                return update_cluster(req, existing, inner, body, status=200)
            _validate_name(name, kind)
            loc = str(body.get("location") or w["location"]) if kind == "AmlCompute" else w["location"]
            if not catalog.known_region(loc):
                raise bad_request(
                    f"The location '{loc}' is not available for Azure Machine Learning compute.",
                    "LocationNotAvailableForResourceType",
                )
            caller = req.caller
            res = _base(
                estate,
                w,
                name,
                kind,
                loc,
                outer.get("description"),
                str(caller.get("upn") or "ops@contoso.example"),
                age_days=0,
            )
            res["systemData"] = _fresh_system_data(estate, caller)
            res["tags"] = body.get("tags") or {}
            res["properties"]["createdOn"] = res["properties"]["modifiedOn"] = estate.now_iso()
            res["properties"]["provisioningState"] = "Creating"
            res["properties"]["disableLocalAuth"] = bool(outer.get("disableLocalAuth", True))
            if kind == "AmlCompute":
                size = _validate_size(str(inner.get("vmSize") or "Standard_DS3_v2"), loc, kind)
                prio = str(inner.get("vmPriority") or "Dedicated")
                if prio not in ("Dedicated", "LowPriority"):
                    raise bad_request(
                        f"vmPriority '{prio}' is invalid; use Dedicated or LowPriority.",
                        "InvalidVmPriority",
                        target="properties.properties.vmPriority",
                    )
                if prio == "LowPriority" and not size.low_priority:
                    raise bad_request(
                        f"The VM size '{size.name}' cannot be used with LowPriority.",
                        "InvalidVmPriority",
                        target="properties.properties.vmPriority",
                    )
                scale = _validate_scale(inner.get("scaleSettings"))
                ssh = str(inner.get("remoteLoginPortPublicAccess") or "NotSpecified")
                props = _cluster_props(
                    size.name,
                    prio,
                    scale["minNodeCount"],
                    scale["maxNodeCount"],
                    scale["nodeIdleTimeBeforeScaleDown"],
                    ssh,
                    str(inner.get("osType") or "Linux"),
                )
                props["enableNodePublicIp"] = inner.get("enableNodePublicIp", True) is not False
                if inner.get("subnet"):
                    props["subnet"] = inner["subnet"]
                res["properties"]["properties"] = props
            elif kind == "ComputeInstance":
                size = _validate_size(str(inner.get("vmSize") or "Standard_DS3_v2"), loc, kind)
                idle = inner.get("idleTimeBeforeShutdown")
                if idle is not None and parse_duration(str(idle)) is None:
                    raise bad_request(
                        f"idleTimeBeforeShutdown '{idle}' is not an ISO-8601 duration.",
                        "InvalidIdleTime",
                        target="properties.properties.idleTimeBeforeShutdown",
                    )
                assigned = (inner.get("personalComputeInstanceSettings") or {}).get("assignedUser") or {}
                oid = str(assigned.get("objectId") or caller.get("oid") or _uuid(random.Random(name)))
                login = str(caller.get("upn") or "ops@contoso.example").split("@")[0]
                rng = random.Random(f"{estate.seed}:compute-new:{cid.lower()}")
                ssh_in = inner.get("sshSettings") or {}
                props = _ci_props(
                    estate,
                    name,
                    loc,
                    size.name,
                    "Creating",
                    (login, login, oid),
                    idle,
                    ssh_in.get("sshPublicAccess") == "Enabled",
                    rng,
                )
                props["createdBy"]["userName"] = str(caller.get("upn") or "ops@contoso.example")
                props["personalComputeInstanceSettings"]["assignedUser"]["tenantId"] = str(
                    assigned.get("tenantId") or estate.tenant_id
                )
                props["sshSettings"]["adminPublicKey"] = ssh_in.get("adminPublicKey")
                props["connectivityEndpoints"]["publicIpAddress"] = None
                props["lastOperation"] = _last_op(estate, "Create", estate.clock.elapsed(), "InProgress")
                for key in (
                    "enableSso",
                    "enableRootAccess",
                    "releaseQuotaOnStop",
                    "enableOSPatching",
                    "schedules",
                    "setupScripts",
                    "customServices",
                ):
                    if inner.get(key) is not None:
                        props[key] = inner[key]
                if inner.get("subnet"):
                    props["subnet"] = inner["subnet"]
                res["properties"]["properties"] = props
            else:
                if not outer.get("resourceId"):
                    raise bad_request(
                        "Attaching a Kubernetes compute requires properties.resourceId.",
                        "InvalidResourceId",
                        target="properties.resourceId",
                    )
                res["properties"]["isAttachedCompute"] = True
                res["properties"]["resourceId"] = outer["resourceId"]
                res["properties"]["properties"] = _kubernetes_props(inner)
            if body.get("identity"):
                res["identity"] = body["identity"]
            estate.put(res)
            answer = render(res)

        def finish() -> dict[str, Any]:
            with estate.lock:
                cur = estate.get(cid)
                if cur is None:
                    raise ApiError(404, "ResourceNotFound", f"Compute '{name}' was deleted during creation.")
                cur["properties"]["provisioningState"] = "Succeeded"
                t = estate.clock.elapsed()
                if kind == "AmlCompute":
                    # No phantom work on a new cluster: without the jobs area's demand it holds minNodeCount.
                    cl = _new_cluster(estate, cur, random.Random(f"{estate.seed}:compute-new:{cid.lower()}"), 0.0)
                    _step(estate, cl, cur, t, _step_rng(estate, cl, -2), dynamic=False)
                elif kind == "ComputeInstance":
                    p = _props(cur)
                    p["state"] = "Running"
                    p["connectivityEndpoints"]["publicIpAddress"] = _ip(random.Random(cid.lower()), "20")
                    p["lastOperation"] = _last_op(estate, "Create", t, "Succeeded")
                    _state(estate).activity[cid.lower()] = t
                return estate.snapshot(cur)

        op = emu.ops.start("Compute.Create", sub, w["location"], finish)
        return emu.ops.accepted(req, op, status=201, body=answer)

    def update_cluster(
        req: Request, res: dict[str, Any], inner: dict[str, Any], body: dict[str, Any], status: int
    ) -> Response:
        """Scale-settings update (PUT on an existing cluster or PATCH); called with estate.lock held."""
        p = _props(res)
        if inner.get("vmSize") and str(inner["vmSize"]).lower() != str(p["vmSize"]).lower():
            raise bad_request(
                f"The VM size of compute '{res['name']}' cannot be changed (from '{p['vmSize']}' to "
                f"'{inner['vmSize']}'); create a new compute instead.",
                "PropertyChangeNotAllowed",
                target="properties.properties.vmSize",
            )
        if inner.get("vmPriority") and inner["vmPriority"] != p["vmPriority"]:
            raise bad_request(
                f"The VM priority of compute '{res['name']}' cannot be changed.",
                "PropertyChangeNotAllowed",
                target="properties.properties.vmPriority",
            )
        scale = p["scaleSettings"]
        if inner.get("scaleSettings") is not None:
            merged = {**scale, **{k: v for k, v in inner["scaleSettings"].items() if v is not None}}
            scale = _validate_scale(merged)
        description = (body.get("properties") or {}).get("description")
        tags = body.get("tags")
        res["properties"]["provisioningState"] = "Updating"
        answer = estate.snapshot(res)
        rid, name = res["id"], res["name"]
        sub, loc = rid.split("/")[2], res["location"]

        def finish() -> dict[str, Any]:
            with estate.lock:
                cur = estate.get(rid)
                if cur is None:
                    raise ApiError(404, "ResourceNotFound", f"Compute '{name}' was deleted during the update.")
                cp = _props(cur)
                cp["scaleSettings"] = scale
                if description is not None:
                    cur["properties"]["description"] = description
                if tags is not None:
                    cur["tags"] = tags
                cur["properties"]["provisioningState"] = "Succeeded"
                cur["properties"]["modifiedOn"] = estate.now_iso()
                cl = _state(estate).clusters.get(rid.lower())
                if cl is not None:
                    _step(estate, cl, cur, estate.clock.elapsed(), _step_rng(estate, cl, -3), dynamic=False)
                return estate.snapshot(cur)

        # Called under estate.lock: start the operation after the lock is released (lock order: ops, estate).
        return _Deferred(req, "Compute.Update", sub, loc, finish, status, answer)

    def patch_compute(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        body = req.json()
        inner = ((body.get("properties") or {}).get("properties") or {}) if isinstance(body, dict) else {}
        with estate.lock:
            res = find(sub, rg, ws, name)
            busy_guard(res)
            if res["properties"].get("computeType") != "AmlCompute":
                raise bad_request("Only AmlCompute scale settings can be updated with PATCH.", "OperationNotSupported")
            deferred = update_cluster(req, res, inner, {"properties": {}, "tags": None}, status=200)
        return deferred

    def delete_compute(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        action = req.q("underlyingResourceAction")
        if (action or "").lower() not in ("delete", "detach"):
            raise bad_request(
                f"underlyingResourceAction must be 'Delete' or 'Detach' (got '{action}').",
                "InvalidQueryParameterValue",
                target="underlyingResourceAction",
            )
        with estate.lock:
            res = find(sub, rg, ws, name)
            busy_guard(res)
            attached = bool(res["properties"].get("isAttachedCompute"))
            if (action or "").lower() == "detach" and not attached:
                raise bad_request(
                    f"Compute '{name}' was created by Azure Machine Learning and cannot be detached; delete it.",
                    "OperationNotSupported",
                )
            res["properties"]["provisioningState"] = "Deleting"
            if res["properties"].get("computeType") == "ComputeInstance":
                _props(res)["state"] = "Deleting"
            rid = res["id"]

        def finish() -> None:
            with estate.lock:
                estate.delete(rid)
                st = _state(estate)
                st.clusters.pop(rid.lower(), None)
                st.activity.pop(rid.lower(), None)

        op = emu.ops.start("Compute.Delete", sub, res["location"], finish)
        return emu.ops.accepted(req, op, status=202)

    # -- compute instance actions

    def ci_action(action: str) -> Callable[..., Response]:
        transitional = {"start": "Starting", "stop": "Stopping", "restart": "Restarting"}[action]
        final = {"start": "Running", "stop": "Stopped", "restart": "Running"}[action]
        allowed_from = {"start": ("Stopped",), "stop": ("Running",), "restart": ("Running",)}[action]

        def handler(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
            with estate.lock:
                res = find(sub, rg, ws, name)
                kind = res["properties"].get("computeType")
                if kind != "ComputeInstance":
                    raise bad_request(
                        f"The '{action}' operation is only supported for ComputeInstance; '{name}' is {kind}.",
                        "OperationNotSupported",
                    )
                busy_guard(res)
                p = _props(res)
                state = p.get("state")
                if state not in allowed_from:
                    raise conflict(
                        f"Cannot {action} compute instance '{name}' while it is {state}.",
                        "ComputeInstanceInvalidState" if state not in _CI_BUSY else "OperationInProgress",
                    )
                p["state"] = transitional
                p["lastOperation"] = _last_op(estate, action.capitalize(), estate.clock.elapsed(), "InProgress")
                rid = res["id"]

            def finish() -> None:
                with estate.lock:
                    cur = estate.get(rid)
                    if cur is None:
                        return
                    cp = _props(cur)
                    t = estate.clock.elapsed()
                    cp["state"] = final
                    ends = cp["connectivityEndpoints"]
                    ends["publicIpAddress"] = (
                        ends.get("publicIpAddress") or _ip(random.Random(f"{rid.lower()}:{t}"), "20")
                        if final == "Running"
                        else None
                    )
                    cp["lastOperation"] = _last_op(estate, action.capitalize(), t, "Succeeded")
                    if final == "Running":
                        _state(estate).activity[rid.lower()] = t

            op = emu.ops.start(f"Compute.{action.capitalize()}", sub, res["location"], finish)
            return emu.ops.accepted(req, op, status=202)

        return handler

    def update_idle_shutdown(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        res = find(sub, rg, ws, name)
        if res["properties"].get("computeType") != "ComputeInstance":
            raise bad_request("Idle shutdown applies to compute instances only.", "OperationNotSupported")
        body = req.json()
        idle = body.get("idleTimeBeforeShutdown") if isinstance(body, dict) else None
        if idle is not None and parse_duration(str(idle)) is None:
            raise bad_request(f"idleTimeBeforeShutdown '{idle}' is not an ISO-8601 duration.", "InvalidIdleTime")
        with estate.lock:
            _props(res)["idleTimeBeforeShutdown"] = idle
        return Response(200, None)

    # -- location-scoped

    def vm_sizes(req: Request, sub: str, loc: str) -> Response:
        check_sub(sub)
        if not catalog.known_region(loc):
            raise bad_request(
                f"The provided location '{loc}' is not available for resource type '{ML}/locations/vmSizes'. "
                f"List of available regions is '{','.join(catalog.REGIONS)}'.",
                "LocationNotAvailableForResourceType",
            )
        return Response(200, {"value": [catalog.size_json(s, loc) for s in catalog.offered(loc)]})

    def list_usages(req: Request, sub: str, loc: str) -> Response:
        check_sub(sub)
        if not catalog.known_region(loc):
            raise bad_request(
                f"The provided location '{loc}' is not available for resource type '{ML}/locations/usages'.",
                "LocationNotAvailableForResourceType",
            )
        with estate.lock:
            items = usages(estate, sub, loc.lower())
        return page(req, items, default_top=1000)

    def list_quotas(req: Request, sub: str, loc: str) -> Response:
        check_sub(sub)
        if not catalog.known_region(loc):
            raise bad_request(
                f"The provided location '{loc}' is not available for resource type '{ML}/locations/quotas'.",
                "LocationNotAvailableForResourceType",
            )
        with estate.lock:
            items = quotas(estate, sub, loc.lower())
        return page(req, items, default_top=1000)

    def run_deferred(fn: Callable[..., Response]) -> Callable[..., Response]:
        def wrapped(req: Request, **params: str) -> Response:
            resp = fn(req, **params)
            if isinstance(resp, _Deferred):
                op = emu.ops.start(resp.op_name, resp.sub, resp.loc, resp.apply)
                return emu.ops.accepted(req, op, status=resp.status, body=resp.answer)
            return resp

        return wrapped

    c = WS + "/computes/{name}"
    router.add("GET", WS + "/computes", list_computes)
    router.add("GET", c, get_compute)
    router.add("PUT", c, run_deferred(put_compute))
    router.add("PATCH", c, run_deferred(patch_compute))
    router.add("DELETE", c, delete_compute)
    router.add("POST", c + "/listNodes", list_nodes)
    router.add("GET", c + "/listNodes", list_nodes)
    router.add("POST", c + "/listKeys", list_keys)
    router.add("POST", c + "/start", ci_action("start"))
    router.add("POST", c + "/stop", ci_action("stop"))
    router.add("POST", c + "/restart", ci_action("restart"))
    router.add("POST", c + "/updateIdleShutdownSetting", update_idle_shutdown)
    router.add("GET", LOC + "/vmSizes", vm_sizes)
    router.add("GET", LOC + "/usages", list_usages)
    router.add("GET", LOC + "/quotas", list_quotas)


class _Deferred(Response):
    """A handler's request to start an operation once it has released the estate lock."""

    def __init__(
        self, req: Request, op_name: str, sub: str, loc: str, apply: Callable[[], Any], status: int, answer: Any
    ) -> None:
        super().__init__(status, answer)
        self.op_name, self.sub, self.loc, self.apply, self.answer = op_name, sub, loc, apply, answer


def _fresh_system_data(estate: Estate, caller: dict[str, Any]) -> dict[str, Any]:
    who = str(caller.get("upn") or "ops@contoso.example")
    now = estate.now_iso()
    return {
        "createdAt": now,
        "createdBy": who,
        "createdByType": "User",
        "lastModifiedAt": now,
        "lastModifiedBy": who,
        "lastModifiedByType": "User",
    }
