"""Profiles in one TOML file: read with tomllib, written with tomlkit (comments survive), validated strictly.

No secret ever lives here: a profile names its secrets by reference (``client_secret_ref``,
``certificate_password_ref``) and the values sit in the OS keyring. Every problem is reported with the
file, the line, the key and the rule it breaks, and unknown keys are errors, not silently ignored.

Kept free of Textual and the Azure SDKs: the headless commands load profiles too.
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .config_io import UnreadableConfig, config_lock, depth_rule, read_limited, write_atomic

CONFIG_ENV = "AZML_CONFIG_DIR"
CONFIG_FILE = "config.toml"

BUILTIN_CLOUD_NAMES = ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud")
CUSTOM_CLOUD = "custom"
AUTH_METHODS = (
    "azure-cli",
    "device-code",
    "managed-identity",
    "service-principal",
    "environment",
    "interactive-browser",
    "emulator",
)
SECRET_STORES = ("keyring", "encrypted-file")
DEMO_PROFILE = "demo"  # built in: the embedded emulator; never stored in the file

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TENANT_RE = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Za-z0-9.-]+)$"
)
REF_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,200}$")
THEME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
BINDING_ID_RE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$")
KEYS_RE = re.compile(r"^[A-Za-z0-9_+]+(,[A-Za-z0-9_+]+)*$")
MIN_REFRESH_S = 2.0
MAX_REFRESH_S = 3600.0

TOP_KEYS = ("default_profile", "profiles")
ENDPOINT_KEYS = ("authority", "log_analytics", "metrics", "portal", "storage_suffix")


def config_dir() -> Path:
    """The config directory: $AZML_CONFIG_DIR, else the platform's user config dir for azml."""
    override = os.environ.get(CONFIG_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("azml", appauthor=False))


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


@dataclass(frozen=True)
class Problem:
    file: str
    line: int  # 1-based; 0 when the file itself is the problem
    key: str  # dotted, e.g. profiles.prod.auth
    rule: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key or '(file)'}: {self.rule}"


class ConfigError(Exception):
    """The config file breaks the rules; each Problem says where and why."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Profile:
    name: str
    auth: str = "azure-cli"
    cloud: str = "AzureCloud"
    endpoint: str = ""  # custom clouds: every service at this base URL (e.g. `azml emulator serve`)
    endpoints: tuple[tuple[str, str], ...] = ()  # custom clouds: per-service overrides of `endpoint`
    ca_bundle: str = ""  # custom clouds: a PEM to trust instead of the system store
    tenant: str = ""
    subscriptions: tuple[str, ...] = ()  # empty: all
    default_workspace: str = ""
    client_id: str = ""  # service principal, or a user-assigned managed identity
    client_secret_ref: str = ""  # keyring reference, never the value
    certificate: str = ""  # service principal certificate (PEM/PKCS12 path)
    certificate_password_ref: str = ""  # keyring reference, never the value
    secret_store: str = "keyring"
    read_only: bool = False
    production: bool = False
    refresh_interval: float = 30.0
    theme: str = ""
    keymap: tuple[tuple[str, str], ...] = ()
    checks: tuple[tuple[str, float], ...] = ()  # `azml check` thresholds; their names are checked there

    @property
    def all_subscriptions(self) -> bool:
        return not self.subscriptions

    def secret_refs(self) -> tuple[str, ...]:
        return tuple(r for r in (self.client_secret_ref, self.certificate_password_ref) if r)

    def to_toml(self) -> dict[str, Any]:
        """The profile's table as it is written (defaults left out, names in TOML spelling)."""
        out: dict[str, Any] = {}
        defaults = Profile(name=self.name)
        for f in fields(self):
            if f.name == "name":
                continue
            value = getattr(self, f.name)
            if f.name == "subscriptions":
                out["subscriptions"] = list(value) if value else "all"
                continue
            if value == getattr(defaults, f.name) and f.name not in ("auth", "cloud"):
                continue
            if f.name in ("endpoints", "keymap", "checks"):
                out[f.name] = dict(value)
            elif f.name == "refresh_interval":
                out[f.name] = int(value) if float(value).is_integer() else float(value)
            else:
                out[f.name] = value
        return out


