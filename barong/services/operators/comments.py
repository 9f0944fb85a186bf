"""Operators' comments on a user (admin API `users/comments` and the console).

Comments are notes between operators; the author is the acting operator's uid. Each
write is audited (barong.services.audit.admin_activities.audit).

Barong checks no ability on these endpoints; we require `update User` (every operator
role the default permission table lets reach `admin/users/comments` has it), so the
console cannot offer comments to a role the API would not serve."""
from __future__ import annotations

from barong.errors import BarongError, NotFound
from barong.extensions import db
from barong.models import Comment, User
from barong.services.access import abilities
from barong.services.audit import admin_activities

TITLE_MAX = 64
DATA_MAX = 65535


def _check(title: str | None, data: str | None) -> None:
    errors = []
    if title is not None and len(title) > TITLE_MAX:
        errors.append("admin.comments.title_too_long")
    if data is not None and len(data) > DATA_MAX:
        errors.append("admin.comments.data_too_long")
    if errors:
        raise BarongError(errors, 422)


def get(comment_id) -> Comment:
    """The comment, or 404 `record.not_found`."""
    try:
        comment = db.session.get(Comment, int(comment_id))
    except (TypeError, ValueError):
        comment = None
    if comment is None:
        raise NotFound()
    return comment


def add(user: User, title: str, data: str, *, actor, audit: bool = True) -> Comment:
    """Add a comment to `user` written by `actor`. Raises 422 `admin.comments.title_too_long`
    (> 64 chars) / `admin.comments.data_too_long` (> 65535 chars), `title.blank`/`data.blank`."""
    abilities.authorize(actor, "update", "User")
    title, data = (title or "").strip(), data or ""
    _check(title, data)
    blank = [f"{name}.blank" for name, v in (("title", title), ("data", data.strip())) if not v]
    if blank:
        raise BarongError(blank, 422)
    comment = Comment(user_id=user.id, author_uid=actor.uid[:16], title=title, data=data)
    db.session.add(comment)
    db.session.flush()
    db.session.expire(user, ["comments"])
    admin_activities.audit(actor, "comments", "create", target_uid=user.uid,
                           data={"id": comment.id, "title": title}, audit=audit)
    return comment


def edit(comment: Comment, title: str | None = None, data: str | None = None, *, actor,
         audit: bool = True) -> Comment:
    """Change the given fields of `comment` (same limits as `add`)."""
    abilities.authorize(actor, "update", "User")
    _check(title, data)
    if title is not None and title.strip():
        comment.title = title.strip()
    if data is not None and data.strip():
        comment.data = data
    db.session.flush()
    admin_activities.audit(actor, "comments", "update", target_uid=comment.user.uid,
                           data={"id": comment.id, "title": comment.title}, audit=audit)
    return comment


def delete(comment: Comment, *, actor, audit: bool = True) -> User:
    """Delete `comment`; returns the user it was about."""
    abilities.authorize(actor, "update", "User")
    user = comment.user
    db.session.delete(comment)
    db.session.flush()
    db.session.expire(user, ["comments"])
    admin_activities.audit(actor, "comments", "delete", target_uid=user.uid,
                           data={"id": comment.id, "title": comment.title}, audit=audit)
    return user
