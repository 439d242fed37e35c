"""Secrets in a REAL Secret Service (gnome-keyring under dbus-run-session, started by `make test`), and the
one clear message for an absent or locked keyring in the CLI and in the TUI.

Without a Secret Service these tests skip on a developer machine; under CI=true they fail instead."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.cli import main
from console.config import Profile, load_config, save_profile
from console.keyring_store import KeyringSecrets, SecretStoreUnavailable
from console.run import build_app

TENANT = "6513270e-269e-4d37-b2a7-4de452e6b438"
APP_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "sp-" + uuid.uuid4().hex + "-~Q8"
WAYS_OUT = ("unlock", "another auth method")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private config dir and a private keyring service name (never the user's real azml entries)."""
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path / "cfg"))
    service = f"azml-console-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AZML_KEYRING_SERVICE", service)
    return service


@pytest.fixture()
def secret_service(isolated: str) -> Iterator[str]:
    """A working Secret Service, or a skip (a failure under CI=true)."""
    import keyring

    reason = ""
    backend = keyring.get_keyring()
    if "SecretService" not in type(backend).__module__ + type(backend).__name__:
        reason = f"no Secret Service (keyring backend {type(backend).__module__}); run the tests with `make test`"
    else:
        try:
            keyring.set_password(isolated, "probe", "x")
            keyring.delete_password(isolated, "probe")
        except Exception as e:
            reason = f"the Secret Service is not usable: {type(e).__name__}: {e}"
    if reason:
        if in_ci():
            pytest.fail(f"a real Secret Service is required in CI: {reason}")
        pytest.skip(reason)
    yield isolated
    for ref in ("sp/client-secret", "probe"):
        try:
            keyring.delete_password(isolated, ref)
        except Exception:
            pass


def assert_clear_message(text: str, reason: str) -> None:
    assert "Traceback" not in text
    assert {"absent": "not available", "locked": "locked"}[reason] in text
    assert "Ways out" in text and "gnome-keyring-daemon --unlock" in text
    assert "azure-cli" in text and "device-code" in text and "managed-identity" in text
    assert 'secret_store = "encrypted-file"' in text


def sp_args(name: str = "sp") -> list[str]:
    return ["profile", "add", name, "--auth", "service-principal", "--tenant", TENANT, "--client-id", APP_ID]


# -- real Secret Service ---------------------------------------------------------------------------


