"""Azure errors mapped to a small set a user understands, each with Azure's message and request id."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    AUTH = "auth"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not found"
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    INVALID = "invalid input"
    CONFLICT = "conflict"
    UNREACHABLE = "unreachable"
    UNKNOWN = "error"


@dataclass(frozen=True)
class ServiceError:
    kind: ErrorKind
    message: str
    status: int | None = None
    code: str = ""
    request_id: str = ""

    def __str__(self) -> str:
        text = f"{self.kind.value}: {self.message}"
        if self.code:
            text += f" [{self.code}]"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


_BY_STATUS = {
    400: ErrorKind.INVALID,
    401: ErrorKind.AUTH,
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    409: ErrorKind.CONFLICT,
    429: ErrorKind.THROTTLED,
}


# A URL's query (a SAS signature, a token) never reaches a message; nor does a key-like `key=value`.
_URL_QUERY = re.compile(r"(https?://[^\s'\"?#]+|url: /[^\s'\"?#]*)\?[^\s'\")]*", re.IGNORECASE)
_SECRET_PAIR = re.compile(
    r"\b(sig|signature|accountkey|account_key|sharedaccesssignature|client_secret|password|access_token)"
    r"=([^\s&;'\",)]+)",
    re.IGNORECASE,
)
_TRANSPORT_RESPONSE = ("ServiceResponseError", "ServiceResponseTimeoutError", "IncompleteReadError")
_TRANSPORT_REQUEST = ("ServiceRequestError", "ConnectionError", "ServiceRequestTimeoutError")


def sanitize(text: str) -> str:
    """A message with every URL's query and every secret-looking ``name=value`` replaced."""
    text = _URL_QUERY.sub(lambda m: m.group(1) + "?…", text)
    return _SECRET_PAIR.sub(lambda m: m.group(1) + "=***", text)


def response_lost(exc: BaseException) -> bool:
    """The request may have reached Azure but its answer did not come back (reset, read timeout)."""
    return any(type(e).__name__ in _TRANSPORT_RESPONSE for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in seen and len(seen) < 10:
        seen.append(e)
        e = e.__cause__ or e.__context__
    return seen


def _transport_message(exc: BaseException) -> str:
    name = type(exc).__name__
    detail = sanitize(str(exc).splitlines()[0] if str(exc) else name)[:200]
    if "Timeout" in name or "timed out" in detail.lower():
        return f"no answer from Azure in time ({detail})"
    if name in _TRANSPORT_RESPONSE:
        return f"the connection dropped before Azure answered ({detail})"
    return f"cannot reach Azure ({detail})"


def classify(exc: BaseException) -> ServiceError:
    """Turn any exception from an SDK call into a ServiceError (no traceback, no secrets)."""
    err = _classify(exc)
    clean = sanitize(err.message)
    if clean != err.message:
        err = ServiceError(err.kind, clean, err.status, err.code, err.request_id)
    return err


def _classify(exc: BaseException) -> ServiceError:
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    request_id = ""
    if response is not None:
        headers = getattr(response, "headers", {}) or {}
        request_id = headers.get("x-ms-request-id", "") or headers.get("x-ms-correlation-request-id", "")
    error = getattr(exc, "error", None)
    code = getattr(error, "code", "") or ""
    message = getattr(error, "message", "") or getattr(exc, "message", "") or str(exc)
    message = str(message).splitlines()[0] if message else type(exc).__name__
    name = type(exc).__name__
    if name in ("DecodeError", "IncompleteReadError") or (status is not None and int(status) < 400):
        # a garbled answer (malformed JSON, a body cut short): Azure's request id still identifies it
        return ServiceError(ErrorKind.TRANSIENT, message, int(status) if status else None, code, request_id)
    if status is None:
        if name in _TRANSPORT_REQUEST or name in _TRANSPORT_RESPONSE:
            return ServiceError(ErrorKind.UNREACHABLE, _transport_message(exc), None, "", request_id)
        if name in ("ClientAuthenticationError", "CredentialUnavailableError"):
            return ServiceError(ErrorKind.AUTH, message)
        return ServiceError(ErrorKind.UNKNOWN, message)
    kind = _BY_STATUS.get(int(status), ErrorKind.TRANSIENT if int(status) >= 500 else ErrorKind.UNKNOWN)
    return ServiceError(kind, message, int(status), code, request_id)


AUTH_HINT = "sign in again (azml login), then r retries; the screen keeps what it shows"


def describe(exc: BaseException) -> str:
    """One line for the user: kind, Azure's message, code and request id (and what to do about a token)."""
    err = classify(exc)
    text = str(err)
    if err.kind is ErrorKind.AUTH:
        text += f" — {AUTH_HINT}"
    return text
