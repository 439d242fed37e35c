"""Sign-in on the emulator's own authority with real clients: azure-identity's ClientSecretCredential,
CertificateCredential and DeviceCodeCredential (through MSAL), and plain HTTPS for the anonymous documents."""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential, DeviceCodeCredential
from azure.mgmt.resource.subscriptions import SubscriptionClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from emulator import Emulator, EmulatorConfig
from emulator.credential import decode_token
from emulator.identity import DEMO_USER

ARM = "https://management.azure.com/.default"


def _call(
    emu: Emulator, path: str, *, data: dict[str, str] | None = None, token: str | None = None
) -> tuple[int, dict[str, str], Any]:
    ctx = ssl.create_default_context(cafile=emu.ca_file)
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(emu.endpoint + path, data=body, method="POST" if data is not None else "GET")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def _kwargs(emu: Emulator) -> dict[str, Any]:
    return {"authority": emu.endpoint, "disable_instance_discovery": True, "connection_verify": emu.ca_file}


def _secret_sp(emu: Emulator) -> Any:
    return next(p for p in emu.service_principals if p.secret)


def _cert_sp(emu: Emulator) -> Any:
    return next(p for p in emu.service_principals if p.certificate_file)


def _verify_with_jwks(emu: Emulator, token: str) -> None:
    """The token's RS256 signature holds under the key the JWKS publishes for its kid."""
    head, payload, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    status, _, jwks = _call(emu, f"/{emu.tenant_id}/discovery/v2.0/keys")
    assert status == 200 and header["alg"] == "RS256"
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    cert = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0]))
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    n = int.from_bytes(base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4)), "big")
    assert public.public_numbers().n == n
    sig = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    public.verify(sig, f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())


def test_openid_discovery_is_anonymous_and_names_the_emulator(emulator: Emulator) -> None:
    status, _, doc = _call(emulator, f"/{emulator.tenant_id}/v2.0/.well-known/openid-configuration")
    assert status == 200
    assert doc["token_endpoint"] == f"{emulator.authority}/oauth2/v2.0/token"
    assert doc["device_authorization_endpoint"] == f"{emulator.authority}/oauth2/v2.0/devicecode"
    assert doc["jwks_uri"] == f"{emulator.authority}/discovery/v2.0/keys"
    assert doc["issuer"] == f"{emulator.authority}/v2.0"
    status, _, v1 = _call(emulator, f"/{emulator.tenant_id}/.well-known/openid-configuration")
    assert status == 200 and v1["token_endpoint"] == f"{emulator.authority}/oauth2/token"
    assert v1["issuer"] == f"https://sts.windows.net/{emulator.tenant_id}/"


def test_client_secret_credential_signs_in_and_a_real_sdk_call_succeeds(emulator: Emulator) -> None:
    sp = _secret_sp(emulator)
    cred = ClientSecretCredential(emulator.tenant_id, sp.client_id, sp.secret, **_kwargs(emulator))
    token = cred.get_token(ARM)
    claims = decode_token(token.token)
    assert claims["tid"] == emulator.tenant_id and claims["oid"] == sp.object_id
    assert claims["appid"] == sp.client_id == claims["azp"] and claims["idtyp"] == "app"
    assert claims["aud"] == "https://management.azure.com" and "upn" not in claims
    assert claims["iat"] <= time.time() <= claims["exp"] and claims["nbf"] <= time.time()
    _verify_with_jwks(emulator, token.token)
    subs = SubscriptionClient(cred, base_url=emulator.endpoint, connection_verify=emulator.ca_file)
    assert sorted(s.subscription_id for s in subs.subscriptions.list()) == sorted(emulator.subscription_ids)


def test_a_wrong_secret_gets_aadsts7000215(emulator: Emulator) -> None:
    sp = _secret_sp(emulator)
    status, _, body = _call(
        emulator,
        f"/{emulator.tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": sp.client_id, "client_secret": "x", "scope": ARM},
    )
    assert status == 401 and body["error"] == "invalid_client" and body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)
    cred = ClientSecretCredential(emulator.tenant_id, sp.client_id, "not-the-secret", **_kwargs(emulator))
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        cred.get_token(ARM)


