"""A local credential: unsigned, JWT-shaped tokens the emulator accepts.

azure-ai-ml decodes tokens to read ``tid`` (and job submission reads ``oid``), so the token carries
the claims a real Entra ID token would; the emulator reads the caller's identity from them.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

TOKEN_LIFETIME_S = 3600


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_token(
    tenant_id: str,
    *,
    object_id: str,
    upn: str,
    name: str,
    audience: str,
    expires_on: int,
) -> str:
    header = {"alg": "none", "typ": "JWT"}
    now = int(time.time())
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": expires_on,
        "tid": tenant_id,
        "oid": object_id,
        "upn": upn,
        "name": name,
        "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
    }
    return f"{_b64(header)}.{_b64(claims)}."


def decode_token(token: str) -> dict[str, Any]:
    """The claims of a JWT-shaped token, or raise ValueError: three dot-separated parts, a base64url JSON object
    as the payload, and an ``exp`` that is a finite NumericDate (RFC 7519), as Entra ID issues."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        raise ValueError("not a JWT")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", parts[1]):
        raise ValueError("the JWT payload is not base64url")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, RecursionError) as e:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(f"the JWT payload is not JSON: {type(e).__name__}") from e
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not an object")
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        raise ValueError("the JWT 'exp' claim is not a NumericDate")
    return claims


class EmulatorCredential:
    """A TokenCredential (and SupportsTokenInfo) for the emulator's endpoints."""

    def __init__(
        self,
        tenant_id: str,
        *,
        object_id: str = "6f1c2a8e-3d4b-4c5a-9e7f-1a2b3c4d5e6f",
        upn: str = "ops@contoso.example",
        name: str = "Demo Operator",
        lifetime_s: int = TOKEN_LIFETIME_S,
    ) -> None:
        self.tenant_id = tenant_id
        self.object_id = object_id
        self.upn = upn
        self.name = name
        self.lifetime_s = lifetime_s

    def _token(self, scopes: tuple[str, ...]) -> tuple[str, int]:
        audience = scopes[0].removesuffix("/.default") if scopes else "https://management.azure.com"
        expires_on = int(time.time()) + self.lifetime_s
        token = make_token(
            self.tenant_id,
            object_id=self.object_id,
            upn=self.upn,
            name=self.name,
            audience=audience,
            expires_on=expires_on,
        )
        return token, expires_on

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token, expires_on = self._token(scopes)
        return AccessToken(token, expires_on)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        token, expires_on = self._token(scopes)
        return AccessTokenInfo(token, expires_on, token_type="Bearer")

    def close(self) -> None:
        return None

    def __enter__(self) -> EmulatorCredential:
        return self

    def __exit__(self, *args: object) -> None:
        return None
