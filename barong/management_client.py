"""A small Management API client: sign a request with one or more keys and send it.

    from barong.management_client import Signer, build_request, call
    signers = [Signer.from_pem_file("applogic", "applogic.pem")]
    status, headers, body = call("http://127.0.0.1:8000", "users/get", {"uid": "ID…"}, signers)

or from the shell:

    flask management call users/get --key applogic=applogic.pem --data '{"uid": "ID…"}'
    flask management call labels --method PUT --key applogic=applogic.pem --secret peatio=s3cret \
        --data '{"user_uid": "ID…", "key": "kyc", "value": "verified"}'
    flask management keychain-value applogic.pem     # the `value:` line for management_api.yml

A private key's algorithm is inferred (RSA → RS256; EC P-256/384/521 → ES256/384/512)
unless `--alg NAME=ALG` says otherwise; `--secret NAME=SECRET` signs with HS256.
"""
from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask.cli import AppGroup

from barong.security import jws

API_PREFIX = "/api/v2/barong/management/"
_EC_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


@dataclass
class Signer:
    name: str
    algorithm: str
    key: Any  # private key object, or bytes (HS secret)

    @classmethod
    def from_pem(cls, name: str, pem: bytes | str, algorithm: str | None = None) -> "Signer":
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
        if algorithm is None:
            if isinstance(key, rsa.RSAPrivateKey):
                algorithm = "RS256"
            elif isinstance(key, ec.EllipticCurvePrivateKey):
                algorithm = _EC_ALGS.get(key.curve.name)
            if algorithm is None:
                raise ValueError(f"{name}: unsupported key type; use an RSA or EC (P-256/384/521) key")
        return cls(name, algorithm, key)

    @classmethod
    def from_pem_file(cls, name: str, path: str | Path, algorithm: str | None = None) -> "Signer":
        return cls.from_pem(name, Path(path).read_bytes(), algorithm)

    @classmethod
    def hmac(cls, name: str, secret: str | bytes, algorithm: str = "HS256") -> "Signer":
        return cls(name, algorithm, secret.encode() if isinstance(secret, str) else secret)


def keychain_value(public_pem: bytes | str) -> str:
    """management_api.yml `value:` for a public key PEM (URL-safe base64)."""
    pem = public_pem.encode() if isinstance(public_pem, str) else public_pem
    if b"PRIVATE KEY" in pem:
        key = serialization.load_pem_private_key(pem, password=None)
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(pem).decode()


def build_request(data: dict | None, signers: list[Signer], expires_in: int = 60, jti: str | None = None,
                  **claims) -> dict:
    """The JWS JSON body for `data`, with iat/exp/jti claims, signed by every signer."""
    now = int(time.time())
    payload = {"iat": now, "exp": now + expires_in, "jti": jti or uuid.uuid4().hex, "data": data or {}}
    payload.update(claims)
    return jws.sign_general(payload, [(s.name, s.algorithm, s.key) for s in signers])


def url_for(base_url: str, path: str) -> str:
    path = path.strip()
    if path.startswith(("http://", "https://")):
        return path
    if path.startswith("/api/"):
        return base_url.rstrip("/") + path
    return base_url.rstrip("/") + API_PREFIX + path.lstrip("/")


def call(base_url: str, path: str, data: dict | None, signers: list[Signer], method: str = "POST",
         expires_in: int = 60, timeout: float = 30) -> tuple[int, dict, Any]:
    """Send a signed request; returns (status, headers, parsed JSON body or text)."""
    body = json.dumps(build_request(data, signers, expires_in)).encode()
    req = urllib.request.Request(url_for(base_url, path), data=body, method=method.upper(),
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (operator-given URL)
            status, headers, raw = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        status, headers, raw = err.code, dict(err.headers), err.read()
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, headers, parsed


def _pairs(values: tuple[str, ...], option: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint=option)
        out.append((name, rest))
    return out


def signers_from_options(keys: tuple[str, ...], secrets: tuple[str, ...], algs: tuple[str, ...]) -> list[Signer]:
    overrides = dict(_pairs(algs, "--alg"))
    signers = []
    for name, path in _pairs(keys, "--key"):
        try:
            signers.append(Signer.from_pem_file(name, path, overrides.get(name)))
        except (OSError, ValueError, TypeError) as exc:
            raise click.BadParameter(f"{name}: cannot load {path}: {exc}", param_hint="--key") from None
    for name, secret in _pairs(secrets, "--secret"):
        signers.append(Signer.hmac(name, secret, overrides.get(name, "HS256")))
    for s in signers:
        if s.algorithm not in jws.ALGORITHMS:
            raise click.BadParameter(f"{s.name}: unsupported algorithm {s.algorithm}", param_hint="--alg")
    if not signers:
        raise click.UsageError("give at least one --key NAME=PEM or --secret NAME=SECRET")
    return signers


cli = AppGroup("management", help="Call the Management API with signed requests.")


@cli.command("call")
@click.argument("path")
@click.option("--key", "keys", multiple=True, metavar="NAME=PEM", help="signer name and private key file")
@click.option("--secret", "secrets", multiple=True, metavar="NAME=SECRET", help="HS256 signer and shared secret")
@click.option("--alg", "algs", multiple=True, metavar="NAME=ALG", help="algorithm of a signer (RS512, ES384, …)")
@click.option("--data", default="{}", help="JSON object: the endpoint's parameters")
@click.option("--method", default="POST", type=click.Choice(["POST", "PUT"], case_sensitive=False))
@click.option("--url", default=lambda: os.environ.get("BARONG_MANAGEMENT_URL")
              or f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}",
              show_default="$BARONG_MANAGEMENT_URL or http://$HOST:$PORT", help="server base URL")
@click.option("--expires-in", default=60, show_default=True, help="seconds until the request expires")
def call_command(path, keys, secrets, algs, data, method, url, expires_in):
    """Sign DATA with every key and send it to management PATH (e.g. users/get)."""
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from None
    if not isinstance(payload, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--data")
    signers = signers_from_options(keys, secrets, algs)
    try:
        status, headers, body = call(url, path, payload, signers, method=method, expires_in=expires_in)
    except (urllib.error.URLError, OSError) as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from None
    click.echo(f"HTTP {status}", err=True)
    for name in ("Total", "Page", "Per-Page"):
        if name in headers:
            click.echo(f"{name}: {headers[name]}", err=True)
    click.echo(json.dumps(body, indent=2) if not isinstance(body, str) else body)
    if status >= 400:
        raise SystemExit(1)


@cli.command("keychain-value")
@click.argument("pem_file", type=click.Path(exists=True, dir_okay=False))
def keychain_value_command(pem_file):
    """Print the management_api.yml `value:` of a key (the public half of a private key)."""
    click.echo(keychain_value(Path(pem_file).read_bytes()))
