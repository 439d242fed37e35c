"""Endpoints and their deployments, online (managed and Kubernetes) and batch, as one tree-shaped list.

Each endpoint row is followed by its deployments, indented. Its keys are the deployments kind's declared
actions (services/kinds/deployments.py), refused on the key press by the guard and the row's state
(``kind_action``); traffic, scale, delete and the batch default go through the service's mutation choke point
via ``perform()`` (plan, the ``az ml`` equivalent its parameter model renders, confirmation); the forms check
their input with the models' rules, the same the choke point runs, so a refused value never leaves the form.
Logs and a test invoke open in modals; both run in thread workers.

This module is the list and its keys; the describe view is screens/deployment_describe.py, the traffic and
scale forms screens/deployment_forms.py, the test invoke screens/deployment_invoke.py and the container log
screens/deployment_logs.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType

from screens.base import state_text
from screens.deployment_describe import asset_label, describe_row
from screens.deployment_forms import TrafficFormScreen, pairs, read_traffic, scale_form, traffic_details, traffic_form
from screens.deployment_invoke import InvokeResultScreen, chosen_deployment, invoke_form, invoke_plan
from screens.deployment_logs import LogsScreen
from screens.forms import read
from screens.host import host
from screens.kind_list import CellFormat, KindScreen, kind_action, kind_cells, table_columns
from screens.modals import ConfirmScreen
from screens.widgets.table import Cell, Column
from services.kind import Kind
from services.kinds import deployments as kinds
from services.kinds.deployments import KINDS
from services.kinds.deployments import TreeRow as Row
from services.models import Workspace
from services.models.deployments import (
    BatchEndpoint,
    InvokeResult,
    OnlineDeployment,
    OnlineEndpoint,
    as_dict,
)

if TYPE_CHECKING:
    from services.mutations import Target
    from services.session import Session

DEPLOYMENTS = next(k for k in KINDS if k.name == "deployments")

# -- the cells the tree draws itself (its rows are endpoints and their deployments), by column id ----------


def _traffic_share(ep: OnlineEndpoint, name: str) -> Cell:
    live, mirror = ep.traffic_of(name), ep.mirror_of(name)
    if mirror and live:
        return f"{live} +{mirror}m"
    if mirror:
        return Text(f"+{mirror}m", style="cyan")
    return str(live) if live else Text("0", style="dim")


def _name(row: Row) -> Cell:
    return row.endpoint.name if row.deployment is None else row.deployment.name  # beneath its endpoint (parents)


def _state(row: Row) -> Cell:
    if row.deployment is not None:
        return state_text(row.deployment.provisioning_state)
    return Text("unreadable", style="bold red") if row.error else state_text(row.endpoint.provisioning_state)


def _traffic(row: Row) -> Cell:
    ep, d = row.endpoint, row.deployment
    if d is None:
        if isinstance(ep, OnlineEndpoint) and row.deployments and not any(p for _, p in ep.traffic):
            return Text("none", style="yellow")  # deployed but nothing routed: every request fails
        return ""
    if isinstance(d, OnlineDeployment):
        return _traffic_share(ep, d.name) if isinstance(ep, OnlineEndpoint) else ""
    default = isinstance(ep, BatchEndpoint) and ep.default_deployment.lower() == d.name.lower()
    return Text("default", style="green") if default else ""


def _instance_type(row: Row) -> Cell:
    ep, d = row.endpoint, row.deployment
    if d is None:
        return ep.compute if isinstance(ep, OnlineEndpoint) else ""
    return d.instance_type if isinstance(d, OnlineDeployment) else d.instance_type or d.compute


def _instances(row: Row) -> Cell:
    d = row.deployment
    if d is None:
        return ""
    if isinstance(d, OnlineDeployment) and d.scale.autoscaled:
        return f"{d.scale.min_instances}-{d.scale.max_instances}"
    return str(d.instance_count)


CELLS: dict[str, CellFormat] = {
    "name": _name,
    "kind": lambda row: row.kind,
    "provisioning_state": _state,
    "traffic_percent": _traffic,
    "instance_type": _instance_type,
    "instance_count": _instances,
    "auth_mode": lambda row: row.endpoint.auth_mode if row.deployment is None else "",
}


def _target(ws: Workspace, name: str = "", parent: str = "") -> Target:
    from services.mutations import Target

    return Target(ws.subscription_id, ws.resource_group, ws.name, name, parent)


# -- the list --------------------------------------------------------------------------------------


class DeploymentsScreen(KindScreen):
    KIND: ClassVar[Kind | None] = DEPLOYMENTS
    TITLE = "Endpoints"
    STATE_COLUMN = "provisioning_state"
    COLUMNS: ClassVar[Sequence[Column]] = table_columns(DEPLOYMENTS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "traffic", "Traffic", id="deployments.traffic"),
        Binding("e", "scale", "Scale", id="deployments.scale"),
        Binding("D", "delete", "Delete", id="deployments.delete"),
        Binding("l", "logs", "Logs", id="deployments.logs"),
        Binding("i", "invoke", "Invoke", id="deployments.invoke"),
        Binding("asterisk", "set_default", "Default", id="deployments.set_default"),
    ]

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, Row]:
        from services import deployments as svc

        assert workspace is not None
        out: dict[str, Row] = {}
        for tree in svc.endpoint_tree(session, workspace):  # the snapshot reads the very same tree
            ep, deps = tree.endpoint, tree.deployments
            row = Row(ep, None, deps, error=str(tree.error) if tree.error is not None else "")
            out[row.key] = row
            for d in deps:
                child = Row(ep, d, deps)
                out[child.key] = child
        return out

    # -- cells and describe ---------------------------------------------------------------------

    def cells(self, row: Row) -> Sequence[Cell]:
        return kind_cells(DEPLOYMENTS, row, CELLS)  # every cell drawn by the tree's own formatters

    def parents(self, rows: Mapping[str, Sequence[Cell]]) -> Mapping[str, str]:
        """Each deployment beneath its endpoint: sorts and filters keep the tree."""
        return {
            key: row.endpoint.id.lower()
            for key, row in self.models.items()
            if row.deployment is not None and key in rows
        }

    def describe_fields(self, row: Row) -> list[tuple[str, str]]:
        return describe_row(row)

    def _summary(self) -> str:
        rows = [r for r in self.models.values() if self.include(r)]
        endpoints = sum(1 for r in rows if r.deployment is None)
        text = f"{endpoints} endpoints · {len(rows) - endpoints} deployments"
        shown, total = self.table.visible_count, self.table.row_count
        if shown != total:
            text += f" · {shown} of {total} rows shown"
        if self.table.filter_text:
            text += f" · filter {self.table.filter_text!r}"
        if self.table.filter_error:
            text += f" · {self.table.filter_error}"
        unreadable = [r.endpoint.name for r in rows if r.error]
        if unreadable:
            text += f" · deployments unreadable: {', '.join(unreadable)}"
        return text

    # -- helpers for the actions ----------------------------------------------------------------

    def audit_target(self, row: Row | None) -> Target | None:
        ws = self.workspace
        if ws is None or row is None:
            return super().audit_target(row)
        if row.deployment is None:
            return _target(ws, row.endpoint.name)
        return _target(ws, row.deployment.name, row.endpoint.name)

    def _endpoint_row(self, row: Row) -> Row:
        """The endpoint row of `row` (itself when it is one), as last read."""
        return self.models.get(row.endpoint.id.lower(), row)

    def _ready(self) -> tuple[Row, Workspace, Session] | None:
        row, ws, session = self.current(), self.workspace, self.session
        if row is None or ws is None or session is None:
            return None
        return row, ws, session

    def _online_deployment(self, row: Row, verb: str) -> OnlineDeployment | None:
        d = row.deployment
        if d is None:
            names = ", ".join(row.deployment_names) or "none"
            self.notify(f"{verb} applies to a deployment: choose one under {row.endpoint.name} ({names}).")
            return None
        if not isinstance(d, OnlineDeployment):
            self.notify(
                f"{verb} applies to online deployments; {row.name} is a batch deployment (see az ml batch-deployment).",
                severity="warning",
            )
            return None
        return d

    # -- t: traffic -----------------------------------------------------------------------------

    @kind_action
    def action_traffic(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        row, ws, session = ready
        row = self._endpoint_row(row)
        ep = row.endpoint
        if not isinstance(ep, OnlineEndpoint):
            self.notify(f"{ep.name} is a batch endpoint: it has a default deployment, not traffic.", severity="warning")
            return
        names = row.deployment_names
        if row.error:
            self.notify(f"The deployments of {ep.name} could not be read: {row.error}", severity="error")
            return
        if not names:
            self.notify(f"{ep.name} has no deployments to route traffic to.", severity="warning")
            return
        from services import deployments as svc

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            p, _ = read_traffic(values, ep, names)
            target = _target(ws, ep.name)
            self.perform(
                "traffic",
                target,
                p,
                lambda: svc.update_traffic(
                    session, target, traffic=p.traffic, mirror_traffic=p.mirror_traffic, deployments=p.deployments
                ),
                key=row.key,
                doing="routing",
                done=f"{ep.name}: traffic {pairs(p.traffic)}",
                details=traffic_details(ep, names, p),
            )

        self.app.push_screen(traffic_form(ep, names), callback=submitted)

    # -- e: scale -------------------------------------------------------------------------------

    @kind_action
    def action_scale(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        row, ws, session = ready
        d = self._online_deployment(row, "Scale")
        if d is None:
            return
        from services import deployments as svc

        target = _target(ws, d.name, d.endpoint)

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            p, _ = read(kinds.ScaleDeployment, values)
            count = p.instance_count
            self.perform(
                "scale",
                target,
                p,
                lambda: svc.scale(session, target, instance_count=count),
                key=row.key,
                doing="scaling",
                done=f"{row.name}: {count} instances",
                details=(f"Instance count: {d.instance_count} → {count} ({d.instance_type})",),
            )

        self.app.push_screen(scale_form(f"Scale {row.name}", d), callback=submitted)

    # -- D: delete ------------------------------------------------------------------------------

    @kind_action
    def action_delete(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        row, ws, session = ready
        d = self._online_deployment(row, "Delete")
        if d is None:
            return
        ep = self._endpoint_row(row).endpoint
        assert isinstance(ep, OnlineEndpoint)
        from services import deployments as svc

        target = _target(ws, d.name, d.endpoint)
        traffic, mirror = as_dict(ep.traffic), as_dict(ep.mirror_traffic)
        self.perform(
            "delete",
            target,
            kinds.DeleteDeployment(traffic=traffic, mirror_traffic=mirror),
            lambda: svc.delete_deployment(session, target, traffic=traffic, mirror_traffic=mirror),
            key=row.key,
            doing="deleting",
            done=f"{row.name}: deleted",
            details=(f"{d.instance_count} instances of {d.instance_type}, model {asset_label(d.model, 'models')}",),
        )

    # -- *: a batch endpoint's default deployment ----------------------------------------------

    @kind_action
    def action_set_default(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        row, ws, session = ready
        d, ep = row.deployment, row.endpoint
        if d is None or not isinstance(ep, BatchEndpoint):
            return
        names = self._endpoint_row(row).deployment_names
        from services import deployments as svc

        target = _target(ws, ep.name)
        self.perform(
            "set_default",
            target,
            kinds.SetBatchDefault(deployment_name=d.name, deployments=names),
            lambda: svc.set_batch_default(session, target, deployment_name=d.name, deployments=names),
            key=self._endpoint_row(row).key,
            doing="updating",
            done=f"{ep.name}: default deployment {d.name}",
            details=(
                f"Default deployment: {ep.default_deployment or 'none'} → {d.name}",
                "Jobs that invoke the endpoint without naming a deployment run on the default.",
            ),
        )

    # -- l: logs --------------------------------------------------------------------------------

    def action_logs(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        row, ws, session = ready
        d = self._online_deployment(row, "Logs")
        if d is None:
            return
        self.app.push_screen(LogsScreen(session, ws, d.endpoint, d.name))

    # -- i: invoke ------------------------------------------------------------------------------

    @kind_action
    def action_invoke(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        row, ws, session = ready
        ep = row.endpoint
        if not isinstance(ep, OnlineEndpoint):
            self.notify(f"{ep.name} is a batch endpoint: it scores in jobs, not requests.", severity="warning")
            return
        names = self._endpoint_row(row).deployment_names

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            wanted = chosen_deployment(values, names)
            target = _target(ws, ep.name)
            payload = values.get("payload", "")

            def run() -> None:
                self._status(f"invoking {ep.name}{' → ' + wanted if wanted else ''}…")
                self._invoke(session, target, payload, wanted, names)

            plan = invoke_plan(target, ep, wanted, payload, host(self).production)
            self.app.push_screen(ConfirmScreen(plan), callback=lambda ok: run() if ok else None)

        deployment = row.deployment.name if row.deployment is not None else ""
        self.app.push_screen(invoke_form(ep, names, deployment), callback=submitted)

    @work(thread=True, group="invoke", exclusive=True, exit_on_error=False)
    def _invoke(self, session: Session, target: Target, payload: str, deployment: str, names: tuple[str, ...]) -> None:
        from services import deployments as svc
        from services.errors import describe

        try:
            result = svc.invoke(session, target, payload=payload, deployment_name=deployment, deployments=names)
        except Exception as e:
            self.app.call_from_thread(self._invoke_failed, target.name, describe(e))
            return
        self.app.call_from_thread(self._invoked, target.name, result)

    def _invoked(self, endpoint: str, result: InvokeResult) -> None:
        self._status(self._summary())
        self.app.push_screen(InvokeResultScreen(endpoint, result))

    def _invoke_failed(self, endpoint: str, message: str) -> None:
        self._status(self._summary())
        self.notify(f"{endpoint}: {message}", title="Invoke failed", severity="error", timeout=10)


__all__ = [
    "DeploymentsScreen",
    "InvokeResultScreen",
    "LogsScreen",
    "Row",
    "TrafficFormScreen",
]
