"""`/api/v2/auth/<path>`: the gateway's authorization endpoint (reference/authz.md), and
`/.well-known/jwks.json`, the public key gateways verify the returned JWT with.

Any verb. `<path>` is the original request path without its leading slash. Success:
200, empty body, `Authorization: Bearer <JWT>` (no header for `pass` paths). Failure:
the status and `{"errors": ["authz.…"]}` (barong.errors handles BarongError).
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from barong import authz
from barong.security.jwt_keys import keypair

bp = Blueprint("authz", __name__)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


@bp.route("/", defaults={"path": ""}, methods=METHODS, provide_automatic_options=False)
@bp.route("/<path:path>", methods=METHODS, provide_automatic_options=False)
def authorize(path):
    token = authz.gateway(request.method, path)
    response = Response(b"", 200)
    if token is not None:
        response.headers["Authorization"] = f"Bearer {token}"
    return response


def jwks_document():
    """{"keys": [<the server's RS256 public key>]} — cacheable, the key changes only on redeploy."""
    response = jsonify(keys=[keypair().jwk()])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.record_once
def _register_well_known(state) -> None:
    state.app.add_url_rule("/.well-known/jwks.json", "jwks_well_known", jwks_document, methods=["GET"])
