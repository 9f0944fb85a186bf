"""Console pages rendered to PNG (desktop + phone) for `make screenshots`.

`tests/browser/screenshots.py` (the site's) imports `capture_console(browser, app,
base_url, out_dir)` and `capture_docs(...)`; run alone with
`python -m tests.browser.console_screenshots [DIR]` (default `screenshots/console`).
Demo data is made in the given app's database.

`capture_docs` writes the committed set, docs/screenshots/console/: the user page, a
search and the activities at 1280 and 390 px in English and Russian
(`console-<page>-<width>-<lang>.png`).
"""
from __future__ import annotations

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from tests.browser.support import DESKTOP, PHONE, LiveServer, launch_chromium, png_bytes

PASSWORD = "Tecohvi0-Strong"
DOCS_OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "console"
ROOT_EMAIL = "console-root@example.com"


def seed_demo(app) -> dict:
    """Operators, users with pending KYC, activity: enough for every console page to show something."""
    from barong.extensions import db
    from barong.models import OutboxEvent
    from barong.services.access import restrictions
    from barong.services.accounts import labels, profiles, users
    from barong.services.audit import activities
    from barong.services.infra import unit_of_work
    from barong.services.verification import documents

    with app.app_context():
        existing = users.by_email(ROOT_EMAIL)
        if existing is not None:
            return {"applicant": users.by_email("trader0@example.com").uid}
        root = users.create(ROOT_EMAIL, PASSWORD, role="superadmin")
        labels.add(root, "email", "verified", scope="private")
        reviewer = users.create("kyc-officer@example.com", PASSWORD, role="compliance")
        labels.add(reviewer, "email", "verified", scope="private")
        for i in range(12):
            u = users.create(f"trader{i}@example.com", PASSWORD)
            labels.add(u, "email", "verified", scope="private")
            activities.record(u, "account", "signup", "succeed")
            activities.record(u, "session", "login", "succeed")
            if i % 2:
                labels.add(u, "phone", "verified", scope="private")
            if i % 3 == 0:
                profiles.create(u, {"first_name": "Ada", "last_name": f"Lovelace {i}", "dob": "1990-01-02",
                                    "country": "GB", "city": "London", "address": "1 Main St", "postcode": "N1"},
                                confirm=True)
                documents.create(u, [("passport.png", png_bytes(320, 200, (40 + 15 * i, 90, 170)))], "Passport",
                                 doc_expire=(date.today() + timedelta(days=500)).isoformat(),
                                 doc_number=f"AB12345{i}")
            if i % 4 == 1:
                activities.record(u, "session", "login", "failed", data={"reason": "Invalid Email or Password"})
        applicant = users.by_email("trader0@example.com")
        # what a support agent sees on a busy user page: phone, labels, comments, storage, keys
        from barong.services.accounts import api_keys, phones, required_actions
        from barong.services.operators import comments
        from barong.services.verification import data_storage

        applicant.username = "adalovelace"
        phones.create(applicant, "447418084106", "GB", verified=True)
        labels.add(applicant, "phone", "verified", scope="private")
        labels.add(applicant, "tier", "gold", scope="public", description="VIP desk, call before any ban")
        labels.add(applicant, "withdrawal_review", "manual", scope="private", description="Flagged by risk on 2 Dec")
        data_storage.create(applicant, "personal", {"occupation": "mathematician", "source_of_funds": "salary"})
        comments.add(applicant, "Called in", "Asked why the withdrawal of 2 BTC is on hold; explained the review.",
                     actor=root)
        api_keys.create(applicant, "HS256", require_otp=False)
        api_keys.create(applicant, "HS512", require_otp=False)
        required_actions.add(applicant, ["change_password"])
        activities.record(applicant, "password", "change", "failed", data={"reason": "weak password"})
        activities.record_admin(root, "users", "send password reset", "succeed", target_uid=applicant.uid)
        activities.record_admin(root, "users", "update state", "succeed", target_uid=applicant.uid,
                                data={"state": "active"})
        restrictions.create("blacklist", "ip", "203.0.113.9")
        restrictions.create("whitelist", "ip_subnet", "10.0.0.0/8")
        db.session.add(OutboxEvent(event_id="demo-failed-1", name="model.user.updated", payload="{}", state="failed",
                                   attempts=5, last_error="broker unreachable"))
        unit_of_work.commit()
        return {"applicant": applicant.uid}


