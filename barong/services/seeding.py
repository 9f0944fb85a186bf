"""`flask seed`: levels, permissions, restrictions from BARONG_SEEDS_FILE, and the admin
from BARONG_ADMIN_EMAIL/BARONG_ADMIN_PASSWORD. Idempotent."""
from __future__ import annotations

from pathlib import Path

import yaml
from flask import current_app

from barong.config import ConfigError
from barong.extensions import db
from barong.models import Level, Permission, Restriction, User
from barong.services.accounts import labels, users


def load(path: Path) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"BARONG_SEEDS_FILE {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"BARONG_SEEDS_FILE {path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"BARONG_SEEDS_FILE {path}: expected a mapping")
    return data


def seed(path: Path | None = None) -> dict:
    """Apply the seeds; returns counts of what was created."""
    data = load(path or current_app.config["BARONG_SEEDS_FILE"])
    created = {"levels": 0, "permissions": 0, "restrictions": 0, "admin": 0}
    for position, lvl in enumerate(data.get("levels") or [], start=1):
        key, value = str(lvl["key"]), str(lvl["value"])
        if db.session.query(Level).filter_by(key=key, value=value).first():
            continue
        level_id = position
        while db.session.get(Level, level_id) is not None:
            level_id += 1
        db.session.add(Level(id=level_id, key=key, value=value, description=str(lvl.get("description") or key)))
        created["levels"] += 1
    db.session.flush()
    for perm in data.get("permissions") or []:
        row = dict(role=str(perm["role"]), verb=str(perm["verb"]).upper(), path=str(perm["path"]),
                   action=str(perm["action"]).upper())
        if not db.session.query(Permission).filter_by(**row).first():
            db.session.add(Permission(topic=perm.get("topic"), **row))
            created["permissions"] += 1
    db.session.flush()
    for r in data.get("restrictions") or []:
        row = dict(category=str(r["category"]), scope=str(r["scope"]), value=str(r["value"]))
        if not db.session.query(Restriction).filter_by(**row).first():
            db.session.add(Restriction(state=str(r.get("state") or "enabled"), code=r.get("code"), **row))
            created["restrictions"] += 1
    db.session.flush()
    created["admin"] = seed_admin()
    return created


def seed_admin() -> int:
    email = current_app.config.get("BARONG_ADMIN_EMAIL")
    password = current_app.config.get("BARONG_ADMIN_PASSWORD")
    if not (email and password):
        return 0
    if users.by_email(email) is not None:
        return 0
    user = users.create(email, password, role="superadmin", state="active")
    labels.add(user, "email", "verified", scope="private")
    users.apply_state(user, "active")
    return 1


def present() -> dict:
    """What the database holds of the seeds' kinds (a second `flask seed` reports it)."""
    admin_email = current_app.config.get("BARONG_ADMIN_EMAIL")
    return {"levels": db.session.query(Level).count(), "permissions": db.session.query(Permission).count(),
            "restrictions": db.session.query(Restriction).count(),
            "admin": int(bool(admin_email) and users.by_email(admin_email) is not None),
            "superadmins": db.session.query(User).filter_by(role="superadmin").count()}


def summary(created: dict, now: dict) -> str:
    """One line for `flask seed`: what was added, or "already seeded" with what is present."""
    def counts(d):
        return ", ".join(f"{k}={v}" for k, v in d.items())

    if not any(created.values()):
        return f"already seeded (nothing added): {counts(now)}"
    return f"seeded: {counts(created)} (now present: {counts(now)})"


def admin_exists() -> bool:
    return db.session.query(User.id).filter_by(role="superadmin").first() is not None
