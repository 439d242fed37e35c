"""Azure ML jobs (ARM, api-version 2024-01-01-preview as azure-ai-ml sends it).

Routes under ``.../workspaces/{ws}/jobs``: list (paged, ``listViewType``, ``jobType``, ``tag``,
``properties``, ``scheduled``/``scheduleId``, ``$top``), get, create/update (PUT), cancel (POST → 202 and
a ``Location`` polled at ``mfeOperationResults``) and delete. Jobs are simulated by
:mod:`emulator.areas.jobs_model`; run history and log files are served by :mod:`emulator.areas.runhistory`.

``estate.area_state["jobs"]`` is the :class:`JobsModel`; ``estate.area_state["jobs_demand"]`` is a
function ``(compute id, lower-cased) -> nodes wanted by queued/preparing/running jobs now``.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ..estate import Estate
from ..http import ApiError, Request, Response, bad_request
from . import runhistory
from .jobs_model import TERMINAL, JobRec, JobsModel, WsJobs, properties_of, render_arm, tags_of
from .workspaces import WS, find

AREA = "jobs"
DEFAULT_PAGE = 50
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,254}$")
_MUTABLE = ("description", "tags", "displayName", "isArchived", "properties")
_IMMUTABLE = ("command", "computeId", "environmentId", "codeId", "jobType", "experimentName")


def populate(estate: Estate) -> None:
    model = JobsModel(estate)
    estate.area_state[AREA] = model
    estate.area_state["jobs_demand"] = model.demand
    # Workspaces are generated on first use; warm them in the background so that the first request
    # at large scale does not pay for 100,000 jobs (generation is deterministic whoever does it).
    threading.Thread(target=lambda: list(model.all_workspaces()), name="jobs-warmup", daemon=True).start()


def model_of(estate: Estate) -> JobsModel:
    model = estate.area_state.get(AREA)
    if not isinstance(model, JobsModel):
        model = JobsModel(estate)
        estate.area_state[AREA] = model
        estate.area_state["jobs_demand"] = model.demand
    return model


def workspace_jobs(estate: Estate, sub: str, rg: str, ws: str) -> WsJobs:
    w = find(estate, sub, rg, ws)
    found = model_of(estate).workspace(w["id"])
    if found is None:
        raise ApiError(404, "ResourceNotFound", f"The workspace '{ws}' has no job store.")
    return found


def job_not_found(name: str) -> ApiError:
    return ApiError(404, "UserError", f"Not found: the job '{name}' does not exist in this workspace.")


def _bool(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in ("true", "1", "yes")


def _matches(filters: list[tuple[str, str | None]], values: dict[str, str]) -> bool:
    for key, want in filters:
        if key not in values:
            return False
        if want is not None and values[key] != want:
            return False
    return True


def _parse_filters(text: str | None) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, eq, value = part.partition("=")
        out.append((key.strip(), value.strip() if eq else None))
    return out


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate
    base = WS + "/{ws}/jobs"

    def list_jobs(req: Request, sub: str, rg: str, ws: str) -> Response:
        wj = workspace_jobs(estate, sub, rg, ws)
        model = model_of(estate)
        view = (req.q("listViewType") or "ActiveOnly").lower()
        if view not in ("activeonly", "archivedonly", "all"):
            raise bad_request(f"Invalid listViewType '{req.q('listViewType')}'.", "UserError", target="listViewType")
        job_type = (req.q("jobType") or "").lower() or None
        tags = _parse_filters(req.q("tag"))
        props = _parse_filters(req.q("properties"))
        scheduled = _bool(req.q("scheduled"))
        schedule_id = req.q("scheduleId")
        token = req.q("$skipToken") or req.q("$skip")
        now = model.now()
        try:
            top = int(req.q("$top") or DEFAULT_PAGE)
            if token:
                offset_s, _, cutoff_s = token.partition(":")
                offset, cutoff = int(offset_s), (float(cutoff_s) if cutoff_s else now)
            else:
                offset, cutoff = 0, now
        except ValueError as e:
            raise bad_request(f"Invalid paging parameter: {e}", "InvalidQueryParameterValue") from e
        top = max(1, min(top, 500))
        selected: list[JobRec] = []
        total = 0
        with model._lock:
            recs = list(wj.top)
        for rec in recs:
            if rec.created > cutoff:
                continue  # not submitted yet (or submitted after this listing began)
            if (view == "activeonly" and rec.archived) or (view == "archivedonly" and not rec.archived):
                continue
            if job_type and rec.kind.lower() != job_type:
                continue
            if scheduled is not None and (rec.scheduled is not None) != scheduled:
                continue
            if schedule_id and rec.scheduled != schedule_id:
                continue
            if tags and not _matches(tags, tags_of(rec)):
                continue
            if props and not _matches(props, properties_of(wj, rec)):
                continue
            if offset <= total < offset + top:
                selected.append(rec)
            total += 1
        body: dict[str, Any] = {"value": [render_arm(model, wj, r, now, req.base_url) for r in selected]}
        if offset + top < total:
            query = {k: v for k, v in req.query.items() if k.lower() not in ("$skip", "$skiptoken")}
            query["$skipToken"] = f"{offset + top}:{cutoff!r}"
            body["nextLink"] = req.url(req.path, **query)
        return Response(200, body)

    def get_job(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        wj = workspace_jobs(estate, sub, rg, ws)
        model = model_of(estate)
        now = model.now()
        rec = wj.find(name)
        if rec is None or rec.created > now:
            raise job_not_found(name)
        return Response(200, render_arm(model, wj, rec, now, req.base_url))

    def put_job(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        wj = workspace_jobs(estate, sub, rg, ws)
        model = model_of(estate)
        payload = req.json()
        if not isinstance(payload, dict) or not isinstance(payload.get("properties"), dict):
            raise bad_request("The request body must contain 'properties'.", "UserError", target="properties")
        props: dict[str, Any] = payload["properties"]
        now = model.now()
        existing = wj.find(name)
        if existing is not None and existing.created <= now:
            return Response(200, _update(model, wj, existing, props, req, now))
        if not _NAME_RE.match(name):
            raise bad_request(
                f"Job name '{name}' is invalid: use letters, digits, '-' and '_' (at most 255 characters), "
                "starting with a letter or digit.",
                "UserError",
                target="name",
            )
        spec = _validate_new(estate, wj, props)
        with model._lock:
            if wj.find(name) is not None:
                raise ApiError(409, "UserError", f"A job named '{name}' already exists.")
            rec = model.submit(wj, name, spec, req.caller, now)
        return Response(201, render_arm(model, wj, rec, now, req.base_url))

    def cancel_job(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        wj = workspace_jobs(estate, sub, rg, ws)
        model = model_of(estate)
        now = model.now()
        rec = wj.find(name)
        if rec is None or rec.created > now:
            raise job_not_found(name)
        status = rec.status(now)
        if status in TERMINAL:
            raise ApiError(
                400,
                "UserError",
                f"Cannot cancel job '{name}': it has already finished with status '{status}'.",
            )
        with model._lock:
            affected = model.request_cancel(wj, rec, now)
        op = emu.ops.start("Job.Cancel", sub, wj.location, lambda: model.complete_cancel(affected, model.now()))
        return Response(202, None, {"Location": emu.ops.result_url(req, op), "Retry-After": emu.ops.retry_after})

    def delete_job(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        wj = workspace_jobs(estate, sub, rg, ws)
        model = model_of(estate)
        rec = wj.find(name)
        if rec is None or rec.created > model.now():
            return Response(204, None)
        if rec.parent is not None:
            raise bad_request(f"Job '{name}' is a child run and cannot be deleted on its own.", "UserError")

        def apply() -> None:
            with model._lock:
                model.delete(wj, rec)

        op = emu.ops.start("Job.Delete", sub, wj.location, apply)
        return Response(202, None, {"Location": emu.ops.result_url(req, op), "Retry-After": emu.ops.retry_after})

    router.add("GET", base, list_jobs)
    router.add("GET", base + "/{name}", get_job)
    router.add("PUT", base + "/{name}", put_job)
    router.add("DELETE", base + "/{name}", delete_job)
    router.add("POST", base + "/{name}/cancel", cancel_job)
    runhistory.register(router, emu)


def _update(model: JobsModel, wj: WsJobs, rec: JobRec, props: dict[str, Any], req: Request, now: float) -> Any:
    """PUT on an existing job: only its metadata may change (as in Azure ML)."""
    if rec.parent is not None:
        raise bad_request(f"Job '{rec.name}' is a child run; update it through run history.", "UserError")
    current = render_arm(model, wj, rec, now, req.base_url)["properties"]
    for key in _IMMUTABLE:
        if key in props and props[key] is not None and key in current and current[key] is not None:
            if str(props[key]).lower() != str(current[key]).lower():
                raise bad_request(
                    f"The property '{key}' of job '{rec.name}' cannot be changed after submission.",
                    "UserError",
                    target=f"properties.{key}",
                )
    with model._lock:
        overrides = rec.overrides if rec.overrides is not None else {}
        if "isArchived" in props and props["isArchived"] is not None:
            rec.archived = bool(props["isArchived"])
        if "tags" in props and props["tags"] is not None:
            overrides["tags"] = {str(k): str(v) for k, v in dict(props["tags"]).items()}
        if "description" in props:
            overrides["description"] = props["description"]
        if props.get("displayName"):
            overrides["displayName"] = props["displayName"]
        if isinstance(props.get("properties"), dict):
            existing = current.get("properties") or {}
            added = {str(k): str(v) for k, v in props["properties"].items() if k not in existing}
            if added:
                overrides["properties"] = {**overrides.get("properties", {}), **added}
        who = str(req.caller.get("name") or req.caller.get("upn") or "ops@contoso.example")
        overrides["modified"] = (now, who)
        rec.overrides = overrides
    return render_arm(model, wj, rec, now, req.base_url)


def _validate_new(estate: Estate, wj: WsJobs, props: dict[str, Any]) -> dict[str, Any]:
    job_type = props.get("jobType")
    if not job_type:
        raise bad_request("The field 'jobType' is required.", "UserError", target="properties.jobType")
    if str(job_type) != "Command":
        raise bad_request(
            f"Submitting '{job_type}' jobs is not supported by this emulator; submit a Command job.",
            "UserError",
            target="properties.jobType",
        )
    compute_id = props.get("computeId")
    if not compute_id:
        raise bad_request("A compute target is required: set 'computeId'.", "UserError", target="properties.computeId")
    compute = str(compute_id).rstrip("/").rsplit("/", 1)[-1]
    known = {c.lower() for c, _, _ in wj.computes}
    known |= {str(c["name"]).lower() for c in estate.children(wj.ws_id, "computes")}
    if compute.lower() not in known:
        raise bad_request(
            f"Compute '{compute}' was not found in workspace '{wj.ws_name}'. Available computes: "
            f"{', '.join(sorted(known))}.",
            "UserError",
            target="properties.computeId",
        )
    command = props.get("command")
    if not command or not str(command).strip():
        raise bad_request(
            "The field 'command' is required for a Command job.", "UserError", target="properties.command"
        )
    if not props.get("environmentId"):
        raise bad_request(
            "The field 'environmentId' is required for a Command job.", "UserError", target="properties.environmentId"
        )
    resources = props.get("resources") or {}
    count = resources.get("instanceCount") or 1
    if not isinstance(count, int) or count < 1:
        raise bad_request(
            "resources.instanceCount must be a positive integer.",
            "UserError",
            target="properties.resources.instanceCount",
        )
    spec = {k: v for k, v in props.items() if k not in ("status", "services")}
    spec["computeId"] = f"{wj.ws_id}/computes/{compute}"
    spec.setdefault("experimentName", "Default")
    if not spec.get("experimentName"):
        spec["experimentName"] = "Default"
    return spec
