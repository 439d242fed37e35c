"""VM sizes, VM families, regional offerings and default quotas for the compute area.

Figures follow Azure's published sizes (vCPUs, GPUs, memory, temp disk) and approximate East US pay-as-you-go
Linux prices; regions differ in which GPU families they offer, as they do in Azure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AML_COMPUTE = "AmlCompute"
COMPUTE_INSTANCE = "ComputeInstance"
MIR = "MIR"  # managed online endpoints

_ALL_TYPES = (AML_COMPUTE, COMPUTE_INSTANCE, MIR)
_CLUSTER_AND_CI = (AML_COMPUTE, COMPUTE_INSTANCE)
_CLUSTER_ONLY = (AML_COMPUTE,)

OS_VHD_SIZE_MB = 1047552


@dataclass(frozen=True)
class Family:
    key: str  # the vmSizes "family" value, e.g. standardDSv3Family
    label: str  # as quota names spell it: "Standard {label} Family Cluster Dedicated vCPUs"
    default_limit: int  # default dedicated vCPU quota per subscription and region
    gpu: bool = False

    def usage_name(self, tier: str) -> str:
        """tier: Dedicated | LowPriority."""
        return f"Standard {self.label} Family Cluster {tier} vCPUs"

    def usage_key(self, tier: str) -> str:
        return self.usage_name(tier).replace(" ", "_")


@dataclass(frozen=True)
class VmSize:
    name: str
    family: str  # Family.key
    vcpus: int
    gpus: int
    memory_gb: float
    resource_volume_mb: int
    price: float  # USD per hour, Linux, dedicated, East US
    types: tuple[str, ...] = _ALL_TYPES
    premium_io: bool = True
    low_priority: bool = True
    windows: bool = True  # Windows images offered (CPU sizes)


FAMILIES: dict[str, Family] = {
    f.key: f
    for f in [
        Family("standardDSv2Family", "DSv2", 100),
        Family("standardDSv3Family", "DSv3", 200),
        Family("standardDDSv5Family", "DDSv5", 100),
        Family("standardESv3Family", "ESv3", 100),
        Family("standardFSv2Family", "FSv2", 100),
        Family("standardNCSv3Family", "NCSv3", 24, gpu=True),
        Family("standardNCASv3_T4Family", "NCASv3_T4", 64, gpu=True),
        Family("StandardNCADSA100v4Family", "NCADS_A100_v4", 96, gpu=True),
        Family("standardNCadsH100v5Family", "NCadsH100v5", 80, gpu=True),
        Family("standardNDASv4_A100Family", "NDASv4_A100", 0, gpu=True),
        Family("standardNDSH100v5Family", "NDSH100v5", 0, gpu=True),
        Family("StandardNVADSA10v5Family", "NVADSA10v5", 36, gpu=True),
    ]
}

SIZES: list[VmSize] = [
    VmSize("Standard_DS3_v2", "standardDSv2Family", 4, 0, 14, 28672, 0.293),
    VmSize("Standard_DS4_v2", "standardDSv2Family", 8, 0, 28, 57344, 0.585),
    VmSize("Standard_DS11_v2", "standardDSv2Family", 2, 0, 14, 28672, 0.185, _CLUSTER_AND_CI),
    VmSize("Standard_DS12_v2", "standardDSv2Family", 4, 0, 28, 57344, 0.371, _CLUSTER_AND_CI),
    VmSize("Standard_DS13_v2", "standardDSv2Family", 8, 0, 56, 114688, 0.741, _CLUSTER_AND_CI),
    VmSize("Standard_D2s_v3", "standardDSv3Family", 2, 0, 8, 16384, 0.096),
    VmSize("Standard_D4s_v3", "standardDSv3Family", 4, 0, 16, 32768, 0.192),
    VmSize("Standard_D8s_v3", "standardDSv3Family", 8, 0, 32, 65536, 0.384),
    VmSize("Standard_D16s_v3", "standardDSv3Family", 16, 0, 64, 131072, 0.768),
    VmSize("Standard_D32s_v3", "standardDSv3Family", 32, 0, 128, 262144, 1.536),
    VmSize("Standard_D4ds_v5", "standardDDSv5Family", 4, 0, 16, 153600, 0.226),
    VmSize("Standard_D8ds_v5", "standardDDSv5Family", 8, 0, 32, 307200, 0.452),
    VmSize("Standard_D16ds_v5", "standardDDSv5Family", 16, 0, 64, 614400, 0.904),
    VmSize("Standard_E4s_v3", "standardESv3Family", 4, 0, 32, 65536, 0.252),
    VmSize("Standard_E8s_v3", "standardESv3Family", 8, 0, 64, 131072, 0.504),
    VmSize("Standard_E16s_v3", "standardESv3Family", 16, 0, 128, 262144, 1.008),
    VmSize("Standard_E32s_v3", "standardESv3Family", 32, 0, 256, 524288, 2.016),
    VmSize("Standard_F4s_v2", "standardFSv2Family", 4, 0, 8, 32768, 0.169),
    VmSize("Standard_F8s_v2", "standardFSv2Family", 8, 0, 16, 65536, 0.338),
    VmSize("Standard_F16s_v2", "standardFSv2Family", 16, 0, 32, 131072, 0.677),
    VmSize("Standard_F32s_v2", "standardFSv2Family", 32, 0, 64, 262144, 1.353),
    VmSize("Standard_NC6s_v3", "standardNCSv3Family", 6, 1, 112, 344064, 3.06, windows=False),
    VmSize("Standard_NC12s_v3", "standardNCSv3Family", 12, 2, 224, 688128, 6.12, windows=False),
    VmSize("Standard_NC24s_v3", "standardNCSv3Family", 24, 4, 448, 1376256, 12.24, windows=False),
    VmSize("Standard_NC4as_T4_v3", "standardNCASv3_T4Family", 4, 1, 28, 180224, 0.526, windows=False),
    VmSize("Standard_NC8as_T4_v3", "standardNCASv3_T4Family", 8, 1, 56, 360448, 0.752, windows=False),
    VmSize("Standard_NC16as_T4_v3", "standardNCASv3_T4Family", 16, 1, 110, 360448, 1.204, windows=False),
    VmSize("Standard_NC64as_T4_v3", "standardNCASv3_T4Family", 64, 4, 440, 2879488, 4.352, windows=False),
    VmSize("Standard_NC24ads_A100_v4", "StandardNCADSA100v4Family", 24, 1, 220, 65536, 3.673, windows=False),
    VmSize("Standard_NC48ads_A100_v4", "StandardNCADSA100v4Family", 48, 2, 440, 131072, 7.346, windows=False),
    VmSize("Standard_NC96ads_A100_v4", "StandardNCADSA100v4Family", 96, 4, 880, 262144, 14.692, windows=False),
    VmSize("Standard_NC40ads_H100_v5", "standardNCadsH100v5Family", 40, 1, 320, 131072, 6.98, windows=False),
    VmSize("Standard_NC80adis_H100_v5", "standardNCadsH100v5Family", 80, 2, 640, 262144, 13.96, windows=False),
    VmSize(
        "Standard_ND96asr_v4", "standardNDASv4_A100Family", 96, 8, 900, 2969600, 27.197, _CLUSTER_ONLY, windows=False
    ),
    VmSize(
        "Standard_ND96isr_H100_v5",
        "standardNDSH100v5Family",
        96,
        8,
        1900,
        1048576,
        98.32,
        _CLUSTER_ONLY,
        low_priority=False,
        windows=False,
    ),
    VmSize("Standard_NV36ads_A10_v5", "StandardNVADSA10v5Family", 36, 1, 440, 737280, 3.2, _CLUSTER_AND_CI),
]

SIZES_BY_NAME: dict[str, VmSize] = {s.name.lower(): s for s in SIZES}

# Families a region does not offer (every region offers the CPU families).
_NOT_OFFERED: dict[str, set[str]] = {
    "eastus": set(),
    "eastus2": {"StandardNVADSA10v5Family"},
    "westus3": set(),
    "southcentralus": {"standardNDSH100v5Family"},
    "westeurope": {"standardNCadsH100v5Family", "standardNDSH100v5Family", "standardNDASv4_A100Family"},
    "northeurope": {"standardNCadsH100v5Family", "standardNDSH100v5Family"},
    "uksouth": {"standardNCadsH100v5Family", "standardNDSH100v5Family", "standardNDASv4_A100Family"},
    "japaneast": {"standardNCadsH100v5Family", "standardNDSH100v5Family", "standardNCSv3Family"},
}
REGIONS = sorted(_NOT_OFFERED)

# Regional price multipliers relative to East US.
_PRICE_FACTOR = {
    "eastus": 1.0,
    "eastus2": 1.0,
    "westus3": 1.0,
    "southcentralus": 1.04,
    "westeurope": 1.12,
    "northeurope": 1.06,
    "uksouth": 1.1,
    "japaneast": 1.18,
}


def known_region(location: str) -> bool:
    return location.lower() in _NOT_OFFERED


def offered(location: str) -> list[VmSize]:
    """The sizes Azure ML offers in a region (empty for an unknown region)."""
    missing = _NOT_OFFERED.get(location.lower())
    if missing is None:
        return []
    return [s for s in SIZES if s.family not in missing]


def size_in_region(name: str, location: str) -> VmSize | None:
    size = SIZES_BY_NAME.get(name.lower())
    if size is None or size not in offered(location):
        return None
    return size


def size_json(size: VmSize, location: str) -> dict[str, Any]:
    """One entry of GET .../locations/{loc}/vmSizes, as in VirtualMachineSize/list.json."""
    factor = _PRICE_FACTOR.get(location.lower(), 1.0)
    linux = round(size.price * factor, 3)
    prices = [{"retailPrice": linux, "osType": "Linux", "vmTier": "Standard"}]
    if size.low_priority:
        prices.append({"retailPrice": round(linux * 0.2, 3), "osType": "Linux", "vmTier": "LowPriority"})
    if size.windows:
        windows = round(linux + 0.046 * size.vcpus * factor, 3)
        prices.append({"retailPrice": windows, "osType": "Windows", "vmTier": "Standard"})
        if size.low_priority:
            prices.append({"retailPrice": round(windows * 0.4, 3), "osType": "Windows", "vmTier": "LowPriority"})
    return {
        "name": size.name,
        "family": size.family,
        "vCPUs": size.vcpus,
        "gpus": size.gpus,
        "osVhdSizeMB": OS_VHD_SIZE_MB,
        "maxResourceVolumeMB": size.resource_volume_mb,
        "memoryGB": float(size.memory_gb),
        "lowPriorityCapable": size.low_priority,
        "premiumIO": size.premium_io,
        "estimatedVMPrices": {"billingCurrency": "USD", "unitOfMeasure": "OneHour", "values": prices},
        "supportedComputeTypes": list(size.types),
    }
