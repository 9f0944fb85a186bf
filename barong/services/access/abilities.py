"""Per-role admin abilities: the original's CanCan rules (`config/abilities.yml`), in one
place, used by the admin API and by the operator console.

Two layers decide what an operator may do (reference/admin.md):

1. the RBAC permission table (barong.authz) — only for requests that go through the API;
2. these abilities — everywhere.

`for_role(role)` is the original's map (what `GET admin/abilities` returns).
`can(user, action, subject)` answers one question and adds the per-role rules the
original's *default gateway permissions* enforce, because the console has no gateway
in front of it:

* changing a user's role (`update Role`), reading the admin audit log
  (`read AdminActivity`) and managing RBAC rows (`* Permission`) are superadmin-only
  (the seeded permissions DROP every other operator role on those paths);
* setting a user's role to `superadmin` or touching a superadmin is superadmin-only
  (`admin_users` raises `admin.user.superadmin_change` for the latter).

Actions: read, create, update, destroy; `manage` = every action; subject `all` =
every subject. A role absent from the table has no abilities.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from flask import current_app, has_app_context

from barong.errors import BarongError

ACTIONS = ("read", "create", "update", "destroy")
SUBJECTS = ("Ability", "User", "Level", "Label", "Profile", "Activity", "APIKey", "Permission", "Restriction",
            "Document", "Comment", "DataStorage", "Role", "AdminActivity")

#: reference/admin.md §1 — Barong's default config/abilities.yml
DEFAULT_ABILITIES: dict[str, dict[str, list[str]]] = {
    "superadmin": {"manage": ["Ability", "User", "Level", "Label", "Profile", "Activity", "APIKey", "Permission",
                              "Restriction", "Document"]},
    "admin": {"manage": ["Ability", "User", "Level", "Label", "Profile", "APIKey", "Restriction", "Document"],
              "read": ["Activity", "Permission"]},
    "technical": {"manage": ["APIKey", "Restriction"],
                  "read": ["Ability", "User", "Level", "Label", "Profile", "Activity"]},
    "accountant": {"read": ["Ability", "User", "Level", "Label", "Profile", "Activity"]},
    "compliance": {"manage": ["User", "Level", "Label", "Profile"], "read": ["Ability", "Document"]},
    "support": {"manage": ["User"], "read": ["Ability", "Label", "Level", "Profile", "Activity"]},
}

#: This project's subjects beyond the original's (support-desk actions, barong.services.operators.support_actions):
#: `Session` (read: list a user's sessions, destroy: revoke them) and `RequiredAction` (update: force a
#: password change / 2FA enrolment), `UserView` (read: the console's read-only "view as user",
#: barong.services.operators.view_as). Kept apart so `GET admin/abilities` shows the original's map; an
#: abilities.yml that names one of these subjects decides it instead of this table.
#: `DocumentReview` (issue 14, barong.services.verification.document_review): update = decide one
#: document (approve / reject / request a re-upload), read = the reasons catalogue, review states,
#: decision history and reviewer metrics — `compliance` decides, `support` reads.
#: `Webhook` (issue 17, barong.services.delivery.webhooks): endpoints and their deliveries —
#: superadmin and technical manage, admin reads.
EXTENSION_SUBJECTS = ("Session", "RequiredAction", "UserView", "DocumentReview", "Webhook", "PersonalData")
#: PersonalData (issue 17, barong.services.operators.pii): `read` = unmasked always, `reveal` =
#: unmasked after a reveal with a reason (one audit row). Support and technical: masked, no reveal.
EXTENSION_ABILITIES: dict[str, dict[str, list[str]]] = {
    "superadmin": {"manage": ["Session", "RequiredAction", "DocumentReview", "Webhook", "PersonalData"],
                   "read": ["UserView"]},
    "admin": {"manage": ["Session", "RequiredAction", "DocumentReview", "PersonalData"], "read": ["UserView", "Webhook"]},
    "support": {"manage": ["Session", "RequiredAction"], "read": ["UserView", "DocumentReview"]},
    "compliance": {"read": ["Session"], "manage": ["DocumentReview"], "reveal": ["PersonalData"]},
    "technical": {"read": ["Session"], "manage": ["Webhook"]},
}

#: subjects only these roles may touch whatever the table says (the default gateway DROP rules)
SUPERADMIN_ONLY = {"Role", "AdminActivity", "Permission"}
#: what those synthetic subjects need from the table besides the role rule
_IMPLIED = {"Role": ("update", "User"), "AdminActivity": ("read", "Activity")}

ADMIN_ROLES = ("superadmin", "admin", "technical", "accountant", "compliance", "support")


def _file_path() -> Path | None:
    if not has_app_context():
        return None
    path = current_app.config.get("BARONG_ABILITIES_FILE")
    if path:
        return Path(path)
    from barong.config import ROOT

    return ROOT / "config" / "abilities.yml"


def table() -> dict[str, dict[str, list[str]]]:
    """The ability table: `config/abilities.yml` when present (Barong's format
    `{roles: [...], <role>: {manage: [...], read: [...]}}`), else the defaults. Cached per app."""
    if has_app_context():
        cached = current_app.extensions.get("barong_abilities")
        if cached is not None:
            return cached
    data = DEFAULT_ABILITIES
    path = _file_path()
    if path is not None and path.exists():
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            raw = {}
        if isinstance(raw, dict):
            loaded = {}
            for role, rules in raw.items():
                if role == "roles" or not isinstance(rules, dict):
                    continue
                loaded[str(role)] = {str(a): [str(s) for s in (subjects or [])] for a, subjects in rules.items()}
            if loaded:
                data = loaded
    if has_app_context():
        current_app.extensions["barong_abilities"] = data
    return data


def for_role(role: str | None) -> dict[str, list[str]]:
    """The role's map as Barong shows it, e.g. `{"manage": [...], "read": [...]}`; `{}` for members."""
    rules = table().get(role or "", {})
    return {action: list(subjects) for action, subjects in rules.items() if subjects}


