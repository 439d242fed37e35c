"""Online and batch endpoints of a workspace, and their deployments (a tree: endpoint → deployments)."""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from .. import validation as v
from ..kind import (
    INT,
    PERCENT,
    PERCENT_MAP,
    TIME,
    Action,
    Column,
    Kind,
    Layout,
    Loaded,
    LoadOptions,
    Relation,
    Target,
    TargetError,
    enum,
    iso_utc,
    pairs,
)
from ..models import BatchDeployment, BatchEndpoint, OnlineDeployment, OnlineEndpoint
from ..models.deployments import DeploymentError
from ..params import Check, FormField, Param, Params, Required

if TYPE_CHECKING:
    from ..mutations import Target as MutationTarget

Endpoint = OnlineEndpoint | BatchEndpoint
Deployment = OnlineDeployment | BatchDeployment


@dataclass(frozen=True)
class DeploymentEntry:
    """A deployment joined with its endpoint (its traffic share lives on the endpoint)."""

    deployment: OnlineDeployment | BatchDeployment
    endpoint: Endpoint

    @property
    def id(self) -> str:
        return self.deployment.id

    @property
    def name(self) -> str:
        return self.deployment.name

    @property
    def online(self) -> bool:
        return isinstance(self.deployment, OnlineDeployment)

    @property
    def endpoint_type(self) -> str:
        return "online" if self.online else "batch"

    @property
    def provisioning_state(self) -> str:
        return self.deployment.provisioning_state

    @property
    def traffic_percent(self) -> int:
        """Its share of the endpoint's live traffic (a batch endpoint's default deployment takes it all)."""
        e = self.endpoint
        if isinstance(e, OnlineEndpoint):
            return e.traffic_of(self.name)
        return 100 if e.default_deployment.lower() == self.name.lower() else 0

    @property
    def error(self) -> DeploymentError | None:
        return self.deployment.error if isinstance(self.deployment, OnlineDeployment) else None


@dataclass(frozen=True)
class TreeRow:
    """One line of the endpoint tree on screen: an endpoint (deployment None) or one of its deployments.
    The deployments kind's actions apply to these rows."""

    endpoint: Endpoint
    deployment: Deployment | None = None
    deployments: tuple[Deployment, ...] = ()  # endpoint rows: its deployments, as read with it
    error: str = ""  # endpoint rows: why its deployments could not be read

    @property
    def id(self) -> str:
        return (self.deployment or self.endpoint).id

    @property
    def key(self) -> str:
        return self.id.lower()

    @property
    def name(self) -> str:
        if self.deployment is None:
            return self.endpoint.name
        return f"{self.endpoint.name}/{self.deployment.name}"

    @property
    def online(self) -> bool:
        return isinstance(self.endpoint, OnlineEndpoint)

    @property
    def kind(self) -> str:
        if not self.online:
            return "batch"
        d = self.deployment
        kubernetes = d.kind == "kubernetes" if isinstance(d, OnlineDeployment) else self.endpoint_kind == "kubernetes"
        return "k8s" if kubernetes else "online"

    @property
    def endpoint_kind(self) -> str:
        return self.endpoint.kind if isinstance(self.endpoint, OnlineEndpoint) else "batch"

    @property
    def deployment_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.deployments)


# -- the actions' parameters -------------------------------------------------------------------------

MAX_MIRROR_PERCENT = 50
NO_TRAFFIC: Mapping[str, int] = types.MappingProxyType({})


def _pairs(m: Mapping[str, Any] | None) -> str:
    return " ".join(f"{k}={val}" for k, val in (m or {}).items())


def _known(wanted: str, deployments: Sequence[str]) -> v.FieldError | None:
    known = {d.lower() for d in deployments}
    if wanted and known and wanted.lower() not in known:
        return v.FieldError("deployment_name", f"names deployment '{wanted}', which the endpoint does not have")
    return None


def _percent(text: str) -> int | None:
    """A typed percentage (a trailing % allowed, empty is 0); None when it is not a whole number."""
    text = text.strip().removesuffix("%").strip()
    try:
        return int(text) if text else 0
    except ValueError:
        return None


