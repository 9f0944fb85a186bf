"""Is every console page Russian in `ru`? Each GET route of the console blueprint is
rendered with realistic data in English and in Russian, and the Russian rendering must
show no English UI text (tests/web/console/i18n_check.py says how that is decided). The
confirmations of destructive actions, the refusal page and the actions' toasts are walked
too. A new GET route fails test_every_get_route_is_walked until it is added to PAGES."""
from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta

import pytest

from barong.extensions import db
from barong.models import OutboxEvent, Permission, Restriction
from barong.services.access import restrictions
from barong.services.accounts import api_keys, labels, phones, profiles, required_actions
from barong.services.audit import activities
from barong.services.infra import unit_of_work
from barong.services.operators import comments
from barong.services.verification import data_storage, documents
from tests.conftest import UA
from tests.helpers import login_as
from tests.web.console import i18n_check
from tests.web.console.support import hx, png_bytes

#: GET routes that are not pages: the CSV's column names are a file format, a document is a file
NOT_PAGES = {"console.activities_csv", "console.documents_file"}


@pytest.fixture
def world(app, operator, make_user, applicant):
    """A superadmin, a user with everything the user page shows, a KYC applicant, activity,
    restrictions, a failed event."""
    root = operator("superadmin", email=f"root-{time.time_ns()}@example.com")
    user = make_user(email=f"ada-{time.time_ns()}@example.com", username="adalovelace")
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB",
                           "city": "London", "address": "1 Main St", "postcode": "N1"}, confirm=True)
    phones.create(user, "447418084106", "GB", verified=True)
    documents.create(user, [("passport.png", png_bytes())], "Passport",
                     doc_expire=(date.today() + timedelta(days=400)).isoformat(), doc_number="AB123456")
    labels.add(user, "tier", "gold", scope="public", description="loyal customer")
    data_storage.create(user, "personal", {"hobby": "maths"})
    comments.add(user, "Called in", "Asked about withdrawals.", actor=root)
    api_keys.create(user, "HS256", require_otp=False)
    activities.record(user, "session", "login", "succeed")
    activities.record(user, "session", "login", "failed", data={"reason": "Invalid Email or Password"})
    activities.record_admin(root, "users", "update state", "succeed", target_uid=user.uid, data={"state": "active"})
    required_actions.add(user, ["change_password"])
    restrictions.create("blacklist", "ip", "203.0.113.9")
    db.session.add(OutboxEvent(event_id=f"ev-{time.time_ns()}", name="model.user.updated", payload="{}",
                               state="failed", attempts=5, last_error="broker unreachable"))
    unit_of_work.commit()
    kyc = applicant(email=f"kyc-{time.time_ns()}@example.com")
    own = app.test_client()  # the user's own browser: a session the support card lists
    own.environ_base["HTTP_USER_AGENT"] = UA
    login_as(own, user)
    perm = db.session.query(Permission).order_by(Permission.id).first()
    restr = db.session.query(Restriction).order_by(Restriction.id).first()
    return {"root": root, "user": user, "kyc": kyc, "perm": perm.id, "restr": restr.id}


def pages(w) -> dict[str, list[str]]:
    """endpoint → the URLs walked for it."""
    u, k = w["user"].uid, w["kyc"].uid
    return {
        "console.dashboard": ["/admin/", "/admin/?period=7", "/admin/?from=2026-01-01&to=2026-01-31"],
        "console.users_index": ["/admin/users", "/admin/users?q=447418084106", "/admin/users?q=nobody-at-all",
                                "/admin/users?limit=1", "/admin/users?from=2020-01-01&role=member"],
        "console.users_show": [f"/admin/users/{u}", f"/admin/users/{k}"],
        "console.kyc_index": ["/admin/kyc"],
        "console.kyc_next": ["/admin/kyc/next"],
        "console.kyc_show": [f"/admin/kyc/{k}"],
        "console.permissions_index": ["/admin/permissions", "/admin/permissions?role_filter=admin"],
        "console.permissions_row": [f"/admin/permissions/{w['perm']}/row",
                                    f"/admin/permissions/{w['perm']}/row?edit=1"],
        "console.restrictions_index": ["/admin/restrictions"],
        "console.restrictions_row": [f"/admin/restrictions/{w['restr']}/row",
                                     f"/admin/restrictions/{w['restr']}/row?edit=1"],
        "console.levels_index": ["/admin/levels"],
        "console.activities_index": ["/admin/activities", f"/admin/activities?uid={u}",
                                     "/admin/activities?topic=session&result=failed",
                                     "/admin/activities?category=admin", "/admin/activities?email=nobody@example.com"],
        "console.outbox_index": ["/admin/events", "/admin/events?state=failed"],
        "console.webhooks_index": ["/admin/webhooks"],
        "console.approvals_index": ["/admin/approvals"],
        "console.authz_index": ["/admin/authz", "/admin/authz?role=member&verb=GET&path=api/v2/x"
                                "&dry_kind=permission&dry_op=create&dry_role=member&dry_verb=GET&dry_path=api/v2"
                                "&dry_action=DROP"],
        "console.users_view_as_home": [f"/admin/users/{u}/view-as"],
        "console.users_view_as_screen": [f"/admin/users/{u}/view-as/{s}" for s in _view_as_screens()],
    }


