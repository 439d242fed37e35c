"""Workspaces across every subscription the profile can see; enter makes one the current workspace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.binding import Binding, BindingType

from screens.host import host
from screens.kind_list import KindScreen, table_columns
from screens.widgets.table import Cell, Column
from services.kinds.workspaces import KINDS, WorkspaceEntry
from services.models import Subscription, Workspace

WORKSPACES = KINDS[0]

if TYPE_CHECKING:
    from services.session import Session


class WorkspacesScreen(KindScreen):
    """The workspaces kind on the generic list (columns and rows from its declaration), plus choosing one
    (enter) and a describe that reads the workspace's Log Analytics workspace first."""

    KIND = WORKSPACES
    TITLE = WORKSPACES.title
    WORKSPACE_SCOPED = False
    STATE_COLUMN = ""
    COLUMNS: ClassVar[Sequence[Column]] = table_columns(WORKSPACES)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Use", id="workspaces.choose"),
    ]

    def __init__(self, argument: str = "") -> None:
        super().__init__(argument)
        self.subscriptions: dict[str, Subscription] = {}  # by lower-cased id
        self.log_analytics: dict[str, str] = {}  # workspace key → what describe shows for its Log Analytics

    # -- describe: the Log Analytics workspace is read first (diagnostic settings), off the UI thread ------

    def action_describe(self) -> None:
        w, session = self.current(), self.session
        if w is None or session is None:
            return
        self._status(f"reading the Log Analytics workspace of {w.name}…")
        self._read_log_analytics(session, w)

    @work(thread=True, exclusive=True, group="describe", exit_on_error=False)
    def _read_log_analytics(self, session: Session, w: Workspace) -> None:
        from services import monitor
        from services.errors import describe

        try:
            law = monitor.log_analytics_workspace(session, w)
            text = f"{law.name or law.customer_id} (customer id {law.customer_id}"
            text += f"; {law.id})" if law.id else ")"
            text += f" — from {law.source}"
        except monitor.MonitorLookupError as e:
            text = f"none found: {e}"
        except Exception as e:
            text = f"could not be read: {describe(e)}"
        self.app.call_from_thread(self._described, w, text)

    def _described(self, w: Workspace, text: str) -> None:
        from screens.modals import DetailScreen

        self.log_analytics[w.key] = text
        self._status(self._summary())
        self.app.push_screen(DetailScreen(self.model_name(w), self.describe_fields(w), self.model_id(w)))

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, Workspace]:
        entries: list[WorkspaceEntry] = self.kind.list(session, self.target(None))  # the snapshot's loader too
        self.subscriptions = {e.subscription.id.lower(): e.subscription for e in entries if e.subscription}
        return {e.workspace.key: e.workspace for e in entries}

    def entry(self, w: Workspace) -> WorkspaceEntry:
        return WorkspaceEntry(w, self.subscriptions.get(w.subscription_id.lower()))

    def _subscription_name(self, w: Workspace) -> str:
        sub = self.subscriptions.get(w.subscription_id.lower())
        return sub.name if sub else ""

    def cells(self, w: Workspace) -> Sequence[Cell]:
        return super().cells(self.entry(w))

    def describe_fields(self, w: Workspace) -> list[tuple[str, str]]:
        return [
            ("Name", w.name),
            ("Id", w.id),
            ("Subscription", f"{self._subscription_name(w)} ({w.subscription_id})"),
            ("Resource group", w.resource_group),
            ("Region", w.location),
            ("SKU", w.sku),
            ("Public network access", w.public_network_access),
            ("Storage account", w.storage_account),
            ("Key vault", w.key_vault),
            ("Container registry", w.container_registry),
            ("Application Insights", w.application_insights or "-"),
            ("Log Analytics workspace", self.log_analytics.get(w.key, "(reading…)")),
            ("Description", w.description),
            ("Tags", ", ".join(f"{k}={v}" for k, v in w.tags)),
        ]

    def _apply(self, models: dict[str, Workspace]) -> None:
        super()._apply(models)
        if self.argument:
            wanted = self.argument.lower()
            match = next((w for w in models.values() if w.name.lower() == wanted), None)
            if match is None:  # asked before the list was in: a unique part of a name is enough here too
                parts = [w for w in models.values() if wanted in w.name.lower()]
                match = parts[0] if len(parts) == 1 else None
            if match is None:
                self.notify(f"No workspace named {self.argument!r}", severity="error")
            else:
                self.table.move_cursor(match.key)
                self._choose(match)
            self.argument = ""
        elif host(self).workspace is None and models:
            default = host(self).default_workspace or ""
            first = next((w for w in models.values() if w.name.lower() == default.lower()), None)
            self._choose(first or sorted(models.values(), key=lambda w: w.name)[0], quiet=True)

    def action_choose(self) -> None:
        model = self.current()
        if model is not None:
            self._choose(model)

    def open(self, key: str) -> None:
        self.action_choose()

    def _choose(self, workspace: Workspace, quiet: bool = False) -> None:
        host(self).choose_workspace(workspace, quiet=quiet)
