"""Headless commands speak headless: only azml's own message on stderr (no SDK WARNING line before it, no TUI
advice such as "r retries"); `azml login` proves the sign-in (the token's tenant, and Azure accepting it)
before it says "Signed in"; `profile add --certificate` needs a real PEM key and certificate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.cli import main

ROOT = Path(__file__).resolve().parents[1]
TENANT = "6513270e-269e-4d37-b2a7-4de452e6b438"
OTHER_TENANT = "0b0b0b0b-1111-4222-8333-444444444444"
APP_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    """`azml emulator serve` in a subprocess; only that PID is stopped."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "emulator", "serve", "--seed", "7", "--frozen"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
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


def emulator_profile(info: dict[str, Any], name: str, tenant: str) -> None:
    args = ["profile", "add", name, "--auth", "emulator", "--endpoint", info["endpoint"]]
    assert main([*args, "--ca-bundle", info["ca_file"], "--tenant", tenant]) == 0


def test_login_with_the_wrong_tenant_is_not_signed_in(
    served: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    emulator_profile(served, "right", served["tenant_id"])
    emulator_profile(served, "wrong", OTHER_TENANT)
    capsys.readouterr()
    assert main(["login", "--profile", "right"]) == 0
    out = capsys.readouterr().out
    assert "Signed in to profile 'right' with emulator" in out and "subscription(s) visible" in out
    assert main(["login", "--profile", "wrong"]) == 3
    got = capsys.readouterr()
    assert "Signed in" not in got.out
    assert "sign-in failed for profile 'wrong'" in got.err and "r retries" not in got.err


def test_login_refuses_a_token_from_another_tenant() -> None:
    from console.profile_cmd import _wrong_tenant
    from emulator.credential import make_token

    token = make_token(OTHER_TENANT, object_id="o", upn="u", name="n", audience="a", expires_on=0)
    assert _wrong_tenant(TENANT, token) == f"the token is for tenant {OTHER_TENANT}, not the profile's tenant {TENANT}"
    assert _wrong_tenant(OTHER_TENANT.upper(), token) == ""
    assert _wrong_tenant("contoso.onmicrosoft.com", token) == ""  # a domain: Azure judges it


def test_sdk_warnings_never_reach_stderr_only_azmls_message(tmp_path: Path, config_home: Path) -> None:
    """azure-identity logs "AzureCliCredential.get_token failed" at WARNING; Python's last-resort handler used
    to print it on stderr before azml's own line. No `az` on PATH: a real failure, nothing mocked."""
    assert main(["profile", "add", "cli", "--auth", "azure-cli", "--tenant", TENANT]) == 0
    env = {**os.environ, "AZML_CONFIG_DIR": str(config_home), "PATH": str(tmp_path)}
    for argv, prefix in (
        (["login", "--profile", "cli"], "azml: "),
        (["profile", "test", "cli"], "azml: "),
        (["snapshot", "--profile", "cli", "workspaces"], "azml snapshot: "),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "console.cli", *argv],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 3, proc.stderr
        lines = proc.stderr.splitlines()
        assert lines and all(line.startswith(prefix) for line in lines), proc.stderr
        assert "get_token" not in proc.stderr and "get_token_info" not in proc.stderr
        assert "r retries" not in proc.stderr and "the screen keeps" not in proc.stderr


PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    ("content", "rule"),
    [
        (None, "does not exist"),
        (PEM_CERT, "must hold a PEM private key and certificate; it has no private key"),
        (PEM_KEY, "must hold a PEM private key and certificate; it has no certificate"),
        ("hello\n", "must be a PEM file with a private key and a certificate, or a PKCS12 file"),
    ],
)
def test_profile_add_checks_the_certificate_file(
    content: str | None, rule: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = tmp_path / "sp.pem"
    if content is not None:
        cert.write_text(content)
    argv = ["profile", "add", "sp", "--auth", "service-principal", "--tenant", TENANT, "--client-id", APP_ID]
    assert main([*argv, "--certificate", str(cert)]) == 2
    assert f"certificate: {cert} {rule}" in capsys.readouterr().err


def test_profile_add_accepts_a_pem_key_and_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = tmp_path / "sp.pem"
    cert.write_text(PEM_KEY + PEM_CERT)
    argv = ["profile", "add", "sp", "--auth", "service-principal", "--tenant", TENANT, "--client-id", APP_ID]
    assert main([*argv, "--certificate", str(cert)]) == 0
