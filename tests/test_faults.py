"""Fault injection (the option syntax, every kind on the wire) and how the services behave under it:
bounded, visible retries that honour Retry-After; an expired token renewed once; errors with Azure's
request id; a mutation whose answer is lost read back, never sent twice."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.cli import build_parser
from console.demo import DemoBackend
from console.exitcodes import ExitCode
from emulator import Emulator, EmulatorConfig
from emulator.faults import DISCOVERY_EXEMPT, FaultRule, Faults, parse_faults
from services import compute, jobs, workspaces
from services.errors import ErrorKind, classify, describe
from services.models import Workspace
from services.mutations import ResponseLost, Target
from services.rest import RestClient, RetryEvent
from services.session import Session
from tests.conftest import cloud_for

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parent.parent
REQUEST_ID = re.compile(r"[0-9a-f-]{36}")


# -- the option text ---------------------------------------------------------------------------


def test_every_kind_parses() -> None:
    rules = parse_faults(
        "computes:429:retry-after=3; x:y:503:0.5; /jobs:latency=12s; /a:latency=800ms; /stop$:reset-after:times=1;"
        " reset; b:timeout; c:malformed; onlineEndpoints:lro-fail:method=PUT; ^/subscriptions$:401; d:403"
    )
    got = [(r.pattern, r.kind, r.status, r.rate, r.latency_ms, r.retry_after, r.times, r.method) for r in rules]
    assert got == [
        ("computes", "status", 429, 1.0, 0, 3, None, None),
        ("x:y", "status", 503, 0.5, 0, None, None, None),
        ("/jobs", "latency", 500, 1.0, 12_000, None, None, None),
        ("/a", "latency", 500, 1.0, 800, None, None, None),
        ("/stop$", "reset-after", 500, 1.0, 0, None, 1, None),
        (".*", "reset", 500, 1.0, 0, None, None, None),
        ("b", "timeout", 500, 1.0, 0, None, None, None),
        ("c", "malformed", 500, 1.0, 0, None, None, None),
        ("onlineEndpoints", "lro-fail", 500, 1.0, 0, None, None, "PUT"),
        ("^/subscriptions$", "status", 401, 1.0, 0, None, None, None),
        ("d", "status", 403, 1.0, 0, None, None, None),
    ]
    (overall,) = parse_faults("rate=0.3")
    assert (overall.kind, overall.rate, overall.pattern) == ("mix", 0.3, DISCOVERY_EXEMPT)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("nothing", "'nothing' is not a fault kind"),
        ("p:200", "the status 200 must be within 400..599"),
        ("(:500", "the pattern '(' is not a regular expression"),
        ("p:500:2", "the rate '2' must be within 0..1"),
        ("rate=1.5", "the rate '1.5' must be within 0..1"),
        ("rate=abc", "the rate 'abc' is not a number"),
        ("p:latency=soon", "latency 'soon' is not a duration"),
        ("p:latency=700s", "must be at most 600s"),
        ("p:latency", "latency needs a duration"),
        ("p:429:retry-after=x", "retry-after='x'"),
        ("p:reset:retry-after=2", "retry-after applies to a status"),
        ("p:429:times=0", "times='0'"),
        ("p:429:method=FETCH", "method='FETCH'"),
        ("p:429:times=1:times=2", "the option times is given twice"),
        (" ; ", "no fault given"),
    ],
)
def test_bad_entries_are_named(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)):
        parse_faults(text)
    with pytest.raises(ValueError, match="emulator option faults"):
        EmulatorConfig.from_options({"faults": text})


def test_serve_flag_is_checked_at_parse_time(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    args = parser.parse_args(["emulator", "serve", "--faults", "computes:429", "--faults", "rate=0.2"])
    assert args.faults == ["computes:429", "rate=0.2"]
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["emulator", "serve", "--faults", "computes:latency=abc"])
    assert exc.value.code == 2
    assert "fault 'computes:latency=abc': latency 'abc' is not a duration" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["emulator", "serve", "--help"])
    out = capsys.readouterr().out
    assert "reset-after" in out and "rate=R" in out and "lro-fail" in out


def test_rules_from_the_config_are_copied_per_emulator() -> None:
    config = EmulatorConfig(faults=parse_faults("/x:reset:times=1"))
    first, second = Emulator(config), Emulator(config)
    first.faults.decide("GET", "/x")
    assert first.faults.rules[0].times == 0 and second.faults.rules[0].times == 1 == config.faults[0].times


def test_decisions_do_not_depend_on_the_order_of_requests() -> None:
    paths = [f"/subscriptions/s/workspaces/w{i}/computes" for i in range(40)]

    def run(order: list[str]) -> dict[str, str]:
        faults = Faults(seed=7)
        faults.add(parse_faults("rate=0.5")[0])
        out = {}
        for p in order:
            d = faults.decide("GET", p)
            out[p] = str(d.response.status if d.response else ("malformed" if d.malformed else d.delay_s))
        return out

    assert run(paths) == run(list(reversed(paths)))
    assert run(["/subscriptions"] * 5) == {"/subscriptions": "0.0"}  # discovery is spared by rate=


# -- on the wire: the REST client under each kind ------------------------------------------------


class CountingCredential:
    def __init__(self, emu: Emulator) -> None:
        self.inner = emu.credential()
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner.get_token(*scopes, **kwargs)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = Emulator(EmulatorConfig(seed=7, frozen=True)).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture()
def faults(emu: Emulator) -> Iterator[Faults]:
    emu.faults.clear()
    yield emu.faults
    emu.faults.clear()


def _client(emu: Emulator, **kwargs: Any) -> tuple[RestClient, list[RetryEvent], CountingCredential]:
    events: list[RetryEvent] = []
    cred = CountingCredential(emu)
    kwargs.setdefault("backoff_s", 0.05)
    client = RestClient(cloud_for(emu), cred, observer=events.append, **kwargs)  # type: ignore[arg-type]
    return client, events, cred


def _calls(emu: Emulator, path: str) -> list[int]:
    return [status for _, p, status in emu.request_log if p == path]


SUBS = "/subscriptions"


def _sub_path(emu: Emulator) -> str:
    return f"/subscriptions/{emu.subscription_ids[0]}/resourcegroups"


def test_429_retries_honour_retry_after_and_are_reported(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(parse_faults(f"{path}$:429:retry-after=1:times=2")[0])
    client, events, _ = _client(emu)
    started = time.monotonic()
    body = client.get(path, "2022-09-01")
    assert body["value"]
    assert time.monotonic() - started >= 2.0  # two waits of Retry-After: 1
    assert [(e.reason, e.delay_s, e.attempt, e.total, e.status) for e in events] == [
        ("throttled", 1.0, 1, 3, 429),
        ("throttled", 1.0, 2, 3, 429),
    ]
    assert events[0].describe() == "throttled, retrying in 1s (attempt 1/3)"
    assert events[0].path == path and "?" not in events[0].path


def test_retries_are_bounded_and_the_error_carries_the_request_id(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(FaultRule(pattern=f"{path}$", status=500))
    client, events, _ = _client(emu)
    before = len(_calls(emu, path))
    with pytest.raises(Exception) as exc:
        client.get(path, "2022-09-01")
    assert len(_calls(emu, path)) - before == 4  # one try and three retries, no more
    assert [e.attempt for e in events] == [1, 2, 3]
    err = classify(exc.value)
    assert err.kind is ErrorKind.TRANSIENT and err.code == "InternalServerError" and err.status == 500
    assert REQUEST_ID.fullmatch(err.request_id)


def test_a_long_retry_after_is_not_waited_out(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(parse_faults(f"{path}$:429:retry-after=600")[0])
    client, events, _ = _client(emu)
    started = time.monotonic()
    with pytest.raises(Exception) as exc:
        client.get(path, "2022-09-01")
    assert time.monotonic() - started < 5 and not events
    assert classify(exc.value).kind is ErrorKind.THROTTLED


def test_an_expired_token_is_renewed_once(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(parse_faults(f"{path}$:401:times=1")[0])
    client, _, cred = _client(emu)
    assert client.get(path, "2022-09-01")["value"]
    assert cred.calls == 2  # the first token, then a fresh one after the 401 challenge
    assert _calls(emu, path)[-2:] == [401, 200]


def test_a_token_refused_again_asks_to_sign_in(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(FaultRule(pattern=f"{path}$", status=401))
    client, _, cred = _client(emu)
    before = len(_calls(emu, path))
    with pytest.raises(Exception) as exc:
        client.get(path, "2022-09-01")
    assert len(_calls(emu, path)) - before == 2 and cred.calls == 2  # renewed once, never looping
    text = describe(exc.value)
    assert text.startswith("auth: ") and "ExpiredAuthenticationToken" in text and "sign in again" in text
    assert REQUEST_ID.search(text)


def test_forbidden_is_not_retried(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(FaultRule(pattern=f"{path}$", status=403))
    client, events, _ = _client(emu)
    with pytest.raises(Exception) as exc:
        client.get(path, "2022-09-01")
    assert not events
    assert classify(exc.value).kind is ErrorKind.FORBIDDEN and classify(exc.value).code == "AuthorizationFailed"


def test_malformed_json_is_an_error_with_a_request_id(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(parse_faults(f"{path}$:malformed")[0])
    client, _, _ = _client(emu)
    with pytest.raises(Exception) as exc:
        client.get(path, "2022-09-01")
    err = classify(exc.value)
    assert err.kind is ErrorKind.TRANSIENT and "JSON" in err.message and REQUEST_ID.fullmatch(err.request_id)


def test_a_reset_read_is_retried_visibly(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(parse_faults(f"{path}$:reset:times=2")[0])
    client, events, _ = _client(emu)
    assert client.get(path, "2022-09-01")["value"]
    assert [e.reason for e in events] == ["connection dropped", "connection dropped"]


def test_a_timeout_is_bounded_by_the_session_setting(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(parse_faults(f"{path}$:timeout")[0])
    client, events, _ = _client(emu, timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(Exception) as exc:
        client.get(path, "2022-09-01")
    assert time.monotonic() - started < 6
    err = classify(exc.value)
    assert err.kind is ErrorKind.UNREACHABLE and "in time" in err.message
    assert events and all(e.reason == "no answer (timed out)" for e in events)


def test_latency_delays_but_answers(emu: Emulator, faults: Faults) -> None:
    path = _sub_path(emu)
    faults.add(parse_faults(f"{path}$:latency=1.5s")[0])
    client, events, _ = _client(emu)
    started = time.monotonic()
    assert client.get(path, "2022-09-01")["value"]
    assert time.monotonic() - started >= 1.5 and not events


# -- mutations: lost answers are read back, never re-sent -----------------------------------------


@pytest.fixture()
def demo() -> Iterator[tuple[Session, Emulator, Workspace]]:
    backend = DemoBackend({"frozen": "true"})
    try:
        session = backend.connect()
        session.retry_backoff_s = 0.05
        assert backend.emulator is not None
        ws = next(w for w in workspaces.list_workspaces(session) if w.name == "mlw-prod-eus")
        yield session, backend.emulator, ws
    finally:
        backend.stop()


def _running_instance(session: Session, ws: Workspace) -> Target:
    inst = next(c for c in compute.list_computes(session, ws) if c.kind == "instance" and c.state == "Running")
    return Target(ws.subscription_id, ws.resource_group, ws.name, inst.name)


def _posts(emu: Emulator, suffix: str) -> list[int]:
    return [status for method, p, status in emu.request_log if method == "POST" and p.endswith(suffix)]


def test_a_stop_whose_answer_is_lost_is_read_back_not_resent(demo: tuple[Session, Emulator, Workspace]) -> None:
    session, emu, ws = demo
    target = _running_instance(session, ws)
    emu.faults.add(parse_faults(f"/computes/{target.name}/stop$:reset-after:times=1")[0])
    with pytest.raises(ResponseLost) as exc:
        compute.stop_instance(session, target)
    assert exc.value.applied is True
    assert f"Azure accepted it: {target.name} is Stopping" in str(exc.value)
    assert _posts(emu, f"/computes/{target.name}/stop") == [0]  # sent once; the dropped answer is status 0
    outcomes = [(r.operation, r.outcome) for r in session.guard.records]
    assert outcomes == [("compute.stop", "attempted"), ("compute.stop", "succeeded")]
    assert "answer was lost" in session.guard.records[-1].message


def test_a_stop_dropped_before_it_was_applied_says_so(demo: tuple[Session, Emulator, Workspace]) -> None:
    session, emu, ws = demo
    target = _running_instance(session, ws)
    emu.faults.add(parse_faults(f"/computes/{target.name}/stop$:reset:times=1")[0])
    with pytest.raises(ResponseLost) as exc:
        compute.stop_instance(session, target)
    assert exc.value.applied is False
    assert f"did not apply it: {target.name} is Running. Nothing was re-sent" in str(exc.value)
    assert _posts(emu, f"/computes/{target.name}/stop") == [0]
    assert session.guard.records[-1].outcome == "failed"


def test_a_cancel_whose_answer_is_lost_is_read_back(demo: tuple[Session, Emulator, Workspace]) -> None:
    session, emu, ws = demo
    pager = jobs.list_jobs(session, ws, jobs.JobFilter(), page_size=50)
    job = next(j for j in pager.next_page() if j.status in ("Running", "Queued") and j.type == "command")
    target = Target(ws.subscription_id, ws.resource_group, ws.name, job.name)
    emu.faults.add(FaultRule(pattern=r"cancel", kind="reset-after", method="POST", times=1))
    with pytest.raises(ResponseLost) as exc:
        jobs.cancel_job(session, target, status=job.status)
    assert exc.value.applied is True
    assert "CancelRequested" in str(exc.value) or "Canceled" in str(exc.value)
    assert len([1 for m, p, _ in emu.request_log if m == "POST" and "cancel" in p.lower()]) == 1


def test_an_lro_that_fails_midway_reports_the_failure(demo: tuple[Session, Emulator, Workspace]) -> None:
    session, emu, ws = demo
    target = _running_instance(session, ws)
    emu.faults.add(parse_faults(f"/computes/{target.name}/stop$:lro-fail:times=1")[0])
    with pytest.raises(Exception) as exc:
        compute.stop_instance(session, target)
    assert not isinstance(exc.value, ResponseLost)
    text = describe(exc.value)
    assert "failed midway" in text, text
    # As Azure leaves it: not stuck in Stopping, but as it was, its last operation marked Failed.
    body = session.rest().get(
        f"/subscriptions/{ws.subscription_id}/resourceGroups/{ws.resource_group}/providers/"
        f"Microsoft.MachineLearningServices/workspaces/{ws.name}/computes/{target.name}",
        api_version="2024-10-01",
    )
    assert body["properties"]["properties"]["state"] == "Running"
    assert body["properties"]["properties"]["lastOperation"]["operationStatus"] == "Failed"
    assert session.guard.records[-1].outcome == "failed"
    compute.stop_instance(session, target)  # and it can be stopped again
    assert compute.get_compute(session, ws, target.name).state == "Stopped"


def test_an_update_that_fails_midway_leaves_provisioning_failed(demo: tuple[Session, Emulator, Workspace]) -> None:
    session, emu, ws = demo
    cluster = next(c for c in compute.list_computes(session, ws) if c.kind == "cluster")
    target = Target(ws.subscription_id, ws.resource_group, ws.name, cluster.name)
    emu.faults.add(parse_faults(f"/computes/{cluster.name}$:lro-fail:method=PATCH:times=1")[0])
    emu.faults.add(parse_faults(f"/computes/{cluster.name}$:lro-fail:method=PUT:times=1")[0])
    with pytest.raises(Exception) as exc:
        compute.update_scale(session, target, min_instances=0, max_instances=3, idle_seconds=300)
    assert "failed midway" in describe(exc.value)
    assert compute.get_compute(session, ws, cluster.name).provisioning_state == "Failed"


# -- the overall rate, headless (Must show) ------------------------------------------------------


def test_snapshot_under_rate_faults_is_partial_with_request_ids() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "snapshot", "--demo", "--demo-option", "faults=rate=0.3", "-f", "json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=100,
        cwd=ROOT,
    )
    assert proc.returncode == ExitCode.PARTIAL, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["errors"] and doc["workspaces"]
    for err in doc["errors"]:
        assert err["request_id"] and REQUEST_ID.fullmatch(err["request_id"]), err
        assert f"(request id {err['request_id']})" in proc.stderr
    assert doc["summary"]["errors"] == len(doc["errors"])


def test_every_mutation_can_be_read_back_after_a_lost_answer() -> None:
    from services.mutations import registry

    missing = [name for name, op in registry().items() if op.reconcile is None and name != "deployments.invoke"]
    assert missing == []  # invoke changes no resource: its lost answer is reported as unknown, never re-sent


def test_azure_core_never_resends_a_post_after_a_dropped_connection() -> None:
    """The premise of the reconciliation: POST/PATCH are outside azure-core's retry allowlist for transport
    errors, so a lost answer reaches the choke point instead of a second request."""
    from services.rest import retry_policy

    policy = retry_policy()
    settings = policy.configure_retries({})
    assert "POST" not in settings["methods"] and "PATCH" not in settings["methods"]
    assert {"GET", "PUT", "DELETE"} <= set(settings["methods"])  # idempotent: a retry cannot double them
