"""Jobs: the workspace's jobs paged lazily (newest first), pipeline steps and sweep trials, and log tails.

The list holds the pages loaded so far; `m` (or the cursor reaching the last row) loads the next page, and a
refresh reloads as many pages as are shown, never the whole history. Run times are not in the ARM list, so the
duration column is filled in the background from run history for the rows on screen only.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.worker import get_current_worker

from screens.base import ResourceScreen, mutating, state_text
from screens.host import host
from screens.job_filters import (
    FilterError,
    FilterTerms,
    JobArguments,
    parse_arguments,
    parse_terms,
    since_text,
)
from screens.modals import DetailScreen, Field, FormScreen, field_errors
from screens.widgets.context_bar import ContextBar
from screens.widgets.keybar import KeyBar
from screens.widgets.line import Line
from screens.widgets.logview import LogView, compile_search
from screens.widgets.prompt import Prompt, PromptBar
from screens.widgets.table import Cell, Column, KeyedTable
from services.models.jobs import TERMINAL_STATUSES, ChildRun, Job, JobFilter
from services.times import iso

if TYPE_CHECKING:
    from services.jobs import JobPager
    from services.models import Workspace
    from services.models.jobs import LogFile
    from services.mutations import Target
    from services.session import Session

# `:jobs WORD` and `f`: a word → the Azure statuses it shows.
_ACTIVE = ("NotStarted", "Queued", "Preparing", "Starting", "Provisioning", "Running", "Finalizing", "CancelRequested")
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "running": ("Running",),
    "failed": ("Failed",),
    "completed": ("Completed",),
    "canceled": ("Canceled", "CancelRequested"),
    "queued": ("NotStarted", "Queued", "Preparing", "Starting", "Provisioning"),
    "finalizing": ("Finalizing",),
    "notresponding": ("NotResponding",),
    "active": _ACTIVE,
}
_ALIASES = {"cancelled": "canceled", "succeeded": "completed", "error": "failed", "all": ""}
STATUS_CYCLE = ("", "running", "failed", "completed")
DEFAULT_LOG = "user_logs/std_log.txt"
_DETAIL_TTL = 15.0  # seconds before an active job's run times are read again


def parse_status(argument: str) -> tuple[str, str | None]:
    """`:jobs` argument → (status word, error message). Unknown words leave the list unfiltered."""
    word = argument.strip().lower().replace("-", "").replace("_", "")
    if not word:
        return "", None
    if word == "archived":
        return "archived", None
    word = _ALIASES.get(word, word)
    if word == "" or word in STATUS_FILTERS:
        return word, None
    allowed = ", ".join([*STATUS_FILTERS, "archived"])
    return "", f"Unknown job status {argument.strip()!r}: use one of {allowed}."


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


def _pairs(values: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values) if values else "-"


def _job_fields(j: Job) -> list[tuple[str, str]]:
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
    fields.append(("Tags", _pairs(j.tags)))
    if j.pipeline_nodes:
        fields.append(("Pipeline nodes", ", ".join(j.pipeline_nodes)))
    fields += [("Description", j.description or "-"), ("Studio", j.studio_url or "-")]
    return fields


def _target(ws: Workspace, name: str = "") -> Target:
    from services.mutations import Target

    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


def _rules(exc: Exception) -> str:
    from services.validation import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(e.rule for e in exc.errors)
    return str(exc)


class _RunScreen(ResourceScreen[Any]):
    """What the jobs list and the child-run lists share: describe from run history, logs, drill down."""

    def _describe_name(self, model: Any) -> str:
        return str(getattr(model, "name", ""))

    def action_describe(self) -> None:
        model = self.current()
        session, ws = self.session, self.workspace
        if model is None or session is None or ws is None:
            return
        name = self._describe_name(model)
        if not name:
            super().action_describe()
            return
        self._status(f"reading {name}…")
        self._describe(session, ws, name, model)

    @work(thread=True, exclusive=True, group="describe", exit_on_error=False)
    def _describe(self, session: Session, ws: Workspace, name: str, model: Any) -> None:
        from services import jobs

        try:
            job = jobs.get_job(session, ws, name)
        except Exception as e:
            from services.errors import describe

            message = describe(e)
            self.app.call_from_thread(self._described, None, model, message)
            return
        self.app.call_from_thread(self._described, job, model, "")

    def _described(self, job: Job | None, model: Any, error: str) -> None:
        self._status(self._summary())
        if not self.is_current:
            return  # the user went on (esc, another screen): the detail must not open over what they see now
        if job is None:
            self.notify(f"Cannot read the job: {error}", severity="error", timeout=8)
            self.app.push_screen(
                DetailScreen(self.model_name(model), self.describe_fields(model), self.model_id(model))
            )
            return
        self.remember(job)
        self.app.push_screen(DetailScreen(job.display_name or job.name, _job_fields(job), job.id or job.name))

    def remember(self, job: Job) -> None:
        """A detail read for `job` (the list uses its run times)."""

    def open_logs(self, name: str, label: str, active: bool) -> None:
        if not name:
            self.notify(f"{label} never ran: it has no logs.", severity="warning")
            return
        self.app.push_screen(LogScreen(name, label, follow=active))

    def open_children(self, name: str, kind: str, job: Job | None = None) -> None:
        screen: StepsScreen = TrialsScreen(name) if kind == "sweep" else StepsScreen(name, job)
        self.app.push_screen(screen)


class JobsScreen(_RunScreen):
    TITLE = "Jobs"
    STATE_COLUMN = "status"
    PAGE_SIZE: ClassVar[int] = 100
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("name", "Name", flex=True, min_width=20),
        Column("type", "Type", min_width=8, max_width=8),
        Column("status", "Status", min_width=9, max_width=15),
        Column("experiment", "Experiment", min_width=6, max_width=18),
        Column("compute", "Compute", min_width=6, max_width=14),
        Column("created", "Created", width=11),
        Column("duration", "Duration", width=8, align="right"),
        Column("creator", "Creator", min_width=6, max_width=16, drop=1),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "logs", "Logs", id="jobs.logs"),
        Binding("m", "more", "More", id="jobs.more"),
        Binding("f", "cycle_status", "Status filter", id="jobs.status_filter"),
        Binding("x", "cancel_job", "Cancel", id="jobs.cancel"),
        Binding("A", "archive", "Archive", show=False, id="jobs.archive"),
        Binding("U", "restore", "Restore", show=False, id="jobs.restore"),
        Binding("S", "resubmit", "Resubmit", show=False, id="jobs.resubmit"),
        Binding("v", "archived_view", "Archived", show=False, id="jobs.archived_view"),
    ]

    @staticmethod
    def now() -> dt.datetime:
        """The time `since=` counts back from (a seam for a frozen clock; Azure's clock is the wall clock)."""
        return dt.datetime.now(dt.UTC)

    def __init__(self, argument: str = "") -> None:
        super().__init__(argument)
        self._argument_error: str | None = None
        try:
            self.arguments = parse_arguments(argument, parse_status)
        except FilterError as e:
            self.arguments, self._argument_error = JobArguments(), str(e)
        self.terms = FilterTerms()
        word = self.arguments.status
        self.archived = word == "archived"
        self.status_word = "" if self.archived else word
        self.pager: JobPager | None = None
        self.more_available = False
        self.loading_more = False
        self.pages_loaded = 1
        self.generation = 0  # bumps when the filter changes: results of older loads are dropped
        self.details: dict[str, tuple[float, Job]] = {}  # name → (read at, detail) for run times
        self.enriching = False
        self._enrich_again = False
        self._holding = False  # loading stays True until the first run times are in
        self._enrich_timer: Timer | None = None

    # -- filter and title -----------------------------------------------------------------------

    def job_filter(self) -> JobFilter:
        statuses = STATUS_FILTERS.get(self.status_word, ())
        a = self.arguments
        return JobFilter.of(
            status=statuses,
            experiment=a.experiment,
            compute=a.compute,
            created_after=a.created_after(self.now()),
            archived=True if self.archived else False,
        )

    def subtitle(self) -> str:
        parts = []
        if self.status_word:
            parts.append(f"status {self.status_word}")
        if self.archived:
            parts.append("archived")
        if self.arguments.describe():
            parts.append(self.arguments.describe())
        return ", ".join(parts)

    # -- the `/` filter's job terms (experiment:, compute:, since:) ---------------------------------

    def current_filter(self) -> str:
        terms = self.terms
        words = [f"experiment:{terms.experiment}"] if terms.experiment else []
        words += [f"compute:{terms.compute}"] if terms.compute else []
        words += [f"since:{since_text(terms.since_s)}"] if terms.since_s else []
        return " ".join([*words, self.table.filter_text]).strip()

    def apply_filter(self, text: str) -> None:
        try:
            terms = parse_terms(text)
        except FilterError as e:  # the filter in force stays; the line says why this one was refused
            self._status(f"filter refused: {e}")
            self.notify(str(e), title="Filter", severity="error", timeout=8)
            return
        self.terms = terms
        self.table.set_filter(terms.text)
        self._render_rows()

    def include(self, j: Job) -> bool:
        if not self.terms.any:
            return True
        return self.terms.matches(j.experiment, j.compute, j.created, self.now())

    def on_mount(self) -> None:
        super().on_mount()
        if self._argument_error:
            self.notify(self._argument_error, title="Jobs", severity="error", timeout=10)

    def _restart(self) -> None:
        self.generation += 1
        self.pages_loaded = 1
        self.pager = None
        self.more_available = False
        self.loading_more = False
        self.models = {}
        self.table.set_rows({})
        self._update_title()
        self.action_refresh()

    def connected(self) -> None:
        self.generation += 1
        self.pages_loaded = 1
        self.pager = None
        self.details = {}
        super().connected()

    def action_refresh(self) -> None:
        self._holding = False  # a run-times read in flight must not end this load's "loading"
        super().action_refresh()

    def action_cycle_status(self) -> None:
        current = self.status_word if self.status_word in STATUS_CYCLE else ""
        self.status_word = STATUS_CYCLE[(STATUS_CYCLE.index(current) + 1) % len(STATUS_CYCLE)]
        self.notify(f"Showing {self.status_word or 'all'} jobs", timeout=2)
        self._restart()

    def action_archived_view(self) -> None:
        self.archived = not self.archived
        self.notify("Showing archived jobs (U restores)" if self.archived else "Showing active jobs", timeout=3)
        self._restart()

    # -- loading: pages -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, session: Session, workspace: Workspace | None) -> None:
        from services import jobs

        worker = get_current_worker()
        generation, pages = self.generation, max(1, self.pages_loaded)
        assert workspace is not None
        try:
            pager = jobs.list_jobs(session, workspace, self.job_filter(), page_size=self.PAGE_SIZE)
            models: dict[str, Job] = {}
            for _ in range(pages):
                page = pager.next_page()
                models.update((j.key, j) for j in page)
                if not page or pager.exhausted or worker.is_cancelled:
                    break
        except Exception as e:
            from services.errors import describe

            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, describe(e))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, models, pager, generation)

    def _loaded(self, models: dict[str, Job], pager: JobPager, generation: int) -> None:
        if generation != self.generation:
            return
        self.pager = pager
        self.more_available = not pager.exhausted
        self.loading_more = False
        self._apply(models)
        # The rows are complete once the run times of those on screen are in: stay "loading" until then.
        self._holding = self._enrich_visible()
        self.busy = self._holding

    def action_more(self, quiet: bool = False) -> None:
        session = self.session
        busy = self.busy and not self._holding
        if self.pager is None or session is None or busy or self.loading_more:
            return
        if not self.more_available:
            if not quiet:
                self.notify(f"All {len(self.models)} jobs are loaded.", timeout=3)
            return
        self.loading_more = True
        self._status(self._summary() + " · loading more…")
        self._load_more(self.pager, self.generation)

    @work(thread=True, exclusive=True, group="more", exit_on_error=False)
    def _load_more(self, pager: JobPager, generation: int) -> None:
        try:
            page = pager.next_page()
        except Exception as e:
            from services.errors import describe

            self.app.call_from_thread(self._more_failed, pager, describe(e))
            return
        self.app.call_from_thread(self._more_loaded, pager, page, pager.exhausted, generation)

    def _more_loaded(self, pager: JobPager, page: list[Job], exhausted: bool, generation: int) -> None:
        if generation != self.generation or pager is not self.pager:
            return  # a refresh or a filter change replaced the pager meanwhile
        self.loading_more = False
        self.more_available = not exhausted
        if page:
            self.pages_loaded += 1
            models = dict(self.models)
            models.update((j.key, j) for j in page)
            self.models = models
        self._render_rows()
        self._schedule_enrich()

    def _more_failed(self, pager: JobPager, message: str) -> None:
        if pager is not self.pager:
            return
        self.loading_more = False
        self._status(f"{self._summary()} · loading more failed: {message}")
        self.notify(message, title="Jobs", severity="error", timeout=10)

    def on_keyed_table_highlighted(self, event: KeyedTable.Highlighted) -> None:
        # (Textual also calls the base class's handler: the key bar follows the row.)
        keys = self.table.visible_keys
        if event.key is not None and keys and event.key == keys[-1] and self.more_available:
            self.action_more(quiet=True)
        self._schedule_enrich()

    def _summary(self) -> str:
        total, shown = self.table.row_count, self.table.visible_count
        text = f"{total} loaded" if shown == total else f"{shown} of {total} loaded"
        if self.more_available:
            text += ", more available (m)"
        elif self.pager is not None:
            text += ", all loaded"
        if self.status_word:
            text += f" · status {self.status_word}"
        if self.terms.any:
            text += f" · {self.terms.describe()}"
        if self._argument_error:  # first: at 80 columns the rule must not be the part cut off
            text = f"{self._argument_error} (not applied) · {text}"
        if self.table.filter_text:
            text += f" · filter {self.table.filter_text!r}"
        if self.table.filter_error:
            text += f" · {self.table.filter_error}"
        return text

    # -- run times for the rows on screen -------------------------------------------------------

    def _schedule_enrich(self) -> None:
        if self._enrich_timer is not None:
            self._enrich_timer.stop()
        self._enrich_timer = self.set_timer(0.3, self._enrich_visible)

    def _enrich_visible(self) -> bool:
        """Read the run times of the rows on screen that lack them; True when a read started."""
        session, ws = self.session, self.workspace
        if session is None or ws is None or self.app.screen is not self:
            return False
        if self.enriching:
            self._enrich_again = True
            return False
        table = self.table
        top = round(table.scroll_y)
        height = max(1, table.scrollable_content_region.height)
        keys = list(table.visible_keys[top : top + height])
        now = time.monotonic()
        wanted = []
        for key in keys:
            job = self.models.get(key)
            if job is None:
                continue
            seen = self.details.get(key)
            if seen is None or (not seen[1].is_terminal and now - seen[0] > _DETAIL_TTL):
                wanted.append(job.name)
        if not wanted:
            return False
        self.enriching = True
        self._enrich(session, ws, wanted)
        return True

    @work(thread=True, exclusive=True, group="enrich", exit_on_error=False)
    def _enrich(self, session: Session, ws: Workspace, names: list[str]) -> None:
        from services import jobs
        from services.fanout import fan_out

        found: list[Job] = []
        try:
            for result in fan_out(names, lambda n: jobs.get_job(session, ws, n), concurrency=6):
                if result.value is not None:
                    found.append(result.value)
        finally:
            self.app.call_from_thread(self._enriched, found)

    def _enriched(self, found: list[Job]) -> None:
        self.enriching = False
        if self._holding:
            self._holding = False
            self.busy = False
        now = time.monotonic()
        for job in found:
            self.details[job.key] = (now, job)
        if found:
            self._render_rows()
        if self._enrich_again:
            self._enrich_again = False
            self._schedule_enrich()

    def remember(self, job: Job) -> None:
        self.details[job.key] = (time.monotonic(), job)

    # -- rows -----------------------------------------------------------------------------------

    def cells(self, j: Job) -> Sequence[Cell]:
        name = Text(j.name)
        if j.display_name and j.display_name != j.name:
            name.append(f" {j.display_name}", style="dim")
        detail = self.details.get(j.key)
        duration = duration_text(detail[1].duration_s) if detail else ""
        return (
            name,
            j.type,
            state_text(j.status),
            j.experiment,
            j.compute,
            short_time(j.created),
            duration,
            j.creator,
        )

    def describe_fields(self, j: Job) -> list[tuple[str, str]]:
        return _job_fields(j)

    def model_name(self, j: Job) -> str:
        return j.display_name or j.name

    # -- keys -----------------------------------------------------------------------------------

    def open(self, key: str) -> None:
        job = self.models.get(key)
        if job is None:
            return
        if job.type in ("pipeline", "sweep"):
            self.open_children(job.name, job.type, job)
        else:
            self.open_logs(job.name, job.name, not job.is_terminal)

    def action_logs(self) -> None:
        job = self.current()
        if job is not None:
            self.open_logs(job.name, job.name, not job.is_terminal)

    def _ready(self) -> tuple[Job, Workspace, Session] | None:
        job, ws, session = self.current(), self.workspace, self.session
        if job is None or ws is None or session is None:
            return None
        return job, ws, session

    def unavailable(self, action: str, job: Any) -> str:
        if not isinstance(job, Job):
            return ""
        from services.kinds import kind

        return kind("jobs").unavailable(action, job)  # the rules the jobs kind declares for its actions

    @mutating("job.cancel")
    def action_cancel_job(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        from services import jobs
        from services.mutations import registry

        op = registry()["job.cancel"]
        if op.validate is not None:
            try:
                op.validate({"status": job.status})  # refused here: nothing is sent
            except Exception as e:
                self.notify(f"{job.name}: {_rules(e)}", title=op.title, severity="warning", timeout=8)
                return
        target = _target(ws, job.name)
        status = job.status
        self.act(
            "job.cancel",
            target,
            {"status": status},
            lambda: jobs.cancel_job(session, target, status=status),
            key=job.key,
            doing="canceling",
            done=f"{job.name}: cancel requested",
            details=(f"{job.type} job, {status}, on {job.compute or '-'}",),
        )

    @mutating("job.archive")
    def action_archive(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        from services import jobs

        target = _target(ws, job.name)
        self.act(
            "job.archive",
            target,
            {},
            lambda: jobs.archive_job(session, target),
            key=job.key,
            doing="archiving",
            done=f"{job.name}: archived (v shows archived jobs)",
            details=(f"{job.type} job, {job.status}",),
        )

    @mutating("job.restore")
    def action_restore(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        from services import jobs

        target = _target(ws, job.name)
        self.act(
            "job.restore",
            target,
            {},
            lambda: jobs.restore_job(session, target),
            key=job.key,
            doing="restoring",
            done=f"{job.name}: restored",
        )

    @mutating("job.resubmit")
    def action_resubmit(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        job, ws, session = ready
        self._status(f"reading the computes of {ws.name}…")
        self._computes_for_resubmit(session, ws, job)

    @work(thread=True, exclusive=True, group="resubmit", exit_on_error=False)
    def _computes_for_resubmit(self, session: Session, ws: Workspace, job: Job) -> None:
        from services import compute

        try:
            names = tuple(c.name for c in compute.list_computes(session, ws))
        except Exception:
            names = ()  # the form still works; the compute is then checked by the service only
        self.app.call_from_thread(self._resubmit_form, session, ws, job, names)

    def _resubmit_form(self, session: Session, ws: Workspace, job: Job, computes: tuple[str, ...]) -> None:
        from services import jobs
        from services.mutations import registry

        self._status(self._summary())
        if not self.is_current:
            return  # the user went on before the computes were read: no form over another screen
        op = registry()["job.resubmit"]
        target = _target(ws, job.name)

        def validate(values: dict[str, str]) -> dict[str, str]:
            params = {
                "new_name": values.get("new_name", ""),
                "compute": values.get("compute", ""),
                "computes": computes,
            }
            errors: dict[str, str] = {}
            try:
                if op.validate is not None:
                    op.validate(params)
            except Exception as e:
                errors = field_errors(e)
            if params["new_name"] == job.name:
                errors.setdefault("new_name", "must differ from the job being resubmitted")
            return errors

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            new_name, compute_name = values["new_name"], values.get("compute", "")
            self.act(
                "job.resubmit",
                target,
                {"new_name": new_name, "compute": compute_name},
                lambda: jobs.resubmit_job(session, target, new_name=new_name, compute=compute_name, computes=computes),
                key=None,
                doing="submitting",
                done=f"{job.name} resubmitted as {new_name}",
                details=(f"command: {job.command[:60] or '-'}", f"environment: {job.environment or '-'}"),
            )

        suffix = time.strftime("%m%d%H%M%S", time.gmtime())
        help_compute = ", ".join(computes[:6]) + (" …" if len(computes) > 6 else "")
        self.app.push_screen(
            FormScreen(
                f"Resubmit {job.name}",
                [
                    Field("new_name", "New job name", f"{job.name}-r{suffix}", "letters, digits, - and _"),
                    Field("compute", "Compute", job.compute, help_compute),
                ],
                validate,
            ),
            callback=submitted,
        )


class StepsScreen(_RunScreen):
    """A pipeline's steps (nested pipelines and sweeps open their own list); the same keys as the jobs."""

    TITLE = "Steps"
    STATE_COLUMN = "status"
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("name", "Step", flex=True, min_width=14),
        Column("type", "Type", min_width=8, max_width=8),
        Column("status", "Status", min_width=9, max_width=15),
        Column("compute", "Compute", max_width=14),
        Column("started", "Started", width=11),
        Column("duration", "Duration", width=8, align="right"),
        Column("info", "Detail", max_width=30),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "logs", "Logs", id="steps.logs"),
    ]

    def __init__(self, parent: str, job: Job | None = None) -> None:
        super().__init__(parent)
        self.parent_name = parent
        self.job = job
        self.depth: dict[str, int] = {}  # row key → how deep in nested pipelines (0: a step of this pipeline)

    def subtitle(self) -> str:
        return self.parent_name

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, ChildRun]:
        from services import jobs

        assert workspace is not None
        runs = jobs.list_steps(session, workspace, self.job or self.parent_name)
        return self.flatten(runs)

    def flatten(self, runs: Sequence[ChildRun]) -> dict[str, ChildRun]:
        """Steps with the steps of nested pipelines after each, as the tree shows them."""
        out: dict[str, ChildRun] = {}

        def add(r: ChildRun, depth: int) -> None:
            key = self.key_of(r)
            out[key] = r
            self.depth[key] = depth
            for child in r.children:
                add(child, depth + 1)

        for r in runs:
            add(r, 0)
        return out

    def parents(self, rows: Mapping[str, Sequence[Cell]]) -> Mapping[str, str]:
        """A nested pipeline's steps beneath it (deeper levels beneath the top step, indented further)."""
        out: dict[str, str] = {}

        def under(r: ChildRun, top: str) -> None:
            for child in r.children:
                key = self.key_of(child)
                if key in rows and top in rows:
                    out[key] = top
                under(child, top)

        for key, r in self.models.items():
            if self.depth.get(key, 0) == 0:
                under(r, key)
        return out

    @staticmethod
    def key_of(r: ChildRun) -> str:
        return r.name or f"node:{r.parent}:{r.node or r.display_name}"

    def cells(self, r: ChildRun) -> Sequence[Cell]:
        if r.error:
            info: Cell = Text(str(r.error), style="red")
        elif r.hyperparameters:
            info = _pairs(r.hyperparameters)
        elif r.children:
            info = f"{len(r.children)} children"
        else:
            info = "" if r.has_run else Text("never ran", style="dim")
        depth = self.depth.get(self.key_of(r), 0)
        name = "  " * max(0, depth - 1) + (r.display_name or r.name)  # the tree's glyph marks the first level
        return (
            name,
            r.type,
            state_text(r.status),
            r.compute,
            short_time(r.start),
            duration_text(r.duration_s),
            info,
        )

    def describe_fields(self, r: ChildRun) -> list[tuple[str, str]]:
        return [
            ("Run", r.name or "(never ran)"),
            ("Display name", r.display_name),
            ("Node", r.node or "-"),
            ("Type", r.type),
            ("Status", r.status),
            ("Parent", r.parent),
            ("Compute", r.compute or "-"),
            ("Created", iso(r.created) or "-"),
            ("Started", iso(r.start) or "-"),
            ("Ended", iso(r.end) or "-"),
            ("Duration", duration_text(r.duration_s) or "-"),
            ("Error", str(r.error) if r.error else "-"),
            ("Hyperparameters", _pairs(r.hyperparameters)),
        ]

    def model_id(self, r: ChildRun) -> str:
        return r.name

    def model_name(self, r: ChildRun) -> str:
        return r.display_name or r.name

    def open(self, key: str) -> None:
        r = self.models.get(key)
        if r is None:
            return
        if r.type in ("pipeline", "sweep") and r.name:
            self.open_children(r.name, r.type)
        else:
            self.open_logs(r.name, r.display_name or r.name, r.status not in TERMINAL_STATUSES)

    def action_logs(self) -> None:
        r = self.current()
        if r is not None:
            self.open_logs(r.name, r.display_name or r.name, r.status not in TERMINAL_STATUSES)


class TrialsScreen(StepsScreen):
    """A sweep job's trials with their sampled hyperparameters."""

    TITLE = "Trials"

    def __init__(self, parent: str) -> None:
        super().__init__(parent, None)

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, ChildRun]:
        from services import jobs

        assert workspace is not None
        return self.flatten(jobs.list_trials(session, workspace, self.parent_name))


