"""What a console user may do: the SAME two layers as the admin JSON API.

Every console capability names the admin API call it is equivalent to (verb + path)
and the admin ability that call needs. A capability is granted when

1. the gateway permission table lets the user's role make that call
   (barong.services.access.permissions.decide — what barong.authz asks; the rows edited on the
   Permissions page, so a change there is effective at once), and
2. the role's abilities (barong.services.access.abilities, abilities.yml) allow the action.

Templates hide what `can()` refuses; `@console_requires` refuses it on the server.
"""
from __future__ import annotations

from flask import g

API = "api/v2/barong/admin/"

#: capability → (ability action, ability subject or None for "no ability check", verb, admin API path)
CAPABILITIES: dict[str, tuple[str | None, str | None, str, str]] = {
    "dashboard": ("read", "User", "GET", API + "metrics"),
    "users.read": ("read", "User", "GET", API + "users"),
    "users.update": ("update", "User", "PUT", API + "users"),
    "users.role": ("update", "Role", "POST", API + "users/role"),
    # support-desk actions (barong.web.console.user_support ↔ barong.api.v2.admin.support)
    "sessions.read": ("read", "Session", "GET", API + "users/sessions"),
    "sessions.destroy": ("destroy", "Session", "DELETE", API + "users/sessions"),
    "users.password_reset": ("update", "User", "POST", API + "users/password_reset"),
    "users.email_confirmation": ("update", "User", "POST", API + "users/email_confirmation"),
    "required_actions.update": ("update", "RequiredAction", "POST", API + "users/required_actions"),
    # read-only "view as user" (barong.web.console.view_as): console only, held to reading users
    "users.view_as": ("read", "UserView", "GET", API + "users"),
    "labels.create": ("create", "Label", "POST", API + "users/labels"),
    "labels.update": ("update", "Label", "PUT", API + "users/labels"),
    "labels.destroy": ("destroy", "Label", "DELETE", API + "users/labels"),
    "comments.create": (None, None, "POST", API + "users/comments"),
    "data_storage.destroy": ("destroy", "User", "DELETE", API + "users/data_storage"),
    "api_keys.read": ("read", "APIKey", "GET", API + "api_keys"),
    "api_keys.update": ("update", "APIKey", "PUT", API + "users/api_keys"),
    "api_keys.destroy": ("destroy", "APIKey", "DELETE", API + "users/api_keys"),
    "kyc.read": ("read", "User", "GET", API + "users/documents/pending"),
    "kyc.decide": ("update", "Label", "POST", API + "users/labels/update"),
    # issue 14: one document's decision, reviewer metrics (barong.web.console.kyc, dashboard)
    "kyc.decide_document": ("update", "DocumentReview", "POST", API + "users/documents/decision"),
    "kyc.metrics": ("read", "DocumentReview", "GET", API + "kyc/metrics"),
    "permissions.read": ("read", "Permission", "GET", API + "permissions"),
    "permissions.create": ("create", "Permission", "POST", API + "permissions"),
    "permissions.update": ("update", "Permission", "PUT", API + "permissions"),
    "permissions.destroy": ("destroy", "Permission", "DELETE", API + "permissions"),
    "restrictions.read": ("read", "Restriction", "GET", API + "restrictions"),
    "restrictions.create": ("create", "Restriction", "POST", API + "restrictions"),
    "restrictions.update": ("update", "Restriction", "PUT", API + "restrictions"),
    "restrictions.destroy": ("destroy", "Restriction", "DELETE", API + "restrictions"),
    "whitelink.create": ("create", "Restriction", "POST", API + "restrictions/whitelink"),
    "levels.read": ("read", "Level", "GET", API + "levels"),
    # issue 17: four-eyes requests (each decision also needs the held action's own ability)
    "approvals.read": ("read", "Ability", "GET", API + "approvals"),
    "authz.explain": ("read", "Permission", "GET", API + "authz/explain"),
    # issue 17: signed webhooks (barong.web.console.webhooks)
    "webhooks.read": ("read", "Webhook", "GET", API + "webhooks"),
    "webhooks.create": ("create", "Webhook", "POST", API + "webhooks"),
    "webhooks.update": ("update", "Webhook", "PUT", API + "webhooks"),
    "webhooks.destroy": ("destroy", "Webhook", "DELETE", API + "webhooks"),
    # issue 17: reveal a user's personal data with a reason (barong.web.console.pii)
    "pii.reveal": ("reveal", "PersonalData", "POST", API + "users/reveal"),
    "activities.read": ("read", "Activity", "GET", API + "activities"),
    "activities.admin": ("read", "AdminActivity", "GET", API + "activities/admin"),
    # The event outbox has no admin API twin: it is an operator's view of the Event API,
    # granted to whoever may read the admin audit log.
    "outbox.read": ("read", "AdminActivity", "GET", API + "activities/admin"),
}


def gateway_permits(role: str, verb: str, path: str) -> bool:
    """The RBAC decision barong.authz takes for (role, verb, path), without its side effects."""
    from barong.services.access import permissions

    return permissions.decide(role, verb, path).allowed


def ability_allows(user, action: str | None, subject: str | None) -> bool:
    from barong.services.access import abilities

    return action is None or abilities.can(user, action, subject)


def can(user, capability: str) -> bool:
    """May `user` use `capability`? Memoised per request (templates ask often)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    action, subject, verb, path = CAPABILITIES[capability]
    cache = g.setdefault("_console_can", {})
    key = (user.uid, user.role, capability)
    if key not in cache:
        cache[key] = gateway_permits(user.role, verb, path) and ability_allows(user, action, subject)
    return cache[key]


def can_enter(user) -> bool:
    """The console is for roles that may read something in it."""
    return any(can(user, c) for c in ("dashboard", "users.read", "kyc.read", "restrictions.read",
                                      "permissions.read", "activities.read"))


def clear_memo() -> None:
    g.pop("_console_can", None)
