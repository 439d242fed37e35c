"""Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources``.

Shapes follow Microsoft.ResourceGraph/stable/2021-03-01 (Resources_* examples): the request
``{subscriptions, managementGroups, query, options{$top, $skip, $skipToken, resultFormat}, facets}`` answers
``{totalRecords, count, resultTruncated, $skipToken?, data, facets}``; ``data`` is an array of objects
(``objectArray``) or ``{columns: [{name, type}], rows}`` (``table``).

The tables are views of the estate: ``Resources`` (every resource except datastores, which ARG does not
index) and ``ResourceContainers`` (subscriptions and resource groups), with ARG's row shape: lower-cased
``type`` and ``resourceGroup``, empty strings for absent string columns, null for absent dynamic ones.
Queries run on the emulator's one KQL engine (the one Log Analytics uses), through Resource Graph's dialect
rules in :mod:`emulator.kql.resource_graph`: the tables are materialized per query with dynamic
``sku``/``plan``/``properties``/``tags``/``identity``/``zones``/``extendedLocation`` columns.
The default result format follows the api-version: ``objectArray`` from 2021-03-01 on, ``table`` before.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
from typing import Any

from ..estate import Estate
from ..http import ApiError, Request, Response
from ..kql import Table
from ..kql import resource_graph as kql

DEFAULT_TOP = 100
MAX_TOP = 1000

# The Resources / ResourceContainers schema, in ARG's column order, with ARG's column types.
COLUMNS: list[tuple[str, str]] = [
    ("id", "string"),
    ("name", "string"),
    ("type", "string"),
    ("tenantId", "string"),
    ("kind", "string"),
    ("location", "string"),
    ("resourceGroup", "string"),
    ("subscriptionId", "string"),
    ("managedBy", "string"),
    ("sku", "object"),
    ("plan", "object"),
    ("properties", "object"),
    ("tags", "object"),
    ("identity", "object"),
    ("zones", "object"),
    ("extendedLocation", "object"),
]
_STRING_COLUMNS = {name for name, t in COLUMNS if t == "string"}

_INVALID_QUERY = {
    "code": "InvalidQuery",
    "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix "
    "the error before retrying.",
}


def _row(values: dict[str, Any]) -> dict[str, Any]:
    """A row with every schema column: absent strings are "", absent dynamic values null (as ARG)."""
    return {name: values.get(name, "" if name in _STRING_COLUMNS else None) for name, _ in COLUMNS}


def _scope(resource_id: str) -> tuple[str, str]:
    """(subscription id, lower-cased resource group) of an ARM id."""
    parts = resource_id.strip("/").split("/")
    sub = parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""
    rg = parts[3].lower() if len(parts) > 3 and parts[2].lower() == "resourcegroups" else ""
    return sub, rg


def indexed(resource: dict[str, Any]) -> bool:
    """Whether ARG's Resources table holds this resource (datastores are not ARM-tracked there)."""
    return "/datastores" not in resource.get("type", "").lower()


def resource_rows(estate: Estate, subscriptions: set[str]) -> list[dict[str, Any]]:
    with estate.lock:
        resources = [copy.deepcopy(r) for r in estate.resources.values() if indexed(r)]
    rows: list[dict[str, Any]] = []
    for r in resources:
        sub, rg = _scope(r["id"])
        if sub.lower() not in subscriptions:
            continue
        rows.append(
            _row(
                {
                    "id": r["id"],
                    "name": r.get("name") or r["id"].rsplit("/", 1)[-1],
                    "type": r.get("type", "").lower(),
                    "tenantId": estate.tenant_id,
                    "kind": r.get("kind") or "",
                    "location": (r.get("location") or "").lower(),
                    "resourceGroup": rg,
                    "subscriptionId": sub,
                    "managedBy": r.get("managedBy") or "",
                    "sku": r.get("sku"),
                    "plan": r.get("plan"),
                    "properties": r.get("properties"),
                    "tags": r.get("tags"),
                    "identity": r.get("identity"),
                    "zones": r.get("zones"),
                    "extendedLocation": r.get("extendedLocation"),
                }
            )
        )
    rows.sort(key=lambda row: row["id"].lower())
    return rows


