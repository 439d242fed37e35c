"""Jobs of a workspace: the most recent page, newest first."""

from __future__ import annotations

from typing import Any

from ..kind import BOOL, MAP, TIME, Action, Column, Kind, Loaded, LoadOptions, Target, iso_utc, pairs
from ..models.jobs import Job, JobFilter


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import jobs

    assert target.workspace is not None
    limit = options.job_limit
    return Loaded({"jobs": list(jobs.list_jobs(session, target.workspace, JobFilter(), page_size=limit, limit=limit))})


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
        columns=(
            Column("workspace", "Workspace", _j("workspace"), md=True),
            Column("name", "Name", _j("name"), md=True),
            Column("display_name", "Display name", _j("display_name"), md=True),
            Column("type", "Type", _j("type"), md=True),
            Column("status", "Status", _j("status"), md=True),
            Column("experiment", "Experiment", _j("experiment"), md=True),
            Column("compute", "Compute", _j("compute"), md=True),
            Column("creator", "Creator", _j("creator")),
            Column("created", "Created", lambda j: iso_utc(j.created), TIME, md=True),
            Column("environment", "Environment", _j("environment")),
            Column("is_archived", "Archived", _j("is_archived"), BOOL),
            Column("tags", "Tags", lambda j: pairs(j.tags), MAP),
        ),
        actions=(
            Action("cancel_job", "job.cancel", "x"),
            Action("archive", "job.archive", "A"),
            Action("restore", "job.restore", "U"),
            Action("resubmit", "job.resubmit", "S"),
        ),
    ),
)
