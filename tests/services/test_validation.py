"""Input rules: each failure names the field and the rule; nothing crashes on any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services import validation as v


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "is required"),
        ("a", "2 to 16"),
        ("1cluster", "start with a letter"),
        ("gpu_cluster", "letters, digits and hyphens"),
        ("gpu-", "end with a hyphen"),
        ("x" * 17, "2 to 16"),
    ],
)
def test_cluster_names(value: str, rule: str) -> None:
    err = v.compute_name(value)
    assert err is not None and err.field == "name" and rule in err.rule


def test_instance_names_allow_24_characters() -> None:
    assert v.compute_name("ci-" + "a" * 21, kind="instance") is None
    assert v.compute_name("ci-" + "a" * 21, kind="cluster") is not None


def test_node_range() -> None:
    assert v.node_range(0, 4) is None
    err = v.node_range(5, 2)
    assert err is not None and err.field == "min_instances" and "must not exceed max_instances" in err.rule
    assert v.node_range(-1, 2) is not None and v.node_range(0, 0) is not None


def test_vm_size_must_be_offered_in_the_region() -> None:
    err = v.vm_size_offered("Standard_ND96asr_v4", ["Standard_D4s_v3"], "westeurope")
    assert err is not None and err.field == "size" and "not offered in westeurope" in err.rule
    assert v.vm_size_offered("standard_d4s_v3", ["Standard_D4s_v3"], "westeurope") is None


def test_traffic_rules() -> None:
    assert v.traffic({"blue": 90, "green": 10}, ["blue", "green"]) is None
    err = v.traffic({"blue": 90, "green": 20}, ["blue", "green"])
    assert err is not None and err.field == "traffic" and "sum to 100 (it sums to 110)" in err.rule
    err = v.traffic({"red": 100}, ["blue"])
    assert err is not None and "'red'" in err.rule
    assert v.traffic({"blue": 101}, ["blue"]) is not None


def test_mirror_traffic_rules() -> None:
    assert v.mirror_traffic({"green": 10}, {"blue": 100}, ["blue", "green"]) is None
    assert v.mirror_traffic({"green": 60}, {"blue": 100}, ["blue", "green"]) is not None
    err = v.mirror_traffic({"blue": 10}, {"blue": 100}, ["blue", "green"])
    assert err is not None and "live traffic" in err.rule


def test_check_collects_every_failure() -> None:
    with pytest.raises(v.ValidationError) as exc:
        v.check(v.compute_name(""), v.node_range(3, 1), None)
    assert exc.value.fields == ("name", "min_instances")
    assert "name: is required" in str(exc.value)


def test_urls_and_payloads() -> None:
    assert v.https_url("https://acct.blob.core.windows.net/c") is None
    assert v.https_url("http://acct.blob.core.windows.net") is not None
    assert v.https_url("https:///nohost") is not None
    value, err = v.json_payload('{"data": [[1, 2]]}')
    assert err is None and value == {"data": [[1, 2]]}
    _, err = v.json_payload("{nope")
    assert err is not None and err.field == "payload" and "not valid JSON" in err.rule


_RULES = [
    lambda s: v.compute_name(s),
    lambda s: v.compute_name(s, kind="instance"),
    lambda s: v.endpoint_name(s),
    lambda s: v.deployment_name(s),
    lambda s: v.storage_account(s),
    lambda s: v.container_name(s),
    lambda s: v.datastore_name(s),
    lambda s: v.resource_name(s),
    lambda s: v.https_url(s),
    lambda s: v.json_payload(s)[1],
]


@given(st.text(max_size=300))
def test_no_rule_crashes_on_any_text(text: str) -> None:
    for rule in _RULES:
        result = rule(text)
        assert result is None or (result.field and result.rule)


@given(st.dictionaries(st.text(max_size=8), st.integers(-1000, 1000), max_size=6), st.lists(st.text(max_size=8)))
def test_traffic_never_crashes_and_accepts_only_sums_of_100(values: dict[str, int], deployments: list[str]) -> None:
    err = v.traffic(values, deployments)
    if err is None:
        assert sum(values.values()) in (0, 100) and all(0 <= p <= 100 for p in values.values())


@given(st.integers(-5, 50), st.integers(-5, 50))
def test_node_range_accepts_exactly_the_valid_ranges(low: int, high: int) -> None:
    assert (v.node_range(low, high) is None) == (0 <= low <= high and high >= 1)