def test_add_with_secret_on_stdin_stores_it_in_the_keyring_and_show_redacts(
    secret_service: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import keyring

    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    assert main([*sp_args(), "--secret-stdin"]) == 0
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    # the keyring holds it, under the reference the profile names
    profile = load_config().profiles["sp"]
    assert profile.client_secret_ref == "sp/client-secret"
    assert keyring.get_password(secret_service, profile.client_secret_ref) == SECRET
    if shutil.which("secret-tool"):
        found = subprocess.run(
            ["secret-tool", "lookup", "service", secret_service, "username", "sp/client-secret"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert found.stdout == SECRET
    # the config file holds only the reference
    text = load_config().path.read_text()
    assert SECRET not in text and 'client_secret_ref = "sp/client-secret"' in text
    # show redacts, in both formats
    assert main(["profile", "show", "sp"]) == 0
    shown = capsys.readouterr().out
    assert SECRET not in shown and "<redacted: stored>" in shown
    assert main(["profile", "show", "sp", "--json"]) == 0
    assert SECRET not in capsys.readouterr().out
    # the credential is built from the keyring value; remove deletes the secret too
    from console.profiles import open_profile_source

    source = open_profile_source("sp")
    try:
        assert type(source.session.credential).__name__ == "ClientSecretCredential"
        assert SECRET not in repr(source.session) and SECRET not in repr(source.session.credential)
    finally:
        source.close()
    assert main(["profile", "remove", "sp"]) == 0
    assert keyring.get_password(secret_service, "sp/client-secret") is None


def test_add_from_a_pipe_in_a_separate_process(secret_service: str, tmp_path: Path) -> None:
    import keyring

    env = {**os.environ}
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", *sp_args("piped"), "--secret-stdin"],
        input=SECRET,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert keyring.get_password(secret_service, "piped/client-secret") == SECRET
    assert SECRET not in load_config().path.read_text()
    keyring.delete_password(secret_service, "piped/client-secret")


def test_keyring_secrets_is_a_secret_source(secret_service: str) -> None:
    from services.secrets import SecretNotFound, SecretSource

    store = KeyringSecrets()
    assert isinstance(store, SecretSource) and store.service == secret_service
    store.set_secret("probe", "v1")
    assert store.get_secret("probe") == "v1" and store.has_secret("probe")
    assert "v1" not in repr(store)
    store.delete_secret("probe")
    with pytest.raises(SecretNotFound):
        store.get_secret("probe")
    store.delete_secret("probe")  # deleting twice is fine


# -- absent and locked: the one clear message ------------------------------------------------------


def test_absent_secret_service_in_the_cli_for_real(tmp_path: Path) -> None:
    """No D-Bus session at all: keyring falls back to its failing backend (no mock needed)."""
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # also on a desktop with another backend
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", *sp_args(), "--secret-stdin"],
        input=SECRET,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 3
    assert_clear_message(proc.stderr, "absent")
    assert "the profile was not added" in proc.stderr and SECRET not in proc.stderr
    assert not load_config().profiles


class _Backend:
    """A keyring backend that fails the way a locked or an absent Secret Service does."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _fail(self, *args: Any) -> Any:
        from keyring import errors

        if self.reason == "locked":
            raise errors.KeyringLocked("Failed to unlock the collection!")
        raise errors.NoKeyringError("No recommended backend was available.")

    get_password = set_password = delete_password = _fail


@pytest.fixture(params=["absent", "locked"])
def broken_keyring(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Mocks exactly the two failure modes (an absent Secret Service also gets its real test above)."""
    import keyring

    reason: str = request.param
    monkeypatch.setattr(keyring, "get_keyring", lambda: _Backend(reason))
    return reason


def test_absent_or_locked_keyring_in_the_cli(
    broken_keyring: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET))
    assert main([*sp_args(), "--secret-stdin"]) == 3
    err = capsys.readouterr().err
    assert_clear_message(err, broken_keyring)
    assert SECRET not in err and not load_config().profiles
    # a profile that already references a secret: test, login and show all explain instead of failing
    save_profile(
        Profile("sp", auth="service-principal", tenant=TENANT, client_id=APP_ID, client_secret_ref="sp/client-secret")
    )
    for argv in (["profile", "test", "sp"], ["login", "--profile", "sp"]):
        assert main(argv) == 3
        assert_clear_message(capsys.readouterr().err, broken_keyring)
    assert main(["profile", "show", "sp"]) == 0
    assert "keyring unavailable" in capsys.readouterr().out


def test_keyring_error_classes_map_to_reasons(broken_keyring: str) -> None:
    with pytest.raises(SecretStoreUnavailable) as exc:
        KeyringSecrets().get_secret("x")
    assert exc.value.reason == broken_keyring


def test_plain_text_backends_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    class PlaintextKeyring:
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    monkeypatch.setattr(keyring, "get_keyring", lambda: PlaintextKeyring())
    with pytest.raises(SecretStoreUnavailable, match="plain text") as exc:
        KeyringSecrets().get_secret("x")
    assert exc.value.reason == "insecure"


@pytest.mark.timeout(60)
def test_absent_or_locked_keyring_in_the_tui(broken_keyring: str, capfd: pytest.CaptureFixture[str]) -> None:
    from screens.auth import AuthProblemScreen

    profile = Profile(
        "sp", auth="service-principal", tenant=TENANT, client_id=APP_ID, client_secret_ref="sp/client-secret"
    )
    app, close = build_app(profile)

    async def scenario() -> None:
        async with app.run_test(size=(110, 34)) as pilot:
            for _ in range(400):
                if isinstance(app.screen, AuthProblemScreen) and app.screen.query("#auth-problem-text"):
                    break
                await pilot.pause(0.05)
            screen = app.screen
            assert isinstance(screen, AuthProblemScreen)
            text = str(screen.query_one("#auth-problem-text").render())
            assert_clear_message(text, broken_keyring)
            await pilot.pause(0.2)
            assert app.context.status.startswith("not connected")
            await pilot.press("escape")
            await pilot.pause(0.1)
            assert not isinstance(app.screen, AuthProblemScreen) and app.is_running
            await pilot.press("q")

    try:
        asyncio.run(scenario())
    finally:
        close()
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err