class UpdateTraffic(Params):
    """The whole live routing of an online endpoint (each share 0 to 100, summing to 100, or 0 to route
    nothing) and its mirrored routing (None keeps today's, {} stops mirroring: at most one deployment, 0 to 50,
    one that takes no live traffic), checked against the endpoint's ``deployments``. Its form has one input
    per deployment and group (``live-NAME``, ``mirror-NAME``): ``inputs`` and ``from_inputs``."""

    AZ = "az ml online-endpoint update"
    AZ_TARGET = "--name"
    GROUPS = {"traffic": "live", "mirror_traffic": "mirror"}  # the field → its inputs' prefix

    traffic: Annotated[Mapping[str, int], Param("live traffic %", form=None)] = NO_TRAFFIC
    mirror_traffic: Annotated[
        Mapping[str, int] | None,
        Param("mirrored traffic %", f"0-{MAX_MIRROR_PERCENT}, a copy of live requests", form=None),
    ] = None
    deployments: Annotated[tuple[str, ...], Param("Deployments of the endpoint", form=None)] = ()

    def rules(self) -> Iterable[v.FieldError | None]:
        live, mirror, names = self.traffic or {}, self.mirror_traffic or {}, self.deployments
        mirrored = [k for k, pct in mirror.items() if pct]
        return [
            v.traffic(live, names),
            v.mirror_traffic(mirror, live, names),
            v.FieldError("mirror_traffic", "can mirror to one deployment only") if len(mirrored) > 1 else None,
            v.FieldError("mirror_traffic", "needs live traffic to copy: route live traffic first")
            if mirrored and not sum(pct for pct in live.values() if isinstance(pct, int))
            else None,
        ]

    def az_args(self) -> list[str]:
        args = [f'--traffic "{_pairs(self.traffic)}"']
        if self.mirror_traffic is not None:
            args.append(f'--mirror-traffic "{_pairs(self.mirror_traffic)}"')
        return args

    # -- the per-deployment form --

    @classmethod
    def inputs(cls, names: Sequence[str], live: Mapping[str, int], mirror: Mapping[str, int]) -> list[FormField]:
        """One input per deployment for its live share, then one per deployment for its mirrored share,
        labelled from the fields' declarations."""
        out: list[FormField] = []
        for field, now in (("traffic", live), ("mirror_traffic", mirror)):
            p = cls.spec(field).param
            label = f"{p.label} ({p.help})" if p.help else p.label
            out += [FormField(f"{cls.GROUPS[field]}-{n}", f"{n}: {label}", str(now.get(n, 0))) for n in names]
        return out

    @classmethod
    def from_inputs(
        cls, values: Mapping[str, str], names: tuple[str, ...], *, mirroring: bool
    ) -> tuple[UpdateTraffic, dict[str, str]]:
        """The model of the form's text, with {input: rule} for text that is not a whole number. The mirrored
        routing is sent when one is typed or the endpoint mirrors today (``mirroring``): {} stops it."""
        errors: dict[str, str] = {}

        def group(prefix: str) -> dict[str, int]:
            out: dict[str, int] = {}
            for n in names:
                pct = _percent(values.get(f"{prefix}-{n}", ""))
                if pct is None:
                    errors[f"{prefix}-{n}"] = "must be a whole number"
                out[n] = pct or 0
            return out

        live = group("live")
        mirror = {n: pct for n, pct in group("mirror").items() if pct}
        mirror_traffic = mirror if mirror or mirroring else None
        return cls(traffic=live, mirror_traffic=mirror_traffic, deployments=names), errors

    def form_errors(self) -> dict[str, str]:
        """Each broken rule under the input it is about: a rule that starts with a deployment's name under
        that deployment's input; a rule about the whole map (the sum, one mirror only) under the group's last
        input, next to the running sum."""
        out: dict[str, str] = {}
        names = self.deployments
        by_length = sorted(names, key=len, reverse=True)
        for e in self.validate():
            prefix = self.GROUPS.get(e.field)
            if prefix is None or not names:
                out.setdefault(e.field, e.rule)
                continue
            name = next((n for n in by_length if e.rule.startswith(n + " ")), None)
            out.setdefault(f"{prefix}-{name or names[-1]}", e.rule)
        return out


