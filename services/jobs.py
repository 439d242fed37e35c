"""Jobs: a lazily paged list, detail, child runs (pipeline steps, sweep trials), log tails, and actions.

Reads go through the REST client: the ARM jobs API (api-version 2024-01-01-preview, as azure-ai-ml
sends it) for the list and detail, and run history — reached through the workspace's discovery
document — for times, errors, child runs and log files. Log files are signed, anonymous URLs, read
without the bearer token; their signature is never logged or put in a message.

Actions (cancel, archive, restore, resubmit) go through azure-ai-ml behind the mutation choke point.
"""

from __future__ import annotations

import codecs
import collections
import dataclasses
import datetime as dt
import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import validation as v
from .errors import AzmlError, ServiceError, kind_for_status
from .models.core import Workspace
from .models.jobs import (
    JOB_TYPES,
    TERMINAL_STATUSES,
    ChildRun,
    Job,
    JobError,
    JobFilter,
    LogChunk,
    LogFile,
    Pairs,
)
from .mutations import Reconciled, Target, operation, read_resource, resource_path, ws_args
from .session import Session
from .times import parse_time

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

API = "2024-01-01-preview"
WORKSPACE_API = "2024-10-01"
DEFAULT_PAGE = 50
MAX_PAGE = 500
CHILD_PAGE = 100
MAX_DEPTH = 4  # nested pipelines: how deep list_steps follows pipeline children
LOG_READ_BYTES = 1 << 20

_VIEW = {False: "ActiveOnly", True: "ArchivedOnly", None: "All"}
_ENV = re.compile(r"environments/([^/]+)/(versions|labels)/([^/?]+)")
_DATASTORE_URI = re.compile(r"^azureml://datastores/([^/]+)/paths/(.*)$")
_MODES = {
    "readonlymount": "ro_mount",
    "readwritemount": "rw_mount",
    "download": "download",
    "direct": "direct",
    "evalmount": "eval_mount",
    "evaldownload": "eval_download",
    "upload": "upload",
}


# -- small parsers ---------------------------------------------------------------------------------


def _timespan_seconds(text: str | None) -> float | None:
    """Run history's .NET TimeSpan ("00:04:02.9832970", "1.02:03:04.5") → seconds."""
    if not text:
        return None
    m = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", str(text).strip())
    if not m:
        return None
    days, hours, minutes, secs = m.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(secs)


def _iso_duration_seconds(text: str | None) -> int | None:
    """ISO-8601 duration (PT15M, P2D, PT1H30M) → seconds."""
    if not text:
        return None
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", str(text))
    if not m:
        return None
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return int(d * 86400 + h * 3600 + mi * 60 + s)


def _name_of(arm_id: str | None) -> str:
    return str(arm_id or "").rstrip("/").rsplit("/", 1)[-1]


def short_environment(env_id: str) -> str:
    """'azureml://registries/azureml/environments/sklearn-1.5/versions/14' → 'sklearn-1.5:14'."""
    if not env_id:
        return ""
    m = _ENV.search(env_id)
    if m:
        return f"{m.group(1)}{':' if m.group(2) == 'versions' else '@'}{m.group(3)}"
    return env_id.removeprefix("azureml:")


def short_uri(uri: str) -> str:
    """'azureml://datastores/workspaceblobstore/paths/churn/2026-10/' → 'workspaceblobstore/churn/2026-10/'."""
    m = _DATASTORE_URI.match(uri or "")
    return f"{m.group(1)}/{m.group(2)}" if m else (uri or "")


def _inputs(raw: Mapping[str, Any] | None) -> Pairs:
    out = []
    for name, spec in (raw or {}).items():
        if not isinstance(spec, Mapping):
            out.append((str(name), str(spec)))
            continue
        if str(spec.get("jobInputType", "")).lower() == "literal":
            value = str(spec.get("value", ""))
        else:
            value = short_uri(str(spec.get("uri") or spec.get("path") or ""))
        out.append((str(name), value))
    return tuple(sorted(out))


