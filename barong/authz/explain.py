"""Authorization explain and dry-run: why `/api/v2/auth/<path>` answers what it answers,
and which recent decisions a proposed permission or restriction change would flip.

`explain` walks the gateway's steps in the gateway's order (barong.authz.gateway) with
the same functions — `restrictions.hit` (what `check` raises on), the authz rules'
`blocked`/`passed`, the account lookups, `required_actions.enforce`,
`permissions.decide_rows` (what `decide` is), the cooldown's `permissions.drops`, the
operator-2FA rule — and records each step instead of stopping silently. It takes the
caller as a user uid, an API key's kid, or a bare role (then the account steps are
skipped); the session binding, CSRF and API-key signature are the caller's own proof
and not policy, so they are not evaluated. tests/authz/test_explain.py checks over random
permission tables and requests that it never disagrees with the real gateway.

`dry_run` replays the recent decisions kept in the admin audit log (denied and AUDITed
requests carry their path) against the proposed table, writing nothing.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta

from barong.authz import account_by_uid, key_info
from barong.authz import rules as rules_module
from barong.errors import BarongError
from barong.extensions import db
from barong.models import Activity, Permission, Restriction, User, utcnow
from barong.services.access import permissions, restrictions

ACTION_METHODS = {"read": ("GET",), "create": ("POST",), "update": ("PUT", "PATCH"), "delete": ("DELETE",)}


@dataclass
class Trace:
    method: str
    path: str
    ip: str
    steps: list[dict] = field(default_factory=list)
    status: int = 200
    code: str | None = None
    role: str | None = None

    def step(self, name: str, outcome: str, **detail) -> None:
        self.steps.append({"step": name, "outcome": outcome, **detail})

    def refuse(self, name: str, code: str, status: int, **detail) -> "Trace":
        self.step(name, "refused", code=code, status=status, **detail)
        self.status, self.code = status, code
        return self

    def as_dict(self) -> dict:
        return {"method": self.method, "path": self.path, "ip": self.ip, "role": self.role, "status": self.status,
                "code": self.code, "result": "allowed" if self.status < 400 else "refused", "steps": self.steps}


def _row_dict(row) -> dict:
    verb, path, action, topic = row[:4]
    return {"verb": verb, "path": path, "action": action, "topic": topic}


def explain(method: str, path: str, ip: str, *, uid: str | None = None, kid: str | None = None,
            role: str | None = None) -> Trace:
    method, path = method.upper(), path.lstrip("/")
    t = Trace(method, path, ip)
    found = restrictions.hit(ip, path)
    if found is not None:
        category, scope, value, code = found
        if category != "whitelist":
            return t.refuse("restrictions", f"authz.restrict.{category}", code, category=category, scope=scope,
                            value=value)
        t.step("restrictions", "whitelisted", scope=scope, value=value)
    else:
        t.step("restrictions", "none matched")
    rules = rules_module.current()
    if rules.blocked(path):
        return t.refuse("rules", "authz.permission_denied", 401, rule="block")
    if rules.passed(path):
        t.step("rules", "pass", detail="no caller needed, no JWT")
        return t
    t.step("rules", "checked")

    account = None
    if kid:
        key = key_info(kid)
        if key is None:
            return t.refuse("caller", "authz.unexistent_apikey", 401, kid=kid)
        if key.state != "active":
            return t.refuse("caller", "authz.apikey_not_active", 401, kid=kid)
        if key.expires_at is not None and time.time() >= key.expires_at:
            return t.refuse("caller", "authz.apikey_expired", 401, kid=kid)
        if key.allowed is not None:
            from barong.authz import key_usage

            if not key_usage.ip_allowed(key.allowed, ip):
                return t.refuse("caller", "authz.apikey_ip_not_allowed", 401, kid=kid)
        from barong.authz import account_by_id

        account = account_by_id(key.holder_type, key.holder_id)
        if account is None or not account.is_active_state:
            return t.refuse("caller", "authz.invalid_session", 401, kid=kid)
        if account.is_user and not account.otp:
            return t.refuse("caller", "authz.disabled_2fa", 401, kid=kid)
        t.step("caller", "api key", kid=kid, uid=account.uid, role=account.role,
               note="nonce and signature are the caller's proof: not evaluated")
    elif uid:
        account = account_by_uid(uid)
        if account is None:
            return t.refuse("caller", "authz.invalid_session", 401, uid=uid)
        if not account.is_active_state:
            return t.refuse("caller", "authz.user_not_active", 401, uid=uid, state=account.state)
        t.step("caller", "session", uid=uid, role=account.role, note="session binding and CSRF: not evaluated")
    else:
        t.step("caller", "role only", role=role)
    t.role = account.role if account is not None else role

    if account is not None and account.is_user:
        from barong.services.accounts import required_actions

        try:
            required_actions.enforce(account.uid, method, path)
        except BarongError as err:
            return t.refuse("required actions", err.code, err.status)
        t.step("required actions", "none pending")

    considered = permissions.rules_for(t.role)
    matched: list = []
    decision = permissions.decide_rows(considered, method, path, trace=matched)
    winner = next((r for r in matched if r[2] == "DROP"), None) or next((r for r in matched if r[2] == "ACCEPT"), None)
    detail = {"rows_considered": len(considered), "matched": [_row_dict(r) for r in matched],
              "winner": _row_dict(winner) if winner else None, "audit": decision.audit}
    if not decision.allowed:
        return t.refuse("permissions", "authz.invalid_permission", 401,
                        reason="a DROP row matched" if winner and winner[2] == "DROP" else "no ACCEPT row matched",
                        **detail)
    t.step("permissions", "accepted", **detail)

    cooldown_until = getattr(account, "cooldown_until", None) if account is not None else None
    if cooldown_until is not None and time.time() < cooldown_until:
        from barong.services.accounts.cooldown import COOLDOWN_ROLE

        if permissions.drops(COOLDOWN_ROLE, method, path):
            return t.refuse("security cooldown", "authz.security_cooldown", 403)
        t.step("security cooldown", "path not dropped")

    if account is not None and account.is_user and path.startswith("api/v2/barong/admin/") and not account.otp:
        from flask import current_app

        if current_app.config.get("BARONG_CONSOLE_REQUIRE_2FA"):
            from barong.services.accounts import webauthn

            if not webauthn.has_credentials(account):
                return t.refuse("operator 2FA", "admin.2fa.required", 403)
    t.step("result", "JWT issued" if account is not None else "allowed for the role")
    return t


# ---- dry-run ------------------------------------------------------------------------------

def _table() -> dict[str, list[tuple]]:
    table: dict[str, list[tuple]] = {}
    for p in db.session.query(Permission).order_by(Permission.id):
        table.setdefault(p.role, []).append((p.verb.upper(), p.path, p.action.upper(), p.topic, p.id))
    return table


def _proposed_permissions(op: str, fields: dict, perm_id: int | None) -> dict[str, list[tuple]]:
    table = _table()
    if op in ("update", "delete"):
        perm = db.session.get(Permission, perm_id) if perm_id else None
        if perm is None:
            raise BarongError("admin.permission.doesnt_exist", 404)
        table = {role: [r for r in rows if r[4] != perm.id] for role, rows in table.items()}
        if op == "update":
            merged = {"role": perm.role, "verb": perm.verb, "path": perm.path, "action": perm.action,
                      "topic": perm.topic, **{k: v for k, v in fields.items() if v not in (None, "")}}
            table.setdefault(merged["role"], []).append((merged["verb"].upper(), merged["path"],
                                                         merged["action"].upper(), merged["topic"], perm.id))
            table[merged["role"]].sort(key=lambda r: r[4])
    elif op == "create":
        missing = [k for k in ("role", "verb", "path", "action") if not fields.get(k)]
        if missing:
            raise BarongError([f"{k}.blank" for k in missing], 422)
        table.setdefault(fields["role"], []).append((fields["verb"].upper(), fields["path"], fields["action"].upper(),
                                                     fields.get("topic"), 10**18))
    else:
        raise BarongError("admin.authz.invalid_op", 422)
    return table


def _recent(days: int, limit: int):
    since = utcnow() - timedelta(days=days)
    rows = (db.session.query(Activity, User.uid, User.role).join(User, User.id == Activity.user_id)
            .filter(Activity.category == "admin", Activity.created_at >= since, Activity.result.in_(("denied", "succeed")))
            .order_by(Activity.id.desc()).limit(limit))
    for activity, uid, role in rows:
        try:
            data = json.loads(activity.data or "{}")
        except ValueError:
            continue
        path = data.get("path") if isinstance(data, dict) else None
        if not isinstance(path, str):
            continue
        for method in ACTION_METHODS.get(activity.action or "", ()):
            yield activity, uid, role, method, path


def dry_run(kind: str, op: str, fields: dict | None = None, target_id: int | None = None,
            days: int = 7, limit: int = 5000) -> dict:
    """Which of the last `days` days' logged decisions (at most `limit` rows) a proposed
    change flips. kind: permission | restriction; op: create | update | delete."""
    fields = {k: v for k, v in (fields or {}).items() if v is not None}
    flips, seen = [], 0
    if kind == "permission":
        proposed = _proposed_permissions(op, fields, target_id)
        current = _table()
        for activity, uid, role, method, path in _recent(days, limit):
            seen += 1
            before = permissions.decide_rows(current.get(role, []), method, path).allowed
            after = permissions.decide_rows(proposed.get(role, []), method, path).allowed
            if before != after:
                flips.append({"activity_id": activity.id, "uid": uid, "role": role, "method": method, "path": path,
                              "at": activity.created_at.isoformat(timespec="seconds") + "Z",
                              "before": "allowed" if before else "refused", "after": "allowed" if after else "refused"})
    elif kind == "restriction":
        flips, seen = _dry_run_restriction(op, fields, target_id, days, limit)
    else:
        raise BarongError("admin.authz.invalid_kind", 422)
    return {"kind": kind, "op": op, "decisions_checked": seen, "flips": flips}


def _restriction_matches(r: dict, ip: str) -> bool:
    import ipaddress

    scope, value = r["scope"], str(r["value"]).strip()
    if scope == "all":
        return True
    if scope == "ip":
        return value == ip
    if scope == "ip_subnet":
        try:
            return ipaddress.ip_address(ip) in ipaddress.ip_network(value, strict=False)
        except ValueError:
            return False
    from barong.services.infra import geoip

    name = (geoip.lookup(ip) or {}).get(scope)
    return bool(name) and name.casefold() == value.casefold()


def _dry_run_restriction(op, fields, target_id, days, limit):
    """A refusal flips when the change adds or removes the only matching blocking
    restriction for the request's IP (whitelists and categories' order considered)."""
    rows = [{"id": r.id, "category": r.category, "scope": r.scope, "value": r.value, "state": r.state}
            for r in db.session.query(Restriction)]
    current = [r for r in rows if r["state"] == "enabled"]
    from barong.models.restriction import CATEGORIES, SCOPES

    if op == "create":
        missing = [k for k in ("category", "scope", "value") if not fields.get(k)]
        if missing:
            raise BarongError([f"{k}.blank" for k in missing], 422)
    bad = [f"admin.restriction.invalid_{k}" for k, allowed in (("category", CATEGORIES), ("scope", SCOPES))
           if k in fields and fields[k] not in allowed]
    if bad:
        raise BarongError(bad, 422)
    if op == "create":
        proposed = current + [{"id": None, "state": "enabled", **fields}]
    elif op in ("update", "delete"):
        if not any(r["id"] == target_id for r in rows):
            raise BarongError("admin.restriction.doesnt_exist", 404)
        proposed = [r for r in rows if r["id"] != target_id]
        if op == "update":
            proposed.append({**next(r for r in rows if r["id"] == target_id), **fields})
        proposed = [r for r in proposed if r.get("state", "enabled") == "enabled"]
    else:
        raise BarongError("admin.authz.invalid_op", 422)

    def blocked(table, ip, path):
        for category in restrictions.CATEGORY_ORDER:
            if category == "blocklogin" and path != restrictions.SESSIONS_PATH:
                continue
            if any(r["category"] == category and _restriction_matches(r, ip) for r in table):
                return category != "whitelist"
        return False

    flips, seen = [], 0
    since = utcnow() - timedelta(days=days)
    q = (db.session.query(Activity, User.uid).join(User, User.id == Activity.user_id)
         .filter(Activity.created_at >= since).order_by(Activity.id.desc()).limit(limit))
    for activity, uid in q:
        seen += 1
        path = ""
        try:
            data = json.loads(activity.data or "{}")
            path = data.get("path", "") if isinstance(data, dict) else ""
        except ValueError:
            pass
        before, after = blocked(current, activity.user_ip, path), blocked(proposed, activity.user_ip, path)
        if before != after:
            flips.append({"activity_id": activity.id, "uid": uid, "ip": activity.user_ip, "path": path or None,
                          "at": activity.created_at.isoformat(timespec="seconds") + "Z",
                          "before": "refused" if before else "allowed", "after": "refused" if after else "allowed"})
    return flips, seen
