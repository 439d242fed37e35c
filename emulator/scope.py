"""ARM's checks before a request reaches a resource provider, made once for every route.

In ARM's order: the api-version (emulator.providers), then the subscription (404 SubscriptionNotFound), the
resource group (404 ResourceGroupNotFound, also for lists within it) and, for paths below a top-level resource,
that resource (404 ResourceNotFound in ARM's wording). Paths outside ARM are left alone.
"""

from __future__ import annotations

from typing import Any

from .http import ApiError, Request
from .providers import authorization_failed, check_api_version

# Top-level types whose resources live in Estate.resources (their children are checked against them).
TRACKED = {"microsoft.machinelearningservices/workspaces"}


def subscription_not_found(sub: str) -> ApiError:
    return ApiError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def group_not_found(rg: str) -> ApiError:
    return ApiError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def resource_not_found(type_path: str, name: str, rg: str) -> ApiError:
    return ApiError(
        404,
        "ResourceNotFound",
        f"The Resource '{type_path}/{name}' under resource group '{rg}' was not found. For more details please go "
        "to https://aka.ms/ARMResourceNotFoundFix",
    )


def check(req: Request, estate: Any, directory: Any = None) -> None:
    segs = [s for s in req.path.strip("/").split("/") if s]
    low = [s.lower() for s in segs]
    location = ""
    if len(segs) >= 4 and low[0] == "subscriptions" and low[2] == "resourcegroups":
        group = estate.resource_groups.get(f"/subscriptions/{segs[1]}/resourcegroups/{segs[3]}".lower())
        location = group.get("location", "") if group else ""
    check_api_version(req.path, req.q("api-version"), location)
    if len(segs) < 2 or low[0] != "subscriptions" or (":" in segs[-1] and len(segs) == 3):
        return  # not ARM, or the regional metrics data plane (…/metrics:getBatch)
    sub = segs[1]
    if directory is not None and directory.without_access(req.caller):
        caller = req.caller
        raise authorization_failed(
            req.method, req.path, client_id=str(caller.get("appid") or ""), object_id=str(caller.get("oid") or "")
        )
    if estate.subscription(sub) is None:
        raise subscription_not_found(sub)
    if len(segs) < 4 or low[2] != "resourcegroups":
        return
    rg = segs[3]
    if f"/subscriptions/{sub}/resourcegroups/{rg}".lower() not in estate.resource_groups:
        raise group_not_found(rg)
    if len(segs) <= 8 or low[4] != "providers":
        return
    # below a top-level resource (…/providers/NS/type/name/…): the resource must exist, for the types the estate
    # keeps (others keep their own checks)
    type_path = f"{segs[5]}/{segs[6]}"
    if type_path.lower() in TRACKED and estate.get("/" + "/".join(segs[:8])) is None:
        raise resource_not_found(type_path, segs[7], rg)
