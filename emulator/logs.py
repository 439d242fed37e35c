"""Simulated Azure ML log tables for the Log Analytics API, derived from the estate and its clock.

Nothing here is stored: a query names its tables and its time window, and only those rows are generated
(deterministically, from the seed, the resources and simulated time), then handed to the KQL engine.
What the tables say agrees with the other areas:

- AmlComputeClusterEvent — a snapshot of each cluster's node counts every 5 minutes (÷ the volume knob);
  the snapshot at "now" is the compute area's ``nodeStateCounts``; earlier ones are what the compute area
  was seen to hold at that minute (recorded as requests arrive) or, before that, follow the nodes the
  jobs area's timelines wanted on the cluster.
- AmlComputeClusterNodeEvent — allocation and state of the cluster's current nodes.
- AmlComputeCpuGpuUtilization — per node, per minute (x volume): CPU, GPU and GPU memory by node state.
- AmlComputeJobEvent / AmlRunStatusChangedEvent — the jobs area's status timelines.
- AmlOnlineEndpointTrafficLog / ConsoleLog / EventLog — scoring requests per deployment by traffic split
  and a daily load curve (x volume), latency, status codes, container events.

Columns follow Azure's table reference (learn.microsoft.com/azure/azure-monitor/reference/tables/...),
trimmed to those a console reads, plus the standard TenantId, TimeGenerated, Type, _ResourceId.
High-rate tables keep 48 hours, the others 30 days (the emulator's retention).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .estate import WORKSPACE_TYPE, Estate
from .kql import Table

COMMON: tuple[tuple[str, str], ...] = (("TenantId", "string"), ("TimeGenerated", "datetime"))
TAIL: tuple[tuple[str, str], ...] = (("SourceSystem", "string"), ("Type", "string"), ("_ResourceId", "string"))

_WS_COLS = (("AzureMLWorkspaceId", "string"), ("AzureMLWorkspaceName", "string"))

SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "AmlComputeClusterEvent": (
        *COMMON,
        ("OperationName", "string"),
        ("EventType", "string"),
        ("ClusterName", "string"),
        ("ClusterType", "string"),
        ("VmSize", "string"),
        ("VmFamilyName", "string"),
        ("VmPriority", "string"),
        ("ScalingType", "string"),
        ("MinimumNodeCount", "int"),
        ("MaximumNodeCount", "int"),
        ("NodeIdleTimeSecondsBeforeScaleDown", "int"),
        ("AllocationState", "string"),
        ("TargetNodeCount", "int"),
        ("CurrentNodeCount", "int"),
        ("IdleNodeCount", "int"),
        ("RunningNodeCount", "int"),
        ("PreparingNodeCount", "int"),
        ("UnusableNodeCount", "int"),
        ("LeavingNodeCount", "int"),
        ("PreemptedNodeCount", "int"),
        ("CoreCount", "int"),
        ("Location", "string"),
        *_WS_COLS,
        *TAIL,
    ),
    "AmlComputeClusterNodeEvent": (
        *COMMON,
        ("OperationName", "string"),
        ("EventType", "string"),
        ("ClusterName", "string"),
        ("NodeId", "string"),
        ("NodeState", "string"),
        ("VmSize", "string"),
        ("VmFamilyName", "string"),
        ("VmPriority", "string"),
        ("Publisher", "string"),
        ("Offer", "string"),
        ("Sku", "string"),
        ("NodeAllocationTime", "datetime"),
        ("NodeBootTime", "datetime"),
        ("StartTaskStartTime", "datetime"),
        ("StartTaskEndTime", "datetime"),
        ("TotalE2ETimeInSeconds", "real"),
        ("ResultType", "string"),
        *_WS_COLS,
        *TAIL,
    ),
    "AmlComputeCpuGpuUtilization": (
        *COMMON,
        ("OperationName", "string"),
        ("ClusterName", "string"),
        ("NodeId", "string"),
        ("NodeState", "string"),
        ("VmSize", "string"),
        ("DeviceType", "string"),
        ("DeviceId", "string"),
        ("MetricName", "string"),
        ("Utilization", "real"),
        ("RunId", "string"),
        *_WS_COLS,
        *TAIL,
    ),
    "AmlComputeJobEvent": (
        *COMMON,
        ("OperationName", "string"),
        ("EventType", "string"),
        ("JobId", "string"),
        ("JobName", "string"),
        ("ExperimentName", "string"),
        ("ExperimentId", "string"),
        ("ClusterName", "string"),
        ("ExecutionState", "string"),
        ("NodeCount", "int"),
        ("ResultType", "string"),
        *_WS_COLS,
        *TAIL,
    ),
    "AmlRunStatusChangedEvent": (
        *COMMON,
        ("OperationName", "string"),
        ("RunId", "string"),
        ("RunType", "string"),
        ("ExperimentName", "string"),
        ("ExperimentId", "string"),
        ("ComputeTarget", "string"),
        ("Status", "string"),
        *_WS_COLS,
        *TAIL,
    ),
    "AmlOnlineEndpointTrafficLog": (
        *COMMON,
        ("Method", "string"),
        ("Path", "string"),
        ("EndpointName", "string"),
        ("DeploymentName", "string"),
        ("Protocol", "string"),
        ("ResponseCode", "int"),
        ("ResponseCodeReason", "string"),
        ("ModelStatusCode", "int"),
        ("ModelStatusReason", "string"),
        ("RequestPayloadSize", "long"),
        ("ResponsePayloadSize", "long"),
        ("UserAgent", "string"),
        ("XRequestId", "string"),
        ("TotalDurationMs", "long"),
        ("RequestDurationMs", "long"),
        ("ResponseDurationMs", "long"),
        ("RequestThrottlingDelayMs", "long"),
        ("ResponseThrottlingDelayMs", "long"),
        ("Location", "string"),
        *_WS_COLS,
        *TAIL,
    ),
    "AmlOnlineEndpointConsoleLog": (
        *COMMON,
        ("EndpointName", "string"),
        ("DeploymentName", "string"),
        ("InstanceId", "string"),
        ("ContainerName", "string"),
        ("ContainerImageName", "string"),
        ("Message", "string"),
        *_WS_COLS,
        *TAIL,
    ),
    "AmlOnlineEndpointEventLog": (
        *COMMON,
        ("EndpointName", "string"),
        ("DeploymentName", "string"),
        ("InstanceId", "string"),
        ("Name", "string"),
        ("Message", "string"),
        *_WS_COLS,
        *TAIL,
    ),
}
TABLE_NAMES = tuple(SCHEMAS)
HIGH_RATE = frozenset(
    {
        "AmlComputeClusterEvent",
        "AmlComputeCpuGpuUtilization",
        "AmlOnlineEndpointTrafficLog",
        "AmlOnlineEndpointConsoleLog",
    }
)
RETENTION_S = {name: (48 * 3600.0 if name in HIGH_RATE else 30 * 86400.0) for name in TABLE_NAMES}

SNAPSHOT_S = 300.0  # cluster snapshots at volume 1
SAMPLE_S = 60.0  # utilization samples per node at volume 1
REQUESTS_PER_MIN = (2.0, 9.0)  # an endpoint's mean request rate at volume 1 (range over endpoints)
NODE_STATES = ("idle", "running", "preparing", "unusable", "leaving", "preempted")
ENDPOINT_TYPE = f"{WORKSPACE_TYPE}/onlineEndpoints"
DEPLOYMENT_TYPE = f"{WORKSPACE_TYPE}/onlineEndpoints/deployments"

_MASK = (1 << 64) - 1


# -- deterministic noise ---------------------------------------------------------------------------


def seed_of(*parts: object) -> int:
    text = ":".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _mix(x: int) -> int:
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def unit(seed: int, i: int) -> float:
    """A uniform draw in [0, 1) that depends only on (seed, i)."""
    return _mix((seed + i * 0x9E3779B97F4A7C15) & _MASK) / 18446744073709551616.0


# -- per-estate state --------------------------------------------------------------------------------


@dataclass
class LogState:
    observed: dict[tuple[str, int], dict[str, int]] = field(default_factory=dict)  # (cluster, minute) → counts
    partial_tables: set[str] = field(default_factory=set)  # tables answering with a PartialError
    last_minute: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def log_state(estate: Estate) -> LogState:
    st = estate.area_state.get("monitor_logs")
    if not isinstance(st, LogState):
        st = LogState()
        estate.area_state["monitor_logs"] = st
    return st


def record_ticker(estate: Estate) -> None:
    """Remember what the compute area held at each simulated minute, so history does not change later."""
    minute = int(estate.clock.elapsed() // 60)
    st = log_state(estate)
    if st.last_minute == minute:
        return
    st.last_minute = minute
    for cl in clusters(estate):
        key = (cl.id.lower(), minute)
        if key not in st.observed:
            st.observed[key] = actual_counts(estate, cl.id)
    if len(st.observed) > 200_000:
        for k in sorted(st.observed, key=lambda k: k[1])[:50_000]:
            del st.observed[k]


# -- the estate, read -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WsInfo:
    id: str
    name: str
    guid: str
    location: str
    subscription: str


@dataclass(frozen=True)
class ClusterInfo:
    id: str
    name: str
    ws: WsInfo
    vm_size: str
    family: str
    priority: str
    lo: int
    hi: int
    idle_s: int
    cores: int
    gpus: int


def ws_info(res: dict[str, Any]) -> WsInfo:
    return WsInfo(
        id=res["id"],
        name=res["name"],
        guid=str(res["properties"].get("workspaceId") or ""),
        location=res["location"],
        subscription=res["id"].split("/")[2],
    )


def clusters(estate: Estate, ws_ids: Iterable[str] | None = None) -> list[ClusterInfo]:
    from .areas import compute_catalog as catalog
    from .areas.compute import parse_duration

    wanted = {w.lower() for w in ws_ids} if ws_ids is not None else None
    out: list[ClusterInfo] = []
    for ws in estate.workspaces():
        if wanted is not None and ws["id"].lower() not in wanted:
            continue
        info = ws_info(ws)
        for c in sorted(estate.children(ws["id"], "computes"), key=lambda r: str(r["name"]).lower()):
            outer = c.get("properties") or {}
            if outer.get("computeType") != "AmlCompute":
                continue
            p = outer.get("properties") or {}
            scale = p.get("scaleSettings") or {}
            size = catalog.SIZES_BY_NAME.get(str(p.get("vmSize", "")).lower())
            out.append(
                ClusterInfo(
                    id=c["id"],
                    name=c["name"],
                    ws=info,
                    vm_size=str(p.get("vmSize") or ""),
                    family=size.family if size else "",
                    priority=str(p.get("vmPriority") or "Dedicated"),
                    lo=int(scale.get("minNodeCount") or 0),
                    hi=int(scale.get("maxNodeCount") or 0),
                    idle_s=int(parse_duration(str(scale.get("nodeIdleTimeBeforeScaleDown") or "PT2M")) or 120),
                    cores=size.vcpus if size else 4,
                    gpus=size.gpus if size else 0,
                )
            )
    return out


def actual_counts(estate: Estate, cluster_id: str) -> dict[str, int]:
    """The compute area's node counts for a cluster now, by state."""
    res = estate.get(cluster_id)
    counts = ((res or {}).get("properties", {}).get("properties", {}) or {}).get("nodeStateCounts") or {}
    return {s: int(counts.get(f"{s}NodeCount", 0)) for s in NODE_STATES}


