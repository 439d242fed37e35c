"""Azure ML datastores (ARM): list/get/create/update/delete and listSecrets.

Shapes follow Microsoft.MachineLearningServices/stable/2025-12-01 ``examples/Datastore/*.json``. Datastores
live in ``estate.resources`` (id ``<workspace id>/datastores/<name>``) with ``credentials.secrets``
reduced to its ``secretsType``, as Azure serves them; the secret values themselves are kept apart in
``estate.area_state["datastores"]["secrets"]`` and only ``POST .../listSecrets`` returns them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import uuid
from typing import Any

from ..estate import ML, Estate
from ..http import ApiError, Request, Response, bad_request
from .workspaces import WS, find

DATASTORE_TYPE = f"{ML}/workspaces/datastores"
AREA = "datastores"

# Datastore kinds the emulator accepts, with the property naming the storage container of each.
_CONTAINER_FIELD = {
    "AzureBlob": "containerName",
    "AzureFile": "fileShareName",
    "AzureDataLakeGen2": "filesystem",
}
_SECRET_FIELD = {
    "AccountKey": "key",
    "Sas": "sasToken",
    "ServicePrincipal": "clientSecret",
    "Certificate": "certificate",
}
_CREDENTIAL_SECRETS = {
    "AccountKey": "AccountKey",
    "Sas": "Sas",
    "ServicePrincipal": "ServicePrincipal",
    "Certificate": "Certificate",
}

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{0,254}$")
_ACCOUNT_RE = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER_RE = re.compile(r"^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")
_SYSTEM_DATASTORES = ("workspaceblobstore", "workspacefilestore", "workspaceartifactstore", "workspaceworkingdirectory")


def _state(estate: Estate) -> dict[str, Any]:
    return estate.area_state.setdefault(AREA, {"secrets": {}})


def _secrets(estate: Estate) -> dict[str, dict[str, Any]]:
    secrets: dict[str, dict[str, Any]] = _state(estate)["secrets"]
    return secrets


def _fake_key(seed: str, nbytes: int = 64) -> str:
    raw = hashlib.sha512(seed.encode()).digest()[:nbytes]
    return base64.b64encode(raw).decode()


def _account_of(ws: dict[str, Any]) -> str:
    return str(ws["properties"]["storageAccount"]).rsplit("/", 1)[-1]


def _ws_parts(ws_id: str) -> tuple[str, str]:
    parts = ws_id.strip("/").split("/")
    return parts[1], parts[3]


# -- generation --------------------------------------------------------------------------------


def populate(estate: Estate) -> None:
    rng = estate.area_rng(AREA)
    secrets = _secrets(estate)
    for ws in estate.workspaces():
        ws_id = ws["id"]
        sub, rg = _ws_parts(ws_id)
        account = _account_of(ws)
        guid = ws["properties"]["workspaceId"]
        created_by = ws["systemData"]["createdBy"]
        age = 400.0 if ws["tags"].get("purpose") == "production" else 120.0
        short = ws["name"].replace("mlw-", "").replace("-", "")[:14]
        tenant = estate.tenant_id
        specs: list[tuple[str, dict[str, Any], str | None, str]] = [
            (
                "workspaceblobstore",
                {
                    "datastoreType": "AzureBlob",
                    "accountName": account,
                    "containerName": f"azureml-blobstore-{guid}",
                    "description": None,
                    "credentials": {"credentialsType": "AccountKey"},
                },
                _fake_key(f"{estate.seed}:{account}:key1"),
                created_by,
            ),
            (
                "workspacefilestore",
                {
                    "datastoreType": "AzureFile",
                    "accountName": account,
                    "fileShareName": f"azureml-filestore-{guid}",
                    "description": None,
                    "credentials": {"credentialsType": "AccountKey"},
                },
                _fake_key(f"{estate.seed}:{account}:key1"),
                created_by,
            ),
            (
                "workspaceartifactstore",
                {
                    "datastoreType": "AzureBlob",
                    "accountName": account,
                    "containerName": "azureml",
                    "description": None,
                    "credentials": {"credentialsType": "AccountKey"},
                },
                _fake_key(f"{estate.seed}:{account}:key1"),
                created_by,
            ),
            (
                "workspaceworkingdirectory",
                {
                    "datastoreType": "AzureFile",
                    "accountName": account,
                    "fileShareName": f"code-{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                    "description": None,
                    "credentials": {"credentialsType": "AccountKey"},
                },
                _fake_key(f"{estate.seed}:{account}:key1"),
                created_by,
            ),
            (
                "curated_lake",
                {
                    "datastoreType": "AzureDataLakeGen2",
                    "accountName": f"dls{short}"[:24],
                    "filesystem": "curated",
                    "description": "Curated feature tables (ADLS Gen2, service principal)",
                    "tags": {"owner": "data-platform", "tier": "gold"},
                    "credentials": {
                        "credentialsType": "ServicePrincipal",
                        "authorityUrl": "https://login.microsoftonline.com",
                        "resourceUrl": "https://storage.azure.com/",
                        "tenantId": tenant,
                        "clientId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    },
                },
                "sp~" + _fake_key(f"{estate.seed}:{ws_id}:sp", 30).rstrip("="),
                "data-platform@contoso.example",
            ),
            (
                "raw_landing",
                {
                    "datastoreType": "AzureBlob",
                    "accountName": f"stland{short}"[:24],
                    "containerName": "landing",
                    "description": "Raw landing zone (SAS, read-only)",
                    "tags": {"owner": "ingest"},
                    "credentials": {"credentialsType": "Sas"},
                },
                f"sv=2022-11-02&ss=b&srt=co&sp=rl&se=2027-06-30T00:00:00Z&st=2026-01-01T00:00:00Z&spr=https"
                f"&sig={_fake_key(f'{estate.seed}:{ws_id}:sas', 32).replace('+', '%2B').replace('/', '%2F')}",
                "ops@contoso.example",
            ),
            (
                "shared_models",
                {
                    "datastoreType": "AzureBlob",
                    "accountName": f"stmodels{short}"[:24],
                    "containerName": "models",
                    "description": "Shared model artifacts (identity-based access)",
                    "tags": {"owner": "mlops"},
                    "serviceDataAccessAuthIdentity": "WorkspaceSystemAssignedIdentity",
                    "credentials": {"credentialsType": "None"},
                },
                None,
                "mlops@contoso.example",
            ),
        ]
        for i, (name, props, secret, who) in enumerate(specs):
            rid = f"{ws_id}/datastores/{name}"
            body = _normalise_props(props, sub, rg)
            body["isDefault"] = name == "workspaceblobstore"
            body.setdefault("tags", {})
            body["properties"] = None
            estate.put(
                {
                    "id": rid,
                    "name": name,
                    "type": DATASTORE_TYPE,
                    "properties": body,
                    "systemData": estate.system_data(who, age_days=age - i * 7 if i >= 4 else age),
                }
            )
            cred_type = props["credentials"]["credentialsType"]
            if secret is not None:
                secrets[rid.lower()] = {"secretsType": _CREDENTIAL_SECRETS[cred_type], _SECRET_FIELD[cred_type]: secret}


def _normalise_props(props: dict[str, Any], sub: str, rg: str) -> dict[str, Any]:
    """Fill in the properties Azure reports on read (endpoint, protocol, identity mode, scope)."""
    body = copy.deepcopy(props)
    kind = body["datastoreType"]
    if kind in _CONTAINER_FIELD:
        body.setdefault("endpoint", "core.windows.net")
        body.setdefault("protocol", "https")
        if body.get("endpoint") is None:
            body["endpoint"] = "core.windows.net"
        if body.get("protocol") is None:
            body["protocol"] = "https"
        body.setdefault("serviceDataAccessAuthIdentity", "None")
        if body.get("serviceDataAccessAuthIdentity") is None:
            body["serviceDataAccessAuthIdentity"] = "None"
        body.setdefault("subscriptionId", sub)
        body.setdefault("resourceGroup", rg)
    cred = dict(body.get("credentials") or {})
    cred.pop("secrets", None)
    ctype = cred.get("credentialsType")
    if ctype in _CREDENTIAL_SECRETS:
        cred["secrets"] = {"secretsType": _CREDENTIAL_SECRETS[ctype]}
    body["credentials"] = cred
    return body


# -- validation --------------------------------------------------------------------------------


def _validate(name: str, props: Any) -> None:
    if not _NAME_RE.match(name):
        raise bad_request(
            f"Datastore name '{name}' is invalid. Names may contain only letters, digits and underscores, "
            "must start with a letter or digit, and be at most 255 characters.",
            "UserError",
            target="name",
        )
    if not isinstance(props, dict):
        raise bad_request("The request body must contain 'properties'.", "UserError", target="properties")
    kind = props.get("datastoreType")
    if kind not in _CONTAINER_FIELD:
        raise bad_request(
            f"Datastore type '{kind}' is not supported. Supported types: {', '.join(_CONTAINER_FIELD)}.",
            "UserError",
            target="properties.datastoreType",
        )
    account = props.get("accountName")
    if not account:
        raise bad_request("The field 'accountName' is required.", "UserError", target="properties.accountName")
    if not isinstance(account, str) or not _ACCOUNT_RE.match(account):
        raise bad_request(
            f"Storage account name '{account}' is invalid. Account names must be between 3 and 24 characters "
            "long and use numbers and lower-case letters only.",
            "UserError",
            target="properties.accountName",
        )
    field = _CONTAINER_FIELD[kind]
    container = props.get(field)
    if not container:
        raise bad_request(
            f"The field '{field}' is required for a {kind} datastore.", "UserError", target=f"properties.{field}"
        )
    if not isinstance(container, str) or not _CONTAINER_RE.match(container):
        raise bad_request(
            f"The {field} '{container}' is invalid: 3-63 characters of lower-case letters, digits and single "
            "hyphens, starting and ending with a letter or digit.",
            "UserError",
            target=f"properties.{field}",
        )
    cred = props.get("credentials")
    if not isinstance(cred, dict) or not cred.get("credentialsType"):
        raise bad_request(
            "The field 'credentials.credentialsType' is required.", "UserError", target="properties.credentials"
        )
    ctype = cred["credentialsType"]
    if ctype not in (*_CREDENTIAL_SECRETS, "None"):
        raise bad_request(
            f"Credentials type '{ctype}' is not supported.",
            "UserError",
            target="properties.credentials.credentialsType",
        )
    if ctype == "ServicePrincipal":
        for key in ("tenantId", "clientId"):
            if not cred.get(key):
                raise bad_request(
                    f"The field 'credentials.{key}' is required for service principal credentials.",
                    "UserError",
                    target=f"properties.credentials.{key}",
                )
        if kind == "AzureFile":
            raise bad_request(
                "Azure File datastores support account key or SAS credentials only.",
                "UserError",
                target="properties.credentials",
            )


def _secret_from_body(cred: dict[str, Any]) -> dict[str, Any] | None:
    ctype = cred.get("credentialsType")
    secrets = cred.get("secrets")
    if ctype not in _SECRET_FIELD or not isinstance(secrets, dict):
        return None
    value = secrets.get(_SECRET_FIELD[ctype])
    if not value:
        return None
    return {"secretsType": _CREDENTIAL_SECRETS[ctype], _SECRET_FIELD[ctype]: value}


# -- routes ------------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("true", "1", "yes")


def register(router: Any, emu: Any) -> None:
    from . import storage

    storage.register(router, emu)  # the data plane of the datastores' storage accounts
    estate: Estate = emu.estate
    base = WS + "/{ws}/datastores"

    def ws_of(sub: str, rg: str, ws: str) -> dict[str, Any]:
        return find(estate, sub, rg, ws)

    def one(ws: dict[str, Any], name: str) -> dict[str, Any]:
        found = estate.get(f"{ws['id']}/datastores/{name}")
        if found is None:
            raise ApiError(404, "UserError", f"Could not find datastore: {name}.")
        return found

    def list_(req: Request, sub: str, rg: str, ws: str) -> Response:
        w = ws_of(sub, rg, ws)
        items = sorted(estate.children(w["id"], "datastores"), key=lambda r: r["name"].lower())
        is_default = _truthy(req.q("isDefault"))
        if is_default is not None:
            items = [r for r in items if bool(r["properties"].get("isDefault")) == is_default]
        names = req.q("names")
        if names:
            wanted = {n.strip().lower() for n in names.split(",") if n.strip()}
            items = [r for r in items if r["name"].lower() in wanted]
        text = req.q("searchText")
        if text:
            needle = text.lower()
            items = [
                r
                for r in items
                if needle in r["name"].lower() or needle in str(r["properties"].get("description") or "").lower()
            ]
        order = req.q("orderBy")
        if order:
            key = order.strip().lower()
            asc = _truthy(req.q("orderByAsc")) or False
            if key in ("createdtime", "createdat", "created"):
                items.sort(key=lambda r: r["systemData"]["createdAt"], reverse=not asc)
            elif key in ("name",):
                items.sort(key=lambda r: r["name"].lower(), reverse=not asc)
        try:
            count = int(req.q("count") or 30)
            skip = int(req.q("$skip") or req.q("$skipToken") or 0)
        except ValueError as e:
            raise bad_request(f"Invalid paging parameter: {e}", "InvalidQueryParameterValue") from e
        count = max(1, min(count, 100))
        body: dict[str, Any] = {"value": [estate.snapshot(r) for r in items[skip : skip + count]]}
        if skip + count < len(items):
            query = {k: v for k, v in req.query.items() if k.lower() not in ("$skip", "$skiptoken")}
            query["$skip"] = str(skip + count)
            body["nextLink"] = req.url(req.path, **query)
        return Response(200, body)

    def get(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        return Response(200, estate.snapshot(one(ws_of(sub, rg, ws), name)))

    def put(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        w = ws_of(sub, rg, ws)
        payload = req.json()
        if not isinstance(payload, dict):
            raise bad_request("The request body must be a JSON object.", "UserError")
        props = payload.get("properties")
        _validate(name, props)
        assert isinstance(props, dict)
        rid = f"{w['id']}/datastores/{name}"
        caller = req.caller.get("upn") or req.caller.get("name") or "ops@contoso.example"
        now = estate.now_iso()
        secret = _secret_from_body(props["credentials"])
        with estate.lock:
            existing = estate.get(rid)
            ctype = props["credentials"]["credentialsType"]
            stored = _secrets(estate).get(rid.lower())
            if ctype in _SECRET_FIELD and secret is None:
                old_type = existing["properties"]["credentials"].get("credentialsType") if existing else None
                if stored is None or old_type != ctype:
                    raise bad_request(
                        f"The secret for credentials of type '{ctype}' is required.",
                        "UserError",
                        target="properties.credentials.secrets",
                    )
            body = _normalise_props(
                {k: v for k, v in props.items() if k not in ("isDefault",)}, sub, w["id"].split("/")[4]
            )
            body.setdefault("tags", {})
            body.setdefault("description", None)
            body["properties"] = None
            body["isDefault"] = bool(existing and existing["properties"].get("isDefault"))
            if props.get("isDefault"):
                body["isDefault"] = True
            if body["isDefault"]:
                for other in estate.children(w["id"], "datastores"):
                    if other["id"].lower() != rid.lower():
                        other["properties"]["isDefault"] = False
            system = (
                copy.deepcopy(existing["systemData"])
                if existing
                else {"createdAt": now, "createdBy": caller, "createdByType": "User"}
            )
            system.update({"lastModifiedAt": now, "lastModifiedBy": caller, "lastModifiedByType": "User"})
            resource = {"id": rid, "name": name, "type": DATASTORE_TYPE, "properties": body, "systemData": system}
            estate.put(resource)
            if secret is not None:
                _secrets(estate)[rid.lower()] = secret
            elif ctype not in _SECRET_FIELD:
                _secrets(estate).pop(rid.lower(), None)
            out = copy.deepcopy(resource)
        return Response(200 if existing else 201, out)

    def delete(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        w = ws_of(sub, rg, ws)
        rid = f"{w['id']}/datastores/{name}"
        with estate.lock:
            existing = estate.get(rid)
            if existing is None:
                return Response(204, None)
            if existing["properties"].get("isDefault"):
                raise bad_request(
                    f"Datastore '{name}' is the workspace's default datastore and cannot be deleted. Set another "
                    "datastore as default first.",
                    "UserError",
                )
            estate.delete(rid)
            _secrets(estate).pop(rid.lower(), None)
        return Response(200, None)

    def list_secrets(req: Request, sub: str, rg: str, ws: str, name: str) -> Response:
        found = one(ws_of(sub, rg, ws), name)
        with estate.lock:
            secret = _secrets(estate).get(found["id"].lower())
            ctype = found["properties"]["credentials"].get("credentialsType")
        if secret is None:
            raise bad_request(
                f"Datastore '{name}' uses credentials of type '{ctype}', which have no secrets.", "UserError"
            )
        return Response(200, dict(secret))

    router.add("GET", base, list_)
    router.add("GET", base + "/{name}", get)
    router.add("PUT", base + "/{name}", put)
    router.add("DELETE", base + "/{name}", delete)
    router.add("POST", base + "/{name}/listSecrets", list_secrets)
