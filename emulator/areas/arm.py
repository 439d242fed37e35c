"""Azure Resource Manager: tenants, subscriptions, locations, resource groups and generic resource lists.

Shapes follow Microsoft.Resources/subscriptions/stable/2022-12-01 (Subscriptions_List/Get,
Subscriptions_ListLocations, Tenants_List) and Microsoft.Resources/resources/stable/2025-04-01
(ResourceGroups_List/Get/CheckExistence, Resources_List/ListByResourceGroup). api-versions are checked
per resource type before a request gets here (emulator.scope, emulator.providers).

``resources.list*`` return top-level resources only (child resources such as computes or online endpoints
live under their workspace and are not listed by ARM), with ``$filter`` in ARM's OData subset:
``resourceType``, ``name``, ``location``, ``resourceGroup``, ``tagName``/``tagValue`` with ``eq``/``ne``,
``substringof()``, ``startswith()``, ``and``, ``or`` and parentheses. ``$expand`` adds ``createdTime``,
``changedTime`` and ``provisioningState``.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from ..estate import Estate
from ..http import ApiError, Request, Response, page

# name → (display name, geography, geography group, longitude, latitude, physical location, paired region)
REGIONS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "eastus": ("East US", "United States", "US", "-79.8164", "37.3719", "Virginia", "westus"),
    "eastus2": ("East US 2", "United States", "US", "-78.3889", "36.6681", "Virginia", "centralus"),
    "southcentralus": ("South Central US", "United States", "US", "-98.5", "29.4167", "Texas", "northcentralus"),
    "westus3": ("West US 3", "United States", "US", "-112.074036", "33.448376", "Phoenix", "eastus"),
    "westus": ("West US", "United States", "US", "-122.417", "37.783", "California", "eastus"),
    "centralus": ("Central US", "United States", "US", "-93.6208", "41.5908", "Iowa", "eastus2"),
    "northcentralus": ("North Central US", "United States", "US", "-87.6278", "41.8819", "Illinois", "southcentralus"),
    "westeurope": ("West Europe", "Europe", "Europe", "4.9", "52.3667", "Netherlands", "northeurope"),
    "northeurope": ("North Europe", "Europe", "Europe", "-6.2597", "53.3478", "Ireland", "westeurope"),
    "uksouth": ("UK South", "United Kingdom", "Europe", "-0.799", "50.941", "London", "ukwest"),
    "ukwest": ("UK West", "United Kingdom", "Europe", "-3.084", "53.427", "Cardiff", "uksouth"),
    "japaneast": ("Japan East", "Japan", "Asia Pacific", "139.77", "35.68", "Tokyo, Saitama", "japanwest"),
    "japanwest": ("Japan West", "Japan", "Asia Pacific", "135.5022", "34.6939", "Osaka", "japaneast"),
}
_GROUP_PREFIX = {"US": "(US)", "Europe": "(Europe)", "Asia Pacific": "(Asia Pacific)"}
_ZONED = {
    "eastus",
    "eastus2",
    "southcentralus",
    "westus3",
    "centralus",
    "westeurope",
    "northeurope",
    "uksouth",
    "japaneast",
}


def subscription_not_found(sub: str) -> ApiError:
    return ApiError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def group_not_found(rg: str) -> ApiError:
    return ApiError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def location_body(sub: str, name: str) -> dict[str, Any]:
    display, geography, group, lon, lat, physical, paired = REGIONS[name]
    body: dict[str, Any] = {
        "id": f"/subscriptions/{sub}/locations/{name}",
        "name": name,
        "type": "Region",
        "displayName": display,
        "regionalDisplayName": f"{_GROUP_PREFIX[group]} {display}",
        "metadata": {
            "regionType": "Physical",
            "regionCategory": "Recommended" if name in _ZONED else "Other",
            "geography": geography,
            "geographyGroup": group,
            "longitude": lon,
            "latitude": lat,
            "physicalLocation": physical,
            "pairedRegion": [{"name": paired, "id": f"/subscriptions/{sub}/locations/{paired}"}],
        },
    }
    if name in _ZONED:
        # Logical zones map to physical ones per subscription (stable: derived from the ids).
        physical_zones = [1, 2, 3]
        shift = int(hashlib.sha256(f"{sub}:{name}".encode()).hexdigest(), 16) % 3
        physical_zones = physical_zones[shift:] + physical_zones[:shift]
        body["availabilityZoneMappings"] = [
            {"logicalZone": str(i + 1), "physicalZone": f"{name}-az{z}"} for i, z in enumerate(physical_zones)
        ]
    return body


def is_top_level(resource_id: str) -> bool:
    """True for …/providers/{namespace}/{type}/{name}: exactly one type/name pair after the namespace."""
    segs = resource_id.strip("/").split("/")
    lowered = [s.lower() for s in segs]
    if "providers" not in lowered:
        return False
    at = len(lowered) - 1 - lowered[::-1].index("providers")
    return len(segs) - at - 1 == 3


def generic_resource(resource: dict[str, Any], expand: set[str]) -> dict[str, Any]:
    """The GenericResourceExpanded shape of a resource."""
    body: dict[str, Any] = {"id": resource["id"], "name": resource.get("name"), "type": resource.get("type")}
    for key in ("kind", "location", "extendedLocation", "managedBy", "sku", "plan", "identity", "zones", "tags"):
        if resource.get(key) is not None:
            body[key] = copy.deepcopy(resource[key])
    system = resource.get("systemData") or {}
    if "createdtime" in expand and system.get("createdAt"):
        body["createdTime"] = system["createdAt"]
    if "changedtime" in expand and (system.get("lastModifiedAt") or system.get("createdAt")):
        body["changedTime"] = system.get("lastModifiedAt") or system["createdAt"]
    if "provisioningstate" in expand:
        state = (resource.get("properties") or {}).get("provisioningState")
        if state:
            body["provisioningState"] = state
    return body


# -- $filter: ARM's OData subset ------------------------------------------------------------------

_FILTER_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w/.\-]*))")


class Predicate:
    """A compiled ``$filter``: called with the resource's fields (lower-cased names) and its tags."""

    def __call__(self, fields: dict[str, str], tags: dict[str, str]) -> bool:
        raise NotImplementedError


