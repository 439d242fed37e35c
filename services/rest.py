"""A light ARM / data-plane REST client on azure-core's pipeline.

The read path of the console goes through here: one pipeline per session (bearer token, bounded
retries that honour Retry-After, the cloud's CA bundle), JSON in and out, pages followed lazily.
It costs a fraction of azure-ai-ml's import and lets fan-out reads run many at once; actions still go
through azure-ai-ml, whose long-running-operation semantics they need.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .cloud import Cloud

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

DEFAULT_RETRIES = 3


class RestClient:
    def __init__(
        self, cloud: Cloud, credential: TokenCredential, *, retries: int = DEFAULT_RETRIES, timeout_s: float = 30.0
    ) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import (
            BearerTokenCredentialPolicy,
            ContentDecodePolicy,
            DistributedTracingPolicy,
            HeadersPolicy,
            RequestIdPolicy,
            RetryPolicy,
            UserAgentPolicy,
        )
        from azure.core.pipeline.transport import RequestsTransport

        from . import __version__ as VERSION

        self.cloud = cloud
        self.timeout_s = timeout_s
        self._arm_auth = BearerTokenCredentialPolicy(credential, cloud.arm_scope)
        policies = [
            RequestIdPolicy(),
            HeadersPolicy({"Accept": "application/json"}),
            UserAgentPolicy(f"azml-console/{VERSION}"),
            RetryPolicy(retry_total=retries, retry_backoff_factor=0.5, retry_backoff_max=20, timeout=timeout_s * 4),
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
            raise error_cls(response=response, error_format=ARMErrorFormat)  # type: ignore[arg-type]
        parsed: Any = text
        ctype = response.headers.get("Content-Type", "")
        if text and "json" in ctype:
            parsed = json.loads(text)
        return status, parsed, dict(response.headers)

    def get(self, path: str, api_version: str | None = None, **params: Any) -> Any:
        return self.request("GET", path, api_version=api_version, params=params)[1]

    def post(self, path: str, api_version: str | None = None, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, api_version=api_version, params=params, body=body)[1]

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
        from azure.core.pipeline.policies import RequestIdPolicy, RetryPolicy, UserAgentPolicy
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
                    RetryPolicy(retry_total=DEFAULT_RETRIES, retry_backoff_factor=0.5, retry_backoff_max=10),
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
