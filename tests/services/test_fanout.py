"""Fan-out: results arrive as each workspace answers; a slow one delays nobody; cancel stops waiting;
the SDKs' own loggers stay off the terminal."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from emulator import Emulator
from emulator.faults import FaultRule
from services import clients, compute, workspaces
from services.errors import ErrorKind
from services.fanout import collect, fan_out


def test_a_slow_workspace_does_not_delay_the_others(fresh_session: Any, fresh_emulator: Emulator) -> None:
    wss = workspaces.list_workspaces(fresh_session)
    slow = wss[0]
    for ws in wss:  # warm the per-region VM size cache so only the compute lists are timed
        compute.vm_sizes(fresh_session, ws.subscription_id, ws.location)
    fresh_emulator.faults.add(FaultRule(pattern=f"/workspaces/{slow.name}/computes$", kind="latency", latency_ms=1500))
    start = time.monotonic()
    arrivals: list[tuple[str, float]] = []
    for result in fan_out(wss, lambda ws: compute.list_computes(fresh_session, ws), concurrency=4):
        assert result.ok, result.error
        arrivals.append((result.target.name, time.monotonic() - start))
    order = [name for name, _ in arrivals]
    assert order[-1] == slow.name
    fast = [t for name, t in arrivals if name != slow.name]
    assert max(fast) < 1.0 <= arrivals[-1][1]


def test_cancel_stops_waiting(fresh_session: Any, fresh_emulator: Emulator) -> None:
    wss = workspaces.list_workspaces(fresh_session)
    fresh_emulator.faults.add(FaultRule(pattern=r"/computes$", kind="latency", latency_ms=3000))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    start = time.monotonic()
    results = list(fan_out(wss, lambda ws: compute.list_computes(fresh_session, ws), cancel=cancel))
    assert results == []
    assert time.monotonic() - start < 2.5


def test_sdk_loggers_write_nothing_to_the_terminal(emulator: Emulator, capfd: Any) -> None:
    from tests.conftest import cloud_for

    ml = clients.ml_client(cloud_for(emulator), emulator.credential(), emulator.subscription_ids[0])
    list(ml.workspaces.list(scope="subscription"))
    for name in ("azure", "azure.ai.ml", "azure.identity", "azure.core"):
        logger = logging.getLogger(name)
        assert not any(isinstance(h, logging.StreamHandler) for h in logger.handlers), name
        assert logger.getEffectiveLevel() >= logging.WARNING
    logging.getLogger("azure.ai.ml").info("this must not be printed")
    out, err = capfd.readouterr()
    assert "this must not be printed" not in out + err


def test_one_failing_workspace_does_not_hide_the_others(fresh_session: Any, fresh_emulator: Emulator) -> None:
    wss = workspaces.list_workspaces(fresh_session)
    broken = wss[1]
    fresh_emulator.faults.add(FaultRule(pattern=f"/workspaces/{broken.name}/computes", status=500))
    results = collect(wss, lambda ws: compute.list_computes(fresh_session, ws))
    assert [r.target.name for r in results] == [w.name for w in wss]
    bad = [r for r in results if not r.ok]
    assert [r.target.name for r in bad] == [broken.name]
    err = bad[0].error
    assert err is not None and err.kind in (ErrorKind.TRANSIENT,) and err.status == 500
    assert err.request_id and "internal server error" in err.message.lower()
    assert all(r.value for r in results if r.ok)
