"""Datastores of a workspace: where its data lives and how it authenticates (never the secret)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from .. import validation as v
from ..kind import (
    BOOL,
    MAP,
    STR,
    TIME,
    Action,
    Column,
    Kind,
    Layout,
    Loaded,
    LoadOptions,
    Target,
    described,
    iso_utc,
    pairs,
)
from ..models import Datastore
from ..params import GUID, Check, Matches, OneOf, Param, Params, either
from ..secrets import SecretSource

if TYPE_CHECKING:
    from ..mutations import Target as MutationTarget


def load(session: Any, target: Target, options: LoadOptions) -> Loaded:
    from .. import datastores

    assert target.workspace is not None
    return Loaded({"datastores": list(datastores.list_datastores(session, target.workspace))})


def _not_default(d: Datastore) -> str:
    return f"{d.name} is already the default datastore." if d.is_default else ""


def _unregisterable(d: Datastore) -> str:
    if d.is_default:  # Azure ML refuses to unregister the default; say so before a round trip that can only fail
        return (
            f"{d.name} is the workspace's default datastore: Azure ML does not unregister the default. "
            "Make another datastore the default first (*)."
        )
    return ""


# -- the actions' parameters -------------------------------------------------------------------------

SECRET_AUTHS = ("account_key", "sas", "service_principal")  # the auths whose secret Azure ML keeps
SECRET_LABEL = {"account_key": "account key", "sas": "SAS token", "service_principal": "client secret"}
_AZ_SECRET = {"account_key": "account_key", "sas": "sas_token", "service_principal": "client_secret"}


def _dns_suffix(value: str) -> v.FieldError | None:
    if value and ("://" in value or "/" in value or value.startswith(".")):
        return v.FieldError("endpoint", "must be a storage DNS suffix such as core.windows.net, not a URL")
    return None


def _https_url(value: str) -> v.FieldError | None:
    return v.https_url(value) if value else None


CONTAINER_LABEL = "Container / filesystem / share"
CONTAINER_RULE = Check(v.container_name)
ACCOUNT = Param(
    "Storage account", "3-24 lower-case letters or digits", rules=(Check(v.storage_account),), form="account"
)
AUTH = Param("Auth", "account_key | sas | identity | service_principal")
GUID_RULE = Matches(GUID, "must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")


class _Storage(Params):
    """Where a datastore's data is: its name in the workspace, the storage account, and (each type) a container."""

    name: Annotated[str, Param("Name", "letters, digits, underscores", rules=(Check(v.datastore_name),))] = ""
    account_name: Annotated[str, ACCOUNT] = ""

    @property
    def container(self) -> str:
        return ""


class _BlobContainer(_Storage):
    container_name: Annotated[str, Param("Container", rules=(CONTAINER_RULE,), form="container")] = ""

    @property
    def container(self) -> str:
        return self.container_name


class _Filesystem(_Storage):
    filesystem: Annotated[str, Param("Filesystem", rules=(CONTAINER_RULE,), form="container")] = ""

    @property
    def container(self) -> str:
        return self.filesystem


class _FileShare(_Storage):
    file_share_name: Annotated[str, Param("File share", rules=(CONTAINER_RULE,), form="container")] = ""

    @property
    def container(self) -> str:
        return self.file_share_name


class RegisterDatastore(_Storage):
    """Registering a datastore: how it authenticates (a secret by reference: ``credential_ref`` in ``secrets``,
    read inside the operation; never the value), and where the storage's endpoint is."""

    KIND: ClassVar[str] = ""  # blob, adls_gen2, file
    AZ_TYPE: ClassVar[str] = ""  # its type in az ml's datastore YAML
    CONTAINER: ClassVar[str] = ""  # the parameter naming its container
    AUTHS: ClassVar[tuple[str, ...]] = ("account_key", "sas", "identity")  # what `az ml datastore create` accepts
    NOT_HERE = "only for service principal auth: leave empty"

    auth: Annotated[str, AUTH] = "account_key"
    credential_ref: Annotated[str, Param("Secret reference", form=None, errors_on="secret")] = ""
    secrets: Annotated[SecretSource | None, Param("Secret store", form=None, errors_on="secret")] = None
    endpoint: Annotated[str, Param("Storage DNS suffix", rules=(Check(_dns_suffix),), form=None)] = ""
    protocol: Annotated[str, Param("Protocol", rules=(OneOf(("https", "http")),), form=None)] = "https"
    description: Annotated[str, Param("Description", form=None)] = ""
    tags: Annotated[Mapping[str, str] | None, Param("Tags", form=None)] = None

    def rules(self) -> Iterable[v.FieldError | None]:
        auth, errors = self.auth, list[v.FieldError | None]()
        if auth not in self.AUTHS:
            errors.append(v.FieldError("auth", f"must be one of {', '.join(self.AUTHS)} for this datastore type"))
        if auth in SECRET_AUTHS:
            if not self.credential_ref:
                errors.append(v.FieldError("credential_ref", f"is required for {auth} auth (the {SECRET_LABEL[auth]})"))
            if not isinstance(self.secrets, SecretSource):
                errors.append(v.FieldError("secrets", f"a secret source is required for {auth} auth"))
        elif self.credential_ref:
            errors.append(v.FieldError("credential_ref", "must be empty for identity-based access"))
        return errors

    def az_sets(self) -> list[str]:
        sets = [f"type={self.AZ_TYPE}", f"account_name={self.account_name}", f"{self.CONTAINER}={self.container}"]
        if self.auth in _AZ_SECRET:
            sets.append(f"credentials.{_AZ_SECRET[self.auth]}=<secret:{self.credential_ref}>")
        return sets

    def az(self, target: MutationTarget) -> str:
        from ..mutations import ws_args

        sets = " ".join(self.az_sets())
        return f"az ml datastore create --name {self.name} --file datastore.yml --set {sets} {ws_args(target)}"


