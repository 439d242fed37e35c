"""Datastores: reads over the REST client, actions through azure-ai-ml behind the mutation choke point,
and one-level browsing of their contents with the storage SDKs.

Secrets never reach a model or an audit line. Registering takes a ``credential_ref`` and a
SecretSource (the value is read inside the operation, at the last moment); browsing fetches the
account key or SAS through ``listSecrets`` for the one listing and drops it.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import validation as v
from .errors import AzmlError
from .kinds import datastores as kinds
from .kinds.datastores import SECRET_AUTHS
from .models.core import Workspace
from .models.datastores import KIND_TYPES, Datastore, StorageEntry, StorageListing
from .mutations import Reconciled, Target, operation, read_resource, resource_path
from .secrets import SecretSource
from .session import Session
from .times import parse_time

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

API = "2024-10-01"
_KIND = {t: k for k, t in KIND_TYPES.items()}
_CONTAINER_FIELD = {"AzureBlob": "containerName", "AzureDataLakeGen2": "filesystem", "AzureFile": "fileShareName"}
_AUTH = {
    "AccountKey": "account_key",
    "Sas": "sas",
    "ServicePrincipal": "service_principal",
    "Certificate": "certificate",
    "None": "identity",
}
DEFAULT_RESOURCE_URL = "https://storage.azure.com/"


class BrowseNotSupported(AzmlError, ValueError):
    """This datastore's kind or credential cannot be browsed from the console (yet)."""


# -- reads ---------------------------------------------------------------------------------------


def _from_rest(body: Mapping[str, Any], workspace: str) -> Datastore:
    p = body.get("properties") or {}
    dtype = str(p.get("datastoreType") or "")
    cred = p.get("credentials") or {}
    system = body.get("systemData") or {}
    return Datastore(
        id=str(body["id"]),
        name=str(body["name"]),
        workspace=workspace,
        kind=_KIND.get(dtype, "other"),
        datastore_type=dtype,
        account_name=str(p.get("accountName") or ""),
        container=str(p.get(_CONTAINER_FIELD.get(dtype, "containerName")) or ""),
        endpoint=str(p.get("endpoint") or ""),
        protocol=str(p.get("protocol") or ""),
        auth=_AUTH.get(str(cred.get("credentialsType") or "None"), str(cred.get("credentialsType") or "")),
        is_default=bool(p.get("isDefault")),
        description=str(p.get("description") or ""),
        tags=tuple(sorted((str(k), str(val)) for k, val in (p.get("tags") or {}).items())),
        tenant_id=str(cred.get("tenantId") or ""),
        client_id=str(cred.get("clientId") or ""),
        authority_url=str(cred.get("authorityUrl") or ""),
        resource_url=str(cred.get("resourceUrl") or ""),
        identity_access=str(p.get("serviceDataAccessAuthIdentity") or ""),
        storage_subscription_id=str(p.get("subscriptionId") or ""),
        storage_resource_group=str(p.get("resourceGroup") or ""),
        created_on=parse_time(system.get("createdAt")),
        created_by=str(system.get("createdBy") or ""),
        modified_on=parse_time(system.get("lastModifiedAt")),
    )


def list_datastores(session: Session, ws: Workspace) -> list[Datastore]:
    items = session.rest().items(ws.id + "/datastores", API)
    return sorted((_from_rest(d, ws.name) for d in items), key=lambda d: d.name.lower())


def get_datastore(session: Session, ws: Workspace, name: str) -> Datastore:
    return _from_rest(session.rest().get(f"{ws.id}/datastores/{name}", API), ws.name)


def default_datastore(session: Session, ws: Workspace) -> Datastore | None:
    for d in session.rest().items(ws.id + "/datastores", API, params={"isDefault": "true"}):
        return _from_rest(d, ws.name)
    return None


# -- browsing ------------------------------------------------------------------------------------


def _client_kwargs(session: Session, retry_cls: Any) -> dict[str, Any]:
    # The storage SDKs' default retry waits 15 s, then 45 s: far too long for a console listing.
    retry = retry_cls(initial_backoff=1, increment_base=2, retry_total=1, random_jitter_range=1)
    kwargs: dict[str, Any] = {"retry_policy": retry, "connection_timeout": 10, "read_timeout": 30}
    if session.cloud.ca_bundle:
        kwargs["connection_verify"] = session.cloud.ca_bundle
    return kwargs