@dataclass
class Term(Predicate):
    field: str  # lower-cased: resourcetype, name, location, resourcegroup, tagname, tagvalue
    op: str  # eq, ne, substringof, startswith
    value: str

    def matches(self, actual: str) -> bool:
        a, v = actual.lower(), self.value.lower()
        if self.op == "eq":
            return a == v
        if self.op == "ne":
            return a != v
        if self.op == "substringof":
            return v in a
        return a.startswith(v)

    def __call__(self, fields: dict[str, str], tags: dict[str, str]) -> bool:
        if self.field == "tagname":
            return any(self.matches(k) for k in tags)
        if self.field == "tagvalue":
            return any(self.matches(v) for v in tags.values())
        return self.matches(fields.get(self.field, ""))


@dataclass
class AllOf(Predicate):
    terms: list[Predicate]

    def __call__(self, fields: dict[str, str], tags: dict[str, str]) -> bool:
        names = [t for t in self.terms if isinstance(t, Term) and t.field == "tagname" and t.op == "eq"]
        values = [t for t in self.terms if isinstance(t, Term) and t.field == "tagvalue" and t.op == "eq"]
        if len(names) == 1 and len(values) == 1:
            # ARM: "tagName eq 'k' and tagValue eq 'v'" means one tag k whose value is v.
            key, want = names[0].value.lower(), values[0].value.lower()
            if not any(k.lower() == key and v.lower() == want for k, v in tags.items()):
                return False
            rest = [t for t in self.terms if t is not names[0] and t is not values[0]]
            return all(p(fields, tags) for p in rest)
        return all(p(fields, tags) for p in self.terms)


@dataclass
class AnyOf(Predicate):
    parts: list[Predicate]

    def __call__(self, fields: dict[str, str], tags: dict[str, str]) -> bool:
        return any(p(fields, tags) for p in self.parts)


def _filter_error(text: str) -> ApiError:
    return ApiError(400, "InvalidFilterInQueryString", f"Invalid $filter '{text}' specified in the query string.")


