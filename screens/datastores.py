"""Datastores: the storage a workspace has registered (the default marked "*"), and one level at a time of
what is in it.

Registering takes the secret in a password field; the value goes into the session's in-memory SecretSource
(`app.secrets`) and the operation, its plan and its audit line see only the reference.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Static

from screens.base import ResourceScreen
from screens.forms import form_fields, read
from screens.host import ConsoleHost, host
from screens.kind_list import CellFormat, KindScreen, kind_action, kind_cells, table_columns
from screens.modals import Field, FormScreen
from screens.widgets.line import Line
from screens.widgets.table import Cell, Column
from services.kinds import datastores as kinds
from services.kinds import kind
from services.models import Workspace
from services.models.datastores import Datastore, StorageEntry, StorageListing
from services.secrets import MemorySecrets
from services.times import iso

if TYPE_CHECKING:
    from services.mutations import Target
    from services.session import Session


def human_size(value: object) -> str:
    """Bytes in binary units, as storage tools show them ("1.5 KiB"); anything else as is."""
    if not isinstance(value, int):
        return str(value)
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"  # pragma: no cover - the loop always returns


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _target(ws: Workspace, name: str = "") -> Target:
    from services.mutations import Target

    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


def _secrets_of(app: ConsoleHost) -> MemorySecrets:
    """The session's secret store, in memory: a secret typed in a form lives as long as the console."""
    if app.secrets is None:
        app.secrets = MemorySecrets()
    return app.secrets


DATASTORES = kind("datastores")


