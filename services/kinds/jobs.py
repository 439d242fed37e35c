"""Jobs of a workspace: the most recent page, newest first."""

from __future__ import annotations

from typing import Any

from ..kind import BOOL, MAP, TIME, Action, Column, Kind, Layout, Loaded, LoadOptions, Target, iso_utc, pairs
from ..models.jobs import Job, JobFilter


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import jobs

    assert target.workspace is not None
    limit = options.job_limit
    return Loaded({"jobs": list(jobs.list_jobs(session, target.workspace, JobFilter(), page_size=limit, limit=limit))})


def _cancellable(job: Job) -> str:
    if not job.is_terminal:
        return ""
    from ..mutations import registry
    from ..validation import ValidationError

    op = registry()["job.cancel"]  # the service's own rule, asked before anything is sent
    try:
        if op.validate is not None:
            op.validate({"status": job.status})
    except ValidationError as e:
        return f"{job.name}: {'; '.join(f.rule for f in e.errors)}"
    except Exception as e:
        return f"{job.name}: {e}"
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
            Action("cancel_job", "job.cancel", "x", _cancellable),
            Action("archive", "job.archive", "A", _archivable),
            Action("restore", "job.restore", "U", _restorable),
            Action("resubmit", "job.resubmit", "S", _resubmittable),
        ),
    ),
)
