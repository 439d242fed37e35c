"""The audit log: every attempted mutation appended as a JSON line, refusals and failures included,
with no secret in it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
    assert lines[1]["request_id"] and lines[1]["request_id"] != failed["request_id"]  # success carries its own
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


# -- every session is audited, whatever its source ---------------------------------------------------


def _profile_session(emu: Any, read_only: bool = False) -> Any:
    from console.config import Profile
    from console.profiles import open_profile

    profile = Profile(
        "prod-local",
        auth="emulator",
        cloud="custom",
        endpoint=emu.endpoint,
        ca_bundle=emu.ca_file,
        tenant=emu.tenant_id,
        read_only=read_only,
    )
    return open_profile(profile).session


def test_a_profile_session_writes_the_audit_with_user_profile_and_request_ids(
    fresh_emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZML_DATA_DIR", str(tmp_path / "data"))
    session = _profile_session(fresh_emulator)
    try:
        ws = next(w for w in workspaces.list_workspaces(session) if w.name == "mlw-prod-eus")
        inst = next(c for c in compute.list_computes(session, ws) if c.kind == "instance" and c.state == "Running")
        target = Target(ws.subscription_id, ws.resource_group, ws.name, inst.name)
        compute.stop_instance(session, target)
        fresh_emulator.faults.add(FaultRule(pattern=r"/start$", status=409, code="Conflict", message="busy"))
        with pytest.raises(HttpResponseError) as exc:
            compute.start_instance(session, target)
    finally:
        session.close()
    failed_id = exc.value.response.headers["x-ms-request-id"] if exc.value.response is not None else "?"
    refused = _profile_session(fresh_emulator, read_only=True)
    with pytest.raises(PermissionError):
        compute.delete_compute(refused, target)
    lines = read_audit(tmp_path / "data" / "audit.jsonl")
    assert [(x["operation"], x["outcome"]) for x in lines] == [
        ("compute.stop", "attempted"),
        ("compute.stop", "succeeded"),
        ("compute.start", "attempted"),
        ("compute.start", "failed"),
        ("compute.delete", "refused"),
    ]
    assert all(x["profile"] == "prod-local" for x in lines)
    assert all(x["user"] == "ops@contoso.example" for x in lines), {x["user"] for x in lines}
    # the request id of the mutation's own answer, on success as on failure
    assert lines[3]["request_id"] == failed_id
    assert re.fullmatch(r"[0-9a-f-]{36}", str(lines[1]["request_id"])) and lines[1]["request_id"] != failed_id


def test_a_service_principal_is_named_by_its_app_id() -> None:
    from emulator.credential import make_token
    from services.session import token_identity

    class App:
        def get_token(self, *scopes: str, **kw: Any) -> Any:
            from azure.core.credentials import AccessToken

            token = make_token("t", object_id="o", upn="", name="", audience="a", expires_on=0)
            return AccessToken(token, 0)

    assert token_identity(App(), "s") == "app:04b07795-8ddb-461a-bbee-02f9e1bf7b46"
