"""Run history (``/history/v1.0/...``, the discovery document's ``history``/``api`` host) and job logs.

azure-ai-ml 1.35 reads child runs (``jobs.list(parent_job_name=...)``), pipeline steps (``jobs.get``),
run details with ``logFiles``, and PATCHes runs for archive/restore and metadata updates. Log files are
served under ``/logs/{account}/azureml/ExperimentRun/dcid.{run}/{path}?...&sig=...`` — anonymous like a
storage SAS URL, validated by signature — and grow with simulated time while the run is active.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from email.utils import format_datetime
from typing import Any

from ..estate import Estate
from ..http import ApiError, Request, Response, Route, bad_request
from .jobs_model import TERMINAL, JobRec, JobsModel, WsJobs, log_files, log_text, render_run

H = "/history/v1.0/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
_RUN_SCOPES = ("/runs/{run}", "/experiments/{exp}/runs/{run}", "/experimentids/{exp}/runs/{run}")
LOGS_PREFIX = "/logs/"
_LOG_PATH = re.compile(r"^/logs/(?P<account>[a-z0-9]{3,24})/azureml/ExperimentRun/dcid\.(?P<run>[^/]+)/(?P<path>.+)$")


def _run_not_found(run: str) -> ApiError:
    return ApiError(404, "UserError", f"Run {run} was not found.")


def log_url(model: JobsModel, base_url: str, ws: WsJobs, rec: JobRec, path: str) -> str:
    sig = model.log_sig(ws.account, rec.name, path)
    query = urllib.parse.urlencode({"sv": "2019-07-07", "sr": "b", "sp": "r", "sig": sig})
    quoted = urllib.parse.quote(path)
    return f"{base_url}{LOGS_PREFIX}{ws.account.lower()}/azureml/ExperimentRun/dcid.{rec.name}/{quoted}?{query}"


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate

    def model() -> JobsModel:
        from .jobs import model_of

        return model_of(estate)

    def scope(sub: str, rg: str, ws: str) -> WsJobs:
        from .jobs import workspace_jobs

        return workspace_jobs(estate, sub, rg, ws)

    def run_of(wj: WsJobs, run: str, exp: str | None, t: float) -> JobRec:
        rec = wj.find(run)
        if rec is None or rec.created > t:
            raise _run_not_found(run)
        if exp is not None and exp not in (rec.experiment, wj.experiment_id(rec.experiment)):
            raise _run_not_found(run)
        return rec

    def get_run(req: Request, sub: str, rg: str, ws: str, run: str, exp: str | None = None) -> Response:
        m = model()
        wj = scope(sub, rg, ws)
        t = m.now()
        return Response(200, render_run(m, wj, run_of(wj, run, exp, t), t, req.base_url))

    def patch_run(req: Request, sub: str, rg: str, ws: str, run: str, exp: str | None = None) -> Response:
        m = model()
        wj = scope(sub, rg, ws)
        t = m.now()
        rec = run_of(wj, run, exp, t)
        body = req.json()
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.", "UserError")
        if body.get("runId") not in (None, run):
            raise bad_request("The runId in the body does not match the run in the path.", "UserError")
        with m._lock:
            overrides = rec.overrides if rec.overrides is not None else {}
            if body.get("hidden") is not None:
                rec.archived = bool(body["hidden"])
            if body.get("displayName") is not None:
                overrides["displayName"] = str(body["displayName"])
            if body.get("description") is not None:
                overrides["description"] = str(body["description"])
            if isinstance(body.get("tags"), dict):
                from .jobs_model import tags_of

                current = tags_of(rec) if rec.parent is None else dict(overrides.get("tags", {}))
                overrides["tags"] = {**current, **{str(k): str(v) for k, v in body["tags"].items()}}
            if isinstance(body.get("properties"), dict):
                current_props = render_run(m, wj, rec, t, req.base_url)["properties"]
                clash = [
                    k for k, v in body["properties"].items() if k in current_props and str(current_props[k]) != str(v)
                ]
                if clash:
                    raise bad_request(
                        f"Run properties are immutable; cannot change: {', '.join(sorted(clash))}.", "UserError"
                    )
                overrides["properties"] = {
                    **overrides.get("properties", {}),
                    **{str(k): str(v) for k, v in body["properties"].items()},
                }
            who = str(req.caller.get("name") or req.caller.get("upn") or "ops@contoso.example")
            overrides["modified"] = (t, who)
            rec.overrides = overrides
        return Response(200, render_run(m, wj, rec, t, req.base_url))

    def children(req: Request, sub: str, rg: str, ws: str, run: str, exp: str | None = None) -> Response:
        m = model()
        wj = scope(sub, rg, ws)
        t = m.now()
        rec = run_of(wj, run, exp, t)
        kids = [c for c in wj.children_of(rec) if c.created <= t]
        try:
            top = int(req.q("$top") or 25)
            skip = int(req.q("$continuationtoken") or 0)
        except ValueError as e:
            raise bad_request(f"Invalid paging parameter: {e}", "InvalidQueryParameterValue") from e
        top = max(1, min(top, 500))
        chunk = kids[skip : skip + top]
        body: dict[str, Any] = {
            "value": [render_run(m, wj, c, t, req.base_url) for c in chunk],
            "continuationToken": None,
            "nextLink": None,
        }
        if skip + top < len(kids):
            token = str(skip + top)
            query = {k: v for k, v in req.query.items() if k.lower() != "$continuationtoken"}
            query["$continuationtoken"] = token
            body["continuationToken"] = token
            body["nextLink"] = req.url(req.path, **query)
        return Response(200, body)

    def details(req: Request, sub: str, rg: str, ws: str, run: str, exp: str | None = None) -> Response:
        m = model()
        wj = scope(sub, rg, ws)
        t = m.now()
        rec = run_of(wj, run, exp, t)
        full = render_run(m, wj, rec, t, req.base_url)
        keys = (
            "runId",
            "runUuid",
            "parentRunUuid",
            "rootRunUuid",
            "target",
            "status",
            "parentRunId",
            "startTimeUtc",
            "endTimeUtc",
            "error",
            "warnings",
            "tags",
            "properties",
            "parameters",
            "services",
            "inputDatasets",
            "outputDatasets",
            "runDefinition",
            "revision",
            "runTypeV2",
            "settings",
            "computeRequest",
            "compute",
            "createdBy",
            "computeDuration",
            "effectiveStartTimeUtc",
            "runNumber",
            "rootRunId",
            "userId",
            "statusRevision",
            "hasVirtualParent",
            "currentComputeTime",
            "lastStartTimeUtc",
            "lastModifiedBy",
            "lastModifiedUtc",
            "duration",
            "inputs",
            "outputs",
        )
        body = {k: full.get(k) for k in keys}
        body["createdTimeUtc"] = full["createdUtc"]
        body["jobCost"] = None
        body["logFiles"] = {p: log_url(m, req.base_url, wj, rec, p) for p in log_files(rec, t)}
        return Response(200, body)

    def cancel(req: Request, sub: str, rg: str, ws: str, run: str, exp: str | None = None) -> Response:
        m = model()
        wj = scope(sub, rg, ws)
        t = m.now()
        rec = run_of(wj, run, exp, t)
        status = rec.status(t)
        if status in TERMINAL:
            raise bad_request(f"Run {run} is already in a terminal state ({status}).", "UserError")
        with m._lock:
            affected = m.request_cancel(wj, rec, t)
        emu.ops.start("Run.Cancel", sub, wj.location, lambda: m.complete_cancel(affected, m.now()))
        return Response(200, render_run(m, wj, rec, t, req.base_url))

    for s in _RUN_SCOPES:
        router.add("GET", H + s, get_run)
        router.add("PATCH", H + s, patch_run)
        router.add("GET", H + s + "/children", children)
        router.add("GET", H + s + "/details", details)
        router.add("POST", H + s + "/cancel", cancel)

    def logs(req: Request, account: str, run: str, path: str) -> Response:
        m = model()
        wj = m.workspace_by_account(account)
        rel = path  # the router has unquoted it
        if wj is None:
            return _storage_error(404, "ResourceNotFound", "The specified resource does not exist.")
        sig = req.q("sig") or ""
        if sig != m.log_sig(wj.account, run, rel):
            return _storage_error(
                403,
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
                "correctly including the signature.",
            )
        t = m.now()
        rec = wj.find(run)
        text = log_text(m, wj, rec, rel, t) if rec is not None and rec.created <= t else None
        if text is None:
            return _storage_error(404, "BlobNotFound", "The specified blob does not exist.")
        data = text.encode()
        last = rec.end_time(t) if rec is not None else None
        modified = m.estate.clock.start.timestamp() + (last if last is not None else t)
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": '"0x' + hashlib.sha1(data).hexdigest()[:15].upper() + '"',
            "Last-Modified": _http_date(modified),
            "x-ms-blob-type": "AppendBlob",
            "x-ms-version": "2023-11-03",
            "x-ms-blob-committed-block-count": str(text.count("\n")),
        }
        rng = req.headers.get("x-ms-range") or req.headers.get("range")
        if rng:
            parsed = _parse_range(rng, len(data))
            if parsed is None:
                return Response(
                    416,
                    _error_xml("InvalidRange", "The range specified is invalid for the current size of the resource."),
                    {"Content-Range": f"bytes */{len(data)}"},
                    content_type="application/xml",
                )
            start, end = parsed
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return Response(206, data[start : end + 1], headers, content_type="text/plain; charset=utf-8")
        return Response(200, data, headers, content_type="text/plain; charset=utf-8")

    def _logs_handler(req: Request, **params: str) -> Response:
        return logs(req, params["account"], params["run"], params["path"])

    for method in ("GET", "HEAD"):
        router.routes.append(
            Route(method, "/logs/{account}/azureml/ExperimentRun/dcid.{run}/{path...}", _LOG_PATH, _logs_handler)
        )


def _http_date(ts: float) -> str:
    import datetime as dt

    return format_datetime(dt.datetime.fromtimestamp(ts, dt.UTC), usegmt=True)


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", value)
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    if m.group(1) == "":  # suffix range: the last N bytes
        n = int(m.group(2))
        if n == 0:
            return None
        return max(0, size - n), size - 1
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def _error_xml(code: str, message: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'


def _storage_error(status: int, code: str, message: str) -> Response:
    return Response(status, _error_xml(code, message), {"x-ms-error-code": code}, content_type="application/xml")
