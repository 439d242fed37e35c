"""Datastores of a workspace: where its data lives and how it authenticates (never the secret)."""

from __future__ import annotations

from typing import Any

from ..kind import BOOL, MAP, STR, TIME, Action, Column, Kind, Loaded, LoadOptions, Target, described, iso_utc, pairs
from ..models import Datastore


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import datastores

    assert target.workspace is not None
    return Loaded({"datastores": list(datastores.list_datastores(session, target.workspace))})


def _not_default(d: Datastore) -> str:
    return f"{d.name} is already the default datastore." if d.is_default else ""


def _unregisterable(d: Datastore) -> str:
    if d.is_default:  # Azure ML refuses to unregister the default; say so before a round trip that can only fail
        return (
            f"{d.name} is the workspace's default datastore: Azure ML does not unregister the default. "
            "Make another datastore the default first (*)."
        )
    return ""


def _d(f: str) -> Any:
    return lambda d: getattr(d, f)


KINDS = (
    Kind(
        name="datastores",
        title="Datastores",
        model=Datastore,
        order=30,
        loader=load,
        service="services.datastores",
        schema_def="datastore",
        help="Datastores of the workspace",
        aliases=("datastore", "ds"),
        screen="screens.datastores:DatastoresScreen",
        sort_key=lambda r: (r["workspace"].lower(), r["name"].lower()),
        columns=(
            Column("workspace", "Workspace", _d("workspace"), md=True),
            Column("name", "Name", _d("name"), md=True),
            Column("id", "Id", _d("id")),
            Column("kind", "Kind", _d("kind"), md=True),
            Column("datastore_type", "Datastore type", _d("datastore_type")),
            Column("account_name", "Account", _d("account_name"), md=True),
            Column("container", "Container", _d("container"), md=True),
            Column("storage_url", "Storage URL", _d("storage_url")),
            Column(
                "auth", "Auth", _d("auth"), described(STR, "how it authenticates; never the secret itself"), md=True
            ),
            Column("identity_access", "Identity access", _d("identity_access")),
            Column("is_default", "Default", _d("is_default"), BOOL, md=True),
            Column("is_system", "System", _d("is_system"), BOOL),
            Column("tenant_id", "Tenant id", _d("tenant_id")),
            Column("client_id", "Client id", _d("client_id")),
            Column("description", "Description", _d("description")),
            Column("tags", "Tags", lambda d: pairs(d.tags), MAP),
            Column("created_on", "Created", lambda d: iso_utc(d.created_on), TIME),
            Column("modified_on", "Modified", lambda d: iso_utc(d.modified_on), TIME),
        ),
        actions=(
            Action("set_default", "datastore.set_default", "asterisk", _not_default),
            Action("unregister", "datastore.unregister", "D", _unregisterable),
            Action("register", "datastore.register_blob", "n", on_row=False),
        ),
    ),
)
