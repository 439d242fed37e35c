"""Jobs: the workspace's jobs paged lazily (newest first), filtered by status, experiment, compute and time window.

The list holds the pages loaded so far; `m` (or the cursor reaching the last row) loads the next page, and a
refresh reloads as many pages as are shown, never the whole history. Run times are not in the ARM list, so the
duration column is filled in the background from run history for the rows on screen only.

Its actions are in screens.job_actions, the describe/drill-down it shares with the pipeline steps and sweep trials
in screens.job_runs, the log view in screens.job_logs, the filters in screens.job_filters.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.worker import get_current_worker

from screens.base import state_text
from screens.job_actions import JobActionsScreen
from screens.job_filters import (
    STATUS_CYCLE,
    STATUS_FILTERS,
    FilterError,
    FilterTerms,
    JobArguments,
    parse_arguments,
    parse_status,
    parse_terms,
    since_text,
)
from screens.job_format import duration_text, job_fields, short_time
from screens.kind_list import CellFormat, kind_cells, table_columns
from screens.widgets.table import Cell, Column, KeyedTable
from services.kinds.jobs import KINDS
from services.models.jobs import Job, JobFilter

if TYPE_CHECKING:
    from services.jobs import JobPager
    from services.models import Workspace
    from services.session import Session

JOBS = KINDS[0]
_DETAIL_TTL = 15.0  # seconds before an active job's run times are read again


class JobsScreen(JobActionsScreen):
    TITLE = "Jobs"
    STATE_COLUMN = "status"
    PAGE_SIZE: ClassVar[int] = 100
    COLUMNS: ClassVar[Sequence[Column]] = table_columns(JOBS)
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
        # the cells this screen draws itself; the other columns show the kind's values
        self._formats: dict[str, CellFormat] = {
            "name": self._name_cell,
            "status": lambda j: state_text(j.status),
            "created": lambda j: short_time(j.created),
            "duration": self._duration_cell,
        }

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
        return kind_cells(JOBS, j, self._formats)

    def _name_cell(self, j: Job) -> Cell:
        name = Text(j.name)
        if j.display_name and j.display_name != j.name:
            name.append(f" {j.display_name}", style="dim")
        return name

    def _duration_cell(self, j: Job) -> Cell:
        detail = self.details.get(j.key)
        return duration_text(detail[1].duration_s) if detail else ""

    def describe_fields(self, j: Job) -> list[tuple[str, str]]:
        return job_fields(j)

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
