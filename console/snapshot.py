"""`azml snapshot` data path: the estate as one JSON document (and its Markdown / CSV views).

Built from the resource kinds (services/kinds) and their loaders only — no Textual, direct or indirect (an
import-linter contract and a subprocess test hold this). The tables, their columns and sort keys come from
the kinds (snapshot_tables), the text formats from snapshot_formats, the JSON schema from snapshot_schema;
the picture formats (txt, svg) live in snapshot_render.

The document (see schemas/snapshot.schema.json, versioned by ``SCHEMA_VERSION``):
- keys in a fixed order, rows sorted, times ISO-8601 UTC ("2026-11-02T09:30:00Z");
- one flat list of rows per table, each row naming its workspace;
- errors beside the data: one entry per (area, target) that failed, with Azure's kind, message, status,
  code and request id, so one failing workspace never hides the others (partial results);
- secrets redacted: the models carry none (datastores know how they authenticate, endpoints their auth
  mode), and ``redact`` still masks any secret-looking field or URL signature on the way out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.errors import ErrorKind, ServiceError
from services.fanout import DEFAULT_CONCURRENCY, collect
from services.kind import Kind, Loaded, LoadOptions, Target, iso_utc
from services.kinds.workspaces import WorkspaceEntry
from services.metrics_catalog import METRICS_WINDOW
from services.models import Workspace
from services.session import Session

from .exitcodes import ExitCode
from .snapshot_formats import (
    DATA_FORMATS,
    SnapshotUsageError,
    flatten,
    render,
    to_csv,
    to_json,
    to_markdown,
)
from .snapshot_schema import JOB_LIMIT, KIND, SCHEMA_ID, SCHEMA_VERSION, schema, schema_text
from .snapshot_tables import (
    ALL_AREAS,
    AREA_TABLES,
    AREAS,
    COLUMNS,
    KINDS,
    MD_COLUMNS,
    REDACTED,
    SORT_KEYS,
    TABLES,
    TITLES,
    error_kind,
    error_row,
    redact,
)

__all__ = [
    "ALL_AREAS",
    "AREAS",
    "AREA_TABLES",
    "COLUMNS",
    "DATA_FORMATS",
    "FORMATS",
    "JOB_LIMIT",
    "KIND",
    "MD_COLUMNS",
    "METRICS_WINDOW",
    "REDACTED",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "TABLES",
    "TITLES",
    "Snapshot",
    "SnapshotRequest",
    "SnapshotUsageError",
    "collect_snapshot",
    "error_row",
    "estate_clock",
    "exit_code_for",
    "flatten",
    "iso_utc",
    "redact",
    "render",
    "schema",
    "schema_path",
    "schema_text",
    "to_csv",
    "to_json",
    "to_markdown",
]

FORMATS = ("json", "md", "csv", "txt", "svg")
METRICS_NOTE = (
    "metrics: the hour before generated_at, per workspace — each online endpoint's requests, 5xx rate and p95 "
    "latency from Log Analytics (AmlOnlineEndpointTrafficLog, aggregated on the server), and each cluster's "
    "node counts by state from Azure Monitor platform metrics (the latest 1-minute point)"
)
JOBS_NOTE = "jobs: the {limit} most recent active jobs per workspace (newest first)"


@dataclass(frozen=True)
class SnapshotRequest:
    areas: tuple[str, ...] = AREAS
    workspaces: tuple[str, ...] = ()  # names (or ids), case-insensitive; empty: every visible workspace
    job_limit: int = JOB_LIMIT
    concurrency: int = DEFAULT_CONCURRENCY

    def __post_init__(self) -> None:
        unknown = [a for a in self.areas if a not in ALL_AREAS]
        if unknown:
            raise SnapshotUsageError(f"unknown area {unknown[0]!r}; choose among {', '.join(ALL_AREAS)}")
        if not 1 <= self.job_limit <= JOB_LIMIT:
            raise SnapshotUsageError(f"the job limit must be within 1..{JOB_LIMIT}")

    @property
    def tables(self) -> tuple[str, ...]:
        wanted = set(self.areas)
        return tuple(t for a in ALL_AREAS if a in wanted for t in AREA_TABLES[a])


@dataclass
class Snapshot:
    doc: dict[str, Any]
    workspaces: list[Workspace] = field(default_factory=list)
    succeeded: int = 0  # targets read without error
    fatal: ServiceError | None = None  # the workspace list itself could not be read
    models: dict[str, list[Any]] = field(default_factory=dict)  # kind → the models its rows were made of

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.doc.get("errors", []))

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for(
            [error_kind(e) for e in self.errors], succeeded=self.succeeded, fatal=self.fatal is not None
        )


def exit_code_for(kinds: Sequence[ErrorKind], *, succeeded: int, fatal: bool = False) -> ExitCode:
    """OK without errors; PARTIAL when some targets failed and others answered; when nothing could be
    read, AUTH if every failure was about credentials or access, else UNREACHABLE."""
    if not kinds and not fatal:
        return ExitCode.OK
    if succeeded and not fatal:
        return ExitCode.PARTIAL
    if kinds and all(k in (ErrorKind.AUTH, ErrorKind.FORBIDDEN) for k in kinds):
        return ExitCode.AUTH
    return ExitCode.UNREACHABLE


# -- collection -------------------------------------------------------------------------------------


def targets_of(kind: Kind, chosen: Sequence[Workspace]) -> list[Target]:
    """What the kind's loader is called for: each workspace, each (subscription, region) or subscription."""
    if kind.scope == "workspace":
        return [Target(w) for w in chosen]
    if kind.scope == "region":
        return [Target(None, s, loc) for s, loc in sorted({(w.subscription_id, w.location) for w in chosen})]
    if kind.scope == "subscription":
        return [Target(None, s) for s in sorted({w.subscription_id for w in chosen})]
    return []