@dataclass(frozen=True)
class Config:
    path: Path
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    default_profile: str = ""

    def get(self, name: str | None) -> Profile:
        """The named profile, or the default one; raise LookupError with what to do."""
        wanted = name or self.default_profile
        if not wanted:
            if len(self.profiles) == 1:
                return next(iter(self.profiles.values()))
            if not self.profiles:
                raise LookupError(
                    f"no profile is configured yet ({self.path}). Add one with `azml profile add NAME`, "
                    "or try `azml --demo` to open the console on the demo estate."
                )
            raise LookupError(
                f"no default profile is set and there are several ({', '.join(sorted(self.profiles))}): "
                "pass --profile NAME, or set default_profile in " + str(self.path)
            )
        try:
            return self.profiles[wanted]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise LookupError(f"no profile named '{wanted}' in {self.path} (profiles: {known})") from None


# -- line numbers --------------------------------------------------------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"' + "|" + r"'[^']*'"
_KEY_PART = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER_RE = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_KEYVAL_RE = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE_KEY_RE = re.compile(rf"[{{,]\s*({_DOTTED})\s*=")


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = re.findall(rf"{_KEY_PART}", dotted)
    out = []
    for p in parts:
        if p.startswith('"'):
            try:
                p = tomllib.loads(f"k = {p}")["k"]
            except tomllib.TOMLDecodeError:
                p = p[1:-1]
        elif p.startswith("'"):
            p = p[1:-1]
        out.append(p)
    return tuple(out)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Where each key (as a path) is first written: tomllib keeps no positions, so scan the text.

    Handles table headers, dotted keys, one-line inline tables, and skips multi-line strings.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        if m := _HEADER_RE.match(line):
            table = _split_key(m.group(1))
            lines.setdefault(table, number)
            continue
        if m := _KEYVAL_RE.match(line):
            path = table + _split_key(m.group(1))
            lines.setdefault(path, number)
            rest = line[m.end() :]
            for delim in ('"""', "'''"):
                if rest.count(delim) % 2 == 1:
                    in_multiline = delim
                    break
            if in_multiline is None and "{" in rest:
                for im in _INLINE_KEY_RE.finditer(rest):
                    lines.setdefault(path + _split_key(im.group(1)), number)
    return lines


# -- validation ----------------------------------------------------------------------------------


class _Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.file = str(path)
        self.lines = key_lines(text)
        self.problems: list[Problem] = []

    def line_of(self, key: tuple[str, ...]) -> int:
        for n in range(len(key), 0, -1):
            line = self.lines.get(key[:n])
            if line:
                return line
        return 1

    def fail(self, key: tuple[str, ...], rule: str) -> None:
        self.problems.append(Problem(self.file, self.line_of(key), ".".join(key), rule))


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _check_url(value: Any) -> str | None:
    if not isinstance(value, str) or not _URL_RE.match(value):
        return "must be an https:// URL"
    return None


def _profile(chk: _Checker, name: str, table: Any) -> Profile | None:
    base = ("profiles", name)
    if not NAME_RE.match(name):
        chk.fail(base, "a profile name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if name == DEMO_PROFILE:
        chk.fail(base, "'demo' is the built-in demo profile; choose another name")
    if not isinstance(table, dict):
        chk.fail(base, "must be a table ([profiles.NAME])")
        return None
    before = len(chk.problems)
    known = {f.name for f in fields(Profile)} - {"name"}
    values: dict[str, Any] = {}
    for key, value in table.items():
        k = (*base, key)
        if key not in known:
            chk.fail(k, f"unknown key (known: {', '.join(sorted(known))})")
            continue
        rule = _check_value(chk, k, key, value)
        if rule:
            chk.fail(k, rule)
        else:
            values[key] = value
    if len(chk.problems) > before:
        return None
    return _cross_check(chk, base, name, values)


_URL_RE = re.compile(r"^https://[^\s/]+(/\S*)?$")
_WORKSPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_/.-]{0,254}$")
_REF_RULE = "must be a keyring reference (letters, digits, _ . : / -), never the secret itself"
_CLOUDS = (*BUILTIN_CLOUD_NAMES, CUSTOM_CLOUD)


