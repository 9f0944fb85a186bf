"""JWS JSON general serialization (RFC 7515 §7.2.1): multi-signature verify and sign.

    {"payload": "<b64url(JSON claims)>",
     "signatures": [{"protected": "<b64url({"alg": "RS256"})>", "header": {"kid": "applogic"},
                     "signature": "<b64url>"}, …]}

Each signature covers `protected + "." + payload` exactly as transmitted (the
payload segment is never re-encoded, so a co-signature keeps the others valid).

Algorithms: RS256/384/512, ES256/384/512 (public keys) and HS256/384/512 (shared
secret). A signature must use an algorithm of its key's family (an RSA key only
verifies RS*, an EC key ES*, a secret HS*): the header cannot switch a public key
into an HMAC secret.
"""
from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import get_default_algorithms

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512")
_ALGS = get_default_algorithms()


class JWSError(Exception):
    """The JWS is malformed, a signature does not verify, or a claim is refused."""


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise JWSError("not a base64url string")
    try:
        data = text.encode("ascii")
        return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise JWSError("invalid base64url") from None


def family(algorithm: str) -> str:
    return algorithm[:2]


@dataclass(frozen=True)
class VerifyKey:
    """One keychain entry: the signer's public key (RS/ES) or shared secret (HS)."""

    name: str
    algorithm: str
    key: Any  # RSAPublicKey / EllipticCurvePublicKey / bytes

    def accepts(self, algorithm: str) -> bool:
        return algorithm in ALGORITHMS and family(algorithm) == family(self.algorithm)


