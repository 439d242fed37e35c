"""The emulator's own Entra ID: the demo tenant's service principals, signing keys and tokens.

Service principals are deterministic from the seed (their own generator, so the estate is unchanged): two
with a client secret and one with a certificate whose RSA key is built from seeded primes, so the same seed
gives the same client ids, secrets and certificate. Tokens the token endpoint issues are RS256 JWTs signed
with a key made per run and published in the JWKS; the in-process ``EmulatorCredential``'s unsigned tokens
keep working, as the ARM check reads only the claims (tid, exp).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from .credential import TOKEN_LIFETIME_S

# The first-party public clients a device-code sign-in may name (Azure CLI, Azure PowerShell, VS Code).
PUBLIC_CLIENTS = {
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
    "1950a258-227b-4e31-a9cf-717495945fc2": "Microsoft Azure PowerShell",
    "aebc6443-996d-45c2-90f0-388ff96faa56": "Visual Studio Code",
}
TENANT_DOMAIN = "contoso.onmicrosoft.com"
TENANT_ALIASES = ("common", "organizations", TENANT_DOMAIN)
# The signed-in user of device-code flows: the same person the in-process EmulatorCredential speaks for.
DEMO_USER = {"oid": "6f1c2a8e-3d4b-4c5a-9e7f-1a2b3c4d5e6f", "upn": "ops@contoso.example", "name": "Demo Operator"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


# -- deterministic RSA keys ---------------------------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p**0.5) + 1, 2))]


def _probable_prime(n: int, rng: random.Random) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(24):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, rng: random.Random, e: int) -> int:
    while True:
        n = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if n % e != 1 and _probable_prime(n, rng):
            return n


_KEY_CACHE: dict[str, rsa.RSAPrivateKey] = {}
_KEY_LOCK = threading.Lock()


def seeded_rsa_key(seed: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key that is the same for the same seed (cryptography takes no random source of ours)."""
    with _KEY_LOCK:
        if seed in _KEY_CACHE:
            return _KEY_CACHE[seed]
        rng = random.Random(f"rsa:{seed}")
        e = 65537
        while True:
            p, q = _prime(bits // 2, rng, e), _prime(bits // 2, rng, e)
            if p != q:
                break
        if p < q:
            p, q = q, p
        d = pow(e, -1, (p - 1) * (q - 1))
        numbers = rsa.RSAPrivateNumbers(
            p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, p * q)
        )
        key = numbers.private_key()
        _KEY_CACHE[seed] = key
        return key


def self_signed(key: rsa.RSAPrivateKey, common_name: str, serial: int) -> x509.Certificate:
    """A certificate for ``key`` with fixed dates: the same key gives byte-identical PEM."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
        .sign(key, hashes.SHA256())
    )


# -- service principals -------------------------------------------------------------------------


@dataclass
class ServicePrincipal:
    name: str
    client_id: str  # appId
    object_id: str  # the service principal's object id (oid in its tokens)
    secret: str = ""
    certificate_pem: bytes = b""  # the public certificate registered on the app
    key_pem: bytes = b""  # its private key (the client keeps it; the emulator only shows it to tests)
    certificate_file: str = ""  # PEM with key and certificate, written on first need
    certificate_seed: str = ""  # set for a certificate principal: its key is built from this seed
    certificate_serial: int = 1
    has_access: bool = True  # False: no role assignment anywhere (AuthorizationFailed)

    def materialize(self) -> None:
        """Build the certificate principal's key and certificate (deterministic from its seed)."""
        if self.certificate_seed and not self.certificate_pem:
            key = seeded_rsa_key(self.certificate_seed)
            cert = self_signed(key, self.name, serial=self.certificate_serial)
            self.key_pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            self.certificate_pem = cert.public_bytes(serialization.Encoding.PEM)

    @property
    def thumbprints(self) -> tuple[bytes, bytes]:
        """(SHA-1, SHA-256) thumbprints of the certificate, as x5t / x5t#S256 carry them (base64)."""
        cert = x509.load_pem_x509_certificate(self.certificate_pem)
        return cert.fingerprint(hashes.SHA1()), cert.fingerprint(hashes.SHA256())

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "client_id": self.client_id, "object_id": self.object_id}
        if self.secret:
            out["client_secret"] = self.secret
        if self.certificate_file:
            out["certificate_file"] = self.certificate_file
        if not self.has_access:
            out["role_assignments"] = "none"
        return out


