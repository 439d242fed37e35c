"""Compute: clusters, instances and attached Kubernetes; nodes of a cluster; VM sizes and quota."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType

from screens.base import ResourceScreen, mutating, state_text
from screens.kind_list import KindScreen
from screens.modals import Field, FormScreen, field_errors
from screens.size_picker import size_summary
from screens.widgets.table import Cell, Column
from services.kinds import kind
from services.models import Compute, ComputeNode, Usage, VmSize, Workspace
from services.times import iso

if TYPE_CHECKING:
    from services.mutations import Target
    from services.session import Session


def _duration(seconds: int) -> str:
    if not seconds:
        return "-"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _int(values: Mapping[str, str], name: str, errors: dict[str, str]) -> int:
    try:
        return int(values.get(name, "").strip())
    except ValueError:
        errors[name] = "must be a whole number"
        return 0


def _nodes_of(params: Mapping[str, object]) -> int:
    value = params.get("max_instances", 1)
    return value if isinstance(value, int) else 1


def _target(ws: Workspace, name: str = "") -> Target:
    from services.mutations import Target

    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


# The states each instance action starts from (Azure answers any other with a conflict).
class ComputeScreen(KindScreen):
    """The compute kind's list (rows from its loader, the same the snapshot reads; keys by the rules its actions
    declare), with its own columns, cells and describe."""

    KIND = kind("compute")
    TITLE = "Compute"
    STATE_COLUMN = "state"
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("name", "Name", flex=True, min_width=14),
        Column("kind", "Kind", max_width=8),
        Column("size", "VM size", max_width=24, min_width=12),
        Column("gpus", "GPU", numeric=True, width=3),
        Column("state", "State", max_width=12),
        Column("nodes", "Nodes r/i/p/x", max_width=13),
        Column("scale", "Min-max", max_width=7),
        Column("idle", "Idle", max_width=5, drop=1),
        Column("priority", "Tier", max_width=9, drop=2),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "nodes", "Nodes", id="compute.nodes"),
        Binding("a", "start", "Start", id="compute.start"),
        Binding("o", "stop", "Stop", id="compute.stop"),
        Binding("R", "restart", "Restart", id="compute.restart"),
        Binding("e", "scale", "Scale", id="compute.scale"),
        Binding("c", "create_cluster", "New cluster", id="compute.create_cluster"),
        Binding("i", "create_instance", "New instance", show=False, id="compute.create_instance"),
        Binding("D", "delete", "Delete", id="compute.delete"),
        Binding("g", "gpu_only", "GPU only", show=False, id="compute.gpu_only"),
    ]

    def cells(self, c: Compute) -> Sequence[Cell]:
        n = c.nodes
        if c.kind == "cluster":
            other = n.unusable + n.preempted + n.leaving
            nodes: Cell = f"{n.running}/{n.idle}/{n.preparing}/{other}"
            if n.unusable or n.preempted:
                nodes = Text(str(nodes), style="yellow")
            scale = f"{c.min_nodes}-{c.max_nodes}"
        else:
            nodes, scale = "", ""
        return (
            c.name,
            "k8s" if c.kind == "kubernetes" else c.kind,
            c.vm_size or c.instance_type,
            c.gpus or None,
            state_text(c.state),
            nodes,
            scale,
            _duration(c.idle_seconds) if c.kind == "cluster" else "",
            {"LowPriority": "low-pri", "Dedicated": "dedicated"}.get(c.priority, c.priority),
        )

    def describe_fields(self, c: Compute) -> list[tuple[str, str]]:
        n = c.nodes
        fields = [
            ("Name", c.name),
            ("Id", c.id),
            ("Type", f"{c.compute_type} ({c.kind})"),
            ("Region", c.location),
            ("VM size", c.vm_size or "-"),
            ("vCPUs / GPUs", f"{c.vcpus} / {c.gpus}"),
            ("State", c.state),
            ("Provisioning", c.provisioning_state),
        ]
        if c.kind == "cluster":
            fields += [
                ("Priority", c.priority),
                ("Scale", f"min {c.min_nodes}, max {c.max_nodes}, idle {_duration(c.idle_seconds)} before scale-down"),
                ("Nodes", f"current {c.current_nodes}, target {c.target_nodes}"),
                (
                    "Node states",
                    f"running {n.running}, idle {n.idle}, preparing {n.preparing}, unusable {n.unusable}, "
                    f"leaving {n.leaving}, preempted {n.preempted}",
                ),
            ]
        if c.kind == "kubernetes":
            fields += [("Instance type", c.instance_type), ("Namespace", c.namespace)]
        if c.assigned_user:
            tenant = f" (tenant {c.assigned_user_tenant})" if c.assigned_user_tenant else ""
            fields.append(("Assigned user", f"object id {c.assigned_user}{tenant}"))
        fields += [("Created", iso(c.created_on)), ("Description", c.description)]
        fields += [("Error", e) for e in c.errors]
        return fields

    def open(self, key: str) -> None:
        model = self.models.get(key)
        if model is not None and model.kind == "cluster":
            self.action_nodes()
        else:
            self.action_describe()

    gpu_only = False

    def include(self, c: Compute) -> bool:
        return c.is_gpu or not self.gpu_only

    def subtitle(self) -> str:
        return "GPU only" if self.gpu_only else ""

    def action_gpu_only(self) -> None:
        self.gpu_only = not self.gpu_only
        self._update_title()
        self._render_rows()

    def action_nodes(self) -> None:
        c = self.current()
        if c is None:
            return
        reason = self.unavailable("nodes", c)
        if reason:
            self.notify(reason, severity="warning")
            return
        self.app.push_screen(NodesScreen(c.name))

    def _instance_action(self, operation: str, verb: str, doing: str, done: str) -> None:
        c = self.current()
        ws = self.workspace
        if c is None or ws is None or self.session is None:
            return
        from services import compute

        session = self.session
        target = _target(ws, c.name)
        fn = {"compute.start": compute.start_instance, "compute.stop": compute.stop_instance}.get(
            operation, compute.restart_instance
        )
        self.act(
            operation,
            target,
            {},
            lambda: fn(session, target),
            key=c.key,
            doing=doing,
            done=f"{c.name}: {done}",
            details=(f"Current state: {c.state}",),
        )

    @mutating("compute.start")
    def action_start(self) -> None:
        self._instance_action("compute.start", "Start", "starting", "started")

    @mutating("compute.stop")
    def action_stop(self) -> None:
        self._instance_action("compute.stop", "Stop", "stopping", "stopped")

    @mutating("compute.restart")
    def action_restart(self) -> None:
        self._instance_action("compute.restart", "Restart", "restarting", "restarted")

    @mutating("compute.delete")
    def action_delete(self) -> None:
        c = self.current()
        ws = self.workspace
        if c is None or ws is None or self.session is None:
            return
        from services import compute

        session = self.session
        target = _target(ws, c.name)
        self.act(
            "compute.delete",
            target,
            {},
            lambda: compute.delete_compute(session, target),
            key=c.key,
            doing="deleting",
            done=f"{c.name}: deleted",
            details=(f"{c.kind} {c.vm_size}, {c.current_nodes} nodes now",),
        )

    @mutating("compute.update_scale")
    def action_scale(self) -> None:
        c = self.current()
        ws = self.workspace
        if c is None or ws is None or self.session is None:
            return
        from services import compute
        from services.mutations import registry

        op = registry()["compute.update_scale"]
        session = self.session
        target = _target(ws, c.name)

        def validate(values: dict[str, str]) -> dict[str, str]:
            errors: dict[str, str] = {}
            params = {
                "min_instances": _int(values, "min_instances", errors),
                "max_instances": _int(values, "max_instances", errors),
                "idle_seconds": _int(values, "idle_seconds", errors),
            }
            if errors:
                return errors
            try:
                if op.validate:
                    op.validate(params)
            except Exception as e:
                return field_errors(e)
            return {}

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            params = {k: int(v) for k, v in values.items()}
            self.act(
                "compute.update_scale",
                target,
                params,
                lambda: compute.update_scale(session, target, **params),
                key=c.key,
                doing="updating",
                done=f"{c.name}: scale {params['min_instances']}-{params['max_instances']}",
            )

        self.app.push_screen(
            FormScreen(
                f"Scale {c.name}",
                [
                    Field("min_instances", "Minimum nodes", str(c.min_nodes)),
                    Field("max_instances", "Maximum nodes", str(c.max_nodes)),
                    Field("idle_seconds", "Idle seconds before scale-down", str(c.idle_seconds)),
                ],
                validate,
            ),
            callback=submitted,
        )

    def _create(self, kind: str) -> None:
        ws, session = self.workspace, self.session
        if ws is None or session is None:
            return
        self._status(f"reading the VM sizes and quota of {ws.location}…")
        self._load_sizes(session, ws, kind)

    @work(thread=True, exclusive=True, group="sizes", exit_on_error=False)
    def _load_sizes(self, session: Session, ws: Workspace, kind: str) -> None:
        try:
            rows = sizes_with_usage(session, ws)
        except Exception as e:
            from services.errors import describe

            message = f"Cannot read the VM sizes and quota of {ws.location}: {describe(e)}"
            self.app.call_from_thread(self.notify, message, severity="error")
            return
        self.app.call_from_thread(self._create_form, session, ws, kind, rows)

    def _create_form(
        self, session: Session, ws: Workspace, kind: str, rows: dict[str, tuple[VmSize, Usage | None]]
    ) -> None:
        from screens.size_picker import ComputeFormScreen, quota_of
        from services import compute
        from services.mutations import registry

        self._status(self._summary())
        operation = "compute.create_cluster" if kind == "cluster" else "compute.create_instance"
        op = registry()[operation]
        offered = tuple(s.name for s, _ in rows.values())

        def params_of(values: dict[str, str], errors: dict[str, str]) -> dict[str, object]:
            params: dict[str, object] = {
                "name": values.get("name", ""),
                "size": values.get("size", ""),
                "location": ws.location,
                "offered_sizes": offered,
                "quota": quota_of(rows, values.get("size", "")),
            }
            if kind == "cluster":
                params["min_instances"] = _int(values, "min_instances", errors)
                params["max_instances"] = _int(values, "max_instances", errors)
                params["idle_seconds"] = _int(values, "idle_seconds", errors)
                params["tier"] = values.get("tier", "dedicated") or "dedicated"
            else:
                params["assigned_user_object_id"] = values.get("assigned_user_object_id", "")
                params["assigned_user_tenant_id"] = values.get("assigned_user_tenant_id", "")
            return params

        def validate(values: dict[str, str]) -> dict[str, str]:
            errors: dict[str, str] = {}
            params = params_of(values, errors)
            if errors:
                return errors
            try:
                if op.validate:
                    op.validate(params)
            except Exception as e:
                return field_errors(e)
            return {}

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            params = params_of(values, {})
            if kind == "instance" and not params["assigned_user_object_id"]:
                params.pop("assigned_user_object_id")
                params.pop("assigned_user_tenant_id")
            target = _target(ws)
            fn = compute.create_cluster if kind == "cluster" else compute.create_instance
            shown = {k: v for k, v in params.items() if k not in ("offered_sizes", "quota")}
            details = [f"VM size {params['size']}: {size_summary(rows, str(params['size']), _nodes_of(params))}"]
            if params.get("assigned_user_object_id"):
                details.append(
                    f"Assigned to user {params['assigned_user_object_id']} (tenant {params['assigned_user_tenant_id']})"
                )
            self.act(
                operation,
                target,
                shown,
                lambda: fn(session, target, **params),  # type: ignore[arg-type]
                key=None,
                doing="creating",
                done=f"{params['name']}: created",
                details=details,
            )

        fields = [
            Field("name", "Name", "", "letters, digits, hyphens"),
            Field("size", "VM size", "Standard_DS3_v2", "ctrl+o picks from the region's sizes"),
        ]
        if kind == "cluster":
            fields += [
                Field("min_instances", "Minimum nodes", "0"),
                Field("max_instances", "Maximum nodes", "4"),
                Field("idle_seconds", "Idle seconds before scale-down", "1800"),
                Field("tier", "Tier", "dedicated", "dedicated or low_priority"),
            ]
        else:
            fields += [
                Field("assigned_user_object_id", "Assigned user's object id", "", "empty: yourself"),
                Field("assigned_user_tenant_id", "Assigned user's tenant id", session.tenant_id),
            ]
        title = "New compute cluster" if kind == "cluster" else "New compute instance"
        self.app.push_screen(ComputeFormScreen(f"{title} in {ws.name}", fields, validate, rows), callback=submitted)

    @mutating("compute.create_cluster", on_row=False)
    def action_create_cluster(self) -> None:
        self._create("cluster")

    @mutating("compute.create_instance", on_row=False)
    def action_create_instance(self) -> None:
        self._create("instance")


class NodesScreen(ResourceScreen[ComputeNode]):
    """A cluster's nodes, each with its mean CPU and GPU utilisation over the last minutes (Log Analytics'
    AmlComputeCpuGpuUtilization: per node and device, which the workspace's platform metrics are not)."""

    TITLE = "Nodes"
    STATE_COLUMN = "state"
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("node", "Node", flex=True, min_width=12),
        Column("state", "State", max_width=10),
        Column("cpu", "CPU%", numeric=True, width=5),
        Column("gpu", "GPU%", numeric=True, width=5),
        Column("gpu_memory", "GMem%", numeric=True, width=5, drop=2),
        Column("private_ip", "Private IP", max_width=15),
        Column("public_ip", "Public IP:port", max_width=22, drop=1),
        Column("run", "Run", max_width=36),
    )

    def __init__(self, cluster: str) -> None:
        super().__init__(cluster)
        self.cluster = cluster
        self.utilization: dict[str, Any] = {}  # node id → NodeUtilization
        self.utilization_note = ""  # why there is none, when there is none

    def subtitle(self) -> str:
        return self.cluster

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, ComputeNode]:
        from services import compute
        from services.errors import describe
        from services.node_utilization import WINDOW, node_utilization

        assert workspace is not None
        nodes = {n.node_id: n for n in compute.list_nodes(session, workspace, self.cluster)}
        try:
            self.utilization = node_utilization(session, workspace, self.cluster) if nodes else {}
            minutes = int(WINDOW.total_seconds() // 60)
            self.utilization_note = f"CPU/GPU%: mean of the last {minutes} min, Log Analytics"
        except Exception as e:  # the nodes still show; the line says why the utilisation does not
            self.utilization = {}
            self.utilization_note = f"no utilisation: {describe(e)}"
        return nodes

    def _summary(self) -> str:
        base = super()._summary()
        return f"{base} · {self.utilization_note}" if self.utilization_note else base

    def model_id(self, n: ComputeNode) -> str:
        return n.node_id

    def model_name(self, n: ComputeNode) -> str:
        return n.node_id

    def cells(self, n: ComputeNode) -> Sequence[Cell]:
        public = f"{n.public_ip}:{n.port}" if n.public_ip else ""
        u = self.utilization.get(n.node_id)
        cpu, gpu, mem = (u.cpu, u.gpu, u.gpu_memory) if u is not None else (None, None, None)
        return (n.node_id, state_text(n.state), cpu, gpu, mem, n.private_ip, public, n.run_id)

    def describe_fields(self, n: ComputeNode) -> list[tuple[str, str]]:
        u = self.utilization.get(n.node_id)

        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:g}%"

        fields = [(k, str(v)) for k, v in vars(n).items()]
        if u is not None:
            fields += [("CPU", pct(u.cpu)), ("GPU", pct(u.gpu)), ("GPU memory", pct(u.gpu_memory))]
        fields.append(("Utilisation", self.utilization_note or "-"))
        return fields


