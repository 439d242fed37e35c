"""Compute (clusters, instances, attached Kubernetes) per workspace, and the regional quota it draws on."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from .. import validation as v
from ..kind import (
    BOOL,
    INT,
    STR,
    STR_LIST,
    TIME,
    Action,
    Column,
    Kind,
    Layout,
    Loaded,
    LoadOptions,
    Target,
    described,
    enum,
    iso_utc,
)
from ..models import Compute, Usage, VmSize
from ..params import GUID, Check, Matches, OneOf, Param, Params

NODE_STATES = ("running", "idle", "preparing", "unusable", "preempted", "leaving")
NODES_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": list(NODE_STATES),
    "properties": {s: {"type": "integer", "minimum": 0} for s in NODE_STATES},
}

# the states an instance must be in for each instance action
INSTANCE_FROM = {"start": ("stopped",), "stop": ("running", "jobrunning"), "restart": ("running", "jobrunning")}


def _instance_rule(action: str) -> Any:
    def unavailable(c: Compute) -> str:
        verb = action.capitalize()
        if c.kind != "instance":
            return f"{verb} applies to compute instances; {c.name} is a {c.kind}."
        if c.state.lower().replace(" ", "") not in INSTANCE_FROM[action]:
            wanted = "a stopped" if action == "start" else "a running"
            return f"{c.name} is {c.state}: {verb} applies to {wanted} instance."
        return ""

    return unavailable


def _cluster_only(what: str) -> Any:
    def unavailable(c: Compute) -> str:
        if c.kind == "cluster":
            return ""
        if what == "nodes":
            return f"{c.name} is a {c.kind}: only clusters have nodes."
        return f"Scale settings apply to clusters; {c.name} is a {c.kind}."

    return unavailable


# -- the actions' parameters -------------------------------------------------------------------------


def quota_rule(
    quota: tuple[str, int, int, int] | None, nodes: int, field: str, tier: str = "dedicated"
) -> v.FieldError | None:
    """Refused before sending when the request needs more vCPUs than the size's family has left.

    ``quota``: (family label, vCPUs per node, vCPUs left, limit), from the region's usages (None: unknown); a
    dedicated cluster at its maximum, or an instance, must fit in what is left (low priority has its own)."""
    if not quota or tier == "low_priority":
        return None
    family, per_node, left, limit = quota
    need = nodes * int(per_node)
    if need <= int(left):
        return None
    what = f"{nodes} nodes x {per_node} vCPUs = {need} vCPUs" if field == "max_instances" else f"{need} vCPUs"
    return v.FieldError(field, f"{what} exceeds the {family} quota left: {left} of {limit} vCPUs")


Quota = tuple[str, int, int, int] | None
IDLE = Check(v.idle_seconds)
NODES_MIN = Param("Minimum nodes", az="--min-instances")
NODES_MAX = Param("Maximum nodes", az="--max-instances")
IDLE_SECONDS = Param("Idle seconds before scale-down", rules=(IDLE,), az="--idle-time-before-scale-down")
SIZE = Param("VM size", "ctrl+o picks from the region's sizes", az="--size", initial="Standard_DS3_v2")


class _NewCompute(Params):
    """A compute to create in a workspace, on a VM size the region offers and its family's quota allows."""

    AZ = "az ml compute create"
    KIND = "cluster"  # of its name's rule
    TYPE = ""  # its --type

    name: Annotated[str, Param("Name", "letters, digits, hyphens", az="--name")] = ""
    size: Annotated[str, SIZE] = ""
    location: Annotated[str, Param("Region", form=None)] = ""
    offered_sizes: Annotated[tuple[str, ...], Param("VM sizes of the region", form=None)] = ()
    quota: Annotated[Quota, Param("The size family's quota", form=None)] = None

    def az_args(self) -> list[str]:
        args = super().az_args()
        at = 1 if args and args[0].startswith("--name ") else 0
        return [*args[:at], f"--type {self.TYPE}", *args[at:]]  # the type right after the name, as az ml shows it

    def common_rules(self, nodes: int, field: str, tier: str = "dedicated") -> list[v.FieldError | None]:
        return [
            v.compute_name(self.name, kind=self.KIND),
            v.vm_size_offered(self.size, self.offered_sizes, self.location),
            quota_rule(self.quota, nodes, field, tier),
        ]


