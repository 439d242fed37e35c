"""Datastores: the storage a workspace has registered, and one level of what is in it.

No secret ever lives in these models: a datastore knows *how* it authenticates (account key, SAS,
service principal, identity), never the key, token or client secret itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SYSTEM_DATASTORES = frozenset(
    {"workspaceblobstore", "workspacefilestore", "workspaceartifactstore", "workspaceworkingdirectory"}
)

# auth → what a user reads
AUTH_LABELS = {
    "account_key": "Account key",
    "sas": "SAS token",
    "service_principal": "Service principal",
    "certificate": "Certificate",
    "identity": "Identity-based",
}

# kind → Azure's datastoreType, the storage service and what the container is called
KIND_TYPES = {"blob": "AzureBlob", "adls_gen2": "AzureDataLakeGen2", "file": "AzureFile"}
_SERVICE = {"blob": "blob", "adls_gen2": "dfs", "file": "file"}
_CONTAINER_LABEL = {"blob": "container", "adls_gen2": "filesystem", "file": "share"}


@dataclass(frozen=True)
class Datastore:
    id: str
    name: str
    workspace: str
    kind: str  # blob | adls_gen2 | file | other
    datastore_type: str  # Azure's datastoreType: AzureBlob, AzureDataLakeGen2, AzureFile, ...
    account_name: str
    container: str  # the blob container, ADLS Gen2 filesystem or file share
    endpoint: str = "core.windows.net"  # the storage DNS suffix
    protocol: str = "https"
    auth: str = "identity"  # account_key | sas | service_principal | certificate | identity
    is_default: bool = False
    description: str = ""
    tags: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    tenant_id: str = ""  # service principal / certificate: whose tenant
    client_id: str = ""  # service principal / certificate: which application (not a secret)
    authority_url: str = ""
    resource_url: str = ""
    identity_access: str = ""  # serviceDataAccessAuthIdentity: None | WorkspaceSystemAssignedIdentity | ...
    storage_subscription_id: str = ""
    storage_resource_group: str = ""
    created_on: dt.datetime | None = None
    created_by: str = ""
    modified_on: dt.datetime | None = None

    @property
    def key(self) -> str:
        return self.id.lower()

    @property
    def is_system(self) -> bool:
        """One of the datastores Azure ML creates with the workspace."""
        return self.name in SYSTEM_DATASTORES

    @property
    def auth_label(self) -> str:
        return AUTH_LABELS.get(self.auth, self.auth)

    @property
    def container_label(self) -> str:
        return _CONTAINER_LABEL.get(self.kind, "container")

    @property
    def has_secret(self) -> bool:
        """Whether Azure ML keeps a secret for it (readable only through listSecrets)."""
        return self.auth in ("account_key", "sas", "service_principal", "certificate")

    @property
    def browsable(self) -> bool:
        return self.kind in ("blob", "adls_gen2", "file")

    @property
    def storage_url(self) -> str:
        """Where the data lives, as Azure names it (for display; browsing resolves through the Cloud)."""
        service = _SERVICE.get(self.kind, "blob")
        return f"{self.protocol or 'https'}://{self.account_name}.{service}.{self.endpoint}/{self.container}"

    @property
    def uri(self) -> str:
        """The azureml:// URI jobs use for paths in this datastore."""
        return f"azureml://datastores/{self.name}/paths/"


@dataclass(frozen=True)
class StorageEntry:
    """One item of a listing: a "directory" (a common prefix) or a file."""

    name: str  # the last path segment, without a trailing slash
    path: str  # the full path inside the container; directories end with "/"
    is_dir: bool
    size: int = 0
    modified: dt.datetime | None = None
    content_type: str = ""


@dataclass(frozen=True)
class StorageListing:
    """One level of a datastore under a prefix: directories first, then files, each sorted by name."""

    datastore: str
    prefix: str  # "" for the root, else ends with "/"
    entries: tuple[StorageEntry, ...]
    truncated: bool = False  # more entries than the limit asked for

    @property
    def directories(self) -> tuple[StorageEntry, ...]:
        return tuple(e for e in self.entries if e.is_dir)

    @property
    def files(self) -> tuple[StorageEntry, ...]:
        return tuple(e for e in self.entries if not e.is_dir)

    @property
    def parent(self) -> str:
        """The prefix one level up ("" at or below the first level)."""
        parts = self.prefix.rstrip("/").split("/")
        return "/".join(parts[:-1]) + "/" if len(parts) > 1 else ""

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries)
