"""Endpoints and their deployments, online (managed and Kubernetes) and batch, as one tree-shaped list.

Each endpoint row is followed by its deployments, indented. Traffic, scale and delete go through the
service's mutation choke point via `act()` (plan, `az ml` equivalent, confirmation); forms check their
input with the same validate function the service runs, so a refused value never leaves the form.
Logs and a test invoke open in modals; both run in thread workers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from screens.base import ResourceScreen, mutating, state_text
from screens.deployment_logs import LogsScreen
from screens.host import host
from screens.modals import Field, FormScreen, Validator, field_errors
from screens.widgets.table import Cell, Column
from services.kinds.deployments import TreeRow as Row
from services.models import Workspace
from services.models.deployments import (
    BatchDeployment,
    BatchEndpoint,
    InvokeResult,
    OnlineDeployment,
    OnlineEndpoint,
    Probe,
    Traffic,
    as_dict,
)
from services.times import iso

if TYPE_CHECKING:
    from services.mutations import Target
    from services.session import Session

Endpoint = OnlineEndpoint | BatchEndpoint
Deployment = OnlineDeployment | BatchDeployment

DEFAULT_PAYLOAD = '{"data": [[1, 2, 3, 4]]}'


# -- small formatters ------------------------------------------------------------------------------


def _routing(traffic: Traffic, empty: str = "none") -> str:
    shown = [f"{name} {pct}%" for name, pct in traffic if pct]
    return ", ".join(shown) if shown else empty


def _traffic_cell(ep: OnlineEndpoint, name: str) -> Cell:
    live, mirror = ep.traffic_of(name), ep.mirror_of(name)
    if mirror and live:
        return f"{live} +{mirror}m"
    if mirror:
        return Text(f"+{mirror}m", style="cyan")
    return str(live) if live else Text("0", style="dim")


def _probe(p: Probe) -> str:
    if not p.period_s and not p.failure_threshold:
        return "default"
    return (
        f"initial delay {p.initial_delay_s:g}s, period {p.period_s:g}s, timeout {p.timeout_s:g}s, "
        f"failure threshold {p.failure_threshold}, success threshold {p.success_threshold}"
    )


def _asset(asset_id: str, kind: str) -> str:
    """`.../models/churn-model/versions/5` → `churn-model:5` (the id itself when it has another shape)."""
    parts = asset_id.rstrip("/").split("/")
    if kind in parts:
        i = parts.index(kind)
        name = parts[i + 1] if i + 1 < len(parts) else ""
        version = parts[i + 3] if i + 3 < len(parts) and parts[i + 2] == "versions" else ""
        return f"{name}:{version}" if version else name
    return asset_id.removeprefix("azureml:")


def _target(ws: Workspace, name: str = "", parent: str = "") -> Target:
    from services.mutations import Target

    return Target(ws.subscription_id, ws.resource_group, ws.name, name, parent)


def _whole(values: Mapping[str, str], name: str, errors: dict[str, str]) -> int:
    text = values.get(name, "").strip().removesuffix("%").strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        errors[name] = "must be a whole number"
        return 0


# -- the list --------------------------------------------------------------------------------------


class DeploymentsScreen(ResourceScreen[Row]):
    TITLE = "Endpoints"
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("name", "Name", flex=True, min_width=16),
        Column("kind", "Kind", max_width=6),
        Column("state", "State", max_width=10),
        Column("traffic", "Traffic%", align="right", max_width=8),
        Column("instance_type", "Instance type", max_width=16),
        Column("instances", "Inst", align="right", max_width=5),
        Column("auth", "Auth", max_width=9),
    )
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
        ep, d = row.endpoint, row.deployment
        if d is None:
            state: Cell = state_text(ep.provisioning_state)
            if row.error:
                state = Text("unreadable", style="bold red")
            instance_type = ep.compute if isinstance(ep, OnlineEndpoint) else ""
            traffic: Cell = ""
            if isinstance(ep, OnlineEndpoint) and row.deployments and not any(p for _, p in ep.traffic):
                traffic = Text("none", style="yellow")  # deployed but nothing routed: every request fails
            return (ep.name, row.kind, state, traffic, instance_type, "", ep.auth_mode)
        if isinstance(d, OnlineDeployment):
            traffic = _traffic_cell(ep, d.name) if isinstance(ep, OnlineEndpoint) else ""
            s = d.scale
            instances = f"{s.min_instances}-{s.max_instances}" if s.autoscaled else str(d.instance_count)
            instance_type = d.instance_type
        else:
            default = isinstance(ep, BatchEndpoint) and ep.default_deployment.lower() == d.name.lower()
            traffic = Text("default", style="green") if default else ""
            instances = str(d.instance_count)
            instance_type = d.instance_type or d.compute
        return (
            d.name,  # drawn beneath its endpoint, with its branch (see parents)
            row.kind,
            state_text(d.provisioning_state),
            traffic,
            instance_type,
            instances,
            "",
        )

    def parents(self, rows: Mapping[str, Sequence[Cell]]) -> Mapping[str, str]:
        """Each deployment beneath its endpoint: sorts and filters keep the tree."""
        return {
            key: row.endpoint.id.lower()
            for key, row in self.models.items()
            if row.deployment is not None and key in rows
        }

    def describe_fields(self, row: Row) -> list[tuple[str, str]]:
        ep, d = row.endpoint, row.deployment
        if d is None:
            return self._describe_endpoint(row, ep)
        if isinstance(d, OnlineDeployment):
            return self._describe_online(d, ep)
        return self._describe_batch(d, ep)

    def _describe_endpoint(self, row: Row, ep: Endpoint) -> list[tuple[str, str]]:
        fields = [("Name", ep.name), ("Id", ep.id), ("Kind", row.kind)]
        if isinstance(ep, OnlineEndpoint):
            fields += [
                ("Auth mode", ep.auth_mode),
                ("Scoring URI", ep.scoring_uri),
                ("Swagger URI", ep.swagger_uri),
                ("Traffic", _routing(ep.traffic)),
                ("Mirror traffic", _routing(ep.mirror_traffic)),
                ("Public network access", ep.public_network_access or "-"),
            ]
            if ep.compute:
                fields.append(("Kubernetes compute", ep.compute))
        else:
            fields += [
                ("Auth mode", ep.auth_mode),
                ("Scoring URI", ep.scoring_uri),
                ("Swagger URI", ep.swagger_uri),
                ("Default deployment", ep.default_deployment or "none"),
            ]
        fields += [
            ("Deployments", ", ".join(row.deployment_names) or "none"),
            ("Provisioning state", ep.provisioning_state),
            ("Region", ep.location),
            ("Description", ep.description),
        ]
        if isinstance(ep, OnlineEndpoint):
            fields.append(("Tags", ", ".join(f"{k}={v}" for k, v in ep.tags)))
            created = iso(ep.created_on)
            fields.append(("Created", f"{created} by {ep.created_by}" if ep.created_by else created))
        else:
            fields.append(("Created", iso(ep.created_on)))
        if row.error:
            fields.append(("Error", f"deployments could not be read: {row.error}"))
        return fields

    def _describe_online(self, d: OnlineDeployment, ep: Endpoint) -> list[tuple[str, str]]:
        s, rs = d.scale, d.request_settings
        if s.autoscaled:
            scale = (
                f"TargetUtilization: {s.min_instances} to {s.max_instances} instances, "
                f"target {s.target_utilization}% utilization, polling every {s.polling_interval_s:g}s"
            )
        else:
            scale = f"{s.scale_type} (the instance count is set by hand)"
        live = ep.traffic_of(d.name) if isinstance(ep, OnlineEndpoint) else 0
        mirror = ep.mirror_of(d.name) if isinstance(ep, OnlineEndpoint) else 0
        fields = [
            ("Name", d.name),
            ("Endpoint", d.endpoint),
            ("Id", d.id),
            ("Kind", d.kind),
            ("Model", f"{_asset(d.model, 'models')} ({d.model})" if d.model else "-"),
            ("Environment", _asset(d.environment, "environments") or "-"),
            ("Instance type", d.instance_type),
            ("Instance count", str(d.instance_count)),
            ("Scale settings", scale),
            (
                "Request settings",
                f"timeout {rs.request_timeout_ms} ms, {rs.max_concurrent_requests_per_instance} concurrent "
                f"requests per instance, max queue wait {rs.max_queue_wait_ms} ms",
            ),
            ("Liveness probe", _probe(d.liveness_probe)),
            ("Readiness probe", _probe(d.readiness_probe)),
            ("Traffic", f"live {live}%, mirrored {mirror}%"),
            ("Provisioning state", d.provisioning_state),
            ("App Insights", "enabled" if d.app_insights_enabled else "disabled"),
            ("Egress public network", d.egress_public_network_access or "-"),
            ("Created", iso(d.created_on)),
            ("Modified", iso(d.modified_on)),
            ("Description", d.description),
        ]
        if d.error is not None:
            fields.append(("Error", f"{d.error.code}: {d.error.message}"))
        return fields

    def _describe_batch(self, d: BatchDeployment, ep: Endpoint) -> list[tuple[str, str]]:
        default = isinstance(ep, BatchEndpoint) and ep.default_deployment.lower() == d.name.lower()
        threshold = "ignore failed mini-batches" if d.error_threshold < 0 else str(d.error_threshold)
        return [
            ("Name", d.name),
            ("Endpoint", d.endpoint),
            ("Id", d.id),
            ("Default deployment", "yes" if default else "no"),
            ("Model", f"{_asset(d.model, 'models')} ({d.model})" if d.model else "-"),
            ("Environment", _asset(d.environment, "environments") or "-"),
            ("Compute", d.compute),
            ("Instance type", d.instance_type or "-"),
            ("Instance count", str(d.instance_count)),
            ("Mini-batch size", str(d.mini_batch_size)),
            ("Max concurrency", f"{d.max_concurrency_per_instance} per instance"),
            ("Retries", f"{d.max_retries}, timeout {d.retry_timeout_s:g}s"),
            ("Error threshold", threshold),
            ("Output", f"{d.output_action} to {d.output_file_name}" if d.output_file_name else d.output_action),
            ("Logging level", d.logging_level),
            ("Provisioning state", d.provisioning_state),
            ("Created", iso(d.created_on)),
            ("Description", d.description),
        ]

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

    def unavailable(self, action: str, row: Row) -> str:
        from services.kinds import kind

        return kind("deployments").unavailable(action, row)  # the rules the deployments kind declares

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

    @mutating("deployments.update_traffic")
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
        from services.mutations import registry

        op = registry()["deployments.update_traffic"]

        def params_of(values: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
            live = {n: _whole(values, f"live-{n}", errors) for n in names}
            mirror = {n: pct for n in names if (pct := _whole(values, f"mirror-{n}", errors))}
            params: dict[str, Any] = {"traffic": live, "deployments": names}
            if mirror or ep.mirror_traffic:
                params["mirror_traffic"] = mirror  # {} stops mirroring; left out, today's is kept
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
                return _place_traffic_errors(_errors_list(e), names)
            return {}

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            params = params_of(values, {})
            target = _target(ws, ep.name)
            live_change = ", ".join(f"{n} {ep.traffic_of(n)}% → {params['traffic'][n]}%" for n in names)
            details = [f"Live: {live_change}"]
            if "mirror_traffic" in params:
                mirror = params["mirror_traffic"]
                details.append(
                    "Mirror: "
                    + ", ".join(
                        f"{n} {ep.mirror_of(n)}% → {mirror.get(n, 0)}%" for n in names if n in mirror or ep.mirror_of(n)
                    )
                )
            shown = {k: v for k, v in params.items() if k != "deployments"}
            self.act(
                "deployments.update_traffic",
                target,
                shown,
                lambda: svc.update_traffic(session, target, **params),
                key=row.key,
                doing="routing",
                done=f"{ep.name}: traffic {_pairs(params['traffic'])}",
                details=details,
            )

        fields = [Field(f"live-{n}", f"{n}: live traffic %", str(ep.traffic_of(n))) for n in names]
        fields += [
            Field(f"mirror-{n}", f"{n}: mirrored traffic % (0-50, a copy of live requests)", str(ep.mirror_of(n)))
            for n in names
        ]
        self.app.push_screen(TrafficFormScreen(f"Traffic of {ep.name}", fields, validate, names), callback=submitted)

    # -- e: scale -------------------------------------------------------------------------------

    @mutating("deployments.scale")
    def action_scale(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        row, ws, session = ready
        d = self._online_deployment(row, "Scale")
        if d is None:
            return
        from services import deployments as svc
        from services.mutations import registry

        op = registry()["deployments.scale"]
        target = _target(ws, d.name, d.endpoint)

        def validate(values: dict[str, str]) -> dict[str, str]:
            errors: dict[str, str] = {}
            count = _whole(values, "instance_count", errors)
            if errors:
                return errors
            try:
                if op.validate:
                    op.validate({"instance_count": count})
            except Exception as e:
                return field_errors(e)
            return {}

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            count = _whole(values, "instance_count", {})
            self.act(
                "deployments.scale",
                target,
                {"instance_count": count},
                lambda: svc.scale(session, target, instance_count=count),
                key=row.key,
                doing="scaling",
                done=f"{row.name}: {count} instances",
                details=(f"Instance count: {d.instance_count} → {count} ({d.instance_type})",),
            )

        self.app.push_screen(
            FormScreen(
                f"Scale {row.name}",
                [Field("instance_count", "Instance count", str(d.instance_count), "1 to 20")],
                validate,
            ),
            callback=submitted,
        )

    # -- D: delete ------------------------------------------------------------------------------

    @mutating("deployments.delete")
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
        self.act(
            "deployments.delete",
            target,
            {},
            lambda: svc.delete_deployment(session, target, traffic=traffic, mirror_traffic=mirror),
            key=row.key,
            doing="deleting",
            done=f"{row.name}: deleted",
            details=(f"{d.instance_count} instances of {d.instance_type}, model {_asset(d.model, 'models')}",),
        )

    # -- *: a batch endpoint's default deployment ----------------------------------------------

    @mutating("deployments.set_batch_default")
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
        params = {"deployment_name": d.name}
        self.act(
            "deployments.set_batch_default",
            target,
            params,
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

    @mutating("deployments.invoke")
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
        known = {n.lower(): n for n in names}

        def validate(values: dict[str, str]) -> dict[str, str]:
            from services.validation import json_payload

            errors: dict[str, str] = {}
            _, error = json_payload(values.get("payload", ""))
            if error is not None:
                errors["payload"] = error.rule
            wanted = values.get("deployment_name", "")
            if wanted and wanted.lower() not in known:
                errors["deployment_name"] = f"names deployment '{wanted}'; {ep.name} has {', '.join(names) or 'none'}"
            return errors

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            wanted = known.get(values.get("deployment_name", "").lower(), "")
            target = _target(ws, ep.name)
            payload = values.get("payload", "")

            def run() -> None:
                self._status(f"invoking {ep.name}{' → ' + wanted if wanted else ''}…")
                self._invoke(session, target, payload, wanted, names)

            self._plan_invoke(target, ep, wanted, payload, run)

        deployment = row.deployment.name if row.deployment is not None else ""
        self.app.push_screen(
            FormScreen(
                f"Test {ep.name}",
                [
                    Field("payload", "Request JSON", DEFAULT_PAYLOAD),
                    Field("deployment_name", "Deployment", deployment, "empty: as the traffic routes it"),
                ],
                validate,
                submit_label="Invoke",
            ),
            callback=submitted,
        )

    def _plan_invoke(
        self, target: Target, ep: OnlineEndpoint, wanted: str, payload: str, run: Callable[[], None]
    ) -> None:
        """Like every action: what will be sent and where, and the `az ml` equivalent, before anything is sent;
        on a production profile the endpoint's name is typed to confirm."""
        from screens.modals import ConfirmScreen, Plan
        from services import mutations

        op = mutations.registry()["deployments.invoke"]
        if wanted:
            route = f"Route: deployment {wanted} (the azureml-model-deployment header)"
        else:
            split = ", ".join(f"{n} {p}%" for n, p in ep.traffic if p) or "no live traffic"
            route = f"Route: as the endpoint's traffic routes it ({split})"
        plan = Plan(
            title=op.title,
            target=target.describe(),
            az=mutations.az_command("deployments.invoke", target, {"deployment_name": wanted}),
            confirm_text=ep.name if host(self).production else "",
            details=(
                f"Request: {len(payload.encode())} bytes of JSON (request.json) to {ep.scoring_uri}",
                route,
                f"Auth: {ep.auth_mode} (the key or token is read when sent, never shown)",
            ),
        )
        self.app.push_screen(ConfirmScreen(plan), callback=lambda ok: run() if ok else None)

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


