"""Where secret values come from: the caller hands a SecretSource and a reference, never the value.

Mutations that need a secret (a storage account key, a SAS token, a client secret) take a reference
string plus a SecretSource; the audit line records the reference only, and the value is read at the
last moment, inside the operation. A later issue backs this with the OS keyring.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from .errors import AzmlError


class SecretNotFound(AzmlError, LookupError):
    """The reference names no stored secret."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no secret stored under '{ref}'")
        self.ref = ref


@runtime_checkable
class SecretSource(Protocol):
    def get_secret(self, ref: str) -> str:
        """The secret stored under ``ref``; raise SecretNotFound (a LookupError) when there is none."""
        ...


class MemorySecrets:
    """An in-memory SecretSource (tests, one-off scripts). Its repr never shows a value."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def get_secret(self, ref: str) -> str:
        try:
            return self._values[ref]
        except KeyError:
            raise SecretNotFound(ref) from None

    def set_secret(self, ref: str, value: str) -> None:
        self._values[ref] = value

    def __repr__(self) -> str:
        return f"MemorySecrets(refs={sorted(self._values)!r})"