class SizesScreen(ResourceScreen[tuple[VmSize, Usage | None]]):
    """VM sizes of the workspace's region with the quota use of each size's family."""

    TITLE = "VM sizes and quota"
    STATE_COLUMN = ""
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("name", "VM size", flex=True, min_width=18),
        Column("vcpus", "vCPU", numeric=True, width=4),
        Column("memory", "Mem GB", numeric=True, width=6),
        Column("gpus", "GPU", numeric=True, width=3),
        Column("lowpri", "LowPri", max_width=6),
        Column("quota", "Family quota used", max_width=20),
        Column("family", "Family", max_width=16),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "gpu_only", "GPU only", id="sizes.gpu_only"),
    ]

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, tuple[VmSize, Usage | None]]:

        assert workspace is not None
        return sizes_with_usage(session, workspace)

    def model_id(self, m: tuple[VmSize, Usage | None]) -> str:
        return m[0].name

    def model_name(self, m: tuple[VmSize, Usage | None]) -> str:
        return m[0].name

    def cells(self, m: tuple[VmSize, Usage | None]) -> Sequence[Cell]:
        s, u = m
        quota: Cell = ""
        if u is not None and u.limit > 0:
            quota = f"{u.current}/{u.limit} ({u.percent:.0f}%)"
            if u.percent >= 80:
                quota = Text(str(quota), style="bold yellow")
        return (
            s.name,
            s.vcpus,
            s.memory_gb,
            s.gpus or None,
            "yes" if s.low_priority_capable else "no",
            quota,
            s.family.removeprefix("standard").removesuffix("Family"),  # standardNCADSA100v4Family → NCADSA100v4
        )

    def describe_fields(self, m: tuple[VmSize, Usage | None]) -> list[tuple[str, str]]:
        s, u = m
        fields = [
            ("VM size", s.name),
            ("Family", s.family),
            ("vCPUs", str(s.vcpus)),
            ("Memory", f"{s.memory_gb:g} GB"),
            ("GPUs", str(s.gpus)),
            ("Low priority", "yes" if s.low_priority_capable else "no"),
            ("Premium IO", "yes" if s.premium_io else "no"),
            ("Compute types", ", ".join(s.compute_types)),
        ]
        if u is not None:
            fields.append(("Family quota", f"{u.label}: {u.current} of {u.limit} {u.unit.lower()}"))
        return fields

    gpu_only = False

    def include(self, m: tuple[VmSize, Usage | None]) -> bool:
        return m[0].gpus > 0 or not self.gpu_only

    def subtitle(self) -> str:
        return "GPU only" if self.gpu_only else ""

    def action_gpu_only(self) -> None:
        self.gpu_only = not self.gpu_only
        self._update_title()
        self._render_rows()


def sizes_with_usage(session: Session, workspace: Workspace) -> dict[str, tuple[VmSize, Usage | None]]:
    """The region's VM sizes, each with its family's dedicated quota use (None when no usage row matches)."""
    from services import compute

    sizes = compute.vm_sizes(session, workspace.subscription_id, workspace.location)
    usages = compute.list_usages(session, workspace.subscription_id, workspace.location)
    family_usage = compute.family_usages(usages)  # the same type rule as the snapshot's quota table
    return {s.name.lower(): (s, _family_usage(s.family, family_usage)) for s in sizes}


def _family_usage(family: str, usages: Mapping[str, Usage]) -> Usage | None:
    """Match a size's family (standardNCADSA100v4Family) to its usage row, whose naming differs."""
    want = "".join(ch for ch in family.lower() if ch.isalnum()).removesuffix("family").removeprefix("standard")
    for name, u in usages.items():
        label = "".join(ch for ch in (u.label or name).lower() if ch.isalnum())
        label = label.removeprefix("standard")
        if label.startswith(want) and "family" in label:
            return u
    return None
