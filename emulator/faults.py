"""Injected faults: per route pattern, per method, at a rate, for a number of times.

A rule can answer with an error status in Azure's shape (429 with Retry-After, 500, 503, 401 with an
expired-token challenge, 403), add latency, drop the connection before or after the request is applied,
stall past the client's timeout, send malformed JSON, or let a long-running operation fail midway.
Deterministic: each decision comes from a generator seeded with the emulator's seed, the rule, the request's
method and path and how many times that path was asked before — so concurrent requests (fan-out) meet the
same faults in every run, whatever order the threads run in.

The option text (``--demo-option faults=...`` and ``azml emulator serve --faults ...``) is parsed by
``parse_faults``; see FAULTS_HELP for the syntax.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `--demo-option faults=...` is checked before the first frame: the HTTP layer loads later
    from .http import Response

FAULTS_HELP = """\
FAULTS is one or more entries separated by ';':
  rate=R                      faults on R (0..1) of all requests except discovery (subscriptions,
                              Resource Graph), each a random kind: 429, 500, 503, 401, 403, malformed
                              JSON or 1-3 s of latency
  [PATTERN:]KIND[:RATE][:OPTION=VALUE...]
PATTERN  a regular expression searched in the request path (case-insensitive; may hold ':');
         omitted: every route
KIND     an HTTP status 400..599 in Azure's error shape: 429 (with Retry-After), 500, 503,
           401 (expired token, with a Bearer challenge), 403 (RBAC: AuthorizationFailed), ...
         latency=DURATION   added latency, e.g. 800ms, 1.5s, 12s (up to 600s)
         reset              the connection drops before the request is applied
         reset-after        the request is applied, then the connection drops (a lost response)
         timeout            no answer: the connection stalls past the client's timeout
         malformed          a success answer whose JSON body is cut short
         lro-fail           long-running operations are accepted, then fail midway, unapplied: an
                              action leaves the resource as it was (last operation Failed), a create
                              or update leaves provisioningState Failed
