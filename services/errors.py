"""Azure errors mapped to a small set a user understands, each with Azure's message and request id."""

from __future__ import annotations

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


def classify(exc: BaseException) -> ServiceError:
    """Turn any exception from an SDK call into a ServiceError (no traceback, no secrets)."""
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
    if status is None:
        name = type(exc).__name__
        if name in ("ServiceRequestError", "ConnectionError", "ServiceRequestTimeoutError"):
            return ServiceError(ErrorKind.UNREACHABLE, message)
        if name in ("ClientAuthenticationError", "CredentialUnavailableError"):
            return ServiceError(ErrorKind.AUTH, message)
        return ServiceError(ErrorKind.UNKNOWN, message)
    kind = _BY_STATUS.get(int(status), ErrorKind.TRANSIENT if int(status) >= 500 else ErrorKind.UNKNOWN)
    return ServiceError(kind, message, int(status), code, request_id)


def describe(exc: BaseException) -> str:
    return str(classify(exc))
