"""Endpoints and deployments: online (managed and Kubernetes) and batch, and the result of a test invoke.

No secret ever lives in these models: an endpoint knows its auth mode, never its keys or tokens.
Maps (traffic, mirror traffic) are sorted tuples of (deployment, percent) pairs, so every model stays
frozen and hashable; ``traffic_of`` and ``as_dict`` read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

Traffic = tuple[tuple[str, int], ...]  # ((deployment, percent), ...) sorted by deployment name


def traffic_of(traffic: Traffic, deployment: str) -> int:
    """The percentage a deployment gets in a traffic map (deployment names are case-insensitive)."""
    return next((pct for name, pct in traffic if name.lower() == deployment.lower()), 0)


def as_dict(traffic: Traffic) -> dict[str, int]:
    return dict(traffic)


@dataclass(frozen=True)
class OnlineEndpoint:
    id: str
    name: str
    workspace: str
    location: str
    kind: str  # managed | kubernetes
    auth_mode: str  # Key | AMLToken | AADToken
    scoring_uri: str
    swagger_uri: str
    provisioning_state: str
    traffic: Traffic = ()
    mirror_traffic: Traffic = ()
    public_network_access: str = ""
    compute: str = ""  # kubernetes: the attached compute's name
    compute_id: str = ""
    description: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    created_on: dt.datetime | None = None
    created_by: str = ""

    @property
    def key(self) -> str:
        return self.id.lower()

    def traffic_of(self, deployment: str) -> int:
        return traffic_of(self.traffic, deployment)

    def mirror_of(self, deployment: str) -> int:
        return traffic_of(self.mirror_traffic, deployment)


@dataclass(frozen=True)
class RequestSettings:
    request_timeout_ms: int = 0
    max_concurrent_requests_per_instance: int = 0
    max_queue_wait_ms: int = 0


@dataclass(frozen=True)
class Probe:
    initial_delay_s: float = 0
    period_s: float = 0
    timeout_s: float = 0
    failure_threshold: int = 0
    success_threshold: int = 0


@dataclass(frozen=True)
class DeploymentError:
    code: str
    message: str


@dataclass(frozen=True)
class ScaleSettings:
    scale_type: str = "Default"  # Default | TargetUtilization
    min_instances: int = 0
    max_instances: int = 0
    target_utilization: int = 0  # percent
    polling_interval_s: float = 0

    @property
    def autoscaled(self) -> bool:
        return self.scale_type == "TargetUtilization"


@dataclass(frozen=True)
class OnlineDeployment:
    id: str
    name: str
    endpoint: str
    workspace: str
    kind: str  # managed | kubernetes
    instance_type: str
    instance_count: int  # sku capacity
    model: str  # the model's ARM or registry id
    environment: str
    provisioning_state: str
    scale: ScaleSettings = ScaleSettings()
    request_settings: RequestSettings = RequestSettings()
    liveness_probe: Probe = Probe()
    readiness_probe: Probe = Probe()
    app_insights_enabled: bool = False
    egress_public_network_access: str = ""
    description: str = ""
    created_on: dt.datetime | None = None
    modified_on: dt.datetime | None = None
    error: DeploymentError | None = None  # why it Failed, from its failed operation

    @property
    def key(self) -> str:
        return self.id.lower()

    @property
    def model_name(self) -> str:
        return _asset_part(self.model, "models")[0]

    @property
    def model_version(self) -> str:
        return _asset_part(self.model, "models")[1]

    @property
    def failed(self) -> bool:
        return self.provisioning_state == "Failed"


@dataclass(frozen=True)
class BatchEndpoint:
    id: str
    name: str
    workspace: str
    location: str
    auth_mode: str
    scoring_uri: str
    swagger_uri: str
    default_deployment: str  # "" when none
    provisioning_state: str
    description: str = ""
    created_on: dt.datetime | None = None

    @property
    def key(self) -> str:
        return self.id.lower()


@dataclass(frozen=True)
class BatchDeployment:
    id: str
    name: str
    endpoint: str
    workspace: str
    compute: str  # the compute cluster's name
    compute_id: str
    mini_batch_size: int
    instance_count: int
    provisioning_state: str
    instance_type: str = ""
    max_concurrency_per_instance: int = 1
    max_retries: int = 0
    retry_timeout_s: float = 0
    error_threshold: int = -1  # -1: ignore every failed mini-batch
    output_action: str = ""
    output_file_name: str = ""
    logging_level: str = ""
    model: str = ""
    environment: str = ""
    description: str = ""
    created_on: dt.datetime | None = None

    @property
    def key(self) -> str:
        return self.id.lower()


@dataclass(frozen=True)
class InvokeResult:
    """What a test request to an online endpoint returned (the request payload is not kept)."""

    status: int
    deployment: str  # the deployment that served it (azureml-model-deployment)
    latency_ms: float
    text: str  # the response body as received
    request_bytes: int = 0
    response: Any = field(default=None, hash=False, compare=False)  # the parsed JSON ("" body → None)


def _asset_part(asset_id: str, kind: str) -> tuple[str, str]:
    """(name, version) from .../{kind}/{name}/versions/{v}, or from azureml:name:version."""
    if not asset_id:
        return "", ""
    parts = asset_id.rstrip("/").split("/")
    if kind in parts:
        i = parts.index(kind)
        name = parts[i + 1] if i + 1 < len(parts) else ""
        version = parts[i + 3] if i + 3 < len(parts) and parts[i + 2] == "versions" else ""
        return name, version
    if asset_id.startswith("azureml:"):
        bits = asset_id.split(":")
        return bits[1] if len(bits) > 1 else "", bits[2] if len(bits) > 2 else ""
    return parts[-1], ""
