"""A support agent in a real browser: finds a user by phone number, looks at their account
read-only ("view as user"), revokes one of their sessions, forces a password change; the
user signs in and is made to change the password first."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from barong.extensions import db
from barong.models import Activity, Phone
from barong.services.accounts import required_actions, sessions
from barong.services.infra import unit_of_work
from tests.browser.support import DESKTOP
from tests.browser.test_console import sign_in
from tests.helpers import DEFAULT_PASSWORD, login_as

pytestmark = pytest.mark.browser

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) JourneyPhone"
NEW = "Journey-Passw0rd-9"


def test_agent_finds_by_phone_revokes_a_session_and_forces_a_password_change(live_server, page, browser,
                                                                              make_user, app):
    user = make_user(email="customer@example.com")
    phone = Phone(user_id=user.id, country="GB")
    phone.number = "447700900123"  # stored encrypted; found through its CRC32 index
    db.session.add(phone)
    make_user(email="someone-else@example.com")
    unit_of_work.commit()
    for ua in (PHONE_UA, "Mozilla/5.0 (X11; Linux x86_64) JourneyDesk"):
        c = app.test_client()
        c.environ_base["HTTP_USER_AGENT"] = ua
        login_as(c, user)
    agent = make_user(role="support")
    sign_in(page, live_server, agent, "/admin/users")

    # the caller gives their phone number, written the way people say it
    page.get_by_label("Search").fill("+44 7700 900-123")
    rows = page.locator("#users-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("customer@example.com")
    rows.first.get_by_role("link", name="customer@example.com").click()
    page.wait_for_url(f"**/admin/users/{user.uid}")

    # a read-only look at what the customer sees, then back
    page.get_by_role("button", name="View as customer@example.com").click()
    page.wait_for_url(f"**/admin/users/{user.uid}/view-as/overview")
    expect(page.locator("#view-as-banner")).to_contain_text("You are viewing customer@example.com as they see it. Read-only.")
    page.locator(".side-nav").get_by_role("link", name="Sessions").click()
    page.wait_for_url(f"**/admin/users/{user.uid}/view-as/sessions")
    expect(page.locator("#view-as-banner")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out").first).to_be_disabled()
    page.locator("#view-as-banner").get_by_role("button", name="Leave the view").click()
    page.wait_for_url(f"**/admin/users/{user.uid}")
    viewed = db.session.query(Activity).filter_by(category="admin", user_id=agent.id, action="view as user")
    assert [json.loads(a.data)["page"] for a in viewed.order_by(Activity.id)] == ["overview", "sessions"]
    assert len(sessions.list_for_user(user.uid)) == 2  # the look opened no session of theirs

    table = page.locator("#user-sessions li")
    expect(table).to_have_count(2)
    table.filter(has_text="JourneyPhone").get_by_role("button", name="Revoke").click()
    expect(page.locator("#user-sessions li")).to_have_count(1)
    expect(page.locator("#user-sessions")).not_to_contain_text("JourneyPhone")
    assert [s.user_agent for s in sessions.list_for_user(user.uid)] == ["Mozilla/5.0 (X11; Linux x86_64) JourneyDesk"]

    page.locator("#user-support").get_by_label("Change password").check()
    page.locator("#user-support").get_by_role("button", name="Require").click()
    expect(page.locator("#user-support [data-field=required-actions]")).to_contain_text("Change password")
    assert required_actions.pending(user.uid) == ("change_password",)

    # the user signs in and is led to the password page before anything else
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(10_000)
    customer = context.new_page()
    customer.goto(f"{live_server}/accounts/login")
    customer.get_by_label("Email").fill(user.email)
    customer.get_by_label("Password").fill(DEFAULT_PASSWORD)
    customer.get_by_role("button", name="Sign in").click()
    customer.wait_for_url(re.compile(r".*/accounts/security/password$"))
    expect(customer.get_by_text("asks you to change your password")).to_be_visible()
    customer.goto(f"{live_server}/accounts/api-keys")
    customer.wait_for_url(re.compile(r".*/accounts/security/password$"))

    customer.locator("#old_password").fill(DEFAULT_PASSWORD)
    customer.locator("#new_password").fill(NEW)
    customer.locator("#confirm_password").fill(NEW)
    customer.get_by_role("button", name="Change password").click()
    expect(customer.get_by_text("Your password was changed")).to_be_visible()
    assert required_actions.pending(user.uid) == ()
    customer.goto(f"{live_server}/accounts/api-keys")
    assert customer.url.endswith("/accounts/api-keys")
    context.close()

    page.reload()
    expect(page.locator("#user-support [data-field=required-actions]")).to_have_count(0)
