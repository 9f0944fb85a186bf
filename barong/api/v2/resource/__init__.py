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


def me_account():
    """The signed-in user for a view that needs only its id and uid: the cached Account the
    guard left (`@api_auth(load_entity=False)`, no ORM load), else the ORM User; 404 as `me()`."""
    from flask import g

    from barong import authz

    account = g.current_user
    if isinstance(account, authz.Account):
        if not account.is_user:
            from barong.errors import NotFound

            raise NotFound()
        return account
    return me()


def cached_body(kind: str, build, *variant):
    """The JSON-ready body `build()` makes from the user's own rows, kept per worker while
    none of them changes (barong.api.user_bodies.resource_body); built each time when the
    guard loaded the ORM user (work was due on it) or the caller is no user."""
    from flask import g

    from barong import authz
    from barong.api import user_bodies

    account = g.current_user
    if isinstance(account, authz.Account) and account.is_user:
        return user_bodies.resource_body(kind, account.id, build, *variant)
    return build()


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
