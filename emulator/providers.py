"""Resource providers: one table of namespace → resource type → api-versions, read by both the provider
metadata routes (``/providers/{namespace}``) and ARM's api-version check of every request.

The lists are newest first (az picks the first non-preview one) and hold every api-version the product's SDKs
send (azure-ai-ml's previews, the services' REST calls, azure-mgmt-*) and the specs' versions (2025-12-01 for
Azure ML). Checks, as ARM makes them: no api-version → 400 MissingApiVersionParameter; one the type does not
support → 400 InvalidApiVersionParameter (Microsoft.Resources) or NoRegisteredProviderFound (resource providers),
naming the supported versions. Paths outside ARM (sign-in, run history, Log Analytics, scoring) are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .http import ApiError

RESOURCES_API = (
    "2025-04-01",
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-07-01",
    "2022-12-01",
    "2022-09-01",
    "2022-06-01",
    "2022-05-01",
    "2022-01-01",
    "2021-04-01",
    "2021-01-01",
    "2020-10-01",
    "2020-06-01",
    "2020-01-01",
    "2019-11-01",
    "2019-10-01",
    "2019-08-01",
    "2019-07-01",
    "2019-06-01",
    "2019-05-10",
    "2019-05-01",
    "2019-03-01",
    "2018-11-01",
    "2018-09-01",
    "2018-08-01",
    "2018-07-01",
    "2018-06-01",
    "2018-05-01",
    "2018-02-01",
    "2018-01-01",
    "2017-12-01",
    "2017-08-01",
    "2017-06-01",
    "2017-05-10",
    "2017-05-01",
    "2017-03-01",
    "2016-09-01",
    "2016-07-01",
    "2016-06-01",
    "2016-02-01",
    "2015-11-01",
    "2015-01-01",
    "2014-04-01",
)
ML_API = (
    "2025-12-01",
    "2025-10-01-preview",
    "2025-09-01",
    "2025-07-01-preview",
    "2025-06-01",
    "2025-04-01-preview",
    "2025-04-01",
    "2025-01-01-preview",
    "2024-10-01-preview",
    "2024-10-01",
    "2024-07-01-preview",
    "2024-04-01-preview",
    "2024-04-01",
    "2024-01-01-preview",
    "2023-10-01",
    "2023-08-01-preview",
    "2023-06-01-preview",
    "2023-04-01-preview",
    "2023-04-01",
    "2023-02-01-preview",
    "2022-12-01-preview",
    "2022-10-01-preview",
    "2022-10-01",
    "2022-06-01-preview",
    "2022-05-01",
    "2022-02-01-preview",
    "2022-01-01-preview",
    "2021-07-01",
    "2021-04-01",
    "2021-03-01-preview",
    "2021-01-01",
    "2020-09-01-preview",
    "2020-08-01",
    "2020-06-01",
    "2020-05-15-preview",
    "2020-05-01-preview",
    "2020-04-01-preview",
    "2020-04-01",
    "2020-03-01",
    "2020-02-18-preview",
    "2020-01-01",
    "2019-11-01",
    "2019-06-01",
    "2019-05-01",
    "2018-11-19",
    "2018-03-01-preview",
)
GRAPH_API = ("2024-04-01", "2022-10-01", "2021-06-01-preview", "2021-03-01", "2020-04-01-preview", "2019-04-01")
INSIGHTS_DIAG_API = ("2021-05-01-preview", "2020-01-01-preview", "2017-05-01-preview", "2016-09-01", "2015-07-01")
INSIGHTS_METRICS_API = ("2024-02-01", "2023-10-01", "2021-05-01", "2019-07-01", "2018-01-01", "2017-05-01-preview")
INSIGHTS_METRIC_NS_API = ("2024-02-01", "2017-12-01-preview")
INSIGHTS_COMPONENTS_API = ("2020-02-02", "2020-02-02-preview", "2018-05-01-preview", "2015-05-01", "2014-04-01")
LA_API: tuple[str, ...] = (
    "2025-02-01",
    "2023-09-01",
    "2022-10-01",
    "2021-12-01-preview",
    "2021-06-01",
    "2020-10-01",
    "2020-08-01",
)
LA_API += ("2020-03-01-preview", "2015-11-01-preview", "2015-03-20")
STORAGE_API: tuple[str, ...] = (
    "2025-01-01",
    "2024-01-01",
    "2023-05-01",
    "2023-04-01",
    "2023-01-01",
    "2022-09-01",
    "2022-05-01",
)
STORAGE_API += ("2021-09-01", "2021-08-01", "2021-06-01", "2021-04-01", "2021-02-01", "2021-01-01", "2019-06-01")
STORAGE_API += ("2019-04-01", "2018-11-01", "2018-07-01", "2018-02-01", "2017-10-01", "2017-06-01", "2016-12-01")
STORAGE_API += ("2016-01-01", "2015-06-15")
KEYVAULT_API: tuple[str, ...] = (
    "2025-05-01",
    "2024-11-01",
    "2024-04-01-preview",
    "2023-07-01",
    "2023-02-01",
    "2022-11-01",
)
KEYVAULT_API += ("2022-07-01", "2021-10-01", "2021-06-01-preview", "2021-04-01-preview", "2019-09-01", "2018-02-14")
KEYVAULT_API += ("2016-10-01", "2015-06-01")
ACR_API: tuple[str, ...] = (
    "2025-04-01",
    "2024-11-01-preview",
    "2023-11-01-preview",
    "2023-07-01",
    "2023-01-01-preview",
)
ACR_API += ("2022-12-01", "2022-02-01-preview", "2021-09-01", "2021-06-01-preview", "2019-12-01-preview")
ACR_API += ("2019-05-01", "2017-10-01", "2017-03-01")

# The regions the estate uses (arm.REGIONS), as providers list them: display names.
REGION_NAMES = (
    "East US",
    "East US 2",
    "South Central US",
    "West US 3",
    "West US",
    "Central US",
    "North Central US",
    "West Europe",
    "North Europe",
    "UK South",
    "UK West",
    "Japan East",
    "Japan West",
)


@dataclass(frozen=True)
class ResourceType:
    name: str  # as in a provider's resourceTypes: "workspaces/computes"
    api_versions: tuple[str, ...]
    regional: bool = True  # False: a global type (no locations)
    actions: tuple[str, ...] = ()  # POST actions, for the operations list

    @property
    def locations(self) -> list[str]:
        return list(REGION_NAMES) if self.regional else []


@dataclass(frozen=True)
class Namespace:
    name: str
    display: str  # the operations list's provider display name
    types: tuple[ResourceType, ...]

    def type(self, name: str) -> ResourceType | None:
        lname = name.lower()
        return next((t for t in self.types if t.name.lower() == lname), None)


def _ml_types() -> tuple[ResourceType, ...]:
    ws = "workspaces"
    out = [
        ResourceType(ws, ML_API, actions=("listKeys", "resyncKeys", "listNotebookAccessToken", "diagnose")),
        ResourceType(f"{ws}/computes", ML_API, actions=("start", "stop", "restart", "listKeys", "listNodes")),
        ResourceType(f"{ws}/jobs", ML_API, actions=("cancel",)),
        ResourceType(f"{ws}/datastores", ML_API, actions=("listSecrets",)),
        ResourceType(f"{ws}/onlineEndpoints", ML_API, actions=("listKeys", "regenerateKeys", "token")),
        ResourceType(f"{ws}/onlineEndpoints/deployments", ML_API, actions=("getLogs",)),
        ResourceType(f"{ws}/onlineEndpoints/deployments/skus", ML_API),
        ResourceType(f"{ws}/batchEndpoints", ML_API),
        ResourceType(f"{ws}/batchEndpoints/deployments", ML_API),
        ResourceType(f"{ws}/connections", ML_API, actions=("listsecrets",)),
        ResourceType("locations", ML_API),
        ResourceType("locations/vmSizes", ML_API),
        ResourceType("locations/usages", ML_API),
        ResourceType("locations/quotas", ML_API),
    ]
    for kind in ("computeOperationsStatus", "computeOperationResults", "mfeOperationsStatus", "mfeOperationResults"):
        out.append(ResourceType(f"locations/{kind}", ML_API))
    for kind in ("operationsStatus", "operationResults", "workspaceOperationsStatus"):
        out.append(ResourceType(f"locations/{kind}", ML_API))
    out.append(ResourceType("operations", ML_API, regional=False))
    return tuple(out)


NAMESPACES: dict[str, Namespace] = {
    ns.name.lower(): ns
    for ns in (
        Namespace(
            "Microsoft.Resources",
            "Microsoft Resources",
            tuple(
                ResourceType(t, RESOURCES_API, regional=False)
                for t in (
                    "tenants",
                    "providers",
                    "operations",
                    "subscriptions",
                    "subscriptions/providers",
                    "subscriptions/locations",
                    "subscriptions/resources",
                    "subscriptions/resourceGroups",
                    "subscriptions/resourceGroups/resources",
                    "resourceGroups",
                )
            ),
        ),
        Namespace("Microsoft.MachineLearningServices", "Microsoft Machine Learning Services", _ml_types()),
        Namespace(
            "Microsoft.ResourceGraph",
            "Microsoft Resource Graph",
            (
                ResourceType("resources", GRAPH_API, regional=False),
                ResourceType("operations", GRAPH_API, regional=False),
            ),
        ),
        Namespace(
            "Microsoft.Insights",
            "Microsoft Monitoring Insights",
            (
                ResourceType("diagnosticSettings", INSIGHTS_DIAG_API, regional=False),
                ResourceType("metrics", INSIGHTS_METRICS_API, regional=False),
                ResourceType("metricDefinitions", INSIGHTS_METRICS_API, regional=False),
                ResourceType("metricNamespaces", INSIGHTS_METRIC_NS_API, regional=False),
                ResourceType("components", INSIGHTS_COMPONENTS_API),
                ResourceType("operations", INSIGHTS_DIAG_API, regional=False),
            ),
        ),
        Namespace(
            "Microsoft.OperationalInsights",
            "Microsoft Operational Insights",
            (
                ResourceType("workspaces", LA_API, actions=("sharedKeys",)),
                ResourceType("operations", LA_API, regional=False),
            ),
        ),
        Namespace(
            "Microsoft.Storage",
            "Microsoft Storage",
            (
                ResourceType("storageAccounts", STORAGE_API, actions=("listKeys", "regenerateKey")),
                ResourceType("operations", STORAGE_API, regional=False),
            ),
        ),
        Namespace(
            "Microsoft.KeyVault",
            "Microsoft Key Vault",
            (ResourceType("vaults", KEYVAULT_API), ResourceType("operations", KEYVAULT_API, regional=False)),
        ),
        Namespace(
            "Microsoft.ContainerRegistry",
            "Microsoft Container Registry",
            (
                ResourceType("registries", ACR_API, actions=("listCredentials",)),
                ResourceType("operations", ACR_API, regional=False),
            ),
        ),
    )
}


@dataclass(frozen=True)
class Target:
    """What an ARM path addresses: its provider namespace and resource type, and the scope parts around it."""

    namespace: Namespace
    type: ResourceType
    subscription: str = ""
    resource_group: str = ""
    location: str = ""


def _provider_target(ns_name: str, rest: list[str]) -> tuple[Namespace, ResourceType] | None:
    ns = NAMESPACES.get(ns_name.lower())
    if ns is None:
        return None
    if not rest:
        return None
    if rest[0].lower() == "operations" and len(rest) == 1:
        found = ns.type("operations")
        return (ns, found) if found else None
    types = rest[0::2]
    for candidate in ("/".join(types), "/".join(types[:-1])):  # a trailing word may be an action
        found = ns.type(candidate) if candidate else None
        if found is not None:
            return ns, found
    return None


def resolve(path: str) -> Target | None:
    """The namespace and type an ARM path addresses; None outside ARM or for a type the table does not know."""
    segs = [s for s in path.strip("/").split("/") if s]
    if not segs:
        return None
    low = [s.lower() for s in segs]
    resources = NAMESPACES["microsoft.resources"]

    def rtype(name: str, **kw: str) -> Target:
        found = resources.type(name)
        assert found is not None
        return Target(resources, found, **kw)

    if low[0] == "tenants" and len(segs) <= 2:
        return rtype("tenants")
    if low[0] == "providers":
        if len(segs) <= 2:
            return rtype("providers")
        hit = _provider_target(segs[1], segs[2:])
        return Target(*hit) if hit else None
    if low[0] != "subscriptions":
        return None
    if len(segs) <= 2:
        return rtype("subscriptions")
    sub = segs[1]
    if low[2] == "locations" and len(segs) == 3:
        return rtype("subscriptions/locations", subscription=sub)
    if low[2] == "resources" and len(segs) == 3:
        return rtype("subscriptions/resources", subscription=sub)
    if low[2] == "providers":
        if len(segs) <= 4:
            return rtype("subscriptions/providers", subscription=sub)
        if len(segs) == 5 and low[4] in ("register", "unregister"):
            return rtype("subscriptions/providers", subscription=sub)
        hit = _provider_target(segs[3], segs[4:])
        if hit is None:
            return None
        loc = segs[5] if len(segs) > 5 and low[4] == "locations" else ""
        return Target(*hit, subscription=sub, location=loc)
    if low[2] != "resourcegroups":
        return None
    if len(segs) <= 4:
        return rtype("subscriptions/resourceGroups", subscription=sub)
    rg = segs[3]
    if low[4] == "resources" and len(segs) == 5:
        return rtype("subscriptions/resourceGroups/resources", subscription=sub, resource_group=rg)
    if low[4] != "providers" or len(segs) < 6:
        return None
    # an extension resource (…/providers/Microsoft.Insights/diagnosticSettings) belongs to the last provider
    last = len(low) - 1 - low[::-1].index("providers")
    hit = _provider_target(segs[last + 1], segs[last + 2 :]) if last + 1 < len(segs) else None
    return Target(*hit, subscription=sub, resource_group=rg) if hit else None


def check_api_version(path: str, api_version: str | None, location: str = "") -> None:
    """Raise ARM's 400 when the request's api-version is missing or not one the addressed type supports."""
    target = resolve(path)
    if target is None:
        return
    if not api_version:
        raise ApiError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    supported = target.type.api_versions
    if api_version.lower() in (v.lower() for v in supported):
        return
    if target.namespace.name == "Microsoft.Resources":
        raise ApiError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{api_version}' is invalid. The supported versions are '{','.join(supported)}'.",
        )
    where = location or target.location or "global"
    type_name = target.type.name.rsplit("/", 1)[-1]
    regions = ", ".join(r.replace(" ", "").lower() for r in target.type.locations) or "global"
    raise ApiError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{where}' and API version '{api_version}' for type "
        f"'{type_name}'. The supported api-versions are '{', '.join(supported)}'. The supported locations are "
        f"'{regions}'.",
    )


# -- provider metadata ---------------------------------------------------------------------------------


def provider_body(ns: Namespace, subscription: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"/subscriptions/{subscription}/providers/{ns.name}" if subscription else f"/providers/{ns.name}",
        "namespace": ns.name,
    }
    if subscription:
        body["registrationState"] = "Registered"
        body["registrationPolicy"] = "RegistrationRequired"
    body["resourceTypes"] = [
        {
            "resourceType": t.name,
            "locations": t.locations,
            "apiVersions": list(t.api_versions),
            "defaultApiVersion": next((v for v in t.api_versions if "preview" not in v), t.api_versions[0]),
            "capabilities": "None",
        }
        for t in ns.types
    ]
    return body


def operations(ns: Namespace) -> list[dict[str, Any]]:
    """The namespace's operations list (Operations_List shape): read/write/delete per type, and its actions."""
    out: list[dict[str, Any]] = []
    for t in ns.types:
        if t.name == "operations":
            continue
        resource = t.name.rsplit("/", 1)[-1]
        verbs = [("read", f"Gets or lists {resource}"), ("write", f"Creates or updates {resource}")]
        verbs.append(("delete", f"Deletes {resource}"))
        verbs += [(f"{a}/action", f"Performs the {a} action on {resource}") for a in t.actions]
        for verb, description in verbs:
            out.append(
                {
                    "name": f"{ns.name}/{t.name}/{verb}",
                    "isDataAction": False,
                    "display": {
                        "provider": ns.display,
                        "resource": resource,
                        "operation": description,
                        "description": f"{description}.",
                    },
                    "origin": "user,system",
                }
            )
    return out


def action_of(method: str, path: str) -> tuple[str, str]:
    """The RBAC action a request needs and its scope, as AuthorizationFailed names them."""
    target = resolve(path)
    scope = path.rstrip("/")
    if target is None:
        return f"{method.lower()}", scope
    type_path = f"{target.namespace.name}/{target.type.name}"
    last = scope.rsplit("/", 1)[-1]
    if method == "POST" and last.lower() != target.type.name.rsplit("/", 1)[-1].lower():
        return f"{type_path}/{last}/action", scope.rsplit("/", 1)[0]
    verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}.get(method, "action")
    if last.lower() == target.type.name.rsplit("/", 1)[-1].lower():
        scope = scope.rsplit("/", 1)[0]  # a list: the scope is where the collection lives
    return f"{type_path}/{verb}", scope


def authorization_failed(method: str, path: str, object_id: str = "", client_id: str = "") -> ApiError:
    action, scope = action_of(method, path)
    who = client_id or object_id or "00000000-0000-0000-0000-000000000000"
    oid = object_id or who
    return ApiError(
        403,
        "AuthorizationFailed",
        f"The client '{who}' with object id '{oid}' does not have authorization to perform action '{action}' over "
        f"scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
    )
