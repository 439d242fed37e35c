"""Resource provider metadata (Microsoft.Resources/stable/2025-04-01 Providers_*), from emulator.providers' table.

- ``GET /subscriptions/{s}/providers`` and ``/subscriptions/{s}/providers/{namespace}``: registrationState,
  resourceTypes with apiVersions and locations (what ``az resource show --ids`` reads to pick an api-version);
- ``POST /subscriptions/{s}/providers/{namespace}/register``: already registered, answered as ARM does;
- ``GET /providers`` and ``/providers/{namespace}``: the same at tenant scope;
- ``GET /providers/{namespace}/operations``: the operations list (name, display, origin, isDataAction).
"""

from __future__ import annotations

from typing import Any

from ..http import ApiError, Request, Response, page
from ..providers import NAMESPACES, Namespace, operations, provider_body


def _namespace(name: str) -> Namespace:
    ns = NAMESPACES.get(name.lower())
    if ns is None:
        raise ApiError(404, "InvalidResourceNamespace", f"The resource namespace '{name}' is invalid.")
    return ns


def _sorted() -> list[Namespace]:
    return sorted(NAMESPACES.values(), key=lambda n: n.name.lower())


def register(router: Any, emu: Any) -> None:
    def list_sub(req: Request, sub: str) -> Response:
        return page(req, [provider_body(ns, sub) for ns in _sorted()])

    def get_sub(req: Request, sub: str, ns: str) -> Response:
        return Response(200, provider_body(_namespace(ns), sub))

    def register_ns(req: Request, sub: str, ns: str) -> Response:
        return Response(200, provider_body(_namespace(ns), sub))

    def list_tenant(req: Request) -> Response:
        return page(req, [provider_body(ns) for ns in _sorted()])

    def get_tenant(req: Request, ns: str) -> Response:
        return Response(200, provider_body(_namespace(ns)))

    def list_operations(req: Request, ns: str) -> Response:
        return page(req, operations(_namespace(ns)), default_top=1000)

    router.add("GET", "/subscriptions/{sub}/providers", list_sub)
    router.add("GET", "/subscriptions/{sub}/providers/{ns}", get_sub)
    router.add("POST", "/subscriptions/{sub}/providers/{ns}/register", register_ns)
    router.add("GET", "/providers", list_tenant)
    router.add("GET", "/providers/{ns}", get_tenant)
    router.add("GET", "/providers/{ns}/operations", list_operations)
