"""`azml check`: health checks with thresholds, in the monitoring plugin convention.

Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. The overall status is the worst finding, with CRITICAL over
WARNING over UNKNOWN over OK (as Nagios aggregators rank them): a check that could not read part of the
estate reports UNKNOWN unless what it did read already warrants a warning or worse.

Thresholds come from, in increasing precedence: the defaults below, the profile's ``checks`` table
(``[profiles.NAME.checks]`` in the config file), a ``--thresholds FILE`` and the command-line flags.
A count threshold of 0 turns that level off.

No Textual here (import-linter contract): the data comes from console.snapshot and the services.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from services.errors import ServiceError
from services.fanout import collect
from services.kinds.compute import RegionalUsage
from services.kinds.deployments import DeploymentEntry
from services.kinds.metrics import MetricPoint
from services.models import BatchEndpoint, Compute, OnlineEndpoint, Workspace
from services.models.jobs import Job, JobFilter
from services.session import Session
from services.times import iso

from .snapshot import METRICS_WINDOW, Snapshot, SnapshotRequest, collect_snapshot, error_row, iso_utc
from .thresholds import SPECS, canonical, value_rule

FAILED_JOBS_LIMIT = 1000  # per workspace: enough to count, never an unbounded walk


class CheckStatus(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


_RANK = {CheckStatus.OK: 0, CheckStatus.UNKNOWN: 1, CheckStatus.WARNING: 2, CheckStatus.CRITICAL: 3}


def worst(statuses: Iterable[CheckStatus]) -> CheckStatus:
    return max(statuses, key=_RANK.__getitem__, default=CheckStatus.OK)


class ThresholdError(ValueError):
    """A threshold is unknown or out of range; the message names it."""


@dataclass(frozen=True)
class Thresholds:
    failed_jobs_hours: float = 24.0  # the window for failed jobs (by creation time)
    failed_jobs_warn: int = 1
    failed_jobs_crit: int = 10
    unusable_nodes_warn: int = 1
    unusable_nodes_crit: int = 1
    preempted_nodes_warn: int = 1
    preempted_nodes_crit: int = 0
    idle_gpu_minutes: float = 15.0  # T: GPU nodes that can sit idle longer than this
    idle_gpu_warn: int = 1
    idle_gpu_crit: int = 0
    quota_warn_percent: float = 80.0
    quota_crit_percent: float = 95.0
    # endpoint health over the last hour (Log Analytics, through the snapshot's metrics area); off unless set
    endpoint_5xx_warn_percent: float | None = None
    endpoint_5xx_crit_percent: float | None = None
    latency_p95_warn_ms: float | None = None
    latency_p95_crit_ms: float | None = None

    @classmethod
    def fields(cls) -> list[dataclasses.Field[Any]]:
        return list(dataclasses.fields(cls))

    def merged(self, values: Mapping[str, Any], origin: str) -> Thresholds:
        """These thresholds with ``values`` applied (keys may use - or _); unknown keys and values out of
        range are refused by name, with the same rules as `azml config check` (console.thresholds)."""
        changes: dict[str, Any] = {}
        for raw_key, value in values.items():
            key = canonical(raw_key)
            if key not in SPECS:
                raise ThresholdError(f"{origin}: unknown threshold {raw_key!r} (known: {', '.join(SPECS)})")
            if value is None:
                changes[key] = None
                continue
            rule = value_rule(key, value)
            if rule:
                raise ThresholdError(f"{origin}: {raw_key} {rule}, not {value!r}")
            changes[key] = int(value) if SPECS[key].whole else float(value)
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Finding:
    check: str
    status: CheckStatus
    summary: str
    details: tuple[str, ...] = ()


@dataclass
class Report:
    findings: list[Finding]
    workspaces: int
    generated_at: str
    notes: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> CheckStatus:
        return worst(f.status for f in self.findings)

    def summary_line(self) -> str:
        status = self.status
        bad = [f for f in self.findings if f.status is not CheckStatus.OK]
        bad.sort(key=lambda f: -_RANK[f.status])
        if not bad:
            text = f"{len(self.findings)} checks passed on {self.workspaces} workspaces"
        else:
            text = "; ".join(f"{f.check}: {f.summary}" for f in bad)
        return f"AZML {status.name} - {text}"

    def text(self) -> str:
        lines = [self.summary_line()]
        for f in self.findings:
            lines.append(f"[{f.status.name}] {f.check}: {f.summary}")
            lines.extend(f"  {d}" for d in f.details)
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.name,
            "exit_code": int(self.status),
            "summary": self.summary_line(),
            "generated_at": self.generated_at,
            "workspaces": self.workspaces,
            "checks": [
                {"check": f.check, "status": f.status.name, "summary": f.summary, "details": list(f.details)}
                for f in self.findings
            ],
            "errors": self.errors,
            "notes": self.notes,
        }

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"


def level(value: float, warn: float, crit: float) -> CheckStatus:
    """A count against thresholds (0 turns a level off)."""
    if crit and value >= crit:
        return CheckStatus.CRITICAL
    if warn and value >= warn:
        return CheckStatus.WARNING
    return CheckStatus.OK


def _incomplete(status: CheckStatus, errors: Sequence[Mapping[str, Any]], areas: Iterable[str]) -> CheckStatus:
    """A check that missed part of the estate cannot say OK."""
    wanted = set(areas)
    if status is CheckStatus.OK and any(e["area"] in wanted for e in errors):
        return CheckStatus.UNKNOWN
    return status


def _missing(errors: Sequence[Mapping[str, Any]], areas: Iterable[str]) -> list[str]:
    wanted = set(areas)
    return [
        f"could not read {e['area']} of {e['workspace'] or e['target'] or 'the estate'}: {e['kind']}: {e['message']}"
        + (f" (request id {e['request_id']})" if e["request_id"] else "")
        for e in errors
        if e["area"] in wanted
    ]


# -- the checks -------------------------------------------------------------------------------------


def check_failed_jobs(failed: Sequence[Job], errors: Sequence[Mapping[str, Any]], t: Thresholds) -> Finding:
    hours = f"{t.failed_jobs_hours:g}h"
    status = _incomplete(level(len(failed), t.failed_jobs_warn, t.failed_jobs_crit), errors, ["jobs"])
    details = [
        f"{j.workspace}/{j.name} ({j.display_name}) created {iso_utc(j.created)} on {j.compute or '-'}"
        for j in sorted(sorted(failed, key=lambda j: (iso(j.created), j.name), reverse=True), key=lambda j: j.workspace)
    ]
    return Finding(
        "failed-jobs", status, f"{len(failed)} failed in the last {hours}", (*details, *_missing(errors, ["jobs"]))
    )


def _node_check(
    name: str, attr: str, computes: Sequence[Compute], errors: Sequence[Mapping[str, Any]], warn: int, crit: int
) -> Finding:
    hits = [(c, getattr(c.nodes, attr)) for c in computes if c.kind == "cluster" and getattr(c.nodes, attr) > 0]
    total = sum(n for _, n in hits)
    status = _incomplete(level(total, warn, crit), errors, ["compute"])
    details = [f"{c.workspace}/{c.name} ({c.vm_size}): {n} {attr}" for c, n in hits]
    return Finding(name, status, f"{total} {attr} nodes", (*details, *_missing(errors, ["compute"])))


def check_idle_gpu(computes: Sequence[Compute], errors: Sequence[Mapping[str, Any]], t: Thresholds) -> Finding:
    """Azure reports no per-node idle time; a cluster node stays idle up to the cluster's scale-down delay,
    and indefinitely while min nodes hold it. Those idle GPU nodes that can outlast T are counted."""
    limit_s = t.idle_gpu_minutes * 60
    hits: list[tuple[Compute, int, str]] = []
    for c in computes:
        idle = c.nodes.idle
        if c.kind != "cluster" or not c.gpus or not idle:
            continue
        if c.min_nodes > 0:
            hits.append((c, min(idle, c.min_nodes), f"held by min nodes {c.min_nodes}"))
        elif c.idle_seconds > limit_s:
            hits.append((c, idle, f"scale-down after {c.idle_seconds / 60:g} min idle"))
    total = sum(n for _, n, _ in hits)
    status = _incomplete(level(total, t.idle_gpu_warn, t.idle_gpu_crit), errors, ["compute"])
    details = [f"{c.workspace}/{c.name} ({c.vm_size}): {n} idle GPU nodes, {why}" for c, n, why in hits]
    summary = f"{total} GPU nodes idle longer than {t.idle_gpu_minutes:g} min"
    return Finding("idle-gpu", status, summary, (*details, *_missing(errors, ["compute"])))


_FAILED_STATES = {"failed", "canceled"}


def check_deployments(
    endpoints: Sequence[OnlineEndpoint | BatchEndpoint],
    deployments: Sequence[DeploymentEntry],
    errors: Sequence[Mapping[str, Any]],
) -> Finding:
    """Deployments (and endpoints) not Succeeded: Failed or Canceled is critical, in progress a warning."""
    bad: list[tuple[CheckStatus, str]] = []
    for e in endpoints:
        state = e.provisioning_state
        if state.lower() != "succeeded":
            sev = CheckStatus.CRITICAL if state.lower() in _FAILED_STATES else CheckStatus.WARNING
            bad.append((sev, f"endpoint {e.workspace}/{e.name}: {state}"))
    for d in deployments:
        state = d.provisioning_state
        if state.lower() != "succeeded":
            sev = CheckStatus.CRITICAL if state.lower() in _FAILED_STATES else CheckStatus.WARNING
            why = f" ({d.error.code}: {d.error.message})" if d.error else ""
            traffic = f", {d.traffic_percent}% traffic" if d.online else ""
            where = f"{d.deployment.workspace}/{d.deployment.endpoint}/{d.name}"
            bad.append((sev, f"deployment {where}: {state}{traffic}{why}"))
    status = _incomplete(worst(s for s, _ in bad), errors, ["deployments"])
    failed = sum(1 for s, _ in bad if s is CheckStatus.CRITICAL)
    summary = f"{len(bad)} not Succeeded ({failed} failed) of {len(deployments)} deployments"
    return Finding("deployments", status, summary, (*(d for _, d in bad), *_missing(errors, ["deployments"])))


def check_quota(quota: Sequence[RegionalUsage], errors: Sequence[Mapping[str, Any]], t: Thresholds) -> Finding:
    hits: list[tuple[CheckStatus, str]] = []
    for q in quota:
        pct = q.percent
        if pct is None:
            continue
        sev = level(pct, t.quota_warn_percent, t.quota_crit_percent)
        if sev is not CheckStatus.OK:
            u = q.usage
            hits.append((sev, f"{q.location} {u.label}: {u.current}/{u.limit} ({pct}%)"))
    status = _incomplete(worst(s for s, _ in hits), errors, ["compute"])
    above = t.quota_warn_percent or t.quota_crit_percent
    summary = f"{len(hits)} at or above {above:g}% of their limit"
    return Finding("quota", status, summary, (*(d for _, d in hits), *_missing(errors, ["compute"])))


def check_metric(
    name: str,
    metric: str,
    points: Sequence[MetricPoint],
    errors: Sequence[Mapping[str, Any]],
    warn: float | None,
    crit: float | None,
    unit: str,
) -> Finding:
    """Each online endpoint's value of ``metric`` against the thresholds; the worst endpoint sets the status.
    Endpoints without traffic have no value and are not judged."""
    limits = ", ".join(f"{lbl} {v:g}{unit}" for lbl, v in (("warn", warn), ("crit", crit)) if v is not None)
    values = [
        (p, float(p.value))
        for p in points
        if p.metric == metric and p.scope.startswith("endpoint/") and p.value is not None
    ]
    values.sort(key=lambda pv: (-pv[1], pv[0].workspace, pv[0].scope))
    judged = [(level(v, warn or 0, crit or 0), p, v) for p, v in values]
    status = _incomplete(worst(s for s, _, _ in judged), errors, ["metrics"])
    details = [
        f"{p.workspace}/{p.scope.split('/', 1)[1]}: {v:g}{unit} ({s.name})"
        for s, p, v in judged
        if s is not CheckStatus.OK
    ]
    window = f"over the last {METRICS_WINDOW.total_seconds() / 3600:g}h"
    if not values:
        summary = f"no endpoint traffic {window} ({limits})"
    else:
        p, v = values[0]
        where = f"{p.workspace}/{p.scope.split('/', 1)[1]}"
        summary = f"worst {v:g}{unit} on {where} {window}, {len(values)} endpoints ({limits})"
    return Finding(name, status, summary, (*details, *_missing(errors, ["metrics"])))


CHECKS = (
    "failed-jobs",
    "unusable-nodes",
    "preempted-nodes",
    "idle-gpu",
    "deployments",
    "quota",
    "endpoint-5xx",
    "latency-p95",
)
_METRIC_CHECKS = {
    "endpoint-5xx": ("endpoint_5xx_warn_percent", "endpoint_5xx_crit_percent", "%"),
    "latency-p95": ("latency_p95_warn_ms", "latency_p95_crit_ms", " ms"),
}


def _failed_jobs(
    session: Session, workspaces: Sequence[Workspace], since: dt.datetime, concurrency: int
) -> tuple[list[Job], list[dict[str, Any]]]:
    from services import jobs

    filters = JobFilter.of(status="Failed", created_after=since)

    def load(ws: Workspace) -> list[Job]:
        return list(jobs.list_jobs(session, ws, filters, page_size=100, limit=FAILED_JOBS_LIMIT))

    found: list[Job] = []
    errors: list[dict[str, Any]] = []
    for result in collect(workspaces, load, concurrency=concurrency):
        if result.error is not None:
            errors.append(error_row("jobs", result.target.name, result.target.id, result.error))
        else:
            found.extend(result.value or [])
    return found, errors


def run_checks(
    session: Session,
    thresholds: Thresholds,
    *,
    checks: Sequence[str] = CHECKS,
    workspaces: Sequence[str] = (),
    source: str,
    now: dt.datetime,
    concurrency: int = 8,
) -> Report:
    selected = [c for c in CHECKS if c in checks]
    notes: list[str] = []
    for name, (warn, crit, _) in _METRIC_CHECKS.items():
        if name in selected and getattr(thresholds, warn) is None and getattr(thresholds, crit) is None:
            selected.remove(name)  # no sensible default for every endpoint: off until a threshold is set
            notes.append(f"{name}: off until a threshold is set (--{warn.replace('_', '-')})")
    areas: list[str] = []
    if any(c in selected for c in ("unusable-nodes", "preempted-nodes", "idle-gpu", "quota")):
        areas.append("compute")
    if "deployments" in selected:
        areas.append("deployments")
    if any(c in selected for c in _METRIC_CHECKS):
        areas.append("metrics")
    snap: Snapshot = collect_snapshot(
        session,
        SnapshotRequest(areas=("workspaces", *areas), workspaces=tuple(workspaces), concurrency=concurrency),
        source=source,
        now=now,
    )
    errors = list(snap.errors)
    models = snap.models  # the checks judge the models the kinds' loaders read, not the document's dicts
    if snap.fatal is not None:
        err: ServiceError = snap.fatal
        return Report(
            [Finding("workspaces", CheckStatus.UNKNOWN, f"could not list workspaces: {err}")],
            0,
            iso_utc(now) or "",
            notes,
            errors,
        )
    failed: list[Job] = []
    if "failed-jobs" in selected:
        since = now - dt.timedelta(hours=thresholds.failed_jobs_hours)
        failed, job_errors = _failed_jobs(session, snap.workspaces, since, concurrency)
        errors.extend(job_errors)
    computes: list[Compute] = models.get("compute", [])
    points: list[MetricPoint] = models.get("metrics", [])
    t = thresholds
    evaluate: dict[str, Callable[[], Finding]] = {
        "failed-jobs": lambda: check_failed_jobs(failed, errors, t),
        "unusable-nodes": lambda: _node_check(
            "unusable-nodes", "unusable", computes, errors, t.unusable_nodes_warn, t.unusable_nodes_crit
        ),
        "preempted-nodes": lambda: _node_check(
            "preempted-nodes", "preempted", computes, errors, t.preempted_nodes_warn, t.preempted_nodes_crit
        ),
        "idle-gpu": lambda: check_idle_gpu(computes, errors, t),
        "deployments": lambda: check_deployments(models.get("endpoints", []), models.get("deployments", []), errors),
        "quota": lambda: check_quota(models.get("quota", []), errors, t),
        "endpoint-5xx": lambda: check_metric(
            "endpoint-5xx",
            "5xx_rate",
            points,
            errors,
            t.endpoint_5xx_warn_percent,
            t.endpoint_5xx_crit_percent,
            "%",
        ),
        "latency-p95": lambda: check_metric(
            "latency-p95", "latency_p95", points, errors, t.latency_p95_warn_ms, t.latency_p95_crit_ms, " ms"
        ),
    }
    findings = [evaluate[c]() for c in selected]
    return Report(findings, len(snap.workspaces), iso_utc(now) or "", notes, errors)
