"""Compute: reads over the REST client; actions through azure-ai-ml behind the mutation choke point."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .kinds import compute as kinds
from .models import Compute, ComputeNode, NodeCounts, Usage, VmSize, Workspace
from .mutations import Target, expect_state, operation, read_resource, resource_path
from .session import Session
from .times import parse_time

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

API = "2024-10-01"
_KIND = {"AmlCompute": "cluster", "ComputeInstance": "instance", "Kubernetes": "kubernetes"}


def _duration_seconds(text: str | None) -> int:
    """ISO-8601 duration (PT15M, PT1H30M, P1D) → seconds; 0 when absent or unreadable."""
    if not text:
        return 0
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text)
    if not m:
        return 0
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return int(d * 86400 + h * 3600 + mi * 60 + s)


def _iso_duration(seconds: int) -> str:
    return f"PT{seconds}S"


def vm_sizes(session: Session, subscription_id: str, location: str) -> list[VmSize]:
    """The VM size catalog of a region, cached per session."""
    key = ("vmsizes", subscription_id.lower(), location.lower())

    def load() -> list[VmSize]:
        body = session.rest().get(
            f"/subscriptions/{subscription_id}/providers/Microsoft.MachineLearningServices/locations/{location}/vmSizes",
            API,
        )
        return sorted((_vm_size(x) for x in body.get("value") or []), key=lambda s: s.name.lower())

    return list(session.cache(key, load))


def _vm_size(x: Mapping[str, Any]) -> VmSize:
    return VmSize(
        name=x.get("name", ""),
        family=x.get("family", ""),
        vcpus=int(x.get("vCPUs") or 0),
        memory_gb=float(x.get("memoryGB") or 0),
        gpus=int(x.get("gpus") or 0),
        low_priority_capable=bool(x.get("lowPriorityCapable")),
        premium_io=bool(x.get("premiumIO")),
        max_resource_volume_mb=int(x.get("maxResourceVolumeMB") or 0),
        compute_types=tuple(x.get("supportedComputeTypes") or ()),
    )


def _from_rest(body: Mapping[str, Any], workspace: Workspace, sizes: Mapping[str, VmSize]) -> Compute:
    outer = body.get("properties") or {}
    p = outer.get("properties") or {}
    ctype = outer.get("computeType", "")
    kind = _KIND.get(ctype, "other")
    vm_size = p.get("vmSize") or ""
    size = sizes.get(vm_size.lower())
    scale = p.get("scaleSettings") or {}
    counts = p.get("nodeStateCounts") or {}
    if kind == "instance":
        state = p.get("state") or outer.get("provisioningState", "")
    elif kind == "cluster":
        state = p.get("allocationState") or outer.get("provisioningState", "")
    else:
        state = outer.get("provisioningState", "")
    assigned = (p.get("personalComputeInstanceSettings") or {}).get("assignedUser") or {}
    user = str(assigned.get("objectId") or "")
    errors = tuple(
        str((e.get("error") or e).get("message", "")) for e in (outer.get("provisioningErrors") or []) if e
    ) + tuple(str(e.get("message", "")) for e in (p.get("errors") or []) if isinstance(e, dict))
    return Compute(
        id=body["id"],
        name=body["name"],
        workspace=workspace.name,
        kind=kind,
        compute_type=ctype,
        location=outer.get("computeLocation") or body.get("location") or workspace.location,
        vm_size=vm_size,
        vcpus=size.vcpus if size else 0,
        gpus=size.gpus if size else 0,
        state=str(state),
        provisioning_state=str(outer.get("provisioningState", "")),
        priority=str(p.get("vmPriority") or ""),
        min_nodes=int(scale.get("minNodeCount") or 0),
        max_nodes=int(scale.get("maxNodeCount") or 0),
        idle_seconds=_duration_seconds(scale.get("nodeIdleTimeBeforeScaleDown")),
        current_nodes=int(p.get("currentNodeCount") or 0),
        target_nodes=int(p.get("targetNodeCount") or 0),
        nodes=NodeCounts(
            idle=int(counts.get("idleNodeCount") or 0),
            running=int(counts.get("runningNodeCount") or 0),
            preparing=int(counts.get("preparingNodeCount") or 0),
            unusable=int(counts.get("unusableNodeCount") or 0),
            leaving=int(counts.get("leavingNodeCount") or 0),
            preempted=int(counts.get("preemptedNodeCount") or 0),
        ),
        assigned_user=user,
        assigned_user_tenant=str(assigned.get("tenantId") or ""),
        instance_type=str(p.get("defaultInstanceType") or ""),
        namespace=str(p.get("namespace") or ""),
        description=str(outer.get("description") or ""),
        created_on=parse_time(outer.get("createdOn")),
        errors=tuple(e for e in errors if e),
    )


def _sizes_by_name(session: Session, ws: Workspace) -> dict[str, VmSize]:
    return {s.name.lower(): s for s in vm_sizes(session, ws.subscription_id, ws.location)}


def list_computes(session: Session, ws: Workspace) -> list[Compute]:
    sizes = _sizes_by_name(session, ws)
    items = session.rest().items(ws.id + "/computes", API)
    return sorted((_from_rest(c, ws, sizes) for c in items), key=lambda c: c.name.lower())


def get_compute(session: Session, ws: Workspace, name: str) -> Compute:
    body = session.rest().get(f"{ws.id}/computes/{name}", API)
    return _from_rest(body, ws, _sizes_by_name(session, ws))


def list_nodes(session: Session, ws: Workspace, name: str) -> list[ComputeNode]:
    rest = session.rest()
    body = rest.post(f"{ws.id}/computes/{name}/listNodes", API)
    nodes: list[ComputeNode] = []
    while True:
        for n in body.get("nodes") or []:
            nodes.append(
                ComputeNode(
                    node_id=str(n.get("nodeId", "")),
                    state=str(n.get("nodeState", "")),
                    private_ip=str(n.get("privateIpAddress") or ""),
                    public_ip=str(n.get("publicIpAddress") or ""),
                    port=int(n.get("port") or 0),
                    run_id=str(n.get("runId") or ""),
                )
            )
        next_link = body.get("nextLink")
        if not next_link:
            return nodes
        body = rest.get(next_link)


def list_usages(session: Session, subscription_id: str, location: str) -> list[Usage]:
    body = session.rest().get(
        f"/subscriptions/{subscription_id}/providers/Microsoft.MachineLearningServices/locations/{location}/usages",
        API,
    )
    out = []
    for u in body.get("value") or []:
        name = u.get("name") or {}
        out.append(
            Usage(
                name=str(name.get("value", "")),
                label=str(name.get("localizedValue", "")),
                current=int(u.get("currentValue") or 0),
                limit=int(u.get("limit") or 0),
                unit=str(u.get("unit", "")),
                kind=str(u.get("type", "")),
            )
        )
    return out


def regional_usages(usages: list[Usage]) -> list[Usage]:
    """The subscription-and-region lines of a usage list (Azure also repeats each per workspace and per
    cluster), without the VM families nothing uses; the regional totals always show. Types match
    case-insensitively (Azure spells them `vmFamily` or `vmfamily`)."""
    regional = [u for u in usages if not u.kind.lower().endswith(("/workspaces/usages", "/computes/usages"))]
    return [u for u in regional if u.current > 0 or not u.kind.lower().endswith("/vmfamily/usages")]


def family_usages(usages: list[Usage]) -> dict[str, Usage]:
    """The dedicated-quota line of each VM family, by lower-cased family name (the same type rule as
    ``regional_usages``: case-insensitive)."""
    return {
        u.name.lower(): u
        for u in usages
        if u.kind.lower().endswith("vmfamily/usages") and "lowpriority" not in u.name.lower().replace(" ", "")
    }


# -- actions -------------------------------------------------------------------------------------


def _ml(session: Session, t: Target) -> MLClient:
    return session.ml_client(t.subscription_id, t.resource_group, t.workspace)


def _compute_state(session: Session, t: Target, params: Mapping[str, Any]) -> tuple[str, str]:
    """(name, state) of the target compute (or of params["name"] for a create); state "" when missing."""
    name = str(params.get("name") or t.name)
    body = read_resource(session, resource_path(t, "computes", name), API)
    if body is None:
        return name, ""
    outer = body.get("properties") or {}
    p = outer.get("properties") or {}
    state = p.get("state") or p.get("allocationState") or outer.get("provisioningState") or "in an unknown state"
    if str(outer.get("provisioningState", "")).lower() in ("deleting", "creating", "failed"):
        state = outer["provisioningState"]
    return name, str(state)


def _reconcile_scale(session: Session, t: Target, params: Mapping[str, Any]) -> tuple[bool | None, str]:
    body = read_resource(session, resource_path(t, "computes", t.name), API)
    if body is None:
        return False, f"{t.name} does not exist"
    scale = ((body.get("properties") or {}).get("properties") or {}).get("scaleSettings") or {}
    now = (int(scale.get("minNodeCount") or 0), int(scale.get("maxNodeCount") or 0))
    wanted = (int(params.get("min_instances", -1)), int(params.get("max_instances", -1)))
    shown = f"{t.name} scales {now[0]}..{now[1]} nodes"
    if now == wanted:
        return True, shown
    if str((body.get("properties") or {}).get("provisioningState", "")).lower() == "updating":
        return True, f"{shown}, an update in progress"  # accepted: the new settings apply when it settles
    return False, shown


def _reconcile_restart(session: Session, t: Target, params: Mapping[str, Any]) -> tuple[bool | None, str]:
    """A restart ends Running as it began: the instance's last operation says whether one was taken."""
    body = read_resource(session, resource_path(t, "computes", t.name), API)
    if body is None:
        return False, f"{t.name} does not exist"
    p = (body.get("properties") or {}).get("properties") or {}
    state = str(p.get("state") or "")
    last = p.get("lastOperation") or {}
    op, status = str(last.get("operationName") or ""), str(last.get("operationStatus") or "")
    shown = f"{t.name} is {state}" + (f", last operation {op} {status}" if op else "")
    if state.lower() == "restarting" or (op.lower() == "restart" and status.lower() in ("inprogress", "accepted")):
        return True, shown
    if op.lower() != "restart" or status.lower() == "failed" or state.lower() in ("stopped", "stopping"):
        return False, shown
    return None, shown  # a restart finished: this one or an earlier one