class DatastoresScreen(KindScreen):
    """The datastores kind's list (rows from its loader, the same the snapshot reads; keys by the rules its actions
    declare), with its own columns, cells and describe."""

    KIND = DATASTORES
    TITLE = "Datastores"
    STATE_COLUMN = ""
    COLUMNS: ClassVar[Sequence[Column]] = table_columns(DATASTORES)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "browse", "Browse", id="datastores.browse"),
        Binding("n", "register", "Register", id="datastores.register"),
        Binding("asterisk", "set_default", "Set default", id="datastores.set_default"),
        Binding("D", "unregister", "Unregister", id="datastores.unregister"),
    ]

    def __init__(self, argument: str = "") -> None:
        super().__init__(argument)
        # the cells this screen draws itself; the other columns show the kind's values
        self._formats: dict[str, CellFormat] = {"name": self._name_cell, "auth": lambda d: d.auth_label}

    def _name_cell(self, d: Datastore) -> Cell:
        """The name, the default marked "*", and the action under way on it."""
        name = Text(d.name)
        if d.is_default:
            name.append(" *", style="bold")
        if d.key in self.pending:
            name.append(f" {self.pending[d.key]}…", style="bold yellow")
        return name

    def cells(self, d: Datastore) -> Sequence[Cell]:
        return kind_cells(DATASTORES, d, self._formats)

    def describe_fields(self, d: Datastore) -> list[tuple[str, str]]:
        fields = [
            ("Name", d.name),
            ("Id", d.id),
            ("Default", "yes (*)" if d.is_default else "no"),
            ("Type", f"{d.datastore_type} ({d.kind})"),
            ("Account", d.account_name),
            (d.container_label.capitalize(), d.container),
            ("Endpoint", d.endpoint),
            ("Protocol", d.protocol),
            ("Storage URL", d.storage_url),
            ("URI", d.uri),
            ("Auth", d.auth_label),
            # The model holds no secret; say where it is instead.
            ("Secret", "kept by Azure ML, never shown here" if d.has_secret else "none (identity-based)"),
        ]
        if d.tenant_id:
            fields.append(("Tenant id", d.tenant_id))
        if d.client_id:
            fields.append(("Client id", d.client_id))
        if d.authority_url:
            fields.append(("Authority URL", d.authority_url))
        if d.resource_url:
            fields.append(("Resource URL", d.resource_url))
        if d.identity_access:
            fields.append(("Identity for data access", d.identity_access))
        if d.storage_subscription_id:
            fields.append(("Storage subscription", d.storage_subscription_id))
        if d.storage_resource_group:
            fields.append(("Storage resource group", d.storage_resource_group))
        fields += [
            ("System datastore", "yes" if d.is_system else "no"),
            ("Description", d.description),
            ("Tags", ", ".join(f"{k}={v}" for k, v in d.tags)),
            ("Created", f"{iso(d.created_on)} by {d.created_by}" if d.created_by else iso(d.created_on)),
            ("Modified", iso(d.modified_on)),
        ]
        return fields

    def _summary(self) -> str:
        text = super()._summary()
        default = next((d.name for d in self.models.values() if d.is_default), "")
        return f"{text} · default {default} (*)" if default else text

    # -- browse ---------------------------------------------------------------------------------

    def open(self, key: str) -> None:
        self.action_browse()

    def action_browse(self) -> None:
        d = self.current()
        if d is None:
            return
        if not d.browsable:
            self.notify(f"{d.name}: browsing a {d.datastore_type} datastore is not supported.", severity="warning")
            return
        self.app.push_screen(BrowseScreen(d))

    # -- actions --------------------------------------------------------------------------------

    @kind_action
    def action_set_default(self) -> None:
        d = self.current()
        ws = self.workspace
        if d is None or ws is None or self.session is None:
            return
        from services import datastores

        session = self.session
        target = _target(ws, d.name)
        previous = next((m.name for m in self.models.values() if m.is_default), "")
        self.perform(
            "set_default",
            target,
            kinds.SetDefault(),
            lambda: datastores.set_default(session, target),
            key=d.key,
            doing="setting default",
            done=f"{d.name} is now the default datastore",
            details=(f"Current default: {previous or 'none'}",),
        )

    @kind_action
    def action_unregister(self) -> None:
        d = self.current()
        ws = self.workspace
        if d is None or ws is None or self.session is None:
            return
        from services import datastores

        session = self.session
        target = _target(ws, d.name)
        self.perform(
            "unregister",
            target,
            kinds.Unregister(),
            lambda: datastores.unregister(session, target),
            key=d.key,
            doing="unregistering",
            done=f"{d.name}: unregistered",
            details=(
                f"{d.kind} {d.storage_url}",
                "Only the registration is removed: the data in storage is untouched.",
            ),
        )

    @kind_action
    def action_register(self) -> None:
        """One form for every datastore type: the type picks the parameter model; the secret is typed into a
        password input and kept in the session's memory, the model holding only its reference."""
        ws = self.workspace
        if ws is None or self.session is None:
            return
        session = self.session
        secrets = _secrets_of(host(self))
        models = tuple(kinds.REGISTER.values())
        inputs = form_fields(*models, labels={"container": kinds.CONTAINER_LABEL})
        ids = [f.name for f in inputs]

        def read_form(values: Mapping[str, str]) -> tuple[kinds.RegisterDatastore, dict[str, str]]:
            model = kinds.REGISTER[values.get("kind", "") or "blob"]
            context: dict[str, Any] = {}
            if values.get("secret"):  # only the reference travels; the value is stored under it when it runs
                auth = values.get("auth", "") or model.spec("auth").default
                context = {"credential_ref": f"session:{ws.name}/{values.get('name', '')}/{auth}", "secrets": secrets}
            return read(model, values, context, others=ids)

        def validate(values: dict[str, str]) -> dict[str, str]:
            if (values.get("kind", "") or "blob") not in kinds.REGISTER:
                return {"kind": f"must be one of {', '.join(kinds.REGISTER)}"}
            return read_form(values)[1]

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            p, _ = read_form(values)
            self._register(p, values.get("secret", ""), secrets, session, ws)

        fields = [Field("kind", "Type", "blob", kinds.REGISTER_HELP), *inputs]
        at = next(i for i, f in enumerate(fields) if f.name == "auth") + 1
        secret_help = "account key, SAS or client secret; in memory only"
        fields.insert(at, Field("secret", "Secret", "", secret_help, secret=True))
        self.app.push_screen(
            FormScreen(f"Register datastore in {ws.name}", fields, validate, submit_label="Next"), callback=submitted
        )

    def _register(
        self, p: kinds.RegisterDatastore, secret: str, secrets: MemorySecrets, session: Session, ws: Workspace
    ) -> None:
        from services.mutations import FUNCTIONS, registry

        # the operation of the type chosen: the one registered with its parameter model
        operation = next(op.name for op in registry().values() if op.params is type(p))
        fn = FUNCTIONS[operation]
        target = _target(ws, p.name)
        kwargs = p.kwargs()

        def run() -> object:
            if secret:
                secrets.set_secret(p.credential_ref, secret)
            return fn(session, target, **kwargs)

        details = [f"{p.KIND} {p.account_name}/{p.container}, {p.auth} auth"]
        if secret:
            details.append(f"The secret is held in memory for this session as {p.credential_ref}.")
        self.act(
            operation,
            target,
            kwargs,
            run,
            key=None,
            doing="registering",
            done=f"{p.name}: registered",
            details=details,
        )


