"""The models the service layer hands out: frozen, plain, free of SDK types.

One module per area; everything is re-exported here so callers write ``from services.models import X``.
"""

from .compute import Compute, ComputeNode, NodeCounts, Usage, VmSize
from .core import Subscription, Workspace
from .inventory import Inventory, InventoryItem

__all__ = [
    "Compute",
    "ComputeNode",
    "Inventory",
    "InventoryItem",
    "NodeCounts",
    "Subscription",
    "Usage",
    "VmSize",
    "Workspace",
]