def _view_as_screens() -> list[str]:
    try:
        from barong.web.console.view_as import SCREENS
    except ImportError:
        return []
    return list(SCREENS)


def _get(client, url: str, lang: str, headers=None):
    client.set_cookie("lang", lang)
    resp = client.get(url, headers=headers or {}, follow_redirects=True)
    assert resp.status_code == 200, (url, lang, resp.status_code, resp.get_data(as_text=True)[:300])
    return resp.get_data(as_text=True)


BANNER = re.compile(r'<div class="view-as-banner".*?</form>\s*</div>\s*</div>', re.S)


def _english_left(en: str, ru: str, where: str) -> list[str]:
    if ru == en:
        return [f"{where}: the ru rendering is the en one (locale not applied?)"]
    if "/view-as" in where:
        # the read-only view shows the site's own account pages (their data is not marked
        # translate="no"; tests/web/account covers their catalogue): the console's banner is
        # checked in full, the rest of the page against the catalogue
        banners = BANNER.search(en), BANNER.search(ru)
        assert all(banners), f"{where}: no read-only banner"
        return [f"{where}: {x}" for x in i18n_check.english_left(banners[0].group(0), banners[1].group(0))
                + i18n_check.english_left(en, ru, same_as_en=False)]
    return [f"{where}: {x}" for x in i18n_check.english_left(en, ru)]


def _assert_russian(en: str, ru: str, where: str):
    left = _english_left(en, ru, where)
    assert not left, "English left in ru:\n  " + "\n  ".join(left)


def test_every_get_route_is_walked(app, world):
    walked = set(pages(world)) | NOT_PAGES
    routes = {r.endpoint for r in app.url_map.iter_rules()
              if r.endpoint.startswith("console.") and "GET" in r.methods}
    assert routes - walked == set(), "console GET routes not walked in ru (add them to pages())"


def test_every_console_page_is_russian(app, world, console):
    client = console(world["root"])
    if _view_as_screens():  # the read-only view needs a view opened from this session
        assert client.post(f"/admin/users/{world['user'].uid}/view-as").status_code in (302, 303)
    walked, left = 0, []
    for endpoint, urls in pages(world).items():
        for url in urls:
            left += _english_left(_get(client, url, "en"), _get(client, url, "ru"), url)
            walked += 1
            if endpoint in ("console.users_index", "console.activities_index", "console.outbox_index",
                            "console.kyc_index", "console.dashboard", "console.permissions_index"):
                # the htmx fragment of the same page
                left += _english_left(_get(client, url, "en", hx()), _get(client, url, "ru", hx()), url + " (htmx)")
    assert walked >= 30
    assert not left, "English left in ru:\n  " + "\n  ".join(left)


def _post(client, url: str, lang: str, form: dict, headers=None):
    client.set_cookie("lang", lang)
    return client.post(url, data=form, headers=headers or {})


CONFIRMS = [
    ("state", {"state": "banned"}),
    ("state", {"state": "deleted"}),
    ("role", {"role": "admin"}),
    ("otp", {}),
    ("labels/delete", {"key": "tier", "scope": "public"}),
    ("sessions/revoke-all", {}),
]


@pytest.mark.parametrize("path,form", CONFIRMS, ids=[f"{p}:{f}" for p, f in CONFIRMS])
def test_confirmations_are_russian(world, console, path, form):
    """The question, consequence and buttons of every destructive action, page and in place."""
    client = console(world["root"])
    user = world["user"]
    if path == "otp":
        user.otp = True
        unit_of_work.commit()
    url = f"/admin/users/{user.uid}/{path}"
    for headers in (None, hx(**{"HX-Target": "user-summary"})):
        en = _post(client, url, "en", form, headers)
        ru = _post(client, url, "ru", form, headers)
        assert en.status_code == ru.status_code == 200
        assert 'name="confirm" value="1"' in ru.get_data(as_text=True)
        _assert_russian(en.get_data(as_text=True), ru.get_data(as_text=True), f"confirm {path} {form}")


