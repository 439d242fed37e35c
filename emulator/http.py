"""Request, response, routing and ARM-shaped errors for the emulator."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base_url: str  # https://127.0.0.1:PORT
    request_id: str
    caller: dict[str, Any] = field(default_factory=dict)  # token claims
    params: dict[str, str] = field(default_factory=dict)

    def q(self, name: str, default: str | None = None) -> str | None:
        """A query parameter, matched case-insensitively (ARM is case-insensitive)."""
        lname = name.lower()
        for k, v in self.query.items():
            if k.lower() == lname:
                return v
        return default

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise ApiError(400, "InvalidRequestContent", f"The request content was invalid: {e}") from e

    def url(self, path: str, **query: str) -> str:
        qs = urllib.parse.urlencode(query)
        return f"{self.base_url}{path}" + (f"?{qs}" if qs else "")


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-able, bytes or str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


class ApiError(Exception):
    """Raised by handlers; rendered in ARM's error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def to_response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return Response(self.status, {"error": error}, dict(self.headers))


def not_found(kind: str, name: str) -> ApiError:
    return ApiError(404, "ResourceNotFound", f"The {kind} '{name}' could not be found.")


def bad_request(message: str, code: str = "BadRequest", target: str | None = None) -> ApiError:
    details = [{"code": code, "message": message, "target": target}] if target else None
    return ApiError(400, code, message, details=details)


def conflict(message: str, code: str = "Conflict") -> ApiError:
    return ApiError(409, code, message)


Handler = Callable[..., Response]


@dataclass
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler


_SEGMENT = re.compile(r"\{(\w+)\}")


class Router:
    """Routes by method and a path template; ARM paths match case-insensitively."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = (
            "^"
            + _SEGMENT.sub(
                lambda m: f"(?P<{m.group(1)}>[^/]+)",
                re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}"),
            )
            + "/?$"
        )
        self.routes.append(Route(method.upper(), pattern, re.compile(regex, re.IGNORECASE), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add(method, pattern, fn)
            return fn

        return deco

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        path_matched = False
        for route in self.routes:
            m = route.regex.match(path)
            if m:
                path_matched = True
                if route.method == method:
                    params = {k: urllib.parse.unquote(v) for k, v in m.groupdict().items() if v is not None}
                    return route.handler, params
        if path_matched:
            raise ApiError(405, "MethodNotAllowed", f"The method '{method}' is not allowed on '{path}'.")
        return None


def page(req: Request, items: list[Any], default_top: int = 100) -> Response:
    """ARM paging: {"value": [...], "nextLink": ...}, continued with $skipToken."""
    try:
        skip = int(req.q("$skipToken") or 0)
        top = int(req.q("$top") or default_top)
    except ValueError as e:
        raise bad_request(f"Invalid paging parameter: {e}", "InvalidQueryParameterValue") from e
    top = max(1, min(top, 1000))
    chunk = items[skip : skip + top]
    body: dict[str, Any] = {"value": chunk}
    if skip + top < len(items):
        query = {k: v for k, v in req.query.items() if k.lower() != "$skiptoken"}
        query["$skipToken"] = str(skip + top)
        body["nextLink"] = req.url(req.path, **query)
    return Response(200, body)
