"""A protected upstream behind the gateway (what peatio is to Barong): it trusts nothing but
the `Authorization: Bearer <JWT>` the gateway set, verified with the keys Barong publishes.

GET/POST/… any path → 200 `{"claims": {...}, "method": …, "path": …}` when the JWT verifies
(RS256, `aud` contains peatio, `iss` barong, `exp` ahead); else 401 `{"errors": [...]}`.
"""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from jwt import PyJWKClient


def make_server(host: str, port: int, jwks_url: str) -> ThreadingHTTPServer:
    jwks = PyJWKClient(jwks_url, cache_keys=True, timeout=5)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            auth = self.headers.get("Authorization") or ""
            if not auth.startswith("Bearer "):
                return self._answer(401, {"errors": ["upstream.missing_jwt"]})
            token = auth[len("Bearer "):]
            try:
                key = jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256"], audience="peatio", issuer="barong",
                                    options={"require": ["exp", "iat", "sub", "jti"]})
            except Exception as exc:  # noqa: BLE001 — any failure is a refusal
                return self._answer(401, {"errors": [f"upstream.invalid_jwt.{type(exc).__name__}"]})
            self._answer(200, {"claims": claims, "method": self.command, "path": self.path,
                               "cookie_forwarded": bool(self.headers.get("Cookie"))})

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    return ThreadingHTTPServer((host, port), Handler)
