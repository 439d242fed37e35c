"""Datastore reads, actions and browsing through the service layer: the real SDKs against the emulator,
and the real azure-storage-blob against Azurite for the contents."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from emulator import Emulator
from services import datastores, mutations, workspaces
from services.cloud import AZURE_CHINA, AZURE_PUBLIC, custom_cloud
from services.errors import ErrorKind, classify
from services.models.core import Workspace
from services.models.datastores import Datastore
from services.mutations import Target
from services.secrets import MemorySecrets, SecretNotFound, SecretSource
from services.session import Session
from services.validation import ValidationError
from tests.conftest import Azurite, cloud_for

ACCOUNT_KEY = "c2VjcmV0LWFjY291bnQta2V5LXZhbHVlLTAwMDE="
SAS_TOKEN = "sv=2022-11-02&ss=b&srt=co&sp=rl&sig=c2VjcmV0LXNhcy1zaWduYXR1cmU%3D"
SP_SECRET = "sp~secret-client-value-0001"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "00000000-1111-2222-3333-444444444444"


def _ws(session: Any) -> Workspace:
    return next(w for w in workspaces.list_workspaces(session) if w.name == "mlw-prod-eus")


def _target(ws: Workspace, name: str = "") -> Target:
    return Target(ws.subscription_id, ws.resource_group, ws.name, name)


def _secrets() -> MemorySecrets:
    return MemorySecrets({"kv/account-key": ACCOUNT_KEY, "kv/sas": SAS_TOKEN, "kv/sp": SP_SECRET})


# -- reads -------------------------------------------------------------------------------------


def test_list_matches_the_estate_with_every_kind_and_auth(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    items = datastores.list_datastores(session, ws)
    raw = {r["name"]: r for r in emulator.estate.children(ws.id, "datastores")}
    assert [d.name for d in items] == sorted(raw, key=str.lower)
    for d in items:
        props = raw[d.name]["properties"]
        assert d.id == raw[d.name]["id"] and d.workspace == ws.name
        assert d.datastore_type == props["datastoreType"] and d.account_name == props["accountName"]
        assert d.container == (props.get("containerName") or props.get("filesystem") or props.get("fileShareName"))
        assert d.is_default == bool(props["isDefault"])
        assert d.endpoint == "core.windows.net" and d.protocol == "https"
        assert dict(d.tags) == (props.get("tags") or {})
        assert d.created_on and d.created_by
    by_name = {d.name: d for d in items}
    assert {d.kind for d in items} == {"blob", "adls_gen2", "file"}
    assert [d.name for d in items if d.is_default] == ["workspaceblobstore"]
    assert by_name["workspaceblobstore"].auth == "account_key" and by_name["workspaceblobstore"].is_system
    assert by_name["raw_landing"].auth == "sas" and by_name["raw_landing"].auth_label == "SAS token"
    lake = by_name["curated_lake"]
    assert (lake.kind, lake.auth, lake.container, lake.container_label) == (
        "adls_gen2",
        "service_principal",
        "curated",
        "filesystem",
    )
    assert lake.tenant_id and lake.client_id and lake.authority_url.startswith("https://")
    assert lake.description.startswith("Curated") and dict(lake.tags)["tier"] == "gold"
    models = by_name["shared_models"]
    assert models.auth == "identity" and not models.has_secret
    assert models.identity_access == "WorkspaceSystemAssignedIdentity"
    assert by_name["workspacefilestore"].kind == "file" and by_name["workspacefilestore"].container_label == "share"
    assert models.storage_url == f"https://{models.account_name}.blob.core.windows.net/models"


def test_detail_and_default(session: Any) -> None:
    ws = _ws(session)
    listed = {d.name: d for d in datastores.list_datastores(session, ws)}
    for name in ("workspaceblobstore", "curated_lake", "raw_landing", "shared_models", "workspacefilestore"):
        assert datastores.get_datastore(session, ws, name) == listed[name]
    default = datastores.default_datastore(session, ws)
    assert default is not None and default.name == "workspaceblobstore"


def test_no_secret_in_any_model(session: Any, emulator: Emulator) -> None:
    ws = _ws(session)
    items = datastores.list_datastores(session, ws)
    text = repr(items) + repr([dataclasses.asdict(d) for d in items])
    stored = emulator.estate.area_state["datastores"]["secrets"]
    values = [v for s in stored.values() for k, v in s.items() if k != "secretsType"]
    assert values
    for value in values:
        assert value not in text
    field_names = {f.name for f in dataclasses.fields(Datastore)}
    assert not field_names & {"key", "account_key", "sas_token", "client_secret", "secret", "secrets", "credentials"}


def test_missing_datastore_classifies_as_not_found(session: Any) -> None:
    ws = _ws(session)
    with pytest.raises(ResourceNotFoundError) as exc:
        datastores.get_datastore(session, ws, "no_such_store")
    err = classify(exc.value)
    assert err.kind is ErrorKind.NOT_FOUND and err.status == 404
    assert "no_such_store" in err.message


# -- actions -----------------------------------------------------------------------------------


def test_register_each_kind_and_auth(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    secrets = _secrets()
    blob = datastores.register_blob(
        fresh_session,
        _target(ws),
        name="team_blob",
        account_name="stteamdata01",
        container_name="features",
        auth="account_key",
        credential_ref="kv/account-key",
        secrets=secrets,
        description="team features",
        tags={"owner": "vision"},
    )
    assert (blob.kind, blob.auth, blob.container, blob.description) == (
        "blob",
        "account_key",
        "features",
        "team features",
    )
    assert dict(blob.tags) == {"owner": "vision"} and not blob.is_default
    sas = datastores.register_blob(
        fresh_session,
        _target(ws),
        name="team_sas",
        account_name="stteamdata01",
        container_name="exports",
        auth="sas",
        credential_ref="kv/sas",
        secrets=secrets,
    )
    identity_blob = datastores.register_blob(
        fresh_session,
        _target(ws),
        name="team_identity",
        account_name="stteamdata01",
        container_name="shared",
        auth="identity",
    )
    lake = datastores.register_adls_gen2(
        fresh_session,
        _target(ws),
        name="team_lake",
        account_name="dlsteam01",
        filesystem="bronze",
        credential_ref="kv/sp",
        secrets=secrets,
        tenant_id=TENANT,
        client_id=CLIENT,
    )
    identity_lake = datastores.register_adls_gen2(
        fresh_session, _target(ws), name="team_lake_mi", account_name="dlsteam01", filesystem="silver", auth="identity"
    )
    share = datastores.register_file(
        fresh_session,
        _target(ws),
        name="team_share",
        account_name="stteamfiles01",
        file_share_name="notebooks",
        credential_ref="kv/account-key",
        secrets=secrets,
    )
    assert (sas.auth, identity_blob.auth) == ("sas", "identity")
    assert (lake.kind, lake.auth, lake.container, lake.tenant_id, lake.client_id) == (
        "adls_gen2",
        "service_principal",
        "bronze",
        TENANT,
        CLIENT,
    )
    assert lake.authority_url == fresh_session.cloud.authority and lake.resource_url == "https://storage.azure.com/"
    assert (identity_lake.kind, identity_lake.auth) == ("adls_gen2", "identity")
    assert (share.kind, share.auth, share.container) == ("file", "account_key", "notebooks")
    listed = {d.name for d in datastores.list_datastores(fresh_session, ws)}
    assert {"team_blob", "team_sas", "team_identity", "team_lake", "team_lake_mi", "team_share"} <= listed
    # the emulator holds the secrets (only listSecrets returns them); the console's models and audit do not
    stored = fresh_emulator.estate.area_state["datastores"]["secrets"]
    assert stored[f"{ws.id}/datastores/team_blob".lower()]["key"] == ACCOUNT_KEY
    assert stored[f"{ws.id}/datastores/team_sas".lower()]["sasToken"] == SAS_TOKEN
    assert stored[f"{ws.id}/datastores/team_lake".lower()]["clientSecret"] == SP_SECRET
    assert stored[f"{ws.id}/datastores/team_share".lower()]["key"] == ACCOUNT_KEY
    everything = repr(fresh_session.guard.records) + repr([blob, sas, lake, share])
    for secret in (ACCOUNT_KEY, SAS_TOKEN, SP_SECRET):
        assert secret not in everything
    succeeded = [r for r in fresh_session.guard.records if r.outcome == "succeeded"]
    assert len(succeeded) == 6
    assert {r.parameters.get("credential_ref") for r in succeeded} == {"kv/account-key", "kv/sas", "kv/sp", None}
    assert all(r.parameters.get("secrets") in ("***", None) for r in succeeded)


def test_set_default_then_unregister(fresh_session: Any) -> None:
    ws = _ws(fresh_session)
    datastores.register_blob(
        fresh_session,
        _target(ws),
        name="new_default",
        account_name="stnewdefault01",
        container_name="main",
        credential_ref="kv/account-key",
        secrets=_secrets(),
    )
    made = datastores.set_default(fresh_session, _target(ws, "new_default"))
    assert made.is_default and made.auth == "account_key"
    assert [d.name for d in datastores.list_datastores(fresh_session, ws) if d.is_default] == ["new_default"]
    default = datastores.default_datastore(fresh_session, ws)
    assert default is not None and default.name == "new_default"
    # setting a service principal datastore as default keeps its identity fields
    lake = datastores.set_default(fresh_session, _target(ws, "curated_lake"))
    assert lake.is_default and lake.auth == "service_principal" and lake.client_id
    assert not datastores.get_datastore(fresh_session, ws, "new_default").is_default
    datastores.unregister(fresh_session, _target(ws, "new_default"))
    with pytest.raises(ResourceNotFoundError):
        datastores.get_datastore(fresh_session, ws, "new_default")
    outcomes = [(r.operation, r.outcome) for r in fresh_session.guard.records]
    assert ("datastore.set_default", "succeeded") in outcomes and ("datastore.unregister", "succeeded") in outcomes
    # the default cannot be unregistered: Azure refuses, the choke point records the failure
    with pytest.raises(Exception) as exc:
        datastores.unregister(fresh_session, _target(ws, "curated_lake"))
    assert classify(exc.value).kind is ErrorKind.INVALID
    assert fresh_session.guard.records[-1].outcome == "failed"


def test_operations_are_registered_with_az_commands() -> None:
    reg = mutations.registry()
    names = {
        "datastore.register_blob",
        "datastore.register_adls_gen2",
        "datastore.register_file",
        "datastore.set_default",
        "datastore.unregister",
    }
    assert names <= set(reg)
    assert reg["datastore.unregister"].destructive
    t = Target("sub", "rg", "ws", "store")
    cmd = mutations.az_command(
        "datastore.register_blob",
        Target("sub", "rg", "ws"),
        {
            "name": "s",
            "account_name": "acct",
            "container_name": "c1",
            "credential_ref": "kv/k",
            "secrets": _secrets(),
        },
    )
    assert cmd.startswith("az ml datastore create --name s ") and "account_name=acct" in cmd
    assert "credentials.account_key=<secret:kv/k>" in cmd and ACCOUNT_KEY not in cmd
    assert mutations.az_command("datastore.unregister", t, {}).startswith("az ml datastore delete --name store ")


def test_secret_source_protocol_and_memory_repr() -> None:
    source = _secrets()
    assert isinstance(source, SecretSource)
    assert ACCOUNT_KEY not in repr(source) and "kv/account-key" in repr(source)
    with pytest.raises(SecretNotFound):
        source.get_secret("kv/missing")


def test_unknown_secret_reference_is_refused_before_any_request(fresh_session: Any, fresh_emulator: Emulator) -> None:
    ws = _ws(fresh_session)
    _ = fresh_session.rest(), fresh_session.ml_client(ws.subscription_id, ws.resource_group, ws.name)
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        datastores.register_blob(
            fresh_session,
            _target(ws),
            name="team_blob",
            account_name="stteamdata01",
            container_name="features",
            credential_ref="kv/missing",
            secrets=_secrets(),
        )
    assert exc.value.fields == ("credential_ref",)
    assert fresh_emulator.request_count == before
    assert fresh_session.guard.records[-1].outcome == "invalid"


_BLOB: dict[str, Any] = {
    "name": "team_blob",
    "account_name": "stteamdata01",
    "container_name": "features",
    "credential_ref": "kv/account-key",
}
_FILE: dict[str, Any] = {**_BLOB, "container_name": None, "file_share_name": "notebooks"}
_LAKE: dict[str, Any] = {
    **_BLOB,
    "container_name": None,
    "filesystem": "bronze",
    "credential_ref": "kv/sp",
    "tenant_id": TENANT,
    "client_id": CLIENT,
}
NO_SECRETS = object()


@pytest.mark.parametrize(
    ("register", "params", "field"),
    [
        ("register_blob", {**_BLOB, "name": "bad-name!"}, "name"),
        ("register_blob", {**_BLOB, "name": ""}, "name"),
        ("register_blob", {**_BLOB, "account_name": "Not_A_Storage_Account"}, "account_name"),
        ("register_blob", {**_BLOB, "account_name": "ab"}, "account_name"),
        ("register_blob", {**_BLOB, "container_name": "Upper_Case"}, "container_name"),
        ("register_blob", {**_BLOB, "container_name": "a--b"}, "container_name"),
        ("register_blob", {**_BLOB, "auth": "service_principal"}, "auth"),
        ("register_blob", {**_BLOB, "auth": "password"}, "auth"),
        ("register_blob", {**_BLOB, "credential_ref": ""}, "credential_ref"),
        ("register_blob", {**_BLOB, "auth": "identity"}, "credential_ref"),
        ("register_blob", {**_BLOB, "secrets": NO_SECRETS}, "secrets"),
        ("register_blob", {**_BLOB, "endpoint": "https://core.windows.net"}, "endpoint"),
        ("register_blob", {**_BLOB, "protocol": "ftp"}, "protocol"),
        ("register_file", {**_FILE, "file_share_name": "x"}, "file_share_name"),
        ("register_file", {**_FILE, "auth": "service_principal"}, "auth"),
        ("register_adls_gen2", {**_LAKE, "filesystem": "-bad"}, "filesystem"),
        ("register_adls_gen2", {**_LAKE, "auth": "sas"}, "auth"),
        ("register_adls_gen2", {**_LAKE, "tenant_id": "not-a-guid"}, "tenant_id"),
        ("register_adls_gen2", {**_LAKE, "client_id": ""}, "client_id"),
        ("register_adls_gen2", {**_LAKE, "authority_url": "http://login.example"}, "authority_url"),
        ("register_adls_gen2", {**_LAKE, "resource_url": "not a url"}, "resource_url"),
    ],
)
def test_bad_registration_is_refused_before_any_request(
    fresh_session: Any, fresh_emulator: Emulator, register: str, params: dict[str, Any], field: str
) -> None:
    ws = _ws(fresh_session)
    params = {k: v for k, v in params.items() if v is not None}
    if params.setdefault("secrets", _secrets()) is NO_SECRETS:
        del params["secrets"]
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        getattr(datastores, register)(fresh_session, _target(ws), **params)
    assert field in exc.value.fields, exc.value
    assert fresh_emulator.request_count == before
    record = fresh_session.guard.records[-1]
    assert record.outcome == "invalid" and field in record.message
    assert ACCOUNT_KEY not in repr(fresh_session.guard.records)


@pytest.mark.parametrize("action", ["set_default", "unregister"])
def test_bad_target_name_is_refused_before_any_request(
    fresh_session: Any, fresh_emulator: Emulator, action: str
) -> None:
    ws = _ws(fresh_session)
    before = fresh_emulator.request_count
    with pytest.raises(ValidationError) as exc:
        getattr(datastores, action)(fresh_session, _target(ws, "no/such name"))
    assert exc.value.fields == ("name",)
    assert fresh_emulator.request_count == before


def test_unregister_missing_is_quiet_and_get_then_404(fresh_session: Any) -> None:
    ws = _ws(fresh_session)
    datastores.unregister(fresh_session, _target(ws, "raw_landing"))
    with pytest.raises(ResourceNotFoundError) as exc:
        datastores.get_datastore(fresh_session, ws, "raw_landing")
    assert classify(exc.value).kind is ErrorKind.NOT_FOUND


# -- browsing ----------------------------------------------------------------------------------

BLOBS = {
    "README.md": b"# landing zone\n",
    "raw/2026/01/events-0001.jsonl": b'{"a": 1}\n' * 10,
    "raw/2026/01/events-0002.jsonl": b'{"a": 2}\n' * 20,
    "raw/2026/manifest.json": b"{}",
    "raw/schema.json": b'{"type": "object"}',
    "curated/features.parquet": b"PAR1" + b"\0" * 100,
}


@pytest.fixture()
def azurite_session(fresh_emulator: Emulator, azurite: Azurite) -> Iterator[Session]:
    """A session on a private emulator whose Cloud sends blob traffic to Azurite (path-style URLs)."""
    cloud = dataclasses.replace(cloud_for(fresh_emulator), blob_endpoint=azurite.blob_endpoint)
    s = Session(cloud=cloud, credential=fresh_emulator.credential(), profile="test", tenant_id=fresh_emulator.tenant_id)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture()
def container(azurite: Azurite, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "browse-" + request.node.name.split("[")[0].replace("_", "-")[-40:].strip("-").lower()
    with azurite.service_client() as svc:
        client = svc.create_container(name)
        for path, data in BLOBS.items():
            client.upload_blob(path, data)
        yield name
        svc.delete_container(name)


def test_browse_azurite_with_account_key(azurite_session: Session, azurite: Azurite, container: str) -> None:
    ws = _ws(azurite_session)
    ds = datastores.register_blob(
        azurite_session,
        _target(ws),
        name="azurite_data",
        account_name=azurite.account,
        container_name=container,
        credential_ref="dev/azurite",
        secrets=MemorySecrets({"dev/azurite": azurite.key}),
    )
    assert azurite.key not in repr(azurite_session.guard.records) + repr(ds)
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    root = datastores.browse(azurite_session, ds)
    assert root.prefix == "" and root.datastore == "azurite_data" and not root.truncated
    assert [(e.name, e.path, e.is_dir) for e in root.entries] == [
        ("curated", "curated/", True),
        ("raw", "raw/", True),
        ("README.md", "README.md", False),
    ]
    readme = root.files[0]
    assert readme.size == len(BLOBS["README.md"]) and readme.modified is not None and readme.modified > started
    assert azurite.key not in repr(root)

    raw = datastores.browse(azurite_session, ds, "raw")
    assert raw.prefix == "raw/" and raw.parent == ""
    assert [(e.name, e.is_dir) for e in raw.entries] == [("2026", True), ("schema.json", False)]
    assert raw.files[0].size == len(BLOBS["raw/schema.json"])

    deeper = datastores.browse(azurite_session, ds, raw.directories[0].path)
    assert deeper.prefix == "raw/2026/" and deeper.parent == "raw/"
    assert [(e.name, e.is_dir) for e in deeper.entries] == [("01", True), ("manifest.json", False)]
    month = datastores.browse(azurite_session, ds, "/raw/2026/01/")
    assert [(e.name, e.size) for e in month.files] == [
        ("events-0001.jsonl", len(BLOBS["raw/2026/01/events-0001.jsonl"])),
        ("events-0002.jsonl", len(BLOBS["raw/2026/01/events-0002.jsonl"])),
    ]
    assert month.total_size == sum(e.size for e in month.files) and not month.directories

    limited = datastores.browse(azurite_session, ds, "raw/2026/01/", limit=1)
    assert limited.truncated and len(limited.entries) == 1
    assert datastores.browse(azurite_session, ds, "nothing-here/").entries == ()


def test_browse_azurite_with_sas(azurite_session: Session, azurite: Azurite, container: str) -> None:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    sas = generate_container_sas(
        azurite.account,
        container,
        account_key=azurite.key,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    ws = _ws(azurite_session)
    ds = datastores.register_blob(
        azurite_session,
        _target(ws),
        name="azurite_sas",
        account_name=azurite.account,
        container_name=container,
        auth="sas",
        credential_ref="dev/sas",
        secrets=MemorySecrets({"dev/sas": sas}),
    )
    assert ds.auth == "sas"
    listing = datastores.browse(azurite_session, ds, "curated/")
    assert [(e.name, e.size) for e in listing.entries] == [("features.parquet", len(BLOBS["curated/features.parquet"]))]
    assert sas not in repr(azurite_session.guard.records) + repr(listing)


def test_browse_identity_based_uses_the_session_credential(
    fresh_emulator: Emulator, azurite_https: Azurite, tmp_path: Any
) -> None:
    """Identity-based datastores are read with the session's own token (Azurite over https, --oauth basic)."""
    assert azurite_https.ca_file is not None
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_text(Path(fresh_emulator.ca_file).read_text() + Path(azurite_https.ca_file).read_text())
    cloud = dataclasses.replace(
        cloud_for(fresh_emulator), ca_bundle=str(bundle), blob_endpoint=azurite_https.blob_endpoint
    )
    session = Session(cloud=cloud, credential=fresh_emulator.credential(), profile="test")
    with azurite_https.service_client() as svc:
        svc.create_container("identity-data").upload_blob("models/v1/model.onnx", b"onnx" * 64)
    ws = _ws(session)
    ds = datastores.register_blob(
        session,
        _target(ws),
        name="azurite_identity",
        account_name=azurite_https.account,
        container_name="identity-data",
        auth="identity",
    )
    assert ds.auth == "identity"
    before = fresh_emulator.request_count
    models = datastores.browse(session, ds, "models/v1/")
    assert fresh_emulator.request_count == before  # no listSecrets: the session's token is the credential
    assert [(e.name, e.size) for e in models.entries] == [("model.onnx", 256)]
    session.close()


