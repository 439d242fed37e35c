"""azure-cli (a client the product does not use) against `azml emulator serve`'s emulator: cloud registration with
endpoint discovery, service-principal sign-in, accounts, groups, resources, providers, metrics, Resource Graph.

az runs from its own virtualenv (`make az` installs it and the resource-graph extension into .tools/az): it pins
older management packages than the product's. Each test session gets a private AZURE_CONFIG_DIR; az trusts only the
emulator's CA and reaches nothing but 127.0.0.1 (a refusing proxy stands in for every other host).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator, EmulatorConfig

ROOT = Path(__file__).resolve().parent.parent
AZ_VENV = ROOT / ".tools" / "az"
AZ = AZ_VENV / "bin" / "az"
EXTENSIONS = AZ_VENV / "extensions"
CLOUD = "AzmlEmulator"
ML = "Microsoft.MachineLearningServices"


def _require_az() -> None:
    if AZ.exists():
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"azure-cli is not installed at {AZ} (make az)")
    pytest.skip("azure-cli not installed (make az)")


class Az:
    """Runs the venv's az with a private configuration directory."""

    def __init__(self, emu: Emulator, config_dir: str) -> None:
        self.emu = emu
        self.env = {
            "PATH": f"{AZ_VENV / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": config_dir,
            "AZURE_CONFIG_DIR": config_dir,
            "AZURE_EXTENSION_DIR": str(EXTENSIONS),
            "REQUESTS_CA_BUNDLE": emu.ca_file,
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
            # every host but the emulator goes to a proxy that refuses: nothing leaves the machine
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(AZ), *args], env=self.env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
        )
        if check:
            assert proc.returncode == 0, f"az {' '.join(args)} → {proc.returncode}\n{proc.stderr}"
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--output", "json").stdout or "null")


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    _require_az()
    emu = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True)).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="module")
def az(emu: Emulator) -> Iterator[Az]:
    config_dir = tempfile.mkdtemp(prefix="azml-az-")
    try:
        yield Az(emu, config_dir)
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def registered(az: Az, emu: Emulator) -> dict[str, Any]:
    """The emulator registered as a cloud from its own metadata endpoint (discovery on), and made current."""
    az.run("cloud", "register", "--name", CLOUD, "--endpoint-resource-manager", emu.endpoint + "/")
    az.run("cloud", "set", "--name", CLOUD)
    return dict(az.json("cloud", "show", "--name", CLOUD))


@pytest.fixture(scope="module")
def principal(emu: Emulator) -> tuple[str, str]:
    """(client id, secret) of a service principal of the demo tenant (seeded, like the estate)."""
    from emulator.identity import seeded_principals

    sp = next(p for p in seeded_principals(emu.config.seed) if p.secret and p.has_access)
    return sp.client_id, sp.secret


@pytest.fixture(scope="module")
def signed_in(az: Az, emu: Emulator, registered: dict[str, Any], principal: tuple[str, str]) -> list[dict[str, Any]]:
    client_id, secret = principal
    return list(az.json("login", "--service-principal", "-u", client_id, "-p", secret, "--tenant", emu.tenant_id))


def _workspace(emu: Emulator) -> dict[str, Any]:
    return emu.estate.workspaces()[0]


def test_cloud_register_reads_the_emulators_metadata_endpoint(registered: dict[str, Any], emu: Emulator) -> None:
    endpoints = registered["endpoints"]
    assert endpoints["resourceManager"].rstrip("/") == emu.endpoint
    assert endpoints["activeDirectory"].rstrip("/") == emu.endpoint
    assert registered["isActive"] is True
    assert ("GET", "/metadata/endpoints", 200) in {(m, p.split("?")[0], s) for m, p, s in emu.request_log}


def test_login_with_a_service_principal(signed_in: list[dict[str, Any]], emu: Emulator) -> None:
    assert {a["id"] for a in signed_in} == set(emu.subscription_ids)
    assert all(a["tenantId"] == emu.tenant_id and a["user"]["type"] == "servicePrincipal" for a in signed_in)
    assert all(a["cloudName"] == CLOUD for a in signed_in)


