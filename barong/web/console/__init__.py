"""The operator console (`/admin/…`): server-rendered pages with HTMX, over the same
services and the same role rules as the admin JSON API (policy.py)."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("console", __name__, url_prefix="/admin")


def register(app: Flask) -> None:
    app.register_blueprint(bp)


from barong.web.console import (  # noqa: E402,F401  (route modules attach themselves to bp)
    activities,
    dashboard,
    documents,
    kyc,
    outbox,
    settings_pages,
    users,
    user_support,
    view_as,
)
from barong.web.console import operator_2fa  # noqa: E402,F401  (BARONG_CONSOLE_REQUIRE_2FA)
from barong.web.console import webhooks  # noqa: E402,F401  (issue 17: signed webhooks)
from barong.web.console import approvals  # noqa: E402,F401  (issue 17: four-eyes)
from barong.web.console import authz_explain  # noqa: E402,F401  (issue 17: explain / dry-run)
from barong.web.console import pii  # noqa: E402,F401  (issue 17: PII reveals)
from barong.web.console.helpers import install_template_helpers  # noqa: E402

install_template_helpers(bp)
