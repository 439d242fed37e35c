"""Jobs of a workspace: the most recent page, newest first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

from .. import validation as v
from ..kind import BOOL, MAP, TIME, Action, Column, Kind, Layout, Loaded, LoadOptions, Target, iso_utc, pairs
from ..models.jobs import TERMINAL_STATUSES, Job, JobFilter
from ..params import Check, Param, Params

if TYPE_CHECKING:
    from ..mutations import Target as MutationTarget


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import jobs

    assert target.workspace is not None
    limit = options.job_limit
    return Loaded({"jobs": list(jobs.list_jobs(session, target.workspace, JobFilter(), page_size=limit, limit=limit))})


# -- the actions' parameters -------------------------------------------------------------------------


def _still_active(status: str) -> v.FieldError | None:
    if not status:
        return v.FieldError("status", "is required: pass the job's current status as read")
    if status in TERMINAL_STATUSES:
        return v.FieldError(
            "status", f"the job has already finished ({status}): only a job that is still active can be canceled"
        )
    return None


class CancelJob(Params):
    """A job to cancel; ``status`` is its current status as read (a finished job is refused unsent)."""

    AZ = "az ml job cancel"
    AZ_TARGET = "--name"

    status: Annotated[str, Param("Current status", rules=(Check(_still_active),), form=None)] = ""


class ArchiveJob(Params):
    AZ = "az ml job archive"
    AZ_TARGET = "--name"


class RestoreJob(Params):
    AZ = "az ml job restore"
    AZ_TARGET = "--name"


def compute_rule(value: str, field: str = "compute") -> v.FieldError | None:
    """A compute name valid for a cluster (2-16) or an instance (3-24); empty: the job's own compute."""
    if not value:
        return None
    cluster = v.compute_name(value, kind="cluster", field=field)
    instance = v.compute_name(value, kind="instance", field=field)
    return None if cluster is None or instance is None else (instance if len(value) > 16 else cluster)


class ResubmitJob(Params):
    """A command job submitted again under a new name, on its own compute or another of the workspace's
    (``computes``: the workspace's compute names, to check it against; ``source``: the job resubmitted)."""

    new_name: Annotated[str, Param("New job name", "letters, digits, - and _", rules=(Check(v.resource_name),))] = ""
    compute: Annotated[str, Param("Compute", rules=(Check(compute_rule),))] = ""
    computes: Annotated[tuple[str, ...], Param("Computes of the workspace", form=None)] = ()
    source: Annotated[str, Param("The job resubmitted", form=None)] = ""

    def rules(self) -> Iterable[v.FieldError | None]:
        known = {c.lower() for c in self.computes}
        compute = self.compute
        return [
            v.FieldError("compute", f"{compute} is not a compute of this workspace")
            if compute and known and compute.lower() not in known
            else None,
            v.FieldError("new_name", "must differ from the job being resubmitted")
            if self.source and self.new_name == self.source
            else None,
        ]

    def az(self, target: MutationTarget) -> str:
        """``az ml`` has no resubmit: the job's YAML, shown and created again under the new name."""
        from ..mutations import ws_args

        t, ws = target.name, ws_args(target)
        compute = f" --set compute=azureml:{self.compute}" if self.compute else ""
        new = self.new_name or "<new-name>"
        return f"az ml job show --name {t} {ws} > {t}.yml && az ml job create --file {t}.yml --name {new}{compute} {ws}"


def _cancellable(job: Job) -> str:
    if not job.is_terminal:
        return ""
    errors = CancelJob(status=job.status).validate()  # the operation's own rule, before anything is sent
    if errors:
        return f"{job.name}: {'; '.join(e.rule for e in errors)}"
    return f"{job.name} has finished ({job.status}): there is nothing to cancel."


def _archivable(job: Job) -> str:
    return f"{job.name} is already archived (U restores it)." if job.is_archived else ""


def _restorable(job: Job) -> str:
    return "" if job.is_archived else f"{job.name} is not archived (v shows archived jobs)."


def _resubmittable(job: Job) -> str:
    if job.type != "command":
        return f"Only command jobs can be resubmitted; {job.name} is a {job.type} job."
    return ""


def _j(f: str) -> Any:
    return lambda j: getattr(j, f)


KINDS = (
    Kind(
        name="jobs",
        title="Jobs",
        model=Job,
        order=40,
        loader=load,
        service="services.jobs",
        schema_def="job",
        help="Jobs of the workspace; `:jobs failed experiment=X compute=C since=6h` filters them",
        aliases=("job", "j"),
        argument="STATUS KEY=VALUE",
        screen="screens.jobs:JobsScreen",
        # newest first within a workspace, as the service lists them (a stable sort keeps equal times)
        sort_key=lambda r: r["workspace"].lower(),
        # on screen: when it was created and how long it ran (read for the rows shown), then who started it
        screen_order=("name", "type", "status", "experiment", "compute", "created", "duration", "creator"),
        columns=(
            Column("workspace", "Workspace", _j("workspace"), md=True),
            Column("name", "Name", _j("name"), priority=0, md=True, layout=Layout(flex=True, min_width=20)),
            Column("display_name", "Display name", _j("display_name"), md=True),
            Column("type", "Type", _j("type"), priority=0, md=True, layout=Layout(min_width=8, max_width=8)),
            Column("status", "Status", _j("status"), priority=0, md=True, layout=Layout(min_width=9, max_width=15)),
            Column(
                "experiment",
                "Experiment",
                _j("experiment"),
                priority=0,
                md=True,
                layout=Layout(min_width=6, max_width=18),
            ),
            Column("compute", "Compute", _j("compute"), priority=0, md=True, layout=Layout(min_width=6, max_width=14)),
            Column("creator", "Creator", _j("creator"), priority=1, layout=Layout(min_width=6, max_width=16)),
            Column(
                "created", "Created", lambda j: iso_utc(j.created), TIME, priority=0, md=True, layout=Layout(width=11)
            ),
            Column("environment", "Environment", _j("environment")),
            Column("is_archived", "Archived", _j("is_archived"), BOOL),
            Column("tags", "Tags", lambda j: pairs(j.tags), MAP),
            Column(
                "duration",
                "Duration",
                _j("duration_s"),
                priority=0,
                layout=Layout(width=8, align="right"),
                snapshot=False,  # run history's, not the list's: the screen reads it for the rows on screen
            ),
        ),
        actions=(
            Action("cancel_job", "job.cancel", "x", _cancellable, params=CancelJob),
            Action("archive", "job.archive", "A", _archivable, params=ArchiveJob),
            Action("restore", "job.restore", "U", _restorable, params=RestoreJob),
            Action("resubmit", "job.resubmit", "S", _resubmittable, params=ResubmitJob),
        ),
    ),
)
