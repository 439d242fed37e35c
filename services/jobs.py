"""Jobs: a lazily paged list, detail, child runs (pipeline steps, sweep trials), log tails, and actions.

This module is the jobs kind's service: the paged list lives here; the rest, one job per module, is
re-exported so that ``services.jobs`` stays the one name callers use:

- services.job_parse: ARM job bodies → models (and the small parsers of durations, URIs, inputs);
- services.job_runs: run history — a job's detail, pipeline steps, sweep trials;
- services.job_logs: log files and their tails (signed URLs, never shown);
- services.job_actions: cancel, archive, restore, resubmit, behind the mutation choke point.

Reads go through the REST client: the ARM jobs API (api-version 2024-01-01-preview, as azure-ai-ml
sends it) for the list and detail, and run history — reached through the workspace's discovery
document — for times, errors, child runs and log files.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

from .job_actions import archive_job, cancel_job, restore_job, resubmit_job
from .job_logs import LOG_READ_BYTES, LogReadError, list_log_files, tail_log
from .job_parse import API, job_from_arm, short_environment, short_uri
from .job_runs import get_job, history_base, list_steps, list_trials
from .models.core import Workspace
from .models.jobs import JOB_TYPES, Job, JobFilter
from .session import Session
from .times import parse_time

__all__ = [
    "API",
    "DEFAULT_PAGE",
    "LOG_READ_BYTES",
    "MAX_PAGE",
    "Job",
    "JobFilter",
    "JobPager",
    "LogReadError",
    "archive_job",
    "cancel_job",
    "get_job",
    "history_base",
    "list_jobs",
    "list_log_files",
    "list_steps",
    "list_trials",
    "parse_time",
    "restore_job",
    "resubmit_job",
    "short_environment",
    "short_uri",
    "tail_log",
]

DEFAULT_PAGE = 50
MAX_PAGE = 500

_VIEW = {False: "ActiveOnly", True: "ArchivedOnly", None: "All"}


# -- the lazily paged list -------------------------------------------------------------------------


def _server_params(f: JobFilter, top: int) -> dict[str, Any]:
    params: dict[str, Any] = {"listViewType": _VIEW[f.archived], "$top": top}
    if f.job_type:
        params["jobType"] = JOB_TYPES.get(f.job_type.lower(), f.job_type)
    if f.tags:
        params["tag"] = f.tags[0][0]  # the ARM API filters on one tag key; the rest is checked here
    return params


def _matches(job: Job, f: JobFilter) -> bool:
    if f.statuses and job.status.lower() not in {s.lower() for s in f.statuses}:
        return False
    if f.experiment and job.experiment.lower() != f.experiment.lower():
        return False
    if f.compute and job.compute.lower() != f.compute.lower():
        return False
    if f.creator and job.creator.casefold() != f.creator.casefold():
        return False
    if f.job_type and job.type != f.job_type.lower():
        return False
    if f.archived is not None and job.is_archived != f.archived:
        return False
    created = job.created
    if f.created_before and created and created >= f.created_before:
        return False
    if f.created_after and created and created < f.created_after:
        return False
    tags = job.tag_map
    return all(k in tags and (want is None or tags[k] == want) for k, want in f.tags)


class JobPager:
    """A workspace's jobs, newest first, fetched from the server one page at a time, on demand.

    Creating a pager sends nothing. ``next_page()`` returns the next ``page_size`` matching jobs
    (fewer at the end, ``[]`` when done), fetching only as many server pages as that needs;
    iterating yields every matching job (up to ``limit``) the same lazy way.

    Filtering: job type (``jobType``), the first tag key (``tag``), archived (``listViewType``) and the
    page size (``$top``) go to the server. Status, experiment, compute, creator, the creation time
    window and tag values are not offered by the ARM jobs API: they are applied here, while paging, so
    a page may need several server pages. Because the service lists newest first, paging stops at
    the first job created before ``created_after``.

    Not thread-safe: one pager per view (or worker).
    """

    def __init__(
        self,
        session: Session,
        ws: Workspace,
        filters: JobFilter | None = None,
        *,
        page_size: int = DEFAULT_PAGE,
        limit: int | None = None,
    ) -> None:
        self.session = session
        self.workspace = ws
        self.filters = filters or JobFilter()
        self.page_size = max(1, min(int(page_size), MAX_PAGE))
        self.limit = limit
        top = self.page_size
        if limit is not None and not self.filters.client_side:
            top = max(1, min(top, limit))
        self.server_top = top
        self.server_pages = 0  # server requests made so far
        self._pages: Iterator[list[dict[str, Any]]] | None = None
        self._buffer: collections.deque[Job] = collections.deque()
        self._server_done = False
        self.returned = 0

    @property
    def exhausted(self) -> bool:
        if self.limit is not None and self.returned >= self.limit:
            return True
        return self._server_done and not self._buffer

    def _fetch(self) -> bool:
        """Fetch one server page into the buffer; False once the server has no more."""
        if self._server_done:
            return False
        if self._pages is None:
            self._pages = self.session.rest().pages(
                self.workspace.id + "/jobs", API, params=_server_params(self.filters, self.server_top)
            )
        try:
            page = next(self._pages)
        except StopIteration:
            self._server_done = True
            return False
        self.server_pages += 1
        f = self.filters
        for raw in page:
            job = job_from_arm(raw, self.workspace)
            if f.created_after is not None:
                created = job.created
                if created is not None and created < f.created_after:
                    self._server_done = True  # newest first: everything after this is older
                    break
            if _matches(job, f):
                self._buffer.append(job)
        return True

    def next_page(self) -> list[Job]:
        want = self.page_size
        if self.limit is not None:
            want = min(want, self.limit - self.returned)
        if want <= 0:
            return []
        while len(self._buffer) < want and self._fetch():
            pass
        out = [self._buffer.popleft() for _ in range(min(want, len(self._buffer)))]
        self.returned += len(out)
        return out

    def __iter__(self) -> Iterator[Job]:
        while True:
            page = self.next_page()
            if not page:
                return
            yield from page


def list_jobs(
    session: Session,
    ws: Workspace,
    filters: JobFilter | None = None,
    *,
    page_size: int = DEFAULT_PAGE,
    limit: int | None = None,
) -> JobPager:
    """A lazy pager over a workspace's jobs (see :class:`JobPager`); nothing is fetched until asked."""
    return JobPager(session, ws, filters, page_size=page_size, limit=limit)
