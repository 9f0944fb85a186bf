"""Helpers for console tests (fixtures are in conftest.py)."""
from __future__ import annotations

import io


def png_bytes(color=(40, 90, 200)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 40), color).save(buf, format="PNG")
    return buf.getvalue()


def hx(**extra) -> dict:
    """Headers of an htmx request."""
    return {"HX-Request": "true", **extra}


def admin_activities(user=None, topic=None):
    from barong.extensions import db
    from barong.models import Activity

    q = db.session.query(Activity).filter_by(category="admin")
    if user is not None:
        q = q.filter_by(user_id=user.id)
    if topic is not None:
        q = q.filter_by(topic=topic)
    return q.order_by(Activity.id).all()