@operation(
    "compute.start",
    "Start compute instance",
    params=kinds.StartInstance,
    reconcile=expect_state(_compute_state, ("starting", "running"), ("stopped", "stopping")),
)
def start_instance(session: Session, target: Target) -> None:
    _ml(session, target).compute.begin_start(target.name).result()


@operation(
    "compute.stop",
    "Stop compute instance",
    params=kinds.StopInstance,
    reconcile=expect_state(_compute_state, ("stopping", "stopped"), ("running", "starting")),
)
def stop_instance(session: Session, target: Target) -> None:
    _ml(session, target).compute.begin_stop(target.name).result()


@operation("compute.restart", "Restart compute instance", params=kinds.RestartInstance, reconcile=_reconcile_restart)
def restart_instance(session: Session, target: Target) -> None:
    _ml(session, target).compute.begin_restart(target.name).result()


@operation(
    "compute.create_cluster",
    "Create compute cluster",
    params=kinds.CreateCluster,
    reconcile=expect_state(_compute_state, ("creating", "succeeded", "steady", "resizing"), ("",)),
)
def create_cluster(
    session: Session,
    target: Target,
    *,
    name: str,
    size: str,
    min_instances: int,
    max_instances: int,
    idle_seconds: int = 1800,
    tier: str = "dedicated",
    location: str = "",
    offered_sizes: tuple[str, ...] = (),
    quota: kinds.Quota = None,
) -> None:
    """Create an AmlCompute cluster (the rules: kinds.CreateCluster)."""
    from azure.ai.ml.entities import AmlCompute

    compute = AmlCompute(
        name=name,
        size=size,
        min_instances=min_instances,
        max_instances=max_instances,
        idle_time_before_scale_down=idle_seconds,
        tier=tier,
    )
    _ml(session, target).compute.begin_create_or_update(compute).result()


