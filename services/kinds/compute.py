"""Compute (clusters, instances, attached Kubernetes) per workspace, and the regional quota it draws on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..kind import INT, STR, STR_LIST, TIME, Action, Column, Kind, Loaded, LoadOptions, Target, described, enum, iso_utc
from ..models import Compute, Usage

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
        columns=(
            Column("workspace", "Workspace", _c("workspace"), md=True),
            Column("name", "Name", _c("name"), md=True),
            Column("id", "Id", _c("id")),
            Column("kind", "Kind", _c("kind"), enum("cluster", "instance", "kubernetes", "other"), md=True),
            Column("compute_type", "Compute type", _c("compute_type")),
            Column("location", "Location", _c("location")),
            Column("vm_size", "VM size", _c("vm_size"), md=True),
            Column("vcpus", "vCPUs", _c("vcpus"), INT),
            Column("gpus", "GPUs", _c("gpus"), INT, md=True),
            Column("state", "State", _c("state"), md=True),
            Column("provisioning_state", "Provisioning", _c("provisioning_state")),
            Column("priority", "Priority", _c("priority")),
            Column("min_nodes", "Min nodes", _c("min_nodes"), INT),
            Column("max_nodes", "Max nodes", _c("max_nodes"), INT),
            Column("idle_seconds_before_scale_down", "Idle before scale down (s)", _c("idle_seconds"), INT),
            Column("current_nodes", "Current nodes", _c("current_nodes"), INT),
            Column("target_nodes", "Target nodes", _c("target_nodes"), INT),
            Column("nodes", "Nodes", _nodes, NODES_SCHEMA, md_format=_nodes_md),
            Column("instance_type", "Instance type", _c("instance_type")),
            Column("namespace", "Namespace", _c("namespace")),
            Column("created_on", "Created", lambda c: iso_utc(c.created_on), TIME),
            Column("errors", "Errors", lambda c: list(c.errors), STR_LIST),
        ),
        actions=(
            Action("start", "compute.start", "a", _instance_rule("start")),
            Action("stop", "compute.stop", "o", _instance_rule("stop")),
            Action("restart", "compute.restart", "R", _instance_rule("restart")),
            Action("delete", "compute.delete", "D"),
            Action("scale", "compute.update_scale", "e", _cluster_only("scale")),
            Action("nodes", "", "n", _cluster_only("nodes")),
            Action("create_cluster", "compute.create_cluster", "c", on_row=False),
            Action("create_instance", "compute.create_instance", "i", on_row=False),
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
        ),
    ),
)
