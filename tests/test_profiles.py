"""Profiles resolved into credentials and sessions; the profile commands; a standalone `azml emulator serve`
used as a profile by `profile test`, the TUI and `snapshot`; the device-code dialog."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from console import credentials
from console.cli import main
from console.config import Profile, load_config
from console.credentials import AuthSetupError, build_credential
from console.keyring_store import EncryptedFileSecrets, WrongPassphrase
from console.profiles import cloud_for, open_profile_source
from console.run import build_app
from console.source import Source, SourceError
from services.cloud import BUILTIN_CLOUDS
from services.secrets import MemorySecrets, SecretNotFound

TENANT = "6513270e-269e-4d37-b2a7-4de452e6b438"
APP_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


# -- credentials, one per method ------------------------------------------------------------------


def test_one_credential_per_method(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity as identity

    cloud = BUILTIN_CLOUDS["AzureUSGovernment"]
    assert isinstance(build_credential(Profile("a", auth="azure-cli"), cloud), identity.AzureCliCredential)
    mi = build_credential(Profile("m", auth="managed-identity", client_id=APP_ID), cloud)
    assert isinstance(mi, identity.ManagedIdentityCredential)
    monkeypatch.delenv("AZURE_CLIENT_ID", raising=False)
    with pytest.raises(AuthSetupError, match="AZURE_CLIENT_ID"):
        build_credential(Profile("e", auth="environment"), cloud)
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", APP_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "x")
    assert isinstance(build_credential(Profile("e", auth="environment"), cloud), identity.EnvironmentCredential)
    sp = Profile("sp", auth="service-principal", tenant=TENANT, client_id=APP_ID, client_secret_ref="sp/secret")
    with pytest.raises(SecretNotFound):
        build_credential(sp, cloud, secrets=MemorySecrets())
    cred = build_credential(sp, cloud, secrets=MemorySecrets({"sp/secret": "value"}))
    assert isinstance(cred, identity.ClientSecretCredential)
    assert "login.microsoftonline.us" in str(cred._authority)  # type: ignore[attr-defined]


def test_device_code_never_prints_and_browser_needs_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity as identity

    seen: list[str] = []

    def prompt(url: str, code: str, expires: datetime) -> None:
        seen.append(code)

    cred = build_credential(Profile("d", auth="device-code"), BUILTIN_CLOUDS["AzureCloud"], device_code_prompt=prompt)
    assert isinstance(cred, identity.DeviceCodeCredential)
    assert cred._prompt_callback is prompt  # type: ignore[attr-defined]
    default = build_credential(Profile("d", auth="device-code"), BUILTIN_CLOUDS["AzureCloud"])
    assert default._prompt_callback is credentials.stderr_prompt  # type: ignore[attr-defined]
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(AuthSetupError, match="device-code"):
        build_credential(Profile("b", auth="interactive-browser"), BUILTIN_CLOUDS["AzureCloud"])
    monkeypatch.setenv("DISPLAY", ":0")
    browser = build_credential(Profile("b", auth="interactive-browser"), BUILTIN_CLOUDS["AzureCloud"])
    assert isinstance(browser, identity.InteractiveBrowserCredential)


def test_token_cache_is_persistent_only_when_encrypted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "encrypted_cache_available", lambda: False)
    assert credentials._cache_options() is None
    assert "never written in plain text" in credentials.cache_note()
    monkeypatch.setattr(credentials, "encrypted_cache_available", lambda: True)
    options = credentials._cache_options()
    assert options is not None and options.allow_unencrypted_storage is False


def test_custom_cloud_from_profile(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("pem")
    p = Profile(
        "x", cloud="custom", endpoint="https://127.0.0.1:9/", ca_bundle=str(ca), endpoints=(("portal", "https://p/"),)
    )
    cloud = cloud_for(p)
    assert cloud.resource_manager == "https://127.0.0.1:9" and cloud.ca_bundle == str(ca)
    assert cloud.portal == "https://p" and not cloud.builtin
    with pytest.raises(SourceError, match="CA bundle"):
        cloud_for(Profile("x", cloud="custom", endpoint="https://h", ca_bundle=str(tmp_path / "none.pem")))


# -- commands without secrets ---------------------------------------------------------------------


def test_no_profile_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "azml --demo" in err and "azml profile add" in err


def test_add_list_show_remove(capsys: pytest.CaptureFixture[str], config_home: Path) -> None:
    assert main(["profile", "add", "dev", "--auth", "device-code", "--tenant", TENANT, "--theme", "nord"]) == 0
    assert main(["profile", "add", "ops", "--auth", "managed-identity", "--read-only", "--default"]) == 0
    assert main(["profile", "add", "ops", "--auth", "azure-cli"]) == 2
    assert "--force" in capsys.readouterr().err
    config = load_config()
    assert config.default_profile == "ops" and config.profiles["ops"].read_only
    assert main(["profile", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(p["name"], p["default"]) for p in listed["profiles"]] == [("dev", False), ("ops", True)]
    assert main(["profile", "show", "dev", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["auth"] == "device-code" and shown["tenant"] == TENANT and shown["theme"] == "nord"
    assert main(["profile", "add", "bad", "--auth", "emulator"]) == 2
    assert "needs tenant" in capsys.readouterr().err
    assert main(["profile", "remove", "ops"]) == 0
    assert set(load_config().profiles) == {"dev"}
    assert main(["profile", "remove", "ops"]) == 2


def test_service_principal_secret_never_comes_from_a_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["profile", "add", "sp", "--auth", "service-principal", "--secret", "x"])
    args = ["profile", "add", "sp", "--auth", "service-principal", "--tenant", TENANT, "--client-id", APP_ID]
    assert main(args) == 2  # stdin is not a terminal here and --secret-stdin was not given
    assert "--secret-stdin" in capsys.readouterr().err
    assert not load_config().profiles


def test_encrypted_file_store_is_opt_in(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], config_home: Path
) -> None:
    import io

    secret = "enc-" + "s3cret-value-9f8e"
    args = ["profile", "add", "sp", "--tenant", TENANT, "--client-id", APP_ID, "--secret-stdin"]
    args += ["--secret-store", "encrypted-file"]
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    assert main(args) == 3  # no passphrase: refused, nothing written
    assert "AZML_SECRETS_PASSPHRASE" in capsys.readouterr().err and not load_config().profiles
    monkeypatch.setenv("AZML_SECRETS_PASSPHRASE", "correct horse")
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    assert main(args) == 0
    store_file = config_home / "secrets.enc"
    for path in (store_file, config_home / "config.toml"):
        assert secret not in path.read_text()
    assert EncryptedFileSecrets(store_file, "correct horse").get_secret("sp/client-secret") == secret
    with pytest.raises(WrongPassphrase):
        EncryptedFileSecrets(store_file, "wrong").get_secret("sp/client-secret")
    assert main(["profile", "show", "sp"]) == 0
    out = capsys.readouterr().out
    assert secret not in out and "<redacted: stored>" in out
    source = open_profile_source("sp")
    try:
        assert type(source.session.credential).__name__ == "ClientSecretCredential"
    finally:
        source.close()


def test_the_demo_profile_is_built_in() -> None:
    source = open_profile_source("demo")
    try:
        assert source.label == "demo" and source.session.profile == "demo" and source.default_workspace
    finally:
        source.close()


# -- a standalone emulator as a profile -------------------------------------------------------------


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
        info = json.loads(proc.stdout.readline())
        yield info
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def add_emulator_profile(info: dict[str, Any], name: str = "local") -> None:
    args = ["profile", "add", name, "--auth", "emulator", "--endpoint", info["endpoint"]]
    args += ["--ca-bundle", info["ca_file"], "--tenant", info["tenant_id"], "--default-workspace", "mlw-prod-eus"]
    assert main(args) == 0


def test_profile_test_lists_what_the_emulator_profile_sees(
    served: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    add_emulator_profile(served)
    capsys.readouterr()
    assert main(["profile", "test", "local", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(s["id"] for s in out["subscriptions"]) == sorted(served["subscription_ids"])
    assert "mlw-prod-eus" in {w["name"] for w in out["workspaces"]}
    assert main(["profile", "test"]) == 0  # the default profile
    assert "workspace mlw-prod-eus" in capsys.readouterr().out
    assert main(["login", "--profile", "local"]) == 0


def test_emulator_profile_in_a_separate_process(served: dict[str, Any], config_home: Path) -> None:
    add_emulator_profile(served, "standalone")
    env = {**os.environ, "AZML_CONFIG_DIR": str(config_home)}
    out = subprocess.run(
        [sys.executable, "-m", "console.cli", "profile", "test", "--profile", "standalone"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "4 workspace(s)" in out.stdout or "workspace(s)" in out.stdout
    snap = subprocess.run(
        [sys.executable, "-m", "console.cli", "snapshot", "--profile", "standalone", "--format", "json", "workspaces"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert "mlw-prod-eus" in snap.stdout
    query = subprocess.run(
        [
            sys.executable,
            "-m",
            "console.cli",
            "query",
            "--profile",
            "standalone",
            "--workspace",
            "mlw-prod-eus",
            "AmlComputeClusterEvent | summarize count() by ClusterName",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert query.returncode == 0, query.stderr[-2000:]
    assert "cpu-cluster" in query.stdout


async def wait_for(predicate: Any, pilot: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


@pytest.mark.timeout(90)
def test_tui_on_the_standalone_emulator_profile(served: dict[str, Any]) -> None:
    from screens.workspaces import WorkspacesScreen

    add_emulator_profile(served)
    profile = dataclasses.replace(load_config().get("local"), theme="nord", keymap=(("app.help", "f1"),))
    app, close = build_app(profile)

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.screen
            assert isinstance(screen, WorkspacesScreen)
            await wait_for(lambda: bool(screen.models), pilot)
            assert "mlw-prod-eus" in {w.name for w in screen.models.values()}
            assert app.context.profile == "local" and app.context.subscriptions == len(served["subscription_ids"])
            assert app.theme == "nord"
            await pilot.press("f1")  # the profile's keymap
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "HelpScreen"
            await pilot.press("escape")
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        close()


class _DeviceCodeLike:
    """Behaves like DeviceCodeCredential: the first get_token calls the prompt, then waits for the user."""

    def __init__(self, inner: Any, prompt: Any) -> None:
        self.inner = inner
        self.prompt = prompt
        self.signed_in = threading.Event()
        self.prompted = False

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        if not self.signed_in.is_set():
            if not self.prompted:
                self.prompted = True
                self.prompt("https://microsoft.com/devicelogin", "ABCD-1234", datetime(2030, 1, 1, 12, 30))
            assert self.signed_in.wait(30)
        return self.inner.get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        self.get_token(*scopes)
        return self.inner.get_token_info(*scopes, options=options)


@pytest.mark.timeout(90)
def test_device_code_is_shown_in_a_dialog_not_printed(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from screens.auth import DeviceCodeScreen
    from screens.workspaces import WorkspacesScreen
    from services.cloud import custom_cloud
    from services.session import Session

    fakes: list[_DeviceCodeLike] = []

    def fake_open(profile: Profile, *, device_code_prompt: Any = None, **kwargs: Any) -> Source:
        cred = _DeviceCodeLike(emulator.credential(), device_code_prompt)
        fakes.append(cred)
        cloud = custom_cloud("emu", emulator.endpoint, ca_bundle=emulator.ca_file)
        return Source(Session(cloud=cloud, credential=cred, profile=profile.name), profile.name)

    monkeypatch.setattr("console.profiles.open_profile", fake_open)
    app, close = build_app(Profile("jumpbox", auth="device-code"))

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(
                lambda: isinstance(app.screen, DeviceCodeScreen) and bool(app.screen.query("#device-code-text")), pilot
            )
            dialog = app.screen
            assert isinstance(dialog, DeviceCodeScreen) and dialog.code == "ABCD-1234"
            text = str(dialog.query_one("#device-code-text").render())
            assert "ABCD-1234" in text and "https://microsoft.com/devicelogin" in text
            fakes[0].signed_in.set()
            await wait_for(lambda: isinstance(app.screen, WorkspacesScreen) and bool(app.screen.models), pilot)
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        close()
    captured = capfd.readouterr()
    assert "ABCD-1234" not in captured.out and "ABCD-1234" not in captured.err


def test_add_asks_for_what_is_missing_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    import getpass

    answers = iter(["service-principal", "AzureChinaCloud", "contoso.partner.onmschina.cn", APP_ID, "", "", "ws1"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "typed-secret")
    stored: dict[str, str] = {}
    monkeypatch.setattr("console.keyring_store.KeyringSecrets.set_secret", lambda self, r, v: stored.update({r: v}))
    assert main(["profile", "add", "cn"]) == 0
    profile = load_config().profiles["cn"]
    assert (profile.auth, profile.cloud, profile.client_id) == ("service-principal", "AzureChinaCloud", APP_ID)
    assert profile.default_workspace == "ws1" and profile.all_subscriptions
    assert stored == {"cn/client-secret": "typed-secret"}
    assert "typed-secret" not in load_config().path.read_text()
