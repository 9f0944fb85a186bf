"""A form is stored once however often it is sent: the one-time form nonce (barong/web/form_nonce.py)
refuses a replayed submission (a double click without JavaScript, the browser's "resend"),
with the database and with the Redis kv store, also when two submissions race."""
from __future__ import annotations

import io
import threading
from datetime import date

import pytest

from barong.extensions import db
from barong.models import APIKey, Document, Phone, Profile
from barong.services.infra import kv
from barong.web import form_nonce
from tests.browser.support import png_bytes
from tests.helpers import UA, login_as
from tests.web.account.conftest import HX
from tests.web.account.pages import html, nonce

REPLAYED = "This form was already sent"
EXPIRED = "This form has expired"


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    """Runs the test with kv marks in the database, then in the real Redis (db 15)."""
    if request.param == "redis":
        from tests.services.test_sessions import REDIS_URL, _redis_or_skip

        _redis_or_skip()
        app.config["BARONG_REDIS_URL"] = REDIS_URL
        app.extensions.pop("barong_redis", None)
    yield request.param
    app.extensions.pop("barong_redis", None)


def _document(**over) -> dict:
    data = {"doc_type": "Passport", "doc_number": "AB1234567",
            "doc_expire": date(date.today().year + 3, 1, 31).isoformat(),
            "front_side": (io.BytesIO(png_bytes()), "front.png")}
    return {**data, **over}


def _post_document(client, token, headers=None, **over):
    return client.post("/accounts/documents", data={**_document(**over), "form_nonce": token},
                       content_type="multipart/form-data", headers=headers or {})


def _documents(user) -> int:
    db.session.expire_all()
    return db.session.query(Document).filter_by(user_id=user.id).count()


def test_the_same_document_form_sent_twice_stores_one_document(client, signed_in, store):
    """Does a replay of the upload form (same nonce, same data) store a second document?"""
    user = signed_in()
    token = nonce(client, "/accounts/documents")
    first = _post_document(client, token)
    assert first.status_code == 303
    again = _post_document(client, token)
    assert again.status_code == 422 and REPLAYED in html(again)
    assert _documents(user) == 1
    hx = _post_document(client, token, headers=HX)  # the htmx form: the partial with the message
    assert hx.status_code == 422 and REPLAYED in html(hx) and html(hx).lstrip().startswith('<form id="document-form"')
    assert _documents(user) == 1
    fresh = _post_document(client, nonce(client, "/accounts/documents"))  # a new form: a new upload
    assert fresh.status_code == 303 and _documents(user) == 2


def test_the_same_address_form_sent_twice_stores_one_document(client, signed_in, store):
    user = signed_in()
    token = nonce(client, "/accounts/address")
    data = {"country": "GB", "address": "1 Road", "city": "London", "postcode": "N1", "form_nonce": token}

    def send():
        return client.post("/accounts/address", data={**data, "upload": (io.BytesIO(b"%PDF-1.7 x"), "bill.pdf")},
                           content_type="multipart/form-data")

    assert send().status_code == 303
    again = send()
    assert again.status_code == 422 and REPLAYED in html(again)
    assert _documents(user) == 1


def test_a_replayed_api_key_form_creates_no_second_key_even_with_a_new_code(client, make_user, totp, store):
    user = make_user(otp=True)
    login_as(client, user, otp_code=totp(user))
    token = nonce(client, "/accounts/api-keys")
    first = client.post("/accounts/api-keys", data={"algorithm": "HS256", "totp_code": totp(user),
                                                    "form_nonce": token}, headers=HX)
    assert first.status_code == 200
    again = client.post("/accounts/api-keys", data={"algorithm": "HS256", "totp_code": totp(user),
                                                    "form_nonce": token}, headers=HX)
    assert again.status_code == 422 and REPLAYED in html(again)
    assert db.session.query(APIKey).count() == 1