def _pairs(m: Mapping[str, int]) -> str:
    return "/".join(f"{k} {v}" for k, v in m.items())


def _errors_list(exc: Exception) -> list[tuple[str, str]]:
    from services.validation import ValidationError

    if isinstance(exc, ValidationError):
        return [(e.field, e.rule) for e in exc.errors]
    return [("_form", str(exc))]


def _place_traffic_errors(errors: list[tuple[str, str]], names: Sequence[str]) -> dict[str, str]:
    """Put each of the service's traffic errors under the form field it is about: a rule that starts with a
    deployment's name under that deployment's field; a rule about the whole map (the sum, one mirror only)
    under the group's last field, next to the running sum."""
    out: dict[str, str] = {}
    by_length = sorted(names, key=len, reverse=True)
    for field, rule in errors:
        group = {"traffic": "live", "mirror_traffic": "mirror"}.get(field)
        if group is None:
            out.setdefault(field, rule)
            continue
        name = next((n for n in by_length if rule.startswith(n + " ")), None)
        out.setdefault(f"{group}-{name or names[-1]}", rule)
    return out


# -- modals ----------------------------------------------------------------------------------------


class TrafficFormScreen(FormScreen):
    """The traffic form, with the running sums of live and mirrored traffic under the fields."""

    def __init__(self, title: str, fields: Sequence[Field], validate: Validator, names: Sequence[str]) -> None:
        super().__init__(title, fields, validate, submit_label="Next")
        self._names = tuple(names)

    def on_mount(self) -> None:
        super().on_mount()
        body = self.query_one(VerticalScroll)
        body.mount(Static(self._sum_text(), id="traffic-sum"), before="#error-_form")

    def _sum_text(self) -> Text:
        values = self.values()
        live, mirror, bad = 0, 0, False
        for n in self._names:
            for prefix in ("live", "mirror"):
                typed = values.get(f"{prefix}-{n}", "").removesuffix("%").strip() or "0"
                try:
                    pct = int(typed)
                except ValueError:
                    bad = True
                    continue
                if prefix == "live":
                    live += pct
                else:
                    mirror += pct
        text = Text("Live total: ")
        text.append(f"{live}%", style="bold" if live in (0, 100) else "bold yellow")
        text.append(" (100, or 0 to route nothing) · mirrored: ")
        text.append(f"{mirror}%", style="bold")
        if bad:
            text.append(" · some values are not whole numbers", style="yellow")
        return text

    def on_input_changed(self, event: Input.Changed) -> None:
        found = self.query("#traffic-sum")
        if found:
            found.first(Static).update(self._sum_text())


