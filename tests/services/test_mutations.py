"""The mutation choke point: every registered operation is refused in read-only mode before any
request, audited, and has an equivalent `az ml` command."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import Emulator
from services import mutations
from services.mutations import ReadOnlyError, Target
from tests.conftest import session_for


def test_registry_lists_every_module_operation() -> None:
    reg = mutations.registry()
    assert {"compute.start", "compute.stop", "compute.restart", "compute.create_cluster", "compute.delete"} <= set(reg)
    assert set(reg) == set(mutations.FUNCTIONS)


def test_every_mutation_is_refused_read_only_before_any_request(emulator: Emulator) -> None:
    ro = session_for(emulator, read_only=True)
    target = Target(emulator.subscription_ids[0], "rg-prod-eus", "mlw-prod-eus", "anything", "parent")
    reg = mutations.registry()
    assert reg
    before = emulator.request_count
    for name in sorted(reg):
        with pytest.raises(ReadOnlyError) as exc:
            mutations.FUNCTIONS[name](ro, target, name="x")
        assert "read-only" in str(exc.value)
    assert emulator.request_count == before
    refused = [r for r in ro.guard.records if r.outcome == "refused"]
    assert sorted(r.operation for r in refused) == sorted(reg)


def test_every_mutation_has_an_az_ml_command() -> None:
    target = Target("sub", "rg", "ws", "name", "parent")
    params: dict[str, Any] = {
        "name": "n",
        "size": "Standard_DS3_v2",
        "min_instances": 0,
        "max_instances": 2,
        "idle_seconds": 120,
        "traffic": {"blue": 100},
        "instance_count": 2,
    }
    for name in mutations.registry():
        cmd = mutations.az_command(name, target, params)
        assert cmd.startswith("az ml "), (name, cmd)
        assert "--workspace-name ws" in cmd or "--workspace" in cmd


def test_secrets_are_redacted_in_audit_parameters() -> None:
    red = mutations.redact({"account_key": "k3y", "nested": {"client_secret": "s"}, "name": "ok"})
    assert red == {"account_key": "***", "nested": {"client_secret": "***"}, "name": "ok"}


def test_guard_check_refuses_read_only_with_the_reason_and_audits_it() -> None:
    written: list[mutations.AuditRecord] = []
    target = Target("sub", "rg", "ws", "ci-1")
    open_guard = mutations.Guard(profile="p", user="u", audit=written.append)
    assert open_guard.check("compute.stop", target) == ""
    assert written == []  # nothing to audit until the operation runs
    guard = mutations.Guard(profile="p", user="u", read_only=True, audit=written.append)
    reason = guard.check("compute.stop", target)
    assert reason == "Stop compute instance refused: profile 'p' is read-only"
    assert [(r.operation, r.outcome, r.target, r.user, r.message) for r in written] == [
        ("compute.stop", "refused", "ws/ci-1", "u", "read-only")
    ]
