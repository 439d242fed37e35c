"""SDK client construction from a Cloud and a credential. The SDKs are imported here, on first need."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .cloud import Cloud

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.core.credentials import TokenCredential
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.resource.subscriptions import SubscriptionClient
    from azure.mgmt.resourcegraph import ResourceGraphClient
    from azure.monitor.query import LogsQueryClient
    from azure.monitor.querymetrics import MetricsClient

_QUIET_LOGGERS = ("azure", "azure.ai.ml", "azure.identity", "azure.core", "msal", "urllib3")


def quiet_sdk_logging() -> None:
    """The SDKs attach stderr handlers and log at INFO; nothing of theirs may reach the terminal."""
    for name in _QUIET_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if isinstance(handler, logging.StreamHandler):
                logger.removeHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = True


def _common(cloud: Cloud) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if cloud.ca_bundle:
        kwargs["connection_verify"] = cloud.ca_bundle
    return kwargs


def ml_client(
    cloud: Cloud,
    credential: TokenCredential,
    subscription_id: str,
    resource_group: str | None = None,
    workspace: str | None = None,
    **kwargs: Any,
) -> MLClient:
    from azure.ai.ml import MLClient

    extra: dict[str, Any] = {"cloud": cloud.ml_cloud_name}
    if not cloud.builtin:
        extra["cloud_metadata"] = cloud.ml_cloud_metadata()
    client = MLClient(
        credential,
        subscription_id=subscription_id,
        resource_group_name=resource_group,
        workspace_name=workspace,
        enable_telemetry=False,
        show_progress=False,
        **extra,
        **_common(cloud),
        **kwargs,
    )
    quiet_sdk_logging()
    return client


def subscription_client(cloud: Cloud, credential: TokenCredential, **kwargs: Any) -> SubscriptionClient:
    from azure.mgmt.resource.subscriptions import SubscriptionClient

    return SubscriptionClient(
        credential,
        base_url=cloud.resource_manager,
        credential_scopes=[cloud.arm_scope],
        **_common(cloud),
        **kwargs,
    )


def resource_client(
    cloud: Cloud, credential: TokenCredential, subscription_id: str, **kwargs: Any
) -> ResourceManagementClient:
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(
        credential,
        subscription_id,
        base_url=cloud.resource_manager,
        credential_scopes=[cloud.arm_scope],
        **_common(cloud),
        **kwargs,
    )


def graph_client(cloud: Cloud, credential: TokenCredential, **kwargs: Any) -> ResourceGraphClient:
    from azure.mgmt.resourcegraph import ResourceGraphClient

    return ResourceGraphClient(
        credential,
        base_url=cloud.resource_manager,
        credential_scopes=[cloud.arm_scope],
        **_common(cloud),
        **kwargs,
    )


def logs_client(cloud: Cloud, credential: TokenCredential, **kwargs: Any) -> LogsQueryClient:
    from azure.monitor.query import LogsQueryClient

    return LogsQueryClient(
        credential,
        endpoint=cloud.log_analytics.rstrip("/") + "/v1",
        audience=cloud.log_analytics_audience,
        **_common(cloud),
        **kwargs,
    )


def metrics_client(cloud: Cloud, credential: TokenCredential, region: str, **kwargs: Any) -> MetricsClient:
    from azure.monitor.querymetrics import MetricsClient

    return MetricsClient(
        cloud.metrics_endpoint(region),
        credential,
        audience=cloud.metrics_audience,
        **_common(cloud),
        **kwargs,
    )
