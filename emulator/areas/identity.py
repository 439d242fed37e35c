"""Sign-in on the emulator's own authority, anonymous as in Entra ID; and ARM's cloud metadata.

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (and v1 ``/{tenant}/.well-known/...``): OpenID discovery;
- ``GET /{tenant}/discovery/v2.0/keys`` (and ``/discovery/keys``): the JWKS of the token signing key;
- ``POST /{tenant}/oauth2/v2.0/token`` (and v1 ``/oauth2/token`` with ``resource``): client credentials with a
  client secret or a certificate-signed client assertion, refresh tokens, and the device-code grant;
- ``POST /{tenant}/oauth2/v2.0/devicecode``: a device code. The simulated user approves it after
  ``device_code_polls`` polls (emulator option, default 1): that many ``authorization_pending`` answers first;
- ``GET /common/discovery/instance``: instance discovery (for clients pointed at it explicitly);
- ``GET /metadata/endpoints?api-version=...``: the cloud's endpoints as ARM publishes them (one object from
  2022-09-01, a list before), every service pointing at the emulator.

Errors are Entra ID's: ``{"error", "error_description": "AADSTSnnnn: ...", "error_codes", "timestamp", "trace_id",
"correlation_id"}`` — a wrong secret AADSTS7000215, an unknown client AADSTS700016, an unknown tenant AADSTS90002.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import time
import urllib.parse
import uuid
from typing import Any

from ..http import Request, Response
from ..identity import DEMO_USER, PUBLIC_CLIENTS, TENANT_DOMAIN, AadError, DeviceCode, Directory, ServicePrincipal

DEVICE_CODE_TTL_S = 900
DEVICE_CODE_INTERVAL_S = 1
_OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}
_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "preferred_username", "name", "tid", "ver", "oid")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ANONYMOUS = re.compile(
    r"^/(metadata/endpoints|common/discovery/instance"
    r"|[^/]+/(v2\.0/)?\.well-known/openid-configuration"
    r"|[^/]+/oauth2/(v2\.0/)?(token|devicecode)"
    r"|[^/]+/discovery/(v2\.0/)?keys)/?$",
    re.IGNORECASE,
)


def is_anonymous(path: str) -> bool:
    return bool(ANONYMOUS.match(path))


def _form(req: Request) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))


def _aad(req: Request, err: AadError) -> Response:
    return Response(err.status, err.body(req.request_id, req.headers.get("client-request-id") or req.request_id))


def _unknown_tenant(tenant: str) -> AadError:
    return AadError(
        400,
        "invalid_request",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the "
        "correct cloud. Check with your subscription administrator, this may happen if there are no active "
        "subscriptions for the tenant.",
    )


def _unknown_client(client_id: str) -> AadError:
    return AadError(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory 'Contoso'. This can happen if "
        "the application has not been installed by the administrator of the tenant or consented to by any user in "
        "the tenant. You may have sent your authentication request to the wrong tenant.",
    )


def _missing(name: str) -> AadError:
    return AadError(400, "invalid_request", 900144, f"The request body must contain the following parameter: '{name}'.")


def cloud_metadata(base: str, api_version: str) -> Any:
    """ARM's /metadata/endpoints document for a cloud whose every service is the emulator."""
    root = base.rstrip("/") + "/"
    doc = {
        "name": "AzmlEmulator",
        "portal": base,
        "resourceManager": root,
        "authentication": {
            "loginEndpoint": root,
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "graph": root,
        "graphAudience": "https://graph.windows.net/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "media": root,
        "batch": "https://batch.core.windows.net/",
        "gallery": root,
        "sqlManagement": root,
        "vmImageAliasDoc": root + "vmImageAliasDoc.json",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "suffixes": {
            "storage": "core.windows.net",
            "keyVaultDns": "vault.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
        },
    }
    return doc if api_version >= "2022-09-01" else [doc]


def datastore_principal(estate: Any, client_id: str) -> ServicePrincipal | None:
    """The service principal a datastore signs in to its storage with: its app registration lives in the
    tenant too, so its client id and secret (as registered on the datastore) get tokens."""
    secrets = estate.area_state.get("datastores", {}).get("secrets", {})
    for rid, secret in list(secrets.items()):
        if secret.get("secretsType") != "ServicePrincipal":
            continue
        resource = estate.get(rid) or {}
        credentials = (resource.get("properties") or {}).get("credentials") or {}
        if str(credentials.get("clientId", "")).lower() == client_id.lower():
            object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sp:{client_id.lower()}"))
            name = f"datastore {resource.get('name', '')}"
            return ServicePrincipal(name, client_id, object_id, secret=str(secret.get("clientSecret", "")))
    return None


def register(router: Any, emu: Any) -> None:
    directory = Directory(tenant_id=emu.estate.tenant_id, seed=emu.config.seed)
    directory.find_principal = lambda client_id: datastore_principal(emu.estate, client_id)
    emu.directory = directory
    polls = emu.config.options.get("device_code_polls", "1")
    if not (polls.isascii() and polls.isdigit()) or int(polls) > 100:
        raise ValueError(f"emulator option device_code_polls: {polls!r} is not a whole number within 0..100")
    pending_polls = int(polls)

    def tenant_or_fail(tenant: str) -> str:
        if not directory.knows_tenant(tenant):
            raise _unknown_tenant(tenant)
        return directory.tenant_id

    def openid(req: Request, tenant: str, v2: bool) -> Response:
        try:
            tenant_or_fail(tenant)
        except AadError as e:
            return _aad(req, e)
        base = req.base_url
        # Like Entra ID: for common/organizations the issuer names a placeholder, not a tenant.
        tid = directory.tenant_id if tenant.lower() not in ("common", "organizations") else "{tenantid}"
        ver = "/v2.0" if v2 else ""
        doc: dict[str, Any] = {
            "token_endpoint": f"{base}/{tenant}/oauth2{ver}/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tenant}/discovery{ver}/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0" if v2 else f"https://sts.windows.net/{tid}/",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/{tenant}/oauth2{ver}/authorize",
            "device_authorization_endpoint": f"{base}/{tenant}/oauth2{ver}/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tenant}/oauth2{ver}/logout",
            "claims_supported": [*_CLAIMS],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "azml-emulator",
            "msgraph_host": urllib.parse.urlsplit(base).netloc,
        }
        return Response(200, doc)

    def keys(req: Request, tenant: str) -> Response:
        try:
            tenant_or_fail(tenant)
        except AadError as e:
            return _aad(req, e)
        return Response(200, directory.jwks(f"{req.base_url}/{directory.tenant_id}/v2.0"))

    def instance_discovery(req: Request) -> Response:
        endpoint = req.q("authorization_endpoint") or ""
        parts = urllib.parse.urlsplit(endpoint)
        host = urllib.parse.urlsplit(req.base_url).netloc
        if parts.netloc.lower() != host.lower():
            err = AadError(400, "invalid_instance", 50049, "Unknown or invalid instance.")
            return _aad(req, err)
        tenant = parts.path.strip("/").split("/")[0] or "common"
        return Response(
            200,
            {
                "tenant_discovery_endpoint": f"{req.base_url}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            },
        )

    def metadata(req: Request) -> Response:
        return Response(200, cloud_metadata(req.base_url, req.q("api-version") or "2022-09-01"))

    def devicecode(req: Request, tenant: str) -> Response:
        form = _form(req)
        try:
            tenant_or_fail(tenant)
            client_id = form.get("client_id") or ""
            if not client_id:
                raise _missing("client_id")
            if client_id.lower() not in PUBLIC_CLIENTS:
                raise _unknown_client(client_id)
        except AadError as e:
            return _aad(req, e)
        user_code = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))
        device_code = secrets.token_urlsafe(48)
        with directory.lock:
            now = time.time()
            for code in [c for c, d in directory.device_codes.items() if d.expires_at < now]:
                del directory.device_codes[code]
            directory.device_codes[device_code] = DeviceCode(
                client_id, user_code, form.get("scope", ""), now + DEVICE_CODE_TTL_S, pending_polls
            )
        uri = f"{req.base_url}/devicelogin"
        return Response(
            200,
            {
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": uri,
                "expires_in": DEVICE_CODE_TTL_S,
                "interval": DEVICE_CODE_INTERVAL_S,
                "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
                "to authenticate.",
            },
        )

    def token(req: Request, tenant: str, v2: bool) -> Response:
        form = _form(req)
        basic = req.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                form.setdefault("client_id", urllib.parse.unquote(cid))
                form.setdefault("client_secret", urllib.parse.unquote(secret))
            except ValueError:
                pass
        try:
            tenant_or_fail(tenant)
            if not form.get("grant_type"):
                raise _missing("grant_type")
            if not form.get("client_id"):
                raise _missing("client_id")
            grant = form["grant_type"]
            if grant == "client_credentials":
                return Response(200, client_credentials(req, tenant, form, v2))
            if grant in (DEVICE_GRANT, "device_code"):
                return Response(200, device_token(req, form, v2))
            if grant == "refresh_token":
                return Response(200, refresh(req, form, v2))
            raise AadError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        except AadError as e:
            return _aad(req, e)

    def resource_of(form: dict[str, str], v2: bool, default: str = "") -> str:
        if not v2:
            resource = form.get("resource") or default
            if not resource:
                raise _missing("resource")
            return resource
        scopes = [s for s in (form.get("scope") or "").split() if s.lower() not in _OIDC_SCOPES]
        if not scopes:
            if default:
                return default
            raise _missing("scope")
        scope = scopes[0]
        if "/" not in scope:
            raise AadError(
                400,
                "invalid_scope",
                70011,
                f"The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
            )
        return scope.rsplit("/", 1)[0] if scope.endswith("/.default") or scope.count("/") > 2 else scope

    def answer(access: str, lifetime: int, resource: str, v2: bool, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": lifetime - 1,
            "ext_expires_in": lifetime - 1,
            "access_token": access,
        }
        if not v2:
            body["resource"] = resource
            body["expires_on"] = str(int(time.time()) + lifetime - 1)
        body.update(extra)
        return body

    def client_credentials(req: Request, tenant: str, form: dict[str, str], v2: bool) -> dict[str, Any]:
        sp = directory.principal(form["client_id"])
        if sp is None:
            raise _unknown_client(form["client_id"])
        assertion = form.get("client_assertion")
        if assertion:
            audiences = {
                f"{req.base_url}/{t}/oauth2{v}/token" for t in (tenant, directory.tenant_id) for v in ("/v2.0", "")
            }
            directory.check_assertion(sp, assertion, audiences)
            acr = "2"
        elif "client_secret" in form:
            if not directory.check_secret(sp, form["client_secret"]):
                raise AadError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    f"secret value, not the client secret ID, for a secret added to app '{sp.client_id}'.",
                )
            acr = "1"
        else:
            raise AadError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        resource = resource_of(form, v2)
        access, lifetime = directory.access_token(resource, client_id=sp.client_id, principal=sp, appidacr=acr)
        return answer(access, lifetime, resource, v2)

    def user_answer(
        req: Request, client_id: str, user: dict[str, str], resource: str, form: dict[str, str], v2: bool
    ) -> dict[str, Any]:
        access, lifetime = directory.access_token(resource, client_id=client_id, user=user, appidacr="0")
        info = {"uid": user["oid"], "utid": directory.tenant_id}
        extra: dict[str, Any] = {
            "scope": f"{resource.rstrip('/')}/user_impersonation",
            "refresh_token": directory.new_refresh_token(client_id, user),
            "id_token": directory.id_token(f"{req.base_url}/{directory.tenant_id}/v2.0", client_id, user),
            "client_info": base64.urlsafe_b64encode(json.dumps(info).encode()).rstrip(b"=").decode(),
        }
        return answer(access, lifetime, resource, v2, **extra)

    def device_token(req: Request, form: dict[str, str], v2: bool) -> dict[str, Any]:
        code = form.get("device_code") or form.get("code") or ""
        with directory.lock:
            flow = directory.device_codes.get(code)
            if flow is None or flow.client_id.lower() != form["client_id"].lower():
                raise AadError(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the input parameter 'device_code' is not valid.",
                )
            if flow.expires_at < time.time():
                del directory.device_codes[code]
                raise AadError(
                    400,
                    "expired_token",
                    70020,
                    "The provided value for the input parameter 'device_code' is not valid. "
                    "This device code has expired.",
                )
            if flow.pending_left > 0:
                flow.pending_left -= 1
                raise AadError(
                    400,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            del directory.device_codes[code]
        resource = resource_of({**form, "scope": form.get("scope") or flow.scope}, v2)
        return user_answer(req, flow.client_id, DEMO_USER, resource, form, v2)

    def refresh(req: Request, form: dict[str, str], v2: bool) -> dict[str, Any]:
        with directory.lock:
            grant = directory.refresh_tokens.pop(form.get("refresh_token") or "", None)
        if grant is None or grant.client_id.lower() != form["client_id"].lower():
            raise AadError(
                400,
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid. - The provided refresh token is not valid.",
            )
        resource = resource_of(form, v2)
        return user_answer(req, grant.client_id, grant.user, resource, form, v2)

    for v2, ver in ((True, "/v2.0"), (False, "")):
        router.add(
            "GET",
            f"/{{tenant}}{ver}/.well-known/openid-configuration",
            lambda req, tenant, v2=v2: openid(req, tenant, v2),
        )
        router.add("POST", f"/{{tenant}}/oauth2{ver}/token", lambda req, tenant, v2=v2: token(req, tenant, v2))
        router.add("POST", f"/{{tenant}}/oauth2{ver}/devicecode", devicecode)
        router.add("GET", f"/{{tenant}}/discovery{ver}/keys", keys)
    router.add("GET", "/common/discovery/instance", instance_discovery)
    router.add("GET", "/metadata/endpoints", metadata)


def describe_principals(principals: list[ServicePrincipal]) -> list[dict[str, str]]:
    return [p.describe() for p in principals]


__all__ = ["TENANT_DOMAIN", "cloud_metadata", "describe_principals", "is_anonymous", "register"]
