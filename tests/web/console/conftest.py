"""Console fixtures: operators of each role, a signed-in test client, KYC applicants."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from barong.services.accounts import profiles
from barong.services.infra import unit_of_work
from barong.services.verification import documents
from tests.helpers import login_as
from tests.web.console.support import png_bytes


@pytest.fixture
def operator(make_user):
    """operator(role) → an active user with that role."""
    def factory(role="superadmin", **kw):
        return make_user(role=role, **kw)
    return factory


@pytest.fixture
def console(client):
    """console(user) → the test client signed in as `user` (same cookie as the site)."""
    def sign_in(user):
        login_as(client, user)
        return client
    return sign_in


@pytest.fixture
def applicant(make_user):
    """applicant(profile=True) → an active level-1 user with a pending document (and a submitted profile)."""
    def factory(profile=True, **kw):
        user = make_user(**kw)
        if profile:
            profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02",
                                   "country": "GB", "city": "London", "address": "1 Main St",
                                   "postcode": "N1"}, confirm=True)
        documents.create(user, [("passport.png", png_bytes())], "Passport",
                         doc_expire=(date.today() + timedelta(days=400)).isoformat(), doc_number="AB123456")
        unit_of_work.commit()
        return user
    return factory
