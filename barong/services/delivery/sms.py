"""SMS / voice verification providers (`BARONG_PHONE_VERIFICATION`).

    provider().send_code(number, code, channel)   # number: digits with country code, no "+"
    provider().check_code(number, code, stored)   # True when the code is right

* `mock`: nothing leaves the server; every message is logged and written as a text file
  under `instance/sms/` (tests and `make run` users read the code there). The code is
  `BARONG_MOCK_SMS_CODE` when set, else 5 random digits; it is checked (unlike Barong's
  mock, which accepted any code).
* `twilio`: real HTTP calls (urllib) to `BARONG_TWILIO_API_URL`. With
  `BARONG_TWILIO_SERVICE_SID` the Verify API generates and checks the codes
  (`/v2/Services/<sid>/Verifications`, `/VerificationCheck`); otherwise the Messages API
  (`/2010-04-01/Accounts/<sid>/Messages.json`, From `BARONG_TWILIO_PHONE_NUMBER`) sends
  our own code. Basic auth with account SID and auth token. Twilio's error codes map to
  Barong's 422 codes (TWILIO_ERRORS).

`stored` is the phone's stored code (a keyed hash, see services.phones); providers that
generate their own codes ignore it.
"""
from __future__ import annotations

import base64
import json
import logging
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from flask import current_app

from barong.errors import BarongError
from barong.security.crypto import equal, keyed_hash

log = logging.getLogger(__name__)

TEMPLATE = "Your verification code for Barong: {{code}}"
TWILIO_ERRORS = {
    21612: "resource.phone.num_not_reachable",
    21614: "resource.phone.num_not_valid",
    21618: "resource.phone.sms_content_invalid",
    21610: "resource.phone.unsubscribed_recipient",
}
TIMEOUT = 10


def render(code: str) -> str:
    template = current_app.config.get("BARONG_SMS_CONTENT_TEMPLATE") or TEMPLATE
    return template.replace("{{code}}", code)


def hash_code(code: str) -> str:
    return keyed_hash(f"phone-code:{code.strip()}")


class Provider:
    #: True when the provider makes and checks codes itself (Twilio Verify)
    generates_codes = False

    def new_code(self) -> str:
        return f"{secrets.randbelow(100000):05d}"

    def send_code(self, number: str, code: str | None, channel: str = "sms") -> None:
        raise NotImplementedError

    def check_code(self, number: str, code: str, stored: str | None) -> bool:
        return bool(stored) and equal(stored, hash_code(code))


class MockProvider(Provider):
    def new_code(self) -> str:
        return current_app.config.get("BARONG_MOCK_SMS_CODE") or super().new_code()

    def send_code(self, number: str, code: str | None, channel: str = "sms") -> None:
        body = render(code or "")
        folder = Path(current_app.config["BARONG_INSTANCE_PATH"]) / "sms"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{number}.txt"
        (folder / name).write_text(f"To: +{number}\nChannel: {channel}\n\n{body}\n")
        log.info("mock %s to +%s: %s", channel, number, body)


class TwilioProvider(Provider):
    def __init__(self, cfg):
        self.sid = cfg.get("BARONG_TWILIO_ACCOUNT_SID") or ""
        self.token = cfg.get("BARONG_TWILIO_AUTH_TOKEN") or ""
        self.sender = cfg.get("BARONG_TWILIO_PHONE_NUMBER")
        self.service_sid = cfg.get("BARONG_TWILIO_SERVICE_SID")
        self.api_url = (cfg.get("BARONG_TWILIO_API_URL") or "https://api.twilio.com").rstrip("/")
        self.generates_codes = bool(self.service_sid)

    @property
    def verify_url(self) -> str:
        # Twilio Verify lives on its own host; a custom API URL (a proxy, a test server) serves both
        return "https://verify.twilio.com" if self.api_url == "https://api.twilio.com" else self.api_url

    def _post(self, url: str, fields: dict) -> dict:
        data = urllib.parse.urlencode(fields).encode()
        auth = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        req = urllib.request.Request(url, data=data, method="POST", headers={
            "Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as err:
            try:
                payload = json.loads(err.read() or b"{}")
            except ValueError:
                payload = {}
            code = payload.get("code")
            log.warning("twilio refused (%s): %s", err.code, payload.get("message"))
            if err.code == 404 and url.endswith("/VerificationCheck"):
                return {"status": "not_found"}  # no pending verification (expired or already approved)
            raise BarongError(TWILIO_ERRORS.get(code, "resource.phone.twilio_unexpected"), 422) from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            log.error("twilio unreachable: %s", err)
            raise BarongError("resource.phone.twilio_unexpected", 422) from None

    def send_code(self, number: str, code: str | None, channel: str = "sms") -> None:
        if self.service_sid:
            self._post(f"{self.verify_url}/v2/Services/{self.service_sid}/Verifications",
                       {"To": f"+{number}", "Channel": channel})
            return
        fields = {"To": f"+{number}", "From": self.sender or "", "Body": render(code or "")}
        if channel == "call":
            # The Messages API cannot call: read the message out with TwiML
            url = f"{self.api_url}/2010-04-01/Accounts/{self.sid}/Calls.json"
            fields = {"To": fields["To"], "From": fields["From"],
                      "Twiml": f"<Response><Say>{render(' '.join(code or ''))}</Say></Response>"}
            self._post(url, fields)
            return
        self._post(f"{self.api_url}/2010-04-01/Accounts/{self.sid}/Messages.json", fields)

    def check_code(self, number: str, code: str, stored: str | None) -> bool:
        if not self.service_sid:
            return super().check_code(number, code, stored)
        result = self._post(f"{self.verify_url}/v2/Services/{self.service_sid}/VerificationCheck",
                            {"To": f"+{number}", "Code": code})
        return result.get("status") == "approved"


def provider() -> Provider:
    cfg = current_app.config
    if cfg.get("BARONG_PHONE_VERIFICATION") == "twilio":
        return TwilioProvider(cfg)
    return MockProvider()


def sent_messages(app=None) -> list[dict]:
    """Messages written by the mock provider, oldest first: [{"to", "channel", "body"}]."""
    app = app or current_app
    folder = Path(app.config["BARONG_INSTANCE_PATH"]) / "sms"
    out = []
    for path in sorted(folder.glob("*.txt")) if folder.exists() else []:
        head, _, body = path.read_text().partition("\n\n")
        fields = dict(line.split(": ", 1) for line in head.splitlines() if ": " in line)
        out.append({"to": fields.get("To"), "channel": fields.get("Channel"), "body": body.strip()})
    return out
