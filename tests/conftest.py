"""Shared fixtures: one emulator per test session (frozen clock, seed 7), SDK clients built through
the product's Cloud seam, exactly as the console builds them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator import Emulator, EmulatorConfig
from services import clients
from services.cloud import Cloud, custom_cloud

# Audit lines and profiles written by tests go to a private directory, never the developer's own.
os.environ.setdefault("AZML_DATA_DIR", tempfile.mkdtemp(prefix="azml-test-data-"))
os.environ.setdefault("AZML_CONFIG_DIR", tempfile.mkdtemp(prefix="azml-test-config-"))

# Snapshots and colour tests must not depend on the developer's terminal settings.
for _var in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR"):
    os.environ.pop(_var, None)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emu = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True)).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture()
def fresh_emulator() -> Iterator[Emulator]:
    """A private emulator for tests that change the estate in ways others must not see."""
    emu = Emulator(EmulatorConfig(seed=7, scale="small", frozen=True)).start()
    try:
        yield emu
    finally:
        emu.stop()


def cloud_for(emu: Emulator) -> Cloud:
    return custom_cloud("emulator", emu.endpoint, ca_bundle=emu.ca_file, storage_at_endpoint=True)


@pytest.fixture(scope="session")
def cloud(emulator: Emulator) -> Cloud:
    return cloud_for(emulator)


@pytest.fixture(scope="session")
def credential(emulator: Emulator) -> Any:
    return emulator.credential()


@pytest.fixture(scope="session")
def workspaces(emulator: Emulator) -> list[dict[str, Any]]:
    """The estate's workspaces as (subscription, resource group, name, location) dicts."""
    out = []
    for w in emulator.estate.workspaces():
        parts = w["id"].split("/")
        out.append(
            {
                "subscription": parts[2],
                "resource_group": parts[4],
                "name": w["name"],
                "location": w["location"],
            }
        )
    return out


def make_ml_client_factory(emu: Emulator) -> Callable[..., Any]:
    cloud = cloud_for(emu)
    cred = emu.credential()
    cache: dict[tuple[str, ...], Any] = {}

    def factory(ws: dict[str, Any] | None = None, *, subscription: str | None = None) -> Any:
        if ws is None:
            sub = subscription or emu.subscription_ids[0]
            key: tuple[str, ...] = (sub,)
            if key not in cache:
                cache[key] = clients.ml_client(cloud, cred, sub)
            return cache[key]
        key = (ws["subscription"], ws["resource_group"], ws["name"])
        if key not in cache:
            cache[key] = clients.ml_client(cloud, cred, *key)
        return cache[key]

    return factory


@pytest.fixture(scope="session")
def ml_client(emulator: Emulator) -> Callable[..., Any]:
    """ml_client(ws) → an MLClient for that workspace (ws from the ``workspaces`` fixture)."""
    return make_ml_client_factory(emulator)


@pytest.fixture()
def fresh_ml_client(fresh_emulator: Emulator) -> Callable[..., Any]:
    return make_ml_client_factory(fresh_emulator)


def session_for(emu: Emulator, **kwargs: Any) -> Any:
    from services.session import Session

    return Session(cloud=cloud_for(emu), credential=emu.credential(), profile="test", tenant_id=emu.tenant_id, **kwargs)


@pytest.fixture(scope="session")
def session(emulator: Emulator) -> Any:
    """A services Session on the shared emulator (reads only)."""
    return session_for(emulator)


@pytest.fixture()
def fresh_session(fresh_emulator: Emulator) -> Any:
    """A services Session on a private emulator (for actions)."""
    return session_for(fresh_emulator)


# -- Azurite (the Azure Storage emulator, npm) for datastore browsing -----------------------------

AZURITE_BIN = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".tools", "node_modules", ".bin", "azurite-blob"
)
AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published development key (documented by Microsoft; not a secret).
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Azurite:
    """A running azurite-blob with path-style URLs on loopback (http, or https with its own CA)."""

    def __init__(self, port: int, pid: int, ca_file: str | None = None) -> None:
        self.port = port
        self.pid = pid
        self.ca_file = ca_file
        self.account = AZURITE_ACCOUNT
        self.key = AZURITE_KEY
        scheme = "https" if ca_file else "http"
        self.blob_endpoint = f"{scheme}://127.0.0.1:{port}/{{account}}"  # a Cloud.blob_endpoint template
        self.account_url = self.blob_endpoint.format(account=self.account)

    def service_client(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        kwargs = {"connection_verify": self.ca_file} if self.ca_file else {}
        credential = {"account_name": self.account, "account_key": self.key}
        return BlobServiceClient(self.account_url, credential=credential, **kwargs)


def _run_azurite(workdir: Any, *extra: str, ca_file: str | None = None) -> Iterator[Azurite]:
    """Start azurite-blob on a free loopback port, in memory; stop only the process started here, by PID."""
    import socket
    import subprocess
    import time

    if not os.path.exists(AZURITE_BIN):
        _azurite_unavailable(
            f"Azurite is not installed at {AZURITE_BIN}: run `make setup` (npm install --prefix .tools azurite@3)"
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = workdir / "azurite.log"
    log = open(log_path, "wb")  # closed in the finally below
    proc = subprocess.Popen(
        [
            AZURITE_BIN,
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--silent",
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--loose",
            *extra,
        ],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.flush()
                text = log_path.read_text(errors="replace")[-2000:]
                _azurite_unavailable(f"azurite-blob exited with code {proc.returncode}: {text}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    _azurite_unavailable("azurite-blob did not listen within 30 s")
                time.sleep(0.1)
        yield Azurite(port, proc.pid, ca_file)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


def _azurite_unavailable(reason: str) -> None:
    """Skip on a developer machine without Azurite; in CI (CI=true) a missing Azurite is a failure."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"Azurite is required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """azurite-blob over http (installed in .tools by `make setup`); shared-key and SAS access."""
    yield from _run_azurite(tmp_path_factory.mktemp("azurite"))


@pytest.fixture(scope="session")
def azurite_https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """azurite-blob over https with its own CA and `--oauth basic`: bearer tokens (identity-based access)
    are accepted when their issuer and audience look like Entra ID's for storage (signatures unchecked)."""
    from emulator.certs import make_cert_files

    workdir = tmp_path_factory.mktemp("azurite-https")
    certs = make_cert_files(str(workdir / "certs"))
    yield from _run_azurite(
        workdir, "--cert", certs.cert_file, "--key", certs.key_file, "--oauth", "basic", ca_file=certs.ca_file
    )
