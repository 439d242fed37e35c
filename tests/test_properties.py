"""Bad input everywhere, property-based: the parsers and validators not covered elsewhere never crash (they
accept or refuse with their own error), and a refused mutation sends nothing."""

from __future__ import annotations

import argparse
import asyncio
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from console.cli import build_parser, key_value
from console.commands import COMMANDS, CommandError, Parsed, parse
from emulator.config import EmulatorConfig
from emulator.faults import KINDS, Faults, parse_faults
from services import compute, datastores, deployments, jobs
from services import validation as v
from services.mutations import Guard, Target
from services.secrets import MemorySecrets
from tests.screens.test_table import TableApp
from tests.screens.test_table import jobs as table_rows

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like what the parsers expect, mixed with anything at all.
_PIECES = st.sampled_from(
    [":", ";", "=", "rate", "0.3", "1.5", "429", "500", "401", "latency", "latency=", "1.5s", "800ms", "reset",
     "reset-after", "timeout", "malformed", "lro-fail", "retry-after=", "times=", "method=", "GET", "(", "[", "\\",
     "/computes", "^", "$", "nan", "inf", "-1", "1e9", "a{99999999999}", " ", "\x00", "é"]
)  # fmt: skip
MIXED = st.one_of(st.text(max_size=80), st.lists(_PIECES, max_size=12).map("".join))


# -- the faults option -----------------------------------------------------------------------------


@FAST
@given(MIXED)
@example("¹")  # a digit to str.isdigit, not to int()
@example("status:0.5:retry-after=²")
def test_the_faults_parser_accepts_or_names_the_entry(text: str) -> None:
    try:
        rules = parse_faults(text)
    except ValueError as e:
        assert str(e).startswith(("fault ", "no fault given"))
        return
    assert rules
    for rule in rules:
        assert rule.kind in KINDS and 0.0 <= rule.rate <= 1.0
        Faults(seed=1).decide("GET", "/subscriptions/x/computes")  # a parsed rule is usable


@FAST
@given(st.dictionaries(st.sampled_from(["seed", "scale", "latency_ms", "port", "frozen", "lro_seconds", "faults",
                                        "Latency-MS", "other"]), MIXED, max_size=4))  # fmt: skip
def test_demo_options_accept_or_refuse_by_name(options: dict[str, str]) -> None:
    try:
        cfg = EmulatorConfig.from_options(options)
    except ValueError as e:
        assert str(e).startswith("emulator option ")
        return
    assert cfg.scale in ("small", "large") and 0 <= cfg.port <= 65535 and 0 <= cfg.latency_ms


@FAST
@given(MIXED)
def test_the_demo_option_flag_parses_key_value_or_says_why(text: str) -> None:
    try:
        key, _ = key_value(text)
    except argparse.ArgumentTypeError as e:
        assert "KEY=VALUE" in str(e)
        return
    assert key and key == key.strip() and "=" in text


@settings(max_examples=40, deadline=None)
@given(MIXED)
def test_the_command_line_never_crashes_on_a_demo_option(text: str) -> None:
    parser = build_parser()
    try:
        args = parser.parse_args(["snapshot", "--demo", "--demo-option", text])
    except SystemExit as e:  # argparse's usage error
        assert e.code == 2
        return
    try:
        EmulatorConfig.from_options(dict(args.demo_option))
    except ValueError:
        pass


# -- `:` commands and the table filter --------------------------------------------------------------


@FAST
@given(st.one_of(st.text(max_size=40), st.sampled_from([c.name for c in COMMANDS]).map(lambda n: f":{n} x")))
def test_command_parsing_accepts_or_explains(text: str) -> None:
    try:
        parsed = parse(text)
    except CommandError as e:
        assert str(e)
        return
    assert isinstance(parsed, Parsed) and parsed.command in COMMANDS


def test_the_table_filter_never_crashes() -> None:
    """Any filter text: rows filtered or the previous rows kept with filter_error set; the table answers."""
    filters = st.lists(
        st.one_of(
            st.text(max_size=20),
            st.text(max_size=20).map(lambda t: "re:" + t),
            st.text(max_size=20).map(lambda t: "!/" + t),
            st.sampled_from(
                ["re:a{99999999999}", "/(", "re:(?P<", "!", "re:", "\\!x", "/", "re:\\", "re:{4300000000}"]
            ),
        ),
        min_size=30,
        max_size=30,
    )

    # each example runs an app: few of them, and no shrinking (a failure prints its 30 filters as they are)
    @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(filters)
    def run(texts: list[str]) -> None:
        async def scenario() -> None:
            app = TableApp()
            async with app.run_test(size=(80, 24)) as pilot:
                table = app.table
                table.set_rows(table_rows(40))
                await pilot.pause()
                for text in texts:
                    ok = table.set_filter(text)
                    assert ok == (table.filter_error is None)
                    assert 0 <= table.visible_count <= table.row_count == 40
                    await pilot.pause()
                table.set_filter("")
                assert table.visible_count == 40

        asyncio.run(scenario())

    run()


# -- datastore URLs, payloads ------------------------------------------------------------------------


