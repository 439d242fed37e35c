"""Job bodies to models: the ARM jobs API's version, its job body → :class:`Job`, and the small parsers both ARM
and run history need (.NET and ISO-8601 durations, environment and datastore URIs, inputs, outputs, tags, errors).

Pure functions: nothing here sends a request.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from .models.core import Workspace
from .models.jobs import Job, JobError, Pairs
from .times import parse_time

API = "2024-01-01-preview"  # the ARM jobs API version, as azure-ai-ml sends it

_ENV = re.compile(r"environments/([^/]+)/(versions|labels)/([^/?]+)")
_DATASTORE_URI = re.compile(r"^azureml://datastores/([^/]+)/paths/(.*)$")


# -- small parsers ---------------------------------------------------------------------------------


def timespan_seconds(text: str | None) -> float | None:
    """Run history's .NET TimeSpan ("00:04:02.9832970", "1.02:03:04.5") → seconds."""
    if not text:
        return None
    m = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", str(text).strip())
    if not m:
        return None
    days, hours, minutes, secs = m.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(secs)


def iso_duration_seconds(text: str | None) -> int | None:
    """ISO-8601 duration (PT15M, P2D, PT1H30M) → seconds."""
    if not text:
        return None
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", str(text))
    if not m:
        return None
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return int(d * 86400 + h * 3600 + mi * 60 + s)


def name_of(arm_id: str | None) -> str:
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


def tags_of(raw: Mapping[str, Any] | None) -> Pairs:
    return tuple(sorted((str(k), "" if val is None else str(val)) for k, val in (raw or {}).items()))


def error_of(raw: Mapping[str, Any] | None) -> JobError | None:
    if not raw:
        return None
    nested = raw.get("error")
    inner: Mapping[str, Any] = nested if isinstance(nested, Mapping) else raw
    code = str(inner.get("code") or "")
    message = str(inner.get("message") or "")
    return JobError(code, message) if (code or message) else None


def duration_of(start: dt.datetime | None, end: dt.datetime | None, running: str | None) -> float | None:
    if start and end:
        return max(0.0, (end - start).total_seconds())
    if start:
        return timespan_seconds(running)
    return None


# -- ARM → model -----------------------------------------------------------------------------------


def job_from_arm(body: Mapping[str, Any], ws: Workspace) -> Job:
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
        compute=name_of(compute_id),
        creator=str(sd.get("createdBy") or ""),
        created=parse_time(sd.get("createdAt")),
        tags=tags_of(p.get("tags")),
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