@functools.cache
def _schema() -> dict[str, tuple[object, str]]:
    """The profile keys whose value is one type with one rule, declared as msgspec types (choices, patterns,
    strict booleans); each with the message a user sees when the value breaks it."""
    from typing import Annotated, Literal

    import msgspec

    def matching(rx: re.Pattern[str]) -> object:
        return Annotated[str, msgspec.Meta(pattern=rx.pattern)]

    return {
        "auth": (Literal[AUTH_METHODS], f"must be one of {', '.join(AUTH_METHODS)}"),
        "cloud": (Literal[_CLOUDS], f"must be one of {', '.join(_CLOUDS)}"),
        "endpoint": (matching(_URL_RE), "must be an https:// URL"),
        "ca_bundle": (Annotated[str, msgspec.Meta(pattern=r"\S")], "must be a file path"),
        "certificate": (Annotated[str, msgspec.Meta(pattern=r"\S")], "must be a file path"),
        "tenant": (matching(TENANT_RE), "must be a tenant id (GUID) or domain"),
        "default_workspace": (
            matching(_WORKSPACE_RE),
            "must be a workspace name (or SUBSCRIPTION/RESOURCE_GROUP/NAME)",
        ),
        "client_id": (matching(GUID_RE), "must be an application (client) id, a GUID"),
        "client_secret_ref": (matching(REF_RE), _REF_RULE),
        "certificate_password_ref": (matching(REF_RE), _REF_RULE),
        "secret_store": (Literal[SECRET_STORES], f"must be one of {', '.join(SECRET_STORES)}"),
        "read_only": (bool, "must be true or false"),
        "production": (bool, "must be true or false"),
    }


def _breaks(value: Any, schema: object) -> bool:
    import msgspec

    try:
        msgspec.convert(value, schema)
    except msgspec.ValidationError:
        return True
    return False


def _check_value(chk: _Checker, k: tuple[str, ...], key: str, value: Any) -> str | None:
    declared = _schema().get(key)
    if declared is not None:
        schema, message = declared
        return message if _breaks(value, schema) else None
    if key == "endpoints":
        if not isinstance(value, dict):
            return f"must be a table with any of {', '.join(ENDPOINT_KEYS)}"
        for sub, v in value.items():
            if sub not in ENDPOINT_KEYS:
                chk.fail((*k, sub), f"unknown endpoint (known: {', '.join(ENDPOINT_KEYS)})")
            elif sub == "storage_suffix":
                if not _is_str(v) or not re.match(r"^[a-z0-9.-]+$", v):
                    chk.fail((*k, sub), "must be a DNS suffix such as core.windows.net")
            elif rule := _check_url(v):
                chk.fail((*k, sub), rule)
        return None
    if key == "subscriptions":
        if value == "all":
            return None
        if not isinstance(value, list) or not value:
            return 'must be "all" or a non-empty list of subscription ids'
        for i, v in enumerate(value):
            if not _is_str(v) or not GUID_RE.match(v):
                return f"item {i + 1} is not a subscription id (a GUID)"
        if len({v.lower() for v in value}) != len(value):
            return "lists a subscription twice"
        return None
    if key == "refresh_interval":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "must be a number of seconds"
        if value != 0 and not MIN_REFRESH_S <= value <= MAX_REFRESH_S:
            return f"must be 0 (off) or between {MIN_REFRESH_S:g} and {MAX_REFRESH_S:g} seconds"
        return None
    if key == "theme":
        from .installed import THEMES

        if not _is_str(value) or not THEME_RE.match(value):
            return "must be a theme name such as textual-dark"
        return None if value in THEMES else f"unknown theme (installed: {', '.join(THEMES)})"
    if key == "keymap":
        from .installed import KEY_IDS, closest_key_id

        if not isinstance(value, dict):
            return "must be a table of binding id = keys (e.g. 'app.quit' = \"ctrl+q\")"
        for bid, keys in value.items():
            if not BINDING_ID_RE.match(bid):
                chk.fail((*k, bid), "binding ids look like screen.action (e.g. app.quit)")
            elif bid not in KEY_IDS:
                near = closest_key_id(bid)
                hint = f"did you mean {near}?" if near else "no key of the console has it; e.g. app.quit, list.refresh"
                chk.fail((*k, bid), f"unknown key id ({hint})")
            elif not _is_str(keys) or not KEYS_RE.match(keys):
                chk.fail((*k, bid), "must be a key or comma-separated keys (e.g. ctrl+q or q,ctrl+q)")
        return None
    if key == "checks":
        if not isinstance(value, dict):
            return "must be a table of threshold = number (see azml check --help)"
        from .thresholds import SPECS, canonical, unknown_rule, value_rule

        for name, v in value.items():  # the same schema `azml check` applies (console.thresholds)
            if canonical(name) not in SPECS:
                chk.fail((*k, name), unknown_rule())
            elif rule := value_rule(name, v):
                chk.fail((*k, name), rule)
        return None
    return f"no rule for {key}"  # pragma: no cover - every known key has a rule


