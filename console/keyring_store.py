"""Secrets in the OS keyring (Secret Service, macOS Keychain, Windows Credential Locker), by reference.

A profile holds only a reference such as ``prod/client-secret``; the value is read here at the last moment.
When the keyring is absent or locked, the caller gets one SecretStoreUnavailable whose message lists the
ways out; no backend that prompts on the terminal or stores plain text is ever used.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from services.secrets import SecretNotFound

SERVICE = "azml-console"
SERVICE_ENV = "AZML_KEYRING_SERVICE"  # tests use their own service name

ABSENT = "absent"
LOCKED = "locked"
INSECURE = "insecure"
ERROR = "error"

WAYS_OUT = """Ways out:
  - unlock or start a keyring: on a desktop, unlock the login keyring; over SSH, run azml inside
      dbus-run-session -- sh -c 'read -rs PW; printf %s "$PW" |
        gnome-keyring-daemon --unlock --components=secrets >/dev/null; azml'
    (apt install gnome-keyring dbus-x11 if it is missing)
  - use an auth method that keeps no secret on this machine: azure-cli (az login), device-code,
    managed-identity or environment (AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET)
  - opt into the encrypted file store guarded by a passphrase: secret_store = "encrypted-file" in the
    profile (azml profile add NAME ... --secret-store encrypted-file)"""

_HEADLINES = {
    ABSENT: "The system keyring is not available: no Secret Service answered on D-Bus.",
    LOCKED: "The system keyring is locked, and azml will not prompt for its password.",
    INSECURE: "The keyring backend in use would store secrets in plain text or prompt on the terminal.",
    ERROR: "The system keyring failed.",
}


class SecretStoreUnavailable(Exception):
    """No usable secret store; the message says exactly what to do. It never contains a secret."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        self.headline = _HEADLINES.get(reason, _HEADLINES[ERROR])
        text = self.headline + (f" ({detail})" if detail else "") + "\n" + WAYS_OUT
        super().__init__(text)


class CannotList(Exception):
    """The secret store cannot enumerate its entries (only the Secret Service can be searched)."""


# keyring backends that are plain text or call getpass() on the terminal (fatal under the TUI)
_REFUSED_MODULES = ("keyrings.alt", "keyrings.cryptfile")


def _backends(backend: Any) -> list[Any]:
    inner = getattr(backend, "backends", None)
    return list(inner) if isinstance(inner, list | tuple) else [backend]


def _check_backend() -> Any:
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    usable = []
    for b in _backends(backend):
        module = type(b).__module__
        if isinstance(b, fail.Keyring) or module.startswith("keyring.backends.null"):
            continue
        if module.startswith(_REFUSED_MODULES):
            raise SecretStoreUnavailable(INSECURE, type(b).__module__ + "." + type(b).__name__)
        usable.append(b)
    if not usable:
        raise SecretStoreUnavailable(ABSENT)
    return backend


def _translate(e: Exception) -> SecretStoreUnavailable:
    from keyring import errors

    if isinstance(e, errors.KeyringLocked):
        return SecretStoreUnavailable(LOCKED)
    if isinstance(e, errors.InitError):
        # gnome-keyring answers a locked or missing collection with "Prompt dismissed" when no prompt can show
        return SecretStoreUnavailable(LOCKED, str(e).splitlines()[0] if str(e) else "")
    if isinstance(e, errors.NoKeyringError):
        return SecretStoreUnavailable(ABSENT)
    name = type(e).__name__  # shown to the user, never compared
    if _bus_unavailable(e):
        return SecretStoreUnavailable(ABSENT, name)
    return SecretStoreUnavailable(ERROR, name)


def _bus_unavailable(e: Exception) -> bool:
    """The Secret Service (or the D-Bus it speaks over) is not there: checked against the classes of the
    libraries the backend loaded (a library never loaded raised nothing)."""
    unavailable: list[type[BaseException]] = []
    if (ss := sys.modules.get("secretstorage.exceptions")) is not None:
        unavailable.append(ss.SecretServiceNotAvailableException)
    if (jw := sys.modules.get("jeepney.wrappers")) is not None:
        unavailable.append(jw.DBusErrorResponse)
    if (db := sys.modules.get("dbus.exceptions")) is not None:
        unavailable.append(db.DBusException)
    return isinstance(e, tuple(unavailable))