def test_replayed_phone_and_profile_forms_say_so(client, signed_in, store):
    user = signed_in()
    token = nonce(client, "/accounts/phone")
    phone = {"phone_number": "+44 7418 084106", "channel": "sms", "form_nonce": token}
    assert client.post("/accounts/phone", data=phone).status_code == 303
    again = client.post("/accounts/phone", data=phone)
    assert again.status_code == 422 and REPLAYED in html(again)
    assert db.session.query(Phone).filter_by(user_id=user.id).count() == 1

    token = nonce(client, "/accounts/profile")
    profile = {"first_name": "Ada", "last_name": "Lovelace", "country": "GB", "confirm": "y", "form_nonce": token}
    assert client.post("/accounts/profile", data=profile).status_code == 303
    again = client.post("/accounts/profile", data=profile)
    assert again.status_code == 422 and REPLAYED in html(again)
    assert db.session.query(Profile).filter_by(user_id=user.id).count() == 1


@pytest.mark.parametrize("case", ["missing", "forged", "other_form", "other_user", "too_old"])
def test_a_nonce_not_rendered_for_this_form_and_user_is_refused(app, client, signed_in, make_user, monkeypatch,
                                                                case):
    user = signed_in()
    token = nonce(client, "/accounts/documents")
    if case == "missing":
        token = None
    elif case == "forged":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    elif case == "other_form":
        token = nonce(client, "/accounts/address")
    elif case == "other_user":
        other = app.test_client()
        other.environ_base["HTTP_USER_AGENT"] = UA
        login_as(other, make_user())
        token = nonce(other, "/accounts/documents")
    elif case == "too_old":
        monkeypatch.setattr(form_nonce, "MAX_AGE", -1)
    resp = client.post("/accounts/documents", data={**_document(), **({"form_nonce": token} if token else {})},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and EXPIRED in html(resp)
    assert _documents(user) == 0


def test_a_refused_form_comes_back_with_a_new_nonce(client, signed_in, store):
    """A field error re-renders the form with a fresh nonce, so correcting it and sending works."""
    user = signed_in()
    token = nonce(client, "/accounts/documents")
    bad = _post_document(client, token, doc_expire="2001-01-01")
    assert bad.status_code == 422
    fresh = nonce_in(bad)
    assert fresh and fresh != token
    assert _post_document(client, fresh).status_code == 303
    assert _documents(user) == 1


def nonce_in(resp) -> str:
    import re

    tag = re.search(r'<input[^>]*name="form_nonce"[^>]*>', resp.get_data(as_text=True))
    return re.search(r'value="([^"]*)"', tag.group(0)).group(1) if tag else ""


def test_two_racing_submissions_with_one_nonce_store_one_document(app, make_user, store, monkeypatch):
    """Two requests carrying the same nonce reach the check at the same moment (threads; on
    PostgreSQL with TEST_DATABASE_URL): one is stored, the other refused."""
    user = make_user()
    clients = []
    for _ in range(2):
        c = app.test_client()
        c.environ_base["HTTP_USER_AGENT"] = UA
        login_as(c, user)
        clients.append(c)
    token = nonce(clients[0], "/accounts/documents")
    barrier = threading.Barrier(2, timeout=10)
    real_add = kv.add

    def add_together(*args, **kwargs):
        barrier.wait()  # both requests are past validation and about to consume the nonce
        return real_add(*args, **kwargs)

    monkeypatch.setattr(form_nonce.kv, "add", add_together)
    results: list = [None, None]

    def send(i):
        resp = _post_document(clients[i], token)
        results[i] = (resp.status_code, html(resp))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r[0] for r in results) == [303, 422]
    assert any(REPLAYED in r[1] for r in results if r[0] == 422)
    assert _documents(user) == 1


def test_kv_add_sets_once_until_expiry(app, store, monkeypatch):
    key = f"test_add:{store}:{id(object())}"
    assert kv.add(key, "a", 60) is True
    db.session.commit()  # the first request's transaction (a losing add rolls back its own)
    assert kv.add(key, "b", 60) is False
    assert kv.get(key) == "a"
    if store == "database":  # an expired mark counts as absent
        import time as _time

        real = _time.time
        monkeypatch.setattr("barong.services.infra.kv.time.time", lambda: real() + 120)
        assert kv.add(key, "c", 60) is True
    db.session.rollback()
