"""A light ARM / data-plane REST client on azure-core's pipeline.

The read path of the console goes through here: one pipeline per session (bearer token, bounded
retries that honour Retry-After, the cloud's CA bundle), JSON in and out, pages followed lazily.
It costs a fraction of azure-ai-ml's import and lets fan-out reads run many at once; actions still go
through azure-ai-ml, whose long-running-operation semantics they need.
"""

from __future__ import annotations

import contextvars
import json
import math
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cloud import Cloud
from .errors import request_failed, timed_out

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT_S = 30.0
MAX_RETRY_AFTER_S = 60.0  # a longer Retry-After is not waited out: the throttling error is shown instead
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# The request ids of the mutating requests sent while a mutation runs (see services/mutations.run): the
# choke point sets a list here, the at-most-once retry policy appends each answer's x-ms-request-id.
MUTATION_REQUEST_IDS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "azml_mutation_request_ids", default=None
)


@dataclass(frozen=True)
class RetryEvent:
    """A retry about to happen: what failed, how long the client waits, which attempt comes next."""

    attempt: int  # the retry about to be sent, 1-based
    total: int  # the most retries
    delay_s: float  # the wait before it (Retry-After when the service sent one)
    reason: str  # "throttled", "service unavailable (503)", "connection dropped", ...
    method: str
    path: str  # the request path, never its query (a signed URL's signature stays out)
    status: int | None = None

    def describe(self) -> str:
        wait = f"{math.ceil(self.delay_s)}s" if self.delay_s >= 1 or self.delay_s == 0 else f"{self.delay_s:.1f}s"
        return f"{self.reason}, retrying in {wait} (attempt {self.attempt}/{self.total})"


RetryObserver = Callable[[RetryEvent], None]


def _reason(status: int | None, error: BaseException | None) -> str:
    if status is not None:
        if status == 429:
            return "throttled"
        if status == 503:
            return "service unavailable (503)"
        if status >= 500:
            return f"server error ({status})"
        return f"status {status}"
    if error is not None and (timed_out(error) or "timed out" in str(error).lower()):
        return "no answer (timed out)"
    if error is not None and request_failed(error):
        return "cannot connect"
    return "connection dropped"


_policy_classes: dict[str, type] = {}
_policy_lock = threading.Lock()


