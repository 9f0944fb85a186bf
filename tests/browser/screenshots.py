"""`make screenshots`: every page of the end-user site at desktop (1280×800) and phone
(390×844) widths, in English (and a few in Russian), into screenshots/account/, then the
operator console's pages into screenshots/console/ (screenshots/ is git-ignored).

Runs the app in-process against a throw-away instance folder (its own SQLite database,
mail and uploads), walks the site in Chromium like a user and photographs each state.
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
import urllib.request
from datetime import date
from pathlib import Path

from tests.browser.support import (DESKTOP, PHONE, PROFILE, LiveServer, TotpClock, launch_chromium, png_bytes,
                                   sign_in, submit, submit_profile)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "screenshots"
ACCOUNT_OUT = OUT / "account"
CONSOLE_OUT = OUT / "console"
EMAIL = "ada@example.com"
PASSWORD = "Tecohvi0-Strong"


class Camera:
    def __init__(self, page, out: Path):
        self.page, self.out, self.count = page, out, 0

    def __call__(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            self.page.set_viewport_size(size)
            self.page.wait_for_timeout(120)
            self.page.screenshot(path=str(self.out / f"{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size(DESKTOP)
        self.count += 1
        print(f"  {name}")


def latest_mail_link(instance: Path, kind: str) -> str:
    import email
    from email import policy

    files = sorted((instance / "mail").glob("*.eml"))
    for path in reversed(files):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = msg.get_body(preferencelist=("plain",)).get_content()
        found = re.search(rf"(http\S+/accounts/{kind}\?token=\S+)", body)
        if found:
            return found.group(1)
    raise RuntimeError(f"no {kind} mail")


def walk(page, base: str, shot: Camera, instance: Path, clock: TotpClock) -> None:
    go = lambda path: page.goto(base + path)  # noqa: E731

    # ---- signed out -------------------------------------------------------------------------
    go("/")
    shot("01-home")
    go("/accounts/signup")
    shot("02-signup")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("password1")
    page.wait_for_selector("#password-strength .strength")
    shot("03-signup-strength")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_selector("#signup-form .error")
    shot("04-signup-errors")
    submit(page, "Create account", {"Email": EMAIL, "Password": PASSWORD})
    page.wait_for_url("**/confirmation/sent")
    shot("05-check-email")
    go("/accounts/")
    shot("06-overview-pending")
    confirm_link = latest_mail_link(instance, "confirmation")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login")
    shot("07-login")
    sign_in(page, EMAIL, "wrong-Passw0rd")
    page.wait_for_selector("#login-form .form-errors")
    shot("08-login-error")
    go("/accounts/confirmation/resend")
    shot("09-resend")
    go("/accounts/password/forgot")
    shot("10-forgot")
    submit(page, "Send the link", {"Email": EMAIL})
    page.wait_for_selector(".callout-success")
    shot("11-forgot-sent")
    page.goto(latest_mail_link(instance, "password_reset"))
    submit(page, "Change password", {"New password": "short", "Repeat the new password": "other"})
    page.wait_for_selector("#password-reset-form .error")
    shot("12-reset-errors")
    go("/accounts/confirmation?token=expired.or.bad")
    page.get_by_role("button", name="Confirm my email").click()
    page.wait_for_selector("#confirmation-form .form-errors")
    shot("13-confirmation-bad-link")
    page.goto(confirm_link)
    shot("14-confirmation")
    page.get_by_role("button", name="Confirm my email").click()
    page.wait_for_url("**/accounts/")
    shot("15-overview-level1")
    go("/no/such/page")
    shot("16-error-404")

    # ---- security ---------------------------------------------------------------------------
    go("/accounts/security/2fa")
    shot("20-2fa-off")
    page.get_by_role("button", name="Set up").click()
    secret = page.locator("#otp-secret").get_attribute("data-secret")
    shot("21-2fa-setup")
    submit(page, "Turn on", {"6-digit code": "123456"})
    page.wait_for_selector("#otp-enable-form .error")
    shot("22-2fa-setup-error")
    submit(page, "Turn on", {"6-digit code": clock.next_code(secret)})
    page.wait_for_selector("#recovery-codes")
    shot("23-2fa-recovery-codes")
    go("/accounts/security/2fa")
    shot("24-2fa-on")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, EMAIL, PASSWORD)
    page.wait_for_url("**/login/code")
    shot("25-login-code")
    submit(page, "Verify", {"Authentication code": "000000"})
    page.wait_for_selector("#login-code-form .error")
    shot("26-login-code-error")
    submit(page, "Verify", {"Authentication code": clock.next_code(secret)})
    page.wait_for_url("**/accounts/")
    go("/accounts/security/password")
    shot("27-password")
    submit(page, "Change password", {"Current password": "nope", "New password": "abc",
                                     "Repeat the new password": "abcd"})
    page.wait_for_selector("#password-change-form .error")
    shot("28-password-errors")

    # ---- verification -----------------------------------------------------------------------
    go("/accounts/phone")
    shot("30-phone")
    submit(page, "Send code", {"Phone number": "12"})
    page.wait_for_selector("#phones .error")
    shot("31-phone-error")
    submit(page, "Send code", {"Phone number": "+44 7418 084106"})
    page.wait_for_selector("#phones [data-wait]")
    shot("32-phone-code-sent")
    submit(page, "Verify", {"Code": "12345"})
    page.wait_for_selector("#phones .badge-success")
    shot("33-phone-verified")
    go("/accounts/profile")
    shot("34-profile")
    submit(page, "Save", {"First name": "Ada!!", "Date of birth": "2999-01-01"})
    page.wait_for_selector("#profile-form .error")
    shot("35-profile-errors")
    submit_profile(page)
    page.wait_for_url("**/accounts/profile")
    shot("36-profile-submitted")
    go("/accounts/documents")
    shot("37-documents")
    page.get_by_label("Document type").select_option("Passport")
    page.get_by_label("Document number").fill("AB1234567")
    page.get_by_label("Expiry date").fill("2001-01-01")
    page.get_by_label("Front side").set_input_files({"name": "scan.txt", "mimeType": "text/plain", "buffer": b"hello"})
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#document-form .error")
    shot("38-documents-errors")
    page.get_by_label("Expiry date").fill(date(date.today().year + 4, 6, 30).isoformat())
    page.get_by_label("Front side").set_input_files({"name": "scan.png", "mimeType": "image/png", "buffer": b"not a png"})
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#front_side-error")
    shot("38b-documents-file-error")
    page.get_by_label("Front side").set_input_files({"name": "front.png", "mimeType": "image/png", "buffer": png_bytes()})
    page.get_by_label("Back side (if any)").set_input_files({"name": "back.png", "mimeType": "image/png",
                                                              "buffer": png_bytes(rgb=(90, 90, 90))})
    page.get_by_label("Selfie holding the document").set_input_files(
        {"name": "selfie.jpg.png", "mimeType": "image/png", "buffer": png_bytes(rgb=(200, 90, 40))})
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/accounts/documents")
    shot("39-documents-uploaded")
    go("/accounts/address")
    shot("40-address")
    page.get_by_label("Country").select_option("GB")
    page.get_by_label(re.compile("Proof of address")).set_input_files(
        {"name": "bill.png", "mimeType": "image/png", "buffer": png_bytes(rgb=(240, 240, 200))})
    submit(page, "Upload", {k: PROFILE[k] for k in ("Address", "Postcode", "City")})
    page.wait_for_url("**/accounts/address")
    shot("41-address-uploaded")
    go("/accounts/")
    shot("42-overview-level2")

    # ---- API keys, sessions, activity ---------------------------------------------------------
    go("/accounts/api-keys")
    shot("50-api-keys-empty")
    submit(page, "Create key", {"2FA code": "999999"})
    page.wait_for_selector("#api-key-form .error")
    shot("51-api-keys-error")
    submit(page, "Create key", {"2FA code": clock.next_code(secret)})
    page.wait_for_selector("#new-key-secret")
    shot("52-api-key-created")
    go("/accounts/api-keys")
    shot("53-api-keys-list")
    body = ('{"email": "%s", "password": "%s", "otp_code": "%s"}' % (EMAIL, PASSWORD, clock.next_code(secret))).encode()
    req = urllib.request.Request(base + "/api/v2/barong/identity/sessions", data=body, headers={
        "Content-Type": "application/json",
        "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"})
    urllib.request.urlopen(req, timeout=10).read()
    go("/accounts/sessions")
    shot("54-sessions")
    go("/accounts/activity")
    shot("55-activity")

    # ---- Russian --------------------------------------------------------------------------------
    go("/lang/ru?next=/accounts/")
    shot("60-ru-overview")
    go("/accounts/documents")
    shot("61-ru-documents")
    go("/accounts/api-keys")
    shot("62-ru-api-keys")
    page.get_by_role("button", name="Выйти").click()
    page.wait_for_url("**/accounts/login")
    shot("63-ru-login")
    go("/accounts/signup")
    shot("64-ru-signup")
    go("/no/such/page")
    shot("65-ru-error-404")


def main() -> int:
    from playwright.sync_api import sync_playwright

    from barong import create_app
    from barong.config import test_config
    from barong.extensions import db
    from barong.services import seeding

    ACCOUNT_OUT.mkdir(parents=True, exist_ok=True)
    for old in ACCOUNT_OUT.glob("*.png"):
        old.unlink()
    instance = Path(tempfile.mkdtemp(prefix="barong-screens-"))
    app = create_app(test_config(instance, TESTING=False, WTF_CSRF_ENABLED=True,
                                 BARONG_FIRST_REGISTRATION_SUPERADMIN=False))
    with app.app_context():
        db.create_all()
        seeding.seed()
        db.session.commit()
    clock = TotpClock().install()
    server = LiveServer(app).start()
    app.config["BARONG_DOMAIN"] = server.url
    try:
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            context = browser.new_context(viewport=DESKTOP, locale="en-US")
            context.set_default_timeout(10_000)
            page = context.new_page()
            shot = Camera(page, ACCOUNT_OUT)
            print(f"end-user site at {server.url} → {ACCOUNT_OUT}")
            walk(page, server.url, shot, instance, clock)
            context.close()
            print(f"{shot.count} pages, {shot.count * 2} screenshots in {ACCOUNT_OUT}")
            from tests.browser.console_screenshots import capture_console  # the operator console's pages

            written = capture_console(browser, app, server.url, CONSOLE_OUT)
            print(f"console: {len(written)} screenshots in {CONSOLE_OUT}")
            from tests.browser.console_screenshots import DOCS_OUT, capture_docs  # the committed set

            written = capture_docs(browser, app, server.url)
            print(f"console (docs): {len(written)} screenshots in {DOCS_OUT}")
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(instance, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
