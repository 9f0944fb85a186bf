"""Authorization explain and dry-run in the console: the same functions as
GET admin/authz/explain and admin/authz/dry_run (barong.authz.explain); nothing is written."""
from __future__ import annotations

from flask import render_template, request

from barong.authz import explain as explainer
from barong.errors import BarongError
from barong.web.console import bp
from barong.web.console.helpers import console_requires, humanize_refusal

VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@bp.get("/authz")
@console_requires("authz.explain")
def authz_index():
    a = request.args
    trace = dry = error = None
    try:
        if a.get("path"):
            who = {k: a.get(k).strip() for k in ("uid", "kid", "role") if (a.get(k) or "").strip()}
            if len(who) != 1:
                raise BarongError("admin.authz.one_of_uid_kid_role", 422)
            verb = (a.get("verb") or "GET").upper()
            if verb not in VERBS:
                raise BarongError("admin.authz.invalid_verb", 422)
            trace = explainer.explain(verb, a["path"].strip(), (a.get("ip") or "127.0.0.1").strip(), **who).as_dict()
        if a.get("dry_kind"):
            kind = a["dry_kind"]
            names = ("role", "verb", "path", "action", "topic") if kind == "permission" else \
                ("category", "scope", "value", "state")
            fields = {k: a.get(f"dry_{k}").strip() for k in names if (a.get(f"dry_{k}") or "").strip()}
            target = int(a["dry_id"]) if (a.get("dry_id") or "").strip().isdigit() else None
            dry = explainer.dry_run(kind, a.get("dry_op") or "create", fields, target)
    except BarongError as err:
        error = humanize_refusal(err)
    return render_template("console/authz.html", args=a, trace=trace, dry=dry, error=error, verbs=VERBS,
                           active="authz")
