"""A custom (sovereign, air-gapped, local) cloud: signing in contacts its own authority only — never the public
login host that MSAL's instance discovery asks about authorities it does not know."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from console.config import Profile
from console.credentials import build_credential
from console.profiles import cloud_for
from services.cloud import BUILTIN_CLOUDS
from services.secrets import MemorySecrets

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture()
def hosts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every host name a connection is attempted to; any host but loopback is unreachable."""
    seen: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        seen.append(name)
        if name not in LOOPBACK:
            raise socket.gaierror(socket.EAI_NONAME, f"{name} is unreachable here")
        return real(host, *args, **kwargs)

    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", recording)
    yield seen


@pytest.mark.parametrize("kind", ["secret", "certificate", "environment", "device-code"])
def test_a_credential_of_a_custom_cloud_contacts_only_its_authority(
    kind: str, emulator: Any, hosts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ci, _automation, deployer, *_ = emulator.service_principals  # the emulator tenant's app registrations
    tenant = emulator.tenant_id
    auth, client_id = "service-principal", ci.client_id
    extra: dict[str, Any] = {"client_secret_ref": "sp/secret"}
    if kind == "certificate":
        client_id, extra = deployer.client_id, {"certificate": deployer.certificate_file}
    elif kind == "environment":
        auth, extra = "environment", {}
        monkeypatch.setenv("AZURE_TENANT_ID", tenant)
        monkeypatch.setenv("AZURE_CLIENT_ID", ci.client_id)
        monkeypatch.setenv("AZURE_CLIENT_SECRET", ci.secret)
    elif kind == "device-code":
        auth, client_id, extra = "device-code", "", {}  # the first-party public client, as `az login` signs in
        monkeypatch.setattr("console.credentials.encrypted_cache_available", lambda: False)
    profile = Profile(
        "airgapped",
        auth=auth,
        cloud="custom",
        endpoint=emulator.endpoint,
        ca_bundle=emulator.ca_file,
        tenant=tenant,
        client_id=client_id,
        **extra,
    )
    cloud = cloud_for(profile)
    credential = build_credential(
        profile, cloud, secrets=MemorySecrets({"sp/secret": ci.secret}), device_code_prompt=lambda *a: None
    )
    mark = len(emulator.request_log)
    token = credential.get_token(cloud.arm_scope)
    assert token.token.count(".") == 2  # a JWT from the custom authority
    assert hosts, "no connection was attempted at all"
    assert set(hosts) <= LOOPBACK, hosts
    # MSAL went straight to the custom authority's OpenID configuration, over TLS with the cloud's CA
    paths = [p for _m, p, _s in emulator.request_log[mark:]]
    assert f"/{tenant}/v2.0/.well-known/openid-configuration" in paths, paths


def test_public_and_sovereign_clouds_keep_instance_discovery(emulator: Any) -> None:
    assert all(c.known_authority for c in BUILTIN_CLOUDS.values())
    assert not cloud_for(Profile("local", auth="emulator", cloud="custom", endpoint=emulator.endpoint)).known_authority


def _self_signed_pem() -> bytes:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azml-test-sp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem + cert.public_bytes(serialization.Encoding.PEM)
