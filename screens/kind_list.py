"""The generic list screen: any resource kind rendered from its declaration (services/kinds).

Columns come from the kind's columns that carry a screen priority (0 always shows; higher numbers give way
first on a narrow terminal, Describe still shows them), rows from the kind's loader, Describe from its
columns and describe fields, and the keys its actions declare are hidden and refused by the declared rules.
A kind with a custom screen subclasses this one (or ResourceScreen) and adds its own keys; its columns are
still the kind's (``COLUMNS = table_columns(kind)``, the cells from ``kind_cells`` with the screen's own
formatters for the columns it draws itself).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from screens.base import ResourceScreen
from screens.widgets.table import Cell, Column
from screens.widgets.table_cells import AUTO_MAX
from services.kind import Column as KindColumn
from services.kind import Kind, text_of

if TYPE_CHECKING:
    from services.kind import Action, Target
    from services.models import Workspace
    from services.mutations import Target as MutationTarget
    from services.params import Params
    from services.session import Session

A = TypeVar("A", bound=Callable[..., Any])


def kind_action(fn: A) -> A:
    """An action key of a kind's screen that runs the kind's declared action of the same id (``action_scale`` →
    the ``scale`` action). Before anything opens (a form, a plan) it is refused, with the reason, by what the
    declaration says: the guard for its operation (read-only: refused and audited) and, for an action on a row,
    the row's state by the declared rule."""
    action_id = fn.__name__.removeprefix("action_")

    @functools.wraps(fn)
    def wrapper(self: KindScreen, *args: Any, **kwargs: Any) -> Any:
        declared = self.declared(action_id)
        if self.refuse(action_id, declared.operation, on_row=declared.on_row):
            return None
        return fn(self, *args, **kwargs)

    wrapper.kind_action = action_id  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def table_column(c: KindColumn, first: bool = False) -> Column:
    """One screen column of a kind as a table column: its layout's hints when it declares them, otherwise the
    generic list's sizing (the first column takes the width left over, the others grow up to ``width`` or 24)."""
    numeric = c.numeric or c.json.get("type") in ("integer", "number")
    drop = c.priority or 0
    hints = c.layout
    if hints is not None:
        return Column(
            c.id,
            c.label,
            width=hints.width,
            min_width=hints.min_width,
            align=hints.align,
            numeric=numeric,
            flex=hints.flex,
            drop=drop,
            max_width=AUTO_MAX if hints.max_width is None else hints.max_width,
        )
    if first:
        return Column(c.id, c.label, flex=True, min_width=12)
    return Column(c.id, c.label, max_width=c.width or 24, numeric=numeric, drop=drop)


def table_columns(kind: Kind) -> tuple[Column, ...]:
    """The kind's screen columns as table columns, in the kind's screen order: a custom list screen's
    ``COLUMNS`` too, so that its columns are declared once, in the kind."""
    return tuple(table_column(c, i == 0) for i, c in enumerate(kind.screen_columns))


def cell(value: Any) -> Cell:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return text_of(value)
    return value


CellFormat = Callable[[Any], Cell]


def kind_cells(kind: Kind, model: Any, formats: Mapping[str, CellFormat] | None = None) -> tuple[Cell, ...]:
    """A row's cells under ``table_columns(kind)``: each column's value from the model as the kind declares
    it, or, for the columns a screen formats itself (colours, durations, a tree's branches), the screen's
    formatter keyed by column id."""
    formats = formats or {}
    return tuple(formats[c.id](model) if c.id in formats else cell(c.value(model)) for c in kind.screen_columns)


class KindScreen(ResourceScreen[Any]):
    """One kind's list. Build the screen of a kind with ``kind_screen(kind, argument)``."""

    KIND: ClassVar[Kind | None] = None
    STATE_COLUMN = "provisioning_state"

    @property
    def kind(self) -> Kind:
        assert self.KIND is not None, "a KindScreen is made for a kind (kind_screen_class)"
        return self.KIND

    @property
    def kind_name(self) -> str:
        return self.kind.name

    def scope_title(self, ws: Workspace) -> str:
        """A kind read per subscription or per region says so: its rows are not the workspace's alone."""
        if self.kind.scope == "subscription":
            return f"the subscription of {ws.name}"
        if self.kind.scope == "region":
            return f"{ws.location}, the region of {ws.name}"
        return super().scope_title(ws)

    def target(self, workspace: Workspace | None) -> Target:
        from services.kind import Target

        scope = self.kind.scope
        if workspace is None or scope == "estate":
            return Target()
        if scope == "subscription":
            return Target(None, workspace.subscription_id)
        if scope == "region":
            return Target(None, workspace.subscription_id, workspace.location)
        return Target(workspace)

    def fetch(self, session: Session, workspace: Workspace | None) -> Mapping[str, Any]:
        k = self.kind
        return {k.model_id(m).lower(): m for m in k.list(session, self.target(workspace))}

    def cells(self, model: Any) -> Sequence[Cell]:
        return kind_cells(self.kind, model)

    def describe_fields(self, model: Any) -> list[tuple[str, str]]:
        return self.kind.describe_fields(model)

    def model_id(self, model: Any) -> str:
        return self.kind.model_id(model)

    def model_name(self, model: Any) -> str:
        return self.kind.model_name(model)

    def unavailable(self, action: str, model: Any) -> str:
        return self.kind.unavailable(action, model)

    # -- the kind's declared actions --

    @classmethod
    def mutations(cls) -> dict[str, str]:
        """Every action key leading to a mutation: the kind's declared actions (``@kind_action``), with the
        operation the declaration names."""
        out = super().mutations()
        if cls.KIND is not None:
            for klass in reversed(cls.__mro__):
                for member in vars(klass).values():
                    action_id = getattr(member, "kind_action", None)
                    declared = cls.KIND.action(action_id) if isinstance(action_id, str) else None
                    if declared is not None and declared.operation:
                        out[declared.id] = declared.operation
        return out

    def declared(self, action_id: str) -> Action:
        declared = self.kind.action(action_id)
        assert declared is not None, f"{self.kind.name} declares no action {action_id}"
        return declared

    def perform(
        self,
        action_id: str,
        target: MutationTarget,
        params: Params,
        runner: Callable[[], object],
        *,
        key: str | None,
        doing: str,
        done: str,
        details: Sequence[str] = (),
    ) -> None:
        """Run the kind's declared action: its plan (the ``az`` equivalent from its parameter model; the typed
        confirmation a production profile or a destructive operation needs), then ``runner`` in a worker."""
        declared = self.declared(action_id)
        assert declared.params is None or isinstance(params, declared.params), (action_id, type(params))
        self.act(declared.operation, target, params.kwargs(), runner, key=key, doing=doing, done=done, details=details)


_CLASSES: dict[str, type[KindScreen]] = {}


def kind_screen_class(kind: Kind) -> type[KindScreen]:
    """The list screen class of a kind (one per kind, so the app can find it in its history)."""
    if kind.name in _CLASSES:
        return _CLASSES[kind.name]
    attrs = {
        "KIND": kind,
        "TITLE": kind.title,
        "COLUMNS": table_columns(kind),
        "WORKSPACE_SCOPED": kind.scope != "estate",
    }
    cls = type(f"{kind.name.title().replace('_', '')}KindScreen", (KindScreen,), attrs)
    _CLASSES[kind.name] = cls
    return cls


def kind_screen(kind: Kind, argument: str = "") -> KindScreen:
    return kind_screen_class(kind)(argument)
