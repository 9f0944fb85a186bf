"""admin/authz/explain and admin/authz/dry_run (issue 17): why the gateway answers what it
answers for a caller, verb, path and IP; which logged decisions a proposed permission or
restriction change would flip. Both read only (barong.authz.explain). Ability: read
Permission (superadmin, admin)."""
from __future__ import annotations

from flask import jsonify

from barong.api.auth import api_auth
from barong.api.params import INT32, Param, use_params
from barong.api.v2.admin import ability, bp
from barong.authz import explain as explainer
from barong.errors import BarongError

S = "admin.authz"
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


@bp.get("/authz/explain")
@api_auth
@use_params(S, Param("uid", description="a user's uid (the caller)"), Param("kid", description="or an API key's kid"),
            Param("role", description="or a bare role (the account steps are skipped)"),
            Param("verb", required=True, values=VERBS, invalid=f"{S}.invalid_verb"),
            Param("path", required=True, allow_blank=False, max_length=2048,
                  description="the path after /api/v2/auth/, e.g. api/v2/peatio/account/balances"),
            Param("ip", description="the client address (default 127.0.0.1)"),
            summary="Explains the gateway's decision: restriction, rules, caller, permission rows, result",
            errors={422: "admin.authz.one_of_uid_kid_role"})
@ability("read", "Permission")
def authz_explain(p):
    given = [k for k in ("uid", "kid", "role") if p.get(k)]
    if len(given) != 1:
        raise BarongError(f"{S}.one_of_uid_kid_role", 422)
    trace = explainer.explain(p["verb"], p["path"], p.get("ip") or "127.0.0.1",
                              **{given[0]: p[given[0]]})
    return jsonify(trace.as_dict())


@bp.get("/authz/dry_run")
@api_auth
@use_params(S, Param("kind", required=True, values=("permission", "restriction"), invalid=f"{S}.invalid_kind"),
            Param("op", required=True, values=("create", "update", "delete"), invalid=f"{S}.invalid_op"),
            Param("id", int, invalid=f"{S}.non_integer_id", minimum=INT32[0], maximum=INT32[1],
                  description="the row updated or deleted"),
            Param("role"), Param("verb"), Param("path"), Param("action"), Param("topic"),
            Param("category"), Param("scope"), Param("value"), Param("state"),
            Param("days", int, invalid=f"{S}.non_integer_days", minimum=1, maximum=90,
                  description="how far back to replay (default 7)"),
            summary="Lists the logged decisions (denied and audited requests) a proposed change would flip; "
                    "writes nothing")
@ability("read", "Permission")
def authz_dry_run(p):
    names = ("role", "verb", "path", "action", "topic") if p["kind"] == "permission" else \
        ("category", "scope", "value", "state")
    fields = {k: p.get(k) for k in names if p.get(k) not in (None, "")}
    return jsonify(explainer.dry_run(p["kind"], p["op"], fields, p.get("id"), days=p.get("days") or 7))