def test_unknown_client_and_unknown_tenant(emulator: Emulator) -> None:
    stranger = "00000000-1111-4222-8333-444444444444"
    cred = ClientSecretCredential(emulator.tenant_id, stranger, "x", **_kwargs(emulator))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        cred.get_token(ARM)
    status, _, body = _call(emulator, "/not-a-tenant.example/v2.0/.well-known/openid-configuration")
    assert status == 400 and body["error_codes"] == [90002] and "AADSTS90002" in body["error_description"]
    sp = _secret_sp(emulator)
    elsewhere = ClientSecretCredential("not-a-tenant.example", sp.client_id, sp.secret, **_kwargs(emulator))
    with pytest.raises(ClientAuthenticationError, match="Unable to get authority configuration"):
        elsewhere.get_token(ARM)  # MSAL's words for a failed discovery, as against Entra ID


def test_certificate_credential_signs_in_and_another_key_is_refused(emulator: Emulator, tmp_path: Any) -> None:
    sp = _cert_sp(emulator)
    cred = CertificateCredential(
        emulator.tenant_id, sp.client_id, certificate_path=sp.certificate_file, **_kwargs(emulator)
    )
    claims = decode_token(cred.get_token(ARM).token)
    assert claims["appid"] == sp.client_id and claims["appidacr"] == "2"
    # the same certificate with another private key: the assertion's signature does not hold
    cert = x509.load_pem_x509_certificate(sp.certificate_pem)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = tmp_path / "forged.pem"
    forged.write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    bad = CertificateCredential(emulator.tenant_id, sp.client_id, certificate_path=str(forged), **_kwargs(emulator))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        bad.get_token(ARM)


def test_device_code_is_pending_once_then_approved_and_refresh_tokens_serve_other_scopes(emulator: Emulator) -> None:
    prompts: list[tuple[str, str]] = []
    cred = DeviceCodeCredential(
        tenant_id=emulator.tenant_id,
        prompt_callback=lambda url, code, expires: prompts.append((url, code)),
        **_kwargs(emulator),
    )
    token_path = f"/{emulator.tenant_id}/oauth2/v2.0/token"
    before = len(emulator.request_log)
    record = cred.authenticate(scopes=[ARM])
    answers = [s for m, p, s in emulator.request_log[before:] if p == token_path]
    assert answers == [400, 200]  # one authorization_pending, then the simulated user's approval
    assert len(prompts) == 1 and prompts[0][0] == f"{emulator.endpoint}/devicelogin"
    assert record.username == DEMO_USER["upn"] and record.tenant_id == emulator.tenant_id
    claims = decode_token(cred.get_token(ARM).token)
    assert claims["upn"] == DEMO_USER["upn"] and claims["oid"] == DEMO_USER["oid"] and claims["idtyp"] == "user"
    # another audience: MSAL redeems the refresh token (no second device code)
    before = len(emulator.request_log)
    la = decode_token(cred.get_token("https://api.loganalytics.io/.default").token)
    assert la["aud"] == "https://api.loganalytics.io" and len(prompts) == 1
    assert [s for m, p, s in emulator.request_log[before:] if p == token_path] == [200]


def test_instance_discovery_and_cloud_metadata(emulator: Emulator) -> None:
    auth = urllib.parse.quote(f"{emulator.authority}/oauth2/v2.0/authorize", safe="")
    status, _, doc = _call(emulator, f"/common/discovery/instance?api-version=1.1&authorization_endpoint={auth}")
    assert status == 200
    assert doc["tenant_discovery_endpoint"] == f"{emulator.authority}/v2.0/.well-known/openid-configuration"
    status, _, meta = _call(emulator, "/metadata/endpoints?api-version=2022-09-01")
    assert status == 200 and isinstance(meta, dict)
    assert meta["resourceManager"] == emulator.endpoint + "/"
    assert meta["authentication"]["loginEndpoint"] == emulator.endpoint + "/"
    assert meta["authentication"]["audiences"] and meta["authentication"]["identityProvider"] == "AAD"
    assert {"storage", "keyVaultDns", "acrLoginServer"} <= set(meta["suffixes"])
    assert meta["portal"].startswith(emulator.endpoint) and meta["graph"].startswith(emulator.endpoint)
    status, _, old = _call(emulator, "/metadata/endpoints?api-version=2019-05-01")
    assert status == 200 and isinstance(old, list) and old[0]["name"] == meta["name"]


def test_the_401_challenge_names_the_emulators_authority(emulator: Emulator) -> None:
    status, headers, body = _call(emulator, "/subscriptions?api-version=2022-12-01")
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"
    challenge = headers["WWW-Authenticate"]
    assert f'authorization_uri="{emulator.authority}"' in challenge and "login.microsoftonline.com" not in challenge