def container_rows(estate: Estate, subscriptions: set[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with estate.lock:
        subs = copy.deepcopy(estate.subscriptions)
        groups = copy.deepcopy(list(estate.resource_groups.values()))
    for s in subs:
        if s["subscriptionId"].lower() not in subscriptions:
            continue
        rows.append(
            _row(
                {
                    "id": s["id"],
                    "name": s["displayName"],
                    "type": "microsoft.resources/subscriptions",
                    "tenantId": s.get("tenantId") or estate.tenant_id,
                    "subscriptionId": s["subscriptionId"],
                    "properties": {
                        "state": s.get("state", "Enabled"),
                        "subscriptionPolicies": s.get("subscriptionPolicies"),
                        "managementGroupAncestorsChain": [
                            {"displayName": "Tenant Root Group", "name": estate.tenant_id}
                        ],
                    },
                    "tags": s.get("tags") or {},
                }
            )
        )
    for g in groups:
        sub, rg = _scope(g["id"])
        if sub.lower() not in subscriptions:
            continue
        rows.append(
            _row(
                {
                    "id": g["id"],
                    "name": g["name"],
                    "type": "microsoft.resources/subscriptions/resourcegroups",
                    "tenantId": estate.tenant_id,
                    "location": (g.get("location") or "").lower(),
                    "resourceGroup": rg,
                    "subscriptionId": sub,
                    "managedBy": g.get("managedBy") or "",
                    "properties": g.get("properties"),
                    "tags": g.get("tags"),
                }
            )
        )
    rows.sort(key=lambda row: row["id"].lower())
    return rows


def _table(name: str, rows: list[dict[str, Any]]) -> Table:
    """Rows as a columnar engine table; the object columns are dynamic (JSON)."""
    columns = [(n, "dynamic" if t == "object" else "string") for n, t in COLUMNS]
    data: dict[str, list[Any]] = {}
    for n, t in columns:
        if t == "dynamic":
            data[n] = [None if r[n] is None else json.dumps(r[n], separators=(",", ":")) for r in rows]
        else:
            data[n] = [r[n] for r in rows]
    return Table(name, columns, data)


def tables(estate: Estate, subscriptions: set[str]) -> dict[str, Table]:
    return {
        "Resources": _table("Resources", resource_rows(estate, subscriptions)),
        "ResourceContainers": _table("ResourceContainers", container_rows(estate, subscriptions)),
    }


# -- errors ---------------------------------------------------------------------------------------


def query_error(req: Request, estate: Estate, detail: dict[str, Any]) -> ApiError:
    correlation = req.headers.get("x-ms-correlation-request-id") or req.request_id
    return ApiError(
        400,
        "BadRequest",
        f"Please provide below info when asking for support: timestamp = {estate.now_iso()}, "
        f"correlationId = {correlation}.",
        details=[dict(_INVALID_QUERY), detail],
    )


def error_detail(e: kql.GraphQueryError) -> dict[str, Any]:
    if e.kind == "parser":
        return {
            "code": "ParserFailure",
            "message": "ParserFailure",
            "line": e.line,
            "characterPositionInLine": e.pos,
            "token": e.token,
        }
    if e.kind == "unsupported":
        return {
            "code": "InvalidQueryLanguage",
            "message": "InvalidQueryLanguage",
            "line": -1,
            "characterPositionInLine": -1,
            "token": e.token,
        }
    return {"code": "Default", "message": e.message}


# -- paging ---------------------------------------------------------------------------------------


def _fingerprint(query: str, subscriptions: set[str]) -> str:
    text = query + "\n" + ",".join(sorted(subscriptions))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_token(offset: int, size: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "n": size, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, fingerprint: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        offset, size, fp = int(data["o"]), int(data["n"]), str(data["q"])
    except (binascii.Error, ValueError, KeyError, TypeError) as e:
        raise ValueError("The $skipToken is not valid.") from e
    if offset < 0 or not 1 <= size <= MAX_TOP:
        raise ValueError("The $skipToken is not valid.")
    if fp != fingerprint:
        raise ValueError("The $skipToken was issued for another query or set of subscriptions.")
    return offset, size


def _int_option(options: dict[str, Any], name: str) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiError(400, "BadRequest", f"The option '{name}' must be an integer.")
    try:
        return int(value)
    except ValueError as e:
        raise ApiError(400, "BadRequest", f"The option '{name}' must be an integer.") from e


# -- facets ---------------------------------------------------------------------------------------


def facet(
    query: str, result: kql.GraphResult, request: dict[str, Any], tabs: dict[str, Table], now: Any
) -> dict[str, Any]:
    """One facet: the query's result counted by a column, run on the same engine."""
    expression = str(request.get("expression") or "").strip()
    options = request.get("options") or {}
    names = {n for n, _ in result.columns}
    if expression not in names:
        return {
            "expression": expression,
            "resultType": "FacetError",
            "errors": [
                {"code": "NoValidColumns", "message": "No valid columns in facet expression."},
                {"code": "InvalidColumnNames", "message": f"Invalid column names: [{expression}]."},
            ],
        }
    order = "asc" if str(options.get("sortOrder") or "desc").lower() == "asc" else "desc"
    sort_by = str(options.get("sortBy") or "['count']")
    text = f"{query}\n| " + (f"where {options['filter']}\n| " if options.get("filter") else "")
    text += f"summarize ['count'] = count() by {expression}\n| order by {sort_by} {order}"
    try:
        counted = kql.run(text, tabs, now=now)
        top = int(options.get("$top") or 10)
    except (kql.GraphQueryError, ValueError) as e:
        return {
            "expression": expression,
            "resultType": "FacetError",
            "errors": [{"code": "InvalidFacet", "message": str(e)}],
        }
    data = counted.rows[: max(1, min(top, MAX_TOP))]
    return {
        "expression": expression,
        "resultType": "FacetResult",
        "totalRecords": len(counted.rows),
        "count": len(data),
        "data": data,
    }


# -- the route ------------------------------------------------------------------------------------


def default_format(api_version: str | None) -> str:
    """The result format when the request names none: objectArray from api-version 2021-03-01 on."""
    return "objectArray" if (api_version or "9999")[:10] >= "2021-03-01" else "table"


def register(router: Any, emu: Any) -> None:
    estate: Estate = emu.estate

    def resources(req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidRequestContent", "The request content must be a JSON object.")
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ApiError(400, "BadRequest", "The request must have a non-empty 'query'.")
        known = {s["subscriptionId"].lower() for s in estate.subscriptions}
        requested = body.get("subscriptions")
        if requested:
            if not isinstance(requested, list) or not all(isinstance(s, str) for s in requested):
                raise ApiError(400, "BadRequest", "'subscriptions' must be an array of subscription ids.")
            scope = {s.lower() for s in requested} & known
        else:  # tenant or management-group scope: every subscription the caller can see
            scope = known
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise ApiError(400, "BadRequest", "'options' must be an object.")
        result_format = str(options.get("resultFormat") or default_format(req.q("api-version")))
        if result_format.lower() not in ("table", "objectarray"):
            raise ApiError(400, "BadRequest", f"The result format '{result_format}' is not supported.")
        top = _int_option(options, "$top")
        skip = _int_option(options, "$skip")
        if top is not None and not 1 <= top <= MAX_TOP:
            raise ApiError(400, "BadRequest", f"The option '$top' must be between 1 and {MAX_TOP}.")
        if skip is not None and skip < 0:
            raise ApiError(400, "BadRequest", "The option '$skip' must not be negative.")

        fingerprint = _fingerprint(query, scope)
        offset, size = 0, DEFAULT_TOP
        token = options.get("$skipToken")
        if token:
            try:
                offset, size = decode_token(str(token), fingerprint)
            except ValueError as e:
                raise query_error(req, estate, {"code": "InvalidSkipToken", "message": str(e)}) from e
        if skip is not None:
            offset = skip
        if top is not None:
            size = top

        tabs = tables(estate, scope)
        now = estate.clock.now()
        try:
            result = kql.run(query, tabs, now=now)
        except kql.GraphQueryError as e:
            raise query_error(req, estate, error_detail(e)) from e

        total = len(result.rows)
        page_rows = result.rows[offset : offset + size]
        more = offset + size < total
        # ARG does not page a result shaped by limit/take/top, nor one whose columns are all dynamic/null.
        names = [n for n, _ in result.columns]
        pageable = not result.limited and any(t != "object" for _, t in result.columns)
        out: dict[str, Any] = {
            "totalRecords": total,
            "count": len(page_rows),
            "resultTruncated": "true" if more and not pageable else "false",
        }
        if more and pageable:
            out["$skipToken"] = encode_token(offset + size, size, fingerprint)
        if result_format.lower() == "objectarray":
            out["data"] = [{c: row.get(c) for c in names} for row in page_rows]
        else:
            out["data"] = {
                "columns": [{"name": n, "type": t} for n, t in result.columns],
                "rows": [[row.get(c) for c in names] for row in page_rows],
            }
        facets = body.get("facets") or []
        out["facets"] = [facet(query, result, f, tabs, now) for f in facets if isinstance(f, dict)]
        return Response(200, out)

    router.add("POST", "/providers/Microsoft.ResourceGraph/resources", resources)
