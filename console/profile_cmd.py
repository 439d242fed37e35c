"""`azml profile add|list|show|remove|test`, `azml login`, `azml config path|check`.

Secrets come from stdin (``--secret-stdin``) or a hidden prompt on a terminal, never from a flag; they go to the
keyring (or the opt-in encrypted file) and the config file keeps only their reference.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .exitcodes import ExitCode

if TYPE_CHECKING:
    from services.secrets import SecretSource

    from .config import Profile

AUTH_CHOICES = (
    "azure-cli",
    "device-code",
    "managed-identity",
    "service-principal",
    "environment",
    "interactive-browser",
    "emulator",
)
CLOUD_CHOICES = ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud", "custom")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    from .cli import finite_number

    profile = sub.add_parser("profile", help="add, list, show, remove and test profiles")
    psub = profile.add_subparsers(dest="profile_command", metavar="ACTION", required=True)

    add = psub.add_parser(
        "add",
        help="add (or with --force replace) a profile",
        description="Add a profile. On a terminal, missing settings are asked for; otherwise flags only. "
        "Secrets are read from stdin (--secret-stdin) or a hidden prompt, never from a flag.",
    )
    add.add_argument("name")
    add.add_argument("--auth", choices=AUTH_CHOICES, help="how to sign in (default azure-cli)")
    add.add_argument("--cloud", choices=CLOUD_CHOICES, help="Azure cloud, or custom (with --endpoint)")
    add.add_argument("--endpoint", help="custom cloud: the base URL of every service (e.g. azml emulator serve's)")
    add.add_argument("--ca-bundle", help="custom cloud: a PEM file of CAs to trust")
    add.add_argument("--tenant", help="tenant id or domain")
    add.add_argument(
        "--subscription", action="append", default=[], metavar="ID", help="limit to these subscriptions (repeatable)"
    )
    add.add_argument("--client-id", help="service principal app id, or a user-assigned managed identity's")
    add.add_argument("--secret-stdin", action="store_true", help="read the client secret from stdin")
    add.add_argument("--certificate", metavar="PATH", help="service principal certificate (PEM or PKCS12)")
    add.add_argument(
        "--certificate-password-stdin", action="store_true", help="read the certificate's password from stdin"
    )
    add.add_argument(
        "--secret-store",
        choices=("keyring", "encrypted-file"),
        help="where secrets go (default keyring; encrypted-file is guarded by a passphrase)",
    )
    add.add_argument("--default-workspace", metavar="NAME")
    add.add_argument("--read-only", action="store_true", help="refuse every mutating action with this profile")
    add.add_argument("--production", action="store_true", help="mark as production (stronger confirmations)")
    add.add_argument(
        "--refresh-interval",
        type=finite_number(0, 3600, " seconds"),
        metavar="SECONDS",
        help="auto-refresh: 0 (off) or 2..3600 seconds",
    )
    add.add_argument("--theme")
    add.add_argument("--default", action="store_true", help="make it the default profile")
    add.add_argument("--force", action="store_true", help="replace a profile of the same name")
    add.set_defaults(run=cmd_add)

    lst = psub.add_parser("list", help="list profiles")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(run=cmd_list)

    show = psub.add_parser("show", help="show a profile (secrets redacted)")
    show.add_argument("name", nargs="?")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_show)

    rm = psub.add_parser("remove", help="remove a profile and its stored secrets")
    rm.add_argument("name")
    rm.set_defaults(run=cmd_remove)

    from .profile_doctor import register as register_doctor

    register_doctor(psub)

    test = psub.add_parser(
        "test", parents=[common], help="sign in and list the subscriptions and workspaces the profile can see"
    )
    test.add_argument("name", nargs="?", help="the profile (default: --profile or the default profile)")
    test.add_argument("--json", action="store_true")
    test.set_defaults(run=cmd_test)

    login = sub.add_parser("login", parents=[common], help="sign in with a profile (device code, browser, ...)")
    login.set_defaults(run=cmd_login)

    config = sub.add_parser("config", help="the config file")
    csub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    path = csub.add_parser("path", help="print the config file's path")
    path.set_defaults(run=cmd_config_path)
    check = csub.add_parser("check", help="validate the config file")
    check.set_defaults(run=cmd_config_check)


def _err(message: str) -> None:
    print(f"azml: {message}", file=sys.stderr)


# -- add -----------------------------------------------------------------------------------------


def _ask(label: str, default: str = "") -> str:
    suffix = f" [{default}]" if default else ""
    answer = input(f"{label}{suffix}: ").strip()
    return answer or default


def _read_stdin_secret(what: str) -> str:
    value = sys.stdin.read()
    value = value.rstrip("\r\n")
    if not value:
        raise ValueError(f"--{what}-stdin: stdin was empty")
    return value


def _interactive(args: argparse.Namespace) -> None:
    """Fill what the flags left out by asking (only when stdin is a terminal)."""
    if args.auth is None:
        args.auth = _ask(f"Auth method ({', '.join(AUTH_CHOICES)})", "azure-cli")
    if args.cloud is None and args.auth != "emulator" and not args.endpoint:
        args.cloud = _ask("Cloud (AzureCloud, AzureUSGovernment, AzureChinaCloud, custom)", "AzureCloud")
    if (args.cloud == "custom" or args.auth == "emulator") and not args.endpoint:
        args.endpoint = _ask("Endpoint (https://...)")
        if not args.ca_bundle:
            args.ca_bundle = _ask("CA bundle file (empty for the system store)")
    if args.tenant is None and args.auth in ("service-principal", "emulator", "device-code", "interactive-browser"):
        args.tenant = _ask(
            "Tenant id or domain"
            + (" (empty for your home tenant)" if args.auth in ("device-code", "interactive-browser") else "")
        )
    if args.auth == "service-principal":
        if not args.client_id:
            args.client_id = _ask("Client (application) id")
        if not args.certificate and not args.secret_stdin:
            args.certificate = _ask("Certificate file (empty to use a client secret)") or None
    if not args.subscription:
        subs = _ask("Subscriptions (space-separated ids, empty for all)")
        args.subscription = subs.split()
    if args.default_workspace is None:
        args.default_workspace = _ask("Default workspace (empty for none)") or None


def _profile_from_args(args: argparse.Namespace) -> Profile:
    from .config import Profile

    auth = args.auth or "azure-cli"
    cloud = args.cloud or ("custom" if (args.endpoint or auth == "emulator") else "AzureCloud")
    client_secret_ref = ""
    certificate_password_ref = ""
    if auth == "service-principal":
        if args.certificate:
            if args.certificate_password_stdin:
                certificate_password_ref = f"{args.name}/certificate-password"
        else:
            client_secret_ref = f"{args.name}/client-secret"
    return Profile(
        name=args.name,
        auth=auth,
        cloud=cloud,
        endpoint=args.endpoint or "",
        ca_bundle=args.ca_bundle or "",
        tenant=args.tenant or "",
        subscriptions=tuple(args.subscription),
        default_workspace=args.default_workspace or "",
        client_id=args.client_id or "",
        client_secret_ref=client_secret_ref,
        certificate=args.certificate or "",
        certificate_password_ref=certificate_password_ref,
        secret_store=args.secret_store or "keyring",
        read_only=bool(args.read_only),
        production=bool(args.production),
        refresh_interval=30.0 if args.refresh_interval is None else float(args.refresh_interval),
        theme=args.theme or "",
    )


def _store_for_add(profile: Profile, interactive: bool) -> SecretSource:
    import os

    from .keyring_store import PASSPHRASE_ENV
    from .profiles import secret_store

    passphrase = None
    if profile.secret_store == "encrypted-file" and not os.environ.get(PASSPHRASE_ENV):
        if not interactive:
            raise ValueError(f"the encrypted file store needs its passphrase in {PASSPHRASE_ENV}")
        import getpass

        passphrase = getpass.getpass("Passphrase for the encrypted secrets file: ")
    return secret_store(profile, passphrase)


def cmd_add(args: argparse.Namespace) -> int:
    from .config import ConfigError, check_profile, load_config
    from .config_io import config_lock
    from .keyring_store import SecretStoreUnavailable, WrongPassphrase
    from .source import SourceError

    interactive = sys.stdin.isatty()
    if args.secret_stdin and args.certificate_password_stdin:
        _err("stdin holds one secret: use --secret-stdin or --certificate-password-stdin, not both")
        return ExitCode.USAGE
    if (args.secret_stdin or args.certificate_password_stdin) and args.auth not in (None, "service-principal"):
        _err("--secret-stdin and --certificate-password-stdin are for --auth service-principal")
        return ExitCode.USAGE
    if args.secret_stdin or args.certificate_password_stdin:
        args.auth = "service-principal"
    try:
        existing = load_config()
    except ConfigError as e:
        _err(f"the config file is invalid; fix it first:\n{e}")
        return ExitCode.USAGE
    if args.name in existing.profiles and not args.force:
        _err(f"profile '{args.name}' exists: pass --force to replace it")
        return ExitCode.USAGE
    try:
        if interactive and not (args.secret_stdin or args.certificate_password_stdin):
            _interactive(args)
    except EOFError:
        _err("cancelled")
        return ExitCode.USAGE
    profile = _profile_from_args(args)
    problems = check_profile(profile)
    if profile.certificate:
        from .credentials import certificate_problem

        if problem := certificate_problem(profile.certificate):
            problems.append(f"certificate: {problem}")
    if problems:
        _err(f"profile '{profile.name}' is not valid:\n" + "\n".join(f"  {p}" for p in problems))
        return ExitCode.USAGE
    secrets: dict[str, str] = {}
    try:
        if profile.client_secret_ref:
            if args.secret_stdin:
                secrets[profile.client_secret_ref] = _read_stdin_secret("secret")
            elif interactive:
                import getpass

                secrets[profile.client_secret_ref] = getpass.getpass("Client secret (hidden): ")
                if not secrets[profile.client_secret_ref]:
                    raise ValueError("the client secret is empty")
            else:
                raise ValueError("a service principal with a secret needs --secret-stdin (the secret on stdin)")
        if profile.certificate_password_ref:
            secrets[profile.certificate_password_ref] = _read_stdin_secret("certificate-password")
    except ValueError as e:
        _err(str(e))
        return ExitCode.USAGE
    store: SecretSource | None = None
    try:
        if secrets:
            store = _store_for_add(profile, interactive)
    except (SecretStoreUnavailable, WrongPassphrase, SourceError, ValueError) as e:
        _err(f"the secret was not stored and the profile was not added.\n{e}")
        return ExitCode.AUTH
    old = existing.profiles.get(profile.name)
    # The secret and the profile are one step: under the config lock (no other writer, no `profile doctor
    # --fix` in between), and a profile write that fails for any reason takes the new secret back out.
    with config_lock(existing.path):
        code = _store_then_save(profile, store, secrets, old, make_default=args.default, replace=args.force)
    if code != ExitCode.OK:
        return code
    if old is not None:
        for ref in set(old.secret_refs()) - set(profile.secret_refs()):
            _forget(_quiet_store(old), ref)
    where = f" ({store.describe()})" if store is not None and hasattr(store, "describe") else ""
    stored = f"; {len(secrets)} secret(s) stored by reference{where}" if secrets else ""
    print(f"Profile '{profile.name}' saved to {existing.path}{stored}. Try: azml profile test {profile.name}")
    return ExitCode.OK


def _store_then_save(
    profile: Profile,
    store: SecretSource | None,
    secrets: dict[str, str],
    old: Profile | None,
    *,
    make_default: bool,
    replace: bool,
) -> int:
    from .config import ConfigError, ProfileExists, save_profile
    from .keyring_store import SecretStoreUnavailable, WrongPassphrase
    from .source import SourceError

    previous: dict[str, str | None] = {}  # what a replaced profile's same-named secrets held before
    stored: list[str] = []
    try:
        try:
            for ref, value in secrets.items():
                if old is not None and ref in old.secret_refs() and store.has_secret(ref):  # type: ignore[union-attr]
                    previous[ref] = store.get_secret(ref)  # type: ignore[union-attr]
                store.set_secret(ref, value)  # type: ignore[union-attr]
                stored.append(ref)
        except (SecretStoreUnavailable, WrongPassphrase, SourceError, ValueError) as e:
            _err(f"the secret was not stored and the profile was not added.\n{e}")
            raise _Undo(ExitCode.AUTH) from None
        try:
            save_profile(profile, make_default=make_default, replace=replace)
        except ProfileExists as e:
            _err(str(e))
            raise _Undo(ExitCode.USAGE) from None
        except (ConfigError, OSError) as e:
            _err(f"the profile was not saved: {e}")
            raise _Undo(ExitCode.USAGE) from None
    except BaseException as e:  # ctrl+c, a crash: never leave a secret with no profile
        for ref in stored:
            before = previous.get(ref)
            if before is not None:
                _restore(store, ref, before)
            else:
                _forget(store, ref)
        if isinstance(e, _Undo):
            return e.code
        raise
    return ExitCode.OK


class _Undo(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _restore(store: SecretSource | None, ref: str, value: str) -> None:
    try:
        store.set_secret(ref, value)  # type: ignore[union-attr]
    except Exception:
        pass


def _quiet_store(profile: Profile) -> SecretSource | None:
    try:
        from .profiles import secret_store

        return secret_store(profile)
    except Exception:
        return None


def _forget(store: SecretSource | None, ref: str) -> bool:
    if store is None:
        return False
    try:
        store.delete_secret(ref)  # type: ignore[attr-defined]
        return True
    except Exception:
        return False


# -- list / show / remove ------------------------------------------------------------------------


def _load() -> Any:
    from .config import ConfigError, load_config

    try:
        return load_config()
    except ConfigError as e:
        _err(f"the config file is invalid:\n{e}")
        return None


def cmd_list(args: argparse.Namespace) -> int:
    import json

    config = _load()
    if config is None:
        return ExitCode.USAGE
    rows = [
        {
            "name": p.name,
            "default": p.name == (config.default_profile or (p.name if len(config.profiles) == 1 else "")),
            "auth": p.auth,
            "cloud": p.cloud,
            "tenant": p.tenant,
            "read_only": p.read_only,
            "production": p.production,
        }
        for p in sorted(config.profiles.values(), key=lambda p: p.name)
    ]
    if args.json:
        print(json.dumps({"path": str(config.path), "profiles": rows}, indent=2))
        return ExitCode.OK
    if not rows:
        print(f"No profiles in {config.path}. Add one with `azml profile add NAME`; `azml --demo` needs none.")
    for r in rows:
        flags = " ".join(
            f for f in ("read-only" if r["read_only"] else "", "production" if r["production"] else "") if f
        )
        mark = "*" if r["default"] else " "
        print(f"{mark} {r['name']:<20} {r['auth']:<20} {r['cloud']:<18} {r['tenant'] or '-':<38} {flags}".rstrip())
    print("  demo                 (built in: the embedded emulator, `azml --demo`)")
    return ExitCode.OK


def _secret_state(profile: Profile, ref: str) -> str:
    from .keyring_store import SecretStoreUnavailable

    if profile.secret_store == "encrypted-file":
        import os

        from .keyring_store import PASSPHRASE_ENV

        if not os.environ.get(PASSPHRASE_ENV):
            return "in the encrypted file store"
    try:
        from .profiles import secret_store

        store = secret_store(profile)
        present = store.has_secret(ref)  # type: ignore[attr-defined]
    except SecretStoreUnavailable as e:
        return f"keyring unavailable: {e.headline}"
    except Exception as e:
        return f"not checked ({type(e).__name__})"
    return "stored" if present else "MISSING from the secret store"


def cmd_show(args: argparse.Namespace) -> int:
    import json

    config = _load()
    if config is None:
        return ExitCode.USAGE
    try:
        profile = config.get(args.name)
    except LookupError as e:
        _err(str(e))
        return ExitCode.USAGE
    data = {"name": profile.name, **profile.to_toml()}
    data["default"] = profile.name == config.default_profile
    for key in ("client_secret_ref", "certificate_password_ref"):
        ref = data.get(key)
        if ref:
            # the value is never read for display; only whether it is there
            data[key.removesuffix("_ref")] = f"<redacted: {_secret_state(profile, ref)}>"
    if args.json:
        print(json.dumps(data, indent=2))
        return ExitCode.OK
    width = max(len(k) for k in data)
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        print(f"{key:<{width}}  {value}")
    return ExitCode.OK


def cmd_remove(args: argparse.Namespace) -> int:
    from .config import ConfigError, remove_profile
    from .credentials import record_path

    try:
        profile = remove_profile(args.name)
    except (LookupError, ConfigError) as e:
        _err(str(e))
        return ExitCode.USAGE
    store = _quiet_store(profile)
    for ref in profile.secret_refs():
        if not _forget(store, ref):
            _err(f"warning: could not delete the stored secret '{ref}'; remove it from your keyring by hand")
    record_path(profile.name).unlink(missing_ok=True)
    print(f"Profile '{profile.name}' removed.")
    return ExitCode.OK


# -- test / login --------------------------------------------------------------------------------


def _exit_for(exc: BaseException) -> int:
    from services.errors import ErrorKind, classify

    kind = classify(exc).kind
    if kind in (ErrorKind.AUTH, ErrorKind.FORBIDDEN):
        return ExitCode.AUTH
    if kind in (ErrorKind.UNREACHABLE, ErrorKind.TRANSIENT):
        return ExitCode.UNREACHABLE
    return ExitCode.PARTIAL


def cmd_test(args: argparse.Namespace) -> int:
    import json

    from .source import SourceError, open_source

    if args.name:
        args.profile = args.name
    try:
        source = open_source(args)
    except SourceError as e:
        _err(str(e))
        return ExitCode.AUTH
    try:
        from services.workspaces import list_subscriptions, list_workspaces

        from .source import describe_error as describe

        session = source.session
        try:
            session.credential.get_token(session.cloud.arm_scope)
            subs = list_subscriptions(session)
        except Exception as e:
            _err(f"profile '{source.label}' could not sign in or list subscriptions: {describe(e)}")
            return _exit_for(e)
        try:
            workspaces = list_workspaces(session, [s.id for s in subs]) if subs else []
        except Exception as e:
            _err(f"signed in, but listing workspaces failed: {describe(e)}")
            return _exit_for(e)
    finally:
        source.close()
    if args.json:
        out = {
            "profile": source.label,
            "subscriptions": [{"id": s.id, "name": s.name, "state": s.state} for s in subs],
            "workspaces": [
                {
                    "name": w.name,
                    "resource_group": w.resource_group,
                    "subscription_id": w.subscription_id,
                    "location": w.location,
                }
                for w in workspaces
            ],
        }
        print(json.dumps(out, indent=2))
        return ExitCode.OK
    print(f"Profile '{source.label}': signed in; {len(subs)} subscription(s), {len(workspaces)} workspace(s)")
    names = {s.id: s.name for s in subs}
    for s in subs:
        print(f"  subscription {s.name} ({s.id}) {s.state}".rstrip())
    for w in workspaces:
        print(f"  workspace {w.name:<28} {w.resource_group:<28} {w.location:<14} {names.get(w.subscription_id, '')}")
    if not subs:
        print("  (the credential sees no subscription: check the tenant and its role assignments)")
    return ExitCode.OK


def cmd_login(args: argparse.Namespace) -> int:
    """Sign in, then prove it: the token's tenant must be the profile's, and Azure Resource Manager must accept
    the token (a local credential, or a token from the wrong tenant, is not "signed in")."""
    from services.workspaces import list_subscriptions

    from .credentials import INTERACTIVE, cache_note, encrypted_cache_available, save_record, stderr_prompt
    from .profiles import ask_passphrase, open_profile, resolve
    from .source import SourceError, describe_error

    try:
        profile = resolve(getattr(args, "profile", None))
        if profile is None:
            print("The demo profile needs no sign-in.")
            return ExitCode.OK
        source = open_profile(profile, device_code_prompt=stderr_prompt, passphrase=ask_passphrase(profile))
    except SourceError as e:
        _err(str(e))
        return ExitCode.AUTH
    session = source.session
    credential, cloud = session.credential, session.cloud
    who = f"with {profile.auth}"
    try:
        record = None
        if profile.auth in INTERACTIVE and encrypted_cache_available():
            record = credential.authenticate(scopes=[cloud.arm_scope])  # type: ignore[attr-defined]
            who = f"as {record.username}"
        token = credential.get_token(cloud.arm_scope).token
        wrong = _wrong_tenant(profile.tenant, token)
        if wrong:
            _err(f"sign-in failed for profile '{profile.name}': {wrong}")
            return ExitCode.AUTH
        subscriptions = list_subscriptions(session)  # Azure's word that the token is good
    except Exception as e:
        _err(f"sign-in failed for profile '{profile.name}': {describe_error(e, hint=False)}")
        return _exit_for(e)
    finally:
        source.close()
    if record is not None:
        save_record(profile.name, record)
    note = f"; {cache_note()}" if profile.auth in INTERACTIVE else ""
    seen = f"{len(subscriptions)} subscription(s) visible"
    print(f"Signed in to profile '{profile.name}' {who} ({seen}{note}).")
    return ExitCode.OK


def _wrong_tenant(tenant: str, token: str) -> str:
    """Why the token does not belong to the profile's tenant (a GUID), or "" (also when it cannot tell)."""
    import base64
    import json

    from .config import GUID_RE

    if not tenant or not GUID_RE.match(tenant):
        return ""  # a domain name: Azure checks it when the token is used
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        tid = str(claims.get("tid", "")) if isinstance(claims, dict) else ""
    except (IndexError, ValueError):
        return ""
    if tid and tid.lower() != tenant.lower():
        return f"the token is for tenant {tid}, not the profile's tenant {tenant}"
    return ""


# -- config --------------------------------------------------------------------------------------


def cmd_config_path(args: argparse.Namespace) -> int:
    from .config import config_path

    print(config_path())
    return ExitCode.OK


def cmd_config_check(args: argparse.Namespace) -> int:
    config = _load()
    if config is None:
        return ExitCode.USAGE
    print(f"{config.path}: {len(config.profiles)} profile(s), valid")
    return ExitCode.OK
