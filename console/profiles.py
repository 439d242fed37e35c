"""A profile resolved into a Cloud, a credential and a Session (console/run.py opens the console on it).

Secrets are read from the profile's store (the OS keyring, or the opt-in encrypted file) at the moment the
credential is built, in the connect worker: under the TUI nothing prompts on the terminal, and a missing or
locked keyring becomes a dialog with the ways out, not a traceback.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.secrets import SecretNotFound, SecretSource

from .config import CUSTOM_CLOUD, DEMO_PROFILE, ConfigError, Profile, config_dir, load_config
from .credentials import AuthSetupError, DeviceCodePrompt, build_credential
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
