"""Long-running operations, as ARM and Azure ML report them.

A mutation that Azure runs asynchronously answers 202/201 with ``Azure-AsyncOperation`` (a status
resource: InProgress → Succeeded/Failed) and ``Location`` (202 until done, then the result), with a
short ``Retry-After`` so the SDK polls in about a second rather than its 30-second default.
Operations settle on wall time, so they finish even while the simulation clock is frozen, and when the
simulation clock is moved forward past them (``clock.advance``): a test settles them without waiting.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import SimClock
from .http import ApiError, Request, Response


@dataclass
class Operation:
    id: str
    name: str  # e.g. "Compute.Stop"
    subscription: str
    location: str
    due: float  # when it settles, on the operations' timeline (wall time plus the clock's advances)
    apply: Callable[[], Any] | None  # the effect; may return the final resource body
    result: Any = None
    status: str = "InProgress"
    error: dict[str, Any] | None = None
    fail_with: dict[str, Any] | None = None
    on_fail: Callable[[], Any] | None = None  # settles the resource when the operation fails (see lro-fail)
    start_time: float = field(default_factory=time.time)
    end_time: float | None = None


class Operations:
    def __init__(self, *, duration_s: float = 1.0, retry_after: str = "1", clock: SimClock | None = None) -> None:
        self.clock = clock
        self.duration_s = duration_s
        self.retry_after = retry_after
        self._ops: dict[str, Operation] = {}
        self._lock = threading.RLock()

    def start(
        self,
        name: str,
        subscription: str,
        location: str,
        apply: Callable[[], Any] | None,
        *,
        duration_s: float | None = None,
        fail_with: dict[str, Any] | None = None,
        op_id: str | None = None,
    ) -> Operation:
        op = Operation(
            id=op_id or str(uuid.uuid4()),
            name=name,
            subscription=subscription,
            location=location,
            due=self.now() + (self.duration_s if duration_s is None else duration_s),
            apply=apply,
            fail_with=fail_with,
        )
        with self._lock:
            self._ops[op.id] = op
        return op

    def now(self) -> float:
        """The operations' timeline: wall time, plus every second the simulation clock was moved forward."""
        return time.monotonic() + (self.clock.advanced() if self.clock is not None else 0.0)

    def settle(self) -> None:
        """Apply every operation that is due (called before each request is served)."""
        now = self.now()
        with self._lock:
            due = [op for op in self._ops.values() if op.status == "InProgress" and op.due <= now]
            for op in due:
                self._finish(op)

    def _finish(self, op: Operation) -> None:
        op.end_time = time.time()
        if op.fail_with is not None:
            op.status = "Failed"
            op.error = op.fail_with
            if op.on_fail is not None:
                op.on_fail()
            return
        try:
            op.result = op.apply() if op.apply else None
            op.status = "Succeeded"
        except ApiError as e:
            op.status = "Failed"
            op.error = {"code": e.code, "message": e.message}

    def get(self, op_id: str) -> Operation:
        with self._lock:
            op = self._ops.get(op_id)
        if op is None:
            raise ApiError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
        return op

    # -- URLs and responses -------------------------------------------------------------

    def status_url(self, req: Request, op: Operation) -> str:
        return req.url(
            f"/subscriptions/{op.subscription}/providers/Microsoft.MachineLearningServices/"
            f"locations/{op.location}/mfeOperationsStatus/{op.id}",
            **{"api-version": req.q("api-version") or "2024-10-01"},
        )

    def result_url(self, req: Request, op: Operation) -> str:
        return req.url(
            f"/subscriptions/{op.subscription}/providers/Microsoft.MachineLearningServices/"
            f"locations/{op.location}/mfeOperationResults/{op.id}",
            **{"api-version": req.q("api-version") or "2024-10-01"},
        )

    def accepted(self, req: Request, op: Operation, status: int = 202, body: Any = None) -> Response:
        return Response(
            status,
            body,
            {
                "Azure-AsyncOperation": self.status_url(req, op),
                "Location": self.result_url(req, op),
                "Retry-After": self.retry_after,
            },
        )

    def status_body(self, op: Operation) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": op.id,
            "name": op.id,
            "status": op.status,
            "startTime": _iso(op.start_time),
        }
        if op.end_time is not None:
            body["endTime"] = _iso(op.end_time)
        if op.error is not None:
            body["error"] = op.error
        return body


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def register(router: Any, ops: Operations) -> None:
    prefix = "/subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{loc}"

    def status(req: Request, sub: str, loc: str, op_id: str) -> Response:
        op = ops.get(op_id)
        headers = {"Retry-After": ops.retry_after} if op.status == "InProgress" else {}
        return Response(200, ops.status_body(op), headers)

    def result(req: Request, sub: str, loc: str, op_id: str) -> Response:
        op = ops.get(op_id)
        if op.status == "InProgress":
            return Response(202, None, {"Location": ops.result_url(req, op), "Retry-After": ops.retry_after})
        if op.status == "Failed":
            err = op.error or {"code": "InternalServerError", "message": "The operation failed."}
            return Response(400 if err.get("code") != "InternalServerError" else 500, {"error": err})
        if op.result is None:
            return Response(204, None)
        return Response(200, op.result)

    for kind in ("mfeOperationsStatus", "computeOperationsStatus", "operationsStatus"):
        router.add("GET", prefix + f"/{kind}/{{op_id}}", status)
    for kind in ("mfeOperationResults", "computeOperationResults", "operationResults"):
        router.add("GET", prefix + f"/{kind}/{{op_id}}", result)
