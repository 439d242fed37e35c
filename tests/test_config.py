"""Profiles in TOML: strict validation with file, line, key and rule; tomlkit writes that keep comments.

Property-based tests feed malformed files: the loader either accepts them or raises ConfigError pointing at
the offending key's line, never another exception."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.cli import main
from console.config import (
    AUTH_METHODS,
    ConfigError,
    Profile,
    check_profile,
    config_path,
    key_lines,
    load_config,
    parse_config,
    remove_profile,
    save_profile,
)

TENANT = "6513270e-269e-4d37-b2a7-4de452e6b438"
SUB = "d23f0824-128b-4f33-8c5c-7fd0a6a3a450"
APP = "11111111-2222-3333-4444-555555555555"
PATH = Path("/cfg/config.toml")

VALID = f"""# my profiles
default_profile = "prod"

[profiles.prod]
auth = "service-principal"   # the CI principal
cloud = "AzureCloud"
tenant = "{TENANT}"
subscriptions = ["{SUB}"]
client_id = "{APP}"
client_secret_ref = "prod/client-secret"
default_workspace = "mlw-prod-eus"
read_only = true
production = true
refresh_interval = 15
theme = "nord"
keymap = {{ "app.quit" = "ctrl+q", "list.refresh" = "r,f5" }}

[profiles.local]
auth = "emulator"
cloud = "custom"
endpoint = "https://127.0.0.1:8443"
ca_bundle = "/tmp/ca.pem"
tenant = "{TENANT}"
subscriptions = "all"

