"""Injected faults: per route pattern, per method, at a rate, for a number of times.

A rule can answer with an error status in Azure's shape (429 with Retry-After, 500, 503, 401, 403),
add latency, drop the connection, stall past the client's timeout or send malformed JSON.
Deterministic: decisions come from a generator seeded with the emulator's seed.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

from .http import ApiError, Response

_MESSAGES = {
    401: ("ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time."),
    403: (
        "AuthorizationFailed",
        "The client does not have authorization to perform action over scope or the scope is invalid.",
    ),
    429: ("TooManyRequests", "The request is being throttled. Please retry after the interval in Retry-After."),
    500: ("InternalServerError", "Encountered internal server error. Diagnostic information: timestamp injected."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Please retry."),
}


@dataclass
class FaultRule:
    pattern: str = ".*"  # regex searched in the request path, case-insensitive
    kind: str = "status"  # status | latency | reset | timeout | malformed
    status: int = 500
    rate: float = 1.0
    method: str | None = None
    latency_ms: int = 0
    retry_after: int | None = None
    times: int | None = None  # None: forever
    code: str = ""
    message: str = ""
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in ("status", "latency", "reset", "timeout", "malformed"):
            raise ValueError(f"fault kind must be status, latency, reset, timeout or malformed, not {self.kind!r}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        self._regex = re.compile(self.pattern, re.IGNORECASE)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and bool(self._regex.search(path))


class Drop(Exception):
    """Close the connection without an answer (reset) — raised to the HTTP layer."""


@dataclass
class Decision:
    response: Response | None = None
    delay_s: float = 0.0
    drop: bool = False
    malformed: bool = False


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()
        self.injected = 0

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def decide(self, method: str, path: str) -> Decision:
        decision = Decision()
        with self._lock:
            for rule in self.rules:
                if not rule.matches(method, path) or (rule.times is not None and rule.times <= 0):
                    continue
                if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                self.injected += 1
                if rule.kind == "latency":
                    decision.delay_s += rule.latency_ms / 1000.0
                    continue
                if rule.kind == "reset":
                    decision.drop = True
                elif rule.kind == "timeout":
                    decision.delay_s += max(rule.latency_ms / 1000.0, 60.0)
                    decision.drop = True
                elif rule.kind == "malformed":
                    decision.malformed = True
                else:
                    code, message = _MESSAGES.get(rule.status, ("InternalServerError", "Injected failure."))
                    headers = {}
                    if rule.retry_after is not None or rule.status == 429:
                        headers["Retry-After"] = str(rule.retry_after if rule.retry_after is not None else 1)
                    decision.response = ApiError(
                        rule.status, rule.code or code, rule.message or message, headers=headers
                    ).to_response()
                return decision
        return decision
