"""The product's own sign-in methods against a standalone `azml emulator serve`: a service principal whose secret
lives in the REAL Secret Service (`make pytest` runs one), one with a certificate, and a device-code profile;
each through the CLI in its own process, as a user or a CI job runs it.

The keyring test skips without a Secret Service on a developer machine; under CI=true it fails instead."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_keyring import isolated, secret_service  # noqa: F401 - fixtures: private config dir and keyring


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    """`azml emulator serve` in a subprocess; only that PID is stopped."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "emulator", "serve", "--seed", "7", "--frozen"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def azml(*args: str, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=timeout,
    )


def cloud_args(info: dict[str, Any]) -> list[str]:
    return ["--cloud", "custom", "--endpoint", info["endpoint"], "--ca-bundle", info["ca_file"]]


def principal(info: dict[str, Any], kind: str) -> dict[str, str]:
    return next(p for p in info["service_principals"] if kind in p)


def test_serve_names_its_authority_and_seeded_service_principals(served: dict[str, Any]) -> None:
    assert served["authority"] == f"{served['endpoint']}/{served['tenant_id']}"
    secrets = [p for p in served["service_principals"] if "client_secret" in p]
    assert len(secrets) == 3 and [p.get("role_assignments") for p in secrets] == [None, None, "none"]
    cert = principal(served, "certificate_file")
    with open(cert["certificate_file"], encoding="ascii") as f:
        pem = f.read()
    assert "PRIVATE KEY" in pem and "CERTIFICATE" in pem


def test_service_principal_profile_with_its_secret_in_the_keyring_reads_the_estate(
    secret_service: str,  # noqa: F811
    served: dict[str, Any],
) -> None:
    import keyring

    sp = principal(served, "client_secret")
    added = azml(
        "profile", "add", "ci", "--auth", "service-principal", "--tenant", served["tenant_id"],
        "--client-id", sp["client_id"], *cloud_args(served), "--secret-stdin",
        stdin=sp["client_secret"],
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert keyring.get_password(secret_service, "ci/client-secret") == sp["client_secret"]
    snap = azml("snapshot", "-p", "ci", "--format", "json")
    assert snap.returncode == 0, snap.stderr[-2000:]
    data = json.loads(snap.stdout)
    names = {w["name"] for w in data["workspaces"]}
    assert {"mlw-prod-eus", "mlw-prod-weu", "mlw-dev-eus2", "mlw-research-scus"} <= names
    assert sp["client_secret"] not in snap.stdout + snap.stderr
    # a wrong secret: Entra ID's error, by exit code and message, never the secret or a traceback
    wrong = "wrong-" + sp["client_secret"][::-1]
    bad = azml(
        "profile", "add", "ci-bad", "--auth", "service-principal", "--tenant", served["tenant_id"],
        "--client-id", sp["client_id"], *cloud_args(served), "--secret-stdin",
        stdin=wrong,
    )  # fmt: skip
    assert bad.returncode == 0, bad.stderr
    test = azml("profile", "test", "ci-bad")
    assert test.returncode == 3, test.stdout + test.stderr
    assert "AADSTS7000215" in test.stderr and "Traceback" not in test.stderr and wrong not in test.stderr
    for ref in ("ci/client-secret", "ci-bad/client-secret"):
        keyring.delete_password(secret_service, ref)


def test_certificate_service_principal_profile(served: dict[str, Any]) -> None:
    sp = principal(served, "certificate_file")
    added = azml(
        "profile", "add", "deployer", "--auth", "service-principal", "--tenant", served["tenant_id"],
        "--client-id", sp["client_id"], "--certificate", sp["certificate_file"], *cloud_args(served),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    test = azml("profile", "test", "deployer", "--json")
    assert test.returncode == 0, test.stderr[-2000:]
    assert sorted(s["id"] for s in json.loads(test.stdout)["subscriptions"]) == sorted(served["subscription_ids"])


def test_device_code_profile_signs_in_with_the_code_on_stderr(served: dict[str, Any]) -> None:
    added = azml(
        "profile", "add", "jump", "--auth", "device-code", "--tenant", served["tenant_id"], *cloud_args(served)
    )
    assert added.returncode == 0, added.stderr
    login = azml("login", "-p", "jump")
    assert login.returncode == 0, login.stderr[-2000:]
    assert f"open {served['endpoint']}/devicelogin and enter the code" in login.stderr
    assert "Signed in to profile 'jump'" in login.stdout
    snap = azml("snapshot", "-p", "jump", "--format", "json", "workspaces")
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert "mlw-prod-eus" in snap.stdout