@FAST
@given(st.one_of(st.text(max_size=120), st.from_regex(r"\Ahttps?://[a-z0-9.:\[\]@%-]{0,30}(/[^\s]{0,30})?\Z")))
def test_url_rule_accepts_only_https_with_a_host(text: str) -> None:
    error = v.https_url(text)
    if error is None:
        assert text.lower().startswith("https://")
    else:
        assert error.field == "url" and error.rule


@FAST
@given(st.one_of(st.text(max_size=200), st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=5),
       lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3)).map(repr)))  # fmt: skip
def test_json_payload_parses_or_explains(text: str) -> None:
    value, error = v.json_payload(text)
    if error is not None:
        assert error.field == "payload" and error.rule and value is None
    else:
        import json

        assert json.loads(text) == value or value != value  # NaN is not equal to itself


# -- refused mutations send nothing ------------------------------------------------------------------


class Sent(Exception):
    """The mutation reached the point of sending: the input was accepted."""


class NoNetworkSession:
    """A session whose every client raises Sent: a ValidationError must come before any of them."""

    def __init__(self) -> None:
        from services.cloud import custom_cloud

        self.guard = Guard(profile="props")
        self.cloud = custom_cloud("props", "https://127.0.0.1:9")
        self.sent = 0

    def _send(self, *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        raise Sent()

    rest = ml_client = subscription_client = graph_client = _send


TARGET = Target("00000000-0000-0000-0000-000000000000", "rg", "ws", "thing", "endpoint")
NAMES = st.one_of(st.text(max_size=30), st.from_regex(r"\A[a-z][a-z0-9-]{1,20}\Z"))


@FAST
@given(
    NAMES,
    st.integers(-3, 30),
    st.integers(-3, 30),
    st.integers(-10, 10**6),
    st.sampled_from(["dedicated", "low_priority", "spot", ""]),
)
def test_a_refused_cluster_sends_nothing(name: str, low: int, high: int, idle: int, tier: str) -> None:
    session = NoNetworkSession()
    try:
        compute.create_cluster(
            session,  # type: ignore[arg-type]
            TARGET,
            name=name,
            size="Standard_DS3_v2",
            min_instances=low,
            max_instances=high,
            idle_seconds=idle,
            tier=tier,
            location="eastus",
            offered_sizes=("Standard_DS3_v2",),
        )
    except v.ValidationError as e:
        assert session.sent == 0 and e.errors
        assert session.guard.records[-1].outcome == "invalid"
    except Sent:
        assert v.compute_name(name) is None and 0 <= low <= high
    else:
        pytest.fail("the stub never returns")


@FAST
@given(NAMES, NAMES, NAMES, st.sampled_from(["account_key", "sas", "identity", "nonsense", ""]))
def test_a_refused_datastore_sends_nothing(name: str, account: str, container: str, auth: str) -> None:
    session = NoNetworkSession()
    secrets = MemorySecrets({"kv/x": "c2VjcmV0"})
    try:
        datastores.register_blob(
            session,  # type: ignore[arg-type]
            TARGET,
            name=name,
            account_name=account,
            container_name=container,
            auth=auth,
            credential_ref="kv/x" if auth in ("account_key", "sas") else "",
            secrets=secrets,
        )
    except v.ValidationError as e:
        assert session.sent == 0 and e.errors
        assert "c2VjcmV0" not in str(e) and "c2VjcmV0" not in repr(session.guard.records)
    except Sent:
        assert v.datastore_name(name) is None and v.storage_account(account) is None
    else:
        pytest.fail("the stub never returns")


@FAST
@given(st.dictionaries(st.text(max_size=6), st.integers(-50, 150), max_size=4), st.lists(st.text(max_size=6)))
def test_refused_traffic_sends_nothing(traffic: dict[str, int], names: list[str]) -> None:
    session = NoNetworkSession()
    try:
        deployments.update_traffic(session, TARGET, traffic=traffic, deployments=tuple(names))  # type: ignore[arg-type]
    except v.ValidationError:
        assert session.sent == 0
    except Sent:
        assert sum(traffic.values()) in (0, 100)


@FAST
@given(st.one_of(st.text(max_size=60), st.binary(max_size=40)), NAMES)
def test_a_refused_invoke_sends_nothing(payload: Any, deployment: str) -> None:
    session = NoNetworkSession()
    try:
        deployments.invoke(
            session,  # type: ignore[arg-type]
            TARGET,
            payload=payload,
            deployment_name=deployment,
            deployments=("blue", "green"),
        )
    except v.ValidationError:
        assert session.sent == 0
    except Sent:
        assert deployment.lower() in ("", "blue", "green")


@FAST
@given(NAMES, st.sampled_from(["Running", "Completed", "Failed", "Canceled", "", "Queued"]))
def test_a_refused_cancel_or_resubmit_sends_nothing(name: str, status: str) -> None:
    session = NoNetworkSession()
    try:
        jobs.cancel_job(session, TARGET, status=status)  # type: ignore[arg-type]
    except v.ValidationError:
        assert session.sent == 0 and status in ("", "Completed", "Failed", "Canceled")
    except Sent:
        assert status in ("Running", "Queued")
    session = NoNetworkSession()
    try:
        jobs.resubmit_job(session, TARGET, new_name=name)  # type: ignore[arg-type]
    except v.ValidationError:
        assert session.sent == 0
    except Sent:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name)
