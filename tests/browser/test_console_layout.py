"""Does the console fit at 1280 px and on a 390 px phone, in English and in Russian?

On the user page, a search, the activities, the KYC queue and a review: the page never
scrolls sideways; no element sticks out of the viewport or is cut off by a clipping or
scrolling ancestor, except inside the table-scroll wrappers (`.table-wrap`, `.scroll-x`),
which scroll as a whole; the Remove/Revoke buttons are visible inside the viewport and
their wrapper (at 1280 px without scrolling anything)."""
from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from tests.browser.support import DESKTOP, PHONE, png_bytes
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

#: elements that stick out or are cut off, outside the table-scroll wrappers (JS, run in the page)
OVERFLOWS = """() => {
  const W = document.documentElement.clientWidth, out = [];
  const wrapped = el => el.closest('.table-wrap, .scroll-x');
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
      ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  if (document.documentElement.scrollWidth > W + 1)
    out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + W);
  for (const el of document.querySelectorAll('.cx *')) {
    if (wrapped(el) || el.closest('.sr-only') || el.closest('svg')) continue;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (!r.width || !r.height || cs.visibility === 'hidden' || cs.position === 'fixed') continue;
    if (r.right > W + 1 || r.left < -1) out.push('outside the viewport: ' + name(el) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    const clips = cs.overflowX !== 'visible' && !el.matches('.table-wrap, .scroll-x');
    if (clips && cs.textOverflow !== 'ellipsis' && el.scrollWidth > el.clientWidth + 1 &&
        !['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName))
      out.push('content hidden behind its scrollbar/clip: ' + name(el) + ' ' + el.scrollWidth + ' > ' + el.clientWidth);
  }
  return out;
}"""

#: each destructive button: inside the viewport and inside its scroll wrapper (after scrolling to it when allowed)
BUTTONS = """(scroll) => {
  const W = document.documentElement.clientWidth, out = [];
  const buttons = [...document.querySelectorAll('#user-labels button.danger, #user-api-keys button.danger, #user-sessions button.danger')];
  for (const b of buttons) {
    if (scroll) b.scrollIntoView({block: 'nearest', inline: 'nearest'});
    const r = b.getBoundingClientRect(), box = (b.closest('.table-wrap, .scroll-x') || b.closest('.card')).getBoundingClientRect();
    const label = (b.getAttribute('aria-label') || b.textContent).trim();
    if (!r.width) { out.push('not shown: ' + label); continue; }
    if (r.left < box.left - 1 || r.right > box.right + 1) out.push('cut off by its wrapper: ' + label + ' ' + Math.round(r.right) + ' > ' + Math.round(box.right));
    if (r.left < -1 || r.right > W + 1) out.push('outside the viewport: ' + label);
  }
  return {count: buttons.length, problems: out};
}"""


@pytest.fixture
def desk(app, make_user):
    """A superadmin, a busy user (labels with long keys and descriptions, API keys, a
    session, profile, phone, documents) and a KYC applicant."""
    from barong.services.accounts import api_keys, labels, phones, profiles
    from barong.services.audit import activities
    from barong.services.infra import unit_of_work
    from barong.services.operators import comments
    from barong.services.verification import documents

    root = make_user(role="superadmin", email=f"layout-root-{time.time_ns()}@example.com")
    user = make_user(email=f"a.very.long.email.address.of.a.customer-{time.time_ns()}@example-exchange.com")
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB",
                           "city": "London", "address": "1 Main St", "postcode": "N1"}, confirm=True)
    phones.create(user, "447418084106", "GB", verified=True)
    documents.create(user, [("passport.png", png_bytes(320, 200, (40, 90, 170)))], "Passport",
                     doc_expire=(date.today() + timedelta(days=400)).isoformat(), doc_number="AB123456")
    labels.add(user, "withdrawal_review_required", "manual_review_pending", scope="private",
               description="Flagged by the risk team after three large withdrawals in one day")
    labels.add(user, "tier", "gold", scope="public", description="VIP desk")
    api_keys.create(user, "HS256", require_otp=False)
    api_keys.create(user, "HS512", require_otp=False)
    comments.add(user, "Called in", "Asked about withdrawals.", actor=root)
    for i in range(8):
        activities.record(user, "session", "login", "failed" if i % 3 else "succeed",
                          data={"reason": "Invalid Email or Password", "attempt": i})
    unit_of_work.commit()
    return {"root": root, "user": user}


def _signed_in_context(browser, live_server, viewport, lang, email):
    host = live_server.split("//", 1)[1].split(":")[0]
    context = browser.new_context(viewport=viewport, locale="ru-RU" if lang == "ru" else "en-US")
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "lang", "value": lang, "domain": host, "path": "/"}])
    resp = context.request.post(f"{live_server}/api/v2/barong/identity/sessions",
                                data={"email": email, "password": DEFAULT_PASSWORD})
    assert resp.status == 201, resp.text()
    return context


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("size", ["1280", "390"])
def test_console_fits(live_server, browser, desk, make_user, size, lang):
    from barong.services.infra import unit_of_work
    from barong.services.verification import documents

    user = desk["user"]
    kyc = make_user(email=f"layout-kyc-{time.time_ns()}@example.com")
    documents.create(kyc, [("id.png", png_bytes(200, 120, (90, 40, 40)))], "Passport",
                     doc_expire=(date.today() + timedelta(days=300)).isoformat(), doc_number="XY987654")
    unit_of_work.commit()
    own = browser.new_context(user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                                         "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
    assert own.request.post(f"{live_server}/api/v2/barong/identity/sessions",
                            data={"email": user.email, "password": DEFAULT_PASSWORD}).status == 201
    context = _signed_in_context(browser, live_server, DESKTOP if size == "1280" else PHONE, lang,
                                 desk["root"].email)
    try:
        page = context.new_page()
        problems = []
        for path in (f"/admin/users/{user.uid}", "/admin/users?q=example", f"/admin/activities?uid={user.uid}",
                     "/admin/kyc", f"/admin/kyc/{kyc.uid}"):
            page.goto(live_server + path)
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == lang
            problems += [f"{path} @{size} {lang}: {p}" for p in page.evaluate(OVERFLOWS)]
            if path.startswith("/admin/users/"):
                found = page.evaluate(BUTTONS, size == "390")
                assert found["count"] >= 4, found  # 2 labels + 2 API keys (+ the session's Revoke)
                problems += [f"{path} @{size} {lang}: {p}" for p in found["problems"]]
        assert not problems, "\n".join(problems)
    finally:
        context.close()
        own.close()
