"""What the browser tests and `make screenshots` share: the Chromium launch, an
in-process threaded server, a controllable clock for TOTP codes, test files, and the
form steps both walk (submit, sign_in, submit_profile)."""
from __future__ import annotations

import base64
import os
import re
import struct
import threading
import time
import zlib

CHROMIUM = os.environ.get("BARONG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def launch_chromium(playwright):
    """Debian's chromium, headless. A missing browser is an error, never a skip."""
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class LiveServer:
    """The Flask app served by a threaded werkzeug server on a free port, in this process."""

    def __init__(self, app, host: str = "127.0.0.1"):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):  # no access log on the test output
                pass

        self.server = make_server(host, 0, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


class TotpClock:
    """Moves the server's TOTP clock (barong.services.accounts.otp only) forward in 30 s steps so a
    journey can use a fresh code each time without waiting: codes are single use per step."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def install(self, monkeypatch=None):
        from barong.services.accounts import otp

        clock = self

        class _Time:
            @staticmethod
            def time():
                return clock.time()

        if monkeypatch is not None:
            monkeypatch.setattr(otp, "time", _Time)
        else:
            otp.time = _Time
        return self

    def next_code(self, secret: str) -> str:
        import pyotp

        self.offset += 30
        return pyotp.TOTP(secret).at(self.time())


def png_bytes(width: int = 24, height: int = 16, rgb=(31, 79, 209)) -> bytes:
    """A small valid PNG (for uploads)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png_data_url() -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


def submit(page, button: str, fields: dict[str, str] | None = None) -> None:
    """Type each value into the field with exactly that label, then press the button `button`."""
    for label, value in (fields or {}).items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name=button).click()


def sign_in(page, email: str, password: str) -> None:
    """Send the sign-in form (the page shows it)."""
    submit(page, "Sign in", {"Email": email, "Password": password})


#: a complete profile (the Country select is chosen separately)
PROFILE = {"First name": "Ada", "Last name": "Lovelace", "Date of birth": "1990-12-10",
           "Address": "12 St James's Square", "Postcode": "SW1Y 4LB", "City": "London"}


def submit_profile(page) -> None:
    """Fill the profile form with PROFILE (country GB), tick "Submit for verification" and save."""
    page.get_by_label("Country").select_option("GB")
    page.get_by_label(re.compile("Submit for verification")).check()
    submit(page, "Save", PROFILE)