def _outputs(raw: Mapping[str, Any] | None) -> Pairs:
    return tuple(
        sorted(
            (str(name), short_uri(str((spec or {}).get("uri") or "")) if isinstance(spec, Mapping) else "")
            for name, spec in (raw or {}).items()
        )
    )


def _tags(raw: Mapping[str, Any] | None) -> Pairs:
    return tuple(sorted((str(k), "" if val is None else str(val)) for k, val in (raw or {}).items()))


def _error(raw: Mapping[str, Any] | None) -> JobError | None:
    if not raw:
        return None
    nested = raw.get("error")
    inner: Mapping[str, Any] = nested if isinstance(nested, Mapping) else raw
    code = str(inner.get("code") or "")
    message = str(inner.get("message") or "")
    return JobError(code, message) if (code or message) else None


def _duration(start: dt.datetime | None, end: dt.datetime | None, running: str | None) -> float | None:
    if start and end:
        return max(0.0, (end - start).total_seconds())
    if start:
        return _timespan_seconds(running)
    return None


# -- ARM → model -----------------------------------------------------------------------------------


def _from_arm(body: Mapping[str, Any], ws: Workspace) -> Job:
    p = body.get("properties") or {}
    sd = body.get("systemData") or {}
    trial = p.get("trial") or {}
    kind = str(p.get("jobType") or "")
    settings = p.get("settings") or {}
    compute_id = p.get("computeId") or (settings.get("default_compute") if isinstance(settings, Mapping) else "")
    env_id = str(p.get("environmentId") or trial.get("environmentId") or "")
    services = p.get("services") or {}
    studio = str(((services.get("Studio") or {}) if isinstance(services, Mapping) else {}).get("endpoint") or "")
    return Job(
        id=str(body.get("id") or ""),
        name=str(body.get("name") or ""),
        display_name=str(p.get("displayName") or body.get("name") or ""),
        type=kind.lower(),
        status=str(p.get("status") or ""),
        workspace=ws.name,
        experiment=str(p.get("experimentName") or ""),
        compute=_name_of(compute_id),
        creator=str(sd.get("createdBy") or ""),
        created=parse_time(sd.get("createdAt")),
        tags=_tags(p.get("tags")),
        is_archived=bool(p.get("isArchived")),
        inputs=_inputs(p.get("inputs")),
        outputs=_outputs(p.get("outputs")),
        environment=short_environment(env_id),
        environment_id=env_id,
        command=str(p.get("command") or trial.get("command") or ""),
        description=str(p.get("description") or ""),
        pipeline_nodes=tuple(str(k) for k in (p.get("jobs") or {})) if kind == "Pipeline" else (),
        studio_url=studio,
    )


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
            job = _from_arm(raw, self.workspace)
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


# -- run history -----------------------------------------------------------------------------------


def history_base(session: Session, ws: Workspace) -> str:
    """The run-history URL prefix of a workspace, through its discovery document (cached per session)."""

    def load() -> str:
        rest = session.rest()
        body = rest.get(ws.id, WORKSPACE_API)
        discovery = str((body.get("properties") or {}).get("discoveryUrl") or "")
        if not discovery:
            raise LookupError(f"workspace {ws.name} has no discoveryUrl")
        doc = rest.get(discovery)
        base = str(doc.get("history") or doc.get("api") or "").rstrip("/")
        if not base:
            raise LookupError(f"the discovery document of workspace {ws.name} names no run-history host")
        return f"{base}/history/v1.0{ws.id}"

    return str(session.cache(("runhistory", ws.id.lower()), load))


def _run_url(session: Session, ws: Workspace, run: str) -> str:
    return f"{history_base(session, ws)}/runs/{urllib.parse.quote(run, safe='')}"


def _child_type(run: Mapping[str, Any], default: str) -> str:
    rt = str(run.get("runType") or "").lower()
    traits = [str(t).lower() for t in ((run.get("runTypeV2") or {}).get("traits") or ())]
    orchestrator = str((run.get("runTypeV2") or {}).get("orchestrator") or "").lower()
    if rt == "azureml.pipelinerun" or orchestrator == "pipeline" or "azureml.pipelinejob" in traits:
        return "pipeline"
    if rt == "hyperdrive" or orchestrator == "sweep" or "azureml.sweepjob" in traits:
        return "sweep"
    if rt == "azureml.steprun" or "azureml.steprun" in traits:
        return "step"
    if "azureml.trialrun" in traits:
        return "trial"
    if "azureml.commandjob" in traits:
        return "command"
    return default


