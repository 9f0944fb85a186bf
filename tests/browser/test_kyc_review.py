"""KYC review in real Chromium (issue 14): the review screen (PDF drawn inline under the CSP,
zoom / rotate, deliberate keys) with screenshots at 1280 and 390 px, and the whole journey — a
user uploads, a reviewer asks for a new selfie, the user reads the reason and uploads again, the
reviewer approves, the user reaches the top level."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from barong.config import ROOT
from barong.extensions import db
from barong.models import Document, User
from barong.services.accounts import profiles
from barong.services.infra import unit_of_work
from barong.services.verification import documents
from tests.browser.support import DESKTOP, PHONE
from tests.browser.test_console import sign_in

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots" / "kyc"


def _picture(text: str, size=(640, 400), color=(214, 226, 250)) -> bytes:
    """A document-like PNG (a card with lines of text), so the screenshots show something real."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (245, 246, 250))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((20, 20, size[0] - 20, size[1] - 20), radius=24, fill=color, outline=(90, 110, 160), width=4)
    d.rectangle((50, 70, 210, 290), fill=(170, 182, 210))
    for i, line in enumerate(text.split("\n")):
        d.text((240, 80 + 40 * i), line, fill=(20, 30, 60))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _pdf(text="Utility bill\n1 Main St, London\nMarch 2026") -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (595, 842), "white")
    d = ImageDraw.Draw(img)
    d.rectangle((40, 40, 555, 140), fill=(230, 236, 250))
    for i, line in enumerate(text.split("\n")):
        d.text((60, 60 + 24 * i), line, fill=(10, 10, 10))
    buf = io.BytesIO()
    img.save(buf, format="PDF")
    return buf.getvalue()


def _applicant(make_user, email="ada@example.com"):
    user = make_user(email=email, private_labels={"email": "verified", "phone": "verified"})
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB",
                           "city": "London", "address": "1 Main St", "postcode": "N1"}, confirm=True)
    expire = (date.today() + timedelta(days=20)).isoformat()
    documents.create(user, [("front.png", _picture("PASSPORT\nLOVELACE\nADA\nAB1234567"))], "Passport",
                     doc_expire=expire, doc_number="AB1234567", doc_category="front_side")
    documents.create(user, [("selfie.png", _picture("SELFIE", (400, 520), (250, 228, 214)))], "Passport",
                     doc_expire=expire, doc_number="AB1234567", doc_category="selfie")
    documents.create_address(user, [("bill.pdf", _pdf())], country="GB", address="1 Main St")
    unit_of_work.commit()
    return user


def _csp_violations(page) -> list[str]:
    seen = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def test_review_screen_pdf_zoom_rotate_keys_and_screenshots(live_server, page, browser, make_user):
    user = _applicant(make_user)
    reviewer = make_user(role="admin", email="reviewer@example.com")  # sees files unrevealed (issue 17)
    violations = _csp_violations(page)
    sign_in(page, live_server, reviewer, f"/admin/kyc/{user.uid}")
    # the PDF is drawn inline by pdf.js (the file route is a sandboxed attachment)
    canvas = page.locator(".pdf canvas.pdf-page")
    expect(canvas).to_have_count(1, timeout=15_000)
    assert page.locator(".pdf").get_attribute("data-error") is None
    assert canvas.evaluate("c => c.width > 100 && c.height > 100")
    # sides captioned, next to each other and to the profile at 1280 px
    front, selfie = page.locator("figure.kyc-doc").nth(0), page.locator("figure.kyc-doc").nth(1)
    expect(front).to_contain_text("Front side")
    expect(selfie).to_contain_text("Selfie")
    expect(front).to_contain_text("expires")
    boxes = [front.bounding_box(), selfie.bounding_box(), page.locator("#kyc-profile").bounding_box()]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2 and abs(boxes[1]["y"] - boxes[2]["y"]) < 2
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    expect(page.locator(".kyc-flags")).to_contain_text("expires on")
    # zoom and rotate
    viewer = front.locator("[data-viewer]")
    viewer.get_by_role("button", name="Zoom in").click()
    viewer.get_by_role("button", name="Rotate 90°").click()
    assert viewer.get_attribute("data-zoom") == "1.25" and viewer.get_attribute("data-rotate") == "90"
    assert "rotate(90deg) scale(1.25)" in front.locator("img").evaluate("i => i.style.transform")
    viewer.get_by_role("button", name="Fit").click()
    assert viewer.get_attribute("data-zoom") == "1"
    # `a` opens the approval of the first waiting document: nothing is decided yet
    page.locator("h1").click()
    page.keyboard.press("a")
    form = front.locator("[data-decision-form]")
    expect(form.locator('input[value="approve"]')).to_be_checked()
    expect(form.locator("button.confirm")).to_be_focused()
    db.session.expire_all()
    assert {d.review_state for d in user.documents} == {"pending"}
    page.mouse.move(5, 5)
    page.screenshot(path=str(_shot("review-1280.png")), full_page=True)
    # Enter confirms
    page.keyboard.press("Enter")
    expect(front.locator(".badge.review")).to_have_text("approved")
    db.session.expire_all()
    assert [d.review_state for d in sorted(user.documents, key=lambda d: d.id)] == ["approved", "pending", "pending"]
    # `r` opens a request for a new upload on the next waiting document (the selfie)
    page.locator("h1").click()
    page.keyboard.press("r")
    selfie_form = page.locator("figure.kyc-doc").nth(1).locator("[data-decision-form]")
    expect(selfie_form.locator('input[value="retry"]')).to_be_checked()
    expect(selfie_form.locator('select[name="reason"]')).to_be_focused()
    assert violations == []
    # the phone layout
    phone = browser.new_context(viewport=PHONE, locale="en-US", storage_state=page.context.storage_state())
    p = phone.new_page()
    p.goto(f"{live_server}/admin/kyc/{user.uid}")
    expect(p.locator(".pdf canvas.pdf-page")).to_have_count(1, timeout=15_000)
    width = p.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width
    p.screenshot(path=str(_shot("review-390.png")), full_page=True)
    phone.close()
    page.goto(f"{live_server}/admin/kyc")
    page.screenshot(path=str(_shot("queue-1280.png")), full_page=True)


