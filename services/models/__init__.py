"""The models the service layer hands out: frozen, plain, free of SDK types.

One module per area; everything is re-exported here so callers write ``from services.models import X``.
"""

from .compute import Compute, ComputeNode, NodeCounts, Usage, VmSize
from .core import Subscription, Workspace
from .datastores import Datastore, StorageEntry, StorageListing
from .deployments import (
    BatchDeployment,
    BatchEndpoint,
    DeploymentError,
    InvokeResult,
    OnlineDeployment,
    OnlineEndpoint,
    Probe,
    RequestSettings,
    ScaleSettings,
)
from .inventory import Inventory, InventoryItem
from .monitor import (
    KqlQueryFailed,
    LogAnalyticsWorkspace,
    LogColumn,
    LogsResult,
    MetricPoint,
    MetricSeries,
    PanelQuery,
    QueryError,
)

__all__ = [
    "BatchDeployment",
    "BatchEndpoint",
    "Compute",
    "ComputeNode",
    "Datastore",
    "DeploymentError",
    "Inventory",
    "InventoryItem",
    "InvokeResult",
    "KqlQueryFailed",
    "LogAnalyticsWorkspace",
    "LogColumn",
    "LogsResult",
    "MetricPoint",
    "MetricSeries",
    "NodeCounts",
    "OnlineDeployment",
    "OnlineEndpoint",
    "PanelQuery",
    "Probe",
    "QueryError",
    "RequestSettings",
    "ScaleSettings",
    "StorageEntry",
    "StorageListing",
    "Subscription",
    "Usage",
    "VmSize",
    "Workspace",
]
