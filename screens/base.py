"""The list screen every resource view is built on.

A keyed table fed by a thread worker (never the UI thread), updated by diff; `/` filters, `s` sorts,
`d` describes, `y` copies the id; refresh on `r` and on the app's auto-refresh interval, only while
this screen is the visible one. Failed loads keep the rows and mark them stale. Actions show their
plan and `az ml` equivalent, then run in a worker while the row shows what is happening.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static
from textual.worker import NoActiveWorker, get_current_worker

from screens.chrome import ChromeScreen
from screens.host import host
from screens.widgets.line import Line
from screens.widgets.prompt import Prompt
from screens.widgets.table import Cell, Column, KeyedTable

if TYPE_CHECKING:
    from services.models import Workspace
    from services.mutations import Target
    from services.session import Session

M = TypeVar("M")
KeyState = Literal["", "disabled", "hidden"]


_STATE_STYLES = {
    "running": "green",
    "succeeded": "green",
    "completed": "green",
    "steady": "green",
    "enabled": "green",
    "idle": "cyan",
    "stopped": "dim",
    "canceled": "dim",
    "failed": "bold red",
    "unusable": "bold red",
    "preempted": "yellow",
    "queued": "yellow",
    "preparing": "yellow",
    "resizing": "yellow",
    "starting": "yellow",
    "stopping": "yellow",
    "creating": "yellow",
    "updating": "yellow",
    "deleting": "yellow",
    "cancelrequested": "yellow",
    "notstarted": "dim",
}


def state_text(state: str) -> Text:
    """A state word with a colour that survives 16 colours; NO_COLOR still shows the word."""
    return Text(state, style=_STATE_STYLES.get(state.lower().replace(" ", ""), ""))


def short_id(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1] if resource_id else ""


class ResourceScreen(ChromeScreen, Generic[M]):
    COLUMNS: ClassVar[Sequence[Column]] = ()
    STATE_COLUMN: ClassVar[str] = "state"
    WORKSPACE_SCOPED: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", id="list.refresh"),
        Binding("slash", "filter", "Filter", id="list.filter"),  # the app's priority binding opens it
        Binding("s", "sort", "Sort", id="list.sort"),
        Binding("d", "describe", "Describe", id="list.describe"),
        Binding("y", "copy", "Copy id", show=False, id="list.copy"),
        Binding("p", "pause", "Pause", show=False, id="list.pause"),
    ]

    def __init__(self, argument: str = "") -> None:
        super().__init__()
        self.argument = argument
        self.models: dict[str, M] = {}
        self.pending: dict[str, str] = {}  # row key → what an action is doing to it
        self.loaded_at = 0.0
        self.busy = False
        self.stale = False
        self.error = ""
        self._sort_index = -1
        self.loads = 0
        self.last_action = ""  # what the last action's notification said
        self.retry_notes: list[str] = []  # every retry shown on the status line (the last 50)
        self._listening: Session | None = None

    # -- what a subclass provides ---------------------------------------------------------------

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, M]:
        """Load the models (runs in a thread). Keys are stable ids (lower-cased resource ids)."""
        raise NotImplementedError

    def cells(self, model: M) -> Sequence[Cell]:
        raise NotImplementedError

    def describe_fields(self, model: M) -> list[tuple[str, str]]:
        return [(k, str(v)) for k, v in vars(model).items()] if hasattr(model, "__dict__") else []

    def model_id(self, model: M) -> str:
        return str(getattr(model, "id", ""))

    def model_name(self, model: M) -> str:
        return str(getattr(model, "name", ""))

    def subtitle(self) -> str:
        return ""

    def include(self, model: M) -> bool:
        """A screen-level toggle (e.g. GPU only) on top of the `/` text filter."""
        return True

    def unavailable(self, action: str, model: M) -> str:
        """Why ``action`` does not apply to ``model`` as it is now, "" when it does: hidden from the key bar on
        that row, and (for a kind's declared action, screens.kind_list.kind_action) refused on the key, never
        sent to come back as a conflict."""
        return ""

    def audit_target(self, model: M | None) -> Target | None:
        """What a refused action would have acted on, for the audit line."""
        ws = self.workspace
        if ws is None:
            return None
        from services.mutations import Target

        return Target(ws.subscription_id, ws.resource_group, ws.name, self.model_name(model) if model else "")

    # -- composition ----------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(self.COLUMNS, id="table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#table", KeyedTable)

    def on_mount(self) -> None:
        self._update_title()
        if not isinstance(self.focused, Prompt):  # ':' typed before the screen finished mounting keeps focus
            self.table.focus()
        self.set_interval(1.0, self._tick_refresh)
        if self.session is not None:
            self.action_refresh()
        else:
            self._status("waiting for the connection…")

    def on_unmount(self) -> None:
        if self._listening is not None:
            self._listening.remove_retry_listener(self._on_retry)
            self._listening = None

    # -- retries, visible -------------------------------------------------------------------------

    def _listen_for_retries(self, session: Session) -> None:
        if self._listening is session:
            return
        if self._listening is not None:
            self._listening.remove_retry_listener(self._on_retry)
        add = getattr(session, "add_retry_listener", None)
        if callable(add):
            add(self._on_retry)
            self._listening = session

    def _on_retry(self, event: Any) -> None:
        """A request of the session is about to be retried (called from the requesting thread)."""
        try:
            mine = get_current_worker().node is self
        except NoActiveWorker:  # a fan-out thread: shown by the screen that is loading and visible
            mine = self.busy and self.app.screen is self
        if mine:
            try:
                self.app.call_from_thread(self._show_retry, event.describe())
            except RuntimeError:  # the app is closing
                pass

    def _show_retry(self, text: str) -> None:
        self.retry_notes.append(text)
        del self.retry_notes[:-50]
        base = self._summary() if self.models else ("STALE · " if self.stale else "") + "loading…"
        self._status(f"{base} · {text}")

    def on_screen_resume(self) -> None:
        self._update_title()
        if self.session is not None and not self.busy and self._due():
            self.action_refresh()

    def scope_title(self, ws: Workspace) -> str:
        """What the rows are of, in the title: the chosen workspace."""
        return f"{ws.name} ({ws.location})"

    def _update_title(self) -> None:
        ws = self.workspace
        parts = [self.TITLE]
        if self.WORKSPACE_SCOPED and ws is not None:
            parts.append(self.scope_title(ws))
        sub = self.subtitle()
        if sub:
            parts.append(sub)
        self.query_one("#screen-title", Static).update(" · ".join(parts))

    # -- loading --------------------------------------------------------------------------------

    def _interval(self) -> float:
        return float(host(self).refresh_interval or 0)

    def _due(self) -> bool:
        interval = self._interval()
        return bool(interval) and time.monotonic() - self.loaded_at >= interval

    def _tick_refresh(self) -> None:
        if self.app.screen is not self or host(self).paused or self.busy:
            return
        if self.session is not None and (self.loaded_at == 0.0 or self._due()):
            self.action_refresh()

    def connected(self) -> None:
        """The app has a session now (or a different workspace)."""
        self.models = {}
        self.table.set_rows({})
        self._update_title()
        self.action_refresh()

    class Reconnect(Message):
        """`r` while the app is not connected: the app tries to connect again now."""

    def action_refresh(self) -> None:
        session = self.session
        if session is None:
            self.post_message(self.Reconnect())
            return
        if self.WORKSPACE_SCOPED and self.workspace is None:
            self._status("choose a workspace first (:workspaces, enter)")
            return
        self._listen_for_retries(session)
        self.busy = True
        self._status("loading…" if not self.models else self._summary() + " · refreshing…")
        self._load(session, self.workspace)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, session: Session, workspace: Workspace | None) -> None:
        worker = get_current_worker()
        try:
            models = dict(self.fetch(session, workspace))
        except Exception as e:
            from services.errors import describe

            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, describe(e))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._apply, models)

    def reapply(self) -> None:
        """Show the loaded models again (after the screen's argument or filter changed), without a load."""
        self._apply(dict(self.models))

    def _apply(self, models: dict[str, M]) -> None:
        self.busy = False
        self.stale = False
        self.error = ""
        self.loads += 1
        self.models = models
        self.loaded_at = time.monotonic()
        self._render_rows()
        host(self).mark_refreshed()

    def _render_rows(self) -> None:
        rows: dict[str, Sequence[Cell]] = {}
        state_index = next((i for i, c in enumerate(self.COLUMNS) if c.key == self.STATE_COLUMN), None)
        for key, model in self.models.items():
            if not self.include(model):
                continue
            cells = list(self.cells(model))
            if key in self.pending and state_index is not None:
                cells[state_index] = Text(self.pending[key] + "…", style="bold yellow")
            rows[key] = cells
        with self.app.batch_update():
            self.table.set_parents(self.parents(rows))
            self.table.set_rows(rows)
        self._status(self._summary())
        self.refresh_bindings()  # the row under the cursor may have changed state

    def parents(self, rows: Mapping[str, Sequence[Cell]]) -> Mapping[str, str]:
        """Rows shown beneath others, as child key -> parent key (a two-level tree); none by default."""
        return {}

    def _failed(self, message: str) -> None:
        self.busy = False
        self.error = message
        self.stale = bool(self.models)
        self.loaded_at = time.monotonic()  # back off until the next interval
        if self.stale:
            self._status(f"STALE (last update failed): {message}")
        else:
            self._status(f"error: {message}")
        self.notify(message, title=self.TITLE, severity="error", timeout=10)

    def _summary(self) -> str:
        shown, total = self.table.visible_count, self.table.row_count
        text = f"{total} {self.TITLE.lower()}" if shown == total else f"{shown} of {total} {self.TITLE.lower()}"
        if self.table.filter_text:
            text += f" · filter {self.table.filter_text!r}"
        if self.table.filter_error:
            text += f" · {self.table.filter_error}"
        return text

    def _status(self, text: str) -> None:
        if self.stale and self.error and not text.startswith("STALE"):
            # whatever else the line says (a subclass's summary, a follow-up read), the rows stay marked stale
            text = f"STALE (last update failed): {self.error} · {text}"
        # One line whatever its length: a long error ends in an ellipsis (`:errors` and `d` show it whole).
        self.query_one("#status", Line).update(Text(text, no_wrap=True, overflow="ellipsis", end=""))

    # -- which action keys apply ------------------------------------------------------------------

    @classmethod
    def mutations(cls) -> dict[str, str]:
        """Every action key of the screen that leads to a mutation: action name → operation. Mutations are a
        kind's declared actions (screens.kind_list.KindScreen); a list of no kind has none."""
        return {}

    def refuse(self, action: str, operation: str, *, on_row: bool = True) -> bool:
        """Refuse ``action`` now, before anything opens, when the guard or the row's state says no (with the
        reason, as a notification); False when it may go on."""
        model = self.current()
        session = self.session
        if session is not None:
            reason = session.guard.check(operation, self.audit_target(model if on_row else None))
            if reason:
                self.notify(reason, title="Read-only", severity="warning")
                return True
        if on_row and model is not None:
            key = self.table.cursor_key
            doing = self.pending.get(key) if key else None
            reason = f"{self.model_name(model)} is {doing}: wait for it to finish." if doing else ""
            reason = reason or self.unavailable(action, model)
            if reason:
                from services.mutations import registry

                self.notify(reason, title=registry()[operation].title, severity="warning", timeout=8)
                return True
        return False

    def key_state(self, action: str) -> KeyState:
        """How the key bar shows ``action``: as usual, not at all (it does not apply to this row) or dimmed (a
        mutation on a read-only profile)."""
        model = self.current()
        if model is not None and self.unavailable(action, model):
            return "hidden"
        session = self.session
        if action in self.mutations() and session is not None and session.guard.read_only:
            return "disabled"
        return ""

    def on_keyed_table_highlighted(self, event: KeyedTable.Highlighted) -> None:
        self.refresh_bindings()  # the keys that apply follow the row under the cursor

    # -- list keys ------------------------------------------------------------------------------

    def current(self) -> M | None:
        key = self.table.cursor_key
        return self.models.get(key) if key else None

    def action_filter(self) -> None:
        host(self).open_prompt("/", self.table.filter_text)

    def apply_filter(self, text: str) -> None:
        self.table.set_filter(text)
        self._status(self._summary())

    def clear_filter(self) -> bool:
        """Esc with a filter applied: clear it and stay (True); False when there is none."""
        if not self.table.filter_text:
            return False
        self.apply_filter("")
        self.notify("Filter cleared (esc again goes back)", timeout=3)
        return True

    def action_sort(self) -> None:
        columns = list(self.table.shown_columns)  # a column dropped on a narrow terminal is not offered
        if not columns:
            return
        current = self.table.sort_column
        if current is not None and not self.table.sort_reverse:
            self.table.sort_by(current, reverse=True)
        else:
            keys = [c.key for c in columns]
            index = keys.index(current) + 1 if current in keys else 0
            if index >= len(columns):
                self.table.sort_by(None)
                self.notify("Unsorted", timeout=2)
                return
            self.table.sort_by(columns[index].key, reverse=False)
        direction = "descending" if self.table.sort_reverse else "ascending"
        label = next((c.label for c in columns if c.key == self.table.sort_column), "")
        self.notify(f"Sorted by {label}, {direction}", timeout=2)

    def action_describe(self) -> None:
        model = self.current()
        if model is None:
            return
        from screens.modals import DetailScreen

        self.app.push_screen(DetailScreen(self.model_name(model), self.describe_fields(model), self.model_id(model)))

    def action_copy(self) -> None:
        model = self.current()
        if model is not None:
            self.app.copy_to_clipboard(self.model_id(model))
            self.notify("Copied the id to the clipboard", timeout=3)

    def action_pause(self) -> None:
        host(self).toggle_pause()

    def on_keyed_table_selected(self, event: KeyedTable.Selected) -> None:
        self.open(event.key)

    def open(self, key: str) -> None:
        """Enter on a row: by default, describe it."""
        self.action_describe()

    # -- actions --------------------------------------------------------------------------------

    def act(
        self,
        operation: str,
        target: Any,
        params: Mapping[str, Any],
        runner: Callable[[], object],
        *,
        key: str | None,
        doing: str,
        done: str,
        details: Sequence[str] = (),
        confirm_text: str = "",
    ) -> None:
        """Show the plan (with the `az ml` equivalent), then run `runner` in a worker."""
        from services import mutations

        op = mutations.registry()[operation]
        session = self.session
        reason = session.guard.check(operation, target) if session is not None else ""
        if reason:
            self.notify(reason, title="Read-only", severity="warning")
            return
        production = host(self).production
        # Production: every mutation is typed, creations included (their target has no name yet).
        name = str(target.name or params.get("name") or target.describe())
        needs_typing = confirm_text or (name if (op.destructive or production) else "")
        from screens.modals import ConfirmScreen, Plan  # (not before the first frame)

        plan = Plan(
            title=op.title,
            target=target.describe(),
            az=mutations.az_command(operation, target, params),
            confirm_text=needs_typing,
            details=tuple(details),
        )

        def confirmed(ok: bool | None) -> None:
            if ok:
                if key:
                    self.pending[key] = doing
                    self._render_rows()
                self._run_action(op.title, runner, key, done)

        self.app.push_screen(ConfirmScreen(plan), callback=confirmed)

    def confirm_production(
        self, operation: str, target: Any, params: Mapping[str, Any], then: Callable[[], None]
    ) -> None:
        """For mutations that run outside act() (e.g. invoke, with its own worker and result screen): on a
        production profile, the same typed confirmation first; elsewhere, run ``then`` at once."""
        if not host(self).production:
            then()
            return
        from screens.modals import ConfirmScreen, Plan
        from services import mutations

        op = mutations.registry()[operation]
        plan = Plan(
            title=op.title,
            target=target.describe(),
            az=mutations.az_command(operation, target, params),
            confirm_text=str(target.name or target.describe()),
            details=("Production profile: type the name to confirm.",),
        )
        self.app.push_screen(ConfirmScreen(plan), callback=lambda ok: then() if ok else None)

    @work(thread=True, group="actions", exit_on_error=False)
    def _run_action(self, title: str, runner: Callable[[], object], key: str | None, done: str) -> None:
        from services.mutations import ResponseLost

        try:
            runner()
        except ResponseLost as e:  # sent, answer lost, state read back: say what actually happened
            severity = "information" if e.applied else "warning"
            self.app.call_from_thread(self._action_finished, title, key, str(e), severity)
            return
        except Exception as e:
            from services.errors import describe

            self.app.call_from_thread(self._action_finished, title, key, f"{title} failed: {describe(e)}", "error")
            return
        self.app.call_from_thread(self._action_finished, title, key, done, "information")

    def _action_finished(self, title: str, key: str | None, message: str, severity: Any) -> None:
        if key:
            self.pending.pop(key, None)
        self.last_action = message
        self.notify(message, title=title, severity=severity, timeout=5 if severity == "information" else 12)
        self.action_refresh()