def test_refusal_page_is_russian(operator, console):
    client = console(operator("compliance"))
    en, ru = _get_status(client, "/admin/permissions", "en"), _get_status(client, "/admin/permissions", "ru")
    _assert_russian(en, ru, "forbidden page")


def _get_status(client, url, lang):
    client.set_cookie("lang", lang)
    resp = client.get(url)
    assert resp.status_code == 403
    return resp.get_data(as_text=True)


def _toast(resp) -> str:
    return json.loads(resp.headers["HX-Trigger"])["toast"]["message"]


def test_toasts_and_field_errors_are_russian(world, console):
    """What an action answers (toast, field error under htmx, flash without JS) is Russian."""
    client = console(world["root"])
    uid = world["user"].uid
    ru = _post(client, f"/admin/users/{uid}/comments", "ru", {"title": "Note", "data": "x"}, hx())
    assert _toast(ru) == "Комментарий добавлен."
    ru = _post(client, f"/admin/users/{uid}/labels", "ru", {"key": "", "value": "", "scope": "public"}, hx())
    assert ru.status_code == 422 and _toast(ru) == "Исправьте выделенные поля."
    assert "Не может быть пустым." in ru.get_data(as_text=True)
    ru = _post(client, f"/admin/users/{uid}/state", "ru", {"state": "bogus"}, hx())
    assert ru.status_code == 422 and "Выберите состояние." in ru.get_data(as_text=True)
    ru = _post(client, f"/admin/users/{world['root'].uid}/state", "ru", {"state": "pending"}, hx())
    assert _toast(ru) == "Здесь нельзя менять собственную учётную запись."
    ru = _post(client, f"/admin/users/{uid}/password-reset", "ru", {}, hx())
    assert _toast(ru) == f"Письмо для сброса пароля отправлено на {world['user'].email}."
    ru = _post(client, f"/admin/users/{uid}/required-actions", "ru", {"action": "enable_2fa"}, hx())
    assert _toast(ru) == "Требуется при следующем входе: Сменить пароль, Подключить 2FA."
    # without JavaScript: a flash on the page the redirect leads to
    client.set_cookie("lang", "ru")
    page = client.post(f"/admin/users/{uid}/unlock", follow_redirects=True).get_data(as_text=True)
    assert "Блокировка входа снята." in page


def test_the_check_finds_a_missing_translation(app, world, console, monkeypatch):
    """The check is not vacuous: with one catalogue entry untranslated (here "Labels", the
    user page's card title), the user page in ru is reported."""
    import flask_babel

    client = console(world["root"])
    url = f"/admin/users/{world['user'].uid}"
    en = _get(client, url, "en")
    real = flask_babel.get_translations

    class Forgetful:
        def __init__(self, t):
            self.t = t

        def ugettext(self, s):
            return s if s == "Labels" else self.t.ugettext(s)

        def __getattr__(self, name):
            return getattr(self.t, name)

    monkeypatch.setattr(flask_babel, "get_translations", lambda: Forgetful(real()))
    ru = _get(client, url, "ru")
    left = i18n_check.english_left(en, ru)
    assert "catalogue: 'Labels'" in left
    # and a string that never reached the catalogue is caught by the en/ru comparison
    left = i18n_check.english_left(en.replace("<h2>Data storage</h2>", "<h2>Stored things</h2>"),
                                   ru.replace("<h2>Хранилище данных</h2>", "<h2>Stored things</h2>"))
    assert "same as en: 'Stored things'" in left, left


def test_data_is_not_translated(world, console):
    """Emails, UIDs, label keys/values, topics stay as stored in ru (marked translate="no")."""
    client = console(world["root"])
    user = world["user"]
    ru = _get(client, f"/admin/users/{user.uid}", "ru")
    for data in (user.email, user.uid, "tier", "gold", "loyal customer", "AB123456", "Passport", "personal"):
        assert data in ru, data
    assert re.search(r'translate="no"[^>]*>\s*<a [^>]*>' + re.escape(user.email), _get(
        client, "/admin/users?q=" + user.email, "ru"))