def _hyperparameters(props: Mapping[str, Any]) -> Pairs:
    raw = props.get("hyperparameters") or props.get("_aml_system_hyperparameters")
    if not raw:
        return ()
    try:
        values = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (ValueError, TypeError):
        return ()
    return tuple(sorted((str(k), str(val)) for k, val in values.items())) if isinstance(values, dict) else ()


def _child(run: Mapping[str, Any], default_type: str, children: tuple[ChildRun, ...] = ()) -> ChildRun:
    props = run.get("properties") or {}
    start = parse_time(run.get("startTimeUtc"))
    end = parse_time(run.get("endTimeUtc"))
    compute = run.get("target") or (run.get("compute") or {}).get("target") or ""
    return ChildRun(
        name=str(run.get("runId") or ""),
        display_name=str(run.get("displayName") or props.get("azureml.nodeid") or run.get("runId") or ""),
        type=_child_type(run, default_type),
        status=str(run.get("status") or ""),
        parent=str(run.get("parentRunId") or ""),
        compute=str(compute),
        node=str(props.get("azureml.nodeid") or ""),
        created=parse_time(run.get("createdUtc") or run.get("createdTimeUtc")),
        start=start,
        end=end,
        duration_s=_duration(start, end, run.get("currentComputeTime")),
        error=_error(run.get("error")),
        hyperparameters=_hyperparameters(props),
        children=children,
    )


def _children(session: Session, ws: Workspace, run: str, default_type: str, depth: int) -> list[ChildRun]:
    out: list[ChildRun] = []
    for page in session.rest().pages(_run_url(session, ws, run) + "/children", params={"$top": CHILD_PAGE}):
        for raw in page:
            nested: tuple[ChildRun, ...] = ()
            if depth < MAX_DEPTH and _child_type(raw, default_type) in ("pipeline", "sweep"):
                nested = tuple(_children(session, ws, str(raw.get("runId")), default_type, depth + 1))
            out.append(_child(raw, default_type, nested))
    return out


def list_steps(session: Session, ws: Workspace, job: Job | str) -> list[ChildRun]:
    """A pipeline's steps from run history; nested pipelines carry their own steps in ``children``.

    Given a :class:`Job` (from ``get_job``/the list), graph nodes that never ran (a step after a failed
    one) are appended as ``has_run=False`` entries with status NotStarted.
    """
    name = job if isinstance(job, str) else job.name
    steps = _children(session, ws, name, "step", 1)
    if isinstance(job, Job) and job.pipeline_nodes:
        seen = {s.node or s.display_name for s in steps}
        for node in job.pipeline_nodes:
            if node not in seen:
                steps.append(
                    ChildRun(
                        name="",
                        display_name=node,
                        type="step",
                        status="NotStarted",
                        parent=name,
                        node=node,
                        has_run=False,
                    )
                )
    return steps


def list_trials(session: Session, ws: Workspace, job: Job | str) -> list[ChildRun]:
    """A sweep job's trials from run history, each with its sampled hyperparameters."""
    return _children(session, ws, job if isinstance(job, str) else job.name, "trial", 1)


