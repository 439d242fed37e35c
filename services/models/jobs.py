"""Jobs: the list row / detail, a job's filter, its child runs (pipeline steps, sweep trials) and logs.

Times are ISO-8601 UTC strings ("2026-11-02T09:24:48Z", "" when unknown); maps (tags, inputs,
outputs, hyperparameters) are sorted tuples of pairs so every model stays frozen and hashable.
No log URL's signature ever appears in a repr: ``LogFile.url`` is kept out of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

Pairs = tuple[tuple[str, str], ...]

TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Canceled", "NotResponding"})
JOB_TYPES = {"command": "Command", "sweep": "Sweep", "pipeline": "Pipeline"}


@dataclass(frozen=True)
class JobError:
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


@dataclass(frozen=True)
class Job:
    id: str  # the ARM id ("" for a child run known only to run history)
    name: str
    display_name: str
    type: str  # command | sweep | pipeline | step | trial
    status: str  # Azure's status word: Queued, Running, Completed, Failed, Canceled, ...
    workspace: str
    experiment: str = ""
    compute: str = ""  # the compute's name (from the ARM id)
    creator: str = ""
    created: dt.datetime | None = None
    start: dt.datetime | None = None  # from run history: filled by get_job, None in list rows (not in ARM's)
    end: dt.datetime | None = None
    duration_s: float | None = None  # run time: end - start, or start → now while running
    tags: Pairs = ()
    is_archived: bool = False
    parent: str = ""  # the parent job of a pipeline step or sweep trial
    error: JobError | None = None  # when failed (from run history: get_job)
    inputs: Pairs = ()  # name → literal value or data URI
    outputs: Pairs = ()  # name → data URI ("" until the service assigns one)
    environment: str = ""  # short: "name:version" (environment_id holds the full id)
    environment_id: str = ""
    command: str = ""  # a sweep's trial command
    description: str = ""
    pipeline_nodes: tuple[str, ...] = ()  # a pipeline's graph node names (steps may not all have run)
    studio_url: str = ""

    @property
    def key(self) -> str:
        return self.name

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True)
class ChildRun:
    """A pipeline step or a sweep trial, from run history (``children`` is filled for nested pipelines)."""

    name: str  # the run id
    display_name: str
    type: str  # step | trial | pipeline | command
    status: str
    parent: str
    compute: str = ""
    node: str = ""  # a pipeline step's graph node name
    created: dt.datetime | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    duration_s: float | None = None
    error: JobError | None = None
    hyperparameters: Pairs = ()  # a sweep trial's sampled values
    children: tuple[ChildRun, ...] = ()
    has_run: bool = True  # False: a pipeline graph node that was never scheduled (no run exists)

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class LogFile:
    name: str  # e.g. "user_logs/std_log.txt"
    url: str = field(repr=False)  # signed (SAS-like) and anonymous: never print or log it

    @property
    def safe_url(self) -> str:
        """The URL with its query (and so its signature) removed: for display only."""
        return self.url.split("?", 1)[0]


class LogChunk(NamedTuple):
    """New text of a log file since ``offset`` and the offset to pass next time (bytes)."""

    text: str
    offset: int


@dataclass(frozen=True)
class JobFilter:
    """What a job list shows. Empty fields do not filter.

    ``archived``: False → active jobs only (Azure's default), True → archived only, None → both.
    ``tags``: name → value, or name → None for "has this tag".
    """

    statuses: tuple[str, ...] = ()
    experiment: str = ""
    compute: str = ""
    creator: str = ""  # the creator's display name, case-insensitive
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    tags: tuple[tuple[str, str | None], ...] = ()
    job_type: str = ""  # command | sweep | pipeline
    archived: bool | None = False

    @classmethod
    def of(
        cls,
        *,
        status: str | tuple[str, ...] | list[str] = (),
        experiment: str = "",
        compute: str = "",
        creator: str = "",
        created_after: dt.datetime | None = None,
        created_before: dt.datetime | None = None,
        tags: Mapping[str, str | None] | None = None,
        job_type: str = "",
        archived: bool | None = False,
    ) -> JobFilter:
        statuses = (status,) if isinstance(status, str) else tuple(status)
        return cls(
            statuses=tuple(s for s in statuses if s),
            experiment=experiment,
            compute=compute,
            creator=creator,
            created_after=created_after,
            created_before=created_before,
            tags=tuple(sorted((tags or {}).items())),
            job_type=job_type,
            archived=archived,
        )

    @property
    def client_side(self) -> bool:
        """Whether some rows the server returns may be dropped here (pages then yield fewer rows)."""
        return bool(
            self.statuses
            or self.experiment
            or self.compute
            or self.creator
            or self.created_after
            or self.created_before
            or len(self.tags) > 1
            or any(v is not None for _, v in self.tags)
        )