class CreateCluster(_NewCompute):
    TYPE = "AmlCompute"

    min_instances: Annotated[int, NODES_MIN] = 0
    max_instances: Annotated[int, NODES_MAX] = 4
    idle_seconds: Annotated[int, IDLE_SECONDS] = 1800
    tier: Annotated[str, Param("Tier", rules=(OneOf(("dedicated", "low_priority")),), az="--tier")] = "dedicated"

    def rules(self) -> Iterable[v.FieldError | None]:
        nodes = v.node_range(self.min_instances, self.max_instances)
        return [nodes, *self.common_rules(self.max_instances, "max_instances", self.tier)]


OBJECT_ID = Matches(GUID, "must be an object id (a GUID)", optional=True)


class CreateInstance(_NewCompute):
    KIND = "instance"
    TYPE = "ComputeInstance"

    assigned_user_object_id: Annotated[
        str, Param("Assigned user's object id", "empty: yourself", rules=(OBJECT_ID,))
    ] = ""
    assigned_user_tenant_id: Annotated[str, Param("Assigned user's tenant id", "with the object id")] = ""

    def rules(self) -> Iterable[v.FieldError | None]:
        oid, tenant = self.assigned_user_object_id, self.assigned_user_tenant_id
        rules = self.common_rules(1, "size")
        if oid and not re.fullmatch(GUID, tenant):
            rules.append(v.FieldError("assigned_user_tenant_id", "must be the user's tenant id (a GUID)"))
        if tenant and not oid:
            rules.append(v.FieldError("assigned_user_object_id", "give the user's object id with a tenant id"))
        return rules

    def az_args(self) -> list[str]:
        args = super().az_args()
        if self.assigned_user_object_id:
            args.append(f"--user-tenant-id {self.assigned_user_tenant_id}")
            args.append(f"--user-object-id {self.assigned_user_object_id}")
        return args


class UpdateScale(Params):
    AZ = "az ml compute update"
    AZ_TARGET = "--name"

    min_instances: Annotated[int, NODES_MIN] = 0
    max_instances: Annotated[int, NODES_MAX] = 0
    idle_seconds: Annotated[int, IDLE_SECONDS] = 1800

    def rules(self) -> Iterable[v.FieldError | None]:
        return [v.node_range(self.min_instances, self.max_instances)]


class StartInstance(Params):
    AZ = "az ml compute start"
    AZ_TARGET = "--name"


class StopInstance(Params):
    AZ = "az ml compute stop"
    AZ_TARGET = "--name"


class RestartInstance(Params):
    AZ = "az ml compute restart"
    AZ_TARGET = "--name"


class DeleteCompute(Params):
    AZ = "az ml compute delete"
    AZ_TARGET = "--name"
    AZ_FLAGS = "--yes"