def parse_filter(text: str, fields: set[str]) -> Predicate:
    """Compile an ARM ``$filter`` over ``fields`` (lower-cased names) plus tagName/tagValue."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while text[pos:].strip():
        m = _FILTER_TOKEN.match(text, pos)
        if not m:
            raise _filter_error(text)
        pos = m.end()
        if m.group("str") is not None:
            tokens.append(("str", m.group("str")[1:-1].replace("''", "'")))
        elif m.group("punct") is not None:
            tokens.append(("punct", m.group("punct")))
        else:
            tokens.append(("word", m.group("word")))
    allowed = fields | {"tagname", "tagvalue"}
    i = 0

    def peek() -> tuple[str, str] | None:
        return tokens[i] if i < len(tokens) else None

    def take(kind: str, value: str | None = None) -> str:
        nonlocal i
        t = peek()
        if t is None or t[0] != kind or (value is not None and t[1].lower() != value):
            raise _filter_error(text)
        i += 1
        return t[1]

    def is_word(value: str) -> bool:
        t = peek()
        return t is not None and t[0] == "word" and t[1].lower() == value

    def term() -> Predicate:
        if peek() == ("punct", "("):
            take("punct", "(")
            inner = disjunction()
            take("punct", ")")
            return inner
        word = take("word").lower()
        if word in ("substringof", "startswith"):
            take("punct", "(")
            if word == "substringof":
                needle = take("str")
                take("punct", ",")
                field = take("word").lower()
            else:
                field = take("word").lower()
                take("punct", ",")
                needle = take("str")
            take("punct", ")")
            if field not in allowed:
                raise _filter_error(text)
            return Term(field, word, needle)
        if word not in allowed:
            raise _filter_error(text)
        op = take("word").lower()
        if op not in ("eq", "ne"):
            raise _filter_error(text)
        return Term(word, op, take("str"))

    def conjunction() -> Predicate:
        terms = [term()]
        while is_word("and"):
            take("word")
            terms.append(term())
        return terms[0] if len(terms) == 1 else AllOf(terms)

    def disjunction() -> Predicate:
        parts = [conjunction()]
        while is_word("or"):
            take("word")
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else AnyOf(parts)

    result = disjunction()
    if i != len(tokens):
        raise _filter_error(text)
    return result


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in (resource.get("tags") or {}).items()}


# -- routes ---------------------------------------------------------------------------------------


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate

    def need_subscription(sub: str) -> dict[str, Any]:
        s = estate.subscription(sub)
        if s is None:
            raise subscription_not_found(sub)
        return s

    def need_group(sub: str, rg: str) -> dict[str, Any]:
        need_subscription(sub)
        group = estate.resource_groups.get(f"/subscriptions/{sub}/resourceGroups/{rg}".lower())
        if group is None:
            raise group_not_found(rg)
        return group

    # tenants and subscriptions

    def list_tenants(req: Request) -> Response:
        tid = estate.tenant_id
        tenant = {
            "id": f"/tenants/{tid}",
            "tenantId": tid,
            "countryCode": "US",
            "displayName": "Contoso",
            "domains": ["contoso.onmicrosoft.com"],
            "defaultDomain": "contoso.onmicrosoft.com",
            "tenantCategory": "Home",
            "tenantType": "AAD",
        }
        return page(req, [tenant])

    def list_subscriptions(req: Request) -> Response:
        if emu.directory.without_access(req.caller):
            return page(req, [])  # a principal with no role assignment sees no subscription
        with estate.lock:
            items = copy.deepcopy(estate.subscriptions)
        return page(req, sorted(items, key=lambda s: s["displayName"].lower()))

    def get_subscription(req: Request, sub: str) -> Response:
        with estate.lock:
            return Response(200, copy.deepcopy(need_subscription(sub)))

    def list_locations(req: Request, sub: str) -> Response:
        s = need_subscription(sub)
        return Response(200, {"value": [location_body(s["subscriptionId"], name) for name in sorted(REGIONS)]})

    # resource groups

    def rg_body(group: dict[str, Any]) -> dict[str, Any]:
        with estate.lock:
            return copy.deepcopy(group)

    def list_groups(req: Request, sub: str) -> Response:
        need_subscription(sub)
        prefix = f"/subscriptions/{sub}/resourcegroups/".lower()
        with estate.lock:
            groups = [copy.deepcopy(g) for k, g in estate.resource_groups.items() if k.startswith(prefix)]
        groups.sort(key=lambda g: g["name"].lower())
        text = req.q("$filter")
        if text:
            pred = parse_filter(text, {"name", "location"})
            groups = [g for g in groups if pred({"name": g["name"], "location": g.get("location", "")}, _tags(g))]
        return page(req, groups)

    def get_group(req: Request, sub: str, rg: str) -> Response:
        return Response(200, rg_body(need_group(sub, rg)))

    def group_exists(req: Request, sub: str, rg: str) -> Response:
        try:
            need_group(sub, rg)
        except ApiError as e:
            return Response(e.status, None)
        return Response(204, None)

    # resources

    def list_resources(req: Request, prefix: str) -> Response:
        expand = {p.strip().lower() for p in (req.q("$expand") or "").split(",") if p.strip()}
        text = req.q("$filter")
        pred = parse_filter(text, {"resourcetype", "name", "location", "resourcegroup"}) if text else None
        with estate.lock:
            found = [
                copy.deepcopy(r) for k, r in estate.resources.items() if k.startswith(prefix) and is_top_level(r["id"])
            ]
        found.sort(key=lambda r: r["id"].lower())
        items: list[dict[str, Any]] = []
        for r in found:
            if pred is not None:
                fields = {
                    "resourcetype": r.get("type", ""),
                    "name": r.get("name", ""),
                    "location": r.get("location", ""),
                    "resourcegroup": r["id"].split("/")[4] if len(r["id"].split("/")) > 4 else "",
                }
                if not pred(fields, _tags(r)):
                    continue
            items.append(generic_resource(r, expand))
        return page(req, items)

    def list_in_subscription(req: Request, sub: str) -> Response:
        need_subscription(sub)
        return list_resources(req, f"/subscriptions/{sub}/".lower())

    def list_in_group(req: Request, sub: str, rg: str) -> Response:
        need_group(sub, rg)
        return list_resources(req, f"/subscriptions/{sub}/resourcegroups/{rg}/providers/".lower())

    router.add("GET", "/tenants", list_tenants)
    router.add("GET", "/subscriptions", list_subscriptions)
    router.add("GET", "/subscriptions/{sub}", get_subscription)
    router.add("GET", "/subscriptions/{sub}/locations", list_locations)
    router.add("GET", "/subscriptions/{sub}/resources", list_in_subscription)
    router.add("GET", "/subscriptions/{sub}/resourcegroups", list_groups)
    router.add("GET", "/subscriptions/{sub}/resourcegroups/{rg}", get_group)
    router.add("HEAD", "/subscriptions/{sub}/resourcegroups/{rg}", group_exists)
    router.add("GET", "/subscriptions/{sub}/resourcegroups/{rg}/resources", list_in_group)