def _named_in_table(subject: str) -> bool:
    return any(subject in subjects for rules in table().values() for subjects in rules.values())


def _table_allows(role: str, action: str, subject: str) -> bool:
    rules = table().get(role or "", {})
    if subject in EXTENSION_SUBJECTS and not _named_in_table(subject):
        rules = EXTENSION_ABILITIES.get(role or "", {})
    for granted, subjects in rules.items():
        if granted not in ("manage", action):
            continue
        if subject in subjects or "all" in subjects:
            return True
    return False


def can(user, action: str, subject: str) -> bool:
    """May `user` (a User or None) perform `action` on `subject`? Never raises."""
    if user is None:
        return False
    role = getattr(user, "role", None)
    if subject in SUPERADMIN_ONLY and role != "superadmin":
        return False
    if subject in _IMPLIED:
        action, subject = _IMPLIED[subject]
    return _table_allows(role, action, subject)


def authorize(user, action: str, subject: str) -> None:
    """Raise 401 `admin.ability.not_permitted` unless `can(user, action, subject)`."""
    if not can(user, action, subject):
        raise BarongError("admin.ability.not_permitted", 401)


def can_verify_profile(user, profile) -> bool:
    """Profile review rule (reference/admin.md §9): with `profile_double_verification` on, the
    operator who authored a profile may not also approve it unless their role is listed in
    `profile_verification_roles`."""
    if not can(user, "update", "Profile"):
        return False
    from barong.settings import settings

    cfg = settings()
    if getattr(cfg, "profile_double_verification", False) and profile is not None and \
            profile.author == user.uid and user.role not in (cfg.profile_verification_roles or []):
        return False
    return True


def is_operator(user) -> bool:
    """Has any admin ability at all (may open the console / admin API)."""
    return user is not None and bool(for_role(getattr(user, "role", None)))
