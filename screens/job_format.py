"""How jobs and child runs read on screen: short times, durations, KEY=VALUE pairs, and a job's detail fields."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from services.models.jobs import Job
from services.times import iso


def short_time(when: dt.datetime | None) -> str:
    """2026-11-02 09:24:48 UTC → '11-02 09:24' (UTC)."""
    m = re.match(r"\d{4}-(\d\d-\d\d)T(\d\d:\d\d)", iso(when))
    return f"{m.group(1)} {m.group(2)}" if m else ""


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def pairs(values: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values) if values else "-"


def job_fields(j: Job) -> list[tuple[str, str]]:
    fields = [
        ("Name", j.name),
        ("Display name", j.display_name),
        ("Id", j.id or "-"),
        ("Type", j.type),
        ("Status", j.status + (" (archived)" if j.is_archived else "")),
        ("Experiment", j.experiment or "-"),
        ("Compute", j.compute or "-"),
        ("Created by", j.creator or "-"),
        ("Created", iso(j.created) or "-"),
        ("Started", iso(j.start) or "-"),
        ("Ended", iso(j.end) or ("-" if j.is_terminal else "still running")),
        ("Duration", duration_text(j.duration_s) or "-"),
    ]
    if j.parent:
        fields.append(("Parent", j.parent))
    fields.append(("Error", str(j.error) if j.error else "-"))
    fields += [
        ("Environment", j.environment or "-"),
        ("Environment id", j.environment_id or "-"),
        ("Command", j.command or "-"),
    ]
    fields += [(f"Input {k}", v) for k, v in j.inputs] or [("Inputs", "-")]
    fields += [(f"Output {k}", v or "(not assigned yet)") for k, v in j.outputs] or [("Outputs", "-")]
    fields.append(("Tags", pairs(j.tags)))
    if j.pipeline_nodes:
        fields.append(("Pipeline nodes", ", ".join(j.pipeline_nodes)))
    fields += [("Description", j.description or "-"), ("Studio", j.studio_url or "-")]
    return fields