@operation(
    "compute.create_instance",
    "Create compute instance",
    params=kinds.CreateInstance,
    reconcile=expect_state(_compute_state, ("creating", "succeeded", "running", "starting"), ("",)),
)
def create_instance(
    session: Session,
    target: Target,
    *,
    name: str,
    size: str,
    location: str = "",
    offered_sizes: tuple[str, ...] = (),
    assigned_user_object_id: str = "",
    assigned_user_tenant_id: str = "",
    quota: kinds.Quota = None,
) -> None:
    """Create a compute instance, for another user when an object id is given (the rules: kinds.CreateInstance)."""
    from azure.ai.ml.entities import AssignedUserConfiguration, ComputeInstance

    on_behalf = None
    if assigned_user_object_id:  # a personal instance for another user
        on_behalf = AssignedUserConfiguration(
            user_tenant_id=assigned_user_tenant_id, user_object_id=assigned_user_object_id
        )
    instance = ComputeInstance(name=name, size=size, create_on_behalf_of=on_behalf)
    _ml(session, target).compute.begin_create_or_update(instance).result()


@operation(
    "compute.update_scale",
    "Update cluster scale settings",
    params=kinds.UpdateScale,
    reconcile=_reconcile_scale,
)
def update_scale(
    session: Session, target: Target, *, min_instances: int, max_instances: int, idle_seconds: int
) -> None:
    ml = _ml(session, target)
    compute = ml.compute.get(target.name)
    compute.min_instances = min_instances
    compute.max_instances = max_instances
    compute.idle_time_before_scale_down = idle_seconds
    ml.compute.begin_update(compute).result()


@operation(
    "compute.delete",
    "Delete compute",
    params=kinds.DeleteCompute,
    destructive=True,
    reconcile=expect_state(_compute_state, ("", "deleting"), ("*",)),
)
def delete_compute(session: Session, target: Target) -> None:
    _ml(session, target).compute.begin_delete(target.name).result()