def _classes() -> dict[str, type]:
    """azure-core policy subclasses, defined on first use (azure-core loads only when a client is built)."""
    with _policy_lock:
        if _policy_classes:
            return _policy_classes
        from azure.core.pipeline import PipelineResponse
        from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy

        # SDK boundary: the same policies serve our REST client and the SDKs' clients (each its own request type)
        class ObservedRetryPolicy(RetryPolicy[Any, Any]):
            """azure-core's bounded retries (Retry-After honoured, POST/PATCH never re-sent after a dropped
            connection), made visible: each retry is reported to an observer before the wait. A Retry-After
            longer than MAX_RETRY_AFTER_S is not waited out.

            ``at_most_once`` (the clients that run mutations): a POST, PUT, PATCH or DELETE is sent once and
            never again after a dropped connection, a timeout or a 5xx answer, Retry-After or not — the
            request may have been applied, so the caller reads the resource back instead. The one exception
            is 429: Azure throttles a request before acting on it. Reads (GET, HEAD: the polling of a
            long-running operation) keep their retries."""

            def __init__(self, *, observer: RetryObserver | None = None, at_most_once: bool = False, **kwargs: Any):
                super().__init__(**kwargs)
                self.observer = observer
                self.at_most_once = at_most_once
                self.retries = int(kwargs.get("retry_total", 10))

            def _once(self, request: Any) -> bool:
                return self.at_most_once and str(request.method).upper() in MUTATING_METHODS

            def _is_method_retryable(self, settings: Any, request: Any, response: Any = None) -> bool:
                if self._once(request):
                    return False  # a transport error or a 5xx: the outcome is unknown, never re-send
                return bool(super()._is_method_retryable(settings, request, response=response))

            def is_retry(self, settings: Any, response: Any) -> bool:
                if self._once(response.http_request):
                    return bool(settings["total"]) and response.http_response.status_code == 429
                return bool(super().is_retry(settings, response))

            def send(self, request: Any) -> Any:
                response = super().send(request)
                ids = MUTATION_REQUEST_IDS.get()
                if ids is not None and str(request.http_request.method).upper() in MUTATING_METHODS:
                    rid = response.http_response.headers.get("x-ms-request-id", "")
                    if rid:
                        ids.append(rid)
                return response

            def increment(self, settings: Any, response: Any = None, error: Any = None) -> bool:
                active = bool(super().increment(settings, response=response, error=error))
                settings["_azml_error"] = error
                if active and isinstance(response, PipelineResponse):
                    retry_after = self.get_retry_after(response)
                    if retry_after is not None and retry_after > MAX_RETRY_AFTER_S:
                        return False
                return active

            def sleep(self, settings: Any, transport: Any, response: Any = None) -> None:
                if self.observer is not None:
                    try:
                        self._report(settings, response)
                    except Exception:  # an observer never breaks a request
                        pass
                super().sleep(settings, transport, response=response)

            def _report(self, settings: Any, response: Any) -> None:
                assert self.observer is not None
                status = response.http_response.status_code if response is not None else None
                delay = (self.get_retry_after(response) if response is not None else None) or self.get_backoff_time(
                    settings
                )
                history = settings.get("history") or []
                last = history[-1] if history else None
                http_request = getattr(last, "http_request", None) or getattr(response, "http_request", None)
                url = str(getattr(http_request, "url", "") or "")
                self.observer(
                    RetryEvent(
                        attempt=len(history),
                        total=self.retries,
                        delay_s=float(delay or 0.0),
                        reason=_reason(status, settings.get("_azml_error")),
                        method=str(getattr(http_request, "method", "") or ""),
                        path=urllib.parse.urlsplit(url).path,
                        status=status,
                    )
                )

        class RenewingTokenPolicy(BearerTokenCredentialPolicy[Any, Any]):
            """A 401 with a Bearer challenge (an expired or revoked token) gets one fresh token from the
            credential and the request is sent once more; a second 401 is the caller's to show."""

            def on_challenge(self, request: Any, response: Any) -> bool:
                if super().on_challenge(request, response):
                    return True  # a claims challenge (CAE), handled by azure-core
                if request.context.get("azml_renewed"):
                    return False
                request.context["azml_renewed"] = True
                self.authorize_request(request, *self._scopes)
                return True

        _policy_classes["retry"] = ObservedRetryPolicy
        _policy_classes["auth"] = RenewingTokenPolicy
        return _policy_classes


def retry_policy(
    observer: RetryObserver | None = None,
    *,
    retries: int = DEFAULT_RETRIES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    backoff_s: float = 0.5,
    at_most_once: bool = False,
) -> Any:
    """The console's retry policy: bounded, Retry-After honoured, each retry reported to ``observer``;
    ``at_most_once``: mutating requests are never re-sent (see ObservedRetryPolicy)."""
    cls = _classes()["retry"]
    return cls(
        observer=observer,
        at_most_once=at_most_once,
        retry_total=retries,
        retry_backoff_factor=backoff_s,
        retry_backoff_max=20,
        timeout=timeout_s * 4,
    )


def renewing_auth_policy(credential: TokenCredential, scope: str) -> Any:
    """A bearer-token policy that answers a 401 challenge with one fresh token and one more try (for the
    SDK clients' ``authentication_policy``, so every client renews as the REST client does)."""
    return _classes()["auth"](credential, scope)


