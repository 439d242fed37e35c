"""A profile resolved into a Cloud, a credential and a Session; and the console opened on it.

Secrets are read from the profile's store (the OS keyring, or the opt-in encrypted file) at the moment the
credential is built, in the connect worker: under the TUI nothing prompts on the terminal, and a missing or
locked keyring becomes a dialog with the ways out, not a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.secrets import SecretNotFound, SecretSource

from .config import CUSTOM_CLOUD, DEMO_PROFILE, ConfigError, Profile, config_dir, load_config
from .credentials import INTERACTIVE, AuthSetupError, DeviceCodePrompt, build_credential
from .exitcodes import ExitCode
from .keyring_store import (
    PASSPHRASE_ENV,
    EncryptedFileSecrets,
    KeyringSecrets,
    SecretStoreUnavailable,
    WrongPassphrase,
)
from .source import Source, SourceError

if TYPE_CHECKING:
    from services.cloud import Cloud

    from .app import AzmlApp

SECRETS_FILE = "secrets.enc"


def cloud_for(profile: Profile) -> Cloud:
    from services.cloud import BUILTIN_CLOUDS, custom_cloud

    if profile.cloud != CUSTOM_CLOUD:
        return BUILTIN_CLOUDS[profile.cloud]
    ca_bundle = None
    if profile.ca_bundle:
        path = Path(profile.ca_bundle).expanduser()
        if not path.is_file():
            raise SourceError(f"profile '{profile.name}': the CA bundle {path} does not exist")
        ca_bundle = str(path)
    # A profile signing in to the emulator also reads storage there (path-style, on the same endpoint).
    cloud = custom_cloud(
        profile.name, profile.endpoint, ca_bundle=ca_bundle, storage_at_endpoint=profile.auth == "emulator"
    )
    overrides: dict[str, Any] = {k: v.rstrip("/") if k != "storage_suffix" else v for k, v in profile.endpoints}
    return dataclasses.replace(cloud, **overrides) if overrides else cloud


def secret_store(profile: Profile, passphrase: str | None = None) -> SecretSource:
    """Where this profile's secrets live: the OS keyring unless the profile opted into the encrypted file."""
    if profile.secret_store == "encrypted-file":
        phrase = passphrase or os.environ.get(PASSPHRASE_ENV, "")
        if not phrase:
            raise SourceError(
                f"profile '{profile.name}' keeps its secrets in the encrypted file store: give its passphrase "
                f"(the console asks before it opens, or set {PASSPHRASE_ENV})"
            )
        return EncryptedFileSecrets(config_dir() / SECRETS_FILE, phrase)
    return KeyringSecrets()


def resolve(name: str | None) -> Profile | None:
    """The named (or default) profile; None for the built-in demo. Raise SourceError with what to do."""
    try:
        config = load_config()
    except ConfigError as e:
        raise SourceError(f"the config file is invalid:\n{e}") from None
    if name == DEMO_PROFILE and DEMO_PROFILE not in config.profiles:
        return None
    if not name and config.default_profile == DEMO_PROFILE:
        return None
    try:
        return config.get(name)
    except LookupError as e:
        raise SourceError(str(e)) from None


def open_profile_source(
    name: str | None,
    *,
    read_only: bool = False,
    device_code_prompt: DeviceCodePrompt | None = None,
    passphrase: str | None = None,
) -> Source:
    """A Session for the named (or default) profile. Every failure is a SourceError saying what to do."""
    profile = resolve(name)
    if profile is None:
        from .demo import DemoBackend

        backend = DemoBackend({}, read_only=read_only)
        return Source(backend.connect(), DEMO_PROFILE, backend.default_workspace(), [backend.stop])
    return open_profile(profile, read_only=read_only, device_code_prompt=device_code_prompt, passphrase=passphrase)


def open_profile(
    profile: Profile,
    *,
    read_only: bool = False,
    device_code_prompt: DeviceCodePrompt | None = None,
    passphrase: str | None = None,
) -> Source:
    from services.session import Session

    from .audit import session_guard

    cloud = cloud_for(profile)
    credential = credential_for(profile, cloud, device_code_prompt=device_code_prompt, passphrase=passphrase)
    session = Session(
        cloud=cloud,
        credential=credential,
        subscription_ids=profile.subscriptions,
        profile=profile.name,
        tenant_id=profile.tenant,
        read_only=profile.read_only or read_only,
        production=profile.production,
        default_workspace=profile.default_workspace,
        guard=session_guard(),
    )
    close = getattr(credential, "close", None)
    closers = [close] if callable(close) else []
    return Source(session, profile.name, profile.default_workspace, closers)


