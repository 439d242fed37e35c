"""Subscriptions and workspaces through the service layer."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from emulator import Emulator
from services import workspaces
from services.errors import ErrorKind, classify


def test_subscriptions_are_named(session: Any, emulator: Emulator) -> None:
    subs = workspaces.list_subscriptions(session)
    assert {s.id for s in subs} == set(emulator.subscription_ids)
    assert all(s.name and s.state == "Enabled" and s.tenant_id == emulator.tenant_id for s in subs)


def test_workspaces_across_subscriptions_with_linked_resources(session: Any, emulator: Emulator) -> None:
    items = workspaces.list_workspaces(session)
    assert [w.name for w in items] == sorted(w["name"] for w in emulator.estate.workspaces())
    assert len({w.subscription_id for w in items}) == 2
    for w in items:
        assert w.location and w.sku and w.public_network_access in ("Enabled", "Disabled")
        assert "/Microsoft.Storage/storageAccounts/" in w.storage_account
        assert "/Microsoft.KeyVault/vaults/" in w.key_vault
        assert "/Microsoft.ContainerRegistry/registries/" in w.container_registry
        assert "/Microsoft.Insights/components/" in w.application_insights


def test_workspace_detail_agrees_with_the_list(session: Any) -> None:
    listed = workspaces.list_workspaces(session)[0]
    detail = workspaces.get_workspace(session, listed.subscription_id, listed.resource_group, listed.name)
    assert detail == listed


def test_unknown_workspace_is_not_found_with_a_request_id(session: Any) -> None:
    listed = workspaces.list_workspaces(session)[0]
    with pytest.raises(ResourceNotFoundError) as exc:
        workspaces.get_workspace(session, listed.subscription_id, listed.resource_group, "nope")
    err = classify(exc.value)
    assert err.kind is ErrorKind.NOT_FOUND and err.status == 404 and err.request_id
    assert "nope" in err.message
