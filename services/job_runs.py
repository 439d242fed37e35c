"""Run history of jobs: a job's detail (ARM's spec joined with run history's times, error and creator), and the
child runs of pipelines (steps, nested pipelines) and sweeps (trials with their hyperparameters).

Run history is reached through the workspace's discovery document; its host is cached per session.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from .job_parse import API, duration_of, error_of, job_from_arm, tags_of
from .models.core import Workspace
from .models.jobs import ChildRun, Job, Pairs
from .session import Session
from .times import parse_time

WORKSPACE_API = "2024-10-01"
CHILD_PAGE = 100
MAX_DEPTH = 4  # nested pipelines: how deep list_steps follows pipeline children


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


def run_url(session: Session, ws: Workspace, run: str) -> str:
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
        duration_s=duration_of(start, end, run.get("currentComputeTime")),
        error=error_of(run.get("error")),
        hyperparameters=_hyperparameters(props),
        children=children,
    )


def _children(session: Session, ws: Workspace, run: str, default_type: str, depth: int) -> list[ChildRun]:
    out: list[ChildRun] = []
    for page in session.rest().pages(run_url(session, ws, run) + "/children", params={"$top": CHILD_PAGE}):
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
    job = job_from_arm(body, ws)
    if not history and not is_child:
        return job
    run = session.rest().get(run_url(session, ws, name))
    start = parse_time(run.get("startTimeUtc"))
    end = parse_time(run.get("endTimeUtc"))
    creator = (run.get("createdBy") or {}).get("userName") or ""
    extra: dict[str, Any] = {
        "start": start,
        "end": end,
        "duration_s": duration_of(start, end, run.get("currentComputeTime")),
        "error": error_of(run.get("error")),
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
            tags=tags_of(run.get("tags")),
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
