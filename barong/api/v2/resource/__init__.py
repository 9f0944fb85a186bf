"""`/api/v2/barong/resource/…`: the signed-in user's own account (reference/resource.md).

One module per resource; every view is load → authorise (`@api_auth`) → act (a service
function) → respond.
"""
from flask import Blueprint

bp = Blueprint("resource", __name__)


def me():
    """The signed-in user. A service account's credentials reach no resource: 404 record.not_found
    (in Barong the JWT's uid names no user)."""
    from barong.api.auth import current_user
    from barong.errors import NotFound
    from barong.models import User

    account = current_user()
    if not isinstance(account, User):
        raise NotFound()
    return account


@bp.record_once
def _install_upload_cleanup(state):
    from barong.services.verification import uploads

    uploads.init_app(state.app)


from barong.api.v2.resource import (  # noqa: E402,F401
    addresses,
    api_keys,
    data_storage,
    documents,
    labels,
    otp,
    phones,
    profiles,
    service_accounts,
    webauthn,
    sessions,
    users,
)
