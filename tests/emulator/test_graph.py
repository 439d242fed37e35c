"""Resource Graph through the real ResourceGraphClient, and the KQL subset on its own.

Expectations are computed from the estate itself, so that the tests stay true while other areas add
computes, endpoints and deployments to it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import Emulator
from emulator.kql import Table
from emulator.kql import resource_graph as kql
from services import clients
from services.cloud import Cloud

WS = "microsoft.machinelearningservices/workspaces"


@pytest.fixture(scope="module")
def graph(cloud: Cloud, credential: Any) -> Any:
    return clients.graph_client(cloud, credential)


@pytest.fixture(scope="module")
def query(graph: Any, emulator: Emulator) -> Callable[..., Any]:
    """query(kql, subscriptions=all, **options) → QueryResponse (objectArray unless result_format given)."""

    def run(text: str, subscriptions: list[str] | None = None, **options: Any) -> Any:
        options.setdefault("result_format", "objectArray")
        request = QueryRequest(
            subscriptions=emulator.subscription_ids if subscriptions is None else subscriptions,
            query=text,
            options=QueryRequestOptions(**options),
        )
        return graph.resources(request)

    return run


def indexed(emulator: Emulator) -> list[dict[str, Any]]:
    """The estate's resources as ARG's Resources table holds them (everything but datastores)."""
    with emulator.estate.lock:
        items = list(emulator.estate.resources.values())
    return [r for r in items if "/datastores" not in r["type"].lower()]


def sub_of(resource_id: str) -> str:
    return resource_id.split("/")[2]


def rows_of(response: Any) -> list[dict[str, Any]]:
    assert isinstance(response.data, list)
    return response.data


# -- the Resources table ---------------------------------------------------------------------------


def test_workspaces_across_both_subscriptions(emulator: Emulator, query: Callable[..., Any]) -> None:
    resp = query(f"Resources | where type =~ '{WS}' | project id, name, location, subscriptionId")
    rows = rows_of(resp)
    workspaces = emulator.estate.workspaces()
    assert resp.total_records == resp.count == len(rows) == len(workspaces) > 0
    assert resp.result_truncated == "false" and resp.skip_token is None
    assert {r["id"] for r in rows} == {w["id"] for w in workspaces}
    assert {r["subscriptionId"] for r in rows} == set(emulator.subscription_ids)
    for r in rows:
        assert list(r) == ["id", "name", "location", "subscriptionId"]
        w = emulator.estate.get(r["id"])
        assert w is not None and (r["name"], r["location"]) == (w["name"], w["location"])


def test_row_shape_is_args(emulator: Emulator, query: Callable[..., Any]) -> None:
    rows = rows_of(query(f"Resources | where type == '{WS}'"))
    assert rows
    for r in rows:
        assert list(r) == [
            "id",
            "name",
            "type",
            "tenantId",
            "kind",
            "location",
            "resourceGroup",
            "subscriptionId",
            "managedBy",
            "sku",
            "plan",
            "properties",
            "tags",
            "identity",
            "zones",
            "extendedLocation",
        ]
        source = emulator.estate.get(r["id"])
        assert source is not None
        assert r["type"] == source["type"].lower() == WS  # ARG lower-cases types
        assert r["resourceGroup"] == r["id"].split("/")[4].lower()
        assert r["subscriptionId"] == sub_of(r["id"])
        assert r["tenantId"] == emulator.tenant_id
        assert r["managedBy"] == "" and r["plan"] is None and r["zones"] is None
        assert r["properties"]["workspaceId"] == source["properties"]["workspaceId"]
        assert r["tags"] == source["tags"] and r["sku"] == source["sku"]


def test_every_indexed_type_is_counted(emulator: Emulator, query: Callable[..., Any]) -> None:
    resp = query("Resources | summarize count() by type, subscriptionId")
    got = {(r["type"], r["subscriptionId"]): r["count_"] for r in rows_of(resp)}
    expected = Counter((r["type"].lower(), sub_of(r["id"])) for r in indexed(emulator))
    assert got == dict(expected)
    assert sum(got.values()) == len(indexed(emulator)) >= len(emulator.estate.workspaces()) > 0
    assert not any("datastores" in t for t, _ in got)
    assert rows_of(query("Resources | where type contains 'datastores' | count")) == [{"Count": 0}]
    assert rows_of(query("Resources | count")) == [{"Count": len(indexed(emulator))}]


def test_type_filter_with_in_tilde(emulator: Emulator, query: Callable[..., Any]) -> None:
    wanted = [
        "Microsoft.MachineLearningServices/workspaces",
        "Microsoft.MachineLearningServices/workspaces/computes",
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
    ]
    listed = ", ".join(f"'{t}'" for t in wanted)
    rows = rows_of(query(f"Resources | where type in~ ({listed}) | project id, type", top=1000))
    expected = {r["id"] for r in indexed(emulator) if r["type"].lower() in {t.lower() for t in wanted}}
    assert {r["id"] for r in rows} == expected
    assert len(expected) >= len(emulator.estate.workspaces())
    # in is case-sensitive: mixed-case names match nothing, since ARG's types are lower-case
    assert rows_of(query(f"Resources | where type in ({listed}) | count")) == [{"Count": 0}]
    rest = rows_of(query(f"Resources | where type !in~ ({listed}) | project id", top=1000))
    assert {r["id"] for r in rest} == {r["id"] for r in indexed(emulator)} - expected


def test_children_rows_match_the_estate(emulator: Emulator, query: Callable[..., Any]) -> None:
    """Computes, endpoints and deployments (whatever the areas generated) appear under their workspace."""
    children = [r for r in indexed(emulator) if r["type"].lower() != WS]
    rows = rows_of(query(f"Resources | where type != '{WS}' | project id, name, type, resourceGroup", top=1000))
    assert {r["id"] for r in rows} == {c["id"] for c in children}
    for r in rows:
        assert r["id"].lower().startswith("/subscriptions/")
        assert r["type"] == r["type"].lower()
        assert r["id"].split("/")[4].lower() == r["resourceGroup"]


def test_where_extend_order_project(emulator: Emulator, query: Callable[..., Any]) -> None:
    resp = query(
        f"Resources\n| where type =~ '{WS}' and isnotempty(tags.purpose)\n"
        "| extend env = tostring(tags['purpose']), region = toupper(location),\n"
        "         access = properties.publicNetworkAccess\n"
        "| where env != 'research' and not(name startswith 'zzz')\n"
        "| order by region asc, name desc\n"
        "| project name, env, region, access"
    )
    expected = sorted(
        (
            {
                "name": w["name"],
                "env": w["tags"]["purpose"],
                "region": w["location"].upper(),
                "access": w["properties"]["publicNetworkAccess"],
            }
            for w in emulator.estate.workspaces()
            if w["tags"]["purpose"] != "research"
        ),
        key=lambda r: r["name"],
        reverse=True,
    )
    expected.sort(key=lambda r: r["region"])
    assert rows_of(resp) == expected and expected


def test_properties_access_and_string_operators(emulator: Emulator, query: Callable[..., Any]) -> None:
    workspaces = emulator.estate.workspaces()
    disabled = {w["name"] for w in workspaces if w["properties"]["publicNetworkAccess"] == "Disabled"}
    rows = rows_of(
        query(f"Resources | where type =~ '{WS}' | where properties.publicNetworkAccess == 'Disabled' | project name")
    )
    assert {r["name"] for r in rows} == disabled and disabled
    rows = rows_of(
        query(
            f"Resources | where type =~ '{WS}' and properties['friendlyName'] has 'PROD' "
            "| project name, friendly = properties.friendlyName"
        )
    )
    assert {r["name"] for r in rows} == {w["name"] for w in workspaces if "prod" in w["name"].split("-")}
    assert all(r["friendly"] == r["name"] for r in rows)
    rows = rows_of(
        query(f"Resources | where type =~ '{WS}' and name endswith 'eus' and name !contains 'dev' | project name")
    )
    assert {r["name"] for r in rows} == {
        w["name"] for w in workspaces if w["name"].endswith("eus") and "dev" not in w["name"]
    }


def test_paging_with_skip_token_collects_every_row_once(emulator: Emulator, query: Callable[..., Any]) -> None:
    text = "Resources | project id, name, type | order by id asc"
    total = len(indexed(emulator))
    assert total >= 3
    collected: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        resp = query(text, top=2, skip_token=token)
        assert resp.total_records == total
        assert resp.count == len(resp.data) <= 2
        assert resp.result_truncated == "false"
        collected.extend(r["id"] for r in resp.data)
        pages += 1
        token = resp.skip_token
        if token is None:
            break
        assert pages <= total
    assert collected == sorted((r["id"] for r in indexed(emulator)), key=str.lower)
    assert len(set(collected)) == total and pages == (total + 1) // 2
    # $skip (with or without a token) moves the window
    skipped = query(text, top=2, skip=1)
    assert [r["id"] for r in skipped.data] == collected[1:3]


def test_skip_token_is_tied_to_its_query(query: Callable[..., Any]) -> None:
    first = query("Resources | project id | order by id asc", top=1)
    assert first.skip_token
    with pytest.raises(HttpResponseError) as info:
        query("Resources | project name | order by name asc", top=1, skip_token=first.skip_token)
    assert info.value.status_code == 400
    with pytest.raises(HttpResponseError):
        query("Resources | project id | order by id asc", skip_token="not-a-token")


def test_limited_results_are_truncated_not_paged(emulator: Emulator, query: Callable[..., Any]) -> None:
    resp = query("Resources | project id | take 3", top=1)
    assert (resp.total_records, resp.count, resp.result_truncated, resp.skip_token) == (3, 1, "true", None)
    resp = query("Resources | project properties", top=1)  # only dynamic columns: ARG cannot page
    assert resp.result_truncated == "true" and resp.skip_token is None
    resp = query("Resources | top 2 by name asc | project name")
    names = sorted(r["name"] for r in indexed(emulator))
    assert [r["name"] for r in resp.data] == names[:2]


def test_summarize_count_and_countif_by_subscription(emulator: Emulator, query: Callable[..., Any]) -> None:
    rows = rows_of(
        query(
            f"Resources | where type =~ '{WS}' "
            "| summarize total = count(), production = countif(tags.purpose == 'production'), "
            "regions = dcount(location) "
            "by subscriptionId | order by subscriptionId asc"
        )
    )
    expected = []
    for sub in sorted(emulator.subscription_ids):
        mine = [w for w in emulator.estate.workspaces() if sub_of(w["id"]) == sub]
        expected.append(
            {
                "subscriptionId": sub,
                "total": len(mine),
                "production": sum(1 for w in mine if w["tags"]["purpose"] == "production"),
                "regions": len({w["location"] for w in mine}),
            }
        )
    assert rows == expected
    assert sum(r["total"] for r in rows) == len(emulator.estate.workspaces())


def test_distinct_and_project_away(emulator: Emulator, query: Callable[..., Any]) -> None:
    rows = rows_of(query(f"Resources | where type =~ '{WS}' | distinct location | order by location asc"))
    assert [r["location"] for r in rows] == sorted({w["location"] for w in emulator.estate.workspaces()})
    rows = rows_of(query(f"Resources | where type =~ '{WS}' | project-away properties, identity, sku, tags, plan"))
    assert rows and all(set(r).isdisjoint({"properties", "identity", "sku", "tags", "plan"}) for r in rows)
    assert all("id" in r and "name" in r for r in rows)


def test_resource_containers(emulator: Emulator, query: Callable[..., Any]) -> None:
    subs = rows_of(
        query(
            "ResourceContainers | where type == 'microsoft.resources/subscriptions' "
            "| project subscriptionId, name, state = tostring(properties.state)"
        )
    )
    assert {(r["subscriptionId"], r["name"], r["state"]) for r in subs} == {
        (s["subscriptionId"], s["displayName"], s["state"]) for s in emulator.estate.subscriptions
    }
    groups = rows_of(
        query(
            "resourcecontainers | where type == 'microsoft.resources/subscriptions/resourcegroups' "
            "| project id, name, resourceGroup, location, tags"
        )
    )
    assert {g["id"] for g in groups} == {g["id"] for g in emulator.estate.resource_groups.values()}
    assert all(g["resourceGroup"] == g["name"].lower() for g in groups)
    assert all(g["tags"].get("purpose") for g in groups)


def test_result_format_default_follows_the_api_version_and_table_has_typed_columns(
    emulator: Emulator, graph: Any
) -> None:
    text = (
        f"Resources | where type =~ '{WS}' | extend n = strlen(name), ok = isnotempty(location) "
        "| project name, n, ok, tags | order by name asc"
    )
    names = sorted(w["name"] for w in emulator.estate.workspaces())
    # The client speaks 2021-03-01: with no options ARG answers an object array.
    plain = graph.resources(QueryRequest(subscriptions=emulator.subscription_ids, query=text))
    assert [r["name"] for r in rows_of(plain)] == names
    resp = graph.resources(
        QueryRequest(
            subscriptions=emulator.subscription_ids,
            query=text,
            options=QueryRequestOptions(result_format="table"),
        )
    )
    assert resp.data["columns"] == [
        {"name": "name", "type": "string"},
        {"name": "n", "type": "integer"},
        {"name": "ok", "type": "boolean"},
        {"name": "tags", "type": "object"},
    ]
    assert [row[0] for row in resp.data["rows"]] == names
    assert all(row[1] == len(row[0]) and row[2] is True for row in resp.data["rows"])


def test_graph_runs_on_the_log_analytics_engine_join_and_mv_expand(
    emulator: Emulator, query: Callable[..., Any]
) -> None:
    """One KQL engine: Resource Graph runs what the shared engine runs (join, mv-expand, parse), with ARG's
    dynamic values coming back as JSON, not text."""
    rows = rows_of(
        query(
            f"Resources | where type =~ '{WS}' | project wsName = name, region = location "
            "| join kind=inner (Resources | where type =~ 'microsoft.machinelearningservices/workspaces/computes' "
            "| parse id with * '/workspaces/' wsName '/computes/' compute | project wsName, compute) on wsName "
            "| summarize computes = count() by wsName | order by wsName asc"
        )
    )
    expected = {
        w["name"]: len(emulator.estate.children(w["id"], "computes"))
        for w in emulator.estate.workspaces()
        if emulator.estate.children(w["id"], "computes")
    }
    assert {r["wsName"]: r["computes"] for r in rows} == expected and expected
    tags = rows_of(
        query(f"Resources | where type =~ '{WS}' | mv-expand tag = tags | project name, tag | order by name asc")
    )
    assert tags and all(isinstance(r["tag"], dict) and len(r["tag"]) == 1 for r in tags)
    assert {(r["name"], next(iter(r["tag"]))) for r in tags} == {
        (w["name"], k) for w in emulator.estate.workspaces() for k in w["tags"]
    }


def test_subscription_scoping(emulator: Emulator, query: Callable[..., Any]) -> None:
    for sub in emulator.subscription_ids:
        rows = rows_of(query("Resources | project id, subscriptionId", subscriptions=[sub], top=1000))
        assert {r["id"] for r in rows} == {r["id"] for r in indexed(emulator) if sub_of(r["id"]) == sub}
        assert {r["subscriptionId"] for r in rows} == {sub}
        containers = rows_of(query("ResourceContainers | project subscriptionId", subscriptions=[sub]))
        assert {r["subscriptionId"] for r in containers} == {sub}
    assert rows_of(query("Resources | count", subscriptions=["00000000-0000-0000-0000-000000000000"])) == [{"Count": 0}]


def test_facets(emulator: Emulator, graph: Any) -> None:
    from azure.mgmt.resourcegraph.models import FacetRequest, FacetRequestOptions

    resp = graph.resources(
        QueryRequest(
            subscriptions=emulator.subscription_ids,
            query=f"Resources | where type =~ '{WS}' | project id, location, subscriptionId",
            options=QueryRequestOptions(result_format="objectArray"),
            facets=[
                FacetRequest(expression="subscriptionId", options=FacetRequestOptions(top=5)),
                FacetRequest(expression="nonExistingColumn"),
            ],
        )
    )
    counts = Counter(sub_of(w["id"]) for w in emulator.estate.workspaces())
    ok, bad = resp.facets
    assert ok.result_type == "FacetResult" and ok.total_records == len(counts)
    assert {d["subscriptionId"]: d["count"] for d in ok.data} == dict(counts)
    assert bad.result_type == "FacetError" and bad.errors[0].code == "NoValidColumns"


# -- errors ----------------------------------------------------------------------------------------


def error_details(info: pytest.ExceptionInfo[HttpResponseError]) -> list[dict[str, Any]]:
    assert info.value.status_code == 400
    response: Any = info.value.response
    body = response.json()["error"]
    assert body["code"] == "BadRequest"
    assert body["message"].startswith("Please provide below info when asking for support")
    assert body["details"][0]["code"] == "InvalidQuery"
    return body["details"]


def test_syntax_error_is_a_400_parser_failure(query: Callable[..., Any]) -> None:
    with pytest.raises(HttpResponseError) as info:
        query("Resources | where name == ")
    assert "Query is invalid" in str(info.value)
    detail = error_details(info)[1]
    assert detail == {
        "code": "ParserFailure",
        "message": "ParserFailure",
        "line": 1,
        "characterPositionInLine": 26,
        "token": "<EOF>",
    }
    with pytest.raises(HttpResponseError) as info:
        query("Resources\n| where name == 'x'\n| order name")
    assert error_details(info)[1] == {
        "code": "ParserFailure",
        "message": "ParserFailure",
        "line": 3,
        "characterPositionInLine": 8,
        "token": "name",
    }
    with pytest.raises(HttpResponseError) as info:
        query("Resources | wher name == 'x'")
    assert error_details(info)[1]["token"] == "wher"


def test_semantic_and_unsupported_errors(query: Callable[..., Any]) -> None:
    with pytest.raises(HttpResponseError) as info:
        query("Resources | where nosuchcolumn == 'x'")
    assert "nosuchcolumn" in error_details(info)[1]["message"]
    with pytest.raises(HttpResponseError) as info:
        query("Resources | project name | order by id asc")  # id was projected away
    assert "'id'" in error_details(info)[1]["message"]
    with pytest.raises(HttpResponseError) as info:
        query("NoSuchTable | count")
    assert "NoSuchTable" in error_details(info)[1]["message"]
    with pytest.raises(HttpResponseError) as info:
        query("Resources | make-series count() on location step 1")  # KQL that ARG does not run
    assert error_details(info)[1] == {
        "code": "InvalidQueryLanguage",
        "message": "InvalidQueryLanguage",
        "line": -1,
        "characterPositionInLine": -1,
        "token": "make-series",
    }
    with pytest.raises(HttpResponseError) as info:
        query("Resources | extend x = frobnicate(name)")
    assert "frobnicate" in error_details(info)[1]["message"]


# -- the KQL subset on its own ---------------------------------------------------------------------

SAMPLE: list[dict[str, Any]] = [
    {"name": "alpha", "n": 3, "state": "Running", "tags": {"env": "prod"}, "zones": ["1", "2"]},
    {"name": "Beta", "n": 10, "state": "Stopped", "tags": {"env": "dev"}, "zones": None},
    {"name": "gamma-ray", "n": None, "state": "", "tags": {}, "zones": ["3"]},
    {"name": "delta", "n": 7, "state": "Running", "tags": None, "zones": []},
]


COLUMNS = [("name", "string"), ("n", "long"), ("state", "string"), ("tags", "dynamic"), ("zones", "dynamic")]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def table(rows: list[dict[str, Any]], name: str = "T") -> Table:
    data = {c: [json.dumps(r[c]) if t == "dynamic" and r[c] is not None else r[c] for r in rows] for c, t in COLUMNS}
    return Table(name, COLUMNS, data)


def run(text: str) -> list[dict[str, Any]]:
    return kql.run(text, {"T": table(SAMPLE)}, now=NOW).rows


def names(text: str) -> list[str]:
    return [r["name"] for r in run(text)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("name == 'alpha'", ["alpha"]),
        ("name =~ 'BETA'", ["Beta"]),
        ("name !~ 'beta'", ["alpha", "gamma-ray", "delta"]),
        ("name != 'alpha'", ["Beta", "gamma-ray", "delta"]),
        ("name contains 'MM'", ["gamma-ray"]),
        ("name contains_cs 'MM'", []),
        ("name has 'ray'", ["gamma-ray"]),
        ("name has 'ra'", []),
        ("name !has 'ray'", ["alpha", "Beta", "delta"]),
        ("name startswith 'b'", ["Beta"]),
        ("name startswith_cs 'b'", []),
        ("name endswith 'TA'", ["Beta", "delta"]),
        ("name !endswith 'ta'", ["alpha", "gamma-ray"]),
        ("name in ('alpha', 'beta')", ["alpha"]),
        ("name in~ ('alpha', 'beta')", ["alpha", "Beta"]),
        ("name !in ('alpha')", ["Beta", "gamma-ray", "delta"]),
        ("name !in~ ('ALPHA', 'delta')", ["Beta", "gamma-ray"]),
        ("n > 5", ["Beta", "delta"]),
        ("n >= 3 and n <= 7", ["alpha", "delta"]),
        ("n * 2 - 1 == 13", ["delta"]),
        ("n % 2 == 1 or name == 'Beta'", ["alpha", "Beta", "delta"]),
        ("not(n > 5)", ["alpha"]),
        ("isnull(n)", ["gamma-ray"]),
        ("isempty(state)", ["gamma-ray"]),
        ("isnotempty(tags.env)", ["alpha", "Beta"]),
        ("tags['env'] == 'prod'", ["alpha"]),
        ("zones[0] == '3'", ["gamma-ray"]),
        ("array_length(zones) > 0", ["alpha", "gamma-ray"]),
        ("tolower(name) == 'beta' or toupper(state) == 'RUNNING'", ["alpha", "Beta", "delta"]),
        ("(name == 'alpha' or name == 'Beta') and state == 'Stopped'", ["Beta"]),
        ("name matches regex '^[a-z]+$'", ["alpha", "delta"]),
        ("strcat(name, '/', state) == 'alpha/Running'", ["alpha"]),
        ("iff(n > 5, 'big', 'small') == 'big'", ["Beta", "delta"]),
        ('tostring(tags) == \'{"env":"dev"}\'', ["Beta"]),
        ('state == "Running" // a trailing comment', ["alpha", "delta"]),
    ],
)
def test_where_semantics(where: str, expected: list[str]) -> None:
    assert names(f"T | where {where}") == expected


def test_ordering_defaults_and_nulls() -> None:
    assert [r["n"] for r in run("T | order by n")] == [10, 7, 3, None]  # desc by default, nulls last
    assert [r["n"] for r in run("T | sort by n asc")] == [None, 3, 7, 10]  # asc: nulls first
    assert [r["n"] for r in run("T | order by n asc nulls last")] == [3, 7, 10, None]
    assert names("T | order by state asc, name desc") == ["gamma-ray", "delta", "alpha", "Beta"]
    assert names("T | top 2 by n") == ["Beta", "delta"]
    assert names("T | take 2") == ["alpha", "Beta"]


def test_project_extend_summarize_names() -> None:
    rows = run("T | project name, tags.env, upper = toupper(name), strlen(name) | take 1")
    assert rows == [{"name": "alpha", "tags_env": "prod", "upper": "ALPHA", "Column1": 5}]
    rows = run("T | extend a = strlen(name), b = a * 2 | project name, b | take 1")
    assert rows == [{"name": "alpha", "b": 10}]
    rows = run("T | extend n = n * 10 | project name, n | take 2")
    assert rows == [{"name": "alpha", "n": 30}, {"name": "Beta", "n": 100}]
    rows = run("T | summarize count(), sum(n), max(n), make_set(state) by state | order by state asc")
    assert rows == [
        {"state": "", "count_": 1, "sum_n": 0, "max_n": None, "set_state": [""]},
        {"state": "Running", "count_": 2, "sum_n": 10, "max_n": 7, "set_state": ["Running"]},
        {"state": "Stopped", "count_": 1, "sum_n": 10, "max_n": 10, "set_state": ["Stopped"]},
    ]
    assert run("T | where n > 100 | summarize c = count()") == [{"c": 0}]
    assert run("T | summarize by env = tostring(tags.env) | order by env asc") == [
        {"env": ""},
        {"env": "dev"},
        {"env": "prod"},
    ]
    assert run("T | project-rename title = name | project title | take 1") == [{"title": "alpha"}]
    assert run("T | distinct state | count") == [{"Count": 3}]


def test_comments_inside_project_and_extend_lists() -> None:
    text = "T | project name, // the name, not the id\n upper = toupper(name) // shouted\n| take 1"
    assert run(text) == [{"name": "alpha", "upper": "ALPHA"}]
    assert run("T | extend a = 1, // one\n b = a + 1 | project b | take 1") == [{"b": 2}]


def test_query_may_start_with_an_operator() -> None:
    assert kql.rewrite("where name == 'x' | project name").startswith("Resources |")
    tabs = {"Resources": table(SAMPLE, "Resources")}
    rows = kql.run("where name == 'alpha' | project name", tabs, now=NOW).rows
    assert rows == [{"name": "alpha"}]


def test_parser_failures_are_placed_in_the_original_text() -> None:
    with pytest.raises(kql.GraphQueryError) as info:
        run("T | where name == 'open")
    assert info.value.kind == "parser" and info.value.line == 1
    with pytest.raises(kql.GraphQueryError) as info:
        run("T | where (name == 'a'")
    assert info.value.token == "<EOF>"
    with pytest.raises(kql.GraphQueryError) as info:
        kql.run("where name == ", {"Resources": table(SAMPLE, "Resources")}, now=NOW)
    assert (info.value.line, info.value.pos, info.value.token) == (1, 14, "<EOF>")  # not shifted by "Resources |"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("T|wherproject=!~'\"()[],.<>- 0123456789abcinx_\n")), max_size=40))
def test_parser_fails_only_with_query_errors(text: str) -> None:
    try:
        kql.run(text, {"T": Table("T", [("name", "string")], {"name": ["a"]})}, now=NOW)
    except kql.GraphQueryError:
        pass


def test_compute_state_matches_the_estate(emulator: Emulator, query: Callable[..., Any]) -> None:
    """Whatever computes the compute area generated, Graph reports their live state."""
    computes = [r for r in indexed(emulator) if r["type"].lower().endswith("/workspaces/computes")]
    rows = rows_of(
        query(
            "Resources | where type == 'microsoft.machinelearningservices/workspaces/computes' "
            "| project id, state = tostring(properties.properties.state), computeType = properties.computeType",
            top=1000,
        )
    )
    expected = {
        c["id"]: str(((c.get("properties") or {}).get("properties") or {}).get("state") or "") for c in computes
    }
    assert {r["id"]: r["state"] for r in rows} == expected
    assert len(rows) == len(computes)


def test_older_api_version_and_raw_body(emulator: Emulator, graph: Any) -> None:
    from azure.core.rest import HttpRequest

    request = HttpRequest(
        "POST",
        "/providers/Microsoft.ResourceGraph/resources?api-version=2019-04-01",
        json={"subscriptions": emulator.subscription_ids, "query": f"Resources | where type =~ '{WS}' | count"},
    )
    resp = graph._send_request(request)
    assert resp.status_code == 200
    body = resp.json()
    assert body["data"] == {
        "columns": [{"name": "Count", "type": "integer"}],
        "rows": [[len(emulator.estate.workspaces())]],
    }
    assert body["resultTruncated"] == "false" and "$skipToken" not in body
