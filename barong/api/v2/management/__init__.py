"""`/api/v2/barong/management/…`: service-to-service API, JWS multi-signature (CONTRACT §6).

Every endpoint is declared with `@management_signed(scope, errors, *Param…)`, which
runs the gate (reference/management.md §1) before the view and hands the view the
payload's `data`, parsed like any other API's parameters:

1. verb POST/PUT only → 405 `management.jwt.only_post_and_put_allowed`
2. no query string → 400 `management.jwt.query_parameters_not_allowed`
3. `Content-Type: application/json` → else 400 `management.jwt.only_json_body`
4. body parses as JSON → else 400 `management.jwt.could_not_parse`
5. scope configured, JWS well formed, permitted signatures verify, claims valid
   (exp/nbf/iat/jti, optional iss/aud) → else 401 `management.jwt.failed_to_verify`
6. every mandatory signer verified → else 401 `management.jwt.not_enough_signatures`
7. `jti` not seen within its lifetime → else 401 `management.jwt.jti_already_used`
"""
from __future__ import annotations

import functools
import hashlib
import time
from typing import Callable

from flask import Blueprint, g, request

from barong.api.params import (
    PAGINATION_PARAMS,
    Declaration,
    Param,
    check_pagination,
    parse,
)
from barong.errors import BarongError
from barong.rawinput import loads_json
from barong.security import jws

bp = Blueprint("management", __name__)

VERBS = ("POST", "PUT")
_JTI_PREFIX = "mgmt-jti:"


class GateError(BarongError):
    pass


def _fail(code: str, status: int):
    raise GateError(f"management.jwt.{code}", status)


def _read_body():
    if request.method not in VERBS:
        _fail("only_post_and_put_allowed", 405)
    if request.query_string:
        _fail("query_parameters_not_allowed", 400)
    if request.mimetype != "application/json":
        _fail("only_json_body", 400)
    try:
        return loads_json(request.get_data(as_text=True))
    except ValueError:  # NaN, 100,000 nested brackets: not JSON either
        _fail("could_not_parse", 400)


def verify_request(scope: str) -> dict:
    """Run the gate for `scope`; return the payload's `data` (a dict)."""
    from barong.services.access import management_keychain
    from barong.services.infra import kv, unit_of_work

    body = _read_body()
    chain = management_keychain.keychain()
    if scope not in chain.scopes:
        _fail("failed_to_verify", 401)
    try:
        verified = jws.verify_general(body, chain.permitted_keys(scope), chain.options)
    except jws.JWSError:
        _fail("failed_to_verify", 401)
    mandatory = chain.scopes[scope].mandatory_signers
    if not verified.signers or any(s not in verified.signers for s in mandatory):
        _fail("not_enough_signatures", 401)
    claims = verified.claims
    data = claims.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        _fail("failed_to_verify", 401)
    jti_key = _JTI_PREFIX + hashlib.sha256(str(claims["jti"]).encode()).hexdigest()
    if kv.get(jti_key) is not None:
        _fail("jti_already_used", 401)
    exp = claims.get("exp")
    ttl = max(1, int(float(exp) - time.time()) + chain.options.leeway + 1) if exp is not None else 86400
    kv.set(jti_key, "1", ttl)
    unit_of_work.durable(kv.set, jti_key, "1", ttl)  # a refused call still burns its jti
    g.management_signers = verified.signers
    g.management_claims = claims
    return data


def management_signed(scope: str, errors: str, *params: Param, status: int = 201, summary: str = "",
                      paginated: bool = False, max_limit: int = 100) -> Callable:
    """Gate + parameters from the payload's `data`; the view gets the parsed params `p`.

    `scope`: the keychain scope (read_users…); `errors`: the error-code prefix
    (`management.user` → `management.user.missing_email`)."""
    plist = list(params) + (list(PAGINATION_PARAMS) if paginated else [])

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            data = verify_request(scope)
            p = parse(errors, plist, source=data)
            if paginated:
                check_pagination(p, max_limit)
            return view(p, *args, **kwargs)

        wrapper.barong_declaration = Declaration(errors, plist, status, summary or (view.__doc__ or "").strip(),
                                                 paginated, {"management_scope": scope})
        wrapper.management_scope = scope
        return wrapper

    return decorator


@bp.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def _unrouted(path):
    """Wrong verb on a management path → 405 (Barong's gate runs before routing); unknown path → 404."""
    from flask import current_app

    allowed = sorted({m for rule in current_app.url_map.iter_rules()
                      if rule.endpoint.startswith("management.") and rule.endpoint != "management._unrouted"
                      and rule.rule == request.path.rstrip("/") for m in rule.methods & set(VERBS)})
    if request.method not in VERBS or allowed:  # e.g. GET anywhere, PUT on a POST-only endpoint
        from barong.api.v2 import allow_header

        raise GateError("management.jwt.only_post_and_put_allowed", 405,  # RFC 9110: say what is allowed
                        headers={"Allow": allow_header(request.environ) if allowed else ", ".join(VERBS)})
    raise BarongError("record.not_found", 404)


from barong.api.v2.management import (  # noqa: E402,F401  (routes register on bp)
    api_keys,
    documents,
    labels,
    otp,
    phones,
    profiles,
    service_accounts,
    tools,
    users,
)