def _shot(name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / name


def test_journey_reupload_of_the_selfie_then_top_level(live_server, page, browser, make_user, app, mailbox):
    user = make_user(email="journey@example.com", private_labels={"email": "verified", "phone": "verified"})
    profiles.create(user, {"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-01-02", "country": "GB",
                           "city": "London", "address": "1 Main St", "postcode": "N1"}, confirm=True)
    unit_of_work.commit()
    assert user.level == 2
    files = Path(app.config["BARONG_INSTANCE_PATH"]) / "journey"
    files.mkdir(exist_ok=True)
    (files / "front.png").write_bytes(_picture("PASSPORT\nLOVELACE"))
    (files / "selfie.png").write_bytes(_picture("SELFIE", (400, 520)))
    (files / "selfie2.png").write_bytes(_picture("SELFIE 2", (400, 520), (210, 240, 220)))

    # 1. the user uploads the passport's front side and a selfie on the site
    customer_ctx = browser.new_context(viewport=DESKTOP, locale="en-US")
    customer_ctx.set_default_timeout(10_000)
    customer = customer_ctx.new_page()
    customer.goto(f"{live_server}/accounts/login?next=/accounts/documents")
    customer.get_by_label("Email").fill(user.email)
    customer.get_by_label("Password").fill(_password())
    customer.get_by_role("button", name="Sign in").click()
    customer.wait_for_url(re.compile(r".*/accounts/documents$"))
    form = customer.locator("#document-form")
    form.get_by_label("Document type").select_option("Passport")
    form.get_by_label("Document number").fill("AB7654321")
    form.get_by_label("Expiry date").fill((date.today() + timedelta(days=800)).isoformat())
    form.get_by_label("Front side").set_input_files(str(files / "front.png"))
    form.get_by_label("Selfie holding the document").set_input_files(str(files / "selfie.png"))
    form.get_by_role("button", name="Upload").click()
    expect(customer.locator("body")).to_contain_text("waiting", timeout=10_000)
    db.session.expire_all()
    docs = db.session.query(Document).filter_by(user_id=user.id).order_by(Document.id).all()
    assert [(d.doc_category, d.review_state) for d in docs] == [("front_side", "pending"), ("selfie", "pending")]

    # 2. the reviewer approves the front side and asks for a new selfie, with a reason
    reviewer = make_user(role="admin", email="journey-reviewer@example.com")  # sees files unrevealed (issue 17)
    sign_in(page, live_server, reviewer, "/admin/kyc")
    page.locator("#kyc-queue").get_by_role("link", name="Review", exact=True).first.click()
    page.wait_for_url(f"**/admin/kyc/{user.uid}")
    page.locator("h1").click()
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    selfie = page.locator("figure.kyc-doc").filter(has_text="Selfie")
    expect(page.locator("figure.kyc-doc").first.locator(".badge.review")).to_have_text("approved")
    page.locator("h1").click()
    page.keyboard.press("r")
    selfie.locator('select[name="reason"]').select_option("selfie_mismatch")
    selfie.get_by_label("Note to the user (optional)").fill("Please hold the passport next to your face.")
    selfie.get_by_label("Note to the user (optional)").press("Enter")
    page.wait_for_url(re.compile(r".*/admin/kyc(\?.*)?$"))  # nothing left to review: back to the queue
    db.session.expire_all()
    assert db.session.get(Document, docs[1].id).review_state == "retry"
    assert db.session.get(User, user.id).private_labels()["document"] == "pending"

    # 3. the user reads why and uploads the selfie again
    from barong.services.verification import kyc_reasons

    with app.app_context():
        reason = kyc_reasons.text("selfie_mismatch", "en")
    customer.goto(f"{live_server}/accounts/documents")
    needs = customer.locator("#review-identity")
    expect(needs).to_contain_text(reason)
    expect(needs).to_contain_text("Please hold the passport next to your face.")
    slot = needs.locator('[data-slot="selfie"]')
    slot.locator('input[type="file"]').set_input_files(str(files / "selfie2.png"))
    slot.get_by_role("button", name="Upload again").click()
    expect(customer.locator('#review-identity [data-slot="selfie"]')).not_to_contain_text("Upload again")
    db.session.expire_all()
    assert db.session.query(Document).filter_by(user_id=user.id, review_state="pending").count() == 1

    # 4. back in the queue; the reviewer approves the new selfie; the user reaches the top level
    page.goto(f"{live_server}/admin/kyc")
    expect(page.locator("#kyc-queue")).to_contain_text("journey@example.com")
    page.locator("#kyc-queue").get_by_role("link", name="Review", exact=True).first.click()
    page.wait_for_url(f"**/admin/kyc/{user.uid}")
    expect(page.locator("#kyc-history")).to_contain_text("selfie_mismatch")  # the earlier decision, with its reason
    page.locator("h1").click()
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/kyc(\?.*)?$"))
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.private_labels()["document"] == "verified"
    assert fresh.level == 3  # email, phone, document: the top level of the seeds
    customer.goto(f"{live_server}/accounts/documents")
    expect(customer.locator("body")).to_contain_text("approved")
    customer_ctx.close()


def _password() -> str:
    from tests.helpers import DEFAULT_PASSWORD

    return DEFAULT_PASSWORD
