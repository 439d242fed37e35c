"""Compute: clusters, instances and attached Kubernetes; nodes of a cluster; VM sizes and quota."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType

from screens.base import ResourceScreen, state_text
from screens.forms import form_fields, read, validator
from screens.kind_list import CellFormat, KindScreen, kind_action, kind_cells, table_columns
from screens.modals import FormScreen
from screens.size_picker import size_summary
from screens.widgets.table import Cell, Column
from services.kinds import compute as kinds
from services.kinds import kind
from services.models import Compute, ComputeNode, Usage, VmSize, Workspace
from services.times import iso

if TYPE_CHECKING:
    from services.mutations import Target
    from services.params import Params
    from services.session import Session


def _duration(seconds: int) -> str:
    if not seconds:
        return "-"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _target(ws: Workspace, name: str = "") -> Target:
    from services.mutations import Target

    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


def _nodes_cell(c: Compute) -> Cell:
    """A cluster's nodes as running/idle/preparing/other, yellow when some are unusable or preempted."""
    if c.kind != "cluster":
        return ""
    n = c.nodes
    text = f"{n.running}/{n.idle}/{n.preparing}/{n.unusable + n.preempted + n.leaving}"
    return Text(text, style="yellow") if n.unusable or n.preempted else text


COMPUTE = kind("compute")
# the cells this screen draws itself; the other columns show the kind's values
COMPUTE_CELLS: dict[str, CellFormat] = {
    "kind": lambda c: "k8s" if c.kind == "kubernetes" else c.kind,
    "vm_size": lambda c: c.vm_size or c.instance_type,
    "gpus": lambda c: c.gpus or None,
    "state": lambda c: state_text(c.state),
    "nodes": _nodes_cell,
    "idle_seconds_before_scale_down": lambda c: _duration(c.idle_seconds) if c.kind == "cluster" else "",
    "priority": lambda c: {"LowPriority": "low-pri", "Dedicated": "dedicated"}.get(c.priority, c.priority),
}