def test_login_with_a_wrong_secret_is_refused(emu: Emulator, principal: tuple[str, str]) -> None:
    client_id, _ = principal
    with tempfile.TemporaryDirectory(prefix="azml-az-") as config_dir:  # no token cached by an earlier sign-in
        fresh = Az(emu, config_dir)
        fresh.run("cloud", "register", "--name", CLOUD, "--endpoint-resource-manager", emu.endpoint + "/")
        fresh.run("cloud", "set", "--name", CLOUD)
        proc = fresh.run(
            "login",
            "--service-principal",
            "-u",
            client_id,
            "-p",
            "not-the-secret",
            "--tenant",
            emu.tenant_id,
            check=False,
        )
    assert proc.returncode != 0
    assert "AADSTS7000215" in proc.stderr


def test_account_list(az: Az, emu: Emulator, signed_in: list[dict[str, Any]]) -> None:
    accounts = az.json("account", "list")
    names = {a["id"]: a["name"] for a in accounts}
    assert names == {s["subscriptionId"]: s["displayName"] for s in emu.estate.subscriptions}


def test_group_list(az: Az, emu: Emulator, signed_in: list[dict[str, Any]]) -> None:
    sub = emu.subscription_ids[0]
    groups = az.json("group", "list", "--subscription", sub)
    prefix = f"/subscriptions/{sub}/resourcegroups/"
    assert {g["id"].lower() for g in groups} == {k for k in emu.estate.resource_groups if k.startswith(prefix)}


def test_resource_list(az: Az, emu: Emulator, signed_in: list[dict[str, Any]]) -> None:
    ws = _workspace(emu)
    sub, rg = ws["id"].split("/")[2], ws["id"].split("/")[4]
    resources = az.json("resource", "list", "--subscription", sub, "--resource-group", rg)
    by_id = {r["id"].lower(): r for r in resources}
    assert by_id[ws["id"].lower()]["type"] == f"{ML}/workspaces"
    # the workspace's own storage account, key vault, registry and insights are resources of the group
    for key in ("storageAccount", "keyVault", "containerRegistry", "applicationInsights"):
        assert ws["properties"][key].lower() in by_id, key


def test_resource_show_by_id_looks_the_api_version_up(az: Az, emu: Emulator, signed_in: list[dict[str, Any]]) -> None:
    ws = _workspace(emu)
    got = az.json("resource", "show", "--ids", ws["id"])
    assert got["id"] == ws["id"] and got["properties"]["workspaceId"] == ws["properties"]["workspaceId"]
    sub = ws["id"].split("/")[2]
    assert any(p.split("?")[0] == f"/subscriptions/{sub}/providers/{ML}" for _, p, _ in emu.request_log)


def test_provider_show(az: Az, emu: Emulator, signed_in: list[dict[str, Any]]) -> None:
    got = az.json("provider", "show", "--namespace", ML, "--subscription", emu.subscription_ids[0])
    assert got["namespace"] == ML and got["registrationState"] == "Registered"
    types = {t["resourceType"]: t for t in got["resourceTypes"]}
    assert "workspaces" in types and "workspaces/computes" in types
    assert "2025-12-01" in types["workspaces"]["apiVersions"]


def test_monitor_metrics_list_on_a_compute(az: Az, emu: Emulator, signed_in: list[dict[str, Any]]) -> None:
    ws = _workspace(emu)
    cluster = next(
        r["id"] for r in emu.estate.children(ws["id"], "computes") if r["properties"]["computeType"] == "AmlCompute"
    )
    got = az.json("monitor", "metrics", "list", "--resource", cluster, "--metric", "Total Nodes", "--interval", "PT5M")
    series = got["value"][0]
    assert series["name"]["value"] == "Total Nodes"
    points = series["timeseries"][0]["data"]
    assert points and all("timeStamp" in p for p in points)


def test_graph_query(az: Az, emu: Emulator, signed_in: list[dict[str, Any]]) -> None:
    got = az.json("graph", "query", "-q", "resources | project name, type", "--first", "1000")
    rows = got["data"]
    assert {"name", "type"} <= set(rows[0])
    names = {(r["type"].lower(), r["name"]) for r in rows}
    for ws in emu.estate.workspaces():
        assert (f"{ML}/workspaces".lower(), ws["name"]) in names