[profiles.local.endpoints]
portal = "https://127.0.0.1:8443/portal"
"""


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def problems(text: str) -> list[Any]:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, PATH)
    return list(exc.value.problems)


def test_valid_file_loads_every_setting() -> None:
    config = parse_config(VALID, PATH)
    assert config.default_profile == "prod"
    prod = config.get(None)
    assert prod.auth == "service-principal" and prod.client_secret_ref == "prod/client-secret"
    assert prod.subscriptions == (SUB,) and not prod.all_subscriptions
    assert prod.read_only and prod.production and prod.refresh_interval == 15
    assert dict(prod.keymap) == {"app.quit": "ctrl+q", "list.refresh": "r,f5"}
    local = config.get("local")
    assert local.cloud == "custom" and local.all_subscriptions
    assert dict(local.endpoints) == {"portal": "https://127.0.0.1:8443/portal"}


def test_unknown_keys_are_rejected_with_file_line_key_and_rule() -> None:
    text = VALID.replace("theme = ", "colour = ").replace("# my profiles", "# my profiles\nverbose = true")
    found = {p.key: p for p in problems(text)}
    assert set(found) == {"verbose", "profiles.prod.colour"}
    lines = text.splitlines()
    for p in found.values():
        assert p.file == str(PATH)
        assert lines[p.line - 1].lstrip().startswith(p.key.split(".")[-1])
        assert "unknown key" in p.rule
    assert str(found["verbose"]) == f"{PATH}:2: verbose: " + found["verbose"].rule


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("auth", '"password"', "must be one of"),
        ("cloud", '"AzureGermany"', "must be one of"),
        ("tenant", '"not a tenant!"', "tenant id"),
        ("subscriptions", '["nope"]', "not a subscription id"),
        ("subscriptions", "[]", "non-empty list"),
        ("subscriptions", f'["{SUB}", "{SUB.upper()}"]', "twice"),
        ("read_only", '"yes"', "true or false"),
        ("refresh_interval", "0.5", "between"),
        ("refresh_interval", "true", "number of seconds"),
        ("theme", '"Not A Theme"', "theme name"),
        ("keymap", '"ctrl+q"', "must be a table"),
        ("client_id", '"abc"', "GUID"),
        ("client_secret_ref", '"hunter2 with spaces"', "never the secret itself"),
    ],
)
def test_bad_values_name_the_rule(key: str, value: str, rule: str) -> None:
    lines = VALID.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
    lines[index] = f"{key} = {value}"
    (p,) = problems("\n".join(lines))
    assert p.key == f"profiles.prod.{key}" and p.line == index + 1 and rule in p.rule


def test_nested_tables_and_inline_keys_get_their_own_lines() -> None:
    text = VALID.replace('"list.refresh" = "r,f5"', '"list.refresh" = "r f5"').replace(
        'portal = "https', 'portl = "https'
    )
    found = {p.key: p.line for p in problems(text)}
    lines = text.splitlines()
    assert "keymap" in lines[found["profiles.prod.keymap.list.refresh"] - 1]
    assert lines[found["profiles.local.endpoints.portl"] - 1].startswith("portl")


@pytest.mark.parametrize(
    ("table", "rule"),
    [
        ('auth = "service-principal"\ntenant = "t.example"', "needs client_id"),
        (f'auth = "service-principal"\ntenant = "t.example"\nclient_id = "{APP}"', "exactly one of"),
        ('auth = "emulator"\ntenant = "t.example"', 'cloud = "custom"'),
        ('cloud = "custom"', "needs endpoint"),
        ('endpoint = "https://x.example"', 'only for cloud = "custom"'),
        ('cloud = "custom"\nendpoint = "http://insecure.example"', "https:// URL"),
        ('client_secret_ref = "x/y"', "only for auth = service-principal"),
        (f'client_id = "{APP}"', "not used by auth = azure-cli"),
    ],
)
def test_cross_field_rules(table: str, rule: str) -> None:
    found = problems(f"[profiles.p]\n{table}\n")
    assert any(rule in p.rule for p in found), found


def test_bad_names_and_defaults() -> None:
    assert "built-in demo" in problems('[profiles.demo]\nauth = "azure-cli"\n')[0].rule
    assert "profile name" in problems('[profiles."bad name"]\nauth = "azure-cli"\n')[0].rule
    (p,) = problems('default_profile = "nope"\n[profiles.a]\n')
    assert p.key == "default_profile" and p.line == 1 and "names no profile" in p.rule
    assert problems("profiles = 3\n")[0].key == "profiles"


def test_syntax_errors_report_the_line() -> None:
    (p,) = problems('[profiles.a]\nauth = "azure-cli"\nread_only = \n')
    assert p.line == 3 and "not valid TOML" in p.rule


def test_absent_file_is_empty_and_get_says_what_to_do(config_home: Path) -> None:
    config = load_config()
    assert config.path == config_home / "config.toml" and not config.profiles
    with pytest.raises(LookupError, match="azml profile add"):
        config.get(None)


def test_config_path_command_honours_the_env_var(config_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(config_home / "config.toml") == str(config_path())


def test_config_check_command(config_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_home.mkdir(parents=True)
    (config_home / "config.toml").write_text('[profiles.a]\nauth = "azure-cli"\nbogus = 1\n')
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert f"{config_home / 'config.toml'}:3: profiles.a.bogus: unknown key" in err


def test_save_keeps_comments_and_other_profiles(config_home: Path) -> None:
    path = config_home / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(VALID)
    save_profile(Profile(name="dev", auth="device-code", tenant=TENANT))
    text = path.read_text()
    assert "# my profiles" in text and "# the CI principal" in text
    config = load_config()
    assert set(config.profiles) == {"prod", "local", "dev"} and config.default_profile == "prod"
    assert config.profiles["dev"] == Profile(name="dev", auth="device-code", tenant=TENANT)
    remove_profile("prod")
    config = load_config()
    assert set(config.profiles) == {"local", "dev"} and config.default_profile in {"local", "dev"}
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_save_refuses_to_rewrite_a_broken_file(config_home: Path) -> None:
    path = config_home / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[profiles.a]\nnope = 1\n")
    with pytest.raises(ConfigError):
        save_profile(Profile(name="b"))
    assert path.read_text() == "[profiles.a]\nnope = 1\n"


def test_check_profile_lists_rules() -> None:
    assert check_profile(Profile(name="ok")) == []
    assert check_profile(Profile(name="sp", auth="service-principal")) == [
        "auth: service-principal needs tenant",
        "auth: service-principal needs client_id",
        "auth: service-principal needs exactly one of client_secret_ref or certificate",
    ]


def test_key_lines_skips_multiline_strings() -> None:
    text = 'a = """\nb = 1\n"""\nc = 2\n[t]\n"d.e" = 3\n'
    assert key_lines(text) == {("a",): 1, ("c",): 4, ("t",): 5, ("t", "d.e"): 6}


# -- property-based --------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}", fullmatch=True).filter(lambda n: n != "demo")
guids = st.uuids().map(str)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    auth = draw(st.sampled_from([a for a in AUTH_METHODS if a != "service-principal"]))
    custom = auth == "emulator" or draw(st.booleans())
    return Profile(
        name=draw(names),
        auth=auth,
        cloud="custom" if custom else draw(st.sampled_from(["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"])),
        endpoint=f"https://127.0.0.1:{draw(st.integers(1, 65535))}" if custom else "",
        ca_bundle=draw(st.sampled_from(["", "/etc/ca.pem"])) if custom else "",
        tenant=draw(guids) if auth == "emulator" else draw(st.sampled_from(["", TENANT, "contoso.example"])),
        subscriptions=tuple(draw(st.lists(guids, max_size=3, unique=True))),
        default_workspace=draw(st.sampled_from(["", "mlw-a", "sub/rg/ws"])),
        read_only=draw(st.booleans()),
        production=draw(st.booleans()),
        refresh_interval=float(draw(st.sampled_from([0, 2, 30, 3600]))),
        theme=draw(st.sampled_from(["", "nord", "textual-light"])),
        keymap=tuple(
            sorted(draw(st.dictionaries(st.sampled_from(["app.quit", "list.sort"]), st.just("ctrl+k"))).items())
        ),
    )


def _document(profs: list[Profile]) -> str:
    doc = tomlkit.document()
    doc["profiles"] = tomlkit.table(is_super_table=True)
    for p in profs:
        table = tomlkit.table()
        for k, v in p.to_toml().items():
            table[k] = v
        doc["profiles"][p.name] = table
    return tomlkit.dumps(doc)


unique_profiles = st.lists(profiles(), min_size=1, max_size=4, unique_by=lambda p: p.name)


@settings(max_examples=60, deadline=None)
@given(unique_profiles)
def test_valid_profiles_round_trip(profs: list[Profile]) -> None:
    config = parse_config(_document(profs), PATH)
    assert dict(config.profiles) == {p.name: p for p in profs}


@settings(max_examples=80, deadline=None)
@given(unique_profiles, st.data())
def test_an_unknown_key_anywhere_is_reported_at_its_line(profs: list[Profile], data: st.DataObject) -> None:
    target = data.draw(st.sampled_from(profs))
    bad = data.draw(
        st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True).filter(lambda k: k not in Profile.__dataclass_fields__)
    )
    text = _document(profs)
    lines = text.splitlines()
    header = lines.index(f"[profiles.{target.name}]")
    lines.insert(header + 1, f"{bad} = 1")
    found = problems("\n".join(lines))
    assert [(p.key, p.line) for p in found] == [(f"profiles.{target.name}.{bad}", header + 2)]
    assert "unknown key" in found[0].rule


wrong_values = st.one_of(
    st.integers(-5, 5).map(str),
    st.sampled_from(['"x y"', "[1, 2]", "{ a = 1 }", "1979-05-27", '""', "nan", "-inf", "[]", '"all"']),
)
checked_keys = ["auth", "cloud", "tenant", "subscriptions", "read_only", "production", "refresh_interval", "theme"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles(), st.sampled_from(checked_keys), wrong_values)
def test_a_wrong_value_is_reported_or_accepted_never_crashes(prof: Profile, key: str, value: str) -> None:
    text = _document([prof])
    lines = [line for line in text.splitlines() if not line.startswith(f"{key} =")]
    header = lines.index(f"[profiles.{prof.name}]")
    lines.insert(header + 1, f"{key} = {value}")
    try:
        parse_config("\n".join(lines), PATH)
    except ConfigError as e:
        assert e.problems and all(p.file == str(PATH) and p.line >= 1 and p.rule for p in e.problems)
        keyed = [p for p in e.problems if p.key == f"profiles.{prof.name}.{key}"]
        assert keyed or any(p.key.startswith(f"profiles.{prof.name}") for p in e.problems)
        for p in keyed:
            assert p.line == header + 2


toml_ish = st.text(alphabet=string.ascii_letters + string.digits + ' =[]{}".,\n#_-', max_size=200)


@settings(max_examples=200, deadline=None)
@given(toml_ish)
def test_any_text_loads_or_raises_config_error(text: str) -> None:
    try:
        parse_config(text, PATH)
    except ConfigError as e:
        assert all(str(p).startswith(str(PATH)) for p in e.problems)