# -- logs ------------------------------------------------------------------------------------------------


class LogFilesScreen(ModalScreen[int | None]):
    """Choose one of a run's log files."""

    BINDINGS = [Binding("escape", "close", "Close", id="logfiles.close")]

    def __init__(self, names: Sequence[str], current: int) -> None:
        super().__init__()
        self.names = list(names)
        self.current = current

    def compose(self) -> ComposeResult:
        options = OptionList(*self.names, id="log-files", classes="modal-body")
        options.highlighted = self.current if self.names else None
        yield options

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_close(self) -> None:
        self.dismiss(None)


def _safe_file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "log"


class LogScreen(Screen[None]):
    """One run's log files: follow (tail every ~2 s), search, wrap, save, switch files."""

    TITLE: ClassVar[str] = "Logs"
    POLL_SECONDS: ClassVar[float] = 2.0
    MAX_BACKOFF: ClassVar[float] = 30.0

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "follow", "Follow", id="logs.follow"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("n", "next_match", "Next", id="logs.next"),
        Binding("N", "previous_match", "Prev", show=False, id="logs.previous"),
        Binding("w", "wrap", "Wrap", id="logs.wrap"),
        Binding("s", "save", "Save", id="logs.save"),
        Binding("left_square_bracket", "previous_file", "Prev file", show=False, id="logs.previous_file"),
        Binding("right_square_bracket", "next_file", "Next file", show=False, id="logs.next_file"),
        Binding("o", "choose_file", "Files", id="logs.files"),
        Binding("G", "bottom", "Bottom", show=False, id="logs.bottom"),
        Binding("g", "top", "Top", show=False, id="logs.top"),
    ]

    def __init__(self, run: str, label: str = "", *, follow: bool = True) -> None:
        super().__init__()
        self.run = run
        self.label = label or run
        self.files: list[LogFile] = []
        self.index = -1
        self.log_offset = 0
        self.follow = follow
        self.generation = 0
        self.reading = False
        self.failures = 0
        self.error = ""
        self.search_text = ""
        self.reads = 0  # completed reads (tests wait on it)
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield Static(self._title(), id="screen-title", classes="screen-title")
        yield LogView(id="log")
        yield Line("", id="status", classes="status-line")
        yield PromptBar()
        yield KeyBar()

    @property
    def view(self) -> LogView:
        return self.query_one("#log", LogView)

    @property
    def session(self) -> Session | None:
        return host(self).session

    @property
    def workspace(self) -> Workspace | None:
        return host(self).workspace

    @property
    def file(self) -> LogFile | None:
        return self.files[self.index] if 0 <= self.index < len(self.files) else None

    def _title(self) -> str:
        parts = [self.TITLE, self.label]
        if self.file is not None:
            parts.append(f"{self.file.name} ({self.index + 1}/{len(self.files)})")
        return " · ".join(parts)

    def on_mount(self) -> None:
        self.view.follow = self.follow
        self.view.focus()
        self._show_status()
        session, ws = self.session, self.workspace
        if session is None or ws is None:
            self._show_status("not connected to a workspace")
            return
        self._show_status("listing log files…")
        self._list_files(session, ws, self.generation, "")

    def on_unmount(self) -> None:
        self.generation += 1  # whatever is in flight is dropped
        if self._timer is not None:
            self._timer.stop()

    # -- status ---------------------------------------------------------------------------------

    def _show_status(self, note: str = "") -> None:
        view = self.view
        parts: list[str] = []
        if self.file is not None:
            text = f"{view.line_count:,} lines"
            if view.dropped:
                text += f" (first {view.dropped:,} dropped)"
            parts.append(text)
            parts.append(f"{self.log_offset:,} bytes")
            parts.append("following" if self.follow else "paused (f follows)")
        if view.wrap:
            parts.append("wrap")
        if self.search_text:
            hits = view.match_count()
            parts.append(f"/{self.search_text}: {hits} line{'s' if hits != 1 else ''}")
        if self.error:
            parts.append(f"read failed: {self.error} · reconnecting… (attempt {self.failures})")
        if note:
            parts.append(note)
        self.query_one("#status", Line).update(Text(" · ".join(parts)))

    # -- reading --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="logfiles", exit_on_error=False)
    def _list_files(self, session: Session, ws: Workspace, generation: int, keep: str) -> None:
        from services import jobs

        try:
            files = jobs.list_log_files(session, ws, self.run)
        except Exception as e:
            from services.errors import describe

            self.app.call_from_thread(self._read_failed, generation, describe(e), True)
            return
        self.app.call_from_thread(self._files_listed, generation, files, keep)

    def _files_listed(self, generation: int, files: list[LogFile], keep: str) -> None:
        if generation != self.generation:
            return
        self.files = list(files)
        if not files:
            self.error = ""
            self._show_status(f"{self.run} has no log files yet" + (" (f polls)" if self.follow else ""))
            if self.follow:
                self._schedule(self.POLL_SECONDS, relist=True)
            return
        names = [f.name for f in files]
        if keep and keep in names:  # reconnecting: fresh signed URLs for the same file
            self.index = names.index(keep)
            self._title_changed()
            self._start_read()
            return
        if DEFAULT_LOG in names:
            index = names.index(DEFAULT_LOG)
        else:
            index = next((i for i, n in enumerate(names) if n.startswith("user_logs/")), 0)
        self.open_file(index)

    def _title_changed(self) -> None:
        self.query_one("#screen-title", Static).update(self._title())

    def open_file(self, index: int) -> None:
        if not self.files:
            return
        self.index = max(0, min(index, len(self.files) - 1))
        self.generation += 1
        self.log_offset = 0
        self.error = ""
        self.failures = 0
        self.reading = False
        if self._timer is not None:
            self._timer.stop()
        self.view.clear()
        self._title_changed()
        self._show_status("reading…")
        self._start_read()

    def _start_read(self) -> None:
        session, log = self.session, self.file
        if session is None or log is None or self.reading:
            return
        self.reading = True
        self._read(session, log, self.log_offset, self.generation)

    @work(thread=True, group="tail", exit_on_error=False)
    def _read(self, session: Session, log: LogFile, offset: int, generation: int) -> None:
        from services import jobs

        call = self.app.call_from_thread
        while True:
            try:
                chunk = jobs.tail_log(session, log, offset)
            except Exception as e:
                from services.errors import describe

                call(self._read_failed, generation, describe(e), False)
                return
            if generation != self.generation:
                return
            reset = chunk.offset < offset  # the file was replaced by a shorter one
            caught_up = reset or chunk.offset - offset < jobs.LOG_READ_BYTES - 4
            call(self._got, generation, chunk.text, chunk.offset, reset, caught_up)
            if caught_up:
                return
            offset = chunk.offset

    def _got(self, generation: int, text: str, offset: int, reset: bool, caught_up: bool) -> None:
        if generation != self.generation:
            return
        view = self.view
        if reset:
            view.clear()
        if text:
            view.append(text)
        self.log_offset = offset
        self.error = ""
        self.failures = 0
        if caught_up:
            self.reading = False
            self.reads += 1
            if self.follow:
                self._schedule(self.POLL_SECONDS)
        self._show_status()

    def _read_failed(self, generation: int, message: str, listing: bool) -> None:
        if generation != self.generation:
            return
        self.reading = False
        self.failures += 1
        self.error = message
        delay = min(self.MAX_BACKOFF, self.POLL_SECONDS * 2 ** min(self.failures - 1, 5))
        self._show_status(f"next try in {delay:g}s")
        # A 403 is usually an expired signature: list the files again for fresh URLs, keeping what was read.
        self._schedule(delay, relist=True)

    def _schedule(self, delay: float, relist: bool = False) -> None:
        if self._timer is not None:
            self._timer.stop()
        generation = self.generation
        self._timer = self.set_timer(delay, lambda: self._poll(generation, relist))

    def _poll(self, generation: int, relist: bool) -> None:
        if generation != self.generation or self.reading:
            return
        session, ws = self.session, self.workspace
        if session is None or ws is None:
            return
        if relist:
            keep = self.file.name if self.file is not None else ""
            self._list_files(session, ws, generation, keep)
        elif self.follow:
            self._start_read()

    # -- keys -----------------------------------------------------------------------------------

    def action_follow(self) -> None:
        self.follow = not self.follow
        self.view.follow = self.follow
        if self.follow:
            self.view.scroll_end(animate=False, x_axis=False)
            if not self.reading and not self.error:
                self._start_read()
        elif self._timer is not None and not self.error:
            self._timer.stop()
        self._show_status()

    def on_log_view_unfollowed(self, event: LogView.Unfollowed) -> None:
        self.follow = False
        if self._timer is not None and not self.error:
            self._timer.stop()
        self._show_status()

    def action_bottom(self) -> None:
        self.view.scroll_end(animate=False, x_axis=False)

    def action_top(self) -> None:
        self.view.follow = False
        self.on_log_view_unfollowed(LogView.Unfollowed())
        self.view.scroll_home(animate=False)

    def action_wrap(self) -> None:
        self.view.set_wrap(not self.view.wrap)
        self._show_status()

    def action_search(self) -> None:
        host(self).open_prompt("/", self.search_text)

    def on_prompt_done(self, event: Prompt.Done) -> None:
        self.view.focus()  # the app applies the value through apply_filter

    def apply_filter(self, text: str) -> None:
        """`/` from the prompt: search (a substring, or re:REGEX)."""
        self.search(text)

    def search(self, text: str) -> bool:
        self.search_text = text
        pattern = compile_search(text)
        if text and pattern is None:
            self.notify(f"Invalid regular expression: {text[3:]!r}", severity="error", timeout=5)
        self.view.set_search(pattern)
        found = bool(pattern) and self.view.find_next()
        if pattern is not None and not found:
            self.notify(f"{text!r} not found in the {self.view.line_count:,} lines read", timeout=4)
        if found:
            self.follow = False
        self._show_status()
        return found

    def action_next_match(self) -> None:
        self._step(False)

    def action_previous_match(self) -> None:
        self._step(True)

    def _step(self, backwards: bool) -> None:
        if self.view.search is None:
            self.notify("Search first with /", timeout=3)
            return
        if self.view.find_next(backwards):
            self.follow = False
        else:
            self.notify(f"{self.search_text!r} not found", timeout=3)
        self._show_status()

    def action_previous_file(self) -> None:
        if len(self.files) > 1:
            self.open_file((self.index - 1) % len(self.files))

    def action_next_file(self) -> None:
        if len(self.files) > 1:
            self.open_file((self.index + 1) % len(self.files))

    def action_choose_file(self) -> None:
        if not self.files:
            self.notify("No log files yet.", timeout=3)
            return

        def chosen(index: int | None) -> None:
            if index is not None and index != self.index:
                self.open_file(index)

        self.app.push_screen(LogFilesScreen([f.name for f in self.files], self.index), callback=chosen)

    def default_save_path(self) -> str:
        name = self.file.name if self.file is not None else "log"
        return f"~/azml-{_safe_file_part(self.run)}-{_safe_file_part(name)}.log"

    def action_save(self) -> None:
        if self.file is None:
            self.notify("Nothing to save yet.", timeout=3)
            return

        def validate(values: dict[str, str]) -> dict[str, str]:
            raw = values.get("path", "")
            if not raw:
                return {"path": "is required"}
            path = Path(os.path.expanduser(raw))
            if path.is_dir():
                return {"path": f"{path} is a directory: add a file name"}
            if not path.parent.is_dir():
                return {"path": f"the folder {path.parent} does not exist"}
            return {}

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            path = Path(os.path.expanduser(values["path"]))
            view = self.view
            self._write(path, view.text(), view.line_count, view.dropped)

        self.app.push_screen(
            FormScreen(
                "Save the log as",
                [Field("path", "File", self.default_save_path(), "~ is your home folder")],
                validate,
                submit_label="Save",
            ),
            callback=submitted,
        )

    @work(thread=True, group="save", exit_on_error=False)
    def _write(self, path: Path, text: str, lines: int, dropped: int) -> None:
        from services.outfile import OutputError, write_output_file

        try:
            write_output_file(path, text)  # atomic for a regular file; in place for a device, FIFO or symlink
        except OutputError as e:
            message = str(e)
            self.app.call_from_thread(self.notify, message[:1].upper() + message[1:], severity="error")
            return
        note = f" (the last {lines:,}; {dropped:,} earlier lines were not kept)" if dropped else ""
        self.app.call_from_thread(self.notify, f"Saved {lines:,} lines to {path}{note}", title="Log saved", timeout=8)