class InvokeResultScreen(ModalScreen[None]):
    """What a test request returned: status, the deployment that answered, latency and the response."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="invoke.close"),
        Binding("y", "copy", "Copy response", id="invoke.copy"),
    ]

    MAX_SHOWN = 20_000

    def __init__(self, endpoint: str, result: InvokeResult) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.result = result

    def response_text(self) -> str:
        r = self.result
        if r.response is None:
            return r.text or "(empty body)"
        if isinstance(r.response, str):
            return r.response
        return json.dumps(r.response, indent=2)

    def compose(self) -> ComposeResult:
        r = self.result
        text = Text()
        text.append(f"Test of {self.endpoint}\n\n", style="bold")
        for label, value in (
            ("Status", str(r.status)),
            ("Deployment", r.deployment or "(not reported)"),
            ("Latency", f"{r.latency_ms:.1f} ms"),
            ("Request", f"{r.request_bytes} bytes"),
        ):
            text.append(f"{label:<11}", style="bold")
            text.append(f"{value}\n")
        text.append("Response\n", style="bold")
        body = self.response_text()
        if len(body) > self.MAX_SHOWN:
            body = body[: self.MAX_SHOWN] + f"\n… ({len(body) - self.MAX_SHOWN} more characters; y copies it all)"
        text.append(body + "\n")
        text.append("\ny copies the response · esc closes", style="dim")
        with VerticalScroll(classes="modal-body"):
            yield Static(text, id="invoke-text")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.response_text())
        self.notify("Copied the response to the clipboard", timeout=3)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)


__all__ = [
    "DeploymentsScreen",
    "InvokeResultScreen",
    "LogsScreen",
    "Row",
    "TrafficFormScreen",
]