def _cross_check(chk: _Checker, base: tuple[str, ...], name: str, v: dict[str, Any]) -> Profile | None:
    before = len(chk.problems)
    auth = v.get("auth", "azure-cli")
    cloud = v.get("cloud", "AzureCloud")
    if cloud == CUSTOM_CLOUD and "endpoint" not in v:
        chk.fail((*base, "cloud"), 'a custom cloud needs endpoint = "https://..."')
    if cloud != CUSTOM_CLOUD:
        for key in ("endpoint", "endpoints", "ca_bundle"):
            if key in v:
                chk.fail((*base, key), 'only for cloud = "custom"')
    if auth == "emulator" and cloud != CUSTOM_CLOUD:
        chk.fail((*base, "auth"), 'emulator needs cloud = "custom" with the endpoint `azml emulator serve` printed')
    if auth in ("service-principal", "emulator") and "tenant" not in v:
        chk.fail((*base, "auth"), f"{auth} needs tenant")
    if auth == "service-principal":
        if "client_id" not in v:
            chk.fail((*base, "auth"), "service-principal needs client_id")
        if ("client_secret_ref" in v) == ("certificate" in v):
            chk.fail((*base, "auth"), "service-principal needs exactly one of client_secret_ref or certificate")
    for key in ("client_secret_ref", "certificate", "certificate_password_ref"):
        if key in v and auth != "service-principal":
            chk.fail((*base, key), "only for auth = service-principal")
    if "certificate_password_ref" in v and "certificate" not in v:
        chk.fail((*base, "certificate_password_ref"), "only with certificate")
    if "client_id" in v and auth not in ("service-principal", "managed-identity", "device-code", "interactive-browser"):
        chk.fail((*base, "client_id"), f"not used by auth = {auth}")
    if len(chk.problems) > before:
        return None
    subs = v.get("subscriptions", "all")
    return Profile(
        name=name,
        auth=auth,
        cloud=cloud,
        endpoint=v.get("endpoint", ""),
        endpoints=tuple(sorted(v.get("endpoints", {}).items())),
        ca_bundle=v.get("ca_bundle", ""),
        tenant=v.get("tenant", ""),
        subscriptions=() if subs == "all" else tuple(subs),
        default_workspace=v.get("default_workspace", ""),
        client_id=v.get("client_id", ""),
        client_secret_ref=v.get("client_secret_ref", ""),
        certificate=v.get("certificate", ""),
        certificate_password_ref=v.get("certificate_password_ref", ""),
        secret_store=v.get("secret_store", "keyring"),
        read_only=v.get("read_only", False),
        production=v.get("production", False),
        refresh_interval=float(v.get("refresh_interval", 30.0)),
        theme=v.get("theme", ""),
        keymap=tuple(sorted(v.get("keymap", {}).items())),
        checks=tuple(sorted(v.get("checks", {}).items())),
    )


def parse_config(text: str, path: Path) -> Config:
    """Validate a config file's text; raise ConfigError listing every problem found."""
    broken = depth_rule(text)  # before parsing: tomllib recurses once per level
    if broken is not None:
        raise ConfigError([Problem(str(path), broken[1], "", broken[0])])
    try:
        data = tomllib.loads(text)
    except RecursionError:  # the guard above keeps this from happening; never a traceback if it does
        raise ConfigError([Problem(str(path), 1, "", "nested too deeply")]) from None
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        line = int(m.group(1)) if m else 1
        raise ConfigError([Problem(str(path), line, "", f"not valid TOML: {e}")]) from None
    chk = _Checker(path, text)
    for key in data:
        if key not in TOP_KEYS:
            chk.fail((key,), f"unknown key (known: {', '.join(TOP_KEYS)}; profiles go under [profiles.NAME])")
    profiles: dict[str, Profile] = {}
    raw = data.get("profiles", {})
    if not isinstance(raw, dict):
        chk.fail(("profiles",), "must be a table of profiles ([profiles.NAME])")
        raw = {}
    for name, table in raw.items():
        profile = _profile(chk, name, table)
        if profile is not None:
            profiles[name] = profile
    default = data.get("default_profile", "")
    if "default_profile" in data:
        if not isinstance(default, str) or not NAME_RE.match(default):
            chk.fail(("default_profile",), "must be a profile name")
            default = ""
        elif default not in raw and default != DEMO_PROFILE:
            chk.fail(("default_profile",), f"names no profile in this file ({', '.join(sorted(raw)) or 'none'})")
    if chk.problems:
        raise ConfigError(chk.problems)
    return Config(path=path, profiles=profiles, default_profile=default)


