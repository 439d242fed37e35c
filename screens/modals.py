"""Modal screens: help, describe, confirm an action, and forms with per-field errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class HelpScreen(ModalScreen[None]):
    """Every key of the screen underneath, and the commands."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, title: str, keys: Sequence[tuple[str, str]], commands: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._keys = keys
        self._commands = commands

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(f"{self._title}: keys\n", style="bold")
        width = max((len(k) for k, _ in self._keys), default=4)
        for key, what in self._keys:
            text.append(f"  {key:<{width}}  {what}\n")
        text.append("\nCommands (type : then a command)\n", style="bold")
        cwidth = max((len(c) for c, _ in self._commands), default=4)
        for cmd, what in self._commands:
            text.append(f"  {cmd:<{cwidth}}  {what}\n")
        text.append("\nFilters (/): text, re:regex, !text inverts. esc closes this.")
        with VerticalScroll(classes="modal-body"):
            yield Static(text, id="help-text")


class DetailScreen(ModalScreen[None]):
    """The whole of a resource: every field, untruncated; `y` copies the id (OSC 52 works over SSH)."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="detail.close"),
        Binding("y", "copy", "Copy id", id="detail.copy"),
    ]

    def __init__(self, title: str, fields: Sequence[tuple[str, str]], copy_value: str = "") -> None:
        super().__init__()
        self._title = title
        self._fields = fields
        self._copy = copy_value

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(self._title + "\n\n", style="bold")
        width = min(max((len(k) for k, _ in self._fields), default=4), 28)
        for key, value in self._fields:
            text.append(f"{key:<{width}}  ", style="bold")
            text.append(f"{value}\n")
        text.append("\ny copies the id · esc closes", style="dim")
        with VerticalScroll(classes="modal-body"):
            yield Static(text, id="detail-text")

    def action_copy(self) -> None:
        if self._copy:
            self.app.copy_to_clipboard(self._copy)
            self.notify("Copied the id to the clipboard", timeout=3)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)


@dataclass(frozen=True)
class Plan:
    """What an action will do, shown before it runs."""

    title: str  # "Stop compute instance"
    target: str  # "mlw-prod-eus/ci-alice"
    az: str  # the equivalent az ml command
    confirm_text: str = ""  # if set, the user must type it (deletes; every action on production)
    details: tuple[str, ...] = ()


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel")]

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        p = self.plan
        with Vertical(classes="modal-body"):
            yield Label(Text(p.title, style="bold"))
            yield Static(Text(f"Target: {p.target}"))
            for line in p.details:
                yield Static(Text(line))
            yield Static(Text("Equivalent: ", style="bold").append(p.az, style=""), id="confirm-az")
            if p.confirm_text:
                yield Static(Text(f"Type {p.confirm_text!r} to confirm:"))
                yield Input(placeholder=p.confirm_text, id="confirm-input", compact=True)
            yield Static("", id="confirm-error", classes="form-error")
            yield Button("Run (enter)" if not p.confirm_text else "Run", id="confirm-run", variant="error")

    def on_mount(self) -> None:
        if self.plan.confirm_text:
            self.query_one("#confirm-input", Input).focus()
        else:
            self.query_one("#confirm-run", Button).focus()

    def _try(self) -> None:
        if self.plan.confirm_text:
            typed = self.query_one("#confirm-input", Input).value.strip()
            if typed != self.plan.confirm_text:
                self.query_one("#confirm-error", Static).update(
                    f"confirmation: type {self.plan.confirm_text!r} exactly (you typed {typed!r})"
                )
                return
        self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._try()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._try()

    def action_cancel(self) -> None:
        self.dismiss(False)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    value: str = ""
    help: str = ""
    secret: bool = False


Validator = Callable[[dict[str, str]], dict[str, str]]


def field_errors(exc: Exception) -> dict[str, str]:
    """A service's refusal as {field: rule} for a form (the first rule per field); anything else on the form."""
    from services.validation import ValidationError

    if isinstance(exc, ValidationError):
        out: dict[str, str] = {}
        for e in exc.errors:
            out.setdefault(e.field, e.rule)
        return out
    return {"_form": str(exc)}  # values → {field: message}; empty when valid


class FormScreen(ModalScreen[dict[str, str] | None]):
    """A form whose input is checked before it closes: each error is shown under its field, and nothing
    the user typed is lost."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(self, title: str, fields: Sequence[Field], validate: Validator, *, submit_label: str = "Next") -> None:
        super().__init__()
        self._title = title
        self._fields = list(fields)
        self._validate = validate
        self._submit_label = submit_label

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="modal-body"):
            yield Label(Text(self._title, style="bold"))
            for f in self._fields:
                yield Label(f.label + (f"  ({f.help})" if f.help else ""))
                yield Input(value=f.value, id=f"field-{f.name}", password=f.secret, compact=True)
                yield Static("", id=f"error-{f.name}", classes="form-error")
            yield Static("", id="error-_form", classes="form-error")
            yield Button(self._submit_label, id="form-submit", variant="primary")

    def on_mount(self) -> None:
        if self._fields:
            self.query_one(f"#field-{self._fields[0].name}", Input).focus()

    def values(self) -> dict[str, str]:
        return {f.name: self.query_one(f"#field-{f.name}", Input).value.strip() for f in self._fields}

    def show_errors(self, errors: dict[str, str]) -> None:
        known = {f.name for f in self._fields}
        for f in self._fields:
            self.query_one(f"#error-{f.name}", Static).update(errors.get(f.name, ""))
        extra = [f"{k}: {v}" for k, v in errors.items() if k not in known]
        self.query_one("#error-_form", Static).update("; ".join(extra))

    def _submit(self) -> None:
        values = self.values()
        errors = self._validate(values)
        self.show_errors(errors)
        if errors:
            first = next((f.name for f in self._fields if f.name in errors), None)
            if first:
                field = self.query_one(f"#field-{first}", Input)
                field.focus()
                field.select_all()  # typing replaces the bad value instead of appending to it
            return
        self.dismiss(values)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        index = inputs.index(event.input) if event.input in inputs else -1
        if 0 <= index < len(inputs) - 1:
            inputs[index + 1].focus()
        else:
            self._submit()

    def action_cancel(self) -> None:
        self.dismiss(None)
