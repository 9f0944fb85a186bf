"""The operator console in a real browser: find a user, review and approve their
documents (the level rises); compliance cannot see permissions; a permission added in
the console changes what `/api/v2/auth/…` answers."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from barong.extensions import db
from barong.models import User
from barong.services.accounts import profiles
from barong.services.infra import unit_of_work
from barong.services.verification import documents
from tests.browser.support import png_bytes
from tests.helpers import DEFAULT_PASSWORD, UA

pytestmark = pytest.mark.browser


def sign_in(page, live_server, user, next_path="/admin/"):
    page.goto(f"{live_server}{next_path}")  # the console sends strangers to the site's login
    assert "/login?next=" in page.url
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(live_server + next_path) + "$"))


def make_applicant(make_user):
    user = make_user(email="applicant@example.com", private_labels={"email": "verified", "phone": "verified"})
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB",
                           "city": "London", "address": "1 Main St", "postcode": "N1"}, confirm=True)
    documents.create(user, [("passport.png", png_bytes(320, 200))], "Passport",
                     doc_expire=(date.today() + timedelta(days=400)).isoformat(), doc_number="AB123456")
    unit_of_work.commit()
    return user


def level_of(uid):
    db.session.expire_all()
    return db.session.query(User).filter_by(uid=uid).one().level


def test_admin_finds_user_reviews_and_approves_documents(live_server, page, make_user, mailbox):
    applicant = make_applicant(make_user)
    assert applicant.level == 2
    admin = make_user(role="admin")
    sign_in(page, live_server, admin, "/admin/users")

    # live search by email
    page.get_by_label("Search").fill("applicant@exa")
    row = page.locator("#users-table tbody tr").filter(has_text="applicant@example.com")
    expect(row).to_have_count(1)
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    row.get_by_role("link", name="applicant@example.com").click()
    page.wait_for_url(f"**/admin/users/{applicant.uid}")
    expect(page.locator("#user-summary [data-field=level]")).to_have_text("2")
    expect(page.locator("#user-documents img")).to_be_visible()  # in-page preview of the upload

    # one screen per applicant (issue 14): profile and documents side by side; `a` opens the
    # document's decision, Enter confirms it
    page.get_by_role("link", name="Review documents").click()
    page.wait_for_url(f"**/admin/kyc/{applicant.uid}")
    expect(page.locator("#kyc-profile")).to_contain_text("Lovelace")
    front = page.locator("figure.kyc-doc").first
    expect(front.locator("img")).to_be_visible()
    page.locator("h1").click()
    page.keyboard.press("a")                         # opens the decision: nothing decided yet
    form = front.locator("[data-decision-form]")
    expect(form.locator('input[value="approve"]')).to_be_checked()
    expect(form.locator("button.confirm")).to_be_focused()
    assert _review_state(applicant) == "pending"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/kyc$"))  # its only document decided: on to the (empty) queue
    assert _review_state(applicant) == "approved"
    assert level_of(applicant.uid) == 2              # the identity set also needs a selfie


def _review_state(user):
    from barong.models import Document

    db.session.expire_all()
    return db.session.query(Document).filter_by(user_id=user.id).one().review_state


def test_ask_for_a_new_upload_from_the_keyboard(live_server, page, make_user):
    applicant = make_applicant(make_user)
    sign_in(page, live_server, make_user(role="admin"), "/admin/kyc")
    page.get_by_role("link", name="Start reviewing").click()
    page.wait_for_url(f"**/admin/kyc/{applicant.uid}")
    page.locator("h1").click()
    page.keyboard.press("r")                         # opens "ask for a new upload", focuses the reason
    form = page.locator("figure.kyc-doc").first.locator("[data-decision-form]")
    expect(form.locator('input[value="retry"]')).to_be_checked()
    reason = form.locator('select[name="reason"]')
    expect(reason).to_be_focused()
    reason.select_option("blurry")
    form.locator("button.confirm").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/admin/kyc$"))
    assert _review_state(applicant) == "retry" and level_of(applicant.uid) == 2


def test_compliance_cannot_see_permissions(live_server, page, make_user):
    sign_in(page, live_server, make_user(role="compliance"), "/admin/")
    nav = page.locator(".cx-nav")
    expect(nav.get_by_role("link", name="KYC review")).to_be_visible()
    expect(nav.get_by_role("link", name="Permissions")).to_have_count(0)
    response = page.goto(f"{live_server}/admin/permissions")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("may not open this page")


def test_permission_added_in_console_changes_the_gateway(live_server, page, browser, make_user):
    member = make_user(email="member@example.com")
    api = browser.new_context(user_agent=UA)
    try:
        login = api.request.post(f"{live_server}/api/v2/barong/identity/sessions",
                                 data={"email": member.email, "password": DEFAULT_PASSWORD})
        assert login.status == 201
        target = f"{live_server}/api/v2/auth/api/v2/peatio/admin/orders"
        assert api.request.get(target).status == 401

        sign_in(page, live_server, make_user(role="superadmin"), "/admin/permissions")
        form = page.locator("form.add-row")
        form.get_by_label("Role").fill("member")
        form.get_by_label("Verb").select_option("GET")
        form.get_by_label("Path prefix").fill("api/v2/peatio/admin")
        form.get_by_label("Action").select_option("ACCEPT")
        form.get_by_role("button", name="Add").click()
        expect(page.locator("#toasts")).to_contain_text("api/v2/peatio/admin")
        expect(page.locator("table.permissions")).to_contain_text("api/v2/peatio/admin")

        allowed = api.request.get(target)
        assert allowed.status == 200 and allowed.headers["authorization"].startswith("Bearer ")
    finally:
        api.close()


def test_inline_edits_and_422_swaps(live_server, page, make_user):
    """htmx in the browser: a 422 swaps the form with the field error in place; an inline
    row edit saves through the row's own form; the toast tells what happened."""
    target = make_user(email="labelled@example.com")
    sign_in(page, live_server, make_user(role="superadmin"), f"/admin/users/{target.uid}")

    labels = page.locator("#user-labels")
    add = labels.locator("form.add-row")
    add.get_by_label("Key").fill("x")
    add.get_by_label("Value").fill("verified")
    add.get_by_role("button", name="Add label").click()
    expect(labels.locator(".field-error")).to_contain_text("key.too_short")
    add = page.locator("#user-labels form.add-row")
    add.get_by_label("Key").fill("phone")
    add.get_by_label("Scope").select_option("private")
    add.get_by_role("button", name="Add label").click()
    expect(page.locator("#user-labels")).to_contain_text("phone")
    expect(page.locator("#user-summary [data-field=level]")).to_have_text("2")  # out-of-band summary swap
    expect(page.locator("#toasts")).to_contain_text("Label phone added")

    # a destructive action asks first, in place: Remove → the confirmation names the user
    page.locator("#user-labels tr", has_text="phone").get_by_role("button", name="Remove").click()
    expect(page.locator("#user-labels.confirm")).to_contain_text("Remove label phone (private) of labelled@example.com?")
    assert page.locator("#user-labels table").count() == 0
    page.locator("#user-labels").get_by_role("button", name="Remove label").click()
    expect(page.locator("#user-labels tbody tr", has_text="phone")).to_have_count(0)
    expect(page.locator("#user-summary [data-field=level]")).to_have_text("1")

    page.goto(f"{live_server}/admin/permissions?role_filter=member")
    row = page.locator("table.permissions tbody tr").first
    row_id = row.get_attribute("id")
    row.get_by_role("button", name="Edit").click()
    editing = page.locator(f"#{row_id}")
    expect(editing).to_have_class("editing")
    editing.get_by_label("Action").select_option("DROP")
    editing.get_by_role("button", name="Save").click()
    expect(page.locator(f"#{row_id}")).not_to_have_class("editing")
    expect(page.locator(f"#{row_id}")).to_contain_text("DROP")
    from barong.models import Permission
    db.session.expire_all()
    assert db.session.get(Permission, int(row_id.split("-")[1])).action == "DROP"