def _storage_credential(session: Session, ds: Datastore) -> Any:
    """The credential to read a datastore's storage with; secrets come from listSecrets and stay local."""
    if ds.auth == "identity":
        return session.credential
    if ds.auth not in SECRET_AUTHS:
        raise BrowseNotSupported(f"browsing a datastore with {ds.auth_label.lower()} credentials is not supported yet")
    secrets = session.rest().post(ds.id + "/listSecrets", API, body={}) or {}
    if ds.auth == "account_key":
        return {"account_name": ds.account_name, "account_key": str(secrets.get("key") or "")}
    if ds.auth == "sas":
        from azure.core.credentials import AzureSasCredential

        return AzureSasCredential(str(secrets.get("sasToken") or "").lstrip("?"))
    from azure.identity import ClientSecretCredential

    extra: dict[str, Any] = {}
    if session.cloud.ca_bundle:
        extra["connection_verify"] = session.cloud.ca_bundle
    if not session.cloud.builtin:
        extra["disable_instance_discovery"] = True  # the custom authority is the only host contacted
    return ClientSecretCredential(
        ds.tenant_id,
        ds.client_id,
        str(secrets.get("clientSecret") or ""),
        authority=session.cloud.storage_authority(ds.authority_url),
        **extra,
    )


def _normalise_prefix(prefix: str) -> str:
    parts = [p for p in prefix.replace("\\", "/").split("/") if p and p != "."]
    return "/".join(parts) + "/" if parts else ""


def browse(session: Session, ds: Datastore, prefix: str = "", *, limit: int = 1000) -> StorageListing:
    """One level of a datastore under ``prefix``: "directories" and files with size and modified time.

    Blob and ADLS Gen2 datastores are listed with the blob API (a "/" delimiter works with and without a
    hierarchical namespace); Azure Files with the file share API. The storage URL comes from the Cloud.
    """
    prefix = _normalise_prefix(prefix)
    if ds.kind in ("blob", "adls_gen2"):
        entries, truncated = _browse_blobs(session, ds, prefix, limit)
    elif ds.kind == "file":
        entries, truncated = _browse_share(session, ds, prefix, limit)
    else:
        raise BrowseNotSupported(f"browsing a {ds.datastore_type or 'this kind of'} datastore is not supported")
    ordered = sorted(entries, key=lambda e: (not e.is_dir, e.name.lower(), e.name))
    return StorageListing(datastore=ds.name, prefix=prefix, entries=tuple(ordered), truncated=truncated)


def _browse_blobs(session: Session, ds: Datastore, prefix: str, limit: int) -> tuple[list[StorageEntry], bool]:
    from azure.storage.blob import BlobPrefix, BlobServiceClient, ExponentialRetry

    url = session.cloud.blob_url(ds.account_name, ds.endpoint, ds.protocol)
    service = BlobServiceClient(
        url, credential=_storage_credential(session, ds), **_client_kwargs(session, ExponentialRetry)
    )
    dirs: dict[str, StorageEntry] = {}
    files: dict[str, StorageEntry] = {}
    truncated = False
    with service:
        container = service.get_container_client(ds.container)
        for count, item in enumerate(
            container.walk_blobs(name_starts_with=prefix or None, include=["metadata"], delimiter="/")
        ):
            if count >= limit:
                truncated = True
                break
            name = str(item.name)
            if name == prefix:  # a zero-length marker blob for the prefix itself
                continue
            metadata = getattr(item, "metadata", None) or {}
            if isinstance(item, BlobPrefix) or str(metadata.get("hdi_isfolder", "")).lower() == "true":
                path = name if name.endswith("/") else name + "/"  # ADLS Gen2 directories are blobs too
                dirs[path] = StorageEntry(
                    name=path[len(prefix) :].rstrip("/"),
                    path=path,
                    is_dir=True,
                    modified=getattr(item, "last_modified", None) or (dirs[path].modified if path in dirs else None),
                )
                continue
            settings = getattr(item, "content_settings", None)
            files[name] = StorageEntry(
                name=name[len(prefix) :],
                path=name,
                is_dir=False,
                size=int(item.size or 0),
                modified=item.last_modified,
                content_type=str(getattr(settings, "content_type", "") or ""),
            )
    return [*dirs.values(), *files.values()], truncated


