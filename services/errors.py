"""Azure errors mapped to a small set a user understands, each with Azure's message and request id."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType


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


class AzmlError(Exception):
    """The base of the product's own errors: each says what it is as a ServiceError, so ``classify`` needs no
    knowledge of the subclasses (and never looks at a class's name)."""

    kind: ErrorKind = ErrorKind.UNKNOWN

    def service_error(self) -> ServiceError:
        text = str(self)
        return ServiceError(self.kind, text.splitlines()[0] if text else type(self).__name__)


def request_id_of(exc: BaseException | None) -> str:
    """The request id of the Azure answer behind an exception (its cause included), or ""."""
    return _classify(exc).request_id if exc is not None else ""


def kind_for_status(status: int) -> ErrorKind:
    """What an HTTP status means to a user (a status below 400 on an error is a garbled answer: transient)."""
    if status < 400 or status >= 500:
        return _BY_STATUS.get(status, ErrorKind.TRANSIENT)
    return _BY_STATUS.get(status, ErrorKind.UNKNOWN)


def _loaded(name: str) -> ModuleType | None:
    """A module only if something already imported it: an exception of a library that never loaded cannot
    exist, so the check costs no import (azure-core stays off the path to the first frame)."""
    return sys.modules.get(name)


def answer_lost(e: BaseException) -> bool:
    """The request went out; its answer was lost (reset, read timeout, a body cut short)."""
    core = _loaded("azure.core.exceptions")
    return core is not None and isinstance(e, core.ServiceResponseError | core.IncompleteReadError)


def request_failed(e: BaseException) -> bool:
    """The request never reached Azure (refused, DNS, connect timeout)."""
    if isinstance(e, ConnectionError):
        return True
    core = _loaded("azure.core.exceptions")
    if core is not None and isinstance(e, core.ServiceRequestError):
        return True
    requests = _loaded("requests.exceptions")
    return requests is not None and isinstance(e, requests.ConnectionError)


def timed_out(e: BaseException) -> bool:
    if isinstance(e, TimeoutError):
        return True
    core = _loaded("azure.core.exceptions")
    return core is not None and isinstance(e, core.ServiceRequestTimeoutError | core.ServiceResponseTimeoutError)


def _garbled(e: BaseException) -> bool:
    """A malformed answer (invalid JSON, a body cut short)."""
    core = _loaded("azure.core.exceptions")
    return core is not None and isinstance(e, core.DecodeError)


def _auth(e: BaseException) -> bool:
    core = _loaded("azure.core.exceptions")
    if core is not None and isinstance(e, core.ClientAuthenticationError):
        return True  # CredentialUnavailableError included (its subclass)
    return False


def sanitize(text: str) -> str:
    """A message with every URL's query and every secret-looking ``name=value`` replaced."""
    text = _URL_QUERY.sub(lambda m: m.group(1) + "?…", text)
    return _SECRET_PAIR.sub(lambda m: m.group(1) + "=***", text)


def response_lost(exc: BaseException) -> bool:
    """The request may have reached Azure but its answer did not come back (reset, read timeout)."""
    return any(answer_lost(e) for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in seen and len(seen) < 10:
        seen.append(e)
        e = e.__cause__ or e.__context__
    return seen


def _transport_message(exc: BaseException) -> str:
    detail = sanitize(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:200]
    if timed_out(exc) or "timed out" in detail.lower():
        return f"no answer from Azure in time ({detail})"
    if answer_lost(exc):
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
    if isinstance(exc, AzmlError):
        return exc.service_error()
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
    if _garbled(exc) or (status is not None and int(status) < 400):
        # a garbled answer (malformed JSON, a body cut short): Azure's request id still identifies it
        return ServiceError(ErrorKind.TRANSIENT, message, int(status) if status else None, code, request_id)
    if status is None:
        if request_failed(exc) or answer_lost(exc):
            return ServiceError(ErrorKind.UNREACHABLE, _transport_message(exc), None, "", request_id)
        if _auth(exc):
            return ServiceError(ErrorKind.AUTH, message)
        return ServiceError(ErrorKind.UNKNOWN, message)
    kind = kind_for_status(int(status))
    return ServiceError(kind, message, int(status), code, request_id)


AUTH_HINT = "sign in again (azml login), then r retries; the screen keeps what it shows"


def describe(exc: BaseException) -> str:
    """One line for the user: kind, Azure's message, code and request id (and what to do about a token)."""
    err = classify(exc)
    text = str(err)
    if err.kind is ErrorKind.AUTH:
        text += f" — {AUTH_HINT}"
    return text