class KeyringSecrets:
    """A SecretSource over the OS keyring. Its repr never shows a value."""

    def __init__(self, service: str | None = None) -> None:
        self.service = service or os.environ.get(SERVICE_ENV, "") or SERVICE

    def _call(self, name: str, *args: str) -> Any:
        backend = _check_backend()
        try:
            return getattr(backend, name)(self.service, *args)
        except SecretStoreUnavailable:
            raise
        except Exception as e:
            from keyring.errors import PasswordDeleteError

            if name == "delete_password" and isinstance(e, PasswordDeleteError):
                return None
            raise _translate(e) from None

    def get_secret(self, ref: str) -> str:
        value = self._call("get_password", ref)
        if value is None:
            raise SecretNotFound(ref)
        return str(value)

    def has_secret(self, ref: str) -> bool:
        return self._call("get_password", ref) is not None

    def set_secret(self, ref: str, value: str) -> None:
        if not value:
            raise ValueError("an empty secret cannot be stored")
        self._call("set_password", ref, value)

    def delete_secret(self, ref: str) -> None:
        self._call("delete_password", ref)

    def list_refs(self) -> list[str]:
        """Every reference stored under this service (to find secrets whose profile is gone).

        Only the Secret Service can be searched by attribute; other backends raise CannotList."""
        backend = _check_backend()
        for b in _backends(backend):
            if not type(b).__module__.startswith("keyring.backends.SecretService"):
                continue
            from contextlib import closing

            try:
                collection = b.get_preferred_collection()
                username = b.schemes[b.scheme]["username"]
                with closing(collection.connection):
                    found = [
                        item.get_attributes().get(username, "")
                        for item in collection.search_items(b._query(self.service))
                    ]
            except SecretStoreUnavailable:
                raise
            except Exception as e:
                raise _translate(e) from None
            return sorted({ref for ref in found if ref})
        raise CannotList(f"the keyring in use ({type(backend).__name__}) cannot list its entries")

    def describe(self) -> str:
        return f"keyring service '{self.service}'"

    def __repr__(self) -> str:
        return f"KeyringSecrets(service={self.service!r})"


# -- opt-in encrypted file store -----------------------------------------------------------------

PASSPHRASE_ENV = "AZML_SECRETS_PASSPHRASE"
_FORMAT = "azml-secrets/1"
_CHECK = b"azml-secrets passphrase check"


class WrongPassphrase(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(f"the passphrase does not open {path}")


class EncryptedFileSecrets:
    """Secrets in one file, each a Fernet token under a key derived with scrypt from a passphrase.

    Only used when a profile says secret_store = "encrypted-file": never a silent fallback.
    """

    SCRYPT_N = 2**15
    SCRYPT_R = 8
    SCRYPT_P = 1

    def __init__(self, path: Any, passphrase: str) -> None:
        from pathlib import Path

        if not passphrase:
            raise ValueError("the encrypted file store needs a passphrase")
        self.path = Path(path)
        self._passphrase = passphrase.encode()
        self._fernet: Any = None

    def _key(self, salt: bytes, n: int, r: int, p: int) -> bytes:
        import base64

        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        raw = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(self._passphrase)
        return base64.urlsafe_b64encode(raw)

    def _load(self) -> dict[str, Any]:
        import base64
        import json

        from cryptography.fernet import Fernet, InvalidToken

        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            salt = os.urandom(16)
            kdf = {"name": "scrypt", "salt": base64.b64encode(salt).decode(), "n": self.SCRYPT_N}
            kdf.update(r=self.SCRYPT_R, p=self.SCRYPT_P)
            self._fernet = Fernet(self._key(salt, self.SCRYPT_N, self.SCRYPT_R, self.SCRYPT_P))
            check = self._fernet.encrypt(_CHECK).decode()
            return {"format": _FORMAT, "kdf": kdf, "check": check, "items": {}}
        except (OSError, ValueError) as e:
            raise SecretStoreUnavailable(ERROR, f"{self.path} is unreadable: {type(e).__name__}") from None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise SecretStoreUnavailable(ERROR, f"{self.path} is not an azml secrets file")
        if self._fernet is None:
            kdf = data["kdf"]
            salt = base64.b64decode(kdf["salt"])
            fernet = Fernet(self._key(salt, int(kdf["n"]), int(kdf["r"]), int(kdf["p"])))
            try:
                fernet.decrypt(data["check"].encode())
            except InvalidToken:
                raise WrongPassphrase(str(self.path)) from None
            self._fernet = fernet
        return data

    def _save(self, data: dict[str, Any]) -> None:
        import json

        from .config_io import write_atomic

        write_atomic(self.path, json.dumps(data, indent=1))  # a unique temp name, fsync'd, mode 0600

    def get_secret(self, ref: str) -> str:
        data = self._load()
        token = data["items"].get(ref)
        if token is None:
            raise SecretNotFound(ref)
        return str(self._fernet.decrypt(token.encode()).decode())

    def has_secret(self, ref: str) -> bool:
        return ref in self._load()["items"]

    def list_refs(self) -> list[str]:
        return sorted(self._load()["items"])

    def set_secret(self, ref: str, value: str) -> None:
        if not value:
            raise ValueError("an empty secret cannot be stored")
        data = self._load()
        data["items"][ref] = self._fernet.encrypt(value.encode()).decode()
        self._save(data)

    def delete_secret(self, ref: str) -> None:
        data = self._load()
        if data["items"].pop(ref, None) is not None:
            self._save(data)

    def describe(self) -> str:
        return f"encrypted file {self.path}"

    def __repr__(self) -> str:
        return f"EncryptedFileSecrets(path={str(self.path)!r})"
