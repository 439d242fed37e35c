"""The metrics screen's modals: choosing the scope the panels show, and a panel's query (shown, copied, or
opened in the KQL editor)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.metrics_data import Scope, Targets


class ScopeScreen(ModalScreen[Scope | None]):
    """Choose what the panels show: the workspace, a cluster or an online endpoint."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="scope.cancel")]

    def __init__(self, targets: Targets, current: Scope) -> None:
        super().__init__()
        self.targets = targets
        self.current = current
        self.choices: list[Scope] = [Scope()]
        self.choices += [Scope("cluster", c) for c in targets.clusters]
        self.choices += [Scope("endpoint", e.name) for e in targets.endpoints]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-body"):
            yield Static(Text("Metrics for…", style="bold"))
            yield OptionList(*[Option(s.label, id=str(i)) for i, s in enumerate(self.choices)], id="scope-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.choices.index(self.current) if self.current in self.choices else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class KqlScreen(ModalScreen[str | None]):
    """A panel's query: `e` opens it in the editor, `y` copies it."""

    BINDINGS = [
        Binding("escape,q,k", "dismiss_none", "Close", id="kql.close"),
        Binding("e", "edit", "Edit", id="kql.edit"),
        Binding("y", "copy", "Copy", id="kql.copy"),
    ]

    def __init__(self, title: str, kql: str, editable: bool) -> None:
        super().__init__()
        self._title = title
        self.kql = kql
        self.editable = editable

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(self._title + "\n\n", style="bold")
        text.append(self.kql or "(not loaded yet)")
        hint = "e opens it in the editor · " if self.editable else ""
        text.append(f"\n\n{hint}y copies · esc closes", style="dim")
        with VerticalScroll(classes="modal-body"):
            yield Static(text, id="kql-text")

    def action_edit(self) -> None:
        if self.editable:
            self.dismiss("edit")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.kql)
        self.notify("Copied the query", timeout=3)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