class RegisterBlob(RegisterDatastore, _BlobContainer):
    KIND = "blob"
    AZ_TYPE = "azure_blob"
    CONTAINER = "container_name"


class RegisterAdlsGen2(RegisterDatastore, _Filesystem):
    KIND = "adls_gen2"
    AZ_TYPE = "azure_data_lake_gen2"
    CONTAINER = "filesystem"
    AUTHS = ("service_principal", "identity")

    auth: Annotated[str, AUTH] = "service_principal"
    tenant_id: Annotated[str, Param("Tenant id", "service principal only")] = ""
    client_id: Annotated[str, Param("Client id", "service principal only")] = ""
    authority_url: Annotated[str, Param("Authority URL", rules=(Check(_https_url),), form=None)] = ""
    resource_url: Annotated[str, Param("Resource URL", rules=(Check(_https_url),), form=None)] = ""

    def rules(self) -> Iterable[v.FieldError | None]:
        errors = list(super().rules())
        if self.auth == "service_principal":
            errors += [
                v.FieldError("tenant_id", GUID_RULE.rule) if GUID_RULE.check(self.tenant_id) else None,
                v.FieldError("client_id", GUID_RULE.rule) if GUID_RULE.check(self.client_id) else None,
            ]
        else:
            for name, value in (("tenant_id", self.tenant_id), ("client_id", self.client_id)):
                if value:
                    errors.append(v.FieldError(name, self.NOT_HERE))
        return errors

    def az_sets(self) -> list[str]:
        sets = super().az_sets()
        if self.auth == "service_principal":
            sets[3:3] = [f"credentials.tenant_id={self.tenant_id}", f"credentials.client_id={self.client_id}"]
        return sets


class RegisterFile(RegisterDatastore, _FileShare):
    KIND = "file"
    AZ_TYPE = "azure_file"
    CONTAINER = "file_share_name"


REGISTER: dict[str, type[RegisterDatastore]] = {m.KIND: m for m in (RegisterBlob, RegisterAdlsGen2, RegisterFile)}
REGISTER_HELP = either(REGISTER)


class SetDefault(Params):
    def az(self, target: MutationTarget) -> str:
        from ..mutations import ws_args

        # No `az ml` verb sets the default; the console sends PUT properties.isDefault=true.
        return (
            f"az ml datastore show --name {target.name} {ws_args(target)}  # no az ml verb sets the default: "
            "the console re-sends the datastore with properties.isDefault=true"
        )


class Unregister(Params):
    AZ = "az ml datastore delete"
    AZ_TARGET = "--name"


def _d(f: str) -> Any:
    return lambda d: getattr(d, f)


KINDS = (
    Kind(
        name="datastores",
        title="Datastores",
        model=Datastore,
        order=30,
        loader=load,
        service="services.datastores",
        schema_def="datastore",
        help="Datastores of the workspace",
        aliases=("datastore", "ds"),
        screen="screens.datastores:DatastoresScreen",
        sort_key=lambda r: (r["workspace"].lower(), r["name"].lower()),
        columns=(
            Column("workspace", "Workspace", _d("workspace"), md=True),
            # on screen wide enough for Azure's system names with the default mark, so the "*" is never cut off
            Column("name", "Name", _d("name"), priority=0, md=True, layout=Layout(flex=True, min_width=26)),
            Column("id", "Id", _d("id")),
            Column("kind", "Kind", _d("kind"), priority=0, md=True, layout=Layout("Type", max_width=9)),
            Column("datastore_type", "Datastore type", _d("datastore_type")),
            Column("account_name", "Account", _d("account_name"), priority=0, md=True, layout=Layout(max_width=18)),
            Column("container", "Container", _d("container"), priority=0, md=True, layout=Layout(max_width=24)),
            Column("storage_url", "Storage URL", _d("storage_url")),
            Column(
                "auth",
                "Auth",
                _d("auth"),
                described(STR, "how it authenticates; never the secret itself"),
                priority=0,
                md=True,
                layout=Layout(max_width=17),
            ),
            Column(
                "endpoint",
                "Endpoint",
                _d("endpoint"),
                priority=0,
                layout=Layout(max_width=18),
                snapshot=False,  # the snapshot has the storage URL
            ),
            Column("identity_access", "Identity access", _d("identity_access")),
            Column("is_default", "Default", _d("is_default"), BOOL, md=True),
            Column("is_system", "System", _d("is_system"), BOOL),
            Column("tenant_id", "Tenant id", _d("tenant_id")),
            Column("client_id", "Client id", _d("client_id")),
            Column("description", "Description", _d("description")),
            Column("tags", "Tags", lambda d: pairs(d.tags), MAP),
            Column("created_on", "Created", lambda d: iso_utc(d.created_on), TIME),
            Column("modified_on", "Modified", lambda d: iso_utc(d.modified_on), TIME),
        ),
        actions=(
            Action("set_default", "datastore.set_default", "asterisk", _not_default, params=SetDefault),
            Action("unregister", "datastore.unregister", "D", _unregisterable, params=Unregister),
            # the type is chosen on the form (one model per type); the guard's rule is the same for each
            Action("register", "datastore.register_blob", "n", on_row=False, params=RegisterBlob),
        ),
    ),
)
