"""Job actions: cancel, archive, restore and resubmit, each behind the mutation choke point (services.mutations),
with its validation, its ``az ml`` equivalent and how to tell, after a lost answer, whether Azure applied it.

Cancel and resubmit go through azure-ai-ml; archive and restore are one PATCH on run history.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import validation as v
from .job_parse import API, iso_duration_seconds, name_of
from .job_runs import history_base
from .kinds import jobs as kinds
from .models.core import Workspace
from .mutations import Reconciled, Target, operation, read_resource, resource_path
from .session import Session

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

_MODES = {
    "readonlymount": "ro_mount",
    "readwritemount": "rw_mount",
    "download": "download",
    "direct": "direct",
    "evalmount": "eval_mount",
    "evaldownload": "eval_download",
    "upload": "upload",
}


def _ml(session: Session, t: Target) -> MLClient:
    return session.ml_client(t.subscription_id, t.resource_group, t.workspace)


def _job_state(session: Session, t: Target, name: str) -> dict[str, Any] | None:
    body = read_resource(session, resource_path(t, "jobs", name), API)
    return None if body is None else dict(body.get("properties") or {})


def _reconcile_cancel(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
    props = _job_state(session, t, t.name)
    if props is None:
        return False, f"{t.name} does not exist"
    status = str(props.get("status") or "")
    if status in ("CancelRequested", "Canceled"):
        return True, f"{t.name} is {status}"
    return False, f"{t.name} is {status}"


def _reconcile_archived(archived: bool) -> Any:
    def reconcile(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
        props = _job_state(session, t, t.name)
        if props is None:
            return False, f"{t.name} does not exist"
        now = bool(props.get("isArchived"))
        return now == archived, f"{t.name} is {'archived' if now else 'not archived'}"

    return reconcile


def _reconcile_resubmit(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
    name = str(params.get("new_name") or "")
    props = _job_state(session, t, name) if name else None
    if props is None:
        return False, f"no job {name} was created"
    return True, f"{name} was created and is {props.get('status') or 'submitted'}"


@operation("job.cancel", "Cancel job", params=kinds.CancelJob, reconcile=_reconcile_cancel)
def cancel_job(session: Session, target: Target, *, status: str) -> None:
    """Cancel a job; ``status`` is its current status as read (a finished job is refused unsent)."""
    _ml(session, target).jobs.begin_cancel(target.name).result()


@operation("job.archive", "Archive job", params=kinds.ArchiveJob, reconcile=_reconcile_archived(True))
def archive_job(session: Session, target: Target) -> None:
    _set_archived(session, target, True)


def _set_archived(session: Session, target: Target, archived: bool) -> None:
    """Archive or restore in one request: the run's ``hidden`` flag, PATCHed on run history
    (Runs_PatchByExperimentName: what azure-ai-ml's archive/restore and the Studio send), at most once.
    azure-ai-ml's own methods, on any failure of that PATCH — a lost answer included — send a second request
    (a PUT of the whole job): a mutation sent twice, so they are not used."""
    body = session.rest().get(resource_path(target, "jobs", target.name), API) or {}
    props = body.get("properties")
    if not props:  # a pipeline's child step: archived with its pipeline (as the SDK refuses it)
        raise ValueError(f"{target.name} is a step of a pipeline job: archive or restore the pipeline job")
    ws = Workspace(
        id=resource_path(target),
        name=target.workspace,
        resource_group=target.resource_group,
        subscription_id=target.subscription_id,
        location="",
    )
    experiment = urllib.parse.quote(str(props.get("experimentName") or "Default"), safe="")
    url = f"{history_base(session, ws)}/experiments/{experiment}/runs/{urllib.parse.quote(target.name, safe='')}"
    session.mutation_rest().patch(url, body={"hidden": archived})


@operation("job.restore", "Restore archived job", params=kinds.RestoreJob, reconcile=_reconcile_archived(False))
def restore_job(session: Session, target: Target) -> None:
    _set_archived(session, target, False)


@operation("job.resubmit", "Resubmit job", params=kinds.ResubmitJob, reconcile=_reconcile_resubmit)
def resubmit_job(
    session: Session,
    target: Target,
    *,
    new_name: str,
    compute: str = "",
    computes: tuple[str, ...] = (),
    source: str = "",
    display_name: str = "",
) -> str:
    """Submit a new command job with an existing job's command, environment, code, compute and inputs.

    ``compute`` overrides the compute (``computes``: the workspace's compute names, to check it
    against; ``source``: the job's name as the caller read it; the rules: kinds.ResubmitJob). Returns the
    new job's name. Only command jobs can be resubmitted.
    """
    if new_name == target.name:
        v.check(v.FieldError("new_name", "must differ from the job being resubmitted"))
    body = session.rest().get(
        f"/subscriptions/{target.subscription_id}/resourceGroups/{target.resource_group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{target.workspace}"
        f"/jobs/{urllib.parse.quote(target.name, safe='')}",
        API,
    )
    p = body.get("properties") or {}
    kind = str(p.get("jobType") or "a child run")
    if kind != "Command":
        v.check(v.FieldError("job_type", f"only command jobs can be resubmitted (this is {kind})"))
    from azure.ai.ml import Input, Output, command

    inputs: dict[str, Any] = {}
    for key, spec in (p.get("inputs") or {}).items():
        kind_in = str(spec.get("jobInputType") or "")
        if kind_in.lower() == "literal":
            inputs[key] = spec.get("value")
        else:
            inputs[key] = Input(
                type=kind_in, path=spec.get("uri"), mode=_MODES.get(str(spec.get("mode") or "").lower())
            )
    outputs = {
        key: Output(
            type=str(spec.get("jobOutputType") or "uri_folder"), mode=_MODES.get(str(spec.get("mode") or "").lower())
        )
        for key, spec in (p.get("outputs") or {}).items()
        if key != "default"
    }
    resources = p.get("resources") or {}
    kwargs: dict[str, Any] = {}
    if resources.get("instanceCount"):
        kwargs["instance_count"] = int(resources["instanceCount"])
    dist = p.get("distribution") or {}
    if str(dist.get("distributionType") or "").lower() in ("pytorch", "mpi", "tensorflow"):
        kwargs["distribution"] = {
            "type": str(dist["distributionType"]).lower(),
            "process_count_per_instance": dist.get("processCountPerInstance") or 1,
        }
    job = command(
        name=new_name,
        command=str(p.get("command") or ""),
        environment=str(p.get("environmentId") or ""),
        compute=compute or name_of(p.get("computeId")),
        code=p.get("codeId") or None,
        inputs=inputs,
        outputs=outputs,
        experiment_name=str(p.get("experimentName") or "") or None,
        display_name=display_name or str(p.get("displayName") or "") or None,
        description=p.get("description") or None,
        tags=dict(p.get("tags") or {}),
        environment_variables=dict(p.get("environmentVariables") or {}) or None,
        **kwargs,
    )
    timeout = iso_duration_seconds((p.get("limits") or {}).get("timeout"))
    if timeout:
        job.set_limits(timeout=timeout)
    created = _ml(session, target).jobs.create_or_update(job)
    return str(created.name)