class ScaleDeployment(Params):
    """The instance count of an online deployment (one it sets itself, not an autoscaler's)."""

    AZ = "az ml online-deployment update"

    instance_count: Annotated[int, Param("Instance count", "1 to 20", rules=(Check(v.instance_count),))] = 1

    def az(self, target: MutationTarget) -> str:
        from ..mutations import ws_args

        return (
            f"{self.AZ} --name {target.name} --endpoint-name {target.parent} "
            f"--set instance_count={self.instance_count} {ws_args(target)}"
        )


class DeleteDeployment(Params):
    """An online deployment to delete; ``traffic``/``mirror_traffic``: its endpoint's routing as read (a
    deployment that carries traffic is refused by the service, and its row by the kind's rule)."""

    AZ = "az ml online-deployment delete"

    traffic: Annotated[Mapping[str, int], Param("The endpoint's live traffic", form=None)] = NO_TRAFFIC
    mirror_traffic: Annotated[Mapping[str, int] | None, Param("The endpoint's mirrored traffic", form=None)] = None

    def az(self, target: MutationTarget) -> str:
        from ..mutations import ws_args

        return f"{self.AZ} --name {target.name} --endpoint-name {target.parent} --yes {ws_args(target)}"


class SetBatchDefault(Params):
    """The deployment a batch endpoint's jobs run on when they name none, one of its ``deployments``."""

    AZ = "az ml batch-endpoint update"
    AZ_TARGET = "--name"

    deployment_name: Annotated[str, Param("Default deployment", rules=(Required(),), form=None)] = ""
    deployments: Annotated[tuple[str, ...], Param("Deployments of the endpoint", form=None)] = ()

    def rules(self) -> Iterable[v.FieldError | None]:
        return [_known(self.deployment_name, self.deployments)]

    def az_args(self) -> list[str]:
        return [f"--set defaults.deployment_name={self.deployment_name}"]


DEFAULT_PAYLOAD = '{"data": [[1, 2, 3, 4]]}'


class InvokeEndpoint(Params):
    """A test request to an online endpoint: JSON text, to a deployment of its ``deployments`` or, empty, as the
    traffic routes it. The payload is never audited (the choke point sees its size: services.deployments)."""

    AZ = "az ml online-endpoint invoke"
    AZ_TARGET = "--name"
    AZ_FLAGS = "--request-file request.json"

    payload: Annotated[str, Param("Request JSON", rules=(Check(lambda t: v.json_payload(t)[1]),))] = DEFAULT_PAYLOAD
    deployment_name: Annotated[str, Param("Deployment", "empty: as the traffic routes it", az="--deployment-name")] = ""
    deployments: Annotated[tuple[str, ...], Param("Deployments of the endpoint", form=None)] = ()

    def rules(self) -> Iterable[v.FieldError | None]:
        return [_known(self.deployment_name, self.deployments)]


