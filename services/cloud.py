"""The Cloud seam: everything that differs between Azure's clouds and a local emulator.

A profile resolves to one Cloud plus a credential; every SDK client is built from that pair, by the
same code, whether it talks to Azure or to 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass

# The Entra ID authority hosts MSAL knows (public, US Government, China): instance discovery applies to them.
ENTRA_PUBLIC_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)


@dataclass(frozen=True)
class Cloud:
    name: str
    resource_manager: str  # ARM, e.g. https://management.azure.com
    authority: str  # Entra ID, e.g. https://login.microsoftonline.com
    log_analytics: str  # Log Analytics query API
    metrics: str  # Azure Monitor metrics data plane ("" = regional, derived per call)
    aml_resource_id: str = "https://ml.azure.com/"
    storage_suffix: str = "core.windows.net"
    portal: str = "https://portal.azure.com"
    ca_bundle: str | None = None  # a PEM to trust instead of the system store (local endpoints)
    arm_audience: str = "https://management.azure.com"
    log_analytics_audience: str = "https://api.loganalytics.io"
    metrics_audience: str = "https://metrics.monitor.azure.com"
    builtin: bool = True  # one of azure-ai-ml's named clouds
    # Storage data-plane URL templates with {account}; "" derives https://{account}.blob|file.{suffix}.
    # A local emulator such as Azurite serves path-style URLs: "http://127.0.0.1:PORT/{account}".
    blob_endpoint: str = ""
    file_endpoint: str = ""
    dfs_endpoint: str = ""

    @property
    def known_authority(self) -> bool:
        """Whether the sign-in authority is one of Entra ID's public hosts, which MSAL validates through its
        instance-discovery endpoint. Any other authority (a custom, air-gapped or local cloud) must be
        used as given, with discovery off: otherwise MSAL asks the public login host about it first."""
        host = urllib.parse.urlsplit(self.authority if "//" in self.authority else "//" + self.authority).hostname
        return (host or "").lower() in ENTRA_PUBLIC_HOSTS

    @property
    def arm_scope(self) -> str:
        return self.arm_audience.rstrip("/") + "/.default"

    @property
    def log_analytics_scope(self) -> str:
        return self.log_analytics_audience.rstrip("/") + "/.default"

    @property
    def metrics_scope(self) -> str:
        return self.metrics_audience.rstrip("/") + "/.default"

    def blob_url(self, account: str, suffix: str = "", protocol: str = "https") -> str:
        """The blob service URL of a storage account (suffix: a datastore's endpoint, else the cloud's)."""
        if self.blob_endpoint:
            return self.blob_endpoint.format(account=account)
        return f"{protocol or 'https'}://{account}.blob.{suffix or self.storage_suffix}"

    def file_url(self, account: str, suffix: str = "", protocol: str = "https") -> str:
        """The file service URL of a storage account (suffix: a datastore's endpoint, else the cloud's)."""
        if self.file_endpoint:
            return self.file_endpoint.format(account=account)
        return f"{protocol or 'https'}://{account}.file.{suffix or self.storage_suffix}"

    def dfs_url(self, account: str, suffix: str = "", protocol: str = "https") -> str:
        """The Data Lake (dfs) service URL of a storage account (suffix: a datastore's endpoint, else the cloud's)."""
        if self.dfs_endpoint:
            return self.dfs_endpoint.format(account=account)
        return f"{protocol or 'https'}://{account}.dfs.{suffix or self.storage_suffix}"

    def storage_authority(self, authority: str) -> str:
        """The sign-in authority for a storage credential: a custom cloud (air-gapped, or an emulator) signs in
        only at its own authority, whatever a datastore names."""
        return (authority or self.authority) if self.builtin else self.authority

    def metrics_endpoint(self, region: str) -> str:
        return self.metrics or f"https://{region}.metrics.monitor.azure.com"

    @property
    def ml_cloud_name(self) -> str:
        """The name azure-ai-ml knows this cloud by; custom clouds get one derived from their endpoints.

        azure-ai-ml registers custom clouds process-wide and never overwrites one, so the name must be
        unique per set of endpoints.
        """
        if self.builtin:
            return self.name
        digest = hashlib.sha1(self.resource_manager.encode()).hexdigest()[:10]
        return f"azml-{self.name}-{digest}"

    def ml_cloud_metadata(self) -> dict[str, str]:
        return {
            "azure_portal": self.portal.rstrip("/") + "/",
            "resource_manager": self.resource_manager.rstrip("/") + "/",
            "active_directory": self.authority.rstrip("/") + "/",
            "aml_resource_id": self.aml_resource_id,
            "storage_endpoint": self.storage_suffix,
            "registry_discovery_endpoint": self.resource_manager.rstrip("/") + "/",
        }


AZURE_PUBLIC = Cloud(
    name="AzureCloud",
    resource_manager="https://management.azure.com",
    authority="https://login.microsoftonline.com",
    log_analytics="https://api.loganalytics.io",
    metrics="",
)

AZURE_US_GOVERNMENT = Cloud(
    name="AzureUSGovernment",
    resource_manager="https://management.usgovcloudapi.net",
    authority="https://login.microsoftonline.us",
    log_analytics="https://api.loganalytics.us",
    metrics="",
    aml_resource_id="https://ml.azure.us/",
    storage_suffix="core.usgovcloudapi.net",
    portal="https://portal.azure.us",
    arm_audience="https://management.usgovcloudapi.net",
    log_analytics_audience="https://api.loganalytics.us",
    metrics_audience="https://metrics.monitor.azure.us",
)

AZURE_CHINA = Cloud(
    name="AzureChinaCloud",
    resource_manager="https://management.chinacloudapi.cn",
    authority="https://login.chinacloudapi.cn",
    log_analytics="https://api.loganalytics.azure.cn",
    metrics="",
    aml_resource_id="https://ml.azure.cn/",
    storage_suffix="core.chinacloudapi.cn",
    portal="https://portal.azure.cn",
    arm_audience="https://management.chinacloudapi.cn",
    log_analytics_audience="https://api.loganalytics.azure.cn",
    metrics_audience="https://metrics.monitor.azure.cn",
)

BUILTIN_CLOUDS = {c.name: c for c in (AZURE_PUBLIC, AZURE_US_GOVERNMENT, AZURE_CHINA)}


def custom_cloud(
    name: str,
    endpoint: str,
    *,
    ca_bundle: str | None = None,
    blob_endpoint: str = "",
    file_endpoint: str = "",
    storage_at_endpoint: bool = False,
) -> Cloud:
    """A cloud whose every service answers at one base URL (a standalone or embedded emulator).

    Storage is separate: pass ``blob_endpoint``/``file_endpoint`` templates (e.g. Azurite's
    "http://127.0.0.1:PORT/{account}"), or ``storage_at_endpoint`` for the path-style storage data plane the
    emulator serves at ``{endpoint}/storage/{blob|dfs|file}/{account}``; else storage URLs derive from the
    public suffix.
    """
    base = endpoint.rstrip("/")
    dfs_endpoint = ""
    if storage_at_endpoint:
        blob_endpoint = blob_endpoint or f"{base}/storage/blob/{{account}}"
        file_endpoint = file_endpoint or f"{base}/storage/file/{{account}}"
        dfs_endpoint = f"{base}/storage/dfs/{{account}}"
    return Cloud(
        name=name,
        resource_manager=base,
        authority=base,
        log_analytics=base,
        metrics=base,
        aml_resource_id=base + "/",
        storage_suffix="core.windows.net",
        portal=base,
        ca_bundle=ca_bundle,
        builtin=False,
        blob_endpoint=blob_endpoint,
        file_endpoint=file_endpoint,
        dfs_endpoint=dfs_endpoint,
    )
