"""`azml profile doctor [--fix]`: secrets in the store that no profile names any more (a profile add that was
killed between storing its secret and saving the profile), and profile secrets missing from the store.

Orphans are found by searching the Secret Service for this service's entries (other keyrings cannot be
listed: the message says so) and, when its passphrase is at hand, the encrypted file store. `--fix` removes
orphans under the config lock, so a profile being added at that moment is never robbed of its secret.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .exitcodes import ExitCode

EPILOG = """exit codes: 0 nothing to fix (or everything fixed); 1 orphaned secrets found (run with --fix);
2 the config file is invalid; 3 the secret store is unusable or cannot be listed."""


def register(psub: Any) -> None:
    doctor = psub.add_parser(
        "doctor",
        help="find secrets no profile names (and profile secrets that are missing); --fix removes orphans",
        epilog=EPILOG,
    )
    doctor.add_argument("--fix", action="store_true", help="remove the orphaned secrets")
    doctor.set_defaults(run=cmd_doctor)


def _err(message: str) -> None:
    print(f"azml: {message}", file=sys.stderr)


def cmd_doctor(args: argparse.Namespace) -> int:
    from .config import ConfigError, load_config
    from .config_io import config_lock
    from .keyring_store import CannotList, SecretStoreUnavailable

    try:
        config = load_config()
    except ConfigError as e:
        _err(f"the config file is invalid; fix it first:\n{e}")
        return ExitCode.USAGE
    code = ExitCode.OK
    with config_lock(config.path):  # no profile add between the listing and the removal
        try:
            config = load_config(config.path)
        except ConfigError as e:
            _err(f"the config file is invalid; fix it first:\n{e}")
            return ExitCode.USAGE
        for label, store, profiles in _stores(config):
            named = {ref for p in profiles for ref in p.secret_refs()}
            try:
                stored = set(store.list_refs())
            except CannotList as e:
                _err(f"{label}: {e}; look for entries of service '{getattr(store, 'service', '')}' by hand")
                code = ExitCode.AUTH
                continue
            except SecretStoreUnavailable as e:
                if e.reason == "absent" and not profiles:
                    print(f"{label}: no Secret Service here and no profile uses it: nothing to check")
                    continue
                _err(f"{label}: cannot be searched.\n{e}")
                code = ExitCode.AUTH
                continue
            orphans = sorted(stored - named)
            for p in profiles:
                for ref in p.secret_refs():
                    if ref not in stored:
                        print(
                            f"{label}: profile '{p.name}' names '{ref}', which is MISSING (store it again with "
                            f"azml profile add {p.name} --force ...)"
                        )
            for ref in orphans:
                if args.fix:
                    try:
                        store.delete_secret(ref)
                    except SecretStoreUnavailable as e:
                        _err(f"{label}: could not remove '{ref}'.\n{e}")
                        code = ExitCode.AUTH
                        continue
                    print(f"{label}: removed orphaned secret '{ref}' (no profile names it)")
                else:
                    print(f"{label}: orphaned secret '{ref}' (no profile names it)")
                    if code == ExitCode.OK:
                        code = ExitCode.PARTIAL
            if not orphans:
                print(f"{label}: no orphaned secrets")
    if code == ExitCode.PARTIAL:
        print("Run `azml profile doctor --fix` to remove the orphaned secrets.")
    return code


def _stores(config: Any) -> list[tuple[str, Any, list[Any]]]:
    from .config import config_dir
    from .keyring_store import PASSPHRASE_ENV, EncryptedFileSecrets, KeyringSecrets
    from .profiles import SECRETS_FILE

    keyring = KeyringSecrets()
    out: list[tuple[str, Any, list[Any]]] = [
        (keyring.describe(), keyring, [p for p in config.profiles.values() if p.secret_store == "keyring"])
    ]
    encrypted = config_dir() / SECRETS_FILE
    phrase = os.environ.get(PASSPHRASE_ENV, "")
    if encrypted.exists() and phrase:
        store = EncryptedFileSecrets(encrypted, phrase)
        out.append((store.describe(), store, [p for p in config.profiles.values() if p.secret_store != "keyring"]))
    elif encrypted.exists():
        print(f"encrypted file {encrypted}: not checked (its passphrase is read from {PASSPHRASE_ENV})")
    return out
