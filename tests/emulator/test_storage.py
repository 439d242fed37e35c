"""The storage data plane of the estate's accounts, browsed through the product's own path
(services.datastores.browse, the function the Browse screen calls) over the Cloud seam's path-style URLs, and
the Storage REST shapes read by the storage SDKs themselves."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from emulator import Emulator
from services import datastores
from services.models.core import Workspace
from services.models.datastores import Datastore
from services.session import Session
from services.workspaces import list_workspaces
from tests.conftest import cloud_for


@pytest.fixture(scope="module")
def session(emulator: Emulator) -> Iterator[Session]:
    s = Session(cloud=cloud_for(emulator), credential=emulator.credential(), profile="t", tenant_id=emulator.tenant_id)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def workspace(session: Session) -> Workspace:
    return next(w for w in list_workspaces(session) if w.name == "mlw-prod-eus")


@pytest.fixture(scope="module")
def stores(session: Session, workspace: Workspace) -> dict[str, Datastore]:
    return {d.name: d for d in datastores.list_datastores(session, workspace)}


def _check_listing(session: Session, ds: Datastore) -> None:
    top = datastores.browse(session, ds)
    dirs = [e for e in top.entries if e.is_dir]
    files = [e for e in top.entries if not e.is_dir]
    assert len(dirs) == 4 and files, (ds.name, top.entries)
    assert all(f.size > 0 and f.modified is not None for f in files), files
    inner = datastores.browse(session, ds, dirs[0].path)
    assert inner.prefix == dirs[0].path
    inner_files = [e for e in inner.entries if not e.is_dir]
    assert inner_files and all(e.path.startswith(dirs[0].path) for e in inner.entries)
    assert all(f.size > 0 and f.modified is not None for f in inner_files)
    assert datastores.browse(session, ds) == top  # deterministic, and stable between listings


@pytest.mark.parametrize(
    ("name", "kind", "auth"),
    [
        ("workspaceblobstore", "blob", "account_key"),  # Shared Key, signed with the account key
        ("workspaceartifactstore", "blob", "account_key"),
        ("raw_landing", "blob", "sas"),
        ("shared_models", "blob", "identity"),  # an Entra ID bearer token
        ("workspacefilestore", "file", "account_key"),
        ("workspaceworkingdirectory", "file", "account_key"),
    ],
)
def test_every_demo_datastore_lists_folders_and_files(
    session: Session, stores: dict[str, Datastore], name: str, kind: str, auth: str
) -> None:
    ds = stores[name]
    assert (ds.kind, ds.auth) == (kind, auth)
    _check_listing(session, ds)


def test_an_adls_gen2_filesystem_lists_over_the_blob_api(session: Session, stores: dict[str, Datastore]) -> None:
    # The demo's lake signs in as a service principal at the cloud's own authority; with identity-based access
    # the same filesystem lists through the same browse path.
    lake = stores["curated_lake"]
    assert lake.kind == "adls_gen2"
    _check_listing(session, dataclasses.replace(lake, auth="identity"))


def test_a_service_principal_signs_in_only_at_the_custom_clouds_authority(
    emulator: Emulator, session: Session, stores: dict[str, Datastore]
) -> None:
    # The datastore names the public authority; the custom cloud's own authority signs its principal in (the
    # client id and secret registered on the datastore are an app registration of the emulator's tenant).
    lake = stores["curated_lake"]
    assert lake.authority_url == "https://login.microsoftonline.com"  # as registered; the custom cloud overrides
    assert lake.auth == "service_principal"
    asked = len(emulator.request_log)
    _check_listing(session, lake)
    token_requests = [p for m, p, st in emulator.request_log[asked:] if p == f"/{lake.tenant_id}/oauth2/v2.0/token"]
    assert token_requests


def test_the_dfs_endpoint_lists_paths_for_the_datalake_sdk(emulator: Emulator, stores: dict[str, Datastore]) -> None:
    filedatalake = pytest.importorskip("azure.storage.filedatalake")
    lake = stores["curated_lake"]
    cloud = cloud_for(emulator)
    service = filedatalake.DataLakeServiceClient(
        cloud.dfs_url(lake.account_name), credential=emulator.credential(), connection_verify=emulator.ca_file
    )
    fs = service.get_file_system_client(lake.container)
    top = list(fs.get_paths(recursive=False))
    dirs = [p for p in top if p.is_directory]
    files = [p for p in top if not p.is_directory]
    assert len(dirs) == 4 and files and all(f.content_length > 0 and f.last_modified for f in files)
    inner = list(fs.get_paths(path=dirs[0].name, recursive=False))
    assert inner and all(p.name.startswith(dirs[0].name + "/") for p in inner)
    everything = list(fs.get_paths(recursive=True))
    assert len(everything) > len(top)
    with pytest.raises(HttpResponseError) as e:
        list(fs.get_paths(path="no-such-dir", recursive=False))
    assert e.value.status_code == 404 and e.value.error_code == "PathNotFound"


def test_blob_properties_and_the_service_errors(emulator: Emulator, stores: dict[str, Datastore]) -> None:
    from azure.storage.blob import BlobServiceClient

    ds = stores["shared_models"]
    cloud = cloud_for(emulator)
    service = BlobServiceClient(
        cloud.blob_url(ds.account_name), credential=emulator.credential(), connection_verify=emulator.ca_file
    )
    assert [c.name for c in service.list_containers()] == [ds.container]
    container = service.get_container_client(ds.container)
    blob = next(b for b in container.list_blobs() if b.size)
    props = container.get_blob_client(blob.name).get_blob_properties()
    assert (props.size, props.last_modified, props.etag.strip('"')) == (
        blob.size,
        blob.last_modified,
        blob.etag.strip('"'),
    )
    with pytest.raises(HttpResponseError) as e:
        list(service.get_container_client("nope").list_blobs())
    assert e.value.status_code == 404 and e.value.error_code == "ContainerNotFound"


def test_a_wrong_account_key_or_sas_is_refused(
    emulator: Emulator, session: Session, stores: dict[str, Datastore]
) -> None:
    from azure.core.credentials import AzureSasCredential
    from azure.storage.blob import BlobServiceClient

    cloud = cloud_for(emulator)
    blob = stores["workspaceblobstore"]
    wrong: list[Any] = [
        {"account_name": blob.account_name, "account_key": "d3Jvbmcga2V5"},
        AzureSasCredential("sv=2022-11-02&sp=rl&se=2027-06-30T00:00:00Z&sig=bm90IGEgc2ln"),
    ]
    for credential in wrong:
        service = BlobServiceClient(
            cloud.blob_url(blob.account_name), credential=credential, connection_verify=emulator.ca_file
        )
        with pytest.raises(HttpResponseError) as e:
            list(service.get_container_client(blob.container).list_blobs())
        assert e.value.status_code == 403 and e.value.error_code == "AuthenticationFailed"