def test_browse_wrong_key_is_forbidden(azurite_session: Session, azurite: Azurite, container: str) -> None:
    ws = _ws(azurite_session)
    ds = datastores.register_blob(
        azurite_session,
        _target(ws),
        name="azurite_wrong",
        account_name=azurite.account,
        container_name=container,
        credential_ref="dev/wrong",
        secrets=MemorySecrets({"dev/wrong": ACCOUNT_KEY}),
    )
    with pytest.raises(Exception) as exc:
        datastores.browse(azurite_session, ds)
    assert classify(exc.value).kind is ErrorKind.FORBIDDEN


def test_browse_unsupported_credentials_and_kinds() -> None:
    cert = Datastore(
        id="/x/datastores/c", name="c", workspace="w", kind="adls_gen2", datastore_type="AzureDataLakeGen2",
        account_name="acct", container="fs", auth="certificate",
    )  # fmt: skip
    offline = Session(cloud=AZURE_PUBLIC, credential=None)  # type: ignore[arg-type]  # refused before any use
    with pytest.raises(datastores.BrowseNotSupported):
        datastores.browse(offline, cert)
    other = dataclasses.replace(cert, kind="other", datastore_type="OneLake", auth="identity")
    with pytest.raises(datastores.BrowseNotSupported):
        datastores.browse(offline, other)