class ComputeScreen(KindScreen):
    """The compute kind's list (rows from its loader, the same the snapshot reads; keys by the rules its actions
    declare), with its own columns, cells and describe."""

    KIND = COMPUTE
    TITLE = "Compute"
    STATE_COLUMN = "state"
    COLUMNS: ClassVar[Sequence[Column]] = table_columns(COMPUTE)
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
        return kind_cells(COMPUTE, c, COMPUTE_CELLS)

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

    def _instance_action(self, action: str, params: Params, doing: str, done: str) -> None:
        c = self.current()
        ws = self.workspace
        if c is None or ws is None or self.session is None:
            return
        from services import compute

        session = self.session
        target = _target(ws, c.name)
        fn = {"start": compute.start_instance, "stop": compute.stop_instance}.get(action, compute.restart_instance)
        self.perform(
            action,
            target,
            params,
            lambda: fn(session, target),
            key=c.key,
            doing=doing,
            done=f"{c.name}: {done}",
            details=(f"Current state: {c.state}",),
        )

    @kind_action
    def action_start(self) -> None:
        self._instance_action("start", kinds.StartInstance(), "starting", "started")

    @kind_action
    def action_stop(self) -> None:
        self._instance_action("stop", kinds.StopInstance(), "stopping", "stopped")

    @kind_action
    def action_restart(self) -> None:
        self._instance_action("restart", kinds.RestartInstance(), "restarting", "restarted")

    @kind_action
    def action_delete(self) -> None:
        c = self.current()
        ws = self.workspace
        if c is None or ws is None or self.session is None:
            return
        from services import compute

        session = self.session
        target = _target(ws, c.name)
        self.perform(
            "delete",
            target,
            kinds.DeleteCompute(),
            lambda: compute.delete_compute(session, target),
            key=c.key,
            doing="deleting",
            done=f"{c.name}: deleted",
            details=(f"{c.kind} {c.vm_size}, {c.current_nodes} nodes now",),
        )

    @kind_action
    def action_scale(self) -> None:
        c = self.current()
        ws = self.workspace
        if c is None or ws is None or self.session is None:
            return
        from services import compute

        session = self.session
        target = _target(ws, c.name)
        model = kinds.UpdateScale

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            p, _ = read(model, values)
            self.perform(
                "scale",
                target,
                p,
                lambda: compute.update_scale(
                    session,
                    target,
                    min_instances=p.min_instances,
                    max_instances=p.max_instances,
                    idle_seconds=p.idle_seconds,
                ),
                key=c.key,
                doing="updating",
                done=f"{c.name}: scale {p.min_instances}-{p.max_instances}",
            )

        initial = {"min_instances": c.min_nodes, "max_instances": c.max_nodes, "idle_seconds": c.idle_seconds}
        fields = form_fields(model, initial={k: str(n) for k, n in initial.items()})
        self.app.push_screen(FormScreen(f"Scale {c.name}", fields, validator(model)), callback=submitted)

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

        self._status(self._summary())
        model: type[kinds.CreateCluster | kinds.CreateInstance] = (
            kinds.CreateCluster if kind == "cluster" else kinds.CreateInstance
        )
        offered = tuple(s.name for s, _ in rows.values())

        def context(values: Mapping[str, str]) -> dict[str, object]:
            # what the form does not type: the region, its sizes, and the typed size's family quota
            return {"location": ws.location, "offered_sizes": offered, "quota": quota_of(rows, values.get("size", ""))}

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            p, _ = read(model, values, context(values))
            self._create_compute(p, session, ws, rows)

        title = "New compute cluster" if kind == "cluster" else "New compute instance"
        form = ComputeFormScreen(f"{title} in {ws.name}", form_fields(model), validator(model, context), rows)
        self.app.push_screen(form, callback=submitted)

    def _create_compute(
        self,
        p: kinds.CreateCluster | kinds.CreateInstance,
        session: Session,
        ws: Workspace,
        rows: dict[str, tuple[VmSize, Usage | None]],
    ) -> None:
        from services import compute

        target = _target(ws)
        nodes = p.max_instances if isinstance(p, kinds.CreateCluster) else 1
        details = [f"VM size {p.size}: {size_summary(rows, p.size, nodes)}"]
        runner: Callable[[], object]
        if isinstance(p, kinds.CreateCluster):
            action = "create_cluster"
            c = p
            runner = lambda: compute.create_cluster(  # noqa: E731
                session,
                target,
                name=c.name,
                size=c.size,
                min_instances=c.min_instances,
                max_instances=c.max_instances,
                idle_seconds=c.idle_seconds,
                tier=c.tier,
                location=c.location,
                offered_sizes=c.offered_sizes,
                quota=c.quota,
            )
        else:
            action = "create_instance"
            i = p
            if i.assigned_user_object_id:
                details.append(f"Assigned to user {i.assigned_user_object_id} (tenant {i.assigned_user_tenant_id})")
            runner = lambda: compute.create_instance(  # noqa: E731
                session,
                target,
                name=i.name,
                size=i.size,
                location=i.location,
                offered_sizes=i.offered_sizes,
                assigned_user_object_id=i.assigned_user_object_id,
                assigned_user_tenant_id=i.assigned_user_tenant_id,
                quota=i.quota,
            )
        self.perform(action, target, p, runner, key=None, doing="creating", done=f"{p.name}: created", details=details)

    @kind_action
    def action_create_cluster(self) -> None:
        self._create("cluster")

    @kind_action
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


def _quota_cell(m: tuple[VmSize, Usage | None]) -> Cell:
    """The family's quota use, bold yellow from 80% up."""
    text, u = kinds.family_quota(m), m[1]
    return Text(text, style="bold yellow") if u is not None and text and u.percent >= 80 else text


QUOTA = kind("quota")
# the quota kind's screen lists VM sizes with their family's quota: the cells this screen draws itself
SIZE_CELLS: dict[str, CellFormat] = {"gpus": lambda m: m[0].gpus or None, "family_quota": _quota_cell}


class SizesScreen(ResourceScreen[tuple[VmSize, Usage | None]]):
    """VM sizes of the workspace's region with the quota use of each size's family."""

    TITLE = "VM sizes and quota"
    STATE_COLUMN = ""
    COLUMNS: ClassVar[Sequence[Column]] = table_columns(QUOTA)
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
        return kind_cells(QUOTA, m, SIZE_CELLS)

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