def _rule(action: str, row: TreeRow) -> str:
    ep, d = row.endpoint, row.deployment
    if action == "traffic" and not isinstance(ep, OnlineEndpoint):
        return f"{ep.name} is a batch endpoint: it has a default deployment, not traffic (* on a deployment)."
    if action == "invoke" and not isinstance(ep, OnlineEndpoint):
        return f"{ep.name} is a batch endpoint: it scores in jobs, not requests."
    if action == "set_default":
        if not isinstance(ep, BatchEndpoint) or d is None:
            return "Set default applies to a deployment of a batch endpoint (online endpoints route traffic: t)."
        if ep.default_deployment.lower() == d.name.lower():
            return f"{d.name} is already the default deployment of {ep.name}."
        return ""
    verb = {"scale": "Scale", "delete": "Delete", "logs": "Logs"}.get(action)
    if verb is None:
        return ""
    if d is None:
        names = ", ".join(row.deployment_names) or "none"
        return f"{verb} applies to a deployment: choose one under {ep.name} ({names})."
    if not isinstance(d, OnlineDeployment):
        return f"{verb} applies to online deployments; {row.name} is a batch deployment (see az ml batch-deployment)."
    if action == "scale" and d.scale.autoscaled:
        # The service refuses it too (the autoscaler owns the count); say so before any form.
        return (
            f"{row.name}: instance_count is set by the autoscaler of a TargetUtilization deployment "
            f"({d.scale.min_instances}-{d.scale.max_instances} instances); change its min/max instances instead."
        )
    if action == "delete" and isinstance(ep, OnlineEndpoint):
        live, mirrored = ep.traffic_of(d.name), ep.mirror_of(d.name)
        if live or mirrored:
            # The service's rule, checked here too so nobody types a name only to be refused.
            what = f"{live}% of live traffic" if live else f"{mirrored}% of mirrored traffic"
            return f"{row.name} carries {what}; move its traffic first (t edits the traffic of {ep.name})."
    return ""


def _applies(action: str) -> Any:
    """The rule of one action, on a tree row (an endpoint or a deployment of it), as the screen asks it."""
    return lambda row: _rule(action, row) if isinstance(row, TreeRow) else ""


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    """The endpoint tree, read concurrently (services.deployments.endpoint_tree, as on screen)."""
    from .. import deployments

    assert target.workspace is not None
    out = Loaded({"endpoints": [], "deployments": []})
    for tree in deployments.endpoint_tree(session, target.workspace):
        out.rows["endpoints"].append(tree.endpoint)
        out.rows["deployments"].extend(DeploymentEntry(d, tree.endpoint) for d in tree.deployments)
        if tree.error is not None:  # one endpoint failing keeps the others
            out.errors.append(TargetError("deployments", target.workspace.name, tree.endpoint.id, tree.error))
    return out


def _online(e: Endpoint, f: str, batch: Any) -> Any:
    return getattr(e, f) if isinstance(e, OnlineEndpoint) else batch


def _dep(f: str, batch: Any = None) -> Any:
    def value(d: DeploymentEntry) -> Any:
        if batch is not None and not d.online:
            return batch
        return getattr(d.deployment, f)

    return value


def _error(d: DeploymentEntry) -> dict[str, str] | None:
    err = d.error
    return {"code": err.code, "message": err.message} if err else None


_ERROR_SCHEMA = {
    "oneOf": [
        {"type": "null"},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
    ]
}