RATE     the share of matching requests that get the fault, 0..1 (default 1)
OPTION   retry-after=SECONDS (429/503), times=N (the first N matches only), method=GET|PUT|POST|...
Examples: 'rate=0.3'   'computes:429:retry-after=3'   'mlw-prod-weu/computes:500:0.5;/jobs:latency=12s'
          '/stop$:reset-after:times=1'   'onlineEndpoints:lro-fail'   '^/subscriptions$:401:times=1'"""

KINDS = ("status", "latency", "reset", "reset-after", "timeout", "malformed", "lro-fail", "mix")
_WORD_KINDS = ("reset", "reset-after", "timeout", "malformed", "lro-fail")
_OPTIONS = ("retry-after", "times", "method")
_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD")
MAX_LATENCY_MS = 600_000

# What `rate=R` leaves alone: the estate's discovery (the list of subscriptions, Resource Graph), so the
# console and snapshot still find the workspaces and show partial failure rather than nothing.
DISCOVERY_EXEMPT = r"^(?!/subscriptions/?$|/providers/microsoft\.resourcegraph/|/tenants)"
_MIX = (429, 500, 503, 401, 403, "malformed", "latency")

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
LRO_FAILURE = {
    "code": "InternalServerError",
    "message": "The operation failed midway (injected fault); the resource was not changed, or its update failed.",
}


@dataclass
class FaultRule:
    pattern: str = ".*"  # regex searched in the request path, case-insensitive
    kind: str = "status"  # one of KINDS
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
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
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
    drop_after: bool = False  # apply the request, then drop the connection (the response is lost)
    malformed: bool = False
    lro_fail: bool = False


class Faults:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self.seed = seed
        self._seen: dict[tuple[int, str, str], int] = {}  # (rule, method, path) → requests so far
        self._lock = threading.Lock()
        self.injected = 0
        self.log: list[tuple[str, str, str]] = []  # (kind, method, path) of the last injected faults, for tests
        self.authority = "https://127.0.0.1"  # the emulator's sign-in authority, named by 401 challenges

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def decide(self, method: str, path: str, caller: tuple[str, str] = ("", "")) -> Decision:
        """The faults for one request; ``caller`` (client name, object id) is what a 403 names."""
        decision = Decision()
        with self._lock:
            for index, rule in enumerate(self.rules):
                if not rule.matches(method, path) or (rule.times is not None and rule.times <= 0):
                    continue
                rng = self._rng(index, method, path)
                if rule.rate < 1.0 and rng.random() >= rule.rate:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                self.injected += 1
                kind, status, latency_ms = rule.kind, rule.status, rule.latency_ms
                if kind == "mix":
                    pick = rng.choice(_MIX)
                    if pick == "latency":
                        kind, latency_ms = "latency", rng.randint(1000, 3000)
                    elif pick == "malformed":
                        kind = "malformed"
                    else:
                        kind, status = "status", int(pick)
                self.log.append((kind if kind != "status" else str(status), method, path))
                del self.log[:-500]
                if kind == "latency":
                    decision.delay_s += latency_ms / 1000.0
                    continue
                if kind == "reset":
                    decision.drop = True
                elif kind == "reset-after":
                    decision.drop_after = True
                elif kind == "timeout":
                    decision.delay_s += max(latency_ms / 1000.0, 60.0)
                    decision.drop = True
                elif kind == "malformed":
                    decision.malformed = True
                elif kind == "lro-fail":
                    decision.lro_fail = True
                else:
                    decision.response = _error(status, rule, self.authority, method, path, caller)
                return decision
        return decision

    def _rng(self, index: int, method: str, path: str) -> random.Random:
        key = (index, method, path.lower())
        count = self._seen.get(key, 0)
        self._seen[key] = count + 1
        if len(self._seen) > 50_000:
            self._seen.clear()
        return random.Random(f"faults:{self.seed}:{index}:{method}:{path.lower()}:{count}")


def _error(
    status: int,
    rule: FaultRule,
    authority: str,
    method: str = "GET",
    path: str = "/",
    caller: tuple[str, str] = ("", ""),
) -> Response:
    from .http import ApiError
    from .providers import authorization_failed

    if status == 403 and not (rule.code or rule.message):
        # ARM's words: who was refused which action over which scope
        return authorization_failed(method, path, client_id=caller[0], object_id=caller[1]).to_response()
    code, message = _MESSAGES.get(status, ("InternalServerError", "Injected failure."))
    headers: dict[str, str] = {}
    if rule.retry_after is not None or status == 429:
        headers["Retry-After"] = str(rule.retry_after if rule.retry_after is not None else 1)
    if status == 401:
        # ARM's challenge for an expired token: a client may fetch a new token and send the request again
        headers["WWW-Authenticate"] = (
            f'Bearer authorization_uri="{authority}", error="invalid_token", '
            'error_description="The access token is expired."'
        )
    return ApiError(status, rule.code or code, rule.message or message, headers=headers).to_response()


# -- the option text ------------------------------------------------------------------------------


def parse_faults(text: str) -> list[FaultRule]:
    """Parse the ``faults`` option (FAULTS_HELP) into rules; ValueError names the entry and the bad part."""
    rules: list[FaultRule] = []
    for entry in (e.strip() for e in text.split(";")):
        if entry:
            rules.append(_parse_entry(entry))
    if not rules:
        raise ValueError("no fault given (e.g. 'rate=0.3' or 'computes:429')")
    return rules


def _bad(entry: str, why: str) -> ValueError:
    return ValueError(f"fault {entry!r}: {why}")


def _parse_entry(entry: str) -> FaultRule:
    if entry.lower().startswith("rate="):
        rate = _rate(entry, entry[5:])
        return FaultRule(pattern=DISCOVERY_EXEMPT, kind="mix", rate=rate)
    parts = entry.split(":")
    options: dict[str, str] = {}
    while len(parts) > 1 and "=" in parts[-1] and parts[-1].split("=", 1)[0].strip().lower() in _OPTIONS:
        key, _, value = parts.pop().partition("=")
        key = key.strip().lower()
        if key in options:
            raise _bad(entry, f"the option {key} is given twice")
        options[key] = value.strip()
    rate = 1.0
    if len(parts) > 1 and _is_number(parts[-1]) and _is_kind(parts[-2]):
        rate = _rate(entry, parts.pop())
    kind_text = parts.pop().strip()
    pattern = ":".join(parts) if parts else ".*"
    if not pattern.strip():
        pattern = ".*"
    rule = _rule(entry, kind_text)
    rule.rate = rate
    try:
        rule.pattern = pattern
        rule._regex = re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        raise _bad(entry, f"the pattern {pattern!r} is not a regular expression ({e})") from e
    except (OverflowError, RecursionError) as e:
        raise _bad(entry, f"the pattern {pattern!r} is too complex") from e
    for key, value in options.items():
        if key == "retry-after":
            if not (value.isascii() and value.isdigit()) or not 0 <= int(value) <= 3600:
                raise _bad(entry, f"retry-after={value!r}: give whole seconds, 0..3600")
            if rule.kind != "status":
                raise _bad(entry, "retry-after applies to a status (429, 503)")
            rule.retry_after = int(value)
        elif key == "times":
            if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 1_000_000:
                raise _bad(entry, f"times={value!r}: give a whole number of at least 1")
            rule.times = int(value)
        elif key == "method":
            if value.upper() not in _METHODS:
                raise _bad(entry, f"method={value!r}: give one of {', '.join(_METHODS)}")
            rule.method = value.upper()
    return rule


def _rule(entry: str, kind_text: str) -> FaultRule:
    word = kind_text.lower()
    if word.isascii() and word.isdigit():
        status = int(word)
        if not 400 <= status <= 599:
            raise _bad(entry, f"the status {kind_text} must be within 400..599")
        return FaultRule(kind="status", status=status)
    if word in _WORD_KINDS:
        return FaultRule(kind=word)
    if word.startswith("latency="):
        return FaultRule(kind="latency", latency_ms=_duration_ms(entry, kind_text.split("=", 1)[1].strip()))
    if word == "latency":
        raise _bad(entry, "latency needs a duration, e.g. latency=1.5s or latency=800ms")
    raise _bad(
        entry,
        f"{kind_text!r} is not a fault kind (a status 400..599, latency=DURATION, reset, reset-after, "
        "timeout, malformed or lro-fail); the form is [PATTERN:]KIND[:RATE][:OPTION=VALUE]",
    )


def _duration_ms(entry: str, text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s)?", text.strip().lower())
    if not m:
        raise _bad(entry, f"latency {text!r} is not a duration such as 800ms, 1.5s or 12s")
    value = float(m.group(1))
    ms = round(value if m.group(2) == "ms" else value * 1000)
    if not 0 <= ms <= MAX_LATENCY_MS:
        raise _bad(entry, f"latency {text!r} must be at most {MAX_LATENCY_MS // 1000}s")
    return ms


def _rate(entry: str, text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise _bad(entry, f"the rate {text!r} is not a number within 0..1") from None
    if not 0.0 <= rate <= 1.0:  # NaN fails this too
        raise _bad(entry, f"the rate {text!r} must be within 0..1")
    return rate


def _is_kind(text: str) -> bool:
    word = text.strip().lower()
    return (word.isascii() and word.isdigit()) or word in _WORD_KINDS or word.startswith("latency=")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
