"""Runs: what the jobs list and the child-run lists share (describe from run history, open the logs, drill
down), and the child-run lists themselves: a pipeline's steps (nested pipelines as a tree) and a sweep's trials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType

from screens.base import ResourceScreen, state_text
from screens.job_format import duration_text, job_fields, pairs, short_time
from screens.job_logs import LogScreen
from screens.modals import DetailScreen
from screens.widgets.table import Cell, Column
from services.models.jobs import TERMINAL_STATUSES, ChildRun, Job
from services.times import iso

if TYPE_CHECKING:
    from services.models import Workspace
    from services.session import Session


class RunScreen(ResourceScreen[Any]):
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
        self.app.push_screen(DetailScreen(job.display_name or job.name, job_fields(job), job.id or job.name))

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


class StepsScreen(RunScreen):
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
            info = pairs(r.hyperparameters)
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
            ("Hyperparameters", pairs(r.hyperparameters)),
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