KINDS = (
    Kind(
        name="endpoints",
        title="Endpoints",
        model=OnlineEndpoint,
        order=50,
        loaded_by="deployments",
        area="deployments",
        command=None,
        schema_def="endpoint",
        service="services.deployments",
        sort_key=lambda r: (r["workspace"].lower(), r["type"], r["name"].lower()),
        columns=(
            Column("workspace", "Workspace", lambda e: e.workspace, md=True),
            Column("name", "Name", lambda e: e.name, md=True),
            Column("id", "Id", lambda e: e.id),
            Column(
                "type",
                "Type",
                lambda e: "online" if isinstance(e, OnlineEndpoint) else "batch",
                enum("online", "batch"),
                md=True,
            ),
            Column("kind", "Kind", lambda e: _online(e, "kind", "batch"), md=True),
            Column("auth_mode", "Auth", lambda e: e.auth_mode, md=True),
            Column("provisioning_state", "Provisioning", lambda e: e.provisioning_state, md=True),
            Column("scoring_uri", "Scoring URI", lambda e: e.scoring_uri),
            Column("traffic", "Traffic", lambda e: pairs(_online(e, "traffic", ())), PERCENT_MAP, md=True),
            Column("mirror_traffic", "Mirror", lambda e: pairs(_online(e, "mirror_traffic", ())), PERCENT_MAP),
            Column(
                "default_deployment", "Default", lambda e: e.default_deployment if isinstance(e, BatchEndpoint) else ""
            ),
            Column("public_network_access", "Public net", lambda e: _online(e, "public_network_access", "")),
            Column("compute", "Compute", lambda e: _online(e, "compute", "")),
            Column("created_on", "Created", lambda e: iso_utc(e.created_on), TIME),
        ),
    ),
    Kind(
        name="deployments",
        title="Deployments",
        model=DeploymentEntry,
        order=55,
        loader=load,
        parent="endpoints",
        relations=(Relation("endpoints", "endpoint", "its endpoint"),),
        schema_def="deployment",
        service="services.deployments",
        help="Online and batch endpoints and their deployments",
        aliases=("endpoints", "deploy", "ep", "d"),
        screen="screens.deployments:DeploymentsScreen",
        sort_key=lambda r: (r["workspace"].lower(), r["endpoint_type"], r["endpoint"].lower(), r["name"].lower()),
        # the screen lists the endpoint tree (TreeRow); each rule says which of its rows an action applies to
        actions=(
            Action("traffic", "deployments.update_traffic", "t", _applies("traffic"), params=UpdateTraffic),
            Action("scale", "deployments.scale", "e", _applies("scale"), params=ScaleDeployment),
            Action("delete", "deployments.delete", "D", _applies("delete"), params=DeleteDeployment),
            Action(
                "set_default",
                "deployments.set_batch_default",
                "asterisk",
                _applies("set_default"),
                params=SetBatchDefault,
            ),
            Action("invoke", "deployments.invoke", "i", _applies("invoke"), params=InvokeEndpoint),
            Action("logs", "", "l", _applies("logs")),
        ),
        columns=(
            Column("workspace", "Workspace", lambda d: d.deployment.workspace, md=True),
            Column("endpoint", "Endpoint", lambda d: d.deployment.endpoint, md=True),
            Column("name", "Name", lambda d: d.name, priority=0, md=True, layout=Layout(flex=True, min_width=16)),
            Column("id", "Id", lambda d: d.id),
            Column(
                "endpoint_type",
                "Endpoint type",
                lambda d: d.endpoint_type,
                enum("online", "batch"),
                md=True,
            ),
            Column("kind", "Kind", _dep("kind", "batch"), priority=0, layout=Layout(max_width=6)),
            Column(
                "provisioning_state",
                "Provisioning",
                _dep("provisioning_state"),
                priority=0,
                md=True,
                layout=Layout("State", max_width=10),
            ),
            Column(
                "traffic_percent",
                "Traffic %",
                lambda d: d.traffic_percent,
                PERCENT,
                priority=0,
                md=True,
                layout=Layout("Traffic%", max_width=8, align="right"),
            ),
            Column(
                "mirror_percent",
                "Mirror %",
                lambda d: d.endpoint.mirror_of(d.name) if isinstance(d.endpoint, OnlineEndpoint) else 0,
                PERCENT,
            ),
            Column(
                "instance_type",
                "Instance type",
                _dep("instance_type"),
                priority=0,
                md=True,
                layout=Layout(max_width=16),
            ),
            Column(
                "instance_count",
                "Instances",
                _dep("instance_count"),
                INT,
                priority=0,
                md=True,
                layout=Layout("Inst", max_width=5, align="right"),
            ),
            Column("scale_type", "Scale", lambda d: d.deployment.scale.scale_type if d.online else ""),
            Column("compute", "Compute", lambda d: "" if d.online else d.deployment.compute),
            Column("model", "Model", _dep("model")),
            Column("environment", "Environment", _dep("environment")),
            Column("error", "Error", _error, _ERROR_SCHEMA),
            Column("created_on", "Created", lambda d: iso_utc(d.deployment.created_on), TIME),
            Column(
                "modified_on",
                "Modified",
                lambda d: iso_utc(d.deployment.modified_on) if d.online else None,
                TIME,
            ),
            # the screen's tree shows its endpoint's auth mode on the endpoint's line (the endpoints table has it)
            Column(
                "auth_mode",
                "Auth",
                lambda d: d.endpoint.auth_mode,
                priority=0,
                layout=Layout(max_width=9),
                snapshot=False,
            ),
        ),
    ),
)