class RestClient:
    def __init__(
        self,
        cloud: Cloud,
        credential: TokenCredential,
        *,
        retries: int = DEFAULT_RETRIES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        observer: RetryObserver | None = None,
        backoff_s: float = 0.5,
        at_most_once: bool = False,
    ) -> None:
        """``at_most_once``: the client that sends mutations (a PUT, PATCH, POST or DELETE is never re-sent
        after an answer that leaves its outcome open; see ObservedRetryPolicy)."""
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import (
            ContentDecodePolicy,
            DistributedTracingPolicy,
            HeadersPolicy,
            RequestIdPolicy,
            UserAgentPolicy,
        )
        from azure.core.pipeline.transport import RequestsTransport

        from . import __version__ as VERSION

        self.cloud = cloud
        self.timeout_s = timeout_s
        self.retries = retries
        self.observer = observer
        self.backoff_s = backoff_s
        self._arm_auth = _classes()["auth"](credential, cloud.arm_scope)
        policies = [
            RequestIdPolicy(),
            HeadersPolicy({"Accept": "application/json"}),
            UserAgentPolicy(f"azml-console/{VERSION}"),
            retry_policy(
                observer, retries=retries, timeout_s=timeout_s, backoff_s=backoff_s, at_most_once=at_most_once
            ),
            self._arm_auth,
            ContentDecodePolicy(),
            DistributedTracingPolicy(),
        ]
        transport_kwargs: dict[str, Any] = {"connection_timeout": 10, "read_timeout": timeout_s}
        if cloud.ca_bundle:
            transport_kwargs["connection_verify"] = cloud.ca_bundle
        self._transport_kwargs = transport_kwargs
        self._plain: Any = None  # the pipeline for non-ARM URLs, built on first use
        self._anon: Any = None  # the retrying pipeline for anonymous GETs (signed URLs), built on first use
        self._client: Any = PipelineClient(
            base_url=cloud.resource_manager, policies=policies, transport=RequestsTransport(**transport_kwargs)
        )

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith("https://") or path_or_url.startswith("http://"):
            return path_or_url
        return self.cloud.resource_manager.rstrip("/") + path_or_url

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        api_version: str | None = None,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """Send one request; return (status, parsed JSON or text, headers). Non-2xx raises HttpResponseError."""
        from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
        from azure.core.rest import HttpRequest
        from azure.mgmt.core.exceptions import ARMErrorFormat

        url = self.url(path_or_url)
        query = dict(params or {})
        if api_version and "api-version=" not in url:
            query["api-version"] = api_version
        if query:
            sep = "&" if "?" in url else "?"
            url = url + sep + urllib.parse.urlencode(query)
        hdrs = dict(headers or {})
        content = None
        if body is not None:
            content = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        request = HttpRequest(method, url, headers=hdrs, content=content)
        response = self._client.send_request(request, stream=False)
        status = response.status_code
        text = response.text() if response.content else ""
        if status >= 400:
            error_cls: type[HttpResponseError] = HttpResponseError
            if status == 404:
                error_cls = ResourceNotFoundError
            elif status == 409:
                error_cls = ResourceExistsError
            raise error_cls(response=response, error_format=ARMErrorFormat)
        parsed: Any = text
        ctype = response.headers.get("Content-Type", "")
        if text and "json" in ctype:
            try:
                parsed = json.loads(text)
            except ValueError as e:
                from azure.core.exceptions import DecodeError

                # Carries the response (so its request id reaches the user), never the body.
                where = getattr(e, "pos", "?")
                raise DecodeError(
                    message=f"the response was not valid JSON ({type(e).__name__} at character {where})",
                    response=response,
                ) from None
        return status, parsed, dict(response.headers)

    def get(self, path: str, api_version: str | None = None, **params: Any) -> Any:
        return self.request("GET", path, api_version=api_version, params=params)[1]

    def post(self, path: str, api_version: str | None = None, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, api_version=api_version, params=params, body=body)[1]

    def put(self, path: str, api_version: str | None = None, body: Any = None, **params: Any) -> Any:
        return self.request("PUT", path, api_version=api_version, params=params, body=body)[1]

    def patch(self, path: str, api_version: str | None = None, body: Any = None, **params: Any) -> Any:
        return self.request("PATCH", path, api_version=api_version, params=params, body=body)[1]

    def pages(
        self, path: str, api_version: str | None = None, *, params: dict[str, Any] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of ``value`` lazily, following ``nextLink``: read 50, fetch 50."""
        _, body, _ = self.request("GET", path, api_version=api_version, params=params)
        while True:
            yield list((body or {}).get("value") or [])
            next_link = (body or {}).get("nextLink")
            if not next_link:
                return
            _, body, _ = self.request("GET", next_link)

    def items(
        self,
        path: str,
        api_version: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        count = 0
        for page in self.pages(path, api_version, params=params):
            for item in page:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return

    def send_external(
        self, method: str, url: str, *, content: bytes | None, headers: dict[str, str], timeout_s: float | None = None
    ) -> tuple[int, str, dict[str, str]]:
        """Send one request to a non-ARM https URL (e.g. a scoring URI) with the caller's own headers.

        No ARM token is attached (the caller brings its own Authorization) and nothing is retried (the
        request need not be idempotent); the cloud's CA bundle applies. Any status is returned, not
        raised: (status, body text, headers). Headers are never logged by this pipeline.
        """
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import RequestIdPolicy, UserAgentPolicy
        from azure.core.pipeline.transport import RequestsTransport
        from azure.core.rest import HttpRequest

        from . import __version__ as VERSION

        if not url.lower().startswith("https://"):
            raise ValueError("refusing to send credentials to a non-https URL")
        if self._plain is None:
            self._plain = PipelineClient(
                base_url=url,
                policies=[RequestIdPolicy(), UserAgentPolicy(f"azml-console/{VERSION}")],
                transport=RequestsTransport(**self._transport_kwargs),
            )
        request = HttpRequest(method, url, headers=dict(headers), content=content)
        response = self._plain.send_request(request, read_timeout=timeout_s or self.timeout_s)
        text = response.text() if response.content else ""
        return response.status_code, text, dict(response.headers)

    def get_unauthenticated(
        self, url: str, *, headers: dict[str, str] | None = None, timeout_s: float | None = None
    ) -> tuple[int, bytes, dict[str, str]]:
        """GET a self-authorizing URL (e.g. a signed log or blob URL) without the bearer token.

        Idempotent, so transient failures are retried (Retry-After honoured); the cloud's CA bundle
        applies; nothing is logged. Any status is returned, not raised: (status, body bytes, headers).
        A transport error's message would carry the URL (and its signature): it is raised as a
        ServiceRequestError that names only the host and path.
        """
        from azure.core import PipelineClient
        from azure.core.exceptions import ServiceRequestError
        from azure.core.pipeline.policies import RequestIdPolicy, UserAgentPolicy
        from azure.core.pipeline.transport import RequestsTransport
        from azure.core.rest import HttpRequest

        from . import __version__ as VERSION

        if not url.lower().startswith("https://"):
            raise ValueError("refusing to fetch a signed URL over plain http")
        if self._anon is None:
            self._anon = PipelineClient(
                base_url=url,
                policies=[
                    RequestIdPolicy(),
                    UserAgentPolicy(f"azml-console/{VERSION}"),
                    retry_policy(
                        self.observer, retries=self.retries, timeout_s=self.timeout_s, backoff_s=self.backoff_s
                    ),
                ],
                transport=RequestsTransport(**self._transport_kwargs),
            )
        request = HttpRequest("GET", url, headers=dict(headers or {}))
        try:
            response = self._anon.send_request(request, read_timeout=timeout_s or self.timeout_s)
            body = response.read() or b""
        except Exception as e:
            safe = url.split("?", 1)[0]
            raise ServiceRequestError(f"GET {safe} failed: {type(e).__name__}") from None
        return response.status_code, bytes(body), dict(response.headers)

    def close(self) -> None:
        self._client.close()
        if self._plain is not None:
            self._plain.close()
        if self._anon is not None:
            self._anon.close()
