"""Workspaces across the visible subscriptions (the estate's root kind)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..kind import MAP, Column, Kind, last_segment, pairs

if TYPE_CHECKING:  # the first frame draws this kind's columns; its loader's types load with its rows
    from ..kind import Loaded, LoadOptions, Target
    from ..models import Subscription, Workspace


@dataclass(frozen=True)
class WorkspaceEntry:
    """A workspace joined with its subscription (for the subscription's name)."""

    workspace: Workspace
    subscription: Subscription | None = None

    @property
    def id(self) -> str:
        return self.workspace.id

    @property
    def name(self) -> str:
        return self.workspace.name


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import workspaces as svc
    from ..kind import Loaded

    subs = svc.list_subscriptions(session)
    by_id = {s.id.lower(): s for s in subs}
    items = svc.list_workspaces(session, [s.id for s in subs]) if subs else []
    return Loaded({"workspaces": [WorkspaceEntry(w, by_id.get(w.subscription_id.lower())) for w in items]})


def _w(f: str) -> Any:
    return lambda e: getattr(e.workspace, f)


KINDS = (
    Kind(
        name="workspaces",
        title="Workspaces",
        model=WorkspaceEntry,
        order=10,
        scope="estate",
        loader=load,
        service="services.workspaces",
        schema_def="workspace",
        help="Workspaces across subscriptions; `:ws NAME` chooses one",
        aliases=("ws", "workspace", "w"),
        argument="NAME",
        screen="screens.workspaces:WorkspacesScreen",
        sort_key=lambda r: (r["name"].lower(), r["id"].lower()),
        screen_order=("name", "location", "resource_group", "subscription", "public_network_access"),
        columns=(
            Column("name", "Name", _w("name"), priority=0, md=True),
            Column("id", "Id", _w("id")),
            Column("subscription_id", "Subscription id", _w("subscription_id")),
            Column(
                "subscription",
                "Subscription",
                lambda e: e.subscription.name if e.subscription else "",
                priority=0,
                width=24,
                md=True,
            ),
            Column("resource_group", "Resource group", _w("resource_group"), priority=0, width=22, md=True),
            Column("location", "Location", _w("location"), priority=0, width=16, md=True),
            Column("sku", "SKU", _w("sku")),
            Column("public_network_access", "Public net", _w("public_network_access"), priority=0, width=10, md=True),
            Column("storage_account", "Storage account", lambda e: last_segment(e.workspace.storage_account)),
            Column("key_vault", "Key vault", lambda e: last_segment(e.workspace.key_vault)),
            Column("container_registry", "Container registry", lambda e: last_segment(e.workspace.container_registry)),
            Column(
                "application_insights", "Application Insights", lambda e: last_segment(e.workspace.application_insights)
            ),
            Column("description", "Description", _w("description")),
            Column("tags", "Tags", lambda e: pairs(e.workspace.tags), MAP),
        ),
    ),
)