def credential_for(
    profile: Profile,
    cloud: Cloud,
    *,
    device_code_prompt: DeviceCodePrompt | None = None,
    passphrase: str | None = None,
) -> Any:
    try:
        secrets = secret_store(profile, passphrase) if profile.secret_refs() else None
        return build_credential(profile, cloud, secrets=secrets, device_code_prompt=device_code_prompt)
    except SecretStoreUnavailable as e:
        raise SourceError(f"profile '{profile.name}' needs a secret from the keyring. {e}") from None
    except SecretNotFound as e:
        raise SourceError(
            f"profile '{profile.name}': {e}. Store it again: "
            f"azml profile add {profile.name} --force ... --secret-stdin (or --certificate-password-stdin)"
        ) from None
    except (WrongPassphrase, AuthSetupError) as e:
        raise SourceError(f"profile '{profile.name}': {e}") from None


# -- the console on a profile --------------------------------------------------------------------


def ask_passphrase(profile: Profile) -> str | None:
    """The encrypted file store's passphrase, asked on the terminal before the TUI takes it over."""
    if profile.secret_store != "encrypted-file" or not profile.secret_refs():
        return None
    phrase = os.environ.get(PASSPHRASE_ENV, "")
    if phrase:
        return phrase
    if not sys.stdin.isatty():
        return None  # open_profile_source explains
    import getpass

    return getpass.getpass(f"Passphrase for the secrets of profile '{profile.name}': ") or None


def build_app(
    profile: Profile, *, read_only: bool = False, passphrase: str | None = None
) -> tuple[AzmlApp, Callable[[], None]]:
    """The console on a profile: the app, and a function that ends its session (call it after the app)."""
    from screens.auth import AuthProblemScreen, DeviceCodeScreen

    from .app import AzmlApp

    sources: list[Source] = []
    dialogs: list[Any] = []

    def prompt(url: str, code: str, expires_on: Any) -> None:
        # called in the connect worker while azure-identity polls: show the code in a dialog
        dialog = DeviceCodeScreen(url, code, expires_on)
        dialogs.append(dialog)
        app.call_from_thread(app.push_screen, dialog)

    def connect() -> Any:
        if unknown_theme:
            known = ", ".join(sorted(app.available_themes))
            app.call_from_thread(
                app.notify, f"Unknown theme '{profile.theme}' in the profile (known: {known})", severity="warning"
            )
        try:
            source = open_profile(profile, read_only=read_only, device_code_prompt=prompt, passphrase=passphrase)
        except SourceError as e:
            app.call_from_thread(app.push_screen, AuthProblemScreen(f"Profile {profile.name}", str(e)))
            raise
        sources.append(source)
        if profile.auth in INTERACTIVE:
            try:
                source.session.credential.get_token(source.session.cloud.arm_scope)
            finally:
                for dialog in dialogs:
                    app.call_from_thread(_close_dialog, app, dialog)
        return source.session

    app = AzmlApp(
        connect,
        profile=profile.name,
        read_only=read_only or profile.read_only,
        production=profile.production,
        refresh_interval=profile.refresh_interval,
        default_workspace=profile.default_workspace,
    )
    if profile.keymap:
        from .installed import KEY_IDS

        app.set_keymap({bid: keys for bid, keys in profile.keymap if bid in KEY_IDS})
    unknown_theme = bool(profile.theme) and profile.theme not in app.available_themes
    if profile.theme and not unknown_theme:
        app.theme = profile.theme

    def close_all() -> None:
        while sources:
            sources.pop().close()

    return app, close_all


def _close_dialog(app: Any, dialog: Any) -> None:
    if dialog in app.screen_stack:
        dialog.dismiss()


def run_console(name: str | None, *, read_only: bool = False) -> int:
    """`azml [--profile NAME]`: the console on the named or default profile."""
    try:
        profile = resolve(name)
    except SourceError as e:
        print(f"azml: {e}", file=sys.stderr)
        return ExitCode.USAGE
    if profile is None:
        from .demo import run_demo

        return run_demo({}, read_only=read_only)
    app, close = build_app(profile, read_only=read_only, passphrase=ask_passphrase(profile))
    try:
        app.run()
    finally:
        close()
    return int(app.return_code or 0)
