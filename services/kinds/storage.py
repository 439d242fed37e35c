"""Storage accounts of the subscription (read-only): the accounts behind datastores and workspaces."""

from __future__ import annotations

from typing import Any

from ..kind import BOOL, MAP, TIME, Column, Kind, Loaded, LoadOptions, Target, iso_utc, pairs
from ..storage import StorageAccount


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import storage

    return Loaded({"storage": storage.list_storage_accounts(session, target.subscription_id)})


def _a(f: str) -> Any:
    return lambda a: getattr(a, f)


KINDS = (
    Kind(
        name="storage",
        title="Storage accounts",
        model=StorageAccount,
        order=70,
        scope="subscription",
        loader=load,
        default_area=False,  # `azml snapshot storage`: the default snapshot stays about the ML workspaces
        service="services.storage",
        schema_def="storage_account",
        description="one storage account of a subscription that holds a chosen workspace; never its keys",
        help="Storage accounts of the workspace's subscription",
        aliases=("storageaccounts", "sa", "st"),
        sort_key=lambda r: (r["subscription_id"], r["name"].lower()),
        columns=(
            Column("subscription_id", "Subscription", _a("subscription_id"), md=True),
            Column("name", "Name", _a("name"), priority=0, md=True),
            Column("id", "Id", _a("id")),
            Column("resource_group", "Resource group", _a("resource_group"), priority=2, md=True),
            Column("location", "Location", _a("location"), priority=1, md=True),
            Column("kind", "Kind", _a("kind"), priority=3, md=True),
            Column("sku", "SKU", _a("sku"), priority=1, md=True),
            Column("access_tier", "Tier", _a("access_tier"), priority=4),
            Column("hierarchical_namespace", "HNS", _a("hierarchical_namespace"), BOOL, priority=2, md=True),
            Column("https_only", "HTTPS only", _a("https_only"), BOOL),
            Column("minimum_tls", "Min TLS", _a("minimum_tls"), priority=5),
            Column("public_blob_access", "Public blobs", _a("public_blob_access"), BOOL),
            Column("network_default_action", "Network", _a("network_default_action"), priority=2, md=True),
            Column("provisioning_state", "State", _a("provisioning_state"), priority=1, md=True),
            Column("created_on", "Created", lambda a: iso_utc(a.created_on), TIME),
            Column("tags", "Tags", lambda a: pairs(a.tags), MAP),
        ),
        describe=(
            ("Secondary location", _a("secondary_location")),
            ("Blob endpoint", _a("blob_endpoint")),
            ("DFS endpoint", _a("dfs_endpoint")),
        ),
    ),
)
