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

if TYPE_CHECKING:
    from .kind_parts import Action as Action
    from .kind_parts import Loaded as Loaded
    from .kind_parts import Loader as Loader
    from .kind_parts import LoadOptions as LoadOptions
    from .kind_parts import Relation as Relation
    from .kind_parts import Target as Target
    from .kind_parts import TargetError as TargetError

# Declared in services/kind_parts.py and loaded on first use (the first frame draws a kind's columns, not its
# actions or loader types): ``from services.kind import Target`` works as if they were defined here.
_PARTS = frozenset({"Action", "Loaded", "Loader", "LoadOptions", "Relation", "Target", "TargetError"})


def __getattr__(name: str) -> Any:
    if name not in _PARTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import kind_parts

    value = getattr(kind_parts, name)
    globals()[name] = value
    return value


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

Scope = Literal["estate", "workspace", "region", "subscription"]


@dataclass(frozen=True)
class Layout:
    """How a column sits in a screen's table, as plain values (screens/kind_list.py makes the table column).

    A column with a layout takes exactly these hints: unset sizes fit the header and the first rows.
    """

    label: str = ""  # its header on screen when shorter than the title ("Inst" for "Instances")
    width: int | None = None  # a fixed width
    min_width: int | None = None
    max_width: int | None = None  # the widest it grows (None: the table's own limit)
    align: Literal["left", "right"] | None = None  # None: right for numbers, left otherwise
    flex: bool = False  # takes the width left over (one column of a screen)


@dataclass(frozen=True)
class Column:
    """One field of a kind's rows: the same value in the table, Markdown, CSV and JSON.

    ``priority``: 0 always shows on screen; higher numbers give way first on a narrow terminal (Describe
    still shows them); None keeps the field out of the screen (exports only). ``md``: shown in Markdown.
    ``snapshot``: False keeps it out of the snapshot (json, md, csv, schema): a screen-only column, such as
    a run's duration that a screen reads for the rows it shows.
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
    layout: Layout | None = None  # on screen: the table column's own hints instead of the generic list's sizing
    snapshot: bool = True

    @property
    def label(self) -> str:
        """Its header on screen."""
        return (self.layout.label if self.layout is not None else "") or self.title


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
    def snapshot_columns(self) -> tuple[Column, ...]:
        """The fields of its rows in the snapshot (screen-only columns left out)."""
        return tuple(c for c in self.columns if c.snapshot)

    @property
    def column_ids(self) -> tuple[str, ...]:
        """The keys of its rows in the snapshot, in order."""
        return tuple(c.id for c in self.snapshot_columns)

    @property
    def md_columns(self) -> tuple[str, ...]:
        return self.markdown or tuple(c.id for c in self.snapshot_columns if c.md)

    @property
    def screen_columns(self) -> tuple[Column, ...]:
        shown = {c.id: c for c in self.columns if c.priority is not None}
        return tuple(shown[i] for i in self.screen_order) if self.screen_order else tuple(shown.values())

    def row(self, model: Any) -> dict[str, Any]:
        """The model as one row: every snapshot column, in order (the JSON object, the CSV line)."""
        return {c.id: c.value(model) for c in self.snapshot_columns}

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
        if options is None:
            from .kind_parts import LoadOptions

            options = LoadOptions()
        return self.loader(session, target, options)

    def list(self, session: Any, target: Target, options: LoadOptions | None = None) -> list[Any]:
        """Only this kind's models of one target (what a screen shows); parts that failed raise."""
        owner = self if self.loader is not None else None
        if owner is None:
            raise ValueError(f"{self.name} is loaded by {self.loaded_by}")
        loaded = owner.load(session, target, options)
        return list(loaded.rows.get(self.name, []))


def check_columns(kinds: Sequence[Kind]) -> None:
    """Declarations are consistent: unique names and columns, known parents and relations."""
    from .kind_parts import Relation

    names = {k.name for k in kinds}
    for k in kinds:
        ids = tuple(c.id for c in k.columns)
        if len(set(ids)) != len(ids):
            raise ValueError(f"kind {k.name}: a column is declared twice")
        for c in k.columns:
            if not c.snapshot and (c.priority is None or c.md):
                raise ValueError(f"kind {k.name}: screen-only column {c.id} needs a priority and no Markdown")
        unknown = set(k.screen_order) - {c.id for c in k.columns if c.priority is not None}
        if unknown:
            raise ValueError(f"kind {k.name}: screen_order names no screen column: {', '.join(sorted(unknown))}")
        if sum(1 for c in k.screen_columns if c.layout is not None and c.layout.flex) > 1:
            raise ValueError(f"kind {k.name}: more than one screen column takes the width left over")
        for rel in (*k.relations, *((Relation(k.parent, ""),) if k.parent else ())):
            if rel.kind not in names:
                raise ValueError(f"kind {k.name}: relation to unknown kind {rel.kind}")
        if k.loader is None and k.loaded_by not in names:
            raise ValueError(f"kind {k.name}: no loader and no kind loading it")
