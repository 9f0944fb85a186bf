"""A database error that reaches a log line carries no statement values: no password
digest, no email (SQLAlchemy's parameters are hidden, PostgreSQL's DETAIL is dropped)."""
from __future__ import annotations

import logging
import sys

import pytest
from sqlalchemy.exc import IntegrityError

from barong.extensions import db
from barong.models import User

EMAIL = "leaky.person@example.com"
DIGEST = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0c2FsdA$SECRETDIGESTVALUE0123456789"


def _duplicate_insert() -> IntegrityError:
    for uid in ("ID00000000A1", "ID00000000A2"):
        db.session.add(User(uid=uid, email=EMAIL, email_lower=EMAIL, role="member", state="pending", level=0,
                            otp=False, password_digest=DIGEST))
    with pytest.raises(IntegrityError) as info:
        db.session.flush()
    db.session.rollback()
    return info.value


def _assert_clean(text: str) -> None:
    assert "IntegrityError" in text  # the error itself is logged …
    assert DIGEST not in text and "SECRETDIGESTVALUE" not in text  # … without the digest
    assert EMAIL not in text and "leaky.person" not in text  # … or the address
    assert "ID00000000A" not in text


def test_unexpected_db_error_is_logged_without_parameters(app, caplog):
    """The API's 500 handler logs the exception (traceback included) without values."""
    exc = _duplicate_insert()
    caplog.set_level(logging.INFO)
    with app.test_request_context("/api/v2/barong/identity/users", method="POST"):
        try:
            raise exc
        except IntegrityError as raised:
            response = app.handle_user_exception(raised)
    assert response.status_code == 500 and response.get_json() == {"errors": ["server.internal_error"]}
    assert any(r.exc_info for r in caplog.records)
    _assert_clean(caplog.text)


def test_flask_exception_log_has_no_parameters(app, caplog):
    """Flask's own "Exception on …" line (an error after the view, e.g. at commit) too."""
    exc = _duplicate_insert()
    caplog.set_level(logging.INFO)
    with app.test_request_context("/accounts/signup", method="POST"):
        try:
            raise exc
        except IntegrityError:
            app.log_exception(sys.exc_info())
    _assert_clean(caplog.text)


def test_constraint_still_readable_for_mapping(app):
    """What add_unique matches on survives the scrubbing."""
    from barong.services.infra.unit_of_work import violated_unique

    assert violated_unique(_duplicate_insert()) & {"uq_users_email_lower", "users.email_lower"}