def pages(applicant_uid: str) -> list[tuple[str, str]]:
    return [
        ("console-dashboard", "/admin/"),
        ("console-users", "/admin/users"),
        ("console-users-search", "/admin/users?q=trader1"),
        ("console-user", f"/admin/users/{applicant_uid}"),
        ("console-kyc-queue", "/admin/kyc"),
        ("console-kyc-review", f"/admin/kyc/{applicant_uid}"),
        ("console-permissions", "/admin/permissions?role_filter=admin"),
        ("console-restrictions", "/admin/restrictions"),
        ("console-levels", "/admin/levels"),
        ("console-activities", "/admin/activities"),
        ("console-admin-log", "/admin/activities?category=admin"),
        ("console-events", "/admin/events"),
    ]


def capture_console(browser, app, base_url: str, out_dir: Path) -> list[Path]:
    """Sign in as the demo superadmin and save every console page at both sizes."""
    demo = seed_demo(app)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, locale="en-US")
        try:
            login = context.request.post(f"{base_url}/api/v2/barong/identity/sessions",
                                         data={"email": ROOT_EMAIL, "password": PASSWORD})
            if login.status != 201:
                raise RuntimeError(f"console screenshots: sign-in failed ({login.status}: {login.text()})")
            page = context.new_page()
            for name, path in pages(demo["applicant"]):
                page.goto(base_url + path)
                page.wait_for_load_state("networkidle")
                target = out_dir / f"{name}-{size_name}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
        finally:
            context.close()
    # the review claim taken by the screenshot visit must not linger
    with app.app_context():
        from barong.extensions import db
        from barong.models import User

        db.session.query(User).filter(User.review_claimed_by.isnot(None)).update(
            {"review_claimed_by": None, "review_claimed_at": None})
        db.session.commit()
    return written


def docs_pages(applicant_uid: str) -> list[tuple[str, str]]:
    return [
        ("console-user", f"/admin/users/{applicant_uid}"),
        ("console-search", "/admin/users?q=trader"),
        ("console-activities", "/admin/activities"),
    ]


def _shrink(path: Path) -> None:
    """The committed PNGs stay small: 256 colours (UI flat colours survive), optimised."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def capture_docs(browser, app, base_url: str, out_dir: Path = DOCS_OUT) -> list[Path]:
    """The committed screenshots: user page, search, activities × 1280/390 px × en/ru."""
    demo = seed_demo(app)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    host = base_url.split("//", 1)[1].split(":")[0]
    # the user signed in on a phone: a session for the support card to list
    phone = browser.new_context(user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
                                           "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile Safari/604.1")
    phone.request.post(f"{base_url}/api/v2/barong/identity/sessions",
                       data={"email": "trader0@example.com", "password": PASSWORD})
    for lang in ("en", "ru"):
        for width, viewport in (("1280", DESKTOP), ("390", PHONE)):
            context = browser.new_context(viewport=viewport, locale="ru-RU" if lang == "ru" else "en-US")
            try:
                context.add_cookies([{"name": "lang", "value": lang, "domain": host, "path": "/"}])
                login = context.request.post(f"{base_url}/api/v2/barong/identity/sessions",
                                             data={"email": ROOT_EMAIL, "password": PASSWORD})
                if login.status != 201:
                    raise RuntimeError(f"console screenshots: sign-in failed ({login.status}: {login.text()})")
                page = context.new_page()
                for name, path in docs_pages(demo["applicant"]):
                    page.goto(base_url + path)
                    page.wait_for_load_state("networkidle")
                    target = out_dir / f"{name}-{width}-{lang}.png"
                    page.screenshot(path=str(target), full_page=True)
                    _shrink(target)
                    written.append(target)
            finally:
                context.close()
    phone.close()
    return written


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    from barong import create_app
    from barong.config import test_config
    from barong.extensions import db
    from barong.services import seeding

    out_dir = Path(argv[1]) if len(argv) > 1 else Path("screenshots/console")
    app = create_app(test_config(Path(tempfile.mkdtemp(prefix="barong-console-shots-"))))
    with app.app_context():
        db.create_all()
        seeding.seed()
        db.session.commit()
    server = LiveServer(app).start()
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                for path in capture_console(browser, app, server.url, out_dir):
                    print(path)
                for path in capture_docs(browser, app, server.url):
                    print(path)
            finally:
                browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
