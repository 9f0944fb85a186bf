"""Upload forms in a real browser: a double click sends the form once, and a file over the
configured limit is stopped (with the server's message) before anything is sent."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from barong.extensions import db
from barong.models import Document
from tests.browser.support import png_bytes, sign_in
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def _fill_document_form(page, live_server, user, front: bytes):
    page.goto(f"{live_server}/accounts/login")
    sign_in(page, user.email, DEFAULT_PASSWORD)
    page.wait_for_url("**/accounts/")
    page.goto(f"{live_server}/accounts/documents")
    page.get_by_label("Document type").select_option("Passport")
    page.get_by_label("Document number").fill("AB1234567")
    page.get_by_label("Expiry date").fill(date(date.today().year + 2, 5, 1).isoformat())
    page.get_by_label("Front side").set_input_files({"name": "id.png", "mimeType": "image/png", "buffer": front})


def _count_posts(page, path: str) -> list:
    posts: list = []
    page.on("request", lambda req: posts.append(req.url) if req.method == "POST" and req.url.endswith(path) else None)
    return posts


def test_a_double_click_on_upload_sends_one_request_and_stores_one_document(live_server, page, make_user):
    user = make_user()
    _fill_document_form(page, live_server, user, png_bytes())
    posts = _count_posts(page, "/accounts/documents")
    page.get_by_role("button", name="Upload").dblclick()
    expect(page.locator("#flashes")).to_contain_text("waiting for review")
    assert len(posts) == 1
    assert db.session.query(Document).filter_by(user_id=user.id).count() == 1


def test_submitting_twice_in_one_go_sends_once(live_server, page, make_user):
    """Two submits back to back (faster than any click): htmx would queue the second one."""
    user = make_user()
    _fill_document_form(page, live_server, user, png_bytes())
    posts = _count_posts(page, "/accounts/documents")
    page.evaluate("""() => { const f = document.getElementById('document-form');
                             f.requestSubmit(); f.requestSubmit(); f.requestSubmit(); }""")
    expect(page.locator("#flashes")).to_contain_text("waiting for review")
    page.wait_for_load_state("networkidle")
    assert len(posts) == 1
    assert db.session.query(Document).filter_by(user_id=user.id).count() == 1


def test_an_oversized_file_is_stopped_before_it_is_sent(app, live_server, page, make_user):
    app.config["BARONG_UPLOAD_MAX_SIZE"] = 1024 * 1024  # the page reads it: data-max-size
    user = make_user()
    big = png_bytes() + b"\0" * (1024 * 1024 + 10)
    _fill_document_form(page, live_server, user, big)
    message = page.locator("#front_side-size-error")
    expect(message).to_have_text("This file is too large (at most 1 MB).")  # on choosing the file
    posts = _count_posts(page, "/accounts/documents")
    page.get_by_role("button", name="Upload").click()
    expect(message).to_be_visible()
    expect(page.get_by_label("Front side")).to_have_attribute("aria-invalid", "true")
    page.wait_for_timeout(300)  # give a (wrongly) sent request the time to show up
    assert posts == []
    assert db.session.query(Document).filter_by(user_id=user.id).count() == 0
    # a file within the limit clears the message and goes through
    page.get_by_label("Front side").set_input_files({"name": "id.png", "mimeType": "image/png",
                                                     "buffer": png_bytes()})
    expect(message).to_be_hidden()
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#flashes")).to_contain_text("waiting for review")
    assert len(posts) == 1
    assert db.session.query(Document).filter_by(user_id=user.id).count() == 1