def load_compute(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import compute

    assert target.workspace is not None
    return Loaded({"compute": list(compute.list_computes(session, target.workspace))})


@dataclass(frozen=True)
class RegionalUsage:
    """One quota line of a subscription in a region."""

    subscription_id: str
    location: str
    usage: Usage

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/locations/{self.location}/usages/{self.usage.name}"

    @property
    def name(self) -> str:
        return self.usage.name

    @property
    def percent(self) -> float | None:
        """The share of the limit in use, one decimal; None where there is no limit of its own."""
        return None if self.usage.limit <= 0 else round(self.usage.percent, 1)


def load_quota(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import compute

    usages = compute.list_usages(session, target.subscription_id, target.location)
    rows = [RegionalUsage(target.subscription_id, target.location, u) for u in compute.regional_usages(usages)]
    return Loaded({"quota": rows})


def _c(f: str) -> Any:
    return lambda c: getattr(c, f)


def _u(f: str) -> Any:
    return lambda r: getattr(r.usage, f)


def _nodes(c: Compute) -> dict[str, int]:
    return {s: getattr(c.nodes, s) for s in NODE_STATES}


def _nodes_md(nodes: dict[str, int]) -> str:
    return "{running}r/{idle}i/{preparing}p/{unusable}u/{preempted}x".format(**nodes)


def _scale(c: Compute) -> str:
    return f"{c.min_nodes}-{c.max_nodes}" if c.kind == "cluster" else ""


# The quota kind's screen lists the region's VM sizes, each with the usage of its family's dedicated quota
# (``SizeQuota``): its screen-only columns read those rows, its snapshot columns the regional usages.
SizeQuota = tuple[VmSize, Usage | None]


def _s(f: str) -> Any:
    return lambda m: getattr(m[0], f)


def family_quota(m: SizeQuota) -> str:
    u = m[1]
    return f"{u.current}/{u.limit} ({u.percent:.0f}%)" if u is not None and u.limit > 0 else ""


def _family(m: SizeQuota) -> str:
    return m[0].family.removeprefix("standard").removesuffix("Family")  # standardNCADSA100v4Family → NCADSA100v4


KINDS = (
    Kind(
        name="compute",
        title="Compute",
        model=Compute,
        order=20,
        loader=load_compute,
        service="services.compute",
        help="Clusters, instances and attached Kubernetes of the workspace",
        aliases=("computes", "c", "co"),
        screen="screens.compute:ComputeScreen",
        # the nodes by state, then how far the cluster may scale, then its priority
        markdown=(
            "workspace",
            "name",
            "kind",
            "vm_size",
            "gpus",
            "state",
            "nodes",
            "min_nodes",
            "max_nodes",
            "priority",
        ),
        sort_key=lambda r: (r["workspace"].lower(), r["name"].lower()),
        # on screen: the nodes by state, then how far a cluster scales and how soon it scales down, then its tier
        screen_order=(
            "name",
            "kind",
            "vm_size",
            "gpus",
            "state",
            "nodes",
            "scale",
            "idle_seconds_before_scale_down",
            "priority",
        ),
        columns=(
            Column("workspace", "Workspace", _c("workspace"), md=True),
            Column("name", "Name", _c("name"), priority=0, md=True, layout=Layout(flex=True, min_width=14)),
            Column("id", "Id", _c("id")),
            Column(
                "kind",
                "Kind",
                _c("kind"),
                enum("cluster", "instance", "kubernetes", "other"),
                priority=0,
                md=True,
                layout=Layout(max_width=8),
            ),
            Column("compute_type", "Compute type", _c("compute_type")),
            Column("location", "Location", _c("location")),
            Column("vm_size", "VM size", _c("vm_size"), priority=0, md=True, layout=Layout(min_width=12, max_width=24)),
            Column("vcpus", "vCPUs", _c("vcpus"), INT),
            Column("gpus", "GPUs", _c("gpus"), INT, priority=0, md=True, layout=Layout("GPU", width=3)),
            Column("state", "State", _c("state"), priority=0, md=True, layout=Layout(max_width=12)),
            Column("provisioning_state", "Provisioning", _c("provisioning_state")),
            Column("priority", "Priority", _c("priority"), priority=2, layout=Layout("Tier", max_width=9)),
            Column("min_nodes", "Min nodes", _c("min_nodes"), INT),
            Column("max_nodes", "Max nodes", _c("max_nodes"), INT),
            Column(
                "idle_seconds_before_scale_down",
                "Idle before scale down (s)",
                _c("idle_seconds"),
                INT,
                priority=1,
                layout=Layout("Idle", max_width=5, align="left"),  # on screen as a duration ("30m")
            ),
            Column("current_nodes", "Current nodes", _c("current_nodes"), INT),
            Column("target_nodes", "Target nodes", _c("target_nodes"), INT),
            Column(
                "nodes",
                "Nodes",
                _nodes,
                NODES_SCHEMA,
                priority=0,
                md_format=_nodes_md,
                layout=Layout("Nodes r/i/p/x", max_width=13),  # running/idle/preparing/other on screen
            ),
            Column(
                "scale",
                "Min-max nodes",
                _scale,
                priority=0,
                layout=Layout("Min-max", max_width=7),
                snapshot=False,  # the snapshot has min_nodes and max_nodes
            ),
            Column("instance_type", "Instance type", _c("instance_type")),
            Column("namespace", "Namespace", _c("namespace")),
            Column("created_on", "Created", lambda c: iso_utc(c.created_on), TIME),
            Column("errors", "Errors", lambda c: list(c.errors), STR_LIST),
        ),
        actions=(
            Action("start", "compute.start", "a", _instance_rule("start"), params=StartInstance),
            Action("stop", "compute.stop", "o", _instance_rule("stop"), params=StopInstance),
            Action("restart", "compute.restart", "R", _instance_rule("restart"), params=RestartInstance),
            Action("delete", "compute.delete", "D", params=DeleteCompute),
            Action("scale", "compute.update_scale", "e", _cluster_only("scale"), params=UpdateScale),
            Action("nodes", "", "n", _cluster_only("nodes")),
            Action("create_cluster", "compute.create_cluster", "c", on_row=False, params=CreateCluster),
            Action("create_instance", "compute.create_instance", "i", on_row=False, params=CreateInstance),
        ),
    ),
    Kind(
        name="quota",
        title="Quota",
        model=RegionalUsage,
        order=25,
        scope="region",
        loader=load_quota,
        area="compute",
        service="services.compute",
        command="sizes",
        help="VM sizes and quota use in the workspace's region",
        aliases=("vmsizes", "quota", "usage"),
        screen="screens.compute:SizesScreen",
        sort_key=lambda r: (r["subscription_id"], r["location"], r["label"].lower(), r["name"]),
        columns=(
            Column("subscription_id", "Subscription", lambda r: r.subscription_id, md=True),
            Column("location", "Region", lambda r: r.location, md=True),
            Column("name", "Name", _u("name")),
            Column("label", "Quota", _u("label"), md=True),
            Column("current", "Current", _u("current"), INT, md=True),
            Column(
                "limit",
                "Limit",
                _u("limit"),
                described(INT, "-1: no limit of its own (shares the regional total)"),
                md=True,
            ),
            Column("unit", "Unit", _u("unit"), STR),
            Column(
                "percent",
                "Percent",
                lambda r: r.percent,
                {"type": ["number", "null"], "minimum": 0},
                md=True,
                md_format=lambda v: "" if v is None else f"{v}%",
            ),
            # on screen: the region's VM sizes, each with its family's quota use (screen-only: rows of SizeQuota)
            Column(
                "vm_size",
                "VM size",
                _s("name"),
                priority=0,
                layout=Layout(flex=True, min_width=18),
                snapshot=False,
            ),
            Column("vcpus", "vCPUs", _s("vcpus"), INT, priority=0, layout=Layout("vCPU", width=4), snapshot=False),
            Column(
                "memory_gb",
                "Memory (GB)",
                _s("memory_gb"),
                {"type": "number"},
                priority=0,
                layout=Layout("Mem GB", width=6),
                snapshot=False,
            ),
            Column("gpus", "GPUs", _s("gpus"), INT, priority=0, layout=Layout("GPU", width=3), snapshot=False),
            Column(
                "low_priority",
                "Low priority",
                _s("low_priority_capable"),
                BOOL,
                priority=0,
                layout=Layout("LowPri", max_width=6),
                snapshot=False,
            ),
            Column(
                "family_quota",
                "Family quota used",
                family_quota,
                priority=0,
                layout=Layout(max_width=20),
                snapshot=False,
            ),
            Column("family", "Family", _family, priority=0, layout=Layout(max_width=16), snapshot=False),
        ),
    ),
)
