"""A resource kind, declared once: its loader, model, columns, describe fields, relations and actions.

Everything that shows or exports a kind reads its declaration (see services/kinds/): the console's `:`
commands, aliases and palette, the generic list screen, the snapshot's tables (json, md, csv), the JSON
schema of the snapshot, and `azml check`. Nothing here imports Textual or an Azure SDK: a loader imports
its service module when it runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .errors import ServiceError
from .models import Workspace

if TYPE_CHECKING:
    from .params import Params

# -- JSON types of columns (the snapshot schema is generated from these) ----------------------------

TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time", "pattern": TIME_PATTERN}
MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
PERCENT: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 100}
PERCENT_MAP: dict[str, Any] = {"type": "object", "additionalProperties": PERCENT}
STR_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


def enum(*values: str) -> dict[str, Any]:
    return {"enum": list(values)}


def described(schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    return {**schema, "description": description}


def iso_utc(value: str | dt.datetime | None) -> str | None:
    """Any ISO-8601 time (Z, offset, extra fractional digits) → "YYYY-MM-DDTHH:MM:SSZ"; None when absent."""
    import re

    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        t = value
    else:
        text = str(value).strip()
        m = re.match(r"^(.*?T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", text)
        if m:  # Python < 3.11 parsers choke on 7 fractional digits; seconds are enough here
            text = m.group(1) + (m.group(3) or "")
        try:
            t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pairs(items: Any) -> dict[str, Any]:
    """Tags (pairs) or a mapping → a dict sorted by key."""
    seq = items.items() if isinstance(items, Mapping) else items
    return {str(k): v for k, v in sorted(seq)}


def last_segment(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1] if resource_id else ""


def text_of(value: Any) -> str:
    """A value as one line of text: maps k=v, lists comma-separated, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={text_of(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(text_of(v) for v in value)
    return str(value)


# -- the declaration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One field of a kind's rows: the same value in the table, Markdown, CSV and JSON.

    ``priority``: 0 always shows on screen; higher numbers give way first on a narrow terminal (Describe
    still shows them); None keeps the field out of the screen (exports only). ``md``: shown in Markdown.
    """

    id: str
    title: str
    value: Callable[[Any], Any]
    json: Mapping[str, Any] = field(default_factory=lambda: STR)
    priority: int | None = None
    md: bool = False
    width: int | None = None  # on screen: the widest it grows (the first screen column takes what is left)
    md_format: Callable[[Any], str] | None = None  # its Markdown cell from the row's value (None: plain text)
    numeric: bool = False


@dataclass(frozen=True)
class Action:
    """A key of the kind's screen bound to a registered mutation (services/mutations.py ``@operation``):
    the operation validates its parameters, writes the audit line and knows its ``az`` equivalent.
    ``unavailable(model)`` says why it does not apply to a row as it is ("" when it does): the screens hide
    the key on that row and refuse it, and never send what Azure would refuse as a conflict. ``params``: the
    typed parameter model of the operation (services/params.py), the same the operation registers: its rules
    refuse bad input on the form and at the choke point, and it renders the ``az`` equivalent."""

    id: str
    operation: str
    key: str
    unavailable: Callable[[Any], str] = field(default=lambda _m: "")
    on_row: bool = True
    params: type[Params] | None = None


@dataclass(frozen=True)
class Relation:
    kind: str  # the kind it links to
    via: str  # the column holding the link
    label: str = ""


Scope = Literal["estate", "workspace", "region", "subscription"]


@dataclass(frozen=True)
class Target:
    """What one loader call reads: one workspace, one (subscription, region) or one subscription."""

    workspace: Workspace | None = None
    subscription_id: str = ""
    location: str = ""

    @property
    def id(self) -> str:
        if self.workspace is not None:
            return self.workspace.id
        if self.location:
            return f"/subscriptions/{self.subscription_id}/locations/{self.location}"
        return f"/subscriptions/{self.subscription_id}"

    @property
    def workspace_name(self) -> str | None:
        return self.workspace.name if self.workspace is not None else None


@dataclass(frozen=True)
class LoadOptions:
    job_limit: int = 100
    now: dt.datetime | None = None


@dataclass(frozen=True)
class TargetError:
    """A part of a target that failed while the rest was read (one endpoint of a workspace, one source)."""

    kind: str
    workspace: str | None
    target: str
    error: ServiceError


@dataclass
class Loaded:
    """What one loader call read: models per kind (a loader may fill its children's kinds too: joins) and
    the failures of parts of its target."""

    rows: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[TargetError] = field(default_factory=list)


Loader = Callable[[Any, Target, LoadOptions], Loaded]


@dataclass(frozen=True)
class Kind:
    name: str  # the snapshot table and the `:` command
    title: str
    model: type
    columns: tuple[Column, ...]
    order: int  # place among the kinds: commands, screens, snapshot tables
    sort_key: Callable[[Mapping[str, Any]], Any]
    loader: Loader | None = None  # None: filled by the loader of ``loaded_by``
    scope: Scope = "workspace"
    loaded_by: str = ""
    area: str = ""  # the snapshot area it belongs to ("" → its own name)
    default_area: bool = True  # in `azml snapshot`'s default set of areas
    schema_def: str = ""  # its row's name in the schema's $defs ("" → the name)
    description: str = ""  # of its row, in the schema
    help: str = ""  # on the palette and in `?`
    command: str | None = ""  # the `:` command ("" → the name; None → none)
    aliases: tuple[str, ...] = ()
    argument: str = ""  # what the command's optional argument means
    screen: str = ""  # "module:Class" of a custom screen; "" → the generic list screen
    service: str = ""  # the services module of its loader and its mutations
    parent: str = ""
    relations: tuple[Relation, ...] = ()
    describe: tuple[tuple[str, Callable[[Any], Any]], ...] = ()  # extra fields beyond the columns
    markdown: tuple[str, ...] = ()  # the Markdown columns in another order than the columns' ``md`` flags
    screen_order: tuple[str, ...] = ()  # the screen columns in another order than the columns'
    actions: tuple[Action, ...] = ()
    model_id: Callable[[Any], str] = field(default=lambda m: str(getattr(m, "id", "")))
    model_name: Callable[[Any], str] = field(default=lambda m: str(getattr(m, "name", "")))

    @property
    def area_name(self) -> str:
        return self.area or self.name

    @property
    def command_name(self) -> str | None:
        return self.name if self.command == "" else self.command

    @property
    def def_name(self) -> str:
        return self.schema_def or self.name

    @property
    def column_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.columns)

    @property
    def md_columns(self) -> tuple[str, ...]:
        return self.markdown or tuple(c.id for c in self.columns if c.md)

    @property
    def screen_columns(self) -> tuple[Column, ...]:
        shown = {c.id: c for c in self.columns if c.priority is not None}
        return tuple(shown[i] for i in self.screen_order) if self.screen_order else tuple(shown.values())

    def row(self, model: Any) -> dict[str, Any]:
        """The model as one row: every column, in order (the JSON object, the CSV line)."""
        return {c.id: c.value(model) for c in self.columns}

    def describe_fields(self, model: Any) -> list[tuple[str, str]]:
        fields = [(c.title, text_of(c.value(model))) for c in self.columns]
        fields += [(title, text_of(value(model))) for title, value in self.describe]
        return fields

    def action(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def unavailable(self, action_id: str, model: Any) -> str:
        """Why the action does not apply to this row, by the declared rule; "" when it does."""
        action = self.action(action_id)
        return action.unavailable(model) if action is not None else ""

    def load(self, session: Any, target: Target, options: LoadOptions | None = None) -> Loaded:
        if self.loader is None:
            raise ValueError(f"{self.name} is loaded by {self.loaded_by}")
        return self.loader(session, target, options or LoadOptions())

    def list(self, session: Any, target: Target, options: LoadOptions | None = None) -> list[Any]:
        """Only this kind's models of one target (what a screen shows); parts that failed raise."""
        owner = self if self.loader is not None else None
        if owner is None:
            raise ValueError(f"{self.name} is loaded by {self.loaded_by}")
        loaded = owner.load(session, target, options)
        return list(loaded.rows.get(self.name, []))


def check_columns(kinds: Sequence[Kind]) -> None:
    """Declarations are consistent: unique names and columns, known parents and relations."""
    names = {k.name for k in kinds}
    for k in kinds:
        ids = k.column_ids
        if len(set(ids)) != len(ids):
            raise ValueError(f"kind {k.name}: a column is declared twice")
        for rel in (*k.relations, *((Relation(k.parent, ""),) if k.parent else ())):
            if rel.kind not in names:
                raise ValueError(f"kind {k.name}: relation to unknown kind {rel.kind}")
        if k.loader is None and k.loaded_by not in names:
            raise ValueError(f"kind {k.name}: no loader and no kind loading it")