def _leaf_jobs(estate: Estate, ws_id: str) -> list[Any]:
    from .areas.jobs_model import LEAF_KINDS, JobsModel

    model = estate.area_state.get("jobs")
    if not isinstance(model, JobsModel):
        return []
    wj = model.workspace(ws_id)
    if wj is None:
        return []
    return [r for r in list(wj.by_name.values()) if r.kind in LEAF_KINDS]


def all_runs(estate: Estate, ws_id: str) -> list[Any]:
    from .areas.jobs_model import JobsModel

    model = estate.area_state.get("jobs")
    if not isinstance(model, JobsModel):
        return []
    wj = model.workspace(ws_id)
    return list(wj.by_name.values()) if wj is not None else []


class NodeHistory:
    """Node counts by state for one cluster at any simulated time up to now (see the module doc)."""

    def __init__(self, estate: Estate, cl: ClusterInfo, now: float, t0: float) -> None:
        from .areas.jobs_model import ACTIVE

        self.estate = estate
        self.cl = cl
        self.now = now
        self.active = ACTIVE
        self.seed = seed_of(estate.seed, "nodes", cl.id.lower())
        name = cl.name.lower()
        lookback = t0 - 900.0
        self.jobs = [
            r
            for r in _leaf_jobs(estate, cl.ws.id)
            if r.compute.lower() == name
            and r.t_queue <= now
            and (r.canceled if r.canceled is not None else r.t_end) >= lookback
        ]
        self.observed = log_state(estate).observed
        self.key = cl.id.lower()
        self.actual = actual_counts(estate, cl.id)
        self._minutes: dict[int, dict[str, int]] = {}

    def demand(self, t: float) -> int:
        return sum(r.nodes for r in self.jobs if r.status(t) in self.active)

    def at(self, t: float) -> dict[str, int]:
        if t >= self.now - 1e-6:
            return self.actual
        minute = int(t // 60)
        found = self._minutes.get(minute)
        if found is None:
            found = self.observed.get((self.key, minute)) or self._synthetic(minute)
            self._minutes[minute] = found
        return found

    def _synthetic(self, minute: int) -> dict[str, int]:
        cl = self.cl
        t = minute * 60.0
        want = self.demand(t)
        running = min(cl.hi, want)
        idle = max(0, cl.lo - running)
        slot = minute // 5
        room = cl.hi - running - idle
        before = self.demand(t - cl.idle_s)
        if before > want and room > 0:
            lingering = min(before - want, room)
            idle += lingering
            room -= lingering
        elif room > 0 and unit(self.seed, slot * 8) < 0.3:
            idle += 1
            room -= 1
        preparing = (
            1
            if room > 0 and want > running + idle - max(0, cl.lo - running) and unit(self.seed, slot * 8 + 1) < 0.5
            else 0
        )
        room -= preparing
        leaving = 1 if room > 0 and self.demand(t - 120) > want else 0
        room -= leaving
        unusable = 1 if room > 0 and cl.priority != "LowPriority" and unit(self.seed, slot * 8 + 2) < 0.02 else 0
        preempted = 1 if cl.priority == "LowPriority" and unit(self.seed, slot * 8 + 3) < 0.12 else 0
        return {
            "idle": idle,
            "running": running,
            "preparing": preparing,
            "unusable": unusable,
            "leaving": leaving,
            "preempted": preempted,
        }


def snapshot_times(t0: float, t1: float, now: float, volume: int) -> list[float]:
    """Snapshot instants in [t0, t1]: a grid of SNAPSHOT_S / volume, plus now when it is in range."""
    step = SNAPSHOT_S / max(1, volume)
    first = math.ceil(t0 / step)
    last = math.floor(min(t1, now) / step)
    times = [k * step for k in range(first, last + 1)]
    if t0 <= now <= t1 and (not times or times[-1] < now - 1e-6):
        times.append(now)
    return times


# -- endpoints ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentInfo:
    id: str
    name: str
    endpoint: str
    endpoint_id: str
    ws: WsInfo
    share: float  # the share of the endpoint's traffic
    rate: float  # the endpoint's mean requests per minute at volume 1
    instance_type: str
    capacity: int
    settings: dict[str, Any]
    created: float  # sim seconds
    state: str
    image: str
    latency_ms: float  # median
    error_rate: float  # 5xx share
    gpus: int
    kind: str


def deployments(estate: Estate, ws_ids: Iterable[str] | None = None) -> list[DeploymentInfo]:
    from .areas.endpoints_model import MANAGED_SKUS

    wanted = {w.lower() for w in ws_ids} if ws_ids is not None else None
    start = estate.clock.start
    out: list[DeploymentInfo] = []
    for ws in estate.workspaces():
        if wanted is not None and ws["id"].lower() not in wanted:
            continue
        info = ws_info(ws)
        for ep in sorted(estate.children(ws["id"], "onlineEndpoints"), key=lambda r: str(r["name"])):
            props = ep.get("properties") or {}
            traffic = {str(k).lower(): int(v) for k, v in (props.get("traffic") or {}).items()}
            mirror = {str(k).lower(): int(v) for k, v in (props.get("mirrorTraffic") or {}).items()}
            eseed = seed_of(estate.seed, "endpoint", ep["id"].lower())
            lo, hi = REQUESTS_PER_MIN
            rate = lo + (hi - lo) * unit(eseed, 0)
            for dep in sorted(estate.children(ep["id"], "deployments"), key=lambda r: str(r["name"])):
                dp = dep.get("properties") or {}
                dseed = seed_of(estate.seed, "deployment", dep["id"].lower())
                sku = MANAGED_SKUS.get(str(dp.get("instanceType") or ""), {})
                created_at = str((dep.get("systemData") or {}).get("createdAt") or "")
                try:
                    created = (dt.datetime.fromisoformat(created_at.replace("Z", "+00:00")) - start).total_seconds()
                except ValueError:
                    created = -30 * 86400.0
                name = str(dep["name"])
                share = traffic.get(name.lower(), 0) / 100.0 + mirror.get(name.lower(), 0) / 100.0
                gpus = int(sku.get("gpus", 0))
                out.append(
                    DeploymentInfo(
                        id=dep["id"],
                        name=name,
                        endpoint=str(ep["name"]),
                        endpoint_id=ep["id"],
                        ws=info,
                        share=share,
                        rate=rate,
                        instance_type=str(dp.get("instanceType") or ""),
                        capacity=int((dep.get("sku") or {}).get("capacity") or 1),
                        settings=dict(dp.get("scaleSettings") or {}),
                        created=created,
                        state=str(dp.get("provisioningState") or "Succeeded"),
                        image=str(dp.get("environmentId") or "").rsplit("/", 1)[-1] or "inference-image",
                        latency_ms=(180.0 if gpus else 25.0) * (0.7 + 0.8 * unit(dseed, 1)),
                        error_rate=0.002 + 0.03 * unit(dseed, 2) ** 3,
                        gpus=gpus,
                        kind=str(dep.get("kind") or "Managed"),
                    )
                )
    return out


def load_factor(dep_id_lower: str, t: float, start: dt.datetime) -> float:
    """The simulated load (0..1) on a deployment: a daily curve and 5-minute noise (as the autoscaler sees it)."""
    from .areas.endpoints_populate import SCALE_BUCKET_S

    bucket = int(t // SCALE_BUCKET_S)
    when = start + dt.timedelta(seconds=bucket * SCALE_BUCKET_S)
    hour = when.hour + when.minute / 60.0
    daily = 0.5 + 0.4 * math.sin(2 * math.pi * (hour - 8.0) / 24.0)
    noise = (unit(seed_of(dep_id_lower, "load"), bucket) - 0.5) * 0.3
    return min(1.0, max(0.0, daily + noise))


def capacity_at(estate: Estate, d: DeploymentInfo, t: float, now: float) -> int:
    if t >= now - 1e-6 or d.settings.get("scaleType") != "TargetUtilization":
        return d.capacity
    from .areas.endpoints_populate import simulated_capacity

    return simulated_capacity(d.id.lower(), d.settings, t, estate.clock.start)


def requests_in_minute(estate: Estate, d: DeploymentInfo, minute: int, volume: int) -> int:
    """How many scoring requests a deployment answered in one simulated minute."""
    if d.state != "Succeeded" or d.share <= 0 or minute * 60.0 < d.created:
        return 0
    load = load_factor(d.endpoint_id.lower(), minute * 60.0, estate.clock.start)
    mean = d.rate * d.share * (0.3 + 1.4 * load) * max(1, volume)
    u = unit(seed_of(estate.seed, "rpm", d.id.lower()), minute)
    return max(0, int(mean + (u - 0.5) * 2.0 * math.sqrt(mean + 1.0) + 0.5))


@dataclass
class Request:
    t: float
    latency: float
    code: int
    model_code: int
    req_size: int
    resp_size: int
    throttle: int
    instance: int
    index: int


def requests(estate: Estate, d: DeploymentInfo, t0: float, t1: float, volume: int) -> Iterator[Request]:
    seed = seed_of(estate.seed, "req", d.id.lower())
    for minute in range(int(t0 // 60), int(t1 // 60) + 1):
        n = requests_in_minute(estate, d, minute, volume)
        if n == 0:
            continue
        cap = max(1, capacity_at(estate, d, minute * 60.0, t1))
        base = minute * 1_000_003
        for k in range(n):
            i = base + k
            t = minute * 60.0 + (k + unit(seed, i * 7)) * 60.0 / n
            if t < t0 or t > t1:
                continue
            u1, u2 = max(1e-12, unit(seed, i * 7 + 1)), unit(seed, i * 7 + 2)
            z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
            latency = d.latency_ms * math.exp(0.45 * z)
            r = unit(seed, i * 7 + 3)
            throttle = 0
            if r < d.error_rate:
                code, model_code = (503, 0) if r < d.error_rate * 0.3 else (500, 500)
            elif r < d.error_rate + 0.004:
                code, model_code, throttle = 429, 0, int(50 + 400 * unit(seed, i * 7 + 4))
            elif r < d.error_rate + 0.012:
                code, model_code = 424, 400
            else:
                code, model_code = 200, 200
            yield Request(
                t=t,
                latency=latency,
                code=code,
                model_code=model_code,
                req_size=int(300 + 4000 * unit(seed, i * 7 + 5)),
                resp_size=int(40 + 400 * unit(seed, i * 7 + 6)) if code == 200 else 120,
                throttle=throttle,
                instance=i % cap,
                index=i,
            )


def instance_id(d: DeploymentInfo, i: int) -> str:
    return f"{d.name}-{seed_of(d.id.lower(), 'pod') % 10**10:010d}-{seed_of(d.id.lower(), i) % 36**5:05x}"


# -- building tables -----------------------------------------------------------------------------------


@dataclass
class Scope:
    """What one Log Analytics workspace holds: the Azure ML workspaces that send it their logs."""

    estate: Estate
    ws_ids: list[str]
    tenant: str  # the Log Analytics workspace's customerId
    volume: int = 1


class _Rows:
    def __init__(self, name: str) -> None:
        self.name = name
        self.schema = SCHEMAS[name]
        self.cols: dict[str, list[Any]] = {c: [] for c, _ in self.schema}

    def add(self, values: dict[str, Any]) -> None:
        for c, col in self.cols.items():
            col.append(values.get(c))

    def table(self) -> Table:
        return Table(self.name, self.schema, self.cols)


def build(scope: Scope, name: str, t0: float, t1: float) -> Table:
    """Rows of ``name`` with TimeGenerated in [t0, t1] (simulated seconds), for the scope's workspaces."""
    estate = scope.estate
    now = estate.clock.elapsed()
    t1 = min(t1, now)
    t0 = max(t0, now - RETENTION_S[name])
    rows = _Rows(name)
    if t0 > t1:
        return rows.table()
    epoch = estate.clock.start.timestamp()
    builder = _BUILDERS[name]
    builder(scope, rows, t0, t1, now, epoch)
    return rows.table()


def _base(scope: Scope, name: str, ws: WsInfo, t: float, epoch: float, resource_id: str) -> dict[str, Any]:
    return {
        "TenantId": scope.tenant,
        "TimeGenerated": epoch + t,
        "SourceSystem": "Azure",
        "Type": name,
        "_ResourceId": resource_id.lower(),
        "AzureMLWorkspaceId": ws.guid,
        "AzureMLWorkspaceName": ws.name,
    }


def _cluster_events(scope: Scope, rows: _Rows, t0: float, t1: float, now: float, epoch: float) -> None:
    for cl in clusters(scope.estate, scope.ws_ids):
        hist = NodeHistory(scope.estate, cl, now, t0)
        for t in snapshot_times(t0, t1, now, scope.volume):
            c = hist.at(t)
            current = sum(v for k, v in c.items() if k != "preempted")
            target = c["idle"] + c["running"] + c["preparing"]
            row = _base(scope, rows.name, cl.ws, t, epoch, cl.ws.id)
            row.update(
                OperationName="Microsoft.MachineLearningServices/workspaces/computes/clusterEvent",
                EventType="ClusterSnapshot",
                ClusterName=cl.name,
                ClusterType="AmlCompute",
                VmSize=cl.vm_size,
                VmFamilyName=cl.family,
                VmPriority=cl.priority,
                ScalingType="Auto",
                MinimumNodeCount=cl.lo,
                MaximumNodeCount=cl.hi,
                NodeIdleTimeSecondsBeforeScaleDown=cl.idle_s,
                AllocationState="Resizing" if current != target or c["preparing"] else "Steady",
                TargetNodeCount=target,
                CurrentNodeCount=current,
                IdleNodeCount=c["idle"],
                RunningNodeCount=c["running"],
                PreparingNodeCount=c["preparing"],
                UnusableNodeCount=c["unusable"],
                LeavingNodeCount=c["leaving"],
                PreemptedNodeCount=c["preempted"],
                CoreCount=current * cl.cores,
                Location=cl.ws.location,
            )
            rows.add(row)


_NODE_CREATED = re.compile(r"-(\d{8}t\d{6})z$")


def current_nodes(estate: Estate, cl: ClusterInfo) -> list[tuple[Any, float]]:
    """(node, created sim seconds) for the compute area's current nodes of a cluster."""
    comp = estate.area_state.get("compute")
    state = getattr(comp, "clusters", {}).get(cl.id.lower()) if comp is not None else None
    if state is None:
        return []
    out = []
    start = estate.clock.start
    for node in list(state.nodes):
        m = _NODE_CREATED.search(node.node_id)
        created = node.since
        if m:
            when = dt.datetime.strptime(m.group(1), "%Y%m%dt%H%M%S").replace(tzinfo=dt.UTC)
            created = min(node.since, (when - start).total_seconds())
        out.append((node, created))
    return out


def _node_events(scope: Scope, rows: _Rows, t0: float, t1: float, now: float, epoch: float) -> None:
    for cl in clusters(scope.estate, scope.ws_ids):
        for node, created in current_nodes(scope.estate, cl):
            boot = created + 60.0 + (node.serial % 5) * 20.0
            for t, event, state in (
                (created, "NodeAllocated", "preparing"),
                (node.since, "NodeStateChanged", node.state),
            ):
                if not t0 <= t <= t1:
                    continue
                row = _base(scope, rows.name, cl.ws, t, epoch, cl.ws.id)
                row.update(
                    OperationName="Microsoft.MachineLearningServices/workspaces/computes/nodeEvent",
                    EventType=event,
                    ClusterName=cl.name,
                    NodeId=node.node_id,
                    NodeState=state,
                    VmSize=cl.vm_size,
                    VmFamilyName=cl.family,
                    VmPriority=cl.priority,
                    Publisher="microsoft-dsvm",
                    Offer="ubuntu-hpc",
                    Sku="2204",
                    NodeAllocationTime=epoch + created,
                    NodeBootTime=epoch + boot,
                    StartTaskStartTime=epoch + boot + 5.0,
                    StartTaskEndTime=epoch + boot + 45.0,
                    TotalE2ETimeInSeconds=boot + 45.0 - created,
                    ResultType="Succeeded",
                )
                rows.add(row)


def node_state_at(node: Any, created: float, t: float) -> str | None:
    """A current node's state at an earlier time: its state since ``since``; before that, the one it left."""
    if t < created:
        return None
    if t >= node.since:
        return str(node.state)
    return "running" if node.state in ("idle", "leaving") else "idle"


def utilization(state: str, metric: str, u: float) -> float:
    busy = {"running": (62.0, 36.0), "preparing": (12.0, 20.0), "idle": (0.5, 4.0), "unusable": (0.0, 1.0)}
    lo, span = busy.get(state, (0.0, 1.0))
    if metric == "GpuMemoryUtilization" and state == "running":
        lo, span = 55.0, 40.0
    if metric == "GpuMemoryUtilization" and state != "running":
        lo, span = 0.0, 2.0
    return round(lo + span * u, 2)


def _utilization(scope: Scope, rows: _Rows, t0: float, t1: float, now: float, epoch: float) -> None:
    step = SAMPLE_S / max(1, scope.volume)
    cols = rows.cols
    for cl in clusters(scope.estate, scope.ws_ids):
        metrics = [("CPU", "cpu", "CpuUtilization")]
        for g in range(cl.gpus):
            metrics += [("GPU", f"gpu{g}", "GpuUtilization"), ("GPU", f"gpu{g}", "GpuMemoryUtilization")]
        for node, created in current_nodes(scope.estate, cl):
            if node.state in ("preempted",):
                continue
            seed = seed_of(scope.estate.seed, "util", node.node_id)
            base = _base(scope, rows.name, cl.ws, 0.0, epoch, cl.ws.id)
            start_k = math.ceil(max(t0, created) / step)
            end_k = math.floor(t1 / step)
            for k in range(start_k, end_k + 1):
                t = k * step
                state = node_state_at(node, created, t)
                if state is None or state == "leaving":
                    continue
                run_id = node.run_id if state == "running" and t >= node.since else None
                for j, (dtype, dev, metric) in enumerate(metrics):
                    for c, v in base.items():
                        cols[c].append(v)
                    cols["TimeGenerated"][-1] = epoch + t
                    cols["OperationName"].append("Microsoft.MachineLearningServices/workspaces/computes/utilization")
                    cols["ClusterName"].append(cl.name)
                    cols["NodeId"].append(node.node_id)
                    cols["NodeState"].append(state)
                    cols["VmSize"].append(cl.vm_size)
                    cols["DeviceType"].append(dtype)
                    cols["DeviceId"].append(dev)
                    cols["MetricName"].append(metric)
                    cols["Utilization"].append(utilization(state, metric, unit(seed, k * 8 + j)))
                    cols["RunId"].append(run_id)


_JOB_EVENTS = {"Queued": "JobQueued", "Preparing": "JobPreparing", "Running": "JobRunning"}
_OUTCOME_EVENTS = {"Completed": "JobSucceeded", "Failed": "JobFailed", "Canceled": "JobCanceled"}


def transitions(rec: Any, now: float) -> list[tuple[float, str]]:
    """(time, status) changes of one job or run up to now, as its timeline says."""
    out: list[tuple[float, str]] = []
    stop = rec.canceled if rec.canceled is not None else math.inf
    for t, status in ((rec.t_queue, "Queued"), (rec.t_prep, "Preparing"), (rec.t_run, "Running")):
        if t <= now and t < stop and t < rec.t_end and math.isfinite(t):
            out.append((t, status))
    if rec.cancel_req is not None and rec.cancel_req <= now:
        out.append((rec.cancel_req, "CancelRequested"))
    if rec.canceled is not None:
        if rec.canceled <= now:
            out.append((rec.canceled, "Canceled"))
    elif rec.t_end <= now and math.isfinite(rec.t_end):
        out.append((rec.t_end, rec.outcome))
    return out


def _job_events(scope: Scope, rows: _Rows, t0: float, t1: float, now: float, epoch: float) -> None:
    for ws_id in scope.ws_ids:
        res = scope.estate.get(ws_id)
        if res is None:
            continue
        info = ws_info(res)
        cluster_names = {c.name.lower() for c in clusters(scope.estate, [ws_id])}
        for rec in _leaf_jobs(scope.estate, ws_id):
            if rec.compute.lower() not in cluster_names or rec.t_queue > t1:
                continue
            for t, status in transitions(rec, now):
                if not t0 <= t <= t1:
                    continue
                row = _base(scope, rows.name, info, t, epoch, ws_id)
                row.update(
                    OperationName="Microsoft.MachineLearningServices/workspaces/computes/jobEvent",
                    EventType=_JOB_EVENTS.get(status) or _OUTCOME_EVENTS.get(status) or "JobCancelRequested",
                    JobId=rec.name,
                    JobName=rec.display or rec.name,
                    ExperimentName=rec.experiment,
                    ExperimentId=str(seed_of(info.guid, rec.experiment)),
                    ClusterName=rec.compute,
                    ExecutionState=status,
                    NodeCount=rec.nodes,
                    ResultType="Failed" if status == "Failed" else "Succeeded",
                )
                rows.add(row)


_RUN_TYPES = {
    "Command": "azureml.scriptrun",
    "Sweep": "hyperdrive",
    "Pipeline": "azureml.PipelineRun",
    "Step": "azureml.StepRun",
    "Trial": "azureml.scriptrun",
}


def _run_status(scope: Scope, rows: _Rows, t0: float, t1: float, now: float, epoch: float) -> None:
    for ws_id in scope.ws_ids:
        res = scope.estate.get(ws_id)
        if res is None:
            continue
        info = ws_info(res)
        for rec in all_runs(scope.estate, ws_id):
            if rec.t_queue > t1:
                continue
            for t, status in transitions(rec, now):
                if not t0 <= t <= t1:
                    continue
                row = _base(scope, rows.name, info, t, epoch, ws_id)
                row.update(
                    OperationName="Microsoft.MachineLearningServices/workspaces/runs/statusChanged",
                    RunId=rec.name,
                    RunType=_RUN_TYPES.get(rec.kind, "azureml.scriptrun"),
                    ExperimentName=rec.experiment,
                    ExperimentId=str(seed_of(info.guid, rec.experiment)),
                    ComputeTarget=rec.compute,
                    Status=status,
                )
                rows.add(row)


_REASONS = {
    200: "OK",
    424: "Failed Dependency",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _traffic(scope: Scope, rows: _Rows, t0: float, t1: float, now: float, epoch: float) -> None:
    cols = rows.cols
    for d in deployments(scope.estate, scope.ws_ids):
        base = _base(scope, rows.name, d.ws, 0.0, epoch, d.endpoint_id)
        for r in requests(scope.estate, d, t0, t1, scope.volume):
            for c, v in base.items():
                cols[c].append(v)
            cols["TimeGenerated"][-1] = epoch + r.t
            total = int(r.latency) + r.throttle
            cols["Method"].append("POST")
            cols["Path"].append("/score")
            cols["EndpointName"].append(d.endpoint)
            cols["DeploymentName"].append(d.name)
            cols["Protocol"].append("HTTP/1.1")
            cols["ResponseCode"].append(r.code)
            cols["ResponseCodeReason"].append(_REASONS.get(r.code, ""))
            cols["ModelStatusCode"].append(r.model_code)
            cols["ModelStatusReason"].append(_REASONS.get(r.model_code, "") if r.model_code else "")
            cols["RequestPayloadSize"].append(r.req_size)
            cols["ResponsePayloadSize"].append(r.resp_size)
            cols["UserAgent"].append("python-requests/2.32.3" if r.index % 3 else "azureml-inference-client/1.2")
            cols["XRequestId"].append(f"{_mix(r.index ^ d.capacity):016x}"[:16])
            cols["TotalDurationMs"].append(total)
            cols["RequestDurationMs"].append(max(1, int(r.latency * 0.05)))
            cols["ResponseDurationMs"].append(max(1, int(r.latency * 0.9)))
            cols["RequestThrottlingDelayMs"].append(r.throttle)
            cols["ResponseThrottlingDelayMs"].append(0)
            cols["Location"].append(d.ws.location)


def _console(scope: Scope, rows: _Rows, t0: float, t1: float, now: float, epoch: float) -> None:
    cols = rows.cols
    for d in deployments(scope.estate, scope.ws_ids):
        base = _base(scope, rows.name, d.ws, 0.0, epoch, d.endpoint_id)

        def line(t: float, instance: int, message: str, base: dict[str, Any] = base, d: DeploymentInfo = d) -> None:
            for c, v in base.items():
                cols[c].append(v)
            cols["TimeGenerated"][-1] = epoch + t
            cols["EndpointName"].append(d.endpoint)
            cols["DeploymentName"].append(d.name)
            cols["InstanceId"].append(instance_id(d, instance))
            cols["ContainerName"].append("inference-server")
            cols["ContainerImageName"].append(d.image)
            cols["Message"].append(message)

        boot = [
            "Azure ML Inferencing HTTP server v1.3.2",
            "Initializing logger",
            "Starting up app insights client" if d.kind == "Managed" else "Application Insights disabled",
            "Found user script at /var/azureml-app/score.py",
            "Users's init has completed successfully",
            "Listening at: http://0.0.0.0:31311",
        ]
        if t0 <= d.created + 120 <= t1:
            for i, msg in enumerate(boot):
                line(d.created + 120 + i, 0, msg)
        if d.state == "Failed":
            for k in range(math.ceil(t0 / 300), math.floor(t1 / 300) + 1):
                line(k * 300.0, 0, "Exception in user init(): ModuleNotFoundError: No module named 'lightgbm'")
            continue
        for r in requests(scope.estate, d, t0, t1, scope.volume):
            status = "200" if r.code == 200 else str(r.code)
            line(
                r.t, r.instance, f'127.0.0.1 - - "POST /score HTTP/1.0" {status} {r.resp_size} "-" "{int(r.latency)}ms"'
            )


def _events(scope: Scope, rows: _Rows, t0: float, t1: float, now: float, epoch: float) -> None:
    for d in deployments(scope.estate, scope.ws_ids):
        events: list[tuple[float, int, str, str]] = []
        for i in range(max(1, d.capacity)):
            start = d.created + 30 + i * 5
            events += [
                (start, i, "Pulling", f'Pulling image "{d.image}"'),
                (start + 40, i, "Pulled", f'Successfully pulled image "{d.image}"'),
                (start + 42, i, "Created", "Created container inference-server"),
                (start + 43, i, "Started", "Started container inference-server"),
            ]
        if d.state == "Failed":
            events += [
                (k * 600.0, 0, "BackOff", "Back-off restarting failed container inference-server")
                for k in range(math.ceil(t0 / 600), math.floor(t1 / 600) + 1)
            ]
        elif d.settings.get("scaleType") == "TargetUtilization":
            prev = None
            for k in range(math.ceil(t0 / 300), math.floor(t1 / 300) + 1):
                cap = capacity_at(scope.estate, d, k * 300.0, now)
                if prev is not None and cap != prev:
                    verb = "ScaledUp" if cap > prev else "ScaledDown"
                    events.append((k * 300.0, 0, verb, f"Scaled deployment from {prev} to {cap} instances"))
                prev = cap
        for t, i, name, message in events:
            if not t0 <= t <= t1:
                continue
            row = _base(scope, rows.name, d.ws, t, epoch, d.endpoint_id)
            row.update(
                EndpointName=d.endpoint, DeploymentName=d.name, InstanceId=instance_id(d, i), Name=name, Message=message
            )
            rows.add(row)


_BUILDERS = {
    "AmlComputeClusterEvent": _cluster_events,
    "AmlComputeClusterNodeEvent": _node_events,
    "AmlComputeCpuGpuUtilization": _utilization,
    "AmlComputeJobEvent": _job_events,
    "AmlRunStatusChangedEvent": _run_status,
    "AmlOnlineEndpointTrafficLog": _traffic,
    "AmlOnlineEndpointConsoleLog": _console,
    "AmlOnlineEndpointEventLog": _events,
}


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def referenced_tables(query: str) -> list[str]:
    """The known tables a query names (``union *`` and ``search`` name them all)."""
    from .kql.errors import _code_spans

    words: set[str] = set()
    code = []
    for a, b in _code_spans(query):
        code.append(query[a:b])
        words.update(_IDENT.findall(query, a, b))
    text = " ".join(code)
    if re.search(r"\bunion\s+\*", text) or re.search(r"^\s*search\b|\|\s*search\b", text):
        return list(TABLE_NAMES)
    return [t for t in TABLE_NAMES if t in words]
