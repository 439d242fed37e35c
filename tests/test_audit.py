"""The audit log: every attempted mutation appended as a JSON line, refusals and failures included,
with no secret in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError

from console.audit import AuditLog, read_audit
from console.demo import DemoBackend
from emulator.faults import FaultRule
from services import compute, workspaces
from services.mutations import Target


def test_attempts_outcomes_and_failures_are_appended(tmp_path: Path) -> None:
    backend = DemoBackend({"frozen": "true"})
    try:
        session = backend.connect()
        log = AuditLog(tmp_path / "audit.jsonl")
        session.guard.audit = log
        ws = next(w for w in workspaces.list_workspaces(session) if w.name == "mlw-prod-eus")
        instance = next(c for c in compute.list_computes(session, ws) if c.kind == "instance" and c.state == "Running")
        target = Target(ws.subscription_id, ws.resource_group, ws.name, instance.name)
        compute.stop_instance(session, target)
        emu = backend.emulator
        assert emu is not None
        emu.faults.add(FaultRule(pattern=r"/start$", status=409, code="Conflict", message="busy"))
        with pytest.raises(HttpResponseError):
            compute.start_instance(session, target)
        lines = read_audit(log.path)
    finally:
        backend.stop()
    assert [(x["operation"], x["outcome"]) for x in lines] == [
        ("compute.stop", "attempted"),
        ("compute.stop", "succeeded"),
        ("compute.start", "attempted"),
        ("compute.start", "failed"),
    ]
    failed = lines[-1]
    assert failed["request_id"] and "busy" in str(failed["message"])
    assert all(x["profile"] == "demo" and x["user"] == "ops@contoso.example" for x in lines)
    assert all(x["target"] == f"mlw-prod-eus/{instance.name}" for x in lines)


def test_read_only_refusals_are_audited(tmp_path: Path) -> None:
    backend = DemoBackend({"frozen": "true"}, read_only=True)
    try:
        session = backend.connect()
        session.guard.audit = AuditLog(tmp_path / "audit.jsonl")
        ws = workspaces.list_workspaces(session)[0]
        with pytest.raises(PermissionError):
            compute.delete_compute(session, Target(ws.subscription_id, ws.resource_group, ws.name, "cpu-cluster"))
        lines = read_audit(tmp_path / "audit.jsonl")
    finally:
        backend.stop()
    assert [(x["operation"], x["outcome"]) for x in lines] == [("compute.delete", "refused")]


def test_an_unwritable_log_never_breaks_an_action(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    log = AuditLog(blocked / "audit.jsonl")
    from services.mutations import AuditRecord

    log(AuditRecord("t", "p", "u", "op", "tgt", "s", "rg", {}, "attempted"))
    assert "cannot write the audit log" in log.last_error
