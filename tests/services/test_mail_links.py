"""Mail links carry the token under `token=` and under the original's name (CONTRACT §4):
the OpenDAX front end (baseapp) reads `?confirmation_token=` and `?reset_token=`, and the
site's own pages accept every one of those names."""
from __future__ import annotations

import html as htmllib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from barong.extensions import db
from barong.models import OutboxEvent
from barong.services.accounts import users
from tests.helpers import DEFAULT_PASSWORD

SIGNUP = "/api/v2/barong/identity/users"
RESET = "/api/v2/barong/identity/users/password/generate_code"

KINDS = {
    # kind: (event, page, the original's name)
    "confirmation": ("system.user.email.confirmation.token", "/accounts/confirmation", "confirmation_token"),
    "reset": ("system.user.password.reset.token", "/accounts/password_reset", "reset_token"),
}


@pytest.fixture
def not_first(make_user):
    return make_user()


def _outbox_token(event: str, uid: str) -> str:
    db.session.expire_all()
    for row in db.session.query(OutboxEvent).filter_by(name=event).order_by(OutboxEvent.id.desc()):
        record = json.loads(row.payload)["record"]
        if record["user"]["uid"] == uid:
            return record["token"]
    raise AssertionError(f"no {event} for {uid}")


def _links(msg, page: str) -> list[str]:
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    pattern = rf"https?://[^\s\"'<>]*{re.escape(page)}\?[^\s\"'<>]+"
    found = re.findall(pattern, text) + [htmllib.unescape(u) for u in re.findall(pattern, html)]
    assert found, "no link in the mail"
    return found


def _mail(client, mailbox, kind: str, lang: str):
    email = f"{kind}-{lang}@example.com"
    data = json.dumps({"language": lang})
    resp = client.post(SIGNUP, json={"email": email, "password": DEFAULT_PASSWORD, "data": data})
    assert resp.status_code == 201, resp.get_json()
    if kind == "reset":
        resp = client.post(RESET, json={"email": email})
        assert resp.status_code == 201, resp.get_json()
    subject = {"confirmation": ("Registration Confirmation", "Подтверждение Регистрации"),
               "reset": ("Password Reset", "Сброс Пароля")}[kind][lang == "ru"]
    [msg] = [m for m in mailbox(email) if m["Subject"] == subject]
    return users.by_email(email), msg


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mail_links_carry_token_and_the_originals_name(app, client, mailbox, not_first, kind, lang):
    """Does every link (text and HTML part, en and ru) carry `token=` and
    `confirmation_token=`/`reset_token=` with the same, real token?"""
    event, page, name = KINDS[kind]
    user, msg = _mail(client, mailbox, kind, lang)
    token = _outbox_token(event, user.uid)
    links = _links(msg, page)
    assert len(links) >= 2  # the text part's link and the HTML button's
    for link in links:
        url = urlsplit(link)
        assert f"{url.scheme}://{url.netloc}" == app.config["BARONG_DOMAIN"] and url.path == page
        query = parse_qs(url.query)
        assert query == {"token": [token], name: [token], "lang": [lang]}


@pytest.mark.parametrize("name", ["token", "confirmation_token"])
def test_confirmation_page_takes_every_token_name(client, mailbox, not_first, name):
    user, msg = _mail(client, mailbox, "confirmation", "en")
    token = _outbox_token(KINDS["confirmation"][0], user.uid)
    page = client.get(f"/accounts/confirmation?{name}={token}&lang=en")
    assert page.status_code == 200 and f'value="{token}"' in page.get_data(as_text=True)
    resp = client.post("/accounts/confirmation", data={"token": token})
    assert resp.status_code == 303
    db.session.expire_all()
    assert users.by_email(user.email).state == "active"


@pytest.mark.parametrize("name", ["token", "reset_token"])
def test_password_reset_page_takes_every_token_name(client, mailbox, not_first, name):
    user, msg = _mail(client, mailbox, "reset", "en")
    token = _outbox_token(KINDS["reset"][0], user.uid)
    page = client.get(f"/accounts/password_reset?{name}={token}&lang=en")
    assert page.status_code == 200 and f'value="{token}"' in page.get_data(as_text=True)
    new = "Nevv-Passw0rd-x"
    resp = client.post("/accounts/password_reset", data={"token": token, "password": new, "confirm_password": new})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/accounts/login")
    login = client.post("/api/v2/barong/identity/sessions", json={"email": user.email, "password": new})
    assert login.status_code == 201


def test_a_link_taken_from_the_mail_as_is_opens_the_page(client, mailbox, not_first):
    """The front end opens the mail's URL unchanged: the page must read it."""
    user, msg = _mail(client, mailbox, "reset", "ru")
    token = _outbox_token(KINDS["reset"][0], user.uid)
    url = urlsplit(_links(msg, "/accounts/password_reset")[0])
    page = client.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and f'value="{token}"' in page.get_data(as_text=True)