def test_the_expired_token_fault_challenges_with_the_emulators_authority(fresh_emulator: Emulator) -> None:
    from emulator.faults import parse_faults

    fresh_emulator.faults.add(parse_faults("^/subscriptions$:401:times=1")[0])
    token = fresh_emulator.credential().get_token(ARM).token
    status, headers, _ = _call(fresh_emulator, "/subscriptions?api-version=2022-12-01", token=token)
    assert status == 401
    assert f'authorization_uri="{fresh_emulator.authority}"' in headers["WWW-Authenticate"]


def test_service_principals_are_deterministic_from_the_seed() -> None:
    a, b, c = (Emulator(EmulatorConfig(seed=s)) for s in (7, 7, 8))
    assert [p.describe() for p in a.service_principals] == [p.describe() for p in b.service_principals]
    assert [p.certificate_pem for p in a.service_principals] == [p.certificate_pem for p in b.service_principals]
    assert {p.client_id for p in a.service_principals}.isdisjoint(p.client_id for p in c.service_principals)
    assert sum(1 for p in a.service_principals if p.secret and p.has_access) == 2
    assert sum(1 for p in a.service_principals if p.certificate_pem) == 1
    assert a.estate.resources == b.estate.resources  # the principals leave the estate's generator alone


def test_the_v1_token_endpoint_takes_a_resource(emulator: Emulator) -> None:
    sp = _secret_sp(emulator)
    form = {"grant_type": "client_credentials", "client_id": sp.client_id, "client_secret": sp.secret}
    status, _, body = _call(emulator, f"/{emulator.tenant_id}/oauth2/token", data={**form, "resource": ARM[:-9]})
    assert status == 200 and body["token_type"] == "Bearer" and body["resource"] == "https://management.azure.com"
    assert int(body["expires_on"]) > time.time() and decode_token(body["access_token"])["appid"] == sp.client_id
    status, _, body = _call(emulator, f"/{emulator.tenant_id}/oauth2/token", data=form)
    assert status == 400 and body["error_codes"] == [900144] and "'resource'" in body["error_description"]


def test_device_code_approval_after_a_chosen_number_of_polls() -> None:
    with Emulator(EmulatorConfig(seed=7, options={"device_code_polls": "0"})) as emu:
        cred = DeviceCodeCredential(tenant_id=emu.tenant_id, prompt_callback=lambda *a: None, **_kwargs(emu))
        cred.get_token(ARM)
        token_path = f"/{emu.tenant_id}/oauth2/v2.0/token"
        assert [s for m, p, s in emu.request_log if p == token_path] == [200]  # approved at once
    with pytest.raises(ValueError, match="device_code_polls"):
        Emulator(EmulatorConfig(seed=7, options={"device_code_polls": "soon"}))


def test_a_doubled_slash_after_the_endpoint_still_finds_the_metadata(emulator: Emulator) -> None:
    status, _, meta = _call(emulator, "//metadata/endpoints?api-version=2022-09-01")  # "$E/" + "/metadata/..."
    assert status == 200 and meta["resourceManager"] == emulator.endpoint + "/"


def test_a_principal_without_role_assignments_sees_nothing_and_is_refused_in_arms_words(emulator: Emulator) -> None:
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.resource.resources import ResourceManagementClient

    sp = next(p for p in emulator.service_principals if not p.has_access)
    cred = ClientSecretCredential(emulator.tenant_id, sp.client_id, sp.secret, **_kwargs(emulator))
    subs = SubscriptionClient(cred, base_url=emulator.endpoint, connection_verify=emulator.ca_file)
    assert list(subs.subscriptions.list()) == []
    sub = emulator.subscription_ids[0]
    rmc = ResourceManagementClient(cred, sub, base_url=emulator.endpoint, connection_verify=emulator.ca_file)
    with pytest.raises(HttpResponseError) as exc:
        list(rmc.resource_groups.list())
    assert exc.value.status_code == 403 and exc.value.error is not None
    assert exc.value.error.code == "AuthorizationFailed"
    assert exc.value.error.message == (
        f"The client '{sp.client_id}' with object id '{sp.object_id}' does not have authorization to perform action "
        f"'Microsoft.Resources/subscriptions/resourceGroups/read' over scope '/subscriptions/{sub}' or the scope is "
        "invalid. If access was recently granted, please refresh your credentials."
    )