def _browse_share(session: Session, ds: Datastore, prefix: str, limit: int) -> tuple[list[StorageEntry], bool]:
    from azure.storage.fileshare import ExponentialRetry, ShareDirectoryClient

    kwargs = _client_kwargs(session, ExponentialRetry)
    if ds.auth == "identity":
        kwargs["token_intent"] = "backup"  # what Azure Files requires of OAuth callers
    client = ShareDirectoryClient(
        session.cloud.file_url(ds.account_name, ds.endpoint, ds.protocol),
        ds.container,
        prefix.rstrip("/"),
        credential=_storage_credential(session, ds),
        **kwargs,
    )
    entries: list[StorageEntry] = []
    truncated = False
    with client:
        for count, item in enumerate(client.list_directories_and_files(include=["timestamps"])):
            if count >= limit:
                truncated = True
                break
            name = str(item.name)
            is_dir = bool(getattr(item, "is_directory", False))
            entries.append(
                StorageEntry(
                    name=name,
                    path=prefix + name + ("/" if is_dir else ""),
                    is_dir=is_dir,
                    size=0 if is_dir else int(getattr(item, "size", 0) or 0),
                    modified=getattr(item, "last_modified", None),
                )
            )
    return entries, truncated


# -- actions -------------------------------------------------------------------------------------


def _ml(session: Session, t: Target) -> MLClient:
    return session.ml_client(t.subscription_id, t.resource_group, t.workspace)


def _ws_id(t: Target) -> str:
    return (
        f"/subscriptions/{t.subscription_id}/resourceGroups/{t.resource_group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{t.workspace}"
    )


def _secret(p: Mapping[str, Any]) -> str:
    source: SecretSource = p["secrets"]
    ref = str(p["credential_ref"])
    try:
        value = source.get_secret(ref)
    except LookupError:
        raise v.ValidationError([v.FieldError("credential_ref", f"names no stored secret ({ref})")]) from None
    if not value:
        raise v.ValidationError([v.FieldError("credential_ref", f"names an empty secret ({ref})")])
    return value


def _credentials(session: Session, p: Mapping[str, Any]) -> Any:
    from azure.ai.ml.entities import AccountKeyConfiguration, SasTokenConfiguration, ServicePrincipalConfiguration

    auth = p["auth"]
    if auth == "account_key":
        return AccountKeyConfiguration(account_key=_secret(p))
    if auth == "sas":
        return SasTokenConfiguration(sas_token=_secret(p).lstrip("?"))
    if auth == "service_principal":
        return ServicePrincipalConfiguration(
            tenant_id=p["tenant_id"],
            client_id=p["client_id"],
            client_secret=_secret(p),
            authority_url=p.get("authority_url") or session.cloud.authority,
            resource_url=p.get("resource_url") or DEFAULT_RESOURCE_URL,
        )
    return None  # identity-based: no credentials


def _register(session: Session, target: Target, kind: str, p: Mapping[str, Any]) -> Datastore:
    from azure.ai.ml.entities import AzureBlobDatastore, AzureDataLakeGen2Datastore, AzureFileDatastore

    common: dict[str, Any] = {
        "name": p["name"],
        "account_name": p["account_name"],
        "description": p.get("description") or None,
        "tags": dict(p.get("tags") or {}),
        "endpoint": p.get("endpoint") or session.cloud.storage_suffix,
        "protocol": p.get("protocol") or "https",
        "credentials": _credentials(session, p),
    }
    entity: Any
    if kind == "blob":
        entity = AzureBlobDatastore(container_name=p["container_name"], **common)
    elif kind == "adls_gen2":
        entity = AzureDataLakeGen2Datastore(filesystem=p["filesystem"], **common)
    else:
        entity = AzureFileDatastore(file_share_name=p["file_share_name"], **common)
    _ml(session, target).datastores.create_or_update(entity)
    body = session.rest().get(f"{_ws_id(target)}/datastores/{p['name']}", API)
    return _from_rest(body, target.workspace)