def load_config(path: Path | None = None) -> Config:
    """The config at ``path`` (default: config_path()); an absent file is an empty config."""
    path = path or config_path()
    try:
        text = read_limited(path)  # bounded, never blocks on a FIFO, refuses devices and deep nesting
    except FileNotFoundError:
        return Config(path=path)
    except UnreadableConfig as e:
        raise ConfigError([Problem(str(path), 0, "", str(e))]) from None
    return parse_config(text, path)


# -- writing -------------------------------------------------------------------------------------


def _document(path: Path) -> Any:
    import tomlkit

    try:
        return tomlkit.parse(read_limited(path))  # load_config() has just validated it, under the lock
    except FileNotFoundError:
        doc = tomlkit.document()
        doc.add(tomlkit.comment("azml-console profiles. Secrets are never stored here: only keyring references."))
        return doc


class ProfileExists(LookupError):
    """save_profile(replace=False) found a profile of that name."""


def save_profile(
    profile: Profile, *, path: Path | None = None, make_default: bool = False, replace: bool = True
) -> Config:
    """Add or replace one profile, keeping the rest of the file (comments included); validate the result.

    The whole read-modify-write holds the config lock, so concurrent writers lose nothing."""
    path = path or config_path()
    with config_lock(path):
        return _save_locked(profile, path, make_default, replace)


def _save_locked(profile: Profile, path: Path, make_default: bool, replace: bool) -> Config:
    import tomlkit

    current = load_config(path)  # refuse to rewrite a file that is already broken
    if not replace and profile.name in current.profiles:
        raise ProfileExists(f"profile '{profile.name}' exists: pass --force to replace it")
    doc = _document(path)
    if "profiles" not in doc:
        doc["profiles"] = tomlkit.table(is_super_table=True)
    table = tomlkit.table()
    for key, value in profile.to_toml().items():
        if isinstance(value, dict):
            inline = tomlkit.inline_table()
            inline.update(value)
            table[key] = inline
        else:
            table[key] = value
    doc["profiles"][profile.name] = table
    if make_default or not doc.get("default_profile"):
        doc["default_profile"] = profile.name  # tomlkit keeps plain keys above the tables
    text = tomlkit.dumps(doc)
    config = parse_config(text, path)  # never write a file we could not read back
    write_atomic(path, text)
    return config


def remove_profile(name: str, *, path: Path | None = None) -> Profile:
    path = path or config_path()
    with config_lock(path):
        return _remove_locked(name, path)


def _remove_locked(name: str, path: Path) -> Profile:
    config = load_config(path)
    if name not in config.profiles:
        raise LookupError(f"no profile named '{name}' in {path}")
    doc = _document(path)
    del doc["profiles"][name]
    if doc.get("default_profile") == name:
        rest = [n for n in config.profiles if n != name]
        if rest:
            doc["default_profile"] = rest[0]
        else:
            del doc["default_profile"]
    import tomlkit

    text = tomlkit.dumps(doc)
    parse_config(text, path)
    write_atomic(path, text)
    return config.profiles[name]


def with_changes(profile: Profile, **changes: Any) -> Profile:
    return replace(profile, **changes)


def check_profile(profile: Profile) -> list[str]:
    """The rules a new profile breaks, as "key: rule" lines (empty when it is valid)."""
    import tomlkit

    table = tomlkit.table()
    for key, value in profile.to_toml().items():
        table[key] = value
    doc = tomlkit.document()
    doc["profiles"] = tomlkit.table(is_super_table=True)
    doc["profiles"][profile.name] = table
    try:
        parse_config(tomlkit.dumps(doc), Path("<new profile>"))
    except ConfigError as e:
        prefix = f"profiles.{profile.name}."
        return [f"{p.key.removeprefix(prefix)}: {p.rule}" for p in e.problems]
    return []
