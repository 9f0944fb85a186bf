"""`config/barong.yml` (Barong's format): activation requirements, state triggers,
document types, data-storage titles, captcha-protected endpoints, profile roles."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask import current_app

from barong.config import ConfigError

DEFAULT_DOCUMENT_TYPES = ["Passport", "Identity card", "Driver license", "Utility Bill", "Residental",
                          "Institutional", "Address"]


@dataclass
class BarongSettings:
    activation_requirements: dict = field(default_factory=lambda: {"email": "verified"})
    state_triggers: dict = field(default_factory=lambda: {"banned": ["ban", "fraud"], "deleted": ["delete"],
                                                          "locked": ["suspicious", "lock"]})
    document_types: list = field(default_factory=lambda: list(DEFAULT_DOCUMENT_TYPES))
    user_storage_titles: list = field(default_factory=list)
    captcha_protected_endpoints: list = field(
        default_factory=lambda: ["user_create", "session_create", "password_reset", "email_confirmation"])
    profile_verification_roles: list = field(default_factory=lambda: ["superadmin", "admin", "compliance"])
    #: when true, an operator may not approve a profile they authored unless their role is
    #: in profile_verification_roles (reference/admin.md §9)
    profile_double_verification: bool = False
    #: actions a second operator must approve (four-eyes; BARONG_FOUR_EYES overrides): role_change,
    #: otp_reset, unban, permission_create/update/delete, restriction_create/update/delete
    four_eyes: list = field(default_factory=list)


def load_barong_settings(path: Path) -> BarongSettings:
    settings = BarongSettings()
    path = Path(path)
    if not path.exists():
        return settings
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"BARONG_CONFIG {path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"BARONG_CONFIG {path}: expected a mapping at the top level")
    for name in settings.__dataclass_fields__:
        if raw.get(name) is not None:
            setattr(settings, name, raw[name])
    return settings


def settings() -> BarongSettings:
    return current_app.extensions["barong_settings"]