def get_job(session: Session, ws: Workspace, name: str, *, history: bool = True) -> Job:
    """One job's detail: ARM for the spec, run history for times, error and creator (``history``).

    A pipeline step or sweep trial (which ARM serves without properties) is described from run
    history alone. A missing job raises ResourceNotFoundError (see services.errors.classify).
    """
    body = session.rest().get(f"{ws.id}/jobs/{urllib.parse.quote(name, safe='')}", API)
    is_child = not body.get("properties")
    job = _from_arm(body, ws)
    if not history and not is_child:
        return job
    run = session.rest().get(_run_url(session, ws, name))
    start = parse_time(run.get("startTimeUtc"))
    end = parse_time(run.get("endTimeUtc"))
    creator = (run.get("createdBy") or {}).get("userName") or ""
    extra: dict[str, Any] = {
        "start": start,
        "end": end,
        "duration_s": _duration(start, end, run.get("currentComputeTime")),
        "error": _error(run.get("error")),
        "parent": str(run.get("parentRunId") or ""),
    }
    if is_child:
        props = run.get("properties") or {}
        extra.update(
            display_name=str(run.get("displayName") or name),
            type=_child_type(run, "command"),
            status=str(run.get("status") or ""),
            compute=str(run.get("target") or ""),
            creator=str(creator),
            created=parse_time(run.get("createdUtc")),
            tags=_tags(run.get("tags")),
            is_archived=bool(run.get("hidden")),
            description=str(run.get("description") or ""),
            pipeline_nodes=(),
        )
        if props.get("azureml.nodeid"):
            extra["display_name"] = str(run.get("displayName") or props["azureml.nodeid"])
    else:
        extra["creator"] = job.creator or str(creator)
        if str(run.get("status") or ""):
            extra["status"] = str(run["status"])  # run history is the source ARM reads from
    return dataclasses.replace(job, **extra)


# -- logs --------------------------------------------------------------------------------------------


class LogReadError(AzmlError):
    """A log file could not be read: storage's status, code, message and request id."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.status_code = status
        self.code = code
        self.message = message
        self.request_id = request_id

    def service_error(self) -> ServiceError:
        message = self.message.splitlines()[0] if self.message else type(self).__name__
        return ServiceError(kind_for_status(self.status_code), message, self.status_code, self.code, self.request_id)


def list_log_files(session: Session, ws: Workspace, run: str) -> list[LogFile]:
    """A job's (or child run's) log files so far, by name; their URLs are signed: never show them."""
    details = session.rest().get(_run_url(session, ws, run) + "/details")
    files = details.get("logFiles") or {}
    return [LogFile(str(name), str(url)) for name, url in sorted(files.items())]


def _storage_error(status: int, body: bytes, headers: Mapping[str, str]) -> LogReadError:
    text = body.decode("utf-8", "replace")
    code = headers.get("x-ms-error-code") or ""
    m = re.search(r"<Code>(.*?)</Code>", text)
    if m:
        code = code or m.group(1)
    m = re.search(r"<Message>(.*?)</Message>", text, re.S)
    message = m.group(1).strip().splitlines()[0] if m else f"HTTP {status}"
    request_id = headers.get("x-ms-request-id") or ""
    return LogReadError(status, code, message, request_id)


def _decode(data: bytes) -> tuple[str, int]:
    """UTF-8 text of ``data`` and the bytes consumed (an incomplete trailing character waits for more)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(data, final=False)
    pending = decoder.getstate()[0]
    return text, len(data) - len(pending)


def tail_log(session: Session, log: LogFile | str, offset: int = 0, *, max_bytes: int = LOG_READ_BYTES) -> LogChunk:
    """The text of a log file from byte ``offset``: ``(new text, next offset)``.

    Sends ``Range: bytes=offset-…`` (at most ``max_bytes``); a 206 is the new part, a 416 means
    nothing new; a server that ignores Range (200) is sliced here. A file that shrank below
    ``offset`` (replaced) is read again from 0 — the returned offset is then below the one passed.
    An incomplete trailing UTF-8 character is left for the next read. Nothing is written anywhere;
    keeping a bounded buffer of lines is the caller's job.
    """
    url = log.url if isinstance(log, LogFile) else log
    offset = max(0, int(offset))
    max_bytes = max(1, int(max_bytes))
    rest = session.rest()
    status, body, headers = rest.get_unauthenticated(
        url, headers={"Range": f"bytes={offset}-{offset + max_bytes - 1}", "x-ms-version": "2023-11-03"}
    )
    hdrs = {k.lower(): val for k, val in headers.items()}
    if status == 416:
        m = re.search(r"/(\d+)\s*$", hdrs.get("content-range", ""))
        size = int(m.group(1)) if m else None
        if size is not None and size < offset:
            return tail_log(session, url, 0, max_bytes=max_bytes)
        return LogChunk("", offset)
    if status == 206:
        m = re.match(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)", hdrs.get("content-range", ""))
        start = int(m.group(1)) if m else offset
        data = body
        if start < offset:  # a server that widened the range: drop what the caller has
            data = data[offset - start :]
            start = offset
        text, used = _decode(data)
        return LogChunk(text, start + used)
    if status == 200:
        if len(body) < offset:
            offset = 0  # replaced by a shorter file
        data = body[offset : offset + max_bytes]
        text, used = _decode(data)
        return LogChunk(text, offset + used)
    raise _storage_error(status, body, hdrs)