def _secret(rng: random.Random) -> str:
    # Entra ID secrets: 40 characters with "~" at the fourth (a 3-character id, then the value).
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
    head = "".join(rng.choice(alphabet) for _ in range(3))
    return head + "8Q~" + "".join(rng.choice(alphabet) for _ in range(34))


def seeded_principals(seed: int) -> list[ServicePrincipal]:
    rng = random.Random(f"{seed}:principals")

    def guid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    ci = ServicePrincipal("azml-ci", guid(), guid(), secret=_secret(rng))
    automation = ServicePrincipal("azml-automation", guid(), guid(), secret=_secret(rng))
    # its key and certificate are made on first need (seeded primes take a moment; the demo never needs them)
    deployer = ServicePrincipal("azml-deployer", guid(), guid(), certificate_seed=f"{seed}:azml-deployer")
    deployer.certificate_serial = rng.getrandbits(63) | 1
    # signs in, but holds no role assignment: it sees no subscription and is refused everything else
    outsider = ServicePrincipal("azml-no-access", guid(), guid(), secret=_secret(rng), has_access=False)
    return [ci, automation, deployer, outsider]


# -- issuing and checking tokens ----------------------------------------------------------------


class AadError(Exception):
    """An Entra ID error answer: {"error", "error_description": "AADSTSnnnn: ...", "error_codes", ...}."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.code = code
        self.message = message

    def body(self, trace_id: str, correlation_id: str) -> dict[str, Any]:
        stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}",
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"/error?code={self.code}",
        }


@dataclass
class DeviceCode:
    client_id: str
    user_code: str
    scope: str
    expires_at: float
    pending_left: int  # authorization_pending answers still to give before the simulated user approves


@dataclass
class Grant:
    """What a refresh token stands for."""

    client_id: str
    user: dict[str, str]


@dataclass
class Directory:
    """The demo tenant: who may sign in, the signing key, and the state of device codes and refresh tokens."""

    tenant_id: str
    seed: int
    principals: list[ServicePrincipal] = field(default_factory=list)
    device_codes: dict[str, DeviceCode] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _key: rsa.RSAPrivateKey | None = None
    _cert: x509.Certificate | None = None
    _cert_dir: str = ""

    def __post_init__(self) -> None:
        if not self.principals:
            self.principals = seeded_principals(self.seed)

    def write_certificates(self, directory: str) -> None:
        """Where certificate principals' PEM files (key and certificate, as CertificateCredential reads) go."""
        self._cert_dir = directory

    def materialize(self) -> list[ServicePrincipal]:
        """The principals with their certificates built, and written once a directory is known."""
        with self.lock:
            for sp in self.principals:
                sp.materialize()
                if sp.certificate_pem and self._cert_dir and not sp.certificate_file:
                    path = os.path.join(self._cert_dir, f"{sp.name}.pem")
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    with os.fdopen(fd, "wb") as f:
                        f.write(sp.key_pem + sp.certificate_pem)
                    sp.certificate_file = path
        return self.principals

    def principal(self, client_id: str) -> ServicePrincipal | None:
        return next((p for p in self.principals if p.client_id.lower() == client_id.lower()), None)

    def without_access(self, caller: dict[str, Any]) -> bool:
        """Whether a token's caller is a principal with no role assignment."""
        oid = str(caller.get("oid") or "").lower()
        return bool(oid) and any(not p.has_access and p.object_id.lower() == oid for p in self.principals)

    def knows_tenant(self, tenant: str) -> bool:
        return tenant.lower() == self.tenant_id.lower() or tenant.lower() in TENANT_ALIASES

    # -- signing --

    def signing_key(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        with self.lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                self._cert = self_signed(self._key, "azml-console emulator token signing", 1)
            assert self._cert is not None
            return self._key, self._cert

    @property
    def kid(self) -> str:
        _, cert = self.signing_key()
        return b64url(cert.fingerprint(hashes.SHA1()))

    def jwks(self, issuer: str) -> dict[str, Any]:
        key, cert = self.signing_key()
        numbers = key.public_key().public_numbers()
        kid = self.kid
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": kid,
                    "x5t": kid,
                    "n": _int_b64(numbers.n),
                    "e": _int_b64(numbers.e),
                    "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()],
                    "issuer": issuer,
                }
            ]
        }

    def sign(self, claims: dict[str, Any]) -> str:
        key, _ = self.signing_key()
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid, "x5t": self.kid}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    # -- tokens --

    def access_token(
        self,
        resource: str,
        *,
        client_id: str,
        principal: ServicePrincipal | None = None,
        user: dict[str, str] | None = None,
        appidacr: str = "1",
    ) -> tuple[str, int]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME_S,
            "tid": self.tenant_id,
            "appid": client_id,
            "azp": client_id,
            "appidacr": appidacr,
            "ver": "1.0",
            "uti": b64url(uuid.uuid4().bytes),
        }
        if principal is not None:
            claims.update({"oid": principal.object_id, "sub": principal.object_id, "idtyp": "app"})
        elif user is not None:
            claims.update(
                {
                    "oid": user["oid"],
                    "sub": user["oid"],
                    "upn": user["upn"],
                    "unique_name": user["upn"],
                    "name": user["name"],
                    "scp": "user_impersonation",
                    "idtyp": "user",
                }
            )
        return self.sign(claims), TOKEN_LIFETIME_S

    def id_token(self, issuer: str, client_id: str, user: dict[str, str]) -> str:
        now = int(time.time())
        return self.sign(
            {
                "aud": client_id,
                "iss": issuer,
                "iat": now,
                "nbf": now,
                "exp": now + TOKEN_LIFETIME_S,
                "name": user["name"],
                "oid": user["oid"],
                "preferred_username": user["upn"],
                "sub": user["oid"],
                "tid": self.tenant_id,
                "ver": "2.0",
            }
        )

    def new_refresh_token(self, client_id: str, user: dict[str, str]) -> str:
        token = b64url(os.urandom(48))
        with self.lock:
            if len(self.refresh_tokens) > 10_000:
                self.refresh_tokens.clear()
            self.refresh_tokens[token] = Grant(client_id, dict(user))
        return token

    def check_secret(self, sp: ServicePrincipal, secret: str) -> bool:
        return bool(sp.secret) and hmac.compare_digest(sp.secret.encode(), secret.encode())

    def check_assertion(self, sp: ServicePrincipal, assertion: str, audiences: set[str]) -> None:
        """Verify a client assertion (a JWT signed with the principal's certificate); AadError if it fails."""
        try:
            head_b64, payload_b64, sig_b64 = assertion.split(".")
            header = json.loads(b64url_decode(head_b64))
            claims = json.loads(b64url_decode(payload_b64))
        except ValueError:
            raise AadError(401, "invalid_client", 50027, "Invalid JWT token. The token is malformed.") from None
        sp.materialize()
        if not sp.certificate_pem:
            raise AadError(
                401,
                "invalid_client",
                700027,
                f"The certificate with identifier used to sign the client assertion is not registered on "
                f"application. [Reason - The key was not found., Thumbprint of key used by client: "
                f"'{header.get('x5t', '')}']",
            )
        try:
            presented = b64url_decode(
                str(header.get("x5t#S256") or header.get("x5t") or "").replace("+", "-").replace("/", "_").rstrip("=")
            )
        except ValueError:
            presented = b""
        if presented not in sp.thumbprints:
            raise AadError(
                401,
                "invalid_client",
                700027,
                "The certificate with identifier used to sign the client assertion is not registered on "
                f"application. [Reason - The key was not found., Thumbprint of key used by client: "
                f"'{header.get('x5t', '')}']",
            )
        public = x509.load_pem_x509_certificate(sp.certificate_pem).public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        signed = f"{head_b64}.{payload_b64}".encode()
        alg = header.get("alg")
        try:
            if alg == "RS256":
                public.verify(b64url_decode(sig_b64), signed, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "PS256":
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
                public.verify(b64url_decode(sig_b64), signed, pss, hashes.SHA256())
            else:
                raise InvalidSignature()
        except InvalidSignature:
            raise AadError(401, "invalid_client", 700027, "Client assertion contains an invalid signature.") from None
        if claims.get("iss") != sp.client_id or claims.get("sub") != sp.client_id:
            raise AadError(
                401,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )
        if str(claims.get("aud", "")).rstrip("/") not in audiences:
            raise AadError(
                401,
                "invalid_client",
                50027,
                f"JWT token is invalid or malformed: the audience '{claims.get('aud')}' is not this token endpoint.",
            )
        if int(claims.get("exp", 0)) < time.time():
            raise AadError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
