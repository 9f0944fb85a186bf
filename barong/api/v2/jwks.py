"""`GET /api/v2/barong/public/jwks`: the JWT signing key as a JWKS (also at /.well-known/jwks.json)."""
from __future__ import annotations

from barong.api.params import document
from barong.api.v2.authz import jwks_document
from barong.api.v2.public import bp


@bp.get("/jwks")
@document(summary="Public key (JWKS) that verifies the JWTs returned by /api/v2/auth")
def jwks():
    return jwks_document()
