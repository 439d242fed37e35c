"""Workspaces across every subscription the profile can see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from services.models import Workspace

if TYPE_CHECKING:
    from services.session import Session

COLUMNS = [
    ("name", "Name"),
    ("location", "Location"),
    ("resource_group", "Resource group"),
    ("subscription", "Subscription"),
    ("sku", "SKU"),
    ("network", "Public network"),
]


class WorkspacesScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="workspaces.refresh"),
        Binding("enter", "select", "Use workspace", id="workspaces.select", show=True),
    ]

    def __init__(self) -> None:
        super().__init__(name="workspaces")
        self.rows: dict[str, Workspace] = {}

    def compose(self) -> ComposeResult:
        yield Static("Workspaces", classes="screen-title")
        yield DataTable(id="workspaces-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="workspaces-status", classes="status-line")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        if self.session is not None:
            self.action_refresh()

    @property
    def session(self) -> Session | None:
        return getattr(self.app, "session", None)

    def action_refresh(self) -> None:
        if self.session is None:
            return
        self.query_one("#workspaces-status", Static).update("loading…")
        self.load()

    @work(thread=True, exclusive=True, group="workspaces", exit_on_error=False)
    def load(self) -> None:
        from services import workspaces

        session = self.session
        assert session is not None
        try:
            subs = {s.id: s.name for s in workspaces.list_subscriptions(session)}
            items = workspaces.list_workspaces(session, list(subs))
        except Exception as e:  # shown where it happened, never as a traceback
            from services.errors import describe

            self.app.call_from_thread(self._failed, describe(e))
            return
        self.app.call_from_thread(self._show, items, subs)

    def _failed(self, message: str) -> None:
        self.query_one("#workspaces-status", Static).update(f"error: {message}")
        self.notify(message, title="Workspaces", severity="error")

    def _show(self, items: list[Workspace], subs: dict[str, str]) -> None:
        table: DataTable[Any] = self.query_one(DataTable)
        new = {w.key: w for w in items}
        with self.app.batch_update():
            for key in [k for k in self.rows if k not in new]:
                table.remove_row(key)
            for key, w in new.items():
                cells = [
                    w.name,
                    w.location,
                    w.resource_group,
                    subs.get(w.subscription_id, w.subscription_id),
                    w.sku,
                    w.public_network_access,
                ]
                if key in self.rows:
                    for (col, _), value in zip(COLUMNS, cells, strict=True):
                        table.update_cell(key, col, value)
                else:
                    table.add_row(*cells, key=key)
        self.rows = new
        self.query_one("#workspaces-status", Static).update(f"{len(items)} workspaces in {len(subs)} subscriptions")
        refresh = getattr(self.app, "mark_refreshed", None)
        if refresh:
            refresh()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._choose(event.row_key.value)

    def action_select(self) -> None:
        table: DataTable[Any] = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return
        self._choose(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _choose(self, key: str | None) -> None:
        if key in self.rows:
            choose = getattr(self.app, "choose_workspace", None)
            if choose and key is not None:
                choose(self.rows[key])
