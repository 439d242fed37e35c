"""The VM size picker of the compute create forms: the region's sizes with vCPUs, memory, GPUs and the family's
quota left; a search, a GPU filter; and the form around it, which shows what the chosen size costs in quota.

The sizes and usages are the ones the VM sizes screen reads (`sizes_with_usage`); the form refuses a request
that needs more vCPUs than the family has left before anything is sent (the service's validation holds the rule).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from screens.modals import Field, FormScreen, Validator
from screens.widgets.table import Cell, Column, KeyedTable
from services.models import Usage, VmSize

SizeRow = tuple[VmSize, Usage | None]


def quota_left(u: Usage | None) -> int | None:
    """vCPUs the family has left; None when unknown or unlimited."""
    if u is None or u.limit < 0:
        return None
    return max(0, u.limit - u.current)


def family_label(s: VmSize) -> str:
    """standardNCADSA100v4Family (or StandardNC...) → NCADSA100v4."""
    name = s.family
    name = name[8:] if name.lower().startswith("standard") else name
    name = name[:-6] if name.lower().endswith("family") else name
    return name or s.family


def quota_of(rows: Mapping[str, SizeRow], size: str) -> tuple[str, int, int, int] | None:
    """(family, vCPUs per node, vCPUs left, limit) of a size, for the service's quota rule; None when unknown."""
    row = rows.get(size.strip().lower())
    if row is None:
        return None
    s, u = row
    left = quota_left(u)
    if u is None or left is None:
        return None
    return (family_label(s), s.vcpus, left, u.limit)


def size_summary(rows: Mapping[str, SizeRow], size: str, nodes: int = 1) -> str:
    row = rows.get(size.strip().lower())
    if row is None:
        return f"{size or '(none)'} is not offered in this region" if size else ""
    s, u = row
    text = f"{s.vcpus} vCPUs, {s.memory_gb:g} GB, {s.gpus} GPUs"
    left = quota_left(u)
    if u is not None and left is not None:
        need = nodes * s.vcpus
        verdict = "fits" if need <= left else "EXCEEDS"
        text += f" · {family_label(s)} quota: {left} of {u.limit} vCPUs left; this needs {need}: {verdict}"
    return text


class SizePickerScreen(ModalScreen[str | None]):
    """Search the sizes (name or family), ctrl+g GPU only, enter picks the highlighted size."""

    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("name", "VM size", flex=True, min_width=16),
        Column("vcpus", "vCPU", numeric=True, width=4),
        Column("memory", "Mem GB", numeric=True, width=6),
        Column("gpus", "GPU", numeric=True, width=3),
        Column("family", "Family", max_width=14, drop=1),
        Column("left", "Quota left", max_width=12),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="sizes_picker.cancel"),
        Binding("ctrl+g", "gpu_only", "GPU only", id="sizes_picker.gpu_only"),
        Binding("down", "to_table", "Sizes", show=False, id="sizes_picker.to_table"),
    ]

    def __init__(self, rows: Mapping[str, SizeRow], current: str = "", nodes: int = 1) -> None:
        super().__init__()
        self.rows = dict(rows)
        self.current = current
        self.nodes = max(1, nodes)
        self.gpu_only = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-body", id="size-picker"):
            yield Static(Text("Pick a VM size", style="bold"), id="picker-title")
            yield Input(placeholder="search: name or family", id="picker-search", compact=True)
            yield Static("", id="picker-hint")
            yield KeyedTable(self.COLUMNS, id="picker-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#picker-table", KeyedTable)

    def on_mount(self) -> None:
        self._render_rows()
        if self.current and self.current.lower() in self.rows:
            self.table.move_cursor(self.current.lower())
        self.query_one("#picker-search", Input).focus()

    def _cells(self, row: SizeRow) -> Sequence[Cell]:
        s, u = row
        left = quota_left(u)
        quota: Cell = "" if left is None or u is None else f"{left}/{u.limit}"
        if left is not None and s.vcpus * self.nodes > left:
            quota = Text(f"{quota} !", style="bold red")  # more than is left: marked by more than colour
        return (s.name, s.vcpus, s.memory_gb, s.gpus or None, family_label(s), quota)

    def _render_rows(self) -> None:
        search = self.query_one("#picker-search", Input).value.strip().lower()
        rows: dict[str, Sequence[Cell]] = {}
        for key, row in sorted(self.rows.items(), key=lambda kv: kv[1][0].name.lower()):
            s = row[0]
            if self.gpu_only and s.gpus <= 0:
                continue
            if search and search not in s.name.lower() and search not in s.family.lower():
                continue
            rows[key] = self._cells(row)
        self.table.set_rows(rows)
        need = "" if self.nodes == 1 else f" x {self.nodes} nodes"
        hint = f"{len(rows)} of {len(self.rows)} sizes{' · GPU only' if self.gpu_only else ''}"
        hint += f" · '!': vCPUs{need} exceed the quota left · ctrl+g GPU only · ↓ enter picks · esc cancels"
        self.query_one("#picker-hint", Static).update(hint)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._render_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._pick(self.table.cursor_key or (self.table.visible_keys[0] if self.table.visible_keys else None))

    def on_keyed_table_selected(self, event: KeyedTable.Selected) -> None:
        event.stop()
        self._pick(event.key)

    def _pick(self, key: str | None) -> None:
        if key is not None and key in self.rows:
            self.dismiss(self.rows[key][0].name)

    def action_gpu_only(self) -> None:
        self.gpu_only = not self.gpu_only
        self._render_rows()

    def action_to_table(self) -> None:
        self.table.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ComputeFormScreen(FormScreen):
    """A compute create form whose size field has a picker (ctrl+o, or the button) and a line saying what the
    chosen size costs in quota, updated as the size or the node count changes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "pick_size", "Pick a size", id="compute_form.pick_size"),
    ]

    def __init__(self, title: str, fields: Sequence[Field], validate: Validator, rows: Mapping[str, SizeRow]) -> None:
        super().__init__(title, fields, validate)
        self.rows = dict(rows)

    def on_mount(self) -> None:
        super().on_mount()
        body = self.query_one(VerticalScroll)
        body.mount(Static("", id="size-info"), after="#error-size")
        body.mount(Button("Pick a size… (ctrl+o)", id="pick-size", compact=True), after="#size-info")
        self._update_info()

    def _node_count(self) -> int:
        found = self.query("#field-max_instances")
        if not found:
            return 1
        try:
            return max(1, int(found.first(Input).value.strip() or "1"))
        except ValueError:
            return 1

    def _update_info(self) -> None:
        found = self.query("#size-info")
        if found:
            size = self.query_one("#field-size", Input).value
            found.first(Static).update(size_summary(self.rows, size, self._node_count()))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("field-size", "field-max_instances"):
            self._update_info()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        # (Textual runs FormScreen's handler after this one, which submits; not for the picker's button.)
        if event.button.id == "pick-size":
            event.prevent_default()
            event.stop()
            self.action_pick_size()

    def action_pick_size(self) -> None:
        field = self.query_one("#field-size", Input)

        def picked(name: str | None) -> None:
            if name:
                field.value = name
                field.focus()
                self._update_info()

        self.app.push_screen(SizePickerScreen(self.rows, field.value, self._node_count()), callback=picked)