def _reconcile_registered(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
    name = str(params.get("name") or t.name)
    body = read_resource(session, resource_path(t, "datastores", name), API)
    return (body is not None), f"{name} is {'registered' if body is not None else 'not registered'}"


def _reconcile_default(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
    body = read_resource(session, resource_path(t, "datastores", t.name), API)
    if body is None:
        return False, f"{t.name} is not registered"
    default = bool((body.get("properties") or {}).get("isDefault"))
    return default, f"{t.name} is {'' if default else 'not '}the default datastore"


def _reconcile_unregistered(session: Session, t: Target, params: Mapping[str, Any]) -> Reconciled:
    body = read_resource(session, resource_path(t, "datastores", t.name), API)
    return (body is None), f"{t.name} is {'no longer' if body is None else 'still'} registered"


@operation(
    "datastore.register_blob",
    "Register Blob datastore",
    params=kinds.RegisterBlob,
    reconcile=_reconcile_registered,
)
def register_blob(
    session: Session,
    target: Target,
    *,
    name: str,
    account_name: str,
    container_name: str,
    auth: str = "account_key",
    credential_ref: str = "",
    secrets: SecretSource | None = None,
    endpoint: str = "",
    protocol: str = "https",
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> Datastore:
    """Register a blob container; account key or SAS read from ``secrets`` by ``credential_ref``."""
    return _register(session, target, "blob", locals())


@operation(
    "datastore.register_adls_gen2",
    "Register ADLS Gen2 datastore",
    params=kinds.RegisterAdlsGen2,
    reconcile=_reconcile_registered,
)
def register_adls_gen2(
    session: Session,
    target: Target,
    *,
    name: str,
    account_name: str,
    filesystem: str,
    auth: str = "service_principal",
    credential_ref: str = "",
    secrets: SecretSource | None = None,
    tenant_id: str = "",
    client_id: str = "",
    authority_url: str = "",
    resource_url: str = "",
    endpoint: str = "",
    protocol: str = "https",
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> Datastore:
    """Register an ADLS Gen2 filesystem; a service principal's secret read from ``secrets``, or identity-based."""
    return _register(session, target, "adls_gen2", locals())


@operation(
    "datastore.register_file",
    "Register Azure Files datastore",
    params=kinds.RegisterFile,
    reconcile=_reconcile_registered,
)
def register_file(
    session: Session,
    target: Target,
    *,
    name: str,
    account_name: str,
    file_share_name: str,
    auth: str = "account_key",
    credential_ref: str = "",
    secrets: SecretSource | None = None,
    endpoint: str = "",
    protocol: str = "https",
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> Datastore:
    """Register an Azure file share; account key or SAS read from ``secrets`` by ``credential_ref``."""
    return _register(session, target, "file", locals())


def _check_target_name(target: Target) -> None:
    v.check(v.datastore_name(target.name, "name"))


@operation(
    "datastore.set_default",
    "Set default datastore",
    params=kinds.SetDefault,
    reconcile=_reconcile_default,
)
def set_default(session: Session, target: Target) -> Datastore:
    """Make the datastore the workspace default (Azure clears the flag on the previous one)."""
    _check_target_name(target)
    # Datastores_CreateOrUpdate with the service's own resource and properties.isDefault=true (azure-ai-ml's
    # entities drop the flag). Azure serves a datastore without its secrets and wants them back on PUT, so
    # they are read with Datastores_ListSecrets (as azure-ai-ml does) and go only into the request body.
    path = f"{_ws_id(target)}/datastores/{urllib.parse.quote(target.name, safe='')}"
    raw = session.rest().get(path, API) or {}
    props = dict(raw.get("properties") or {})
    credentials = dict(props.get("credentials") or {})
    if credentials and str(credentials.get("credentialsType") or "None") != "None":
        body = {"expirableSecret": True, "expireAfterHours": 1}
        credentials["secrets"] = session.rest().post(path + "/listSecrets", API, body=body) or {}
        props["credentials"] = credentials
    props["isDefault"] = True
    session.mutation_rest().put(path, API, body={"properties": props}, skipValidation="true")
    return _from_rest(session.rest().get(path, API), target.workspace)


@operation(
    "datastore.unregister",
    "Unregister datastore",
    params=kinds.Unregister,
    destructive=True,
    reconcile=_reconcile_unregistered,
)
def unregister(session: Session, target: Target) -> None:
    """Remove the datastore's registration from the workspace; the data in storage is untouched."""
    _check_target_name(target)
    _ml(session, target).datastores.delete(target.name)
