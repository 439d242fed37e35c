"""Datastores through the real azure-ai-ml client (and raw REST where the SDK has no verb)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from azure.ai.ml.entities import (
    AccountKeyConfiguration,
    AzureBlobDatastore,
    AzureDataLakeGen2Datastore,
    AzureFileDatastore,
    SasTokenConfiguration,
    ServicePrincipalConfiguration,
)
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from emulator import Emulator

API = "2024-10-01-preview"
SYSTEM = {"workspaceblobstore", "workspacefilestore", "workspaceartifactstore", "workspaceworkingdirectory"}


def _ws(emu: Emulator, index: int = 0) -> dict[str, Any]:
    w = emu.estate.workspaces()[index]
    parts = w["id"].split("/")
    return {"subscription": parts[2], "resource_group": parts[4], "name": w["name"], "id": w["id"]}


def _rest(emu: Emulator, method: str, path: str, body: Any = None, **params: str) -> requests.Response:
    token = emu.credential().get_token("https://management.azure.com/.default").token
    return requests.request(
        method,
        emu.endpoint + path,
        params={"api-version": API, **params},
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        verify=emu.ca_file,
        timeout=10,
    )


def test_list_shows_every_kind_without_secrets(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    ws = _ws(emulator)
    stores = {d.name: d for d in ml_client(ws).datastores.list()}
    assert SYSTEM | {"curated_lake", "raw_landing", "shared_models"} <= set(stores)
    blob = stores["workspaceblobstore"]
    assert isinstance(blob, AzureBlobDatastore)
    assert blob.account_name.startswith("st")
    assert blob.container_name.startswith("azureml-blobstore-")
    assert isinstance(blob.credentials, AccountKeyConfiguration)
    assert blob.credentials.account_key is None
    assert isinstance(stores["workspacefilestore"], AzureFileDatastore)
    lake = stores["curated_lake"]
    assert isinstance(lake, AzureDataLakeGen2Datastore)
    assert lake.filesystem == "curated"
    assert isinstance(lake.credentials, ServicePrincipalConfiguration)
    assert lake.credentials.client_id and lake.credentials.client_secret is None
    assert isinstance(stores["raw_landing"].credentials, SasTokenConfiguration)
    assert stores["raw_landing"].credentials.sas_token is None
    assert type(stores["shared_models"].credentials).__name__ == "NoneCredentialConfiguration"
    # and on the wire: list and get never carry a secret value
    raw = _rest(emulator, "GET", ws["id"] + "/datastores").text
    for secret_field in ('"key"', '"sasToken"', '"clientSecret"'):
        assert secret_field not in raw
    one = _rest(emulator, "GET", ws["id"] + "/datastores/raw_landing").json()
    assert one["properties"]["credentials"]["secrets"] == {"secretsType": "Sas"}
    assert one["type"] == "Microsoft.MachineLearningServices/workspaces/datastores"


def test_get_default_and_secrets(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    ws = _ws(emulator, 1)
    client = ml_client(ws)
    assert client.datastores.get_default().name == "workspaceblobstore"
    blob = client.datastores.get("workspaceblobstore", include_secrets=True)
    assert blob.credentials.account_key and len(blob.credentials.account_key) > 40
    sas = client.datastores.get("raw_landing", include_secrets=True)
    assert sas.credentials.sas_token.startswith("sv=")
    lake = client.datastores.get("curated_lake", include_secrets=True)
    assert lake.credentials.client_secret
    identity = client.datastores.get("shared_models", include_secrets=True)
    assert type(identity.credentials).__name__ == "NoneCredentialConfiguration"
    assert client.datastores.get("shared_models").account_name.startswith("stmodels")


def test_list_filters_and_paging(emulator: Emulator) -> None:
    ws = _ws(emulator)
    defaults = _rest(emulator, "GET", ws["id"] + "/datastores", isDefault="true").json()["value"]
    assert [d["name"] for d in defaults] == ["workspaceblobstore"]
    named = _rest(emulator, "GET", ws["id"] + "/datastores", names="raw_landing,curated_lake").json()["value"]
    assert sorted(d["name"] for d in named) == ["curated_lake", "raw_landing"]
    page = _rest(emulator, "GET", ws["id"] + "/datastores", count="3").json()
    assert len(page["value"]) == 3 and page["nextLink"]
    seen = [d["name"] for d in page["value"]]
    while page.get("nextLink"):
        token = emulator.credential().get_token("x").token
        page = requests.get(
            page["nextLink"], headers={"Authorization": f"Bearer {token}"}, verify=emulator.ca_file, timeout=10
        ).json()
        seen += [d["name"] for d in page["value"]]
    assert len(seen) == len(set(seen)) == 7


def test_create_each_kind(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator)
    client = fresh_ml_client(ws)
    blob = client.datastores.create_or_update(
        AzureBlobDatastore(
            name="team_blob",
            account_name="stteamdata01",
            container_name="features",
            description="team features",
            tags={"owner": "vision"},
            credentials=AccountKeyConfiguration(account_key="c2VjcmV0LWtleQ=="),
        )
    )
    assert blob.id.endswith("/datastores/team_blob") and blob.container_name == "features"
    lake = client.datastores.create_or_update(
        AzureDataLakeGen2Datastore(
            name="team_lake",
            account_name="dlsteam01",
            filesystem="bronze",
            credentials=ServicePrincipalConfiguration(
                tenant_id=fresh_emulator.tenant_id,
                client_id="00000000-1111-2222-3333-444444444444",
                client_secret="sp-secret-value",
            ),
        )
    )
    assert lake.filesystem == "bronze"
    share = client.datastores.create_or_update(
        AzureFileDatastore(
            name="team_share",
            account_name="stteamfiles01",
            file_share_name="notebooks",
            credentials=SasTokenConfiguration(sas_token="sv=2022-11-02&sig=abc"),
        )
    )
    assert share.file_share_name == "notebooks"
    got = client.datastores.get("team_blob", include_secrets=True)
    assert got.credentials.account_key == "c2VjcmV0LWtleQ==" and got.tags == {"owner": "vision"}
    assert client.datastores.get("team_lake", include_secrets=True).credentials.client_secret == "sp-secret-value"
    assert client.datastores.get("team_share", include_secrets=True).credentials.sas_token == "sv=2022-11-02&sig=abc"
    assert {"team_blob", "team_lake", "team_share"} <= {d.name for d in client.datastores.list()}
    # an update keeps the stored secret when none is sent, and answers 200 (201 was the create)
    update = _rest(
        fresh_emulator,
        "PUT",
        ws["id"] + "/datastores/team_blob",
        {
            "properties": {
                "datastoreType": "AzureBlob",
                "accountName": "stteamdata01",
                "containerName": "features",
                "description": "renamed",
                "credentials": {"credentialsType": "AccountKey"},
            }
        },
    )
    assert update.status_code == 200
    secrets = _rest(fresh_emulator, "POST", ws["id"] + "/datastores/team_blob/listSecrets", {}).json()
    assert secrets == {"secretsType": "AccountKey", "key": "c2VjcmV0LWtleQ=="}


def test_set_default_clears_the_others(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator)
    body = {
        "properties": {
            "datastoreType": "AzureBlob",
            "accountName": "stnewdefault01",
            "containerName": "main",
            "isDefault": True,
            "credentials": {"credentialsType": "None"},
        }
    }
    resp = _rest(fresh_emulator, "PUT", ws["id"] + "/datastores/new_default", body)
    assert resp.status_code == 201 and resp.json()["properties"]["isDefault"] is True
    client = fresh_ml_client(ws)
    assert client.datastores.get_default().name == "new_default"
    defaults = _rest(fresh_emulator, "GET", ws["id"] + "/datastores", isDefault="true").json()["value"]
    assert [d["name"] for d in defaults] == ["new_default"]
    old = _rest(fresh_emulator, "GET", ws["id"] + "/datastores/workspaceblobstore").json()
    assert old["properties"]["isDefault"] is False


def test_delete(fresh_emulator: Emulator, fresh_ml_client: Callable[..., Any]) -> None:
    ws = _ws(fresh_emulator)
    client = fresh_ml_client(ws)
    client.datastores.delete("raw_landing")
    with pytest.raises(ResourceNotFoundError):
        client.datastores.get("raw_landing")
    assert "raw_landing" not in {d.name for d in client.datastores.list()}
    # its secret went with it
    gone = _rest(fresh_emulator, "POST", ws["id"] + "/datastores/raw_landing/listSecrets", {})
    assert gone.status_code == 404
    # the default datastore cannot be deleted while it is the default
    with pytest.raises(HttpResponseError) as err:
        client.datastores.delete("workspaceblobstore")
    assert err.value.status_code == 400


@pytest.mark.parametrize(
    ("name", "props", "fragment"),
    [
        ("bad-name!", {"containerName": "data"}, "name"),
        ("okname", {"accountName": "Not_Valid", "containerName": "data"}, "account name"),
        ("okname", {"containerName": None}, "containerName"),
        ("okname", {"containerName": "Bad_Container"}, "containerName"),
    ],
)
def test_bad_input_is_rejected(emulator: Emulator, name: str, props: dict[str, Any], fragment: str) -> None:
    ws = _ws(emulator)
    body = {
        "datastoreType": "AzureBlob",
        "accountName": "stvalid01",
        "credentials": {"credentialsType": "AccountKey", "secrets": {"secretsType": "AccountKey", "key": "k"}},
    }
    body.update({k: v for k, v in props.items() if v is not None})
    resp = _rest(emulator, "PUT", ws["id"] + f"/datastores/{name}", {"properties": body})
    assert resp.status_code == 400
    assert fragment.lower() in json.dumps(resp.json()).lower()
    assert _rest(emulator, "GET", ws["id"] + f"/datastores/{name}").status_code == 404


def test_bad_input_through_the_sdk(emulator: Emulator, ml_client: Callable[..., Any]) -> None:
    client = ml_client(_ws(emulator))
    with pytest.raises(HttpResponseError) as err:
        client.datastores.create_or_update(
            AzureBlobDatastore(
                name="shouting",
                account_name="NOTLOWERCASE",
                container_name="data",
                credentials=AccountKeyConfiguration(account_key="k"),
            )
        )
    assert err.value.status_code == 400
    with pytest.raises(ResourceNotFoundError):
        client.datastores.get("no_such_store")


def test_secrets_are_required_for_a_new_keyed_store(emulator: Emulator) -> None:
    ws = _ws(emulator)
    body = {
        "properties": {
            "datastoreType": "AzureBlob",
            "accountName": "stvalid01",
            "containerName": "data",
            "credentials": {"credentialsType": "AccountKey"},
        }
    }
    assert _rest(emulator, "PUT", ws["id"] + "/datastores/nokey", body).status_code == 400