def test_blob_and_file_urls_come_from_the_cloud() -> None:
    assert AZURE_PUBLIC.blob_url("acct") == "https://acct.blob.core.windows.net"
    assert AZURE_CHINA.blob_url("acct") == "https://acct.blob.core.chinacloudapi.cn"
    assert AZURE_PUBLIC.file_url("acct", "core.usgovcloudapi.net") == "https://acct.file.core.usgovcloudapi.net"
    local = custom_cloud("x", "https://127.0.0.1:1", blob_endpoint="http://127.0.0.1:2/{account}")
    assert local.blob_url("devstoreaccount1", "core.windows.net") == "http://127.0.0.1:2/devstoreaccount1"


def test_browse_file_share_goes_to_the_clouds_file_endpoint(fresh_session: Any, fresh_emulator: Emulator) -> None:
    """Azurite has no Files service: check the share client is built from listSecrets and the Cloud's
    file endpoint (a closed port here), and that the failure classifies as unreachable."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cloud = dataclasses.replace(fresh_session.cloud, file_endpoint=f"http://127.0.0.1:{port}/{{account}}")
    session = Session(cloud=cloud, credential=fresh_emulator.credential(), profile="test")
    ws = _ws(session)
    share = datastores.get_datastore(session, ws, "workspacefilestore")
    before = fresh_emulator.request_count
    with pytest.raises(Exception) as exc:
        datastores.browse(session, share, "Users/")
    assert fresh_emulator.request_count == before + 1  # listSecrets, then the (refused) file service
    assert classify(exc.value).kind is ErrorKind.UNREACHABLE