class BrowseScreen(ResourceScreen[StorageEntry]):
    """One level of a datastore: directories first ("name/"), then files with size and modified time.
    enter descends, backspace goes up, esc goes up or (at the root) back to the datastores."""

    TITLE = "Browse"
    STATE_COLUMN = ""
    LIMIT: ClassVar[int] = 1000
    COLUMNS: ClassVar[Sequence[Column]] = (
        Column("name", "Name", flex=True, min_width=16),
        Column("size", "Size", numeric=True, max_width=10, format=human_size),
        Column("modified", "Modified (UTC)", max_width=19),
        Column("content_type", "Content type", max_width=20),
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "descend", "Open dir", id="browse.descend"),
        Binding("backspace", "up", "Up", id="browse.up"),
        Binding("escape", "back", "Up/back", id="browse.back"),
    ]

    def __init__(self, datastore: Datastore, prefix: str = "") -> None:
        super().__init__(datastore.name)
        self.datastore = datastore
        self.prefix = prefix
        self._listings: dict[str, StorageListing] = {}  # by prefix; written by the load worker

    @property
    def listing(self) -> StorageListing | None:
        return self._listings.get(self.prefix)

    def _interval(self) -> float:
        return 0.0  # storage is listed on demand (r), not polled: a failing listing must not nag every 30 s

    def _update_title(self) -> None:
        d = self.datastore
        title = f"Browse {d.name}:/{self.prefix}  ({d.container_label} {d.container})"
        self.query_one("#screen-title", Static).update(Text(title))

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, StorageEntry]:
        from services import datastores

        prefix = self.prefix
        listing = datastores.browse(session, self.datastore, prefix, limit=self.LIMIT)
        self._listings[prefix] = listing
        return {e.path: e for e in listing.entries}

    def cells(self, e: StorageEntry) -> Sequence[Cell]:
        if e.is_dir:
            return (Text(e.name + "/", style="bold"), "", _when(e.modified), "")
        return (e.name, e.size, _when(e.modified), e.content_type)

    def model_id(self, e: StorageEntry) -> str:
        return self.datastore.uri + e.path  # what a job's input takes

    def model_name(self, e: StorageEntry) -> str:
        return e.path

    def describe_fields(self, e: StorageEntry) -> list[tuple[str, str]]:
        fields = [
            ("Name", e.name + ("/" if e.is_dir else "")),
            ("Path", e.path),
            ("Kind", "directory" if e.is_dir else "file"),
            ("Datastore", self.datastore.name),
            ("URI", self.model_id(e)),
        ]
        if not e.is_dir:
            fields += [("Size", f"{human_size(e.size)} ({e.size:,} bytes)"), ("Content type", e.content_type)]
        fields.append(("Modified (UTC)", _when(e.modified)))
        return fields

    def _summary(self) -> str:
        listing = self.listing
        if listing is None:
            return ""
        dirs, files = len(listing.directories), len(listing.files)
        text = f"{dirs} director{'y' if dirs == 1 else 'ies'}, {files} file{'' if files == 1 else 's'}"
        if files:
            text += f" ({human_size(listing.total_size)})"
        if not listing.entries:
            text = "empty"
        if self.table.filter_text:
            text += f" · showing {self.table.visible_count} · filter {self.table.filter_text!r}"
        if listing.truncated:
            text += f" · TRUNCATED: only the first {len(listing.entries)} entries are listed"
        return text

    def on_mount(self) -> None:
        super().on_mount()
        # Storage errors carry the host and the cause; let them wrap rather than cut at 80 columns.
        status = self.query_one("#status", Line)
        status.styles.height = "auto"
        status.styles.max_height = 4

    def _failed(self, message: str) -> None:
        self.busy = False
        self.error = message
        self.stale = False
        self.models = {}
        self.table.set_rows({})
        self.loaded_at = time.monotonic()
        where = f"{self.datastore.name}:/{self.prefix}"
        self._status(f"error: cannot list {where} ({message}) · r retries, esc goes back")
        self.notify(message, title=f"Browse {where}", severity="error", timeout=10)

    def _apply(self, models: dict[str, StorageEntry]) -> None:
        came_from = self._came_from
        super()._apply(models)
        if came_from and came_from in models:
            self.table.move_cursor(came_from)
        self._came_from = ""

    _came_from = ""

    def _go(self, prefix: str, came_from: str = "") -> None:
        self.prefix = prefix
        self._came_from = came_from
        self.models = {}
        self.pending.clear()
        self.error = ""
        self.table.set_rows({})
        self._update_title()
        self.action_refresh()

    def open(self, key: str) -> None:
        self.action_descend()

    def action_descend(self) -> None:
        e = self.current()
        if e is None:
            return
        if not e.is_dir:
            self.action_describe()
            return
        self._go(e.path)

    def action_up(self) -> bool:
        if not self.prefix:
            return False
        parts = self.prefix.rstrip("/").split("/")
        self._go("/".join(parts[:-1]) + "/" if len(parts) > 1 else "", came_from=self.prefix)
        return True

    def action_back(self) -> None:
        if not self.action_up():
            self.app.pop_screen()