# -- actions ------------------------------------------------------------------------------------------


def _ml(session: Session, t: Target) -> MLClient:
    return session.ml_client(t.subscription_id, t.resource_group, t.workspace)


def _validate_cancel(p: Mapping[str, Any]) -> None:
    status = str(p.get("status") or "")
    v.check(
        v.FieldError("status", "is required: pass the job's current status as read") if not status else None,
        v.FieldError(
            "status", f"the job has already finished ({status}): only a job that is still active can be canceled"
        )
        if status in TERMINAL_STATUSES
        else None,
    )


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


@operation(
    "job.cancel",
    "Cancel job",
    az=lambda t, p: f"az ml job cancel --name {t.name} {ws_args(t)}",
    validate=_validate_cancel,
    reconcile=_reconcile_cancel,
)
def cancel_job(session: Session, target: Target, *, status: str) -> None:
    """Cancel a job; ``status`` is its current status as read (a finished job is refused unsent)."""
    _ml(session, target).jobs.begin_cancel(target.name).result()


@operation(
    "job.archive",
    "Archive job",
    az=lambda t, p: f"az ml job archive --name {t.name} {ws_args(t)}",
    reconcile=_reconcile_archived(True),
)
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


@operation(
    "job.restore",
    "Restore archived job",
    az=lambda t, p: f"az ml job restore --name {t.name} {ws_args(t)}",
    reconcile=_reconcile_archived(False),
)
def restore_job(session: Session, target: Target) -> None:
    _set_archived(session, target, False)


def _compute_rule(value: str, field: str = "compute") -> v.FieldError | None:
    """A compute name valid for a cluster (2-16) or an instance (3-24)."""
    cluster = v.compute_name(value, kind="cluster", field=field)
    instance = v.compute_name(value, kind="instance", field=field)
    return None if cluster is None or instance is None else (instance if len(value) > 16 else cluster)


def _validate_resubmit(p: Mapping[str, Any]) -> None:
    compute = str(p.get("compute") or "")
    known = tuple(p.get("computes") or ())
    v.check(
        v.resource_name(str(p.get("new_name") or ""), "new_name"),
        _compute_rule(compute) if compute else None,
        v.FieldError("compute", f"{compute} is not a compute of this workspace")
        if compute and known and compute.lower() not in {c.lower() for c in known}
        else None,
    )


def _resubmit_az(t: Target, p: Mapping[str, Any]) -> str:
    new = p.get("new_name") or "<new-name>"
    compute = f" --set compute=azureml:{p['compute']}" if p.get("compute") else ""
    return (
        f"az ml job show --name {t.name} {ws_args(t)} > {t.name}.yml && "
        f"az ml job create --file {t.name}.yml --name {new}{compute} {ws_args(t)}"
    )


@operation("job.resubmit", "Resubmit job", az=_resubmit_az, validate=_validate_resubmit, reconcile=_reconcile_resubmit)
def resubmit_job(
    session: Session,
    target: Target,
    *,
    new_name: str,
    compute: str = "",
    computes: tuple[str, ...] = (),
    display_name: str = "",
) -> str:
    """Submit a new command job with an existing job's command, environment, code, compute and inputs.

    ``compute`` overrides the compute (``computes``: the workspace's compute names, to check it
    against). Returns the new job's name. Only command jobs can be resubmitted.
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
        compute=compute or _name_of(p.get("computeId")),
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
    timeout = _iso_duration_seconds((p.get("limits") or {}).get("timeout"))
    if timeout:
        job.set_limits(timeout=timeout)
    created = _ml(session, target).jobs.create_or_update(job)
    return str(created.name)
