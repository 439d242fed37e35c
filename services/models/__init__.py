"""The models the service layer hands out: frozen, plain, free of SDK types.

One module per area; everything is re-exported here so callers write ``from services.models import X``.
The re-exports load on first use: the first frame needs the workspace model, not every area's.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "BatchDeployment": "deployments",
    "BatchEndpoint": "deployments",
    "Compute": "compute",
    "ComputeNode": "compute",
    "Datastore": "datastores",
    "DeploymentError": "deployments",
    "InvokeResult": "deployments",
    "KqlQueryFailed": "monitor",
    "LogAnalyticsWorkspace": "monitor",
    "LogColumn": "monitor",
    "LogsResult": "monitor",
    "MetricPoint": "monitor",
    "MetricSeries": "monitor",
    "NodeCounts": "compute",
    "OnlineDeployment": "deployments",
    "OnlineEndpoint": "deployments",
    "PanelQuery": "monitor",
    "Probe": "deployments",
    "QueryError": "monitor",
    "RequestSettings": "deployments",
    "ScaleSettings": "deployments",
    "StorageEntry": "datastores",
    "StorageListing": "datastores",
    "Subscription": "core",
    "Usage": "compute",
    "VmSize": "compute",
    "Workspace": "core",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BatchDeployment",
    "BatchEndpoint",
    "Compute",
    "ComputeNode",
    "Datastore",
    "DeploymentError",
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
