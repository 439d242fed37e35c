"""One credential per auth method, chosen explicitly by the profile.

No DefaultAzureCredential: it probes the instance metadata endpoint (slow, and misleading on a laptop) and
tries methods the user did not ask for. Tokens are cached persistently only where the OS can encrypt the
cache (TokenCachePersistenceOptions without allow_unencrypted_storage); elsewhere they live in memory and
`azml login` says so. The device-code flow never prints: the caller hands a prompt callback (the TUI shows
a dialog, the CLI writes to stderr).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.secrets import SecretSource

from .config import Profile, config_dir

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from services.cloud import Cloud

DeviceCodePrompt = Callable[[str, str, datetime], None]
CACHE_NAME = "azml-console"
INTERACTIVE = ("device-code", "interactive-browser")


class AuthSetupError(Exception):
    """The profile's auth method cannot work here; the message says what to do instead."""


def has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def encrypted_cache_available() -> bool:
    """Whether azure-identity can keep tokens in an OS-encrypted store on this machine.

    Windows (DPAPI) and macOS (Keychain) always can; Linux needs libsecret through PyGObject.
    """
    if sys.platform in ("darwin", "win32"):
        return True
    if importlib.util.find_spec("gi") is None:
        return False
    try:
        import gi

        gi.require_version("Secret", "1")
        from gi.repository import Secret  # noqa: F401
    except (ImportError, ValueError):
        return False
    return True


def cache_note() -> str:
    if encrypted_cache_available():
        return "tokens are cached encrypted by the OS (libsecret / Keychain / DPAPI)"
    return (
        "tokens are kept in memory only: this machine has no OS-encrypted token cache "
        "(install PyGObject and libsecret to keep them across runs); they are never written in plain text"
    )


def _cache_options() -> Any:
    if not encrypted_cache_available():
        return None
    from azure.identity import TokenCachePersistenceOptions

    return TokenCachePersistenceOptions(name=CACHE_NAME)  # never allow_unencrypted_storage


def record_path(profile: str) -> Path:
    return config_dir() / "auth" / f"{profile}.json"


def load_record(profile: str) -> Any:
    """The saved AuthenticationRecord (account and tenant, no secret) of a device-code/browser login."""
    from azure.identity import AuthenticationRecord

    try:
        return AuthenticationRecord.deserialize(record_path(profile).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError):
        return None


def save_record(profile: str, record: Any) -> Path:
    path = record_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(record.serialize())
    return path


def stderr_prompt(url: str, code: str, expires_on: datetime) -> None:
    """The CLI's device-code prompt (the TUI uses a dialog instead)."""
    print(f"To sign in, open {url} and enter the code {code} (expires {expires_on:%H:%M}).", file=sys.stderr)


def build_credential(
    profile: Profile,
    cloud: Cloud,
    *,
    secrets: SecretSource | None = None,
    device_code_prompt: DeviceCodePrompt | None = None,
) -> TokenCredential:
    """The credential for the profile's auth method; secrets are read from ``secrets`` here, by reference."""
    auth = profile.auth
    tenant = profile.tenant or None
    if auth == "emulator":
        # A standalone `azml emulator serve`: its local, unsigned tokens; no secret involved.
        from emulator.credential import EmulatorCredential

        return EmulatorCredential(profile.tenant)

    import azure.identity as identity

    authority = cloud.authority
    if auth == "azure-cli":
        return identity.AzureCliCredential(tenant_id=profile.tenant)  # type: ignore[return-value]
    if auth == "managed-identity":
        if profile.client_id:
            return identity.ManagedIdentityCredential(client_id=profile.client_id)  # type: ignore[return-value]
        return identity.ManagedIdentityCredential()  # type: ignore[return-value]
    if auth == "environment":
        missing = [v for v in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID") if not os.environ.get(v)]
        if missing:
            raise AuthSetupError(
                f"auth = environment needs {' and '.join(missing)} (and AZURE_CLIENT_SECRET or "
                "AZURE_CLIENT_CERTIFICATE_PATH) in the environment"
            )
        return identity.EnvironmentCredential(authority=authority)  # type: ignore[return-value]
    cache = _cache_options()
    extra: dict[str, Any] = {"cache_persistence_options": cache} if cache is not None else {}
    if not cloud.builtin:
        # a custom cloud's authority (e.g. `azml emulator serve`): trust its CA, and never ask the public
        # login host whether that authority is known
        extra["disable_instance_discovery"] = True
        if cloud.ca_bundle:
            extra["connection_verify"] = cloud.ca_bundle
    if auth == "service-principal":
        if secrets is None and profile.secret_refs():  # a certificate without a password needs no store
            raise AuthSetupError("a service principal needs the secret store")
        if profile.client_secret_ref and secrets is not None:
            secret = secrets.get_secret(profile.client_secret_ref)
            return identity.ClientSecretCredential(  # type: ignore[return-value]
                profile.tenant, profile.client_id, secret, authority=authority, **extra
            )
        password = (
            secrets.get_secret(profile.certificate_password_ref)
            if profile.certificate_password_ref and secrets is not None
            else None
        )
        if not Path(profile.certificate).expanduser().is_file():
            raise AuthSetupError(f"the certificate file {profile.certificate} does not exist")
        return identity.CertificateCredential(  # type: ignore[return-value]
            profile.tenant,
            profile.client_id,
            certificate_path=str(Path(profile.certificate).expanduser()),
            password=password,
            authority=authority,
            **extra,
        )
    if cache is not None:
        record = load_record(profile.name)
        if record is not None:
            extra["authentication_record"] = record
    if profile.client_id:
        extra["client_id"] = profile.client_id
    if auth == "device-code":
        return identity.DeviceCodeCredential(  # type: ignore[return-value]
            tenant_id=tenant,
            authority=authority,
            prompt_callback=device_code_prompt or stderr_prompt,  # never azure-identity's print()
            **extra,
        )
    if auth == "interactive-browser":
        if not has_display():
            raise AuthSetupError(
                "auth = interactive-browser needs a display (none here: no DISPLAY or WAYLAND_DISPLAY). "
                "Over SSH use auth = device-code."
            )
        return identity.InteractiveBrowserCredential(  # type: ignore[return-value]
            tenant_id=tenant, authority=authority, **extra
        )
    raise AuthSetupError(f"unknown auth method {auth!r}")