def _select(workspaces: list[WorkspaceEntry], wanted: Sequence[str]) -> list[WorkspaceEntry]:
    if not wanted:
        return workspaces
    chosen: list[WorkspaceEntry] = []
    for name in wanted:
        low = name.lower()
        match = [e for e in workspaces if e.name.lower() == low or e.id.lower() == low]
        if not match:
            known = ", ".join(sorted(e.name for e in workspaces)[:8]) or "none"
            raise SnapshotUsageError(f"no workspace named {name!r} (visible: {known})")
        chosen.extend(m for m in match if m not in chosen)
    return chosen


def collect_snapshot(
    session: Session,
    request: SnapshotRequest,
    *,
    source: str,
    now: dt.datetime,
) -> Snapshot:
    """Read every requested area of every chosen workspace concurrently; never raises for Azure errors."""
    from services.errors import classify

    models: dict[str, list[Any]] = {t: [] for t in request.tables}
    errors: list[dict[str, Any]] = []
    notes: list[str] = []
    snap = Snapshot(doc={}, models=models)
    try:
        visible: list[WorkspaceEntry] = KINDS["workspaces"].load(session, Target()).rows["workspaces"]
    except Exception as exc:
        snap.fatal = classify(exc)
        errors.append(error_row("workspaces", None, "", snap.fatal))
        visible = []
    chosen = _select(sorted(visible, key=lambda e: (e.name.lower(), e.id.lower())), request.workspaces)
    snap.workspaces = [e.workspace for e in chosen]
    if snap.fatal is None:
        snap.succeeded += 1
    if "workspaces" in models:
        models["workspaces"] = list(chosen)

    options = LoadOptions(job_limit=request.job_limit, now=now)
    tasks: list[tuple[Kind, Target]] = [
        (k, t)
        for k in KINDS.values()
        if k.area_name in request.areas and k.loader is not None and k.scope != "estate"
        for t in targets_of(k, snap.workspaces)
    ]

    def load(task: tuple[Kind, Target]) -> Loaded:
        return task[0].load(session, task[1], options)

    for result in collect(tasks, load, concurrency=request.concurrency):
        kind, target = result.target
        if result.error is not None:
            errors.append(error_row(kind.area_name, target.workspace_name, target.id, result.error))
            continue
        assert result.value is not None
        snap.succeeded += 1
        for e in result.value.errors:
            errors.append(error_row(KINDS[e.kind].area_name, e.workspace, e.target, e.error))
        for table, items in result.value.rows.items():
            models[table].extend(items)

    tables: dict[str, list[dict[str, Any]]] = {}
    for table, items in models.items():
        kind = KINDS[table]
        rows = [kind.row(m) for m in items]
        order = sorted(range(len(rows)), key=lambda i, r=rows, k=kind: k.sort_key(r[i]))  # type: ignore[misc]
        tables[table] = [rows[i] for i in order]
        models[table] = [items[i] for i in order]
    if "jobs" in tables:
        notes.append(JOBS_NOTE.format(limit=request.job_limit))
    if "metrics" in tables:
        notes.append(METRICS_NOTE)
    errors.sort(key=SORT_KEYS["errors"])

    doc: dict[str, Any] = {
        "kind": KIND,
        "schema_version": SCHEMA_VERSION,
        "schema": SCHEMA_ID,
        "generated_at": iso_utc(now),
        "source": source,
        "areas": [a for a in ALL_AREAS if a in request.areas],
        "workspace_filter": list(request.workspaces),
        "job_limit": request.job_limit,
        "summary": {
            "workspaces": len(chosen),
            "errors": len(errors),
            "rows": {t: len(tables[t]) for t in request.tables},
        },
    }
    doc.update(tables)
    doc["errors"] = errors
    doc["notes"] = notes
    snap.doc = redact(doc)
    return snap


# -- where the clock and the schema come from -----------------------------------------------------------


def estate_clock(source: Any) -> Callable[[], dt.datetime]:
    """The estate's own clock: the demo's simulation clock (frozen for golden files), else wall time.

    The Source does not carry a clock yet; the demo backend is found among its closers.
    """
    for close in source.closers:
        backend = getattr(close, "__self__", None)
        clock = getattr(getattr(backend, "emulator", None), "clock", None)
        now = getattr(clock, "now", None)
        if callable(now):
            return now  # type: ignore[no-any-return]
    return lambda: dt.datetime.now(dt.UTC)


def schema_path() -> str:
    from pathlib import Path

    return str(Path(__file__).with_name("schemas") / "snapshot.schema.json")