def load_verify_key(name: str, algorithm: str, value: str) -> VerifyKey:
    """Build a VerifyKey from the management_api.yml entry. Raises ValueError with a reason."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("value is empty")
    if family(algorithm) == "HS":
        return VerifyKey(name, algorithm, value.encode())
    try:
        pem = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("value is not URL-safe base64") from None
    if b"PRIVATE KEY" in pem:
        raise ValueError("value is a private key; put the signer's PUBLIC key here")
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise ValueError("value does not decode to a PEM public key") from None
    if family(algorithm) == "RS" and not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{algorithm} needs an RSA public key")
    if family(algorithm) == "ES" and not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError(f"{algorithm} needs an EC public key")
    return VerifyKey(name, algorithm, key)


@dataclass
class ClaimOptions:
    """management_api.yml `jwt:` options (Barong's names)."""

    leeway: int = 30
    iss: str | None = None
    aud: str | None = None
    verify_iss: bool = False
    verify_aud: bool = False
    require: tuple = ("exp", "jti")  # CONTRACT §6: every payload has exp and jti

    @classmethod
    def from_config(cls, raw: dict | None) -> "ClaimOptions":
        raw = raw or {}
        out = cls()
        if raw.get("leeway") is not None:
            out.leeway = int(raw["leeway"])
        out.iss, out.aud = raw.get("iss"), raw.get("aud")
        out.verify_iss = bool(raw.get("verify_iss", out.iss is not None))
        out.verify_aud = bool(raw.get("verify_aud", out.aud is not None))
        return out


@dataclass
class Verified:
    claims: dict
    signers: list[str] = field(default_factory=list)


def _json_b64(segment: str) -> Any:
    try:
        return json.loads(b64url_decode(segment))
    except (ValueError, UnicodeDecodeError):
        raise JWSError("segment is not base64url JSON") from None


def decode_json(segment: str) -> Any:
    """A base64url JSON segment (payload or protected header), decoded. Raises JWSError."""
    return _json_b64(segment)


def _number(claims: dict, name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise JWSError(f"{name} is not a number")
    return float(value)


def check_claims(claims: dict, options: ClaimOptions, now: float | None = None) -> None:
    now = time.time() if now is None else now
    for name in options.require:
        if claims.get(name) in (None, ""):
            raise JWSError(f"{name} is missing")
    exp, nbf, iat = _number(claims, "exp"), _number(claims, "nbf"), _number(claims, "iat")
    if exp is not None and exp <= now - options.leeway:
        raise JWSError("expired")
    if nbf is not None and nbf > now + options.leeway:
        raise JWSError("not yet valid")
    if iat is not None and iat > now + options.leeway:
        raise JWSError("issued in the future")
    jti = claims.get("jti")
    if jti is not None and (isinstance(jti, bool) or not isinstance(jti, (str, int))):
        raise JWSError("jti is not a string")
    if options.verify_iss and claims.get("iss") != options.iss:
        raise JWSError("iss mismatch")
    if options.verify_aud:
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if options.aud not in auds:
            raise JWSError("aud mismatch")


def parse_general(body: Any) -> tuple[str, list[dict]]:
    if not isinstance(body, dict) or not isinstance(body.get("payload"), str):
        raise JWSError("payload is missing")
    signatures = body.get("signatures")
    if not isinstance(signatures, list):
        raise JWSError("signatures is not a list")
    for sig in signatures:
        if not isinstance(sig, dict) or not isinstance(sig.get("protected"), str) or \
                not isinstance(sig.get("signature"), str):
            raise JWSError("malformed signature entry")
        if sig.get("header") is not None and not isinstance(sig["header"], dict):
            raise JWSError("malformed signature header")
    return body["payload"], signatures


def signature_kid(sig: dict) -> str | None:
    header = sig.get("header") or {}
    kid = header.get("kid")
    if kid is None:
        protected = _json_b64(sig["protected"])
        kid = protected.get("kid") if isinstance(protected, dict) else None
    return kid if isinstance(kid, str) else None


def verify_general(body: Any, keys: dict[str, VerifyKey], options: ClaimOptions | None = None,
                   now: float | None = None) -> Verified:
    """Verify every signature whose kid is in `keys` (others are ignored); return the claims
    and the names of the signers that verified. Raises JWSError."""
    options = options or ClaimOptions()
    payload, signatures = parse_general(body)
    claims = _json_b64(payload)
    if not isinstance(claims, dict):
        raise JWSError("payload is not a JSON object")
    verified: list[str] = []
    for sig in signatures:
        kid = signature_kid(sig)
        key = keys.get(kid) if kid is not None else None
        if key is None:
            continue  # not a permitted signer: ignored
        header = _json_b64(sig["protected"])
        alg = header.get("alg") if isinstance(header, dict) else None
        if not isinstance(alg, str) or not key.accepts(alg):
            raise JWSError(f"{kid}: algorithm {alg!r} not allowed for this key")
        impl = _ALGS[alg]
        message = f"{sig['protected']}.{payload}".encode("ascii", "replace")
        try:
            ok = impl.verify(message, key.key, b64url_decode(sig["signature"]))
        except Exception:  # malformed key/signature inside the library
            ok = False
        if not ok:
            raise JWSError(f"{kid}: signature does not verify")
        if kid not in verified:
            verified.append(kid)
    if verified:
        check_claims(claims, options, now)
    return Verified(claims, verified)


def load_private_key(pem: bytes | str, algorithm: str):
    """A signing key: PEM private key for RS/ES, the secret itself for HS."""
    if isinstance(pem, str):
        pem = pem.encode()
    if family(algorithm) == "HS":
        return pem
    return serialization.load_pem_private_key(pem, password=None)


def sign(payload_b64: str, kid: str, algorithm: str, private_key) -> dict:
    """One signature entry over an already-encoded payload segment."""
    if algorithm not in ALGORITHMS:
        raise JWSError(f"algorithm {algorithm!r} not supported")
    protected = b64url_encode(json.dumps({"alg": algorithm}, separators=(",", ":")).encode())
    impl = _ALGS[algorithm]
    key = private_key
    if isinstance(key, (bytes, str)):
        key = load_private_key(key, algorithm)
    signature = impl.sign(f"{protected}.{payload_b64}".encode("ascii"), key)
    return {"protected": protected, "header": {"kid": kid}, "signature": b64url_encode(signature)}


def encode_payload(claims: dict) -> str:
    return b64url_encode(json.dumps(claims, separators=(",", ":")).encode())


def sign_general(claims: dict, signers: list[tuple[str, str, Any]]) -> dict:
    """`signers`: (kid, algorithm, private key or HS secret). Returns the JWS JSON object."""
    payload = encode_payload(claims)
    return {"payload": payload, "signatures": [sign(payload, kid, alg, key) for kid, alg, key in signers]}


def add_signature(jws: dict, kid: str, algorithm: str, private_key) -> dict:
    """Return `jws` with a signature by `kid` added (replacing an earlier one by the same kid)."""
    payload, signatures = parse_general(jws)
    kept = [s for s in signatures if signature_kid(s) != kid]
    return {"payload": payload, "signatures": kept + [sign(payload, kid, algorithm, private_key)]}
