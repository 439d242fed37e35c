"""Compute: clusters, instances, attached Kubernetes, their nodes, VM sizes and quota."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class NodeCounts:
    idle: int = 0
    running: int = 0
    preparing: int = 0
    unusable: int = 0
    leaving: int = 0
    preempted: int = 0

    @property
    def total(self) -> int:
        return self.idle + self.running + self.preparing + self.unusable + self.leaving + self.preempted


@dataclass(frozen=True)
class Compute:
    id: str
    name: str
    workspace: str
    kind: str  # cluster | instance | kubernetes | other
    compute_type: str  # Azure's computeType: AmlCompute, ComputeInstance, Kubernetes, ...
    location: str
    vm_size: str
    vcpus: int
    gpus: int
    state: str  # instance state, or cluster allocation state, or provisioning state
    provisioning_state: str
    priority: str = ""  # Dedicated | LowPriority
    min_nodes: int = 0
    max_nodes: int = 0
    idle_seconds: int = 0
    current_nodes: int = 0
    target_nodes: int = 0
    nodes: NodeCounts = NodeCounts()
    assigned_user: str = ""  # a personal instance's user: object id
    assigned_user_tenant: str = ""  # ... and tenant id
    instance_type: str = ""  # attached Kubernetes: the default instance type
    namespace: str = ""  # attached Kubernetes: the namespace jobs run in
    description: str = ""
    created_on: dt.datetime | None = None
    errors: tuple[str, ...] = ()

    @property
    def is_gpu(self) -> bool:
        return self.gpus > 0

    @property
    def key(self) -> str:
        return self.id.lower()


@dataclass(frozen=True)
class ComputeNode:
    node_id: str
    state: str
    private_ip: str
    public_ip: str
    port: int
    run_id: str


@dataclass(frozen=True)
class VmSize:
    name: str
    family: str
    vcpus: int
    memory_gb: float
    gpus: int
    low_priority_capable: bool
    premium_io: bool
    max_resource_volume_mb: int
    compute_types: tuple[str, ...]


@dataclass(frozen=True)
class Usage:
    name: str  # e.g. standardNCADSA100v4Family
    label: str  # e.g. Standard NCADSA100v4 Family vCPUs
    current: int
    limit: int
    unit: str
    kind: str  # the usage type, e.g. Microsoft.MachineLearningServices/vmFamily/usages

    @property
    def unlimited(self) -> bool:
        """Azure reports -1 where a family has no limit of its own (low-priority families share one)."""
        return self.limit < 0

    @property
    def percent(self) -> float:
        return 100.0 * self.current / self.limit if self.limit > 0 else 0.0
